//! Shared set-up for the workstation's integration tests: a workstation in a temporary
//! directory on a manual clock, set up for a demo centre with the demo catalogue.

#![allow(dead_code)]

use guichet_domain::keyslot::RecoveryKey;
use std::sync::Arc;

use chrono::{NaiveDate, TimeZone, Utc};
use guichet_domain::catalogue::{CenterKind, Channel, Service};
// Re-exported so the test files take every helper from here; not every file uses both.
use guichet_domain::hlc::HlcStamp;
#[allow(unused_imports)]
pub use guichet_fixtures::history::{personal_code, valid_form};
use guichet_protocol::{EnrollResponse, ExchangeResponse, PulledChange};
use guichet_workstation::Workstation;
use guichet_workstation::clock::ManualClock;
use guichet_workstation::store::{NewCitizen, Setup};
use tempfile::TempDir;

pub struct Bench {
    pub dir: TempDir,
    pub clock: Arc<ManualClock>,
    pub ws: Workstation,
    /// The recovery key set-up printed: what opens the encrypted file outside the store.
    pub recovery: RecoveryKey,
}

impl Bench {
    /// A connection of the test's own to the bench's database, opened with the recovery key.
    pub fn raw(&self) -> rusqlite::Connection {
        guichet_workstation::store::open_with_recovery_key(self.dir.path(), &self.recovery).unwrap()
    }
}

/// Tuesday 2026-03-10, 09:00 UTC: a working day.
pub fn morning() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 10, 9, 0, 0).unwrap()
}

pub fn setup() -> Setup {
    Setup {
        center_code: "ATH-01".into(),
        center_name: "Athens Central".into(),
        center_kind: CenterKind::Stationary,
        device_code: "ATH-01-W1".into(),
        receipt_prefix: Some("K7XA".into()),
        national_id_scheme: "ee-isikukood".into(),
        currency: "EUR".into(),
        waiting_target_min: 15,
        time_zone: "UTC".into(),
        administrator: guichet_fixtures::administrator("eleni"),
    }
}

/// A workstation on disk, set up, with the demo catalogue loaded.
pub fn demo() -> Bench {
    let dir = TempDir::new().unwrap();
    let clock = Arc::new(ManualClock::at(morning()));
    let mut ws = Workstation::open(&dir.path().join("guichet.sqlite3"), clock.clone()).unwrap();
    ws.setup(setup()).unwrap();
    let recovery = ws.take_recovery_key().expect("set-up makes a recovery key");
    ws.load_catalogue(&guichet_fixtures::demo_catalogue())
        .unwrap();
    Bench {
        dir,
        clock,
        ws,
        recovery,
    }
}

pub fn citizen(serial: u32) -> NewCitizen {
    let born = NaiveDate::from_ymd_opt(1976, 5, 3).unwrap();
    NewCitizen {
        national_id: personal_code(born, serial),
        given_name: "Mari".into(),
        family_name: format!("Tamm-{serial}"),
        birth_date: born.to_string(),
        ..NewCitizen::default()
    }
}

/// The first demo service that can be taken at a stationary centre and satisfies `pick`.
pub fn service_where(ws: &Workstation, pick: impl Fn(&Service) -> bool) -> Service {
    guichet_fixtures::demo_catalogue()
        .services
        .into_iter()
        .filter(|s| s.availability.offered_at("ATH-01"))
        .filter(|s| {
            s.depth(Channel::StationaryCenter)
                .is_some_and(|d| d.takes_requests())
        })
        .find(|s| pick(s))
        .map(|s| ws.service(&s.code).unwrap())
        .expect("the demo catalogue has such a service")
}

/// A ticket in the standard lane for the first service of the catalogue.
pub fn any_ticket(ws: &mut Workstation) -> guichet_workstation::store::TicketView {
    let service = service_where(ws, |_| true);
    ws.issue_ticket(&guichet_workstation::store::NewTicket {
        target: guichet_domain::queue::QueueTarget::Service(service.code),
        lane: "standard".into(),
    })
    .expect("a ticket")
}

/// Enrols the bench's workstation with a back office that is never called: what applying an
/// exchange's answer needs.
pub fn enrolled(b: &mut Bench) {
    let config = b.ws.config().unwrap();
    b.ws.enroll(
        &EnrollResponse {
            center_code: config.center_code,
            national_id_scheme: "ee-isikukood".into(),
            currency: "EUR".into(),
            waiting_target_min: 15,
            center_name: config.center_name,
            center_kind: config.center_kind,
            time_zone: config.time_zone.to_string(),
            device_code: config.device_code,
            receipt_prefix: "K7XB".parse().unwrap(),
            token: "secret".into(),
            accounts: vec![],
        },
        "http://127.0.0.1:1",
        &[],
        &ENROLLED_RECOVERY,
    )
    .unwrap();
    b.recovery = ENROLLED_RECOVERY.clone();
}

/// The recovery key `enrolled` hands to its (imaginary) back office.
pub static ENROLLED_RECOVERY: std::sync::LazyLock<RecoveryKey> =
    std::sync::LazyLock::new(|| RecoveryKey::from_bytes([7; 20]));
/// The supervisor who approves the acts that need a second person, added on first use (the
/// bench's administrator is logged in).
pub fn supervisor(ws: &mut Workstation) -> guichet_workstation::store::Approval {
    let name = "kostas";
    if !ws.clerks().unwrap().iter().any(|c| c.username == name) {
        ws.add_clerk(&guichet_fixtures::clerk(
            name,
            guichet_domain::account::Role::Supervisor,
        ))
        .unwrap();
    }
    guichet_workstation::store::Approval {
        username: name.into(),
        password: guichet_fixtures::DEMO_PASSWORD.into(),
    }
}

/// The server's clock stamp in the back office's answers played here.
pub fn server_stamp() -> HlcStamp {
    HlcStamp {
        wall_ms: 1,
        counter: 0,
        node: "server".into(),
    }
}

/// The back office's answer to an exchange: `changes` pulled, up to `cursor`; nothing else.
pub fn answer(changes: Vec<PulledChange>, cursor: u64) -> ExchangeResponse {
    ExchangeResponse {
        audit_anchor: None,
        wipe: false,
        center: None,
        results: vec![],
        changes,
        cursor,
        more: false,
        server_hlc: server_stamp(),
    }
}
