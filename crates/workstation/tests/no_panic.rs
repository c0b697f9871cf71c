//! Whatever a clerk types into the workstation's public API, it answers with a result or a
//! clear error, never a panic, and a refused input leaves the outbox as it was.

mod common;

use common::demo;
use guichet_domain::feedback::PaymentMethod;
use guichet_domain::request::Action;
use guichet_workstation::store::{CitizenQuery, NewCitizen, NewRequest, SearchQuery};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn typed_input_never_panics(text in ".{0,40}", other in "[ -~]{0,16}") {
        let mut b = demo();
        let ws = &mut b.ws;
        let before = ws.outbox(None, 1000).unwrap().len();
        let _ = ws.search(&SearchQuery { text: Some(text.clone()), ..SearchQuery::default() });
        let _ = ws.find_citizens(&CitizenQuery::NationalId(text.clone()));
        let _ = ws.find_citizens(&CitizenQuery::Name { name: text.clone(), birth_date: other.clone() });
        let _ = ws.request(&text);
        let _ = ws.ticket(&text);
        let _ = ws.service(&text);
        let _ = ws.advance(&text, Action::Cancel, Some(&other), None);
        let _ = ws.pay(&text, &other, PaymentMethod::Cash);
        let _ = ws.register_citizen(&NewCitizen {
            national_id: text.clone(),
            given_name: other.clone(),
            family_name: text.clone(),
            birth_date: other.clone(),
            phone: Some(text.clone()),
            email: Some(other.clone()),
            address: None,
        });
        let _ = ws.create_request(&NewRequest {
            citizen: other.clone(),
            service: text.clone(),
            form: [(text.clone(), other.clone())].into_iter().collect(),
            documents_received: vec![text.clone()],
            visit: Some(other.clone()),
            submit: true,
        });
        // Random text is not a valid national id with a matching check digit and birth date,
        // so nothing above could have been written.
        prop_assert_eq!(ws.outbox(None, 1000).unwrap().len(), before);
    }
}
