//! The catalogue replica: loading, scoping to the centre, search and browse.

mod common;

use std::io::Write;

use common::demo;
use guichet_domain::catalogue::{Channel, Depth};
use guichet_domain::text::fold;
use guichet_workstation::Error;
use guichet_workstation::store::SearchQuery;

fn search(text: &str) -> SearchQuery {
    SearchQuery {
        text: Some(text.to_owned()),
        ..SearchQuery::default()
    }
}

/// A search text beyond a few sentences (a page pasted into the field) is refused with the
/// length to keep to; one at the limit is searched.
#[test]
fn a_search_longer_than_the_limit_is_refused() {
    let b = demo();
    let max = guichet_workstation::store::MAX_SEARCH_CHARS;
    let long = "photo ".repeat(1000);
    let refused = b.ws.search(&search(&long)).unwrap_err();
    assert!(
        refused.to_string().contains(&format!(
            "the search is 6000 characters long: type at most {max}"
        )),
        "{refused}"
    );
    assert!(matches!(refused, Error::Refused(_)), "{refused:?}");
    let at_limit: String = "photo ".repeat(max / 6 + 1).chars().take(max).collect();
    assert!(b.ws.search(&search(&at_limit)).is_ok());
}

#[test]
fn search_ignores_case_and_diacritics_in_every_language() {
    let b = demo();
    let catalogue = guichet_fixtures::demo_catalogue();
    // Every French title with an accent is found by its title typed without accents.
    let mut checked = 0;
    for s in catalogue
        .services
        .iter()
        .filter(|s| s.availability.offered_at("ATH-01"))
    {
        let fr = s.title.get("fr");
        if fold(fr) == fr.to_lowercase() {
            continue;
        }
        let hits = b.ws.search(&search(&fold(fr).to_uppercase())).unwrap();
        assert!(
            hits.iter().any(|h| h.code == s.code),
            "'{}' not found for {}",
            fold(fr),
            s.code
        );
        checked += 1;
    }
    assert!(
        checked >= 5,
        "the demo has accented French titles ({checked})"
    );
    let etat = b.ws.search(&search("etat civil")).unwrap();
    let accented = b.ws.search(&search("État Civil")).unwrap();
    assert_eq!(etat, accented);
    // Prefixes narrow as the clerk types; punctuation and FTS syntax are just words.
    assert!(!b.ws.search(&search("passp")).unwrap().is_empty());
    assert!(b.ws.search(&search("\"* OR NEAR(")).is_ok());
    assert!(b.ws.search(&search("zzzzqqq")).unwrap().is_empty());
}

#[test]
fn filters_combine_with_text_and_rank_titles_first() {
    let b = demo();
    let browse = b.ws.browse().unwrap();
    assert_eq!(browse.life_events.len(), 15);
    assert!(browse.target_groups.len() >= 10);
    let event = browse
        .life_events
        .iter()
        .max_by_key(|e| e.services)
        .unwrap();
    let by_event =
        b.ws.search(&SearchQuery {
            life_event: Some(event.code.clone()),
            limit: Some(1000),
            ..SearchQuery::default()
        })
        .unwrap();
    assert_eq!(by_event.len() as u32, event.services);
    let category = &by_event[0].category;
    let both =
        b.ws.search(&SearchQuery {
            life_event: Some(event.code.clone()),
            category: Some(category.clone()),
            limit: Some(1000),
            ..SearchQuery::default()
        })
        .unwrap();
    assert!(!both.is_empty() && both.len() <= by_event.len());
    assert!(both.iter().all(|h| &h.category == category));
    let web =
        b.ws.search(&SearchQuery {
            channel: Some(Channel::Web),
            limit: Some(1000),
            ..SearchQuery::default()
        })
        .unwrap();
    for hit in &web {
        assert!(
            b.ws.service(&hit.code)
                .unwrap()
                .depth(Channel::Web)
                .is_some()
        );
    }
    // A word in a title ranks that service above one that has it only in its description.
    let first = &b.ws.search(&search("passport")).unwrap()[0];
    assert!(
        fold(first.title.get("en")).contains("passport"),
        "{:?}",
        first.title
    );
    assert!(matches!(
        b.ws.search(&SearchQuery {
            life_event: Some("no-such-event".into()),
            ..SearchQuery::default()
        }),
        Err(Error::NotFound { .. })
    ));
}

#[test]
fn only_services_offered_here_are_kept() {
    let b = demo();
    let catalogue = guichet_fixtures::demo_catalogue();
    let elsewhere: Vec<_> = catalogue
        .services
        .iter()
        .filter(|s| !s.availability.offered_at("ATH-01"))
        .collect();
    assert!(!elsewhere.is_empty());
    for s in elsewhere {
        assert!(matches!(b.ws.service(&s.code), Err(Error::NotFound { .. })));
    }
    let info_only = catalogue.services.iter().find(|s| {
        s.availability.offered_at("ATH-01")
            && s.depth(Channel::StationaryCenter) == Some(Depth::InformationOnly)
    });
    if let Some(s) = info_only {
        let hit = &b
            .ws
            .search(&SearchQuery {
                text: Some(fold(s.title.get("en"))),
                limit: Some(100),
                ..SearchQuery::default()
            })
            .unwrap();
        let hit = hit.iter().find(|h| h.code == s.code).unwrap();
        assert_eq!(hit.depth_here, Some(Depth::InformationOnly));
    }
}

#[test]
fn an_older_catalogue_is_refused_and_a_broken_one_changes_nothing() {
    let mut b = demo();
    let mut old = guichet_fixtures::demo_catalogue();
    let held = old.version;
    old.version = held.saturating_sub(1);
    if old.version < held {
        assert!(matches!(
            b.ws.load_catalogue(&old),
            Err(Error::StaleCatalogue { .. })
        ));
    }
    let mut broken = guichet_fixtures::demo_catalogue();
    broken.version = held + 1;
    broken.services[0].category = "nowhere".into();
    broken.services[1].title.0.remove("fr");
    let err = b.ws.load_catalogue(&broken).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("nowhere") && text.contains("'fr'"), "{text}");
    assert_eq!(b.ws.catalogue_version().unwrap(), Some(held));
    let mut newer = guichet_fixtures::demo_catalogue();
    newer.version = held + 1;
    newer.services.truncate(10);
    let load = b.ws.load_catalogue(&newer).unwrap();
    assert_eq!(load.version, held + 1);
    assert!(load.services <= 10);
    assert_eq!(
        b.ws.search(&SearchQuery {
            limit: Some(1000),
            ..SearchQuery::default()
        })
        .unwrap()
        .len(),
        load.services
    );
}

/// The clerk queries kept in `fixtures/search-queries.tsv`: misspelt, in another word form, or
/// as written, in English and French. Each names the service it means; at least 95% of them
/// must find it among the first three results.
#[test]
fn clerk_queries_find_what_they_mean_despite_typos_and_word_forms() {
    let b = demo();
    let cases: Vec<(&str, &str)> = include_str!("../../../fixtures/search-queries.tsv")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut columns = l.split('\t');
            let query = columns.next().expect("a query");
            let expected = columns.next().expect("a service code");
            (query, expected)
        })
        .collect();
    assert!(cases.len() >= 60, "the set holds {} queries", cases.len());
    let mut missed = Vec::new();
    for (query, expected) in &cases {
        b.ws.service(expected)
            .expect("the expected service is in the demo");
        let hits = b.ws.search(&search(query)).unwrap();
        let top: Vec<&str> = hits.iter().take(3).map(|h| h.code.as_str()).collect();
        if !top.contains(expected) {
            missed.push(format!("{query:?} wants {expected}, got {top:?}"));
        }
    }
    let recall = 1.0 - missed.len() as f64 / cases.len() as f64;
    writeln!(
        std::io::stderr(),
        "recall at 3: {:.1}% of {} queries; missed:\n{}",
        recall * 100.0,
        cases.len(),
        missed.join("\n")
    )
    .unwrap();
    assert!(recall >= 0.95, "recall at 3 is {:.1}%", recall * 100.0);
}

#[test]
fn exact_matches_rank_above_forgiven_ones() {
    let b = demo();
    // "permis" is a word of many titles; a typo of it comes after them all.
    let exact = b.ws.search(&search("passport")).unwrap();
    assert_eq!(exact[0].code, "passport");
    let typo = b.ws.search(&search("pasport")).unwrap();
    assert!(
        typo.iter().take(3).any(|h| h.code == "passport"),
        "{typo:?}"
    );
    // A service holding the words as typed comes before one that only resembles them.
    let hits = b.ws.search(&search("permis de conduire")).unwrap();
    let exact_ones = hits
        .iter()
        .take_while(|h| {
            let t = fold(&h.title.all());
            t.contains("permis") && t.contains("conduire")
        })
        .count();
    assert!(exact_ones >= 2, "{hits:?}");
    // A word the catalogue does not know at all does not hide the others.
    let hits = b.ws.search(&search("passport xqzw")).unwrap();
    assert!(hits.iter().any(|h| h.code == "passport"), "{hits:?}");
}
