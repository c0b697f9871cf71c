// Requests: a filtered list and the detail of one: timeline, payments and refunds, the sync
// state of each change, and what the centre can do next (deliver, cancel, resubmit, resolve a
// conflict, give back a payment). The acts that need four eyes show the supervisor's box.

import { api, type Action, type Browse, type ChangeState, type RequestDetail, type RequestFilter, type RequestStatus, type RequestSummary } from "../api";
import { SYNCED, TYPING_PAUSE_MS, latestOnly, supervises, working, type Ctx } from "../app";
import { approvalBox } from "../approval";
import { documentChecklist } from "../documents";
import { field, fill, h } from "../dom";
import { formatDate, formatDateTime, formatMoney, has, readAmount, t, text } from "../i18n";
import { explain } from "../messages";
import { paymentLine } from "../payments";
import { printFrom, slipLanguage } from "../printing";
import { paymentStep } from "./intake/payment";
import { printButtons } from "./intake/receipt";
import { catalogueIndex } from "./queue";

const STATUSES: RequestStatus[] = [
  "draft",
  "submitted",
  "dispatched",
  "in_processing",
  "returned_for_correction",
  "ready",
  "delivered",
  "rejected",
  "cancelled",
];

/** The centre's moves forward, each one click; cancelling goes through its confirmation. */
const FORWARD: Action[] = ["submit", "resubmit", "deliver", "dispatch"];

/** The statuses after which no payment is taken. */
const CLOSED: RequestStatus[] = ["delivered", "rejected", "cancelled"];

/** What `r` still owes, in minor units: nothing when free, waived or paid. */
function owing(r: RequestDetail): number {
  return r.fee && !r.waiver_ground ? Math.max(0, r.fee.minor - r.paid_minor) : 0;
}

/** What becomes of the money when the request is cancelled, in the clerk's words: a payment
 * stays recorded until a refund gives it back. */
export function cancellationMoney(r: RequestDetail): string {
  if (r.fee && r.paid_minor > 0) return t("cancel.money.paid", { amount: formatMoney(r.paid_minor, r.fee.currency) });
  return t("cancel.money.none");
}

/** Why the back office refused or overruled a change, in the clerk's language; a refusal keeps
 * the back office's own sentence beside it, in English, for support. */
function changeWhy(c: ChangeState): (string | HTMLElement)[] {
  const status = c.server_status ? t(`request.status.${c.server_status}`) : "";
  const why =
    c.state === "conflict" && c.overtaken_by && c.server_status
      ? t("change.why.overtaken", { by: c.overtaken_by, status })
      : c.state === "conflict" && c.server_status
        ? t("change.why.conflict", { status })
        : c.state === "refused" && c.refusal_code
          ? t(`change.why.${c.refusal_code}`)
          : null;
  if (!why) return c.reason ? [` · ${c.reason}`] : [];
  if (c.state !== "refused" || !c.reason) return [` · ${why}`];
  // The back office's own words are English, whatever the window's language.
  const [before, after] = t("change.said", { message: "\u0000" }).split("\u0000");
  return [` · ${why} `, h("span", { class: "muted" }, before, h("span", { lang: "en" }, c.reason), after)];
}

export interface RequestsScreen {
  el: HTMLElement;
  focusSearch(): void;
  /** The receipt of the request the detail shows, if any. */
  shown(): string | null;
  /** Stops listening for syncs: the screen is left, and made anew when the clerk comes back. */
  stop(): void;
}

export function requestsScreen(ctx: Ctx, open?: string): RequestsScreen {
  const status = h(
    "select",
    { id: "filter-status" },
    h("option", { value: "" }, t("requests.filter.any_status")),
    ...STATUSES.map((s) => h("option", { value: s }, t(`request.status.${s}`))),
  );
  const find = h("input", { id: "filter-text", type: "search", autocomplete: "off", maxlength: 200, placeholder: t("requests.filter.find_hint") });
  const overdue = h("input", { id: "filter-overdue", type: "checkbox" });
  const rows = h("tbody", { id: "request-rows" });
  // Not a live region: a sync draws the detail again every half minute, and a screen reader
  // would read the whole request out each time. Opening one moves the focus to its heading; a
  // sync that moves it on says so.
  const detail = h("div", { class: "card", id: "request-detail" });
  const error = h("p", { class: "error", role: "alert" });

  // Only the latest list is drawn: a filter may change while the list before it is read.
  const askList = latestOnly();

  async function load(): Promise<void> {
    const latest = askList();
    const filter: RequestFilter = {
      status: (status.value || null) as RequestStatus | null,
      service: null,
      citizen: null,
      text: find.value.trim() || null,
      overdue: overdue.checked,
      limit: 200,
    };
    try {
      const list = await api.listRequests(filter);
      if (!latest()) return;
      error.textContent = "";
      drawList(list);
    } catch (err) {
      if (latest()) error.textContent = explain(err);
    }
  }

  function drawList(list: RequestSummary[]): void {
    fill(
      rows,
      list.length === 0
        ? h("tr", {}, h("td", { colspan: 6, class: "muted" }, t("requests.none")))
        : list.map((r) =>
            h(
              "tr",
              {},
              h(
                "td",
                { class: "receipt" },
                h("button", { type: "button", class: "link code", "data-receipt": r.receipt, onclick: () => void show(r.receipt) }, r.receipt),
              ),
              h("td", {}, text(r.service_title)),
              h("td", {}, r.citizen_name),
              h("td", {}, t(`request.status.${r.status}`)),
              h("td", {}, formatDate(r.due_date)),
              h("td", { class: r.days_overdue > 0 ? "num overdue" : "num" }, r.days_overdue > 0 ? t("requests.days_overdue", { count: r.days_overdue }) : ""),
            ),
          ),
    );
  }

  let shown: string | null = null;
  /** The request the detail shows, as last drawn. */
  let current: RequestDetail | null = null;
  let browse: Browse | null = null;
  void catalogueIndex().then(
    (b) => {
      browse = b;
    },
    () => undefined,
  );
  const targetGroup = (code: string): string => text(browse?.target_groups.find((g) => g.code === code)?.name) || code;
  // Money still owed once the visit is over (the citizen comes back to pay, or a supervisor
  // comes to approve a waiver) is taken here, as at intake.
  const payment = paymentStep(ctx, {
    taken: () => current,
    refresh: async (run, label, said) => {
      const receipt = current?.receipt;
      if (!receipt) return;
      await ctx.act(label, async () => {
        try {
          await run(receipt);
          redraw(await api.request(receipt), {});
          await load();
        } catch (err) {
          said.textContent = explain(err);
        }
      });
    },
    targetGroup,
  });
  const printStatus = h("p", { id: "print-status", role: "status" });
  const slipLang = slipLanguage("receipt-lang");

  async function show(receipt: string): Promise<void> {
    await ctx.act("open_request", async () => {
      try {
        shown = receipt;
        drawDetail(await api.request(receipt));
        detail.querySelector<HTMLElement>("#detail-heading")?.focus();
      } catch (err) {
        error.textContent = explain(err);
      }
    });
  }

  /**
   * Draws the detail again with `r`, the request as the store has it now. A control of the
   * detail that had the focus gets it back, or the detail's heading does when that control is
   * gone (the form of a refund paid in full). With `typed`, what the clerk was typing in the
   * detail's forms stays, and so does an open cancellation: ticking a document or a sync that
   * brought news must not wipe a refund half typed. With `refusals`, what the detail last
   * refused stays said too. The checklist always shows the store's ticks.
   */
  function redraw(r: RequestDetail, keep: { typed?: boolean; refusals?: boolean }): void {
    const had = document.activeElement instanceof HTMLElement && detail.contains(document.activeElement) ? document.activeElement : null;
    const caret = had instanceof HTMLInputElement && had.type !== "checkbox" ? [had.selectionStart, had.selectionEnd] : null;
    const same = detail.querySelector("#detail-receipt")?.textContent === r.receipt;
    const kept = same ? keptState(keep) : [];
    drawDetail(r);
    for (const restore of kept) restore();
    if (!had) return;
    const again = inDetail(had.id);
    (again ?? detail.querySelector<HTMLElement>("#detail-heading"))?.focus();
    if (again instanceof HTMLInputElement && caret && caret[0] !== null) again.setSelectionRange(caret[0], caret[1]);
  }

  /** The element of the detail on screen whose id is `id`, if there is one. */
  function inDetail(id: string): HTMLElement | null {
    const found = id ? document.getElementById(id) : null;
    return found && detail.contains(found) ? found : null;
  }

  /** What of the detail on screen `redraw` puts back after drawing it again, as the acts that
   * put each piece back on the new detail, found by id. */
  function keptState(keep: { typed?: boolean; refusals?: boolean }): (() => void)[] {
    const outside = (e: Element): boolean => e.id !== "" && e.closest(".checklist") === null;
    const again = (e: Element): HTMLElement | null => inDetail(e.id);
    const kept: (() => void)[] = [];
    if (keep.typed) {
      for (const e of detail.querySelectorAll<HTMLInputElement | HTMLSelectElement>("input:not([type=checkbox]), select")) {
        if (!outside(e) || e.value === "") continue;
        const { value } = e;
        kept.push(() => {
          const to = again(e);
          if (to instanceof HTMLSelectElement && [...to.options].some((o) => o.value === value)) to.value = value;
          if (to instanceof HTMLInputElement) to.value = value;
        });
      }
      for (const e of detail.querySelectorAll<HTMLElement>("form, [aria-expanded]")) {
        if (!outside(e)) continue;
        const hidden = e.hidden;
        const expanded = e.getAttribute("aria-expanded");
        kept.push(() => {
          const to = again(e);
          if (!to) return;
          to.hidden = hidden;
          if (expanded !== null) to.setAttribute("aria-expanded", expanded);
        });
      }
    }
    if (keep.refusals) {
      for (const e of detail.querySelectorAll<HTMLElement>("[role=alert]")) {
        if (!outside(e) || !e.textContent) continue;
        const said = e.textContent;
        kept.push(() => {
          const to = again(e);
          if (to) to.textContent = said;
        });
      }
    }
    return kept;
  }

  function drawDetail(r: RequestDetail): void {
    const again = current?.receipt === r.receipt;
    current = r;
    if (!again) printStatus.textContent = "";
    const owed = owing(r);
    const note = h("input", { id: "conflict-note", autocomplete: "off", maxlength: 1000 });
    const actionError = h("p", { class: "error", role: "alert", id: "action-error" });
    // At most what the core takes (1,000 characters for a reason, 500 for a refund's).
    const cancelReason = h("input", { id: "cancel-reason", autocomplete: "off", maxlength: 1000 });
    const cancelError = h("p", { class: "error", role: "alert", id: "cancel-error" });
    const cancelApproval = approvalBox("cancel-approval");
    const refundable = r.payments.filter((p) => p.amount.minor > p.refunded_minor);
    const refundPayment = h(
      "select",
      { id: "refund-payment" },
      refundable.map((p) =>
        h("option", { value: p.receipt }, `${p.receipt} · ${formatMoney(p.amount.minor - p.refunded_minor, p.amount.currency)}`),
      ),
    );
    const refundAmount = h("input", { id: "refund-amount", inputmode: "decimal", autocomplete: "off" });
    const refundReason = h("input", { id: "refund-reason", autocomplete: "off", maxlength: 500 });
    const refundApproval = approvalBox("refund-approval");
    const refundError = h("p", { class: "error", role: "alert", id: "refund-error" });
    const openConflicts = r.changes.filter((c) => c.state === "conflict" && !c.resolution);
    // Dispatching waits for the fee: the payment's form is above it until then.
    const forward = r.next_actions.filter((a) => FORWARD.includes(a) && !(a === "dispatch" && owed > 0));
    const cancellable = r.next_actions.includes("cancel");
    const cancelApproved = r.approval_needed.includes("cancel");

    /** Runs a step on the request; a refusal shows in `said` and changes nothing. After the
     * step the detail is drawn again with its forms empty. */
    async function step(label: string, run: () => Promise<RequestDetail>, said: HTMLElement = actionError): Promise<void> {
      await ctx.act(label, async () => {
        try {
          redraw(await run(), {});
          await load();
        } catch (err) {
          said.textContent = explain(err);
        }
      });
    }

    // Cancelling is never one click: the clerk says why, reads what becomes of the money,
    // and confirms; after a payment a supervisor approves on the same form.
    const cancelForm = h(
      "form",
      {
        id: "cancel-form",
        class: "confirm",
        hidden: true,
        "aria-labelledby": "cancel-title",
        onsubmit: (e: Event) => {
          e.preventDefault();
          const approval = cancelApproved ? cancelApproval.take() : null;
          void step("cancel", () => api.advance(r.receipt, "cancel", cancelReason.value, approval), cancelError);
        },
      },
      h("h3", { id: "cancel-title" }, t("cancel.title", { receipt: r.receipt })),
      h("p", { id: "cancel-money", class: "notice" }, cancellationMoney(r)),
      field(t("cancel.reason"), cancelReason),
      cancelApproved ? cancelApproval.el : null,
      h(
        "div",
        { class: "sticky-actions" },
        cancelError,
        h(
          "div",
          { class: "actions" },
          h("button", { type: "submit", id: "confirm-cancel", class: "danger" }, t("cancel.confirm")),
          h(
            "button",
            {
              type: "button",
              id: "keep-request",
              onclick: () => {
                cancelForm.hidden = true;
                cancelError.textContent = "";
                (detail.querySelector("#do-cancel") as HTMLElement | null)?.focus();
              },
            },
            t("cancel.keep"),
          ),
        ),
      ),
    );

    fill(
      detail,
      h("h2", { id: "detail-heading", tabindex: -1 }, h("span", { class: "code", id: "detail-receipt" }, r.receipt), " · ", text(r.service_title)),
      h(
        "dl",
        { class: "facts" },
        h("dt", {}, t("requests.detail.status")),
        h("dd", { id: "detail-status" }, t(`request.status.${r.status}`), r.status_reason ? ` (${r.status_reason})` : ""),
        h("dt", {}, t("requests.detail.citizen")),
        h("dd", {}, `${r.citizen_name} · ${r.citizen_id}`),
        h("dt", {}, t("requests.detail.due")),
        h("dd", {}, formatDate(r.due_date)),
        h("dt", {}, t("requests.detail.fee")),
        h(
          "dd",
          {},
          r.fee
            ? r.waiver_ground
              ? t("intake.waived", { ground: targetGroup(r.waiver_ground) })
              : `${formatMoney(r.paid_minor, r.fee.currency)} / ${formatMoney(r.fee.minor, r.fee.currency)}`
            : t("fee.free"),
        ),
      ),
      ...(owed > 0 && !CLOSED.includes(r.status) ? payment.owed(r, again) : []),
      documentChecklist("request-documents", r, ctx.act, (fresh) => {
        redraw(fresh, { typed: true });
        void load();
      }),
      r.payments.length ? h("h3", {}, t("requests.detail.payments")) : null,
      r.payments.length
        ? h(
            "ul",
            { class: "payments", id: "payments" },
            r.payments.map((p) =>
              h(
                "li",
                {},
                ...paymentLine(p),
                p.refunded_minor > 0
                  ? ` · ${t("requests.payment.refunded", { amount: formatMoney(p.refunded_minor, p.amount.currency) })}`
                  : "",
              ),
            ),
          )
        : null,
      r.refunds.length ? h("h3", {}, t("requests.detail.refunds")) : null,
      r.refunds.length
        ? h(
            "ul",
            { class: "refunds", id: "refunds" },
            r.refunds.map((f) =>
              h(
                "li",
                {},
                h("time", { datetime: f.at }, formatDateTime(f.at)),
                " ",
                t("requests.refund.line", {
                  amount: formatMoney(f.amount.minor, f.amount.currency),
                  payment: f.payment_receipt,
                  receipt: f.receipt,
                  clerk: f.clerk,
                  approver: f.approver,
                  reason: f.reason,
                }),
              ),
            ),
          )
        : null,
      refundable.length
        ? h(
            "form",
            {
              id: "refund-form",
              class: "refund",
              onsubmit: (e: Event) => {
                e.preventDefault();
                const amount = readAmount(refundAmount.value, refundable[0].amount.currency);
                if (!amount.ok) {
                  refundError.textContent = amount.problem;
                  refundAmount.focus();
                  return;
                }
                refundError.textContent = "";
                const approval = refundApproval.take();
                void step(
                  "refund",
                  () => api.refund(r.receipt, { payment: refundPayment.value, amount: amount.amount, reason: refundReason.value }, approval),
                  refundError,
                );
              },
            },
            h("h3", {}, t("refund.title")),
            field(t("refund.payment"), refundPayment),
            field(t("refund.amount"), refundAmount),
            field(t("refund.reason"), refundReason),
            refundApproval.el,
            // The refusal and the button stay in view together while the form scrolls.
            h("div", { class: "sticky-actions" }, refundError, h("button", { type: "submit", id: "refund" }, t("refund.submit"))),
          )
        : null,
      h("h3", {}, t("requests.detail.timeline")),
      h(
        "ol",
        { class: "timeline", id: "timeline" },
        r.timeline.map((e) =>
          h(
            "li",
            {},
            h("time", { datetime: e.at }, formatDateTime(e.at)),
            " ",
            t(`request.status.${e.to}`),
            ` · ${t(`party.${e.party}`)} (${e.actor})`,
            e.reason ? ` · ${e.reason}` : "",
          ),
        ),
      ),
      h("h3", {}, t("requests.detail.changes")),
      h(
        "ul",
        { class: "changes", id: "changes" },
        r.changes.map((c) =>
          h(
            "li",
            { class: `change ${c.state}` },
            h("span", { class: "badge" }, t(`change.${c.state}`)),
            ` ${has(`change.kind.${c.kind}`) ? t(`change.kind.${c.kind}`) : c.kind} · ${formatDateTime(c.at)}`,
            ...changeWhy(c),
            c.resolution ? ` · ${t("requests.resolved", { note: c.resolution })}` : "",
          ),
        ),
      ),
      forward.length || cancellable || r.status !== "draft"
        ? h(
            "div",
            { class: "actions" },
            forward.map((a) =>
              h("button", { type: "button", id: `do-${a}`, onclick: () => void step(a, () => api.advance(r.receipt, a, null)) }, t(`action.${a}`)),
            ),
            cancellable
              ? h(
                  "button",
                  {
                    type: "button",
                    id: "do-cancel",
                    class: "danger",
                    "aria-expanded": "false",
                    onclick: (e: Event) => {
                      cancelForm.hidden = false;
                      (e.currentTarget as HTMLElement).setAttribute("aria-expanded", "true");
                      cancelReason.focus();
                    },
                  },
                  t("action.cancel"),
                )
              : null,
            printButtons(r, slipLang, (button, paper, lang) => printFrom(ctx, button, "print_receipt", { kind: "receipt", key: r.receipt, paper, lang }, printStatus)),
          )
        : null,
      printStatus,
      cancellable ? cancelForm : null,
      openConflicts.length
        ? h(
            "form",
            {
              id: "resolve-form",
              class: "notice",
              onsubmit: (e: Event) => {
                e.preventDefault();
                void step("resolve_conflict", () => api.resolveConflict(r.receipt, note.value));
              },
            },
            h("p", {}, t("requests.conflict_explain", { count: openConflicts.length })),
            // Noting how it was settled is a supervisor's: a clerk is told who can.
            supervises(ctx.state) ? field(t("requests.conflict_note"), note) : h("p", { id: "conflict-supervisor" }, t("requests.conflict_supervisor")),
            supervises(ctx.state) ? h("button", { type: "submit", id: "resolve-conflict" }, t("requests.resolve")) : null,
          )
        : null,
      actionError,
    );
  }

  let timer: ReturnType<typeof setTimeout> | undefined;
  find.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => void ctx.act("filter_requests", load), TYPING_PAUSE_MS);
  });
  status.addEventListener("change", () => void ctx.act("filter_requests", load));
  overdue.addEventListener("change", () => void ctx.act("filter_requests", load));
  void load();
  if (open) void show(open);

  // What a sync brought in (agency decisions, other devices' changes) shows without a click.
  const onSynced = (): void => {
    if (!working(ctx.state)) return;
    void load();
    const receipt = shown;
    if (receipt)
      void api.request(receipt).then(
        (fresh) => {
          if (shown !== receipt) return;
          if (current && current.status !== fresh.status)
            ctx.announce(t("requests.now", { receipt: fresh.receipt, status: t(`request.status.${fresh.status}`) }));
          redraw(fresh, { typed: true, refusals: true });
        },
        () => undefined,
      );
  };
  window.addEventListener(SYNCED, onSynced);

  const el = h(
    "section",
    { class: "screen requests", "aria-labelledby": "requests-title" },
    h("h1", { id: "requests-title", class: "visually-hidden" }, t("nav.requests")),
    h(
      "div",
      { class: "toolbar" },
      field(t("requests.filter.status"), status),
      field(t("requests.filter.find"), find),
      h("div", { class: "field inline" }, overdue, h("label", { for: overdue.id }, t("requests.filter.overdue"))),
    ),
    error,
    h(
      "div",
      { class: "columns requests-columns" },
      h(
        "div",
        { class: "card" },
        h(
          "table",
          { class: "list", id: "requests" },
          h("caption", { class: "visually-hidden" }, t("nav.requests")),
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              ...["receipt", "service", "citizen", "status", "due", "overdue"].map((c) =>
                h("th", { scope: "col" }, t(`requests.col.${c}`)),
              ),
            ),
          ),
          rows,
        ),
      ),
      detail,
    ),
  );
  return {
    el,
    focusSearch() {
      find.focus();
    },
    shown: () => shown,
    stop() {
      window.removeEventListener(SYNCED, onSynced);
      clearTimeout(timer);
    },
  };
}
