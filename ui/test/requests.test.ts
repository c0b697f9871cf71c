import { describe, expect, it, vi } from "vitest";
import type { RequestDetail } from "../src/api";
import { t } from "../src/i18n";
import { request, screenCtx } from "./fixtures";

/** A request paid 6.00 by card, none of it given back yet, but for `over`. */
function paid(over: Partial<RequestDetail> = {}): RequestDetail {
  return request({
    fee: { minor: 600, currency: "EUR" },
    paid_minor: 600,
    payments: [
      {
        receipt: "K7XA-0002",
        request_receipt: "K7XA-0001",
        amount: { minor: 600, currency: "EUR" },
        at: "2026-03-01T09:00:00Z",
        clerk: "eleni",
        method: "card",
        outstanding_minor: 0,
        refunded_minor: 0,
      },
    ],
    ...over,
  });
}

const refund = vi.fn();
vi.mock("../src/api", () => ({
  api: {
    listRequests: vi.fn(async () => []),
    request: vi.fn(async () => paid()),
    refund,
  },
}));
const { requestsScreen } = await import("../src/screens/requests");

/** The requests screen with the paid request open. */
async function opened(): Promise<void> {
  document.body.replaceChildren(requestsScreen(screenCtx(), "K7XA-0001").el);
  await vi.waitFor(() => expect(document.querySelector("#refund-form")).not.toBeNull());
}

function submitRefund(amount: string): void {
  document.querySelector<HTMLInputElement>("#refund-amount")!.value = amount;
  document.querySelector<HTMLInputElement>("#refund-reason")!.value = "one print too many";
  document.querySelector<HTMLButtonElement>("#refund")!.focus();
  document.querySelector<HTMLFormElement>("#refund-form")!.requestSubmit();
}

describe("giving back a payment from the request's detail", () => {
  it("says what is wrong with the amount inside the refund's form, and sends nothing", async () => {
    await opened();
    submitRefund("six");
    const said = document.querySelector("#refund-form #refund-error")!;
    expect(said.textContent).toBe(t("amount.not_a_number", { typed: "six", example: "12.50" }));
    expect(document.activeElement?.id).toBe("refund-amount");
    expect(refund).not.toHaveBeenCalled();
    expect(document.querySelector("#action-error")!.textContent).toBe("");
  });

  it("shows the core's refusal inside the refund's form, where the clerk is", async () => {
    await opened();
    refund.mockRejectedValueOnce(new Error("a supervisor must approve a refund"));
    submitRefund("1");
    const said = document.querySelector("#refund-form #refund-error")!;
    await vi.waitFor(() => expect(said.textContent).toContain("a supervisor must approve a refund"));
    expect(document.querySelector("#action-error")!.textContent).toBe("");
  });

  it("keeps the focus where it was once the refund is done, or on the detail when that is gone", async () => {
    await opened();
    refund.mockResolvedValueOnce(paid({ payments: [{ ...paid().payments[0], refunded_minor: 100 }] }));
    submitRefund("1");
    await vi.waitFor(() => expect(document.querySelector("#payments")!.textContent).toContain("1.00"));
    expect(document.activeElement?.id).toBe("refund");

    refund.mockResolvedValueOnce(paid({ payments: [{ ...paid().payments[0], refunded_minor: 600 }] }));
    submitRefund("5");
    await vi.waitFor(() => expect(document.querySelector("#refund-form")).toBeNull());
    expect(document.activeElement?.id).toBe("detail-heading");
  });
});
