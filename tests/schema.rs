//! Real messages, as a workstation and the back office exchange them over HTTP, validated
//! against the committed JSON Schema of the protocol (`schema/sync-protocol.schema.json`). The
//! domain types are described there by mirrors; a mirror that drifts from its type fails here.

use std::sync::Arc;

use guichet_domain::request::Action;
use guichet_protocol::{
    Change, EnrollRequest, ExchangeRequest, ExchangeResponse, Outcome, Pulled, PushEntry,
};
use guichet_tests::{Device, Server};
use guichet_workstation::clock::SystemClock;
use guichet_workstation::sync;
use serde::Serialize;
use serde_json::{Value, json};

const CENTER: &str = "ATH-01";

fn committed() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(guichet_protocol::schema::PATH);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Checks `message` against `$defs/NAME` of the committed schema; returns the errors.
fn errors(schema: &Value, name: &str, message: &Value) -> Vec<String> {
    let mut root = schema.clone();
    root["$ref"] = Value::String(format!("#/$defs/{name}"));
    let validator = jsonschema::validator_for(&root).unwrap();
    validator
        .iter_errors(message)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

fn check(schema: &Value, name: &str, message: &impl Serialize) {
    let value = serde_json::to_value(message).unwrap();
    let found = errors(schema, name, &value);
    assert!(
        found.is_empty(),
        "{name} does not match the schema: {found:?}\n{value:#}"
    );
}

async fn exchange(
    device: &mut Device,
    push: Vec<PushEntry>,
) -> (ExchangeRequest, ExchangeResponse) {
    let request = ExchangeRequest {
        audit: device.ws.audit_claim(None).unwrap(),
        push,
        cursor: device.ws.sync_point().unwrap().unwrap().cursor,
        limit: 1000,
        recovery_key: None,
        state: None,
    };
    let response = device.office.exchange(&request).await.unwrap();
    device.ws.apply_exchange(&request.push, &response).unwrap();
    (request, response)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_messages_match_the_committed_schema() {
    let schema = committed();
    let server = Server::start(CENTER).await;

    // Enrolment, both ways.
    let code = server
        .office
        .issue_enrolment_code(CENTER, chrono::Duration::hours(1))
        .await
        .unwrap();
    let enroll = EnrollRequest {
        code: code.code.clone(),
        label: Some("desk 2".into()),
        recovery_key: Some("AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH".into()),
    };
    check(&schema, "EnrollRequest", &enroll);
    let anonymous =
        sync::BackOffice::new(&server.url, None, std::time::Duration::from_secs(10)).unwrap();
    let (enrolled, _) = sync::enroll(&anonymous, &code.code, Some("desk 2"))
        .await
        .unwrap();
    check(&schema, "EnrollResponse", &enrolled);

    // The first pull brings the catalogue; offline work is pushed and applied; another
    // device of the centre pulls it.
    let mut a = Device::enroll(&server, CENTER, Arc::new(SystemClock)).await;
    let mut b = Device::enroll(&server, CENTER, Arc::new(SystemClock)).await;
    let (request, first) = exchange(&mut a, Vec::new()).await;
    check(&schema, "ExchangeRequest", &request);
    check(&schema, "ExchangeResponse", &first);
    assert!(
        first
            .changes
            .iter()
            .any(|c| matches!(c.body, Pulled::Catalogue { .. }))
    );
    let receipts = a.offline_work(3);
    let push = a.ws.pending_push(100).unwrap();
    let (request, pushed) = exchange(&mut a, push).await;
    check(&schema, "ExchangeRequest", &request);
    check(&schema, "ExchangeResponse", &pushed);
    assert!(
        pushed
            .results
            .iter()
            .all(|r| matches!(r.outcome, Outcome::Applied { .. }))
    );
    let (_, peers) = exchange(&mut b, Vec::new()).await;
    check(&schema, "ExchangeResponse", &peers);
    assert!(
        peers
            .changes
            .iter()
            .any(|c| matches!(c.body, Pulled::Peer { .. }))
    );

    // Agency decisions pulled; a refusal, an applied move, a conflict and a duplicate pushed.
    for (action, reason) in [
        (Action::TakeInProcessing, None),
        (Action::Reject, Some("not eligible")),
    ] {
        server
            .office
            .agency_decide(&receipts[0], action, reason, "agency:anna")
            .await
            .unwrap();
    }
    b.ws.advance(&receipts[1], Action::Cancel, Some("withdrew"), None)
        .unwrap();
    b.ws.advance(&receipts[0], Action::Cancel, Some("withdrew"), None)
        .unwrap();
    let mut push = b.ws.pending_push(100).unwrap();
    let third = b.ws.request(&receipts[2]).unwrap().summary;
    let reused = PushEntry {
        id: request.push[0].id.clone(),
        seq: 0,
        hlc: push[0].hlc.clone(),
        actor: push[0].actor.clone(),
        change: Change::RequestTransition {
            id: third.id,
            action: Action::Cancel,
            from: third.status,
            to: guichet_domain::request::RequestStatus::Cancelled,
            reason: Some("withdrew".into()),
            approver: None,
        },
    };
    push.insert(0, reused);
    push.push(request.push[0].clone());
    let mixed_request = ExchangeRequest {
        audit: b.ws.audit_claim(None).unwrap(),
        push,
        cursor: b.ws.sync_point().unwrap().unwrap().cursor,
        limit: 1000,
        recovery_key: None,
        state: None,
    };
    let mixed = b.office.exchange(&mixed_request).await.unwrap();
    check(&schema, "ExchangeRequest", &mixed_request);
    check(&schema, "ExchangeResponse", &mixed);
    let outcomes: Vec<&str> = mixed
        .results
        .iter()
        .map(|r| match r.outcome {
            Outcome::Applied { .. } => "applied",
            Outcome::Duplicate { .. } => "duplicate",
            Outcome::Refused { .. } => "refused",
            Outcome::Conflict { .. } => "conflict",
        })
        .collect();
    // The reused id, the clerk's login, the two cancellations, the retry.
    assert_eq!(
        outcomes,
        ["refused", "applied", "applied", "conflict", "duplicate"]
    );
    assert!(
        mixed
            .changes
            .iter()
            .any(|c| matches!(c.body, Pulled::Decision { .. }))
    );

    // An error body, straight from the server.
    let answer = reqwest::Client::new()
        .post(format!(
            "{}{}/exchange",
            server.url,
            guichet_protocol::BASE_PATH
        ))
        .header("content-type", "application/json")
        .body(r#"{"cursor":0,"limit":1}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 401);
    let error: Value = answer.json().await.unwrap();
    let found = errors(&schema, "ApiError", &error);
    assert!(found.is_empty(), "{found:?}: {error}");
    server.shutdown().await;
}

/// The kinds no real exchange above carries, as the types read them, and what the schema
/// must refuse.
#[test]
fn every_change_kind_matches_and_wrong_messages_do_not() {
    let schema = committed();
    let kinds = [
        json!({"kind": "request.document_marked", "id": "r1", "document": "photo", "received": true}),
        json!({"kind": "fee.waived", "id": "r1", "ground": "older-people"}),
        json!({"kind": "counter.added", "counter": {"code": "C1", "name": "Counter 1",
            "scope": {"kind": "listed", "services": ["id-card"], "categories": []}}}),
        json!({"kind": "ticket.issued", "id": "t1", "code": "B017",
            "target": {"kind": "category", "code": "civil"}, "lane": "standard"}),
        json!({"kind": "ticket.step", "id": "t1", "code": "B017", "action": "call",
            "from": "waiting", "to": "called", "counter": "C1"}),
        json!({"kind": "ticket.transferred", "id": "t1", "from": "serving",
            "to_queue": {"kind": "service", "code": "id-card"}, "to_counter": null}),
        json!({"kind": "feedback.recorded", "id": "f1", "visit": "v1",
            "feedback": {"rating": 5, "comment": null, "channel": "stationary_center"}}),
    ];
    for kind in kinds {
        let change: Change = serde_json::from_value(kind.clone()).unwrap();
        check(&schema, "Change", &change);
    }
    let wrong = [
        ("Change", json!({"kind": "fee.forgiven", "id": "r1"})),
        (
            "ExchangeRequest",
            json!({"cursor": 1, "limit": 1, "extra": 1}),
        ),
        ("PushResult", json!({"id": "e1", "outcome": "applied"})),
        (
            "ApiError",
            json!({"error": {"code": "teapot", "message": "no"}}),
        ),
        (
            "Change",
            json!({"kind": "request.transition", "id": "r1", "action": "cancel",
                "from": "ready", "to": "gone", "reason": null}),
        ),
    ];
    for (name, message) in wrong {
        assert!(
            !errors(&schema, name, &message).is_empty(),
            "{name} accepted {message}"
        );
    }
}
