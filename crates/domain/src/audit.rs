//! The audit trail: who did what to which record, chained by hashes so that editing or
//! deleting any past event is detectable.
//!
//! Each event's hash covers its own content and the previous event's hash. Changing an event
//! breaks its own hash; deleting or reordering one breaks the next event's link. `verify`
//! walks the chain and names the first broken link.

use serde::{Deserialize, Serialize};

/// The hash the first event links to.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One audited change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Position in the device's chain, from 1.
    pub seq: u64,
    /// Wall-clock time as the device saw it (RFC 3339), for people to read.
    pub at: String,
    /// Hybrid logical clock stamp, for ordering.
    pub hlc: String,
    /// The clerk or process that acted.
    pub actor: String,
    /// What was done ("request.created", "ticket.step", ...).
    pub action: String,
    pub entity_kind: String,
    pub entity_id: String,
    /// What changed, as JSON.
    pub change: serde_json::Value,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Serialize)]
struct Hashed<'a> {
    seq: u64,
    at: &'a str,
    hlc: &'a str,
    actor: &'a str,
    action: &'a str,
    entity_kind: &'a str,
    entity_id: &'a str,
    change: &'a serde_json::Value,
    prev_hash: &'a str,
}

impl AuditEvent {
    /// The hash this event should carry, from its content and its `prev_hash`.
    pub fn compute_hash(&self) -> String {
        let hashed = Hashed {
            seq: self.seq,
            at: &self.at,
            hlc: &self.hlc,
            actor: &self.actor,
            action: &self.action,
            entity_kind: &self.entity_kind,
            entity_id: &self.entity_id,
            change: &self.change,
            prev_hash: &self.prev_hash,
        };
        // serde_json writes struct fields in declaration order and objects with sorted keys
        // (no preserve_order feature), so the bytes are canonical.
        let bytes = serde_json::to_vec(&hashed).unwrap_or_default();
        crate::sha256_hex(&bytes)
    }

    /// Fills `seq`, `prev_hash` and `hash` so that this event follows `previous`.
    pub fn seal(mut self, previous: Option<(u64, &str)>) -> Self {
        let (seq, prev) = previous.unwrap_or((0, GENESIS));
        self.seq = seq + 1;
        self.prev_hash = prev.to_owned();
        self.hash = self.compute_hash();
        self
    }
}

/// The first place where the chain does not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("audit chain broken at event {seq}: {problem}")]
pub struct BrokenLink {
    pub seq: u64,
    pub problem: String,
}

/// What a successful check covered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainSummary {
    pub events: u64,
    pub last_hash: String,
}

/// Checks a chain given in order of `seq`.
pub fn verify<I>(events: I) -> Result<ChainSummary, BrokenLink>
where
    I: IntoIterator<Item = AuditEvent>,
{
    let mut expected_seq = 1;
    let mut prev = GENESIS.to_owned();
    for event in events {
        if event.seq != expected_seq {
            return Err(BrokenLink {
                seq: expected_seq,
                problem: format!(
                    "event {expected_seq} is missing (next present is {})",
                    event.seq
                ),
            });
        }
        if event.prev_hash != prev {
            return Err(BrokenLink {
                seq: event.seq,
                problem:
                    "it does not link to the event before it (an event was removed or replaced)"
                        .into(),
            });
        }
        if event.compute_hash() != event.hash {
            return Err(BrokenLink {
                seq: event.seq,
                problem: "its content does not match its hash (it was edited)".into(),
            });
        }
        prev = event.hash;
        expected_seq += 1;
    }
    Ok(ChainSummary {
        events: expected_seq - 1,
        last_hash: prev,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: u64) -> Vec<AuditEvent> {
        let mut out: Vec<AuditEvent> = Vec::new();
        for i in 0..n {
            let event = AuditEvent {
                seq: 0,
                at: format!("2026-01-01T10:00:{i:02}Z"),
                hlc: format!("{i}-0-dev"),
                actor: "clerk-1".into(),
                action: "request.created".into(),
                entity_kind: "request".into(),
                entity_id: format!("r{i}"),
                change: serde_json::json!({"status": "draft", "n": i}),
                prev_hash: String::new(),
                hash: String::new(),
            };
            let prev = out.last().map(|e| (e.seq, e.hash.as_str()));
            let sealed = event.seal(prev);
            out.push(sealed);
        }
        out
    }

    #[test]
    fn intact_chain_verifies() {
        let summary = verify(chain(5)).unwrap();
        assert_eq!(summary.events, 5);
        assert_eq!(verify(Vec::new()).unwrap().events, 0);
    }

    #[test]
    fn edits_deletions_and_reorders_are_caught() {
        let mut edited = chain(5);
        edited[2].actor = "someone-else".into();
        assert_eq!(verify(edited).unwrap_err().seq, 3);

        let mut deleted = chain(5);
        deleted.remove(1);
        assert_eq!(verify(deleted).unwrap_err().seq, 2);

        let mut renumbered = chain(5);
        renumbered.remove(1);
        for e in renumbered.iter_mut().skip(1) {
            e.seq -= 1;
        }
        assert_eq!(verify(renumbered).unwrap_err().seq, 2);

        let mut rehashed = chain(5);
        rehashed[3].change = serde_json::json!({"status": "forged"});
        rehashed[3].hash = rehashed[3].compute_hash();
        assert_eq!(verify(rehashed).unwrap_err().seq, 5);
    }
}
