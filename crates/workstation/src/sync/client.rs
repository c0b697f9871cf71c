//! The HTTP client of the sync API: gzip-compressed JSON bodies, a timeout on every call, and
//! errors sorted into what the status bar must say: offline, refused, or broken.

use std::io::Write as _;
use std::time::Duration;

use flate2::Compression;
use flate2::write::GzEncoder;
use guichet_domain::keyslot::RecoveryKey;
use guichet_domain::message::Message;
use guichet_protocol::{
    ApiError, BASE_PATH, EnrollRequest, EnrollResponse, ErrorCode, ExchangeRequest,
    ExchangeResponse, VouchRequest, VouchResponse,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Why a sync call did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(
        "this workstation is not enrolled with a back office: run `guichet enroll --server URL --code CODE`"
    )]
    NotEnrolled,
    #[error(
        "the back office cannot be reached ({0}); changes stay here and go out when the link is back"
    )]
    Offline(String),
    #[error("the back office refused this device: {0}. Ask an administrator to enrol it again")]
    Revoked(String),
    #[error("the back office does not know this device's credential: {0}. Enrol it again")]
    Unauthorized(String),
    #[error("the back office refused the call ({status}): {message}")]
    Refused {
        status: u16,
        code: ErrorCode,
        message: String,
    },
    #[error("the back office answered something this workstation cannot read: {0}")]
    Protocol(String),
    #[error(
        "the back office answered something this workstation cannot read: '{0}' is not a back-office address: it should start with http:// or https://"
    )]
    Address(String),
    #[error(transparent)]
    Store(#[from] crate::Error),
}

impl SyncError {
    /// Failures worth retrying later without anyone doing anything.
    pub fn is_transient(&self) -> bool {
        match self {
            SyncError::Offline(_) => true,
            SyncError::Refused { code, .. } => *code == ErrorCode::Internal,
            _ => false,
        }
    }

    /// The error as the window translates it (see `guichet_domain::message`); what the back
    /// office said travels as it wrote it.
    pub fn message(&self) -> Option<Message> {
        Some(match self {
            SyncError::NotEnrolled => Message::new("error.sync.not_enrolled"),
            SyncError::Offline(detail) => Message::new("error.sync.offline").text("detail", detail),
            SyncError::Revoked(detail) => Message::new("error.sync.revoked").text("detail", detail),
            SyncError::Unauthorized(detail) => {
                Message::new("error.sync.unauthorized").text("detail", detail)
            }
            SyncError::Refused {
                status, message, ..
            } => Message::new("error.sync.refused")
                .text("status", status)
                .text("detail", message),
            SyncError::Protocol(detail) => {
                Message::new("error.sync.protocol").text("detail", detail)
            }
            SyncError::Address(input) => Message::new("error.sync.address").text("input", input),
            SyncError::Store(e) => return e.message(),
        })
    }
}

/// A back office at one base URL.
#[derive(Debug, Clone)]
pub struct BackOffice {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl BackOffice {
    /// `timeout` is how long the link may stay silent: connecting, or waiting for the next
    /// bytes of an answer. A whole call may take longer as long as bytes keep coming, because
    /// a large page over a slow satellite link takes minutes and must not be cut and retried
    /// forever; a call that never ends is still stopped at twenty times `timeout`.
    pub fn new(
        base_url: &str,
        token: Option<String>,
        timeout: Duration,
    ) -> Result<Self, SyncError> {
        let base = base_url.trim().trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(SyncError::Address(base_url.to_owned()));
        }
        let http = reqwest::Client::builder()
            .read_timeout(timeout)
            .timeout(timeout.saturating_mul(20))
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .gzip(true)
            .build()
            .map_err(|e| SyncError::Protocol(e.to_string()))?;
        Ok(BackOffice { http, base, token })
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
    }

    /// Asks the back office to vouch for a clerk logging in on this device.
    pub async fn vouch(&self, request: &VouchRequest) -> Result<VouchResponse, SyncError> {
        self.post("vouch", request).await
    }

    /// One push-then-pull exchange.
    pub async fn exchange(&self, request: &ExchangeRequest) -> Result<ExchangeResponse, SyncError> {
        self.post("exchange", request).await
    }

    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, SyncError> {
        let json = serde_json::to_vec(body).map_err(|e| SyncError::Protocol(e.to_string()))?;
        let mut gz = GzEncoder::new(Vec::with_capacity(json.len() / 4), Compression::default());
        gz.write_all(&json)
            .map_err(|e| SyncError::Protocol(e.to_string()))?;
        let compressed = gz
            .finish()
            .map_err(|e| SyncError::Protocol(e.to_string()))?;
        let mut call = self
            .http
            .post(format!("{}{BASE_PATH}/{path}", self.base))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::CONTENT_ENCODING, "gzip")
            .body(compressed);
        if let Some(token) = &self.token {
            call = call.bearer_auth(token);
        }
        let response = call.send().await.map_err(offline)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(offline)?;
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|e| SyncError::Protocol(e.to_string()));
        }
        let (code, message) = match serde_json::from_slice::<ApiError>(&bytes) {
            Ok(e) => (e.error.code, e.error.message),
            Err(_) if status.is_server_error() => (
                ErrorCode::Internal,
                String::from_utf8_lossy(&bytes).chars().take(200).collect(),
            ),
            Err(_) => {
                return Err(SyncError::Protocol(format!(
                    "status {status} without an error body"
                )));
            }
        };
        Err(match code {
            ErrorCode::Revoked => SyncError::Revoked(message),
            ErrorCode::Unauthorized => SyncError::Unauthorized(message),
            _ => SyncError::Refused {
                status: status.as_u16(),
                code,
                message,
            },
        })
    }
}

/// Connection failures, timeouts and cut bodies all mean the same to the clerk: offline.
fn offline(e: reqwest::Error) -> SyncError {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "no connection"
    } else {
        "connection lost"
    };
    SyncError::Offline(what.to_owned())
}
