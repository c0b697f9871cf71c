//! The harness of the cross-crate tests: a real back office serving HTTP on a loopback port of
//! its own, over a fresh SQLite file, and workstations in temporary directories enrolled with it.

use std::sync::Arc;
use std::time::Duration;

use guichet_backoffice::storage::SqliteStorage;
use guichet_backoffice::{AppState, BackOffice};
use guichet_domain::catalogue::CenterKind;
use guichet_workstation::Workstation;
use guichet_workstation::clock::Clock;
use guichet_workstation::sync::{self, SyncError, SyncReport};
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A back office listening on 127.0.0.1 (a port the system chose), stopped on drop.
#[derive(Debug)]
pub struct Server {
    pub office: BackOffice,
    pub url: String,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
    _dir: TempDir,
}

impl Server {
    /// Starts a back office with one centre and the demo catalogue published.
    pub async fn start(center: &str) -> Server {
        let dir = TempDir::new().expect("temp dir");
        let storage =
            SqliteStorage::open(&dir.path().join("backoffice.sqlite3")).expect("back-office store");
        let office = BackOffice::new(Arc::new(storage));
        office
            .add_center(center, "Athens Central", CenterKind::Stationary)
            .await
            .expect("centre");
        office
            .publish_catalogue(&guichet_fixtures::demo_catalogue())
            .await
            .expect("catalogue");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let (stop, stopped) = oneshot::channel::<()>();
        let state = AppState::new(office.clone(), Some("admin-secret".into()));
        let task = tokio::spawn(guichet_backoffice::serve(listener, state, async move {
            let _ = stopped.await;
        }));
        Server {
            office,
            url,
            stop: Some(stop),
            task: Some(task),
            _dir: dir,
        }
    }

    /// Stops serving and waits for requests in flight.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A workstation enrolled with a server, in a temporary directory.
#[derive(Debug)]
pub struct Device {
    pub dir: TempDir,
    pub ws: Workstation,
    pub office: sync::BackOffice,
}

impl Device {
    /// Enrols a new device of `center` through the HTTP API, as `guichet enroll` does.
    pub async fn enroll(server: &Server, center: &str, clock: Arc<dyn Clock>) -> Device {
        let code = server
            .office
            .issue_enrolment_code(center, chrono::Duration::hours(1))
            .await
            .expect("enrolment code");
        let anonymous =
            sync::BackOffice::new(&server.url, None, Duration::from_secs(10)).expect("client");
        let enrolled = anonymous
            .enroll(&code.code, Some("test"))
            .await
            .expect("enrol");
        let dir = TempDir::new().expect("temp dir");
        let mut ws = Workstation::open(&dir.path().join("guichet.sqlite3"), clock).expect("open");
        ws.enroll(&enrolled, &server.url, Some("eleni"))
            .expect("enrolled here");
        let office =
            sync::BackOffice::new(&server.url, Some(enrolled.token), Duration::from_secs(10))
                .expect("client");
        Device { dir, ws, office }
    }

    pub async fn sync(&mut self) -> Result<SyncReport, SyncError> {
        sync::sync_once(&mut self.ws, &self.office, &|_| {}).await
    }
}
