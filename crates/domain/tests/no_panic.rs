//! Whatever a clerk types, a script passes or a sync message carries, the domain's parsers and
//! validators answer with a value or an error, never a panic.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use guichet_domain::catalogue::{CenterKind, Channel};
use guichet_domain::citizen::{EstonianPersonalCode, NationalIdScheme, PlainId, register};
use guichet_domain::feedback::{Feedback, PaymentMethod, check_payment};
use guichet_domain::form::{
    ChoiceOption, FieldKind, FormContext, FormField, normalize_phone, parse_date, validate,
};
use guichet_domain::hlc::{Hlc, HlcStamp};
use guichet_domain::money::{Currency, Money};
use guichet_domain::receipt::{ReceiptNumber, ReceiptPrefix};
use guichet_domain::request::{Action, Guards, Party, RequestStatus, next_status};
use guichet_domain::text::{Text, fold};
use proptest::prelude::*;

fn form() -> Vec<FormField> {
    let field = |code: &str, required, kind| FormField {
        code: code.into(),
        label: Text::en_fr(code, code),
        required,
        kind,
    };
    vec![
        field(
            "t",
            true,
            FieldKind::Text {
                min_length: Some(1),
                max_length: Some(10),
            },
        ),
        field(
            "d",
            false,
            FieldKind::Date {
                not_future: true,
                not_past: false,
            },
        ),
        field(
            "n",
            false,
            FieldKind::Number {
                min: Some(-5),
                max: Some(5),
            },
        ),
        field(
            "c",
            false,
            FieldKind::Choice {
                options: vec![ChoiceOption {
                    code: "a".into(),
                    label: Text::en_fr("A", "A"),
                }],
            },
        ),
        field("i", false, FieldKind::NationalId),
        field("p", false, FieldKind::Phone),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn text_parsers_never_panic(s in ".*") {
        let _ = fold(&s);
        let _ = Currency::parse(&s);
        let _ = parse_date(&s);
        let _ = normalize_phone(&s);
        let _ = s.parse::<HlcStamp>();
        let _ = RequestStatus::parse(&s);
        let _ = Action::parse(&s);
        let _ = Channel::parse(&s);
        let _ = CenterKind::parse(&s);
        let _ = PaymentMethod::parse(&s);
        let _ = EstonianPersonalCode.normalize(&s);
        let _ = EstonianPersonalCode.birth_date(&s);
        let _ = PlainId.normalize(&s);
        let _ = ReceiptNumber::parse(&s);
        let _ = ReceiptPrefix::parse(&s);
        let _ = Feedback::new(3, Some(&s), Channel::Kiosk);
    }

    #[test]
    fn amounts_never_panic_and_round_trip(s in "[0-9.,-]{0,24}", code in "[A-Z]{3}") {
        let currency = Currency::parse(&code).unwrap();
        if let Ok(m) = Money::parse_decimal(&s, &currency) {
            prop_assert!(m.minor >= 0);
            prop_assert_eq!(Money::parse_decimal(&m.decimal(), &currency).unwrap(), m);
        }
    }

    #[test]
    fn payments_never_panic(due in any::<i64>(), paid in any::<i64>(), amount in any::<i64>()) {
        let eur = Currency::parse("EUR").unwrap();
        let _ = check_payment("r", &Money::new(due, eur.clone()), paid, &Money::new(amount, eur));
    }

    #[test]
    fn forms_never_panic(values in proptest::collection::btree_map("[a-z]{1,2}", ".*", 0..8)) {
        let ctx = FormContext {
            today: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            national_ids: &EstonianPersonalCode,
        };
        let values: BTreeMap<String, String> = values;
        if let Ok(clean) = validate(&form(), &values, &ctx) {
            // Canonical values validate again to themselves.
            prop_assert_eq!(validate(&form(), &clean, &ctx).unwrap(), clean);
        }
    }

    #[test]
    fn registration_never_panics(id in ".*", given in ".*", family in ".*", days in 0i64..60_000) {
        let born = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap() + chrono::Duration::days(days);
        let today = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let _ = register(&EstonianPersonalCode, &id, &given, &family, born, today);
        let _ = register(&PlainId, &id, &given, &family, born, today);
    }

    #[test]
    fn the_state_machine_is_total(from in 0usize..9, action in 0usize..9, agency in any::<bool>(),
                                   fee in any::<bool>(), reason in any::<bool>(), docs in any::<bool>()) {
        let by = if agency { Party::Agency } else { Party::Center };
        let guards = Guards { fee_settled: fee, has_reason: reason, documents_complete: docs };
        if let Ok(to) = next_status(RequestStatus::ALL[from], Action::ALL[action], by, guards) {
            prop_assert!(!RequestStatus::ALL[from].is_final());
            prop_assert_ne!(to, RequestStatus::Draft);
        }
    }

    #[test]
    fn clocks_are_monotonic(walls in proptest::collection::vec(any::<u32>(), 1..50)) {
        let mut clock = Hlc::new("dev");
        let mut last: Option<HlcStamp> = None;
        for w in walls {
            let s = clock.tick(u64::from(w));
            if let Some(l) = &last {
                prop_assert!(&s > l);
            }
            last = Some(s);
        }
    }
}
