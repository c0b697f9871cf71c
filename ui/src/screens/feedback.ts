// Feedback at the end of a visit: the clerk turns the screen to the citizen, who picks 1 to 5
// (keys 1-5 work too) and may leave a comment.

import { api } from "../api";
import type { Ctx } from "../app";
import { field, h } from "../dom";
import { t } from "../i18n";
import { explain } from "../messages";

export interface FeedbackScreen {
  el: HTMLElement;
  /** Shows the screen for the visit just finished, with no rating and no comment yet. */
  show(): void;
}

export function feedbackScreen(ctx: Ctx): FeedbackScreen {
  let rating = 0;
  const error = h("p", { class: "error", role: "alert", id: "feedback-error" });
  const comment = h("textarea", { id: "feedback-comment", rows: 3, maxlength: 1000 });
  const stars = [1, 2, 3, 4, 5].map((n) =>
    h(
      "button",
      {
        type: "button",
        class: "rating",
        id: `rate-${n}`,
        "aria-pressed": "false",
        "aria-label": t("feedback.rate", { n }),
        onclick: () => pick(n),
      },
      String(n),
    ),
  );
  function pick(n: number): void {
    rating = n;
    stars.forEach((s, i) => s.setAttribute("aria-pressed", String(i + 1 === n)));
    comment.focus();
  }

  function done(): void {
    ctx.rated = null;
    ctx.go("queue");
  }

  const el = h(
    "section",
    { class: "screen feedback", "aria-labelledby": "feedback-title" },
    h("h1", { id: "feedback-title" }, t("feedback.title")),
    h("p", { class: "lead" }, t("feedback.question")),
    h(
      "div",
      {
        class: "ratings",
        role: "group",
        "aria-label": t("feedback.scale"),
        onkeydown: (e: Event) => {
          const key = (e as KeyboardEvent).key;
          // The key picks the rating and is spent: the comment, focused next, does not get it.
          if (/^[1-5]$/.test(key)) {
            e.preventDefault();
            pick(Number(key));
          }
        },
      },
      stars,
    ),
    h("p", { class: "muted" }, t("feedback.scale")),
    field(t("feedback.comment"), comment),
    error,
    h(
      "div",
      { class: "actions" },
      h(
        "button",
        {
          type: "button",
          id: "send-feedback",
          class: "primary",
          onclick: () =>
            void ctx.act("feedback", async () => {
              const ticket = ctx.rated;
              if (!ticket) return done();
              if (rating === 0) {
                error.textContent = t("feedback.pick");
                stars[0].focus();
                return;
              }
              try {
                await api.feedback(ticket.code, rating, comment.value.trim() || null);
                ctx.announce(t("feedback.thanks"));
                done();
              } catch (err) {
                error.textContent = explain(err);
              }
            }),
        },
        t("feedback.send"),
      ),
      h("button", { type: "button", id: "skip-feedback", onclick: done }, t("feedback.skip")),
    ),
  );
  return {
    el,
    show() {
      rating = 0;
      stars.forEach((star) => star.setAttribute("aria-pressed", "false"));
      comment.value = "";
      error.textContent = "";
      setTimeout(() => stars[4].focus(), 0);
    },
  };
}
