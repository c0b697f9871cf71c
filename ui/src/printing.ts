// Printing a slip from a button: one slip per press, however often the button is pressed while
// the printer answers; what became of it said beside the button, which stays to print again.

import { api, type SlipRequest } from "./api";
import type { Ctx } from "./app";
import { field, h, isBusy, whileBusy } from "./dom";
import { LANGS, isLang, lang, t, type Lang } from "./i18n";
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

/** The language a slip is printed in, chosen beside its buttons: the window's by default, the
 * citizen's when the clerk picks it, without switching the window and losing the work on it. */
export interface SlipLanguage {
  el: HTMLElement;
  value(): Lang;
}

/** One option for each language the window speaks, the current one chosen. */
export function languageOptions(): HTMLOptionElement[] {
  return LANGS.map((l) => h("option", { value: l, selected: l === lang() }, t(`language.${l}`)));
}

export function slipLanguage(id: string): SlipLanguage {
  const select = h("select", { id }, ...languageOptions());
  const el = field(t("print.language"), select);
  el.classList.add("inline");
  return {
    el,
    value: () => (isLang(select.value) ? select.value : lang()),
  };
}
