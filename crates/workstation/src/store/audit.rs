//! The audit trail check and the outbox as the clerk sees it.

use guichet_domain::audit::{AuditEvent, BrokenLink, ChainSummary, verify};
use guichet_domain::request::RequestStatus;
use serde::{Deserialize, Serialize};

use super::Workstation;
use super::requests::ChangeState;
use crate::error::Result;

/// Where a change stands on its way to the back office.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutboxState {
    /// Waiting to be sent.
    Pending,
    /// Acknowledged by the back office.
    Sent,
    /// Refused by the back office, with its reason; kept here for the clerk.
    Refused,
    /// Lost to a change the back office applied first; the clerk resolves it.
    Conflict,
}

impl OutboxState {
    pub const ALL: [OutboxState; 4] = [
        OutboxState::Pending,
        OutboxState::Sent,
        OutboxState::Refused,
        OutboxState::Conflict,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Pending => "pending",
            OutboxState::Sent => "sent",
            OutboxState::Refused => "refused",
            OutboxState::Conflict => "conflict",
        }
    }

    pub fn parse(text: &str) -> Result<Self> {
        OutboxState::ALL
            .into_iter()
            .find(|s| s.as_str() == text.trim())
            .ok_or_else(|| {
                crate::Error::Invalid(format!(
                    "'{text}' is not an outbox state; use one of: pending, sent, refused, conflict"
                ))
            })
    }
}

/// One change waiting to leave (or that left) the device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub seq: u64,
    pub id: String,
    pub hlc: String,
    pub kind: String,
    pub entity_id: String,
    pub payload: serde_json::Value,
    pub created_at: String,
    pub state: OutboxState,
    pub reason: Option<String>,
    /// The clerk logged in when the change was made.
    pub actor: String,
}

/// The result of `audit verify`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditReport {
    pub result: std::result::Result<ChainSummary, BrokenLink>,
}

impl Workstation {
    /// Checks the whole audit chain and names the first broken link, if any.
    pub fn verify_audit(&self) -> Result<AuditReport> {
        let mut stmt = self.conn()?.prepare(
            "SELECT seq, at, hlc, actor, action, entity_kind, entity_id, change, prev_hash, hash
             FROM audit_events ORDER BY seq",
        )?;
        let mut rows = stmt.query([])?;
        let mut events = Vec::new();
        while let Some(r) = rows.next()? {
            let change: String = r.get(7)?;
            events.push(AuditEvent {
                seq: r.get(0)?,
                at: r.get(1)?,
                hlc: r.get(2)?,
                actor: r.get(3)?,
                action: r.get(4)?,
                entity_kind: r.get(5)?,
                entity_id: r.get(6)?,
                // An unreadable change is itself tampering: hash it as a string so that the
                // check fails at this event instead of aborting.
                change: serde_json::from_str(&change).unwrap_or(serde_json::Value::String(change)),
                prev_hash: r.get(8)?,
                hash: r.get(9)?,
            });
        }
        Ok(AuditReport {
            result: verify(events),
        })
    }

    /// Outbox entries in device order, optionally only those in `state`.
    pub fn outbox(&self, state: Option<OutboxState>, limit: usize) -> Result<Vec<OutboxEntry>> {
        let mut stmt = self.conn()?.prepare_cached(
            "SELECT seq, id, hlc, kind, entity_id, payload, created_at, state, reason, actor
             FROM outbox
             WHERE ?1 IS NULL OR state = ?1 ORDER BY seq LIMIT ?2",
        )?;
        let state = state.map(OutboxState::as_str);
        let rows = stmt.query_map(rusqlite::params![state, limit as i64], |r| {
            Ok((
                r.get::<_, u64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?,
                r.get::<_, String>(7)?,
                r.get::<_, Option<String>>(8)?,
                r.get::<_, String>(9)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, id, hlc, kind, entity_id, payload, created_at, state, reason, actor) = row?;
            out.push(OutboxEntry {
                seq,
                id,
                hlc,
                kind,
                entity_id,
                payload: serde_json::from_str(&payload)?,
                created_at,
                state: OutboxState::parse(&state)?,
                reason,
                actor,
            });
        }
        Ok(out)
    }

    /// How many changes are in `state`.
    pub fn outbox_count(&self, state: OutboxState) -> Result<u64> {
        Ok(self.conn()?.query_row(
            "SELECT count(*) FROM outbox WHERE state = ?1",
            [state.as_str()],
            |r| r.get(0),
        )?)
    }

    /// Conflicts no clerk has resolved yet.
    pub fn open_conflicts(&self) -> Result<u64> {
        Ok(self.conn()?.query_row(
            "SELECT count(*) FROM outbox WHERE state = 'conflict' AND resolved_at IS NULL",
            [],
            |r| r.get(0),
        )?)
    }

    /// The sync state of each change made to one entity, oldest first.
    pub(crate) fn changes_of(&self, entity_id: &str) -> Result<Vec<ChangeState>> {
        let mut stmt = self.conn()?.prepare_cached(
            "SELECT kind, state, reason, created_at, resolution, refusal_code, server_status,
                overtaken_by
             FROM outbox WHERE entity_id = ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map([entity_id], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
                r.get::<_, Option<String>>(5)?,
                r.get::<_, Option<String>>(6)?,
                r.get::<_, Option<String>>(7)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (kind, state, reason, at, resolution, code, server, overtaken_by) = row?;
            out.push(ChangeState {
                kind,
                state: OutboxState::parse(&state)?,
                reason,
                // A code or a status a later release wrote is left to the sentence.
                refusal_code: code.and_then(|c| serde_json::from_value(c.into()).ok()),
                server_status: server.and_then(|s| RequestStatus::parse(&s).ok()),
                overtaken_by,
                at,
                resolution,
            });
        }
        Ok(out)
    }
}
