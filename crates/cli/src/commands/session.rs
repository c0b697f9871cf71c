//! Who acts: `guichet login` and `logout`, the session they keep between commands, and the
//! passwords read from standard input or asked on the terminal.
//!
//! A session is a random token in the file `session` of the data directory (0600); the
//! workstation keeps only its digest, with its clerk and when it expires. `--user NAME`
//! logs in for one command instead, which scripts use with `--password-stdin`.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use guichet_domain::keyslot::RecoveryKey;
use guichet_workstation::error::Access;
use guichet_workstation::files::write_private;
use guichet_workstation::store::{Approval, CLI_SESSION_HOURS, Session};
use guichet_workstation::{Workstation, sync};

use crate::cli::{Cli, LoginArgs, RecoverArgs};
use crate::error::{CliError, Result};
use crate::input::{Bounded, read_bounded, size};
use crate::output::{Report, fields};

/// The file that holds the command line session's token.
pub const SESSION_FILE: &str = "session";

/// The most standard input may hold for secrets: a few lines.
const MAX_STDIN_BYTES: u64 = 4096;

/// The secrets of one command (passwords, an enrolment code): from standard input, one per
/// line, or asked on the terminal without showing what is typed.
#[derive(Debug)]
pub struct Secrets {
    from_stdin: bool,
    /// The flag that reads them from standard input, and how, for the errors.
    flag: &'static str,
    reads: &'static str,
    lines: Option<VecDeque<String>>,
}

impl Secrets {
    /// Passwords, from standard input with --password-stdin.
    pub fn passwords(from_stdin: bool) -> Self {
        Secrets {
            from_stdin,
            flag: "--password-stdin",
            reads: "each password as one line",
            lines: None,
        }
    }

    /// The enrolment code, from standard input with --code-stdin.
    pub fn enrolment_code(from_stdin: bool) -> Self {
        Secrets {
            from_stdin,
            flag: "--code-stdin",
            reads: "the code as one line",
            lines: None,
        }
    }

    /// The next secret; `what` says which, for the prompt and the errors.
    pub fn next(&mut self, what: &str) -> Result<String> {
        let (flag, reads) = (self.flag, self.reads);
        if !self.from_stdin {
            if !std::io::stdin().is_terminal() {
                return Err(CliError::Usage(format!(
                    "no terminal to ask {what} on: pass {flag} and send it on standard input, one line"
                )));
            }
            return rpassword::prompt_password(format!("{what}: ")).map_err(|source| {
                CliError::ReadFile {
                    path: PathBuf::from("the terminal"),
                    source,
                }
            });
        }
        let lines = match &mut self.lines {
            Some(lines) => lines,
            None => {
                let read =
                    read_bounded(std::io::stdin().lock(), MAX_STDIN_BYTES).map_err(|source| {
                        CliError::ReadFile {
                            path: PathBuf::from("standard input"),
                            source,
                        }
                    })?;
                let text = match read {
                    Bounded::Text(text) => text,
                    Bounded::TooLarge => {
                        return Err(CliError::Usage(format!(
                            "standard input holds more than {}: {flag} reads {reads}, and \
                             nothing else",
                            size(MAX_STDIN_BYTES)
                        )));
                    }
                    Bounded::NotText { at } => {
                        return Err(CliError::Usage(format!(
                            "standard input is not text (its byte {at} is not UTF-8): {flag} \
                             reads {reads}"
                        )));
                    }
                };
                self.lines.insert(text.lines().map(str::to_owned).collect())
            }
        };
        lines.pop_front().filter(|l| !l.is_empty()).ok_or_else(|| {
            CliError::Usage(format!(
                "standard input holds no line for {what}: {flag} reads {reads}"
            ))
        })
    }
}

/// The approval `--approver NAME` gives, if any: the approver's password is the next one read
/// (after the clerk's on standard input), or asked on the terminal.
pub fn approval(approver: Option<&str>, secrets: &mut Secrets) -> Result<Option<Approval>> {
    approver
        .map(|name| {
            Ok(Approval {
                username: name.to_owned(),
                password: secrets.next(&format!("the password of the approver {name}"))?,
            })
        })
        .transpose()
}

/// Makes the clerk of this command the workstation's session: `--user` logs in for this
/// command alone; otherwise the session `guichet login` opened is taken up.
pub fn sign_in(ws: &mut Workstation, dir: &Path, cli: &Cli, secrets: &mut Secrets) -> Result<()> {
    if let Some(user) = &cli.user {
        let password = secrets.next(&format!("the password of {user}"))?;
        log_in(ws, user, &password)?;
        return Ok(());
    }
    let token = match std::fs::read_to_string(dir.join(SESSION_FILE)) {
        Ok(token) => token,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(CliError::Core(Access::NoSession.into()));
        }
        Err(source) => {
            return Err(CliError::ReadFile {
                path: dir.join(SESSION_FILE),
                source,
            });
        }
    };
    ws.resume_cli_session(token.trim())?;
    Ok(())
}

/// `guichet login`.
pub fn login(
    ws: &mut Workstation,
    dir: &Path,
    cli: &Cli,
    args: &LoginArgs,
    secrets: &mut Secrets,
) -> Result<Report> {
    let Some(user) = args.username.as_ref().or(cli.user.as_ref()) else {
        return Err(CliError::Usage(
            "say who logs in: guichet login NAME (or --user NAME)".into(),
        ));
    };
    let password = secrets.next(&format!("the password of {user}"))?;
    let session = log_in(ws, user, &password)?;
    open(ws, dir)?;
    shown(&session, "Logged in")
}

/// Logs in, with the back office vouching for a first login on this device.
fn log_in(ws: &mut Workstation, user: &str, password: &str) -> Result<Session> {
    Ok(super::sync::runtime()?.block_on(sync::login(ws, user, password))?)
}

/// `guichet recover`: a standalone workstation whose administrators all forgot their
/// password, opened with the recovery key printed at set-up.
pub fn recover(
    ws: &mut Workstation,
    dir: &Path,
    args: &RecoverArgs,
    secrets: &mut Secrets,
) -> Result<Report> {
    let typed = secrets.next("the recovery key printed when this workstation was set up")?;
    let recovery = RecoveryKey::parse(&typed).map_err(guichet_workstation::Error::from)?;
    let password = secrets.next(&format!("a new password for {}", args.username))?;
    let session = ws.recover(&recovery, &args.username, &password)?;
    open(ws, dir)?;
    shown(&session, "Recovered; logged in")
}

/// Opens a command line session for the clerk logged in and keeps its token in the data
/// directory.
pub fn open(ws: &mut Workstation, dir: &Path) -> Result<()> {
    let token = ws.open_cli_session()?;
    let path = dir.join(SESSION_FILE);
    write_private(&path, token.as_bytes()).map_err(|source| CliError::SessionFile { path, source })
}

/// Removes the command line session's token file, if there is one (the workstation's data was
/// erased: the session cannot open it again).
pub fn forget_session(dir: &Path) -> Result<()> {
    let path = dir.join(SESSION_FILE);
    match std::fs::remove_file(&path) {
        Err(source) if source.kind() != std::io::ErrorKind::NotFound => {
            Err(CliError::SessionFile { path, source })
        }
        _ => Ok(()),
    }
}

/// `guichet logout`.
pub fn logout(ws: &mut Workstation, dir: &Path) -> Result<Report> {
    let path = dir.join(SESSION_FILE);
    let name = match std::fs::read_to_string(&path) {
        Ok(token) => {
            let name = ws.close_cli_session(token.trim())?;
            std::fs::remove_file(&path).map_err(|source| CliError::SessionFile {
                path: path.clone(),
                source,
            })?;
            name
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(source) => return Err(CliError::ReadFile { path, source }),
    };
    let json = serde_json::json!({ "logged_out": name });
    Report::new(&json, |out| match &name {
        Some(name) => writeln!(out, "Logged out: {name}"),
        None => writeln!(out, "Nobody was logged in here."),
    })
}

fn shown(session: &Session, what: &str) -> Result<Report> {
    Report::new(session, |out| {
        writeln!(
            out,
            "{what}: {} ({}, {})",
            session.username, session.display_name, session.role
        )?;
        fields(
            out,
            "  ",
            &[(
                "session",
                format!("until `guichet logout`, {CLI_SESSION_HOURS} hours, or a restart"),
            )],
        )
    })
}
