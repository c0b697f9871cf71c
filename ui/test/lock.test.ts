import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { SessionView } from "../src/api";
import { setLang } from "../src/i18n";
import { BUSY_SHOWN_AFTER_MS } from "../src/dom";
import { conceal, lockOverlay } from "../src/lock";
import { CoreError } from "../src/messages";

const eleni: SessionView = { username: "eleni", display_name: "Eleni Papadopoulou", role: "supervisor", locked: true };

const $ = <T extends HTMLElement>(selector: string) => document.querySelector<T>(selector)!;

describe("lock overlay", () => {
  beforeEach(() => setLang("en"));
  afterEach(() => document.body.replaceChildren());

  function mount(unlock: (username: string, password: string) => Promise<void>) {
    const overlay = lockOverlay(unlock);
    document.body.append(overlay.el);
    return overlay;
  }

  it("is a modal dialog that says who locked, the password focused", () => {
    const overlay = mount(async () => undefined);
    expect(overlay.shown).toBe(false);
    overlay.show(eleni);
    const el = $("#lock-overlay");
    expect(overlay.shown).toBe(true);
    expect(el.getAttribute("role")).toBe("dialog");
    expect(el.getAttribute("aria-modal")).toBe("true");
    expect($("#lock-by").textContent).toBe("Locked by Eleni Papadopoulou (supervisor).");
    expect(document.activeElement).toBe($("#unlock-password"));
    expect($("#unlock-other").hidden).toBe(true);
    // Every field has its label.
    for (const input of el.querySelectorAll("input")) {
      expect(el.querySelector(`label[for="${input.id}"]`), input.id).not.toBeNull();
    }
  });

  it("unlocks the same clerk with the password", async () => {
    const unlock = vi.fn(async () => undefined);
    const overlay = mount(unlock);
    overlay.show(eleni);
    $<HTMLInputElement>("#unlock-password").value = "correct horse";
    $<HTMLFormElement>("#unlock-form").requestSubmit();
    await Promise.resolve();
    expect(unlock).toHaveBeenCalledWith("eleni", "correct horse");
  });

  it("refuses a second press while the unlock runs, and shows the button busy only after a pause", async () => {
    vi.useFakeTimers();
    try {
      let answer: () => void = () => undefined;
      const unlock = vi.fn(() => new Promise<void>((resolve) => (answer = resolve)));
      const overlay = mount(unlock);
      overlay.show(eleni);
      const submit = $<HTMLButtonElement>("#unlock-submit");
      $<HTMLInputElement>("#unlock-password").value = "correct horse";
      $<HTMLFormElement>("#unlock-form").requestSubmit();
      $<HTMLFormElement>("#unlock-form").requestSubmit();
      expect(unlock).toHaveBeenCalledTimes(1);
      await vi.advanceTimersByTimeAsync(BUSY_SHOWN_AFTER_MS - 1);
      expect(submit.disabled).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      expect(submit.disabled).toBe(true);
      answer();
      await vi.advanceTimersByTimeAsync(0);
      expect(submit.disabled).toBe(false);
      $<HTMLFormElement>("#unlock-form").requestSubmit();
      expect(unlock).toHaveBeenCalledTimes(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it("takes another clerk's user name to switch", async () => {
    const unlock = vi.fn(async () => undefined);
    const overlay = mount(unlock);
    overlay.show(eleni);
    $("#unlock-switch").click();
    expect($("#unlock-other").hidden).toBe(false);
    expect($("#unlock-switch").getAttribute("aria-expanded")).toBe("true");
    expect(document.activeElement).toBe($("#unlock-username"));
    $<HTMLInputElement>("#unlock-username").value = " Nikos ";
    $<HTMLInputElement>("#unlock-password").value = "another passphrase";
    $<HTMLFormElement>("#unlock-form").requestSubmit();
    await Promise.resolve();
    expect(unlock).toHaveBeenCalledWith("nikos", "another passphrase");
    // Back to the clerk who locked: the user name is forgotten.
    $("#unlock-switch").click();
    expect($("#unlock-other").hidden).toBe(true);
    expect($<HTMLInputElement>("#unlock-username").value).toBe("");
  });

  it("shows a refusal, empties the password and focuses it", async () => {
    const overlay = mount(async () => {
      throw new CoreError("the user name or the password is wrong", "error.login.failed");
    });
    overlay.show(eleni);
    const password = $<HTMLInputElement>("#unlock-password");
    password.value = "wrong";
    $<HTMLFormElement>("#unlock-form").requestSubmit();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect($("#unlock-error").getAttribute("role")).toBe("alert");
    expect($("#unlock-error").textContent).toBe("the user name or the password is wrong");
    expect(password.value).toBe("");
    expect(document.activeElement).toBe(password);
    expect(overlay.shown).toBe(true);
  });

  it("keeps the focus inside", () => {
    const outside = document.createElement("button");
    document.body.prepend(outside);
    const overlay = mount(async () => undefined);
    overlay.show(eleni);
    const last = $("#unlock-switch");
    last.focus();
    const tab = new KeyboardEvent("keydown", { key: "Tab", bubbles: true, cancelable: true });
    last.dispatchEvent(tab);
    expect(tab.defaultPrevented).toBe(true);
    expect(document.activeElement).toBe($("#unlock-password"));
    const back = new KeyboardEvent("keydown", { key: "Tab", shiftKey: true, bubbles: true, cancelable: true });
    $("#unlock-password").dispatchEvent(back);
    expect(document.activeElement).toBe(last);
    outside.focus();
    expect(document.activeElement).toBe($("#unlock-password"));
    overlay.hide();
    outside.focus();
    expect(document.activeElement).toBe(outside);
  });

  it("forgets what was typed when hidden", () => {
    const overlay = mount(async () => undefined);
    overlay.show(eleni);
    $<HTMLInputElement>("#unlock-password").value = "half typed";
    overlay.hide();
    expect(overlay.shown).toBe(false);
    expect($<HTMLInputElement>("#unlock-password").value).toBe("");
  });
});

describe("concealing the window", () => {
  it("hides the content without losing its work, and shows it again", () => {
    const main = document.createElement("main");
    const input = document.createElement("input");
    input.value = "half-filled";
    main.append(input);
    const toast = document.createElement("p");
    toast.textContent = "Request taken for Maria";
    const announcer = document.createElement("div");
    announcer.textContent = "Request taken for Maria";
    document.body.append(main, toast, announcer);

    conceal(true, [main], [toast], [toast, announcer]);
    expect(main.hidden).toBe(true);
    expect(main.hasAttribute("inert")).toBe(true);
    expect(toast.hidden).toBe(true);
    expect(toast.textContent).toBe("");
    expect(announcer.textContent).toBe("");
    expect(input.isConnected).toBe(true);

    conceal(false, [main], [toast], [toast, announcer]);
    expect(main.hidden).toBe(false);
    expect(main.hasAttribute("inert")).toBe(false);
    expect(toast.hidden).toBe(true);
    expect(input.value).toBe("half-filled");
  });
});
