//! The catalogue replica: loading a version, searching and browsing it.
//!
//! Only the services offered at this workstation's centre are kept. Search is FTS5 over the
//! titles, keywords and descriptions in every language, folded by `text::fold` on both sides
//! (lowercase, no diacritics), ranked by BM25 with titles weighted most, and widened to the
//! catalogue's own words when what was typed is misspelt or in another form.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use chrono::NaiveDate;
use guichet_domain::account::Act;
use guichet_domain::calendar::Holidays;
use guichet_domain::catalogue::{Catalogue, Channel, Depth, Fee, Service};
use guichet_domain::text::{Text, fold};
use rusqlite::{OptionalExtension, ToSql, params};
use serde::{Deserialize, Serialize};

use super::{ActionTx, Workstation};
use crate::error::{Error, Kind, Refused, Result};
use crate::search::Vocabulary;

/// The vocabulary of the catalogue held, with the version and load time it was built from.
pub(crate) type VocabularyCache = Mutex<Option<(String, Arc<Vocabulary>)>>;

/// What loading a catalogue did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogueLoad {
    pub version: u32,
    /// Services now offered here.
    pub services: usize,
    /// Services of the catalogue not offered at this centre.
    pub skipped: usize,
}

/// A catalogue search: free text and filters, all optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SearchQuery {
    pub text: Option<String>,
    pub life_event: Option<String>,
    pub target_group: Option<String>,
    pub category: Option<String>,
    pub agency: Option<String>,
    pub channel: Option<Channel>,
    /// At most this many hits (default 20).
    pub limit: Option<usize>,
}

/// One service in a result list, with what the clerk needs to choose it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ServiceHit {
    pub code: String,
    pub title: Text,
    pub category: String,
    pub agency: String,
    pub fee: Fee,
    pub processing_days: u32,
    /// What this workstation's channel can do with it (None: not offered on this channel).
    pub depth_here: Option<Depth>,
}

/// One entry of a browsing list with how many services it holds here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BrowseEntry {
    pub code: String,
    pub name: Text,
    pub services: u32,
}

/// The ways to browse the catalogue: by life event, target group, category, agency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Browse {
    pub version: Option<u32>,
    pub life_events: Vec<BrowseEntry>,
    pub target_groups: Vec<BrowseEntry>,
    pub categories: Vec<BrowseEntry>,
    pub agencies: Vec<BrowseEntry>,
}

const DEFAULT_LIMIT: usize = 20;

/// The longest search text taken, in characters: a few sentences.
pub const MAX_SEARCH_CHARS: usize = 200;

impl Workstation {
    /// Replaces the catalogue with `catalogue`, after checking it whole. An older version than
    /// the one held is refused; the same version is loaded again (a repaired file).
    pub fn load_catalogue(&mut self, catalogue: &Catalogue) -> Result<CatalogueLoad> {
        catalogue.validate()?;
        let center = self.config()?.center_code;
        self.write_for(Act::Administer, |change| {
            load_into(change, catalogue, &center)
        })
    }

    /// The catalogue held here: its version and how many services it kept and skipped.
    pub fn catalogue_load(&self) -> Result<Option<CatalogueLoad>> {
        Ok(self
            .conn()?
            .query_row(
                "SELECT version, services, skipped FROM catalogue_version WHERE id = 1",
                [],
                |r| {
                    Ok(CatalogueLoad {
                        version: r.get(0)?,
                        services: r.get(1)?,
                        skipped: r.get(2)?,
                    })
                },
            )
            .optional()?)
    }

    pub fn catalogue_version(&self) -> Result<Option<u32>> {
        version(self.conn()?)
    }

    /// The service as the catalogue held here describes it.
    pub fn service(&self, code: &str) -> Result<Service> {
        match service_here(self.conn()?, code)? {
            Some(service) => Ok(service),
            None if self.catalogue_version()?.is_none() => Err(Error::NoCatalogue),
            None => Err(Error::not_found(
                Kind::Service,
                code,
                " (not in the catalogue, or not offered at this centre); search the catalogue for it",
            )),
        }
    }

    /// The category a service belongs to.
    pub fn category_of(&self, service: &str) -> Result<Option<String>> {
        Ok(self
            .conn()?
            .query_row(
                "SELECT category FROM services WHERE code = ?1",
                [service],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Searches the catalogue held here.
    ///
    /// Text is searched in tiers, each ranked by BM25 and shown after the one before: the
    /// words typed as one phrase, then every word as a prefix anywhere, then the same with each
    /// word widened to the catalogue words it may stand for (other forms, typos; see
    /// [`crate::search`]), the words the catalogue does not know at all left out, and those of
    /// one or two letters too when longer ones remain.
    pub fn search(&self, query: &SearchQuery) -> Result<Vec<ServiceHit>> {
        let Some(loaded) = self.catalogue_stamp()? else {
            return Err(Error::NoCatalogue);
        };
        for (table, kind, value) in [
            ("life_events", Kind::LifeEvent, &query.life_event),
            ("target_groups", Kind::TargetGroup, &query.target_group),
            ("categories", Kind::Category, &query.category),
            ("agencies", Kind::Agency, &query.agency),
        ] {
            if let Some(code) = value {
                self.check_code(table, kind, code)?;
            }
        }
        let limit = query.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, 1000);
        // Each word is matched against the whole catalogue's vocabulary: a pasted page would
        // hold the workstation for every other command.
        let chars = query.text.as_deref().map_or(0, |t| t.chars().count());
        if chars > MAX_SEARCH_CHARS {
            return Err(Refused::SearchTooLong {
                chars,
                max: MAX_SEARCH_CHARS,
            }
            .into());
        }
        let words: Vec<String> = fold(query.text.as_deref().unwrap_or(""))
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        let channel = self.config()?.channel;
        if words.is_empty() {
            return self.ranked(query, channel, None, limit);
        }
        let mut hits: Vec<ServiceHit> = Vec::new();
        let mut tried: Vec<String> = Vec::new();
        let phrase = (words.len() > 1).then(|| format!("\"{}\"*", words.join(" ")));
        let strict = words
            .iter()
            .map(|w| format!("\"{w}\"*"))
            .collect::<Vec<_>>()
            .join(" ");
        for tier in 0..3 {
            if hits.len() >= limit {
                break;
            }
            let expression = match tier {
                0 => phrase.clone(),
                1 => Some(strict.clone()),
                _ => self.forgiving(&loaded, &words)?,
            };
            let Some(expression) = expression.filter(|e| !tried.contains(e)) else {
                continue;
            };
            for hit in self.ranked(query, channel, Some(&expression), limit)? {
                if hits.len() < limit && !hits.iter().any(|h| h.code == hit.code) {
                    hits.push(hit);
                }
            }
            tried.push(expression);
        }
        Ok(hits)
    }

    /// The catalogue's version and when it was loaded: what the vocabulary was built from.
    fn catalogue_stamp(&self) -> Result<Option<String>> {
        Ok(self
            .conn()?
            .query_row(
                "SELECT version || '@' || loaded_at FROM catalogue_version WHERE id = 1",
                [],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The full-text expression with each word widened to what it may stand for, or None when
    /// no word is known at all.
    fn forgiving(&self, loaded: &str, words: &[String]) -> Result<Option<String>> {
        let vocabulary = self.vocabulary(loaded)?;
        // Words of one or two letters (de, a, l', id) match most of a catalogue as prefixes and
        // were tried as typed already: this tier leaves them out when longer words remain.
        let long: Vec<&String> = words.iter().filter(|w| w.chars().count() > 2).collect();
        let kept: Vec<&String> = if long.is_empty() {
            words.iter().collect()
        } else {
            long
        };
        let groups: Vec<String> = kept
            .into_iter()
            .filter_map(|w| {
                let alternatives = vocabulary.alternatives(w);
                if alternatives.is_unknown() {
                    return None;
                }
                let mut terms = vec![format!("\"{w}\"*")];
                terms.extend(alternatives.words.iter().map(|t| format!("\"{t}\"")));
                Some(format!("({})", terms.join(" OR ")))
            })
            .collect();
        Ok((!groups.is_empty()).then(|| groups.join(" AND ")))
    }

    /// The vocabulary of the catalogue held, built once per catalogue loaded.
    fn vocabulary(&self, loaded: &str) -> Result<Arc<Vocabulary>> {
        let mut cache = self
            .vocabulary
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((stamp, vocabulary)) = cache.as_ref()
            && stamp == loaded
        {
            return Ok(vocabulary.clone());
        }
        let mut stmt = self.conn()?.prepare(
            "SELECT json_extract(definition, '$.title'), json_extract(definition, '$.keywords'),
                    json_extract(definition, '$.description')
             FROM services",
        )?;
        let mut texts: Vec<(String, String)> = Vec::new();
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let title: Text = serde_json::from_str(&row.get::<_, String>(0)?)?;
            let keywords: BTreeMap<String, Vec<String>> =
                serde_json::from_str(&row.get::<_, String>(1)?)?;
            let description: Text = serde_json::from_str(&row.get::<_, String>(2)?)?;
            texts.extend(title.0);
            texts.extend(description.0);
            texts.extend(
                keywords
                    .into_iter()
                    .flat_map(|(lang, words)| words.into_iter().map(move |w| (lang.clone(), w))),
            );
        }
        let vocabulary = Arc::new(Vocabulary::build(
            texts.iter().map(|(l, t)| (l.as_str(), t.as_str())),
        ));
        *cache = Some((loaded.to_owned(), vocabulary.clone()));
        Ok(vocabulary)
    }

    /// One tier of a search: the services that match `expression` (all of them when None)
    /// and the filters, best first.
    fn ranked(
        &self,
        query: &SearchQuery,
        channel_here: Channel,
        expression: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ServiceHit>> {
        let terms = expression.map(str::to_owned);
        // Rank and cut first, over ids only; the columns a hit shows (the fee out of the
        // definition's JSON, the depth here) are read for the few rows kept. A common word
        // matches thousands of services: a text search therefore ranks inside the full-text
        // index alone, with the filters as lookups by id, and never touches the (wide)
        // service rows of the candidates it drops.
        let mut args: Vec<Box<dyn ToSql>> = Vec::new();
        let (mut sql, id) = match &terms {
            Some(terms) => {
                args.push(Box::new(terms.clone()));
                (
                    String::from(
                        "SELECT f.rowid AS id, bm25(service_search, 10.0, 4.0, 1.0) AS score,
                                f.rowid AS tie
                         FROM service_search f WHERE service_search MATCH ?",
                    ),
                    "f.rowid",
                )
            }
            None => (
                String::from(
                    "SELECT s.id AS id, 0 AS score, s.title_sort AS tie FROM services s WHERE 1 = 1",
                ),
                "s.id",
            ),
        };
        let mut filter = |clause: String, value: &Option<String>| {
            if let Some(v) = value {
                sql.push_str(&clause);
                args.push(Box::new(v.clone()));
            }
        };
        filter(
            format!(
                " AND EXISTS (SELECT 1 FROM service_life_events e WHERE e.service_id = {id} AND e.life_event = ?)"
            ),
            &query.life_event,
        );
        filter(
            format!(
                " AND EXISTS (SELECT 1 FROM service_target_groups g WHERE g.service_id = {id} AND g.target_group = ?)"
            ),
            &query.target_group,
        );
        filter(
            format!(" AND {id} IN (SELECT c.id FROM services c WHERE c.category = ?)"),
            &query.category,
        );
        filter(
            format!(" AND {id} IN (SELECT a.id FROM services a WHERE a.agency = ?)"),
            &query.agency,
        );
        filter(
            format!(
                " AND EXISTS (SELECT 1 FROM service_channels c2 WHERE c2.service_id = {id} AND c2.channel = ?)"
            ),
            &query.channel.map(|c| c.as_str().to_owned()),
        );
        sql.push_str(" ORDER BY score, tie LIMIT ?");
        args.push(Box::new(limit as i64));
        let sql = format!(
            "SELECT s.code, s.title, s.category, s.agency, json_extract(s.definition, '$.fee'),
                    s.processing_days,
                    (SELECT depth FROM service_channels c
                      WHERE c.service_id = s.id AND c.channel = ?)
             FROM ({sql}) AS ranked JOIN services s ON s.id = ranked.id
             ORDER BY ranked.score, ranked.tie"
        );
        // The channel's placeholder comes first in the text, before the ranking query's.
        args.insert(0, Box::new(channel_here.as_str()));
        let mut stmt = self.conn()?.prepare_cached(&sql)?;
        let rows = stmt.query_map(
            rusqlite::params_from_iter(args.iter().map(|a| a.as_ref())),
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, u32>(5)?,
                    r.get::<_, Option<String>>(6)?,
                ))
            },
        )?;
        let mut hits = Vec::new();
        for row in rows {
            let (code, title, category, agency, fee, days, depth) = row?;
            hits.push(ServiceHit {
                code,
                title: serde_json::from_str(&title)?,
                category,
                agency,
                fee: serde_json::from_str(&fee)?,
                processing_days: days,
                depth_here: depth.map(|d| parse_depth(&d)).transpose()?,
            });
        }
        Ok(hits)
    }

    /// The lists to browse by, with how many services each holds here.
    pub fn browse(&self) -> Result<Browse> {
        let list = |sql: &str| -> Result<Vec<BrowseEntry>> {
            let mut stmt = self.conn()?.prepare(sql)?;
            let rows = stmt.query_map([], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (code, name, services) = row?;
                out.push(BrowseEntry {
                    code,
                    name: serde_json::from_str(&name)?,
                    services,
                });
            }
            Ok(out)
        };
        Ok(Browse {
            version: self.catalogue_version()?,
            life_events: list(
                "SELECT l.code, l.name, (SELECT count(*) FROM service_life_events e WHERE e.life_event = l.code)
                 FROM life_events l ORDER BY l.code",
            )?,
            target_groups: list(
                "SELECT t.code, t.name, (SELECT count(*) FROM service_target_groups g WHERE g.target_group = t.code)
                 FROM target_groups t ORDER BY t.code",
            )?,
            categories: list(
                "SELECT c.code, c.name, (SELECT count(*) FROM services s WHERE s.category = c.code)
                 FROM categories c ORDER BY c.code",
            )?,
            agencies: list(
                "SELECT a.code, a.name, (SELECT count(*) FROM services s WHERE s.agency = a.code)
                 FROM agencies a ORDER BY a.code",
            )?,
        })
    }

    /// Adds a public holiday (due dates skip it from now on).
    pub fn add_holiday(&mut self, day: NaiveDate, name: &str) -> Result<()> {
        super::queue::check_label("holiday", &day.to_string(), name)?;
        self.write_for(Act::Supervise, |change| {
            let added = change.tx.execute(
                "INSERT OR IGNORE INTO holidays (day, name) VALUES (?1, ?2)",
                params![day.to_string(), name.trim()],
            )?;
            if added == 0 {
                return Err(Error::Duplicate {
                    kind: Kind::Holiday,
                    key: day.to_string(),
                });
            }
            change.record_local(
                "holiday.added",
                "holiday",
                &day.to_string(),
                serde_json::json!({"name": name.trim()}),
            )?;
            Ok(())
        })
    }

    pub fn holidays(&self) -> Result<Holidays> {
        holidays(self.conn()?)
    }

    pub(crate) fn check_code(&self, table: &str, kind: Kind, code: &str) -> Result<()> {
        let exists: bool = self.conn()?.query_row(
            &format!("SELECT EXISTS (SELECT 1 FROM {table} WHERE code = ?1)"),
            [code],
            |r| r.get(0),
        )?;
        if exists {
            Ok(())
        } else {
            Err(Error::not_found(kind, code, "; the catalogue lists them"))
        }
    }
}

pub(crate) fn holidays(conn: &rusqlite::Connection) -> Result<Holidays> {
    let mut stmt = conn.prepare_cached("SELECT day FROM holidays")?;
    let days = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let mut set = std::collections::BTreeSet::new();
    for d in days {
        set.insert(
            d.parse()
                .map_err(|_| Error::Invalid(format!("stored holiday '{d}' is not a date")))?,
        );
    }
    Ok(Holidays(set))
}

/// The service as the catalogue held here describes it, if it has it.
pub(super) fn service_here(conn: &rusqlite::Connection, code: &str) -> Result<Option<Service>> {
    let definition: Option<String> = conn
        .query_row(
            "SELECT definition FROM services WHERE code = ?1",
            [code],
            |r| r.get(0),
        )
        .optional()?;
    Ok(definition.map(|d| serde_json::from_str(&d)).transpose()?)
}

fn version(conn: &rusqlite::Connection) -> Result<Option<u32>> {
    Ok(conn
        .query_row(
            "SELECT version FROM catalogue_version WHERE id = 1",
            [],
            |r| r.get(0),
        )
        .optional()?)
}

pub(crate) fn parse_depth(text: &str) -> Result<Depth> {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).map_err(Error::from)
}

/// Turns what the clerk typed into an FTS5 query: every word must match, as a prefix, so that
/// results narrow as they type. Quoting each word keeps FTS5 operators out of user input.
pub(crate) fn match_expression(text: &str) -> Option<String> {
    let words: Vec<String> = fold(text)
        .split_whitespace()
        .map(|w| format!("\"{w}\"*"))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// Loads a validated catalogue inside an open change.
pub(crate) fn load_into(
    change: &mut ActionTx<'_>,
    catalogue: &Catalogue,
    center: &str,
) -> Result<CatalogueLoad> {
    if let Some(held) = version(change.tx)?
        && held > catalogue.version
    {
        return Err(Error::StaleCatalogue {
            held,
            offered: catalogue.version,
        });
    }
    let load = replace(change, catalogue, center)?;
    change.record_local(
        "catalogue.loaded",
        "catalogue",
        &catalogue.version.to_string(),
        serde_json::to_value(&load)?,
    )?;
    Ok(load)
}

fn replace(
    change: &mut ActionTx<'_>,
    catalogue: &Catalogue,
    center: &str,
) -> Result<CatalogueLoad> {
    let tx = change.tx;
    tx.execute_batch(
        "DELETE FROM service_search;
         DELETE FROM service_target_groups;
         DELETE FROM service_life_events;
         DELETE FROM service_channels;
         DELETE FROM services;
         DELETE FROM categories;
         DELETE FROM agencies;
         DELETE FROM target_groups;
         DELETE FROM life_events;",
    )?;
    for c in &catalogue.categories {
        tx.execute(
            "INSERT INTO categories (code, name, queue_letter) VALUES (?1, ?2, ?3)",
            params![
                c.code,
                serde_json::to_string(&c.name)?,
                c.queue_letter.to_string()
            ],
        )?;
    }
    for (table, entries) in [
        (
            "agencies",
            catalogue
                .agencies
                .iter()
                .map(|a| (&a.code, &a.name))
                .collect::<Vec<_>>(),
        ),
        (
            "target_groups",
            catalogue
                .target_groups
                .iter()
                .map(|a| (&a.code, &a.name))
                .collect(),
        ),
        (
            "life_events",
            catalogue
                .life_events
                .iter()
                .map(|a| (&a.code, &a.name))
                .collect(),
        ),
    ] {
        let mut stmt = tx.prepare(&format!("INSERT INTO {table} (code, name) VALUES (?1, ?2)"))?;
        for (code, name) in entries {
            stmt.execute(params![code, serde_json::to_string(name)?])?;
        }
    }
    let mut insert_service = tx.prepare(
        "INSERT INTO services (code, category, agency, title, title_sort, processing_days, definition)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    let mut insert_search = tx.prepare(
        "INSERT INTO service_search (rowid, title, keywords, description) VALUES (?1, ?2, ?3, ?4)",
    )?;
    let mut insert_group =
        tx.prepare("INSERT INTO service_target_groups (service_id, target_group) VALUES (?1, ?2)")?;
    let mut insert_event =
        tx.prepare("INSERT INTO service_life_events (service_id, life_event) VALUES (?1, ?2)")?;
    let mut insert_channel = tx
        .prepare("INSERT INTO service_channels (service_id, channel, depth) VALUES (?1, ?2, ?3)")?;
    let mut kept = 0;
    for s in &catalogue.services {
        if !s.availability.offered_at(center) {
            continue;
        }
        kept += 1;
        insert_service.execute(params![
            s.code,
            s.category,
            s.agency,
            serde_json::to_string(&s.title)?,
            fold(s.title.get("en")),
            s.processing_days,
            serde_json::to_string(s)?,
        ])?;
        let id = tx.last_insert_rowid();
        let keywords = s
            .keywords
            .values()
            .flatten()
            .cloned()
            .collect::<Vec<_>>()
            .join(" ");
        insert_search.execute(params![
            id,
            fold(&s.title.all()),
            fold(&keywords),
            fold(&s.description.all())
        ])?;
        for g in &s.target_groups {
            insert_group.execute(params![id, g])?;
        }
        for e in &s.life_events {
            insert_event.execute(params![id, e])?;
        }
        for (channel, depth) in &s.channels {
            insert_channel.execute(params![id, channel.as_str(), depth.as_str()])?;
        }
    }
    let load = CatalogueLoad {
        version: catalogue.version,
        services: kept,
        skipped: catalogue.services.len() - kept,
    };
    tx.execute(
        "INSERT INTO catalogue_version (id, version, loaded_at, services, skipped)
         VALUES (1, ?1, ?2, ?3, ?4)
         ON CONFLICT (id) DO UPDATE SET version = excluded.version,
            loaded_at = excluded.loaded_at, services = excluded.services, skipped = excluded.skipped",
        params![load.version, change.at(), load.services, load.skipped],
    )?;
    Ok(load)
}
