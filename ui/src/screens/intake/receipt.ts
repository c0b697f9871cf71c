// Intake's last step, the request taken: its receipt number and status, its payment
// (payment.ts), the documents handed in, submitting it, printing its receipt on the counter's
// roll or on A4, and going on to another service.

import { api, type Paper, type RequestDetail } from "../../api";
import type { Ctx } from "../../app";
import { documentChecklist } from "../../documents";
import { fill, h } from "../../dom";
import { t, text, type Lang } from "../../i18n";
import { explain } from "../../messages";
import { printFrom, slipLanguage, type SlipLanguage } from "../../printing";
import { paymentStep } from "./payment";

export interface ReceiptHooks {
  /** A request of the visit changed (in `ctx.visit`). */
  changed(): void;
  /** The clerk goes on to another service; the detail's place was emptied. */
  another(): void;
  /** The name of the target group `code`, in the clerk's language. */
  targetGroup(code: string): string;
}

export interface ReceiptStep {
  /** Shows `request`, just taken or one of the visit's, in the detail's place. */
  draw(request: RequestDetail): void;
}

export function receiptStep(ctx: Ctx, place: HTMLElement, hooks: ReceiptHooks): ReceiptStep {
  let taken: RequestDetail | null = null;
  const submitError = h("p", { class: "error", role: "alert", id: "submit-error" });
  const payment = paymentStep(ctx, { taken: () => taken, refresh: refreshTaken, targetGroup: hooks.targetGroup });
  const language = slipLanguage("receipt-lang");

  /** Runs a step on the request taken (given its receipt), then shows it as the core has it
   * now; a refusal shows in `shown`. */
  async function refreshTaken(step: (receipt: string) => Promise<unknown>, label: string, shown: HTMLElement): Promise<void> {
    const receipt = taken?.receipt;
    if (!receipt) return;
    await ctx.act(label, async () => {
      try {
        await step(receipt);
        showTaken(await api.request(receipt));
      } catch (err) {
        shown.textContent = explain(err);
      }
    });
  }

  /** Shows the request taken as the core has it now, in its place and in the visit. */
  function showTaken(fresh: RequestDetail): void {
    ctx.visit = {
      ...ctx.visit,
      requests: ctx.visit.requests.map((r) => (r.receipt === fresh.receipt ? fresh : r)),
    };
    drawTaken(fresh);
    hooks.changed();
  }

  function drawTaken(request: RequestDetail): void {
    const again = taken?.receipt === request.receipt;
    taken = request;
    const paid = payment.draw(request, again);
    submitError.textContent = "";
    const printStatus = h("p", { id: "print-status", role: "status" });

    fill(
      place,
      h("h2", {}, t("intake.taken.title")),
      h("p", { class: "muted" }, text(request.service_title)),
      h("p", { class: "receipt-number", id: "receipt-number", "aria-label": t("intake.taken.receipt") }, request.receipt),
      h("p", { id: "request-status" }, t(`request.status.${request.status}`)),
      paid,
      documentChecklist("taken-documents", request, ctx.act, showTaken),
      submitError,
      takenActions(request, language, {
        submit: () => void refreshTaken((receipt) => api.advance(receipt, "submit", null), "submit", submitError),
        print: (button, paper, lang) => printFrom(ctx, button, "print_receipt", { kind: "receipt", key: request.receipt, paper, lang }, printStatus),
        another: () => {
          fill(place);
          hooks.another();
        },
      }),
    );
    place.append(printStatus);
    (place.querySelector("#submit-request, #pay-amount, #print-receipt") as HTMLElement | null)?.focus();
  }

  return { draw: drawTaken };
}

interface TakenActions {
  submit(): void;
  print(button: HTMLButtonElement, paper: Paper, lang: Lang): void;
  another(): void;
}

/** What the clerk does next with the request taken: submit it, print its receipt, or go on to
 * another service. */
function takenActions(request: RequestDetail, language: SlipLanguage, on: TakenActions): HTMLElement {
  return h(
    "div",
    { class: "actions" },
    request.next_actions.includes("submit")
      ? h("button", { type: "button", id: "submit-request", class: "primary", onclick: () => on.submit() }, t("intake.submit"))
      : null,
    // A draft was never handed in: it has no receipt to print.
    ...printButtons(request, language, on.print),
    h("button", { type: "button", id: "another-service", onclick: () => on.another() }, t("intake.another")),
  );
}

/** The buttons that print `request`'s receipt on the counter's roll and on A4, in the language
 * chosen beside them (`language`, made once by the screen, so that a redraw keeps the choice);
 * none for a draft, which was never handed in and has no receipt. */
export function printButtons(
  request: RequestDetail,
  language: SlipLanguage,
  print: (button: HTMLButtonElement, paper: Paper, lang: Lang) => void,
): HTMLElement[] {
  if (request.status === "draft") return [];
  const button = (id: string, paper: Paper, label: string) =>
    h("button", { type: "button", id, onclick: (e: Event) => print(e.currentTarget as HTMLButtonElement, paper, language.value()) }, label);
  return [language.el, button("print-receipt", "roll80", t("intake.print")), button("print-receipt-a4", "a4", t("intake.print_a4"))];
}
