//! `guichet clerk ...`: the accounts of a standalone workstation, managed by its
//! administrators. Passwords are read by `Secrets`, never taken from the command line, where
//! other users and the shell's history would see them.

use std::fmt::Write as _;

use guichet_workstation::Workstation;
use guichet_workstation::store::{ClerkView, NewClerk};

use super::session::Secrets;
use crate::cli::ClerkCommand;
use crate::error::Result;
use crate::output::{Report, Table};

pub fn run(ws: &mut Workstation, cmd: &ClerkCommand, secrets: &mut Secrets) -> Result<Report> {
    let changed = match cmd {
        ClerkCommand::List => return list(&ws.clerks()?),
        ClerkCommand::Add {
            username,
            name,
            role,
        } => {
            let password = secrets.next(&format!("the new password of {username}"))?;
            let added = ws.add_clerk(&NewClerk {
                username: username.trim().to_owned(),
                display_name: name.trim().to_owned(),
                role: *role,
                password,
            })?;
            (added, "added")
        }
        ClerkCommand::Disable { username } => (ws.set_clerk_active(username, false)?, "disabled"),
        ClerkCommand::Enable { username } => (ws.set_clerk_active(username, true)?, "enabled"),
        ClerkCommand::Role { username, role } => {
            (ws.set_clerk_role(username, *role)?, "given a new role")
        }
        ClerkCommand::ResetPassword { username } => {
            let password = secrets.next(&format!("the new password of {username}"))?;
            (
                ws.reset_clerk_password(username, &password)?,
                "given a new password",
            )
        }
        ClerkCommand::Admit { username } => {
            let password = secrets.next(&format!("the password of {username}"))?;
            (
                ws.admit_clerk(username, &password)?,
                "may now log in on this device",
            )
        }
    };
    let (clerk, what) = changed;
    Report::new(&clerk, |out| {
        writeln!(
            out,
            "Account {} ({}, {}{}) {what}",
            clerk.username,
            clerk.display_name,
            clerk.role,
            if clerk.active { "" } else { ", disabled" }
        )
    })
}

fn list(clerks: &[ClerkView]) -> Result<Report> {
    Report::new(&clerks, |out| {
        let mut table = Table::new(&["USER", "NAME", "ROLE", "STATUS", "FROM"]);
        for c in clerks {
            table.row(vec![
                c.username.clone(),
                c.display_name.clone(),
                c.role.to_string(),
                if c.active { "active" } else { "disabled" }.to_owned(),
                c.source.clone(),
            ]);
        }
        table.write(out, "")
    })
}
