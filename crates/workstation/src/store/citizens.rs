//! Citizens: registered once, found again by national id or by name and birth date.

use chrono::NaiveDate;
use guichet_domain::citizen::{Citizen, register};
use guichet_domain::form::normalize_phone;
use guichet_domain::text::fold;
use guichet_protocol::Change;
use rusqlite::{OptionalExtension, Row, params};
use serde::{Deserialize, Serialize};

use super::Workstation;
use super::rows::{self, Origin};
use crate::error::{Error, Kind, Refused, Result};

/// What the clerk types to register a citizen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct NewCitizen {
    pub national_id: String,
    pub given_name: String,
    pub family_name: String,
    pub birth_date: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
}

/// How to find a citizen again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum CitizenQuery {
    NationalId(String),
    /// Family name (and optionally given name), with the birth date.
    Name {
        name: String,
        birth_date: String,
    },
}

const COLUMNS: &str = "national_id, given_name, family_name, birth_date, phone, email, address";

impl Workstation {
    /// Registers a citizen after checking the id, names, dates and contact details.
    pub fn register_citizen(&mut self, new: &NewCitizen) -> Result<Citizen> {
        let scheme = self.national_ids()?;
        let birth =
            guichet_domain::form::parse_date(&new.birth_date).map_err(Refused::BirthDate)?;
        let mut citizen = register(
            scheme,
            &new.national_id,
            &new.given_name,
            &new.family_name,
            birth,
            self.today(),
        )?;
        citizen.phone = new
            .phone
            .as_deref()
            .filter(|p| !p.trim().is_empty())
            .map(normalize_phone)
            .transpose()
            .map_err(Refused::Phone)?;
        citizen.email = new
            .email
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(check_email)
            .transpose()?;
        citizen.address = new
            .address
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_owned);
        guichet_domain::citizen::check_texts(&citizen)?;
        self.write(|change| {
            let exists: bool = change.tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM citizens WHERE national_id = ?1)",
                [&citizen.national_id],
                |r| r.get(0),
            )?;
            if exists {
                return Err(Error::Duplicate {
                    kind: Kind::Citizen,
                    key: citizen.national_id.clone(),
                });
            }
            rows::citizen_registered(change, &citizen, Origin::Here)?;
            change.record(&Change::CitizenRegistered {
                citizen: citizen.clone(),
            })?;
            Ok(citizen)
        })
    }

    /// The citizen with this national id (typed in any accepted form).
    pub fn citizen(&self, national_id: &str) -> Result<Citizen> {
        let id = self.national_ids()?.normalize(national_id)?;
        self.conn()?
            .query_row(
                &format!("SELECT {COLUMNS} FROM citizens WHERE national_id = ?1"),
                [&id],
                citizen_from_row,
            )
            .optional()?
            .ok_or_else(|| Error::not_found(Kind::Citizen, id, "; register them first"))
    }

    /// Citizens matching a query; by name, the family name (and given name if typed) must
    /// match ignoring case and accents, and the birth date exactly.
    pub fn find_citizens(&self, query: &CitizenQuery) -> Result<Vec<Citizen>> {
        match query {
            CitizenQuery::NationalId(id) => match self.citizen(id) {
                Ok(c) => Ok(vec![c]),
                Err(Error::NotFound { .. }) => Ok(vec![]),
                Err(e) => Err(e),
            },
            CitizenQuery::Name { name, birth_date } => {
                let birth =
                    guichet_domain::form::parse_date(birth_date).map_err(Refused::BirthDate)?;
                let key = fold(name);
                if key.is_empty() {
                    return Err(Refused::NameToSearch.into());
                }
                let mut stmt = self.conn()?.prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM citizens
                     WHERE birth_date = ?1 AND (name_key = ?2 OR name_key LIKE ?2 || ' %'
                        OR name_key LIKE '% ' || ?2)
                     ORDER BY family_name, given_name LIMIT 50"
                ))?;
                let rows = stmt.query_map(params![birth.to_string(), key], citizen_from_row)?;
                Ok(rows.collect::<std::result::Result<_, _>>()?)
            }
        }
    }
}

/// Folded "family given": typing the family name alone, or both in either order, finds them.
pub(crate) fn name_key(family: &str, given: &str) -> String {
    fold(&format!("{family} {given}"))
}

fn check_email(email: &str) -> Result<String> {
    let ok = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
    }) && !email.contains(char::is_whitespace);
    if ok {
        Ok(email.to_owned())
    } else {
        Err(Refused::Email(email.to_owned()).into())
    }
}

fn citizen_from_row(r: &Row<'_>) -> rusqlite::Result<Citizen> {
    let birth: String = r.get(3)?;
    Ok(Citizen {
        national_id: r.get(0)?,
        given_name: r.get(1)?,
        family_name: r.get(2)?,
        birth_date: birth.parse::<NaiveDate>().map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(3, rusqlite::types::Type::Text, Box::new(e))
        })?,
        phone: r.get(4)?,
        email: r.get(5)?,
        address: r.get(6)?,
    })
}
