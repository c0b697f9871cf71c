//! The direction of dependencies, checked: the rules docs/architecture.md states, read from
//! each crate's manifest. A crate that gains a dependency against them fails here, with the
//! rule it breaks.

use std::collections::BTreeMap;
use std::path::Path;

/// Each crate and the Guichet crates it may depend on (not counting dev-dependencies).
const ALLOWED: [(&str, &[&str]); 10] = [
    ("crates/domain", &[]),
    ("crates/migrations", &[]),
    ("crates/protocol", &["guichet-domain"]),
    ("crates/cpsv", &["guichet-domain"]),
    (
        "crates/workstation",
        &["guichet-domain", "guichet-protocol", "guichet-migrations"],
    ),
    ("crates/report", &["guichet-domain", "guichet-workstation"]),
    (
        "crates/backoffice",
        &[
            "guichet-domain",
            "guichet-protocol",
            "guichet-cpsv",
            "guichet-migrations",
        ],
    ),
    (
        "crates/fixtures",
        &["guichet-domain", "guichet-workstation"],
    ),
    (
        "crates/cli",
        &[
            "guichet-domain",
            "guichet-workstation",
            "guichet-fixtures",
            "guichet-report",
        ],
    ),
    (
        "src-tauri",
        &[
            "guichet-domain",
            "guichet-workstation",
            "guichet-fixtures",
            "guichet-report",
        ],
    ),
];

/// Crates that do I/O, and the crates allowed to use each.
const IO: [(&str, &[&str]); 5] = [
    // The report reads through the store (`Workstation::report_read`).
    ("rusqlite", &["crates/workstation", "crates/backoffice"]),
    ("axum", &["crates/backoffice"]),
    // The fixtures' test databases (feature `postgres`) for the tests of both sides.
    ("tokio-postgres", &["crates/backoffice", "crates/fixtures"]),
    ("tauri", &["src-tauri"]),
    ("reqwest", &["crates/workstation", "crates/backoffice"]),
];

/// The `[dependencies]` of a manifest, by name (dev- and build-dependencies left out).
fn dependencies(manifest: &str) -> Vec<String> {
    let mut section = "";
    let mut names = Vec::new();
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            section = line;
            continue;
        }
        let in_dependencies = section == "[dependencies]"
            || section.ends_with(".dependencies]")
                && !section.contains("dev-")
                && !section.contains("build-");
        if in_dependencies
            && let Some((name, _)) = line.split_once(['=', '.'])
            && !name.trim().is_empty()
            && !name.starts_with('#')
        {
            names.push(name.trim().to_owned());
        }
    }
    names
}

#[test]
fn dependencies_point_one_way() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let manifests: BTreeMap<&str, Vec<String>> = ALLOWED
        .iter()
        .map(|(dir, _)| {
            let text = std::fs::read_to_string(root.join(dir).join("Cargo.toml"))
                .unwrap_or_else(|e| panic!("{dir}/Cargo.toml: {e}"));
            (*dir, dependencies(&text))
        })
        .collect();
    let mut broken = Vec::new();
    for (dir, allowed) in ALLOWED {
        for dep in manifests[dir].iter().filter(|d| d.starts_with("guichet-")) {
            if !allowed.contains(&dep.as_str()) {
                broken.push(format!(
                    "{dir} depends on {dep}; it may depend on {allowed:?} only"
                ));
            }
        }
    }
    for (io, users) in IO {
        for (dir, deps) in &manifests {
            if deps.iter().any(|d| d == io) && !users.contains(dir) {
                broken.push(format!("{dir} depends on {io}; only {users:?} may"));
            }
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
    // The rules are read from real manifests: the domain has dependencies, none of Guichet's.
    assert!(manifests["crates/domain"].iter().any(|d| d == "serde"));
    assert!(
        manifests["crates/workstation"]
            .iter()
            .any(|d| d == "rusqlite")
    );
}

#[test]
fn the_reader_of_manifests_sees_what_a_crate_depends_on() {
    let manifest = "[package]\nname = \"x\"\n\n[dependencies]\nguichet-domain.workspace = true\nserde = { version = \"1\" }\n\n[target.'cfg(unix)'.dependencies]\nrustix.workspace = true\n\n[dev-dependencies]\nguichet-fixtures.workspace = true\n";
    assert_eq!(
        dependencies(manifest),
        ["guichet-domain", "serde", "rustix"]
    );
}
