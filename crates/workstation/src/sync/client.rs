//! The HTTP client of the sync API: zstd-compressed JSON bodies, a timeout on every call, and
//! errors sorted into what the status bar must say: offline, refused, or broken.
//!
//! The link is HTTPS. Plain `http://` is accepted only to a loopback address (127.0.0.0/8,
//! `::1`, `localhost`: the back office on this machine), or when the operator said so at
//! enrolment (`Link::allow_insecure_http`, remembered with the credential), and the status
//! bar then warns. A CA certificate given at enrolment (`Link::ca_cert`, for a back office
//! with a self-signed or private certificate) is trusted on top of the system's roots.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use guichet_domain::keyslot::RecoveryKey;
use guichet_domain::message::{Message, Term};
use guichet_protocol::{
    BASE_PATH, EnrollRequest, EnrollResponse, ErrorCode, ExchangeRequest, ExchangeResponse,
    MAX_ANSWER_BYTES, TokenRotation, VouchRequest, VouchResponse,
};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// zstd's level for request bodies. A day of 1,000 requests (1.6 MB of JSON) compresses to
/// 137 kB in about 20 ms, where gzip's default gave 192 kB: over a satellite link the bytes
/// cost seconds and the compression milliseconds. Higher levels save a little more for ten
/// times the time.
const BODY_COMPRESSION_LEVEL: i32 = 9;

/// Why a sync call did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(
        "this workstation is not enrolled with a back office: enrol it with the back office's address and a one-time code from an administrator"
    )]
    NotEnrolled,
    #[error(
        "the back office cannot be reached ({0}); changes stay here and go out when the link is back"
    )]
    Offline(LinkDrop),
    #[error("the back office refused this device: {0}. Ask an administrator to enrol it again")]
    Revoked(String),
    #[error("the back office does not know this device's credential: {0}. Enrol it again")]
    Unauthorized(String),
    /// At enrolment: the one-time code is not one the back office takes.
    #[error(
        "the back office does not take this enrolment code ({0}): it may be mistyped, used \
         already or expired; ask an administrator for a new one. Nothing was changed"
    )]
    EnrolmentCode(String),
    /// At enrolment: nothing was sent, nothing waits to go.
    #[error(
        "the back office cannot be reached ({0}): check its address and the link, then enrol \
         again. Nothing was changed"
    )]
    EnrolOffline(LinkDrop),
    /// The back office, or a proxy in front of it, cannot answer just now (a 5xx): a busy
    /// database, a replica restarting; or a proxy on the way turned the call back (a 429 for
    /// too many calls, a 413 for a body larger than it takes, a 408 for a body that came too
    /// slowly: a smaller push passes either of these).
    /// Tried again by itself, no sooner than `retry_after` when the answer said so.
    #[error(
        "the back office cannot answer just now; changes stay here and go out by themselves \
         (status {status}: {detail})"
    )]
    Busy {
        status: u16,
        detail: String,
        retry_after: Option<Duration>,
    },
    #[error("the back office refused the call ({status}): {message}")]
    Refused {
        status: u16,
        code: ErrorCode,
        message: String,
    },
    /// The back office wants the device's audit event at `seq` to check its trail; `sync_once`
    /// shows it and tries again, so the clerk meets this only if that failed too.
    #[error("the back office refused the call (409): {message}")]
    AuditAnchor { seq: u64, message: String },
    #[error(
        "'{0}' is a plain http:// address on another machine: citizens' data and the device's \
         credential would cross the network in clear. Use https://, or enrol with \
         --allow-insecure-http if this network is trusted; nothing was changed"
    )]
    InsecureHttp(String),
    #[error("the CA certificate given cannot be used: {0}. Give a PEM certificate file")]
    CaCertificate(String),
    #[error(
        "the back office's HTTPS certificate is not trusted or the TLS handshake failed ({0}): \
         enrol with --ca-cert FILE naming the CA that signed it, or have its certificate fixed"
    )]
    Tls(String),
    #[error("the back office answered something this workstation cannot read: {0}")]
    Protocol(String),
    #[error("'{0}' is not a back-office address: it should start with http:// or https://")]
    Address(String),
    #[error(
        "the back office asked this device to erase its data, but {}: {} first, and the data is \
         erased at the next sync",
        still_waiting(*waiting),
        if *waiting == 1 { "it goes" } else { "they go" }
    )]
    WipeBlocked { waiting: u64 },
    #[error(transparent)]
    Store(#[from] crate::Error),
}

/// "1 change still waits to be delivered", "3 changes still wait to be delivered".
fn still_waiting(n: u64) -> String {
    if n == 1 {
        format!("{n} change still waits to be delivered")
    } else {
        format!("{n} changes still wait to be delivered")
    }
}

/// Why the link to the back office failed, in the clerk's words (the window translates them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkDrop {
    /// The link went silent for too long.
    TimedOut,
    /// No connection could be made (no network, no route, nothing listening).
    NoConnection,
    /// The connection broke mid-call.
    Lost,
}

impl LinkDrop {
    fn code(self) -> &'static str {
        match self {
            LinkDrop::TimedOut => "timed_out",
            LinkDrop::NoConnection => "no_connection",
            LinkDrop::Lost => "lost",
        }
    }
}

impl std::fmt::Display for LinkDrop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LinkDrop::TimedOut => "timed out",
            LinkDrop::NoConnection => "no connection",
            LinkDrop::Lost => "connection lost",
        })
    }
}

impl Term for LinkDrop {
    fn term(&self) -> String {
        format!("sync.link.{}", self.code())
    }
}

impl SyncError {
    /// Whether the exchange was too much for the link or the back office in the time it had:
    /// the link went silent for too long, or the back office gave up or was too busy, or a
    /// proxy on the way refused a body that large (a smaller push may go through).
    pub fn too_slow(&self) -> bool {
        match self {
            SyncError::Offline(LinkDrop::TimedOut) => true,
            // A limit of requests (a proxy's 429) is not eased by sending more, smaller ones.
            SyncError::Busy { status, .. } => *status != 429,
            _ => false,
        }
    }

    /// A proxy refused the push as too large (413 without the back office's words).
    pub fn too_large(&self) -> bool {
        matches!(self, SyncError::Busy { status: 413, .. })
    }

    /// Failures worth retrying later without anyone doing anything.
    pub fn is_transient(&self) -> bool {
        match self {
            SyncError::Offline(_) | SyncError::Busy { .. } => true,
            SyncError::Refused { code, .. } => {
                matches!(code, ErrorCode::Internal | ErrorCode::Unavailable)
            }
            _ => false,
        }
    }

    /// How long the back office asked to be left alone before the next call, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            SyncError::Busy { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The error as the status bar says it while the device works (in English, and as the
    /// window translates it): a certificate refused then is no matter of enrolment any more.
    pub fn in_session(&self) -> (String, Option<Message>) {
        match self {
            SyncError::Tls(detail) => (
                format!(
                    "the back office's certificate is refused, or the connection to it is \
                     intercepted ({detail}): check this computer's date and time, or tell IT; \
                     changes stay here"
                ),
                Some(Message::new("error.sync.tls_session").text("detail", detail)),
            ),
            other => (other.to_string(), other.message()),
        }
    }

    /// The error as the window translates it (see `guichet_domain::message`); what the back
    /// office said travels as it wrote it.
    pub fn message(&self) -> Option<Message> {
        Some(match self {
            SyncError::NotEnrolled => Message::new("error.sync.not_enrolled"),
            SyncError::Offline(drop) => Message::new("error.sync.offline").term("detail", *drop),
            SyncError::Revoked(detail) => Message::new("error.sync.revoked").text("detail", detail),
            SyncError::Unauthorized(detail) => {
                Message::new("error.sync.unauthorized").text("detail", detail)
            }
            SyncError::EnrolmentCode(detail) => {
                Message::new("error.sync.enrolment_code").text("detail", detail)
            }
            SyncError::EnrolOffline(drop) => {
                Message::new("error.sync.enrol_offline").term("detail", *drop)
            }
            SyncError::Busy { .. } => Message::new("error.sync.busy"),
            SyncError::Refused {
                status, message, ..
            } => Message::new("error.sync.refused")
                .text("status", status)
                .text("detail", message),
            SyncError::Protocol(detail) => {
                Message::new("error.sync.protocol").text("detail", detail)
            }
            SyncError::Address(input) => Message::new("error.sync.address").text("input", input),
            SyncError::AuditAnchor { message, .. } => Message::new("error.sync.refused")
                .text("status", 409)
                .text("detail", message),
            SyncError::InsecureHttp(input) => {
                Message::new("error.sync.insecure_http").text("input", input)
            }
            SyncError::CaCertificate(detail) => {
                Message::new("error.sync.ca_certificate").text("detail", detail)
            }
            SyncError::Tls(detail) => Message::new("error.sync.tls").text("detail", detail),
            SyncError::WipeBlocked { waiting } => {
                Message::new("error.sync.wipe_blocked").text("count", waiting)
            }
            SyncError::Store(e) => return e.message(),
        })
    }
}

/// How this device reaches its back office beyond the URL; remembered with the credential.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// The operator allowed plain `http://` to a back office on another machine.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_insecure_http: bool,
    /// A CA certificate (PEM) trusted on top of the system's roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_cert: Option<String>,
}

impl Link {
    /// The certificates of `ca_cert`, for a client that trusts them on top of the system's
    /// roots (the sync's, the app's updater's); none when no CA certificate was given.
    pub fn ca_certificates(&self) -> Result<Vec<reqwest::Certificate>, SyncError> {
        let Some(pem) = &self.ca_cert else {
            return Ok(Vec::new());
        };
        let certs = reqwest::Certificate::from_pem_bundle(pem.as_bytes())
            .map_err(|e| SyncError::CaCertificate(e.to_string()))?;
        if certs.is_empty() {
            return Err(SyncError::CaCertificate("no certificate in it".into()));
        }
        Ok(certs)
    }
}

/// A back office at one base URL.
#[derive(Clone)]
pub struct BackOffice {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
    insecure: bool,
    /// The release this program reports at each exchange.
    app_version: String,
    /// Entries the next exchange pushes at most (`super::next_push_limit`): what was learnt
    /// of the link, shared by the clones of this client as its connections are.
    push_limit: PushLimit,
}

/// What a program learnt of its link to the back office: the entries an exchange pushes at
/// most (`super::next_push_limit`). A client keeps one of its own; a program that builds a new
/// client for the same link (the desktop app, at each login and unlock) hands it the one it
/// keeps, so that a slow uplink is not tried again with a full push each time.
#[derive(Debug, Clone)]
pub struct PushLimit(Arc<AtomicUsize>);

impl Default for PushLimit {
    fn default() -> Self {
        PushLimit(Arc::new(AtomicUsize::new(super::PUSH_BATCH)))
    }
}

/// Without the device's credential: no log line can hold it by formatting the whole.
impl std::fmt::Debug for BackOffice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackOffice")
            .field("base", &self.base)
            .field("insecure", &self.insecure)
            .field("app_version", &self.app_version)
            .finish_non_exhaustive()
    }
}

/// Whether `base` is plain `http://` to another machine than this one.
pub fn plain_to_another_machine(base: &str) -> bool {
    base.trim().starts_with("http://") && !is_loopback(base.trim())
}

/// Whether `base` names this machine: `localhost` or a loopback address.
fn is_loopback(base: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(base) else {
        return false;
    };
    let host = url.host_str().unwrap_or_default();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl BackOffice {
    /// Learns and keeps the push limit in `limit`, shared with the clients given it before.
    pub fn sharing_push_limit(mut self, limit: &PushLimit) -> Self {
        self.push_limit = limit.clone();
        self
    }

    /// Entries the next exchange pushes at most.
    pub(super) fn push_limit(&self) -> usize {
        self.push_limit.0.load(Ordering::Relaxed)
    }

    pub(super) fn set_push_limit(&self, limit: usize) {
        self.push_limit.0.store(limit, Ordering::Relaxed);
    }

    /// Takes the device credential the database holds now when it is not the one this client
    /// sends (another program on this device rotated it): whether it changed.
    pub fn take_token(&mut self, stored: Option<String>) -> bool {
        if stored.is_none() || stored == self.token {
            return false;
        }
        self.token = stored;
        true
    }

    /// `timeout` is how long the link may stay silent: connecting, or waiting for the next
    /// bytes of an answer. A whole call may take longer as long as bytes keep coming, because
    /// a large page over a slow satellite link takes minutes and must not be cut and retried
    /// forever; a call that never ends is still stopped at twenty times `timeout`.
    pub fn new(
        base_url: &str,
        token: Option<String>,
        timeout: Duration,
    ) -> Result<Self, SyncError> {
        Self::with_link(base_url, token, timeout, &Link::default())
    }

    /// As `new`, with what the operator said at enrolment about the link.
    pub fn with_link(
        base_url: &str,
        token: Option<String>,
        timeout: Duration,
        link: &Link,
    ) -> Result<Self, SyncError> {
        let base = base_url.trim().trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://"))
            || reqwest::Url::parse(&base).is_err()
        {
            return Err(SyncError::Address(base_url.to_owned()));
        }
        let insecure = plain_to_another_machine(&base);
        if insecure && !link.allow_insecure_http {
            return Err(SyncError::InsecureHttp(base));
        }
        let mut builder = reqwest::Client::builder()
            .read_timeout(timeout)
            .timeout(timeout.saturating_mul(20))
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            // The back office closes a connection idle for 10 s: one idle for 5 s is not
            // reused, so a request never races the server's close.
            .pool_idle_timeout(Duration::from_secs(5))
            .gzip(true)
            .zstd(true);
        let certs = link.ca_certificates()?;
        if !certs.is_empty() {
            builder = builder.tls_certs_merge(certs);
        }
        let http = builder
            .build()
            .map_err(|e| SyncError::Protocol(e.to_string()))?;
        Ok(BackOffice {
            http,
            base,
            token,
            insecure,
            app_version: crate::VERSION.to_owned(),
            push_limit: PushLimit::default(),
        })
    }

    /// Reports `version` at each exchange rather than this crate's: the desktop app reports the
    /// release its package was built as, which is what the back office offers updates against.
    pub fn with_app_version(mut self, version: impl Into<String>) -> Self {
        self.app_version = version.into();
        self
    }

    pub fn app_version(&self) -> &str {
        &self.app_version
    }

    /// The link is plain HTTP to another machine (allowed at enrolment): the status bar warns.
    pub fn is_insecure(&self) -> bool {
        self.insecure
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Exchanges a one-time enrolment code for this device's credential; the back office
    /// keeps the device's recovery key.
    pub async fn enroll(
        &self,
        code: &str,
        label: Option<&str>,
        recovery: &RecoveryKey,
    ) -> Result<EnrollResponse, SyncError> {
        self.post(
            "enroll",
            &EnrollRequest {
                code: code.trim().to_owned(),
                label: label.map(str::to_owned),
                recovery_key: Some(recovery.written().to_string()),
            },
        )
        .await
        // Said as what they mean before the device has a credential or anything to send.
        // A code used already (409) or too many wrong ones from here (429) is about the code
        // too: said beside it, with the back office's words on what to do.
        .map_err(|e| match e {
            SyncError::Unauthorized(detail) => SyncError::EnrolmentCode(detail),
            SyncError::Refused {
                code: ErrorCode::Conflict | ErrorCode::TooManyAttempts,
                message,
                ..
            } => SyncError::EnrolmentCode(message),
            SyncError::Offline(detail) => SyncError::EnrolOffline(detail),
            other => other,
        })
    }

    /// The longest a clerk at the counter waits for the back office to vouch for their first
    /// login, whatever the link does: a link that trickles the answer, each piece just before
    /// it would count as silent, would otherwise hold them for twenty times the silence
    /// timeout. The back office itself answers within about 10 s (it waits that long for a
    /// password check to come free, then says it is busy), and a satellite link adds about
    /// 3 s of round trips: 20 s lets every answer it gives arrive, and is as long as a citizen
    /// at the counter should watch the clerk wait before being told to log in later.
    pub const VOUCH_DEADLINE: Duration = Duration::from_secs(20);

    /// Asks the back office to vouch for a clerk logging in on this device, for at most
    /// `VOUCH_DEADLINE` in all: past it, the link counts as timed out.
    pub async fn vouch(&self, request: &VouchRequest) -> Result<VouchResponse, SyncError> {
        tokio::time::timeout(Self::VOUCH_DEADLINE, self.post("vouch", request))
            .await
            .unwrap_or(Err(SyncError::Offline(LinkDrop::TimedOut)))
    }

    /// One push-then-pull exchange.
    pub async fn exchange(&self, request: &ExchangeRequest) -> Result<ExchangeResponse, SyncError> {
        self.post("exchange", request).await
    }

    /// Asks for a new device credential and uses it from now on. The caller keeps it (in the
    /// encrypted database) before anything else: the old one stops working once the new one is
    /// used. If the answer is lost, the old one still works and the call can be made again.
    pub async fn rotate_token(&mut self) -> Result<String, SyncError> {
        let rotation: TokenRotation = self.post("token", &serde_json::json!({})).await?;
        self.token = Some(rotation.token.clone());
        Ok(rotation.token)
    }

    /// Tells the back office that this device, revoked with a wipe, erased its data.
    pub async fn confirm_wiped(&self) -> Result<(), SyncError> {
        let _: serde::de::IgnoredAny = self.post("wiped", &serde_json::json!({})).await?;
        Ok(())
    }

    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, SyncError> {
        let json = serde_json::to_vec(body).map_err(|e| SyncError::Protocol(e.to_string()))?;
        let compressed = zstd::bulk::compress(&json, BODY_COMPRESSION_LEVEL)
            .map_err(|e| SyncError::Protocol(e.to_string()))?;
        let mut call = self
            .http
            .post(format!("{}{BASE_PATH}/{path}", self.base))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::CONTENT_ENCODING, "zstd")
            .body(compressed);
        if let Some(token) = &self.token {
            call = call.bearer_auth(token);
        }
        let mut response = call.send().await.map_err(offline)?;
        let status = response.status();
        let retry_after = retry_after(response.headers());
        // Read in pieces, up to the largest answer a back office sends: a larger one (a
        // faulty or hostile server) is refused before it fills the memory.
        let mut bytes = Vec::new();
        while let Some(piece) = response.chunk().await.map_err(offline)? {
            if bytes.len() + piece.len() > MAX_ANSWER_BYTES {
                return Err(SyncError::Protocol(format!(
                    "the back office's answer is larger than {} MiB: refused",
                    MAX_ANSWER_BYTES >> 20
                )));
            }
            bytes.extend_from_slice(&piece);
        }
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|e| SyncError::Protocol(e.to_string()));
        }
        Err(refusal(status, retry_after, &bytes))
    }
}

/// An error body as this device reads it: the code as written, so that a code this release
/// does not know (a later back office's) still leaves the back office's words to show.
#[derive(Deserialize)]
struct ErrorAnswer {
    error: ErrorWords,
}

#[derive(Deserialize)]
struct ErrorWords {
    code: String,
    message: String,
    #[serde(default)]
    audit_anchor: Option<u64>,
}

/// What an error answer means to this device: the back office's code decides. An answer
/// without a code this release knows (a proxy's page, a code added by a later release) is read
/// by its status (`by_status`).
fn refusal(status: StatusCode, retry_after: Option<Duration>, bytes: &[u8]) -> SyncError {
    let Ok(ErrorAnswer { error }) = serde_json::from_slice(bytes) else {
        return by_status(status, retry_after, None);
    };
    let message = shown(&error.message);
    let Ok(code) = serde_json::from_value::<ErrorCode>(serde_json::Value::String(error.code))
    else {
        return by_status(status, retry_after, Some(message));
    };
    match code {
        ErrorCode::AuditAnchor => match error.audit_anchor {
            Some(seq) => SyncError::AuditAnchor { seq, message },
            None => SyncError::Protocol(format!(
                "an audit_anchor answer without its place: {message}"
            )),
        },
        ErrorCode::Revoked => SyncError::Revoked(message),
        ErrorCode::Unauthorized => SyncError::Unauthorized(message),
        ErrorCode::Internal | ErrorCode::Unavailable if status.is_server_error() => {
            SyncError::Busy {
                status: status.as_u16(),
                detail: message,
                retry_after,
            }
        }
        code => SyncError::Refused {
            status: status.as_u16(),
            code,
            message,
        },
    }
}

/// An error answer read by its status alone, with the back office's words when it wrote some.
/// A 5xx is a back office that cannot answer just now (a proxy's 502 while replicas restart,
/// a later release's code for a pause); so is a 429 (a proxy limiting the rate); a 413 is
/// a proxy whose body limit is below the back office's, which a smaller push passes; and a
/// 408 is a proxy that gave up waiting for the push's body (a slow uplink; HAProxy answers
/// so when it buffers bodies, nginx closes the connection), which a smaller push passes too:
/// all are busy, tried again by themselves. A 401 refuses the credential; another refusal in words
/// is named by its status, any other 4xx as a 400 (as HTTP reads a status it does not know by
/// its class); one without words (a proxy's page of a wrong address) is no answer this device
/// can read.
fn by_status(
    status: StatusCode,
    retry_after: Option<Duration>,
    words: Option<String>,
) -> SyncError {
    if status.is_server_error()
        || status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::PAYLOAD_TOO_LARGE
        || status == StatusCode::REQUEST_TIMEOUT
    {
        return SyncError::Busy {
            status: status.as_u16(),
            // A proxy's page is no message to show.
            detail: words
                .unwrap_or_else(|| status.canonical_reason().unwrap_or_default().to_owned()),
            retry_after,
        };
    }
    let Some(message) = words else {
        return SyncError::Protocol(format!("status {status} without an error body"));
    };
    let code = match status {
        StatusCode::UNAUTHORIZED => return SyncError::Unauthorized(message),
        StatusCode::FORBIDDEN => ErrorCode::Forbidden,
        StatusCode::NOT_FOUND => ErrorCode::NotFound,
        StatusCode::CONFLICT => ErrorCode::Conflict,
        _ => ErrorCode::Malformed,
    };
    SyncError::Refused {
        status: status.as_u16(),
        code,
        message,
    }
}

/// The most of a back office's error message that is kept and shown (the status bar, the
/// sync state, the log): a faulty or hostile server's message may be megabytes long.
const MAX_SHOWN_MESSAGE_CHARS: usize = 300;

/// A back office's error message as it is kept and shown: control characters as spaces, cut
/// at `MAX_SHOWN_MESSAGE_CHARS` with an ellipsis.
fn shown(message: &str) -> String {
    let mut chars = message
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c });
    let mut out: String = chars.by_ref().take(MAX_SHOWN_MESSAGE_CHARS).collect();
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

/// The longest wait a back office's `Retry-After` is taken for: a faulty or hostile one does
/// not stall the device.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// The wait a `Retry-After` header asks for, in seconds (its date form is not used here).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let seconds: u64 = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER))
}

/// Connection failures, timeouts and cut bodies all mean the same to the clerk: offline. A
/// failed TLS handshake (rustls reports it as invalid data under the connect error) is not:
/// retrying will not help, someone must fix the certificate or give its CA.
fn offline(e: reqwest::Error) -> SyncError {
    if e.is_connect()
        && let Some(detail) = tls_failure(&e)
    {
        return SyncError::Tls(detail);
    }
    SyncError::Offline(if e.is_timeout() {
        LinkDrop::TimedOut
    } else if e.is_connect() {
        LinkDrop::NoConnection
    } else {
        LinkDrop::Lost
    })
}

/// The TLS failure under a connect error, in words: rustls's error travels as an
/// `InvalidData` I/O error, possibly wrapped in other I/O errors (whose `source` skips the
/// wrapped error, so they are opened with `get_ref`).
fn tls_failure(e: &reqwest::Error) -> Option<String> {
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let mut io = cause.downcast_ref::<std::io::Error>();
        while let Some(error) = io {
            if error.kind() == std::io::ErrorKind::InvalidData {
                return Some(
                    error
                        .get_ref()
                        .map_or_else(|| error.to_string(), ToString::to_string),
                );
            }
            io = error
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<std::io::Error>());
        }
        source = cause.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{MAX_SHOWN_MESSAGE_CHARS, shown};

    #[test]
    fn a_long_error_message_is_cut_and_its_control_characters_blanked() {
        let long = format!("bad\nthing{}", "x".repeat(10_000));
        let kept = shown(&long);
        assert_eq!(kept.chars().count(), MAX_SHOWN_MESSAGE_CHARS + 1);
        assert!(
            kept.starts_with("bad thing") && kept.ends_with('…'),
            "{kept}"
        );
        assert_eq!(shown("the device is revoked"), "the device is revoked");
    }
}
