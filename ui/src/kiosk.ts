// The ticket kiosk, on a touch screen at the entrance: the citizen chooses their language,
// what they come for (a category of services) and, if it applies to them, a priority, and
// takes the printed ticket with its number and how many wait before it. It gives tickets from
// this workstation's queue, so it works offline, while a clerk has Guichet open here; when
// nobody has, it asks the citizen to go to the counter. After a ticket, or a minute without a
// touch, it starts again for the next citizen.

import { api, type KioskMenu, type KioskTicket, type Lane } from "./api";
import { fill, h } from "./dom";
import { LANGS, compareText, lang, setLang, t, text } from "./i18n";
import { CoreError, explain } from "./messages";

/** How long the ticket stays on the screen before the kiosk starts again. */
export const TICKET_SHOWN_MS = 15_000;

/** How long a half-made choice waits for the next touch. */
export const IDLE_MS = 60_000;

/** How long the kiosk asks a citizen who touched again too soon to wait. */
export const BUSY_SHOWN_MS = 4_000;

/** How often a closed kiosk asks again whether it may give tickets. */
export const RETRY_MS = 5_000;

/** The lanes as the kiosk offers them: the standard one (called last) first, as most come for
 * it, then the priorities. */
export function lanesOffered(lanes: Lane[]): Lane[] {
  return [...lanes].sort((a, b) => b.rank - a.rank);
}

export interface Kiosk {
  /** Starts again at the first question, with the menu read afresh. */
  restart(): Promise<void>;
}

/** The kiosk in `root`. */
export function ticketKiosk(root: HTMLElement): Kiosk {
  // Each citizen starts in the language the kiosk opened in.
  const home = lang();
  let menu: KioskMenu | null = null;
  let category: string | null = null;
  let timer = 0;
  const title = h("h1", { id: "kiosk-centre" });
  const body = h("section", { id: "kiosk-step", class: "kiosk-step", "aria-live": "polite" });
  const languages = h(
    "div",
    { class: "kiosk-languages", role: "group", "aria-label": t("kiosk.language") },
    ...LANGS.map((l) =>
      h(
        "button",
        {
          type: "button",
          id: `kiosk-lang-${l}`,
          lang: l,
          // The citizen's choice, for their ticket only: the clerk's window keeps its own,
          // and the next citizen finds the kiosk's own after a minute without a touch.
          onclick: () => {
            setLang(l);
            later(IDLE_MS);
            draw();
          },
        },
        t(`language.${l}`, {}, l),
      ),
    ),
  );
  // No way out of the kiosk from its own screen: it opens full screen on the touch screen at
  // the entrance, and the clerk's window closes it.
  fill(root, h("main", { class: "kiosk", "aria-labelledby": "kiosk-centre" }, h("header", { class: "kiosk-head" }, title, languages), body));

  /** Starts again after `ms` without a touch. */
  function later(ms: number): void {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => void kiosk.restart(), ms);
  }

  function big(id: string, label: string, onclick: () => void, extra = ""): HTMLButtonElement {
    return h("button", { type: "button", id, class: `kiosk-choice ${extra}`.trim(), onclick }, label);
  }

  function draw(): void {
    languages.setAttribute("aria-label", t("kiosk.language"));
    for (const l of LANGS) {
      document.getElementById(`kiosk-lang-${l}`)?.setAttribute("aria-pressed", String(l === lang()));
    }
    if (menu === null) return;
    title.textContent = menu.center_name;
    if (category === null) {
      fill(
        body,
        h("h2", { id: "kiosk-question" }, t("kiosk.what_for")),
        h(
          "div",
          { class: "kiosk-choices", role: "group", "aria-labelledby": "kiosk-question" },
          [...menu.categories]
            .sort((a, b) => compareText(text(a.name), text(b.name)))
            .map((c) =>
            big(`kiosk-category-${c.code}`, text(c.name), () => {
              category = c.code;
              later(IDLE_MS);
              draw();
            }),
          ),
        ),
      );
      return;
    }
    fill(
      body,
      h("h2", { id: "kiosk-question" }, t("kiosk.priority")),
      h(
        "div",
        { class: "kiosk-choices", role: "group", "aria-labelledby": "kiosk-question" },
        lanesOffered(menu.lanes).map((l) => big(`kiosk-lane-${l.code}`, text(l.name), () => void give(l.code))),
      ),
      big("kiosk-back", t("kiosk.back"), () => {
        category = null;
        draw();
      }, "back"),
    );
  }

  async function give(laneCode: string): Promise<void> {
    if (category === null) return;
    fill(body, h("p", { class: "kiosk-wait" }, t("kiosk.printing")));
    try {
      shown(await api.kioskTicket(category, laneCode, lang()));
    } catch (err) {
      // Touched again too soon: the citizen waits a moment and starts again.
      if (err instanceof CoreError && err.key === "error.kiosk_busy") {
        fill(body, h("p", { id: "kiosk-busy", class: "kiosk-wait", role: "status" }, explain(err)));
        later(BUSY_SHOWN_MS);
      } else closed();
    }
  }

  function shown(ticket: KioskTicket): void {
    const reprinted = h("p", { id: "kiosk-print-state", role: "status" }, ticket.printed ? t("kiosk.take_ticket") : t("kiosk.not_printed"));
    // One print at a time, and none once the slip came out or may not come out any more.
    const reprint = big("kiosk-reprint", t("kiosk.print_again"), () => {
      if (reprint.disabled) return;
      reprint.disabled = true;
      void api.kioskReprint(ticket.id, lang()).then(
        () => {
          reprinted.textContent = t("kiosk.take_ticket");
          reprint.remove();
        },
        (err: unknown) => {
          const last = err instanceof CoreError && err.key === "error.kiosk_not_reprintable";
          reprinted.textContent = last ? explain(err) : t("kiosk.not_printed");
          if (last) reprint.remove();
          else reprint.disabled = false;
        },
      );
    });
    fill(
      body,
      h("h2", { id: "kiosk-question" }, t("kiosk.your_number")),
      h("p", { id: "kiosk-code", class: "kiosk-code" }, ticket.code),
      h("p", { id: "kiosk-ahead", class: "kiosk-ahead" }, t("kiosk.ahead", { count: ticket.ahead })),
      reprinted,
      ticket.printed ? null : reprint,
      big("kiosk-done", t("kiosk.done"), () => void kiosk.restart(), "back"),
    );
    later(TICKET_SHOWN_MS);
  }

  /** No clerk has Guichet open here: the citizen goes to the counter. */
  function closed(): void {
    menu = null;
    category = null;
    fill(body, h("p", { id: "kiosk-closed", class: "kiosk-closed" }, t("kiosk.closed")));
    later(RETRY_MS);
  }

  const kiosk: Kiosk = {
    async restart() {
      window.clearTimeout(timer);
      category = null;
      setLang(home);
      try {
        menu = await api.kioskMenu();
        draw();
      } catch {
        closed();
      }
      document.body.dataset.ready = "true";
    },
  };
  return kiosk;
}
