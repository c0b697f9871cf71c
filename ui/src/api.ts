// The shell's commands, typed. Every call returns the core's answer or throws its error
// (a CoreError: a sentence that says what was wrong and what to do, and the key to say it in
// the clerk's language; see messages.ts).

import { invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import { fromShell } from "./messages";

import type {
  Action,
  AppState,
  Approval,
  Browse,
  CallingBoard,
  Citizen,
  CitizenQuery,
  Config,
  Dashboard,
  EnrolLink,
  Export,
  ExportProgress,
  Exported,
  FieldProblem,
  KioskMenu,
  KioskTicket,
  NewCitizen,
  NewRefund,
  NewRequest,
  PaymentMethod,
  PaymentView,
  Printed,
  QueueTarget,
  QueueView,
  RefundView,
  RequestDetail,
  RequestFilter,
  RequestSummary,
  Rules,
  SearchQuery,
  ServiceHit,
  ServiceView,
  Session,
  SetUp,
  SlipRequest,
  StandaloneSetup,
  StartProblem,
  StatusBar,
  TicketView,
  Transfer,
} from "./bindings";

// The types the commands take and answer are generated from the Rust ones (bindings.ts).
export type * from "./bindings";
/** Who is logged in at this workstation, and whether the screen is locked. */
export type SessionView = Session;
export type Ticket = TicketView;
export type PaymentLine = PaymentView;
export type RefundLine = RefundView;

function call<T>(command: string, args: Record<string, unknown> = {}): Promise<T> {
  return invoke<T>(command, args).catch((e: unknown) => {
    throw fromShell(e);
  });
}

export const api = {
  /** Asked first: what the window must show instead of its screens, if anything. */
  startProblem: () => call<StartProblem | null>("start_problem"),
  /** Tries the start again: null when Guichet runs now. */
  retryStart: () => call<StartProblem | null>("retry_start"),
  /** Keeps the damaged database aside and starts on an empty data directory. */
  keepAside: () => call<StartProblem | null>("keep_aside"),
  quit: () => call<void>("quit"),
  appState: () => call<AppState>("app_state"),
  /** Sets the workstation up and logs its first administrator in. */
  setupStandalone: (setup: StandaloneSetup) => call<SetUp>("setup_standalone", { setup }),
  /** Enrolls with a back office; its accounts come from there and nobody is logged in yet. */
  enroll: (server: string, code: string, link: EnrolLink) => call<Config>("enroll", { server, code, link }),
  login: (username: string, password: string) => call<AppState>("login", { username, password }),
  /** Locks the screen: the session stays, and every command but unlock is refused. */
  lock: () => call<void>("lock"),
  /** The same clerk unlocks; another clerk's credentials switch the session to them. */
  unlock: (username: string, password: string) => call<SessionView>("unlock", { username, password }),
  logout: () => call<void>("logout"),
  syncNow: () => call<void>("sync_now"),
  /** Installs the update offered (verified against the release key); the app starts again on it. */
  installUpdate: () => call<void>("install_update"),
  issueTicket: (target: QueueTarget, lane: string) => call<Ticket>("issue_ticket", { target, lane }),
  callNext: (counter: string) => call<Ticket | null>("call_next", { counter }),
  /** Recalling a no-show takes a supervisor's approval. */
  recall: (ticket: string, approval: Approval | null = null) => call<Ticket>("recall", { ticket, approval }),
  noShow: (ticket: string) => call<Ticket>("no_show", { ticket }),
  startService: (ticket: string) => call<Ticket>("start_service", { ticket }),
  finishService: (ticket: string) => call<Ticket>("finish_service", { ticket }),
  transfer: (ticket: string, to: Transfer) =>
    call<Ticket>("transfer", { ticket, to }),
  queueView: (counter: string) => call<QueueView>("queue_view", { counter }),
  /** The day's latest calls, for the waiting room's display (its window only). */
  callingBoard: () => call<CallingBoard>("calling_board"),
  /** Opens the waiting room's display in a window of its own, or brings it forward. */
  openCallingDisplay: () => call<void>("open_calling_display"),
  /** Opens the ticket kiosk in a window of its own, or brings it forward. */
  openTicketKiosk: () => call<void>("open_ticket_kiosk"),
  closeTicketKiosk: () => call<void>("close_ticket_kiosk"),
  /** The kiosk's choices: the categories served here and the lanes (its window only). */
  kioskMenu: () => call<KioskMenu>("kiosk_menu"),
  /** Gives a ticket for a category in a lane and prints it in the citizen's language. */
  kioskTicket: (category: string, lane: string, lang: string) =>
    call<KioskTicket>("kiosk_ticket", { category, lane, lang }),
  kioskReprint: (ticket: string, lang: string) => call<Printed>("kiosk_reprint", { ticket, lang }),
  browse: () => call<Browse>("browse"),
  searchServices: (query: SearchQuery) => call<ServiceHit[]>("search_services", { query }),
  service: (code: string) => call<ServiceView>("service", { code }),
  checkForm: (service: string, form: Record<string, string>) =>
    call<FieldProblem[]>("check_form", { service, form }),
  findCitizens: (query: CitizenQuery) => call<Citizen[]>("find_citizens", { query }),
  registerCitizen: (citizen: NewCitizen) => call<Citizen>("register_citizen", { citizen }),
  createRequest: (request: NewRequest) => call<RequestDetail>("create_request", { request }),
  /** Records a payment; answers it, with its own receipt number. */
  pay: (receipt: string, amount: string, method: PaymentMethod) =>
    call<PaymentLine>("pay", { receipt, amount, method }),
  waive: (receipt: string, ground: string, approval: Approval | null) =>
    call<RequestDetail>("waive", { receipt, ground, approval }),
  /** Gives back (part of) a payment; answers the request as it stands after. */
  refund: (receipt: string, refund: NewRefund, approval: Approval | null) =>
    call<RequestDetail>("refund", { receipt, refund, approval }),
  markDocument: (receipt: string, document: string, received: boolean) =>
    call<RequestDetail>("mark_document", { receipt, document, received }),
  listRequests: (filter: RequestFilter) => call<RequestSummary[]>("list_requests", { filter }),
  request: (receipt: string) => call<RequestDetail>("request", { receipt }),
  advance: (receipt: string, action: Action, reason: string | null, approval: Approval | null = null) =>
    call<RequestDetail>("advance", { receipt, action, reason, approval }),
  resolveConflict: (receipt: string, note: string) =>
    call<RequestDetail>("resolve_conflict", { receipt, note }),
  feedback: (ticket: string, rating: number, comment: string | null) =>
    call<void>("feedback", { ticket, rating, comment }),
  dashboard: (lang: string) => call<Dashboard>("dashboard", { lang }),
  exportReport: (exp: Export) =>
    call<Exported>("export_report", { export: exp }),
  setRules: (rules: Rules) => call<Config>("set_rules", { rules }),
  printSlip: (slip: SlipRequest) =>
    call<Printed>("print_slip", { slip }),
};

export function onExportProgress(handler: (p: ExportProgress) => void): Promise<() => void> {
  return listen<ExportProgress>("export-progress", (event) => handler(event.payload));
}

export function onStatus(handler: (status: StatusBar) => void): Promise<() => void> {
  return listen<StatusBar>("status", (event) => handler(event.payload));
}
