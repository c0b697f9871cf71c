//! Shared harness: a back office on a fresh SQLite file or a fresh PostgreSQL database, and a
//! real workstation that makes the changes to push.

#![allow(dead_code)]

pub mod processes;

use guichet_domain::keyslot::RecoveryKey;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use guichet_backoffice::model::{Clerk, NewClerk};
use guichet_backoffice::storage::{PostgresStorage, SqliteStorage};
use guichet_backoffice::{BackOffice, Storage};
use guichet_domain::account::Role;
use guichet_domain::catalogue::{Channel, Fee, Service};
use guichet_fixtures::DEMO_PASSWORD;
use guichet_protocol::{Change, EnrollResponse, ExchangeRequest, PushEntry};
use guichet_workstation::Workstation;
use guichet_workstation::clock::ManualClock;
use guichet_workstation::store::OutboxEntry;
use tempfile::TempDir;

/// A SQLite back office in a temporary directory (removed on drop).
pub fn sqlite() -> (Arc<dyn Storage>, TempDir) {
    let dir = TempDir::new().unwrap();
    let storage = SqliteStorage::open(&dir.path().join("backoffice.sqlite3")).unwrap();
    (Arc::new(storage), dir)
}

/// A database of its own on the tests' PostgreSQL, dropped on drop.
pub struct PgDatabase(guichet_fixtures::pg::TestDatabase);

impl std::ops::Deref for PgDatabase {
    type Target = guichet_fixtures::pg::TestDatabase;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl PgDatabase {
    pub async fn create() -> Self {
        PgDatabase(guichet_fixtures::pg::TestDatabase::create().await)
    }

    pub async fn storage(&self) -> Arc<dyn Storage> {
        Arc::new(PostgresStorage::connect(&self.0.url).await.unwrap())
    }
}

/// The one column `sql` selects, row by row, read from a back office's database directly, on a
/// connection of the test's own: SQLite or PostgreSQL by the URL (`sqlite://PATH`,
/// `postgres://...`).
pub async fn column<T>(url: &str, sql: &str) -> Vec<T>
where
    T: rusqlite::types::FromSql + for<'a> tokio_postgres::types::FromSql<'a>,
{
    if let Some(path) = url.strip_prefix("sqlite://") {
        let db = rusqlite::Connection::open(path).unwrap();
        let mut stmt = db.prepare(sql).unwrap();
        stmt.query_map([], |row| row.get::<_, T>(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    } else {
        let rows = pg_client(url).await.query(sql, &[]).await.unwrap();
        rows.iter().map(|row| row.get(0)).collect()
    }
}

/// A connection of the test's own to the PostgreSQL database at `url`.
pub async fn pg_client(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    client
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

/// Adds a stationary centre in Athens' time zone, counting euros, with a 15-minute target.
pub async fn add_center(office: &BackOffice, code: &str, name: &str) {
    office
        .add_center(&guichet_backoffice::NewCenter {
            code,
            name,
            kind: guichet_domain::catalogue::CenterKind::Stationary,
            time_zone: "Europe/Athens",
            currency: "EUR",
            waiting_target_min: 15,
        })
        .await
        .unwrap();
}

/// A back office on `storage` with the centre ATH-01, the demo catalogue and [`CLERK`]'s
/// account there.
pub async fn athens(storage: Arc<dyn Storage>) -> BackOffice {
    let office = BackOffice::new(storage);
    add_center(&office, "ATH-01", "Athens Central").await;
    office
        .publish_catalogue(&guichet_fixtures::demo_catalogue())
        .await
        .unwrap();
    add_clerk(&office, CLERK, Role::Clerk, &["ATH-01"]).await;
    office
}

/// An exchange that pushes `push` and pulls from `cursor`, up to 100 changes.
pub fn exchange(push: Vec<PushEntry>, cursor: u64) -> ExchangeRequest {
    ExchangeRequest {
        audit: None,
        push,
        cursor,
        limit: 100,
        recovery_key: None,
        state: None,
    }
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

/// A back office serving `state` on a free loopback port until stopped.
pub struct Served {
    pub address: std::net::SocketAddr,
    /// `http://` and the address.
    pub base: String,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Served {
    pub async fn start(state: guichet_backoffice::AppState) -> Served {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(guichet_backoffice::serve(listener, state, async move {
            let _ = stopped.await;
        }));
        Served {
            address,
            base: format!("http://{address}"),
            stop,
            server,
        }
    }

    /// Stops it, and checks that it stopped cleanly.
    pub async fn stop(self) {
        self.stop.send(()).unwrap();
        self.server.await.unwrap().unwrap();
    }
}

/// Sends `request` as it is to the server at `address` (`HOST:PORT`) and reads its answer
/// until the server closes; fails if that takes more than 10 s.
pub async fn raw_request(address: &str, request: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut answer),
    )
    .await
    .expect("an answer within 10 s")
    .unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}
