// Intake's payment, for the request just taken: the amount due paid at the counter, or waived
// with a supervisor's approval; then what was paid, waived or free, and the payments made.

import { api, type PaymentMethod, type RequestDetail } from "../../api";
import type { Ctx } from "../../app";
import { approvalBox } from "../../approval";
import { field, fill, h, isBusy, whileBusy } from "../../dom";
import { amountForInput, formatMoney, readAmount, t } from "../../i18n";
import { paymentLine } from "../../payments";

export interface PaymentHooks {
  /** The request taken, whose payment this is. */
  taken(): RequestDetail | null;
  /** Runs a step on the request taken (given its receipt), then shows it as the core has it
   * now; a refusal shows in `shown`. */
  refresh(step: (receipt: string) => Promise<unknown>, label: string, shown: HTMLElement): Promise<void>;
  /** The name of the target group `code`, in the clerk's language. */
  targetGroup(code: string): string;
}

export interface PaymentStep {
  /** The payment's part of `request`'s view, in order; `again` when it is the request shown
   * before, redrawn. */
  draw(request: RequestDetail, again: boolean): (HTMLElement | null)[];
  /** Only what takes the money still owed on `request`, nothing once it is settled: for a view
   * that shows the fee and the payments itself. */
  owed(request: RequestDetail, again: boolean): (HTMLElement | null)[];
}

export function paymentStep(ctx: Ctx, hooks: PaymentHooks): PaymentStep {
  // The payment and the waiver: made once, like the citizen forms, and filled for the request
  // just taken.
  /** The confirmation of the payment just recorded, shown until the next request is drawn. */
  let recorded = "";
  const payError = h("p", { class: "error", role: "alert", id: "payment-error" });
  const payAmount = h("input", { id: "pay-amount", inputmode: "decimal", autocomplete: "off" });
  // Typing again clears the refusal of the amount typed before.
  payAmount.addEventListener("input", () => {
    payAmount.removeAttribute("aria-invalid");
    payError.textContent = "";
  });
  const payMethod = h(
    "select",
    { id: "pay-method" },
    ...(["cash", "card", "mobile_money"] as PaymentMethod[]).map((m) => h("option", { value: m }, t(`payment.${m}`))),
  );
  const waive = waiveForm(hooks, payError);
  const feeDue = h("p", { id: "fee-due" });
  const payButton = h("button", { type: "submit", id: "pay" }, t("intake.pay.submit"));
  /** What was owed when the form was last filled: the form is filled anew only when it
   * changes (a payment, a waiver, another request), not when a tick draws the request again. */
  let owedFilled: number | null = null;

  function pay(): void {
    const fee = hooks.taken()?.fee;
    // A second Enter or click while the payment is recorded records no second one: a part
    // payment pressed twice would be taken twice.
    if (!fee || isBusy(payButton)) return;
    // An amount that cannot be read for sure is refused here, before anything is written.
    const amount = readAmount(payAmount.value, fee.currency);
    if (!amount.ok) {
      payError.textContent = amount.problem;
      payAmount.setAttribute("aria-invalid", "true");
      payAmount.focus();
      return;
    }
    void whileBusy(payButton, () =>
      hooks.refresh(async (receipt) => {
        const payment = await api.pay(receipt, amount.amount, payMethod.value as PaymentMethod);
        recorded = t("intake.pay.recorded", {
          amount: formatMoney(payment.amount.minor, payment.amount.currency),
          receipt: payment.receipt,
        });
        ctx.announce(recorded);
      }, "pay", payError),
    );
  }

  const paymentForms = h(
    "div",
    { class: "payment" },
    feeDue,
    h(
      "form",
      {
        id: "pay-form",
        onsubmit: (e: Event) => {
          e.preventDefault();
          pay();
        },
      },
      field(t("intake.pay.amount"), payAmount),
      field(t("intake.pay.method"), payMethod),
      payButton,
    ),
    waive.el,
  );

  /** Fills the forms for `request`, anew only when what it owes changed; whether nothing is
   * left to pay. */
  function prepare(request: RequestDetail, again: boolean): boolean {
    if (!again) recorded = "";
    const owed = request.fee ? Math.max(0, request.fee.minor - request.paid_minor) : 0;
    const settled = !request.fee || owed === 0 || request.waiver_ground !== null;
    // Drawn again with nothing owed changed (a document ticked, a submission): the amount,
    // the method, the ground and a refusal the clerk has not acted on stay as they are.
    const anew = !again || owed !== owedFilled;
    owedFilled = owed;
    if (anew) {
      payError.textContent = "";
      payAmount.removeAttribute("aria-invalid");
    }
    if (!settled && anew) {
      feeDue.textContent = t("intake.due_now", { amount: formatMoney(owed, request.fee!.currency) });
      payAmount.value = amountForInput(owed, request.fee!.currency);
      payMethod.value = "cash";
      waive.fill(request);
    }
    return settled;
  }

  const recordedLine = () => (recorded ? h("p", { id: "payment-recorded", class: "confirmed", role: "status" }, recorded) : null);

  return {
    draw(request, again) {
      const settled = prepare(request, again);
      return [recordedLine(), settled ? settledText(request, hooks.targetGroup) : paymentForms, payError, paymentsList(request)];
    },
    owed(request, again) {
      const settled = prepare(request, again);
      return [recordedLine(), settled ? null : paymentForms, payError];
    },
  };
}

/** The form that waives the fee on one of the groups the service exempts, its refusal shown in
 * `error`; not shown for a service that exempts nobody, and in its place what to do first once
 * part of the fee is paid (a waiver covers the whole fee). */
function waiveForm(hooks: PaymentHooks, error: HTMLElement): { el: HTMLElement; fill(request: RequestDetail): void } {
  const waiveGround = h("select", { id: "waive-ground" });
  waiveGround.addEventListener("change", () => {
    waiveGround.removeAttribute("aria-invalid");
    error.textContent = "";
  });
  // A waiver needs a supervisor's approval, typed here by the supervisor.
  const waiveApproval = approvalBox("waive-approval");
  const waiveButton = h("button", { type: "submit", id: "waive" }, t("intake.waive.submit"));
  const form = h(
    "form",
    {
      id: "waive-form",
      onsubmit: (e: Event) => {
        e.preventDefault();
        // The approver's password takes a moment to check: a second press waives nothing more.
        if (isBusy(waiveButton)) return;
        if (!waiveGround.value) {
          error.textContent = t("intake.waive.choose");
          waiveGround.setAttribute("aria-invalid", "true");
          waiveGround.focus();
          return;
        }
        const approval = waiveApproval.take();
        void whileBusy(waiveButton, () => hooks.refresh((receipt) => api.waive(receipt, waiveGround.value, approval), "waive", error));
      },
    },
    field(t("intake.waive.ground"), waiveGround),
    waiveApproval.el,
    waiveButton,
  );
  const refundFirst = h("p", { id: "waive-refund-first", class: "muted" });
  return {
    el: h("div", { class: "waiver" }, form, refundFirst),
    fill(request) {
      const groups = request.fee_exemptions;
      fill(
        waiveGround,
        h("option", { value: "" }, t("intake.waive.none")),
        ...groups.map((code) => h("option", { value: code }, hooks.targetGroup(code))),
      );
      waiveGround.value = "";
      waiveGround.removeAttribute("aria-invalid");
      const partlyPaid = request.paid_minor > 0;
      form.hidden = groups.length === 0 || partlyPaid;
      refundFirst.hidden = groups.length === 0 || !partlyPaid;
      refundFirst.textContent = partlyPaid ? t("intake.waive.refund_first") : "";
    },
  };
}

/** Why nothing is left to pay: free, waived (on the group named in the clerk's language), or
 * paid. */
function settledText(request: RequestDetail, targetGroup: (code: string) => string): HTMLElement {
  return h(
    "p",
    { id: "fee-settled" },
    !request.fee
      ? t("fee.free")
      : request.waiver_ground
        ? t("intake.waived", { ground: targetGroup(request.waiver_ground) })
        : t("intake.paid", { amount: formatMoney(request.paid_minor, request.fee.currency) }),
  );
}

/** The payments made for `request`, or null when there is none. */
function paymentsList(request: RequestDetail): HTMLElement | null {
  return request.payments.length
    ? h(
        "ul",
        { class: "payments", id: "taken-payments", "aria-label": t("requests.detail.payments") },
        request.payments.map((p) => h("li", {}, ...paymentLine(p))),
      )
    : null;
}
