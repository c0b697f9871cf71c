//! Every error the window can receive, checked against the window's locale files: each key it
//! carries exists in English and French, its values fill every placeholder of both templates,
//! the English template says what the core says, and no translation waits for an error that
//! no longer exists.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::NaiveDate;
use guichet_domain::DomainError;
use guichet_domain::account::{Act, Role, check_display_name, check_password, check_username};
use guichet_domain::approval::{ApprovalProblem, ApprovedAct, check_approver, check_refund};
use guichet_domain::catalogue::{
    CenterKind, CenterNameProblem, Channel, Depth, MAX_WAITING_TARGET_MIN,
};
use guichet_domain::citizen::{
    EstonianPersonalCode, NationalIdScheme, PlainId, register, scheme_by_name,
};
use guichet_domain::feedback::{Feedback, MAX_COMMENT_CHARS, PaymentMethod, check_payment};
use guichet_domain::form::{
    FieldKind, FieldProblem, FormContext, FormField, ValueProblem, validate, validate_at_entry,
};
use guichet_domain::message::{Arg, Message};
use guichet_domain::money::{Currency, Money};
use guichet_domain::queue::{TicketAction, TicketStatus};
use guichet_domain::receipt::{ReceiptError, ReceiptNumber};
use guichet_domain::request::{Action, Guards, Party, RequestStatus, transition};
use guichet_domain::text::Text;
use guichet_domain::zone::Zone;
use guichet_workstation::Error;
use guichet_workstation::error::{Access, Kind, Refused, TextOf, TextProblem};
use guichet_workstation::sync::{LinkDrop, SyncError};

use super::{Bound, export_day, no_printing_system, print_failed, print_with};
use crate::shell::ErrorView;

type Catalog = BTreeMap<String, String>;

fn catalog(lang: &str) -> Catalog {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../ui/locales")
        .join(format!("{lang}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Keys whose English in the window is worded for the window rather than cut from the core's:
/// the core names a channel by its code; the kiosk speaks to a citizen, in sentences.
const WINDOW_WORDING: &[&str] = &[
    "error.information_only",
    "error.kiosk_busy",
    "error.kiosk_not_reprintable",
    "error.not_offered",
    "error.print.no_system",
];

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 10).unwrap()
}

fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::parse("EUR").unwrap())
}

/// One value problem of each kind, with the English the core writes for it.
fn value_problems() -> Vec<ValueProblem> {
    let field = |kind| FormField {
        code: "f".into(),
        label: Text::en_fr("F", "F"),
        required: true,
        kind,
    };
    let ctx = FormContext {
        today: today(),
        national_ids: &EstonianPersonalCode,
    };
    let check = |kind, value: &str| field(kind).check(value, &ctx).unwrap_err();
    let text = |min_length, max_length| FieldKind::Text {
        min_length,
        max_length,
    };
    let date = |not_future, not_past| FieldKind::Date {
        not_future,
        not_past,
    };
    let number = FieldKind::Number {
        min: Some(1),
        max: Some(4),
    };
    let form = [field(FieldKind::Phone)];
    let values = BTreeMap::from([("other".to_owned(), "1".to_owned())]);
    let mut problems: Vec<ValueProblem> = validate(&form, &values, &ctx)
        .unwrap_err()
        .into_iter()
        .map(|p| p.problem)
        .collect();
    let hidden = BTreeMap::from([("f".to_owned(), "An\u{7}na".to_owned())]);
    problems.extend(
        validate_at_entry(&[field(text(None, None))], &hidden, &ctx)
            .unwrap_err()
            .into_iter()
            .map(|p| p.problem),
    );
    problems.extend([
        check(text(Some(2), None), "A"),
        check(text(None, Some(2)), "Anna"),
        check(date(false, false), "31/02/2026"),
        check(date(true, false), "2027-01-01"),
        check(date(false, true), "2020-01-01"),
        check(number.clone(), "two"),
        check(number.clone(), "0"),
        check(number, "5"),
        check(
            FieldKind::Choice {
                options: Vec::new(),
            },
            "x",
        ),
        check(FieldKind::NationalId, "37605030298"),
        check(FieldKind::Phone, "12a"),
        check(FieldKind::Phone, "12"),
    ]);
    problems
}

/// Every error of the core that can reach the window, one of each kind, as the window gets it.
fn errors() -> Vec<ErrorView> {
    let mut out: Vec<ErrorView> = Vec::new();
    let mut domain = |e: DomainError| out.push(Error::Domain(e).into());

    domain(Currency::parse("E1").unwrap_err());
    domain(Money::parse_decimal("1.234", &Currency::parse("EUR").unwrap()).unwrap_err());
    domain(PaymentMethod::parse("gold").unwrap_err());
    domain(TicketStatus::parse("lost").unwrap_err());
    domain(Channel::parse("pigeon").unwrap_err());
    domain(CenterKind::parse("boat").unwrap_err());
    domain(scheme_by_name("xx").err().unwrap());
    domain(RequestStatus::parse("lost").unwrap_err());
    domain(Action::parse("fly").unwrap_err());
    domain(Role::parse("boss").unwrap_err());
    domain(check_username("Eleni Z").unwrap_err());
    domain(check_display_name("  ").unwrap_err());
    domain(check_display_name("Eleni\u{202E}").unwrap_err());
    for password in [
        "short",
        &"ab".repeat(65),
        "eleni's password",
        "xxxxxxxxxxxx",
    ] {
        domain(check_password("eleni", password).unwrap_err());
    }

    let born = NaiveDate::from_ymd_opt(1976, 5, 3).unwrap();
    let citizen = |id: &str, given: &str, birth| {
        register(&EstonianPersonalCode, id, given, "Tamm", birth, today()).unwrap_err()
    };
    domain(citizen("37605030299", " ", born));
    domain(citizen("37605030299", &"Mari".repeat(26), born));
    domain(citizen("37605030299", "Ma\u{202E}ri", born));
    domain(citizen(
        "37605030299",
        "Mari",
        NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(),
    ));
    domain(citizen("37605030299", "Mari", born.succ_opt().unwrap()));
    for id in ["123", "97605030299", "37605030298"] {
        domain(EstonianPersonalCode.normalize(id).unwrap_err().into());
    }
    domain(PlainId.normalize("a").unwrap_err().into());
    domain(DomainError::Form {
        problems: Vec::new(),
    });
    domain(DomainError::Form {
        problems: vec![FieldProblem {
            field: "prints".into(),
            problem: ValueProblem::Required,
        }],
    });

    let guards = Guards {
        fee_settled: true,
        has_reason: true,
        documents_complete: true,
    };
    let refused = |from, action, by, guards| {
        transition("K7XA-0000-042E", from, action, by, guards).unwrap_err()
    };
    use Action as A;
    use RequestStatus as S;
    domain(refused(
        S::InProcessing,
        A::MarkReady,
        Party::Center,
        guards,
    ));
    domain(refused(S::Draft, A::Submit, Party::Agency, guards));
    domain(refused(S::Draft, A::Dispatch, Party::Center, guards));
    domain(refused(S::Delivered, A::Cancel, Party::Center, guards));
    let without = |change: fn(&mut Guards)| {
        let mut g = guards;
        change(&mut g);
        g
    };
    domain(refused(
        S::Submitted,
        A::Dispatch,
        Party::Center,
        without(|g| g.fee_settled = false),
    ));
    domain(refused(
        S::Dispatched,
        A::Reject,
        Party::Agency,
        without(|g| g.has_reason = false),
    ));
    domain(refused(
        S::Draft,
        A::Submit,
        Party::Center,
        without(|g| g.documents_complete = false),
    ));
    for action in [
        TicketAction::Call,
        TicketAction::Recall,
        TicketAction::NoShow,
        TicketAction::Start,
        TicketAction::Finish,
        TicketAction::Transfer,
    ] {
        domain(DomainError::Ticket {
            ticket: "A001".into(),
            from: TicketStatus::Done,
            action,
        });
    }

    domain(Feedback::new(6, None, Channel::Kiosk).unwrap_err());
    let long = "x".repeat(MAX_COMMENT_CHARS + 1);
    domain(Feedback::new(3, Some(&long), Channel::Kiosk).unwrap_err());
    let due = eur(1000);
    let kes = Money::new(1000, Currency::parse("KES").unwrap());
    domain(check_payment("K7XA-0000-042E", &due, 0, &kes).unwrap_err());
    domain(check_payment("K7XA-0000-042E", &due, 0, &eur(0)).unwrap_err());
    domain(check_payment("K7XA-0000-042E", &due, 1000, &eur(1)).unwrap_err());
    domain(check_payment("K7XA-0000-042E", &due, 400, &eur(601)).unwrap_err());
    for act in ApprovedAct::ALL {
        domain(DomainError::Approval {
            act,
            problem: ApprovalProblem::Missing,
        });
    }
    for (approver, role, active) in [
        ("eleni", Role::Supervisor, true),
        ("nikos", Role::Clerk, true),
        ("sofia", Role::Supervisor, false),
    ] {
        domain(check_approver(ApprovedAct::Waiver, "eleni", approver, role, active).unwrap_err());
    }
    let payment = "K7XA-0000-043C";
    let refund = |before, minor, reason| check_refund(payment, &due, before, &eur(minor), reason);
    domain(check_refund(payment, &due, 0, &kes, "wrong currency").unwrap_err());
    domain(refund(0, 0, "nothing").unwrap_err());
    domain(refund(1000, 1, "again").unwrap_err());
    domain(refund(400, 601, "too much").unwrap_err());
    domain(refund(0, 1, " ").unwrap_err());
    for receipt in ["", "K7XA-0000-04IS", "K7XA-0000-04", "K7XA-0000-042F"] {
        domain(ReceiptNumber::parse(receipt).unwrap_err().into());
    }
    domain(ReceiptError::SequenceExhausted { sequence: 1 << 40 }.into());

    out.extend(
        [
            Error::NotSetUp,
            Error::AlreadySetUp {
                center: "ATH-01".into(),
                device: "D1".into(),
            },
            Error::NoCatalogue,
            Error::StaleCatalogue {
                held: 3,
                offered: 2,
            },
            Error::Json(serde_json::from_str::<u8>("x").unwrap_err()),
            Error::Damaged {
                detail: "file is not a database".into(),
            },
            Error::from(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
                None,
            )),
        ]
        .map(ErrorView::from),
    );
    for kind in Kind::ALL {
        out.push(
            Error::NotFound {
                kind,
                key: "x-1".into(),
                hint: "; a hint for the CLI".into(),
            }
            .into(),
        );
    }
    out.extend(
        [
            Access::LoginFailed,
            Access::LoginFailedOffline,
            Access::RecoveryRefused,
            Access::ApprovalFailed,
            Access::Wait { seconds: 30 },
            Access::Disabled,
            Access::Stale { days: 14 },
            Access::NoSession,
            Access::SessionExpired,
            Access::Locked,
            Access::Role {
                needed: Role::Supervisor,
                act: Act::Supervise,
            },
            Access::ManagedByBackOffice,
            Access::LastAdministrator,
            Access::NoAdministrator,
        ]
        .map(|a| ErrorView::from(Error::from(a))),
    );
    for kind in [
        Kind::Citizen,
        Kind::Feedback,
        Kind::Counter,
        Kind::Holiday,
        Kind::Clerk,
    ] {
        out.push(
            Error::Duplicate {
                kind,
                key: "x-1".into(),
            }
            .into(),
        );
    }
    let request = || "K7XA-0000-042E".to_owned();
    out.extend(
        [
            Refused::CenterCode("ATH 01".into()),
            Refused::DeviceCode("D 1".into()),
            Refused::CenterName(CenterNameProblem::Empty),
            Refused::CenterName(CenterNameProblem::TooLong { chars: 121 }),
            Refused::CenterName(CenterNameProblem::Hidden('\u{202E}')),
            Refused::WaitingTarget {
                given: 0,
                max: MAX_WAITING_TARGET_MIN,
            },
            Refused::TimeZone("Europe/Atlantis".parse::<Zone>().unwrap_err()),
            Refused::NotTakenHere {
                service: "tax-advice".into(),
                depth: Some(Depth::InformationOnly),
                channel: Channel::Kiosk,
            },
            Refused::NotTakenHere {
                service: "tax-advice".into(),
                depth: None,
                channel: Channel::Kiosk,
            },
            Refused::ConflictNote,
            Refused::IdleLockMinutes {
                given: 0,
                min: 1,
                max: 240,
            },
            Refused::MaxOfflineDays {
                given: 365,
                min: 1,
                max: 90,
            },
            Refused::SearchTooLong {
                chars: 5000,
                max: 200,
            },
            Refused::NoOpenConflict { request: request() },
            Refused::DocumentsFixed {
                request: request(),
                status: RequestStatus::Submitted,
            },
            Refused::DocumentsMissing {
                request: request(),
                action: Action::Submit,
                documents: vec![
                    Text::en_fr("Passport photo", "Photo d'identité"),
                    Text::en_fr("Proof of address", "Justificatif de domicile"),
                ],
            },
            Refused::NothingToPay { request: request() },
            Refused::FeeWaived {
                request: request(),
                ground: "pensioners".into(),
            },
            Refused::PaymentsClosed {
                request: request(),
                status: RequestStatus::Cancelled,
            },
            Refused::NoFeeToWaive { request: request() },
            Refused::AlreadyWaived { request: request() },
            Refused::PartlyPaid { request: request() },
            Refused::NotExempt {
                ground: "students".into(),
                exemptions: vec!["pensioners".into(), "veterans".into()],
            },
            Refused::NotExempt {
                ground: "students".into(),
                exemptions: Vec::new(),
            },
            Refused::VisitEnded {
                visit: "v-1".into(),
            },
            Refused::NeverServed {
                ticket: "A001".into(),
            },
            Refused::CounterBusy {
                counter: "W1".into(),
                ticket: "A001".into(),
                status: TicketStatus::Serving,
            },
            Refused::BirthDate(ValueProblem::NotADate {
                input: "31/02/1990".into(),
            }),
            Refused::Phone(ValueProblem::PhoneLength {
                input: "12".into(),
                digits: 2,
            }),
            Refused::Email("mari.example.org".into()),
            Refused::NameToSearch,
        ]
        .map(|r| ErrorView::from(Error::from(r))),
    );

    out.extend(
        [
            SyncError::NotEnrolled,
            SyncError::Offline(LinkDrop::NoConnection),
            SyncError::Offline(LinkDrop::TimedOut),
            SyncError::Offline(LinkDrop::Lost),
            SyncError::Revoked("revoked on 2026-03-01".into()),
            SyncError::Unauthorized("unknown credential".into()),
            SyncError::EnrolmentCode("unknown enrolment code".into()),
            SyncError::EnrolOffline(LinkDrop::NoConnection),
            SyncError::Busy {
                status: 503,
                detail: "the database is busy or slow just now".into(),
                retry_after: Some(std::time::Duration::from_secs(5)),
            },
            SyncError::Refused {
                status: 409,
                // The protocol's code by its wire name: the app does not depend on the crate.
                code: serde_json::from_str("\"conflict\"").unwrap(),
                message: "this enrolment code was already used".into(),
            },
            SyncError::Protocol("expected value at line 1".into()),
            SyncError::Address("localhost:8080".into()),
            SyncError::AuditAnchor {
                seq: 42,
                message: "send the device's audit event 42".into(),
            },
            SyncError::InsecureHttp("http://192.0.2.10:8080".into()),
            SyncError::CaCertificate("no certificate in it".into()),
            SyncError::Tls("invalid peer certificate: UnknownIssuer".into()),
            SyncError::WipeBlocked { waiting: 3 },
            SyncError::WipeBlocked { waiting: 1 },
        ]
        .map(ErrorView::from),
    );

    let from = NaiveDate::from_ymd_opt(2026, 3, 10).unwrap();
    out.extend(
        [
            guichet_report::Error::Period {
                from,
                to: from.pred_opt().unwrap(),
            },
            guichet_report::Error::PeriodTooLong {
                days: 4000,
                max: 3700,
            },
            guichet_report::Error::PeriodAhead {
                to: from.succ_opt().unwrap(),
                today: from,
                zone: "America/Anchorage".into(),
            },
            guichet_report::Error::Write {
                path: "/reports/day.pdf".into(),
                source: std::io::Error::other("disk full"),
            },
            guichet_report::Error::DraftHasNoReceipt {
                receipt: "K7XA-0000-042E".into(),
            },
        ]
        .map(ErrorView::from),
    );
    for what in TextOf::ALL {
        out.push(
            Error::Text {
                what,
                problem: TextProblem::TooLong {
                    len: 1001,
                    max: 1000,
                },
            }
            .into(),
        );
        out.push(
            Error::Text {
                what,
                problem: TextProblem::HiddenCharacter('\u{202E}'),
            }
            .into(),
        );
    }
    out.push(ErrorView::sync_not_started(
        Error::Sqlite(rusqlite::Error::InvalidQuery).into(),
    ));
    out.push(ErrorView::standalone());
    out.push(ErrorView::update_while_syncing());
    out.push(ErrorView::update_during_visit(&["A-004".to_owned()]));
    out.push(ErrorView::no_update());
    out.push(ErrorView::update_failed("Failed to install package"));
    out.push(ErrorView::wiping());
    out.push(ErrorView::kiosk_busy(std::time::Duration::from_millis(
        2500,
    )));
    out.push(ErrorView::kiosk_not_reprintable());
    out.push(ErrorView::from(Error::from(
        guichet_workstation::error::Refused::PrinterName {
            name: "-oraw".into(),
        },
    )));
    out.push(ErrorView::from(Error::from(
        guichet_workstation::error::Refused::PrintersApart {
            kiosk: "Kiosk".into(),
        },
    )));
    out.push(print_failed(
        "lp: Error - The printer or class does not exist.".into(),
    ));
    out.push(no_printing_system());
    out.push(ErrorView::internal(
        "cannot create the folder /reports: denied",
    ));
    out.push(export_day("31/02/2026", Bound::First).unwrap_err());
    out.push(export_day("", Bound::Last).unwrap_err());
    out
}

/// The English message and its translation, for every error and every value problem.
fn samples() -> Vec<(String, Message)> {
    let mut out: Vec<(String, Message)> = errors()
        .into_iter()
        .map(|e| {
            let translation = e
                .translation
                .unwrap_or_else(|| panic!("no key for: {}", e.message));
            (e.message, translation)
        })
        .collect();
    out.extend(
        value_problems()
            .iter()
            .map(|p| (p.to_string(), p.message())),
    );
    // The status bar's words for a certificate refused while the device works.
    let (words, message) = SyncError::Tls("invalid peer certificate: Expired".into()).in_session();
    out.push((words, message.expect("a key for the status bar")));
    out
}

fn placeholders(template: &str) -> BTreeSet<&str> {
    template
        .split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        .collect()
}

/// Every key a message uses: its own, its terms' and those of the messages inside it.
fn keys(message: &Message, out: &mut BTreeSet<String>) {
    out.insert(message.key.clone());
    for arg in message.args.values() {
        match arg {
            Arg::Terms(terms) => out.extend(terms.iter().cloned()),
            Arg::Message(inner) => keys(inner, out),
            Arg::Text(_) | Arg::Money(_) | Arg::Names(_) => {}
        }
    }
}

/// The message in the window's English template, with the values as the core writes them;
/// `None` when it quotes a word the window says its own way (a status, an action). A count
/// of 1 takes the key's singular form (`key.one`), as the window does.
fn english(message: &Message, en: &Catalog) -> Option<String> {
    let one = matches!(message.args.get("count"), Some(Arg::Text(n)) if n == "1");
    let singular = en.get(&format!("{}.one", message.key)).filter(|_| one);
    let mut out = singular.unwrap_or(&en[&message.key]).clone();
    for (name, arg) in &message.args {
        let value = match arg {
            Arg::Text(text) => text.clone(),
            Arg::Money(money) => money.to_string(),
            Arg::Message(inner) => english(inner, en)?,
            Arg::Names(names) => names
                .iter()
                .map(|n| n.get("en"))
                .collect::<Vec<_>>()
                .join(", "),
            Arg::Terms(_) => return None,
        };
        out = out.replace(&format!("{{{name}}}"), &value);
    }
    Some(out)
}

#[test]
fn every_key_exists_in_both_languages_with_its_placeholders_filled() {
    let (en, fr) = (catalog("en"), catalog("fr"));
    for (text, message) in samples() {
        let mut used = BTreeSet::new();
        keys(&message, &mut used);
        for key in &used {
            assert!(en.contains_key(key), "{key} is not in en.json ({text})");
            assert!(fr.contains_key(key), "{key} is not in fr.json ({text})");
        }
        let mut stack = vec![&message];
        while let Some(m) = stack.pop() {
            for template in [&en[&m.key], &fr[&m.key]] {
                for name in placeholders(template) {
                    assert!(
                        m.args.contains_key(name),
                        "{}: no value for {{{name}}} in {template:?}",
                        m.key
                    );
                }
            }
            stack.extend(m.args.values().filter_map(|a| match a {
                Arg::Message(inner) => Some(inner),
                _ => None,
            }));
        }
    }
}

#[test]
fn the_english_templates_say_what_the_core_says() {
    let en = catalog("en");
    for problem in value_problems() {
        assert_eq!(
            english(&problem.message(), &en).as_deref(),
            Some(problem.to_string().as_str()),
            "{}",
            problem.message().key
        );
    }
    for (text, message) in samples() {
        if WINDOW_WORDING.contains(&message.key.as_str()) {
            continue;
        }
        if let Some(window) = english(&message, &en) {
            // The window leaves out what follows for the CLI's user (a command to run).
            assert!(
                text.starts_with(&window),
                "{}:\n  {window}\n  {text}",
                message.key
            );
        }
    }
}

#[test]
fn every_translated_error_has_its_error() {
    let mut made = BTreeSet::new();
    for (_, message) in samples() {
        keys(&message, &mut made);
    }
    for key in catalog("en").keys() {
        // A singular form comes with the key it is the singular of.
        let key = key.strip_suffix(".one").unwrap_or(key);
        if ["error.", "form.problem.", "national_id."]
            .iter()
            .any(|prefix| key.starts_with(prefix))
        {
            assert!(
                made.contains(key),
                "{key} is in en.json but no error makes it"
            );
        }
    }
}

#[test]
fn errors_reach_the_window_with_their_key_and_values() {
    let view = ErrorView::from(Error::from(Refused::NothingToPay {
        request: "K7XA-0000-042E".into(),
    }));
    assert_eq!(
        serde_json::to_value(&view).unwrap(),
        serde_json::json!({
            "message": "request K7XA-0000-042E is for a free service: there is nothing to pay",
            "key": "error.nothing_to_pay",
            "args": { "request": "K7XA-0000-042E" },
        })
    );
    let unkeyed = ErrorView::new("stored date 'x' is not a date", None);
    assert_eq!(
        serde_json::to_value(&unkeyed).unwrap(),
        serde_json::json!({ "message": "stored date 'x' is not a date" })
    );
}

/// Every kind of change the requests screen lists under a request has a name in both
/// languages: the kinds are read from the sync protocol's schema, so a new kind without one
/// fails here.
#[test]
fn every_change_kind_has_a_name_in_the_window() {
    let schema = guichet_protocol::schema::document();
    let kinds: Vec<&str> = schema["$defs"]["Change"]["oneOf"]
        .as_array()
        .expect("the schema lists the changes")
        .iter()
        .filter_map(|change| change["properties"]["kind"]["const"].as_str())
        .collect();
    assert!(kinds.len() >= 11, "{kinds:?}");
    for lang in ["en", "fr"] {
        let catalog = catalog(lang);
        for kind in &kinds {
            let key = format!("change.kind.{kind}");
            assert!(catalog.contains_key(&key), "{lang}: {key} is missing");
        }
    }
}

/// The commands `ui/src/api.ts` calls (`call<T>("name", ...)`).
fn called_by_the_window() -> BTreeSet<String> {
    let api = include_str!("../../../ui/src/api.ts");
    api.split("call<")
        .skip(1)
        .filter_map(|rest| rest.split_once("(\""))
        .filter_map(|(_, name)| name.split_once('"'))
        .map(|(name, _)| name.to_owned())
        .collect()
}

#[test]
fn the_window_calls_every_command_and_no_other() {
    macro_rules! names {
        ($($name:ident),* $(,)?) => {
            [$(stringify!($name)),*]
        };
    }
    let declared: BTreeSet<String> = with_commands!(names)
        .into_iter()
        .map(str::to_owned)
        .collect();
    let called = called_by_the_window();
    assert!(
        called.len() > 30,
        "the calls were not found in api.ts: {called:?}"
    );
    assert_eq!(
        declared.difference(&called).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "declared in src/command_list.rs but never called by ui/src/api.ts"
    );
    assert_eq!(
        called.difference(&declared).collect::<Vec<_>>(),
        Vec::<&String>::new(),
        "called by ui/src/api.ts but not declared in src/command_list.rs"
    );
}

/// Each command's argument names as `commands.rs` takes them (what Tauri injects left out).
fn taken_by_the_shell() -> BTreeMap<String, Vec<String>> {
    let source = include_str!("../commands.rs");
    let mut taken = BTreeMap::new();
    for item in source.split("#[tauri::command").skip(1) {
        let Some((_, signature)) = item.split_once("fn ") else {
            continue;
        };
        let Some((name, rest)) = signature.split_once('(') else {
            continue;
        };
        let parameters = rest.split_once(')').map_or("", |(p, _)| p);
        let names = parameters
            .split(',')
            .filter_map(|p| p.split_once(':'))
            .map(|(name, _)| name.trim().to_owned())
            .filter(|name| !["shell", "app"].contains(&name.as_str()))
            .collect();
        taken.insert(name.trim().to_owned(), names);
    }
    taken
}

/// Each command's argument names as `ui/src/api.ts` sends them (`call<T>("name", { a, b })`).
fn sent_by_the_window() -> BTreeMap<String, Vec<String>> {
    let api = include_str!("../../../ui/src/api.ts");
    let mut sent = BTreeMap::new();
    for call in api.split("call<").skip(1) {
        let Some((_, rest)) = call.split_once("(\"") else {
            continue;
        };
        let Some((name, rest)) = rest.split_once('"') else {
            continue;
        };
        let names = match rest.trim_start().strip_prefix(", {") {
            Some(args) => args
                .split_once('}')
                .map_or("", |(a, _)| a)
                .split(',')
                .map(|a| a.split(':').next().unwrap_or(a).trim().to_owned())
                .filter(|a| !a.is_empty())
                .collect(),
            None => Vec::new(),
        };
        sent.insert(name.to_owned(), names);
    }
    sent
}

#[test]
fn the_window_sends_each_command_the_arguments_it_takes() {
    let taken = taken_by_the_shell();
    let sent = sent_by_the_window();
    assert!(taken.len() > 30, "the commands were not found: {taken:?}");
    assert_eq!(taken["export_report"], ["export"]);
    assert_eq!(sent["advance"], ["receipt", "action", "reason", "approval"]);
    let differ: Vec<String> = taken
        .iter()
        .filter(|(name, args)| sent.get(*name) != Some(args))
        .map(|(name, args)| {
            format!(
                "{name}: takes {args:?}, ui/src/api.ts sends {:?}",
                sent.get(name)
            )
        })
        .collect();
    assert!(differ.is_empty(), "{}", differ.join("\n"));
}

/// A printing system that refuses says why in its own words, even when it refused before
/// reading the slip; one that never answers is stopped at the deadline, the slip's writing
/// included.
#[cfg(unix)]
#[test]
fn a_printer_that_refuses_says_why_and_one_that_hangs_is_stopped() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::TempDir::new().unwrap();
    let script = |name: &str, body: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    };
    // Larger than a pipe holds: the writing blocks until lp reads, or goes.
    let pdf = vec![b'%'; 4 * 1024 * 1024];
    let refusing = script(
        "refusing",
        "echo 'lp: Error - no default destination available.' >&2; exit 1",
    );
    let refused = print_with(
        &refusing,
        &pdf,
        "slip",
        "",
        std::time::Duration::from_secs(20),
    )
    .unwrap_err()
    .message;
    assert!(
        refused.contains("no default destination available"),
        "{refused}"
    );
    let hung = script("hung", "exec sleep 60");
    let started = std::time::Instant::now();
    let late = print_with(&hung, &pdf, "slip", "", std::time::Duration::from_secs(1))
        .unwrap_err()
        .message;
    assert!(late.contains("no answer within 1 s"), "{late}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    // A printer named goes to lp as its destination; none, lp's default.
    let echoing = script("echoing", "cat > /dev/null; echo \"$@\"");
    let timeout = std::time::Duration::from_secs(20);
    let named = print_with(&echoing, b"%PDF", "slip", "Kiosk_Roll", timeout).unwrap();
    assert_eq!(named.job, "-d Kiosk_Roll -t slip -");
    let default = print_with(&echoing, b"%PDF", "slip", "", timeout).unwrap();
    assert_eq!(default.job, "-t slip -");
}
