// The counter's panel on its own: a press made twice while the first runs, and the choices
// its lists keep when the queue is read again.

import { afterEach, describe, expect, it, vi } from "vitest";
import type { QueueView, Ticket } from "../src/api";
import { screenCtx } from "./fixtures";

const { api } = vi.hoisted(() => ({
  api: {
    queueView: vi.fn(),
    browse: vi.fn(async () => ({ version: 1, life_events: [], target_groups: [], categories: [], agencies: [] })),
    searchServices: vi.fn(async () => []),
    callNext: vi.fn(),
    recall: vi.fn(async () => null),
  },
}));
vi.mock("../src/api", () => ({ api }));
const { queueScreen } = await import("../src/screens/queue");

const $ = <T extends HTMLElement>(selector: string) => document.querySelector<T>(selector)!;
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));
const ticket = (code: string, status: Ticket["status"]): Ticket =>
  ({ code, target: { kind: "category", code: "civil" }, lane: "standard", status, counter: "C1" }) as Ticket;
const noShows = (...codes: string[]): QueueView =>
  ({
    current: null,
    waiting: codes.map((code) => ({ code, counter: null, lane: "standard", status: "no_show", target: { kind: "category", code: "civil" }, waited_ms: 0 })),
  }) as QueueView;

/** The queue screen shown, the queue read as `view`. */
async function shown(view: QueueView) {
  api.queueView.mockImplementation(async () => view);
  const screen = queueScreen(screenCtx());
  document.body.replaceChildren(screen.el);
  screen.show();
  await settle();
  return screen;
}

afterEach(() => vi.useRealTimers());

describe("the counter's panel", () => {
  it("calls one citizen for a double click, and says nothing that is not so", async () => {
    const screen = await shown(noShows());
    let called: (t: Ticket) => void = () => undefined;
    api.callNext.mockImplementationOnce(() => new Promise((resolve) => (called = resolve)));
    $("#call-next").click();
    $("#call-next").click();
    api.queueView.mockImplementation(async () => ({ waiting: [], current: ticket("A012", "called") }));
    called(ticket("A012", "called"));
    await settle();
    expect(api.callNext).toHaveBeenCalledOnce();
    expect($("#queue-error").textContent).toBe("");
    screen.stop();
  });

  it("draws the queue as the call left it when a poll's older read comes back after it", async () => {
    vi.useFakeTimers({ toFake: ["setInterval"] });
    const screen = await shown(noShows());
    // A poll reads the queue before the call and is answered only after the call's own read.
    let pollAnswers: (v: QueueView) => void = () => undefined;
    api.queueView.mockImplementationOnce(() => new Promise((resolve) => (pollAnswers = resolve)));
    vi.advanceTimersByTime(10_000);
    api.callNext.mockImplementationOnce(async () => ticket("A012", "called"));
    api.queueView.mockImplementation(async () => ({ waiting: [], current: ticket("A012", "called") }));
    $("#call-next").click();
    await settle();
    expect($("#current-status").textContent).toContain("called");
    pollAnswers(noShows());
    await settle();
    expect($("#current-status").textContent).toContain("called");
    expect($<HTMLButtonElement>("#start").disabled).toBe(false);
    screen.stop();
  });

  it("keeps the no-show the supervisor chose when a poll brings another", async () => {
    vi.useFakeTimers({ toFake: ["setInterval"] });
    const screen = await shown(noShows("A005"));
    api.queueView.mockImplementation(async () => noShows("A001", "A005"));
    vi.advanceTimersByTime(10_000);
    await settle();
    expect([...$<HTMLSelectElement>("#no-show-ticket").options].map((o) => o.value)).toEqual(["A001", "A005"]);
    expect($<HTMLSelectElement>("#no-show-ticket").value).toBe("A005");
    $<HTMLInputElement>("#recall-approval-approver").value = "eleni";
    $("#recall-no-show").click();
    await settle();
    expect(api.recall).toHaveBeenCalledWith("A005", { username: "eleni", password: "" });
    screen.stop();
  });
});
