import { describe, expect, it, vi } from "vitest";
import { screenCtx } from "./fixtures";

const { api } = vi.hoisted(() => ({
  api: {
    browse: vi.fn(async () => ({ version: 1, life_events: [], target_groups: [], categories: [], agencies: [] })),
    searchServices: vi.fn(),
  },
}));
vi.mock("../src/api", () => ({ api }));
const { serviceStep } = await import("../src/screens/intake/service");

describe("the service search", () => {
  it("says why a search failed in the hits' place, and leaves no hits of the search before", async () => {
    const step = serviceStep(screenCtx(), { open: vi.fn() });
    document.body.replaceChildren(step.el);
    const search = document.querySelector<HTMLInputElement>("#service-search")!;
    api.searchServices.mockResolvedValueOnce([
      { code: "id-photos", title: { en: "ID photos", fr: "Photos d'identité" }, fee: { kind: "free" }, agency: "a", category: "c", summary: null },
    ]);
    search.value = "photo";
    search.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter" }));
    await vi.waitFor(() => expect(document.querySelectorAll("#service-results button").length).toBe(1));

    api.searchServices.mockRejectedValueOnce(new Error("the catalogue cannot be read: the database is locked"));
    search.value = "passport";
    search.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter" }));
    await vi.waitFor(() => expect(document.querySelector("#search-error")?.textContent).toBe("the catalogue cannot be read: the database is locked"));
    expect(document.querySelectorAll("#service-results button").length).toBe(0);
  });

  it("shows the latest search's hits when an earlier one answers after it", async () => {
    const step = serviceStep(screenCtx(), { open: vi.fn() });
    document.body.replaceChildren(step.el);
    const search = document.querySelector<HTMLInputElement>("#service-search")!;
    const hit = (code: string) => ({ code, title: { en: code, fr: code }, fee: { kind: "free" as const }, agency: "a", category: "c", summary: null });
    let answerFirst: (hits: ReturnType<typeof hit>[]) => void = () => undefined;
    api.searchServices.mockImplementationOnce(() => new Promise((resolve) => (answerFirst = resolve)));
    api.searchServices.mockResolvedValueOnce([hit("id-photos")]);
    search.value = "pho";
    search.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter" }));
    search.value = "photos";
    search.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter" }));
    await vi.waitFor(() => expect(document.querySelectorAll("#service-results button").length).toBe(1));
    answerFirst([hit("phone-line"), hit("id-photos")]);
    await new Promise((resolve) => setTimeout(resolve, 0));
    const shown = [...document.querySelectorAll<HTMLButtonElement>("#service-results button")].map((b) => b.dataset.code);
    expect(shown).toEqual(["id-photos"]);
  });
});
