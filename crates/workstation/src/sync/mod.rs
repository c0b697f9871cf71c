//! Sync with the back office: the HTTP client, one sync run (`sync_once`), and the background
//! task that runs it after local changes, on a timer and on demand.
//!
//! Local work never waits on any of this: the clerk's actions write to the store and return;
//! sync reads the outbox through a connection of its own and applies each answer in one
//! transaction. A run reports only what the back office acknowledged (invariant 3): a timeout
//! or a cut connection leaves the entries pending, and the next run sends them again under
//! the same ids, which the back office answers as duplicates.

mod client;
mod task;

use std::path::Path;

use guichet_domain::keyslot::RecoveryKey;
use guichet_protocol::{VouchRequest, VouchResponse};
use serde::{Deserialize, Serialize};

pub use client::{BackOffice, Link, LinkDrop, PushLimit, SyncError, plain_to_another_machine};
pub use task::{Phase, SyncHandle, SyncOptions, SyncStatus};

use crate::Workstation;
use crate::error::{Access, Error};
use crate::store::{Label, OutboxState, Session};

/// Entries pushed per exchange: as many as the back office takes, within
/// `PUSH_JSON_BYTES`. Over a satellite link each exchange costs a 600 ms round trip that
/// nothing else can use (an exchange must be answered before the next: its entries may depend
/// on the ones before), so a sync is near the link's floor only with few, large exchanges.
pub const PUSH_BATCH: usize = guichet_protocol::MAX_PUSH;

/// The fewest entries an exchange pushes while the link times out on larger pushes.
pub const MIN_PUSH_BATCH: usize = 50;

/// The push limit after an exchange that pushed `pushed` entries under `limit`. A whole push
/// must reach the back office before its answer starts, within the call's time: on a slow
/// uplink (a satellite link shared by a bus's laptops) a large one times out every time, and
/// the same batch would be sent again for ever; so too where the back office gives up on a
/// large push within its own time (`SyncError::too_slow`). An exchange that was too slow
/// halves the limit, down to `MIN_PUSH_BATCH`; one that went through doubles it back, up to
/// `PUSH_BATCH`. A small push that was too slow says nothing of the uplink (the link is down,
/// the back office busy): the limit stays.
fn next_push_limit(limit: usize, pushed: usize, too_slow: bool) -> usize {
    match (too_slow, pushed > MIN_PUSH_BATCH) {
        (true, true) => (pushed / 2).max(MIN_PUSH_BATCH).min(limit),
        (true, false) => limit,
        (false, _) => limit.saturating_mul(2).min(PUSH_BATCH),
    }
}

/// Changes pulled per exchange (the back office caps a page at 1,000).
pub const PULL_PAGE: u32 = 1000;

/// What a sync run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncReport {
    pub exchanges: u32,
    pub pushed: u32,
    pub applied: u32,
    pub duplicates: u32,
    pub refused: u32,
    pub conflicts: u32,
    pub pulled: u32,
    /// The back office revoked this device and asks it to erase its data
    /// (`complete_wipe`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub wipe: bool,
}

/// Progress of a run in flight, for the status bar.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct Progress {
    pub pushed: u64,
    pub to_push: u64,
    pub pages: u32,
}

/// Pushes every pending change and pulls everything new, exchange after exchange, until
/// nothing is left either way.
pub async fn sync_once(
    ws: &mut Workstation,
    office: &BackOffice,
    progress: &(dyn Fn(Progress) + Send + Sync),
) -> Result<SyncReport, SyncError> {
    if ws.sync_point()?.is_none() {
        return Err(SyncError::NotEnrolled);
    }
    let to_push = pending(ws)?;
    let mut report = SyncReport::default();
    let mut now = Progress {
        pushed: 0,
        to_push,
        pages: 0,
    };
    progress(now);
    loop {
        let limit = office.push_limit();
        let (push, cut) = within_bytes(ws.pending_push(limit)?, guichet_protocol::PUSH_JSON_BYTES);
        let cursor = ws.sync_point()?.map_or(0, |p| p.cursor);
        let mut request = guichet_protocol::ExchangeRequest {
            push: push.clone(),
            cursor,
            limit: PULL_PAGE,
            recovery_key: ws.recovery_to_escrow()?,
            audit: ws.audit_claim(None)?,
            state: Some(guichet_protocol::DeviceState {
                app_version: office.app_version().to_owned(),
                waiting: ws
                    .outbox_count(OutboxState::Pending)?
                    .saturating_sub(push.len() as u64),
                refused: ws.outbox_count(OutboxState::Refused)?,
                clock: ws.now().wall,
            }),
        };
        // Nothing leaves the device that a power cut could still take back here.
        ws.make_durable()?;
        let mut answer = office.exchange(&request).await;
        // The back office holds a later head than this device knows it acknowledged (its
        // answer was lost): show it the event at that place, once.
        if let Err(SyncError::AuditAnchor { seq, .. }) = &answer {
            request.audit = ws.audit_claim(Some(*seq))?;
            if let Some(state) = request.state.as_mut() {
                state.clock = ws.now().wall;
            }
            answer = office.exchange(&request).await;
        }
        let too_slow = matches!(&answer, Err(e) if e.too_slow());
        let too_large = matches!(&answer, Err(e) if e.too_large());
        // A proxy's body limit, unlike a slow link, refuses the same batch however often it
        // is sent: the next one is halved down to a single change, and a single change
        // refused is said as what it is, for whoever runs the proxy.
        if too_large && push.len() <= 1 {
            let bytes = push.first().map_or(0, guichet_protocol::json_len);
            answer = Err(SyncError::Protocol(format!(
                "a proxy between this device and the back office refuses a single change of \
                 {bytes} bytes as too large (HTTP 413): its body limit must let through at \
                 least {} bytes (nginx: client_max_body_size)",
                guichet_protocol::PUSH_JSON_BYTES
            )));
        }
        office.set_push_limit(if too_large {
            (push.len() / 2).clamp(1, limit)
        } else {
            next_push_limit(limit, push.len(), too_slow)
        });
        let response = match answer {
            Ok(r) => r,
            Err(e) => {
                ws.note_sync_failure(&e.to_string())?;
                return Err(e);
            }
        };
        // An answer that says more is waiting but neither took a change nor moved the cursor
        // would be asked again for ever.
        if response.more && push.is_empty() && response.cursor <= cursor {
            let problem = format!(
                "the back office says more changes wait after {cursor} but sent none: the \
                 exchange stops here and is tried again later"
            );
            ws.note_sync_failure(&problem)?;
            return Err(SyncError::Protocol(problem));
        }
        let done = ws.apply_exchange(&push, &response)?;
        report.exchanges += 1;
        report.pushed += push.len() as u32;
        report.applied += done.applied;
        report.duplicates += done.duplicates;
        report.refused += done.refused;
        report.conflicts += done.conflicts + done.superseded;
        report.pulled += done.pulled;
        report.wipe |= response.wipe;
        now.pushed += push.len() as u64;
        now.pages += 1;
        progress(now);
        // A batch that was not full took everything that waited: no empty exchange after it.
        if push.len() < limit && !cut && !response.more {
            return Ok(report);
        }
    }
}

/// The first of `entries` whose JSON fits in `budget` bytes, at least one (the back office
/// refuses, and says why, an entry larger than its body limit), and whether any were left
/// for the next exchange.
fn within_bytes<T: Serialize>(mut entries: Vec<T>, budget: usize) -> (Vec<T>, bool) {
    let mut used = 0;
    let mut keep = entries.len();
    for (i, entry) in entries.iter().enumerate() {
        used += guichet_protocol::json_len(entry) + 1;
        if i > 0 && used > budget {
            keep = i;
            break;
        }
    }
    let cut = keep < entries.len();
    entries.truncate(keep);
    (entries, cut)
}

/// Ends a device the back office revoked with a wipe: delivers what still waits, erases the
/// local data once nothing does (`Workstation::erase`), and tells the back office. `None` if
/// the back office no longer asks for it (nothing is erased then). The caller must hold the
/// only open connection, so that nothing is written between the last delivery and the
/// erasure.
pub async fn complete_wipe(
    ws: &mut Workstation,
    office: &BackOffice,
) -> Result<Option<crate::store::Erased>, SyncError> {
    let last = sync_once(ws, office, &|_| {}).await?;
    if !last.wipe {
        return Ok(None);
    }
    let waiting = pending(ws)?;
    if waiting > 0 {
        return Err(SyncError::WipeBlocked { waiting });
    }
    let data_dir = ws.path().and_then(|p| p.parent()).map(Path::to_owned);
    let mut erased = ws.erase()?;
    // The data is gone whatever the answer: a confirmation lost on the way leaves the back
    // office showing the wipe as requested, and the note says it was not heard.
    if office.confirm_wiped().await.is_ok() {
        erased.confirmed = true;
        if let Some(dir) = data_dir {
            crate::store::note_erased(&dir, &erased)?;
        }
    }
    Ok(Some(erased))
}

/// How many changes wait to be sent.
pub fn pending(ws: &Workstation) -> Result<u64, SyncError> {
    Ok(ws.outbox_count(OutboxState::Pending)?)
}

/// The device credential, with what the operator said about the link at enrolment: kept in
/// the database, encrypted with the rest.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credential {
    pub server_url: String,
    pub device_code: String,
    pub token: String,
    #[serde(flatten)]
    pub link: Link,
}

impl Credential {
    /// The back office this credential reaches, over the link it was enrolled with.
    pub fn back_office(&self, timeout: std::time::Duration) -> Result<BackOffice, SyncError> {
        BackOffice::with_link(
            &self.server_url,
            Some(self.token.clone()),
            timeout,
            &self.link,
        )
    }
}

/// Rotates the device credential: asks the back office for a new one, keeps it in the
/// database, and uses it from now on. The old one stays valid at the back office until the new
/// one is first used, so a crash or a lost answer at any point leaves a credential that works.
pub async fn rotate_credential(
    ws: &mut Workstation,
    credential: &mut Credential,
    office: &mut BackOffice,
) -> Result<(), SyncError> {
    let token = office.rotate_token().await?;
    ws.set_token(&token)?;
    credential.token = token;
    Ok(())
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("server_url", &self.server_url)
            .field("device_code", &self.device_code)
            .finish_non_exhaustive()
    }
}

/// Enrols a device with the back office `office` (a client without a token) under a one-time
/// code: a recovery key is made for the device and handed to the back office, which vouches
/// with it for the clerks' first logins there. Give both to `Workstation::enroll`.
pub async fn enroll(
    office: &BackOffice,
    code: &str,
    label: Option<&str>,
) -> Result<(guichet_protocol::EnrollResponse, RecoveryKey), SyncError> {
    let recovery = RecoveryKey::from_bytes(rand::random());
    let enrolled = office.enroll(code, label, &recovery).await?;
    Ok((enrolled, recovery))
}

/// Logs a clerk in, asking the back office to vouch for them when this device cannot: their
/// first login here, the first since their password was reset, or after the device was kept
/// offline too long. Offline, the refusal says that a first login needs the back office.
pub async fn login(
    ws: &mut Workstation,
    username: &str,
    password: &str,
) -> Result<Session, SyncError> {
    let local = ws.login(username, password);
    vouched_if_needed(ws, username, password, local).await
}

/// Unlocks the screen (the same clerk, or another who takes over), as `login` does.
pub async fn unlock(
    ws: &mut Workstation,
    username: &str,
    password: &str,
) -> Result<Session, SyncError> {
    let local = ws.unlock(username, password);
    vouched_if_needed(ws, username, password, local).await
}

async fn vouched_if_needed(
    ws: &mut Workstation,
    username: &str,
    password: &str,
    local: crate::Result<Session>,
) -> Result<Session, SyncError> {
    let refusal = match local {
        Ok(session) => return Ok(session),
        Err(e) if may_vouch(&e) => e,
        Err(e) => return Err(e.into()),
    };
    let Some(label) = ws.label()? else {
        return Err(refusal.into());
    };
    let answer = ask_vouch(&label, username, password).await;
    vouched(ws, password, answer, refusal)
}

/// Whether the back office may open the door this refusal closed: a password this device
/// cannot check (no slot for it), or a device kept offline too long.
pub fn may_vouch(refusal: &Error) -> bool {
    matches!(
        refusal,
        Error::Access(Access::LoginFailed | Access::Stale { .. })
    )
}

/// Asks the back office of the device `label` names to vouch for a clerk; `None` for a
/// standalone device.
pub async fn ask_vouch(
    label: &Label,
    username: &str,
    password: &str,
) -> Option<Result<VouchResponse, SyncError>> {
    let url = label.server_url.as_deref()?;
    let office = match BackOffice::with_link(url, None, LOGIN_TIMEOUT, &label.link) {
        Ok(office) => office,
        Err(e) => return Some(Err(e)),
    };
    Some(
        office
            .vouch(&VouchRequest {
                device_code: label.config.device_code.clone(),
                username: username.trim().to_owned(),
                password: password.to_owned(),
            })
            .await,
    )
}

/// Logs in with the back office's answer, or gives the refusal as the clerk should read it.
pub fn vouched(
    ws: &mut Workstation,
    password: &str,
    answer: Option<Result<VouchResponse, SyncError>>,
    refusal: Error,
) -> Result<Session, SyncError> {
    match answer {
        Some(Ok(vouched)) => {
            let recovery = RecoveryKey::parse(&vouched.recovery_key).map_err(Error::from)?;
            Ok(ws.login_vouched(password, &vouched.account, &recovery)?)
        }
        // A back office too busy to vouch just now is, to the clerk, one not reached.
        Some(Err(SyncError::Offline(_) | SyncError::Busy { .. })) => Err(match refusal {
            Error::Access(Access::LoginFailed) => Error::Access(Access::LoginFailedOffline),
            other => other,
        }
        .into()),
        None | Some(Err(SyncError::Unauthorized(_))) => Err(refusal.into()),
        Some(Err(e)) => Err(e),
    }
}

/// How long a login waits for the back office to vouch before saying it is offline.
const LOGIN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

#[cfg(test)]
mod tests {
    use super::{BackOffice, MIN_PUSH_BATCH, PUSH_BATCH, PushLimit, next_push_limit, within_bytes};

    /// A client built anew for the same link (the app's, at each login and unlock) starts from
    /// what the ones before it learnt when given their limit, and from a full push otherwise.
    #[test]
    fn a_new_client_given_the_learnt_limit_starts_from_it() {
        let office = || {
            BackOffice::new(
                "http://127.0.0.1:9",
                None,
                std::time::Duration::from_secs(1),
            )
            .unwrap()
        };
        let kept = PushLimit::default();
        let first = office().sharing_push_limit(&kept);
        first.set_push_limit(next_push_limit(first.push_limit(), 4_000, true));
        assert_eq!(first.clone().push_limit(), 2_000);
        assert_eq!(office().sharing_push_limit(&kept).push_limit(), 2_000);
        assert_eq!(office().push_limit(), PUSH_BATCH);
    }

    #[test]
    fn a_push_that_times_out_is_halved_and_grows_back_once_the_link_carries_it() {
        let slow = next_push_limit(PUSH_BATCH, 4_000, true);
        assert_eq!(slow, 2_000);
        assert_eq!(next_push_limit(slow, 2_000, true), 1_000);
        // Never below the floor, never above what the back office takes.
        assert_eq!(next_push_limit(60, 60, true), MIN_PUSH_BATCH);
        assert_eq!(next_push_limit(1_000, 300, false), 2_000);
        assert_eq!(next_push_limit(PUSH_BATCH, 10, false), PUSH_BATCH);
        // A small push that timed out says nothing of the uplink: the limit stays.
        assert_eq!(next_push_limit(1_000, 10, true), 1_000);
    }

    #[test]
    fn a_push_takes_the_entries_that_fit_its_bytes_and_always_one() {
        // Each counts 12 bytes of JSON ("aaaaaaaaaa") and one for the comma.
        let entries = vec!["a".repeat(10); 5];
        assert_eq!(
            within_bytes(entries.clone(), 30),
            (entries[..2].to_vec(), true)
        );
        assert_eq!(within_bytes(entries.clone(), 65), (entries.clone(), false));
        assert_eq!(
            within_bytes(entries.clone(), 5),
            (entries[..1].to_vec(), true)
        );
        assert_eq!(
            within_bytes(entries[..1].to_vec(), 5),
            (entries[..1].to_vec(), false)
        );
        assert_eq!(within_bytes(Vec::<String>::new(), 5), (Vec::new(), false));
    }
}
