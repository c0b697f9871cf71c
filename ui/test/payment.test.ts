import { describe, expect, it, vi } from "vitest";
import type { RequestDetail } from "../src/api";
import { t } from "../src/i18n";
import { screenCtx } from "./fixtures";

const waive = vi.fn(async () => undefined);
vi.mock("../src/api", () => ({ api: { waive, pay: vi.fn() } }));
const { paymentStep } = await import("../src/screens/intake/payment");

const GROUPS: Record<string, string> = { "older-people": "Older people", "people-with-disability": "People with disability" };

/** A request just taken whose fee of 25.00 is unpaid, exempting `groups`. */
function unpaid(groups: string[]): RequestDetail {
  return {
    receipt: "K7XA-0001",
    fee: { minor: 2500, currency: "EUR" },
    paid_minor: 0,
    waiver_ground: null,
    fee_exemptions: groups,
    payments: [],
  } as unknown as RequestDetail;
}

function step(request: RequestDetail) {
  const ctx = screenCtx();
  const refresh = vi.fn(async (run: (receipt: string) => Promise<unknown>) => {
    await run(request.receipt);
  });
  const payment = paymentStep(ctx, { taken: () => request, refresh, targetGroup: (code) => GROUPS[code] ?? code });
  document.body.replaceChildren(...payment.draw(request, false).filter((e): e is HTMLElement => e !== null));
  return { refresh };
}

describe("waiving a fee at intake", () => {
  it("offers the groups the service exempts, by name, and asks for one before anything is sent", async () => {
    const { refresh } = step(unpaid(["older-people", "people-with-disability"]));
    const ground = document.querySelector<HTMLSelectElement>("#waive-ground")!;
    expect([...ground.options].map((o) => [o.value, o.textContent])).toEqual([
      ["", t("intake.waive.none")],
      ["older-people", "Older people"],
      ["people-with-disability", "People with disability"],
    ]);
    const form = document.querySelector<HTMLFormElement>("#waive-form")!;
    expect(form.hidden).toBe(false);
    form.requestSubmit();
    expect(document.querySelector("#payment-error")!.textContent).toBe(t("intake.waive.choose"));
    expect(ground.getAttribute("aria-invalid")).toBe("true");
    expect(refresh).not.toHaveBeenCalled();

    ground.value = "older-people";
    ground.dispatchEvent(new Event("change"));
    expect(document.querySelector("#payment-error")!.textContent).toBe("");
    (document.querySelector("#waive-approval-approver") as HTMLInputElement).value = "eleni";
    form.requestSubmit();
    await vi.waitFor(() => expect(waive).toHaveBeenCalled());
    expect(waive).toHaveBeenCalledWith("K7XA-0001", "older-people", { username: "eleni", password: "" });
  });

  it("offers no waiver for a service that exempts nobody", () => {
    step(unpaid([]));
    expect(document.querySelector<HTMLFormElement>("#waive-form")!.hidden).toBe(true);
  });
});
