// What the tests hand the window as the shell's answers: a centre's configuration, the
// clerks' sessions, the status bar and the whole app state, each with what a test changes.

import { vi } from "vitest";
import type { AppState, Config, RequestDetail, SessionView, StatusBar } from "../src/api";
import { emptyVisit, type Ctx } from "../src/app";

export const config: Config = {
  center_code: "ATH-01",
  center_name: "Athens Central",
  center_kind: "stationary",
  device_code: "D1",
  receipt_prefix: "K7XA",
  channel: "stationary_center",
  currency: "EUR",
  waiting_target_min: 15,
  time_zone: "Europe/Athens",
  max_offline_days: 14,
  idle_lock_minutes: 5,
  national_id_scheme: "ee-isikukood",
  created_at: "2026-03-01T08:00:00Z",
};

export const eleni: SessionView = { username: "eleni", display_name: "Eleni Papadopoulou", role: "supervisor", locked: false };
export const nikos: SessionView = { username: "nikos", display_name: "Nikos Georgiou", role: "clerk", locked: false };

/** A status bar online with a back office and nothing waiting, but for `over`. */
export function statusBar(over: Partial<StatusBar> = {}): StatusBar {
  return {
    server: "https://backoffice.example",
    phase: "online",
    message: null,
    waiting: 0,
    progress: { pushed: 0, to_push: 0, pages: 0 },
    last_success: null,
    refused: 0,
    conflicts: 0,
    counted: true,
    insecure: false,
    low_disk: null,
    update: null,
    ...over,
  };
}

/** A set-up workstation with one lane and one counter, nobody logged in, but for `over`. */
export function appState(over: Partial<AppState> = {}): AppState {
  return {
    config,
    catalogue_version: 1,
    today: "2026-03-01",
    lanes: [{ code: "standard", name: { en: "Standard", fr: "Standard" }, rank: 0 }],
    counters: [{ code: "C1", name: "Counter 1", scope: { kind: "all" } }],
    status: statusBar(),
    session: null,
    idle_lock_minutes: 5,
    erased: null,
    kept_aside: [],
    printers: null,
    recovery_key: null,
    ...over,
  };
}

/** The window as one screen's test sees it: Eleni at counter C1 with an empty visit; an action
 * runs at once. */
export function screenCtx(): Ctx {
  return {
    state: appState({ session: { ...eleni } }),
    counter: "C1",
    visit: emptyVisit(),
    rated: null,
    go: vi.fn(),
    refresh: vi.fn(async () => undefined),
    announce: vi.fn(),
    showRecoveryKey: vi.fn(),
    act: async (_label, action) => action(),
  };
}

/** A submitted request for a resident parking permit, its fee of 45.00 paid, but for `over`. */
export function request(over: Partial<RequestDetail>): RequestDetail {
  return {
    id: "r1",
    receipt: "K7XA-0000-042E",
    service_code: "resident-parking-permit",
    service_title: { en: "Resident parking permit", fr: "Carte de stationnement résident" },
    citizen_id: "38001085718",
    citizen_name: "Mari Tamm",
    status: "submitted",
    intake_date: "2026-03-10",
    due_date: "2026-03-12",
    days_overdue: 0,
    fee: { minor: 4500, currency: "EUR" },
    paid_minor: 4500,
    waiver_ground: null,
    agency: "city",
    category: "transport",
    catalogue_version: 1,
    center_code: "ATH-01",
    device_code: "D1",
    clerk: "eleni",
    form: {},
    visit_id: null,
    documents: [],
    fee_exemptions: [],
    status_reason: null,
    payments: [],
    refunds: [],
    timeline: [],
    changes: [],
    next_actions: [],
    approval_needed: [],
    ...over,
  };
}
