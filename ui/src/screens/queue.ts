// The queue: issue tickets, and for this counter call, recall, mark no-show, transfer, start
// and finish; recall a citizen marked no-show, with a supervisor's approval; the waiting list
// with live waiting times.

import { api, type Browse, type Channel, type Lane, type QueueTarget, type QueueView, type ServiceHit, type StatusBar, type Ticket, type WaitingEntry } from "../api";
import { SYNCED, emptyVisit, latestOnly, unfinishedRequests, working, type Ctx } from "../app";
import { approvalBox } from "../approval";
import { field, fill, h, isBusy, whileBusy } from "../dom";
import { compareText, formatDuration, t, text } from "../i18n";
import { explain } from "../messages";
import { printFrom, slipLanguage } from "../printing";
import { STATUS, updateOffer } from "../update";

let browseCache: Browse | null = null;
let servicesCache: ServiceHit[] | null = null;

export async function catalogueIndex(): Promise<Browse> {
  browseCache ??= await api.browse();
  return browseCache;
}

/** The services a citizen can queue for here (offered on this workstation's `channel`), by
 * title. The core filters them, before its limit of 1,000 hits. */
async function servicesHere(channel: Channel | null): Promise<ServiceHit[]> {
  servicesCache ??= (await api.searchServices({ limit: 1000, channel }))
    .filter((s) => s.depth_here !== null)
    .sort((a, b) => compareText(text(a.title), text(b.title)));
  return servicesCache;
}

/** A failure of a read nobody asked for, shown in `el` until the next read that works clears
 * it; a message shown there since (a refusal of the clerk's action) is left alone. */
function standingProblem(el: HTMLElement): { show(err: unknown): void; clear(): void } {
  let shown = "";
  return {
    show(err) {
      shown = explain(err);
      el.textContent = shown;
    },
    clear() {
      if (shown && el.textContent === shown) el.textContent = "";
      shown = "";
    },
  };
}

export function targetName(target: QueueTarget, browse: Browse | null): string {
  if (target.kind === "category") {
    const c = browse?.categories.find((x) => x.code === target.code);
    return c ? text(c.name) : target.code;
  }
  const service = servicesCache?.find((x) => x.code === target.code);
  return service ? text(service.title) : target.code;
}

/** The lane a new ticket starts in: the one called last (the standard lane, not a priority). */
export function standardLane(lanes: Lane[]): string {
  return lanes.reduce<Lane | null>((last, l) => (last === null || l.rank > last.rank ? l : last), null)?.code ?? "";
}

export interface QueueScreen {
  el: HTMLElement;
  callNext(): Promise<void>;
  /** Shows the screen (again): reloads the queue and keeps the waiting times running. */
  show(): void;
  /** Stops the timers while another screen is shown. */
  stop(): void;
}

// The window's status and syncs reach the queue screen shown, if any, through one listener
// each: a screen made for another language or clerk is dropped without listeners holding it.
interface Shown {
  status(): void;
  synced(): void;
}
let shown: Shown | null = null;
let latestStatus: StatusBar | null = null;
window.addEventListener(STATUS, (e) => {
  latestStatus = (e as CustomEvent<StatusBar>).detail;
  shown?.status();
});
// What a ticket can be for is read again after each sync (a device enrolled a moment ago gets
// its catalogue at its first sync).
window.addEventListener(SYNCED, () => {
  browseCache = null;
  servicesCache = null;
  shown?.synced();
});

export function queueScreen(ctx: Ctx): QueueScreen {
  let view: QueueView = { waiting: [], current: null };
  let fetchedAt = performance.now();
  let browse: Browse | null = browseCache;
  const message = h("p", { class: "error", role: "alert", id: "queue-error" });

  // An update of the app, offered while nobody is at this counter.
  const offer = updateOffer();

  const counter = h(
    "select",
    { id: "counter", name: "counter" },
    ...ctx.state.counters.map((c) => h("option", { value: c.code }, `${c.code} · ${c.name}`)),
  );
  counter.value = ctx.counter;
  counter.addEventListener("change", () => {
    ctx.counter = counter.value;
    localStorage.setItem("guichet.counter", counter.value);
    void load();
  });

  // Issuing a ticket
  const target = h("select", { id: "ticket-target", name: "target" });
  const lane = h(
    "select",
    { id: "ticket-lane", name: "lane" },
    ...ctx.state.lanes.map((l) => h("option", { value: l.code }, text(l.name))),
  );
  const issued = h("p", { id: "issued-ticket", class: "ticket-code", "aria-live": "polite" });
  const targetError = h("span", { class: "field-error", id: "ticket-target-error" });
  const issueError = h("p", { class: "error", role: "alert", id: "issue-error" });
  // Every ticket starts for nothing chosen, in the standard lane: a priority is given on
  // purpose, and what the citizen comes for is asked, never assumed.
  function resetIssue(): void {
    target.value = "";
    lane.value = standardLane(ctx.state.lanes);
    target.removeAttribute("aria-invalid");
    targetError.textContent = "";
  }
  target.addEventListener("change", () => {
    target.removeAttribute("aria-invalid");
    targetError.textContent = "";
  });
  // The citizen's ticket, printed on the counter's roll; a failure says why and the button
  // stays to print again.
  const printStatus = h("span", { id: "print-status", role: "status" });
  const issuedActions = h("div", { id: "issued-actions", class: "actions" });
  const ticketLanguage = slipLanguage("ticket-lang");
  const issueButton = h("button", { type: "submit", id: "issue-ticket" }, t("queue.issue.submit"));
  const issueForm = h(
    "form",
    {
      class: "card",
      "aria-labelledby": "issue-title",
      onsubmit: (e: Event) => {
        e.preventDefault();
        // A second Enter or click while the ticket is being issued issues no second ticket.
        if (isBusy(issueButton)) return;
        void whileBusy(issueButton, () => ctx.act("issue_ticket", async () => {
          issueError.textContent = "";
          if (!target.value) {
            issued.textContent = "";
            fill(issuedActions);
            target.setAttribute("aria-invalid", "true");
            targetError.textContent = t("queue.issue.choose_target");
            target.focus();
            return;
          }
          try {
            const [kind, code] = target.value.split(":");
            const ticket = await api.issueTicket({ kind: kind === "service" ? "service" : "category", code }, lane.value);
            issued.textContent = t("queue.issued", { code: ticket.code });
            printStatus.textContent = "";
            fill(
              issuedActions,
              ticketLanguage.el,
              h(
                "button",
                {
                  type: "button",
                  id: "print-ticket",
                  onclick: (e: Event) =>
                    printFrom(ctx, e.currentTarget as HTMLButtonElement, "print_ticket", { kind: "ticket", key: ticket.id, paper: "roll80", lang: ticketLanguage.value() }, printStatus),
                },
                t("queue.print_ticket"),
              ),
              " ",
              printStatus,
            );
            resetIssue();
            await load();
          } catch (err) {
            issued.textContent = "";
            fill(issuedActions);
            issueError.textContent = explain(err);
          }
        }));
      },
    },
    h("h2", { id: "issue-title" }, t("queue.issue.title")),
    field(t("queue.issue.target"), target, targetError),
    field(t("queue.issue.lane"), lane),
    issueError,
    issueButton,
    issued,
    issuedActions,
  );

  // This counter
  // Only the ticket's line speaks, and only when it changes: the panel is drawn again at every
  // poll, and a screen reader would read the counter out every ten seconds.
  const current = h("div", { id: "current-ticket" });
  const waitingBody = h("tbody", { id: "waiting-rows" });
  const waitingTable = h(
    "table",
    { id: "waiting", class: "list" },
    h("caption", {}, t("queue.waiting.title")),
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        h("th", { scope: "col" }, t("queue.col.ticket")),
        h("th", { scope: "col" }, t("queue.col.for")),
        h("th", { scope: "col" }, t("queue.col.lane")),
        h("th", { scope: "col" }, t("queue.col.status")),
        h("th", { scope: "col", class: "num" }, t("queue.col.waited")),
      ),
    ),
    waitingBody,
  );

  /** Whether an action of the counter's panel is under way, until the queue is read after it. */
  let running = false;

  /** Runs an action of the counter's panel. A press while another is under way (a double
   * click, a key held down) is not run: its refusal would come after the first one's answer
   * and say what is not so ("counter C1 is busy with A012"). */
  async function run(label: string, step: () => Promise<Ticket | null | void>): Promise<void> {
    if (running) return;
    running = true;
    await ctx.act(label, async () => {
      try {
        await step();
        message.textContent = "";
      } catch (err) {
        message.textContent = explain(err);
      }
      try {
        await load();
      } finally {
        // Free once the panel shows the answer, not a frame later: the next step's button
        // has the focus by then.
        running = false;
      }
    });
  }

  function button(id: string, label: string, onclick: () => void): HTMLButtonElement {
    return h("button", { type: "button", id, onclick }, label);
  }

  // The counter's panel is redrawn after every action and every poll, so its controls are
  // made once and then only updated: WebKitGTK keeps part of each form control a page has
  // shown until the page goes away, about 1 KB a text field (docs/benchmarks.md).
  const ticketCode = (): string => view.current?.code ?? "";
  const callNextButton = button("call-next", t("queue.call_next"), () => void callNext());
  const recallButton = button("recall", t("queue.recall"), () => void run("recall", () => api.recall(ticketCode())));
  const noShowButton = button("no-show", t("queue.no_show"), () => void run("no_show", () => api.noShow(ticketCode())));
  const startButton = button("start", t("queue.start"), () => void run("start", async () => {
    const started = await api.startService(ticketCode());
    ctx.visit = { ...emptyVisit(), ticket: started };
  }));
  const intakeButton = button("intake", t("queue.take_request"), () => ctx.go("intake"));
  const finishButton = button("finish", t("queue.finish"), () => void run("finish", async () => {
    // A request of the visit left a draft or unpaid is not left behind from here: the clerk
    // finishes it, or ends the visit anyway, from the visit (as the core has its requests now).
    const fresh = await Promise.all(ctx.visit.requests.map((r) => api.request(r.receipt)));
    ctx.visit = { ...ctx.visit, requests: fresh };
    const left = unfinishedRequests(fresh).length;
    if (left > 0) throw new Error(t("queue.finish_unfinished", { count: left }));
    ctx.rated = await api.finishService(ticketCode());
    ctx.visit = emptyVisit();
    ctx.go("feedback");
  }));
  const transferTo = h("select", { id: "transfer-to", "aria-label": t("queue.transfer.to") });
  let transferChoices = "";
  const transferRow = h(
    "div",
    { class: "actions", hidden: true },
    transferTo,
    button("transfer", t("queue.transfer"), () => {
      const [kind, code] = transferTo.value.split(":");
      const to = kind === "counter" ? { Counter: code } : { Queue: { kind: "category" as const, code } };
      void run("transfer", () => api.transfer(ticketCode(), to));
    }),
  );
  // Recalling a citizen marked no-show puts them before those waiting: a supervisor approves.
  const noShowTicket = h("select", { id: "no-show-ticket" });
  let noShowChoices = "";
  const noShowApproval = approvalBox("recall-approval");
  const noShowRow = h(
    "div",
    { class: "recall-no-show", hidden: true },
    field(t("queue.no_show_ticket"), noShowTicket),
    noShowApproval.el,
    button("recall-no-show", t("queue.recall_no_show"), () => {
      const approval = noShowApproval.take();
      void run("recall", () => api.recall(noShowTicket.value, approval));
    }),
  );
  const counterTitle = h("h2", {});
  const ticketLine = h("div", { "aria-live": "polite" });
  /** What the ticket's line says now, to draw it again only when that changes. */
  let lineShown: string | null = null;
  fill(
    current,
    counterTitle,
    ticketLine,
    h("div", { class: "actions" }, callNextButton, recallButton, noShowButton, startButton, intakeButton, finishButton),
    transferRow,
    noShowRow,
    message,
  );

  function drawCurrent(): void {
    const ticket = view.current;
    const status = ticket?.status;
    const title = t("queue.counter.title", { counter: ctx.counter });
    if (counterTitle.textContent !== title) counterTitle.textContent = title;
    const line = ticket ? [ticket.code, t(`ticket.status.${ticket.status}`), targetName(ticket.target, browse)] : [];
    if (line.join("\n") !== lineShown) {
      lineShown = line.join("\n");
      fill(
        ticketLine,
        ticket
          ? h("div", {}, h("p", { class: "ticket-code", id: "current-code" }, line[0]), h("p", { id: "current-status" }, line[1], " · ", line[2]))
          : h("p", { class: "muted" }, t("queue.counter.idle")),
      );
    }
    callNextButton.disabled = Boolean(ticket);
    recallButton.disabled = noShowButton.disabled = startButton.disabled = status !== "called";
    intakeButton.disabled = finishButton.disabled = status !== "serving";
    // The step a clerk takes next is marked, and is where focus lands after an action.
    const next = !ticket
      ? callNextButton
      : status === "called"
        ? startButton
        : status === "serving"
          ? ctx.visit.requests.length > 0
            ? finishButton
            : intakeButton
          : null;
    for (const b of [callNextButton, recallButton, noShowButton, startButton, intakeButton, finishButton]) {
      b.classList.toggle("primary", b === next);
    }
    const choices: [string, string][] = [
      ...(browse?.categories ?? []).map((c): [string, string] => [`category:${c.code}`, text(c.name)]),
      ...ctx.state.counters
        .filter((c) => c.code !== ctx.counter)
        .map((c): [string, string] => [`counter:${c.code}`, t("queue.transfer.counter", { code: c.code })]),
    ];
    const key = JSON.stringify(choices);
    if (key !== transferChoices) {
      transferChoices = key;
      refill(transferTo, choices);
    }
    transferRow.hidden = !ticket || status === "serving";
    offer.draw(latestStatus ?? ctx.state.status, Boolean(ticket));
  }

  /** How long `w` has waited by now: the queue's figure plus the time since it was read. */
  function waited(w: WaitingEntry): string {
    return formatDuration(w.waited_ms + performance.now() - fetchedAt);
  }

  function drawWaiting(): void {
    const noShows = view.waiting.filter((w) => w.status === "no_show").map((w) => w.code);
    const key = JSON.stringify(noShows);
    if (key !== noShowChoices) {
      noShowChoices = key;
      refill(noShowTicket, noShows.map((code) => [code, code]));
    }
    noShowRow.hidden = noShows.length === 0;
    fill(
      waitingBody,
      view.waiting.length === 0
        ? h("tr", {}, h("td", { colspan: 5, class: "muted" }, t("queue.waiting.empty")))
        : view.waiting.map((w) =>
            h(
              "tr",
              { class: w.status },
              h("td", { class: "code" }, w.code),
              h("td", {}, targetName(w.target, browse)),
              h("td", {}, text(ctx.state.lanes.find((l) => l.code === w.lane)?.name) || w.lane),
              h("td", {}, t(`ticket.status.${w.status}`), w.counter ? ` (${w.counter})` : ""),
              h("td", { class: "num waited" }, waited(w)),
            ),
          ),
    );
  }

  /** The waiting times, every second, without making the rows again. */
  function tickWaiting(): void {
    waitingBody.querySelectorAll("td.waited").forEach((cell, i) => {
      const w = view.waiting[i];
      if (w) cell.textContent = waited(w);
    });
  }

  const loadProblem = standingProblem(message);
  const askQueue = latestOnly();
  /** Reads the queue again; a failure (on a refresh nobody asked for, too) says why where the
   * counter's refusals show, and the next refresh that works clears it. Only the latest read
   * is drawn: a poll's read sent before a call and answered after it would otherwise draw
   * the counter as it was, the called ticket gone and its Start button disabled. */
  async function load(): Promise<void> {
    const latest = askQueue();
    let read: QueueView;
    try {
      read = await api.queueView(ctx.counter);
    } catch (err) {
      if (latest()) loadProblem.show(err);
      return;
    }
    if (!latest()) return;
    view = read;
    loadProblem.clear();
    fetchedAt = performance.now();
    drawCurrent();
    drawWaiting();
  }

  async function callNext(): Promise<void> {
    await run("call_next", async () => {
      const called = await api.callNext(ctx.counter);
      if (!called) throw new Error(t("queue.nobody_waiting"));
    });
  }

  // What a ticket can be for: the catalogue as this device holds it, read at each `show()`
  // (which follows the screen's making) and after each sync.
  let targetsKey: string | null = null;
  const targetsProblem = standingProblem(issueError);
  function loadTargets(): void {
    void Promise.all([catalogueIndex(), servicesHere(ctx.state.config?.channel ?? null)]).then(([b, services]) => {
      targetsProblem.clear();
      browse = b;
      const key = JSON.stringify([b.categories.map((c) => c.code), services.map((s) => s.code)]);
      if (key === targetsKey) return;
      const first = targetsKey === null;
      targetsKey = key;
      const chosen = target.value;
      fill(
        target,
        h("option", { value: "" }, t("queue.issue.choose")),
        h(
          "optgroup",
          { label: t("queue.issue.categories") },
          b.categories.map((c) => h("option", { value: `category:${c.code}` }, text(c.name))),
        ),
        h(
          "optgroup",
          { label: t("queue.issue.services") },
          services.map((s) => h("option", { value: `service:${s.code}` }, text(s.title))),
        ),
      );
      if (first) resetIssue();
      else target.value = chosen;
      drawCurrent();
      drawWaiting();
    }).catch((err: unknown) => {
      // A catalogue that cannot be read (none yet on a device enrolled a moment ago) leaves
      // the choice empty: the clerk is told why, and it is read again at the next sync.
      targetsProblem.show(err);
    });
  }
  const listening: Shown = {
    status: () => offer.draw(latestStatus ?? ctx.state.status, Boolean(view.current)),
    synced: () => {
      if (working(ctx.state)) loadTargets();
    },
  };
  let tick = 0;
  let poll = 0;
  function stop(): void {
    clearInterval(tick);
    clearInterval(poll);
    if (shown === listening) shown = null;
  }

  // The waiting room's display (on a wall screen) and the ticket kiosk (a touch screen at the
  // entrance): windows of their own, fed by this queue.
  const displayError = h("span", { class: "error", role: "alert", id: "display-error" });
  const opener = (id: string, label: string, open: () => Promise<void>) =>
    h(
      "button",
      {
        type: "button",
        id,
        onclick: () =>
          void ctx.act(id, async () => {
            displayError.textContent = "";
            try {
              await open();
            } catch (err) {
              displayError.textContent = explain(err);
            }
          }),
      },
      label,
    );
  const displayButton = opener("open-display", t("queue.open_display"), api.openCallingDisplay);
  const kioskButton = opener("open-kiosk", t("queue.open_kiosk"), api.openTicketKiosk);
  const closeKioskButton = opener("close-kiosk", t("queue.close_kiosk"), api.closeTicketKiosk);

  const el = h(
    "section",
    { class: "screen queue", "aria-labelledby": "queue-title" },
    h("h1", { id: "queue-title", class: "visually-hidden" }, t("nav.queue")),
    h("div", { class: "toolbar" }, field(t("queue.counter"), counter), displayButton, kioskButton, closeKioskButton, displayError),
    offer.el,
    h("div", { class: "columns three" }, issueForm, h("div", { class: "card" }, current), h("div", { class: "card" }, waitingTable)),
  );
  return {
    el,
    callNext,
    stop,
    show() {
      stop();
      shown = listening;
      loadTargets();
      issued.textContent = "";
      fill(issuedActions);
      message.textContent = "";
      issueError.textContent = "";
      resetIssue();
      counter.value = ctx.counter;
      view = { waiting: [], current: null };
      drawCurrent();
      drawWaiting();
      void load();
      tick = window.setInterval(tickWaiting, 1000);
      poll = window.setInterval(() => {
        if (working(ctx.state)) void load();
      }, 10000);
    },
  };
}

/** Fills `select` with `choices` (value, label) and keeps the one chosen before where it is
 * still there: a poll that brings one more no-show must not change whom the supervisor
 * recalls, nor a sync where the ticket is transferred. */
function refill(select: HTMLSelectElement, choices: [string, string][]): void {
  const chosen = select.value;
  fill(select, choices.map(([value, label]) => h("option", { value }, label)));
  if (choices.some(([value]) => value === chosen)) select.value = chosen;
}
