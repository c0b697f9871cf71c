// Intake's aside, the visit at the counter: its ticket and the requests taken during it; ending
// it, which asks first when a request is left as a draft or unpaid; and taking it up again
// when the window knows none.

import { api, type RequestDetail } from "../../api";
import { emptyVisit, unfinishedRequests, type Ctx, type Unfinished, type Visit } from "../../app";
import { fill, h } from "../../dom";
import { formatMoney, t, text } from "../../i18n";
import { explain } from "../../messages";

export interface VisitHooks {
  /** Goes back to a request left unfinished, to finish it. */
  back(request: RequestDetail): void;
  /** The visit taken up again has a citizen, to show. */
  citizen(): void;
}

export interface VisitStep {
  el: HTMLElement;
  draw(): void;
  /** Closes the end-visit warning left open. */
  closeWarning(): void;
  /** Takes up the visit at this counter when the window knows none. */
  resume(): Promise<void>;
}

export function visitStep(ctx: Ctx, hooks: VisitHooks): VisitStep {
  const visitBox = h("aside", { class: "card", id: "visit-box", "aria-labelledby": "visit-title" });
  // Ending a visit with a request left as a draft or unpaid asks first, naming each.
  const endWarning = h("div", { id: "end-visit-warning", class: "confirm", role: "alertdialog", "aria-labelledby": "end-visit-warning-title", hidden: true });
  // Why the visit could not end, beside its button (the toast goes after a few seconds).
  const visitError = h("p", { class: "error", role: "alert", id: "visit-error" });
  /** Runs a step of ending the visit; a refusal shows in the visit's box. */
  const ending = (step: () => Promise<void>) =>
    ctx.act("end_visit", async () => {
      visitError.textContent = "";
      try {
        await step();
      } catch (err) {
        visitError.textContent = explain(err);
      }
    });
  const end = () => endVisit(ctx, endWarning);

  function drawVisit(): void {
    const v = ctx.visit;
    fill(
      visitBox,
      h("h2", { id: "visit-title" }, t("intake.visit.title")),
      v.ticket ? h("p", {}, t("intake.visit.ticket", { code: v.ticket.code })) : h("p", { class: "muted" }, t("intake.visit.no_ticket")),
      visitRequests(v, (receipt) =>
        void ctx.act("open_request", async () => {
          // As the core has it now: it may have moved on the requests screen.
          hooks.back(await api.request(receipt));
        }),
      ),
      h(
        "button",
        {
          type: "button",
          id: "end-visit",
          onclick: () =>
            void ending(async () => {
              // As the core has them now: a request may have moved on the requests screen.
              const fresh = await Promise.all(ctx.visit.requests.map((r) => api.request(r.receipt)));
              ctx.visit = { ...ctx.visit, requests: fresh };
              const left = unfinishedRequests(fresh);
              if (left.length === 0) await end();
              else drawEndWarning(left);
            }),
        },
        t("intake.visit.end"),
      ),
      visitError,
      endWarning,
    );
  }

  function drawEndWarning(left: Unfinished[]): void {
    fill(
      endWarning,
      h("p", { id: "end-visit-warning-title", class: "strong" }, t("intake.visit.unfinished", { count: left.length })),
      unfinishedList(left),
      h(
        "div",
        { class: "actions" },
        h(
          "button",
          {
            type: "button",
            id: "end-visit-back",
            class: "primary",
            onclick: () => {
              endWarning.hidden = true;
              hooks.back(left[0].request);
            },
          },
          t("intake.visit.back"),
        ),
        h("button", { type: "button", id: "end-visit-anyway", class: "danger", onclick: () => void ending(end) }, t("intake.visit.end_anyway")),
      ),
    );
    endWarning.hidden = false;
    (endWarning.querySelector("#end-visit-back") as HTMLElement | null)?.focus();
  }

  return {
    el: visitBox,
    draw: drawVisit,
    closeWarning() {
      endWarning.hidden = true;
    },
    resume: () => resumeVisit(ctx, hooks.citizen, drawVisit),
  };
}

/** Ends the visit, closing the warning: the citizen's feedback next when a ticket was being
 * served, else the queue. */
async function endVisit(ctx: Ctx, warning: HTMLElement): Promise<void> {
  warning.hidden = true;
  const ticket = ctx.visit.ticket;
  if (ticket?.status === "serving") {
    ctx.rated = await api.finishService(ticket.code);
    ctx.visit = emptyVisit();
    ctx.go("feedback");
  } else {
    // A walk-in (or a ticket already finished): no feedback to ask for, since it is kept
    // per ticket; the next intake starts with nobody chosen.
    ctx.visit = emptyVisit();
    ctx.go("queue");
  }
}

/** The requests taken during the visit, each with its receipt number and status; the number
 * opens it again in the detail's place, to pay, tick a document or submit it, after the clerk
 * went to another screen and back. */
function visitRequests(v: Visit, open: (receipt: string) => void): HTMLElement {
  return v.requests.length
    ? h(
        "ul",
        { id: "visit-requests" },
        v.requests.map((r) =>
          h(
            "li",
            {},
            h("button", { type: "button", class: "link code", "data-visit-request": r.receipt, onclick: () => open(r.receipt) }, r.receipt),
            " ",
            text(r.service_title),
            " · ",
            t(`request.status.${r.status}`),
          ),
        ),
      )
    : h("p", { class: "muted" }, t("intake.visit.none"));
}

/** The requests left unfinished, each with what is left: still a draft, money still owed. */
function unfinishedList(left: Unfinished[]): HTMLElement {
  return h(
    "ul",
    {},
    left.map((u) =>
      h(
        "li",
        {},
        h("span", { class: "code" }, u.request.receipt),
        " ",
        text(u.request.service_title),
        " · ",
        [
          u.draft ? t("intake.visit.still_draft") : null,
          u.owed > 0 && u.request.fee ? t("intake.visit.still_owed", { amount: formatMoney(u.owed, u.request.fee.currency) }) : null,
        ]
          .filter((why) => why !== null)
          .join(" · "),
      ),
    ),
  );
}

/**
 * Takes up the visit at this counter when the window knows none (after a restart, or
 * another clerk's session): the ticket being served, the requests taken during it and their
 * citizen, as the core has them.
 */
async function resumeVisit(ctx: Ctx, drawCitizen: () => void, drawVisit: () => void): Promise<void> {
  const v = ctx.visit;
  if (v.ticket || v.citizen || v.requests.length) return;
  const { current } = await api.queueView(ctx.counter);
  if (current?.status !== "serving" || !current.visit) return;
  const listed = await api.listRequests({ status: null, service: null, citizen: null, overdue: false, limit: null, visit: current.visit });
  // The list is newest first; the visit shows them in the order they were taken.
  const requests = await Promise.all(listed.reverse().map((r) => api.request(r.receipt)));
  const first = requests[0];
  const citizen = first ? (await api.findCitizens({ NationalId: first.citizen_id }))[0] ?? null : null;
  // Unless the clerk started something else meanwhile.
  if (ctx.visit !== v) return;
  ctx.visit = { ticket: current, citizen, requests };
  if (citizen) drawCitizen();
  drawVisit();
}
