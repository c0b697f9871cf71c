//! The harness of the cross-crate tests: a real back office serving HTTP on a loopback port of
//! its own, over a fresh SQLite file (or a fresh PostgreSQL database when
//! `GUICHET_TEST_BACKEND=postgres`), and workstations in temporary directories enrolled with it.

pub mod proxy;
pub mod window;

use guichet_domain::keyslot::RecoveryKey;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use guichet_backoffice::model::NewClerk;
use guichet_backoffice::storage::{PostgresStorage, SqliteStorage};
use guichet_backoffice::{AppState, BackOffice};
use guichet_domain::account::Role;
use guichet_domain::catalogue::CenterKind;
use guichet_fixtures::DEMO_PASSWORD;
use guichet_workstation::Workstation;
use guichet_workstation::clock::Clock;
use guichet_workstation::sync::{self, SyncError, SyncReport};
use tempfile::TempDir;
use tokio::sync::oneshot;

/// A back office listening on 127.0.0.1 (a port the system chose), stopped on drop.
///
/// It serves from a runtime of its own, on a thread of its own, so that `crash` can drop every
/// connection and request in flight at once, as a killed process would, and `restart` can
/// start it again on the same storage and port.
#[derive(Debug)]
pub struct Server {
    pub office: BackOffice,
    pub url: String,
    pub addr: SocketAddr,
    data: Data,
    running: Option<Running>,
    _dir: TempDir,
}

/// How to stop serving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// Stop accepting and let requests in flight finish.
    Graceful,
    /// Drop everything in flight, as a killed process would.
    Crash,
}

/// The serving thread's handles.
#[derive(Debug)]
struct Running {
    stop: oneshot::Sender<Stop>,
    stopped: oneshot::Receiver<()>,
}

impl Server {
    /// Starts a back office with one centre and the demo catalogue published.
    pub async fn start(center: &str) -> Server {
        let dir = TempDir::new().expect("temp dir");
        let data = Data::new(dir.path()).await;
        let office = open_office(&data).await;
        office
            .add_center(&guichet_backoffice::NewCenter {
                code: center,
                name: "Athens Central",
                kind: CenterKind::Stationary,
                time_zone: "Europe/Athens",
                currency: "EUR",
                waiting_target_min: 15,
            })
            .await
            .expect("centre");
        office
            .publish_catalogue(&guichet_fixtures::demo_catalogue())
            .await
            .expect("catalogue");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("address");
        let running = serve_on_own_thread(listener, office.clone());
        Server {
            office,
            url: format!("http://{addr}"),
            addr,
            data,
            running: Some(running),
            _dir: dir,
        }
    }

    /// Stops serving and waits for requests in flight.
    pub async fn shutdown(mut self) {
        self.stop(Stop::Graceful).await;
    }

    /// Stops at once: every connection is closed and every request in flight is dropped, its
    /// answer never sent. A storage call already running finishes, as a committed transaction
    /// would survive a crash.
    pub async fn crash(&mut self) {
        self.stop(Stop::Crash).await;
    }

    /// Starts again on the same storage and port, reopening the storage as a new process
    /// would; crashes first if still running.
    pub async fn restart(&mut self) {
        self.crash().await;
        self.office = open_office(&self.data).await;
        // The standard library sets SO_REUSEADDR on Unix, so the port is free again at once
        // even with the old connections in TIME_WAIT.
        let listener = std::net::TcpListener::bind(self.addr).expect("bind the same port again");
        self.running = Some(serve_on_own_thread(listener, self.office.clone()));
    }

    async fn stop(&mut self, how: Stop) {
        if let Some(running) = self.running.take() {
            let _ = running.stop.send(how);
            let _ = running.stopped.await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            let _ = running.stop.send(Stop::Crash);
        }
    }
}

/// Where a test back office keeps its data.
#[derive(Debug)]
enum Data {
    Sqlite(PathBuf),
    Postgres(guichet_fixtures::pg::TestDatabase),
}

impl Data {
    /// A SQLite file in `dir`, or a PostgreSQL database of its own when
    /// `GUICHET_TEST_BACKEND=postgres` (`.ci/test` runs the cross-crate suites both ways).
    async fn new(dir: &Path) -> Data {
        match std::env::var("GUICHET_TEST_BACKEND").as_deref() {
            Err(_) | Ok("" | "sqlite") => Data::Sqlite(dir.join("backoffice.sqlite3")),
            Ok("postgres") => Data::Postgres(guichet_fixtures::pg::TestDatabase::create().await),
            Ok(other) => panic!("GUICHET_TEST_BACKEND={other}: give sqlite or postgres"),
        }
    }
}

/// Opens the back office's storage, as a new process would.
async fn open_office(data: &Data) -> BackOffice {
    let storage: Arc<dyn guichet_backoffice::Storage> = match data {
        Data::Sqlite(path) => Arc::new(SqliteStorage::open(path).expect("back-office store")),
        Data::Postgres(db) => Arc::new(
            PostgresStorage::connect(&db.url)
                .await
                .expect("back-office store"),
        ),
    };
    BackOffice::new(storage)
}

fn serve_on_own_thread(listener: std::net::TcpListener, office: BackOffice) -> Running {
    let (stop, stop_rx) = oneshot::channel::<Stop>();
    let (stopped_tx, stopped) = oneshot::channel::<()>();
    listener
        .set_nonblocking(true)
        .expect("non-blocking listener");
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("server runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            let state = AppState::new(office, Some("admin-secret".into()));
            let (graceful, graceful_rx) = oneshot::channel::<()>();
            let serving = guichet_backoffice::serve(listener, state, async move {
                let _ = graceful_rx.await;
            });
            tokio::pin!(serving);
            tokio::select! {
                _ = &mut serving => {}
                how = stop_rx => {
                    // A dropped `Server` without a word means the test is over: crash.
                    if how == Ok(Stop::Graceful) {
                        let _ = graceful.send(());
                        let _ = serving.await;
                    }
                }
            }
        });
        // Dropping the runtime drops every connection task it still holds: their sockets
        // close as a killed process's would.
        drop(runtime);
        let _ = stopped_tx.send(());
    });
    Running { stop, stopped }
}

impl Server {
    /// The ids of the changes the back office applied, read from its database directly.
    pub async fn applied_change_ids(&self) -> std::collections::HashSet<String> {
        const SQL: &str = "SELECT id FROM applied_changes";
        match &self.data {
            Data::Sqlite(path) => {
                let db = rusqlite::Connection::open(path).expect("the back office's database");
                let mut stmt = db.prepare(SQL).expect("applied changes");
                stmt.query_map([], |row| row.get(0))
                    .expect("applied changes")
                    .collect::<Result<_, _>>()
                    .expect("applied changes")
            }
            Data::Postgres(db) => {
                let (client, connection) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
                    .await
                    .expect("the back office's database");
                tokio::spawn(connection);
                let rows = client.query(SQL, &[]).await.expect("applied changes");
                rows.iter().map(|row| row.get(0)).collect()
            }
        }
    }

    /// Adds an account of `center` on the back office, with the demo password.
    pub async fn add_clerk(&self, center: &str, username: &str, display_name: &str, role: Role) {
        self.office
            .add_clerk(&NewClerk {
                username: username.to_owned(),
                display_name: display_name.to_owned(),
                role,
                centers: vec![center.to_owned()],
                password: DEMO_PASSWORD.to_owned(),
            })
            .await
            .expect("an account of the centre");
    }
}

/// The clerk the harness makes on the back office for each centre it enrols a device of, with
/// the demo password: `clerk-ath-01` for ATH-01.
pub fn clerk_of(center: &str) -> String {
    format!("clerk-{}", center.to_lowercase())
}

/// A workstation enrolled with a server, in a temporary directory, its centre's clerk logged in.
#[derive(Debug)]
pub struct Device {
    pub dir: TempDir,
    pub ws: Workstation,
    pub office: sync::BackOffice,
    /// The device's credential, for a second client (the background task).
    pub token: String,
    /// The device's recovery key, as the back office holds it: what opens the encrypted
    /// database behind the store's back, for tests that tamper with it.
    pub recovery: RecoveryKey,
}

impl Device {
    /// A connection of the test's own to the device's encrypted database.
    pub fn raw(&self) -> rusqlite::Connection {
        guichet_workstation::store::open_with_recovery_key(self.dir.path(), &self.recovery)
            .expect("the recovery key opens the device's database")
    }

    /// Enrols a new device of `center` through the HTTP API, as `guichet enroll` does.
    pub async fn enroll(server: &Server, center: &str, clock: Arc<dyn Clock>) -> Device {
        Device::enroll_through(server, &server.url, center, clock, Duration::from_secs(10)).await
    }

    /// Enrols a new device of `center` that reaches the back office at `url` (a proxy in
    /// front of `server`, say), with `timeout` on every call.
    pub async fn enroll_through(
        server: &Server,
        url: &str,
        center: &str,
        clock: Arc<dyn Clock>,
        timeout: Duration,
    ) -> Device {
        let clerk = clerk_of(center);
        let known = server.office.clerks(Some(center)).await.expect("clerks");
        if !known.iter().any(|c| c.username == clerk) {
            server
                .add_clerk(center, &clerk, &format!("Clerk of {center}"), Role::Clerk)
                .await;
        }
        let code = server
            .office
            .issue_enrolment_code(center, chrono::Duration::hours(1))
            .await
            .expect("enrolment code");
        let anonymous = sync::BackOffice::new(url, None, timeout).expect("client");
        let dir = TempDir::new().expect("temp dir");
        let mut ws = Workstation::open(&dir.path().join("guichet.sqlite3"), clock).expect("open");
        let (enrolled, recovery) = sync::enroll(&anonymous, &code.code, Some("test"))
            .await
            .expect("enrol");
        ws.enroll(&enrolled, url, &[], &recovery)
            .expect("enrolled here");
        sync::login(&mut ws, &clerk, DEMO_PASSWORD)
            .await
            .expect("the back office vouches for the centre's clerk at their first login");
        let token = enrolled.token;
        let office = sync::BackOffice::new(url, Some(token.clone()), timeout).expect("client");
        Device {
            dir,
            ws,
            office,
            token,
            recovery,
        }
    }

    /// Takes `n` requests offline (each paid if charged, submitted and dispatched), cycling
    /// through the services this centre takes requests for, and returns their receipts.
    pub fn offline_work(&mut self, n: u32) -> Vec<String> {
        offline_work(&mut self.ws, n)
    }

    pub async fn sync(&mut self) -> Result<SyncReport, SyncError> {
        sync::sync_once(&mut self.ws, &self.office, &|_| {}).await
    }
}

/// Takes `n` requests offline on any workstation set up with a catalogue (each paid if charged,
/// submitted and dispatched) for as many new citizens, cycling through the services this centre
/// takes requests for, and returns their receipts.
pub fn offline_work(ws: &mut Workstation, n: u32) -> Vec<String> {
    // Citizens registered by an earlier call keep their numbers: new ones follow them.
    let registered: u32 = ws
        .inspect(|c| {
            c.query_row("SELECT count(*) FROM citizens", [], |r| r.get(0))
                .map_err(guichet_workstation::Error::from)
        })
        .expect("count the citizens");
    guichet_fixtures::history::take_requests(ws, registered, n).expect("requests")
}
