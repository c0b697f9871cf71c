//! A whole visit at the counter, through the real binary with `--json`: set up, register the
//! citizen, ticket, call, serve, take a paid request with its form and documents, dispatch
//! it, finish, feedback; then the lists, the full view and the audit trail.

mod common;

use common::{Guichet, MARI, charged_service, create_args, register_mari, strs, today};
use guichet_domain::money::Money;
use serde_json::Value;

#[test]
fn a_citizen_is_served_from_ticket_to_dispatched_request() {
    let g = Guichet::demo();
    let status = g.json(&["status"]);
    assert_eq!(status["config"]["center_code"], "ATH-01");
    assert_eq!(status["sync"]["configured"], false);
    assert_eq!(
        status["sync"]["message"],
        "no back office configured (standalone)"
    );
    assert!(status["catalogue_version"].as_u64().is_some());
    let counters = g.json(&["counter", "list"]);
    assert_eq!(counters.as_array().map(Vec::len), Some(2));
    assert_eq!(counters[0]["code"], "W1");
    assert_eq!(counters[0]["scope"]["kind"], "all");

    let citizen = g.json(&[
        "citizen",
        "add",
        "--id",
        MARI,
        "--given",
        "Mari",
        "--family",
        "Tamm",
        "--born",
        "1976-05-03",
        "--phone",
        "+372 5555 1234",
    ]);
    assert_eq!(citizen["national_id"], MARI);
    let found = g.json(&["citizen", "find", "--name", "TAMM", "--born", "03/05/1976"]);
    assert_eq!(found[0]["national_id"], MARI);

    let service = charged_service();
    let ticket = g.json(&[
        "queue",
        "issue",
        "--service",
        &service.code,
        "--lane",
        "elderly",
    ]);
    let code = ticket["code"].as_str().expect("a ticket code").to_owned();
    assert_eq!(ticket["status"], "waiting");
    let waiting = g.json(&["queue", "list"]);
    assert_eq!(waiting[0]["code"], code.as_str());

    let called = g.json(&["queue", "next", "--counter", "W1"]);
    assert_eq!(called["called"]["code"], code.as_str());
    assert_eq!(called["called"]["status"], "called");
    let serving = g.json(&["queue", "start", &code]);
    assert_eq!(serving["status"], "serving");
    let visit = serving["visit"].as_str().expect("an open visit").to_owned();

    let mut args = create_args(&service, today());
    args.extend(["--ticket".to_owned(), code.clone()]);
    let created = g.json(&strs(&args));
    let receipt = created["receipt"].as_str().expect("a receipt").to_owned();
    assert_eq!(receipt.len(), 14, "display form XXXX-XXXX-XXXX: {receipt}");
    assert!(receipt.starts_with("K7XA-"), "{receipt}");
    assert_eq!(created["status"], "draft");
    assert_eq!(created["visit_id"], visit.as_str());
    assert_eq!(created["citizen_id"], MARI);
    assert!(
        created["documents"]
            .as_array()
            .is_some_and(|d| d.iter().all(|d| d["received"] == true))
    );
    let fee = service.fee.amount().expect("a charged fee").clone();
    assert_eq!(created["fee"]["minor"], fee.minor);

    // Pay in two parts, the second by card, then submit and dispatch.
    let first = Money::new(fee.minor / 2, fee.currency.clone());
    let rest = Money::new(fee.minor - first.minor, fee.currency.clone());
    let paid = g.json(&[
        "request",
        "pay",
        &receipt,
        &first.decimal(),
        "--method",
        "cash",
    ]);
    assert_eq!(paid["outstanding_minor"], rest.minor);
    let paid = g.json(&[
        "request",
        "pay",
        &receipt,
        &rest.decimal(),
        "--method",
        "card",
    ]);
    assert_eq!(paid["outstanding_minor"], 0);
    assert_ne!(
        paid["receipt"],
        receipt.as_str(),
        "a payment has its own receipt"
    );

    let submitted = g.json(&["request", "advance", &receipt, "submit"]);
    assert_eq!(submitted["status"], "submitted");
    let dispatched = g.json(&["request", "advance", &receipt, "dispatch"]);
    assert_eq!(dispatched["status"], "dispatched");

    let done = g.json(&["queue", "finish", &code]);
    assert_eq!(done["status"], "done");
    g.json(&[
        "feedback",
        &code,
        "--rating",
        "5",
        "--comment",
        "quick and kind",
    ]);
    // One rating per visit.
    g.refused(&["feedback", &code, "--rating", "4"], 2, "already exists");

    // A second request, left as a draft, for the list filters.
    let mut args = create_args(&service, today());
    args.retain(|a| {
        !a.starts_with("--document") && !service.documents.iter().any(|d| &d.code == a)
    });
    let draft = g.json(&strs(&args));
    assert_eq!(draft["status"], "draft");
    assert!(
        draft["documents"]
            .as_array()
            .is_some_and(|d| d.iter().all(|d| d["received"] == false))
    );

    let all = g.json(&["request", "list"]);
    assert_eq!(all.as_array().map(Vec::len), Some(2));
    let dispatched_only = g.json(&["request", "list", "--status", "dispatched"]);
    assert_eq!(receipts(&dispatched_only), vec![receipt.clone()]);
    let mine = g.json(&[
        "request",
        "list",
        "--citizen",
        MARI,
        "--service",
        &service.code,
    ]);
    assert_eq!(mine.as_array().map(Vec::len), Some(2));
    let limited = g.json(&["request", "list", "--limit", "1"]);
    assert_eq!(limited.as_array().map(Vec::len), Some(1));
    assert_eq!(
        g.json(&["request", "list", "--overdue"]),
        Value::Array(vec![])
    );

    // The full view: form, payments, timeline and the sync state of every change.
    let shown = g.json(&["request", "show", &receipt.to_lowercase()]);
    assert_eq!(shown["receipt"], receipt.as_str());
    assert_eq!(shown["payments"].as_array().map(Vec::len), Some(2));
    let steps: Vec<&str> = shown["timeline"]
        .as_array()
        .map(|t| t.iter().filter_map(|e| e["action"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(steps, ["create", "submit", "dispatch"]);
    let changes = shown["changes"].as_array().expect("changes");
    assert_eq!(changes.len(), 5, "created, 2 payments, submit, dispatch");
    assert!(changes.iter().all(|c| c["state"] == "pending"));
    for field in &service.form {
        assert!(shown["form"].get(&field.code).is_some(), "{}", field.code);
    }

    let outbox = g.json(&["outbox", "--state", "pending"]);
    assert!(outbox.as_array().is_some_and(|o| o.len() >= 12));
    assert_eq!(g.json(&["outbox", "--state", "sent"]), Value::Array(vec![]));
    let status = g.json(&["status"]);
    assert_eq!(
        status["outbox"]["pending"],
        outbox.as_array().map_or(0, Vec::len)
    );

    let audit = g.ok(&["audit", "verify"]);
    assert!(
        audit.stdout.starts_with("audit chain intact: "),
        "{}",
        audit.stdout
    );
    assert!(g.json(&["audit", "verify"])["events"].as_u64() > Some(15));
}

#[test]
fn the_counter_sees_compact_text() {
    let g = Guichet::demo();
    register_mari(&g);
    let nobody = g.ok(&["queue", "next", "--counter", "W1"]);
    assert_eq!(nobody.stdout.trim(), "nobody is waiting for counter W1");

    let service = charged_service();
    let created = g.ok(&strs(&create_args(&service, today())));
    let receipt = g.json(&["request", "list"])[0]["receipt"]
        .as_str()
        .expect("a receipt")
        .to_owned();
    assert!(
        created.stdout.contains(&format!("┃  {receipt}  ┃")),
        "{}",
        created.stdout
    );
    let fee = service.fee.amount().expect("a charged fee");
    assert!(
        created.stdout.contains(&format!("{fee} unpaid")),
        "{}",
        created.stdout
    );

    let list = g.ok(&["request", "list"]);
    let lines: Vec<&str> = list.stdout.lines().collect();
    assert!(lines[0].starts_with("RECEIPT"), "{}", list.stdout);
    assert!(lines[1].starts_with(&receipt), "{}", list.stdout);
    assert_eq!(
        lines[0].find("STATUS"),
        lines[1].find("draft"),
        "columns are aligned:\n{}",
        list.stdout
    );

    let shown = g.ok(&["request", "show", &receipt]);
    for section in ["Form", "Documents", "Timeline", "Sync"] {
        assert!(
            shown.stdout.contains(&format!("\n{section}\n")),
            "{}",
            shown.stdout
        );
    }

    let french = g.ok(&["--lang", "fr", "catalogue", "show", &service.code]);
    assert!(
        french.stdout.contains(service.title.get("fr")),
        "{}",
        french.stdout
    );
    let search = g.ok(&[
        "catalogue",
        "search",
        "--category",
        &service.category,
        "--limit",
        "50",
    ]);
    assert!(search.stdout.contains(&service.code), "{}", search.stdout);
    let browse = g.ok(&["catalogue", "browse"]);
    for section in ["Life events", "Target groups", "Categories", "Agencies"] {
        assert!(browse.stdout.contains(section), "{}", browse.stdout);
    }
    let status = g.ok(&["status"]);
    assert!(
        status.stdout.contains("no back office configured"),
        "{}",
        status.stdout
    );
}

#[test]
fn a_catalogue_file_loads_and_holidays_move_due_dates() {
    let g = Guichet::new();
    g.ok(&[
        "setup",
        "--center",
        "ATH-01",
        "--device",
        "D1",
        "--admin",
        "eleni",
        "--password-stdin",
    ]);
    let file = g.data_dir().join("catalogue.json");
    std::fs::write(&file, guichet_fixtures::DEMO_CATALOGUE_JSON).expect("write the catalogue");
    let file = file.to_str().expect("a UTF-8 path");
    let load = g.json(&["catalogue", "load", file]);
    let catalogue = guichet_fixtures::demo_catalogue();
    assert_eq!(load["version"], catalogue.version);
    assert_eq!(
        load["services"]
            .as_u64()
            .zip(load["skipped"].as_u64())
            .map(|(a, b)| a + b),
        Some(catalogue.services.len() as u64)
    );
    let text = g.ok(&["catalogue", "load", file]);
    assert!(
        text.stdout.starts_with("catalogue version "),
        "{}",
        text.stdout
    );

    let added = g.json(&["holiday", "add", "25/12/2031", "Christmas", "Day"]);
    assert_eq!(added["date"], "2031-12-25");
    assert_eq!(added["name"], "Christmas Day");
    g.refused(
        &["holiday", "add", "2031-12-25", "Again"],
        2,
        "already exists",
    );
}

fn receipts(list: &Value) -> Vec<String> {
    list.as_array()
        .map(|l| {
            l.iter()
                .filter_map(|r| r["receipt"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
