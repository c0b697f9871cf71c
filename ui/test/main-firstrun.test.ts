// The window on a new workstation: the set-up form survives a change of language, and the
// recovery key it hands out stays on screen, behind the lock and in either language, for the
// administrator it was handed to, until they say it is written down.

import { describe, expect, it, vi } from "vitest";
import type { AppState, SessionView } from "../src/api";
import { setLang } from "../src/i18n";
import { appState, config, nikos } from "./fixtures";

const admin: SessionView = { username: "lea", display_name: "Léa Martin", role: "administrator", locked: false };
const shell = vi.hoisted(() => ({ state: null as AppState | null }));

const { api } = vi.hoisted(() => ({
  api: {
    startProblem: vi.fn(async () => null),
    appState: vi.fn(),
    setupStandalone: vi.fn(),
    queueView: vi.fn(async () => ({ waiting: [], current: null })),
    browse: vi.fn(async () => ({ version: 1, life_events: [], target_groups: [], categories: [], agencies: [] })),
    searchServices: vi.fn(async () => []),
    login: vi.fn(),
    lock: vi.fn(async () => undefined),
    unlock: vi.fn(),
    logout: vi.fn(async () => undefined),
  },
}));
vi.mock("../src/api", () => ({ api, onStatus: async () => () => undefined }));

const $ = <T extends HTMLElement>(selector: string) => document.querySelector<T>(selector)!;
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));
const KEY = "WTWW-FQJ2-2AEY-IBUG-7XQK-M3PA-LD2C-HN4R";

/** Chooses `value` in the header's language list, as the clerk does. */
function chooseLanguage(value: string): void {
  const select = $<HTMLSelectElement>("#language");
  select.value = value;
  select.dispatchEvent(new Event("change", { bubbles: true }));
}

/** Types `value` into the field `selector`, as the clerk does. */
function type(selector: string, value: string): void {
  const input = $<HTMLInputElement>(selector);
  input.value = value;
  input.dispatchEvent(new Event("input", { bubbles: true }));
}

describe("a new workstation's first screens", () => {
  it("keeps what was typed in the set-up form when the language changes", async () => {
    setLang("en");
    document.body.innerHTML = '<div id="app"></div>';
    shell.state = appState({ config: null, session: null });
    api.appState.mockImplementation(async () => shell.state);
    await import("../src/main");
    await settle();
    expect($("#firstrun-title").textContent).toBe("Set up this workstation");
    type("#setup-admin-username", "lea");
    type("#setup-admin-name", "Léa Martin");
    type("#setup-admin-password", "correct horse battery");
    type("#setup-time-zone", "Africa/Dakar");
    const kind = $<HTMLSelectElement>("select[name=center_kind]");
    kind.value = "mobile";
    $<HTMLInputElement>("#enroll-allow-http").checked = true;

    chooseLanguage("fr");
    await settle();
    expect($("#firstrun-title").textContent).toBe("Configurer ce poste");
    expect($<HTMLInputElement>("#setup-admin-username").value).toBe("lea");
    expect($<HTMLInputElement>("#setup-admin-name").value).toBe("Léa Martin");
    expect($<HTMLInputElement>("#setup-admin-password").value).toBe("correct horse battery");
    expect($<HTMLInputElement>("#setup-time-zone").value).toBe("Africa/Dakar");
    expect($<HTMLSelectElement>("select[name=center_kind]").value).toBe("mobile");
    expect($<HTMLInputElement>("#enroll-allow-http").checked).toBe(true);
    expect($<HTMLDetailsElement>("#enroll-link").open).toBe(true);
    // What was not touched keeps the screen's own value.
    expect($<HTMLInputElement>("#setup-currency").value).toBe("EUR");
  });

  it("shows the recovery key once set up, even when the window's state cannot be read then", async () => {
    type("#setup-admin-password2", "correct horse battery");
    api.setupStandalone.mockImplementation(async () => {
      shell.state = appState({ config: { ...config }, session: { ...admin } });
      return { config, recovery_key: KEY };
    });
    api.appState.mockRejectedValueOnce(new Error("the window's state cannot be read"));
    $<HTMLFormElement>("#setup-standalone").requestSubmit();
    await settle();
    expect(api.setupStandalone).toHaveBeenCalledWith(expect.objectContaining({ admin_username: "lea", time_zone: "Africa/Dakar" }));
    expect($("#recovery-key").textContent).toBe(KEY);
    expect($("#recovery-title").textContent).toBe("Notez la clé de secours");

    // Another language, or a shortcut to a screen, does not take the key away.
    chooseLanguage("en");
    await settle();
    expect($("#recovery-title").textContent).toBe("Write down the recovery key");
    expect($("#recovery-key").textContent).toBe(KEY);
    document.activeElement!.dispatchEvent(new KeyboardEvent("keydown", { key: "F3", bubbles: true, cancelable: true }));
    await settle();
    expect($("#recovery-key").textContent).toBe(KEY);

    // Going on reads the state: while it cannot, the key stays, and the card says why.
    api.appState.mockRejectedValueOnce(new Error("the window's state cannot be read"));
    $("#recovery-done").click();
    await settle();
    expect($("#recovery-key").textContent).toBe(KEY);
    expect($("#recovery-error").textContent).not.toBe("");
    $("#recovery-done").click();
    await settle();
    expect(document.querySelector("#recovery-key")).toBeNull();
    expect($("#queue-title")).not.toBeNull();
    expect($("#header-clerk").textContent).toContain("Léa Martin");
  });

  it("keeps the key behind the lock, from another clerk, for the administrator it was handed to", async () => {
    // A login that encrypted an earlier release's data hands out a key too.
    $<HTMLButtonElement>("#logout-button").click();
    await settle();
    shell.state = appState({ config: { ...config }, session: null });
    api.login.mockImplementation(async () => {
      shell.state = appState({ config: { ...config }, session: { ...admin } });
      return { ...shell.state, recovery_key: KEY };
    });
    $<HTMLInputElement>("#login-username").value = "lea";
    $<HTMLInputElement>("#login-password").value = "correct horse battery";
    $<HTMLFormElement>("#login-form").requestSubmit();
    await settle();
    expect($("#recovery-key").textContent).toBe(KEY);
    // A logout, or a screen of the navigation, would lose it: out of reach while it is shown.
    expect($("#logout-button").hidden).toBe(true);
    expect($("nav").hidden).toBe(true);

    const lockAndUnlockAs = async (who: SessionView, password: string) => {
      document.activeElement!.dispatchEvent(new KeyboardEvent("keydown", { key: "l", ctrlKey: true, bubbles: true, cancelable: true }));
      await settle();
      expect($("#lock-overlay").hidden).toBe(false);
      expect($("main").hidden).toBe(true);
      api.unlock.mockImplementation(async () => ({ ...who }));
      $<HTMLButtonElement>("#unlock-switch").click();
      $<HTMLInputElement>("#unlock-username").value = who.username;
      $<HTMLInputElement>("#unlock-password").value = password;
      $<HTMLFormElement>("#unlock-form").requestSubmit();
      await settle();
      expect($("main").hidden).toBe(false);
    };
    await lockAndUnlockAs(nikos, "another good password");
    expect(document.querySelector("#recovery-key")).toBeNull();
    expect($("#queue-title")).not.toBeNull();
    expect(document.body.textContent).not.toContain(KEY);
    expect($("#logout-button").hidden).toBe(false);

    await lockAndUnlockAs(admin, "correct horse battery");
    expect($("#recovery-key").textContent).toBe(KEY);
    $("#recovery-done").click();
    await settle();
    expect(document.querySelector("#recovery-key")).toBeNull();
    expect($("#logout-button").hidden).toBe(false);
  });
});
