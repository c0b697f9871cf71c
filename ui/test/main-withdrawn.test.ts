// The back office revokes the device with a wipe while a clerk works: the window's content goes
// at once, a notice says what happens, then what happened, and "Continue" leads to set-up.

import { describe, expect, it, vi } from "vitest";
import type { AppState, StatusBar } from "../src/api";
import { appState, eleni, statusBar } from "./fixtures";

const shell = vi.hoisted(() => ({
  state: null as AppState | null,
  status: null as ((s: StatusBar) => void) | null,
}));

const { api } = vi.hoisted(() => ({
  api: {
    startProblem: vi.fn(async () => null),
    appState: vi.fn(),
    queueView: vi.fn(async () => ({ waiting: [], current: null })),
    browse: vi.fn(async () => ({ version: 1, life_events: [], target_groups: [], categories: [], agencies: [] })),
    searchServices: vi.fn(async () => []),
    syncNow: vi.fn(async () => undefined),
  },
}));
vi.mock("../src/api", () => ({
  api,
  onStatus: async (f: (s: StatusBar) => void) => {
    shell.status = f;
    return () => undefined;
  },
}));

const $ = <T extends HTMLElement>(selector: string) => document.querySelector<T>(selector)!;
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));
const server = "https://backoffice.example";

describe("a device withdrawn by its back office", () => {
  it("hides the work, says the data is being erased, then leads to set-up", async () => {
    document.body.innerHTML = '<div id="app"></div>';
    shell.state = appState({ session: { ...eleni }, status: statusBar({ server, phase: "online" }) });
    api.appState.mockImplementation(async () => shell.state);
    await import("../src/main");
    await settle();
    expect($("#queue-title")).not.toBeNull();

    shell.status!(statusBar({ server, phase: "wipe" }));
    expect($("#withdrawn").dataset.phase).toBe("wipe");
    expect($("#withdrawn-title").textContent).toBe("This computer is being withdrawn");
    expect(document.querySelector("#queue-title")).toBeNull();
    expect($("header").hasAttribute("inert")).toBe(true);
    expect($("#status-bar").hidden).toBe(true);
    expect(document.querySelector("#withdrawn-continue")).toBeNull();
    // No shortcut leaves the notice.
    document.activeElement!.dispatchEvent(new KeyboardEvent("keydown", { bubbles: true, cancelable: true, key: "F3" }));
    expect($("#withdrawn")).not.toBeNull();

    // Erased: the core now holds a fresh, empty workstation.
    const erased = { at: "2026-03-01T10:00:00Z", center_code: "ATH-01", device_code: "D1", confirmed: true };
    shell.state = appState({ config: null, session: null, erased, status: statusBar({ server: null, phase: "wiped" }) });
    shell.status!(statusBar({ server: null, phase: "wiped" }));
    expect(document.querySelectorAll("#withdrawn")).toHaveLength(1);
    expect($("#withdrawn-text").textContent).toContain("was delivered, then the citizens' data");
    expect(document.activeElement).toBe($("#withdrawn-continue"));

    // The window's state cannot be read: the notice stays and says why, and Continue again.
    api.appState.mockRejectedValueOnce(new Error("the data directory cannot be read: permission denied"));
    $("#withdrawn-continue").click();
    await settle();
    expect($("#withdrawn-error").textContent).toBe("the data directory cannot be read: permission denied");
    expect($("header").hasAttribute("inert")).toBe(true);

    $("#withdrawn-continue").click();
    await settle();
    expect(document.querySelector("#withdrawn")).toBeNull();
    expect($("header").hasAttribute("inert")).toBe(false);
    expect($("#status-bar").hidden).toBe(false);
    expect(document.querySelector("#queue-title")).toBeNull();
    expect($("#setup-standalone")).not.toBeNull();
    expect($("#erased-note").textContent).toContain("device D1 (centre ATH-01)");
  });
});
