import { describe, expect, it, vi } from "vitest";
import { screenCtx } from "./fixtures";

vi.mock("../src/api", () => ({ api: { feedback: vi.fn() } }));
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
});
