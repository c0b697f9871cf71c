// The supervisor's dashboard: today's figures, refreshed as the day goes, and the report's
// export (CSV, XLSX, PDF) for a day or a range, with its progress.

import { api, onExportProgress, type Dashboard } from "../api";
import { working, type Ctx } from "../app";
import { barChart, columnChart } from "../charts";
import { field, fill, h, isBusy, whileBusy } from "../dom";
import { dayForInput, formatDate, formatDuration, formatMoney, formatNumber, formatTime, lang, readAmount, t } from "../i18n";
import { explain } from "../messages";
import { settingsCard } from "./settings";

/** How often the figures refresh while the screen is shown. */
const REFRESH_MS = 5000;

export interface DashboardScreen {
  el: HTMLElement;
  stop(): void;
}

export function dashboardScreen(ctx: Ctx): DashboardScreen {
  // Not a live region: the figures refresh every few seconds, and a screen reader would read
  // them all again each time. The supervisor reads them when they choose to.
  const figures = h("div", { id: "dashboard-figures", class: "dashboard-grid" });
  const error = h("p", { class: "error", role: "alert" });
  /** What was drawn last: figures that did not change are not drawn again. */
  let drawnFrom = "";

  async function load(): Promise<void> {
    let message = "";
    try {
      const d = await api.dashboard(lang());
      const from = JSON.stringify(d);
      if (from !== drawnFrom) {
        drawnFrom = from;
        draw(d);
      }
      if (d.day !== shownDay) turnOfDay(d.day);
    } catch (err) {
      message = explain(err);
    }
    // The same refusal is not said again at every refresh.
    if (error.textContent !== message) error.textContent = message;
  }

  function tile(id: string, label: string, value: string, note?: string): HTMLElement {
    return h("div", { class: "tile card", id }, h("p", { class: "tile-label" }, label), h("p", { class: "tile-value" }, value), note ? h("p", { class: "muted" }, note) : null);
  }

  function draw(d: Dashboard): void {
    const target = d.waiting_target_min * 60;
    const hours = d.waiting_by_hour.filter((hline) => hline.issued > 0 || hline.waiting.count > 0);
    fill(
      figures,
      h(
        "div",
        { class: "tiles" },
        tile("dash-waiting", t("dashboard.waiting_now"), formatNumber(d.waiting_now), d.longest_wait_now_s !== null ? t("dashboard.longest", { time: formatDuration(d.longest_wait_now_s * 1000) }) : undefined),
        tile(
          "dash-collected",
          t("dashboard.collected"),
          formatMoney(d.net_collected_minor, d.currency),
          d.refunded_minor > 0
            ? t("dashboard.refunded", { collected: formatMoney(d.collected_minor, d.currency), refunded: formatMoney(d.refunded_minor, d.currency) })
            : undefined,
        ),
        tile("dash-overdue", t("dashboard.overdue"), formatNumber(d.overdue_count)),
        tile(
          "dash-feedback",
          t("dashboard.feedback"),
          d.feedback.average !== null ? `${formatNumber(d.feedback.average, lang(), 1)} / 5` : "–",
          t("dashboard.ratings", { count: d.feedback.count }),
        ),
      ),
      h(
        "div",
        { class: "card chart-card" },
        h("h2", {}, t("dashboard.wait_by_hour")),
        hours.length
          ? columnChart(
              t("dashboard.wait_by_hour"),
              hours.map((hline) => ({
                label: `${hline.hour}h`,
                value: (hline.waiting.median_s ?? 0) / 60,
                shown: formatDuration((hline.waiting.median_s ?? 0) * 1000),
                alert: (hline.waiting.median_s ?? 0) > target,
              })),
              { value: d.waiting_target_min, label: t("dashboard.target", { min: d.waiting_target_min }) },
            )
          : h("p", { class: "muted" }, t("dashboard.no_tickets")),
        h("p", { class: "muted" }, t("dashboard.wait_note")),
      ),
      h(
        "div",
        { class: "card chart-card" },
        h("h2", {}, t("dashboard.by_status")),
        d.requests_by_status.length
          ? barChart(
              t("dashboard.by_status"),
              d.requests_by_status.map((s) => ({ label: t(`request.status.${s.status}`), value: s.count, shown: formatNumber(s.count) })),
            )
          : h("p", { class: "muted" }, t("dashboard.no_requests")),
      ),
      h(
        "div",
        { class: "card" },
        h("h2", {}, t("dashboard.money")),
        d.collected_by_method.length
          ? h(
              "table",
              { class: "list" },
              h("tbody", {}, d.collected_by_method.map((m) => h("tr", {}, h("th", { scope: "row" }, t(`payment.${m.method}`)), h("td", { class: "num" }, formatNumber(m.payments)), h("td", { class: "num" }, formatMoney(m.amount_minor, d.currency))))),
            )
          : h("p", { class: "muted" }, t("dashboard.no_payments")),
        h("h2", {}, t("dashboard.feedback_dist")),
        barChart(
          t("dashboard.feedback_dist"),
          d.feedback.distribution.map((n, i) => ({ label: "★".repeat(i + 1), spoken: t("dashboard.stars", { count: i + 1 }), value: n, shown: formatNumber(n) })),
        ),
      ),
      h(
        "div",
        { class: "card" },
        h("h2", {}, t("dashboard.overdue_list")),
        d.overdue.length
          ? h(
              "table",
              { class: "list", id: "dash-overdue-list" },
              h("tbody", {}, d.overdue.map((o) => h("tr", {}, h("td", { class: "code" }, o.receipt), h("td", {}, o.service_name), h("td", {}, formatDate(o.due_date)), h("td", { class: "num overdue" }, t("requests.days_overdue", { count: o.days_overdue }))))),
            )
          : h("p", { class: "muted" }, t("dashboard.none_overdue")),
        h("h2", {}, t("dashboard.sync")),
        h("p", { id: "dash-sync", class: d.sync.clean ? "" : "error" }, d.sync.statement),
      ),
      h("p", { class: "muted" }, t("dashboard.as_of", { time: formatTime(d.made_at) })),
    );
  }

  // Export ---------------------------------------------------------------------------------
  const today = ctx.state.today;
  /** The centre's day the title and the export's days show: the figures' own once midnight
   * has passed with the screen open. */
  let shownDay = today;
  function turnOfDay(day: string): void {
    title.textContent = t("dashboard.title", { day: formatDate(day) });
    // A day the supervisor typed stays; the default follows the day.
    for (const field of [from, to]) if (field.value === dayForInput(shownDay)) field.value = dayForInput(day);
    shownDay = day;
  }
  // Days are typed as every date field of the window takes them (DD/MM/YYYY), not in a date
  // picker that writes them as the system's locale does, whatever the clerk's language.
  const dayField = (id: string) => h("input", { id, value: dayForInput(today), placeholder: t("date.hint"), autocomplete: "off" });
  const from = dayField("export-from");
  const to = dayField("export-to");
  const format = h("select", { id: "export-format" }, ...["pdf", "xlsx", "csv"].map((f) => h("option", { value: f }, t(`dashboard.format.${f}`))));
  const cash = h("input", { id: "export-cash", inputmode: "decimal", autocomplete: "off" });
  const progress = h("progress", { id: "export-progress", max: 1, value: 0, hidden: true, "aria-label": t("dashboard.export_progress") });
  const result = h("p", { id: "export-result", "aria-live": "polite" });
  const exportButton = h("button", { type: "submit", id: "export", class: "primary" }, t("dashboard.export_button"));
  const exportForm = h(
    "form",
    {
      class: "card",
      id: "export-form",
      onsubmit: (e: Event) => {
        e.preventDefault();
        // One export at a time: a second press while one runs starts nothing.
        if (isBusy(exportButton)) return;
        void whileBusy(exportButton, () => ctx.act("export", async () => {
          const counted = cash.value.trim() && ctx.state.config ? readAmount(cash.value, ctx.state.config.currency) : null;
          if (counted && !counted.ok) {
            result.textContent = counted.problem;
            result.className = "error";
            cash.focus();
            return;
          }
          progress.hidden = false;
          progress.value = 0;
          result.className = "";
          result.textContent = t("dashboard.exporting");
          let unlisten: (() => void) | null = null;
          try {
            unlisten = await onExportProgress((p) => (progress.value = p.step / p.of));
            const done = await api.exportReport({ from: from.value, to: to.value || from.value, format: format.value, lang: lang(), cash_counted: counted ? counted.amount : null });
            progress.value = 1;
            result.textContent = `${t("dashboard.exported", { path: done.path })} ${done.sync}`;
            result.className = done.clean ? "" : "error";
          } catch (err) {
            result.textContent = explain(err);
            result.className = "error";
            progress.hidden = true;
          } finally {
            unlisten?.();
          }
        }));
      },
    },
    h("h2", {}, t("dashboard.export")),
    h("div", { class: "toolbar" }, field(t("dashboard.from"), from), field(t("dashboard.to"), to), field(t("dashboard.format"), format), field(t("dashboard.cash"), cash)),
    exportButton,
    progress,
    result,
  );

  const title = h("h1", { id: "dashboard-title" }, t("dashboard.title", { day: formatDate(today) }));
  void load();
  const timer = setInterval(() => {
    if (working(ctx.state)) void load();
  }, REFRESH_MS);
  const el = h(
    "section",
    { class: "screen dashboard", "aria-labelledby": "dashboard-title" },
    title,
    error,
    figures,
    exportForm,
    settingsCard(ctx),
  );
  return { el, stop: () => clearInterval(timer) };
}
