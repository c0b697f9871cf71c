//! Four eyes from the command line: `--approver NAME` with the approver's password read after
//! the clerk's (here the clerk's session is open, so it is the first line), and refunds.

mod common;

use common::{Guichet, add_kostas, charged_service, create_args, register_mari, strs, today};
use guichet_fixtures::DEMO_PASSWORD;

/// A demo workstation with kostas, a supervisor, and a paid request; answers its receipt and
/// its payment's receipt.
fn paid_request(g: &Guichet) -> (String, String) {
    add_kostas(g);
    register_mari(g);
    let service = charged_service();
    let created = g.json(&strs(&create_args(&service, today())));
    let receipt = created["receipt"].as_str().unwrap().to_owned();
    let fee = service.fee.amount().unwrap().decimal();
    let paid = g.json(&["request", "pay", &receipt, &fee, "--method", "cash"]);
    (receipt, paid["receipt"].as_str().unwrap().to_owned())
}

#[test]
fn a_refund_needs_an_approver_and_names_both() {
    let g = Guichet::demo();
    let (receipt, payment) = paid_request(&g);
    let refund = [
        "request",
        "refund",
        &receipt,
        "--payment",
        &payment,
        "--amount",
        "1.00",
        "--reason",
        "typed one euro too many",
    ];
    g.refused(
        &refund,
        2,
        "a supervisor must approve a refund: ask one to enter their name and password",
    );
    // The refusal names the option that gives the approver.
    g.refused(
        &refund,
        2,
        "hint: give the supervisor's user name with --approver NAME",
    );
    let mut with_approver = refund.to_vec();
    with_approver.extend(["--approver", "kostas", "--password-stdin"]);
    // A wrong approver password is refused like a wrong login, and nothing is refunded.
    let wrong = g.run_with_input(&with_approver, "not the password\n");
    assert_eq!(wrong.code, 2, "{}", wrong.stderr);
    assert!(
        wrong
            .stderr
            .contains("the approver's user name or password is wrong"),
        "{}",
        wrong.stderr
    );
    let shown = g.json(&["request", "show", &receipt]);
    assert_eq!(shown["refunds"].as_array().unwrap().len(), 0);

    let mut json = vec!["--json"];
    json.extend_from_slice(&with_approver);
    let given = g.ok(&json).json();
    assert_eq!(
        (
            &given["clerk"],
            &given["approver"],
            &given["amount"]["minor"]
        ),
        (&"eleni".into(), &"kostas".into(), &100.into())
    );
    let shown = g.json(&["request", "show", &receipt]);
    assert_eq!(shown["refunds"][0]["approver"], "kostas");
    assert_eq!(shown["payments"][0]["refunded_minor"], 100);
    let text = g.ok(&["request", "show", &receipt]).stdout;
    assert!(
        text.contains("Refunds") && text.contains("kostas"),
        "{text}"
    );
}

#[test]
fn a_cancellation_after_payment_takes_the_approver_on_the_command_line() {
    let g = Guichet::demo();
    let (receipt, _) = paid_request(&g);
    // Without a reason, the refusal names the option that gives one.
    g.refused(
        &["request", "advance", &receipt, "cancel"],
        2,
        "hint: give it with --reason TEXT",
    );
    let cancel = [
        "request", "advance", &receipt, "cancel", "--reason", "withdrew",
    ];
    g.refused(
        &cancel,
        2,
        "a supervisor must approve a cancellation after payment",
    );
    let mut own = cancel.to_vec();
    own.extend(["--approver", "eleni", "--password-stdin"]);
    g.refused(&own, 2, "cannot approve their own act");
    let mut approved = cancel.to_vec();
    approved.extend(["--approver", "kostas", "--password-stdin"]);
    let run = g.run_with_input(&approved, &format!("{DEMO_PASSWORD}\n"));
    assert_eq!(run.code, 0, "{}", run.stderr);
    let shown = g.json(&["request", "show", &receipt]);
    assert_eq!(shown["status"], "cancelled");
    let outbox = g.json(&["outbox"]);
    let last = outbox.as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (&last["actor"], &last["payload"]["approver"]),
        (&"eleni".into(), &"kostas".into()),
        "{last}"
    );
}
