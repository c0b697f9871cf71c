import { beforeEach, describe, expect, it } from "vitest";
import type { Lane } from "../src/api";
import { unfinishedRequests } from "../src/app";
import { setLang } from "../src/i18n";
import { standardLane } from "../src/screens/queue";
import { cancellationMoney } from "../src/screens/requests";
import { request } from "./fixtures";

const lane = (code: string, rank: number): Lane => ({ code, name: { en: code, fr: code }, rank });

describe("the counter's defaults and warnings", () => {
  beforeEach(() => setLang("en"));

  it("start a ticket in the standard lane, whatever order the lanes come in", () => {
    expect(standardLane([lane("disability", 1), lane("elderly", 1), lane("standard", 9), lane("pregnancy", 1)])).toBe("standard");
    expect(standardLane([lane("walk-in", 5), lane("priority", 0)])).toBe("walk-in");
    expect(standardLane([])).toBe("");
  });

  it("warn of drafts and of money owed when the visit ends, not of what is settled or closed", () => {
    const draft = request({ receipt: "A", status: "draft", paid_minor: 0 });
    const unpaid = request({ receipt: "B", paid_minor: 1000 });
    const settled = request({ receipt: "C" });
    const waived = request({ receipt: "D", paid_minor: 0, waiver_ground: "pensioners" });
    const free = request({ receipt: "E", fee: null, paid_minor: 0 });
    const cancelled = request({ receipt: "F", status: "cancelled", paid_minor: 0 });
    const left = unfinishedRequests([draft, unpaid, settled, waived, free, cancelled]);
    expect(left.map((u) => [u.request.receipt, u.draft, u.owed])).toEqual([
      ["A", true, 4500],
      ["B", false, 3500],
    ]);
    expect(unfinishedRequests([settled, free])).toEqual([]);
  });

  it("say what becomes of the money when a request is cancelled", () => {
    expect(cancellationMoney(request({}))).toBe(
      "€45.00 was paid for this request. Cancelling does not give it back: the payment stays recorded until a refund on this screen returns it to the citizen.",
    );
    expect(cancellationMoney(request({ paid_minor: 0 }))).toBe("No money was taken for this request: there is nothing to give back.");
    setLang("fr");
    expect(cancellationMoney(request({})).replace(/\s/g, " ")).toContain("45,00 € ont été payés");
  });
});
