// Intake: find or register the citizen, choose the service (search or browse), see what it
// needs, fill its form with validation as you type, take the request, the payment or the
// waiver, submit, and hand over the receipt. Several requests in one visit.
// Each step is a module of intake/; this wires them together.

import type { Ctx } from "../app";
import { fill, h } from "../dom";
import { t } from "../i18n";
import { citizenStep } from "./intake/citizen";
import { formStep } from "./intake/form";
import { receiptStep } from "./intake/receipt";
import { serviceStep } from "./intake/service";
import { visitStep } from "./intake/visit";

export interface IntakeScreen {
  el: HTMLElement;
  /** Shows the screen for the visit at the counter now, with no service chosen yet. */
  show(): void;
  focusSearch(): void;
}

export function intakeScreen(ctx: Ctx): IntakeScreen {
  // One place shows the service chosen, then the request taken.
  const detailBox = h("div", {
    class: "card",
    id: "service-detail",
    "aria-live": "polite",
    "data-empty": t("intake.detail.empty"),
  });
  const citizen = citizenStep(ctx, { chosen: () => service.focus() });
  const service = serviceStep(ctx, { open: (code) => form.open(code) });
  const form = formStep(ctx, detailBox, {
    targetGroup: (code) => service.targetGroup(code),
    taken: (request) => {
      receipt.draw(request);
      visit.draw();
    },
  });
  const receipt = receiptStep(ctx, detailBox, {
    changed: () => visit.draw(),
    another: () => service.again(),
    targetGroup: (code) => service.targetGroup(code),
  });
  const visit = visitStep(ctx, { back: (request) => receipt.draw(request), citizen: () => citizen.draw() });

  const el = h(
    "section",
    { class: "screen intake", "aria-labelledby": "intake-title" },
    h("h1", { id: "intake-title", class: "visually-hidden" }, t("nav.intake")),
    h("div", { class: "intake-grid" }, citizen.el, service.el, detailBox, visit.el),
  );

  return {
    el,
    show() {
      // As a screen made afresh: the service search starts empty; the citizen and the
      // requests are the visit's (none for a new visit).
      service.reset();
      fill(detailBox);
      visit.closeWarning();
      citizen.draw();
      visit.draw();
      void ctx.act("resume_visit", visit.resume);
    },
    focusSearch() {
      service.focusSearch();
    },
  };
}
