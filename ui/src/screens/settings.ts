// The workstation's local rules, for an administrator: the idle lock's minutes and how long an
// enrolled device keeps taking logins without reaching its back office.

import { api } from "../api";
import type { Ctx } from "../app";
import { field, h } from "../dom";
import { t } from "../i18n";
import { explain } from "../messages";

/** A whole number typed in a rule's field, or null when it is not one. */
export function wholeNumber(typed: string): number | null {
  const s = typed.trim();
  return /^\d{1,4}$/.test(s) ? Number(s) : null;
}

export function settingsCard(ctx: Ctx): HTMLElement | null {
  const config = ctx.state.config;
  if (!config || ctx.state.session?.role !== "administrator") return null;
  const idle = h("input", { id: "settings-idle", inputmode: "numeric", value: String(ctx.state.idle_lock_minutes), autocomplete: "off" });
  const offline = h("input", { id: "settings-offline", inputmode: "numeric", value: String(config.max_offline_days), autocomplete: "off" });
  // At most what the printing system takes; the core checks the rest.
  const printer = (id: string, name: string | undefined) => h("input", { id, value: name ?? "", autocomplete: "off", spellcheck: "false", maxlength: 127 });
  const counterPrinter = printer("settings-counter-printer", ctx.state.printers?.counter);
  const kioskPrinter = printer("settings-kiosk-printer", ctx.state.printers?.kiosk);
  const result = h("p", { id: "settings-result", "aria-live": "polite" });
  const form = h(
    "form",
    {
      class: "card",
      id: "settings-form",
      "aria-labelledby": "settings-title",
      onsubmit: (e: Event) => {
        e.preventDefault();
        const minutes = wholeNumber(idle.value);
        const days = wholeNumber(offline.value);
        for (const [input, value] of [
          [idle, minutes],
          [offline, days],
        ] as const) {
          input.toggleAttribute("aria-invalid", value === null);
        }
        if (minutes === null || days === null) {
          result.className = "error";
          result.textContent = t("settings.whole_number");
          (minutes === null ? idle : offline).focus();
          return;
        }
        void ctx.act("settings", async () => {
          try {
            // A printer goes with the rules only when it was changed here: one the card could
            // not read (the workstation was closed when the window learnt its state) is kept.
            const known = ctx.state.printers;
            const changed = (input: HTMLInputElement, was: string | undefined) =>
              known && input.value.trim() !== was ? input.value : undefined;
            const saved = await api.setRules({
              idle_lock_minutes: minutes,
              max_offline_days: days,
              counter_printer: changed(counterPrinter, known?.counter),
              kiosk_printer: changed(kioskPrinter, known?.kiosk),
            });
            await ctx.refresh();
            result.className = "";
            result.textContent = t("settings.saved", { minutes: saved.idle_lock_minutes, days: saved.max_offline_days });
          } catch (err) {
            result.className = "error";
            result.textContent = explain(err);
          }
        });
      },
    },
    h("h2", { id: "settings-title" }, t("settings.title")),
    h(
      "div",
      { class: "toolbar" },
      field(t("settings.idle"), idle, h("p", { class: "hint" }, t("settings.idle_hint"))),
      field(t("settings.offline"), offline, h("p", { class: "hint" }, t("settings.offline_hint"))),
    ),
    ctx.state.printers
      ? h(
          "div",
          { class: "toolbar" },
          field(t("settings.counter_printer"), counterPrinter),
          field(t("settings.kiosk_printer"), kioskPrinter, h("p", { class: "hint" }, t("settings.printer_hint"))),
        )
      : null,
    h("button", { type: "submit", id: "settings-save" }, t("settings.save")),
    result,
  );
  return form;
}
