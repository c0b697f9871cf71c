//! `guichet`: the clerk's workstation from a terminal. A thin adapter over
//! `guichet-workstation`: it parses what was typed, calls the core and shows the result to a
//! person or, with `--json`, to a script. The rules all live in the core and the domain.

// The CLI is the one place in the workspace that prints. It writes through locked handles
// rather than `print!` so that a closed pipe (`guichet request list | head`) ends it quietly
// instead of panicking.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod cli;
mod commands;
mod error;
mod input;
mod output;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    match cli::Cli::try_parse() {
        Ok(cli) => commands::run(cli),
        Err(usage) => commands::usage_error(&usage),
    }
}
