//! The background sync task: runs `sync_once` soon after local changes (debounced), on a
//! timer, and on demand; backs off exponentially with jitter after failures; publishes its
//! state for the status bar; stops cleanly when asked.

use std::sync::Arc;
use std::time::Duration;

use guichet_domain::message::Message;
use guichet_domain::text::english_plural;
use rand::Rng;
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use super::{BackOffice, Progress, SyncError, pending, sync_once};
use crate::Workstation;

/// What the status bar shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The last run succeeded.
    Online,
    /// The back office could not be reached; retrying.
    Offline,
    Syncing,
    /// The back office refused; someone must act (the message says what).
    Error,
    /// The back office revoked this device with a wipe: the task has stopped, and the owner of
    /// the database delivers what is left and erases it (`sync::complete_wipe`).
    Wipe,
    /// The device's data was erased.
    Wiped,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SyncStatus {
    pub phase: Phase,
    /// In words, for the clerk.
    pub message: Option<String>,
    /// The same as a key and values the window translates (see `guichet_domain::message`);
    /// only the task's own errors have one.
    #[serde(default, skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub translation: Option<Message>,
    pub waiting: u64,
    pub progress: Progress,
    pub last_success: Option<String>,
    /// The link is plain HTTP to another machine, as allowed at enrolment: the status bar
    /// warns that what crosses the network can be read on the way.
    #[serde(default)]
    pub insecure: bool,
}

/// Timings of the task.
#[derive(Debug, Clone, Copy)]
pub struct SyncOptions {
    /// Wait this long after a local change for more before syncing.
    pub debounce: Duration,
    /// Sync at least this often.
    pub interval: Duration,
    /// Backoff after a failure starts here and doubles up to `max_backoff`. A bus's link comes
    /// and goes every few minutes: a longer cap would miss the moments it is up (an exchange
    /// with nothing to do costs under 1 kB).
    pub min_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            debounce: Duration::from_millis(500),
            interval: Duration::from_secs(30),
            min_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(60),
        }
    }
}

/// The running task. Dropping it does not stop it; `stop` does.
#[derive(Debug)]
pub struct SyncHandle {
    status: watch::Receiver<SyncStatus>,
    signals: Arc<Signals>,
    task: JoinHandle<()>,
}

impl SyncHandle {
    /// Starts the task on the current tokio runtime, over a connection of its own to the
    /// database `open` has open (the task holds its key: stop it when the clerk locks).
    pub fn spawn(
        open: &Workstation,
        office: BackOffice,
        options: SyncOptions,
    ) -> Result<Self, SyncError> {
        let ws = open.second_connection()?;
        let initial = SyncStatus {
            phase: Phase::Offline,
            message: None,
            translation: None,
            waiting: pending(&ws)?,
            progress: Progress::default(),
            last_success: ws.sync_point()?.and_then(|p| p.last_success),
            insecure: office.is_insecure(),
        };
        let (tx, rx) = watch::channel(initial);
        let signals = Arc::new(Signals::default());
        let task = tokio::spawn(run(ws, office, options, tx, signals.clone()));
        Ok(SyncHandle {
            status: rx,
            signals,
            task,
        })
    }

    /// The latest status, and a receiver that sees every change.
    pub fn status(&self) -> watch::Receiver<SyncStatus> {
        self.status.clone()
    }

    /// A local change happened: sync soon (after the debounce), or, after a failure, when its
    /// backoff ends: twenty clerks acting every few seconds do not hammer a back office that
    /// is failing.
    pub fn notify_change(&self) {
        self.signals.wake.notify_one();
    }

    /// Sync now, skipping the debounce and any backoff: the clerk asked.
    pub fn sync_now(&self) {
        self.signals.now.notify_one();
    }

    /// Stops the task and waits for it to end. An exchange in flight is dropped where it
    /// stands rather than waited for (a lock must not wait on a slow link with the database's
    /// key still open): what it pushed goes again with the next run, which the back office,
    /// applying each change once, answers as already applied.
    pub async fn stop(self) {
        self.signals.stop.notify_one();
        let _ = self.task.await;
    }
}

/// What wakes the task: a local change, the clerk's "sync now", or the order to stop.
#[derive(Debug, Default)]
struct Signals {
    wake: Notify,
    now: Notify,
    stop: Notify,
}

async fn run(
    mut ws: Workstation,
    mut office: BackOffice,
    options: SyncOptions,
    status: watch::Sender<SyncStatus>,
    signals: Arc<Signals>,
) {
    let Signals { wake, now, stop } = &*signals;
    let mut failures: u32 = 0;
    let mut delay = Duration::ZERO;
    loop {
        tokio::select! {
            () = stop.notified() => return,
            () = tokio::time::sleep(delay) => {}
            () = now.notified() => {}
            // After a failure, a change waits for the backoff (it is sent with the next run).
            () = wake.notified(), if failures == 0 => {
                // Let a burst of clerk actions settle into one run.
                tokio::select! {
                    () = stop.notified() => return,
                    () = tokio::time::sleep(options.debounce) => {}
                }
            }
        }
        // A run starting says nothing more of the last one's failure.
        status.send_modify(|s| {
            s.phase = Phase::Syncing;
            s.progress = Progress::default();
            s.message = None;
            s.translation = None;
        });
        let publish = |p: Progress| status.send_modify(|s| s.progress = p);
        let outcome = tokio::select! {
            () = stop.notified() => return,
            outcome = sync_once(&mut ws, &office, &publish) => outcome,
        };
        let waiting = pending(&ws).unwrap_or(0);
        let last_success = ws.sync_point().ok().flatten().and_then(|p| p.last_success);
        match outcome {
            Ok(report) if report.wipe => {
                status.send_modify(|s| {
                    s.phase = Phase::Wipe;
                    s.message = None;
                    s.translation = None;
                    s.waiting = waiting;
                });
                return;
            }
            Ok(report) => {
                failures = 0;
                delay = options.interval;
                status.send_modify(|s| {
                    s.phase = Phase::Online;
                    s.translation = None;
                    s.message = (report.refused + report.conflicts > 0).then(|| {
                        format!(
                            "{} {} refused and {} in conflict: see the requests concerned",
                            report.refused,
                            english_plural(u64::from(report.refused), "change", "changes"),
                            report.conflicts
                        )
                    });
                    s.waiting = waiting;
                    s.last_success = last_success;
                });
            }
            // The command line on this device rotated the credential while this task held the
            // old one, which the back office stops taking once the new one is used: the one
            // the database holds now is taken, and the run made again at once.
            Err(SyncError::Unauthorized(_))
                if office.take_token(ws.credential().ok().flatten().map(|c| c.token)) =>
            {
                delay = Duration::ZERO;
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                // A refusal that trying again will not mend (a revoked device, a credential
                // refused) is tried again only as often as the longest backoff, or when asked.
                // A back office that asked for a pause gets it, up to the longest backoff.
                let (phase, next) = if e.is_transient() {
                    let asked = e.retry_after().unwrap_or_default();
                    (
                        Phase::Offline,
                        backoff(&options, failures).max(asked.min(options.max_backoff)),
                    )
                } else {
                    (Phase::Error, options.max_backoff)
                };
                delay = next;
                let (words, translation) = e.in_session();
                status.send_modify(|s| {
                    s.phase = phase;
                    s.message = Some(words);
                    s.translation = translation;
                    s.waiting = waiting;
                    s.last_success = last_success;
                });
            }
        }
    }
}

/// Exponential backoff with full jitter, so that a bus full of devices coming back online
/// does not retry in step.
pub(crate) fn backoff(options: &SyncOptions, failures: u32) -> Duration {
    let exp = options
        .min_backoff
        .saturating_mul(1u32 << failures.min(16).saturating_sub(1))
        .min(options.max_backoff);
    let jitter = rand::rng().random_range(0.5..=1.0);
    exp.mul_f64(jitter)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        let o = SyncOptions::default();
        for failures in 1..40 {
            let d = backoff(&o, failures);
            assert!(d <= o.max_backoff, "{failures}: {d:?}");
            let floor = o
                .min_backoff
                .saturating_mul(1u32 << (failures.min(16) - 1))
                .min(o.max_backoff)
                / 2;
            assert!(d >= floor, "{failures}: {d:?} < {floor:?}");
        }
        assert!(backoff(&o, 1) <= Duration::from_secs(1));
    }
}
