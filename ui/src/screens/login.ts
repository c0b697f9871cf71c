// Login: every act at the counter is made by a clerk who logged in with their own account.

import { api } from "../api";
import { damaged, type Ctx } from "../app";
import { field, h, isBusy, whileBusy } from "../dom";
import { t } from "../i18n";
import { explain } from "../messages";

export interface LoginScreen {
  el: HTMLElement;
  /** Shows the form empty, the user name focused. */
  show(): void;
}

/** A user name as the core keeps it: user names are lowercase, so "Eleni " is eleni. */
export function typedUsername(typed: string): string {
  return typed.trim().toLowerCase();
}

export function loginScreen(ctx: Ctx): LoginScreen {
  const error = h("p", { class: "error", role: "alert", id: "login-error" });
  const username = h("input", {
    id: "login-username",
    name: "username",
    required: true,
    autocomplete: "username",
    autocapitalize: "none",
    spellcheck: "false",
  });
  const password = h("input", {
    id: "login-password",
    name: "password",
    type: "password",
    required: true,
    autocomplete: "current-password",
  });
  const submit = h("button", { type: "submit", class: "primary", id: "login-submit" }, t("login.submit"));

  const form = h(
    "form",
    {
      class: "card login",
      id: "login-form",
      "aria-labelledby": "login-title",
      onsubmit: (e: Event) => {
        e.preventDefault();
        if (isBusy(submit)) return;
        void ctx.act("login", () =>
          whileBusy(submit, async () => {
            if (error.textContent) error.textContent = "";
            try {
              const state = await api.login(typedUsername(username.value), password.value);
              password.value = "";
              // The first login of a standalone workstation of an earlier release encrypted
              // its data: its recovery key is shown once, before anything else.
              const key = state.recovery_key;
              await ctx.refresh({ ...state, recovery_key: null });
              if (key) ctx.showRecoveryKey(key);
              else ctx.go("queue");
            } catch (err) {
              if (damaged(err)) return;
              // The same answer for a wrong password and an unknown clerk; the clerk types the
              // password again, the name stays.
              error.textContent = explain(err);
              password.value = "";
              password.focus();
            }
          }),
        );
      },
    },
    h("h1", { id: "login-title" }, t("login.title")),
    h("p", { class: "lead" }, t("login.lead")),
    field(t("login.username"), username),
    field(t("login.password"), password),
    error,
    submit,
  );

  const el = h("section", { class: "screen login-screen", "aria-labelledby": "login-title" }, form);
  return {
    el,
    show() {
      el.replaceChildren(form);
      error.textContent = "";
      username.value = "";
      password.value = "";
      setTimeout(() => username.focus(), 0);
    },
  };
}
