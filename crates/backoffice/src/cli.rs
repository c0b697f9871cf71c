//! The `guichet-backoffice` command: the server, and the administration and agency steps
//! working directly on the database. Errors are printed in words with a non-zero exit.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use guichet_domain::account::Role;
use guichet_domain::catalogue::{Catalogue, CenterKind};
use guichet_domain::money::Money;
use guichet_domain::receipt::ReceiptNumber;

use crate::error::{Error, Result};
use crate::http::{AppState, serve, serve_tls};
use crate::model::FleetLine;
use crate::model::{
    AgencyCredential, Clerk, DEFAULT_AGENCY_CREDENTIAL_DAYS, FleetHealth,
    MAX_AGENCY_CREDENTIAL_DAYS, NewClerk, Refusal, Release, ServerRequest, a_role,
};
use crate::plan::agency_action;
use crate::release::{MAX_KEY_FILE_BYTES, MAX_PACKAGE_BYTES};
use crate::service::{
    BackOffice, DEFAULT_CODE_VALIDITY_HOURS, DEFAULT_NATIONAL_ID_SCHEME, NewRelease, Published,
    code_validity,
};
use crate::tls::{Tls, TlsFiles};

#[derive(Debug, Parser)]
#[command(
    name = "guichet-backoffice",
    about = "The Guichet back office",
    version
)]
pub struct Cli {
    /// sqlite://PATH (created if absent) or postgres://USER@HOST:PORT/DB
    #[arg(long, global = true, env = "GUICHET_DATABASE_URL")]
    database: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs the HTTP server until Ctrl-C or SIGTERM.
    Serve {
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
        /// A file whose first line is the token that protects the admin and agency APIs
        /// (readable by this user alone), or the token in GUICHET_ADMIN_TOKEN; without either
        /// the APIs are closed. Never on the command line: `ps` shows it to every user.
        #[arg(long, value_name = "FILE")]
        admin_token_file: Option<std::path::PathBuf>,
        /// Refused, with what to do instead (see --admin-token-file).
        #[arg(long, hide = true)]
        admin_token: Option<String>,
        /// How national ids are checked (the scheme the workstations use).
        #[arg(long, default_value = DEFAULT_NATIONAL_ID_SCHEME)]
        national_id_scheme: String,
        /// Seconds one HTTP request may take, 5 to 600.
        #[arg(
            long,
            value_name = "SECONDS",
            default_value_t = 30,
            value_parser = clap::value_parser!(u64).range(5..=600)
        )]
        request_timeout: u64,
        /// Serve HTTPS with this certificate chain (PEM, the server's own certificate first).
        /// Reloaded on SIGHUP and when the file changes, without dropping connections.
        #[arg(long, requires = "tls_key", value_name = "FILE")]
        tls_cert: Option<std::path::PathBuf>,
        /// The private key (PEM) that goes with --tls-cert.
        #[arg(long, requires = "tls_cert", value_name = "FILE")]
        tls_key: Option<std::path::PathBuf>,
        /// The address of a load balancer or reverse proxy in front of this server (repeat for
        /// several): a request from it counts as coming from the client address it appends to
        /// X-Forwarded-For, so that the enrolment's limits apply per client, not to the proxy.
        #[arg(long = "trusted-proxy", value_name = "IP")]
        trusted_proxies: Vec<std::net::IpAddr>,
    },
    /// The fleet's health: each device's audit standing (flagged when its trail was cut short
    /// or rewritten), refused credentials by kind, failed logins reported by the devices.
    Health {
        /// Print JSON instead of tables.
        #[arg(long)]
        json: bool,
    },
    /// Centres.
    #[command(subcommand)]
    Center(CenterCommand),
    /// Catalogue versions.
    #[command(subcommand)]
    Catalogue(CatalogueCommand),
    /// Issues a one-time enrolment code for a device of CENTER and prints it.
    EnrollCode {
        center: String,
        #[arg(long, default_value_t = DEFAULT_CODE_VALIDITY_HOURS)]
        valid_hours: i64,
    },
    /// Enrolled devices.
    #[command(subcommand, visible_alias = "device")]
    Devices(DevicesCommand),
    /// An agency's processing of dispatched requests.
    #[command(subcommand)]
    Agency(AgencyCommand),
    /// Accounts that log in at the centres' devices. The first administrator is added here,
    /// on the back office's machine.
    #[command(subcommand)]
    Clerk(ClerkCommand),
    /// Releases of the app, which the devices' updater downloads from the back office.
    #[command(subcommand)]
    Release(ReleaseCommand),
}

#[derive(Debug, Subcommand)]
enum ReleaseCommand {
    /// Sets the public half of the key releases are signed with: the KEY.pub file that
    /// `tauri signer generate` wrote. Its private half stays off this machine and the devices.
    Key {
        /// The KEY.pub file
        file: std::path::PathBuf,
    },
    /// Publishes the app's package (the .deb) for the devices' updater, once its signature
    /// (`tauri signer sign`) verifies against the release key. A release is never edited:
    /// publish a new version instead.
    Publish {
        /// The package, as `bash package-app` built it
        file: std::path::PathBuf,
        /// The app's version in the package, MAJOR.MINOR.PATCH
        #[arg(long, value_name = "VERSION")]
        version: String,
        /// The .sig file that `tauri signer sign` wrote beside the package
        #[arg(long, value_name = "FILE")]
        signature: std::path::PathBuf,
        /// The centres it is offered to, separated by commas (default: every centre)
        #[arg(
            long,
            visible_alias = "centers",
            value_name = "CODES",
            value_delimiter = ','
        )]
        centres: Option<Vec<String>>,
        /// What the release brings, shown with the update
        #[arg(long, value_name = "TEXT", default_value = "")]
        notes: String,
    },
    /// The releases published, newest first, as a table (or JSON).
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum ClerkCommand {
    /// Adds an account; its password is read as one line from standard input.
    Add {
        username: String,
        /// The person's full name, as shown at the counter.
        #[arg(long)]
        name: String,
        /// clerk, supervisor or administrator
        #[arg(long)]
        role: String,
        /// A centre the account logs in at: one for a clerk, one or more for the other roles.
        #[arg(
            long = "centre",
            visible_alias = "center",
            value_name = "CODE",
            required = true
        )]
        centres: Vec<String>,
        /// Read the password as one line from standard input; at a terminal, it is asked twice,
        /// unseen.
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// The accounts, of one centre or all, as a table (or JSON); never their verifiers.
    List {
        #[arg(long = "centre", visible_alias = "center", value_name = "CODE")]
        centre: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Disables an account: it can no longer log in, and changes made under it are refused.
    Disable { username: String },
    /// Enables a disabled account again.
    Enable { username: String },
    /// Gives an account a new password, read as one line from standard input.
    ResetPassword {
        username: String,
        /// Read the password as one line from standard input; at a terminal, it is asked twice,
        /// unseen.
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Changes an account's role (clerk, supervisor or administrator).
    Role { username: String, role: String },
}

#[derive(Debug, Subcommand)]
enum CenterCommand {
    Add {
        code: String,
        #[arg(long)]
        name: String,
        /// stationary, mobile or kiosk
        #[arg(long)]
        kind: String,
        /// The centre's IANA time zone (Europe/Athens, Africa/Dakar, Asia/Baku): its devices
        /// count days and hours in it.
        #[arg(long, value_name = "ZONE")]
        time_zone: String,
        /// The currency its fees are paid in (EUR, AZN, XOF)
        #[arg(long, value_name = "CODE")]
        currency: String,
        /// The waiting time its queue aims to stay under, in minutes
        #[arg(long, value_name = "MINUTES", default_value_t = crate::DEFAULT_WAITING_TARGET_MIN)]
        waiting_target: u32,
    },
    /// Changes a centre's name, time zone or waiting-time target; its devices take the new
    /// terms at their next sync. Its currency stays: the fees its devices took were counted
    /// in it.
    Update {
        code: String,
        /// The name its devices and reports show
        #[arg(long)]
        name: Option<String>,
        /// The centre's IANA time zone (Europe/Athens, Africa/Dakar, Asia/Baku)
        #[arg(long, value_name = "ZONE")]
        time_zone: Option<String>,
        /// The waiting time its queue aims to stay under, in minutes
        #[arg(long, value_name = "MINUTES")]
        waiting_target: Option<u32>,
    },
    List,
}

#[derive(Debug, Subcommand)]
enum CatalogueCommand {
    /// Publishes a catalogue file (the fixture JSON format) as a new version.
    Publish { file: std::path::PathBuf },
    /// Imports a CPSV-AP file (Turtle or JSON-LD) and publishes it as the next version,
    /// unless it says what the latest version says already. Prints, service by service, what
    /// was mapped, what was filled by a default and what could not be mapped.
    Import {
        file: std::path::PathBuf,
        /// turtle or jsonld (default: from the file's name, else its content)
        #[arg(long, value_name = "FORMAT")]
        format: Option<String>,
        /// The language of texts the file does not tag, where a service names none
        #[arg(long, value_name = "LANG", default_value = "en")]
        language: String,
        /// The currency of a cost that names none (three letters)
        #[arg(long, value_name = "CODE")]
        currency: Option<String>,
        /// Working days assumed where a service gives no processing time
        #[arg(long, value_name = "DAYS", default_value_t = guichet_cpsv::DEFAULT_PROCESSING_DAYS)]
        processing_days: u32,
        /// A JSON file giving what CPSV-AP does not say (depth per channel, form, fee tier,
        /// exemptions, availability, processing days, document kind), for every service or by
        /// service code (docs/catalogues.md)
        #[arg(long, value_name = "FILE")]
        companion: Option<std::path::PathBuf>,
        /// Reads the file and reports, publishing nothing
        #[arg(long)]
        dry_run: bool,
        #[arg(long)]
        json: bool,
    },
    /// Writes the latest catalogue as CPSV-AP Turtle (or Guichet's JSON).
    Export {
        /// cpsv-ap or json
        #[arg(long, value_name = "FORMAT", default_value = "cpsv-ap")]
        format: String,
        /// The file to write (default: the standard output)
        #[arg(long, value_name = "FILE")]
        output: Option<std::path::PathBuf>,
        /// The IRI prefix of the exported nodes
        #[arg(long, value_name = "IRI", default_value = guichet_cpsv::DEFAULT_BASE)]
        base: String,
        /// The area the competent authorities serve (dct:spatial, required by CPSV-AP), e.g.
        /// http://publications.europa.eu/resource/authority/country/GRC
        #[arg(long, value_name = "IRI")]
        area: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
enum DevicesCommand {
    /// The fleet at a glance: each device's centre, standing, app version, last contact,
    /// changes waiting and refused as it last reported, and its clock's offset.
    List {
        #[arg(long, visible_alias = "centre", value_name = "CODE")]
        center: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Refuses the device's credential from now on. With --wipe, the device delivers what
    /// waits on it at its next contact, then erases its data and says so on its screen.
    Revoke {
        device: String,
        #[arg(long)]
        wipe: bool,
    },
}

#[derive(Debug, Subcommand)]
enum AgencyCommand {
    /// Requests dispatched to AGENCY or in its processing, as a table (or JSON).
    List {
        agency: String,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Issues a credential of the agency API for AGENCY alone and prints it (shown once).
    Token {
        agency: String,
        /// Days it stays valid.
        #[arg(long, default_value_t = DEFAULT_AGENCY_CREDENTIAL_DAYS)]
        valid_days: i64,
    },
    /// The agency credentials (never their values): id, agency, issued, expires, revoked.
    Credentials {
        /// Only this agency's.
        #[arg(long)]
        agency: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Revokes an agency credential by its id (`agency credentials` lists them).
    Revoke { id: String },
    /// Takes a request in processing.
    Take(Step),
    /// Returns a request to the centre for correction (needs --reason).
    Return(Step),
    /// Marks a request ready for delivery.
    Ready(Step),
    /// Rejects a request (needs --reason).
    Reject(Step),
}

#[derive(Debug, clap::Args)]
struct Step {
    receipt: String,
    #[arg(long)]
    reason: Option<String>,
    #[arg(long, default_value = "agency")]
    actor: String,
}

/// Parses the arguments, runs the command, prints any error in words.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => return fail(&Error::Io(e)),
    };
    match runtime.block_on(execute(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn fail(error: &Error) -> ExitCode {
    let _ = writeln!(std::io::stderr(), "error: {error}");
    ExitCode::FAILURE
}

/// The largest catalogue file read: a national catalogue of a few thousand services is a
/// few megabytes.
const MAX_CATALOGUE_FILE: u64 = 64 * 1024 * 1024;

/// Reads a whole file of at most `max` bytes; `advice` says what to do with a larger one.
fn read_bounded(path: &std::path::Path, max: u64, advice: &str) -> Result<Vec<u8>> {
    use std::io::Read as _;
    let cannot = |e: std::io::Error| Error::Invalid(format!("cannot read {}: {e}", path.display()));
    let file = std::fs::File::open(path).map_err(cannot)?;
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes).map_err(cannot)?;
    if bytes.len() as u64 > max {
        return Err(Error::Invalid(format!(
            "{} is larger than {}: {advice}",
            path.display(),
            size_text(max)
        )));
    }
    Ok(bytes)
}

/// What an import mapped, defaulted and left out, service by service, then what it published.
fn import_text(
    file: &std::path::Path,
    imported: &guichet_cpsv::Imported,
    published: Option<Published>,
) -> String {
    let mut out = format!(
        "{} ({}): {} services\n",
        file.display(),
        imported.report.syntax,
        imported.report.services.len()
    );
    for s in &imported.report.services {
        out.push_str(&format!("\n{} <{}>\n", s.code, s.node));
        for (what, lines) in [
            ("mapped", &s.mapped),
            ("defaulted", &s.defaulted),
            ("not mapped", &s.not_mapped),
        ] {
            for line in lines {
                out.push_str(&format!("  {what}: {line}\n"));
            }
        }
    }
    out.push('\n');
    out.push_str(&match published {
        Some(Published::New(v)) => format!(
            "catalogue version {v} published ({} services)",
            imported.catalogue.services.len()
        ),
        Some(Published::Unchanged(v)) => {
            format!("unchanged: version {v} already says this; nothing published")
        }
        None => "dry run: nothing published".to_owned(),
    });
    out
}

/// The fleet as a table an operator reads: the device that has not synced for days, the old
/// release, the clock that is off.
fn fleet_table(lines: &[FleetLine], now: chrono::DateTime<chrono::Utc>) -> String {
    let mut rows = vec![
        [
            "DEVICE",
            "CENTRE",
            "STANDING",
            "VERSION",
            "LAST CONTACT",
            "WAITING",
            "REFUSED",
            "CLOCK",
            "LABEL",
        ]
        .map(str::to_owned),
    ];
    for l in lines {
        let d = &l.device;
        let (version, contact, waiting, refused, clock) = match &l.last_contact {
            Some(c) => (
                c.app_version.clone(),
                chrono::DateTime::parse_from_rfc3339(&c.at)
                    .map_or_else(|_| c.at.clone(), |at| ago(now - at.to_utc())),
                c.waiting.to_string(),
                c.refused.to_string(),
                offset(c.clock_offset_ms),
            ),
            None => (
                "-".into(),
                "never".into(),
                "-".into(),
                "-".into(),
                "-".into(),
            ),
        };
        rows.push([
            d.code.clone(),
            d.center.clone(),
            l.standing.clone(),
            version,
            contact,
            waiting,
            refused,
            clock,
            d.label.clone().unwrap_or_default(),
        ]);
    }
    let widths: Vec<usize> = (0..9)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in &rows {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out.push_str(&format!(
        "{} {}",
        lines.len(),
        guichet_domain::text::english_plural(lines.len() as u64, "device", "devices")
    ));
    out
}

/// How long ago, as an operator reads it: "3 min ago", "5 h ago", "4 days ago".
fn ago(elapsed: chrono::Duration) -> String {
    let minutes = elapsed.num_minutes().max(0);
    if minutes < 1 {
        "just now".into()
    } else if minutes < 60 {
        format!("{minutes} min ago")
    } else if minutes < 48 * 60 {
        format!("{} h ago", minutes / 60)
    } else {
        format!("{} days ago", minutes / (24 * 60))
    }
}

/// A clock's offset: "+0 s", "-3 min", "+2 h 5 min".
fn offset(ms: i64) -> String {
    let sign = if ms < 0 { '-' } else { '+' };
    let s = ms.unsigned_abs() / 1000;
    if s < 120 {
        format!("{sign}{s} s")
    } else if s < 3600 {
        format!("{sign}{} min", s / 60)
    } else {
        format!("{sign}{} h {} min", s / 3600, s % 3600 / 60)
    }
}

fn say(text: &str) {
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}

/// Whether an export that begins as `export` does may take the place of what is at `path`:
/// nothing, an empty file, or an earlier export of the same kind (JSON begins with `{`, Turtle
/// with `@prefix`). A path typed wrong must not replace the back office's database.
fn replaceable(path: &std::path::Path, export: &[u8]) -> bool {
    let Ok(mut file) = std::fs::File::open(path) else {
        return !path.exists();
    };
    let mut head = [0u8; 64];
    let read = std::io::Read::read(&mut file, &mut head).unwrap_or(0);
    let first = |bytes: &[u8]| bytes.trim_ascii_start().first().copied();
    match first(&head[..read]) {
        None => true,
        existing => existing == first(export),
    }
}

impl Command {
    /// Whether the command may make a new SQLite database: serving, or setting a back office
    /// up (its first centre, catalogue, release key or account). The others read or change
    /// one that exists.
    fn may_create(&self) -> bool {
        matches!(
            self,
            Command::Serve { .. }
                | Command::Center(CenterCommand::Add { .. })
                | Command::Catalogue(
                    CatalogueCommand::Publish { .. } | CatalogueCommand::Import { .. }
                )
                | Command::Release(ReleaseCommand::Key { .. })
                | Command::Clerk(ClerkCommand::Add { .. })
        )
    }
}

/// A note for the operator, on the standard error: the standard output may be the export.
fn note(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "note: {text}");
}

fn json(value: &impl serde::Serialize) -> Result<()> {
    say(&serde_json::to_string_pretty(value)?);
    Ok(())
}

async fn execute(cli: Cli) -> Result<()> {
    let url = cli.database.ok_or_else(|| {
        Error::Invalid(
            "no database: give --database sqlite://PATH or postgres://... (or GUICHET_DATABASE_URL)"
                .into(),
        )
    })?;
    // A path typed wrong must not show an empty back office as if it were the one: only the
    // commands that start one make its SQLite file.
    if let Some(path) = url.strip_prefix("sqlite://")
        && !path.is_empty()
        && !std::path::Path::new(path).exists()
        && !cli.command.may_create()
    {
        return Err(Error::Invalid(format!(
            "there is no back-office database at {path}: check --database (or \
             GUICHET_DATABASE_URL); a new one is made by `serve` or by the first `center add`. \
             Nothing was created"
        )));
    }
    let office = BackOffice::open(&url).await?;
    match cli.command {
        Command::Serve {
            listen,
            admin_token_file,
            admin_token,
            national_id_scheme,
            request_timeout,
            tls_cert,
            tls_key,
            trusted_proxies,
        } => {
            tracing_subscriber::fmt()
                .with_env_filter(log_filter(std::env::var("RUST_LOG").ok().as_deref()))
                .with_writer(std::io::stderr)
                .init();
            let office = office.with_national_ids(&national_id_scheme)?;
            if admin_token.is_some() {
                return Err(Error::Invalid(
                    "--admin-token would show the token to every user of this machine (in \
                     `ps`): put it in GUICHET_ADMIN_TOKEN, or in a file readable by this user \
                     alone and give --admin-token-file FILE"
                        .into(),
                ));
            }
            let admin_token = match admin_token_file {
                Some(path) => Some(read_admin_token(&path)?),
                None => std::env::var("GUICHET_ADMIN_TOKEN")
                    .ok()
                    .filter(|t| !t.trim().is_empty()),
            };
            if let Some(token) = &admin_token {
                check_admin_token(token)?;
            }
            if admin_token.is_none() {
                tracing::warn!("no admin token: the admin and agency APIs are closed");
            }
            let tls = match (tls_cert, tls_key) {
                (Some(cert), Some(key)) => Some(Tls::load(TlsFiles { cert, key })?),
                _ => None,
            };
            let listener = tokio::net::TcpListener::bind(&listen).await?;
            let address = listener.local_addr()?;
            let mut state = AppState::new(office, admin_token);
            state.request_timeout = std::time::Duration::from_secs(request_timeout);
            state.trusted_proxies = trusted_proxies.into();
            match tls {
                Some(tls) => {
                    let watch = tls.watch(TLS_WATCH_INTERVAL);
                    let hangup = reload_on_hangup(tls.clone());
                    tracing::info!(%address, "back office listening (HTTPS)");
                    let served = serve_tls(listener, tls, state, shutdown_signal()).await;
                    watch.abort();
                    hangup.abort();
                    served?;
                }
                None => {
                    if !address.ip().is_loopback() {
                        tracing::warn!(
                            %address,
                            "serving plain HTTP on a network address: credentials and citizens' \
                             data cross the network in clear. Give --tls-cert and --tls-key, or \
                             put a TLS reverse proxy in front"
                        );
                    }
                    tracing::info!(%address, "back office listening (HTTP)");
                    serve(listener, state, shutdown_signal()).await?;
                }
            }
            tracing::info!("back office stopped");
            Ok(())
        }
        Command::Health { json: true } => json(&office.health().await?),
        Command::Health { json: false } => {
            say(&health_text(&office.health().await?));
            Ok(())
        }
        Command::Center(CenterCommand::Add {
            code,
            name,
            kind,
            time_zone,
            currency,
            waiting_target,
        }) => {
            let center = office
                .add_center(&crate::NewCenter {
                    code: &code,
                    name: &name,
                    kind: CenterKind::parse(&kind)?,
                    time_zone: &time_zone,
                    currency: &currency,
                    waiting_target_min: waiting_target,
                })
                .await?;
            say(&format!("centre {} added", center_text(&center)));
            Ok(())
        }
        Command::Center(CenterCommand::Update {
            code,
            name,
            time_zone,
            waiting_target,
        }) => {
            let center = office
                .update_center(
                    &code,
                    &crate::CenterChange {
                        name: name.as_deref(),
                        time_zone: time_zone.as_deref(),
                        waiting_target_min: waiting_target,
                    },
                )
                .await?;
            let zone_note = if time_zone.is_some() {
                " (a new time zone once no ticket of their day is open)"
            } else {
                ""
            };
            say(&format!(
                "centre {} updated; its devices take it at their next sync{zone_note}",
                center_text(&center)
            ));
            Ok(())
        }
        Command::Center(CenterCommand::List) => {
            for c in office.centers().await? {
                say(&format!(
                    "{}\t{}\t{}\t{}\t{} min\t{}",
                    c.code,
                    c.kind.as_str(),
                    c.time_zone,
                    c.currency.code(),
                    c.waiting_target_min,
                    c.name
                ));
            }
            Ok(())
        }
        Command::Catalogue(CatalogueCommand::Import {
            file,
            format,
            language,
            currency,
            processing_days,
            companion,
            dry_run,
            json: as_json,
        }) => {
            let syntax = match format.as_deref().map(str::to_ascii_lowercase).as_deref() {
                None => guichet_cpsv::Syntax::from_name(&file.to_string_lossy()),
                Some("turtle" | "ttl") => Some(guichet_cpsv::Syntax::Turtle),
                Some("jsonld" | "json-ld") => Some(guichet_cpsv::Syntax::JsonLd),
                Some(other) => {
                    return Err(Error::Invalid(format!(
                        "'{other}' is not a catalogue format: use turtle or jsonld"
                    )));
                }
            };
            let bytes = read_bounded(&file, MAX_CATALOGUE_FILE, "split the catalogue")?;
            let companion = match companion {
                None => guichet_cpsv::Companion::default(),
                Some(path) => {
                    let bytes = read_bounded(&path, MAX_CATALOGUE_FILE, "split the catalogue")?;
                    serde_json::from_slice(&bytes).map_err(|e| {
                        Error::Invalid(format!(
                            "{} is not a companion file: {e}; nothing was published",
                            path.display()
                        ))
                    })?
                }
            };
            let options = guichet_cpsv::Options {
                version: 1,
                language,
                currency,
                processing_days,
                companion,
            };
            let imported = guichet_cpsv::import(&bytes, syntax, &options).map_err(|e| {
                Error::Invalid(format!(
                    "{} is not imported: {e}; nothing was published",
                    file.display()
                ))
            })?;
            let published = if dry_run {
                None
            } else {
                Some(
                    office
                        .publish_if_changed(imported.catalogue.clone())
                        .await?,
                )
            };
            if as_json {
                let (version, new) = match published {
                    Some(Published::New(v)) => (Some(v), true),
                    Some(Published::Unchanged(v)) => (Some(v), false),
                    None => (None, false),
                };
                return json(&serde_json::json!({
                    "report": imported.report,
                    "version": version,
                    "published": new,
                }));
            }
            say(&import_text(&file, &imported, published));
            Ok(())
        }
        Command::Catalogue(CatalogueCommand::Export {
            format,
            output,
            base,
            area,
        }) => {
            let Some(catalogue) = office.latest_catalogue().await? else {
                return Err(Error::Invalid(
                    "no catalogue is published yet: publish or import one first".into(),
                ));
            };
            let bytes = match format.to_ascii_lowercase().as_str() {
                "cpsv-ap" | "cpsv" | "turtle" => {
                    let options = guichet_cpsv::ExportOptions {
                        base: &base,
                        area: area.as_deref(),
                    };
                    let bytes = guichet_cpsv::export(&catalogue, &options)
                        .map_err(|e| Error::Invalid(e.to_string()))?;
                    if area.is_none() {
                        note(
                            "CPSV-AP requires the area each competent authority serves: give it \
                             with --area IRI (for example \
                             http://publications.europa.eu/resource/authority/country/GRC); \
                             this export leaves it out",
                        );
                    }
                    bytes
                }
                "json" => serde_json::to_vec_pretty(&catalogue)?,
                other => {
                    return Err(Error::Invalid(format!(
                        "'{other}' is not an export format: use cpsv-ap or json"
                    )));
                }
            };
            match output {
                Some(path) => {
                    if !replaceable(&path, &bytes) {
                        return Err(Error::Invalid(format!(
                            "{} is a file of another kind, which the export would replace: give \
                             the name of a new file, or of an earlier export to replace; nothing \
                             was written",
                            path.display()
                        )));
                    }
                    std::fs::write(&path, &bytes).map_err(|e| {
                        Error::Invalid(format!("cannot write {}: {e}", path.display()))
                    })?;
                    say(&format!(
                        "catalogue version {} written to {} ({} services)",
                        catalogue.version,
                        path.display(),
                        catalogue.services.len()
                    ));
                }
                None => {
                    use std::io::Write as _;
                    std::io::stdout()
                        .write_all(&bytes)
                        .map_err(|e| Error::Invalid(format!("cannot write the export: {e}")))?;
                }
            }
            Ok(())
        }
        Command::Catalogue(CatalogueCommand::Publish { file }) => {
            let bytes = read_bounded(&file, MAX_CATALOGUE_FILE, "split the catalogue")?;
            let catalogue: Catalogue = serde_json::from_slice(&bytes).map_err(|e| {
                Error::Invalid(format!("{} is not a catalogue: {e}", file.display()))
            })?;
            let version = office.publish_catalogue(&catalogue).await?;
            say(&format!(
                "catalogue version {version} published ({} services)",
                catalogue.services.len()
            ));
            Ok(())
        }
        Command::EnrollCode {
            center,
            valid_hours,
        } => {
            let code = office
                .issue_enrolment_code(&center, code_validity(valid_hours)?)
                .await?;
            say(&code.code);
            Ok(())
        }
        Command::Devices(DevicesCommand::List { center, json: true }) => {
            json(&office.fleet(center.as_deref()).await?)
        }
        Command::Devices(DevicesCommand::List {
            center,
            json: false,
        }) => {
            say(&fleet_table(
                &office.fleet(center.as_deref()).await?,
                chrono::Utc::now(),
            ));
            Ok(())
        }
        Command::Devices(DevicesCommand::Revoke { device, wipe }) => {
            let device = office.revoke_device(&device, wipe).await?;
            if device.wiped_at.is_some() {
                say(&format!(
                    "device {} is revoked; it erased its data",
                    device.code
                ));
            } else if device.wipe_pending() {
                say(&format!(
                    "device {} revoked: at its next contact it delivers what waits on it, then \
                     erases its data",
                    device.code
                ));
            } else {
                say(&format!("device {} revoked", device.code));
            }
            Ok(())
        }
        Command::Agency(AgencyCommand::List { agency, json: true }) => {
            json(&office.agency_requests(&agency).await?)
        }
        Command::Agency(AgencyCommand::List {
            agency,
            json: false,
        }) => {
            let requests = office.agency_requests(&agency).await?;
            if requests.is_empty() {
                say(&format!("no request waits for agency {agency}"));
            } else {
                say(&agency_table(&requests));
            }
            Ok(())
        }
        Command::Agency(AgencyCommand::Token { agency, valid_days }) => {
            if !(1..=MAX_AGENCY_CREDENTIAL_DAYS).contains(&valid_days) {
                return Err(Error::Invalid(format!(
                    "--valid-days must be 1 to {MAX_AGENCY_CREDENTIAL_DAYS}; nothing was issued"
                )));
            }
            let issued = office
                .issue_agency_token(&agency, chrono::Duration::days(valid_days))
                .await?;
            say(&issued.token);
            let _ = writeln!(
                std::io::stderr(),
                "credential {} for agency {} expires at {} (shown once: keep it now)",
                issued.credential.id,
                issued.credential.agency,
                issued.credential.expires_at.as_deref().unwrap_or("never")
            );
            Ok(())
        }
        Command::Agency(AgencyCommand::Credentials { agency, json: true }) => {
            json(&office.agency_credentials(agency.as_deref()).await?)
        }
        Command::Agency(AgencyCommand::Credentials {
            agency,
            json: false,
        }) => {
            let credentials = office.agency_credentials(agency.as_deref()).await?;
            say(&credential_table(&credentials, chrono::Utc::now()));
            Ok(())
        }
        Command::Agency(AgencyCommand::Revoke { id }) => {
            let credential = office.revoke_agency_credential(&id).await?;
            say(&format!(
                "credential {} of agency {} is revoked",
                credential.id, credential.agency
            ));
            Ok(())
        }
        Command::Agency(AgencyCommand::Take(step)) => decide(&office, "take", step).await,
        Command::Agency(AgencyCommand::Return(step)) => decide(&office, "return", step).await,
        Command::Agency(AgencyCommand::Ready(step)) => decide(&office, "ready", step).await,
        Command::Agency(AgencyCommand::Reject(step)) => decide(&office, "reject", step).await,
        Command::Clerk(command) => clerk(&office, command).await,
        Command::Release(command) => release(&office, command).await,
    }
}

async fn release(office: &BackOffice, command: ReleaseCommand) -> Result<()> {
    match command {
        ReleaseCommand::Key { file } => {
            let advice = "give the KEY.pub file that `tauri signer generate` wrote";
            let bytes = read_bounded(&file, MAX_KEY_FILE_BYTES as u64, advice)?;
            let text = String::from_utf8(bytes).map_err(|_| {
                Error::Invalid(format!("{} is not a text file: {advice}", file.display()))
            })?;
            let (key, replaced) = office.set_release_key(&text).await?;
            say(&match replaced.filter(|old| old.id() != key.id()) {
                Some(old) => format!(
                    "release key {} set in place of {}: releases are published from now on only \
                     signed with its private half",
                    key.id(),
                    old.id()
                ),
                None => format!(
                    "release key {} set: releases are published only signed with its private half",
                    key.id()
                ),
            });
        }
        ReleaseCommand::Publish {
            file,
            version,
            signature,
            centres,
            notes,
        } => {
            let package = read_bounded(
                &file,
                MAX_PACKAGE_BYTES as u64,
                "is it the app's .deb? nothing was published",
            )?;
            let advice = "give the .sig file that `tauri signer sign` wrote beside the package";
            let signature_text =
                String::from_utf8(read_bounded(&signature, MAX_KEY_FILE_BYTES as u64, advice)?)
                    .map_err(|_| {
                        Error::Invalid(format!(
                            "{} is not a .sig file: {advice}",
                            signature.display()
                        ))
                    })?;
            let release = office
                .publish_release(NewRelease {
                    version,
                    file_name: file
                        .file_name()
                        .map(|name| name.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    package,
                    signature: signature_text,
                    centres,
                    notes,
                })
                .await?;
            say(&format!(
                "release {} published ({}, {}, sha256 {}) for {}",
                release.version,
                release.file_name,
                size_text(release.size),
                &release.sha256[..12],
                centres_text(release.centres.as_deref())
            ));
        }
        ReleaseCommand::List { json: true } => json(&office.releases().await?)?,
        ReleaseCommand::List { json: false } => {
            let releases = office.releases().await?;
            if releases.is_empty() {
                say(
                    "no release is published yet: publish one with guichet-backoffice release \
                     publish FILE --version VERSION --signature FILE.sig",
                );
            } else {
                say(&release_table(&releases));
            }
        }
    }
    Ok(())
}

/// The centres a release is offered to, as an operator reads them.
/// "ATH-01 (Athens Central, stationary, Europe/Athens, EUR, waiting target 15 min)"
fn center_text(center: &crate::model::Center) -> String {
    format!(
        "{} ({}, {}, {}, {}, waiting target {} min)",
        center.code,
        center.name,
        center.kind.as_str(),
        center.time_zone,
        center.currency.code(),
        center.waiting_target_min
    )
}

fn centres_text(centres: Option<&[String]>) -> String {
    centres.map_or_else(|| "every centre".to_owned(), |codes| codes.join(", "))
}

/// A size in bytes as an operator reads it: "812 B", "3.1 KiB", "12.4 MiB".
fn size_text(bytes: u64) -> String {
    const KIB: u64 = 1024;
    match bytes {
        b if b < KIB => format!("{b} B"),
        b if b < KIB * KIB => format!("{:.1} KiB", b as f64 / KIB as f64),
        b if b % (KIB * KIB) == 0 => format!("{} MiB", b / (KIB * KIB)),
        b => format!("{:.1} MiB", b as f64 / (KIB * KIB) as f64),
    }
}

/// Releases, one line each, newest first.
fn release_table(releases: &[Release]) -> String {
    let header = ["VERSION", "FILE", "SIZE", "SHA256", "CENTRES", "PUBLISHED"];
    let rows: Vec<[String; 6]> = releases
        .iter()
        .map(|r| {
            [
                r.version.clone(),
                r.file_name.clone(),
                size_text(r.size),
                r.sha256.chars().take(12).collect(),
                r.centres
                    .as_ref()
                    .map_or_else(|| "all".to_owned(), |codes| codes.join(",")),
                r.published_at.clone(),
            ]
        })
        .collect();
    let mut out = aligned(header, &rows);
    out.push(format!(
        "{} {}",
        rows.len(),
        guichet_domain::text::english_plural(rows.len() as u64, "release", "releases")
    ));
    out.join("\n")
}

async fn clerk(office: &BackOffice, command: ClerkCommand) -> Result<()> {
    match command {
        ClerkCommand::Add {
            username,
            name,
            role,
            centres,
            password_stdin: _,
        } => {
            let role = Role::parse(&role)?;
            let password = read_password(&username)?;
            let clerk = office
                .add_clerk(&NewClerk {
                    username,
                    display_name: name,
                    role,
                    centers: centres,
                    password,
                })
                .await?;
            say(&format!(
                "{} {} ({}) added for {}",
                clerk.role,
                clerk.username,
                clerk.display_name,
                clerk.centers.join(", ")
            ));
        }
        ClerkCommand::List { centre, json: true } => {
            json(&office.clerks(centre.as_deref()).await?)?
        }
        ClerkCommand::List {
            centre,
            json: false,
        } => {
            let clerks = office.clerks(centre.as_deref()).await?;
            if clerks.is_empty() {
                say(&match centre {
                    Some(code) => format!("no account logs in at centre {code}"),
                    None => "no account yet: add the first administrator with \
                             guichet-backoffice clerk add USERNAME --name \"FULL NAME\" \
                             --role administrator --centre CODE --password-stdin"
                        .to_owned(),
                });
            } else {
                say(&clerk_table(&clerks));
            }
        }
        ClerkCommand::Disable { username } => {
            let clerk = office.disable_clerk(&username).await?;
            say(&format!("{} is disabled", clerk.username));
        }
        ClerkCommand::Enable { username } => {
            let clerk = office.enable_clerk(&username).await?;
            say(&format!("{} is active again", clerk.username));
        }
        ClerkCommand::ResetPassword {
            username,
            password_stdin: _,
        } => {
            let password = read_password(&username)?;
            let clerk = office.reset_clerk_password(&username, &password).await?;
            say(&format!("{} has a new password", clerk.username));
        }
        ClerkCommand::Role { username, role } => {
            let clerk = office
                .change_clerk_role(&username, Role::parse(&role)?)
                .await?;
            say(&format!("{} is now {}", clerk.username, a_role(clerk.role)));
        }
    }
    Ok(())
}

/// `username`'s new password: one line on standard input, without its line ending; at a
/// terminal, asked twice without showing it (typed in the open it would stay on the screen and
/// in its scrollback).
fn read_password(username: &str) -> Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("New password for {username}: "))?;
        let again = rpassword::prompt_password("The same password again: ")?;
        if first != again {
            return Err(Error::Invalid(
                "the two passwords typed differ: nothing was changed; run the command again".into(),
            ));
        }
        if first.is_empty() {
            return Err(Error::NoPassword);
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let password = line
        .strip_suffix('\n')
        .map_or(line.as_str(), |l| l.strip_suffix('\r').unwrap_or(l));
    if password.is_empty() {
        return Err(Error::NoPassword);
    }
    Ok(password.to_owned())
}

async fn decide(office: &BackOffice, name: &str, step: Step) -> Result<()> {
    let action =
        agency_action(name).ok_or_else(|| Error::Invalid(format!("unknown agency step {name}")))?;
    let request: ServerRequest = office
        .agency_decide(&step.receipt, action, step.reason.as_deref(), &step.actor)
        .await?;
    say(&format!(
        "request {} is now {}",
        display_receipt(&request.receipt),
        request.status
    ));
    Ok(())
}

/// A receipt as printed on the citizen's slip (`K7XA-0000-042E`).
fn display_receipt(receipt: &str) -> String {
    ReceiptNumber::parse(receipt).map_or_else(|_| receipt.to_owned(), |r| r.to_string())
}

/// An agency's open requests, one line each, columns aligned.
fn agency_table(requests: &[ServerRequest]) -> String {
    let header = ["RECEIPT", "STATUS", "SERVICE", "CENTRE", "FEE"];
    let rows: Vec<[String; 5]> = requests
        .iter()
        .map(|r| {
            [
                display_receipt(&r.receipt),
                r.status.to_string(),
                r.service.clone(),
                r.center.clone(),
                match &r.fee {
                    None => "free".to_owned(),
                    Some(_) if r.fee_settled() => "settled".to_owned(),
                    Some(fee) => format!(
                        "{} {} due",
                        Money::new(fee.minor - r.paid_minor, fee.currency.clone()).decimal(),
                        fee.currency
                    ),
                },
            ]
        })
        .collect();
    let mut out = aligned(header, &rows);
    out.push(format!("{} requests", rows.len()));
    out.join("\n")
}

/// Accounts, one line each, columns aligned; never their verifiers.
fn clerk_table(clerks: &[Clerk]) -> String {
    let header = ["USERNAME", "ROLE", "STATUS", "CENTRES", "NAME"];
    let rows: Vec<[String; 5]> = clerks
        .iter()
        .map(|c| {
            [
                c.username.clone(),
                c.role.to_string(),
                if c.active { "active" } else { "disabled" }.to_owned(),
                c.centers.join(","),
                c.display_name.clone(),
            ]
        })
        .collect();
    let mut out = aligned(header, &rows);
    out.push(match rows.len() {
        1 => "1 account".to_owned(),
        n => format!("{n} accounts"),
    });
    out.join("\n")
}

/// Agency credentials, one line each, with their state at `now`.
fn credential_table(
    credentials: &[AgencyCredential],
    now: chrono::DateTime<chrono::Utc>,
) -> String {
    let header = ["ID", "AGENCY", "STATE", "ISSUED", "EXPIRES"];
    let rows: Vec<[String; 5]> = credentials
        .iter()
        .map(|c| {
            [
                c.id.clone(),
                c.agency.clone(),
                match c.refusal(now) {
                    None => "valid",
                    Some(Refusal::AgencyCredentialRevoked) => "revoked",
                    Some(_) => "expired",
                }
                .to_owned(),
                c.issued_at.clone(),
                c.expires_at.clone().unwrap_or_else(|| "never".into()),
            ]
        })
        .collect();
    let mut out = aligned(header, &rows);
    out.push(format!("{} credentials", rows.len()));
    out.join("\n")
}

/// The fleet's health as tables: devices with their audit standing, then the counters.
fn health_text(health: &FleetHealth) -> String {
    let header = ["DEVICE", "CENTRE", "STATUS", "AUDIT HEAD", "AUDIT"];
    let rows: Vec<[String; 5]> = health
        .devices
        .iter()
        .map(|d| {
            [
                d.device.clone(),
                d.center.clone(),
                if d.revoked { "revoked" } else { "active" }.to_owned(),
                d.audit_seq
                    .map_or_else(|| "-".into(), |seq| seq.to_string()),
                match (&d.flag, &d.flagged_at) {
                    (Some(flag), Some(at)) => format!("FLAGGED at {at}: {flag}"),
                    (Some(flag), None) => format!("FLAGGED: {flag}"),
                    _ => "ok".to_owned(),
                },
            ]
        })
        .collect();
    let mut out = aligned(header, &rows);
    let flagged = health.devices.iter().filter(|d| d.flag.is_some()).count();
    out.push(format!(
        "{} devices, {flagged} flagged",
        health.devices.len()
    ));
    out.push(String::new());
    out.push(format!(
        "failed logins reported by the devices: {}",
        health.failed_logins
    ));
    for refusal in Refusal::ALL {
        let counted = health.refusals.iter().find(|r| r.kind == refusal.as_str());
        out.push(match counted {
            Some(r) => format!("{}: {} (last at {})", r.kind, r.count, r.last_at),
            None => format!("{}: 0", refusal.as_str()),
        });
    }
    out.join("\n")
}

/// A header and rows as lines whose columns line up.
fn aligned<const N: usize>(header: [&str; N], rows: &[[String; N]]) -> Vec<String> {
    let mut widths = header.map(|h| h.chars().count());
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        cells
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    let mut out = vec![line(header.to_vec())];
    for row in rows {
        out.push(line(row.iter().map(String::as_str).collect()));
    }
    out
}

/// How often the TLS files are checked for a renewal.
const TLS_WATCH_INTERVAL: std::time::Duration = std::time::Duration::from_secs(30);

/// Reloads the TLS files on each SIGHUP, until the returned task is aborted. The signal is
/// taken over before this returns: a SIGHUP that comes once the server says it listens
/// reloads, and never ends the process as SIGHUP's default would.
fn reload_on_hangup(tls: Tls) -> tokio::task::JoinHandle<()> {
    #[cfg(unix)]
    {
        let hangups = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup());
        tokio::spawn(async move {
            let Ok(mut hangups) = hangups else {
                tracing::warn!("SIGHUP cannot be watched: the TLS files reload when they change");
                return;
            };
            while hangups.recv().await.is_some() {
                if let Err(error) = tls.reload() {
                    tracing::error!(%error, "TLS reload refused: the previous certificate stays");
                }
            }
        })
    }
    #[cfg(not(unix))]
    {
        drop(tls);
        tokio::spawn(async {})
    }
}

/// Completes on Ctrl-C or SIGTERM, whichever comes first.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// The fewest characters an admin token may have: it opens every centre's accounts and
/// enrolments to whoever guesses it.
const MIN_ADMIN_TOKEN_CHARS: usize = 24;

/// Refuses an admin token short enough to guess, saying how to make one.
fn check_admin_token(token: &str) -> Result<()> {
    let chars = token.trim().chars().count();
    if chars < MIN_ADMIN_TOKEN_CHARS {
        return Err(Error::Invalid(format!(
            "the admin token has {chars} characters: it opens every centre's accounts to whoever \
             guesses it, so use at least {MIN_ADMIN_TOKEN_CHARS} random ones (`openssl rand -hex \
             16` makes one)"
        )));
    }
    Ok(())
}

/// The admin token from the first line of `path`, a file that must be readable by its user
/// alone (as an SSH key must).
fn read_admin_token(path: &std::path::Path) -> Result<String> {
    let unreadable = |e: std::io::Error| {
        Error::Invalid(format!(
            "cannot read the admin token file {}: {e}",
            path.display()
        ))
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .map_err(unreadable)?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(Error::Invalid(format!(
                "the admin token file {} can be read by other users (mode {:o}): run `chmod 600 {}` first",
                path.display(),
                mode & 0o777,
                path.display()
            )));
        }
    }
    let text = std::fs::read_to_string(path).map_err(unreadable)?;
    let token = text.lines().next().unwrap_or_default().trim().to_owned();
    if token.is_empty() {
        return Err(Error::Invalid(format!(
            "the admin token file {} is empty: write the token on its first line",
            path.display()
        )));
    }
    Ok(token)
}

/// The log's filter: `RUST_LOG`'s directives (`info` when unset or unreadable), with the
/// PostgreSQL driver held at `info` whatever they say. At `debug` it writes every statement's
/// parameters (national ids, names, token hashes), and the log never carries personal data or
/// secrets, at any level.
fn log_filter(directives: Option<&str>) -> tracing_subscriber::EnvFilter {
    let filter = directives
        .and_then(|d| tracing_subscriber::EnvFilter::try_new(d).ok())
        .unwrap_or_else(|| tracing_subscriber::EnvFilter::new("info"));
    filter.add_directive(
        "tokio_postgres=info"
            .parse()
            .expect("a constant directive that parses"),
    )
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use guichet_domain::money::{Currency, Money};
    use guichet_domain::request::RequestStatus;

    use super::*;
    use crate::captured_log::Captured;

    fn request(receipt: &str, fee: Option<i64>, paid: i64) -> ServerRequest {
        ServerRequest {
            id: "r1".into(),
            receipt: receipt.into(),
            center: "ATH-01".into(),
            device: "ATH-01-0000".into(),
            service: "id-card".into(),
            agency: "civil-registry".into(),
            catalogue_version: 1,
            citizen: "c1".into(),
            status: RequestStatus::Dispatched,
            fee: fee.map(|minor| Money::new(minor, Currency::parse("EUR").unwrap())),
            paid_minor: paid,
            waiver: None,
            exemptions: Vec::new(),
            form: BTreeMap::new(),
            documents: BTreeMap::new(),
            reason: None,
            updated_hlc: String::new(),
        }
    }

    #[test]
    fn the_agency_table_shows_receipts_as_printed_and_what_is_due() {
        let receipt = ReceiptNumber::issue(&"K7XA".parse().unwrap(), 42).unwrap();
        let table = agency_table(&[
            request(receipt.as_str(), Some(2500), 1000),
            request(receipt.as_str(), None, 0),
        ]);
        let lines: Vec<&str> = table.lines().collect();
        assert!(lines[0].starts_with("RECEIPT"), "{table}");
        assert!(lines[1].starts_with(&receipt.to_string()), "{table}");
        assert!(receipt.to_string().contains('-'));
        assert!(lines[1].ends_with("15.00 EUR due"), "{table}");
        assert!(lines[2].ends_with("free"), "{table}");
        assert_eq!(lines[3], "2 requests");
        assert_eq!(display_receipt("not a receipt"), "not a receipt");
    }

    /// With `RUST_LOG` asking for everything, a real statement's parameter (a national id)
    /// still never reaches the log, while the back office's own debug lines do.
    #[tokio::test]
    async fn the_log_never_holds_a_statements_parameters_even_at_debug() {
        let _ = tracing_log::LogTracer::init();
        let captured = Captured::default();
        let _default = tracing::subscriber::set_default(
            captured.subscriber(log_filter(Some("trace,tokio_postgres=trace"))),
        );
        let url = std::env::var("GUICHET_TEST_PG_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {url}: {e} (this test never skips)"));
        tokio::spawn(connection);
        let row = client
            .query_one("SELECT $1::text", &[&"38001085718"])
            .await
            .unwrap();
        assert_eq!(row.get::<_, String>(0), "38001085718");
        tracing::debug!("the back office's own debug line");
        let log = captured.text();
        assert!(log.contains("the back office's own debug line"), "{log}");
        assert!(!log.contains("38001085718"), "{log}");
    }

    #[test]
    fn the_fleet_table_shows_who_has_not_synced_and_whose_clock_is_off() {
        let now: chrono::DateTime<chrono::Utc> = "2026-12-05T12:00:00Z".parse().unwrap();
        let device = |code: &str| crate::model::Device {
            code: code.into(),
            center: "BUS-01".into(),
            receipt_prefix: "K7XA".parse().unwrap(),
            label: Some("Bus 1, laptop".into()),
            revoked: false,
            enrolled_at: "2026-11-01T08:00:00Z".into(),
            wipe_requested_at: None,
            wiped_at: None,
        };
        let lines = [
            FleetLine {
                device: device("BUS-01-D1"),
                standing: "active".into(),
                last_contact: Some(crate::model::Contact {
                    device: "BUS-01-D1".into(),
                    app_version: "0.1.0".into(),
                    at: "2026-12-01T09:00:00Z".into(),
                    waiting: 412,
                    refused: 2,
                    clock_offset_ms: -7_500_000,
                }),
            },
            FleetLine {
                device: device("BUS-01-D2"),
                standing: "active".into(),
                last_contact: None,
            },
        ];
        let table = fleet_table(&lines, now);
        let rows: Vec<&str> = table.lines().collect();
        assert!(
            rows[0].starts_with("DEVICE     CENTRE  STANDING  VERSION"),
            "{table}"
        );
        assert!(rows[1].contains("4 days ago"), "{table}");
        assert!(rows[1].contains("412"), "{table}");
        assert!(rows[1].contains("-2 h 5 min"), "{table}");
        assert!(rows[2].contains("never"), "{table}");
        assert_eq!(rows[3], "2 devices");
        assert_eq!(ago(chrono::Duration::seconds(30)), "just now");
        assert_eq!(ago(chrono::Duration::minutes(7)), "7 min ago");
        assert_eq!(ago(chrono::Duration::hours(30)), "30 h ago");
        assert_eq!(offset(1_500), "+1 s");
        assert_eq!(offset(-600_000), "-10 min");
    }
}
