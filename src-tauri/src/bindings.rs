//! The TypeScript types of what the window's commands take and answer, written from the Rust
//! types' JSON Schemas (`schemars`, which follows their serde attributes) into
//! `ui/src/bindings.ts`. The test below fails when that file is not what the Rust types say
//! today; `GUICHET_WRITE_BINDINGS=1 cargo test -p guichet-app bindings` writes it again.
//!
//! What the window receives is described as Rust serializes it, what it sends as Rust
//! deserializes it: a field with a default may be left out of an argument, never out of an
//! answer.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use schemars::SchemaGenerator;
use schemars::generate::{Contract, SchemaSettings};
use serde_json::{Map, Value};

/// Where the generated file lives, from the app's crate.
const BINDINGS: &str = "../ui/src/bindings.ts";

/// The types of the commands' answers and of the events the window hears.
macro_rules! answers {
    ($generator:ident) => {{
        use guichet_report::Dashboard;
        use guichet_workstation::store::{
            Browse, Config, PaymentView, RequestDetail, RequestSummary, ServiceHit, Session,
            TicketView,
        };
        $generator.subschema_for::<crate::trouble::StartProblem>();
        $generator.subschema_for::<crate::commands::AppState>();
        $generator.subschema_for::<crate::commands::SetUp>();
        $generator.subschema_for::<Config>();
        $generator.subschema_for::<Session>();
        $generator.subschema_for::<TicketView>();
        $generator.subschema_for::<crate::commands::QueueView>();
        $generator.subschema_for::<guichet_workstation::store::CallingBoard>();
        $generator.subschema_for::<crate::commands::KioskMenu>();
        $generator.subschema_for::<crate::commands::KioskTicket>();
        $generator.subschema_for::<Browse>();
        $generator.subschema_for::<ServiceHit>();
        $generator.subschema_for::<crate::commands::ServiceView>();
        $generator.subschema_for::<guichet_domain::form::FieldProblem>();
        $generator.subschema_for::<guichet_domain::citizen::Citizen>();
        $generator.subschema_for::<RequestDetail>();
        $generator.subschema_for::<PaymentView>();
        $generator.subschema_for::<RequestSummary>();
        $generator.subschema_for::<Dashboard>();
        $generator.subschema_for::<crate::commands::Exported>();
        $generator.subschema_for::<crate::commands::Printed>();
        $generator.subschema_for::<crate::commands::ExportProgress>();
        $generator.subschema_for::<crate::StatusBar>();
    }};
}

/// The types of the commands' arguments.
macro_rules! arguments {
    ($generator:ident) => {{
        use guichet_workstation::store::{
            Approval, CitizenQuery, NewCitizen, NewRefund, NewRequest, RequestFilter, Rules,
            SearchQuery, Transfer,
        };
        $generator.subschema_for::<crate::commands::StandaloneSetup>();
        $generator.subschema_for::<crate::commands::EnrolLink>();
        $generator.subschema_for::<guichet_domain::queue::QueueTarget>();
        $generator.subschema_for::<Approval>();
        $generator.subschema_for::<Transfer>();
        $generator.subschema_for::<SearchQuery>();
        $generator.subschema_for::<CitizenQuery>();
        $generator.subschema_for::<NewCitizen>();
        $generator.subschema_for::<NewRequest>();
        $generator.subschema_for::<guichet_domain::feedback::PaymentMethod>();
        $generator.subschema_for::<NewRefund>();
        $generator.subschema_for::<RequestFilter>();
        $generator.subschema_for::<guichet_domain::request::Action>();
        $generator.subschema_for::<crate::commands::Export>();
        $generator.subschema_for::<Rules>();
        $generator.subschema_for::<crate::commands::SlipRequest>();
    }};
}

fn generator(contract: Contract) -> SchemaGenerator {
    let mut settings = SchemaSettings::draft2020_12();
    settings.contract = contract;
    settings.into_generator()
}

/// The whole of `ui/src/bindings.ts`.
fn typescript() -> Result<String, String> {
    let mut answers = generator(Contract::Serialize);
    answers!(answers);
    let mut arguments = generator(Contract::Deserialize);
    arguments!(arguments);
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    for (name, schema) in answers.definitions() {
        types.insert(name.clone(), declaration(name, schema));
    }
    for (name, schema) in arguments.definitions() {
        let written = declaration(name, schema);
        match types.get(name) {
            Some(answer) if *answer != written => {
                return Err(format!(
                    "{name} is written one way in answers and another in arguments; \
                     give the argument a type of its own"
                ));
            }
            _ => {
                types.insert(name.clone(), written);
            }
        }
    }
    let mut out = String::from(
        "// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit. To write it\n\
         // again after changing a type: GUICHET_WRITE_BINDINGS=1 cargo test -p guichet-app bindings\n",
    );
    for declaration in types.values() {
        out.push('\n');
        out.push_str(declaration);
    }
    Ok(out)
}

fn declaration(name: &str, schema: &Value) -> String {
    let mut out = String::new();
    doc(&mut out, schema, "");
    let _ = writeln!(out, "export type {name} = {};", ts(schema, ""));
    out
}

/// The schema's description as a doc comment, indented by `indent`.
fn doc(out: &mut String, schema: &Value, indent: &str) {
    let Some(text) = schema.get("description").and_then(Value::as_str) else {
        return;
    };
    let text = text.replace("*/", "* /");
    let lines: Vec<&str> = text.lines().collect();
    if let [line] = lines.as_slice() {
        let _ = writeln!(out, "{indent}/** {line} */");
        return;
    }
    let _ = writeln!(out, "{indent}/**");
    for line in lines {
        if line.is_empty() {
            let _ = writeln!(out, "{indent} *");
        } else {
            let _ = writeln!(out, "{indent} * {line}");
        }
    }
    let _ = writeln!(out, "{indent} */");
}

/// The TypeScript type of a schema; `indent` is the indentation of the line it starts on.
fn ts(schema: &Value, indent: &str) -> String {
    let Value::Object(s) = schema else {
        return if schema == &Value::Bool(false) {
            "never".to_owned()
        } else {
            "unknown".to_owned()
        };
    };
    if let Some(reference) = s.get("$ref").and_then(Value::as_str) {
        return reference.rsplit('/').next().unwrap_or(reference).to_owned();
    }
    if let Some(value) = s.get("const") {
        return value.to_string();
    }
    if let Some(Value::Array(values)) = s.get("enum") {
        return union(values.iter().map(Value::to_string).collect());
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(Value::Array(choices)) = s.get(key) {
            let choices = choices.iter().map(|c| ts(c, indent)).collect();
            let choices = union(choices);
            return match object(s, indent) {
                Some(common) => format!("{common} & ({choices})"),
                None => choices,
            };
        }
    }
    if let Some(Value::Array(all)) = s.get("allOf") {
        return all
            .iter()
            .map(|c| ts(c, indent))
            .collect::<Vec<_>>()
            .join(" & ");
    }
    match s.get("type") {
        Some(Value::Array(types)) => union(
            types
                .iter()
                .map(|t| {
                    let mut one = s.clone();
                    one.insert("type".to_owned(), t.clone());
                    ts(&Value::Object(one), indent)
                })
                .collect(),
        ),
        Some(Value::String(t)) => match t.as_str() {
            "string" => "string".to_owned(),
            "integer" | "number" => "number".to_owned(),
            "boolean" => "boolean".to_owned(),
            "null" => "null".to_owned(),
            "array" => array(s, indent),
            "object" => object(s, indent).unwrap_or_else(|| "Record<string, never>".to_owned()),
            other => format!("unknown /* {other} */"),
        },
        _ => "unknown".to_owned(),
    }
}

fn array(s: &Map<String, Value>, indent: &str) -> String {
    if let Some(Value::Array(items)) = s.get("prefixItems") {
        let items: Vec<String> = items.iter().map(|i| ts(i, indent)).collect();
        return format!("[{}]", items.join(", "));
    }
    let item = s
        .get("items")
        .map_or("unknown".to_owned(), |i| ts(i, indent));
    if item.contains(['|', '&', ' ']) {
        format!("({item})[]")
    } else {
        format!("{item}[]")
    }
}

/// An object's fields, or the map it is; none when the schema says neither.
fn object(s: &Map<String, Value>, indent: &str) -> Option<String> {
    let properties = s.get("properties").and_then(Value::as_object);
    let Some(properties) = properties.filter(|p| !p.is_empty()) else {
        return match s.get("additionalProperties") {
            Some(Value::Object(values)) => Some(format!(
                "Record<string, {}>",
                ts(&Value::Object(values.clone()), indent)
            )),
            _ => None,
        };
    };
    let required: Vec<&str> = s
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let inner = format!("{indent}  ");
    let mut out = String::from("{\n");
    for (field, schema) in properties {
        doc(&mut out, schema, &inner);
        let optional = if required.contains(&field.as_str()) {
            ""
        } else {
            "?"
        };
        let _ = writeln!(out, "{inner}{field}{optional}: {};", ts(schema, &inner));
    }
    out.push_str(indent);
    out.push('}');
    Some(out)
}

fn union(mut choices: Vec<String>) -> String {
    choices.dedup();
    if choices.len() == 1 {
        return choices.remove(0);
    }
    choices.join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ui_bindings_are_the_rust_types() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(BINDINGS);
        let wanted = typescript().unwrap_or_else(|e| panic!("{e}"));
        if std::env::var_os("GUICHET_WRITE_BINDINGS").is_some() {
            std::fs::write(&path, &wanted).unwrap();
        }
        let written = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            written == wanted,
            "ui/src/bindings.ts is not what the Rust types say: write it again with \
             GUICHET_WRITE_BINDINGS=1 cargo test -p guichet-app bindings, then check the window \
             with npm run check in ui/"
        );
    }

    #[test]
    fn the_schema_shapes_serde_writes_read_as_typescript() {
        let tagged = serde_json::json!({
            "oneOf": [
                {"type": "object", "properties": {"kind": {"type": "string", "const": "free"}},
                 "required": ["kind"]},
                {"type": "object", "properties": {"kind": {"type": "string", "const": "charged"},
                 "amount": {"$ref": "#/$defs/Money"}}, "required": ["kind", "amount"]}
            ]
        });
        assert_eq!(
            ts(&tagged, ""),
            "{\n  kind: \"free\";\n} | {\n  amount: Money;\n  kind: \"charged\";\n}"
        );
        let nullable = serde_json::json!({"type": ["string", "null"]});
        assert_eq!(ts(&nullable, ""), "string | null");
        let map = serde_json::json!({"type": "object", "additionalProperties": {"type": "string"}});
        assert_eq!(ts(&map, ""), "Record<string, string>");
        let list = serde_json::json!({"type": "array", "items": {"anyOf": [
            {"$ref": "#/$defs/Text"}, {"type": "null"}]}});
        assert_eq!(ts(&list, ""), "(Text | null)[]");
        let optional = serde_json::json!({"type": "object", "properties": {
            "limit": {"type": "integer", "format": "uint32"}}});
        assert_eq!(ts(&optional, ""), "{\n  limit?: number;\n}");
    }
}
