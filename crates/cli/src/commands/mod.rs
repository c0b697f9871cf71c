//! Running a parsed command: open the workstation, call the core, show the result or the error.
//!
//! Each command makes at most one writing call into the core, which is one transaction: when
//! it fails, nothing was written (`setup --demo` is the exception; see `setup.rs`). Only `setup` creates a database; every other command on a data
//! directory without a set-up workstation says so, and leaves the disk untouched.

mod catalogue;
mod citizen;
mod clerk;
mod queue;
mod records;
mod report;
mod request;
mod session;
mod setup;
mod sync;

use std::path::Path;
use std::process::ExitCode;

use guichet_domain::account::Act;
use guichet_workstation::error::Access;
use guichet_workstation::store::{DATABASE_FILE, default_data_dir};
use guichet_workstation::{Error as CoreError, Workstation};

use self::session::Secrets;

use crate::cli::{Cli, Command};
use crate::error::{CliError, Result};
use crate::output::{Report, to_stderr, to_stdout};

/// How names are shown, for every command.
#[derive(Debug)]
pub struct Context {
    pub lang: &'static str,
}

pub fn run(cli: Cli) -> ExitCode {
    let data_dir = cli.data_dir.clone().or_else(default_data_dir);
    let result = match &data_dir {
        Some(dir) => execute(&cli, dir),
        None => Err(CliError::NoDataDir),
    };
    match result {
        Ok(report) => {
            let shown = if cli.json {
                format!("{}\n", pretty(&report.json))
            } else {
                report.human
            };
            match to_stdout(&shown) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    output_lost(&e, true);
                    ExitCode::FAILURE
                }
            }
        }
        Err(error) => {
            to_stderr(&format!("error: {error}\n"));
            if let Some(hint) = error.hint(data_dir.as_deref()) {
                to_stderr(&format!("hint: {hint}\n"));
            }
            if cli.json {
                let mut body = serde_json::json!({
                    "kind": error.kind(),
                    "message": error.to_string(),
                });
                if let (Some(details), Some(map)) = (error.details(), body.as_object_mut()) {
                    map.insert("details".to_owned(), details);
                }
                let shown = format!("{}\n", pretty(&serde_json::json!({ "error": body })));
                if let Err(e) = to_stdout(&shown) {
                    output_lost(&e, false);
                }
            }
            ExitCode::from(error.exit_code())
        }
    }
}

/// A command line clap could not take, or a request for help: clap's own output as it is (an
/// error already starts with `error:` and shows the usage), clap's exit code (2 for usage
/// errors), and the JSON error on stdout when `--json` was typed.
pub fn usage_error(error: &clap::Error) -> ExitCode {
    // Printing can only fail on a closed stream, where there is nobody left to tell.
    let _ignored = error.print();
    let code = error.exit_code();
    if error.use_stderr() && std::env::args_os().any(|a| a == "--json") {
        // The message is the text before clap's usage block, on one line.
        let rendered = error.render().to_string();
        let message = rendered
            .split("\n\n")
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let message = message.strip_prefix("error: ").unwrap_or(&message);
        let shown = format!(
            "{}\n",
            pretty(&serde_json::json!({ "error": { "kind": "usage", "message": message } }))
        );
        if let Err(e) = to_stdout(&shown) {
            output_lost(&e, false);
        }
    }
    ExitCode::from(u8::try_from(code).unwrap_or(2))
}

/// Says on stderr that standard output failed (a full disk, a device error): what a script
/// reads there is cut short. `done` says whether the command itself was carried out, so that
/// one that changed data is not repeated for its output.
fn output_lost(error: &std::io::Error, done: bool) {
    to_stderr(&format!(
        "error: the output could not be written to standard output ({error}): what was written \
         there is cut short\n"
    ));
    if done {
        to_stderr(
            "hint: the command itself was carried out, so do not repeat one that changes data; \
             make room or send the output elsewhere, and see the result with a command that only \
             shows, such as `guichet request list` or `guichet outbox`\n",
        );
    }
}

fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

fn execute(cli: &Cli, dir: &Path) -> Result<Report> {
    // A damaged database may not even open: it is kept aside without opening it, once it is
    // known not to be sound.
    if let Command::KeepAside = cli.command {
        refuse_if_sound(cli, dir)?;
        return setup::keep_aside(dir);
    }
    let mut ws = open(
        dir,
        matches!(cli.command, Command::Setup(_) | Command::Enroll(_)),
    )?;
    let ctx = Context {
        lang: cli.lang.code(),
    };
    let mut secrets = Secrets::passwords(cli.password_stdin);
    if cli.command.needs_clerk() {
        session::sign_in(&mut ws, dir, cli, &mut secrets)?;
    }
    match &cli.command {
        Command::Setup(args) => {
            let password = secrets.next(&format!("the password of {}", args.admin))?;
            let report = setup::setup(&mut ws, args, password)?;
            // The workstation is set up: its recovery key, in the report, is shown whatever
            // becomes of the session.
            if let Err(e) = session::open(&mut ws, dir) {
                to_stderr(&format!(
                    "warning: the workstation is set up, but its administrator stays logged out \
                     ({e}): log in with `guichet login`\n"
                ));
            }
            Ok(report)
        }
        Command::Login(args) => session::login(&mut ws, dir, cli, args, &mut secrets),
        Command::Logout => session::logout(&mut ws, dir),
        Command::Recover(args) => session::recover(&mut ws, dir, args, &mut secrets),
        Command::Status => setup::status(&ws, dir),
        Command::KeepAside => setup::keep_aside(dir),
        Command::Settings(args) => setup::settings(&mut ws, args),
        Command::Enroll(args) => {
            sync::enroll(&mut ws, args, &mut Secrets::enrolment_code(args.code_stdin))
        }
        Command::Sync(args) => sync::sync(&mut ws, dir, args, cli.json),
        Command::Clerk(cmd) => clerk::run(&mut ws, cmd, &mut secrets),
        Command::Catalogue(cmd) => catalogue::run(&mut ws, &ctx, cmd),
        Command::Citizen(cmd) => citizen::run(&mut ws, cmd),
        Command::Request(cmd) => request::run(&mut ws, &ctx, cmd, &mut secrets),
        Command::Counter(cmd) => queue::counter(&mut ws, cmd),
        Command::Queue(cmd) => queue::queue(&mut ws, &ctx, cmd, &mut secrets),
        Command::Feedback(args) => queue::feedback(&mut ws, args),
        Command::Holiday(cmd) => records::holiday(&mut ws, cmd),
        Command::Audit(cmd) => {
            ws.require(Act::Supervise)?;
            records::audit(&ws, cmd)
        }
        Command::Outbox(args) => records::outbox(&ws, args),
        Command::Report(cmd) => {
            ws.require(Act::Supervise)?;
            report::run(&ws, &ctx, cmd)
        }
    }
}

/// Refuses to keep aside a database that is sound: one that opens, lets a clerk in (the session
/// of `guichet login`, or --user) and reads whole is not damaged, and keeping it aside would
/// take a working workstation out of service. One that fails on the way is damaged.
fn refuse_if_sound(cli: &Cli, dir: &Path) -> Result<()> {
    let mut ws = match open(dir, false) {
        Ok(ws) => ws,
        Err(CliError::Core(
            CoreError::Damaged { .. } | CoreError::Invalid(_) | CoreError::NotSetUp,
        )) => return Ok(()),
        Err(other) => return Err(other),
    };
    let read = session::sign_in(
        &mut ws,
        dir,
        cli,
        &mut Secrets::passwords(cli.password_stdin),
    )
    .and_then(|()| Ok(ws.check_readable()?));
    match read {
        Err(CliError::Core(CoreError::Damaged { .. })) => Ok(()),
        Err(CliError::Core(CoreError::Access(Access::NoSession | Access::SessionExpired))) => {
            Err(CliError::Usage(
                "the database opens: whether it can be read is known once a clerk logs in, so \
                 run keep-aside with --user NAME; it is kept aside only if it cannot be read. \
                 Nothing was changed"
                    .into(),
            ))
        }
        Err(other) => Err(other),
        Ok(()) => Err(CliError::Usage(
            "the database of this workstation opens and reads: it is not damaged, and keeping \
             it aside would take the workstation out of service. Nothing was changed"
                .into(),
        )),
    }
}

/// Opens the workstation. Only `setup` may create its database; every other command needs a
/// workstation already set up, so that none of them shows an empty centre as if it were one.
fn open(dir: &Path, for_setup: bool) -> Result<Workstation> {
    if for_setup {
        return Ok(Workstation::open_dir(dir)?);
    }
    if !dir.join(DATABASE_FILE).is_file() {
        return Err(guichet_workstation::Error::NotSetUp.into());
    }
    let ws = Workstation::open_dir(dir)?;
    if !ws.is_set_up()? {
        return Err(guichet_workstation::Error::NotSetUp.into());
    }
    Ok(ws)
}
