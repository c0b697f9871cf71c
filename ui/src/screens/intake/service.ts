// Intake's second step, finding the service: searched as the clerk types, or browsed by life
// event, target group or category. A hit opens the service (form.ts).

import { api, type Browse, type BrowseEntry, type ServiceHit, type ServiceView } from "../../api";
import { TYPING_PAUSE_MS, latestOnly, type Ctx } from "../../app";
import { field, fill, h } from "../../dom";
import { formatMoney, t, text } from "../../i18n";
import { explain } from "../../messages";
import { catalogueIndex } from "../queue";

type BrowseBy = "life_events" | "target_groups" | "categories";

export interface ServiceHooks {
  /** Shows the service the clerk chose among the hits. */
  open(code: string): Promise<void>;
}

export interface ServiceStep {
  el: HTMLElement;
  focus(): void;
  /** Empties the search and its hits. */
  reset(): void;
  /** Empties the search and puts the cursor in it, for another service. */
  again(): void;
  /** Puts the cursor in the search, its text selected to be typed over. */
  focusSearch(): void;
  /** The name of a target group, or its code while the catalogue's index is not in. */
  targetGroup(code: string): string;
}

export function feeText(fee: ServiceView["fee"]): string {
  return fee.kind === "free" ? t("fee.free") : formatMoney(fee.amount.minor, fee.amount.currency);
}

export function serviceStep(ctx: Ctx, hooks: ServiceHooks): ServiceStep {
  const serviceBox = h("div", { class: "card", id: "service-box", "aria-labelledby": "service-title" });
  const search = h("input", {
    id: "service-search",
    type: "search",
    autocomplete: "off",
    maxlength: "200",
    placeholder: t("intake.service.search_hint"),
  });
  const browseBy = h(
    "select",
    { id: "browse-by" },
    ...(["life_events", "target_groups", "categories"] as BrowseBy[]).map((b) =>
      h("option", { value: b }, t(`intake.browse.${b}`)),
    ),
  );
  const browseList = h("ul", { class: "choices", id: "browse-list" });
  const results = h("ul", { class: "choices", id: "service-results", "aria-live": "polite" });
  let browse: Browse | null = null;
  let searchTimer: ReturnType<typeof setTimeout> | undefined;

  function drawBrowse(): void {
    if (!browse) return;
    const by = browseBy.value as BrowseBy;
    fill(browseList, browseItems(browse[by], by, (filters) => void runSearch(filters)));
  }
  browseBy.addEventListener("change", drawBrowse);

  // Only the latest search's hits are shown: a slow machine may answer "pho" after "photos".
  const askSearch = latestOnly();

  async function runSearch(filters: Record<string, string> = {}): Promise<void> {
    const latest = askSearch();
    await ctx.act("search", async () => {
      try {
        const hits = await api.searchServices({ text: search.value.trim() || null, ...filters, limit: 20 });
        if (latest()) fill(results, hitItems(hits, hooks.open));
      } catch (err) {
        // In the hits' place: the hits of the search before are not this one's.
        if (latest()) fill(results, h("li", { class: "error", id: "search-error", role: "alert" }, explain(err)));
      }
    });
  }

  search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => void runSearch(), TYPING_PAUSE_MS);
  });
  search.addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      clearTimeout(searchTimer);
      void runSearch();
    }
    if (e.key === "ArrowDown") {
      e.preventDefault();
      (results.querySelector("button") as HTMLButtonElement | null)?.focus();
    }
  });

  fill(
    serviceBox,
    h("h2", { id: "service-title" }, t("intake.service.title")),
    field(t("intake.service.search"), search),
    results,
    field(t("intake.browse.by"), browseBy),
    browseList,
  );

  /** Reads what to browse: when the screen is made and each time it is shown again, so that
   * a catalogue that came with a sync since (a device enrolled a moment ago) is offered; one
   * that cannot be read says why in its place. */
  function readBrowse(): void {
    void catalogueIndex()
      .then((b) => {
        if (b === browse) return;
        browse = b;
        drawBrowse();
      })
      .catch((err: unknown) => {
        browse = null;
        fill(browseList, h("li", { class: "error", id: "browse-error" }, explain(err)));
      });
  }
  readBrowse();

  return {
    el: serviceBox,
    focus: () => search.focus(),
    reset() {
      search.value = "";
      fill(results);
      readBrowse();
    },
    again() {
      search.value = "";
      search.focus();
    },
    focusSearch() {
      search.focus();
      search.select();
    },
    targetGroup: (code) => text(browse?.target_groups.find((g) => g.code === code)?.name) || code,
  };
}

/** The entries browsed `by`, each searching for its services when chosen. */
function browseItems(entries: BrowseEntry[], by: BrowseBy, run: (filters: Record<string, string>) => void): HTMLElement[] {
  return entries.map((entry) =>
    h(
      "li",
      {},
      h(
        "button",
        {
          type: "button",
          class: "choice",
          onclick: () => {
            const filter = by === "life_events" ? "life_event" : by === "target_groups" ? "target_group" : "category";
            run({ [filter]: entry.code });
          },
        },
        `${text(entry.name)} (${entry.services})`,
      ),
    ),
  );
}

/** The services found, each opening when chosen, or a line saying there is none. */
function hitItems(hits: ServiceHit[], open: (code: string) => Promise<void>): HTMLElement | HTMLElement[] {
  return hits.length === 0
    ? h("li", { class: "muted" }, t("intake.service.none"))
    : hits.map((hit) =>
        h(
          "li",
          {},
          h(
            "button",
            {
              type: "button",
              class: "choice",
              "data-code": hit.code,
              onclick: () => void open(hit.code),
            },
            h("span", { class: "strong" }, text(hit.title)),
            h(
              "span",
              { class: "muted" },
              ` · ${feeText(hit.fee)} · ${t("intake.service.days", { count: hit.processing_days })} · ${
                hit.depth_here ? t(`depth.${hit.depth_here}`) : t("depth.none")
              }`,
            ),
          ),
        ),
      );
}
