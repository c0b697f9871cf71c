// Focus and what a screen reader hears, in the whole window with a fake shell: focus lands on
// the next step after each one, the help dialog keeps focus inside and gives it back, and the
// status bar says a change once.

import { describe, expect, it, vi } from "vitest";
import type { StatusBar } from "../src/api";
import { appState, eleni, statusBar } from "./fixtures";

const { api, status } = vi.hoisted(() => ({
  status: { listener: null as ((s: StatusBar) => void) | null },
  api: {
    startProblem: vi.fn(async () => null),
    appState: vi.fn(),
    queueView: vi.fn(async () => ({ waiting: [], current: null as unknown })),
    browse: vi.fn(async () => ({ version: 1, life_events: [], target_groups: [], categories: [], agencies: [] })),
    searchServices: vi.fn(async () => []),
    callNext: vi.fn(),
    startService: vi.fn(),
  },
}));
vi.mock("../src/api", () => ({
  api,
  onStatus: async (listener: (s: StatusBar) => void) => {
    status.listener = listener;
    return () => undefined;
  },
}));

const $ = <T extends HTMLElement>(selector: string) => document.querySelector<T>(selector)!;
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));
const press = (init: KeyboardEventInit) =>
  document.activeElement!.dispatchEvent(new KeyboardEvent("keydown", { bubbles: true, cancelable: true, ...init }));
const ticket = (status: string) => ({
  code: "A001",
  target: { kind: "category", code: "civil" },
  lane: "standard",
  status,
  counter: "C1",
});

describe("focus in the window", () => {
  it("lands on the counter's next step, never on the page's body", async () => {
    document.body.innerHTML = '<div id="app"></div>';
    api.appState.mockImplementation(async () => appState({ session: { ...eleni } }));
    await import("../src/main");
    await settle();
    expect($("#queue-title")).not.toBeNull();
    expect(document.activeElement).toBe($("#call-next"));
    expect($("#call-next").classList.contains("primary")).toBe(true);

    // Calling disables "Call next" under the focus: focus goes to "Start serving".
    api.queueView.mockImplementation(async () => ({ waiting: [], current: ticket("called") }));
    api.callNext.mockImplementation(async () => ticket("called"));
    $("#call-next").click();
    await settle();
    expect(document.activeElement).toBe($("#start"));
    expect($("#start").classList.contains("primary")).toBe(true);
    expect($("#call-next").classList.contains("primary")).toBe(false);

    api.queueView.mockImplementation(async () => ({ waiting: [], current: ticket("serving") }));
    api.startService.mockImplementation(async () => ticket("serving"));
    $("#start").click();
    await settle();
    expect(document.activeElement).toBe($("#intake"));
  });

  it("keeps focus inside the help dialog and gives it back where it was", async () => {
    $("#counter").focus();
    press({ key: "F1" });
    expect($("#help").hidden).toBe(false);
    const close = $("#close-help");
    expect(document.activeElement).toBe(close);
    for (const selector of ["header", "main", "footer"]) expect($(selector).inert, selector).toBe(true);
    // Tab and Shift+Tab go round the dialog's one control.
    expect(press({ key: "Tab" })).toBe(false);
    expect(document.activeElement).toBe(close);
    expect(press({ key: "Tab", shiftKey: true })).toBe(false);
    expect(document.activeElement).toBe(close);
    press({ key: "Escape" });
    expect($("#help").hidden).toBe(true);
    for (const selector of ["header", "main", "footer"]) expect($(selector).inert, selector).toBe(false);
    expect(document.activeElement).toBe($("#counter"));
  });

  it("says a change of the link once, not at every redraw of the status bar", async () => {
    const live = $("#status-live");
    expect($("#status-bar").getAttribute("aria-live")).toBeNull();
    expect($("#status-bar").getAttribute("role")).toBeNull();
    expect(live.getAttribute("role")).toBe("status");
    expect(live.textContent).toBe("Online");
    const said: string[] = [];
    new MutationObserver(() => said.push(live.textContent ?? "")).observe(live, { childList: true, characterData: true, subtree: true });
    status.listener!(statusBar({ waiting: 1 }));
    status.listener!(statusBar({ waiting: 2 }));
    status.listener!(statusBar({ phase: "offline", waiting: 2 }));
    status.listener!(statusBar({ phase: "offline", waiting: 3 }));
    await settle();
    expect(said).toEqual(["Offline"]);
  });

  it("keeps the focus on \"Sync now\" while the status bar is drawn again", () => {
    $("#sync-now").focus();
    status.listener!(statusBar({ waiting: 4 }));
    expect($("#status-waiting").textContent).toContain("4");
    expect(document.activeElement).toBe($("#sync-now"));
  });

  it("runs a shortcut once for a key held down", async () => {
    api.callNext.mockClear();
    press({ key: "F2", repeat: true });
    await settle();
    expect(api.callNext).not.toHaveBeenCalled();
    press({ key: "F2" });
    await settle();
    expect(api.callNext).toHaveBeenCalledOnce();
  });
});
