// The whole window with a fake shell: who is at the counter, the lock and the logout. The
// window is one module with its state, so the steps run in order in one file.

import { describe, expect, it, vi } from "vitest";
import type { SessionView, StatusBar, TicketView } from "../src/api";
import { CoreError } from "../src/messages";
import { appState, config, eleni, nikos, statusBar } from "./fixtures";

const shell = vi.hoisted(() => ({
  session: null as SessionView | null,
  status: (_: StatusBar) => undefined as void,
}));

const serving: TicketView = {
  id: "t1",
  code: "A001",
  status: "serving",
  counter: "C1",
  day: "2026-03-01",
  issued_at: "2026-03-01T08:00:00Z",
  lane: "standard",
  target: { kind: "category", code: "documents" },
  visit: null,
  calls: 1,
  no_shows: 0,
  service_ms: null,
  waiting_ms: 60000,
};

const { api } = vi.hoisted(() => ({
  api: {
    startProblem: vi.fn(async () => null),
    appState: vi.fn(),
    queueView: vi.fn(async (): Promise<{ waiting: never[]; current: TicketView | null }> => ({ waiting: [], current: null })),
    browse: vi.fn(async () => ({ version: 1, life_events: [], target_groups: [], categories: [], agencies: [] })),
    searchServices: vi.fn(async () => []),
    login: vi.fn(),
    lock: vi.fn(async () => undefined),
    unlock: vi.fn(),
    logout: vi.fn(async () => undefined),
    syncNow: vi.fn(async () => undefined),
    finishService: vi.fn(async () => ({ ...serving, status: "done" })),
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
const key = (init: KeyboardEventInit) => document.activeElement!.dispatchEvent(new KeyboardEvent("keydown", { bubbles: true, cancelable: true, ...init }));

describe("the window", () => {
  it("starts on the login screen when nobody is logged in, the header naming no clerk", async () => {
    document.body.innerHTML = '<div id="app"></div>';
    api.appState.mockImplementation(async () => appState({ session: shell.session }));
    await import("../src/main");
    await settle();
    expect($("#login-form")).not.toBeNull();
    expect(document.querySelector("#header-clerk")).toBeNull();
    expect(document.querySelector("#lock-button")).toBeNull();
    expect(document.querySelector("nav")).toBeNull();
    expect($("header").textContent).toContain("Athens Central · device D1");
    expect(document.activeElement).toBe($("#login-username"));
    // No shortcut reaches a screen before a login.
    key({ key: "F3" });
    expect($("#login-form")).not.toBeNull();
  });

  it("logs in to the queue, the header naming the clerk", async () => {
    api.login.mockImplementation(async () => appState({ session: (shell.session = { ...eleni }) }));
    $<HTMLInputElement>("#login-username").value = "eleni";
    $<HTMLInputElement>("#login-password").value = "correct horse battery";
    $<HTMLFormElement>("#login-form").requestSubmit();
    await settle();
    expect(api.login).toHaveBeenCalledWith("eleni", "correct horse battery");
    expect(document.querySelector("#login-form")).toBeNull();
    expect($("#queue-title")).not.toBeNull();
    expect($("#header-clerk").textContent).toBe("Eleni Papadopoulou (supervisor)");
    expect($("#lock-button")).not.toBeNull();
    expect($("#logout-button")).not.toBeNull();
    expect($("#nav-dashboard")).not.toBeNull();
  });

  it("follows the centre's terms a sync brought: its new name in the header", async () => {
    shell.status(statusBar({ last_success: "2026-03-01T08:00:00Z" }));
    api.appState.mockImplementation(async () =>
      appState({ session: shell.session, config: { ...config, center_name: "Athens, Kypseli", time_zone: "Europe/Nicosia" } }),
    );
    shell.status(statusBar({ last_success: "2026-03-01T08:05:00Z" }));
    await settle();
    expect($("header").textContent).toContain("Athens, Kypseli · device D1");
    expect($("#queue-title")).not.toBeNull();
    api.appState.mockImplementation(async () => appState({ session: shell.session }));
  });

  it("turns the feedback screen to the citizen: no navigation, no shortcut but the lock", async () => {
    api.queueView.mockImplementation(async () => ({ waiting: [], current: serving }));
    key({ key: "3", altKey: true, code: "Digit3" });
    key({ key: "1", altKey: true, code: "Digit1" });
    await settle();
    $("#finish").click();
    await settle();
    expect($("#feedback-title")).not.toBeNull();
    expect($("nav").hidden).toBe(true);
    expect($("#logout-button").hidden).toBe(true);
    expect($("#lock-button").hidden).toBe(false);
    key({ key: "3", altKey: true, code: "Digit3" });
    key({ key: "F3" });
    await settle();
    expect($("#feedback-title")).not.toBeNull();
    $("#skip-feedback").click();
    api.queueView.mockImplementation(async () => ({ waiting: [], current: null }));
    await settle();
    expect($("#queue-title")).not.toBeNull();
    expect($("nav").hidden).toBe(false);
  });

  it("locks with Ctrl+L: everything hidden and inert, the overlay focused", async () => {
    const counter = $<HTMLSelectElement>("#counter");
    counter.focus();
    key({ key: "l", code: "KeyL", ctrlKey: true });
    await settle();
    expect(api.lock).toHaveBeenCalledTimes(1);
    for (const selector of ["header", "main", "footer"]) {
      expect($(selector).hidden, selector).toBe(true);
      expect($(selector).hasAttribute("inert"), selector).toBe(true);
    }
    expect($("#lock-overlay").hidden).toBe(false);
    expect($("#lock-by").textContent).toBe("Locked by Eleni Papadopoulou (supervisor).");
    expect(document.activeElement).toBe($("#unlock-password"));
    // The screens are kept, not destroyed.
    expect($("#queue-title").isConnected).toBe(true);
    // Shortcuts do nothing while locked.
    key({ key: "F1" });
    expect($("#help").hidden).toBe(true);
  });

  it("unlocks the same clerk back to what was on screen, focus included", async () => {
    api.unlock.mockImplementation(async (username: string) => {
      if (username !== "eleni") throw new CoreError("the user name or the password is wrong", "error.login.failed");
      return { ...eleni };
    });
    $<HTMLInputElement>("#unlock-password").value = "correct horse battery";
    $<HTMLFormElement>("#unlock-form").requestSubmit();
    await settle();
    expect(api.unlock).toHaveBeenCalledWith("eleni", "correct horse battery");
    expect($("#lock-overlay").hidden).toBe(true);
    expect($("main").hidden).toBe(false);
    expect($("main").hasAttribute("inert")).toBe(false);
    expect(document.activeElement).toBe($("#counter"));
  });

  it("switches to another clerk at the lock, into the same screens", async () => {
    const queueTitle = $("#queue-title");
    $("#lock-button").click();
    await settle();
    expect($("#lock-overlay").hidden).toBe(false);
    api.unlock.mockImplementation(async () => ({ ...nikos }));
    $("#unlock-switch").click();
    $<HTMLInputElement>("#unlock-username").value = "nikos";
    $<HTMLInputElement>("#unlock-password").value = "another passphrase";
    $<HTMLFormElement>("#unlock-form").requestSubmit();
    await settle();
    expect(api.unlock).toHaveBeenLastCalledWith("nikos", "another passphrase");
    expect($("#header-clerk").textContent).toBe("Nikos Georgiou (clerk)");
    expect($("#queue-title")).toBe(queueTitle);
    expect($("#toast").textContent).toBe("Nikos Georgiou is now at the counter.");
    // The supervisor's dashboard is not a clerk's: not offered, not in the help's keys, and
    // its shortcut stays here.
    expect(document.querySelector("#nav-dashboard")).toBeNull();
    $<HTMLSelectElement>("#counter").focus();
    key({ key: "F1" });
    expect($("#help").hidden).toBe(false);
    expect($("#help").textContent).toContain("Alt+3");
    expect($("#help").textContent).not.toContain("Alt+4");
    $("#close-help").click();
    $<HTMLSelectElement>("#counter").focus();
    key({ key: "4", code: "Digit4", altKey: true });
    await settle();
    expect($("#queue-title")).toBe(queueTitle);
  });

  it("shows the lock when a command says the screen is locked", async () => {
    api.syncNow.mockRejectedValueOnce(new CoreError("the screen is locked: unlock it first", "error.session.locked"));
    key({ key: "F5" });
    await settle();
    expect(api.syncNow).toHaveBeenCalled();
    expect($("#lock-overlay").hidden).toBe(false);
    expect($("main").hidden).toBe(true);
    expect($("#lock-by").textContent).toBe("Locked by Nikos Georgiou (clerk).");
    $<HTMLInputElement>("#unlock-password").value = "another passphrase";
    $<HTMLFormElement>("#unlock-form").requestSubmit();
    await settle();
    expect($("#lock-overlay").hidden).toBe(true);
  });

  it("goes to the login screen when a command says nobody is logged in", async () => {
    api.syncNow.mockRejectedValueOnce(new CoreError("nobody is logged in: log in first", "error.session.none"));
    key({ key: "F5" });
    await settle();
    expect($("#login-form")).not.toBeNull();
    expect($("#toast").textContent).toBe("nobody is logged in: log in first");
    // Back in, for the logout.
    api.login.mockImplementation(async () => appState({ session: (shell.session = { ...nikos }) }));
    $<HTMLInputElement>("#login-username").value = "nikos";
    $<HTMLInputElement>("#login-password").value = "another passphrase";
    $<HTMLFormElement>("#login-form").requestSubmit();
    await settle();
    expect($("#header-clerk").textContent).toBe("Nikos Georgiou (clerk)");
  });

  it("logs out to the login screen", async () => {
    shell.session = null;
    $("#logout-button").click();
    await settle();
    expect(api.logout).toHaveBeenCalled();
    expect($("#login-form")).not.toBeNull();
    expect(document.querySelector("#header-clerk")).toBeNull();
    expect(document.querySelector("#queue-title")).toBeNull();
  });
});
