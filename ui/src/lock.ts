// The lock overlay: a modal dialog over a window whose content is hidden (main.ts hides it).
// It says who locked the screen and takes that clerk's password, or another clerk's user name
// and password to switch the counter to them.

import type { SessionView } from "./api";
import { field, h, isBusy, trapFocus, whileBusy } from "./dom";
import { t } from "./i18n";
import { explain } from "./messages";
import { typedUsername } from "./screens/login";

/** Hides the window's `content` while locked, and shows it again after: `hidden` and `inert`,
 * so nothing of it is seen, clicked, tabbed to or read aloud, yet nothing of it is lost (a
 * half-filled form keeps its values). `passing` (a toast, the help) is hidden by the lock and
 * stays hidden after it; `spoken` (a toast's and a live region's words) is emptied. */
export function conceal(
  hide: boolean,
  content: HTMLElement[],
  passing: HTMLElement[] = [],
  spoken: HTMLElement[] = [],
): void {
  for (const el of content) {
    el.hidden = hide;
    el.toggleAttribute("inert", hide);
  }
  for (const el of passing) {
    if (hide) el.hidden = true;
    el.toggleAttribute("inert", hide);
  }
  if (hide) for (const el of spoken) el.textContent = "";
}

export interface LockOverlay {
  el: HTMLElement;
  /** Shows the overlay for the clerk who locked, the password field focused. */
  show(session: SessionView): void;
  hide(): void;
  readonly shown: boolean;
}

/** The overlay, made once for a language. `unlock` resolves when the screen is unlocked and
 * throws the core's refusal otherwise; the overlay shows it and asks for the password again. */
export function lockOverlay(unlock: (username: string, password: string) => Promise<void>): LockOverlay {
  let session: SessionView | null = null;
  let another = false;

  const by = h("p", { id: "lock-by" });
  const error = h("p", { class: "error", role: "alert", id: "unlock-error" });
  const username = h("input", {
    id: "unlock-username",
    name: "username",
    autocomplete: "username",
    autocapitalize: "none",
    spellcheck: "false",
  });
  const password = h("input", {
    id: "unlock-password",
    name: "password",
    type: "password",
    required: true,
    autocomplete: "current-password",
  });
  const other = h("div", { id: "unlock-other", hidden: true }, field(t("lock.username"), username));
  const submit = h("button", { type: "submit", class: "primary", id: "unlock-submit" }, t("lock.unlock"));
  const switchButton = h("button", {
    type: "button",
    id: "unlock-switch",
    "aria-expanded": "false",
    "aria-controls": "unlock-other",
    onclick: () => setAnother(!another),
  });

  function setAnother(on: boolean): void {
    another = on;
    other.hidden = !on;
    username.required = on;
    username.value = "";
    error.textContent = "";
    switchButton.setAttribute("aria-expanded", String(on));
    switchButton.textContent = on && session ? t("lock.same", { name: session.display_name }) : t("lock.another");
    (on ? username : password).focus();
  }

  const form = h(
    "form",
    {
      class: "card",
      id: "unlock-form",
      onsubmit: (e: Event) => {
        e.preventDefault();
        if (!session || isBusy(submit)) return;
        const name = another ? typedUsername(username.value) : session.username;
        if (error.textContent) error.textContent = "";
        whileBusy(submit, () => unlock(name, password.value)).catch((err: unknown) => {
          error.textContent = explain(err);
          password.value = "";
          password.focus();
        });
      },
    },
    h("h2", { id: "lock-title" }, t("lock.title")),
    by,
    h("p", { class: "hint" }, t("lock.hint")),
    other,
    field(t("lock.password"), password),
    error,
    h("div", { class: "actions" }, submit, switchButton),
  );

  const el = h(
    "div",
    {
      class: "overlay lock",
      id: "lock-overlay",
      role: "dialog",
      "aria-modal": "true",
      "aria-labelledby": "lock-title",
      "aria-describedby": "lock-by",
      hidden: true,
    },
    form,
  );

  // Focus stays in the dialog: Tab and Shift+Tab go round its controls, and focus that lands
  // anywhere else comes back to the password.
  trapFocus(el, () =>
    [...el.querySelectorAll<HTMLElement>("input, button")].filter(
      (c) => !c.closest("[hidden]") && !(c as HTMLButtonElement).disabled,
    ),
  );

  const keepFocus = (e: FocusEvent): void => {
    if (e.target instanceof Node && !el.contains(e.target)) password.focus();
  };

  return {
    el,
    get shown() {
      return !el.hidden;
    },
    show(who) {
      session = who;
      by.textContent = t("lock.by", { name: who.display_name, role: t(`role.${who.role}`) });
      password.value = "";
      setAnother(false);
      el.hidden = false;
      document.addEventListener("focusin", keepFocus);
      password.focus();
    },
    hide() {
      el.hidden = true;
      document.removeEventListener("focusin", keepFocus);
      password.value = "";
      username.value = "";
      error.textContent = "";
      session = null;
    },
  };
}
