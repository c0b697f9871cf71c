//! A catalogue file as an administrator writes it: read from JSON, checked whole, every
//! problem reported at once.

use guichet_domain::DomainError;
use guichet_domain::catalogue::Catalogue;

fn catalogue(service: serde_json::Value) -> Catalogue {
    serde_json::from_value(serde_json::json!({
        "version": 3,
        "categories": [{"code": "civil", "name": {"en": "Civil status", "fr": "État civil"}, "queue_letter": "A"}],
        "agencies": [{"code": "registry", "name": {"en": "Registry", "fr": "Registre"}}],
        "target_groups": [{"code": "families", "name": {"en": "Families", "fr": "Familles"}}],
        "life_events": [{"code": "birth", "name": {"en": "Birth", "fr": "Naissance"}}],
        "services": [service]
    }))
    .unwrap()
}

fn service() -> serde_json::Value {
    serde_json::json!({
        "code": "birth-certificate",
        "title": {"en": "Birth certificate", "fr": "Acte de naissance"},
        "description": {"en": "A copy of a birth record.", "fr": "Une copie d'acte."},
        "category": "civil",
        "agency": "registry",
        "target_groups": ["families"],
        "life_events": ["birth"],
        "documents": [{"code": "id-card", "name": {"en": "ID card", "fr": "Carte d'identité"}, "kind": "original"}],
        "form": [
            {"code": "name", "label": {"en": "Name", "fr": "Nom"}, "required": true, "type": "text", "max_length": 80},
            {"code": "copy", "label": {"en": "Copy", "fr": "Copie"}, "type": "choice",
             "options": [{"code": "full", "label": {"en": "Full", "fr": "Intégrale"}}]},
            {"code": "born", "label": {"en": "Born", "fr": "Né le"}, "type": "date", "not_future": true},
            {"code": "id", "label": {"en": "Id", "fr": "Id"}, "type": "national_id"}
        ],
        "fee": {"kind": "charged", "amount": {"minor": 500, "currency": "EUR"}, "tier": "standard"},
        "exemptions": ["families"],
        "processing_days": 3,
        "channels": {"stationary_center": "complete", "web": "information_only"},
        "availability": {"kind": "everywhere"}
    })
}

fn problems(c: &Catalogue) -> Vec<String> {
    match c.validate() {
        Ok(()) => vec![],
        Err(DomainError::InvalidCatalogue { problems }) => problems,
        Err(other) => panic!("{other}"),
    }
}

#[test]
fn a_good_file_reads_and_validates() {
    let c = catalogue(service());
    assert!(problems(&c).is_empty(), "{:?}", problems(&c));
    assert_eq!(c.services[0].form.len(), 4);
    // What is written reads back the same.
    let again: Catalogue = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
    assert_eq!(again, c);
}

#[test]
fn misspelt_keys_are_refused_when_read() {
    let mut s = service();
    s["form"][0]["max_lenght"] = serde_json::json!(3);
    let read: Result<Catalogue, _> = serde_json::from_value(serde_json::json!({
        "version": 1, "categories": [], "agencies": [], "target_groups": [], "life_events": [],
        "services": [s]
    }));
    assert!(read.unwrap_err().to_string().contains("max_lenght"));
}

#[test]
fn every_problem_is_reported_at_once() {
    let mut s = service();
    s["life_events"] = serde_json::json!(["birth", "birth"]);
    s["documents"][0]["code"] = serde_json::json!("id card");
    s["form"][1]["options"] = serde_json::json!([
        {"code": "full", "label": {"en": "Full"}},
        {"code": "FULL", "label": {"en": "Full", "fr": "Intégrale"}}
    ]);
    s["channels"] = serde_json::json!({"web": "information_only"});
    let found = problems(&catalogue(s)).join("\n");
    for expected in [
        "lists life event 'birth' twice",
        "document code 'id card'",
        "has no label in 'fr'",
        "has the choice 'FULL' twice",
        "information only on every channel",
    ] {
        assert!(
            found.contains(expected),
            "missing '{expected}' in:\n{found}"
        );
    }
}
