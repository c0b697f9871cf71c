//! Shared harness: a back office on a fresh SQLite file or a fresh PostgreSQL database, and a
//! real workstation that makes the changes to push.

#![allow(dead_code)]

pub mod processes;

use guichet_domain::keyslot::RecoveryKey;
use std::io::Write;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use guichet_backoffice::model::{Clerk, NewClerk};
use guichet_backoffice::storage::{PostgresStorage, SqliteStorage};
use guichet_backoffice::{BackOffice, Storage};
use guichet_domain::account::Role;
use guichet_domain::catalogue::{Channel, Fee, Service};
use guichet_fixtures::DEMO_PASSWORD;
use guichet_protocol::{Change, EnrollResponse, PushEntry};
use guichet_workstation::Workstation;
use guichet_workstation::clock::ManualClock;
use guichet_workstation::store::OutboxEntry;
use tempfile::TempDir;

pub const ADMIN_PG_DEFAULT: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A SQLite back office in a temporary directory (removed on drop).
pub fn sqlite() -> (Arc<dyn Storage>, TempDir) {
    let dir = TempDir::new().unwrap();
    let storage = SqliteStorage::open(&dir.path().join("backoffice.sqlite3")).unwrap();
    (Arc::new(storage), dir)
}

/// A database of its own on the local PostgreSQL, dropped when this goes out of scope.
pub struct PgDatabase {
    admin_url: String,
    pub name: String,
    pub url: String,
}

impl PgDatabase {
    pub async fn create() -> Self {
        let admin_url =
            std::env::var("GUICHET_TEST_PG_URL").unwrap_or_else(|_| ADMIN_PG_DEFAULT.into());
        let (client, connection) =
            match tokio_postgres::connect(&admin_url, tokio_postgres::NoTls).await {
                Ok(pair) => pair,
                Err(e) => panic!(
                    "PostgreSQL is not reachable at {admin_url} ({e}). Start it (on Debian: \
                 `apt-get install -y postgresql && service postgresql start`, with trust auth \
                 for user postgres on 127.0.0.1) or point GUICHET_TEST_PG_URL at a server where \
                 this user may create databases. This test never skips."
                ),
            };
        tokio::spawn(connection);
        let name = format!("guichet_test_{}", uuid::Uuid::new_v4().simple());
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        let base = admin_url
            .split_once('?')
            .map_or(admin_url.as_str(), |(b, _)| b);
        let (server, _) = base.rsplit_once('/').unwrap();
        let url = format!("{server}/{name}");
        PgDatabase {
            admin_url,
            name,
            url,
        }
    }

    pub async fn storage(&self) -> Arc<dyn Storage> {
        Arc::new(PostgresStorage::connect(&self.url).await.unwrap())
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop runs outside async: a thread with its own runtime does the cleanup.
        let done = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let (client, connection) =
                    tokio_postgres::connect(&admin_url, tokio_postgres::NoTls).await?;
                tokio::spawn(connection);
                client
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await
            })
        })
        .join();
        if !matches!(done, Ok(Ok(()))) {
            // Not a panic: this may run while a failed test unwinds.
            let _ = writeln!(
                std::io::stderr(),
                "could not drop test database {}: {done:?}",
                self.name
            );
        }
    }
}

/// Tuesday 2026-03-10, 09:00 UTC.
pub fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::at(
        Utc.with_ymd_and_hms(2026, 3, 10, 9, 0, 0).unwrap(),
    ))
}

/// The account the tests' workstations log in with.
pub const CLERK: &str = "eleni";

/// Adds an account with the demo password (each costs an Argon2id hash: add few).
pub async fn add_clerk(office: &BackOffice, username: &str, role: Role, centers: &[&str]) -> Clerk {
    office
        .add_clerk(&NewClerk {
            username: username.into(),
            display_name: format!("{username} at the counter"),
            role,
            centers: centers.iter().map(|c| (*c).to_owned()).collect(),
            password: DEMO_PASSWORD.into(),
        })
        .await
        .unwrap()
}

/// A back office on `storage` with the centre ATH-01, the demo catalogue and [`CLERK`]'s
/// account there.
pub async fn athens(storage: Arc<dyn Storage>) -> BackOffice {
    let office = BackOffice::new(storage);
    office
        .add_center(
            "ATH-01",
            "Athens Central",
            guichet_domain::catalogue::CenterKind::Stationary,
        )
        .await
        .unwrap();
    office
        .publish_catalogue(&guichet_fixtures::demo_catalogue())
        .await
        .unwrap();
    add_clerk(&office, CLERK, Role::Clerk, &["ATH-01"]).await;
    office
}

/// Asserts that every pushed entry of `answer` had an outcome `pass` accepts.
pub fn assert_every_outcome(
    answer: &guichet_protocol::ExchangeResponse,
    pass: impl Fn(&guichet_protocol::Outcome) -> bool,
) {
    assert!(
        answer.results.iter().all(|r| pass(&r.outcome)),
        "{:?}",
        answer.results
    );
}

/// Enrols a new device of `center` with a fresh one-time code.
pub async fn enrol(office: &BackOffice, center: &str) -> EnrollResponse {
    let code = office
        .issue_enrolment_code(center, chrono::Duration::hours(1))
        .await
        .unwrap();
    office
        .enroll(&guichet_protocol::EnrollRequest {
            code: code.code,
            label: None,
            recovery_key: None,
        })
        .await
        .unwrap()
}

/// A workstation enrolled as the device of `enrolled`, with the accounts it brought, and
/// [`CLERK`] logged in as if the back office had vouched for them (no server runs here). Its
/// catalogue comes with its first pull.
pub fn workstation(dir: &TempDir, enrolled: &EnrollResponse) -> Workstation {
    let mut ws = Workstation::open(&dir.path().join("ws.sqlite3"), clock()).unwrap();
    let recovery = RecoveryKey::from_bytes([7; 20]);
    ws.enroll(enrolled, "http://127.0.0.1:1", &[], &recovery)
        .unwrap();
    let account = enrolled
        .accounts
        .iter()
        .find(|a| a.username == CLERK)
        .expect("the clerk's account came with the enrolment");
    ws.login_vouched(DEMO_PASSWORD, account, &recovery).unwrap();
    ws
}

/// A demo service with a fee that a stationary centre `center` takes requests for.
pub fn paid_service(center: &str) -> Service {
    guichet_fixtures::demo_catalogue()
        .services
        .into_iter()
        .find(|s| {
            s.availability.offered_at(center)
                && s.depth(Channel::StationaryCenter)
                    .is_some_and(|d| d.takes_requests())
                && matches!(s.fee, Fee::Charged { .. })
        })
        .expect("the demo catalogue has a paid service")
}

/// Outbox entries as they go on the wire.
pub fn push_entries(entries: &[OutboxEntry]) -> Vec<PushEntry> {
    entries
        .iter()
        .map(|e| PushEntry {
            id: e.id.clone(),
            seq: e.seq,
            hlc: e.hlc.parse().unwrap(),
            actor: e.actor.clone(),
            change: serde_json::from_value::<Change>(e.payload.clone()).unwrap(),
        })
        .collect()
}

/// The pending outbox entries after `after_seq`.
pub fn pending(ws: &Workstation, after_seq: u64) -> Vec<PushEntry> {
    let all = ws.outbox(None, 10_000).unwrap();
    push_entries(
        &all.into_iter()
            .filter(|e| e.seq > after_seq)
            .collect::<Vec<_>>(),
    )
}
