//! Exports checked against CPSV-AP 3.2's constraints (`cpsv-ap-3.2-shapes.ttl`) by a SHACL
//! validator, pySHACL: the demo catalogue and the three real files, each imported then
//! exported. `bash .ci/pyshacl` installs it under `target/pyshacl`; `GUICHET_PYSHACL` may name
//! another `pyshacl` program.

use std::path::{Path, PathBuf};
use std::process::Command;

use guichet_cpsv::{DEFAULT_BASE, ExportOptions, Options, export, import};
use guichet_domain::catalogue::Catalogue;

const SHAPES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cpsv-ap-3.2-shapes.ttl");
const GREECE: &str = "http://publications.europa.eu/resource/authority/country/GRC";

fn pyshacl() -> PathBuf {
    if let Some(program) = std::env::var_os("GUICHET_PYSHACL") {
        return program.into();
    }
    let local = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/pyshacl/bin/pyshacl");
    assert!(
        local.exists(),
        "the SHACL validator is missing: run `bash .ci/pyshacl` (it installs pySHACL under \
         target/pyshacl with pip), or set GUICHET_PYSHACL to a pyshacl program"
    );
    local
}

/// pySHACL's verdict on `turtle`: None when it conforms, the report when it does not.
fn violations(turtle: &[u8]) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("export.ttl");
    std::fs::write(&data, turtle).unwrap();
    let out = Command::new(pyshacl())
        .args(["-s", SHAPES, "-sf", "turtle", "-df", "turtle"])
        .arg(&data)
        .output()
        .expect("pyshacl runs");
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    match out.status.code() {
        Some(0) => None,
        Some(1) => Some(report),
        _ => panic!(
            "pyshacl failed: {}{}",
            report,
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

fn exported(catalogue: &Catalogue, area: Option<&str>) -> Vec<u8> {
    export(
        catalogue,
        &ExportOptions {
            base: DEFAULT_BASE,
            area,
        },
    )
    .unwrap()
}

fn imported(file: &str) -> Catalogue {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/cpsv-ap")
        .join(file);
    import(&std::fs::read(path).unwrap(), None, &Options::default())
        .unwrap()
        .catalogue
}

#[test]
fn exports_conform_to_cpsv_ap() {
    let catalogues = [
        ("the demo catalogue", guichet_fixtures::demo_catalogue()),
        ("Trento", imported("IT_trento_services_cpsvap.jsonld")),
        (
            "SEMIC's example",
            imported("EU_semic_cpsv-ap-3.2.0_example.ttl"),
        ),
        (
            "Norway's example",
            imported("NO_cpsv-ap-no_all_classes_example.ttl"),
        ),
    ];
    for (name, catalogue) in catalogues {
        if let Some(report) = violations(&exported(&catalogue, Some(GREECE))) {
            panic!("the export of {name} does not conform:\n{report}");
        }
    }
}

/// The validator and the shapes catch what CPSV-AP requires: without the authorities' area
/// (dct:spatial, mandatory) the same export does not conform.
#[test]
fn an_export_without_the_authorities_area_does_not_conform() {
    let report = violations(&exported(&guichet_fixtures::demo_catalogue(), None))
        .expect("a competent authority without dct:spatial is refused");
    assert!(report.contains("Result Path: dct:spatial"), "{report}");
}
