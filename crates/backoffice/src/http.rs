//! The HTTP API (axum).
//!
//! - `GET /health`
//! - `POST /sync/v1/enroll`, `POST /sync/v1/exchange` (device `Authorization: Bearer TOKEN`)
//! - `POST /sync/v1/token` (device bearer): a new device credential
//! - `POST /sync/v1/wiped` (device bearer): a device revoked with a wipe says it erased its data
//! - `GET /sync/v1/update?current_version=X.Y.Z` (device bearer): the newest release for the
//!   device's centre above its version, as Tauri's updater reads a dynamic update server's
//!   answer, or 204 when there is none
//! - `GET /sync/v1/releases/{version}/package` (device bearer): that release's package, if it
//!   is offered to the device's centre
//! - `/admin/v1/...`: centres, catalogues, enrolment codes, devices, clerk accounts, agency
//!   credentials (`agency-credentials`: list, issue with an expiry, revoke), the fleet's
//!   health (`health`: devices' audit standing, refused credentials, failed logins), and
//!   releases (`release-key`; `releases`: list; `releases/{version}`: publish, the package
//!   as the body, up to 300 MiB within 10 minutes)
//! - `/agency/v1/...`: the agencies' processing of dispatched requests
//!
//! The admin API takes the admin token given at start (`--admin-token-file` or
//! `GUICHET_ADMIN_TOKEN`); without one it answers 403. The agency API takes either the admin
//! token (any agency) or an agency's own credential (`guichet-backoffice agency token AGENCY`),
//! which reaches only that agency's requests: another agency's list is 403, another agency's
//! request is 404 as a receipt that does not exist (the answer tells nothing of it); a
//! revoked or expired one is 401. Every refused credential is logged (never its value) and
//! counted in the fleet's health. Bodies may come gzip- or zstd-compressed and answers are
//! compressed when the client accepts it. Every error is a status and an `ApiError` with a stable code; server
//! faults are logged and hidden from the client.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::uri::Authority;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Extension, Json, Router};
use guichet_domain::account::Role;
use guichet_domain::catalogue::{Catalogue, CenterKind};
use guichet_domain::receipt::ReceiptNumber;
use guichet_protocol::{
    ApiError, EnrollRequest, ErrorBody, ErrorCode, ExchangeRequest, MAX_BODY_BYTES, VouchRequest,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{NotForContentType, Predicate};
use tower_http::decompression::RequestDecompressionLayer;
use tower_http::trace::TraceLayer;

use crate::error::{Error, RETRY_AFTER};
use crate::limit::{EnrolmentGuard, VouchGuard, VouchWait, Wait};
use crate::model::{DEFAULT_AGENCY_CREDENTIAL_DAYS, Device, NewClerk, Refusal};
use crate::plan::agency_action;
use crate::release::{MAX_PACKAGE_BYTES, PACKAGE_MEDIA_TYPE, Version};
use crate::service::{BackOffice, DEFAULT_CODE_VALIDITY_HOURS, code_validity};
use crate::storage::Storage;

/// How long one request may take before the server gives up on it (503).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a connection may take to send a request's headers, and may stay idle between two
/// requests, before it is closed: a client that sends nothing, or a byte at a time, does not
/// keep its socket. Headers are small; a satellite link sends them in well under a second.
pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Connections served at once. Further ones wait in the system's queue, not in a descriptor of
/// the process, whose limit is often 1,024: the back office keeps room for its database and
/// files.
pub const DEFAULT_MAX_CONNECTIONS: usize = 768;

/// How long publishing a release over the admin API may take, its package's upload included:
/// 300 MiB in 10 minutes is 4 Mbit/s.
pub const RELEASE_UPLOAD_TIMEOUT: Duration = Duration::from_secs(600);

/// How much of a package a download reads from the database at a time, and holds in memory.
pub const DEFAULT_PACKAGE_CHUNK: usize = 1024 * 1024;

/// How long a connection may leave the server's answer unread before it is closed: a device
/// that asks for a package and stops reading does not keep its connection, nor the piece of
/// the package in memory. A satellite link that drops for a minute loses its download, which
/// the device's updater asks for again later.
pub const DEFAULT_WRITE_STALL: Duration = Duration::from_secs(60);

/// How long one download of a package may take: 300 MiB in 30 minutes is 1.4 Mbit/s, and the
/// device's updater gives up at the same time.
pub const DEFAULT_PACKAGE_DEADLINE: Duration = Duration::from_secs(30 * 60);

/// How many package downloads run at once, over all devices: each holds a connection (for as
/// long as `DEFAULT_PACKAGE_DEADLINE`) and a piece of the package in memory, and the exchanges
/// of every centre need connections too. One device downloads one package at a time.
pub const DEFAULT_MAX_DOWNLOADS: usize = 64;

/// The downloads of packages under way: how many more may start, and by which devices.
#[derive(Debug)]
pub struct Downloads {
    free: Arc<tokio::sync::Semaphore>,
    devices: Arc<std::sync::Mutex<std::collections::HashSet<String>>>,
}

impl Downloads {
    pub fn new(max: usize) -> Self {
        Self {
            free: Arc::new(tokio::sync::Semaphore::new(max)),
            devices: Arc::default(),
        }
    }

    /// A place for `device`'s download, held until the download ends however it ends; none
    /// while that device downloads already or all places are taken.
    fn start(&self, device: &str) -> Result<DownloadSlot, ApiFailure> {
        let mut devices = self
            .devices
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if devices.contains(device) {
            return Err(ApiFailure::new(
                StatusCode::CONFLICT,
                ErrorCode::Conflict,
                "this device is downloading the package already: one download at a time; the \
                 updater asks again at its next look",
            ));
        }
        let permit = self.free.clone().try_acquire_owned().map_err(|_| {
            ApiFailure::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Unavailable,
                "too many devices are downloading an update at once: the updater asks again at \
                 its next look",
            )
        })?;
        devices.insert(device.to_owned());
        Ok(DownloadSlot {
            _permit: permit,
            device: device.to_owned(),
            devices: self.devices.clone(),
        })
    }
}

/// One download's place (see `Downloads`), given back when the download's body is dropped.
struct DownloadSlot {
    _permit: tokio::sync::OwnedSemaphorePermit,
    device: String,
    devices: Arc<std::sync::Mutex<std::collections::HashSet<String>>>,
}

impl Drop for DownloadSlot {
    fn drop(&mut self) {
        self.devices
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&self.device);
    }
}

/// What the handlers share.
#[derive(Debug, Clone)]
pub struct AppState {
    pub office: BackOffice,
    /// The token of the admin and agency APIs; `None` closes them.
    pub admin_token: Option<Arc<str>>,
    pub request_timeout: Duration,
    /// See `DEFAULT_HEADER_TIMEOUT`.
    pub header_timeout: Duration,
    /// See `DEFAULT_MAX_CONNECTIONS`.
    pub max_connections: usize,
    /// Wrong enrolment codes lately, by address (see `limit`).
    pub enrolments: Arc<EnrolmentGuard>,
    /// Wrong passwords of first logins lately, by address and by login (see `limit`).
    pub vouches: Arc<VouchGuard>,
    /// Load balancers or reverse proxies in front of this server: a request from one of them
    /// is counted by the address it names last in `X-Forwarded-For` (see `client_address`).
    pub trusted_proxies: Arc<[std::net::IpAddr]>,
    /// Whether this server serves HTTPS itself (`serve_tls`): the scheme of the addresses it
    /// hands out, unless a proxy in front says otherwise (see `public_base`).
    pub https: bool,
    /// See `DEFAULT_PACKAGE_CHUNK`.
    pub package_chunk: usize,
    /// See `DEFAULT_WRITE_STALL`.
    pub write_stall: Duration,
    /// See `DEFAULT_PACKAGE_DEADLINE`.
    pub package_deadline: Duration,
    /// One release upload at a time: each holds its package in memory.
    pub release_uploads: Arc<tokio::sync::Semaphore>,
    /// See `DEFAULT_MAX_DOWNLOADS`.
    pub downloads: Arc<Downloads>,
}

/// The address a request came from, as the accept loop saw it.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub std::net::IpAddr);

impl AppState {
    pub fn new(office: BackOffice, admin_token: Option<String>) -> Self {
        Self {
            office,
            admin_token: admin_token.filter(|t| !t.is_empty()).map(Arc::from),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            header_timeout: DEFAULT_HEADER_TIMEOUT,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            enrolments: Arc::default(),
            vouches: Arc::default(),
            trusted_proxies: Arc::from([]),
            https: false,
            package_chunk: DEFAULT_PACKAGE_CHUNK,
            write_stall: DEFAULT_WRITE_STALL,
            package_deadline: DEFAULT_PACKAGE_DEADLINE,
            release_uploads: Arc::new(tokio::sync::Semaphore::new(1)),
            downloads: Arc::new(Downloads::new(DEFAULT_MAX_DOWNLOADS)),
        }
    }
}

/// The address a request comes from: the connection's peer, or, when that peer is a trusted
/// proxy, the last address of `X-Forwarded-For`, which that proxy appended (the entries before
/// it are whatever the client sent, and prove nothing). A trusted proxy that names no valid
/// address leaves its own.
pub fn client_address(
    peer: std::net::IpAddr,
    trusted: &[std::net::IpAddr],
    headers: &axum::http::HeaderMap,
) -> std::net::IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .next_back()
        .and_then(|value| value.to_str().ok())
        .and_then(|list| list.rsplit(',').next())
        .and_then(|last| last.trim().parse().ok())
        .unwrap_or(peer)
}

/// The scheme and authority a client reached this server by, for the absolute addresses that
/// Tauri's updater needs: the scheme a proxy in front says (`X-Forwarded-Proto`), else this
/// server's own; the authority from `Host`. `None` without a valid `Host`. A client that sends
/// these headers itself misleads only itself: the answer goes back to it alone.
pub fn public_base(headers: &HeaderMap, https: bool) -> Option<String> {
    let forwarded = headers
        .get("x-forwarded-proto")
        .and_then(|value| value.to_str().ok())
        .and_then(|list| list.split(',').next())
        .map(|scheme| scheme.trim().to_ascii_lowercase());
    let scheme = match forwarded.as_deref() {
        Some(scheme @ ("http" | "https")) => scheme,
        _ if https => "https",
        _ => "http",
    };
    let authority: Authority = headers.get(header::HOST)?.to_str().ok()?.parse().ok()?;
    if authority.as_str().contains('@') {
        return None;
    }
    Some(format!("{scheme}://{authority}"))
}

/// An error as the API answers it.
#[derive(Debug)]
pub struct ApiFailure {
    status: StatusCode,
    code: ErrorCode,
    message: String,
    audit_anchor: Option<u64>,
    /// Sent as `Retry-After`, in seconds.
    retry_after: Option<Duration>,
}

impl ApiFailure {
    fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            audit_anchor: None,
            retry_after: None,
        }
    }
}

impl From<Error> for ApiFailure {
    fn from(error: Error) -> Self {
        let (status, code) = error.status_and_code();
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry_after = error.retry_after();
        if let Error::DatabaseBusy(overrun) = &error {
            // Load, not a fault: a warning for the operator, with nothing of the request in it.
            tracing::warn!(
                %overrun,
                "a request was answered 503: the database is busy or slow; if this lasts, {}",
                overrun.remedy()
            );
            return Self {
                retry_after,
                ..Self::new(status, code, error.to_string())
            };
        }
        if status.is_server_error() {
            match &error {
                // Load, not a fault: a warning, with nothing of the login (no user name, no
                // password) in it.
                Error::Busy => tracing::warn!(
                    "a first login on a device was answered 503: no password check came free \
                     for it in time; if this lasts, many clerks log in at once or someone is \
                     guessing passwords (`guichet-backoffice health` counts vouch_refused)"
                ),
                _ => tracing::error!(%error, "request failed"),
            }
            return Self {
                retry_after,
                ..Self::new(
                    status,
                    code,
                    "the back office failed to handle this; try again later",
                )
            };
        }
        let audit_anchor = match &error {
            Error::AuditAnchor { seq } => Some(*seq),
            _ => None,
        };
        Self {
            audit_anchor,
            ..Self::new(status, code, error.to_string())
        }
    }
}

impl IntoResponse for ApiFailure {
    fn into_response(self) -> Response {
        let body = ApiError {
            error: ErrorBody {
                code: self.code,
                message: self.message,
                audit_anchor: self.audit_anchor,
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(wait) = self.retry_after {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                header::HeaderValue::from(wait.as_secs()),
            );
        }
        response
    }
}

type ApiResult<T> = Result<T, ApiFailure>;

/// A JSON body whose failures are `ApiError`s: 413 `too_large` past the limit, 400
/// `malformed` with serde's words otherwise.
#[derive(Debug)]
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiFailure;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiFailure::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    ErrorCode::TooLarge,
                    format!("the body is larger than {MAX_BODY_BYTES} bytes (after decompression)"),
                )
            } else {
                ApiFailure::new(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::Malformed,
                    format!("the body could not be read: {}", rejection.body_text()),
                )
            }
        })?;
        parse_body(&bytes).map(Body)
    }
}

/// A query string read into `T`: what cannot be read (a parameter `T` does not take, a value
/// of the wrong kind) is refused with the API's own error, which names what was wrong.
#[derive(Debug)]
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = ApiFailure;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(params)| Params(params))
            .map_err(|e| malformed(format!("the query could not be read: {}", e.body_text())))
    }
}

/// The path's parameters read into `T`: a part that cannot be read (not UTF-8 once
/// percent-decoded) is refused with the API's own error, which says which.
#[derive(Debug)]
pub struct Segments<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Segments<T> {
    type Rejection = ApiFailure;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(segments)| Segments(segments))
            .map_err(|e| {
                malformed(format!(
                    "the path could not be read: {}; write each part of it as percent-encoded \
                     UTF-8",
                    e.body_text()
                ))
            })
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// An authenticated, not revoked device.
#[derive(Debug)]
pub struct DeviceAuth(pub Device);

impl FromRequestParts<AppState> for DeviceAuth {
    type Rejection = ApiFailure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let token = bearer(parts).ok_or_else(|| {
            ApiFailure::new(
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthorized,
                "no device credential: send Authorization: Bearer TOKEN",
            )
        })?;
        Ok(DeviceAuth(state.office.authenticate(token).await?))
    }
}

/// The holder of the admin token.
#[derive(Debug)]
pub struct Admin;

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiFailure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let Some(expected) = &state.admin_token else {
            return Err(ApiFailure::new(
                StatusCode::FORBIDDEN,
                ErrorCode::Forbidden,
                "the admin API is closed: start the server with --admin-token-file FILE or GUICHET_ADMIN_TOKEN",
            ));
        };
        let given = bearer(parts).ok_or_else(|| {
            ApiFailure::new(
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthorized,
                "no admin credential: send Authorization: Bearer TOKEN",
            )
        })?;
        // Comparing hashes keeps the comparison's time independent of where the tokens differ.
        if Sha256::digest(given.as_bytes()) != Sha256::digest(expected.as_bytes()) {
            state
                .office
                .refused(Refusal::AdminCredentialWrong, None)
                .await;
            return Err(ApiFailure::new(
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthorized,
                "wrong admin credential",
            ));
        }
        Ok(Admin)
    }
}

/// Who calls the agency API: the administrator (for any agency), or one agency with a
/// credential of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgencyCaller {
    Admin,
    Agency(String),
}

impl AgencyCaller {
    fn check(&self, agency: &str, what: impl FnOnce() -> String) -> ApiResult<()> {
        match self {
            AgencyCaller::Agency(own) if own != agency => Err(ApiFailure::new(
                StatusCode::FORBIDDEN,
                ErrorCode::Forbidden,
                format!("this credential is for agency {own}: {}", what()),
            )),
            _ => Ok(()),
        }
    }

    /// The name the centre's timeline shows: an agency's credential always names its agency.
    fn actor(&self, given: Option<&str>) -> String {
        let given = given.map(str::trim).filter(|a| !a.is_empty());
        match (self, given) {
            (AgencyCaller::Admin, given) => given.unwrap_or("agency").to_owned(),
            (AgencyCaller::Agency(own), None) => own.clone(),
            (AgencyCaller::Agency(own), Some(name)) if name.starts_with(&format!("{own}:")) => {
                name.to_owned()
            }
            (AgencyCaller::Agency(own), Some(name)) => format!("{own}:{name}"),
        }
    }
}

impl FromRequestParts<AppState> for AgencyCaller {
    type Rejection = ApiFailure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let given = bearer(parts).ok_or_else(|| {
            ApiFailure::new(
                StatusCode::UNAUTHORIZED,
                ErrorCode::Unauthorized,
                "no agency credential: send Authorization: Bearer TOKEN",
            )
        })?;
        if let Some(expected) = &state.admin_token
            && Sha256::digest(given.as_bytes()) == Sha256::digest(expected.as_bytes())
        {
            return Ok(AgencyCaller::Admin);
        }
        Ok(AgencyCaller::Agency(state.office.agency_of(given).await?))
    }
}

/// The whole API with its layers.
pub fn app(state: AppState) -> Router {
    let timeout = state.request_timeout;
    // A package takes longer to arrive than any other body: its route has bounds of its own.
    let uploads = Router::new()
        .route("/admin/v1/releases/{version}", post(publish_release))
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            TimeLimit {
                limit: RELEASE_UPLOAD_TIMEOUT,
                after: "it may have been published all the same: `guichet-backoffice release \
                        list` (GET /admin/v1/releases) shows whether it was",
            },
            give_up_after,
        ));
    Router::new()
        .route("/health", get(health))
        .route("/sync/v1/enroll", post(enroll))
        .route("/sync/v1/exchange", post(exchange))
        .route("/sync/v1/vouch", post(vouch))
        .route("/sync/v1/token", post(rotate_token))
        .route("/sync/v1/wiped", post(confirm_wiped))
        .route("/sync/v1/update", get(update))
        .route("/sync/v1/releases/{version}/package", get(release_package))
        .route("/admin/v1/health", get(health_report))
        .route(
            "/admin/v1/agency-credentials",
            get(list_agency_credentials).post(issue_agency_credential),
        )
        .route(
            "/admin/v1/agency-credentials/{id}/revoke",
            post(revoke_agency_credential),
        )
        .route("/admin/v1/centers", get(list_centers).post(add_center))
        .route("/admin/v1/centers/{center}", patch(update_center))
        .route("/admin/v1/catalogues", post(publish_catalogue))
        .route("/admin/v1/release-key", post(set_release_key))
        .route("/admin/v1/releases", get(list_releases))
        .route(
            "/admin/v1/centers/{center}/enrolment-codes",
            post(issue_enrolment_code),
        )
        .route("/admin/v1/devices", get(list_devices))
        .route("/admin/v1/devices/{device}/revoke", post(revoke_device))
        .route("/admin/v1/clerks", get(list_clerks).post(add_clerk))
        .route("/admin/v1/clerks/{username}/{step}", post(change_clerk))
        .route(
            "/agency/v1/agencies/{agency}/requests",
            get(agency_requests),
        )
        .route("/agency/v1/requests/{receipt}/{step}", post(agency_step))
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            TimeLimit {
                limit: timeout,
                after: "try again (an exchange sent again is applied once)",
            },
            give_up_after,
        ))
        .merge(uploads)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(RequestDecompressionLayer::new())
        .layer(axum::middleware::from_fn(unreadable_encoding))
        // A package is compressed already, and its length is what the updater counts on.
        .layer(
            CompressionLayer::new().compress_when(
                tower_http::compression::DefaultPredicate::new()
                    .and(NotForContentType::const_new(PACKAGE_MEDIA_TYPE)),
            ),
        )
        .layer(TraceLayer::new_for_http())
        .layer(axum::middleware::from_fn(note_arrival))
        .with_state(state)
}

/// How long the requests of a route may take, and what the refusal adds when one took longer.
#[derive(Debug, Clone, Copy)]
struct TimeLimit {
    limit: Duration,
    after: &'static str,
}

/// Runs the request, or gives up on it after its route's limit with the API's own error (503),
/// which says what became of it.
async fn give_up_after(
    State(time): State<TimeLimit>,
    request: Request,
    next: axum::middleware::Next,
) -> Response {
    match tokio::time::timeout(time.limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiFailure {
            retry_after: Some(RETRY_AFTER),
            ..ApiFailure::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Unavailable,
                format!(
                    "the back office gave up on the request after {} s; {}",
                    time.limit.as_secs(),
                    time.after
                ),
            )
        }
        .into_response(),
    }
}

/// Serves on an already-bound listener until `shutdown` completes, then lets the requests in
/// flight finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_connections(listener, state, shutdown).await
}

/// Serves HTTPS on an already-bound listener until `shutdown` completes, then lets the
/// requests in flight finish. `tls` may be reloaded while it serves.
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    tls: crate::tls::Tls,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_connections(
        crate::tls::TlsListener::new(listener, tls)?,
        AppState {
            https: true,
            ..state
        },
        shutdown,
    )
    .await
}

/// The accept loop: at most `state.max_connections` connections at once, each closed when it
/// takes longer than `state.header_timeout` to send a request's headers (from the moment it
/// opens) or stays idle that long between requests, or leaves an answer unread for
/// `state.write_stall`. Once `shutdown` completes, the requests in flight have
/// `state.request_timeout` to finish; a download still going then is cut (the device asks
/// again). HTTP/1.1 only, as the TLS set-up offers:
/// detecting HTTP/2 would wait for a silent client's first bytes without a limit.
async fn serve_connections<L>(
    mut listener: L,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    L: axum::serve::Listener<Addr = std::net::SocketAddr>,
{
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;

    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(state.header_timeout);
    let slots = Arc::new(tokio::sync::Semaphore::new(state.max_connections.max(1)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let trusted = state.trusted_proxies.clone();
    let (write_stall, grace) = (state.write_stall, state.request_timeout);
    let app = app(state);
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot,
            () = &mut shutdown => break,
        };
        let Ok(slot) = slot else { break };
        let (io, peer) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        // Each request knows the address it came from (the enrolment's limit counts by it).
        let ip = peer.ip();
        let trusted = trusted.clone();
        let service = TowerToHyperService::new(tower::ServiceExt::map_request(
            app.clone(),
            move |mut request: hyper::Request<hyper::body::Incoming>| {
                let client = client_address(ip, &trusted, request.headers());
                request.extensions_mut().insert(Peer(client));
                request
            },
        ));
        let io = crate::stall::WriteStall::new(io, write_stall);
        let connection = builder.serve_connection(TokioIo::new(io), service);
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A client that went away or timed out: nothing to tell anyone.
            let _closed = connection.await;
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            grace_s = grace.as_secs(),
            "stopped with requests still in flight (package downloads, most likely): they were cut"
        );
    }
    Ok(())
}

/// A path the API has, called with a method it does not take: the API's own error, beside the
/// `Allow` header that lists the methods it takes.
async fn method_not_allowed(method: axum::http::Method) -> ApiFailure {
    ApiFailure::new(
        StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::Malformed,
        format!("this path does not take {method}: send it with a method its Allow header names"),
    )
}

/// A body in a compression the back office does not read, which the decompression layer
/// answers with an empty 415: the API's own error instead, beside the `Accept-Encoding`
/// header that lists the ones it reads.
async fn unreadable_encoding(request: Request, next: axum::middleware::Next) -> Response {
    let response = next.run(request).await;
    if response.status() != StatusCode::UNSUPPORTED_MEDIA_TYPE
        || response.headers().contains_key(header::CONTENT_TYPE)
    {
        return response;
    }
    let (parts, _) = response.into_parts();
    let mut answer = ApiFailure::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorCode::Malformed,
        "the body's Content-Encoding is not one the back office reads: send it uncompressed, \
         or compressed with gzip or zstd",
    )
    .into_response();
    if let Some(accepted) = parts.headers.get(header::ACCEPT_ENCODING) {
        answer
            .headers_mut()
            .insert(header::ACCEPT_ENCODING, accepted.clone());
    }
    answer
}

async fn not_found() -> ApiFailure {
    ApiFailure::new(
        StatusCode::NOT_FOUND,
        ErrorCode::NotFound,
        "no such API path",
    )
}

async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// Enrolment with a one-time code; an address (or everyone) that sent too many wrong codes
/// lately waits (429) before trying again (see `limit`).
async fn enroll(
    State(state): State<AppState>,
    peer: Option<Extension<Peer>>,
    Body(request): Body<EnrollRequest>,
) -> ApiResult<impl IntoResponse> {
    let peer = peer.map(|Extension(Peer(ip))| ip);
    if let Err(wait) = state.enrolments.check(peer, std::time::Instant::now()) {
        let (whom, minutes) = match wait {
            Wait::Address(left) => ("from this address", left.as_secs().div_ceil(60)),
            Wait::Everyone(left) => ("from everywhere", left.as_secs().div_ceil(60)),
        };
        tracing::warn!(peer = ?peer, "enrolment refused: too many wrong codes {whom}");
        return Err(ApiFailure::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::TooManyAttempts,
            format!(
                "too many wrong enrolment codes {whom} lately: wait {minutes} minutes, then type \
                 the code again (check it with the administrator who gave it)"
            ),
        ));
    }
    match state.office.enroll(&request).await {
        Err(e @ Error::Unauthorized(_)) => {
            state.enrolments.wrong(peer, std::time::Instant::now());
            Err(e.into())
        }
        enrolled => Ok(Json(enrolled?)),
    }
}

/// A clerk's first login on a device; an address that sent too many wrong passwords lately,
/// or a user name on a device that was given too many, waits (429) before trying again (see
/// `limit`).
async fn vouch(
    State(state): State<AppState>,
    peer: Option<Extension<Peer>>,
    Body(request): Body<VouchRequest>,
) -> ApiResult<impl IntoResponse> {
    let peer = peer.map(|Extension(Peer(ip))| ip);
    let (device, username) = (&request.device_code, &request.username);
    if let Err(wait) = state
        .vouches
        .check(peer, device, username, std::time::Instant::now())
    {
        let (whom, minutes) = match wait {
            VouchWait::Address(left) => ("from this address", left.as_secs().div_ceil(60)),
            VouchWait::Login(left) => (
                "for this user name on this device",
                left.as_secs().div_ceil(60),
            ),
        };
        tracing::warn!(peer = ?peer, "first login refused: too many wrong passwords {whom}");
        return Err(ApiFailure::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::TooManyAttempts,
            format!(
                "too many wrong passwords {whom} lately: wait {minutes} minutes, then log in \
                 again (a supervisor can reset the password with `clerk reset-password`)"
            ),
        ));
    }
    match state.office.vouch(&request).await {
        Err(e @ Error::Unauthorized(_)) => {
            state
                .vouches
                .wrong(peer, device, username, std::time::Instant::now());
            Err(e.into())
        }
        vouched => Ok(Json(vouched?)),
    }
}

async fn exchange(
    State(state): State<AppState>,
    Extension(Arrived(arrived)): Extension<Arrived>,
    DeviceAuth(device): DeviceAuth,
    Body(request): Body<ExchangeRequest>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(
        state
            .office
            .exchange_arrived(&device, &request, arrived)
            .await?,
    ))
}

/// When a request's headers arrived, before its body was read.
#[derive(Debug, Clone, Copy)]
struct Arrived(chrono::DateTime<chrono::Utc>);

/// Notes when the request arrived (see `Arrived`).
async fn note_arrival(mut request: Request, next: axum::middleware::Next) -> Response {
    request.extensions_mut().insert(Arrived(chrono::Utc::now()));
    next.run(request).await
}

async fn rotate_token(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(state.office.rotate_device_token(&device).await?))
}

async fn confirm_wiped(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(state.office.confirm_wiped(&device).await?))
}

/// A 400 `malformed` with what was wrong.
fn malformed(message: impl Into<String>) -> ApiFailure {
    ApiFailure::new(StatusCode::BAD_REQUEST, ErrorCode::Malformed, message)
}

#[derive(Debug, Deserialize)]
struct UpdateQuery {
    current_version: Option<String>,
}

/// An update as Tauri's updater reads it from a dynamic update server.
#[derive(Debug, Serialize)]
struct UpdateOffer {
    version: String,
    pub_date: String,
    /// Where the package is downloaded, absolute.
    url: String,
    /// The `.sig` file's content, which the updater verifies the package against.
    signature: String,
    notes: String,
}

/// The newest release above the device's version for its centre, or 204 when there is none.
async fn update(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    headers: HeaderMap,
    Params(query): Params<UpdateQuery>,
) -> ApiResult<Response> {
    let current = query.current_version.ok_or_else(|| {
        malformed("say which version the device runs: ?current_version=MAJOR.MINOR.PATCH")
    })?;
    let current = Version::parse(&current).map_err(|e| malformed(e.to_string()))?;
    let Some(release) = state.office.offer_update(&device, current).await? else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    let base = public_base(&headers, state.https)
        .ok_or_else(|| malformed("the request has no valid Host header: send one"))?;
    Ok(Json(UpdateOffer {
        url: format!("{base}/sync/v1/releases/{}/package", release.version),
        version: release.version,
        pub_date: release.published_at,
        signature: release.signature,
        notes: release.notes,
    })
    .into_response())
}

/// A release's package, if the release is offered to the device's centre.
async fn release_package(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    Segments(version): Segments<String>,
) -> ApiResult<Response> {
    let release = state.office.release_for_device(&device, &version).await?;
    let slot = state.downloads.start(&device.code)?;
    let body = PackageBody {
        _slot: slot,
        storage: state.office.storage().clone(),
        version: release.version,
        size: release.size,
        sent: 0,
        chunk: state.package_chunk.max(1),
        reading: None,
        deadline: tokio::time::Instant::now() + state.package_deadline,
        limit: state.package_deadline,
    };
    let headers = [
        (header::CONTENT_TYPE, PACKAGE_MEDIA_TYPE.to_owned()),
        (
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}\"", release.file_name),
        ),
    ];
    Ok((headers, axum::body::Body::new(body)).into_response())
}

/// The next piece of a package being read.
type Reading = Pin<Box<dyn Future<Output = crate::Result<Vec<u8>>> + Send>>;

/// A release's package, read from the database a piece at a time as the connection takes it:
/// a download holds one piece in memory, however large the package and slow the link. Its
/// exact size goes out as `Content-Length`.
struct PackageBody {
    /// Given back when the body is dropped: sent whole, cut, or the connection gone.
    _slot: DownloadSlot,
    storage: Arc<dyn Storage>,
    version: String,
    size: u64,
    sent: u64,
    chunk: usize,
    reading: Option<Reading>,
    /// When the download is cut, however it is going (see `DEFAULT_PACKAGE_DEADLINE`).
    deadline: tokio::time::Instant,
    limit: Duration,
}

impl hyper::body::Body for PackageBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Bytes>, Error>>> {
        let this = self.get_mut();
        if this.sent >= this.size {
            return Poll::Ready(None);
        }
        if tokio::time::Instant::now() >= this.deadline {
            let late = Error::Io(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!(
                    "the download took longer than {} s, at {} bytes of {}",
                    this.limit.as_secs(),
                    this.sent,
                    this.size
                ),
            ));
            return Poll::Ready(Some(Err(log_cut_download(&this.version, late))));
        }
        let reading = this.reading.get_or_insert_with(|| {
            let (storage, version) = (this.storage.clone(), this.version.clone());
            let (offset, chunk) = (this.sent, this.chunk);
            Box::pin(async move { storage.package_chunk(&version, offset, chunk).await })
        });
        let read = std::task::ready!(reading.as_mut().poll(cx));
        this.reading = None;
        let piece = match read {
            Ok(piece) if !piece.is_empty() => piece,
            Ok(_) => {
                let short = Error::Corrupt(format!(
                    "release {}'s package ends at {} bytes of {}",
                    this.version, this.sent, this.size
                ));
                return Poll::Ready(Some(Err(log_cut_download(&this.version, short))));
            }
            Err(e) => return Poll::Ready(Some(Err(log_cut_download(&this.version, e)))),
        };
        this.sent += piece.len() as u64;
        Poll::Ready(Some(Ok(hyper::body::Frame::data(Bytes::from(piece)))))
    }

    fn is_end_stream(&self) -> bool {
        self.sent >= self.size
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        hyper::body::SizeHint::with_exact(self.size.saturating_sub(self.sent))
    }
}

/// A download cut short by the database: the device's updater finds the package incomplete,
/// refuses it and asks again later.
fn log_cut_download(version: &str, error: Error) -> Error {
    tracing::error!(%error, version, "a release package download was cut short");
    error
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewReleaseKey {
    /// The content of the `KEY.pub` file that `tauri signer generate` wrote.
    public_key: String,
}

async fn set_release_key(
    _: Admin,
    State(state): State<AppState>,
    Body(new): Body<NewReleaseKey>,
) -> ApiResult<impl IntoResponse> {
    let (key, replaced) = state.office.set_release_key(&new.public_key).await?;
    Ok(Json(serde_json::json!({
        "key_id": key.id(),
        "replaced_key_id": replaced.as_ref().map(|k| k.id()),
    })))
}

async fn list_releases(_: Admin, State(state): State<AppState>) -> ApiResult<impl IntoResponse> {
    Ok(Json(state.office.releases().await?))
}

/// What goes with a package published over the admin API (the package is the body).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReleaseQuery {
    file_name: String,
    /// The `.sig` file's content.
    signature: String,
    /// Centre codes separated by commas; every centre when absent.
    #[serde(default)]
    centres: Option<String>,
    #[serde(default)]
    notes: Option<String>,
}

/// Publishes a release whose package is the body (at most `MAX_PACKAGE_BYTES`), one upload at
/// a time.
async fn publish_release(
    _: Admin,
    State(state): State<AppState>,
    Segments(version): Segments<String>,
    query: Result<Query<ReleaseQuery>, QueryRejection>,
    body: axum::body::Body,
) -> ApiResult<impl IntoResponse> {
    let Query(query) = query.map_err(|e| {
        malformed(format!(
            "the query could not be read: {}; give file_name and signature, and centres and \
             notes if wanted",
            e.body_text()
        ))
    })?;
    let upload = state
        .release_uploads
        .clone()
        .try_acquire_owned()
        .map_err(|_| {
            ApiFailure::new(
                StatusCode::CONFLICT,
                ErrorCode::Conflict,
                "another release is being uploaded: send this one once it is stored",
            )
        })?;
    // Everything but the package is checked before the package is read.
    let terms = state
        .office
        .release_terms(
            &version,
            &query.file_name,
            query.notes.as_deref().unwrap_or_default(),
            query
                .centres
                .map(|list| list.split(',').map(str::to_owned).collect()),
        )
        .await?;
    let package =
        http_body_util::BodyExt::collect(http_body_util::Limited::new(body, MAX_PACKAGE_BYTES))
            .await
            .map_err(unreadable_package)?
            .to_bytes();
    // Once read, the package is published to the end by a task that holds the upload's
    // place: a request given up at its time limit meanwhile (hundreds of MiB being verified)
    // neither stops it halfway nor lets a second package into memory beside it.
    let office = state.office.clone();
    let release = tokio::spawn(async move {
        let _upload = upload;
        office
            .publish_with_terms(terms, package.into(), query.signature)
            .await
    })
    .await
    .map_err(|e| Error::Task(e.to_string()))??;
    Ok((StatusCode::CREATED, Json(release)))
}

/// A package upload that could not be read: 413 past its limit.
fn unreadable_package(error: axum::BoxError) -> ApiFailure {
    if error.is::<http_body_util::LengthLimitError>() {
        return ApiFailure::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::TooLarge,
            format!(
                "the package is larger than {} MiB (after decompression); nothing was published",
                MAX_PACKAGE_BYTES / (1024 * 1024)
            ),
        );
    }
    malformed(format!("the package could not be read: {error}"))
}

async fn health_report(_: Admin, State(state): State<AppState>) -> ApiResult<impl IntoResponse> {
    Ok(Json(state.office.health().await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AgencyFilter {
    agency: Option<String>,
}

async fn list_agency_credentials(
    _: Admin,
    State(state): State<AppState>,
    Params(filter): Params<AgencyFilter>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(
        state
            .office
            .agency_credentials(filter.agency.as_deref())
            .await?,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewAgencyCredential {
    agency: String,
    /// Days it stays valid; `DEFAULT_AGENCY_CREDENTIAL_DAYS` when absent.
    #[serde(default)]
    valid_days: Option<u32>,
}

async fn issue_agency_credential(
    _: Admin,
    State(state): State<AppState>,
    Body(new): Body<NewAgencyCredential>,
) -> ApiResult<impl IntoResponse> {
    let days = new
        .valid_days
        .map_or(DEFAULT_AGENCY_CREDENTIAL_DAYS, i64::from);
    let issued = state
        .office
        .issue_agency_token(&new.agency, chrono::Duration::days(days))
        .await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

async fn revoke_agency_credential(
    _: Admin,
    State(state): State<AppState>,
    Segments(id): Segments<String>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(state.office.revoke_agency_credential(&id).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewCenter {
    code: String,
    name: String,
    kind: CenterKind,
    /// Its IANA time zone ("Europe/Athens").
    time_zone: String,
    /// Its currency ("EUR", "AZN").
    currency: String,
    /// Its waiting-time target in minutes (15 when not given).
    #[serde(default = "default_waiting_target")]
    waiting_target_min: u32,
}

fn default_waiting_target() -> u32 {
    crate::DEFAULT_WAITING_TARGET_MIN
}

async fn add_center(
    _: Admin,
    State(state): State<AppState>,
    Body(new): Body<NewCenter>,
) -> ApiResult<impl IntoResponse> {
    let center = state
        .office
        .add_center(&crate::NewCenter {
            code: &new.code,
            name: &new.name,
            kind: new.kind,
            time_zone: &new.time_zone,
            currency: &new.currency,
            waiting_target_min: new.waiting_target_min,
        })
        .await?;
    Ok((StatusCode::CREATED, Json(center)))
}

/// What to change of a centre: each field given is changed, the others stay.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CenterUpdate {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    time_zone: Option<String>,
    #[serde(default)]
    waiting_target_min: Option<u32>,
}

async fn update_center(
    _: Admin,
    State(state): State<AppState>,
    Segments(center): Segments<String>,
    Body(change): Body<CenterUpdate>,
) -> ApiResult<impl IntoResponse> {
    let center = state
        .office
        .update_center(
            &center,
            &crate::CenterChange {
                name: change.name.as_deref(),
                time_zone: change.time_zone.as_deref(),
                waiting_target_min: change.waiting_target_min,
            },
        )
        .await?;
    Ok(Json(center))
}

async fn list_centers(_: Admin, State(state): State<AppState>) -> ApiResult<impl IntoResponse> {
    Ok(Json(state.office.centers().await?))
}

async fn publish_catalogue(
    _: Admin,
    State(state): State<AppState>,
    Body(catalogue): Body<Catalogue>,
) -> ApiResult<impl IntoResponse> {
    let version = state.office.publish_catalogue(&catalogue).await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "version": version })),
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeOptions {
    #[serde(default)]
    valid_hours: Option<u32>,
}

async fn issue_enrolment_code(
    _: Admin,
    State(state): State<AppState>,
    Segments(center): Segments<String>,
    body: Bytes,
) -> ApiResult<impl IntoResponse> {
    let options: CodeOptions = if body.is_empty() {
        CodeOptions::default()
    } else {
        parse_body(&body)?
    };
    let hours = options
        .valid_hours
        .map_or(DEFAULT_CODE_VALIDITY_HOURS, i64::from);
    // Out of range is a malformed call (400), refused before anything is computed from it.
    let valid_for = code_validity(hours).map_err(|e| {
        ApiFailure::new(StatusCode::BAD_REQUEST, ErrorCode::Malformed, e.to_string())
    })?;
    let code = state
        .office
        .issue_enrolment_code(&center, valid_for)
        .await?;
    Ok((StatusCode::CREATED, Json(code)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DeviceFilter {
    center: Option<String>,
}

async fn list_devices(
    _: Admin,
    State(state): State<AppState>,
    Params(filter): Params<DeviceFilter>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(state.office.fleet(filter.center.as_deref()).await?))
}

/// `?wipe=true` also asks the device to erase its data at its next contact.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RevokeOptions {
    #[serde(default)]
    wipe: bool,
}

async fn revoke_device(
    _: Admin,
    State(state): State<AppState>,
    Segments(device): Segments<String>,
    Params(options): Params<RevokeOptions>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(
        state.office.revoke_device(&device, options.wipe).await?,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClerkFilter {
    center: Option<String>,
}

async fn list_clerks(
    _: Admin,
    State(state): State<AppState>,
    Params(filter): Params<ClerkFilter>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(state.office.clerks(filter.center.as_deref()).await?))
}

async fn add_clerk(
    _: Admin,
    State(state): State<AppState>,
    Body(new): Body<NewClerk>,
) -> ApiResult<impl IntoResponse> {
    Ok((
        StatusCode::CREATED,
        Json(state.office.add_clerk(&new).await?),
    ))
}

/// The body of `reset-password`; its `Debug` hides the password.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewPassword {
    password: String,
}

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(..)")
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewRole {
    role: Role,
}

/// A JSON body read from bytes already taken, with the same answers as `Body`.
fn parse_body<T: DeserializeOwned>(body: &[u8]) -> ApiResult<T> {
    serde_json::from_slice(body).map_err(|e| {
        ApiFailure::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::Malformed,
            format!("the body is not valid JSON for this call: {e}"),
        )
    })
}

/// `disable`, `enable`, `reset-password` (`{password}`) and `role` (`{role}`) on an account.
async fn change_clerk(
    _: Admin,
    State(state): State<AppState>,
    Segments((username, step)): Segments<(String, String)>,
    body: Bytes,
) -> ApiResult<impl IntoResponse> {
    let office = &state.office;
    let clerk = match step.as_str() {
        "disable" => office.disable_clerk(&username).await?,
        "enable" => office.enable_clerk(&username).await?,
        "reset-password" => {
            let NewPassword { password } = parse_body(&body)?;
            office.reset_clerk_password(&username, &password).await?
        }
        "role" => {
            let NewRole { role } = parse_body(&body)?;
            office.change_clerk_role(&username, role).await?
        }
        _ => {
            return Err(ApiFailure::new(
                StatusCode::NOT_FOUND,
                ErrorCode::NotFound,
                format!(
                    "'{step}' is not a change of an account: use disable, enable, \
                     reset-password or role"
                ),
            ));
        }
    };
    Ok(Json(clerk))
}

async fn agency_requests(
    caller: AgencyCaller,
    State(state): State<AppState>,
    Segments(agency): Segments<String>,
) -> ApiResult<impl IntoResponse> {
    caller.check(&agency, || format!("not for agency {agency}'s requests"))?;
    Ok(Json(state.office.agency_requests(&agency).await?))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Decision {
    #[serde(default)]
    reason: Option<String>,
    /// Who at the agency decided, for the centre's timeline.
    #[serde(default)]
    actor: Option<String>,
}

async fn agency_step(
    caller: AgencyCaller,
    State(state): State<AppState>,
    Segments((receipt, step)): Segments<(String, String)>,
    body: Bytes,
) -> ApiResult<impl IntoResponse> {
    let action = agency_action(&step).ok_or_else(|| {
        ApiFailure::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            format!("'{step}' is not an agency step: use take, return, ready or reject"),
        )
    })?;
    let decision: Decision = if body.is_empty() {
        Decision::default()
    } else {
        parse_body(&body)?
    };
    if let AgencyCaller::Agency(own) = &caller {
        // Another agency's request and no request at all get the same answer: an agency's
        // credential cannot tell which receipt numbers exist.
        let canonical = ReceiptNumber::parse(&receipt).map_err(|e| Error::Domain(e.into()))?;
        match state
            .office
            .storage()
            .request_by_receipt(canonical.as_str())
            .await
        {
            Ok(request) if &request.agency == own => {}
            Ok(_) | Err(Error::NotFound { .. }) => {
                return Err(ApiFailure::new(
                    StatusCode::NOT_FOUND,
                    ErrorCode::NotFound,
                    format!("no request {canonical} is dispatched to agency {own}"),
                ));
            }
            Err(e) => return Err(e.into()),
        }
    }
    let actor = caller.actor(decision.actor.as_deref());
    let request = state
        .office
        .agency_decide(&receipt, action, decision.reason.as_deref(), &actor)
        .await?;
    Ok(Json(request))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::captured_log::Captured;

    /// A first login that waited too long for a password check is load, not a fault: a warning
    /// in words of its own, nothing of the login in it, and the answer it always was, a 503
    /// with `Retry-After`.
    #[test]
    fn logins_too_many_to_check_in_time_are_a_warning_of_their_own() {
        let captured = Captured::default();
        let failure = tracing::subscriber::with_default(
            captured.subscriber(tracing_subscriber::EnvFilter::new("info")),
            || ApiFailure::from(Error::Busy),
        );
        let log = captured.text();
        assert!(
            log.contains(" WARN ") && log.contains("a first login on a device was answered 503"),
            "{log}"
        );
        assert!(!log.contains("ERROR"), "{log}");
        assert_eq!(
            (
                failure.status,
                failure.code,
                failure.message.as_str(),
                failure.retry_after
            ),
            (
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Unavailable,
                "the back office failed to handle this; try again later",
                Some(RETRY_AFTER)
            )
        );
    }
}
