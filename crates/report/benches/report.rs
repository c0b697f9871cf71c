//! The report's benchmarks: one busy day (2,000 tickets, 3,000 requests) in each format, and a
//! year of such a centre (about a million requests) summarised with its peak memory.
//!
//! The databases are generated once with bulk inserts in one transaction (the rows a busy
//! centre leaves behind, not a million clerk actions) and cached under the target directory.
//! Like every workstation's, they are encrypted: the report reads through SQLCipher.
//! The year is measured first, in a process that has not generated anything, so that its peak
//! resident memory (VmHWM) is the report's: on a copy of the generated database with nothing
//! kept, then with every day kept by that first report, then with the last 30 days changed
//! since (what a centre lives, and the figure judged against the target). The generated
//! database's recovery key is kept beside it in the cache, so that the bench can change it.
//!
//! Run: `cargo bench -p guichet-report --bench report`.
#![allow(clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{Days, NaiveDate, TimeZone, Utc};
use guichet_domain::calendar::Holidays;
use guichet_domain::catalogue::{CenterKind, Fee};
use guichet_domain::keyslot::RecoveryKey;
use guichet_domain::queue::{Counter, CounterScope};
use guichet_report::{Format, Locale, ReportOptions, daily_report, render, write};
use guichet_workstation::Workstation;
use guichet_workstation::clock::ManualClock;
use guichet_workstation::store::{DATABASE_FILE, Setup, open_with_recovery_key};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rusqlite::params;

const FIRST_DAY: (i32, u32, u32) = (2025, 1, 1);
const YEAR_DAYS: u64 = 365;
const DAY_TICKETS: usize = 2000;
const DAY_REQUESTS: usize = 3000;
const YEAR_REQUESTS: usize = 1_000_000;
const COUNTERS: usize = 8;

fn first_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(FIRST_DAY.0, FIRST_DAY.1, FIRST_DAY.2).unwrap_or_default()
}

fn cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("guichet-report-bench")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(pos) = args.iter().position(|a| a == "--generate") {
        let (days, requests) = match args.get(pos + 1).map(String::as_str) {
            Some("year") => (YEAR_DAYS, YEAR_REQUESTS),
            _ => (1, DAY_REQUESTS),
        };
        let path = PathBuf::from(&args[pos + 2]);
        generate(&path, days, requests);
        return;
    }
    let day_db = cached("day");
    let year_db = cached("year");

    let last = first_day() + Days::new(YEAR_DAYS - 1);
    let after = Utc.from_utc_datetime(
        &(last + Days::new(1))
            .and_hms_opt(8, 0, 0)
            .unwrap_or_default(),
    );
    // The report keeps each day's figures in the database it reads: every run reads a copy of
    // the generated database, in which nothing is kept yet.
    let year_db = fresh_copy(&year_db);
    let ws = opened(&year_db, after);
    let before_kb = vm("VmRSS");
    let stages = std::cell::RefCell::new(Vec::new());
    let progress = |p: guichet_report::Progress| {
        let mut stages = stages.borrow_mut();
        if stages.last().is_none_or(|(s, _)| *s != p.stage) {
            stages.push((p.stage, Instant::now()));
        }
    };
    let year = |times: &mut Vec<Duration>| {
        stages.borrow_mut().clear();
        let cpu = cpu_ms();
        let start = Instant::now();
        let report = daily_report(
            &ws,
            &ReportOptions {
                from: first_day(),
                to: last,
                locale: Locale::En,
                cash_counted_minor: None,
                progress: Some(&progress),
            },
        )
        .expect("year report");
        times.push(start.elapsed());
        let stage_times: Vec<String> = stages
            .borrow()
            .windows(2)
            .map(|w| format!("{:?} {}", w[0].0, ms(w[1].1 - w[0].1)))
            .collect();
        (
            (
                report.requests.taken,
                report.queue.issued,
                report.requests.overdue_count,
            ),
            cpu_ms() - cpu,
            stage_times.join(", "),
        )
    };
    // Nothing kept: the first report after the upgrade that brought the kept figures.
    let mut cold = Vec::new();
    let (summary, cold_cpu, cold_stages) = year(&mut cold);
    // Every day kept by that report.
    let mut warm = Vec::new();
    let mut warm_cpu = 0;
    for _ in 0..3 {
        let (same, cpu, _) = year(&mut warm);
        assert_eq!(same, summary, "kept figures give the same report");
        warm_cpu += cpu / 3;
    }
    // What a centre lives: its requests keep moving for weeks after intake, and each move
    // makes the report read its day's rows again. Before each run, one request of each of the
    // last 30 days moves (a plain update, through the triggers every writer goes through).
    let mut month = Vec::new();
    let mut month_cpu = 0;
    let mut month_stages = String::new();
    let other = raw(&year_db);
    for _ in 0..3 {
        touch_days(&other, last, MOVED_DAYS);
        let (same, cpu, stages) = year(&mut month);
        assert_eq!(same, summary, "re-read days give the same report");
        month_cpu += cpu / 3;
        month_stages = stages;
    }
    let peak_kb = vm("VmHWM");
    let db_mb = std::fs::metadata(&year_db)
        .map(|m| m.len() / 1_000_000)
        .unwrap_or(0);
    let (taken, issued, overdue) = summary;
    drop(ws);

    let day = first_day();
    let next = Utc.from_utc_datetime(
        &(day + Days::new(1))
            .and_hms_opt(8, 0, 0)
            .unwrap_or_default(),
    );
    let ws = opened(&day_db, next);
    // The day's report is made while clerks work: before each run one of its requests moves,
    // so that every run reads the day's rows rather than the figures the last run kept.
    let other = raw(&day_db);
    let out = tempfile::tempdir().expect("a temporary directory");
    let mut rows = Vec::new();
    for format in Format::ALL {
        let mut times = Vec::new();
        for i in 0..15 {
            touch_days(&other, day, 1);
            let start = Instant::now();
            let report = daily_report(&ws, &ReportOptions::day(day)).expect("day report");
            match format {
                Format::Csv => {
                    write(&report, format, &out.path().join(format!("csv-{i}"))).expect("csv")
                }
                _ => {
                    render(&report, format).expect("render");
                }
            }
            times.push(start.elapsed());
        }
        let bytes = render(
            &daily_report(&ws, &ReportOptions::day(day)).expect("day"),
            format,
        )
        .map(|b| b.len())
        .unwrap_or(0);
        rows.push((format, median(&mut times), bytes));
    }
    let compute = {
        let mut times: Vec<Duration> = (0..15)
            .map(|_| {
                touch_days(&other, day, 1);
                let start = Instant::now();
                daily_report(&ws, &ReportOptions::day(day)).expect("day report");
                start.elapsed()
            })
            .collect();
        median(&mut times)
    };

    println!("one busy day ({DAY_TICKETS} tickets, {DAY_REQUESTS} requests), median of 15:");
    println!("| format | median (compute + write) | size | target |");
    println!("|---|---|---|---|");
    println!("| (compute only) | {} | | |", ms(compute));
    let days_met = rows
        .iter()
        .all(|(_, t, _)| *t <= Duration::from_millis(300));
    for (format, t, bytes) in rows {
        let met = if t <= Duration::from_millis(300) {
            "met"
        } else {
            "NOT met"
        };
        println!(
            "| {} | {} | {} kB | ≤ 300 ms: {met} |",
            format.as_str(),
            ms(t),
            bytes / 1000
        );
    }
    let t = median(&mut month);
    let year_met = t <= Duration::from_secs(5);
    let met = if year_met { "met" } else { "NOT met" };
    println!(
        "a year ({YEAR_DAYS} days: {taken} requests, {issued} tickets, {overdue} overdue; database {db_mb} MB), encrypted:"
    );
    println!("| summarise the year | median | CPU | target |");
    println!("|---|---|---|---|");
    println!(
        "| each day kept, the last {MOVED_DAYS} days changed since (median of 3) | {} | {month_cpu} ms | ≤ 5 s: {met} |",
        ms(t)
    );
    println!(
        "| each day kept, nothing changed since (median of 3) | {} | {warm_cpu} ms | |",
        ms(median(&mut warm))
    );
    println!(
        "| nothing kept: the first report after the upgrade (one run) | {} | {cold_cpu} ms | |",
        ms(cold[0])
    );
    println!(
        "peak RSS {} MB (RSS before {} MB)",
        peak_kb / 1024,
        before_kb / 1024
    );
    println!("stages, nothing kept: {cold_stages}");
    println!("stages, the last {MOVED_DAYS} days changed: {month_stages}");
    if !(year_met && days_met) {
        // The lines above say which target is NOT met.
        std::process::exit(1);
    }
}

/// The cached workstation at `database`, with its administrator logged in: the database is
/// encrypted and opens at a login.
fn opened(database: &Path, now: chrono::DateTime<Utc>) -> Workstation {
    let mut ws = Workstation::open(database, Arc::new(ManualClock::at(now))).expect("the database");
    ws.login("eleni", guichet_fixtures::DEMO_PASSWORD)
        .expect("the administrator logs in");
    ws
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// CPU time used by this process so far (user and system), in ms, from /proc/self/stat:
/// on a shared machine it tells the work done from the time spent waiting for a core.
fn cpu_ms() -> u64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let after = s.rsplit_once(')')?.1;
            let fields: Vec<&str> = after.split_whitespace().collect();
            let ticks: u64 =
                fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
            Some(ticks * 10)
        })
        .unwrap_or(0)
}

/// A value in kB from /proc/self/status (0 where there is none).
fn vm(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// The cached database `name` (a data directory of its own, encrypted), generated by a child
/// process when missing.
/// Days before the end of the year whose requests have moved since a report kept them.
const MOVED_DAYS: u64 = 30;

/// The file name of the generated database's recovery key, beside it in the cache.
const RECOVERY_FILE: &str = "bench-recovery-key";

/// A copy of the cached database's directory, made afresh: its database file.
fn fresh_copy(database: &Path) -> PathBuf {
    let from = database.parent().expect("the cached directory");
    let to = cache_dir().join("year-run");
    let _ignored = std::fs::remove_dir_all(&to);
    std::fs::create_dir_all(&to).expect("the copy's directory");
    for entry in std::fs::read_dir(from).expect("the cached directory") {
        let entry = entry.expect("a cached file");
        std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy a cached file");
    }
    to.join(DATABASE_FILE)
}

/// A second connection to a generated database, through its recovery key.
fn raw(database: &Path) -> rusqlite::Connection {
    let dir = database.parent().expect("the data directory");
    let written = std::fs::read_to_string(dir.join(RECOVERY_FILE)).expect("the recovery key");
    let recovery = RecoveryKey::parse(written.trim()).expect("a recovery key");
    open_with_recovery_key(dir, &recovery).expect("open the database")
}

/// Moves one request of each of the `days` days up to `last`, as a change from the back
/// office would.
fn touch_days(conn: &rusqlite::Connection, last: NaiveDate, days: u64) {
    for back in 0..days {
        let day = (last - Days::new(back)).to_string();
        let moved = conn
            .execute(
                "UPDATE requests SET updated_hlc = updated_hlc
                 WHERE id = (SELECT id FROM requests WHERE intake_date = ?1 LIMIT 1)",
                [&day],
            )
            .expect("move a request");
        assert_eq!(moved, 1, "a request taken on {day}");
    }
}

fn cached(name: &str) -> PathBuf {
    let dir = cache_dir().join(format!("{name}-v5"));
    let path = dir.join(DATABASE_FILE);
    if !path.exists() {
        let partial = cache_dir().join(format!("{name}-partial"));
        let _ignored = std::fs::remove_dir_all(&partial);
        std::fs::create_dir_all(&partial).expect("the cache directory");
        let start = Instant::now();
        let status = Command::new(std::env::current_exe().expect("this program"))
            .arg("--generate")
            .arg(name)
            .arg(partial.join(DATABASE_FILE))
            .status()
            .expect("the generator runs");
        assert!(status.success(), "generating the {name} database failed");
        std::fs::rename(&partial, &dir).expect("the cached database");
        println!(
            "generated the {name} database in {:.1} s",
            start.elapsed().as_secs_f64()
        );
    }
    path
}

/// A service the generator takes requests for.
struct Offer {
    code: String,
    title: String,
    category: String,
    agency: String,
    fee: Option<i64>,
    exemption: Option<String>,
    days: u32,
}

/// Sets up a workstation with the demo catalogue, then writes `days` days of a busy centre
/// into it with plain inserts in one transaction.
fn generate(path: &Path, days: u64, requests: usize) {
    let start = Utc.from_utc_datetime(&first_day().and_hms_opt(7, 0, 0).unwrap_or_default());
    let counters: Vec<Counter> = (1..=COUNTERS)
        .map(|i| Counter {
            code: format!("W{i}"),
            name: format!("Window {i}"),
            scope: CounterScope::All,
        })
        .collect();
    let catalogue = guichet_fixtures::demo_catalogue();
    let recovery = {
        let mut ws = Workstation::open(path, Arc::new(ManualClock::at(start))).expect("open");
        ws.setup_with(
            Setup {
                center_code: "ATH-01".into(),
                center_name: "Athens Central".into(),
                center_kind: CenterKind::Stationary,
                device_code: "ATH-01-D1".into(),
                receipt_prefix: Some("K7XA".into()),
                national_id_scheme: "ee-isikukood".into(),
                currency: "EUR".into(),
                waiting_target_min: 15,
                time_zone: "Europe/Paris".into(),
                administrator: guichet_fixtures::administrator("eleni"),
            },
            Some(&catalogue),
            &counters,
        )
        .expect("setup");
        ws.take_recovery_key().expect("the recovery key")
    };
    std::fs::write(
        path.parent().unwrap_or(Path::new(".")).join(RECOVERY_FILE),
        recovery.written().as_bytes(),
    )
    .expect("keep the recovery key beside the generated database");
    let offers: Vec<Offer> = catalogue
        .services
        .iter()
        .filter(|s| s.availability.offered_at("ATH-01"))
        .map(|s| Offer {
            code: s.code.clone(),
            title: serde_json::to_string(&s.title).unwrap_or_default(),
            category: s.category.clone(),
            agency: s.agency.clone(),
            fee: match &s.fee {
                Fee::Free => None,
                other => other.amount().map(|m| m.minor),
            },
            exemption: s.exemptions.first().cloned(),
            days: s.processing_days,
        })
        .collect();
    let mut conn = open_with_recovery_key(path.parent().unwrap_or(Path::new(".")), &recovery)
        .expect("open the database");
    let tx = conn.transaction().expect("a transaction");
    let mut rng = StdRng::seed_from_u64(7);
    let holidays = Holidays::default();
    let per_day = requests / days as usize;
    let mut ticket_stmt = tx
        .prepare(
            "INSERT INTO tickets (id, day, code, target_kind, target_code, lane, status, counter,
                clerk, calls, no_shows, transfers, issued, first_call, last_call, started, ended,
                waiting_ms, service_ms, issued_at)
             VALUES (?1, ?2, ?3, 'service', ?4, ?5, ?6, ?7, ?8, 1, ?9, ?10, '{}', ?11, ?11, ?12,
                ?13, ?14, ?15, ?16)",
        )
        .expect("prepare");
    let mut visit_stmt = tx
        .prepare(
            "INSERT INTO visits (id, ticket_id, counter, clerk, started_at, ended_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .expect("prepare");
    let mut feedback_stmt = tx
        .prepare(
            "INSERT INTO feedback (id, visit_id, rating, comment, channel, at, hlc)
             VALUES (?1, ?2, ?3, ?4, 'stationary_center', ?5, ?5)",
        )
        .expect("prepare");
    let mut request_stmt = tx
        .prepare(
            "INSERT INTO requests (id, receipt, service_code, service_title, category, agency,
                catalogue_version, citizen_id, center_code, device_code, clerk, visit_id, form,
                fee_minor, fee_currency, fee_tier, fee_exemptions, waiver_ground, paid_minor,
                status, intake_date, due_date, created_at, created_hlc, updated_hlc)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7, 'ATH-01', 'ATH-01-D1', ?8, ?9, '{}', ?10,
                'EUR', 'standard', '[]', ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?17)",
        )
        .expect("prepare");
    let mut citizen_stmt = tx
        .prepare(
            "INSERT INTO citizens (national_id, given_name, family_name, name_key, birth_date,
                created_at, hlc)
             VALUES (?1, 'Mari', 'Tamm', 'tamm mari', '1976-05-03', ?2, ?2)",
        )
        .expect("prepare");
    let mut event_stmt = tx
        .prepare(
            "INSERT INTO request_events (request_id, action, from_status, to_status, party,
                actor, reason, at, hlc)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )
        .expect("prepare");
    let mut payment_stmt = tx
        .prepare(
            "INSERT INTO payments (id, request_id, amount_minor, currency, method, receipt, clerk,
                at, hlc)
             VALUES (?1, ?2, ?3, 'EUR', ?4, ?5, ?6, ?7, ?7)",
        )
        .expect("prepare");
    let mut ticket_no = 0u64;
    let mut request_no = 0u64;
    for d in 0..days {
        let day = first_day() + Days::new(d);
        let day_text = day.to_string();
        let open = Utc.from_utc_datetime(&day.and_hms_opt(8, 0, 0).unwrap_or_default());
        let moment = |ms: i64| (open + chrono::Duration::milliseconds(ms)).to_rfc3339();
        let mut visits: Vec<(String, String, String)> = Vec::with_capacity(DAY_TICKETS);
        for i in 0..DAY_TICKETS {
            ticket_no += 1;
            let id = format!("t{ticket_no}");
            let issued_ms = (i as i64) * 8 * 3_600_000 / DAY_TICKETS as i64;
            let wait_ms = rng.random_range(0..45 * 60_000);
            let service_ms = rng.random_range(3 * 60_000..15 * 60_000);
            let counter = format!("W{}", rng.random_range(1..=COUNTERS));
            let clerk = format!("clerk-{}", &counter[1..]);
            let offer = &offers[rng.random_range(0..offers.len())];
            let no_show = rng.random_bool(0.05);
            let call = moment(issued_ms + wait_ms);
            let json = |t: &str| format!("{{\"wall\":\"{t}\"}}");
            let ended = moment(issued_ms + wait_ms + service_ms);
            ticket_stmt
                .execute(params![
                    id,
                    day_text,
                    format!("A{i:04}"),
                    offer.code,
                    if rng.random_bool(0.1) {
                        "elderly"
                    } else {
                        "standard"
                    },
                    if no_show { "no_show" } else { "done" },
                    counter,
                    clerk,
                    u32::from(no_show),
                    u32::from(rng.random_bool(0.03)),
                    json(&call),
                    (!no_show).then(|| json(&call)),
                    (!no_show).then(|| json(&ended)),
                    (!no_show).then_some(wait_ms),
                    (!no_show).then_some(service_ms),
                    moment(issued_ms),
                ])
                .expect("ticket");
            if !no_show {
                let visit = format!("v{ticket_no}");
                visit_stmt
                    .execute(params![visit, id, counter, clerk, call, ended])
                    .expect("visit");
                if rng.random_bool(0.25) {
                    feedback_stmt
                        .execute(params![
                            format!("f{ticket_no}"),
                            visit,
                            rng.random_range(1..=5),
                            rng.random_bool(0.1).then_some("Merci, rapide et clair"),
                            ended,
                        ])
                        .expect("feedback");
                }
                visits.push((visit, clerk, ended));
            }
        }
        for _ in 0..per_day {
            request_no += 1;
            let id = format!("r{request_no}");
            let offer = &offers[rng.random_range(0..offers.len())];
            let (visit, clerk, at) = visits[rng.random_range(0..visits.len())].clone();
            let due = holidays.due_date(day, offer.days);
            let waived = offer.fee.is_some() && offer.exemption.is_some() && rng.random_bool(0.1);
            let paid = if waived { 0 } else { offer.fee.unwrap_or(0) };
            let path: &[(&str, &str, &str)] = match rng.random_range(0..100) {
                0..=1 => &[("reject", "in_processing", "rejected")],
                2..=4 => &[(
                    "return_for_correction",
                    "in_processing",
                    "returned_for_correction",
                )],
                5..=59 => &[
                    ("mark_ready", "in_processing", "ready"),
                    ("deliver", "ready", "delivered"),
                ],
                _ => &[],
            };
            let status = path.last().map_or("dispatched", |p| p.2);
            // One citizen for every three requests.
            let citizen = format!("3{:010}", (request_no - 1) / 3);
            if (request_no - 1).is_multiple_of(3) {
                citizen_stmt.execute(params![citizen, at]).expect("citizen");
            }
            request_stmt
                .execute(params![
                    id,
                    format!("R{request_no}"),
                    offer.code,
                    offer.title,
                    offer.category,
                    offer.agency,
                    citizen,
                    clerk,
                    visit,
                    offer.fee,
                    waived.then(|| offer.exemption.clone()),
                    paid,
                    status,
                    day_text,
                    due.to_string(),
                    at,
                    format!("{:015}-000000-ATH-01-D1", request_no),
                ])
                .expect("request");
            let mut steps = vec![
                ("create", None, "draft", "center", None, at.clone()),
                (
                    "submit",
                    Some("draft"),
                    "submitted",
                    "center",
                    None,
                    at.clone(),
                ),
                (
                    "dispatch",
                    Some("submitted"),
                    "dispatched",
                    "center",
                    None,
                    at.clone(),
                ),
            ];
            let mut later = open + chrono::Duration::days(1);
            if !path.is_empty() {
                steps.push((
                    "take_in_processing",
                    Some("dispatched"),
                    "in_processing",
                    "agency",
                    None,
                    later.to_rfc3339(),
                ));
            }
            for (action, from, to) in path {
                later += chrono::Duration::days(i64::from(offer.days.max(1)));
                let reason = match *to {
                    "rejected" => Some("Not eligible"),
                    "returned_for_correction" => Some("Missing document"),
                    _ => None,
                };
                steps.push((
                    action,
                    Some(*from),
                    to,
                    "agency",
                    reason,
                    later.to_rfc3339(),
                ));
            }
            for (n, (action, from, to, party, reason, at)) in steps.into_iter().enumerate() {
                event_stmt
                    .execute(params![
                        id,
                        action,
                        from,
                        to,
                        party,
                        "bench",
                        reason,
                        at,
                        format!("{request_no:015}-{n:06}")
                    ])
                    .expect("event");
            }
            if paid > 0 {
                payment_stmt
                    .execute(params![
                        format!("p{request_no}"),
                        id,
                        paid,
                        if rng.random_bool(0.6) { "cash" } else { "card" },
                        format!("P{request_no}"),
                        clerk,
                        at,
                    ])
                    .expect("payment");
            }
        }
    }
    drop((
        ticket_stmt,
        visit_stmt,
        feedback_stmt,
        citizen_stmt,
        request_stmt,
        event_stmt,
        payment_stmt,
    ));
    tx.commit().expect("commit");
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE); ANALYZE;")
        .expect("checkpoint");
}
