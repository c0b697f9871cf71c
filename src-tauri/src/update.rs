//! Updates from the back office, through Tauri's updater plugin.
//!
//! The back office offers each device the newest release published for its centre
//! (`GET /sync/v1/update`). The app asks after a sync that went through: after the first one
//! since it started, after each one the clerk asked for, and otherwise at most once an hour.
//! It downloads the package in the background from the back office it syncs with (no other
//! host is sent the device's token), and the plugin checks its signature against the release
//! key built into the app when it was packaged (`plugins.updater.pubkey`; the private half is
//! never on a device); the signature must also name the version the package is offered as, so
//! that an old signed package cannot be passed off as a new one. A package that fails either
//! check is refused, and the status bar says so until another version is offered. A verified one is offered to the clerk at a quiet
//! moment: the window shows it on the queue screen while no citizen is at the counter and no
//! sync runs. Installing it stops the sync, runs dpkg through pkexec or sudo (the plugin's
//! way), and starts the app again on the new version; the clerk logs in again, on the same
//! data. If the install fails, this version goes on working and the bar says why.
//!
//! Updates are off in a build without the release key (`run-app`, the tests) and in a copy
//! that was not installed from the Debian package, as the plugin installs only packages.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use guichet_workstation::sync::Credential;
use serde::Serialize;
use tauri::{AppHandle, Url};
use tauri_plugin_updater::{Update, UpdaterExt};
use tokio::sync::Notify;

use crate::shell::lock;

/// The least time between two checks that nobody asked for.
const CHECK_EVERY: Duration = Duration::from_secs(60 * 60);
/// The longest the back office may take to answer whether there is an update.
const CHECK_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest a package's download may take: tens of megabytes over a slow satellite link.
const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// The longest the link may stay silent during a download.
const STALL_TIMEOUT: Duration = Duration::from_secs(60);
/// The largest package downloaded: the back office publishes none larger.
const MAX_PACKAGE_BYTES: u64 = 300 * 1024 * 1024;

/// Where an update offered by the back office stands, as the window shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum UpdateState {
    /// Being downloaded and checked, in the background.
    Downloading { version: String },
    /// Downloaded and its signature verified: offered to the clerk at a quiet moment.
    Ready { version: String, notes: String },
    /// dpkg is installing it; the app starts again on it when done.
    Installing { version: String },
    /// Its signature does not verify against the release key built into this app: it is not
    /// installed, and not downloaded again.
    Refused { version: String, reason: String },
    /// The install failed: this version goes on working. With `again`, the verified package
    /// is still at hand and the clerk may try again; without, it was lost with the install,
    /// and the next look downloads it again.
    Failed {
        version: String,
        reason: String,
        again: bool,
    },
}

/// The update's state and the verified package waiting to be installed.
pub struct Updates {
    /// Why this copy of the app does not look for updates, when it does not.
    off: Option<&'static str>,
    state: Mutex<Option<UpdateState>>,
    ready: Mutex<Option<(Update, Vec<u8>)>>,
    last_check: Mutex<Option<Instant>>,
    /// The clerk asked for a sync: look for an update after it, whenever the last look was.
    asked: AtomicBool,
    busy: AtomicBool,
}

impl std::fmt::Debug for Updates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Updates")
            .field("off", &self.off)
            .field("state", &*lock(&self.state))
            .finish_non_exhaustive()
    }
}

/// Set when the app stops to start again on a new version: closing its window must then not
/// quit for good (see `lib.rs`).
pub static RESTARTING: AtomicBool = AtomicBool::new(false);

impl Updates {
    pub fn new(app: &AppHandle) -> Self {
        let off = if !app.config().plugins.0.contains_key("updater") {
            Some(
                "this build has no release key: updates come with the package built by package-app",
            )
        } else if tauri::utils::platform::bundle_type()
            != Some(tauri::utils::config::BundleType::Deb)
        {
            Some(
                "this copy was not installed from Guichet's Debian package: install updates with apt",
            )
        } else {
            None
        };
        if let Some(why) = off {
            tracing::info!("updates from the back office are off: {why}");
        }
        Updates {
            off,
            state: Mutex::new(None),
            ready: Mutex::new(None),
            last_check: Mutex::new(None),
            asked: AtomicBool::new(false),
            busy: AtomicBool::new(false),
        }
    }

    pub fn state(&self) -> Option<UpdateState> {
        lock(&self.state).clone()
    }

    /// The clerk asked for a sync: the next one that goes through is followed by a look.
    pub fn asked(&self) {
        self.asked.store(true, Ordering::Relaxed);
    }

    /// Whether to look now, after a sync that went through; if so, the caller must `look`.
    /// Not while a verified package waits to be installed (offered, or
    /// offered again after a failed install) or is being installed: a look would download it
    /// again, and hide the offer meanwhile.
    pub fn due(&self) -> bool {
        let waiting = lock(&self.ready).is_some()
            || matches!(self.state(), Some(UpdateState::Installing { .. }));
        if self.off.is_some() || waiting || self.busy.load(Ordering::Acquire) {
            return false;
        }
        let asked = self.asked.swap(false, Ordering::Relaxed);
        let stale = lock(&self.last_check).is_none_or(|at| at.elapsed() >= CHECK_EVERY);
        (asked || stale) && !self.busy.swap(true, Ordering::AcqRel)
    }

    /// Forgets everything about updates: the device was wiped or set up again.
    pub fn reset(&self) {
        *lock(&self.state) = None;
        *lock(&self.ready) = None;
        *lock(&self.last_check) = None;
    }

    /// Asks the back office for an update and, if there is one, downloads and verifies it;
    /// `publish` is called each time the state changes.
    pub async fn look(&self, app: &AppHandle, credential: &Credential, publish: impl Fn()) {
        // Whatever happens to this look, even a panic, the next one may run.
        struct Done<'a>(&'a AtomicBool);
        impl Drop for Done<'_> {
            fn drop(&mut self) {
                self.0.store(false, Ordering::Release);
            }
        }
        let _done = Done(&self.busy);
        *lock(&self.last_check) = Some(Instant::now());
        let outcome = self.fetch(app, credential, &publish).await;
        let new = match outcome {
            Ok(None) => None,
            Ok(Some((update, package))) => {
                tracing::info!(version = %update.version, "update downloaded and verified");
                let ready = UpdateState::Ready {
                    version: update.version.clone(),
                    notes: shown_notes(update.body.as_deref().unwrap_or_default()),
                };
                *lock(&self.ready) = Some((update, package));
                Some(ready)
            }
            Err(Fetch::Refused { version, reason }) => {
                tracing::warn!(%version, %reason, "update refused");
                Some(UpdateState::Refused { version, reason })
            }
            Err(Fetch::Failed(e)) => {
                tracing::warn!("no update: {e}");
                None
            }
        };
        let mut state = lock(&self.state);
        match new {
            Some(new) => *state = Some(new),
            // Nothing came of it: a download under way is no longer.
            None if matches!(*state, Some(UpdateState::Downloading { .. })) => *state = None,
            None => {}
        }
        drop(state);
        publish();
    }

    async fn fetch(
        &self,
        app: &AppHandle,
        credential: &Credential,
        publish: &impl Fn(),
    ) -> Result<Option<(Update, Vec<u8>)>, Fetch> {
        let failed = |e: &dyn std::fmt::Display| Fetch::Failed(e.to_string());
        let current = app.package_info().version.to_string();
        let base = credential.server_url.trim_end_matches('/');
        let endpoint = Url::parse(&format!("{base}/sync/v1/update?current_version={current}"))
            .map_err(|e| failed(&e))?;
        let endpoint_origin = endpoint.origin();
        let certs = credential.link.ca_certificates().map_err(|e| failed(&e))?;
        let updater = app
            .updater_builder()
            .endpoints(vec![endpoint])
            .and_then(|b| b.header("Authorization", format!("Bearer {}", credential.token)))
            .map(|b| {
                b.timeout(CHECK_TIMEOUT).configure_client(move |client| {
                    client
                        .read_timeout(STALL_TIMEOUT)
                        .tls_certs_merge(certs.clone())
                })
            })
            .and_then(|b| b.build())
            .map_err(|e| failed(&e))?;
        let Some(mut update) = updater.check().await.map_err(|e| failed(&e))? else {
            return Ok(None);
        };
        // The device's token goes to its back office only: a package offered from another
        // address (a proxy that rewrote the address, plain HTTP where the link is HTTPS) is
        // not fetched.
        if update.download_url.origin() != endpoint_origin {
            return Err(failed(&format!(
                "the back office offered the package from {}, not from itself ({}): check the \
                 Host and X-Forwarded-Proto headers its proxy passes on",
                update.download_url.origin().ascii_serialization(),
                endpoint_origin.ascii_serialization()
            )));
        }
        if let Some(UpdateState::Refused { version, .. }) = self.state()
            && version == update.version
        {
            return Ok(None);
        }
        *lock(&self.state) = Some(UpdateState::Downloading {
            version: update.version.clone(),
        });
        publish();
        update.timeout = Some(DOWNLOAD_TIMEOUT);
        let version = update.version.clone();
        let downloaded = bounded_download(&update).await;
        // The package is kept until the clerk installs it; the token need not be.
        update.headers.clear();
        match downloaded {
            Ok(package) => match signed_for(&update.signature) {
                Some(signed) if signed == version => Ok(Some((update, package))),
                signed => Err(Fetch::Refused {
                    version: version.clone(),
                    reason: format!(
                        "the signature is for {}, not for the version {version} it is offered as",
                        signed.as_deref().unwrap_or("no version")
                    ),
                }),
            },
            Err(
                e @ (tauri_plugin_updater::Error::Minisign(_)
                | tauri_plugin_updater::Error::Base64(_)
                | tauri_plugin_updater::Error::SignatureUtf8(_)),
            ) => Err(Fetch::Refused {
                version,
                reason: e.to_string(),
            }),
            Err(e) => Err(failed(&e)),
        }
    }

    /// Takes the verified package to install it: the state says "installing" from now on.
    pub fn begin_install(&self) -> Option<(Update, Vec<u8>)> {
        let ready = lock(&self.ready).take()?;
        *lock(&self.state) = Some(UpdateState::Installing {
            version: ready.0.version.clone(),
        });
        Some(ready)
    }

    /// The install stopped without an answer (its thread panicked): the package went with it,
    /// and the next look fetches it again.
    pub fn install_lost(&self, version: &str, reason: &str) {
        tracing::error!(%version, %reason, "the update could not be installed; this version goes on");
        *lock(&self.state) = Some(UpdateState::Failed {
            version: version.to_owned(),
            reason: reason.to_owned(),
            again: false,
        });
    }

    /// The install failed: this version goes on, and the package stays offered.
    pub fn install_failed(&self, update: Update, package: Vec<u8>, reason: &str) {
        tracing::error!(version = %update.version, %reason, "the update could not be installed; this version goes on");
        let update_version = update.version.clone();
        *lock(&self.ready) = Some((update, package));
        *lock(&self.state) = Some(UpdateState::Failed {
            version: update_version,
            reason: reason.to_owned(),
            again: true,
        });
    }
}

/// The version a package's signature was made for (`tauri signer sign --app-version`), from
/// its trusted comment, which the signature covers: read once the plugin has verified it.
fn signed_for(signature: &str) -> Option<String> {
    use base64::Engine as _;
    let text = base64::engine::general_purpose::STANDARD
        .decode(signature.trim())
        .ok()?;
    let parsed = minisign_verify::Signature::decode(std::str::from_utf8(&text).ok()?).ok()?;
    parsed
        .trusted_comment()
        .split('\t')
        .find_map(|field| field.strip_prefix("version:"))
        .map(str::to_owned)
}

enum Fetch {
    /// The package's signature does not verify against the release key.
    Refused { version: String, reason: String },
    /// The back office or the link failed: try again at the next look.
    Failed(String),
}

/// Downloads and verifies the package, giving up past `MAX_PACKAGE_BYTES`: the plugin keeps
/// the whole package in memory, so the download is dropped as soon as it grows past that.
async fn bounded_download(update: &Update) -> Result<Vec<u8>, tauri_plugin_updater::Error> {
    let too_big = Arc::new(Notify::new());
    let signal = too_big.clone();
    let mut received = 0u64;
    let download = update.download(
        move |chunk, length| {
            received += chunk as u64;
            if received > MAX_PACKAGE_BYTES || length.is_some_and(|l| l > MAX_PACKAGE_BYTES) {
                signal.notify_one();
            }
        },
        || {},
    );
    tokio::select! {
        done = download => done,
        () = too_big.notified() => Err(tauri_plugin_updater::Error::Network(format!(
            "the package is larger than {} MiB: not downloaded",
            MAX_PACKAGE_BYTES / (1024 * 1024)
        ))),
    }
}

/// At most this much of a release's notes goes to the window, in every status event.
const MAX_NOTES_CHARS: usize = 2000;

/// A release's notes as the clerk's window shows them: cut, with an ellipsis, where the back
/// office published more than the window has room for.
fn shown_notes(notes: &str) -> String {
    match notes.char_indices().nth(MAX_NOTES_CHARS) {
        Some((cut, _)) => format!("{}…", &notes[..cut]),
        None => notes.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;

    use super::signed_for;

    const SIGNED: &str =
        include_str!("../../crates/backoffice/tests/fixtures/release/guichet_0.9.0_amd64.deb.sig");

    #[test]
    fn the_version_a_package_was_signed_for_is_read_from_its_trusted_comment() {
        assert_eq!(signed_for(SIGNED).as_deref(), Some("0.9.0"));
        // The same signature with a trusted comment naming no version: none, so refused.
        let text = String::from_utf8(STANDARD.decode(SIGNED.trim()).unwrap()).unwrap();
        let unversioned: String = text
            .lines()
            .map(|line| match line.strip_prefix("trusted comment: ") {
                Some(comment) => {
                    format!("trusted comment: {}\n", comment.split('\t').next().unwrap())
                }
                None => format!("{line}\n"),
            })
            .collect();
        assert_eq!(signed_for(&STANDARD.encode(unversioned)), None);
        assert_eq!(signed_for("not base64 at all"), None);
    }

    #[test]
    fn a_release_s_notes_reach_the_window_cut_to_what_it_shows() {
        assert_eq!(
            super::shown_notes("Fixes the receipt."),
            "Fixes the receipt."
        );
        let long = "é".repeat(super::MAX_NOTES_CHARS + 500);
        let shown = super::shown_notes(&long);
        assert_eq!(shown.chars().count(), super::MAX_NOTES_CHARS + 1);
        assert!(shown.ends_with("é…"));
    }
}
