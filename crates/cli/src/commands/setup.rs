//! `guichet setup` and `guichet status`.

use std::fmt::Write as _;
use std::path::Path;

use guichet_domain::account::Role;
use guichet_domain::catalogue::Catalogue;
use guichet_domain::queue::Counter;
use guichet_domain::text::english_plural;
use guichet_workstation::Workstation;
use guichet_workstation::store::{
    CatalogueLoad, Config, NewClerk, OutboxState, Printers, Rules, Setup,
};
use guichet_workstation::sync::plain_to_another_machine;
use serde::Serialize;

use crate::cli::{SettingsArgs, SetupArgs};
use crate::error::{CliError, Result};
use crate::output::{Report, fields};

#[derive(Debug, Serialize)]
struct SetupDone {
    config: Config,
    catalogue: Option<CatalogueLoad>,
    counters: Vec<Counter>,
    /// Shown once: the key to the workstation's recovery slot.
    recovery_key: String,
}

/// What `--demo` adds after the setup itself.
struct Demo {
    catalogue: Catalogue,
    counters: Vec<Counter>,
}

pub fn setup(ws: &mut Workstation, args: &SetupArgs, password: String) -> Result<Report> {
    let administrator = args.admin.trim().to_owned();
    let setup = Setup {
        center_code: args.center.trim().to_owned(),
        center_name: args
            .center_name
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .unwrap_or(args.center.trim())
            .to_owned(),
        center_kind: args.kind,
        device_code: args.device.trim().to_owned(),
        receipt_prefix: args.receipt_prefix.clone(),
        national_id_scheme: args.id_scheme.trim().to_owned(),
        currency: args.currency.clone(),
        waiting_target_min: args.waiting_target,
        time_zone: args.time_zone.as_deref().map_or_else(
            || guichet_workstation::store::default_time_zone().to_string(),
            |z| z.trim().to_owned(),
        ),
        administrator: Some(NewClerk {
            username: administrator.clone(),
            display_name: args
                .admin_name
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .unwrap_or(&administrator)
                .to_owned(),
            role: Role::Administrator,
            password,
        }),
    };
    let demo = if args.demo { Some(demo()?) } else { None };
    // One transaction: a refused catalogue or counter leaves the directory unset.
    let config = match &demo {
        Some(d) => ws.setup_with(setup, Some(&d.catalogue), &d.counters)?,
        None => ws.setup(setup)?,
    };
    let done = SetupDone {
        config,
        catalogue: ws.catalogue_load()?,
        counters: demo.map(|d| d.counters).unwrap_or_default(),
        recovery_key: ws
            .take_recovery_key()
            .map(|k| k.written().to_string())
            .unwrap_or_default(),
    };
    Report::new(&done, |out| {
        let c = &done.config;
        writeln!(
            out,
            "Workstation set up: centre {} ({}, {}), device {}",
            c.center_code,
            c.center_name,
            c.center_kind.as_str(),
            c.device_code
        )?;
        let mut lines = vec![
            ("receipt prefix", c.receipt_prefix.to_string()),
            ("channel", c.channel.as_str().to_owned()),
            ("national ids", c.national_id_scheme.clone()),
            ("currency", c.currency.to_string()),
            ("time zone", c.time_zone.to_string()),
            ("waiting target", format!("{} min", c.waiting_target_min)),
            (
                "administrator",
                format!("{administrator} (logged in; `guichet clerk add` adds the clerks)"),
            ),
        ];
        if let Some(load) = &done.catalogue {
            lines.push((
                "demo catalogue",
                format!(
                    "version {}: {} services offered here, {} skipped",
                    load.version, load.services, load.skipped
                ),
            ));
        }
        if !done.counters.is_empty() {
            lines.push((
                "counters",
                done.counters
                    .iter()
                    .map(|k| format!("{} ({})", k.code, super::queue::scope(&k.scope)))
                    .collect::<Vec<_>>()
                    .join(", "),
            ));
        }
        fields(out, "  ", &lines)?;
        writeln!(
            out,
            "\nRecovery key: {}\nWrite it down and keep it away from this device. Its data is encrypted: if every administrator forgets their password, `guichet recover NAME` with this key opens it. It is shown only this once.",
            done.recovery_key
        )
    })
}

/// The demo catalogue and its counters.
///
/// Parsed here from the embedded JSON rather than through `demo_catalogue()`, which panics on
/// a bad file: a CLI reports, it does not crash.
fn demo() -> Result<Demo> {
    let catalogue: Catalogue = serde_json::from_str(guichet_fixtures::DEMO_CATALOGUE_JSON)
        .map_err(CliError::DemoCatalogue)?;
    Ok(Demo {
        counters: guichet_fixtures::demo_counters(&catalogue),
        catalogue,
    })
}

#[derive(Debug, Serialize)]
struct Status {
    config: Config,
    catalogue_version: Option<u32>,
    outbox: OutboxCounts,
    sync: SyncStatus,
    database: String,
}

#[derive(Debug, Serialize)]
struct OutboxCounts {
    pending: u64,
    sent: u64,
    refused: u64,
    conflict: u64,
}

#[derive(Debug, Serialize)]
struct SyncStatus {
    configured: bool,
    server: Option<String>,
    last_success: Option<String>,
    last_error: Option<String>,
    /// Plain http:// to another machine, as allowed at enrolment.
    insecure: bool,
    message: String,
}

/// Keeps the damaged database of `dir` aside, and says what to do next.
pub fn keep_aside(dir: &Path) -> Result<Report> {
    let kept = guichet_workstation::store::keep_aside_damaged(dir, chrono::Utc::now())?;
    Report::new(&kept, |out| {
        writeln!(
            out,
            "the damaged database is kept aside as {} in {} (with its key's slots: a clerk's \
             password or the recovery key still opens it)",
            kept.file,
            dir.display()
        )?;
        match (&kept.owner.server, &kept.owner.device_code) {
            (Some(server), device) => writeln!(
                out,
                "enrol this workstation again with a new code from {server} \
                 (`guichet enroll`): the centre's data comes back at the first sync; what it \
                 had not sent is in the file kept aside{}",
                device.as_ref().map_or(String::new(), |d| format!(
                    "; ask the administrator to revoke device {d}"
                ))
            ),
            (None, _) => writeln!(
                out,
                "set this workstation up again (`guichet setup`); its data is in the file kept aside"
            ),
        }
    })
}

pub fn status(ws: &Workstation, dir: &Path) -> Result<Report> {
    let config = ws.config()?;
    let outbox = OutboxCounts {
        pending: ws.outbox_count(OutboxState::Pending)?,
        sent: ws.outbox_count(OutboxState::Sent)?,
        refused: ws.outbox_count(OutboxState::Refused)?,
        conflict: ws.outbox_count(OutboxState::Conflict)?,
    };
    let status = Status {
        config,
        catalogue_version: ws.catalogue_version()?,
        outbox,
        sync: match ws.sync_point()? {
            None => SyncStatus {
                configured: false,
                server: None,
                last_success: None,
                last_error: None,
                insecure: false,
                message: "no back office configured (standalone)".into(),
            },
            Some(p) => SyncStatus {
                configured: true,
                insecure: plain_to_another_machine(&p.server_url),
                message: match (&p.last_error, &p.last_success) {
                    (Some(e), _) => format!("{}: last attempt failed: {e}", p.server_url),
                    (None, Some(at)) => format!("{}: last synced {at}", p.server_url),
                    (None, None) => {
                        format!("{}: never synced yet; run `guichet sync`", p.server_url)
                    }
                } + if plain_to_another_machine(&p.server_url) {
                    " (warning: plain http:// to another machine, what crosses the network can \
                     be read on the way)"
                } else {
                    ""
                },
                server: Some(p.server_url),
                last_success: p.last_success,
                last_error: p.last_error,
            },
        },
        database: ws.path().unwrap_or(dir).display().to_string(),
    };
    Report::new(&status, |out| {
        let c = &status.config;
        fields(
            out,
            "",
            &[
                (
                    "centre",
                    format!(
                        "{} {} ({})",
                        c.center_code,
                        c.center_name,
                        c.center_kind.as_str()
                    ),
                ),
                (
                    "device",
                    format!("{} (receipt prefix {})", c.device_code, c.receipt_prefix),
                ),
                (
                    "catalogue",
                    status.catalogue_version.map_or_else(
                        || "none loaded: run `guichet catalogue load FILE`".to_owned(),
                        |v| format!("version {v}"),
                    ),
                ),
                (
                    "outbox",
                    format!(
                        "pending {}, sent {}, refused {}, conflict {}",
                        status.outbox.pending,
                        status.outbox.sent,
                        status.outbox.refused,
                        status.outbox.conflict
                    ),
                ),
                ("sync", status.sync.message.clone()),
                ("database", status.database.clone()),
            ],
        )
    })
}

/// `guichet settings`: shows the local rules; with a flag, an administrator changes them.
pub fn settings(ws: &mut Workstation, args: &SettingsArgs) -> Result<Report> {
    let rules = Rules {
        idle_lock_minutes: args.idle_lock_minutes,
        max_offline_days: args.max_offline_days,
        counter_printer: args.counter_printer.clone(),
        kiosk_printer: args.kiosk_printer.clone(),
    };
    let changed = rules != Rules::default();
    let config = if changed {
        ws.set_rules(&rules)?
    } else {
        ws.config()?
    };
    #[derive(Serialize)]
    struct Settings {
        idle_lock_minutes: u32,
        max_offline_days: u32,
        printers: Printers,
        changed: bool,
    }
    let shown = Settings {
        idle_lock_minutes: config.idle_lock_minutes,
        max_offline_days: config.max_offline_days,
        printers: ws.printers()?,
        changed,
    };
    let printer = |name: &str| {
        if name.is_empty() {
            "the default printer".to_owned()
        } else {
            name.to_owned()
        }
    };
    Report::new(&shown, |out| {
        if changed {
            writeln!(out, "Settings changed.")?;
        }
        fields(
            out,
            "",
            &[
                (
                    "idle lock",
                    format!(
                        "after {} {} without a key or a click",
                        shown.idle_lock_minutes,
                        english_plural(u64::from(shown.idle_lock_minutes), "minute", "minutes")
                    ),
                ),
                (
                    "offline logins",
                    format!(
                        "for {} {} after the last sync with the back office",
                        shown.max_offline_days,
                        english_plural(u64::from(shown.max_offline_days), "day", "days")
                    ),
                ),
                ("counter printer", printer(&shown.printers.counter)),
                ("kiosk printer", printer(&shown.printers.kiosk)),
            ],
        )
    })
}
