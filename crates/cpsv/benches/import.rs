//! Import of a 2,000-service CPSV-AP file (issue 21): at most 5 s.
//!
//! The file is the export of a generated catalogue of 2,000 services (every class Guichet
//! maps: authorities, thematic areas, audiences, life events, requirements with evidence,
//! costs, processing times, keywords in two to four languages). Its floor is what no import
//! can skip: parsing the Turtle into triples (Oxigraph's parser, the same bytes). Five runs
//! each; the medians are quoted, with their ratio.

// A bench binary reports to its terminal: the summary is its output.
#![allow(clippy::print_stdout)]

use std::time::{Duration, Instant};

use guichet_cpsv::{DEFAULT_BASE, ExportOptions, Options, Syntax, export, import};
use oxrdfio::{RdfFormat, RdfParser};

const SERVICES: usize = 2_000;
const TARGET: Duration = Duration::from_secs(5);
const RUNS: usize = 5;

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() {
    let catalogue = guichet_fixtures::generate_catalogue(SERVICES, 7);
    let turtle = export(
        &catalogue,
        &ExportOptions {
            base: DEFAULT_BASE,
            area: None,
        },
    )
    .expect("export");
    let mut triples = 0;
    let floor = median(
        (0..RUNS)
            .map(|_| {
                let t = Instant::now();
                triples = 0;
                for quad in RdfParser::from_format(RdfFormat::Turtle).for_slice(&turtle) {
                    quad.expect("the export parses");
                    triples += 1;
                }
                t.elapsed()
            })
            .collect(),
    );
    let mut services = 0;
    let whole = median(
        (0..RUNS)
            .map(|_| {
                let t = Instant::now();
                let imported = import(&turtle, Some(Syntax::Turtle), &Options::default())
                    .expect("the export imports");
                services = imported.catalogue.services.len();
                t.elapsed()
            })
            .collect(),
    );
    assert_eq!(services, SERVICES);
    println!(
        "CPSV-AP import, {SERVICES} services: {:.1} MB of Turtle, {triples} triples",
        turtle.len() as f64 / 1e6
    );
    println!("  floor (parse into triples):  {floor:>10.3?}  median of {RUNS}");
    println!("  import (parse, map, check):  {whole:>10.3?}  median of {RUNS}");
    println!(
        "  ratio to the floor:          {:>10.2}",
        whole.as_secs_f64() / floor.as_secs_f64()
    );
    let met = whole <= TARGET;
    println!(
        "target: import <= {} s: {}",
        TARGET.as_secs(),
        if met { "met" } else { "NOT met" }
    );
    if !met {
        std::process::exit(1);
    }
}
