// The update of the app that the back office offers, once the app has downloaded it and
// verified its signature: offered on the queue screen at a quiet moment only (no citizen at
// this counter, no sync running), never in the middle of a visit.

import { api, type StatusBar } from "./api";
import { fill, h } from "./dom";
import { t } from "./i18n";
import { explain } from "./messages";

/** Sent on `window` with each new status bar, for the queue screen's offer. */
export const STATUS = "guichet:status";

/** What the offer says and whether it can be installed now; null when there is nothing to offer. */
export function offerView(status: StatusBar, citizenAtCounter: boolean): { text: string; install: boolean } | null {
  const u = status.update;
  if (!u || citizenAtCounter) return null;
  switch (u.state) {
    case "ready":
      return { text: t("update.ready", { version: u.version }), install: status.phase !== "syncing" };
    case "failed":
      // Without the package (the install lost it), there is nothing to try again with: it is
      // downloaded again at the next sync, then offered.
      return u.again
        ? { text: t("update.failed", { version: u.version, reason: u.reason }), install: status.phase !== "syncing" }
        : { text: t("update.failed_lost", { version: u.version, reason: u.reason }), install: false };
    case "installing":
      return { text: t("update.installing", { version: u.version }), install: false };
    default:
      return null;
  }
}

/** The offer's panel: `draw` again whenever the status or the counter changes. */
export function updateOffer(): { el: HTMLElement; draw(status: StatusBar | null, citizenAtCounter: boolean): void } {
  const text = h("p", { id: "update-text" });
  const error = h("p", { class: "error", role: "alert", id: "update-error" });
  let installing = false;
  const install = h(
    "button",
    {
      type: "button",
      id: "update-install",
      class: "primary",
      onclick: () => {
        installing = true;
        install.disabled = true;
        error.textContent = "";
        api.installUpdate().catch((err: unknown) => {
          installing = false;
          install.disabled = false;
          error.textContent = explain(err);
        });
      },
    },
    t("update.install"),
  );
  const el = h("section", { class: "card update-offer", id: "update-offer", "aria-labelledby": "update-title", hidden: true });
  fill(el, h("h2", { id: "update-title" }, t("update.title")), text, install, error);
  return {
    el,
    draw(status, citizenAtCounter) {
      const view = status ? offerView(status, citizenAtCounter) : null;
      // A refusal of the last attempt stays in sight, but nothing is installed while a
      // citizen is at the counter.
      el.hidden = view === null && !error.textContent;
      if (!view) {
        install.hidden = true;
        return;
      }
      if (text.textContent !== view.text) text.textContent = view.text;
      install.hidden = !view.install && !installing;
      install.disabled = installing || !view.install;
    },
  };
}
