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
});
