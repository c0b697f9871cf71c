// First run: set the workstation up standalone (demo catalogue) or enrolled with a back office.

import { api } from "../api";
import type { Ctx } from "../app";
import { field, h } from "../dom";
import { t } from "../i18n";
import { explain } from "../messages";

export function firstRun(ctx: Ctx): HTMLElement {
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
  const clerk = h("input", { name: "clerk", value: "", required: true, autocomplete: "off" });

  const standalone = h(
    "form",
    {
      class: "card",
      id: "setup-standalone",
      "aria-labelledby": "setup-standalone-title",
      onsubmit: (e: Event) => {
        e.preventDefault();
        void ctx.act("setup", async () => {
          standaloneError.textContent = "";
          try {
            await api.setupStandalone({
              center_code: center.value,
              center_name: centerName.value,
              center_kind: kind.value,
              device_code: device.value,
              clerk: clerk.value,
            });
            await ctx.refresh();
            ctx.go("queue");
          } catch (err) {
            standaloneError.textContent = explain(err);
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
    field(t("firstrun.clerk"), clerk),
    standaloneError,
    h("button", { type: "submit", class: "primary" }, t("firstrun.standalone.submit")),
  );

  const server = h("input", { name: "server", type: "url", placeholder: "https://…", autocomplete: "off" });
  const code = h("input", { name: "code", autocomplete: "off" });
  const clerk2 = h("input", { name: "clerk", autocomplete: "off" });
  const enroll = h(
    "form",
    {
      class: "card",
      id: "setup-enroll",
      "aria-labelledby": "setup-enroll-title",
      onsubmit: (e: Event) => {
        e.preventDefault();
        void ctx.act("enroll", async () => {
          enrollError.textContent = t("firstrun.enroll.working");
          try {
            await api.enroll(server.value, code.value, clerk2.value);
            enrollError.textContent = "";
            await ctx.refresh();
            ctx.go("queue");
          } catch (err) {
            enrollError.textContent = explain(err);
          }
        });
      },
    },
    h("h2", { id: "setup-enroll-title" }, t("firstrun.enroll.title")),
    h("p", {}, t("firstrun.enroll.hint")),
    field(t("firstrun.server"), server),
    field(t("firstrun.code"), code),
    field(t("firstrun.clerk"), clerk2),
    enrollError,
    h("button", { type: "submit" }, t("firstrun.enroll.submit")),
  );

  setTimeout(() => clerk.focus(), 0);
  return h(
    "section",
    { class: "screen firstrun", "aria-labelledby": "firstrun-title" },
    h("h1", { id: "firstrun-title" }, t("firstrun.title")),
    h("p", { class: "lead" }, t("firstrun.lead")),
    h("div", { class: "columns" }, standalone, enroll),
  );
}
