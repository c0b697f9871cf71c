//! The audit trail anchored at the back office: each exchange carries the head of the device's
//! audit chain (`AuditClaim`), and the back office keeps the last head it accepted per device.
//!
//! What is caught, for a device that sends its head:
//! - a trail cut short: the head's place is below the one held;
//! - a trail rewritten up to the held place: the same place with another hash, or a later head
//!   whose event at the held place (`anchor`) has another hash. Each event's hash covers the one
//!   before it, so an equal hash at the held place proves the whole trail up to it unchanged,
//!   however consistently a rewritten trail was sealed again;
//! - a trail cut short and grown again past the held place: its event at that place is not the
//!   one seen, so its hash differs.
//!
//! What is not: events after the held head were never seen, so a change to them before the next
//! exchange cannot be told from honest work. A device that never sends a head (a release before
//! this check) is not checked; once it sent one, it must keep sending it.

use guichet_protocol::{AuditClaim, AuditPoint};

use crate::error::{Error, Result};

/// What to do with an exchange, given the claim it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing to check: the device sends no head and never did.
    Unchecked,
    /// The claim extends what was held (or is the first): keep `head` as the new one.
    Extends { head: AuditPoint },
    /// The head goes beyond the held one without showing the event at its place: the device
    /// must send it (`anchor`) and try again. Nothing is flagged.
    NeedsAnchor { seq: u64 },
    /// The trail no longer extends the held head: refuse, and flag the device with `reason`.
    Rewritten { reason: String },
}

/// An audit hash as the chain writes it: SHA-256 in lowercase hex.
fn check_point(point: &AuditPoint, what: &str) -> Result<()> {
    let hex = point.hash.len() == 64
        && point
            .hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if point.seq == 0 || !hex {
        return Err(Error::Invalid(format!(
            "the audit {what} must name an event from 1 with a 64-digit lowercase hex hash"
        )));
    }
    Ok(())
}

/// Judges a device's claim against the head held for it (the last one accepted).
pub fn judge(held: Option<&AuditPoint>, claim: Option<&AuditClaim>) -> Result<Verdict> {
    let Some(claim) = claim else {
        return Ok(match held {
            None => Verdict::Unchecked,
            Some(held) => Verdict::NeedsAnchor { seq: held.seq },
        });
    };
    check_point(&claim.head, "head")?;
    if let Some(anchor) = &claim.anchor {
        check_point(anchor, "anchor")?;
    }
    let Some(seen) = held else {
        return Ok(Verdict::Extends {
            head: claim.head.clone(),
        });
    };
    let head = &claim.head;
    if head.seq < seen.seq {
        return Ok(Verdict::Rewritten {
            reason: format!(
                "audit trail cut short: its last event is {} but event {} was seen",
                head.seq, seen.seq
            ),
        });
    }
    let at_seen = if head.seq == seen.seq {
        head
    } else {
        match &claim.anchor {
            Some(anchor) if anchor.seq == seen.seq => anchor,
            _ => return Ok(Verdict::NeedsAnchor { seq: seen.seq }),
        }
    };
    if at_seen.hash != seen.hash {
        return Ok(Verdict::Rewritten {
            reason: format!(
                "audit trail rewritten: event {} is not the one seen",
                seen.seq
            ),
        });
    }
    Ok(Verdict::Extends { head: head.clone() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(seq: u64, fill: char) -> AuditPoint {
        AuditPoint {
            seq,
            hash: fill.to_string().repeat(64),
        }
    }

    fn claim(head: AuditPoint, anchor: Option<AuditPoint>) -> AuditClaim {
        AuditClaim { head, anchor }
    }

    #[test]
    fn every_case_of_the_claim_against_the_held_head() {
        let held = point(10, 'a');
        let extends = |seq, fill| Verdict::Extends {
            head: point(seq, fill),
        };
        let cases: Vec<(Option<&AuditPoint>, Option<AuditClaim>, Verdict)> = vec![
            (None, None, Verdict::Unchecked),
            (None, Some(claim(point(3, 'c'), None)), extends(3, 'c')),
            (Some(&held), None, Verdict::NeedsAnchor { seq: 10 }),
            (
                Some(&held),
                Some(claim(point(10, 'a'), None)),
                extends(10, 'a'),
            ),
            (
                Some(&held),
                Some(claim(point(14, 'e'), Some(point(10, 'a')))),
                extends(14, 'e'),
            ),
            (
                Some(&held),
                Some(claim(point(14, 'e'), None)),
                Verdict::NeedsAnchor { seq: 10 },
            ),
            (
                Some(&held),
                Some(claim(point(14, 'e'), Some(point(9, 'a')))),
                Verdict::NeedsAnchor { seq: 10 },
            ),
        ];
        for (held, claim, expected) in cases {
            assert_eq!(judge(held, claim.as_ref()).unwrap(), expected, "{claim:?}");
        }
        for bad in [
            claim(point(9, 'a'), None),
            claim(point(10, 'b'), None),
            claim(point(14, 'e'), Some(point(10, 'b'))),
        ] {
            assert!(
                matches!(
                    judge(Some(&held), Some(&bad)).unwrap(),
                    Verdict::Rewritten { .. }
                ),
                "{bad:?}"
            );
        }
        for malformed in [
            claim(point(0, 'a'), None),
            claim(point(12, 'A'), None),
            claim(point(12, 'a'), Some(point(10, 'g'))),
        ] {
            assert!(
                judge(Some(&held), Some(&malformed)).is_err(),
                "{malformed:?}"
            );
        }
    }
}
