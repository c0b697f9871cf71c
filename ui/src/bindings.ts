// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit. To write it
// again after changing a type: GUICHET_WRITE_BINDINGS=1 cargo test -p guichet-app bindings

export type Action = "submit" | "dispatch" | "resubmit" | "deliver" | "cancel" | "take_in_processing" | "return_for_correction" | "mark_ready" | "reject";

/** Everything the window needs to draw its first screen. */
export type AppState = {
  catalogue_version: number | null;
  config: Config | null;
  counters: Counter[];
  /**
   * This computer's data was erased at the back office's request, and it was not set up
   * again since: the first screen says so.
   */
  erased: Erased | null;
  /** Minutes without a key or a click after which the window locks itself (0: never). */
  idle_lock_minutes: number;
  /** Damaged databases kept aside here, the latest first, while it is not set up again. */
  kept_aside: KeptAside[];
  lanes: Lane[];
  /** The printers the slips go to, while a clerk has the workstation open. */
  printers: Printers | null;
  /**
   * A recovery key the login just made (the first login of a standalone workstation of an
   * earlier release encrypts its data): shown once, for an administrator to write down.
   */
  recovery_key: string | null;
  /** Who is logged in, and whether the screen is locked; `None`: the login screen. */
  session: Session | null;
  status: StatusBar;
  today: string;
};

/** A supervisor's user name and password, typed for an act of the clerk logged in. */
export type Approval = {
  password: string;
  username: string;
};

/** A value a message quotes. */
export type Arg = string | string[] | Text[] | Money | Message;

/** Where the service is offered. */
export type Availability = {
  kind: "everywhere";
} | {
  centers: string[];
  kind: "centers";
};

/** The ways to browse the catalogue: by life event, target group, category, agency. */
export type Browse = {
  agencies: BrowseEntry[];
  categories: BrowseEntry[];
  life_events: BrowseEntry[];
  target_groups: BrowseEntry[];
  version: number | null;
};

/** One entry of a browsing list with how many services it holds here. */
export type BrowseEntry = {
  code: string;
  name: Text;
  services: number;
};

/**
 * A ticket called to a counter, as the waiting room's display shows it: no name, only the
 * code printed on the citizen's ticket.
 */
export type Call = {
  /** When it was last called (RFC 3339). */
  at: string;
  /** How many times it was called: a recall is a new call. */
  calls: number;
  code: string;
  counter: string;
  /** The counter as the centre names it. */
  counter_name: string;
  /** Called and not yet at the counter: the citizen is expected there now. */
  expected: boolean;
};

/**
 * What the waiting room's display shows: the day's latest calls, newest first, and how
 * many wait.
 */
export type CallingBoard = {
  calls: Call[];
  center_name: string;
  day: string;
  /** The centre's time zone, which the times of the calls are shown in. */
  time_zone: Zone;
  waiting: number;
};

/** What kind of place a centre is; it decides the channel its workstations serve on. */
export type CenterKind = "stationary" | "mobile" | "kiosk";

export type ChangeLine = {
  at: string;
  entity_id: string;
  kind: string;
  reason: string;
  seq: number;
  state: string;
};

/** The sync state of one change made to the request. */
export type ChangeState = {
  at: string;
  kind: string;
  /**
   * For a move pulled from the back office that this centre's later move overtook: who
   * made it.
   */
  overtaken_by: string | null;
  /** The back office's sentence, in English. */
  reason: string | null;
  /** Why the back office refused it, for the window to say in the clerk's language. */
  refusal_code: RefusalCode | null;
  /** For a conflict a clerk has resolved: their note. */
  resolution: string | null;
  /**
   * For a conflict: the request's status at the back office, or the status another party's
   * move, overtaken by this centre's, gave it.
   */
  server_status: RequestStatus | null;
  state: OutboxState;
};

/** Where a citizen meets the service. */
export type Channel = "stationary_center" | "mobile_center" | "kiosk" | "call_center" | "web";

export type ChoiceOption = {
  code: string;
  label: Text;
};

/** A citizen as the centre knows them. */
export type Citizen = {
  address: string | null;
  birth_date: string;
  email: string | null;
  family_name: string;
  given_name: string;
  national_id: string;
  phone: string | null;
};

/** How to find a citizen again. */
export type CitizenQuery = {
  NationalId: string;
} | {
  Name: {
    birth_date: string;
    name: string;
  };
};

export type CommentLine = {
  at: string;
  clerk: string;
  comment: string;
  rating: number;
  service: string;
};

/** Which centre and device this workstation is, and its local rules. */
export type Config = {
  center_code: string;
  center_kind: CenterKind;
  center_name: string;
  channel: Channel;
  created_at: string;
  currency: Currency;
  device_code: string;
  /**
   * Minutes without a key or a click after which the window locks itself
   * (`IDLE_LOCK_MINUTES`; 5 unless an administrator changed it).
   */
  idle_lock_minutes: number;
  /**
   * How many days an enrolled device that has not reached its back office keeps taking
   * logins.
   */
  max_offline_days: number;
  national_id_scheme: string;
  receipt_prefix: ReceiptPrefix;
  /** The centre's time zone: its days and hours are counted in it. */
  time_zone: Zone;
  waiting_target_min: number;
};

export type Counter = {
  code: string;
  name: string;
  scope: CounterScope;
};

/** What a counter serves. */
export type CounterScope = {
  kind: "all";
} | {
  categories: string[];
  kind: "listed";
  services: string[];
};

/** An ISO 4217 currency code. */
export type Currency = string;

export type Dashboard = {
  center_name: string;
  collected_by_method: MethodLine[];
  /** Payments taken today. */
  collected_minor: number;
  currency: Currency;
  day: string;
  feedback: FeedbackSection;
  /** The longest wait of those, so far, in seconds. */
  longest_wait_now_s: number | null;
  made_at: string;
  /** Collected minus refunded: the money the centre kept today. */
  net_collected_minor: number;
  /** The most overdue first, at most `DASHBOARD_OVERDUE`. */
  overdue: OverdueLine[];
  overdue_count: number;
  /** Refunds given today (of payments of any day). */
  refunded_minor: number;
  /** Every request on this device by its current status. */
  requests_by_status: StatusCount[];
  sync: SyncHealth;
  /** Today's waiting times by hour of arrival; compare with `waiting_target_min`. */
  waiting_by_hour: HourLine[];
  /** Tickets waiting or called now. */
  waiting_now: number;
  waiting_target_min: number;
};

/** How far a centre can take a service on one channel. */
export type Depth = "information_only" | "partial" | "complete";

/** A received-or-missing line of the checklist. */
export type DocumentCheck = {
  code: string;
  kind: DocumentKind;
  name: Text;
  received: boolean;
};

export type DocumentKind = "original" | "copy";

/** A document the citizen must bring. */
export type DocumentRequirement = {
  code: string;
  kind: DocumentKind;
  name: Text;
};

/** How the operator says this device reaches its back office beyond the address. */
export type EnrolLink = {
  /** Plain `http://` to another machine, on a network the operator trusts. */
  allow_insecure_http?: boolean;
  /** The PEM text of the CA that signed the back office's certificate (a private CA). */
  ca_cert?: string | null;
};

/** What was erased, and when: shown on screen, and kept for the next start. */
export type Erased = {
  at: string;
  center_code: string;
  /** Whether the back office heard that the erasure was done. */
  confirmed: boolean;
  device_code: string;
};

export type Export = {
  /** The cash the supervisor counted in the drawer, as typed. */
  cash_counted?: string | null;
  format: string;
  from: string;
  lang: string;
  to: string;
};

/** How far an export has gone: `step` stages done of `of`. */
export type ExportProgress = {
  of: number;
  step: number;
};

export type Exported = {
  clean: boolean;
  path: string;
  sync: string;
};

/** What the citizen pays. */
export type Fee = {
  kind: "free";
} | {
  amount: Money;
  kind: "charged";
  tier: FeeTier;
};

/**
 * Bangladesh's union centres are the model: certificates free, information at a subsidised
 * fee, printing and banking at commercial rates.
 */
export type FeeTier = "standard" | "subsidized" | "commercial";

export type FeedbackGroup = {
  average: number | null;
  code: string;
  count: number;
  name: string;
};

export type FeedbackSection = {
  average: number | null;
  by_clerk: FeedbackGroup[];
  by_service: FeedbackGroup[];
  /** At most `LIST_CAP`, oldest first. */
  comments: CommentLine[];
  count: number;
  /** How many gave 1, 2, 3, 4 and 5. */
  distribution: number[];
};

/** One field that did not pass: the problem in English words, and the key and values the window translates it from. */
export type FieldProblem = {
  args: Record<string, Arg>;
  field: string;
  key: string;
  problem: string;
};

/**
 * One field of an application form. (Unknown keys are refused by `FieldKind`, which receives
 * every key this struct does not take: serde cannot combine `deny_unknown_fields` with
 * `flatten` on the outer struct.)
 */
export type FormField = {
  code: string;
  label: Text;
  required: boolean;
} & ({
  max_length: number | null;
  min_length: number | null;
  type: "text";
} | {
  /** The date may not be after the day of intake (birth dates, past events). */
  not_future: boolean;
  /** The date may not be before the day of intake (appointments, travel). */
  not_past: boolean;
  type: "date";
} | {
  max: number | null;
  min: number | null;
  type: "number";
} | {
  options: ChoiceOption[];
  type: "choice";
} | {
  type: "national_id";
} | {
  type: "phone";
});

/** Tickets issued in one hour of the day (0 to 23), all days of the period together. */
export type HourLine = {
  hour: number;
  issued: number;
  served: number;
  waiting: WaitSummary;
};

/** A database kept aside: shown on the first screen until the workstation is set up again. */
export type KeptAside = {
  at: string;
  center_code: string | null;
  device_code: string | null;
  /** The name of the database file kept aside, in the data directory. */
  file: string;
  /** Its back office, when it was enrolled: enrolling again brings the centre's data back. */
  server: string | null;
};

/** What the ticket kiosk offers: the categories served here and the queue's lanes. */
export type KioskMenu = {
  categories: BrowseEntry[];
  center_name: string;
  lanes: Lane[];
};

/** A ticket the kiosk gave: its code, how many wait before it, and whether it printed. */
export type KioskTicket = {
  ahead: number;
  code: string;
  id: string;
  printed: boolean;
};

/** A priority lane. Lower rank is called first; equal ranks go by arrival. */
export type Lane = {
  code: string;
  name: Text;
  rank: number;
};

/** A locale key and the named values its template quotes. */
export type Message = {
  args: Record<string, Arg>;
  key: string;
};

export type MethodLine = {
  amount_minor: number;
  method: string;
  name: string;
  payments: number;
};

/** An amount in minor units (cents) of one currency. */
export type Money = {
  currency: Currency;
  minor: number;
};

/** What the clerk types to register a citizen. */
export type NewCitizen = {
  address?: string | null;
  birth_date: string;
  email?: string | null;
  family_name: string;
  given_name: string;
  national_id: string;
  phone?: string | null;
};

/** A refund the clerk asks for: which payment (its receipt number), how much, and why. */
export type NewRefund = {
  amount: string;
  payment: string;
  reason: string;
};

/** What the clerk fills in at intake. */
export type NewRequest = {
  citizen: string;
  /** Codes of the required documents the citizen brought. */
  documents_received: string[];
  form: Record<string, string>;
  service: string;
  /** Submit at once (every document must then be received). */
  submit: boolean;
  /** The visit (ticket being served) this request is taken during, if any. */
  visit?: string | null;
};

/** Where a change stands on its way to the back office. */
export type OutboxState = "pending" | "sent" | "refused" | "conflict";

export type OverdueLine = {
  /** Working days past the due date, at the end of the period. */
  days_overdue: number;
  due_date: string;
  intake_date: string;
  receipt: string;
  service_code: string;
  service_name: string;
  status: RequestStatus;
};

/**
 * The workstation a database belongs to, as its slots file says in clear (nothing secret):
 * what a clerk is told when the database itself cannot be read.
 */
export type Owner = {
  center_code: string | null;
  device_code: string | null;
  /** Its back office, when it was enrolled: enrolling again brings the centre's data back. */
  server: string | null;
};

/** What a slip is printed on. */
export type Paper = "roll80" | "a4";

/** Who may perform an action. */
export type Party = "center" | "agency";

export type PaymentMethod = "cash" | "card" | "mobile_money";

export type PaymentView = {
  amount: Money;
  at: string;
  clerk: string;
  method: PaymentMethod;
  /** What was still owed after this payment, when it was made. */
  outstanding_minor: number;
  receipt: string;
  /** How much of it was given back since. */
  refunded_minor: number;
  request_receipt: string;
};

/** What the status bar shows. */
export type Phase = "syncing" | "online" | "offline" | "error" | "wipe" | "wiped";

/** What the printing system said when it took the slip. */
export type Printed = {
  job: string;
};

/**
 * The printers this workstation sends its slips to, by their names in the printing system
 * (CUPS); empty: the system's default printer.
 */
export type Printers = {
  /** The counter's slips: tickets given there and the citizens' receipts. */
  counter: string;
  /** The ticket kiosk's tickets, and nothing else. */
  kiosk: string;
};

/** What went wrong, for the window to say in the clerk's language. */
export type ProblemKind = "data_dir" | "damaged" | "newer" | "other";

/** Progress of a run in flight, for the status bar. */
export type Progress = {
  pages: number;
  pushed: number;
  to_push: number;
};

/** What a ticket waits for. */
export type QueueTarget = {
  code: string;
  kind: "service";
} | {
  code: string;
  kind: "category";
};

/** The waiting list and what this counter has called or is serving. */
export type QueueView = {
  current: TicketView | null;
  waiting: WaitingEntry[];
};

/** A device's receipt prefix: 4 symbols of the receipt alphabet. */
export type ReceiptPrefix = string;

/** A payment given back, in part or in full. */
export type RefundView = {
  amount: Money;
  approver: string;
  at: string;
  clerk: string;
  method: PaymentMethod;
  payment_receipt: string;
  reason: string;
  /** The refund's own receipt number, for the slip the citizen signs. */
  receipt: string;
  request_receipt: string;
};

export type RefusalCode = "id_reused" | "out_of_scope" | "unknown_reference" | "transition" | "invalid" | "blocked";

/** Everything about one request. */
export type RequestDetail = {
  agency: string;
  /** Of the next actions, those a supervisor must approve now. */
  approval_needed: Action[];
  catalogue_version: number;
  category: string;
  center_code: string;
  changes: ChangeState[];
  citizen_id: string;
  citizen_name: string;
  clerk: string;
  /** Working days past the due date, for open requests. */
  days_overdue: number;
  device_code: string;
  documents: DocumentCheck[];
  due_date: string;
  fee: Money | null;
  fee_exemptions: string[];
  form: Record<string, string>;
  id: string;
  intake_date: string;
  /** What the centre can do next. */
  next_actions: Action[];
  paid_minor: number;
  payments: PaymentView[];
  receipt: string;
  refunds: RefundView[];
  service_code: string;
  service_title: Text;
  status: RequestStatus;
  status_reason: string | null;
  timeline: RequestEvent[];
  visit_id: string | null;
  waiver_ground: string | null;
};

/** One status change in the timeline. */
export type RequestEvent = {
  action: string;
  actor: string;
  at: string;
  from: RequestStatus | null;
  hlc: string;
  party: Party;
  reason: string | null;
  to: RequestStatus;
};

/** Filters for the request list; all optional. */
export type RequestFilter = {
  citizen?: string | null;
  /** At most this many, newest first (default 100). */
  limit?: number | null;
  /** Only requests past their due date and still open. */
  overdue: boolean;
  service?: string | null;
  status?: RequestStatus | null;
  /**
   * What a clerk types to find a request: its receipt number (as read aloud: any case, O
   * for 0), or the citizen's national id or names, or words of the service's title in any
   * language.
   */
  text?: string | null;
  /** Only the requests taken during this visit (a ticket's `visit`). */
  visit?: string | null;
};

export type RequestStatus = "draft" | "submitted" | "dispatched" | "in_processing" | "returned_for_correction" | "ready" | "delivered" | "rejected" | "cancelled";

/** One line of the request list. */
export type RequestSummary = {
  citizen_id: string;
  citizen_name: string;
  /** Working days past the due date, for open requests. */
  days_overdue: number;
  due_date: string;
  fee: Money | null;
  id: string;
  intake_date: string;
  paid_minor: number;
  receipt: string;
  service_code: string;
  service_title: Text;
  status: RequestStatus;
  waiver_ground: string | null;
};

/** What an account may do. Each role may do what the roles below it may. */
export type Role = "clerk" | "supervisor" | "administrator";

/** The local rules an administrator changes; `None` leaves one as it is. */
export type Rules = {
  /** The counter's printer, by its name in the printing system; empty: the default printer. */
  counter_printer?: string | null;
  idle_lock_minutes?: number | null;
  /** The ticket kiosk's printer, likewise. */
  kiosk_printer?: string | null;
  max_offline_days?: number | null;
};

/** A catalogue search: free text and filters, all optional. */
export type SearchQuery = {
  agency?: string | null;
  category?: string | null;
  channel?: Channel | null;
  life_event?: string | null;
  /** At most this many hits (default 20). */
  limit?: number | null;
  target_group?: string | null;
  text?: string | null;
};

/** One service in a result list, with what the clerk needs to choose it. */
export type ServiceHit = {
  agency: string;
  category: string;
  code: string;
  /** What this workstation's channel can do with it (None: not offered on this channel). */
  depth_here: Depth | null;
  fee: Fee;
  processing_days: number;
  title: Text;
};

/** A service with what intake shows about it here. */
export type ServiceView = {
  agency: string;
  availability: Availability;
  category: string;
  /**
   * What a centre can do with the service on each channel; a channel not listed does not
   * offer it at all.
   */
  channels: {
    call_center?: Depth;
    kiosk?: Depth;
    mobile_center?: Depth;
    stationary_center?: Depth;
    web?: Depth;
  };
  /** Stable across catalogue versions: requests refer to it. */
  code: string;
  depth_here: Depth | null;
  description: Text;
  documents: DocumentRequirement[];
  due_date: string;
  /** Target groups whose members pay nothing for this service. */
  exemptions: string[];
  fee: Fee;
  form: FormField[];
  /** Search words per language, beyond those in the title and description. */
  keywords: Record<string, string[]>;
  life_events: string[];
  /** Working days from intake to the expected result. */
  processing_days: number;
  target_groups: string[];
  title: Text;
};

/** Who is logged in at this workstation. */
export type Session = {
  display_name: string;
  /** Locked: the clerk stepped away; nothing can be done until a clerk unlocks. */
  locked: boolean;
  role: Role;
  username: string;
};

/**
 * A standalone workstation just set up, and its recovery key, shown once for the administrator
 * to write down.
 */
export type SetUp = {
  config: Config;
  recovery_key: string;
};

/** Which slip to print, on what, in which language. */
export type SlipRequest = {
  key: string;
  /** `ticket` (`key`: its id or today's code) or `receipt` (`key`: the receipt number). */
  kind: string;
  lang: string;
  paper: Paper;
};

export type StandaloneSetup = {
  admin_name: string;
  admin_password: string;
  admin_username: string;
  center_code: string;
  center_kind: CenterKind;
  center_name: string;
  /** The currency fees are paid in (three letters, such as EUR or KES). */
  currency: string;
  device_code: string;
  /** How national ids are checked: `ee-isikukood` or `plain`. */
  national_id_scheme: string;
  /** The centre's IANA time zone (Europe/Athens, Africa/Dakar). */
  time_zone: string;
  /** The waiting-time target, in minutes. */
  waiting_target_min: number;
};

/** A start that failed, or a database found damaged, as the window shows it. */
export type StartProblem = {
  /** Where the data is kept (none when there is no home directory to keep it in). */
  data_dir: string | null;
  /** The reason in the system's or the core's words (no personal data: paths and codes). */
  detail: string;
  kind: ProblemKind;
  /**
   * For a damaged database: the workstation it belongs to (boxed: a problem travels in
   * results, and is small but for this).
   */
  owner: Owner;
};

/** What the status bar shows, on every screen. */
export type StatusBar = {
  conflicts: number;
  /**
   * Whether `waiting`, `refused` and `conflicts` were counted: false while the database has
   * been closed since the app started (the login screen) or since an action left it closed
   * (an enrolment), when the window says that they are known once a clerk logs in rather
   * than "all changes sent". A locked screen keeps the counts read before the lock: the
   * window changes nothing while its database is closed (a `guichet sync` on the command
   * line meanwhile is counted at the unlock).
   */
  counted: boolean;
  /**
   * The link is plain HTTP to another machine, as allowed at enrolment: the status bar
   * warns that what crosses the network can be read on the way.
   */
  insecure: boolean;
  last_success: string | null;
  /** The bytes left on the data directory's disk, when so few that writes may soon fail. */
  low_disk: number | null;
  /** In words, for the clerk. */
  message: string | null;
  phase: Phase;
  progress: Progress;
  /** Changes the back office refused or decided otherwise, for the clerk to look at. */
  refused: number;
  /** The back office this device syncs with; `None` when standalone. */
  server: string | null;
  /**
   * The same as a key and values the window translates (see `guichet_domain::message`);
   * only the task's own errors have one.
   */
  translation?: Message | null;
  /** An update of the app offered by the back office, once one is. */
  update: UpdateState | null;
  waiting: number;
};

export type StatusCount = {
  count: number;
  name: string;
  status: RequestStatus;
};

/** Where the device stands with the back office when the report is made. */
export type SyncHealth = {
  /** Nothing unsent, refused or in conflict: the day can be closed as clean. */
  clean: boolean;
  conflicts: number;
  enrolled: boolean;
  last_error: string | null;
  last_success: string | null;
  oldest_unsent_age_s: number | null;
  oldest_unsent_at: string | null;
  /** Refused and conflicting changes with their reasons (at most `LIST_CAP`). */
  problems: ChangeLine[];
  refused: number;
  /** One sentence that says so, or says why not, in the report's language. */
  statement: string;
  unsent: number;
};

/** A text in several languages, keyed by a lowercase language code ("en", "fr", "it", ...). */
export type Text = Record<string, string>;

export type TicketStatus = "waiting" | "called" | "no_show" | "serving" | "done";

export type TicketView = {
  calls: number;
  code: string;
  counter: string | null;
  day: string;
  id: string;
  issued_at: string;
  lane: string;
  no_shows: number;
  service_ms: number | null;
  status: TicketStatus;
  target: QueueTarget;
  visit: string | null;
  waiting_ms: number | null;
};

/** Where a transferred ticket goes. */
export type Transfer = {
  Queue: QueueTarget;
} | {
  Counter: string;
};

/** Where an update offered by the back office stands, as the window shows it. */
export type UpdateState = {
  state: "downloading";
  version: string;
} | {
  notes: string;
  state: "ready";
  version: string;
} | {
  state: "installing";
  version: string;
} | {
  reason: string;
  state: "refused";
  version: string;
} | {
  again: boolean;
  reason: string;
  state: "failed";
  version: string;
};

/** Waiting times of a group of served tickets, in whole seconds. */
export type WaitSummary = {
  /** Waited longer than the centre's target. */
  above_target: number;
  /** Tickets whose waiting time is known (the citizen came to the counter). */
  count: number;
  max_s: number | null;
  mean_s: number | null;
  median_s: number | null;
  p90_s: number | null;
  /** `above_target` over `count`, 0 to 1. */
  share_above_target: number | null;
};

/** A line of the waiting list, with how long the citizen has waited so far. */
export type WaitingEntry = {
  code: string;
  counter: string | null;
  lane: string;
  status: TicketStatus;
  target: QueueTarget;
  waited_ms: number;
};

/** An IANA time zone, such as Europe/Athens or Africa/Dakar. */
export type Zone = string;
