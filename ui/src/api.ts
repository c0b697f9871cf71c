// The shell's commands, typed. Every call returns the core's answer or throws its error
// (a CoreError: a sentence that says what was wrong and what to do, and the key to say it in
// the clerk's language; see messages.ts).

import { invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import { fromShell, type Message } from "./messages";

export type Text = Record<string, string>;
export interface Money {
  minor: number;
  currency: string;
}
export type Fee = { kind: "free" } | { kind: "charged"; amount: Money; tier: string };
export type Depth = "information_only" | "partial" | "complete";
export type Phase = "online" | "offline" | "syncing" | "error" | "wipe" | "wiped";
export type QueueTarget = { kind: "service" | "category"; code: string };
export type TicketStatus = "waiting" | "called" | "no_show" | "serving" | "done";
export type RequestStatus =
  | "draft"
  | "submitted"
  | "dispatched"
  | "in_processing"
  | "returned_for_correction"
  | "ready"
  | "delivered"
  | "rejected"
  | "cancelled";
export type Action =
  | "submit"
  | "dispatch"
  | "resubmit"
  | "deliver"
  | "cancel"
  | "take_in_processing"
  | "return_for_correction"
  | "mark_ready"
  | "reject";
export type PaymentMethod = "cash" | "card" | "mobile_money";
export type OutboxState = "pending" | "sent" | "refused" | "conflict";

export interface Progress {
  pushed: number;
  to_push: number;
  pages: number;
}
export interface StatusBar {
  server: string | null;
  phase: Phase;
  /** The sync task's last problem, in English; `translation` when the window can say it. */
  message: string | null;
  translation?: Message;
  waiting: number;
  progress: Progress;
  last_success: string | null;
  refused: number;
  conflicts: number;
  /** The link is plain HTTP to another machine, as allowed at enrolment. */
  insecure?: boolean;
  /** The bytes left on the data directory's disk, when so few that writes may soon fail. */
  low_disk?: number | null;
}
export interface Config {
  center_code: string;
  center_name: string;
  center_kind: string;
  device_code: string;
  receipt_prefix: string;
  channel: string;
  currency: string;
  waiting_target_min: number;
  /** The centre's IANA time zone: its days and hours are counted in it. */
  time_zone: string;
  /** Days an enrolled device keeps taking logins without reaching its back office. */
  max_offline_days: number;
  /** Minutes without a key or a click before the screen locks itself. */
  idle_lock_minutes: number;
}
/** The local rules an administrator changes. */
export interface Rules {
  idle_lock_minutes: number;
  max_offline_days: number;
}
export type Role = "clerk" | "supervisor" | "administrator";
/** Who is logged in at this workstation, and whether the screen is locked. */
export interface SessionView {
  username: string;
  display_name: string;
  role: Role;
  locked: boolean;
}
/** The first run's standalone set-up: the workstation and its first administrator. */
export interface StandaloneSetup {
  center_code: string;
  center_name: string;
  center_kind: string;
  device_code: string;
  admin_username: string;
  admin_name: string;
  admin_password: string;
  /** How national ids are checked: `ee-isikukood` or `plain`. */
  national_id_scheme: string;
  /** Three letters, such as EUR or KES. */
  currency: string;
  waiting_target_min: number;
  /** An IANA time zone, such as Europe/Athens or Africa/Dakar. */
  time_zone: string;
}
export interface Lane {
  code: string;
  name: Text;
  rank: number;
}
export interface Counter {
  code: string;
  name: string;
}
/** A standalone workstation just set up, with its recovery key to write down (shown once). */
export interface SetUp {
  config: Config;
  recovery_key: string;
}
export interface AppState {
  config: Config | null;
  catalogue_version: number | null;
  today: string;
  lanes: Lane[];
  counters: Counter[];
  status: StatusBar;
  /** Who is logged in; null when nobody is (then every other command is refused). */
  session: SessionView | null;
  /** Minutes without activity before the screen locks itself; 0 never. */
  idle_lock_minutes: number;
  /** This computer's data was erased at the back office's request (not set up again since). */
  erased: Erased | null;
  /** Damaged databases kept aside here, the latest first (while not set up again). */
  kept_aside: KeptAside[];
}
/** The workstation a database belongs to, as its slots file says. */
export interface Owner {
  center_code: string | null;
  device_code: string | null;
  /** Its back office, when it was enrolled. */
  server: string | null;
}
/** A damaged database kept aside: its file name in the data directory, and when. */
export interface KeptAside extends Owner {
  file: string;
  at: string;
}
/** Why Guichet could not start, or found its database damaged. */
export interface StartProblem {
  kind: "data_dir" | "damaged" | "newer" | "other";
  data_dir: string | null;
  /** The system's or the core's words. */
  detail: string;
  owner: Owner;
}
/** How the device reaches its back office beyond the address, as the operator says at enrolment. */
export interface EnrolLink {
  /** Plain http:// to another machine, on a network the operator trusts. */
  allow_insecure_http: boolean;
  /** The PEM text of the CA that signed the back office's certificate. */
  ca_cert: string | null;
}
/** What was erased when the back office revoked this device with a wipe. */
export interface Erased {
  at: string;
  center_code: string;
  device_code: string;
  /** Whether the back office heard that the erasure was done. */
  confirmed: boolean;
}
export interface Ticket {
  id: string;
  code: string;
  target: QueueTarget;
  lane: string;
  status: TicketStatus;
  counter: string | null;
  calls: number;
  no_shows: number;
  issued_at: string;
  visit: string | null;
}
export interface WaitingEntry {
  code: string;
  target: QueueTarget;
  lane: string;
  status: TicketStatus;
  counter: string | null;
  waited_ms: number;
}
export interface QueueView {
  waiting: WaitingEntry[];
  current: Ticket | null;
}
export interface BrowseEntry {
  code: string;
  name: Text;
  services: number;
}
export interface Browse {
  version: number | null;
  life_events: BrowseEntry[];
  target_groups: BrowseEntry[];
  categories: BrowseEntry[];
  agencies: BrowseEntry[];
}
export interface SearchQuery {
  text?: string | null;
  life_event?: string | null;
  target_group?: string | null;
  category?: string | null;
  limit?: number;
}
export interface ServiceHit {
  code: string;
  title: Text;
  category: string;
  agency: string;
  fee: Fee;
  processing_days: number;
  depth_here: Depth | null;
}
export interface FormField {
  code: string;
  label: Text;
  required: boolean;
  type: "text" | "date" | "number" | "choice" | "national_id" | "phone";
  options?: { code: string; label: Text }[];
  min?: number | null;
  max?: number | null;
  max_length?: number | null;
}
export interface ServiceView {
  code: string;
  title: Text;
  description: Text;
  category: string;
  agency: string;
  documents: { code: string; name: Text; kind: string }[];
  form: FormField[];
  fee: Fee;
  exemptions: string[];
  processing_days: number;
  due_date: string;
  depth_here: Depth | null;
}
/** A field's problem: the core's English words, and the key and values to translate them. */
export interface FieldProblem extends Message {
  field: string;
  problem: string;
}
export interface Citizen {
  national_id: string;
  given_name: string;
  family_name: string;
  birth_date: string;
  phone?: string | null;
  email?: string | null;
}
export interface NewCitizen {
  national_id: string;
  given_name: string;
  family_name: string;
  birth_date: string;
  phone: string | null;
  email: string | null;
  address: string | null;
}
export type CitizenQuery = { NationalId: string } | { Name: { name: string; birth_date: string } };
export interface NewRequest {
  citizen: string;
  service: string;
  form: Record<string, string>;
  documents_received: string[];
  visit: string | null;
  submit: boolean;
}
export interface RequestSummary {
  id: string;
  receipt: string;
  service_code: string;
  service_title: Text;
  citizen_id: string;
  citizen_name: string;
  status: RequestStatus;
  intake_date: string;
  due_date: string;
  days_overdue: number;
  fee: Money | null;
  paid_minor: number;
  waiver_ground: string | null;
}
export interface RequestEvent {
  action: string;
  from: RequestStatus | null;
  to: RequestStatus;
  party: "center" | "agency";
  actor: string;
  reason: string | null;
  at: string;
}
export interface ChangeState {
  kind: string;
  state: OutboxState;
  reason: string | null;
  at: string;
  resolution: string | null;
}
/** A supervisor's name and password, typed on the clerk's screen for an act that needs four eyes. */
export interface Approval {
  username: string;
  password: string;
}
export interface PaymentLine {
  receipt: string;
  amount: Money;
  method: PaymentMethod;
  clerk: string;
  at: string;
  outstanding_minor: number;
  refunded_minor: number;
}
export interface RefundLine {
  receipt: string;
  payment_receipt: string;
  amount: Money;
  method: PaymentMethod;
  reason: string;
  clerk: string;
  approver: string;
  at: string;
}
export interface NewRefund {
  /** The payment's receipt number. */
  payment: string;
  amount: string;
  reason: string;
}
export interface RequestDetail extends RequestSummary {
  agency: string;
  category: string;
  documents: { code: string; name: Text; kind: string; received: boolean }[];
  fee_exemptions: string[];
  status_reason: string | null;
  payments: PaymentLine[];
  refunds: RefundLine[];
  timeline: RequestEvent[];
  changes: ChangeState[];
  next_actions: Action[];
  /** Of the next actions, those a supervisor must approve now. */
  approval_needed: Action[];
}
export interface RequestFilter {
  status: RequestStatus | null;
  service: string | null;
  citizen: string | null;
  overdue: boolean;
  limit: number | null;
  /** Only the requests taken during this visit (a ticket's `visit`). */
  visit?: string | null;
  /** A receipt number, a citizen's national id or names, or words of a service's title. */
  text?: string | null;
}

export interface WaitSummary {
  count: number;
  median_s: number | null;
  p90_s: number | null;
  max_s: number | null;
  above_target: number;
  share_above_target: number | null;
}
export interface Dashboard {
  day: string;
  made_at: string;
  center_name: string;
  waiting_target_min: number;
  waiting_now: number;
  longest_wait_now_s: number | null;
  waiting_by_hour: { hour: number; issued: number; served: number; waiting: WaitSummary }[];
  requests_by_status: { status: RequestStatus; name: string; count: number }[];
  overdue_count: number;
  overdue: { receipt: string; service_name: string; due_date: string; days_overdue: number }[];
  currency: string;
  collected_minor: number;
  refunded_minor: number;
  /** Collected minus refunded: the money the centre kept today. */
  net_collected_minor: number;
  collected_by_method: { method: string; name: string; payments: number; amount_minor: number }[];
  feedback: { count: number; average: number | null; distribution: number[] };
  sync: { clean: boolean; statement: string; unsent: number; refused: number; conflicts: number };
}
export interface Exported {
  path: string;
  clean: boolean;
  sync: string;
}

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
  login: (username: string, password: string) => call<SessionView>("login", { username, password }),
  /** Locks the screen: the session stays, and every command but unlock is refused. */
  lock: () => call<void>("lock"),
  /** The same clerk unlocks; another clerk's credentials switch the session to them. */
  unlock: (username: string, password: string) => call<SessionView>("unlock", { username, password }),
  logout: () => call<void>("logout"),
  syncNow: () => call<void>("sync_now"),
  issueTicket: (target: QueueTarget, lane: string) => call<Ticket>("issue_ticket", { target, lane }),
  callNext: (counter: string) => call<Ticket | null>("call_next", { counter }),
  /** Recalling a no-show takes a supervisor's approval. */
  recall: (ticket: string, approval: Approval | null = null) => call<Ticket>("recall", { ticket, approval }),
  noShow: (ticket: string) => call<Ticket>("no_show", { ticket }),
  startService: (ticket: string) => call<Ticket>("start_service", { ticket }),
  finishService: (ticket: string) => call<Ticket>("finish_service", { ticket }),
  transfer: (ticket: string, to: { Queue: QueueTarget } | { Counter: string }) =>
    call<Ticket>("transfer", { ticket, to }),
  queueView: (counter: string) => call<QueueView>("queue_view", { counter }),
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
  exportReport: (exp: { from: string; to: string; format: string; lang: string; cash_counted: string | null }) =>
    call<Exported>("export_report", { export: exp }),
  setRules: (rules: Rules) => call<Config>("set_rules", { rules }),
  printSlip: (slip: { kind: "ticket" | "receipt"; key: string; paper: Paper; lang: string }) =>
    call<{ job: string }>("print_slip", { slip }),
};

/** What a slip is printed on: an 80 mm thermal roll, or A4. */
export type Paper = "roll80" | "a4";

export function onExportProgress(handler: (p: { step: number; of: number }) => void): Promise<() => void> {
  return listen<{ step: number; of: number }>("export-progress", (event) => handler(event.payload));
}

export function onStatus(handler: (status: StatusBar) => void): Promise<() => void> {
  return listen<StatusBar>("status", (event) => handler(event.payload));
}
