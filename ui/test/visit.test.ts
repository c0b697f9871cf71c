import { describe, expect, it, vi } from "vitest";
import type { Citizen, Ticket } from "../src/api";
import { emptyVisit } from "../src/app";
import { request, screenCtx } from "./fixtures";

const fresh = request({ status: "draft", paid_minor: 0 });
const { api } = vi.hoisted(() => ({ api: { request: vi.fn(), finishService: vi.fn() } }));
vi.mock("../src/api", () => ({ api }));
const { visitStep } = await import("../src/screens/intake/visit");

describe("the visit's requests", () => {
  it("open one again, as the core has it now, to finish it after the clerk went elsewhere", async () => {
    const ctx = screenCtx();
    ctx.visit = { ...ctx.visit, requests: [request({ status: "draft" })] };
    const back = vi.fn();
    const visit = visitStep(ctx, { back, citizen: vi.fn() });
    document.body.replaceChildren(visit.el);
    visit.draw();
    api.request.mockResolvedValueOnce(fresh);
    document.querySelector<HTMLButtonElement>(`#visit-requests button[data-visit-request="${fresh.receipt}"]`)!.click();
    await vi.waitFor(() => expect(back).toHaveBeenCalledWith(fresh));
    expect(api.request).toHaveBeenCalledWith(fresh.receipt);
  });

  it("say beside its button why the visit could not end, and stay", async () => {
    const ctx = screenCtx();
    ctx.visit = { ...ctx.visit, ticket: { code: "A012", status: "serving" } as Ticket };
    const visit = visitStep(ctx, { back: vi.fn(), citizen: vi.fn() });
    document.body.replaceChildren(visit.el);
    visit.draw();
    api.finishService.mockRejectedValueOnce(new Error("ticket A012 is not being served at counter C1"));
    document.querySelector<HTMLButtonElement>("#end-visit")!.click();
    await vi.waitFor(() => expect(document.querySelector("#visit-error")!.textContent).toBe("ticket A012 is not being served at counter C1"));
    expect(ctx.go).not.toHaveBeenCalled();
  });

  it("end with the citizen and the requests gone: only the ticket stays, for the feedback", async () => {
    const ctx = screenCtx();
    const taken = request({ status: "submitted" });
    ctx.visit = {
      ticket: { code: "A012", status: "serving" } as Ticket,
      citizen: { national_id: "37605030299" } as Citizen,
      requests: [taken],
    };
    const visit = visitStep(ctx, { back: vi.fn(), citizen: vi.fn() });
    document.body.replaceChildren(visit.el);
    visit.draw();
    api.request.mockResolvedValueOnce(taken);
    api.finishService.mockResolvedValueOnce({ code: "A012", status: "done" } as Ticket);
    document.querySelector<HTMLButtonElement>("#end-visit")!.click();
    await vi.waitFor(() => expect(ctx.go).toHaveBeenCalledWith("feedback"));
    // Whatever screen the clerk goes to next, a new intake starts with nobody chosen.
    expect(ctx.visit).toEqual(emptyVisit());
    expect(ctx.rated).toEqual({ code: "A012", status: "done" });
  });
});
