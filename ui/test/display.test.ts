import { beforeEach, describe, expect, it } from "vitest";
import type { Call, CallingBoard } from "../src/api";
import { callKey, displayParts, newCalls } from "../src/display";
import { setLang } from "../src/i18n";

function call(code: string, counter: string, calls = 1, at = "2026-03-01T09:00:00Z"): Call {
  return { code, counter, counter_name: `Window ${counter.slice(1)}`, calls, at, expected: true };
}

function board(calls: Call[], waiting = 3): CallingBoard {
  return { center_name: "Athens Central", time_zone: "Europe/Athens", day: "2026-03-01", calls, waiting };
}

describe("the waiting room's display", () => {
  beforeEach(() => {
    setLang("en");
    document.body.innerHTML = '<div id="app"></div>';
  });

  it("counts a call it has not shown yet, and a recall as a new call", () => {
    const first = board([call("A001", "W1")]);
    // Nothing chimes when the display opens.
    expect(newCalls(null, first)).toEqual([]);
    expect(newCalls(first, first)).toEqual([]);
    const next = board([call("A002", "W2", 1, "2026-03-01T09:01:00Z"), call("A001", "W1")]);
    expect(newCalls(first, next).map((c) => c.code)).toEqual(["A002"]);
    const recalled = board([call("A001", "W1", 2, "2026-03-01T09:02:00Z"), call("A002", "W2", 1, "2026-03-01T09:01:00Z")]);
    expect(newCalls(next, recalled).map(callKey)).toEqual(["A001|W1|2|2026-03-01T09:02:00Z"]);
  });

  it("shows the last call big, to which counter, in both languages, and the calls before", () => {
    const root = document.getElementById("app")!;
    const parts = displayParts(root);
    const fresh = call("A002", "W2", 1, "2026-03-01T09:01:00Z");
    parts.draw(board([fresh, call("A001", "W1")], 1), [fresh]);
    expect(root.querySelector("#display-centre")?.textContent).toBe("Athens Central");
    expect(root.querySelector("#display-now-code")?.textContent).toBe("A002");
    expect(root.querySelector("#display-now-counter")?.textContent).toBe("Window 2");
    const go = [...root.querySelectorAll(".display-go span")].map((s) => [s.getAttribute("lang"), s.textContent]);
    expect(go).toEqual([
      ["en", "Ticket A002, please go to Window 2"],
      ["fr", "Numéro A002, présentez-vous au Window 2"],
    ]);
    expect([...root.querySelectorAll("#display-calls li .code")].map((c) => c.textContent)).toEqual(["A001"]);
    expect(root.querySelector("#display-calls time")?.textContent).toBe("11:00");
    expect(root.querySelector("#display-waiting span")?.textContent).toBe("1 person waiting");
    expect(root.querySelector("#display-announce")?.textContent).toBe("Ticket A002, please go to Window 2");
    expect(root.querySelector("#display-now")?.classList.contains("fresh")).toBe(true);
  });

  it("says when nothing was called, and when the counters are closed keeps the last calls dimmed", () => {
    const root = document.getElementById("app")!;
    const parts = displayParts(root);
    parts.draw(board([], 0), []);
    expect(root.querySelector(".display-none span")?.textContent).toBe("No ticket called yet today");
    parts.draw(board([call("A001", "W1")]), []);
    parts.closed();
    expect(root.classList.contains("closed")).toBe(true);
    expect(root.querySelector("#display-now-code")?.textContent).toBe("A001");
    expect(root.querySelector("#display-state")?.textContent).toContain("The counters are closed");
    parts.draw(board([call("A001", "W1")]), []);
    expect(root.classList.contains("closed")).toBe(false);
    expect(root.querySelector("#display-state")?.textContent).toBe("");
  });
});
