//! When the app cannot start, or finds its database damaged: the window still opens and says
//! what is wrong and what to do, rather than a message on a terminal nobody sees or a crash.
//!
//! `Trouble` is managed from the start whatever happens; the `Shell` only once the data
//! directory opened. The window asks `start_problem` first: with a problem it shows the
//! trouble screen and nothing else (no command of the shell can run), and "Try again" or
//! "Keep it aside" start the shell in place once the cause is gone, without a restart.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use guichet_workstation::Error;
use guichet_workstation::store::{Owner, keep_aside_damaged, owner};
use serde::Serialize;
use tauri::{AppHandle, Manager};

use crate::shell::{ErrorView, Shell};

/// What went wrong, for the window to say in the clerk's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// The data directory cannot be made or written (read-only, full, not a directory).
    DataDir,
    /// The database cannot be read: it can be kept aside and the workstation set up again.
    Damaged,
    /// The database was written by a newer Guichet.
    Newer,
    /// Anything else: the words of the system, and the log.
    Other,
}

/// A start that failed, or a database found damaged, as the window shows it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct StartProblem {
    pub kind: ProblemKind,
    /// Where the data is kept (none when there is no home directory to keep it in).
    pub data_dir: Option<String>,
    /// The reason in the system's or the core's words (no personal data: paths and codes).
    pub detail: String,
    /// For a damaged database: the workstation it belongs to (boxed: a problem travels in
    /// results, and is small but for this).
    pub owner: Box<Owner>,
}

impl StartProblem {
    pub fn data_dir(dir: Option<&Path>, detail: impl ToString) -> Self {
        StartProblem {
            kind: ProblemKind::DataDir,
            data_dir: dir.map(|d| d.display().to_string()),
            detail: detail.to_string(),
            owner: Box::default(),
        }
    }

    /// The core's error on opening the data directory `dir`, as a start problem.
    pub fn of(dir: &Path, e: &Error) -> Self {
        let (kind, detail) = match e {
            Error::DataDir { source, .. } => (ProblemKind::DataDir, source.to_string()),
            Error::Damaged { detail } => (ProblemKind::Damaged, detail.clone()),
            Error::NewerSchema { .. } => (ProblemKind::Newer, e.to_string()),
            _ => (ProblemKind::Other, e.to_string()),
        };
        StartProblem {
            kind,
            data_dir: Some(dir.display().to_string()),
            detail,
            owner: Box::new(if kind == ProblemKind::Damaged {
                owner(dir)
            } else {
                Owner::default()
            }),
        }
    }
}

/// The problem the window must show instead of its screens, if any.
#[derive(Debug)]
pub struct Trouble {
    problem: Mutex<Option<StartProblem>>,
    /// The data directory, when one was named (the one to try again).
    dir: Option<PathBuf>,
}

impl Trouble {
    pub fn new(dir: Option<PathBuf>, problem: Option<StartProblem>) -> Self {
        Trouble {
            problem: Mutex::new(problem),
            dir,
        }
    }

    fn set(&self, problem: Option<StartProblem>) {
        *self.problem.lock().unwrap_or_else(|p| p.into_inner()) = problem;
    }

    fn get(&self) -> Option<StartProblem> {
        self.problem
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// Opens the shell over `dir` and hands it to the app, or says why it cannot.
pub fn start(app: &AppHandle, dir: &Path) -> Result<(), StartProblem> {
    let shell = Shell::open(dir.to_owned(), app.clone()).map_err(|e| {
        tracing::error!("the data directory cannot be opened: {e}");
        StartProblem::of(dir, &e)
    })?;
    shell.start_sync_if_enrolled();
    app.manage(shell);
    Ok(())
}

/// What the window must show instead of its screens: a start that failed, or a database the
/// shell found damaged since (a login that could not read it).
pub fn current(app: &AppHandle) -> Option<StartProblem> {
    let trouble = app.state::<Trouble>();
    if let Some(problem) = trouble.get() {
        return Some(problem);
    }
    let shell = app.try_state::<Arc<Shell>>()?;
    let detail = shell.damaged()?;
    Some(StartProblem::of(
        shell.data_dir(),
        &Error::Damaged { detail },
    ))
}

/// Tries the start again (the clerk or IT fixed the cause): `None` when the shell runs now.
pub fn retry(app: &AppHandle) -> Option<StartProblem> {
    if app.try_state::<Arc<Shell>>().is_some() {
        return current(app);
    }
    let trouble = app.state::<Trouble>();
    let Some(dir) = trouble.dir.clone() else {
        return trouble.get();
    };
    let outcome = crate::data_dir_ready(&dir).and_then(|()| start(app, &dir));
    trouble.set(outcome.err());
    trouble.get()
}

/// Keeps the damaged database aside and starts again on an empty data directory, which the
/// first screen then offers to set up or enrol.
pub fn keep_aside(app: &AppHandle) -> Result<Option<StartProblem>, ErrorView> {
    if !matches!(
        current(app),
        Some(StartProblem {
            kind: ProblemKind::Damaged,
            ..
        })
    ) {
        return Err(ErrorView::internal(
            "there is no damaged database to keep aside: nothing was changed",
        ));
    }
    let at = chrono::Utc::now();
    if let Some(shell) = app.try_state::<Arc<Shell>>() {
        shell.keep_damaged_aside(at)?;
        return Ok(current(app));
    }
    let Some(dir) = app.state::<Trouble>().dir.clone() else {
        return Ok(current(app));
    };
    keep_aside_in(&dir, at)?;
    Ok(retry(app))
}

/// Keeps the damaged database of `dir` aside (`store::keep_aside_damaged`), and logs it.
pub fn keep_aside_in(dir: &Path, at: chrono::DateTime<chrono::Utc>) -> Result<(), Error> {
    let kept = keep_aside_damaged(dir, at)?;
    tracing::warn!(file = %kept.file, "the damaged database was kept aside");
    Ok(())
}
