//! The store's side of sync: what to push, and applying an exchange's answer.
//!
//! An exchange's answer is applied in one transaction: the outcome of every pushed entry, the
//! pulled changes and the new cursor together. A crash before commit leaves the entries
//! pending and the cursor where it was, so the next exchange pushes them again (the back office
//! answers "duplicate") and pulls the same page again; nothing is lost or applied twice.

use std::collections::HashMap;

use guichet_domain::catalogue;
use guichet_domain::hlc::{Hlc, HlcStamp};
use guichet_domain::keyslot::RecoveryKey;
use guichet_domain::queue::Counter;
use guichet_domain::request::Party;
use guichet_domain::zone::Zone;
use guichet_protocol::{
    AuditClaim, AuditPoint, CenterTerms, Change, EnrollResponse, ExchangeResponse, Outcome, Pulled,
    PulledChange, PushEntry,
};
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::audit::OutboxState;
use super::catalogue::service_here;
use super::requests::timeline_entry;
use super::rows::{self, CreatedRequest, Origin, Refund};
use super::{ActionTx, Setup, Workstation, read_config};
use crate::error::{Error, Result};
use crate::sync::{Credential, Link};

/// Where this workstation stands with its back office.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncPoint {
    pub server_url: String,
    pub cursor: u64,
    pub last_attempt: Option<String>,
    pub last_success: Option<String>,
    pub last_error: Option<String>,
}

/// What applying one exchange did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExchangeApplied {
    pub applied: u32,
    pub duplicates: u32,
    pub refused: u32,
    pub conflicts: u32,
    pub pulled: u32,
    /// Pulled moves older than a move of this device the back office accepted: shown as
    /// conflicts, their status not taken.
    pub superseded: u32,
    /// The place in this device's audit chain the back office holds as its head after this
    /// exchange; the next exchange shows the event there (`AuditClaim::anchor`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit_anchor: Option<u64>,
}

impl Workstation {
    /// Sets up (or confirms) this workstation from an enrolment answer, keeps the device's
    /// credential (in the database, encrypted) and remembers the back office, which holds
    /// `recovery`, the key to the device's recovery slot. A workstation already set up for
    /// another centre or device is refused.
    pub fn enroll(
        &mut self,
        enrolled: &EnrollResponse,
        server_url: &str,
        counters: &[Counter],
        recovery: &RecoveryKey,
    ) -> Result<()> {
        let done = self.try_enroll(enrolled, server_url, counters, recovery);
        self.forget_unsaved_on(done)
    }

    fn try_enroll(
        &mut self,
        enrolled: &EnrollResponse,
        server_url: &str,
        counters: &[Counter],
        recovery: &RecoveryKey,
    ) -> Result<()> {
        if let Some(config) = self.is_set_up()?.then(|| self.config()).transpose()?
            && (config.center_code != enrolled.center_code
                || config.device_code != enrolled.device_code)
        {
            return Err(Error::AlreadySetUp {
                center: config.center_code,
                device: config.device_code,
            });
        }
        if !self.is_set_up()? {
            let setup = Setup {
                center_code: enrolled.center_code.clone(),
                center_name: enrolled.center_name.clone(),
                center_kind: enrolled.center_kind,
                device_code: enrolled.device_code.clone(),
                receipt_prefix: Some(enrolled.receipt_prefix.to_string()),
                national_id_scheme: enrolled.national_id_scheme.clone(),
                currency: enrolled.currency.clone(),
                waiting_target_min: enrolled.waiting_target_min,
                time_zone: enrolled.time_zone.clone(),
                administrator: None,
            };
            self.set_up(&setup, None, counters, None)?;
        }
        self.write_device(|change| {
            Workstation::store_accounts(change, &enrolled.accounts)?;
            change.tx.execute(
                "UPDATE workstation SET receipt_prefix = ?1 WHERE id = 1",
                [enrolled.receipt_prefix.as_str()],
            )?;
            change.tx.execute(
                "INSERT INTO sync_state (id, server_url, token) VALUES (1, ?1, ?2)
                 ON CONFLICT (id) DO UPDATE SET server_url = excluded.server_url,
                    token = excluded.token, recovery_key = NULL",
                [server_url, &enrolled.token],
            )?;
            change.record_local(
                "workstation.enrolled",
                "workstation",
                &enrolled.device_code,
                serde_json::json!({
                    "server": server_url,
                    "receipt_prefix": enrolled.receipt_prefix.as_str(),
                }),
            )?;
            Ok(())
        })?;
        let claim = self.claim_data_dir()?;
        self.settle(recovery, Some(server_url))?;
        drop(claim);
        self.prune_slots()?;
        if self.session.is_none() {
            // Nobody is logged in: the database closes until a clerk of the centre logs in.
            self.seal_away();
        }
        Ok(())
    }

    /// The device's credential, if it is enrolled.
    pub fn credential(&self) -> Result<Option<Credential>> {
        let Some(point) = self.sync_point()? else {
            return Ok(None);
        };
        let token: Option<String> =
            self.conn()?
                .query_row("SELECT token FROM sync_state WHERE id = 1", [], |r| {
                    r.get(0)
                })?;
        let link = self.vault.label()?.map(|l| l.link).unwrap_or_default();
        Ok(token.map(|token| Credential {
            server_url: point.server_url,
            device_code: self.config().map(|c| c.device_code).unwrap_or_default(),
            token,
            link,
        }))
    }

    /// Remembers how this device reaches its back office (said at enrolment).
    pub fn set_link(&mut self, link: &Link) -> Result<()> {
        self.vault
            .change_label(|label| label.link = link.clone())?
            .ok_or(Error::NotSetUp)
    }

    /// Makes everything committed here durable before it leaves the device. The store commits
    /// with `synchronous=NORMAL` (a clerk's action does not wait for the disk), and such a
    /// commit can be undone by a power cut until the log reaches the disk. The back office must
    /// never hold a change, or an audit head, that this device could lose: it would take the
    /// device's audit trail for one cut short, and refuse it for good. A full checkpoint writes
    /// the log to the disk first; one that other connections keep from finishing is tried again
    /// with the next exchange.
    pub fn make_durable(&self) -> Result<()> {
        let (busy, log, done): (i64, i64, i64) =
            self.conn()?
                .query_row("PRAGMA wal_checkpoint(FULL)", [], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?;
        if busy != 0 || done < log {
            return Err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
                Some("the local database is busy: what waits is sent at the next exchange".into()),
            )
            .into());
        }
        Ok(())
    }

    /// Keeps a new device credential (after a rotation).
    pub fn set_token(&mut self, token: &str) -> Result<()> {
        self.conn()?
            .execute("UPDATE sync_state SET token = ?1 WHERE id = 1", [token])?;
        Ok(())
    }

    /// A recovery key the back office does not hold yet, to send with the next exchange (the
    /// exchange's success clears it).
    pub fn recovery_to_escrow(&self) -> Result<Option<String>> {
        Ok(self
            .conn()?
            .query_row(
                "SELECT recovery_key FROM sync_state WHERE id = 1",
                [],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }

    /// The back office this workstation syncs with, if any.
    pub fn sync_point(&self) -> Result<Option<SyncPoint>> {
        Ok(self
            .conn()?
            .query_row(
                "SELECT server_url, cursor, last_attempt, last_success, last_error
                 FROM sync_state WHERE id = 1",
                [],
                |r| {
                    Ok(SyncPoint {
                        server_url: r.get(0)?,
                        cursor: r.get(1)?,
                        last_attempt: r.get(2)?,
                        last_success: r.get(3)?,
                        last_error: r.get(4)?,
                    })
                },
            )
            .optional()?)
    }

    /// The next entries to push, oldest first.
    pub fn pending_push(&self, limit: usize) -> Result<Vec<PushEntry>> {
        self.outbox(Some(OutboxState::Pending), limit)?
            .into_iter()
            .map(|e| {
                Ok(PushEntry {
                    id: e.id,
                    seq: e.seq,
                    hlc: e.hlc.parse()?,
                    actor: e.actor,
                    change: serde_json::from_value(e.payload)?,
                })
            })
            .collect()
    }

    /// The head of this device's audit chain, with its event at the place the back office
    /// holds: `anchor_seq` when it asked for one, otherwise the place its last answer named
    /// (kept in the `sync.exchange` audit event). `None` before any event.
    pub fn audit_claim(&self, anchor_seq: Option<u64>) -> Result<Option<AuditClaim>> {
        let conn = self.conn()?;
        let point = |r: &rusqlite::Row<'_>| {
            Ok(AuditPoint {
                seq: r.get(0)?,
                hash: r.get(1)?,
            })
        };
        let Some(head) = conn
            .query_row(
                "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1",
                [],
                point,
            )
            .optional()?
        else {
            return Ok(None);
        };
        let anchor_seq = match anchor_seq {
            Some(seq) => Some(seq),
            None => conn
                .query_row(
                    "SELECT json_extract(change, '$.audit_anchor') FROM audit_events
                     WHERE action = 'sync.exchange'
                       AND json_extract(change, '$.audit_anchor') IS NOT NULL
                     ORDER BY seq DESC LIMIT 1",
                    [],
                    |r| r.get::<_, u64>(0),
                )
                .optional()?,
        };
        let anchor = match anchor_seq {
            Some(seq) if seq < head.seq => conn
                .query_row(
                    "SELECT seq, hash FROM audit_events WHERE seq = ?1",
                    [seq],
                    point,
                )
                .optional()?,
            _ => None,
        };
        Ok(Some(AuditClaim { head, anchor }))
    }

    /// Remembers that an exchange failed, in words, for the status bar.
    pub fn note_sync_failure(&self, error: &str) -> Result<()> {
        let now = self.now().wall.to_rfc3339();
        self.conn()?.execute(
            "UPDATE sync_state SET last_attempt = ?1, last_error = ?2 WHERE id = 1",
            params![now, error],
        )?;
        Ok(())
    }

    /// Applies an exchange's answer to the entries that were pushed, in one transaction.
    pub fn apply_exchange(
        &mut self,
        pushed: &[PushEntry],
        response: &ExchangeResponse,
    ) -> Result<ExchangeApplied> {
        if response.results.len() != pushed.len()
            || response
                .results
                .iter()
                .zip(pushed)
                .any(|(r, p)| r.id != p.id)
        {
            return Err(Error::Invalid(format!(
                "the back office answered {} results for {} pushed changes, or in another order; nothing was applied",
                response.results.len(),
                pushed.len()
            )));
        }
        self.write_device(|change| {
            let mut done = ExchangeApplied {
                audit_anchor: response.audit_anchor,
                ..ExchangeApplied::default()
            };
            let mut accepted = accepted_moves(change)?;
            for (entry, result) in pushed.iter().zip(&response.results) {
                let (state, reason, code, server) = match &result.outcome {
                    Outcome::Applied { seq } => {
                        done.applied += 1;
                        if let Change::RequestTransition { id, .. } = &entry.change {
                            note_accepted(change, &mut accepted, id, &entry.id, *seq)?;
                        }
                        (OutboxState::Sent, None, None, None)
                    }
                    Outcome::Duplicate { seq } => {
                        done.duplicates += 1;
                        // Applied by an exchange whose answer was lost: same as applied now.
                        if let (Some(seq), Change::RequestTransition { id, .. }) =
                            (seq, &entry.change)
                        {
                            note_accepted(change, &mut accepted, id, &entry.id, *seq)?;
                        }
                        (OutboxState::Sent, None, None, None)
                    }
                    Outcome::Refused { code, message } => {
                        done.refused += 1;
                        let code = serde_json::to_string(code)?.trim_matches('"').to_owned();
                        (
                            OutboxState::Refused,
                            Some(format!("{message} ({code})")),
                            Some(code),
                            None,
                        )
                    }
                    Outcome::Conflict {
                        message,
                        server_status,
                    } => {
                        done.conflicts += 1;
                        (
                            OutboxState::Conflict,
                            Some(match server_status {
                                Some(s) => format!("{message} (the back office has it as {s})"),
                                None => message.clone(),
                            }),
                            None,
                            server_status.map(|s| s.as_str()),
                        )
                    }
                };
                change.tx.execute(
                    "UPDATE outbox SET state = ?2, reason = ?3, refusal_code = ?4, server_status = ?5
                     WHERE id = ?1 AND state = 'pending'",
                    params![result.id, state.as_str(), reason, code, server],
                )?;
            }
            // A change the cursor has passed was applied by an earlier exchange (an answer
            // delivered twice): it is not applied again.
            let cursor: u64 = change
                .tx
                .query_row("SELECT cursor FROM sync_state WHERE id = 1", [], |r| {
                    r.get(0)
                })
                .optional()?
                .unwrap_or(0);
            for pulled in response.changes.iter().filter(|p| p.seq > cursor) {
                done.superseded += u32::from(apply_pulled(change, &accepted, pulled)?);
                done.pulled += 1;
            }
            if let Some(terms) = &response.center {
                take_terms(change, terms)?;
            }
            let now = change.at();
            change.tx.execute(
                "UPDATE sync_state SET cursor = max(cursor, ?1), last_attempt = ?2,
                    last_success = ?2, last_error = NULL, recovery_key = NULL,
                    success_boot = ?3, success_mono_ms = ?4 WHERE id = 1",
                params![
                    response.cursor,
                    now,
                    change.now.boot,
                    i64::try_from(change.now.mono_ms).unwrap_or(i64::MAX)
                ],
            )?;
            // The back office was reached now: the offline days count from here, and a wall
            // time written before (by a clock that ran ahead, set right since) no longer
            // stands for now after a restart (see `check_not_stale`).
            change.tx.execute(
                "UPDATE workstation SET wall_seen = ?1 WHERE id = 1",
                [super::wall_mark(change.now.wall)],
            )?;
            let wall = u64::try_from(change.now.wall.timestamp_millis()).unwrap_or(0);
            let last: Option<String> =
                change
                    .tx
                    .query_row("SELECT hlc_last FROM workstation WHERE id = 1", [], |r| {
                        r.get(0)
                    })?;
            if let Some(last) = last {
                let mut clock = Hlc::resume(&last.parse()?);
                let seen = clock.observe(&response.server_hlc, wall);
                change.observe(seen);
            }
            change.record_local(
                "sync.exchange",
                "sync",
                &response.cursor.to_string(),
                serde_json::to_value(done)?,
            )?;
            Ok(done)
        })
        .and_then(|done| {
            // Accounts disabled or reset at the back office open this device no more.
            self.prune_slots()?;
            // The login screen reads the centre's terms from the key file.
            self.relabel()?;
            Ok(done)
        })
    }
}

/// Takes the centre's terms the back office holds now where they differ from this device's,
/// and records in the audit trail what they were and what they became. A term this device
/// cannot use (a time zone its zone database does not know yet, a name or a target the
/// domain's rules refuse) is left as it is here, and the record (or the log, if nothing else
/// changed) says so; the others are taken. A new time zone waits while a ticket of the local
/// day is still open (waiting, called, being served, or missed and callable): tickets are
/// kept by their local day, and a day that changes under them would drop them from the
/// queue. Every answer carries the terms again, so the zone is taken at the first sync after
/// the queue empties.
fn take_terms(change: &mut ActionTx<'_>, terms: &CenterTerms) -> Result<()> {
    let config = read_config(change.tx)?.ok_or(Error::NotSetUp)?;
    let (name, zone, target) = (
        config.center_name.as_str(),
        config.time_zone.name(),
        config.waiting_target_min,
    );
    let mut kept = Vec::new();
    let new_name = catalogue::center_name(&terms.name).unwrap_or_else(|_| {
        kept.push("name");
        name
    });
    let new_target = catalogue::waiting_target(terms.waiting_target_min).unwrap_or_else(|_| {
        kept.push("waiting_target_min");
        target
    });
    let sent_zone = terms.time_zone.parse::<Zone>();
    let new_zone = match &sent_zone {
        Err(_) => {
            kept.push("time_zone");
            zone
        }
        Ok(sent) if sent.name() == zone => zone,
        Ok(_) if queue_open(change, &config.time_zone)? => {
            kept.push("time_zone_while_tickets_are_open");
            zone
        }
        Ok(sent) => sent.name(),
    };
    if (new_name, new_zone, new_target) == (name, zone, target) {
        if !kept.is_empty() {
            tracing::warn!(
                ?kept,
                "centre terms from the back office not taken (yet); this device keeps its own"
            );
        }
        return Ok(());
    }
    change.tx.execute(
        "UPDATE workstation SET center_name = ?1, time_zone = ?2, waiting_target_min = ?3
         WHERE id = 1",
        params![new_name, new_zone, new_target],
    )?;
    change.record_local(
        "workstation.center_terms",
        "workstation",
        &config.center_code,
        serde_json::json!({
            "from": {"name": name, "time_zone": zone, "waiting_target_min": target},
            "to": {"name": new_name, "time_zone": new_zone, "waiting_target_min": new_target},
            "sent": terms,
            "kept": kept,
        }),
    )?;
    Ok(())
}

/// Whether a ticket of the local day (in `zone`) is still open in the queue.
fn queue_open(change: &ActionTx<'_>, zone: &Zone) -> Result<bool> {
    let today = zone.day_of(change.now.wall).to_string();
    Ok(change.tx.query_row(
        "SELECT EXISTS (SELECT 1 FROM tickets WHERE day = ?1
            AND status IN ('waiting', 'called', 'serving', 'no_show'))",
        [today],
        |r| r.get(0),
    )?)
}

/// The server sequence of this device's last accepted move, per request, for the moves the
/// cursor has not passed yet (a pulled change can be older only than those).
type Accepted = HashMap<String, u64>;

/// The moves of this device the back office accepted beyond the cursor, from the audit trail
/// (`sync.accepted` events), so that they outlive the exchange that learnt them.
fn accepted_moves(change: &mut ActionTx<'_>) -> Result<Accepted> {
    let mut stmt = change.tx.prepare_cached(
        "SELECT entity_id, max(json_extract(change, '$.server_seq')) FROM audit_events
         WHERE action = 'sync.accepted'
           AND json_extract(change, '$.server_seq') > (SELECT cursor FROM sync_state WHERE id = 1)
         GROUP BY entity_id",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, u64>(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Remembers that the back office accepted this device's move of a request at `seq`.
fn note_accepted(
    change: &mut ActionTx<'_>,
    accepted: &mut Accepted,
    request: &str,
    entry: &str,
    seq: u64,
) -> Result<()> {
    let last = accepted.entry(request.to_owned()).or_default();
    *last = (*last).max(seq);
    change.record_local(
        "sync.accepted",
        "request",
        request,
        serde_json::json!({"outbox": entry, "server_seq": seq}),
    )?;
    Ok(())
}

/// How this device's own move of a request came after a pulled move of it.
#[derive(Debug, Clone, Copy)]
enum Overtaken {
    /// The back office accepted this device's move after the pulled one, in its order.
    Accepted,
    /// This device's move has not reached the back office yet.
    Unsent,
}

/// A pulled move of a request that this device moved later: it stays in the timeline, its
/// status is not taken, and it is kept as a conflict for the clerk (the citizen cancelled at
/// the counter while the agency marked the request ready, say).
/// `by` says who moved it first, in a sentence and as the name the window shows (an agency's
/// actor, a device's code).
fn supersede(
    change: &mut ActionTx<'_>,
    pulled: &PulledChange,
    (by, who): (&str, &str),
    transition: Change,
    overtaken: Overtaken,
) -> Result<()> {
    let Change::RequestTransition { id, action, to, .. } = &transition else {
        return Ok(());
    };
    let status: String =
        change
            .tx
            .query_row("SELECT status FROM requests WHERE id = ?1", [id], |r| {
                r.get(0)
            })?;
    let reason = match overtaken {
        Overtaken::Accepted => format!(
            "{by} moved the request to {to} ({action}) before this centre's later move reached \
             the back office; the back office ordered that move after it, so the request stays \
             {status}"
        ),
        Overtaken::Unsent => format!(
            "{by} moved the request to {to} ({action}) while this centre's own later move had \
             not reached the back office; the request stays {status} here, and the back office \
             judges that move when it arrives"
        ),
    };
    let stamp = change.stamp();
    change.tx.execute(
        "INSERT OR IGNORE INTO outbox (seq, id, hlc, kind, entity_id, payload, created_at, state,
            reason, server_status, overtaken_by)
         SELECT coalesce(max(seq), 0) + 1, ?1, ?2, ?3, ?4, ?5, ?6, 'conflict', ?7, ?8, ?9
         FROM outbox",
        params![
            format!("server-{}", pulled.seq),
            stamp.to_string(),
            transition.kind(),
            id,
            serde_json::to_string(&transition)?,
            change.at(),
            reason,
            to.as_str(),
            who,
        ],
    )?;
    Ok(())
}

/// Applies one change from the back office. The back office already checked it with the
/// shared rules, so its status is taken as it comes, unless this device's own move of the
/// same request was accepted after it (`accepted`); what it changes is audited here. Returns
/// whether it was superseded.
fn apply_pulled(
    change: &mut ActionTx<'_>,
    accepted: &Accepted,
    pulled: &PulledChange,
) -> Result<bool> {
    // This device moved the request after the pulled move: the back office accepted its move
    // later in its order, or the move has not reached the back office yet (a later batch, or
    // made while this exchange was on its way), and will be judged there against the pulled
    // one. Either way the request keeps the status this device gave it.
    let moved_here = |request: &str| -> Result<Option<Overtaken>> {
        if accepted.get(request).is_some_and(|&seq| seq > pulled.seq) {
            return Ok(Some(Overtaken::Accepted));
        }
        let unsent: bool = change.tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM outbox WHERE entity_id = ?1 AND kind = ?2
                AND state = 'pending')",
            params![request, "request.transition"],
            |r| r.get(0),
        )?;
        Ok(unsent.then_some(Overtaken::Unsent))
    };
    let mut superseded = false;
    match &pulled.body {
        Pulled::Catalogue { catalogue } => {
            let center: String = change.tx.query_row(
                "SELECT center_code FROM workstation WHERE id = 1",
                [],
                |r| r.get(0),
            )?;
            super::catalogue::load_into(change, catalogue, &center)?;
        }
        Pulled::Decision {
            request,
            receipt,
            action,
            from,
            to,
            reason,
            actor,
        } => {
            let local: Option<String> = change
                .tx
                .query_row(
                    "SELECT status FROM requests WHERE id = ?1",
                    [request],
                    |r| r.get(0),
                )
                .optional()?;
            let overtaken = match local {
                Some(_) => moved_here(request)?,
                None => None,
            };
            superseded = overtaken.is_some();
            if let Some(overtaken) = overtaken {
                let transition = Change::RequestTransition {
                    id: request.clone(),
                    action: *action,
                    from: *from,
                    to: *to,
                    reason: reason.clone(),
                    approver: None,
                };
                let by = format!("the agency ({actor})");
                supersede(change, pulled, (&by, actor), transition, overtaken)?;
            } else if local.is_some() {
                rows::status_moved(
                    change,
                    request,
                    *to,
                    reason.as_deref(),
                    Origin::Pulled {
                        device: actor,
                        made: &pulled.hlc,
                    },
                )?;
            }
            if local.is_some() {
                timeline_entry(
                    change,
                    request,
                    action.as_str(),
                    (Some(*from), *to),
                    reason.as_deref(),
                    Party::Agency,
                    (actor, None),
                )?;
            }
            change.record_local(
                "request.decision",
                "request",
                request,
                serde_json::json!({
                    "receipt": receipt.as_str(),
                    "action": action,
                    "from": from,
                    "to": to,
                    "reason": reason,
                    "actor": actor,
                    "known_here": local.is_some(),
                    "superseded": superseded,
                    "server_seq": pulled.seq,
                }),
            )?;
        }
        Pulled::Account { account } => {
            Workstation::store_accounts(change, std::slice::from_ref(account))?;
        }
        Pulled::Peer {
            device,
            change: peer,
        } => {
            let overtaken = match peer {
                Change::RequestTransition { id, .. } => moved_here(id)?,
                _ => None,
            };
            superseded = overtaken.is_some();
            if let Some(overtaken) = overtaken {
                let by = format!("device {device} of this centre");
                supersede(change, pulled, (&by, device), peer.clone(), overtaken)?;
            }
            apply_peer(change, (device, &pulled.hlc), peer, superseded)?;
            // The event's own time and stamp are when the change arrived here; `hlc` is when
            // it was made, by the clock of the device that made it.
            change.record_local(
                "peer.change",
                peer.entity().0,
                peer.entity().1,
                serde_json::json!({
                    "device": device,
                    "change": peer,
                    "server_seq": pulled.seq,
                    "hlc": pulled.hlc,
                }),
            )?;
        }
    }
    Ok(superseded)
}

/// Another device of this centre made a change, stamped `made` by its clock: keep the
/// citizens and requests it concerns, written as that device wrote them, so that any clerk of
/// the centre can find them. The queue stays per device. A `superseded` transition goes into
/// the timeline without moving the request.
fn apply_peer(
    change: &mut ActionTx<'_>,
    (device, made): (&str, &HlcStamp),
    peer: &Change,
    superseded: bool,
) -> Result<()> {
    let origin = Origin::Pulled { device, made };
    match peer {
        Change::CitizenRegistered { citizen } => {
            rows::citizen_registered(change, citizen, origin)?;
        }
        Change::RequestCreated {
            id,
            receipt,
            service,
            catalogue_version,
            citizen,
            center,
            device: made_on,
            clerk,
            visit,
            form,
            documents_received,
            fee,
            intake_date,
            due_date,
        } => {
            let described = service_here(change.tx, service)?;
            rows::request_created(
                change,
                &CreatedRequest {
                    id,
                    receipt,
                    service,
                    catalogue_version: *catalogue_version,
                    citizen,
                    center,
                    device: made_on,
                    clerk,
                    visit: visit.as_deref(),
                    form,
                    documents_received,
                    fee,
                    intake_date: *intake_date,
                    due_date: *due_date,
                },
                described.as_ref(),
                origin,
            )?;
        }
        Change::RequestTransition {
            id,
            action,
            from,
            to,
            reason,
            ..
        } => {
            let known =
                superseded || rows::status_moved(change, id, *to, reason.as_deref(), origin)?;
            if known {
                timeline_entry(
                    change,
                    id,
                    action.as_str(),
                    (Some(*from), *to),
                    reason.as_deref(),
                    Party::Center,
                    (device, Some(made)),
                )?;
            }
        }
        Change::DocumentMarked {
            id,
            document,
            received,
        } => {
            rows::document_marked(change, id, document, *received)?;
        }
        Change::PaymentRecorded {
            id,
            request,
            amount,
            method,
            receipt,
        } => {
            rows::payment_recorded(change, (id, request), amount, *method, receipt, origin)?;
        }
        Change::PaymentRefunded {
            id,
            payment,
            request,
            amount,
            reason,
            receipt,
            approver,
        } => {
            rows::payment_refunded(
                change,
                &Refund {
                    id,
                    payment,
                    request,
                    amount,
                    reason,
                    receipt,
                    approver,
                },
                origin,
            )?;
        }
        Change::FeeWaived { id, ground, .. } => {
            rows::fee_waived(change, id, ground, origin)?;
        }
        Change::CounterAdded { .. }
        | Change::TicketIssued { .. }
        | Change::TicketStep { .. }
        | Change::TicketTransferred { .. }
        | Change::FeedbackRecorded { .. }
        | Change::ClerkSession { .. } => {}
    }
    Ok(())
}
