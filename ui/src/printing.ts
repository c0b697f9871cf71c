// Printing a slip from a button: one slip per press, however often the button is pressed while
// the printer answers; what became of it said beside the button, which stays to print again.

import { api, type SlipRequest } from "./api";
import type { Ctx } from "./app";
import { isBusy, whileBusy } from "./dom";
import { t } from "./i18n";
import { explain } from "./messages";

/** Prints `slip` for `button`'s press, saying in `status` that it prints, then that it was
 * sent or why it was not. */
export function printFrom(ctx: Ctx, button: HTMLButtonElement, label: string, slip: SlipRequest, status: HTMLElement): void {
  if (isBusy(button)) return;
  void whileBusy(button, () =>
    ctx.act(label, async () => {
      status.className = "notice";
      status.textContent = t("print.printing");
      try {
        await api.printSlip(slip);
        status.textContent = t("print.sent");
      } catch (err) {
        status.className = "error";
        status.textContent = explain(err);
      }
    }),
  );
}
