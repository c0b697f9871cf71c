//! `guichet catalogue`: load a catalogue file, search, browse, show one service.

use std::fmt::Write as _;
use std::fs::File;
use std::path::Path;

use guichet_domain::catalogue::{Availability, Catalogue, Fee, FeeTier};
use guichet_domain::form::{FieldKind, FormField};
use guichet_workstation::Workstation;
use guichet_workstation::store::{BrowseEntry, SearchQuery};

use super::Context;
use crate::cli::{CatalogueCommand, SearchArgs};
use crate::error::{CliError, Result};
use crate::input::{Bounded, read_bounded, size};
use crate::output::{Report, Table, fee, fields, join_or_none, wire_name};

pub fn run(ws: &mut Workstation, ctx: &Context, cmd: &CatalogueCommand) -> Result<Report> {
    match cmd {
        CatalogueCommand::Load { file } => {
            let text = read_catalogue(file)?;
            let catalogue: Catalogue =
                serde_json::from_str(&text).map_err(|source| CliError::CatalogueFile {
                    path: file.clone(),
                    source,
                })?;
            let load = ws.load_catalogue(&catalogue)?;
            Report::new(&load, |out| {
                writeln!(
                    out,
                    "catalogue version {} loaded: {} services offered here, {} skipped (not offered at this centre)",
                    load.version, load.services, load.skipped
                )
            })
        }
        CatalogueCommand::Search(args) => search(ws, ctx, args),
        CatalogueCommand::Browse => {
            let browse = ws.browse()?;
            Report::new(&browse, |out| {
                match browse.version {
                    Some(v) => writeln!(out, "catalogue version {v}")?,
                    None => writeln!(
                        out,
                        "no catalogue loaded: run `guichet catalogue load FILE`"
                    )?,
                }
                for (title, entries) in [
                    ("Life events", &browse.life_events),
                    ("Target groups", &browse.target_groups),
                    ("Categories", &browse.categories),
                    ("Agencies", &browse.agencies),
                ] {
                    writeln!(out, "\n{title}")?;
                    browse_table(entries, ctx.lang).write(out, "  ")?;
                }
                Ok(())
            })
        }
        CatalogueCommand::Show { code } => show(ws, ctx, code),
    }
}

/// The most a catalogue file may hold. The demo catalogue takes about 2.7 kB a service
/// (330 kB for 121): this holds over 20,000 such services, beyond the few thousand of a whole
/// country, and stops a wrong file (a package, a disk image, `/dev/zero`) before it is read
/// whole.
const MAX_CATALOGUE_BYTES: u64 = 64 << 20;

/// The text of a catalogue file, refused if it is too large or not text.
fn read_catalogue(path: &Path) -> Result<String> {
    let not_catalogue = |problem: String| CliError::NotCatalogue {
        path: path.to_owned(),
        problem,
    };
    let read = File::open(path)
        .and_then(|file| read_bounded(file, MAX_CATALOGUE_BYTES))
        .map_err(|source| CliError::ReadFile {
            path: path.to_owned(),
            source,
        })?;
    match read {
        Bounded::Text(text) => Ok(text),
        Bounded::TooLarge => Err(not_catalogue(format!(
            "is larger than {}, more than a catalogue of thousands of services takes",
            size(MAX_CATALOGUE_BYTES)
        ))),
        Bounded::NotText { at } => Err(not_catalogue(format!(
            "is not text (its byte {at} is not UTF-8)"
        ))),
    }
}

fn browse_table(entries: &[BrowseEntry], lang: &str) -> Table {
    let mut table = Table::new(&["CODE", "NAME", "SERVICES"]);
    for e in entries {
        table.row(vec![
            e.code.clone(),
            e.name.get(lang).to_owned(),
            e.services.to_string(),
        ]);
    }
    table
}

fn search(ws: &Workstation, ctx: &Context, args: &SearchArgs) -> Result<Report> {
    let text = args.words.join(" ");
    let query = SearchQuery {
        text: (!text.trim().is_empty()).then_some(text),
        life_event: args.life_event.clone(),
        target_group: args.target_group.clone(),
        category: args.category.clone(),
        agency: args.agency.clone(),
        channel: args.channel,
        limit: args.limit,
    };
    let hits = ws.search(&query)?;
    Report::new(&hits, |out| {
        if hits.is_empty() {
            return writeln!(out, "no service matches");
        }
        let mut table = Table::new(&["CODE", "SERVICE", "CATEGORY", "FEE", "DAYS", "HERE"]);
        for h in &hits {
            table.row(vec![
                h.code.clone(),
                h.title.get(ctx.lang).to_owned(),
                h.category.clone(),
                fee(&h.fee),
                h.processing_days.to_string(),
                h.depth_here
                    .map_or("not offered", |d| d.as_str())
                    .to_owned(),
            ]);
        }
        table.write(out, "")
    })
}

fn show(ws: &Workstation, ctx: &Context, code: &str) -> Result<Report> {
    let service = ws.service(code)?;
    let channel = ws.config()?.channel;
    let depth_here = service.depth(channel);
    let value = serde_json::json!({
        "service": service,
        "channel_here": channel,
        "depth_here": depth_here,
    });
    let lang = ctx.lang;
    Report::new(&value, |out| {
        let s = &service;
        writeln!(out, "{}  {}", s.code, s.title.get(lang))?;
        writeln!(out, "  {}", s.description.get(lang))?;
        let fee_line = match &s.fee {
            Fee::Free => "free".to_owned(),
            Fee::Charged { amount, tier } => format!(
                "{amount} ({})",
                match tier {
                    FeeTier::Standard => "standard",
                    FeeTier::Subsidized => "subsidized",
                    FeeTier::Commercial => "commercial",
                }
            ),
        };
        let channels = s
            .channels
            .iter()
            .map(|(c, d)| format!("{} {}", c.as_str(), d.as_str()))
            .collect::<Vec<_>>();
        fields(
            out,
            "  ",
            &[
                ("category", s.category.clone()),
                ("agency", s.agency.clone()),
                ("fee", fee_line),
                ("exempt", join_or_none(&s.exemptions)),
                ("processing", format!("{} working days", s.processing_days)),
                (
                    "here",
                    format!(
                        "{} on {}",
                        depth_here.map_or("not offered", |d| d.as_str()),
                        channel.as_str()
                    ),
                ),
                ("channels", join_or_none(&channels)),
                (
                    "offered",
                    match &s.availability {
                        Availability::Everywhere => "everywhere".to_owned(),
                        Availability::Centers { centers } => format!("at {}", centers.join(", ")),
                    },
                ),
                ("life events", join_or_none(&s.life_events)),
                ("target groups", join_or_none(&s.target_groups)),
            ],
        )?;
        writeln!(out, "\nDocuments")?;
        if s.documents.is_empty() {
            writeln!(out, "  none")?;
        } else {
            let mut table = Table::new(&["CODE", "DOCUMENT", "KIND"]);
            for d in &s.documents {
                table.row(vec![
                    d.code.clone(),
                    d.name.get(lang).to_owned(),
                    wire_name(&d.kind),
                ]);
            }
            table.write(out, "  ")?;
        }
        writeln!(out, "\nForm")?;
        if s.form.is_empty() {
            writeln!(out, "  no fields")?;
        } else {
            let mut table = Table::new(&["FIELD", "LABEL", "TYPE", "REQUIRED"]);
            for f in &s.form {
                table.row(vec![
                    f.code.clone(),
                    f.label.get(lang).to_owned(),
                    field_type(f, lang),
                    if f.required { "yes" } else { "no" }.to_owned(),
                ]);
            }
            table.write(out, "  ")?;
        }
        Ok(())
    })
}

/// A field's type and rules in a few words, so the clerk knows what to type.
fn field_type(field: &FormField, lang: &str) -> String {
    let range = |min: Option<String>, max: Option<String>| match (min, max) {
        (None, None) => String::new(),
        (min, max) => format!(" {}..{}", min.unwrap_or_default(), max.unwrap_or_default()),
    };
    match &field.kind {
        FieldKind::Text {
            min_length,
            max_length,
        } => {
            let r = range(
                min_length.map(|n| n.to_string()),
                max_length.map(|n| n.to_string()),
            );
            if r.is_empty() {
                "text".to_owned()
            } else {
                format!("text,{r} chars")
            }
        }
        FieldKind::Date {
            not_future,
            not_past,
        } => match (not_future, not_past) {
            (true, _) => "date, not in the future".to_owned(),
            (_, true) => "date, not in the past".to_owned(),
            _ => "date".to_owned(),
        },
        FieldKind::Number { min, max } => format!(
            "number{}",
            range(min.map(|n| n.to_string()), max.map(|n| n.to_string()))
        ),
        FieldKind::Choice { options } => format!(
            "one of: {}",
            options
                .iter()
                .map(|o| format!("{} ({})", o.code, o.label.get(lang)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        FieldKind::NationalId => "national id".to_owned(),
        FieldKind::Phone => "phone".to_owned(),
    }
}
