//! The HTTP API through `app(state)` with `oneshot`: status codes and stable error codes.

mod common;

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use guichet_backoffice::storage::PostgresStorage;
use guichet_backoffice::{AppState, BackOffice, app};
use guichet_domain::account::Role;
use guichet_fixtures::DEMO_PASSWORD;
use guichet_protocol::{
    ApiError, EnrollResponse, ErrorCode, ExchangeResponse, MAX_BODY_BYTES, Pulled,
};
use http_body_util::BodyExt;
use tower::ServiceExt;

const ADMIN: &str = "admin-secret";

struct Api {
    state: AppState,
    _dir: tempfile::TempDir,
}

impl Api {
    fn new() -> Self {
        let (storage, dir) = common::sqlite();
        Api {
            state: AppState::new(BackOffice::new(storage), Some(ADMIN.into())),
            _dir: dir,
        }
    }

    async fn call(&self, request: Request<Body>) -> (StatusCode, Vec<u8>) {
        let response = app(self.state.clone()).oneshot(request).await.unwrap();
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, body.to_vec())
    }

    async fn json(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: serde_json::Value,
    ) -> (StatusCode, serde_json::Value) {
        let mut builder = Request::builder()
            .method(method)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(token) = token {
            builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let (status, bytes) = self
            .call(builder.body(Body::from(body.to_string())).unwrap())
            .await;
        let value = if bytes.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap()
        };
        (status, value)
    }

    /// A centre, the demo catalogue and one enrolled device, through the admin API.
    async fn enrolled(&self) -> EnrollResponse {
        let (status, _) = self
            .json(
                "POST",
                "/admin/v1/centers",
                Some(ADMIN),
                serde_json::json!({"code": "ATH-01", "name": "Athens", "kind": "stationary",
                    "time_zone": "Europe/Athens", "currency": "EUR"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        let catalogue = serde_json::to_value(guichet_fixtures::demo_catalogue()).unwrap();
        let (status, _) = self
            .json("POST", "/admin/v1/catalogues", Some(ADMIN), catalogue)
            .await;
        assert_eq!(status, StatusCode::CREATED);
        let code = self.enrolment_code().await;
        let (status, enrolled) = self.enroll(&code, "Desk 1").await;
        assert_eq!(status, StatusCode::OK, "{enrolled}");
        serde_json::from_value(enrolled).unwrap()
    }

    /// A device enrolling with `code` (as the admin API gave it) under `label`.
    async fn enroll(
        &self,
        code: &serde_json::Value,
        label: &str,
    ) -> (StatusCode, serde_json::Value) {
        self.json(
            "POST",
            "/sync/v1/enroll",
            None,
            serde_json::json!({"code": code["code"], "label": label}),
        )
        .await
    }

    /// A new enrolment code for ATH-01, as the admin API answers it.
    async fn enrolment_code(&self) -> serde_json::Value {
        let (status, code) = self
            .json(
                "POST",
                "/admin/v1/centers/ATH-01/enrolment-codes",
                Some(ADMIN),
                serde_json::json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{code}");
        code
    }
}

fn error_code(body: &serde_json::Value) -> ErrorCode {
    serde_json::from_value::<ApiError>(body.clone())
        .unwrap_or_else(|e| panic!("not an ApiError ({e}): {body}"))
        .error
        .code
}

#[tokio::test]
async fn health_answers() {
    let api = Api::new();
    let (status, body) = api
        .call(Request::get("/health").body(Body::empty()).unwrap())
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, br#"{"status":"ok"}"#);
}

#[tokio::test]
async fn exchange_without_or_with_unknown_token_is_401() {
    let api = Api::new();
    let body = serde_json::json!({"cursor": 0, "limit": 10});
    let (status, answer) = api
        .json("POST", "/sync/v1/exchange", None, body.clone())
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&answer), ErrorCode::Unauthorized);
    let (status, answer) = api
        .json("POST", "/sync/v1/exchange", Some("forged"), body)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&answer), ErrorCode::Unauthorized);
}

#[tokio::test]
async fn revoked_device_is_403_with_a_message_saying_so() {
    let api = Api::new();
    let device = api.enrolled().await;
    let body = serde_json::json!({"cursor": 0, "limit": 10});
    let (status, answer) = api
        .json(
            "POST",
            "/sync/v1/exchange",
            Some(&device.token),
            body.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let answer: ExchangeResponse = serde_json::from_value(answer).unwrap();
    assert!(!answer.changes.is_empty(), "the catalogue comes first");
    let (status, _) = api
        .json(
            "POST",
            &format!("/admin/v1/devices/{}/revoke", device.device_code),
            Some(ADMIN),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, answer) = api
        .json("POST", "/sync/v1/exchange", Some(&device.token), body)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&answer), ErrorCode::Revoked);
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("revoked")
    );
}

/// Revoked with a wipe: the device may still push but is sent nothing and told to erase; its
/// confirmation closes it for good, and nothing else is open to it meanwhile.
#[tokio::test]
async fn a_device_revoked_with_a_wipe_may_push_is_sent_nothing_and_confirms() {
    let api = Api::new();
    let device = api.enrolled().await;
    let pull = serde_json::json!({"cursor": 0, "limit": 10});
    let (status, _) = api
        .json(
            "POST",
            &format!("/admin/v1/devices/{}/revoke?wipe=true", device.device_code),
            Some(ADMIN),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, answer) = api
        .json(
            "GET",
            "/admin/v1/devices",
            Some(ADMIN),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(answer[0]["wipe_requested_at"].is_string(), "{answer}");
    assert!(answer[0]["wiped_at"].is_null(), "{answer}");
    // The fleet view's line: the device, its standing, what it last reported (nothing yet).
    assert_eq!(answer[0]["standing"], "wipe requested", "{answer}");
    assert!(answer[0]["last_contact"].is_null(), "{answer}");

    // The catalogue waits for it, but a device to be erased is sent nothing.
    let (status, answer) = api
        .json(
            "POST",
            "/sync/v1/exchange",
            Some(&device.token),
            pull.clone(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let answer: ExchangeResponse = serde_json::from_value(answer).unwrap();
    assert!(answer.wipe);
    assert!(answer.changes.is_empty() && !answer.more && answer.cursor == 0);

    // Nothing else: no new credential for it.
    let (status, answer) = api
        .json(
            "POST",
            "/sync/v1/token",
            Some(&device.token),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    assert_eq!(error_code(&answer), ErrorCode::Revoked);

    let (status, answer) = api
        .json(
            "POST",
            "/sync/v1/wiped",
            Some(&device.token),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(answer["wiped_at"].is_string(), "{answer}");
    for path in ["/sync/v1/exchange", "/sync/v1/wiped"] {
        let (status, answer) = api
            .json("POST", path, Some(&device.token), pull.clone())
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {answer}");
        assert_eq!(error_code(&answer), ErrorCode::Revoked);
    }
}

/// A device that was not asked to erase its data cannot say it did.
#[tokio::test]
async fn an_active_device_cannot_confirm_a_wipe() {
    let api = Api::new();
    let device = api.enrolled().await;
    let (status, answer) = api
        .json(
            "POST",
            "/sync/v1/wiped",
            Some(&device.token),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("was not asked to erase its data"),
        "{answer}"
    );
}

#[tokio::test]
async fn admin_api_needs_the_admin_token() {
    let api = Api::new();
    let (status, answer) = api
        .json(
            "GET",
            "/admin/v1/devices",
            Some("wrong"),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&answer), ErrorCode::Unauthorized);
    let (status, answer) = api
        .json(
            "GET",
            "/admin/v1/devices",
            Some(ADMIN),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer, serde_json::json!([]));
}

/// A request past its time limit is given up with the API's own error, which says to try
/// again and when (`Retry-After`), not with an empty answer: here a body announced and never
/// sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_past_its_time_limit_gets_an_error_that_says_so() {
    let api = Api::new();
    let mut state = api.state.clone();
    state.request_timeout = std::time::Duration::from_secs(1);
    let served = common::Served::start(state).await;
    let answer = common::raw_request(
        &served.address.to_string(),
        &format!(
            "POST /admin/v1/catalogues HTTP/1.1\r\nHost: guichet\r\n\
             Authorization: Bearer {ADMIN}\r\nContent-Type: application/json\r\n\
             Content-Length: 100\r\nConnection: close\r\n\r\n{{"
        ),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("\r\nretry-after: 5\r\n"), "{answer}");
    assert!(
        answer.contains(
            "the back office gave up on the request after 1 s; try again (an exchange sent \
             again is applied once)"
        ),
        "{answer}"
    );
    served.stop().await;
}

/// A statement the database gives up on at its time limit (here, waiting for the centre's row
/// that another transaction holds, as a stuck exchange of the centre would) is a 503 to try
/// again shortly, with `Retry-After` and words that say so; the device's sync client takes it
/// as passing, and the next exchange once the row is free is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_too_busy_to_answer_in_time_is_a_503_to_try_again_shortly() {
    let db = common::PgDatabase::create().await;
    let office = common::athens(db.storage().await).await;
    let enrolled = common::enrol(&office, "ATH-01").await;
    drop(office);
    // The operator's own limit in the URL wins over the back office's 20 s.
    let url = format!("{}?options=-c%20statement_timeout%3D300ms", db.url);
    let storage = PostgresStorage::connect(&url).await.unwrap();
    let state = AppState::new(BackOffice::new(Arc::new(storage)), Some(ADMIN.into()));
    let mut holder = common::pg_client(&db.url).await;
    let held = holder.transaction().await.unwrap();
    held.execute(
        "SELECT code FROM centers WHERE code = 'ATH-01' FOR UPDATE",
        &[],
    )
    .await
    .unwrap();

    let request = common::exchange(Vec::new(), 0);
    let response = app(state.clone())
        .oneshot(
            Request::post("/sync/v1/exchange")
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::AUTHORIZATION, format!("Bearer {}", enrolled.token))
                .body(Body::from(serde_json::to_vec(&request).unwrap()))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        response
            .headers()
            .get(header::RETRY_AFTER)
            .map(|v| v.as_bytes()),
        Some(&b"5"[..])
    );
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let refusal: ApiError = serde_json::from_slice(&body).unwrap();
    assert_eq!(refusal.error.code, ErrorCode::Unavailable);
    assert_eq!(
        refusal.error.message,
        "the database is busy or slow just now (a statement ran past its time limit or was \
         cancelled): try again in a few seconds"
    );

    let served = common::Served::start(state).await;
    let device = guichet_workstation::sync::BackOffice::new(
        &format!("http://{}", served.address),
        Some(enrolled.token.clone()),
        Duration::from_secs(20),
    )
    .unwrap();
    let refused = device.exchange(&request).await.unwrap_err();
    assert!(refused.is_transient(), "{refused:?}");
    assert!(
        matches!(
            &refused,
            guichet_workstation::sync::SyncError::Busy { status: 503, detail, retry_after }
                if detail.starts_with("the database is busy or slow just now")
                    && *retry_after == Some(Duration::from_secs(5))
        ),
        "{refused:?}"
    );
    held.rollback().await.unwrap();
    let answer = device.exchange(&request).await.unwrap();
    assert!(!answer.changes.is_empty(), "the catalogue comes first");
    served.stop().await;
}

/// A device's label with control characters (printed in the operator's terminal) or too long
/// is refused before the code is looked at, and the code still enrols the device after.
#[tokio::test]
async fn a_device_label_that_could_rewrite_a_terminal_is_refused() {
    let api = Api::new();
    api.enrolled().await;
    let code = api.enrolment_code().await;
    let long = "x".repeat(81);
    for (label, says) in [
        (
            "Bus 3\u{1b}[2J",
            "holds the invisible character U+001B, which can hide or reorder what the screen shows: give it as plain text",
        ),
        (long.as_str(), "has 81 characters: give at most 80"),
    ] {
        let (status, answer) = api.enroll(&code, label).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{message}");
        assert!(
            message.contains("the enrolment code was not used"),
            "{message}"
        );
    }
    let (status, enrolled) = api.enroll(&code, "  Bus 3, laptop 1 ").await;
    assert_eq!(status, StatusCode::OK, "{enrolled}");
    let (_, devices) = api
        .json(
            "GET",
            "/admin/v1/devices",
            Some(ADMIN),
            serde_json::json!({}),
        )
        .await;
    assert!(
        devices
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["label"] == "Bus 3, laptop 1"),
        "{devices}"
    );
}

/// A listing's filter misspelt, or naming a centre that does not exist, is refused with what
/// to give: never every centre's lines, nor none, as if the filter had held.
#[tokio::test]
async fn a_listing_filter_that_cannot_hold_is_refused() {
    let api = Api::new();
    api.enrolled().await;
    let misspelt = "unknown field `centre`, expected `center`";
    let unknown = "no centre 'NOPE-01': `guichet-backoffice center list` lists them";
    for (path, status_wanted, words) in [
        (
            "/admin/v1/devices?centre=ATH-01",
            StatusCode::BAD_REQUEST,
            misspelt,
        ),
        (
            "/admin/v1/clerks?centre=ATH-01",
            StatusCode::BAD_REQUEST,
            misspelt,
        ),
        (
            "/admin/v1/devices?center=NOPE-01",
            StatusCode::NOT_FOUND,
            unknown,
        ),
        (
            "/admin/v1/clerks?center=NOPE-01",
            StatusCode::NOT_FOUND,
            unknown,
        ),
    ] {
        let (status, answer) = api
            .json("GET", path, Some(ADMIN), serde_json::json!({}))
            .await;
        assert_eq!(status, status_wanted, "{path}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains(words), "{path}: {message}");
    }
    let (status, answer) = api
        .json(
            "GET",
            "/admin/v1/devices?center=ATH-01",
            Some(ADMIN),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer.as_array().unwrap().len(), 1, "{answer}");
}

#[tokio::test]
async fn malformed_json_is_400_with_serdes_words() {
    let api = Api::new();
    let device = api.enrolled().await;
    let (status, bytes) = api
        .call(
            Request::post("/sync/v1/exchange")
                .header(header::AUTHORIZATION, format!("Bearer {}", device.token))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(r#"{"cursor": "zero", "limit": 1}"#))
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let answer: ApiError = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(answer.error.code, ErrorCode::Malformed);
    assert!(
        answer.error.message.contains("invalid type"),
        "{}",
        answer.error.message
    );
}

/// What the framework would answer itself (a method a path does not take, a path part that
/// is not UTF-8, a compression the back office does not read) is answered as every other
/// refusal: an `ApiError` that says what was wrong and what to do.
#[tokio::test]
async fn refusals_of_the_framework_are_api_errors() {
    let api = Api::new();
    let refusal = |status: StatusCode, bytes: &[u8]| -> String {
        let body: serde_json::Value = serde_json::from_slice(bytes)
            .unwrap_or_else(|e| panic!("{status}: not JSON ({e}): {bytes:?}"));
        assert_eq!(error_code(&body), ErrorCode::Malformed, "{body}");
        body["error"]["message"].as_str().unwrap().to_owned()
    };

    let response = app(api.state.clone())
        .oneshot(
            Request::builder()
                .method("PUT")
                .uri("/sync/v1/exchange")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()[header::ALLOW], "POST");
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let said = refusal(StatusCode::METHOD_NOT_ALLOWED, &bytes);
    assert!(said.contains("does not take PUT"), "{said}");

    let (status, bytes) = api
        .call(
            Request::builder()
                .method("POST")
                .uri("/admin/v1/centers/%FF%FE/enrolment-codes")
                .header(header::AUTHORIZATION, format!("Bearer {ADMIN}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let said = refusal(status, &bytes);
    assert!(said.contains("percent-encoded UTF-8"), "{said}");

    let response = app(api.state.clone())
        .oneshot(
            Request::builder()
                .method("POST")
                .uri("/sync/v1/enroll")
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::CONTENT_ENCODING, "br")
                .body(Body::from("{}"))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(response.headers().contains_key(header::ACCEPT_ENCODING));
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let said = refusal(StatusCode::UNSUPPORTED_MEDIA_TYPE, &bytes);
    assert!(said.contains("gzip or zstd"), "{said}");
}

#[tokio::test]
async fn oversized_body_is_413_too_large() {
    let api = Api::new();
    let huge = vec![b' '; MAX_BODY_BYTES + 1];
    let (status, bytes) = api
        .call(
            Request::post("/sync/v1/enroll")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(huge))
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let answer: ApiError = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(answer.error.code, ErrorCode::TooLarge);
}

#[tokio::test]
async fn gzip_body_is_accepted_and_answers_are_compressed() {
    let api = Api::new();
    let device = api.enrolled().await;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(br#"{"cursor": 0, "limit": 10}"#).unwrap();
    let compressed = gz.finish().unwrap();
    let response = app(api.state.clone())
        .oneshot(
            Request::post("/sync/v1/exchange")
                .header(header::AUTHORIZATION, format!("Bearer {}", device.token))
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::CONTENT_ENCODING, "gzip")
                .header(header::ACCEPT_ENCODING, "gzip")
                .body(Body::from(compressed))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers().get(header::CONTENT_ENCODING).unwrap(),
        "gzip"
    );
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut text)
        .unwrap();
    let answer: ExchangeResponse = serde_json::from_str(&text).unwrap();
    assert!(!answer.changes.is_empty());
}

#[tokio::test]
async fn agency_steps_over_http() {
    let api = Api::new();
    api.enrolled().await;
    let (status, answer) = api
        .json(
            "POST",
            "/agency/v1/requests/0000-0000-0000/approve",
            Some(ADMIN),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&answer), ErrorCode::NotFound);
    let (status, answer) = api
        .json(
            "GET",
            "/agency/v1/agencies/nobody/requests",
            Some(ADMIN),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    let said = answer["error"]["message"].as_str().unwrap();
    assert!(
        said.contains("agency 'nobody' is not in the catalogue"),
        "{said}"
    );
    let (status, answer) = api
        .json(
            "GET",
            "/agency/v1/agencies/civil-registry/requests",
            Some(ADMIN),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer, serde_json::json!([]));
}

/// An agency's own credential: its list only (another agency's is 403), unknown ones 401.
#[tokio::test]
async fn an_agency_credential_reaches_its_own_agency_only() {
    let api = Api::new();
    api.enrolled().await;
    let token = api
        .state
        .office
        .issue_agency_token("civil-registry", chrono::Duration::days(1))
        .await
        .unwrap()
        .token;
    let list = |agency: &str, token: &str| {
        let path = format!("/agency/v1/agencies/{agency}/requests");
        let token = token.to_owned();
        let api = &api;
        async move {
            api.json("GET", &path, Some(&token), serde_json::json!({}))
                .await
        }
    };
    let (status, answer) = list("civil-registry", &token).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let (status, answer) = list("transport", &token).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(error_code(&answer), ErrorCode::Forbidden);
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("civil-registry")
    );
    let (status, answer) = list("civil-registry", "not-a-credential").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&answer), ErrorCode::Unauthorized);
    // The admin token still reaches every agency; an agency token is no admin token.
    let (status, _) = list("transport", ADMIN).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = api
        .json(
            "GET",
            "/admin/v1/devices",
            Some(&token),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        api.state
            .office
            .issue_agency_token("no such agency", chrono::Duration::days(1))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn serve_stops_on_its_shutdown_future() {
    let api = Api::new();
    common::Served::start(api.state.clone()).await.stop().await;
}

/// Clerk accounts through the admin API: answers never hold a verifier, bad input is 4xx with
/// a stable code and changes nothing, and every change reaches the centre's devices.
#[tokio::test]
async fn clerk_accounts_over_the_admin_api() {
    let api = Api::new();
    let device = api.enrolled().await;
    let (status, answer) = api
        .json(
            "GET",
            "/admin/v1/clerks",
            Some("wrong"),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(&answer), ErrorCode::Unauthorized);

    let new = |username: &str, role: &str, centres: &[&str], password: &str| {
        serde_json::json!({
            "username": username,
            "display_name": "Eleni Papadopoulou",
            "role": role,
            "centres": centres,
            "password": password,
        })
    };
    let (status, added) = api
        .json(
            "POST",
            "/admin/v1/clerks",
            Some(ADMIN),
            new("eleni", "clerk", &["ATH-01"], DEMO_PASSWORD),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    assert_eq!(added["username"], "eleni");
    assert_eq!(added["centres"], serde_json::json!(["ATH-01"]));
    assert_eq!(added["active"], true);
    assert!(added.get("verifier").is_none(), "{added}");

    let refusals: &[(serde_json::Value, StatusCode, ErrorCode, &str)] = &[
        (
            new("eleni", "clerk", &["ATH-01"], DEMO_PASSWORD),
            StatusCode::CONFLICT,
            ErrorCode::Conflict,
            "already exists",
        ),
        (
            new("maria", "boss", &["ATH-01"], DEMO_PASSWORD),
            StatusCode::BAD_REQUEST,
            ErrorCode::Malformed,
            "unknown variant",
        ),
        (
            new("maria", "clerk", &["ATH-01"], "short"),
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::Malformed,
            "at least 10 characters",
        ),
        (
            new("Maria!", "clerk", &["ATH-01"], DEMO_PASSWORD),
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::Malformed,
            "is not a user name",
        ),
        (
            new("maria", "clerk", &["ATH-01", "THE-01"], DEMO_PASSWORD),
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::Malformed,
            "a clerk belongs to exactly one",
        ),
        (
            new("maria", "supervisor", &[], DEMO_PASSWORD),
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::Malformed,
            "needs a centre",
        ),
        (
            new("maria", "clerk", &["NOPE-01"], DEMO_PASSWORD),
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            "no centre 'NOPE-01'",
        ),
    ];
    for (body, status, code, needle) in refusals {
        let (got, answer) = api
            .json("POST", "/admin/v1/clerks", Some(ADMIN), body.clone())
            .await;
        assert_eq!(got, *status, "{body}: {answer}");
        assert_eq!(error_code(&answer), *code, "{answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains(needle), "{message}");
    }
    let (status, listed) = api
        .json(
            "GET",
            "/admin/v1/clerks?center=ATH-01",
            Some(ADMIN),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert!(!listed.to_string().contains("argon2"), "{listed}");

    let step = |path: &str, body: serde_json::Value| {
        let path = format!("/admin/v1/clerks/{path}");
        let api = &api;
        async move { api.json("POST", &path, Some(ADMIN), body).await }
    };
    let (status, disabled) = step("eleni/disable", serde_json::json!({})).await;
    assert_eq!(status, StatusCode::OK, "{disabled}");
    assert_eq!(disabled["active"], false);
    let (status, answer) = step("eleni/disable", serde_json::json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(error_code(&answer), ErrorCode::Conflict);
    let (status, answer) = step("ghost/enable", serde_json::json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error_code(&answer), ErrorCode::NotFound);
    let (status, answer) = step("eleni/promote", serde_json::json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("reset-password")
    );
    let (status, answer) = step(
        "eleni/reset-password",
        serde_json::json!({"password": "eleni-2026-x"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("user name")
    );
    let (status, answer) = step("eleni/role", serde_json::json!({"rank": "supervisor"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    let (status, promoted) = step("eleni/role", serde_json::json!({"role": "supervisor"})).await;
    assert_eq!(status, StatusCode::OK, "{promoted}");
    assert_eq!(promoted["role"], "supervisor");
    assert_eq!(promoted["active"], false);

    // The device pulls each change once, in order.
    let (status, answer) = api
        .json(
            "POST",
            "/sync/v1/exchange",
            Some(&device.token),
            serde_json::json!({"cursor": 0, "limit": 100}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let answer: ExchangeResponse = serde_json::from_value(answer).unwrap();
    let accounts: Vec<_> = answer
        .changes
        .iter()
        .filter_map(|c| match &c.body {
            Pulled::Account { account } => Some((account.active, account.role)),
            _ => None,
        })
        .collect();
    assert_eq!(
        accounts,
        [
            (true, Role::Clerk),
            (false, Role::Clerk),
            (false, Role::Supervisor)
        ]
    );
}

#[tokio::test]
async fn an_enrolment_code_valid_out_of_range_is_refused_with_400() {
    let api = Api::new();
    api.enrolled().await;
    for hours in [0_u64, 721, 100_000_000, u64::from(u32::MAX)] {
        let (status, answer) = api
            .json(
                "POST",
                "/admin/v1/centers/ATH-01/enrolment-codes",
                Some(ADMIN),
                serde_json::json!({ "valid_hours": hours }),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{hours}: {answer}");
        assert_eq!(error_code(&answer), ErrorCode::Malformed);
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains("1 to 720 hours (30 days)"),
            "{answer}"
        );
    }
    let (status, _) = api
        .json(
            "POST",
            "/admin/v1/centers/ATH-01/enrolment-codes",
            Some(ADMIN),
            serde_json::json!({ "valid_hours": 720 }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
}

/// Whether the server closed `stream` within `within`: a read ends (EOF or reset) instead of
/// waiting.
async fn closed_within(stream: &mut tokio::net::TcpStream, within: std::time::Duration) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buffer = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            // An answer (to a request sent before): keep reading until the close.
            Ok(Ok(_)) => {}
        }
    }
}

/// A client that sends nothing, or its headers a byte at a time, or stays idle after a
/// request, loses its connection after the header timeout; connections beyond the cap wait in
/// the system's queue and are served once a slot frees.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_connections_are_closed_and_their_number_is_capped() {
    use std::time::{Duration, Instant};
    use tokio::io::AsyncWriteExt;
    use tokio::net::TcpStream;

    let api = Api::new();
    let mut state = api.state.clone();
    state.header_timeout = Duration::from_secs(1);
    state.max_connections = 2;
    let served = common::Served::start(state).await;
    let address = served.address;

    // Both slots taken: one client silent, one sending its headers a byte every 300 ms.
    let mut silent = TcpStream::connect(address).await.unwrap();
    let mut slow = TcpStream::connect(address).await.unwrap();
    let trickle = tokio::spawn(async move {
        for byte in b"GET /health HTTP/1.1\r\nHost: guichet\r\nX-Slow: yes\r\n" {
            if slow.write_all(&[*byte]).await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        closed_within(&mut slow, Duration::from_secs(3)).await
    });
    // A real client waits for a slot, then is served.
    let asked = Instant::now();
    let answer = tokio::time::timeout(
        Duration::from_secs(10),
        reqwest::get(format!("http://{address}/health")),
    )
    .await
    .expect("served once a slot freed")
    .unwrap();
    assert_eq!(answer.status(), 200);
    assert!(
        asked.elapsed() >= Duration::from_millis(500),
        "served at once ({:?}): the cap of two connections did not hold",
        asked.elapsed()
    );
    assert!(
        closed_within(&mut silent, Duration::from_secs(3)).await,
        "a silent connection stayed open"
    );
    assert!(trickle.await.unwrap(), "a trickling connection stayed open");

    // Idle after a request: closed too.
    let mut idle = TcpStream::connect(address).await.unwrap();
    idle.write_all(b"GET /health HTTP/1.1\r\nHost: guichet\r\n\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    assert!(
        closed_within(&mut idle, Duration::from_secs(4)).await,
        "an idle keep-alive connection stayed open"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(800),
        "{:?}",
        started.elapsed()
    );

    served.stop().await;
}

/// Wrong enrolment codes from one address: after ten, that address waits (429, with how
/// long), whatever it sends; each wrong code is logged and counted as a refused credential.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_that_guesses_enrolment_codes_is_made_to_wait() {
    let api = Api::new();
    let served = common::Served::start(api.state.clone()).await;
    let address = served.address;
    let http = reqwest::Client::new();
    let enrol = |code: String| {
        http.post(format!("http://{address}/sync/v1/enroll"))
            .json(&serde_json::json!({ "code": code }))
            .send()
    };
    for n in 0..guichet_backoffice::limit::PER_ADDRESS {
        let answer = enrol(format!("WRNG-CODE-{n:04}")).await.unwrap();
        assert_eq!(answer.status(), 401, "wrong code {n}");
    }
    let answer = enrol("WRNG-CODE-LAST".into()).await.unwrap();
    assert_eq!(answer.status(), 429);
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(error_code(&body), ErrorCode::TooManyAttempts);
    let said = body["error"]["message"].as_str().unwrap();
    assert!(
        said.contains("from this address") && said.contains("wait 10 minutes"),
        "{said}"
    );
    let health = api.state.office.health().await.unwrap();
    let counted = serde_json::to_string(&health).unwrap();
    assert!(counted.contains("enrolment"), "{counted}");
    served.stop().await;
}

/// Wrong passwords at first logins: after five for one user name on one device, that login
/// waits (429, with how long) even with the right password; after ten from one address, that
/// address waits whatever login it tries. Each wrong password is counted in the fleet's
/// health.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_logins_that_guess_passwords_are_made_to_wait() {
    use guichet_backoffice::limit::{VOUCH_PER_ADDRESS, VOUCH_PER_LOGIN};
    let api = Api::new();
    let enrolled = api.enrolled().await;
    common::add_clerk(&api.state.office, "eleni", Role::Clerk, &["ATH-01"]).await;
    let served = common::Served::start(api.state.clone()).await;
    let address = served.address;
    let http = reqwest::Client::new();
    let device = enrolled.device_code.clone();
    let vouch = |username: String, password: &str| {
        http.post(format!("http://{address}/sync/v1/vouch"))
            .json(&serde_json::json!({
                "device_code": device, "username": username, "password": password
            }))
            .send()
    };
    for n in 0..VOUCH_PER_LOGIN {
        let answer = vouch("eleni".into(), "wrong-password").await.unwrap();
        assert_eq!(answer.status(), 401, "wrong password {n}");
    }
    let answer = vouch("eleni".into(), DEMO_PASSWORD).await.unwrap();
    assert_eq!(answer.status(), 429, "the right password waits too");
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(error_code(&body), ErrorCode::TooManyAttempts);
    let said = body["error"]["message"].as_str().unwrap();
    assert!(
        said.contains("for this user name on this device") && said.contains("wait 10 minutes"),
        "{said}"
    );
    for n in VOUCH_PER_LOGIN..VOUCH_PER_ADDRESS {
        let answer = vouch(format!("clerk{n}"), "wrong-password").await.unwrap();
        assert_eq!(answer.status(), 401, "wrong password {n}");
    }
    let answer = vouch("someone".into(), "wrong-password").await.unwrap();
    assert_eq!(answer.status(), 429);
    let body: serde_json::Value = answer.json().await.unwrap();
    let said = body["error"]["message"].as_str().unwrap();
    assert!(said.contains("from this address"), "{said}");
    let health = api.state.office.health().await.unwrap();
    let counted = health
        .refusals
        .iter()
        .find(|r| r.kind == "vouch_refused")
        .map(|r| r.count);
    assert_eq!(counted, Some(u64::from(VOUCH_PER_ADDRESS)));
    served.stop().await;
}

/// Behind a trusted load balancer, wrong codes count against the client it names last in
/// `X-Forwarded-For`, not against the balancer: one guessing client waits, another client
/// behind the same balancer does not, and a client cannot pass for another by sending the
/// header itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_wrong_codes_count_against_the_forwarded_client() {
    let mut api = Api::new();
    api.state.trusted_proxies = std::sync::Arc::from([std::net::IpAddr::from([127, 0, 0, 1])]);
    let served = common::Served::start(api.state.clone()).await;
    let address = served.address;
    let http = reqwest::Client::new();
    let enrol = |forwarded: &'static str, code: String| {
        http.post(format!("http://{address}/sync/v1/enroll"))
            .header("x-forwarded-for", forwarded)
            .json(&serde_json::json!({ "code": code }))
            .send()
    };
    // What the guesser sends first is its own claim; the balancer appends the real address.
    for n in 0..guichet_backoffice::limit::PER_ADDRESS {
        let answer = enrol("192.0.2.99, 198.51.100.7", format!("WRNG-CODE-{n:04}"))
            .await
            .unwrap();
        assert_eq!(answer.status(), 401, "wrong code {n}");
    }
    let answer = enrol("198.51.100.7", "WRNG-CODE-LAST".into())
        .await
        .unwrap();
    assert_eq!(answer.status(), 429, "the guessing client waits");
    let answer = enrol("198.51.100.8", "WRNG-CODE-NEXT".into())
        .await
        .unwrap();
    assert_eq!(
        answer.status(),
        401,
        "another client behind the same balancer is still heard"
    );
    let answer = enrol("192.0.2.99", "WRNG-CODE-MINE".into()).await.unwrap();
    assert_eq!(
        answer.status(),
        401,
        "the address the guesser claimed first"
    );
    served.stop().await;
}

#[test]
fn a_forwarded_address_counts_only_from_a_trusted_proxy() {
    use axum::http::HeaderMap;
    use guichet_backoffice::http::client_address;
    use std::net::IpAddr;
    let proxy = IpAddr::from([10, 0, 0, 2]);
    let client = IpAddr::from([203, 0, 113, 5]);
    let mut headers = HeaderMap::new();
    headers.insert("x-forwarded-for", "192.0.2.1, 203.0.113.5".parse().unwrap());
    assert_eq!(client_address(proxy, &[proxy], &headers), client);
    assert_eq!(
        client_address(client, &[proxy], &headers),
        client,
        "an untrusted peer is counted by its own address"
    );
    assert_eq!(client_address(proxy, &[], &headers), proxy);
    headers.insert("x-forwarded-for", "not an address".parse().unwrap());
    assert_eq!(client_address(proxy, &[proxy], &headers), proxy);
    assert_eq!(client_address(proxy, &[proxy], &HeaderMap::new()), proxy);
}

#[test]
fn the_address_handed_to_the_updater_follows_the_proxy_or_the_servers_own_tls() {
    use axum::http::HeaderMap;
    use guichet_backoffice::http::public_base;
    let headers = |pairs: &[(&'static str, &'static str)]| {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, value.parse().unwrap());
        }
        headers
    };
    let host = [("host", "guichet.example:8443")];
    assert_eq!(
        public_base(&headers(&host), false).as_deref(),
        Some("http://guichet.example:8443")
    );
    assert_eq!(
        public_base(&headers(&host), true).as_deref(),
        Some("https://guichet.example:8443")
    );
    for (proto, https, scheme) in [
        ("https", false, "https"),
        ("HTTPS, http", false, "https"),
        ("http", true, "http"),
        ("gopher", true, "https"),
    ] {
        let given = headers(&[host[0], ("x-forwarded-proto", proto)]);
        assert_eq!(
            public_base(&given, https),
            Some(format!("{scheme}://guichet.example:8443")),
            "{proto}"
        );
    }
    for bad in [
        &[][..],
        &[("host", "evil@guichet.example")],
        &[("host", "a b")],
    ] {
        assert_eq!(public_base(&headers(bad), false), None, "{bad:?}");
    }
}

/// An operator changes a centre's terms over the admin API; every exchange's answer carries
/// them as they are now. A body with a field it does not know, or a zone that is none, is
/// refused with why, and changes nothing.
#[tokio::test]
async fn a_centres_terms_are_changed_by_the_admin_api_and_sent_with_each_exchange() {
    let api = Api::new();
    let device = api.enrolled().await;
    let exchange = || async {
        let (status, answer) = api
            .json(
                "POST",
                "/sync/v1/exchange",
                Some(&device.token),
                serde_json::json!({"cursor": 0, "limit": 1}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        answer["center"].clone()
    };
    assert_eq!(
        exchange().await,
        serde_json::json!({"name": "Athens", "time_zone": "Europe/Athens", "waiting_target_min": 15})
    );
    for (body, status, says) in [
        (
            serde_json::json!({"currency": "AZN"}),
            StatusCode::BAD_REQUEST,
            "unknown field `currency`",
        ),
        (
            serde_json::json!({"time_zone": "Europe/Athen", "waiting_target_min": 20}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "'Europe/Athen' is not a time zone",
        ),
        (
            serde_json::json!({}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "nothing to change",
        ),
    ] {
        let (got, answer) = api
            .json("PATCH", "/admin/v1/centers/ATH-01", Some(ADMIN), body)
            .await;
        assert_eq!(got, status, "{answer}");
        assert!(
            answer["error"]["message"].as_str().unwrap().contains(says),
            "{says}: {answer}"
        );
    }
    let (status, _) = api
        .json(
            "PATCH",
            "/admin/v1/centers/ATH-02",
            Some(ADMIN),
            serde_json::json!({"waiting_target_min": 20}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, changed) = api
        .json(
            "PATCH",
            "/admin/v1/centers/ATH-01",
            Some(ADMIN),
            serde_json::json!({"time_zone": "Europe/Nicosia", "waiting_target_min": 20}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["currency"], "EUR");
    assert_eq!(
        exchange().await,
        serde_json::json!({"name": "Athens", "time_zone": "Europe/Nicosia", "waiting_target_min": 20})
    );
}
