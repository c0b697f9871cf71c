//! The sync benchmarks of issue 3, as a bench binary (`cargo bench -p guichet-tests --bench
//! sync`) that prints the tables docs/benchmarks.md quotes:
//!
//! 1. Through the fault-injecting proxy at 300 ms each way and 32 kB/s each way: push 1,000
//!    requests taken offline, then pull 1,000 agency decisions. Wall time, bytes each way,
//!    exchanges and connections, against the link's floor, which counts nothing of Guichet's
//!    design: (bytes up + bytes down) / bandwidth + one 600 ms round trip. Targets: push and
//!    pull each at most 1.2 times the floor, at most 160 bytes up per request pushed.
//! 2. A sync with nothing to do: one round trip, under 1 kB.
//! 3. Back-office ingest on PostgreSQL: 200 devices of 20 centres pushing at once over HTTP to
//!    real servers on loopback, each push with a pull page as devices sync, on a database that
//!    already holds 5 million changes (`GUICHET_BENCH_HISTORY`), through one server and
//!    through two replicas. Changes applied per second and push latency percentiles. Target:
//!    at least 5,000 changes per second. The same on an empty database, and push only, for
//!    comparison.
//!
//! The entries the 200 devices push are made once by a real workstation (a template device)
//! and rewritten for each device: fresh entry, request and payment ids, receipts reissued
//! under the device's prefix (same sequence numbers, valid check symbols), citizens with
//! national ids of their own, the device's centre and code. Every pushed entry must come back
//! `applied`, or the bench fails: it measures real, accepted work.
//!
//! Environment: `GUICHET_BENCH_RUNS` (runs of the link bench, default 3),
//! `GUICHET_BENCH_ONLY` (`link` or `ingest`), `GUICHET_BENCH_DEVICES` (default 200),
//! `GUICHET_BENCH_CENTERS` (default 20), `GUICHET_BENCH_REQUESTS_PER_DEVICE` (default 60),
//! `GUICHET_BENCH_HISTORY` (changes already held, default 5,000,000),
//! `GUICHET_TEST_PG_URL` (the admin URL, as the back office's tests take it).

// A bench binary reports to its terminal: the tables are its output.
#![allow(clippy::print_stdout)]

use std::collections::HashMap;
use std::io::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use flate2::Compression;
use flate2::write::GzEncoder;
use guichet_backoffice::storage::PostgresStorage;
use guichet_backoffice::{AppState, BackOffice};
use guichet_domain::catalogue::CenterKind;
use guichet_domain::receipt::{ReceiptNumber, ReceiptPrefix};
use guichet_domain::request::Action;
use guichet_fixtures::history::citizen;
use guichet_fixtures::pg::TestDatabase;
use guichet_protocol::{
    Change, EnrollRequest, EnrollResponse, ExchangeRequest, ExchangeResponse, Outcome, PushEntry,
};
use guichet_tests::proxy::{Faults, Link, Proxy, Stats};
use guichet_tests::{Device, Server, offline_work};
use guichet_workstation::Workstation;
use guichet_workstation::clock::SystemClock;
use guichet_workstation::store::Setup;
use guichet_workstation::sync::{self, PULL_PAGE, PUSH_BATCH, SyncReport};
use tempfile::TempDir;
use uuid::Uuid;

const CENTER: &str = "ATH-01";
const REQUESTS: u32 = 1000;
const LATENCY_EACH_WAY: Duration = Duration::from_millis(300);
const BANDWIDTH: u64 = 32_000;
const ROUND_TRIP_S: f64 = 0.6;
const IDLE_SYNCS: usize = 5;
/// The account that makes the template device's entries, on the workstation and on the back
/// office alike.
const TEMPLATE_CLERK: &str = "eleni";

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is not supported and is ignored.
    let only = std::env::var("GUICHET_BENCH_ONLY").unwrap_or_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    machine();
    if only.is_empty() || only == "link" {
        let runs = env_or::<u32>("GUICHET_BENCH_RUNS", 3).max(1);
        runtime.block_on(link_bench(runs));
    }
    if only.is_empty() || only == "ingest" {
        let shape = Shape {
            devices: env_or::<u32>("GUICHET_BENCH_DEVICES", 200).max(1),
            centers: env_or::<u32>("GUICHET_BENCH_CENTERS", 20).max(1),
            requests: env_or::<u32>("GUICHET_BENCH_REQUESTS_PER_DEVICE", 60).max(1),
        };
        runtime.block_on(ingest_bench(shape));
    }
    if MISSED.load(std::sync::atomic::Ordering::Relaxed) {
        println!("\nat least one target NOT met");
        std::process::exit(1);
    }
}

fn machine() {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|_| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    println!("machine: {cores} cores (nproc), {cpu}, Linux {kernel}");
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

// ---------------------------------------------------------------------------------------------
// 1 and 2: through the proxy.

fn satellite() -> Faults {
    let link = Link {
        latency: LATENCY_EACH_WAY,
        bandwidth: Some(BANDWIDTH),
        cut_after: None,
    };
    Faults {
        up: link,
        down: link,
        ..Faults::default()
    }
}

/// One sync run through the proxy, as the proxy saw it.
#[derive(Debug, Clone, Copy)]
struct Phase {
    wall: f64,
    up: u64,
    down: u64,
    exchanges: u32,
    connections: u64,
}

impl Phase {
    /// What the link itself costs: every byte at its bandwidth, and one round trip.
    fn floor(&self) -> f64 {
        (self.up + self.down) as f64 / BANDWIDTH as f64 + ROUND_TRIP_S
    }
}

/// Whether a target was missed: the bench then exits non-zero.
static MISSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// "met", or "NOT met" with the miss recorded.
fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        MISSED.store(true, std::sync::atomic::Ordering::Relaxed);
        "NOT met"
    }
}

async fn measured_sync(proxy: &Proxy, device: &mut Device) -> (Phase, SyncReport) {
    let before: Stats = proxy.stats();
    let start = Instant::now();
    let report = device
        .sync()
        .await
        .expect("sync through the satellite link");
    let wall = start.elapsed().as_secs_f64();
    let after = proxy.stats();
    (
        Phase {
            wall,
            up: after.up - before.up,
            down: after.down - before.down,
            exchanges: report.exchanges,
            connections: after.connections - before.connections,
        },
        report,
    )
}

#[derive(Debug)]
struct LinkRun {
    entries: u64,
    push: Phase,
    pull: Phase,
    idle: Vec<Phase>,
}

async fn link_run() -> LinkRun {
    let server = Server::start(CENTER).await;
    let proxy = Proxy::start(server.addr).await.expect("proxy");
    proxy.set(satellite());
    let mut device = Device::enroll_through(
        &server,
        &proxy.url(),
        CENTER,
        Arc::new(SystemClock),
        Duration::from_secs(120),
    )
    .await;
    // The first sync pulls the catalogue: set-up, not measured.
    device.sync().await.expect("first sync");

    let receipts = device.offline_work(REQUESTS);
    let entries = sync::pending(&device.ws).expect("pending");
    let (push, report) = measured_sync(&proxy, &mut device).await;
    assert_eq!(u64::from(report.applied), entries, "{report:?}");

    for receipt in &receipts {
        server
            .office
            .agency_decide(receipt, Action::TakeInProcessing, None, "agency-bench")
            .await
            .expect("agency decision");
    }
    let (pull, report) = measured_sync(&proxy, &mut device).await;
    assert_eq!(report.pulled, REQUESTS, "{report:?}");

    let mut idle = Vec::new();
    for _ in 0..IDLE_SYNCS {
        let (phase, report) = measured_sync(&proxy, &mut device).await;
        assert_eq!(report.pushed + report.pulled, 0, "{report:?}");
        idle.push(phase);
    }
    LinkRun {
        entries,
        push,
        pull,
        idle,
    }
}

fn phase_row(name: &str, p: &Phase, per: &[(&str, f64)]) {
    let per: Vec<String> = per
        .iter()
        .map(|(what, n)| format!("{:.0} B/{what}", (p.up + p.down) as f64 / n))
        .collect();
    println!(
        "| {name:<13} | {:>8.2} s | {:>9} | {:>9} | {:>4} | {:>3} | {:>8.2} s | {:>5.2}x | {} |",
        p.wall,
        p.up,
        p.down,
        p.exchanges,
        p.connections,
        p.floor(),
        p.wall / p.floor(),
        per.join(", "),
    );
}

fn median_phase(phases: &[Phase]) -> Phase {
    let pick = |f: &dyn Fn(&Phase) -> f64| {
        let mut v: Vec<f64> = phases.iter().map(f).collect();
        median(&mut v)
    };
    Phase {
        wall: pick(&|p| p.wall),
        up: pick(&|p| p.up as f64) as u64,
        down: pick(&|p| p.down as f64) as u64,
        exchanges: pick(&|p| f64::from(p.exchanges)) as u32,
        connections: pick(&|p| p.connections as f64) as u64,
    }
}

async fn link_bench(runs: u32) {
    println!(
        "\n## 1. Satellite link through the proxy: {} ms each way, {} B/s each way, {REQUESTS} requests (sync_once)",
        LATENCY_EACH_WAY.as_millis(),
        BANDWIDTH
    );
    let mut all = Vec::new();
    for run in 1..=runs {
        let started = Instant::now();
        let result = link_run().await;
        println!(
            "run {run}: {} outbox entries; push {:.2} s, pull {:.2} s ({:.0} s with set-up)",
            result.entries,
            result.push.wall,
            result.pull.wall,
            started.elapsed().as_secs_f64()
        );
        all.push(result);
    }
    let entries = all[0].entries;
    let header = "| phase         |      wall |  bytes up | bytes down | exchanges | conn |     floor | wall/floor | bytes per |";
    println!("\nper run");
    println!("{header}");
    println!("|---|---|---|---|---|---|---|---|---|");
    for (i, run) in all.iter().enumerate() {
        phase_row(
            &format!("push, run {}", i + 1),
            &run.push,
            &[
                ("request", f64::from(REQUESTS)),
                ("entry", run.entries as f64),
            ],
        );
        phase_row(
            &format!("pull, run {}", i + 1),
            &run.pull,
            &[("decision", f64::from(REQUESTS))],
        );
    }
    let push = median_phase(&all.iter().map(|r| r.push).collect::<Vec<_>>());
    let pull = median_phase(&all.iter().map(|r| r.pull).collect::<Vec<_>>());
    let idle = median_phase(&all.iter().flat_map(|r| r.idle.clone()).collect::<Vec<_>>());
    let both = Phase {
        wall: push.wall + pull.wall,
        up: push.up + pull.up,
        down: push.down + pull.down,
        exchanges: push.exchanges + pull.exchanges,
        connections: push.connections + pull.connections,
    };
    println!(
        "\nmedian of {runs} runs ({entries} outbox entries for {REQUESTS} requests; floor = (up + down) / {BANDWIDTH} B/s + one 600 ms round trip)"
    );
    println!("{header}");
    println!("|---|---|---|---|---|---|---|---|---|");
    phase_row(
        "push",
        &push,
        &[("request", f64::from(REQUESTS)), ("entry", entries as f64)],
    );
    phase_row("pull", &pull, &[("decision", f64::from(REQUESTS))]);
    phase_row("push + pull", &both, &[("request", f64::from(REQUESTS))]);
    phase_row("nothing to do", &idle, &[("sync", 1.0)]);
    println!(
        "push: {:.0} B up per request ({:.0} B up per entry), {:.0} B both ways per request",
        push.up as f64 / f64::from(REQUESTS),
        push.up as f64 / entries as f64,
        (push.up + push.down) as f64 / f64::from(REQUESTS),
    );
    println!(
        "target wall <= 1.2 x floor: push {:.2}x {}, pull {:.2}x {} (both {:.2}x)",
        push.wall / push.floor(),
        verdict(push.wall <= 1.2 * push.floor()),
        pull.wall / pull.floor(),
        verdict(pull.wall <= 1.2 * pull.floor()),
        both.wall / both.floor(),
    );
    println!(
        "target <= 160 B up per request pushed: {:.0} B {}",
        push.up as f64 / f64::from(REQUESTS),
        verdict(push.up <= 160 * u64::from(REQUESTS)),
    );
    let idle_all: Vec<Phase> = all.iter().flat_map(|r| r.idle.clone()).collect();
    let max_exchanges = idle_all.iter().map(|p| p.exchanges).max().unwrap_or(0);
    let max_bytes = idle_all.iter().map(|p| p.up + p.down).max().unwrap_or(0);
    println!(
        "target nothing to do = 1 round trip, < 1 kB: {} syncs, at most {max_exchanges} exchange(s) and {max_bytes} B ({} up + {} down median) {}",
        idle_all.len(),
        idle.up,
        idle.down,
        verdict(max_exchanges == 1 && max_bytes < 1000),
    );
}

// ---------------------------------------------------------------------------------------------
// 3: ingest on PostgreSQL.

#[derive(Debug, Clone, Copy)]
struct Shape {
    devices: u32,
    centers: u32,
    requests: u32,
}

/// Fills the database with `changes` applied changes spread over the centres, as years of
/// devices' pushes would leave them (the log and the applied ids, with their indexes), then
/// returns each centre's log head. The log's bodies are one real change, repeated.
async fn preload(
    url: &str,
    centers: u32,
    changes: u64,
    template: &[PushEntry],
) -> HashMap<String, u64> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    let body = serde_json::to_string(&guichet_protocol::Pulled::Peer {
        device: "ARCHIVE".into(),
        change: template[template.len() / 2].change.clone(),
    })
    .expect("json");
    let started = Instant::now();
    let each = i64::try_from(changes / u64::from(centers.max(1))).expect("count");
    for c in 0..centers {
        let center = center_code(c);
        if each == 0 {
            break;
        }
        let head: i64 = client
            .query_one("SELECT log_seq FROM centers WHERE code = $1", &[&center])
            .await
            .expect("head")
            .get(0);
        client
            .execute(
                "INSERT INTO change_log (center, seq, origin_device, hlc, body)
                 SELECT $1, s, 'ARCHIVE-' || $1, lpad(s::text, 15, '0') || '-000000-ARCHIVE', $2
                 FROM generate_series($3::bigint + 1, $3::bigint + $4::bigint) AS s",
                &[&center, &body, &head, &each],
            )
            .await
            .expect("history: log");
        client
            .execute(
                "INSERT INTO applied_changes
                   (id, content_hash, device, seq, kind, applied_at, log_seq, actor, approver)
                 SELECT 'archive-' || $1 || '-' || s, md5(s::text), 'ARCHIVE-' || $1, s,
                        'request.transition', '2025-01-01T00:00:00Z', s, 'archive', NULL
                 FROM generate_series($2::bigint + 1, $2::bigint + $3::bigint) AS s",
                &[&center, &head, &each],
            )
            .await
            .expect("history: applied");
        client
            .execute(
                "UPDATE centers SET log_seq = log_seq + $2 WHERE code = $1",
                &[&center, &each],
            )
            .await
            .expect("history: head");
    }
    if changes > 0 {
        client.batch_execute("ANALYZE").await.expect("analyze");
        println!(
            "history: {changes} changes already held, loaded in {:.0} s",
            started.elapsed().as_secs_f64()
        );
    }
    client
        .query("SELECT code, log_seq FROM centers", &[])
        .await
        .expect("heads")
        .iter()
        .map(|row| {
            let head: i64 = row.get(1);
            (row.get(0), u64::try_from(head).expect("head"))
        })
        .collect()
}

fn center_code(i: u32) -> String {
    format!("BEN-{i:02}")
}

/// The entries a template device makes for `n` requests taken offline, and its citizens'
/// national ids by generator index.
fn template(n: u32) -> (Vec<PushEntry>, HashMap<String, u32>) {
    let dir = TempDir::new().expect("temp dir");
    let mut ws = Workstation::open(&dir.path().join("template.sqlite3"), Arc::new(SystemClock))
        .expect("open");
    ws.setup(Setup {
        center_code: center_code(0),
        center_name: "Bench template".into(),
        center_kind: CenterKind::Stationary,
        device_code: "TEMPLATE".into(),
        receipt_prefix: Some(
            ReceiptPrefix::from_index(0)
                .expect("prefix")
                .as_str()
                .to_owned(),
        ),
        national_id_scheme: "ee-isikukood".into(),
        currency: "EUR".into(),
        waiting_target_min: 15,
        time_zone: "Europe/Athens".into(),
        administrator: guichet_fixtures::administrator(TEMPLATE_CLERK),
    })
    .expect("setup");
    ws.load_catalogue(&guichet_fixtures::demo_catalogue())
        .expect("catalogue");
    offline_work(&mut ws, n);
    let entries = ws.pending_push(usize::MAX >> 1).expect("outbox");
    let citizens = (0..n).map(|i| (citizen(i).national_id, i)).collect();
    (entries, citizens)
}

fn reissue(receipt: &ReceiptNumber, prefix: &ReceiptPrefix) -> ReceiptNumber {
    ReceiptNumber::issue(prefix, receipt.sequence()).expect("receipt")
}

fn new_request_id(map: &mut HashMap<String, String>, old: &str) -> String {
    map.entry(old.to_owned())
        .or_insert_with(|| Uuid::now_v7().to_string())
        .clone()
}

/// The template's entries as device number `k` (of centre `center`) would have made them.
fn rewrite(
    template: &[PushEntry],
    citizens: &HashMap<String, u32>,
    per_device: u32,
    k: u32,
    device: &EnrollResponse,
) -> Vec<PushEntry> {
    let mut requests = HashMap::new();
    let prefix = &device.receipt_prefix;
    let citizen_of = |old: &str| citizen(k * per_device + citizens[old]);
    template
        .iter()
        .map(|entry| {
            let mut entry = entry.clone();
            entry.id = Uuid::now_v7().to_string();
            entry.hlc.node.clone_from(&device.device_code);
            match &mut entry.change {
                Change::CitizenRegistered { citizen } => {
                    let new = citizen_of(&citizen.national_id);
                    citizen.national_id = new.national_id;
                    citizen.birth_date =
                        NaiveDate::parse_from_str(&new.birth_date, "%Y-%m-%d").expect("date");
                }
                Change::RequestCreated {
                    id,
                    receipt,
                    citizen,
                    center,
                    device: by,
                    ..
                } => {
                    *id = new_request_id(&mut requests, id);
                    *receipt = reissue(receipt, prefix);
                    *citizen = citizen_of(citizen).national_id;
                    center.clone_from(&device.center_code);
                    by.clone_from(&device.device_code);
                }
                Change::RequestTransition { id, .. }
                | Change::DocumentMarked { id, .. }
                | Change::FeeWaived { id, .. } => *id = new_request_id(&mut requests, id),
                Change::PaymentRecorded {
                    id,
                    request,
                    receipt,
                    ..
                } => {
                    *id = Uuid::now_v7().to_string();
                    *request = new_request_id(&mut requests, request);
                    *receipt = reissue(receipt, prefix);
                }
                other => panic!("the template made an unexpected {}", other.kind()),
            }
            entry
        })
        .collect()
}

fn gzip(json: &[u8]) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::with_capacity(json.len() / 4), Compression::default());
    gz.write_all(json).expect("gzip");
    gz.finish().expect("gzip")
}

/// A back office on a fresh database, its centres and catalogue, its devices enrolled, and
/// each device's batches.
struct Ingest {
    db: TestDatabase,
    office: BackOffice,
    /// The replicas' addresses; device `k` talks to `urls[k % urls.len()]`.
    urls: Vec<String>,
    /// Each centre's log head once prepared: where a device that has caught up stands.
    heads: HashMap<String, u64>,
    devices: Vec<(String, Vec<Vec<PushEntry>>)>,
    changes: u64,
    /// The model devices, for calls below HTTP.
    models: Vec<guichet_backoffice::model::Device>,
}

/// The history a prepared back office already holds, and how many replicas serve it.
#[derive(Debug, Clone, Copy)]
struct Held {
    changes: u64,
    replicas: usize,
}

async fn prepare(
    shape: Shape,
    template: &[PushEntry],
    citizens: &HashMap<String, u32>,
    held: Held,
) -> Ingest {
    let db = TestDatabase::create().await;
    let storage = PostgresStorage::connect(&db.url).await.expect("connect");
    let office = BackOffice::new(Arc::new(storage));
    for c in 0..shape.centers {
        office
            .add_center(&guichet_backoffice::NewCenter {
                code: &center_code(c),
                name: "Bench centre",
                kind: CenterKind::Stationary,
                time_zone: "Europe/Athens",
                currency: "EUR",
                waiting_target_min: 15,
            })
            .await
            .expect("centre");
    }
    office
        .publish_catalogue(&guichet_fixtures::demo_catalogue())
        .await
        .expect("catalogue");
    // The template's entries are made by this account: a supervisor of every centre.
    office
        .add_clerk(&guichet_backoffice::model::NewClerk {
            username: TEMPLATE_CLERK.into(),
            display_name: "Bench supervisor".into(),
            role: guichet_domain::account::Role::Supervisor,
            centers: (0..shape.centers).map(center_code).collect(),
            password: guichet_fixtures::DEMO_PASSWORD.into(),
        })
        .await
        .expect("the template's clerk");
    let mut devices = Vec::new();
    let mut models = Vec::new();
    let mut changes = 0;
    for k in 0..shape.devices {
        let code = office
            .issue_enrolment_code(&center_code(k % shape.centers), chrono::Duration::hours(1))
            .await
            .expect("code");
        let enrolled = office
            .enroll(&EnrollRequest {
                code: code.code,
                label: Some(format!("bench {k}")),
                recovery_key: None,
            })
            .await
            .expect("enrol");
        models.push(office.authenticate(&enrolled.token).await.expect("device"));
        let entries = rewrite(template, citizens, shape.requests, k, &enrolled);
        changes += entries.len() as u64;
        let batches = entries.chunks(PUSH_BATCH).map(<[_]>::to_vec).collect();
        devices.push((enrolled.token, batches));
    }
    let heads = preload(&db.url, shape.centers, held.changes, template).await;
    // Each replica is a back office of its own on the same database: its own pool, as a
    // separate `serve` process would have.
    let mut urls = Vec::new();
    for _ in 0..held.replicas.max(1) {
        let storage = PostgresStorage::connect(&db.url).await.expect("connect");
        let replica = BackOffice::new(Arc::new(storage));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        urls.push(format!(
            "http://{}",
            listener.local_addr().expect("address")
        ));
        tokio::spawn(guichet_backoffice::serve(
            listener,
            AppState::new(replica, None),
            std::future::pending(),
        ));
    }
    Ingest {
        db,
        office,
        urls,
        heads,
        devices,
        changes,
        models,
    }
}

/// What the pushing devices saw.
#[derive(Debug, Default)]
struct Pushed {
    wall: f64,
    latencies: Vec<f64>,
    applied: u64,
    other: u64,
    pulled: u64,
}

/// Every device pushes its batches one exchange after the other, all devices at once, as the
/// workstation's client does (JSON, gzip, bearer token). With `pull`, each exchange also asks
/// for a page of the centre's log after the device's cursor, as a workstation does; without,
/// it asks for none.
async fn push_all(ingest: &Ingest, concurrency: usize, pull: bool) -> Pushed {
    let http = reqwest::Client::builder()
        .gzip(true)
        .pool_max_idle_per_host(1024)
        .timeout(Duration::from_secs(300))
        .build()
        .expect("client");
    let gate = Arc::new(tokio::sync::Semaphore::new(concurrency));
    // With pulls, each device stands at its centre's log head, as one that has caught up:
    // what it pulls is what the others push meanwhile. Devices take the replicas in turn.
    let cursors: Vec<u64> = ingest
        .models
        .iter()
        .map(|device| {
            if pull {
                ingest.heads[&device.center]
            } else {
                0
            }
        })
        .collect();
    let endpoints: Vec<String> = (0..ingest.devices.len())
        .map(|k| format!("{}/sync/v1/exchange", ingest.urls[k % ingest.urls.len()]))
        .collect();
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (((token, batches), cursor), endpoint) in ingest
        .devices
        .clone()
        .into_iter()
        .zip(cursors)
        .zip(endpoints)
    {
        let http = http.clone();
        let gate = Arc::clone(&gate);
        tasks.spawn(async move {
            let _turn = gate.acquire_owned().await.expect("gate");
            let mut seen = Pushed::default();
            let mut cursor = cursor;
            for push in batches {
                let request = ExchangeRequest {
                    audit: None,
                    push,
                    cursor,
                    limit: if pull { PULL_PAGE } else { 0 },
                    recovery_key: None,
                    state: None,
                };
                let t0 = Instant::now();
                let body = gzip(&serde_json::to_vec(&request).expect("json"));
                let response = http
                    .post(&endpoint)
                    .header("content-type", "application/json")
                    .header("content-encoding", "gzip")
                    .bearer_auth(&token)
                    .body(body)
                    .send()
                    .await
                    .expect("send");
                let status = response.status();
                let bytes = response.bytes().await.expect("answer");
                assert!(
                    status.is_success(),
                    "{status}: {}",
                    String::from_utf8_lossy(&bytes)
                );
                let answer: ExchangeResponse = serde_json::from_slice(&bytes).expect("answer");
                seen.latencies.push(t0.elapsed().as_secs_f64());
                for result in &answer.results {
                    match &result.outcome {
                        Outcome::Applied { .. } => seen.applied += 1,
                        other => {
                            if seen.other == 0 {
                                println!("not applied: {other:?}");
                            }
                            seen.other += 1;
                        }
                    }
                }
                seen.pulled += answer.changes.len() as u64;
                if pull {
                    cursor = answer.cursor;
                }
            }
            seen
        });
    }
    let mut all = Pushed::default();
    while let Some(done) = tasks.join_next().await {
        let done = done.expect("device task");
        all.latencies.extend(done.latencies);
        all.applied += done.applied;
        all.other += done.other;
        all.pulled += done.pulled;
    }
    all.wall = start.elapsed().as_secs_f64();
    all.latencies.sort_by(f64::total_cmp);
    all
}

fn percentile(sorted: &[f64], p: usize) -> f64 {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

fn ingest_row(name: &str, p: &Pushed) {
    println!(
        "| {name:<44} | {:>7} | {:>6.2} s | {:>7.0} | {:>7.0} ms | {:>7.0} ms | {:>7.0} ms | {:>6} |",
        p.applied,
        p.wall,
        p.applied as f64 / p.wall,
        percentile(&p.latencies, 50) * 1000.0,
        percentile(&p.latencies, 99) * 1000.0,
        p.latencies.last().copied().unwrap_or(0.0) * 1000.0,
        p.pulled,
    );
}

async fn ingest_bench(shape: Shape) {
    println!(
        "\n## 3. Back-office ingest on PostgreSQL: {} devices in {} centres, {} requests taken offline per device",
        shape.devices, shape.centers, shape.requests
    );
    let started = Instant::now();
    let (template, citizens) = template(shape.requests);
    println!(
        "template device: {} entries for {} requests, made in {:.1} s",
        template.len(),
        shape.requests,
        started.elapsed().as_secs_f64()
    );

    let header = "| run                                          | applied |      wall | changes/s |  p50 push |  p99 push |  max push | pulled |";
    let mut rows = Vec::new();
    let fresh = Held {
        changes: 0,
        replicas: 1,
    };
    let history = env_or::<u64>("GUICHET_BENCH_HISTORY", 5_000_000);
    let held = Held {
        changes: history,
        replicas: 1,
    };
    let held_by_two = Held {
        replicas: 2,
        ..held
    };
    let all = shape.devices as usize;
    let runs: [(&str, usize, bool, Held); 5] = [
        // The headline: the mode devices use, on a database with a national history.
        (
            "all at once, push + pull page, history held",
            all,
            true,
            held,
        ),
        ("the same, two replicas", all, true, held_by_two),
        ("all at once, push only, empty database", all, false, fresh),
        (
            "all at once, push + pull page, empty database",
            all,
            true,
            fresh,
        ),
        ("one device at a time, push only, empty", 1, false, fresh),
    ];
    for (name, concurrency, pull, held) in runs {
        let ingest = prepare(shape, &template, &citizens, held).await;
        let sampler = Sampler::start(&ingest.db.url).await;
        let before = Cpu::now();
        let pushed = push_all(&ingest, concurrency, pull).await;
        let cpu = Cpu::now().since(&before);
        let states = sampler.stop().await;
        assert_eq!(pushed.other, 0, "{name}: entries not applied");
        assert_eq!(pushed.applied, ingest.changes, "{name}");
        println!(
            "{name}: {} changes in {} exchanges, {:.0} changes/s",
            pushed.applied,
            pushed.latencies.len(),
            pushed.applied as f64 / pushed.wall
        );
        println!("  {}", cpu.describe(pushed.applied));
        println!("  {states}");
        if concurrency > 1 && !pull {
            anatomy(&ingest, &template).await;
        }
        rows.push((name, pushed));
        drop(ingest);
    }
    let direct = below_http(shape, &template, &citizens).await;

    println!("\n{header}");
    println!("|---|---|---|---|---|---|---|---|");
    for (name, pushed) in &rows {
        ingest_row(name, pushed);
    }
    ingest_row("one device at a time, storage call (no HTTP)", &direct);
    for (name, pushed) in &rows[..2] {
        let rate = pushed.applied as f64 / pushed.wall;
        println!(
            "target >= 5000 changes/s, {} devices pushing with a pull page on {history} changes held ({name}): {rate:.0} changes/s {}",
            shape.devices,
            verdict(rate >= 5000.0)
        );
    }
}

/// The same pushes one at a time straight into `BackOffice::exchange`: the storage and plan's
/// cost without HTTP, gzip and the client's JSON.
async fn below_http(
    shape: Shape,
    template: &[PushEntry],
    citizens: &HashMap<String, u32>,
) -> Pushed {
    let ingest = prepare(
        shape,
        template,
        citizens,
        Held {
            changes: 0,
            replicas: 1,
        },
    )
    .await;
    let mut seen = Pushed::default();
    let start = Instant::now();
    for ((_, batches), device) in ingest.devices.iter().zip(&ingest.models) {
        for push in batches {
            let request = ExchangeRequest {
                audit: None,
                push: push.clone(),
                cursor: 0,
                limit: 0,
                recovery_key: None,
                state: None,
            };
            let t0 = Instant::now();
            let answer = ingest
                .office
                .exchange(device, &request)
                .await
                .expect("exchange");
            seen.latencies.push(t0.elapsed().as_secs_f64());
            for result in &answer.results {
                if matches!(result.outcome, Outcome::Applied { .. }) {
                    seen.applied += 1;
                } else {
                    seen.other += 1;
                }
            }
        }
    }
    seen.wall = start.elapsed().as_secs_f64();
    seen.latencies.sort_by(f64::total_cmp);
    assert_eq!(seen.other, 0, "storage calls: entries not applied");
    seen
}

// ---------------------------------------------------------------------------------------------
// Where the ingest time goes.

/// CPU time from /proc, in clock ticks (USER_HZ, 100 on Linux).
#[derive(Debug, Clone, Copy, Default)]
struct Cpu {
    /// Every core: busy and total.
    busy: u64,
    total: u64,
    /// This process: the HTTP server, the plan, the clients.
    bench: u64,
    /// Every `postgres` process.
    postgres: u64,
}

fn process_ticks(stat: &str) -> Option<(String, u64)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat[open + 1..close].to_owned();
    let fields: Vec<&str> = stat[close + 2..].split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the comm.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((comm, utime + stime))
}

impl Cpu {
    fn now() -> Cpu {
        let mut cpu = Cpu::default();
        if let Ok(stat) = std::fs::read_to_string("/proc/stat") {
            let values: Vec<u64> = stat
                .lines()
                .next()
                .unwrap_or_default()
                .split_whitespace()
                .skip(1)
                .filter_map(|v| v.parse().ok())
                .collect();
            cpu.total = values.iter().take(8).sum();
            let idle = values.get(3).copied().unwrap_or(0) + values.get(4).copied().unwrap_or(0);
            cpu.busy = cpu.total - idle;
        }
        if let Some((_, ticks)) = std::fs::read_to_string("/proc/self/stat")
            .ok()
            .as_deref()
            .and_then(process_ticks)
        {
            cpu.bench = ticks;
        }
        if let Ok(dir) = std::fs::read_dir("/proc") {
            for entry in dir.flatten() {
                if let Some((comm, ticks)) = std::fs::read_to_string(entry.path().join("stat"))
                    .ok()
                    .as_deref()
                    .and_then(process_ticks)
                    && comm == "postgres"
                {
                    cpu.postgres += ticks;
                }
            }
        }
        cpu
    }

    fn since(&self, before: &Cpu) -> Cpu {
        Cpu {
            busy: self.busy - before.busy,
            total: self.total - before.total,
            bench: self.bench - before.bench,
            // A backend that exited in between takes its ticks with it: at worst an undercount.
            postgres: self.postgres.saturating_sub(before.postgres),
        }
    }

    fn describe(&self, changes: u64) -> String {
        let secs = |ticks: u64| ticks as f64 / 100.0;
        let per = |ticks: u64| secs(ticks) * 1e6 / changes as f64;
        format!(
            "CPU: machine {:.0}% busy ({:.1} of {:.1} core-s); this process (server + clients) {:.1} s = {:.0} us/change; postgres {:.1} s = {:.0} us/change; other {:.1} s",
            100.0 * self.busy as f64 / self.total.max(1) as f64,
            secs(self.busy),
            secs(self.total),
            secs(self.bench),
            per(self.bench),
            secs(self.postgres),
            per(self.postgres),
            secs(self.busy.saturating_sub(self.bench + self.postgres)),
        )
    }
}

/// One typical exchange taken apart: what the plan writes, the statements the PostgreSQL
/// backend sends for it (prepared once per connection, one per table), the plan's own CPU
/// time, and what an unprepared statement, a prepared statement and a batched insert cost on
/// this database.
async fn anatomy(ingest: &Ingest, template: &[PushEntry]) {
    use guichet_backoffice::plan::{Pusher, Snapshot, Wants, plan};
    let batch = &template[..PUSH_BATCH.min(template.len())];
    let catalogue = guichet_fixtures::demo_catalogue();
    let wants = Wants::of(batch);
    let mut snapshot = Snapshot::default();
    for (version, code) in &wants.services {
        if let Some(service) = catalogue.services.iter().find(|s| &s.code == code) {
            snapshot
                .services
                .insert((*version, code.clone()), service.clone());
        }
    }
    snapshot.accounts.insert(
        TEMPLATE_CLERK.into(),
        guichet_backoffice::plan::AccountStanding {
            role: guichet_domain::account::Role::Supervisor,
            active: true,
            of_center: true,
        },
    );
    let scheme = guichet_domain::citizen::scheme_by_name("ee-isikukood").expect("scheme");
    let pusher = Pusher {
        device: "TEMPLATE",
        center: &center_code(0),
        center_kind: CenterKind::Stationary,
        prefix: &ReceiptPrefix::from_index(0).expect("prefix"),
    };
    let mut times = Vec::new();
    let mut sizes = (0, 0, 0, 0, 0, 0);
    for _ in 0..30 {
        let t0 = Instant::now();
        let planned = plan(pusher, batch, snapshot.clone(), scheme);
        times.push(t0.elapsed().as_secs_f64());
        let applied = planned
            .results
            .iter()
            .filter(|r| matches!(r.outcome, Outcome::Applied { .. }))
            .count();
        sizes = (
            applied,
            planned.applied.len(),
            planned.citizens.len(),
            planned.requests.len(),
            planned.payments.len(),
            planned.peer_log.len(),
        );
    }
    let plan_ms = median(&mut times) * 1000.0;
    let (applied, changes, citizens, requests, payments, peer) = sizes;
    assert_eq!(applied, batch.len(), "the template batch plans as applied");
    // BEGIN, lock the centre, 4 snapshot reads (sent together), one write per table (applied
    // changes, citizens, requests, payments, then the log: bump the centre's counter by the
    // count, insert the rows), the pull (page + head), COMMIT: all prepared once per connection.
    let rows = changes + citizens + requests + payments + peer;
    let statements = 2 + 4 + 6 + 2 + 1;
    println!(
        "  anatomy of one {}-entry exchange: plan (validation + SHA-256 content hashes) {plan_ms:.1} ms of CPU; writes: {changes} applied_changes + {citizens} citizens + {requests} request upserts + {payments} payments + {peer} change-log rows = {rows} rows in 6 statements (one UNNEST per table, one log counter bump), {statements} prepared statements in all while the centre row is locked",
        batch.len()
    );

    let (client, connection) = tokio_postgres::connect(&ingest.db.url, tokio_postgres::NoTls)
        .await
        .expect("connect");
    tokio::spawn(connection);
    client
        .batch_execute(
            "CREATE TEMP TABLE probe (id TEXT PRIMARY KEY, hash TEXT NOT NULL, seq BIGINT NOT NULL)",
        )
        .await
        .expect("probe table");
    const N: usize = 2000;
    let ids: Vec<String> = (0..N)
        .map(|i| format!("{i:08}-{}", Uuid::new_v4()))
        .collect();
    let hash = "0".repeat(64);
    let insert = "INSERT INTO probe (id, hash, seq) VALUES ($1, $2, $3)";

    client.batch_execute("BEGIN").await.expect("begin");
    let t0 = Instant::now();
    for (i, id) in ids.iter().enumerate() {
        client
            .execute(insert, &[id, &hash, &(i as i64)])
            .await
            .expect("insert");
    }
    let unprepared = t0.elapsed().as_secs_f64() / N as f64;
    client.batch_execute("ROLLBACK").await.expect("rollback");

    let statement = client.prepare(insert).await.expect("prepare");
    client.batch_execute("BEGIN").await.expect("begin");
    let t0 = Instant::now();
    for (i, id) in ids.iter().enumerate() {
        client
            .execute(&statement, &[id, &hash, &(i as i64)])
            .await
            .expect("insert");
    }
    let prepared = t0.elapsed().as_secs_f64() / N as f64;
    client.batch_execute("ROLLBACK").await.expect("rollback");

    let hashes = vec![hash.clone(); N];
    let seqs: Vec<i64> = (0..N as i64).collect();
    client.batch_execute("BEGIN").await.expect("begin");
    let t0 = Instant::now();
    client
        .execute(
            "INSERT INTO probe (id, hash, seq)
             SELECT * FROM UNNEST($1::TEXT[], $2::TEXT[], $3::INT8[])",
            &[&ids, &hashes, &seqs],
        )
        .await
        .expect("batched insert");
    let batched = t0.elapsed().as_secs_f64() / N as f64;
    client.batch_execute("ROLLBACK").await.expect("rollback");

    let mut commits = Vec::new();
    for id in ids.iter().take(50) {
        let t0 = Instant::now();
        client.batch_execute("BEGIN").await.expect("begin");
        client
            .execute(&statement, &[id, &hash, &0i64])
            .await
            .expect("insert");
        client.batch_execute("COMMIT").await.expect("commit");
        commits.push(t0.elapsed().as_secs_f64());
    }
    let commit = median(&mut commits);
    println!(
        "  this database, one connection, no contention: unprepared INSERT {:.0} us, prepared INSERT {:.0} us, one UNNEST INSERT of {N} rows {:.1} us/row, BEGIN + 1 insert + COMMIT {:.2} ms",
        unprepared * 1e6,
        prepared * 1e6,
        batched * 1e6,
        commit * 1e3,
    );
    println!(
        "  so one exchange's statements cost about {:.1} ms on an idle database ({:.0} us per change); sent one row at a time, unprepared, the same rows would take about {:.0} ms",
        (statements as f64 * prepared + rows as f64 * batched) * 1e3,
        (statements as f64 * prepared + rows as f64 * batched) * 1e6 / batch.len() as f64,
        (rows + peer) as f64 * unprepared * 1e3,
    );
}

/// Samples what the back office's database connections are doing, every 20 ms, from
/// `pg_stat_activity`: running, waiting for a lock (the centre row), waiting for the next
/// statement from the back office inside a transaction (a round trip to the Rust side), or
/// idle between transactions (no work handed to that connection).
#[derive(Debug)]
struct Sampler {
    stop: tokio::sync::oneshot::Sender<()>,
    done: tokio::task::JoinHandle<String>,
}

impl Sampler {
    async fn start(url: &str) -> Sampler {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .expect("connect the sampler");
        tokio::spawn(connection);
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let done = tokio::spawn(async move {
            let mut tally: std::collections::BTreeMap<String, u64> = Default::default();
            let mut samples = 0u64;
            loop {
                let rows = client
                    .query(
                        "SELECT state, wait_event_type, wait_event FROM pg_stat_activity
                         WHERE datname = current_database() AND pid <> pg_backend_pid()
                           AND backend_type = 'client backend'",
                        &[],
                    )
                    .await
                    .expect("pg_stat_activity");
                samples += 1;
                for row in rows {
                    let state: Option<String> = row.get(0);
                    let wait_type: Option<String> = row.get(1);
                    let wait: Option<String> = row.get(2);
                    let key = match (state.as_deref(), wait_type.as_deref()) {
                        (Some("active"), None) => "running".to_owned(),
                        (Some("active"), Some("Lock")) => "waiting for a lock".to_owned(),
                        (Some("active"), Some(t)) => {
                            format!("active, waiting on {t}/{}", wait.unwrap_or_default())
                        }
                        (Some("idle in transaction"), _) => {
                            "in a transaction, waiting for the back office's next statement"
                                .to_owned()
                        }
                        (Some("idle"), _) => "idle between transactions".to_owned(),
                        (other, _) => other.unwrap_or("unknown").to_owned(),
                    };
                    *tally.entry(key).or_default() += 1;
                }
                tokio::select! {
                    _ = &mut stopped => break,
                    () = tokio::time::sleep(Duration::from_millis(20)) => {}
                }
            }
            let parts: Vec<String> = tally
                .iter()
                .map(|(k, n)| format!("{k} {:.2}", *n as f64 / samples as f64))
                .collect();
            format!(
                "database connections, mean count over {samples} samples: {}",
                parts.join("; ")
            )
        });
        Sampler { stop, done }
    }

    async fn stop(self) -> String {
        let _ = self.stop.send(());
        self.done.await.expect("sampler")
    }
}
