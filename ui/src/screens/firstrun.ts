// First run: set the workstation up standalone (demo catalogue), with its first administrator
// account, or enrolled with a back office, whose accounts the centre's clerks then log in with.

import { api, type CenterKind } from "../api";
import type { Ctx } from "../app";
import { KEEP_TYPED, field, h, isBusy, whileBusy } from "../dom";
import { formatDateTime, machineTimeZone, t } from "../i18n";
import { CoreError, explain } from "../messages";

/** The shortest password the core accepts (guichet_domain::account::MIN_PASSWORD_CHARS). */
export const MIN_PASSWORD_CHARS = 10;

export function firstRun(ctx: Ctx): HTMLElement {
  /** Another program (the command line) set this data directory up while this screen was
   * open: the core now holds that workstation, so the refusal is said with the way on to its
   * login screen. */
  function setUpMeanwhile(box: HTMLElement, err: unknown): boolean {
    if (!(err instanceof CoreError) || err.key !== "error.already_set_up") return false;
    const onward = h("button", { type: "button", id: "to-login" }, t("firstrun.to_login"));
    onward.addEventListener("click", () => {
      ctx
        .refresh()
        .then(() => ctx.go("login"))
        .catch((problem: unknown) => {
          box.replaceChildren(explain(problem), " ", onward);
        });
    });
    box.replaceChildren(explain(err), " ", onward);
    onward.focus();
    return true;
  }

  const standaloneError = h("p", { class: "error", role: "alert" });
  const enrollError = h("p", { class: "error", role: "alert" });

  const center = h("input", { name: "center_code", value: "ATH-01", required: true, autocomplete: "off" });
  const centerName = h("input", { name: "center_name", value: "Athens Central", required: true });
  const kind = h(
    "select",
    { name: "center_kind" },
    ...["stationary", "mobile", "kiosk"].map((k) => h("option", { value: k }, t(`center_kind.${k}`))),
  );
  const device = h("input", { name: "device_code", value: "D1", required: true, autocomplete: "off" });
  // The centre's rules: how national ids are checked, the currency fees are paid in, and the
  // waiting time the dashboard and reports hold the queue to.
  const idScheme = h(
    "select",
    { id: "setup-id-scheme", name: "national_id_scheme" },
    ...["ee-isikukood", "plain"].map((s) => h("option", { value: s }, t(`firstrun.id_scheme.${s}`))),
  );
  const currency = h("input", {
    id: "setup-currency",
    name: "currency",
    value: "EUR",
    required: true,
    maxlength: "3",
    autocomplete: "off",
    autocapitalize: "characters",
    spellcheck: "false",
  });
  const waitingTarget = h("input", {
    id: "setup-waiting-target",
    name: "waiting_target_min",
    type: "number",
    min: "1",
    max: "600",
    value: "15",
    required: true,
  });
  // The centre's time zone: its days (reports, due dates, the queue's day) and hours. The
  // machine's own is offered first; the list holds every zone this window knows.
  const zones = h(
    "datalist",
    { id: "setup-time-zones" },
    ...(typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : []).map((z) =>
      h("option", { value: z }),
    ),
  );
  const timeZone = h("input", {
    id: "setup-time-zone",
    name: "time_zone",
    value: machineTimeZone(),
    required: true,
    list: "setup-time-zones",
    autocomplete: "off",
    spellcheck: "false",
  });
  // The first administrator: who sets the workstation up, and later manages the accounts.
  const adminUser = h("input", {
    id: "setup-admin-username",
    name: "admin_username",
    required: true,
    autocomplete: "username",
    autocapitalize: "none",
    spellcheck: "false",
  });
  const adminName = h("input", { id: "setup-admin-name", name: "admin_name", required: true, autocomplete: "name" });
  const password = h("input", {
    id: "setup-admin-password",
    name: "admin_password",
    type: "password",
    required: true,
    autocomplete: "new-password",
  });
  const password2 = h("input", {
    id: "setup-admin-password2",
    name: "admin_password2",
    type: "password",
    required: true,
    autocomplete: "new-password",
  });
  const usernameHint = h("p", { class: "hint" }, t("firstrun.username_hint"));
  const passwordRule = h("p", { class: "hint" }, t("firstrun.password_rule", { min: MIN_PASSWORD_CHARS }));
  password2.addEventListener("input", () => password2.removeAttribute("aria-invalid"));

  const standalone = h(
    "form",
    {
      class: "card",
      id: "setup-standalone",
      [KEEP_TYPED]: true,
      "aria-labelledby": "setup-standalone-title",
      onsubmit: (e: Event) => {
        e.preventDefault();
        // Two different passwords are refused here: the administrator would not know which
        // one the account got.
        if (password.value !== password2.value) {
          standaloneError.textContent = t("firstrun.password_mismatch");
          password2.setAttribute("aria-invalid", "true");
          password2.value = "";
          password2.focus();
          return;
        }
        void ctx.act("setup", async () => {
          standaloneError.textContent = "";
          try {
            const done = await api.setupStandalone({
              center_code: center.value,
              center_name: centerName.value,
              center_kind: kind.value as CenterKind,
              device_code: device.value,
              admin_username: adminUser.value.trim(),
              admin_name: adminName.value.trim(),
              admin_password: password.value,
              national_id_scheme: idScheme.value,
              currency: currency.value.trim().toUpperCase(),
              waiting_target_min: Number(waitingTarget.value),
              time_zone: timeZone.value.trim(),
            });
            password.value = password2.value = "";
            // The administrator is logged in now: the window's state is read again, so that
            // the idle lock counts from here; the recovery key is shown once, then the queue,
            // whether that read worked or not (the core hands the key out only once).
            try {
              await ctx.refresh();
            } finally {
              ctx.showRecoveryKey(done.recovery_key);
            }
          } catch (err) {
            if (!setUpMeanwhile(standaloneError, err)) standaloneError.textContent = explain(err);
          }
        });
      },
    },
    h("h2", { id: "setup-standalone-title" }, t("firstrun.standalone.title")),
    h("p", {}, t("firstrun.standalone.hint")),
    field(t("firstrun.center_code"), center),
    field(t("firstrun.center_name"), centerName),
    field(t("firstrun.center_kind"), kind),
    field(t("firstrun.device_code"), device),
    field(t("firstrun.id_scheme"), idScheme),
    field(t("firstrun.currency"), currency, h("p", { class: "hint" }, t("firstrun.currency_hint"))),
    field(t("firstrun.waiting_target"), waitingTarget),
    field(t("firstrun.time_zone"), timeZone, h("p", { class: "hint" }, t("firstrun.time_zone_hint"))),
    zones,
    h(
      "fieldset",
      { id: "setup-admin" },
      h("legend", {}, t("firstrun.admin.title")),
      h("p", { class: "hint" }, t("firstrun.admin.hint")),
      field(t("firstrun.admin_username"), adminUser, usernameHint),
      field(t("firstrun.admin_name"), adminName),
      field(t("firstrun.admin_password"), password, passwordRule),
      field(t("firstrun.admin_password2"), password2),
    ),
    standaloneError,
    h("button", { type: "submit", class: "primary" }, t("firstrun.standalone.submit")),
  );

  const server = h("input", { name: "server", type: "url", placeholder: "https://…", autocomplete: "off" });
  const code = h("input", { name: "code", autocomplete: "off" });
  // Only for a back office on a trusted network without HTTPS: the status bar warns afterwards.
  const allowHttp = h("input", { type: "checkbox", id: "enroll-allow-http", name: "allow_insecure_http" });
  // The CA of a back office whose certificate a private authority signed.
  const caCert = h("input", { type: "file", id: "enroll-ca-cert", name: "ca_cert", accept: ".pem,.crt,.cer" });
  const serverError = h("span", { class: "field-error", id: "enroll-server-error" });
  const codeError = h("span", { class: "field-error", id: "enroll-code-error" });
  /** Shows `message` beside `input` (none clears it). */
  const mark = (input: HTMLInputElement, at: HTMLElement, message = ""): void => {
    at.textContent = message;
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  };
  server.addEventListener("input", () => mark(server, serverError));
  code.addEventListener("input", () => mark(code, codeError));
  const enrollButton = h("button", { type: "submit", id: "enroll-submit" }, t("firstrun.enroll.submit"));
  // The link's options; a box ticked before a change of language is shown ticked, open.
  const link = h(
    "details",
    { id: "enroll-link" },
    h("summary", {}, t("firstrun.enroll.link")),
    h("label", { class: "field inline" }, allowHttp, t("firstrun.enroll.allow_http")),
    h("p", { class: "hint" }, t("firstrun.enroll.allow_http_hint")),
    field(t("firstrun.enroll.ca_cert"), caCert, h("p", { class: "hint" }, t("firstrun.enroll.ca_cert_hint"))),
  );
  allowHttp.addEventListener("change", () => {
    if (allowHttp.checked) link.open = true;
  });
  const enroll = h(
    "form",
    {
      class: "card",
      id: "setup-enroll",
      [KEEP_TYPED]: true,
      "aria-labelledby": "setup-enroll-title",
      onsubmit: (e: Event) => {
        e.preventDefault();
        // The back office may take a while to answer over a slow link: a second press sends
        // the code no second time.
        if (isBusy(enrollButton)) return;
        void whileBusy(enrollButton, () => ctx.act("enroll", async () => {
          mark(server, serverError, server.value.trim() ? "" : t("firstrun.enroll.server_needed"));
          mark(code, codeError, code.value.trim() ? "" : t("firstrun.enroll.code_needed"));
          if (!server.value.trim() || !code.value.trim()) {
            enrollError.textContent = "";
            (server.value.trim() ? code : server).focus();
            return;
          }
          enrollError.textContent = t("firstrun.enroll.working");
          try {
            const file = caCert.files?.[0];
            await api.enroll(server.value, code.value, {
              allow_insecure_http: allowHttp.checked,
              ca_cert: file ? await file.text() : null,
            });
            enrollError.textContent = "";
            // Nobody is logged in yet: the centre's clerks log in with their own accounts.
            await ctx.refresh();
            ctx.go("login");
          } catch (err) {
            const key = err instanceof CoreError ? err.key : null;
            // Nothing waits to be sent before enrolment: an unreachable back office is said as such.
            if (key === "error.sync.enrol_offline") {
              enrollError.textContent = t("firstrun.enroll.unreachable", { server: server.value.trim() });
            } else if (key === "error.sync.address") {
              enrollError.textContent = "";
              mark(server, serverError, explain(err));
              server.focus();
            } else if (key === "error.sync.tls" || key === "error.sync.insecure_http") {
              // The core's words name the command line's flags: here, the network options
              // open at the control that mends it.
              const tls = key === "error.sync.tls";
              const detail = err instanceof CoreError && typeof err.args.detail === "string" ? err.args.detail : "";
              enrollError.textContent = tls ? t("firstrun.enroll.tls", { detail }) : t("firstrun.enroll.insecure_http", { server: server.value.trim() });
              link.open = true;
              (tls ? caCert : allowHttp).focus();
            } else if (key === "error.sync.enrolment_code") {
              // A code the back office does not take is said beside the code.
              enrollError.textContent = "";
              mark(code, codeError, explain(err));
              code.focus();
            } else if (!setUpMeanwhile(enrollError, err)) {
              enrollError.textContent = explain(err);
            }
          }
        }));
      },
    },
    h("h2", { id: "setup-enroll-title" }, t("firstrun.enroll.title")),
    h("p", {}, t("firstrun.enroll.hint")),
    field(t("firstrun.server"), server, serverError),
    field(t("firstrun.code"), code, codeError),
    link,
    enrollError,
    enrollButton,
  );

  setTimeout(() => adminUser.focus(), 0);
  const screen = h(
    "section",
    { class: "screen firstrun", "aria-labelledby": "firstrun-title" },
    h("h1", { id: "firstrun-title" }, t("firstrun.title")),
    ctx.state.erased
      ? h(
          "p",
          { class: "notice", id: "erased-note", role: "note" },
          t("firstrun.erased", {
            device: ctx.state.erased.device_code,
            center: ctx.state.erased.center_code,
            at: formatDateTime(ctx.state.erased.at),
          }),
        )
      : null,
    keptAsideNote(ctx),
    h("p", { class: "lead" }, t("firstrun.lead")),
    h("div", { class: "columns" }, standalone, enroll),
  );
  return screen;
}

/** A damaged database was kept aside here: what to do now that the computer is empty. */
function keptAsideNote(ctx: Ctx): HTMLElement | null {
  const kept = ctx.state.kept_aside[0];
  if (!kept) return null;
  return h(
    "p",
    { class: "notice", id: "kept-aside-note", role: "note" },
    t("firstrun.kept_aside", { file: kept.file, at: formatDateTime(kept.at) }),
    " ",
    kept.server
      ? t("firstrun.kept_aside_enrolled", { server: kept.server, device: kept.device_code ?? "?" })
      : t("firstrun.kept_aside_standalone"),
  );
}

/** The device's recovery key, shown once after set-up (or after the login that encrypted the
 * data of an earlier release) for the administrator to write down: the data is encrypted,
 * and this key opens it if every administrator forgets their password. `next` goes on. */
export function recoveryCard(key: string, next: () => Promise<void>): HTMLElement {
  const done = h("button", { type: "button", class: "primary", id: "recovery-done" }, t("firstrun.recovery.done"));
  // Going on can fail (the window's state cannot be read): the key stays shown, and why.
  const problem = h("p", { class: "error", role: "alert", id: "recovery-error" });
  done.addEventListener("click", () => {
    problem.textContent = "";
    next().catch((err: unknown) => {
      problem.textContent = explain(err);
    });
  });
  setTimeout(() => done.focus(), 0);
  return h(
    "section",
    { class: "screen firstrun", "aria-labelledby": "recovery-title" },
    h(
      "div",
      { class: "card recovery", id: "recovery-card", role: "alertdialog", "aria-labelledby": "recovery-title", "aria-describedby": "recovery-lead" },
      h("h1", { id: "recovery-title" }, t("firstrun.recovery.title")),
      h("p", { id: "recovery-lead" }, t("firstrun.recovery.lead")),
      h("p", { class: "recovery-key" }, h("code", { id: "recovery-key" }, key)),
      h("p", { class: "hint" }, t("firstrun.recovery.hint")),
      problem,
      done,
    ),
  );
}
