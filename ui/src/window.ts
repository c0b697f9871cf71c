// The window: header with navigation, the clerk logged in and language, the current screen,
// the status bar, the help overlay, the lock overlay; global shortcuts; the idle lock. Loaded
// by main.ts once Guichet started.

import { api, onStatus, type AppState, type SessionView, type StatusBar } from "./api";
import { STATUS } from "./update";
import { SYNCED, actionStart, damaged, emptyVisit, latestOnly, noteInput, painted, record, supervises, timings, working, type Ctx, type Screen } from "./app";
import { fill, h, trapFocus, typeAgain, typedIn } from "./dom";
import { isLang, lang, onLangChange, setLang, setTimeZone, t } from "./i18n";
import { IdleLock, browserClock, watchActivity } from "./idle";
import { conceal, lockOverlay, type LockOverlay } from "./lock";
import { CoreError, explain } from "./messages";
import { languageOptions } from "./printing";
import { firstRun, recoveryCard } from "./screens/firstrun";
import { loginScreen, type LoginScreen } from "./screens/login";
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
// The status bar is redrawn after every action: it is not a live region itself, or a screen
// reader would read it all again each time. What changes its meaning (the link's state, a
// problem) is said once, through `statusLive`.
const statusBar = h("footer", { class: "status", id: "status-bar" });
const statusLive = h("div", { class: "visually-hidden", role: "status", id: "status-live" });
const announcer = h("div", { class: "visually-hidden", "aria-live": "assertive", id: "announcer" });
const toast = h("p", { class: "toast", id: "toast", hidden: true });
const help = h("div", { class: "overlay", id: "help", role: "dialog", "aria-modal": "true", "aria-labelledby": "help-title", hidden: true });
root.append(header, main, toast, statusBar, statusLive, announcer, help);

let screen: Screen = "firstrun";
let queue: QueueScreen | null = null;
let intake: IntakeScreen | null = null;
let requests: RequestsScreen | null = null;
let dashboard: DashboardScreen | null = null;
let lastStatus: StatusBar | null = null;
/** Whether a screen was put in `main` since the window opened (not when it opened locked). */
let drawn = false;
/** The recovery key the core handed out once (set-up, or the login that encrypted an earlier
 * release's data), and the clerk it was handed to (none when the window's state could not be
 * read after the set-up): shown in place of any screen, to that clerk only, until they go on
 * from it. */
let recovery: { key: string; for: string | null } | null = null;

/** Whether the recovery key stands in for the screen now. */
function keyShown(): boolean {
  return recovery !== null && (recovery.for === null || recovery.for === ctx.state.session?.username);
}

const ctx: Ctx = {
  state: await api.appState(),
  counter: "",
  visit: emptyVisit(),
  rated: null,
  go,
  refresh,
  announce,
  showRecoveryKey(key) {
    recovery = { key, for: ctx.state.session?.username ?? null };
    go(screen);
  },
  async act(label, action) {
    const started = actionStart(performance.now());
    try {
      await action();
    } catch (err) {
      if (!sessionLost(err)) announce(explain(err), "error");
    }
    await painted();
    record(label, performance.now() - started);
  },
};
setTimeZone(ctx.state.config?.time_zone);
pickCounter();
lastStatus = ctx.state.status;
// Each action is timed from the key, click or choice that started it.
for (const type of ["keydown", "click", "change"]) document.addEventListener(type, noteInput, { capture: true });

async function refresh(state?: AppState): Promise<void> {
  ctx.state = state ?? (await api.appState());
  setTimeZone(ctx.state.config?.time_zone);
  pickCounter();
  drawStatus(ctx.state.status);
  followSession();
}

function pickCounter(): void {
  const codes = ctx.state.counters.map((c) => c.code);
  const stored = localStorage.getItem("guichet.counter") ?? "";
  ctx.counter = codes.includes(stored) ? stored : (codes[0] ?? "");
}

function announce(message: string, tone: "info" | "error" = "info"): void {
  // A locked screen says nothing: a message may name the citizen. The overlay has its own.
  if (locked()) return;
  announcer.textContent = message;
  toast.textContent = message;
  toast.className = `toast ${tone}`;
  toast.hidden = false;
  setTimeout(() => {
    if (toast.textContent === message) toast.hidden = true;
  }, 4000);
}

/** The request the Requests screen opens when it is made again for another clerk. */
let reopen: string | null = null;

function go(next: Screen): void {
  if (withdrawing) return;
  if (!ctx.state.config) next = "firstrun";
  else if (!ctx.state.session) next = "login";
  else if (next === "firstrun" || next === "login") next = "queue";
  else if (next === "dashboard" && !supervises(ctx.state)) next = "queue";
  queue?.stop();
  dashboard?.stop();
  requests?.stop();
  queue = intake = requests = dashboard = null;
  screen = next;
  drawHeader();
  // The recovery key, while it is to be written down, stands in for every screen. Going on
  // reads the window's state (it may not have been read after the set-up): if that fails,
  // the key stays shown, and why.
  const el =
    recovery && keyShown()
      ? recoveryCard(recovery.key, async () => {
          await refresh();
          recovery = null;
          go("queue");
        })
      : made(next);
  fill(main, el);
  drawn = true;
  landFocus();
}

/** Makes screen `next`, or shows again the one kept for it. */
function made(next: Screen): HTMLElement {
  switch (next) {
    case "firstrun":
      return firstRun(ctx);
    case "login": {
      const login = kept<LoginScreen>("login", () => loginScreen(ctx));
      login.show();
      return login.el;
    }
    case "queue":
      queue = kept("queue", () => queueScreen(ctx));
      queue.show();
      return queue.el;
    case "intake":
      intake = kept("intake", () => intakeScreen(ctx));
      intake.show();
      return intake.el;
    case "requests":
      requests = requestsScreen(ctx, reopen ?? undefined);
      return requests.el;
    case "dashboard":
      dashboard = dashboardScreen(ctx);
      return dashboard.el;
    case "feedback":
    default: {
      const feedback = kept("feedback", () => feedbackScreen(ctx));
      feedback.show();
      return feedback.el;
    }
  }
}

/** After a screen is drawn, focus is where the clerk goes on: the screen's own choice (a
 * field it focuses once shown), else its first main button or field, else its title. Never
 * left on the page's body, where a keyboard or screen reader user would have to start over. */
function landFocus(): void {
  setTimeout(() => {
    if (focusHeld()) return;
    const shown = (css: string): HTMLElement | undefined =>
      [...main.querySelectorAll<HTMLElement>(css)].find((el) => el.closest("[hidden]") === null);
    const target =
      shown("button.primary:not(:disabled)") ??
      shown("input:not([type=hidden]):not(:disabled), select:not(:disabled)") ??
      shown("h1, h2");
    if (target && !target.matches("button, input, select, textarea, a[href]")) target.tabIndex = -1;
    (target ?? main).focus();
  }, 0);
}

/** Whether focus is on something the clerk can use now (not the body, not a control that went
 * away or was disabled under it). */
function focusHeld(): boolean {
  const active = document.activeElement;
  if (!(active instanceof HTMLElement) || active === document.body || !active.isConnected) return false;
  if ((active as HTMLButtonElement).disabled) return false;
  return active.closest("[hidden], [inert]") === null;
}


// The queue, intake and feedback screens are made once (for a language and a set-up) and
// shown again: a clerk goes through all three for every citizen, and WebKitGTK keeps part of
// each form control a page has shown until the page goes away (docs/benchmarks.md).
const keptScreens = new Map<Screen, { madeFor: string; screen: unknown }>();

function kept<S>(name: Screen, make: () => S): S {
  const madeFor = JSON.stringify([lang(), ctx.state.config, ctx.state.counters, ctx.state.lanes]);
  const found = keptScreens.get(name);
  if (found && found.madeFor === madeFor) return found.screen as S;
  const screen = make();
  keptScreens.set(name, { madeFor, screen });
  return screen;
}

/** The feedback screen is turned to the citizen: the header's controls but the lock are
 * hidden, and the window's shortcuts but the lock and Escape do nothing there (see
 * `runCommand`), so that nothing but the rating is in reach. The clerk ends it with its Send
 * or Skip. The recovery key hides the navigation and the logout, which would lose it: the
 * administrator goes on from it with its own button. */
function citizenFacing(): void {
  const key = keyShown();
  for (const control of header.querySelectorAll<HTMLElement>("nav, #logout-button, #language, #help-button")) {
    const mayLoseKey = control.matches("nav, #logout-button");
    control.hidden = screen === "feedback" || (key && mayLoseKey);
  }
}

// The header is made again only when the language, the set-up or the clerk changes; moving
// between screens only marks the current one. WebKitGTK keeps part of each form control a page
// has shown until the page goes away (docs/benchmarks.md), and the header has eight.
let headerDrawnFor = "";

function drawHeader(): void {
  const config = ctx.state.config;
  const session = ctx.state.session;
  const drawnFor = JSON.stringify([
    lang(),
    config?.center_name,
    config?.device_code,
    session?.username,
    session?.display_name,
    session?.role,
  ]);
  if (drawnFor === headerDrawnFor) {
    for (const button of header.querySelectorAll<HTMLButtonElement>("nav button")) {
      if (button.id === `nav-${screen}`) button.setAttribute("aria-current", "page");
      else button.removeAttribute("aria-current");
    }
    citizenFacing();
    return;
  }
  headerDrawnFor = drawnFor;
  // The language or the clerk changed under a header control: focus stays on that control.
  const focusedId = header.contains(document.activeElement) ? document.activeElement?.id : undefined;
  const where = config ? t("header.where", { center: config.center_name, device: config.device_code }) : "";
  const nav: [Screen, string, string][] = [
    ["queue", t("nav.queue"), "Alt+1"],
    ["intake", t("nav.intake"), "Alt+2"],
    ["requests", t("nav.requests"), "Alt+3"],
    // The day's money, each clerk's figures and the citizens' comments: a supervisor's.
    ...(supervises(ctx.state) ? [["dashboard", t("nav.dashboard"), "Alt+4"] as [Screen, string, string]] : []),
  ];
  const language = h(
    "select",
    { id: "language", "aria-label": t("header.language") },
    ...languageOptions(),
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
    config && session
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
    h("p", { class: "where", title: where || null }, where),
    session
      ? [
          h("p", { class: "who", id: "header-clerk" }, t("header.clerk", { name: session.display_name, role: t(`role.${session.role}`) })),
          h(
            "button",
            { type: "button", id: "lock-button", "aria-keyshortcuts": "Control+L", onclick: () => void lockNow("lock") },
            t("header.lock"),
            h("kbd", {}, "Ctrl+L"),
          ),
          h("button", { type: "button", id: "logout-button", onclick: () => void logout() }, t("header.logout")),
        ]
      : null,
    language,
    h("button", { type: "button", id: "help-button", "aria-keyshortcuts": "F1", onclick: () => toggleHelp(true) }, t("header.help"), h("kbd", {}, "F1")),
  );
  if (focusedId) document.getElementById(focusedId)?.focus();
  citizenFacing();
}

/** A sync may bring the centre's terms changed on the back office (its name, time zone,
 * waiting target): the window follows them at once. Should the core not answer, the next sync
 * or login brings them. */
const askTerms = latestOnly();
async function followTerms(): Promise<void> {
  if (!ctx.state.session || ctx.state.session.locked) return;
  const latest = askTerms();
  const state = await api.appState().catch(() => null);
  if (!latest()) return;
  if (!state?.config || JSON.stringify(state.config) === JSON.stringify(ctx.state.config)) return;
  ctx.state.config = state.config;
  setTimeZone(state.config.time_zone);
  drawHeader();
}

function drawStatus(status: StatusBar): void {
  if (status.phase === "wipe" || (status.phase === "wiped" && !withdrawalSeen)) withdrawn(status.phase);
  if (lastStatus && status.last_success && status.last_success !== lastStatus.last_success) {
    window.dispatchEvent(new Event(SYNCED));
    void followTerms();
  }
  lastStatus = status;
  window.dispatchEvent(new CustomEvent(STATUS, { detail: status }));
  const v = statusView(status);
  const spoken = [v.state, v.detail].filter(Boolean).join(". ");
  if (statusLive.textContent !== spoken) statusLive.textContent = spoken;
  statusBar.className = `status ${v.tone}`;
  // "Sync now" made again under the keyboard's focus keeps it (every phase of a sync redraws).
  const focusedSync = document.activeElement?.id === "sync-now";
  fill(
    statusBar,
    h("span", { class: "state", id: "status-state" }, v.state),
    h("span", { id: "status-waiting" }, v.waiting),
    v.lastSync ? h("span", { id: "status-last" }, v.lastSync) : null,
    v.progress !== null
      ? h("progress", { id: "status-progress", max: 1, value: v.progress, "aria-label": t("status.progress") })
      : null,
    v.detail ? h("span", { class: "detail", id: "status-detail" }, v.detail) : null,
    // A sync runs for a clerk logged in: on the login screen, logging in starts it.
    status.server && working(ctx.state)
      ? h("button", { type: "button", id: "sync-now", "aria-keyshortcuts": "F5", onclick: () => void syncNow() }, t("status.sync_now"))
      : null,
  );
  if (focusedSync) statusBar.querySelector<HTMLElement>("#sync-now")?.focus();
}

/** The withdrawal notice is shown: no screen may take its place until the clerk goes on. */
let withdrawing = false;
/** The clerk read that the data was erased: the shell keeps saying so until the next set-up. */
let withdrawalSeen = false;

/** The back office revoked this device with a wipe: the screen's work goes at once (the core
 * has closed the database) and the notice takes its place, saying what happens, then what
 * happened; once the data is erased, "Continue" leads to the first screen, to set the computer
 * up again. The header and the status bar are out of reach meanwhile. */
function withdrawn(phase: "wipe" | "wiped"): void {
  idle.stop();
  if (locked()) {
    lockUi().hide();
    hideContent(false);
  }
  queue?.stop();
  dashboard?.stop();
  requests?.stop();
  conceal(true, [header, statusBar], [toast, help], [toast, announcer]);
  const done = phase === "wiped";
  // Going on can fail (the window's state cannot be read): the notice stays, and says why.
  const problem = h("p", { class: "error", role: "alert", id: "withdrawn-error" });
  const notice = h(
    "section",
    { class: "screen", id: "withdrawn", role: "alert", "aria-labelledby": "withdrawn-title", "data-phase": phase },
    h(
      "div",
      { class: "card" },
      h("h1", { id: "withdrawn-title", tabindex: -1 }, t(done ? "withdrawn.done_title" : "withdrawn.title")),
      h("p", { id: "withdrawn-text" }, t(done ? "withdrawn.done" : "withdrawn.underway")),
      problem,
      done
        ? h("button", { type: "button", class: "primary", id: "withdrawn-continue", onclick: () => void afterWithdrawal(problem) }, t("withdrawn.continue"))
        : null,
    ),
  );
  fill(main, notice);
  withdrawing = true;
  notice.querySelector<HTMLElement>(done ? "#withdrawn-continue" : "#withdrawn-title")?.focus();
}

async function afterWithdrawal(problem: HTMLElement): Promise<void> {
  problem.textContent = "";
  withdrawalSeen = true;
  try {
    await refresh();
  } catch (err) {
    problem.textContent = explain(err);
    return;
  }
  withdrawing = false;
  keptScreens.clear();
  ctx.visit = emptyVisit();
  conceal(false, [header, statusBar]);
  go("firstrun");
}

async function syncNow(): Promise<void> {
  await ctx.act("sync_now", () => api.syncNow());
}

/** Where focus was when the help opened: it goes back there when the help closes. */
let focusBeforeHelp: HTMLElement | null = null;

function toggleHelp(open: boolean): void {
  if (open) {
    const active = document.activeElement;
    focusBeforeHelp = active instanceof HTMLElement && active !== document.body ? active : null;
    fill(
      help,
      h(
        "div",
        { class: "card" },
        h("h2", { id: "help-title" }, t("help.title")),
        h(
          "table",
          { class: "list" },
          h(
            "tbody",
            {},
            // A clerk is not shown the dashboard's key: it is a supervisor's screen.
            SHORTCUTS.filter((s) => s.command !== "screen_dashboard" || supervises(ctx.state)).map((s) =>
              h("tr", {}, h("th", { scope: "row" }, h("kbd", {}, s.keys)), h("td", {}, t(`shortcut.${s.command}`))),
            ),
          ),
        ),
        h("p", {}, t("help.feedback_keys")),
        h("button", { type: "button", id: "close-help", onclick: () => toggleHelp(false) }, t("help.close")),
      ),
    );
    help.hidden = false;
    // A modal dialog: what is behind it is out of reach until it closes.
    for (const el of content) el.inert = true;
    (help.querySelector("button") as HTMLButtonElement).focus();
  } else {
    help.hidden = true;
    for (const el of content) el.inert = false;
    if (focusBeforeHelp?.isConnected) focusBeforeHelp.focus();
    else landFocus();
    focusBeforeHelp = null;
  }
}

// Tab and Shift+Tab go round the help's own controls: focus never leaves an open dialog.
trapFocus(help, () => [...help.querySelectorAll<HTMLElement>("button, [href], input, select, textarea, [tabindex]:not([tabindex='-1'])")]);

function runCommand(command: Command): boolean {
  // The feedback screen faces the citizen: only the lock and Escape, besides its keys 1 to 5.
  if (screen === "feedback" && command !== "lock" && command !== "close") return false;
  const ready = working(ctx.state);
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
    case "screen_dashboard":
      if (!ready || !supervises(ctx.state)) return false;
      go("dashboard");
      return true;
    case "screen_queue":
    case "screen_intake":
    case "screen_requests":
      if (!ready) return false;
      go(command.slice(7) as Screen);
      return true;
    case "sync_now":
      if (!lastStatus?.server || !ready) return false;
      void syncNow();
      return true;
    case "lock":
      if (!ready) return false;
      void lockNow("lock");
      return true;
  }
}

document.addEventListener("keydown", (e) => {
  // Locked, keys are for the lock overlay's fields only.
  if (locked()) return;
  const command = commandFor(e);
  if (!command) return;
  // A key held down runs its command once: F2 held a moment too long calls one citizen.
  if (e.repeat && command !== "close") {
    e.preventDefault();
    return;
  }
  if (runCommand(command)) e.preventDefault();
});

onLangChange(() => {
  // The screen is made again in the new language, with what was typed in its forms that
  // keep it (`KEEP_TYPED`).
  const typed = typedIn(main);
  go(screen);
  typeAgain(main, typed);
  if (lastStatus) drawStatus(lastStatus);
});

// Who is at the counter ------------------------------------------------------------------------
// A locked screen hides the whole window with `hidden` and `inert` (nothing of the citizen is
// left on screen, for the eye, the mouse, the keyboard or a screen reader) but keeps it: the
// screens' work, a half-filled intake, is there again after the unlock, for the same clerk or
// another one. Logging out ends the visit's screens.

/** Locks after `idle_lock_minutes` without a key, a click, a move of the mouse or the wheel. */
const idle = new IdleLock(() => void lockNow("idle_lock"), browserClock());
watchActivity(idle);

/** The window's content, hidden while locked. */
const content = [header, main, statusBar];
/** Screens whose work belongs to a clerk's visit: made again after a logout. */
const VISIT_SCREENS: Screen[] = ["queue", "intake", "feedback"];
let focusBeforeLock: HTMLElement | null = null;

// The overlay is made once for a language, as the header is.
let lockMade: { lang: string; overlay: LockOverlay } | null = null;

function lockUi(): LockOverlay {
  if (!lockMade || lockMade.lang !== lang()) {
    const overlay = lockOverlay(unlock);
    if (lockMade) lockMade.overlay.el.replaceWith(overlay.el);
    else root.append(overlay.el);
    lockMade = { lang: lang(), overlay };
  }
  return lockMade.overlay;
}

function locked(): boolean {
  return lockMade?.overlay.shown ?? false;
}

/** The idle lock counts while a clerk works, and only then. */
function followSession(): void {
  idle.setMinutes(ctx.state.idle_lock_minutes);
  if (working(ctx.state)) {
    if (!idle.running) idle.start();
  } else {
    idle.stop();
  }
}

function hideContent(hide: boolean): void {
  conceal(hide, content, [toast, help], [toast, announcer]);
}

/** Hides the window and shows the lock overlay for `session`'s clerk. */
function showLock(session: SessionView): void {
  idle.stop();
  if (locked()) return;
  const active = document.activeElement;
  focusBeforeLock = active instanceof HTMLElement && active !== document.body && root.contains(active) ? active : null;
  hideContent(true);
  lockUi().show(session);
}

/** Locks the screen: the lock button, Ctrl+L, or the idle time. The window is hidden before
 * the core is asked, and stays hidden if the core fails: an unlock checks the password anyway. */
async function lockNow(label: string): Promise<void> {
  const session = ctx.state.session;
  if (!session || session.locked || !ctx.state.config) return;
  const started = actionStart(performance.now());
  session.locked = true;
  showLock(session);
  try {
    await api.lock();
  } catch (err) {
    if (err instanceof CoreError && err.key === "error.session.none") {
      endSession();
      announce(explain(err), "error");
    }
  }
  await painted();
  record(label, performance.now() - started);
}

/** The lock overlay's unlock: the same clerk, or another one, who then holds the session.
 * Throws the core's refusal for the overlay to show. */
async function unlock(username: string, password: string): Promise<void> {
  const started = actionStart(performance.now());
  const before = ctx.state.session;
  let session: SessionView;
  try {
    session = await api.unlock(username, password);
  } catch (err) {
    if (err instanceof CoreError && err.key === "error.session.none") {
      endSession();
      announce(explain(err), "error");
      return;
    }
    if (damaged(err)) return;
    throw err;
  }
  // What a closed database did not tell (the printers, the lanes of a window that opened
  // locked), now that it is open again; the session is the one the unlock answered.
  await refresh().catch(() => undefined);
  ctx.state.session = session;
  lockUi().hide();
  hideContent(false);
  drawHeader();
  const switched = before !== null && before.username !== session.username;
  // Another clerk took the session over: the recovery key is kept from them, for the
  // administrator it was handed to, whom it waits for.
  if (!drawn || (switched && recovery !== null)) go("queue");
  else if (switched && (screen === "requests" || screen === "dashboard")) {
    // Drawn for the clerk who left: what the new one may do there (resolve a conflict, see
    // the dashboard at all) follows their role.
    reopen = requests?.shown() ?? null;
    go(screen);
    reopen = null;
  } else if (focusBeforeLock?.isConnected) focusBeforeLock.focus();
  else main.focus();
  focusBeforeLock = null;
  followSession();
  if (switched) announce(t("lock.switched", { name: session.display_name }));
  await painted();
  record(switched ? "switch_clerk" : "unlock", performance.now() - started);
}

/** Nobody is logged in any more: the visit's screens go, the login screen comes. */
function endSession(): void {
  idle.stop();
  ctx.state.session = null;
  recovery = null;
  if (locked()) {
    lockUi().hide();
    hideContent(false);
  }
  focusBeforeLock = null;
  queue?.stop();
  dashboard?.stop();
  for (const name of VISIT_SCREENS) keptScreens.delete(name);
  ctx.visit = emptyVisit();
  ctx.rated = null;
  go("login");
}

async function logout(): Promise<void> {
  await ctx.act("logout", async () => {
    try {
      await api.logout();
    } catch (err) {
      // Already logged out (elsewhere, or the core restarted): the login screen is right.
      if (!(err instanceof CoreError && err.key === "error.session.none")) throw err;
    }
    endSession();
  });
}

/** A command refused because nobody is logged in or the screen is locked: the window follows
 * the core. */
function sessionLost(err: unknown): boolean {
  if (!(err instanceof CoreError)) return false;
  if (damaged(err)) return true;
  if (err.key === "error.session.none" && ctx.state.session) {
    endSession();
    announce(explain(err), "error");
    return true;
  }
  if (err.key === "error.session.locked" && ctx.state.session) {
    ctx.state.session.locked = true;
    showLock(ctx.state.session);
    return true;
  }
  return false;
}

await onStatus(drawStatus);
drawStatus(ctx.state.status);
followSession();
if (ctx.state.config && ctx.state.session?.locked) {
  // Locked when the window closed: nothing is drawn until a clerk unlocks.
  drawHeader();
  showLock(ctx.state.session);
} else {
  go("queue");
}
// A control that goes away or is disabled under the focus (a screen's panel redrawn after an
// action) leaves focus on the body: it is brought back into the screen.
let lastFocused: HTMLElement | null = null;
document.addEventListener("focusin", (e) => {
  if (e.target instanceof HTMLElement) lastFocused = e.target;
});
new MutationObserver(() => {
  if (locked() || withdrawing || !help.hidden || lastFocused === null || focusHeld()) return;
  if (!lastFocused.isConnected || (lastFocused as HTMLButtonElement).disabled) {
    lastFocused = null;
    landFocus();
  }
}).observe(main, { subtree: true, childList: true, attributes: true, attributeFilter: ["disabled", "hidden"] });
document.body.dataset.ready = "true";
