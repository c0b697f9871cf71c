//! Real CPSV-AP catalogues end to end: each file imported at the back office is published
//! once (an unchanged file again publishes nothing), reaches an enrolled workstation at its
//! next sync, and its services are found there by a clerk's search.

use std::sync::Arc;

use guichet_backoffice::service::Published;
use guichet_cpsv::{Options, import};
use guichet_tests::{Device, Server};
use guichet_workstation::clock::SystemClock;
use guichet_workstation::store::SearchQuery;

const CENTER: &str = "ATH-01";

/// Each file, and a word of a service title a clerk would type (in the file's language).
const FILES: [(&str, &[u8], &str, &str); 3] = [
    (
        "Trento (JSON-LD)",
        include_bytes!("../fixtures/cpsv-ap/IT_trento_services_cpsvap.jsonld"),
        "certificazione",
        "p_TN_NP7",
    ),
    (
        "SEMIC example (Turtle)",
        include_bytes!("../fixtures/cpsv-ap/EU_semic_cpsv-ap-3.2.0_example.ttl"),
        "tax-on-web",
        "Tax-on-web",
    ),
    (
        "Norwegian example (Turtle)",
        include_bytes!("../fixtures/cpsv-ap/NO_cpsv-ap-no_all_classes_example.ttl"),
        "skjenkebevilling",
        "exOffentligTjeneste.ttl",
    ),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imported_catalogues_reach_the_counter_and_are_searchable() {
    let server = Server::start(CENTER).await;
    let mut device = Device::enroll(&server, CENTER, Arc::new(SystemClock)).await;
    device.sync().await.unwrap();
    let mut version = device.ws.catalogue_version().unwrap().unwrap();
    for (name, bytes, typed, code) in FILES {
        let imported = import(bytes, None, &Options::default()).unwrap();
        let published = server
            .office
            .publish_if_changed(imported.catalogue.clone())
            .await
            .unwrap();
        version += 1;
        assert_eq!(published, Published::New(version), "{name}");
        // The same file again says nothing new.
        let again = import(bytes, None, &Options::default()).unwrap();
        assert_eq!(
            server
                .office
                .publish_if_changed(again.catalogue)
                .await
                .unwrap(),
            Published::Unchanged(version),
            "{name}"
        );

        device.sync().await.unwrap();
        assert_eq!(
            device.ws.catalogue_version().unwrap(),
            Some(version),
            "{name}"
        );
        let hits = device
            .ws
            .search(&SearchQuery {
                text: Some(typed.to_owned()),
                ..SearchQuery::default()
            })
            .unwrap();
        assert!(
            hits.iter().any(|h| h.code == code),
            "{name}: '{typed}' should find {code}: {hits:?}"
        );
        // Every service of the file is there.
        for s in &imported.catalogue.services {
            device.ws.service(&s.code).unwrap();
        }
    }
}
