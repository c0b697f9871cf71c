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

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use client::{BackOffice, Link, SyncError, plain_to_another_machine};
pub use task::{Phase, SyncHandle, SyncOptions, SyncStatus};

use crate::Workstation;
use crate::store::OutboxState;

/// Entries pushed per exchange: as many as the back office takes. Over a satellite link each
/// exchange costs a 600 ms round trip, so fewer, larger exchanges are what keeps a sync near
/// the link's floor; a full batch is about 22 kB compressed, well within the silence timeout.
pub const PUSH_BATCH: usize = guichet_protocol::MAX_PUSH;

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
}

/// Progress of a run in flight, for the status bar.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
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
        let push = ws.pending_push(PUSH_BATCH)?;
        let cursor = ws.sync_point()?.map_or(0, |p| p.cursor);
        let mut request = guichet_protocol::ExchangeRequest {
            push: push.clone(),
            cursor,
            limit: PULL_PAGE,
            audit: ws.audit_claim(None)?,
        };
        let mut answer = office.exchange(&request).await;
        // The back office holds a later head than this device knows it acknowledged (its
        // answer was lost): show it the event at that place, once.
        if let Err(SyncError::AuditAnchor { seq, .. }) = &answer {
            request.audit = ws.audit_claim(Some(*seq))?;
            answer = office.exchange(&request).await;
        }
        let response = match answer {
            Ok(r) => r,
            Err(e) => {
                ws.note_sync_failure(&e.to_string())?;
                return Err(e);
            }
        };
        let done = ws.apply_exchange(&push, &response)?;
        report.exchanges += 1;
        report.pushed += push.len() as u32;
        report.applied += done.applied;
        report.duplicates += done.duplicates;
        report.refused += done.refused;
        report.conflicts += done.conflicts + done.superseded;
        report.pulled += done.pulled;
        now.pushed += push.len() as u64;
        now.pages += 1;
        progress(now);
        // A batch that was not full took everything that waited: no empty exchange after it.
        if push.len() < PUSH_BATCH && !response.more {
            return Ok(report);
        }
    }
}

/// How many changes wait to be sent.
pub fn pending(ws: &Workstation) -> Result<u64, SyncError> {
    Ok(ws.outbox_count(OutboxState::Pending)?)
}

/// The device credential: kept in a file of its own, readable only by its owner, with what
/// the operator said about the link at enrolment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
/// credential file, and uses it from now on. The old one stays valid at the back office until
/// the new one is first used, so a crash or a lost answer at any point leaves a credential that
/// works.
pub async fn rotate_credential(
    data_dir: &Path,
    credential: &mut Credential,
    office: &mut BackOffice,
) -> Result<(), SyncError> {
    let token = office.rotate_token().await?;
    credential.token = token;
    save_credential(data_dir, credential)
}

/// The credential file's name in the data directory.
pub const CREDENTIAL_FILE: &str = "credential.json";

pub fn credential_path(data_dir: &Path) -> PathBuf {
    data_dir.join(CREDENTIAL_FILE)
}

/// Writes the credential so that only the owner can read it.
pub fn save_credential(data_dir: &Path, credential: &Credential) -> Result<(), SyncError> {
    let path = credential_path(data_dir);
    let text = serde_json::to_vec_pretty(credential).map_err(crate::Error::from)?;
    crate::files::write_private(&path, &text)
        .map_err(|source| SyncError::Store(crate::Error::DataDir { path, source }))
}

/// The credential, if this data directory was enrolled.
pub fn load_credential(data_dir: &Path) -> Result<Option<Credential>, SyncError> {
    let path = credential_path(data_dir);
    match std::fs::read(&path) {
        Ok(bytes) => Ok(Some(
            serde_json::from_slice(&bytes).map_err(crate::Error::from)?,
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(SyncError::Store(crate::Error::DataDir { path, source })),
    }
}
