// The window opened on a session that was locked when it closed: the overlay first, and
// nothing drawn behind it until a clerk unlocks.

import { describe, expect, it, vi } from "vitest";
import type { SessionView } from "../src/api";
import { appState, eleni } from "./fixtures";

const shell = vi.hoisted(() => ({ session: null as SessionView | null }));
shell.session = { ...eleni, locked: true };

const { api } = vi.hoisted(() => ({
  api: {
    startProblem: vi.fn(async () => null),
    appState: vi.fn(),
    queueView: vi.fn(async () => ({ waiting: [], current: null })),
    browse: vi.fn(async () => ({ version: 1, life_events: [], target_groups: [], categories: [], agencies: [] })),
    searchServices: vi.fn(async () => []),
    login: vi.fn(),
    lock: vi.fn(async () => undefined),
    unlock: vi.fn(),
    logout: vi.fn(async () => undefined),
    syncNow: vi.fn(async () => undefined),
  },
}));
vi.mock("../src/api", () => ({ api, onStatus: async () => () => undefined }));

const $ = <T extends HTMLElement>(selector: string) => document.querySelector<T>(selector)!;
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe("a window opened locked", () => {
  it("shows the lock overlay over an empty window, then the queue after the unlock", async () => {
    document.body.innerHTML = '<div id="app"></div>';
    api.appState.mockImplementation(async () => appState({ session: shell.session }));
    await import("../src/main");
    await settle();
    expect($("#lock-overlay").hidden).toBe(false);
    expect($("#lock-by").textContent).toBe("Locked by Eleni Papadopoulou (supervisor).");
    expect($("main").hidden).toBe(true);
    expect($("main").childElementCount).toBe(0);
    expect(api.queueView).not.toHaveBeenCalled();
    expect(document.activeElement).toBe($("#unlock-password"));
    api.unlock.mockImplementation(async () => ({ ...eleni }));
    $<HTMLInputElement>("#unlock-password").value = "correct horse battery";
    $<HTMLFormElement>("#unlock-form").requestSubmit();
    await settle();
    expect($("#lock-overlay").hidden).toBe(true);
    expect($("#queue-title")).not.toBeNull();
    expect($("#header-clerk").textContent).toBe("Eleni Papadopoulou (supervisor)");
  });
});
