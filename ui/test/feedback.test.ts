import { describe, expect, it, vi } from "vitest";
import type { Ticket } from "../src/api";
import { screenCtx } from "./fixtures";

const { api } = vi.hoisted(() => ({ api: { feedback: vi.fn(async () => undefined) } }));
vi.mock("../src/api", () => ({ api }));
const { feedbackScreen } = await import("../src/screens/feedback");

describe("the feedback screen", () => {
  it("spends a rating key on the rating: the comment, focused next, does not get it", () => {
    const screen = feedbackScreen(screenCtx());
    document.body.replaceChildren(screen.el);
    screen.show();
    const star = document.querySelector<HTMLButtonElement>("#rate-5")!;
    star.focus();
    const key = new KeyboardEvent("keydown", { key: "4", bubbles: true, cancelable: true });
    star.dispatchEvent(key);
    expect(key.defaultPrevented).toBe(true);
    expect(document.querySelector("#rate-4")!.getAttribute("aria-pressed")).toBe("true");
    expect(document.activeElement).toBe(document.querySelector("#feedback-comment"));
    // Any other key is left to the page.
    const other = new KeyboardEvent("keydown", { key: "7", bubbles: true, cancelable: true });
    star.dispatchEvent(other);
    expect(other.defaultPrevented).toBe(false);
  });

  it("rates the ticket of the visit just ended, then forgets it", async () => {
    const ctx = screenCtx();
    ctx.rated = { code: "A012", status: "done" } as Ticket;
    const screen = feedbackScreen(ctx);
    document.body.replaceChildren(screen.el);
    screen.show();
    document.querySelector<HTMLButtonElement>("#rate-4")!.click();
    document.querySelector<HTMLButtonElement>("#send-feedback")!.click();
    await vi.waitFor(() => expect(ctx.go).toHaveBeenCalledWith("queue"));
    expect(api.feedback).toHaveBeenCalledWith("A012", 4, null);
    expect(ctx.rated).toBeNull();
  });
});
