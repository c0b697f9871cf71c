//! `guichet citizen`: register a citizen, find one again.

use std::fmt::Write as _;

use guichet_domain::citizen::Citizen;
use guichet_workstation::Workstation;
use guichet_workstation::store::{CitizenQuery, NewCitizen};

use crate::cli::CitizenCommand;
use crate::error::{CliError, Result};
use crate::output::{Report, Table};

pub fn run(ws: &mut Workstation, cmd: &CitizenCommand) -> Result<Report> {
    match cmd {
        CitizenCommand::Add(args) => {
            let citizen = ws.register_citizen(&NewCitizen {
                national_id: args.id.clone(),
                given_name: args.given.clone(),
                family_name: args.family.clone(),
                birth_date: args.born.clone(),
                phone: args.phone.clone(),
                email: args.email.clone(),
                address: args.address.clone(),
            })?;
            Report::new(&citizen, |out| {
                writeln!(
                    out,
                    "registered {} {}, national id {}, born {}",
                    citizen.given_name,
                    citizen.family_name,
                    citizen.national_id,
                    citizen.birth_date
                )
            })
        }
        CitizenCommand::Find(args) => {
            let query = match (&args.id, &args.name, &args.born) {
                (Some(id), _, _) => CitizenQuery::NationalId(id.clone()),
                (None, Some(name), Some(born)) => CitizenQuery::Name {
                    name: name.clone(),
                    birth_date: born.clone(),
                },
                _ => {
                    return Err(CliError::Usage(
                        "find a citizen with --id ID, or with --name NAME --born DATE".into(),
                    ));
                }
            };
            let found = ws.find_citizens(&query)?;
            Report::new(&found, |out| {
                if found.is_empty() {
                    return writeln!(
                        out,
                        "no citizen found; register them with `guichet citizen add`"
                    );
                }
                table(&found).write(out, "")
            })
        }
    }
}

fn table(citizens: &[Citizen]) -> Table {
    let mut table = Table::new(&["NATIONAL ID", "NAME", "BORN", "PHONE", "EMAIL", "ADDRESS"]);
    for c in citizens {
        table.row(vec![
            c.national_id.clone(),
            format!("{} {}", c.given_name, c.family_name),
            c.birth_date.to_string(),
            c.phone.clone().unwrap_or_default(),
            c.email.clone().unwrap_or_default(),
            c.address.clone().unwrap_or_default(),
        ]);
    }
    table
}
