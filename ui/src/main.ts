// The window: header with navigation and language, the current screen, the status bar, the
// help overlay; global shortcuts.

import "./style.css";
import { api, onStatus, type StatusBar } from "./api";
import { SYNCED, emptyVisit, painted, record, timings, type Ctx, type Screen } from "./app";
import { fill, h } from "./dom";
import { LANGS, isLang, lang, onLangChange, setLang, t } from "./i18n";
import { explain } from "./messages";
import { firstRun } from "./screens/firstrun";
import { dashboardScreen, type DashboardScreen } from "./screens/dashboard";
import { feedbackScreen } from "./screens/feedback";
import { intakeScreen, type IntakeScreen } from "./screens/intake";
import { queueScreen, type QueueScreen } from "./screens/queue";
import { requestsScreen, type RequestsScreen } from "./screens/requests";
import { commandFor, SHORTCUTS, type Command } from "./shortcuts";
import { statusView } from "./status";

declare global {
  interface Window {
    /** Action timings, read by the end-to-end benchmark. */
    guichetTimings: Record<string, number[]>;
  }
}
window.guichetTimings = timings;

const root = document.getElementById("app")!;
const header = h("header", { class: "top" });
const main = h("main", { id: "main", tabindex: -1 });
const statusBar = h("footer", { class: "status", id: "status-bar", role: "status", "aria-live": "polite" });
const announcer = h("div", { class: "visually-hidden", "aria-live": "assertive", id: "announcer" });
const toast = h("p", { class: "toast", id: "toast", hidden: true });
const help = h("div", { class: "overlay", id: "help", role: "dialog", "aria-modal": "true", "aria-labelledby": "help-title", hidden: true });
root.append(header, main, toast, statusBar, announcer, help);

let screen: Screen = "firstrun";
let queue: QueueScreen | null = null;
let intake: IntakeScreen | null = null;
let requests: RequestsScreen | null = null;
let dashboard: DashboardScreen | null = null;
let lastStatus: StatusBar | null = null;

const saved = localStorage.getItem("guichet.lang");
if (isLang(saved)) setLang(saved);

const ctx: Ctx = {
  state: await api.appState(),
  counter: "",
  visit: emptyVisit(),
  go,
  refresh,
  announce,
  async act(label, action) {
    const started = performance.now();
    try {
      await action();
    } catch (err) {
      announce(explain(err), "error");
    }
    await painted();
    record(label, performance.now() - started);
  },
};
pickCounter();
lastStatus = ctx.state.status;

async function refresh(): Promise<void> {
  ctx.state = await api.appState();
  pickCounter();
  drawStatus(ctx.state.status);
}

function pickCounter(): void {
  const codes = ctx.state.counters.map((c) => c.code);
  const stored = localStorage.getItem("guichet.counter") ?? "";
  ctx.counter = codes.includes(stored) ? stored : (codes[0] ?? "");
}

function announce(message: string, tone: "info" | "error" = "info"): void {
  announcer.textContent = message;
  toast.textContent = message;
  toast.className = `toast ${tone}`;
  toast.hidden = false;
  setTimeout(() => {
    if (toast.textContent === message) toast.hidden = true;
  }, 4000);
}

function go(next: Screen): void {
  if (!ctx.state.config) next = "firstrun";
  queue?.stop();
  dashboard?.stop();
  queue = intake = requests = dashboard = null;
  screen = next;
  drawHeader();
  let el: HTMLElement;
  switch (next) {
    case "firstrun":
      el = firstRun(ctx);
      break;
    case "queue":
      queue = kept("queue", () => queueScreen(ctx));
      queue.show();
      el = queue.el;
      break;
    case "intake":
      intake = kept("intake", () => intakeScreen(ctx));
      intake.show();
      el = intake.el;
      break;
    case "requests":
      requests = requestsScreen(ctx);
      el = requests.el;
      break;
    case "dashboard":
      dashboard = dashboardScreen(ctx);
      el = dashboard.el;
      break;
    case "feedback":
    default: {
      const feedback = kept("feedback", () => feedbackScreen(ctx));
      feedback.show();
      el = feedback.el;
      break;
    }
  }
  fill(main, el);
}

// The queue, intake and feedback screens are made once (for a language and a set-up) and
// shown again: a clerk goes through all three for every citizen, and WebKitGTK keeps part of
// each form control a page has shown until the page goes away (README, Benchmarks).
const keptScreens = new Map<Screen, { madeFor: string; screen: unknown }>();

function kept<S>(name: Screen, make: () => S): S {
  const madeFor = JSON.stringify([lang(), ctx.state.config, ctx.state.counters, ctx.state.lanes]);
  const found = keptScreens.get(name);
  if (found && found.madeFor === madeFor) return found.screen as S;
  const screen = make();
  keptScreens.set(name, { madeFor, screen });
  return screen;
}

// The header is made again only when the language or the set-up changes; moving between
// screens only marks the current one. WebKitGTK keeps part of each form control a page has
// shown until the page goes away (README, Benchmarks), and the header has six.
let headerDrawnFor = "";

function drawHeader(): void {
  const config = ctx.state.config;
  const drawnFor = JSON.stringify([lang(), config?.center_name, config?.device_code, config?.default_clerk]);
  if (drawnFor === headerDrawnFor) {
    for (const button of header.querySelectorAll<HTMLButtonElement>("nav button")) {
      if (button.id === `nav-${screen}`) button.setAttribute("aria-current", "page");
      else button.removeAttribute("aria-current");
    }
    return;
  }
  headerDrawnFor = drawnFor;
  const nav: [Screen, string, string][] = [
    ["queue", t("nav.queue"), "Alt+1"],
    ["intake", t("nav.intake"), "Alt+2"],
    ["requests", t("nav.requests"), "Alt+3"],
    ["dashboard", t("nav.dashboard"), "Alt+4"],
  ];
  const language = h(
    "select",
    { id: "language", "aria-label": t("header.language") },
    ...LANGS.map((l) => h("option", { value: l, selected: l === lang() }, t(`language.${l}`))),
  );
  language.addEventListener("change", () => {
    if (isLang(language.value)) {
      localStorage.setItem("guichet.lang", language.value);
      void ctx.act("language", async () => setLang(language.value as "en" | "fr"));
    }
  });
  fill(
    header,
    h("p", { class: "brand" }, "Guichet"),
    config
      ? h(
          "nav",
          { "aria-label": t("header.navigation") },
          nav.map(([s, label, keys]) =>
            h(
              "button",
              {
                type: "button",
                id: `nav-${s}`,
                "aria-current": screen === s ? "page" : null,
                "aria-keyshortcuts": keys,
                onclick: () => go(s),
              },
              label,
              h("kbd", {}, keys),
            ),
          ),
        )
      : null,
    h(
      "p",
      { class: "where" },
      config ? t("header.where", { center: config.center_name, device: config.device_code, clerk: config.default_clerk ?? "" }) : "",
    ),
    language,
    h("button", { type: "button", id: "help-button", "aria-keyshortcuts": "F1", onclick: () => toggleHelp(true) }, t("header.help"), h("kbd", {}, "F1")),
  );
}

function drawStatus(status: StatusBar): void {
  if (lastStatus && status.last_success && status.last_success !== lastStatus.last_success) {
    window.dispatchEvent(new Event(SYNCED));
  }
  lastStatus = status;
  const v = statusView(status);
  statusBar.className = `status ${v.tone}`;
  fill(
    statusBar,
    h("span", { class: "state", id: "status-state" }, v.state),
    h("span", { id: "status-waiting" }, v.waiting),
    v.lastSync ? h("span", { id: "status-last" }, v.lastSync) : null,
    v.progress !== null
      ? h("progress", { id: "status-progress", max: 1, value: v.progress, "aria-label": t("status.progress") })
      : null,
    v.detail ? h("span", { class: "detail", id: "status-detail" }, v.detail) : null,
    status.server
      ? h("button", { type: "button", id: "sync-now", "aria-keyshortcuts": "F5", onclick: () => void syncNow() }, t("status.sync_now"))
      : null,
  );
}

async function syncNow(): Promise<void> {
  await ctx.act("sync_now", async () => {
    try {
      await api.syncNow();
    } catch (err) {
      announce(explain(err), "error");
    }
  });
}

function toggleHelp(open: boolean): void {
  if (open) {
    fill(
      help,
      h(
        "div",
        { class: "card" },
        h("h2", { id: "help-title" }, t("help.title")),
        h(
          "table",
          { class: "list" },
          h("tbody", {}, SHORTCUTS.map((s) => h("tr", {}, h("th", { scope: "row" }, h("kbd", {}, s.keys)), h("td", {}, t(`shortcut.${s.command}`))))),
        ),
        h("p", {}, t("help.feedback_keys")),
        h("button", { type: "button", id: "close-help", onclick: () => toggleHelp(false) }, t("help.close")),
      ),
    );
    help.hidden = false;
    (help.querySelector("button") as HTMLButtonElement).focus();
  } else {
    help.hidden = true;
    main.focus();
  }
}

function runCommand(command: Command): boolean {
  const ready = Boolean(ctx.state.config);
  switch (command) {
    case "help":
      toggleHelp(help.hidden);
      return true;
    case "close":
      if (!help.hidden) {
        toggleHelp(false);
        return true;
      }
      return false;
    case "call_next":
      if (!ready) return false;
      if (screen !== "queue") go("queue");
      void queue?.callNext();
      return true;
    case "new_intake":
      if (!ready) return false;
      go("intake");
      return true;
    case "search":
      if (!ready) return false;
      if (screen === "requests") requests?.focusSearch();
      else {
        if (screen !== "intake") go("intake");
        intake?.focusSearch();
      }
      return true;
    case "screen_queue":
    case "screen_intake":
    case "screen_requests":
    case "screen_dashboard":
      if (!ready) return false;
      go(command.slice(7) as Screen);
      return true;
    case "sync_now":
      if (!lastStatus?.server) return false;
      void syncNow();
      return true;
  }
}

document.addEventListener("keydown", (e) => {
  const command = commandFor(e);
  if (command && runCommand(command)) e.preventDefault();
});

onLangChange(() => {
  go(screen);
  if (lastStatus) drawStatus(lastStatus);
});

await onStatus(drawStatus);
drawStatus(ctx.state.status);
go(ctx.state.config ? "queue" : "firstrun");
document.body.dataset.ready = "true";
