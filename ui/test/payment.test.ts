import { describe, expect, it, vi } from "vitest";
import type { RequestDetail } from "../src/api";
import { t } from "../src/i18n";
import { screenCtx } from "./fixtures";

const waive = vi.fn(async () => undefined);
const pay = vi.fn();
vi.mock("../src/api", () => ({ api: { waive, pay } }));
const { paymentStep } = await import("../src/screens/intake/payment");

const GROUPS: Record<string, string> = { "older-people": "Older people", "people-with-disability": "People with disability" };

/** A request just taken whose fee of 25.00 is unpaid, exempting `groups`. */
function unpaid(groups: string[]): RequestDetail {
  return {
    receipt: "K7XA-0001",
    fee: { minor: 2500, currency: "EUR" },
    paid_minor: 0,
    waiver_ground: null,
    fee_exemptions: groups,
    payments: [],
  } as unknown as RequestDetail;
}

function step(request: RequestDetail) {
  const ctx = screenCtx();
  const refresh = vi.fn(async (run: (receipt: string) => Promise<unknown>) => {
    await run(request.receipt);
  });
  const payment = paymentStep(ctx, { taken: () => request, refresh, targetGroup: (code) => GROUPS[code] ?? code });
  const draw = (r: RequestDetail, again: boolean): void =>
    document.body.replaceChildren(...payment.draw(r, again).filter((e): e is HTMLElement => e !== null));
  draw(request, false);
  return { refresh, draw };
}

describe("waiving a fee at intake", () => {
  it("offers the groups the service exempts, by name, and asks for one before anything is sent", async () => {
    const { refresh } = step(unpaid(["older-people", "people-with-disability"]));
    const ground = document.querySelector<HTMLSelectElement>("#waive-ground")!;
    expect([...ground.options].map((o) => [o.value, o.textContent])).toEqual([
      ["", t("intake.waive.none")],
      ["older-people", "Older people"],
      ["people-with-disability", "People with disability"],
    ]);
    const form = document.querySelector<HTMLFormElement>("#waive-form")!;
    expect(form.hidden).toBe(false);
    form.requestSubmit();
    expect(document.querySelector("#payment-error")!.textContent).toBe(t("intake.waive.choose"));
    expect(ground.getAttribute("aria-invalid")).toBe("true");
    expect(refresh).not.toHaveBeenCalled();

    ground.value = "older-people";
    ground.dispatchEvent(new Event("change"));
    expect(document.querySelector("#payment-error")!.textContent).toBe("");
    (document.querySelector("#waive-approval-approver") as HTMLInputElement).value = "eleni";
    form.requestSubmit();
    await vi.waitFor(() => expect(waive).toHaveBeenCalled());
    expect(waive).toHaveBeenCalledWith("K7XA-0001", "older-people", { username: "eleni", password: "" });
  });

  it("offers no waiver for a service that exempts nobody", () => {
    step(unpaid([]));
    expect(document.querySelector<HTMLFormElement>("#waive-form")!.hidden).toBe(true);
  });
});

describe("paying at intake", () => {
  it("records one payment for a press made twice while the first is recorded", async () => {
    step(unpaid([]));
    let recorded: (p: unknown) => void = () => undefined;
    pay.mockImplementationOnce(() => new Promise((resolve) => (recorded = resolve)));
    document.querySelector<HTMLInputElement>("#pay-amount")!.value = "10";
    const form = document.querySelector<HTMLFormElement>("#pay-form")!;
    form.requestSubmit();
    form.requestSubmit();
    recorded({ amount: { minor: 1000, currency: "EUR" }, receipt: "K7XA-0002" });
    await vi.waitFor(() => expect(document.querySelector<HTMLButtonElement>("#pay")!.disabled).toBe(false));
    expect(pay).toHaveBeenCalledOnce();
  });

  it("keeps the amount, the method and the ground typed when the request is drawn again owing the same", () => {
    const request = unpaid(["older-people"]);
    const { draw } = step(request);
    document.querySelector<HTMLInputElement>("#pay-amount")!.value = "20";
    document.querySelector<HTMLSelectElement>("#pay-method")!.value = "card";
    document.querySelector<HTMLSelectElement>("#waive-ground")!.value = "older-people";
    draw({ ...request, documents: [] } as RequestDetail, true);
    expect(document.querySelector<HTMLInputElement>("#pay-amount")!.value).toBe("20");
    expect(document.querySelector<HTMLSelectElement>("#pay-method")!.value).toBe("card");
    expect(document.querySelector<HTMLSelectElement>("#waive-ground")!.value).toBe("older-people");

    draw({ ...request, paid_minor: 2000 } as RequestDetail, true);
    expect(document.querySelector<HTMLInputElement>("#pay-amount")!.value).toBe("5.00");
    expect(document.querySelector<HTMLSelectElement>("#pay-method")!.value).toBe("cash");
  });

  it("says to refund first once part of the fee is paid, as a waiver covers the whole fee", () => {
    step({ ...unpaid(["older-people"]), paid_minor: 1000 });
    expect(document.querySelector<HTMLFormElement>("#waive-form")!.hidden).toBe(true);
    const advice = document.querySelector<HTMLElement>("#waive-refund-first")!;
    expect(advice.hidden).toBe(false);
    expect(advice.textContent).toBe(t("intake.waive.refund_first"));
  });

  it("sends one waiver however often it is pressed while the approver's password is checked", async () => {
    let answer: () => void = () => undefined;
    waive.mockClear();
    waive.mockImplementationOnce(() => new Promise<undefined>((done) => (answer = () => done(undefined))));
    step(unpaid(["older-people"]));
    document.querySelector<HTMLSelectElement>("#waive-ground")!.value = "older-people";
    const form = document.querySelector<HTMLFormElement>("#waive-form")!;
    form.requestSubmit();
    form.requestSubmit();
    answer();
    await vi.waitFor(() => expect(waive).toHaveBeenCalledTimes(1));
    await new Promise((r) => setTimeout(r, 0));
    expect(waive).toHaveBeenCalledTimes(1);
  });
});
