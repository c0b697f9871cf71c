import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { KioskMenu } from "../src/api";
import { lang, setLang } from "../src/i18n";

const { api } = vi.hoisted(() => ({
  api: {
    kioskMenu: vi.fn(),
    kioskTicket: vi.fn(),
    kioskReprint: vi.fn(),
  },
}));
vi.mock("../src/api", () => ({ api }));

const { BUSY_SHOWN_MS, IDLE_MS, lanesOffered, ticketKiosk, TICKET_SHOWN_MS } = await import("../src/kiosk");
const { CoreError } = await import("../src/messages");

const $ = <T extends HTMLElement>(selector: string) => document.querySelector<T>(selector)!;
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

const menu: KioskMenu = {
  center_name: "Athens Central",
  categories: [
    { code: "documents", name: { en: "Identity documents", fr: "Pièces d'identité" }, services: 4 },
    { code: "vehicles", name: { en: "Vehicles", fr: "Véhicules" }, services: 2 },
  ],
  lanes: [
    { code: "priority", name: { en: "Elderly or disabled", fr: "Âgé ou handicapé" }, rank: 0 },
    { code: "standard", name: { en: "No priority", fr: "Sans priorité" }, rank: 9 },
  ],
};

describe("the ticket kiosk", () => {
  beforeEach(() => {
    setLang("en");
    document.body.innerHTML = '<div id="app"></div>';
    api.kioskMenu.mockReset().mockResolvedValue(menu);
    api.kioskTicket.mockReset();
    api.kioskReprint.mockReset();
  });
  afterEach(() => vi.useRealTimers());

  it("offers the standard lane first, then the priorities", () => {
    expect(lanesOffered(menu.lanes).map((l) => l.code)).toEqual(["standard", "priority"]);
  });

  it("asks what for, then the priority, and shows the printed ticket with those before it", async () => {
    api.kioskTicket.mockResolvedValue({ id: "t1", code: "D004", ahead: 3, printed: true });
    await ticketKiosk($("#app")).restart();
    expect($("#kiosk-centre").textContent).toBe("Athens Central");
    expect($("#kiosk-question").textContent).toBe("What do you come for?");
    $("#kiosk-category-vehicles").click();
    expect($("#kiosk-question").textContent).toBe("Do you need priority?");
    expect([...document.querySelectorAll(".kiosk-choices button")].map((b) => b.id)).toEqual([
      "kiosk-lane-standard",
      "kiosk-lane-priority",
    ]);
    $("#kiosk-lane-priority").click();
    await settle();
    expect(api.kioskTicket).toHaveBeenCalledWith("vehicles", "priority", "en");
    expect($("#kiosk-code").textContent).toBe("D004");
    expect($("#kiosk-ahead").textContent).toBe("3 people before you");
    expect($("#kiosk-print-state").textContent).toContain("Take your ticket");
    expect(document.querySelector("#kiosk-reprint")).toBeNull();
  });

  it("speaks the citizen's language, and offers to print again when the printer failed", async () => {
    api.kioskTicket.mockResolvedValue({ id: "t2", code: "D005", ahead: 1, printed: false });
    api.kioskReprint.mockResolvedValue({ job: "request id is roll-7" });
    await ticketKiosk($("#app")).restart();
    $("#kiosk-lang-fr").click();
    expect(lang()).toBe("fr");
    expect($("#kiosk-category-documents").textContent).toBe("Pièces d'identité");
    $("#kiosk-category-documents").click();
    $("#kiosk-lane-standard").click();
    await settle();
    expect(api.kioskTicket).toHaveBeenCalledWith("documents", "standard", "fr");
    expect($("#kiosk-ahead").textContent).toBe("1 personne avant vous");
    expect($("#kiosk-print-state").textContent).toContain("ne s'est pas imprimé");
    $("#kiosk-reprint").click();
    await settle();
    expect(api.kioskReprint).toHaveBeenCalledWith("t2", "fr");
    expect($("#kiosk-print-state").textContent).toContain("Prenez votre ticket");
    // Printed: no second slip of the same number.
    expect(document.querySelector("#kiosk-reprint")).toBeNull();
    // The next citizen starts in the kiosk's own language.
    $("#kiosk-done").click();
    await settle();
    expect(lang()).toBe("en");
    expect($("#kiosk-question").textContent).toBe("What do you come for?");
  });

  it("goes back to its own language a minute after a citizen chose another and left", async () => {
    vi.useFakeTimers();
    await ticketKiosk($("#app")).restart();
    $("#kiosk-lang-fr").click();
    expect($("#kiosk-question").textContent).toBe("Pour quoi venez-vous ?");
    await vi.advanceTimersByTimeAsync(IDLE_MS);
    expect(lang()).toBe("en");
    expect($("#kiosk-question").textContent).toBe("What do you come for?");
  });

  it("starts again for the next citizen, and sends them to the counter when it cannot give tickets", async () => {
    vi.useFakeTimers();
    api.kioskTicket.mockResolvedValue({ id: "t3", code: "D006", ahead: 0, printed: true });
    await ticketKiosk($("#app")).restart();
    $("#kiosk-category-documents").click();
    $("#kiosk-lane-standard").click();
    await vi.advanceTimersByTimeAsync(0);
    expect($("#kiosk-code").textContent).toBe("D006");
    api.kioskMenu.mockRejectedValue(new Error("the screen is locked"));
    await vi.advanceTimersByTimeAsync(TICKET_SHOWN_MS);
    expect($("#kiosk-closed").textContent).toContain("go to the counter");
    api.kioskMenu.mockResolvedValue(menu);
    await vi.advanceTimersByTimeAsync(5_000);
    expect($("#kiosk-question").textContent).toBe("What do you come for?");
  });

  it("asks a citizen who touched again too soon to wait a moment, then starts again", async () => {
    vi.useFakeTimers();
    api.kioskTicket.mockRejectedValue(
      new CoreError("the kiosk gives one ticket at a time: touch again in 3 s", "error.kiosk_busy", { seconds: "3" }),
    );
    await ticketKiosk($("#app")).restart();
    $("#kiosk-category-documents").click();
    $("#kiosk-lane-standard").click();
    await vi.advanceTimersByTimeAsync(0);
    expect($("#kiosk-busy").textContent).toContain("Touch again in 3 s");
    await vi.advanceTimersByTimeAsync(BUSY_SHOWN_MS);
    expect($("#kiosk-question").textContent).toBe("What do you come for?");
  });
});
