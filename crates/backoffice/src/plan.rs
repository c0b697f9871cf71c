//! Applying a push, computed as a plan: a pure function from the entries and a snapshot of
//! what the back office holds to one outcome per entry and the rows to write. The storage
//! backends load the snapshot and write the plan inside one transaction, holding the centre's
//! lock, so the plan sees exactly the state it is applied to.
//!
//! # Conflicts
//!
//! A centre's transition is checked against the **back office's current status** of the
//! request, not against the status the device saw (`from`):
//!
//! 1. If the action is allowed from the server's status (with the server's own guards: fee
//!    settled from the payments and waiver it holds, documents complete), it applies. So a
//!    cancellation at the counter still wins over a `ready` that was not delivered: the
//!    citizen withdrew in person, and nothing was handed over.
//! 2. If it is not allowed and the server's status differs from the device's `from`, someone
//!    else moved the request first (an agency decision, or another device of the centre): the
//!    entry is answered `Conflict` with the server's status and is not applied. The device
//!    keeps it and shows it to the clerk (deliver after the agency rejected, for instance).
//! 3. If it is not allowed from the very status the device saw, the device broke the rules
//!    itself: `Refused` with code `transition`.
//!
//! An agency action on a request the centre already cancelled is refused to the agency at
//! once, synchronously (`Error::CancelledAtCenter`); it never reaches the centre.
//!
//! Two devices of one centre are judged the same way, in the order their pushes reach the back
//! office (the centre's lock serialises them): the first move applies, the second is checked
//! against the status the first left (delivered by one device, then cancelled by the other:
//! the cancellation is a conflict). Every applied entry is answered with its place in the
//! centre's log, so a device can tell the pulled changes that are older than its own.
//!
//! Entries are judged in `seq` order. Once an entry is refused or in conflict, every later
//! entry of the same push about the same request (or the same citizen) is refused as
//! `Blocked`, because it was made on top of a change the back office does not have.
//!
//! # Actors
//!
//! Every entry names the clerk who was logged in when it was made (`actor`). Before anything
//! else the back office checks that clerk as it stands now: an account of the pushing
//! device's centre, active, whose role allows the act the change needs ([`needed_act`]).
//! Otherwise the entry is refused `out_of_scope` and applies nothing. The one exception is a
//! failed login, made while nobody is logged in: it is accepted under any actor, and names an
//! account or `(unknown)`, never the text typed. A clerk's other session events must be their
//! own (`clerk` is the actor). Session events are kept by the back office, not logged for the
//! other devices: their `applied` answer carries the centre log's head when they were applied.
//!
//! # Approvers
//!
//! The acts where money or a decision can be bent (`guichet_domain::approval`: a waiver, a
//! refund, a cancellation once the back office holds a payment for the request, the recall of
//! a no-show) must name a second person, `approver`, in the change. The back office checks that
//! name as it checks the actor's: an active account of the pushing centre, a supervisor or an
//! administrator, and not the actor. Otherwise, or when the approver is missing, the entry is
//! refused `out_of_scope` and applies nothing. An approver a change names when its act needs
//! none is checked all the same: a name in the trail is a name that was checked.
//!
//! # Refunds
//!
//! A refund names the payment it reverses; the back office refuses one that names a payment it
//! does not hold, of another request, or that gives back more than is left of it. The request's
//! `paid_minor` is net of refunds, so a refund can leave the fee unsettled again.

use std::collections::{BTreeMap, HashMap, HashSet};

use guichet_domain::account::{Act, Role, SessionEvent, UNKNOWN_CLERK};
use guichet_domain::approval::{ApprovedAct, approver_problem, check_refund};
use guichet_domain::catalogue::{CenterKind, Service};
use guichet_domain::citizen::NationalIdScheme;
use guichet_domain::feedback::check_payment;
use guichet_domain::form::{FormContext, validate};
use guichet_domain::hlc::HlcStamp;
use guichet_domain::money::Money;
use guichet_domain::receipt::{ReceiptNumber, ReceiptPrefix};
use guichet_domain::request::{Action, Guards, Party, Refusal, RequestStatus, next_status};
use guichet_domain::{DomainError, citizen::Citizen};
use guichet_protocol::{Change, Outcome, PushEntry, PushResult, RefusalCode};

use crate::model::{PaymentRow, RefundRow, ServerRequest, a_role};

/// The authenticated device that pushes.
#[derive(Debug, Clone, Copy)]
pub struct Pusher<'a> {
    pub device: &'a str,
    pub center: &'a str,
    pub center_kind: CenterKind,
    pub prefix: &'a ReceiptPrefix,
}

/// What a push refers to, so a backend loads only that.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Wants {
    pub change_ids: Vec<String>,
    pub requests: Vec<String>,
    pub citizens: Vec<String>,
    pub services: Vec<(u32, String)>,
    /// The user names of the actors and approvers, and of the clerks session events name.
    pub accounts: Vec<String>,
    /// The payments refunds name, and the ids of new payments.
    pub payments: Vec<String>,
    /// The receipt numbers of new requests.
    pub receipts: Vec<String>,
    /// The ids of new refunds.
    pub refunds: Vec<String>,
}

impl Wants {
    pub fn of(entries: &[PushEntry]) -> Self {
        let mut wants = Wants::default();
        for entry in entries {
            wants.change_ids.push(entry.id.clone());
            wants.accounts.push(entry.actor.clone());
            if let Some(approver) = entry.change.approver() {
                wants.accounts.push(approver.to_owned());
            }
            match &entry.change {
                Change::CitizenRegistered { citizen } => {
                    wants.citizens.push(citizen.national_id.clone());
                }
                Change::RequestCreated {
                    id,
                    receipt,
                    citizen,
                    service,
                    catalogue_version,
                    ..
                } => {
                    wants.requests.push(id.clone());
                    wants.receipts.push(receipt.as_str().to_owned());
                    wants.citizens.push(citizen.clone());
                    wants.services.push((*catalogue_version, service.clone()));
                }
                Change::ClerkSession { clerk, .. } => wants.accounts.push(clerk.clone()),
                Change::PaymentRecorded {
                    id: payment,
                    request,
                    ..
                } => {
                    wants.payments.push(payment.clone());
                    wants.requests.push(request.clone());
                }
                Change::PaymentRefunded {
                    id: refund,
                    payment,
                    request,
                    ..
                } => {
                    wants.refunds.push(refund.clone());
                    wants.payments.push(payment.clone());
                    wants.requests.push(request.clone());
                }
                other => {
                    if let ("request", id) = other.entity() {
                        wants.requests.push(id.to_owned());
                    }
                }
            }
        }
        for list in [
            &mut wants.change_ids,
            &mut wants.requests,
            &mut wants.citizens,
            &mut wants.accounts,
            &mut wants.payments,
            &mut wants.receipts,
            &mut wants.refunds,
        ] {
            list.sort();
            list.dedup();
        }
        wants.services.sort();
        wants.services.dedup();
        wants
    }
}

/// What the back office holds about the things a push refers to.
#[derive(Debug, Default, Clone)]
pub struct Snapshot {
    /// Applied change ids: the hash of their content and their place in the centre's log.
    pub applied: HashMap<String, (String, Option<u64>)>,
    /// Requests by id, of any centre (so that another centre's request is out of scope, not
    /// unknown).
    pub requests: HashMap<String, ServerRequest>,
    /// National ids of the citizens known at the pushing device's centre.
    pub citizens: HashSet<String>,
    /// Services by (catalogue version, code).
    pub services: HashMap<(u32, String), Service>,
    /// The accounts among the wanted user names, as the pushing centre sees them.
    pub accounts: HashMap<String, AccountStanding>,
    /// The payments among the wanted ids (those refunds name, and new payments' ids, which
    /// must be new), of any centre.
    pub payments: HashMap<String, PaymentStanding>,
    /// The wanted receipt numbers that a stored request holds already.
    pub receipts: HashSet<String>,
    /// The wanted refund ids that a stored refund holds already.
    pub refunds: HashSet<String>,
}

/// A payment as the back office holds it, for the refunds that name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentStanding {
    pub request: String,
    pub amount: Money,
    /// How much of it was refunded already.
    pub refunded_minor: i64,
}

/// What an actor may do at the pushing centre, as the back office holds it now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountStanding {
    pub role: Role,
    pub active: bool,
    /// Whether the account belongs to the pushing device's centre.
    pub of_center: bool,
}

/// One change id the back office now holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedChange {
    pub id: String,
    pub content_hash: String,
    pub seq: u64,
    pub kind: &'static str,
    pub actor: String,
    /// The supervisor who approved it, if it names one (checked like the actor).
    pub approver: Option<String>,
    /// Its place in `Plan::results`, whose `Applied` outcome gets its place in the log.
    pub result: usize,
    /// Whether it goes into the centre's log (`Plan::peer_log`) or is kept apart (a session
    /// event).
    pub logged: bool,
}

/// A session event to keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub change_id: String,
    pub clerk: String,
    pub event: SessionEvent,
    pub hlc: HlcStamp,
}

/// What to write: the outcomes and every row that changes.
#[derive(Debug, Default, Clone)]
pub struct Plan {
    /// One per entry, in the order pushed.
    pub results: Vec<PushResult>,
    /// Every applied entry, in the order judged.
    pub applied: Vec<AppliedChange>,
    /// Citizens to insert or update at the pushing centre.
    pub citizens: Vec<Citizen>,
    /// The final state of every request the push created or changed.
    pub requests: Vec<ServerRequest>,
    pub payments: Vec<PaymentRow>,
    pub refunds: Vec<RefundRow>,
    /// The applied changes that go into the centre's log, in order, for the other devices of
    /// the centre to pull.
    pub peer_log: Vec<PeerEntry>,
    pub sessions: Vec<SessionRow>,
}

/// One applied change on its way into the centre's log.
#[derive(Debug, Clone)]
pub struct PeerEntry {
    pub hlc: HlcStamp,
    pub change: Change,
}

impl Plan {
    /// Gives each applied entry its place in the centre's log, so the device can tell older
    /// pulled changes from newer ones: `seqs` are the sequences the log assigned to
    /// `peer_log`, in order, after `head`, the log's head before the push. An entry kept
    /// apart gets the head as it stood when it was applied. Returns the places in the order of
    /// `applied`.
    pub fn logged(&mut self, head: u64, seqs: &[u64]) -> Vec<u64> {
        let mut last = head;
        let mut seqs = seqs.iter();
        let mut places = Vec::with_capacity(self.applied.len());
        for change in &self.applied {
            if change.logged
                && let Some(seq) = seqs.next()
            {
                last = *seq;
            }
            self.results[change.result].outcome = Outcome::Applied { seq: last };
            places.push(last);
        }
        places
    }
}

/// The hash that decides "same content": SHA-256 of the change's JSON, whose field order is
/// fixed by the types and whose maps are ordered.
pub fn content_hash(change: &Change) -> String {
    let bytes = serde_json::to_vec(change).unwrap_or_default();
    guichet_domain::sha256_hex(&bytes)
}

/// Judges every entry (in `seq` order) and collects the writes.
pub fn plan(
    pusher: Pusher<'_>,
    entries: &[PushEntry],
    mut snapshot: Snapshot,
    scheme: &dyn NationalIdScheme,
) -> Plan {
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_by_key(|&i| entries[i].seq);
    let mut outcomes: Vec<Option<Outcome>> = vec![None; entries.len()];
    let mut plan = Plan::default();
    let mut blocked: HashSet<(&'static str, String)> = HashSet::new();
    let mut touched: Vec<String> = Vec::new();
    let mut citizens: BTreeMap<String, Citizen> = BTreeMap::new();
    for i in order {
        let entry = &entries[i];
        let hash = content_hash(&entry.change);
        let outcome = match snapshot.applied.get(&entry.id) {
            Some((stored, seq)) if *stored == hash => Outcome::Duplicate { seq: *seq },
            Some(_) => refused(
                RefusalCode::IdReused,
                format!(
                    "change {} was applied before with other content: a change id is used once",
                    entry.id
                ),
            ),
            None => {
                let keys = dependencies(&entry.change);
                if let Some((kind, key)) = keys.iter().find(|k| blocked.contains(*k)) {
                    refused(
                        RefusalCode::Blocked,
                        format!(
                            "an earlier change of this push about {kind} {key} was not applied; this one depends on it"
                        ),
                    )
                } else {
                    match judge(pusher, entry, &mut snapshot, scheme) {
                        Ok(effect) => {
                            snapshot
                                .applied
                                .insert(entry.id.clone(), (hash.clone(), None));
                            let logged = !matches!(effect, Effect::Session(_));
                            plan.applied.push(AppliedChange {
                                id: entry.id.clone(),
                                content_hash: hash,
                                seq: entry.seq,
                                kind: entry.change.kind(),
                                actor: entry.actor.clone(),
                                approver: entry.change.approver().map(str::to_owned),
                                result: i,
                                logged,
                            });
                            match effect {
                                Effect::Citizen(c) => {
                                    citizens.insert(c.national_id.clone(), c);
                                }
                                Effect::Request(id) => touched.push(id),
                                Effect::Payment(id, row) => {
                                    touched.push(id);
                                    plan.payments.push(row);
                                }
                                Effect::Refund(id, row) => {
                                    touched.push(id);
                                    plan.refunds.push(row);
                                }
                                Effect::Session(row) => plan.sessions.push(row),
                                Effect::None => {}
                            }
                            if logged {
                                plan.peer_log.push(PeerEntry {
                                    hlc: entry.hlc.clone(),
                                    change: entry.change.clone(),
                                });
                            }
                            // Its sequence comes when the storage appends it to the log.
                            Outcome::Applied { seq: 0 }
                        }
                        Err(outcome) => outcome,
                    }
                }
            }
        };
        if matches!(outcome, Outcome::Refused { .. } | Outcome::Conflict { .. }) {
            blocked.extend(dependencies(&entry.change).into_iter().take(1));
        }
        outcomes[i] = Some(outcome);
    }
    touched.sort();
    touched.dedup();
    plan.requests = touched
        .iter()
        .filter_map(|id| snapshot.requests.get(id).cloned())
        .collect();
    plan.citizens = citizens.into_values().collect();
    plan.results = entries
        .iter()
        .zip(outcomes)
        .map(|(entry, outcome)| PushResult {
            id: entry.id.clone(),
            outcome: outcome.unwrap_or(Outcome::Duplicate { seq: None }),
        })
        .collect();
    plan
}

/// What an entry is about: first its own record, then what it builds on.
fn dependencies(change: &Change) -> Vec<(&'static str, String)> {
    match change {
        Change::CitizenRegistered { citizen } => vec![("citizen", citizen.national_id.clone())],
        Change::RequestCreated { id, citizen, .. } => {
            vec![("request", id.clone()), ("citizen", citizen.clone())]
        }
        other => match other.entity() {
            ("request", id) => vec![("request", id.to_owned())],
            _ => Vec::new(),
        },
    }
}

enum Effect {
    Citizen(Citizen),
    Request(String),
    Payment(String, PaymentRow),
    Refund(String, RefundRow),
    Session(SessionRow),
    None,
}

fn refused(code: RefusalCode, message: String) -> Outcome {
    Outcome::Refused { code, message }
}

fn invalid(message: impl Into<String>) -> Outcome {
    refused(RefusalCode::Invalid, message.into())
}

fn own_receipt(pusher: Pusher<'_>, receipt: &ReceiptNumber) -> Result<(), Outcome> {
    if receipt.prefix() != *pusher.prefix {
        return Err(refused(
            RefusalCode::OutOfScope,
            format!(
                "receipt {receipt} was not issued by device {} (prefix {})",
                pusher.device, pusher.prefix
            ),
        ));
    }
    Ok(())
}

/// The request a change is about, if it exists and belongs to the pusher's centre.
fn request_in_scope<'s>(
    pusher: Pusher<'_>,
    snapshot: &'s mut Snapshot,
    id: &str,
) -> Result<&'s mut ServerRequest, Outcome> {
    let request = snapshot.requests.get_mut(id).ok_or_else(|| {
        refused(
            RefusalCode::UnknownReference,
            format!("the back office knows no request {id}"),
        )
    })?;
    if request.center != pusher.center {
        return Err(refused(
            RefusalCode::OutOfScope,
            format!(
                "request {} belongs to centre {}, not {}",
                request.receipt, request.center, pusher.center
            ),
        ));
    }
    Ok(request)
}

/// The act a change needs of its actor's role. Every change a device makes today is the
/// counter's everyday work; a kind added later decides here what it needs.
pub fn needed_act(change: &Change) -> Act {
    match change {
        Change::CitizenRegistered { .. }
        | Change::RequestCreated { .. }
        | Change::RequestTransition { .. }
        | Change::DocumentMarked { .. }
        | Change::PaymentRecorded { .. }
        | Change::PaymentRefunded { .. }
        | Change::FeeWaived { .. }
        | Change::CounterAdded { .. }
        | Change::TicketIssued { .. }
        | Change::TicketStep { .. }
        | Change::TicketTransferred { .. }
        | Change::FeedbackRecorded { .. }
        | Change::ClerkSession { .. } => Act::Counter,
    }
}

/// Checks the entry's actor as the back office holds it now (see "Actors" above).
fn check_actor(pusher: Pusher<'_>, entry: &PushEntry, snapshot: &Snapshot) -> Result<(), Outcome> {
    if let Change::ClerkSession {
        clerk,
        event: SessionEvent::LoginFailed,
    } = &entry.change
    {
        // Not echoed: a name that is no account may be a password typed in the wrong field.
        if clerk != UNKNOWN_CLERK && !snapshot.accounts.contains_key(clerk) {
            return Err(invalid(format!(
                "a failed login names an account or '{UNKNOWN_CLERK}', never the name as typed"
            )));
        }
        return Ok(());
    }
    let actor = &entry.actor;
    let center = pusher.center;
    let not_active = |why: &str, what_to_do: &str| {
        Err(refused(
            RefusalCode::OutOfScope,
            format!("'{actor}' is not an active clerk of centre {center} ({why}): {what_to_do}"),
        ))
    };
    let act = needed_act(&entry.change);
    match snapshot.accounts.get(actor) {
        None => not_active(
            "no account has this user name",
            "log in as a clerk of the centre",
        ),
        Some(standing) if !standing.of_center => not_active(
            "the account belongs to other centres",
            "log in as a clerk of the centre",
        ),
        Some(standing) if !standing.active => not_active(
            "the account is disabled",
            "enable the account or log in as another clerk",
        ),
        Some(standing) if !standing.role.allows(act) => Err(refused(
            RefusalCode::OutOfScope,
            format!(
                "'{actor}' is {} of centre {center} and may not {}: log in as {}",
                a_role(standing.role),
                act.describe(),
                a_role(Role::needed_for(act))
            ),
        )),
        Some(_) => Ok(()),
    }
}

/// The second person's approval the change needs, as the back office sees it now.
fn needed_approval(change: &Change, snapshot: &Snapshot) -> Option<ApprovedAct> {
    match change {
        Change::FeeWaived { .. } => Some(ApprovedAct::Waiver),
        Change::PaymentRefunded { .. } => Some(ApprovedAct::Refund),
        Change::RequestTransition { id, action, .. } => ApprovedAct::for_request_action(
            *action,
            snapshot.requests.get(id).map_or(0, |r| r.paid_minor),
        ),
        Change::TicketStep { action, from, .. } => ApprovedAct::for_ticket_step(*action, *from),
        _ => None,
    }
}

/// Checks the entry's approver as the back office holds it now (see "Approvers" above).
fn check_approval(
    pusher: Pusher<'_>,
    entry: &PushEntry,
    snapshot: &Snapshot,
) -> Result<(), Outcome> {
    let needed = needed_approval(&entry.change, snapshot);
    let center = pusher.center;
    let out_of_scope = |message: String| Err(refused(RefusalCode::OutOfScope, message));
    let approver = match (needed, entry.change.approver()) {
        (None, None) => return Ok(()),
        (Some(act), None) => {
            return out_of_scope(format!(
                "{act} needs a supervisor's approval and this change names none: make it again with a supervisor of centre {center} approving it"
            ));
        }
        (_, Some(approver)) => approver,
    };
    let what = needed.map_or("this change", ApprovedAct::describe);
    let Some(standing) = snapshot.accounts.get(approver).filter(|s| s.of_center) else {
        return out_of_scope(format!(
            "'{approver}' is not a supervisor of centre {center} and may not approve {what}: ask a supervisor of the centre"
        ));
    };
    match approver_problem(&entry.actor, approver, standing.role, standing.active) {
        Some(problem) => out_of_scope(format!(
            "'{approver}' may not approve {what} of '{}': {problem}",
            entry.actor
        )),
        None => Ok(()),
    }
}

/// The most characters of an entry's id: the devices use UUIDs (36 characters).
pub const MAX_CHANGE_ID_CHARS: usize = 64;

/// The most characters of the node of an entry's clock stamp: the devices use their device
/// code, a centre code (at most 64 characters), a dash and a receipt prefix (4). The stamp is
/// kept in the centre's log and sent with each change the other devices pull.
pub const MAX_HLC_NODE_CHARS: usize = 80;

/// The bounds of what comes with a change: its id, its clock stamp's node, and its sequence,
/// which the back office keeps as a signed 64-bit number.
fn check_envelope(entry: &PushEntry) -> Result<(), Outcome> {
    let id_chars = entry.id.chars().count();
    if id_chars > MAX_CHANGE_ID_CHARS {
        return Err(invalid(format!(
            "this entry's id has {id_chars} characters: a change id has at most \
             {MAX_CHANGE_ID_CHARS} (the device makes a UUID)"
        )));
    }
    let node_chars = entry.hlc.node.chars().count();
    if node_chars > MAX_HLC_NODE_CHARS {
        return Err(invalid(format!(
            "this entry's clock stamp names a node of {node_chars} characters: at most \
             {MAX_HLC_NODE_CHARS} (the device's code)"
        )));
    }
    if i64::try_from(entry.seq).is_err() {
        return Err(invalid(format!(
            "this entry's sequence {} is above {}: a device numbers its changes from 1",
            entry.seq,
            i64::MAX
        )));
    }
    Ok(())
}

/// The bounds on texts that no rule of a change kind checks otherwise: the whole change, a
/// transition's reason, a ticket's lane (see `guichet_protocol::MAX_CHANGE_BYTES`).
fn check_size(entry: &PushEntry) -> Result<(), Outcome> {
    let size = guichet_protocol::json_len(&entry.change);
    if size > guichet_protocol::MAX_CHANGE_BYTES {
        return Err(invalid(format!(
            "this {} is {size} bytes: a change carries at most {} bytes",
            entry.change.kind(),
            guichet_protocol::MAX_CHANGE_BYTES
        )));
    }
    let (what, text, max) = match &entry.change {
        Change::RequestTransition {
            reason: Some(reason),
            ..
        } => ("reason", reason, guichet_protocol::MAX_REASON_CHARS),
        Change::TicketIssued { lane, .. } => ("lane", lane, guichet_protocol::MAX_LANE_CHARS),
        _ => return Ok(()),
    };
    let chars = text.chars().count();
    if chars > max {
        return Err(invalid(format!(
            "the {what} has {chars} characters: at most {max}"
        )));
    }
    Ok(())
}

/// Whether a pushed change may be applied, and what applying it writes: its id, stamp and
/// size, its actor and any approval first, then the rules of its kind, one function each.
fn judge(
    pusher: Pusher<'_>,
    entry: &PushEntry,
    snapshot: &mut Snapshot,
    scheme: &dyn NationalIdScheme,
) -> Result<Effect, Outcome> {
    check_envelope(entry)?;
    check_size(entry)?;
    check_actor(pusher, entry, snapshot)?;
    check_approval(pusher, entry, snapshot)?;
    match &entry.change {
        Change::CitizenRegistered { citizen } => judge_citizen(snapshot, scheme, citizen),
        Change::RequestCreated { .. } => judge_new_request(pusher, entry, snapshot, scheme),
        Change::RequestTransition {
            id,
            action,
            from,
            reason,
            ..
        } => judge_transition(pusher, entry, snapshot, id, action, from, reason),
        Change::DocumentMarked {
            id,
            document,
            received,
        } => judge_document(pusher, entry, snapshot, id, document, received),
        Change::PaymentRecorded { .. } => judge_payment(pusher, entry, snapshot),
        Change::PaymentRefunded { .. } => judge_refund(pusher, entry, snapshot),
        Change::FeeWaived { id, ground, .. } => judge_waiver(pusher, entry, snapshot, id, ground),
        // The queue, counters and feedback are the centre's own business: the back office
        // keeps them for the other devices and the reports, with no rule of its own to check.
        Change::CounterAdded { .. }
        | Change::TicketIssued { .. }
        | Change::TicketStep { .. }
        | Change::TicketTransferred { .. }
        | Change::FeedbackRecorded { .. } => Ok(Effect::None),
        Change::ClerkSession { clerk, event } => judge_session(entry, clerk, event),
    }
}

/// A citizen registered at the device: the id in its canonical form, the texts within
/// bounds.
fn judge_citizen(
    snapshot: &mut Snapshot,
    scheme: &dyn NationalIdScheme,
    citizen: &Citizen,
) -> Result<Effect, Outcome> {
    let canonical = scheme
        .normalize(&citizen.national_id)
        .map_err(|e| invalid(e.to_string()))?;
    if canonical != citizen.national_id {
        return Err(invalid(format!(
            "national id '{}' is not in its canonical form '{canonical}'",
            citizen.national_id
        )));
    }
    guichet_domain::citizen::check_texts(citizen).map_err(|e| invalid(e.to_string()))?;
    snapshot.citizens.insert(canonical);
    Ok(Effect::Citizen(citizen.clone()))
}

/// A new request: the centre's own, for a registered citizen and a service this centre takes
/// requests for in that catalogue version, at its fee, with a valid form.
fn judge_new_request(
    pusher: Pusher<'_>,
    entry: &PushEntry,
    snapshot: &mut Snapshot,
    scheme: &dyn NationalIdScheme,
) -> Result<Effect, Outcome> {
    let Change::RequestCreated {
        id,
        receipt,
        service,
        catalogue_version,
        citizen,
        center,
        device,
        form,
        documents_received,
        fee,
        intake_date,
        ..
    } = &entry.change
    else {
        return Err(invalid(format!(
            "this {} is not a new request",
            entry.change.kind()
        )));
    };
    if center != pusher.center || device != pusher.device {
        return Err(refused(
            RefusalCode::OutOfScope,
            format!(
                "the request claims centre {center} and device {device}, but this is device {} of centre {}",
                pusher.device, pusher.center
            ),
        ));
    }
    own_receipt(pusher, receipt)?;
    if snapshot.requests.contains_key(id) {
        return Err(invalid(format!("request {id} already exists")));
    }
    if snapshot.receipts.contains(receipt.as_str()) {
        return Err(invalid(format!(
            "receipt {receipt} is the number of another request already: the device issues \
             each receipt number once"
        )));
    }
    if !snapshot.citizens.contains(citizen) {
        return Err(refused(
            RefusalCode::UnknownReference,
            format!("citizen {citizen} is not registered at centre {center}"),
        ));
    }
    let svc = snapshot
        .services
        .get(&(*catalogue_version, service.clone()))
        .ok_or_else(|| {
            refused(
                RefusalCode::UnknownReference,
                format!("catalogue version {catalogue_version} has no service '{service}'"),
            )
        })?;
    let channel = pusher.center_kind.channel();
    if !svc.availability.offered_at(center)
        || !svc.depth(channel).is_some_and(|d| d.takes_requests())
    {
        return Err(invalid(format!(
            "service '{service}' takes no requests at centre {center} ({})",
            channel.as_str()
        )));
    }
    if fee != &svc.fee {
        return Err(invalid(format!(
            "the fee of the request differs from the fee of service '{service}' in catalogue version {catalogue_version}"
        )));
    }
    let checked = validate(
        &svc.form,
        form,
        &FormContext {
            today: *intake_date,
            national_ids: scheme,
        },
    )
    .map_err(|problems| invalid(DomainError::Form { problems }.to_string()))?;
    if let Some(unknown) = documents_received
        .iter()
        .find(|d| !svc.documents.iter().any(|r| &&r.code == d))
    {
        return Err(invalid(format!(
            "'{unknown}' is not a required document of service '{service}'"
        )));
    }
    let request = ServerRequest {
        id: id.clone(),
        receipt: receipt.as_str().to_owned(),
        center: center.clone(),
        device: device.clone(),
        service: service.clone(),
        agency: svc.agency.clone(),
        catalogue_version: *catalogue_version,
        citizen: citizen.clone(),
        status: RequestStatus::Draft,
        fee: fee.amount().cloned(),
        paid_minor: 0,
        waiver: None,
        exemptions: svc.exemptions.clone(),
        form: checked,
        documents: svc
            .documents
            .iter()
            .map(|d| (d.code.clone(), documents_received.contains(&d.code)))
            .collect(),
        reason: None,
        updated_hlc: entry.hlc.to_string(),
    };
    snapshot.requests.insert(id.clone(), request);
    snapshot.receipts.insert(receipt.as_str().to_owned());
    Ok(Effect::Request(id.clone()))
}

/// A move of a request the centre owns, from the status the back office holds.
fn judge_transition(
    pusher: Pusher<'_>,
    entry: &PushEntry,
    snapshot: &mut Snapshot,
    id: &str,
    action: &Action,
    from: &RequestStatus,
    reason: &Option<String>,
) -> Result<Effect, Outcome> {
    let request = request_in_scope(pusher, snapshot, id)?;
    let server = request.status;
    let guards = Guards {
        fee_settled: request.fee_settled(),
        has_reason: reason.as_deref().is_some_and(|r| !r.trim().is_empty()),
        documents_complete: request.documents_complete(),
    };
    match next_status(server, *action, Party::Center, guards) {
        Ok(to) => {
            request.status = to;
            if reason.is_some() {
                request.reason = reason.clone();
            }
            request.updated_hlc = entry.hlc.to_string();
            Ok(Effect::Request(id.to_owned()))
        }
        Err(Refusal::NotAllowed { .. }) if server != *from => Err(Outcome::Conflict {
            message: format!(
                "request {} is now {server} at the back office (it was {from} on this device): {action} is no longer possible",
                request.receipt
            ),
            server_status: Some(server),
        }),
        Err(refusal) => Err(refused(
            RefusalCode::Transition,
            DomainError::Transition {
                request: request.receipt.clone(),
                from: server,
                action: *action,
                by: Party::Center,
                refusal,
            }
            .to_string(),
        )),
    }
}

/// A document marked received or not, while its request may still change.
fn judge_document(
    pusher: Pusher<'_>,
    entry: &PushEntry,
    snapshot: &mut Snapshot,
    id: &str,
    document: &str,
    received: &bool,
) -> Result<Effect, Outcome> {
    let request = request_in_scope(pusher, snapshot, id)?;
    if !matches!(
        request.status,
        RequestStatus::Draft | RequestStatus::ReturnedForCorrection
    ) {
        return Err(refused(
            RefusalCode::Transition,
            format!(
                "request {} is {}: its documents can change only while it is a draft or returned for correction",
                request.receipt, request.status
            ),
        ));
    }
    let Some(slot) = request.documents.get_mut(document) else {
        return Err(invalid(format!(
            "'{document}' is not a required document of request {}",
            request.receipt
        )));
    };
    *slot = *received;
    request.updated_hlc = entry.hlc.to_string();
    Ok(Effect::Request(id.to_owned()))
}

/// A payment towards a request's fee, under one of the device's receipts.
fn judge_payment(
    pusher: Pusher<'_>,
    entry: &PushEntry,
    snapshot: &mut Snapshot,
) -> Result<Effect, Outcome> {
    let Change::PaymentRecorded {
        id: payment,
        request: id,
        amount,
        method,
        receipt,
    } = &entry.change
    else {
        return Err(invalid(format!(
            "this {} is not a payment",
            entry.change.kind()
        )));
    };
    own_receipt(pusher, receipt)?;
    if snapshot.payments.contains_key(payment) {
        return Err(invalid(format!(
            "payment {payment} exists already: a payment id is used once"
        )));
    }
    let request = request_in_scope(pusher, snapshot, id)?;
    let Some(fee) = request.fee.clone() else {
        return Err(invalid(format!(
            "request {} is for a free service: there is nothing to pay",
            request.receipt
        )));
    };
    if let Some(ground) = &request.waiver {
        return Err(invalid(format!(
            "the fee of request {} is waived ({ground}): there is nothing to pay",
            request.receipt
        )));
    }
    check_payment(&request.receipt, &fee, request.paid_minor, amount)
        .map_err(|e| invalid(e.to_string()))?;
    request.paid_minor += amount.minor;
    request.updated_hlc = entry.hlc.to_string();
    // A refund later in the same push finds it.
    snapshot.payments.insert(
        payment.clone(),
        PaymentStanding {
            request: id.clone(),
            amount: amount.clone(),
            refunded_minor: 0,
        },
    );
    Ok(Effect::Payment(
        id.clone(),
        PaymentRow {
            id: payment.clone(),
            request: id.clone(),
            amount: amount.clone(),
            method: method.as_str().to_owned(),
            receipt: receipt.as_str().to_owned(),
        },
    ))
}

/// A refund of one of a request's payments, within what was paid.
fn judge_refund(
    pusher: Pusher<'_>,
    entry: &PushEntry,
    snapshot: &mut Snapshot,
) -> Result<Effect, Outcome> {
    let Change::PaymentRefunded {
        id: refund,
        payment,
        request: id,
        amount,
        reason,
        receipt,
        approver,
    } = &entry.change
    else {
        return Err(invalid(format!(
            "this {} is not a refund",
            entry.change.kind()
        )));
    };
    own_receipt(pusher, receipt)?;
    if snapshot.refunds.contains(refund) {
        return Err(invalid(format!(
            "refund {refund} exists already: a refund id is used once"
        )));
    }
    let standing = snapshot.payments.get(payment).cloned().ok_or_else(|| {
        refused(
            RefusalCode::UnknownReference,
            format!("the back office knows no payment {payment}"),
        )
    })?;
    let request = request_in_scope(pusher, snapshot, id)?;
    if standing.request != *id {
        return Err(invalid(format!(
            "payment {payment} is not a payment of request {}",
            request.receipt
        )));
    }
    check_refund(
        payment,
        &standing.amount,
        standing.refunded_minor,
        amount,
        reason,
    )
    .map_err(|e| invalid(e.to_string()))?;
    request.paid_minor -= amount.minor;
    request.updated_hlc = entry.hlc.to_string();
    if let Some(held) = snapshot.payments.get_mut(payment) {
        held.refunded_minor += amount.minor;
    }
    snapshot.refunds.insert(refund.clone());
    Ok(Effect::Refund(
        id.clone(),
        RefundRow {
            id: refund.clone(),
            payment: payment.clone(),
            request: id.clone(),
            amount: amount.clone(),
            reason: reason.clone(),
            receipt: receipt.as_str().to_owned(),
            clerk: entry.actor.clone(),
            approver: approver.clone(),
        },
    ))
}

/// A fee waived on one of its request's exemption grounds, before anything is paid.
fn judge_waiver(
    pusher: Pusher<'_>,
    entry: &PushEntry,
    snapshot: &mut Snapshot,
    id: &str,
    ground: &str,
) -> Result<Effect, Outcome> {
    let request = request_in_scope(pusher, snapshot, id)?;
    if request.fee.is_none() {
        return Err(invalid(format!(
            "request {} is for a free service: there is no fee to waive",
            request.receipt
        )));
    }
    if request.waiver.is_some() {
        return Err(invalid(format!(
            "the fee of request {} is already waived",
            request.receipt
        )));
    }
    if request.paid_minor > 0 {
        return Err(invalid(format!(
            "request {} is already partly paid: a waiver covers the whole fee",
            request.receipt
        )));
    }
    if !request.exemptions.iter().any(|g| g == ground) {
        return Err(invalid(format!(
            "'{ground}' is not an exemption ground of request {}",
            request.receipt
        )));
    }
    request.waiver = Some(ground.to_owned());
    request.updated_hlc = entry.hlc.to_string();
    Ok(Effect::Request(id.to_owned()))
}

/// A session event (a login, a lock, a logout), its clerk's own.
fn judge_session(entry: &PushEntry, clerk: &str, event: &SessionEvent) -> Result<Effect, Outcome> {
    if *event != SessionEvent::LoginFailed && *clerk != entry.actor {
        return Err(invalid(format!(
            "this {} event is about '{clerk}' but was made by '{}': a session event is its clerk's own",
            event.as_str(),
            entry.actor
        )));
    }
    Ok(Effect::Session(SessionRow {
        change_id: entry.id.to_owned(),
        clerk: clerk.to_owned(),
        event: *event,
        hlc: entry.hlc.clone(),
    }))
}

/// The status an agency action leads to, or why it is refused. A request the centre already
/// cancelled is refused with its own error, so the agency learns at once that the citizen
/// withdrew.
pub fn agency_decision(
    request: &ServerRequest,
    action: Action,
    reason: Option<&str>,
) -> crate::Result<RequestStatus> {
    if action.owner() != Party::Agency {
        return Err(crate::Error::Invalid(format!(
            "{action} is the centre's action, not the agency's"
        )));
    }
    if request.status == RequestStatus::Cancelled {
        return Err(crate::Error::CancelledAtCenter {
            receipt: request.receipt.clone(),
            action: action.as_str().replace('_', " "),
        });
    }
    let guards = Guards {
        fee_settled: true,
        has_reason: reason.is_some_and(|r| !r.trim().is_empty()),
        documents_complete: true,
    };
    next_status(request.status, action, Party::Agency, guards).map_err(|refusal| {
        let step = step_name(action);
        match refusal {
            Refusal::NotAllowed { from, possible, .. } => {
                let receipt = ReceiptNumber::parse(&request.receipt)
                    .map_or_else(|_| request.receipt.clone(), |r| r.to_string());
                let possible: Vec<&str> = possible.into_iter().map(step_name).collect();
                let next = if possible.is_empty() {
                    "no step of the agency's applies to it now".to_owned()
                } else {
                    format!("the agency's possible steps now: {}", possible.join(", "))
                };
                let from = from.as_str().replace('_', " ");
                crate::Error::Conflict(format!(
                    "request {receipt} is {from}: it cannot be given the step '{step}'; {next}"
                ))
            }
            Refusal::ReasonRequired { .. } => crate::Error::Invalid(format!(
                "the step '{step}' needs a reason, which the centre and the citizen will read: \
                 give one; nothing was changed"
            )),
            refusal => crate::Error::Domain(DomainError::Transition {
                request: request.receipt.clone(),
                from: request.status,
                action,
                by: Party::Agency,
                refusal,
            }),
        }
    })
}

/// The agency's steps, by the names its API and its command line give them.
pub const AGENCY_STEPS: [(&str, Action); 4] = [
    ("take", Action::TakeInProcessing),
    ("return", Action::ReturnForCorrection),
    ("ready", Action::MarkReady),
    ("reject", Action::Reject),
];

/// An agency's step by its name (`take`, `return`, `ready`, `reject`).
pub fn agency_action(step: &str) -> Option<Action> {
    AGENCY_STEPS
        .iter()
        .find(|(name, _)| *name == step)
        .map(|(_, action)| *action)
}

/// The name of an agency's step, as `agency_action` reads it.
fn step_name(action: Action) -> &'static str {
    AGENCY_STEPS
        .iter()
        .find(|(_, a)| *a == action)
        .map_or(action.as_str(), |(name, _)| name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use guichet_domain::citizen::PlainId;
    use guichet_domain::money::{Currency, Money};

    fn request(center: &str, status: RequestStatus, paid: bool) -> ServerRequest {
        ServerRequest {
            id: "r1".into(),
            receipt: "000000000011".into(),
            center: center.into(),
            device: "ATH-01-0000".into(),
            service: "svc".into(),
            agency: "agency".into(),
            catalogue_version: 1,
            citizen: "c1".into(),
            status,
            fee: Some(Money::new(1000, Currency::parse("EUR").unwrap())),
            paid_minor: if paid { 1000 } else { 0 },
            waiver: None,
            exemptions: Vec::new(),
            form: BTreeMap::new(),
            documents: BTreeMap::new(),
            reason: None,
            updated_hlc: String::new(),
        }
    }

    fn step(id: &str, seq: u64, action: Action, from: RequestStatus) -> PushEntry {
        PushEntry {
            id: id.into(),
            seq,
            hlc: "000000000000001-000000-ws".parse().unwrap(),
            actor: "eleni".into(),
            change: Change::RequestTransition {
                id: "r1".into(),
                action,
                from,
                to: RequestStatus::Cancelled,
                reason: None,
                // The requests of these tests are paid: a cancellation needs a supervisor.
                approver: (action == Action::Cancel).then(|| "sofia".into()),
            },
        }
    }

    fn session(id: &str, seq: u64, actor: &str, clerk: &str, event: SessionEvent) -> PushEntry {
        PushEntry {
            id: id.into(),
            seq,
            hlc: "000000000000001-000000-ws".parse().unwrap(),
            actor: actor.into(),
            change: Change::ClerkSession {
                clerk: clerk.into(),
                event,
            },
        }
    }

    /// The accounts the back office holds, as centre ATH-01 sees them: eleni works there,
    /// maria did (disabled), kostas supervises elsewhere, sofia supervises there, nikos did
    /// (disabled), and petros is a clerk there.
    fn accounts() -> HashMap<String, AccountStanding> {
        let standing = |role, active, of_center| AccountStanding {
            role,
            active,
            of_center,
        };
        HashMap::from([
            ("eleni".into(), standing(Role::Clerk, true, true)),
            ("maria".into(), standing(Role::Clerk, false, true)),
            ("kostas".into(), standing(Role::Supervisor, true, false)),
            ("sofia".into(), standing(Role::Supervisor, true, true)),
            ("nikos".into(), standing(Role::Supervisor, false, true)),
            ("petros".into(), standing(Role::Clerk, true, true)),
        ])
    }

    fn planned(snapshot: Snapshot, entries: &[PushEntry]) -> Plan {
        let prefix = ReceiptPrefix::parse("0000").unwrap();
        let pusher = Pusher {
            device: "ATH-01-0000",
            center: "ATH-01",
            center_kind: CenterKind::Stationary,
            prefix: &prefix,
        };
        plan(pusher, entries, snapshot, &PlainId)
    }

    fn run(
        server: Option<ServerRequest>,
        applied: &[(&str, &str)],
        entries: &[PushEntry],
    ) -> Vec<Outcome> {
        let mut snapshot = Snapshot {
            accounts: accounts(),
            ..Snapshot::default()
        };
        if let Some(request) = server {
            snapshot.requests.insert(request.id.clone(), request);
        }
        for (id, hash) in applied {
            snapshot
                .applied
                .insert((*id).into(), ((*hash).into(), Some(7)));
        }
        planned(snapshot, entries)
            .results
            .into_iter()
            .map(|r| r.outcome)
            .collect()
    }

    fn code(outcome: &Outcome) -> String {
        match outcome {
            Outcome::Applied { .. } => "applied".into(),
            Outcome::Duplicate { .. } => "duplicate".into(),
            Outcome::Refused { code, .. } => format!("refused:{code:?}"),
            Outcome::Conflict { server_status, .. } => format!("conflict:{server_status:?}"),
        }
    }

    /// The conflict rule and the refusals, one row per case: what the server holds, what the
    /// device sends, what it gets.
    #[test]
    fn centre_transitions_against_the_server_status() {
        use Action::*;
        use RequestStatus::*;
        let cases: &[(&str, RequestStatus, bool, Action, RequestStatus, &str)] = &[
            (
                "cancel wins over an undelivered ready",
                Ready,
                true,
                Cancel,
                InProcessing,
                "applied",
            ),
            (
                "deliver after the agency rejected",
                Rejected,
                true,
                Deliver,
                Ready,
                "conflict:Some(Rejected)",
            ),
            (
                "deliver a ready request",
                Ready,
                true,
                Deliver,
                Ready,
                "applied",
            ),
            (
                "dispatch unpaid",
                Submitted,
                false,
                Dispatch,
                Submitted,
                "refused:Transition",
            ),
            (
                "dispatch paid",
                Submitted,
                true,
                Dispatch,
                Submitted,
                "applied",
            ),
            (
                "deliver from the status the device saw",
                Dispatched,
                true,
                Deliver,
                Dispatched,
                "refused:Transition",
            ),
            (
                "cancel after another device delivered",
                Delivered,
                true,
                Cancel,
                Ready,
                "conflict:Some(Delivered)",
            ),
            (
                "an agency action from the centre",
                Dispatched,
                true,
                MarkReady,
                Dispatched,
                "refused:Transition",
            ),
        ];
        for (name, server, paid, action, from, expected) in cases {
            let outcomes = run(
                Some(request("ATH-01", *server, *paid)),
                &[],
                &[step("e1", 1, *action, *from)],
            );
            assert_eq!(code(&outcomes[0]), *expected, "{name}");
        }
    }

    #[test]
    fn scope_references_ids_and_blocking() {
        let cancel = step("e1", 1, Action::Cancel, RequestStatus::Ready);
        let other_centre = run(
            Some(request("THE-01", RequestStatus::Ready, true)),
            &[],
            std::slice::from_ref(&cancel),
        );
        assert_eq!(code(&other_centre[0]), "refused:OutOfScope");
        let unknown = run(None, &[], std::slice::from_ref(&cancel));
        assert_eq!(code(&unknown[0]), "refused:UnknownReference");
        let hash = content_hash(&cancel.change);
        let server = || Some(request("ATH-01", RequestStatus::Ready, true));
        assert_eq!(
            code(&run(server(), &[("e1", &hash)], std::slice::from_ref(&cancel))[0]),
            "duplicate"
        );
        assert_eq!(
            code(&run(server(), &[("e1", "other")], std::slice::from_ref(&cancel))[0]),
            "refused:IdReused"
        );
        // Judged in seq order whatever the order pushed; answered in the order pushed.
        let outcomes = run(
            Some(request("ATH-01", RequestStatus::Dispatched, true)),
            &[],
            &[
                step("later", 2, Action::Cancel, RequestStatus::Dispatched),
                step("first", 1, Action::Deliver, RequestStatus::Dispatched),
            ],
        );
        assert_eq!(code(&outcomes[1]), "refused:Transition");
        assert_eq!(code(&outcomes[0]), "refused:Blocked");
    }

    #[test]
    fn agency_is_told_at_once_when_the_centre_cancelled() {
        let cancelled = request("ATH-01", RequestStatus::Cancelled, true);
        assert!(matches!(
            agency_decision(&cancelled, Action::MarkReady, None),
            Err(crate::Error::CancelledAtCenter { .. })
        ));
        let taken = request("ATH-01", RequestStatus::InProcessing, true);
        assert!(agency_decision(&taken, Action::Reject, None).is_err());
        assert_eq!(
            agency_decision(&taken, Action::Reject, Some("forged")).unwrap(),
            RequestStatus::Rejected
        );
        assert!(agency_decision(&taken, Action::Deliver, None).is_err());
    }

    #[test]
    fn agency_refusals_name_its_steps_as_it_types_them() {
        let said = |status, action, reason| {
            agency_decision(&request("ATH-01", status, true), action, reason)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            said(RequestStatus::Dispatched, Action::MarkReady, None),
            "request 0000-0000-0011 is dispatched: it cannot be given the step 'ready'; the \
             agency's possible steps now: take, return, reject"
        );
        assert_eq!(
            said(RequestStatus::Submitted, Action::TakeInProcessing, None),
            "request 0000-0000-0011 is submitted: it cannot be given the step 'take'; no step \
             of the agency's applies to it now"
        );
        assert!(
            said(RequestStatus::InProcessing, Action::Reject, None)
                .starts_with("the step 'reject' needs a reason")
        );
        assert!(
            said(RequestStatus::InProcessing, Action::TakeInProcessing, None).starts_with(
                "request 0000-0000-0011 is in processing: it cannot be given the step 'take'"
            )
        );
        for (name, action) in AGENCY_STEPS {
            assert_eq!(agency_action(name), Some(action));
            assert_eq!(step_name(action), name);
        }
        assert_eq!(agency_action("approve"), None);
    }

    fn message(outcome: &Outcome) -> &str {
        match outcome {
            Outcome::Refused { message, .. } | Outcome::Conflict { message, .. } => message,
            other => panic!("not refused: {other:?}"),
        }
    }

    /// Who may push, one row per actor: the entry applies only under an active account of the
    /// pushing centre, and a refused actor blocks what follows on the same request.
    #[test]
    fn actors_are_checked_as_the_back_office_holds_them() {
        let cases: &[(&str, &str, &str)] = &[
            ("eleni", "applied", ""),
            (
                "nobody",
                "refused:OutOfScope",
                "no account has this user name",
            ),
            ("maria", "refused:OutOfScope", "enable the account"),
            ("kostas", "refused:OutOfScope", "belongs to other centres"),
            ("", "refused:OutOfScope", "no account"),
        ];
        for (actor, expected, why) in cases {
            let mut cancel = step("e1", 1, Action::Cancel, RequestStatus::Ready);
            cancel.actor = (*actor).into();
            let then = step("e2", 2, Action::Deliver, RequestStatus::Cancelled);
            let outcomes = run(
                Some(request("ATH-01", RequestStatus::Ready, true)),
                &[],
                &[cancel, then],
            );
            assert_eq!(code(&outcomes[0]), *expected, "{actor}");
            if !why.is_empty() {
                let text = message(&outcomes[0]);
                assert!(
                    text.starts_with(&format!(
                        "'{actor}' is not an active clerk of centre ATH-01 ("
                    )) && text.contains(why),
                    "{text}"
                );
                assert_eq!(code(&outcomes[1]), "refused:Blocked", "{actor}");
            }
        }
        // A retry of an entry applied before the account was disabled is still a duplicate.
        let mut cancel = step("e1", 1, Action::Cancel, RequestStatus::Ready);
        cancel.actor = "maria".into();
        let hash = content_hash(&cancel.change);
        let outcomes = run(
            Some(request("ATH-01", RequestStatus::Cancelled, true)),
            &[("e1", &hash)],
            &[cancel],
        );
        assert_eq!(code(&outcomes[0]), "duplicate");
    }

    #[test]
    fn session_events_are_checked_and_kept_out_of_the_log() {
        use SessionEvent::*;
        let cases: &[(&str, &str, SessionEvent, &str)] = &[
            ("eleni", "eleni", Login, "applied"),
            ("(unknown)", "(unknown)", LoginFailed, "applied"),
            ("maria", "maria", LoginFailed, "applied"),
            ("kostas", "kostas", LoginFailed, "applied"),
            ("eleni", "(unknown)", LoginFailed, "applied"),
            (
                "(unknown)",
                "correct horse battery",
                LoginFailed,
                "refused:Invalid",
            ),
            ("maria", "maria", Login, "refused:OutOfScope"),
            ("(unknown)", "(unknown)", Logout, "refused:OutOfScope"),
            ("eleni", "maria", Lock, "refused:Invalid"),
        ];
        for (actor, clerk, event, expected) in cases {
            let outcomes = run(None, &[], &[session("s1", 1, actor, clerk, *event)]);
            assert_eq!(code(&outcomes[0]), *expected, "{actor} {clerk} {event:?}");
            if *clerk == "correct horse battery" {
                assert!(!message(&outcomes[0]).contains(clerk));
            }
        }
        // Between two logged changes, a session event gets the log's head as it stood then.
        let snapshot = Snapshot {
            accounts: accounts(),
            requests: HashMap::from([(
                "r1".to_owned(),
                request("ATH-01", RequestStatus::Ready, true),
            )]),
            ..Snapshot::default()
        };
        let mut plan = planned(
            snapshot,
            &[
                session("s1", 1, "eleni", "eleni", Login),
                step("e1", 2, Action::Deliver, RequestStatus::Ready),
                session("s2", 3, "eleni", "eleni", Logout),
            ],
        );
        assert_eq!(plan.peer_log.len(), 1);
        assert_eq!(
            plan.sessions
                .iter()
                .map(|s| (s.change_id.as_str(), s.event))
                .collect::<Vec<_>>(),
            vec![("s1", Login), ("s2", Logout)]
        );
        assert_eq!(plan.logged(40, &[41]), vec![40, 41, 41]);
        let seqs: Vec<_> = plan
            .results
            .iter()
            .map(|r| match r.outcome {
                Outcome::Applied { seq } => seq,
                _ => panic!("{r:?}"),
            })
            .collect();
        assert_eq!(seqs, vec![40, 41, 41]);
        assert!(plan.applied.iter().all(|c| c.actor == "eleni"));
    }

    fn entry(id: &str, seq: u64, actor: &str, change: Change) -> PushEntry {
        PushEntry {
            id: id.into(),
            seq,
            hlc: "000000000000001-000000-ws".parse().unwrap(),
            actor: actor.into(),
            change,
        }
    }

    /// Who may approve, one row per approver, for each act that needs one: an active
    /// supervisor of the pushing centre other than the actor, and nobody else.
    #[test]
    fn approvers_are_checked_like_actors() {
        let waiver = |approver: Option<&str>| Change::FeeWaived {
            id: "r1".into(),
            ground: "older-people".into(),
            approver: approver.map(str::to_owned),
        };
        let recall = |approver: Option<&str>| Change::TicketStep {
            id: "t1".into(),
            code: "A001".into(),
            action: guichet_domain::queue::TicketAction::Recall,
            from: guichet_domain::queue::TicketStatus::NoShow,
            to: guichet_domain::queue::TicketStatus::Called,
            counter: None,
            approver: approver.map(str::to_owned),
        };
        let unpaid = || {
            let mut r = request("ATH-01", RequestStatus::Draft, false);
            r.exemptions = vec!["older-people".into()];
            r
        };
        let cases: &[(Option<&str>, &str, &str)] = &[
            (Some("sofia"), "applied", ""),
            (None, "refused:OutOfScope", "names none"),
            (Some("eleni"), "refused:OutOfScope", "their own act"),
            (Some("petros"), "refused:OutOfScope", "may not approve"),
            (Some("nikos"), "refused:OutOfScope", "disabled"),
            (
                Some("kostas"),
                "refused:OutOfScope",
                "not a supervisor of centre ATH-01",
            ),
            (
                Some("forged"),
                "refused:OutOfScope",
                "not a supervisor of centre ATH-01",
            ),
        ];
        for (approver, expected, why) in cases {
            for change in [waiver(*approver), recall(*approver)] {
                let snapshot = Snapshot {
                    accounts: accounts(),
                    requests: HashMap::from([("r1".to_owned(), unpaid())]),
                    ..Snapshot::default()
                };
                let plan = planned(snapshot, &[entry("e1", 1, "eleni", change.clone())]);
                let outcome = &plan.results[0].outcome;
                assert_eq!(code(outcome), *expected, "{approver:?} {}", change.kind());
                if why.is_empty() {
                    assert_eq!(plan.applied[0].approver.as_deref(), Some("sofia"));
                } else {
                    let text = message(outcome);
                    assert!(text.contains(why), "{text}");
                    assert!(plan.applied.is_empty() && plan.requests.is_empty());
                }
            }
        }
        // A cancellation needs one only once the back office holds a payment.
        let mut cancel = step("c1", 1, Action::Cancel, RequestStatus::Draft);
        if let Change::RequestTransition { approver, .. } = &mut cancel.change {
            *approver = None;
        }
        let cancel = std::slice::from_ref(&cancel);
        let draft = |paid| Some(request("ATH-01", RequestStatus::Draft, paid));
        assert_eq!(code(&run(draft(false), &[], cancel)[0]), "applied");
        assert_eq!(
            code(&run(draft(true), &[], cancel)[0]),
            "refused:OutOfScope"
        );
    }

    /// A refund names a payment the back office holds, of the same request, and gives back at
    /// most what is left of it; the request's paid amount goes down by it.
    #[test]
    fn refunds_reverse_at_most_what_is_left_of_a_payment() {
        let eur = Currency::parse("EUR").unwrap();
        let pay = Change::PaymentRecorded {
            id: "p1".into(),
            request: "r1".into(),
            amount: Money::new(600, eur.clone()),
            method: guichet_domain::feedback::PaymentMethod::Cash,
            receipt: ReceiptNumber::issue(&ReceiptPrefix::parse("0000").unwrap(), 5).unwrap(),
        };
        let refund = |id: &str, payment: &str, minor: i64, seq: u64| Change::PaymentRefunded {
            id: id.into(),
            payment: payment.into(),
            request: "r1".into(),
            amount: Money::new(minor, eur.clone()),
            reason: "recorded on the wrong request".into(),
            receipt: ReceiptNumber::issue(&ReceiptPrefix::parse("0000").unwrap(), seq).unwrap(),
            approver: "sofia".into(),
        };
        let snapshot = || Snapshot {
            accounts: accounts(),
            requests: HashMap::from([(
                "r1".to_owned(),
                request("ATH-01", RequestStatus::Draft, false),
            )]),
            ..Snapshot::default()
        };
        let plan = planned(
            snapshot(),
            &[
                entry("e1", 1, "eleni", pay.clone()),
                entry("e2", 2, "eleni", refund("f1", "p1", 400, 6)),
                entry("e3", 3, "eleni", refund("f2", "p1", 201, 7)),
            ],
        );
        let codes: Vec<String> = plan.results.iter().map(|r| code(&r.outcome)).collect();
        assert_eq!(codes, ["applied", "applied", "refused:Invalid"]);
        assert!(message(&plan.results[2].outcome).contains("more than the"));
        assert_eq!(plan.requests[0].paid_minor, 200);
        assert_eq!(plan.refunds.len(), 1);
        assert_eq!(
            (
                plan.refunds[0].clerk.as_str(),
                plan.refunds[0].approver.as_str()
            ),
            ("eleni", "sofia")
        );
        let unknown = planned(
            snapshot(),
            &[entry("e1", 1, "eleni", refund("f1", "p9", 1, 6))],
        );
        assert_eq!(
            code(&unknown.results[0].outcome),
            "refused:UnknownReference"
        );
    }
}
