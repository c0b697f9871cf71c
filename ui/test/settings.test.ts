import { describe, expect, it, vi } from "vitest";
import { emptyVisit, type Ctx } from "../src/app";
import { CoreError } from "../src/messages";
import { appState, config, eleni, nikos } from "./fixtures";

const { api } = vi.hoisted(() => ({ api: { setRules: vi.fn() } }));
vi.mock("../src/api", () => ({ api }));

const { settingsCard, wholeNumber } = await import("../src/screens/settings");

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

function ctxOf(role: "administrator" | "supervisor" | "clerk"): Ctx {
  const session = role === "clerk" ? { ...nikos } : { ...eleni, role };
  return {
    state: appState({ session, printers: { counter: "", kiosk: "" } }),
    counter: "C1",
    visit: emptyVisit(),
    rated: null,
    go: vi.fn(),
    refresh: vi.fn(async () => undefined),
    announce: vi.fn(),
    showRecoveryKey: vi.fn(),
    async act(_label, action) {
      await action();
    },
  };
}

describe("the workstation's settings", () => {
  it("reads only whole numbers", () => {
    expect(wholeNumber(" 15 ")).toBe(15);
    expect(wholeNumber("7.5")).toBeNull();
    expect(wholeNumber("-3")).toBeNull();
    expect(wholeNumber("")).toBeNull();
    expect(wholeNumber("ten")).toBeNull();
  });

  it("is for administrators alone", () => {
    expect(settingsCard(ctxOf("supervisor"))).toBeNull();
    expect(settingsCard(ctxOf("clerk"))).toBeNull();
    expect(settingsCard(ctxOf("administrator"))).not.toBeNull();
  });

  it("refuses what is not a number without asking the core, then saves", async () => {
    const card = settingsCard(ctxOf("administrator"))!;
    document.body.replaceChildren(card);
    const idle = card.querySelector<HTMLInputElement>("#settings-idle")!;
    const offline = card.querySelector<HTMLInputElement>("#settings-offline")!;
    expect(idle.value).toBe("5");
    expect(offline.value).toBe("14");
    idle.value = "five";
    (card as HTMLFormElement).requestSubmit();
    await settle();
    expect(api.setRules).not.toHaveBeenCalled();
    expect(idle.getAttribute("aria-invalid")).not.toBeNull();
    expect(card.querySelector("#settings-result")!.textContent).toContain("whole number");

    // The core's own refusal is shown as it says it.
    idle.value = "0";
    api.setRules.mockRejectedValueOnce(
      new CoreError("x", "error.idle_lock_minutes", { given: "0", min: "1", max: "240" }),
    );
    (card as HTMLFormElement).requestSubmit();
    await settle();
    expect(card.querySelector("#settings-result")!.textContent).toContain("between 1 and 240 minutes, not 0");

    idle.value = "2";
    offline.value = "30";
    card.querySelector<HTMLInputElement>("#settings-kiosk-printer")!.value = "Kiosk_Roll";
    api.setRules.mockResolvedValueOnce({ ...config, idle_lock_minutes: 2, max_offline_days: 30 });
    (card as HTMLFormElement).requestSubmit();
    await settle();
    expect(api.setRules).toHaveBeenLastCalledWith({ idle_lock_minutes: 2, max_offline_days: 30, counter_printer: undefined, kiosk_printer: "Kiosk_Roll" });
    expect(idle.hasAttribute("aria-invalid")).toBe(false);
    expect(card.querySelector("#settings-result")!.textContent).toBe(
      "Saved: the screen locks after 2 min without activity; logins are taken for 30 days without the back office.",
    );
  });

  it("sends no printer it could not read: the ones set stay as they are", async () => {
    const ctx = ctxOf("administrator");
    ctx.state = { ...ctx.state, printers: null };
    const card = settingsCard(ctx)!;
    document.body.replaceChildren(card);
    expect(card.querySelector("#settings-kiosk-printer")).toBeNull();
    api.setRules.mockResolvedValueOnce({ ...config });
    (card as HTMLFormElement).requestSubmit();
    await settle();
    expect(api.setRules).toHaveBeenLastCalledWith({ idle_lock_minutes: 5, max_offline_days: 14, counter_printer: undefined, kiosk_printer: undefined });
  });
});
