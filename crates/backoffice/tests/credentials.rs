//! Credentials with a life and the audit trail anchored centrally, on every storage backend:
//! agency credentials listed, revoked and expired (401 over HTTP), device credentials rotated
//! (the old one refused once the new one is used), every refusal counted in the fleet's
//! health, and a device whose audit trail stops extending the head held is refused and
//! flagged.

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use guichet_backoffice::model::{AgencyCredential, Refusal};
use guichet_backoffice::service::secret_hash;
use guichet_backoffice::{AppState, BackOffice, Error, Storage, app};
use guichet_domain::catalogue::CenterKind;
use guichet_protocol::{
    ApiError, AuditClaim, AuditPoint, EnrollRequest, ErrorCode, ExchangeRequest, ExchangeResponse,
    TokenRotation,
};
use http_body_util::BodyExt;
use tower::ServiceExt;

const ADMIN: &str = "admin-secret";

/// One call through the whole HTTP stack: status and JSON body.
async fn call(
    state: &AppState,
    method: &str,
    path: &str,
    token: &str,
    body: Option<serde_json::Value>,
) -> (StatusCode, serde_json::Value) {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::from(body.map(|b| b.to_string()).unwrap_or_default()))
        .unwrap();
    let response = app(state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let value = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    (status, value)
}

fn refused_with(body: &serde_json::Value) -> (ErrorCode, String) {
    let error: ApiError = serde_json::from_value(body.clone()).expect("an ApiError body");
    (error.error.code, error.error.message)
}

fn empty_exchange() -> serde_json::Value {
    serde_json::to_value(ExchangeRequest {
        push: Vec::new(),
        cursor: 0,
        limit: 10,
        recovery_key: None,
        audit: None,
        state: None,
    })
    .unwrap()
}

fn point(seq: u64, content: &str) -> AuditPoint {
    AuditPoint {
        seq,
        hash: guichet_domain::sha256_hex(content.as_bytes()),
    }
}

fn count_of(health: &guichet_backoffice::model::FleetHealth, refusal: Refusal) -> u64 {
    health
        .refusals
        .iter()
        .find(|r| r.kind == refusal.as_str())
        .map_or(0, |r| r.count)
}

async fn agency_credentials(office: &BackOffice, storage: &Arc<dyn Storage>, state: &AppState) {
    let path = "/agency/v1/agencies/civil-registry/requests";
    let issued = office
        .issue_agency_token("civil-registry", chrono::Duration::days(90))
        .await
        .unwrap();
    assert_eq!(issued.credential.id.len(), 12);
    assert!(issued.credential.expires_at.is_some());
    let (status, _) = call(state, "GET", path, &issued.token, None).await;
    assert_eq!(status, StatusCode::OK);

    // Listed by id, never by value, through the CLI's call and the admin API alike.
    let listed = office
        .agency_credentials(Some("civil-registry"))
        .await
        .unwrap();
    assert_eq!(listed, std::slice::from_ref(&issued.credential));
    let (status, body) = call(state, "GET", "/admin/v1/agency-credentials", ADMIN, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!body.to_string().contains(&issued.token));
    assert_eq!(body[0]["id"], issued.credential.id.as_str());

    // Revoked: 401, saying so; revoking an id that does not exist is a clear 404.
    let (status, body) = call(
        state,
        "POST",
        &format!(
            "/admin/v1/agency-credentials/{}/revoke",
            issued.credential.id
        ),
        ADMIN,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["revoked_at"].is_string());
    let (status, body) = call(state, "GET", path, &issued.token, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (code, message) = refused_with(&body);
    assert_eq!(code, ErrorCode::Unauthorized);
    assert!(message.contains("revoked"), "{message}");
    assert!(!message.contains(&issued.token), "{message}");
    assert!(matches!(
        office.revoke_agency_credential("000000000000").await,
        Err(Error::UnknownAgencyCredential { .. })
    ));

    // Expired: issued with an expiry already past, as time would make it.
    let old = "0123456789abcdef".repeat(4);
    storage
        .add_agency_token(
            &AgencyCredential {
                id: secret_hash(&old)[..12].to_owned(),
                agency: "civil-registry".into(),
                issued_at: "2025-01-01T00:00:00+00:00".into(),
                expires_at: Some("2025-04-01T00:00:00+00:00".into()),
                revoked_at: None,
            },
            &secret_hash(&old),
        )
        .await
        .unwrap();
    let (status, body) = call(state, "GET", path, &old, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(refused_with(&body).1.contains("expired"), "{body}");

    // Issued through the admin API with its own validity; zero days is refused.
    let (status, body) = call(
        state,
        "POST",
        "/admin/v1/agency-credentials",
        ADMIN,
        Some(serde_json::json!({"agency": "civil-registry", "valid_days": 7})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let token = body["token"].as_str().unwrap().to_owned();
    assert_eq!(
        call(state, "GET", path, &token, None).await.0,
        StatusCode::OK
    );
    let (status, _) = call(
        state,
        "POST",
        "/admin/v1/agency-credentials",
        ADMIN,
        Some(serde_json::json!({"agency": "civil-registry", "valid_days": 0})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, body) = call(
        state,
        "POST",
        "/admin/v1/agency-credentials",
        ADMIN,
        Some(serde_json::json!({"agency": "civil-registry", "valid_days": 4_000_000_000u32})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    // Unknown credential and wrong admin token.
    assert_eq!(
        call(state, "GET", path, "not-a-credential", None).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        call(state, "GET", "/admin/v1/health", "wrong-admin", None)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
}

async fn device_rotation(office: &BackOffice, state: &AppState) -> String {
    let code = office
        .issue_enrolment_code("ATH-01", chrono::Duration::hours(1))
        .await
        .unwrap();
    let enrolled = office
        .enroll(&EnrollRequest {
            code: code.code,
            label: None,
            recovery_key: None,
        })
        .await
        .unwrap();
    let exchange = "/sync/v1/exchange";
    let old = enrolled.token;
    assert_eq!(
        call(state, "POST", exchange, &old, Some(empty_exchange()))
            .await
            .0,
        StatusCode::OK
    );
    let (status, body) = call(state, "POST", "/sync/v1/token", &old, None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let new = serde_json::from_value::<TokenRotation>(body).unwrap().token;
    assert_ne!(new, old);
    // Until the new credential is used, the old one still works: a lost answer costs nothing.
    assert_eq!(
        call(state, "POST", exchange, &old, Some(empty_exchange()))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        call(state, "POST", exchange, &new, Some(empty_exchange()))
            .await
            .0,
        StatusCode::OK
    );
    let (status, body) = call(state, "POST", exchange, &old, Some(empty_exchange())).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused_with(&body).0, ErrorCode::Unauthorized);
    assert_eq!(
        call(state, "POST", exchange, &new, Some(empty_exchange()))
            .await
            .0,
        StatusCode::OK
    );
    // An unused enrolment code is counted too.
    assert!(
        office
            .enroll(&EnrollRequest {
                code: "AAAA-BBBB-CCCC".into(),
                label: None,
                recovery_key: None,
            })
            .await
            .is_err()
    );
    new
}

async fn audit_anchoring(office: &BackOffice, token: &str) {
    let device = office.authenticate(token).await.unwrap();
    let exchange = |audit: Option<AuditClaim>| ExchangeRequest {
        push: Vec::new(),
        cursor: 0,
        limit: 10,
        recovery_key: None,
        audit,
        state: None,
    };
    let claim = |head, anchor| Some(AuditClaim { head, anchor });
    let sent: ExchangeResponse = office
        .exchange(&device, &exchange(claim(point(3, "e3"), None)))
        .await
        .unwrap();
    assert_eq!(sent.audit_anchor, Some(3));
    let sent = office
        .exchange(
            &device,
            &exchange(claim(point(5, "e5"), Some(point(3, "e3")))),
        )
        .await
        .unwrap();
    assert_eq!(sent.audit_anchor, Some(5));
    // Beyond the held head without the event at its place: asked for it, nothing flagged.
    assert!(matches!(
        office
            .exchange(&device, &exchange(claim(point(7, "e7"), None)))
            .await,
        Err(Error::AuditAnchor { seq: 5 })
    ));
    // Once a head was sent, one must always be.
    assert!(matches!(
        office.exchange(&device, &exchange(None)).await,
        Err(Error::AuditAnchor { seq: 5 })
    ));
    let health = office.health().await.unwrap();
    let standing = health
        .devices
        .iter()
        .find(|d| d.device == device.code)
        .unwrap();
    assert_eq!(
        (standing.audit_seq, standing.flag.as_deref()),
        (Some(5), None)
    );

    // Rewritten: the event at the held place is another one. Refused and flagged.
    let rewritten = office
        .exchange(
            &device,
            &exchange(claim(point(8, "e8"), Some(point(5, "forged")))),
        )
        .await;
    assert!(
        matches!(&rewritten, Err(Error::AuditRewritten { reason, .. }) if reason.contains("rewritten")),
        "{rewritten:?}"
    );
    // Cut short: its head is below the held one.
    let truncated = office
        .exchange(&device, &exchange(claim(point(4, "e4"), None)))
        .await;
    assert!(
        matches!(&truncated, Err(Error::AuditRewritten { reason, .. }) if reason.contains("cut short")),
        "{truncated:?}"
    );
    assert_eq!(
        truncated.unwrap_err().status_and_code(),
        (409, ErrorCode::AuditRewritten)
    );
    let health = office.health().await.unwrap();
    let standing = health
        .devices
        .iter()
        .find(|d| d.device == device.code)
        .unwrap();
    // The first reason stays; the head held is still the last one that extended.
    assert_eq!(standing.audit_seq, Some(5));
    assert!(
        standing.flag.as_deref().unwrap().contains("rewritten"),
        "{standing:?}"
    );
    assert!(standing.flagged_at.is_some());
    assert_eq!(count_of(&health, Refusal::AuditRewritten), 2);
}

async fn story(storage: Arc<dyn Storage>) {
    let office = BackOffice::new(storage.clone());
    office
        .add_center(&guichet_backoffice::NewCenter {
            code: "ATH-01",
            name: "Athens",
            kind: CenterKind::Stationary,
            time_zone: "Europe/Athens",
            currency: "EUR",
            waiting_target_min: 15,
        })
        .await
        .unwrap();
    office
        .publish_catalogue(&guichet_fixtures::demo_catalogue())
        .await
        .unwrap();
    let state = AppState::new(office.clone(), Some(ADMIN.into()));

    agency_credentials(&office, &storage, &state).await;
    let token = device_rotation(&office, &state).await;
    audit_anchoring(&office, &token).await;

    // Every refusal above was counted, by kind, without the credential.
    let health = office.health().await.unwrap();
    assert_eq!(count_of(&health, Refusal::AgencyCredentialRevoked), 1);
    assert_eq!(count_of(&health, Refusal::AgencyCredentialExpired), 1);
    assert_eq!(count_of(&health, Refusal::AgencyCredentialUnknown), 1);
    assert_eq!(count_of(&health, Refusal::AdminCredentialWrong), 1);
    assert_eq!(count_of(&health, Refusal::DeviceCredentialUnknown), 1);
    assert_eq!(count_of(&health, Refusal::EnrolmentCodeRefused), 1);
    assert_eq!(count_of(&health, Refusal::DeviceRevoked), 0);
    let (status, body) = call(&state, "GET", "/admin/v1/health", ADMIN, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["devices"].as_array().unwrap().len(), 1);
    assert_eq!(body["failed_logins"], 0);
    assert!(!body.to_string().contains(&token));
}

#[tokio::test]
async fn credentials_and_audit_anchoring_on_sqlite() {
    let (storage, _dir) = common::sqlite();
    story(storage).await;
}

#[tokio::test]
async fn credentials_and_audit_anchoring_on_postgres() {
    let db = common::PgDatabase::create().await;
    story(db.storage().await).await;
}

/// The release before credentials had a life: its schema and an agency credential it issued.
const BEFORE_CREDENTIALS: usize = 4;
const OLD_AGENCY_TOKEN: &str = "an agency credential issued by the previous release";

fn old_agency_token_row() -> String {
    format!(
        "INSERT INTO agency_tokens (token_hash, agency, issued_at)
         VALUES ('{}', 'civil-registry', '2026-01-05T08:00:00+00:00')",
        secret_hash(OLD_AGENCY_TOKEN)
    )
}

/// The credential still works, gets its id, and expires 90 days after the migration.
async fn migrated_from_before_credentials(office: BackOffice) {
    assert_eq!(
        office.agency_of(OLD_AGENCY_TOKEN).await.unwrap(),
        "civil-registry"
    );
    let listed = office.agency_credentials(None).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, secret_hash(OLD_AGENCY_TOKEN)[..12]);
    let expires =
        chrono::DateTime::parse_from_rfc3339(listed[0].expires_at.as_deref().unwrap()).unwrap();
    let days = (expires.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_days();
    assert!((88..=90).contains(&days), "expires in {days} days");
    assert_eq!(listed[0].revoked_at, None);
}

#[tokio::test]
async fn sqlite_agency_credentials_of_the_previous_release_get_a_life() {
    let dir = tempfile::TempDir::new().unwrap();
    let path = dir.path().join("bo.sqlite3");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        for migration in &guichet_backoffice::storage::SQLITE_MIGRATIONS[..BEFORE_CREDENTIALS] {
            conn.execute_batch(migration.sql).unwrap();
            conn.pragma_update(None, "user_version", migration.version as i64)
                .unwrap();
        }
        conn.execute(&old_agency_token_row(), []).unwrap();
    }
    let office = BackOffice::open(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    migrated_from_before_credentials(office).await;
}

#[tokio::test]
async fn postgres_agency_credentials_of_the_previous_release_get_a_life() {
    let db = common::PgDatabase::create().await;
    {
        let client = common::pg_client(&db.url).await;
        client
            .batch_execute("CREATE TABLE schema_version (version BIGINT NOT NULL)")
            .await
            .unwrap();
        for migration in &guichet_backoffice::storage::POSTGRES_MIGRATIONS[..BEFORE_CREDENTIALS] {
            client.batch_execute(migration.sql).await.unwrap();
            client
                .execute(
                    "INSERT INTO schema_version (version) VALUES ($1)",
                    &[&(migration.version as i64)],
                )
                .await
                .unwrap();
        }
        client.batch_execute(&old_agency_token_row()).await.unwrap();
    }
    migrated_from_before_credentials(BackOffice::open(&db.url).await.unwrap()).await;
}
