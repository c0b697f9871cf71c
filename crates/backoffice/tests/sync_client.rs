//! The device's sync client against a real back office, and against what may stand between
//! them: a proxy that answers in its place (429 or 413 with a page of its own), a back office
//! of a later release with error codes this one does not know, a link that goes silent or
//! trickles. Every server here is a real one on a free loopback port.

mod common;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use guichet_backoffice::AppState;
use guichet_domain::keyslot::RecoveryKey;
use guichet_fixtures::DEMO_PASSWORD;
use guichet_protocol::ErrorCode;
use guichet_workstation::Workstation;
use guichet_workstation::error::{Access, Error};
use guichet_workstation::sync::{self, BackOffice, SyncError};
use tempfile::TempDir;

/// What the proxy answers in the back office's place.
#[derive(Clone)]
struct Answer {
    status: StatusCode,
    retry_after: Option<&'static str>,
    content_type: &'static str,
    body: String,
}

impl Answer {
    /// A page of the proxy's own, as nginx writes one.
    fn page(status: StatusCode, retry_after: Option<&'static str>) -> Answer {
        let title = format!(
            "{} {}",
            status.as_u16(),
            status.canonical_reason().unwrap_or_default()
        );
        Answer {
            status,
            retry_after,
            content_type: "text/html",
            body: format!(
                "<html><head><title>{title}</title></head><body><center><h1>{title}</h1>\
                 </center><hr><center>nginx</center></body></html>"
            ),
        }
    }

    /// An error body in the back office's shape, with `code` as written.
    fn error(status: StatusCode, code: &str, message: &str) -> Answer {
        Answer {
            status,
            retry_after: None,
            content_type: "application/json",
            body: serde_json::json!({"error": {"code": code, "message": message}}).to_string(),
        }
    }

    fn into_response(self) -> Response {
        let mut answer = Response::builder()
            .status(self.status)
            .header(header::CONTENT_TYPE, self.content_type);
        if let Some(wait) = self.retry_after {
            answer = answer.header(header::RETRY_AFTER, wait);
        }
        answer.body(Body::from(self.body)).unwrap()
    }
}

/// A reverse proxy in front of a back office: it gives the answers it was handed, one per
/// request, then passes requests on as they came.
struct Proxy {
    base: String,
    ahead: Arc<Mutex<VecDeque<Answer>>>,
    server: tokio::task::JoinHandle<()>,
}

#[derive(Clone)]
struct Front {
    ahead: Arc<Mutex<VecDeque<Answer>>>,
    upstream: String,
    http: reqwest::Client,
}

impl Proxy {
    async fn start(upstream: &str) -> Proxy {
        let ahead = Arc::new(Mutex::new(VecDeque::new()));
        let front = Front {
            ahead: ahead.clone(),
            upstream: upstream.to_owned(),
            // The bodies go through as they are, compressed or not.
            http: reqwest::Client::builder()
                .no_gzip()
                .no_zstd()
                .build()
                .unwrap(),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let router = axum::Router::new().fallback(pass_on).with_state(front);
        let server = tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        Proxy {
            base,
            ahead,
            server,
        }
    }

    /// Answers the next requests with `answers`, in order, before passing any on.
    fn answer_first(&self, answers: impl IntoIterator<Item = Answer>) {
        self.ahead.lock().unwrap().extend(answers);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn pass_on(State(front): State<Front>, request: Request) -> Response {
    let answer = front.ahead.lock().unwrap().pop_front();
    if let Some(answer) = answer {
        return answer.into_response();
    }
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let mut call = front
        .http
        .request(parts.method, format!("{}{}", front.upstream, parts.uri));
    for name in [
        header::AUTHORIZATION,
        header::CONTENT_TYPE,
        header::CONTENT_ENCODING,
        header::ACCEPT_ENCODING,
    ] {
        if let Some(value) = parts.headers.get(&name) {
            call = call.header(name, value);
        }
    }
    let answered = call.body(body).send().await.unwrap();
    let mut response = Response::builder().status(answered.status());
    for name in [
        header::CONTENT_TYPE,
        header::CONTENT_ENCODING,
        header::RETRY_AFTER,
    ] {
        if let Some(value) = answered.headers().get(&name) {
            response = response.header(name, value);
        }
    }
    response
        .body(Body::from(answered.bytes().await.unwrap()))
        .unwrap()
}

/// A back office on SQLite with the centre ATH-01 and its clerk, served over HTTP, and the
/// answer of a device enrolled there.
async fn served_athens() -> (common::Served, guichet_protocol::EnrollResponse, TempDir) {
    let (storage, dir) = common::sqlite();
    let office = common::athens(storage).await;
    let enrolled = common::enrol(&office, "ATH-01").await;
    let served = common::Served::start(AppState::new(office, None)).await;
    (served, enrolled, dir)
}

/// A device's client of the back office at `base`, with its credential.
fn client(base: &str, enrolled: &guichet_protocol::EnrollResponse) -> BackOffice {
    BackOffice::new(base, Some(enrolled.token.clone()), Duration::from_secs(10)).unwrap()
}

/// A device behind a proxy in front of the back office, with the catalogue taken and a
/// morning's work offline waiting to be sent (`waiting` changes); the directories live as long
/// as it does.
struct Behind {
    served: common::Served,
    proxy: Proxy,
    device: BackOffice,
    ws: guichet_workstation::Workstation,
    waiting: u64,
    _dirs: (TempDir, TempDir),
}

async fn a_morning_behind_a_proxy() -> Behind {
    let (served, enrolled, office_dir) = served_athens().await;
    let proxy = Proxy::start(&served.base).await;
    let device = client(&proxy.base, &enrolled);
    let dir = TempDir::new().unwrap();
    let mut ws = common::workstation(&dir, &enrolled);
    sync::sync_once(&mut ws, &device, &|_| {}).await.unwrap();
    guichet_fixtures::history::take_requests(&mut ws, 0, 40).unwrap();
    let waiting = sync::pending(&ws).unwrap();
    Behind {
        served,
        proxy,
        device,
        ws,
        waiting,
        _dirs: (office_dir, dir),
    }
}

/// A proxy's 429, with or without `Retry-After`, is the back office busy: the device tries
/// again by itself, no sooner than it was asked and no later than the longest wait it takes
/// from anyone, and says so in words it translates, never the page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxys_429_is_a_busy_back_office_whose_pause_is_kept_within_bounds() {
    let (served, enrolled, _dir) = served_athens().await;
    let proxy = Proxy::start(&served.base).await;
    let too_many = StatusCode::TOO_MANY_REQUESTS;
    proxy.answer_first([
        Answer::page(too_many, Some("7")),
        Answer::page(too_many, None),
        Answer::page(too_many, Some("86400")),
    ]);
    let device = client(&proxy.base, &enrolled);
    let request = common::exchange(Vec::new(), 0);

    for asked in [Some(7), None, Some(300)] {
        let busy = device.exchange(&request).await.unwrap_err();
        assert!(
            matches!(busy, SyncError::Busy { status: 429, .. }),
            "{busy:?}"
        );
        assert!(busy.is_transient(), "{busy:?}");
        // A limit of requests: the next push is not cut into more of them.
        assert!(!busy.too_slow(), "{busy:?}");
        assert_eq!(busy.retry_after(), asked.map(Duration::from_secs));
        assert!(!busy.to_string().contains("<html>"), "{busy}");
        assert_eq!(busy.message().unwrap().key, "error.sync.busy");
    }
    let answer = device.exchange(&request).await.unwrap();
    assert!(!answer.changes.is_empty(), "the catalogue comes through");
    served.stop().await;
}

/// A proxy's 413 page (a body limit of its own, below the back office's) or 408 page (it gave
/// up waiting for a push's body on a slow uplink) is no fault of the protocol: the device
/// tries again by itself with half the push, and everything goes through the proxy in smaller
/// pushes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxys_413_or_408_page_makes_the_next_push_smaller() {
    for status in [StatusCode::PAYLOAD_TOO_LARGE, StatusCode::REQUEST_TIMEOUT] {
        let mut morning = a_morning_behind_a_proxy().await;
        let (device, ws, waiting) = (&morning.device, &mut morning.ws, morning.waiting);
        assert!(waiting > 2 * sync::MIN_PUSH_BATCH as u64, "{waiting}");

        morning.proxy.answer_first([Answer::page(status, None)]);
        let refused = sync::sync_once(ws, device, &|_| {}).await.unwrap_err();
        assert!(
            matches!(refused, SyncError::Busy { status: s, .. } if s == status.as_u16()),
            "{refused:?}"
        );
        assert!(refused.is_transient() && refused.too_slow(), "{refused:?}");
        assert!(!refused.to_string().contains("<html>"), "{refused}");
        assert_eq!(refused.message().unwrap().key, "error.sync.busy");
        assert_eq!(sync::pending(ws).unwrap(), waiting, "nothing was taken");

        // Half of them, then the rest: two pushes where one was refused.
        let report = sync::sync_once(ws, device, &|_| {}).await.unwrap();
        assert_eq!(
            (report.exchanges, u64::from(report.pushed), report.applied),
            (2, waiting, report.pushed),
            "after a {status}"
        );
        assert_eq!(sync::pending(ws).unwrap(), 0);
        morning.served.stop().await;
    }
}

/// A proxy whose body limit stands refuses every batch: the batches halve down to a single
/// change, and a single change refused is no longer "busy" but says what the proxy must let
/// through, with nothing taken.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxys_standing_413_ends_in_what_its_limit_must_be() {
    let Behind {
        served,
        proxy,
        device,
        mut ws,
        waiting,
        _dirs,
    } = a_morning_behind_a_proxy().await;

    proxy.answer_first((0..20).map(|_| Answer::page(StatusCode::PAYLOAD_TOO_LARGE, None)));
    let mut refusals = 0;
    let last = loop {
        let refused = sync::sync_once(&mut ws, &device, &|_| {})
            .await
            .unwrap_err();
        refusals += 1;
        if !matches!(refused, SyncError::Busy { .. }) || refusals == 20 {
            break refused;
        }
    };
    assert!(
        matches!(&last, SyncError::Protocol(m) if m.contains("client_max_body_size")),
        "after {refusals} refusals: {last:?}"
    );
    assert!(refusals < 12, "{refusals} pushes refused before the end");
    assert_eq!(sync::pending(&ws).unwrap(), waiting, "nothing was taken");
    served.stop().await;
}

/// A back office of a later release may answer with an error code this one does not know: the
/// device reads its status then, as it would read a proxy's, and keeps the back office's
/// words. A 5xx is the back office busy (as a device of the release before `unavailable`
/// reads that code), a 401 a credential refused, another 4xx a refusal with the code of its
/// status.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_codes_of_a_later_release_are_read_by_their_status() {
    let later = "a_code_of_a_later_release";
    let proxy = Proxy::start("http://127.0.0.1:9").await;
    proxy.answer_first([
        Answer {
            retry_after: Some("7"),
            ..Answer::error(
                StatusCode::SERVICE_UNAVAILABLE,
                later,
                "the archive is moving",
            )
        },
        Answer::error(StatusCode::CONFLICT, later, "this request moved on"),
        Answer::error(StatusCode::UNAUTHORIZED, later, "this credential expired"),
        Answer::error(StatusCode::GONE, later, "this centre closed"),
    ]);
    let device = BackOffice::new(
        &proxy.base,
        Some("gdt_token".into()),
        Duration::from_secs(5),
    )
    .unwrap();

    let busy = device.confirm_wiped().await.unwrap_err();
    assert!(
        matches!(&busy, SyncError::Busy { status: 503, detail, .. } if detail == "the archive is moving"),
        "{busy:?}"
    );
    assert_eq!(busy.retry_after(), Some(Duration::from_secs(7)));
    assert!(busy.is_transient(), "{busy:?}");

    let refused = device.confirm_wiped().await.unwrap_err();
    assert!(
        matches!(&refused, SyncError::Refused { status: 409, code: ErrorCode::Conflict, message }
            if message == "this request moved on"),
        "{refused:?}"
    );
    assert!(!refused.is_transient(), "{refused:?}");

    let expired = device.confirm_wiped().await.unwrap_err();
    assert!(
        matches!(&expired, SyncError::Unauthorized(message) if message == "this credential expired"),
        "{expired:?}"
    );

    let gone = device.confirm_wiped().await.unwrap_err();
    assert!(
        matches!(&gone, SyncError::Refused { status: 410, code: ErrorCode::Malformed, message }
            if message == "this centre closed"),
        "{gone:?}"
    );
}

/// The first login of ATH-01's clerk on a device of the centre whose back office is now
/// reached at `base`: not logged in there yet, they need the back office to vouch. Checks that
/// they are told it cannot be reached, well before three times the vouch's deadline (so that
/// a wait beyond any a clerk would accept fails the test rather than hangs it).
async fn first_login_is_told_offline(base: &str) {
    let (storage, _office_dir) = common::sqlite();
    let office = common::athens(storage).await;
    let enrolled = common::enrol(&office, "ATH-01").await;
    let dir = TempDir::new().unwrap();
    let mut ws = Workstation::open(&dir.path().join("ws.sqlite3"), common::clock()).unwrap();
    ws.enroll(&enrolled, base, &[], &RecoveryKey::from_bytes([7; 20]))
        .unwrap();

    let refused = tokio::time::timeout(
        BackOffice::VOUCH_DEADLINE * 3,
        sync::login(&mut ws, common::CLERK, DEMO_PASSWORD),
    )
    .await
    .expect("the clerk is answered well before three times the vouch's deadline")
    .unwrap_err();
    assert!(
        matches!(
            refused,
            SyncError::Store(Error::Access(Access::LoginFailedOffline))
        ),
        "{refused:?}"
    );
}

/// A back office that takes the connection and never answers: the clerk is told that a first
/// login needs the back office, which cannot be reached.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_login_on_a_silent_link_says_the_back_office_is_not_reached() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        loop {
            held.push(listener.accept().await.unwrap().0);
        }
    });
    first_login_is_told_offline(&base).await;
    silent.abort();
}

/// A link that trickles the answer (a byte now and then, each just before the link would count
/// as silent) cannot keep a clerk at the counter past the vouch's deadline: they are told the
/// back office is not reached while the answer is still coming.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_login_on_a_trickling_link_ends_at_the_vouchs_deadline() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let trickle = tokio::spawn(async move {
        let (mut peer, _) = listener.accept().await.unwrap();
        let mut asked = [0u8; 8192];
        let _ = peer.read(&mut asked).await.unwrap();
        // Ten minutes of answer, a byte every 5 s: each renews the link's silence timeout.
        peer.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 120\r\n\r\n",
        )
        .await
        .unwrap();
        for _ in 0..120 {
            tokio::time::sleep(Duration::from_secs(5)).await;
            if peer.write_all(b" ").await.is_err() {
                return;
            }
        }
    });
    first_login_is_told_offline(&base).await;
    assert!(!trickle.is_finished(), "the answer was still coming");
    trickle.abort();
}
