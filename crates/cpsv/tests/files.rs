//! The real CPSV-AP files in `shared/data/cpsv-ap` (copied into `fixtures/cpsv-ap`), a round
//! trip of the demo catalogue, and files that must be refused.

use std::io::Write;

use guichet_cpsv::{DEFAULT_BASE, Error, ExportOptions, Imported, Options, Syntax, export, import};
use guichet_domain::catalogue::{Catalogue, Fee};

/// An export under the default base, without the authorities' area.
const PLAIN: ExportOptions<'static> = ExportOptions {
    base: DEFAULT_BASE,
    area: None,
};

const TRENTO: &[u8] = include_bytes!("../../../fixtures/cpsv-ap/IT_trento_services_cpsvap.jsonld");
const SEMIC: &[u8] = include_bytes!("../../../fixtures/cpsv-ap/EU_semic_cpsv-ap-3.2.0_example.ttl");
const NORWAY: &[u8] =
    include_bytes!("../../../fixtures/cpsv-ap/NO_cpsv-ap-no_all_classes_example.ttl");

fn show(name: &str, imported: &Imported) {
    let mut err = std::io::stderr();
    writeln!(err, "== {name}").unwrap();
    for s in &imported.report.services {
        writeln!(err, "{} <{}>", s.code, s.node).unwrap();
        for (what, list) in [
            ("mapped", &s.mapped),
            ("defaulted", &s.defaulted),
            ("not mapped", &s.not_mapped),
        ] {
            for line in list {
                writeln!(err, "  {what}: {line}").unwrap();
            }
        }
    }
}

#[test]
fn the_trento_services_in_json_ld() {
    let imported = import(TRENTO, None, &Options::default()).unwrap();
    show("Trento", &imported);
    assert_eq!(imported.report.syntax, "JSON-LD");
    let c = &imported.catalogue;
    assert_eq!(c.services.len(), 2);
    for s in &c.services {
        // Untagged texts are in the service's language (dct:language ITA), and stand in for
        // English and French, said so in the report.
        assert!(s.title.0.contains_key("it"), "{:?}", s.title);
        assert_eq!(s.title.get("en"), s.title.get("it"));
        let r = imported
            .report
            .services
            .iter()
            .find(|r| r.code == s.code)
            .unwrap();
        assert!(
            r.defaulted
                .iter()
                .any(|d| d.starts_with("title in 'en': none in the file, the 'it' text stands in")),
            "{r:?}"
        );
        // The costs are text ("Marca da bollo da 16 euro"): not mapped, and said.
        assert_eq!(s.fee, Fee::Free);
        assert!(
            r.not_mapped.iter().any(|n| n.starts_with("cost '")),
            "{r:?}"
        );
        assert!(!s.documents.is_empty(), "{s:?}");
    }
}

#[test]
fn the_semic_example_in_turtle() {
    let imported = import(SEMIC, None, &Options::default()).unwrap();
    show("SEMIC", &imported);
    assert_eq!(imported.report.syntax, "Turtle");
    let c = &imported.catalogue;
    assert_eq!(c.services.len(), 1);
    let s = &c.services[0];
    assert_eq!(s.code, "Tax-on-web");
    assert_eq!(s.title.get("en"), "Tax-on-web");
    assert!(
        s.description
            .get("fr")
            .starts_with("Service pour la déclaration")
    );
    assert_eq!(s.documents.len(), 1);
    assert_eq!(s.documents[0].code, "evi-123");
    assert_eq!(s.documents[0].name.get("fr"), "Attestation garde d'enfants");
    let agency = c.agencies.iter().find(|a| a.code == s.agency).unwrap();
    assert_eq!(agency.name.get("nl"), "Federale Overheidsdiesnt FINANCIEN");
    assert_eq!(agency.name.get("en"), "Federal Public Service FINANCE");
    let r = &imported.report.services[0];
    assert!(
        r.not_mapped
            .iter()
            .any(|n| n.starts_with("cv:contactPoint")),
        "{r:?}"
    );
}

#[test]
fn the_norwegian_example_with_every_class() {
    let imported = import(
        NORWAY,
        Some(Syntax::Turtle),
        &Options {
            version: 7,
            ..Options::default()
        },
    )
    .unwrap();
    show("Norway", &imported);
    let c = &imported.catalogue;
    assert_eq!(c.version, 7);
    assert_eq!(c.services.len(), 1);
    let s = &c.services[0];
    assert_eq!(s.title.get("nb"), "Skjenkebevilling");
    assert_eq!(s.title.get("en"), "Liquor license");
    assert_eq!(s.processing_days, 6);
    let Fee::Charged { amount, .. } = &s.fee else {
        panic!("{:?}", s.fee)
    };
    assert_eq!((amount.minor, amount.currency.code()), (51, "NOK"));
    assert!(s.keywords["en"].contains(&"Nightclub".to_owned()));
    assert!(s.keywords["nb"].contains(&"Bar".to_owned()));
    let r = &imported.report.services[0];
    for needle in ["cpsv:produces", "cv:hasLegalResource", "cpsv:follows"] {
        assert!(
            r.not_mapped.iter().any(|n| n.starts_with(needle)),
            "{needle}: {r:?}"
        );
    }
}

/// The demo catalogue with its lists in the order an import gives them.
fn sorted(mut c: Catalogue) -> Catalogue {
    c.categories.sort_by(|a, b| a.code.cmp(&b.code));
    c.agencies.sort_by(|a, b| a.code.cmp(&b.code));
    c.target_groups.sort_by(|a, b| a.code.cmp(&b.code));
    c.life_events.sort_by(|a, b| a.code.cmp(&b.code));
    c.services.sort_by(|a, b| a.code.cmp(&b.code));
    for s in &mut c.services {
        s.target_groups.sort();
        s.life_events.sort();
    }
    c
}

#[test]
fn an_export_imports_back_as_the_same_catalogue() {
    let demo = guichet_fixtures::demo_catalogue();
    let turtle = export(&demo, &PLAIN).unwrap();
    let text = String::from_utf8(turtle.clone()).unwrap();
    assert!(text.contains("cpsv:PublicService"), "{}", &text[..500]);
    let back = import(
        &turtle,
        Some(Syntax::Turtle),
        &Options {
            version: demo.version,
            ..Options::default()
        },
    )
    .unwrap();
    assert_eq!(back.catalogue, sorted(demo.clone()));
    // The same file again gives the same catalogue, byte for byte once exported.
    let again = export(&back.catalogue, &PLAIN).unwrap();
    let third = import(&again, None, &Options::default()).unwrap();
    assert_eq!(
        export(&third.catalogue, &PLAIN).unwrap(),
        again,
        "an export is deterministic"
    );
}

fn refused(bytes: &[u8], syntax: Option<Syntax>) -> Error {
    match import(bytes, syntax, &Options::default()) {
        Ok(i) => panic!("imported: {:?}", i.report),
        Err(e) => e,
    }
}

#[test]
fn broken_files_are_refused_with_the_line_or_node_named() {
    let broken = b"@prefix cpsv: <http://purl.org/vocab/cpsv#> .\n@prefix dct: <http://purl.org/dc/terms/> .\n\n<http://x/s1> a cpsv:PublicService ;\n  dct:title \"Unclosed\n  .\n";
    let e = refused(broken, None);
    let text = e.to_string();
    assert!(
        text.starts_with("the file is not valid Turtle at line 5"),
        "{text}"
    );

    let unknown_context = br#"{"@context": "https://example.org/no-such-context.jsonld",
        "@id": "http://x/s1", "@type": "cpsv:PublicService", "dct:title": "A"}"#;
    let e = refused(unknown_context, None);
    assert!(
        e.to_string().contains("fetches nothing from the network"),
        "{e}"
    );

    let untitled = b"@prefix cpsv: <http://purl.org/vocab/cpsv#> .\n@prefix dct: <http://purl.org/dc/terms/> .\n<http://x/good> a cpsv:PublicService ; dct:title \"Good\"@en .\n<http://x/untitled> a cpsv:PublicService ; dct:description \"No title\"@en .\n";
    let e = refused(untitled, None);
    assert_eq!(
        e.to_string(),
        "the public service <http://x/untitled> has no title (dct:title): give it one"
    );

    let nothing =
        b"@prefix dct: <http://purl.org/dc/terms/> .\n<http://x/a> dct:title \"Not a service\" .\n";
    assert!(matches!(refused(nothing, None), Error::NoService));
    assert!(matches!(refused(b"", None), Error::NoService));
}

#[test]
fn a_companion_file_gives_what_cpsv_ap_does_not_say() {
    let companion: guichet_cpsv::Companion = serde_json::from_str(
        r#"{
            "defaults": { "fee_tier": "subsidized", "document_kind": "copy" },
            "services": {
                "Tax-on-web": {
                    "channels": { "stationary_center": "complete", "web": "complete" },
                    "form": [{ "code": "tax-year", "label": { "en": "Tax year", "fr": "Année fiscale" },
                               "required": true, "type": "number", "min": 2000, "max": 2100 }],
                    "processing_days": 3,
                    "document_kind": "original"
                }
            }
        }"#,
    )
    .unwrap();
    let imported = import(
        SEMIC,
        None,
        &Options {
            companion,
            ..Options::default()
        },
    )
    .unwrap();
    let s = &imported.catalogue.services[0];
    assert_eq!(s.form.len(), 1);
    assert_eq!(s.processing_days, 3);
    assert_eq!(s.channels.len(), 2);
    assert_eq!(
        s.documents[0].kind,
        guichet_domain::catalogue::DocumentKind::Original,
        "the service's entry comes before the defaults"
    );
    let r = &imported.report.services[0];
    for needle in [
        "form: 1 field(s) (companion file)",
        "processing time: 3 days (companion file)",
        "depth per channel (companion file)",
    ] {
        assert!(r.mapped.iter().any(|m| m == needle), "{needle}: {r:?}");
    }
    assert!(!r.defaulted.iter().any(|d| d.starts_with("form:")), "{r:?}");

    // A companion naming a service the file does not hold is refused.
    let stray: guichet_cpsv::Companion =
        serde_json::from_str(r#"{ "services": { "no-such-service": { "processing_days": 1 } } }"#)
            .unwrap();
    let e = import(
        SEMIC,
        None,
        &Options {
            companion: stray,
            ..Options::default()
        },
    )
    .unwrap_err();
    assert_eq!(
        e.to_string(),
        "the companion file cannot be used: it gives service 'no-such-service', which the catalogue file does not hold"
    );
    // Unknown words are refused by the reader.
    assert!(
        serde_json::from_str::<guichet_cpsv::Companion>(r#"{ "defaults": { "depth": "full" } }"#)
            .is_err()
    );
}
