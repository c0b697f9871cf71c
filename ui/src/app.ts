// The app's shared state and the services screens use: navigation, announcements, timing.

import type { AppState, Citizen, RequestDetail, Ticket } from "./api";
import { CoreError } from "./messages";

export type Screen = "firstrun" | "login" | "queue" | "intake" | "requests" | "feedback" | "dashboard";

/** The citizen at the counter now: the ticket, who they are, what was taken for them. */
export interface Visit {
  ticket: Ticket | null;
  citizen: Citizen | null;
  requests: RequestDetail[];
}

export interface Ctx {
  state: AppState;
  counter: string;
  visit: Visit;
  /** The ticket whose visit just ended, for the citizen's feedback; the visit itself is over,
   * so a next intake starts with nobody chosen. */
  rated: Ticket | null;
  go(screen: Screen, focus?: string): void;
  /** Reads the app's state again (or takes `state`, just answered by the core) and redraws
   * what depends on it. */
  refresh(state?: AppState): Promise<void>;
  /** Says something to the clerk (and to screen readers) without moving focus. */
  announce(message: string, tone?: "info" | "error"): void;
  /** Runs a clerk action and records how long it took until the screen was updated. */
  act(label: string, action: () => Promise<void>): Promise<void>;
  /** Shows the device's recovery key, once, in place of every screen until the administrator
   * says it is written down; the idle lock and a change of language keep it. */
  showRecoveryKey(key: string): void;
}

/** The database was found damaged: the window starts again (reloads), on the trouble screen
 * that offers to keep it aside. */
export function damaged(err: unknown): boolean {
  if (!(err instanceof CoreError) || err.key !== "error.damaged") return false;
  location.reload();
  return true;
}

/** Numbers what a screen asks the core again and again (a search as it is typed, a list as its
 * filter changes), so that only the latest question's answer is used: an earlier one may come
 * back later. Each call of the function returned asks anew and gives back whether that
 * question is still the latest. */
export function latestOnly(): () => () => boolean {
  let asked = 0;
  return () => {
    const mine = ++asked;
    return () => mine === asked;
  };
}

/** Sent on `window` after a sync run that succeeded, for screens to reload what they show. */
export const SYNCED = "guichet:synced";

/** Whether the screens can work: set up, a clerk logged in, the screen not locked. Timers that
 * reload a screen skip their turn otherwise (the core would refuse, and a locked screen shows
 * nothing of the citizen). */
export function working(state: AppState): boolean {
  return Boolean(state.config && state.session && !state.session.locked);
}

/** What is left undone on a request of the visit: still a draft, or money still owed. */
export interface Unfinished {
  request: RequestDetail;
  draft: boolean;
  /** Minor units still to pay (0 when paid, waived, free, or the request is closed). */
  owed: number;
}

/** The visit's requests a clerk would not want to leave behind when the citizen goes. */
export function unfinishedRequests(requests: RequestDetail[]): Unfinished[] {
  const closed: RequestDetail["status"][] = ["cancelled", "rejected", "delivered"];
  return requests
    .map((request) => ({
      request,
      draft: request.status === "draft",
      owed:
        request.fee && request.waiver_ground === null && !closed.includes(request.status)
          ? Math.max(0, request.fee.minor - request.paid_minor)
          : 0,
    }))
    .filter((u) => u.draft || u.owed > 0);
}

/** Whether the clerk logged in has a supervisor's rights (an administrator has them too). */
export function supervises(state: AppState): boolean {
  const role = state.session?.role;
  return role === "supervisor" || role === "administrator";
}

export function emptyVisit(): Visit {
  return { ticket: null, citizen: null, requests: [] };
}

/** Durations of clerk actions, by label, in milliseconds (read by the end-to-end benchmark). */
export const timings: Record<string, number[]> = {};

export function record(label: string, ms: number): void {
  (timings[label] ??= []).push(ms);
}

/** An input older than this did not start the action that follows it. */
const INPUT_REACH_MS = 2000;

let pendingInput: number | null = null;

/** Notes the clerk's key, click or choice (its event's time), for the action it may start. */
export function noteInput(event: Event): void {
  pendingInput = event.timeStamp;
}

/** What an action starting at `now` is timed from: the input that led to it (a key typed
 * before a search's pause, a click), so that the time includes any debounce; else `now`.
 * The input is claimed: a later action does not count from it again. */
export function actionStart(now: number): number {
  const input = pendingInput;
  pendingInput = null;
  return input !== null && input <= now && now - input < INPUT_REACH_MS ? input : now;
}

/** The pause after the last key before a search or a check runs, in milliseconds. */
export const TYPING_PAUSE_MS = 50;

export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return 0;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))];
}

/** Resolves after the browser has painted the current state. */
export function painted(): Promise<void> {
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
}
