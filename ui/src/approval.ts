// Four eyes: the box where a supervisor types their own name and password, on the clerk's
// screen, for an act that needs a second person (a waiver, a cancellation after payment, the
// recall of a no-show, a refund). The core checks them; the box only carries them, and empties
// the password after each attempt so that it does not stay on the screen.

import type { Approval } from "./api";
import { field, h } from "./dom";
import { t } from "./i18n";

export interface ApprovalBox {
  el: HTMLElement;
  /** What was typed, or null when no name was: the core then says a supervisor must approve. */
  take(): Approval | null;
}

export function approvalBox(id: string): ApprovalBox {
  const username = h("input", { id: `${id}-approver`, autocomplete: "off", spellcheck: "false" });
  const password = h("input", { id: `${id}-approver-password`, type: "password", autocomplete: "off" });
  const el = h(
    "fieldset",
    { class: "approval", id },
    h("legend", {}, t("approval.title")),
    field(t("approval.username"), username),
    field(t("approval.password"), password),
  );
  return {
    el,
    take() {
      const name = username.value.trim();
      const typed = password.value;
      password.value = "";
      return name ? { username: name, password: typed } : null;
    },
  };
}
