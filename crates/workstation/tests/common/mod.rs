//! Shared set-up for the workstation's integration tests: a workstation in a temporary
//! directory on a manual clock, set up for a demo centre with the demo catalogue.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{NaiveDate, TimeZone, Utc};
use guichet_domain::catalogue::{CenterKind, Channel, Service};
use guichet_domain::form::FieldKind;
use guichet_workstation::Workstation;
use guichet_workstation::clock::ManualClock;
use guichet_workstation::store::{NewCitizen, Setup};
use tempfile::TempDir;

pub struct Bench {
    pub dir: TempDir,
    pub clock: Arc<ManualClock>,
    pub ws: Workstation,
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
        default_clerk: Some("eleni".into()),
    }
}

/// A workstation on disk, set up, with the demo catalogue loaded.
pub fn demo() -> Bench {
    let dir = TempDir::new().unwrap();
    let clock = Arc::new(ManualClock::at(morning()));
    let mut ws = Workstation::open(&dir.path().join("guichet.sqlite3"), clock.clone()).unwrap();
    ws.setup(setup()).unwrap();
    ws.load_catalogue(&guichet_fixtures::demo_catalogue(), "eleni")
        .unwrap();
    Bench { dir, clock, ws }
}

/// A valid Estonian personal code for a birth date and serial (the check digit computed by
/// the same rule the domain applies, so tests can make as many citizens as they need).
pub fn personal_code(born: NaiveDate, serial: u32) -> String {
    use chrono::Datelike;
    let century = if born.year() >= 2000 { 5 } else { 3 };
    let body = format!(
        "{century}{:02}{:02}{:02}{:03}",
        born.year() % 100,
        born.month(),
        born.day(),
        serial % 1000
    );
    let digits: Vec<u32> = body.chars().map(|c| c.to_digit(10).unwrap()).collect();
    let weigh = |w: [u32; 10]| digits.iter().zip(w).map(|(d, w)| d * w).sum::<u32>() % 11;
    let check = match weigh([1, 2, 3, 4, 5, 6, 7, 8, 9, 1]) {
        10 => match weigh([3, 4, 5, 6, 7, 8, 9, 1, 2, 3]) {
            10 => 0,
            r => r,
        },
        r => r,
    };
    format!("{body}{check}")
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

/// Values that pass a service's form, whatever its fields.
pub fn valid_form(service: &Service, today: NaiveDate) -> BTreeMap<String, String> {
    service
        .form
        .iter()
        .map(|f| {
            let value = match &f.kind {
                FieldKind::Text { min_length, .. } => {
                    "x".repeat(min_length.unwrap_or(1).max(1) as usize)
                }
                FieldKind::Date { not_past: true, .. } => today.to_string(),
                FieldKind::Date { .. } => "2000-01-01".into(),
                FieldKind::Number { min, .. } => min.unwrap_or(1).max(0).to_string(),
                FieldKind::Choice { options } => options[0].code.clone(),
                FieldKind::NationalId => "37605030299".into(),
                FieldKind::Phone => "+30 210 123 4567".into(),
            };
            (f.code.clone(), value)
        })
        .collect()
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
