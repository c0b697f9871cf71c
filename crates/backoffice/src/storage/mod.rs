//! Storage behind one trait, with a backend per database: SQLite (the embedded default, one
//! file) and PostgreSQL (production, many centres on one database). Both run the same plan
//! (`crate::plan`) inside one transaction per exchange. The statements they run alike are
//! written once (`sql`), and so are the rows they read (`rows`); each backend keeps what
//! really differs: its types, its transactions and locks, and how it reads and writes an
//! exchange's rows. One conformance story (`tests/story.rs`) runs against both.

mod postgres;
mod rows;
mod sql;
mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use guichet_domain::account::Account;
use guichet_domain::catalogue::Catalogue;
use guichet_domain::citizen::NationalIdScheme;
use guichet_domain::request::Action;
use guichet_protocol::{AuditClaim, ExchangeRequest, PulledChange, PushResult};

pub use guichet_migrations::Migration;

pub use self::postgres::PostgresStorage;
pub use self::sqlite::SqliteStorage;
use crate::anchor::Verdict;
use crate::error::{Error, Result};
use crate::model::{
    AccountChange, AgencyCredential, Center, CenterUpdate, ClerkAccount, Contact, Device,
    FleetHealth, Refusal, Release, ServerRequest, Stamp,
};
use crate::release::Version;

/// The most changes one pull returns, whatever the device asks for.
pub const MAX_PULL: u32 = 1000;

/// The migrations of the back office on SQLite, in order. Only ever append.
pub const SQLITE_MIGRATIONS: &[Migration] = &guichet_migrations::embed!(
    "../../../../schema/backoffice-sqlite",
    [
        "0001_initial.sql",
        "0002_agency_tokens.sql",
        "0003_applied_log_seq.sql",
        "0004_clerks.sql",
        "0005_refunds.sql",
        "0006_device_recovery.sql",
        "0007_credentials_and_audit_heads.sql",
        "0008_device_wipe.sql",
        "0009_center_time_zone.sql",
        "0010_device_contacts.sql",
        "0011_center_terms.sql",
        "0012_releases.sql",
    ]
);

/// The migrations of the back office on PostgreSQL, in order. Only ever append.
pub const POSTGRES_MIGRATIONS: &[Migration] = &guichet_migrations::embed!(
    "../../../../schema/backoffice-postgres",
    [
        "0001_initial.sql",
        "0002_agency_tokens.sql",
        "0003_applied_log_seq.sql",
        "0004_clerks.sql",
        "0005_refunds.sql",
        "0006_device_recovery.sql",
        "0007_credentials_and_audit_heads.sql",
        "0008_device_wipe.sql",
        "0009_center_time_zone.sql",
        "0010_device_contacts.sql",
        "0011_center_terms.sql",
        "0012_releases.sql",
    ]
);

/// What one exchange hands to the storage beyond the request.
#[derive(Debug, Clone)]
pub struct ExchangeContext {
    pub stamp: Stamp,
    pub national_ids: &'static dyn NationalIdScheme,
}

/// The storage's part of an exchange: the protocol response without the server clock.
#[derive(Debug, Clone, PartialEq)]
pub struct Exchanged {
    pub results: Vec<PushResult>,
    pub changes: Vec<PulledChange>,
    pub cursor: u64,
    pub more: bool,
}

#[async_trait]
pub trait Storage: Send + Sync + std::fmt::Debug {
    /// Adds a centre and queues the newest catalogue (filtered for it) for its devices.
    async fn add_center(&self, center: &Center, at: &Stamp) -> Result<()>;
    async fn centers(&self) -> Result<Vec<Center>>;
    async fn center(&self, code: &str) -> Result<Center>;
    /// Changes what `update` gives of a centre (its code, kind and currency stay) and returns
    /// the centre; `NotFound` if there is no such centre.
    async fn update_center(&self, code: &str, update: &CenterUpdate) -> Result<Center>;

    /// Stores a validated catalogue whose version is above every stored one, and queues it,
    /// filtered to the services each centre offers, for every centre's devices.
    async fn publish_catalogue(&self, catalogue: &Catalogue, at: &Stamp) -> Result<()>;
    async fn latest_catalogue_version(&self) -> Result<Option<u32>>;
    /// The catalogue last published, whole.
    async fn latest_catalogue(&self) -> Result<Option<Catalogue>>;

    async fn add_enrolment_code(
        &self,
        center: &str,
        code_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<()>;
    /// Uses a one-time code (once, before it expires) and creates the device with the next
    /// receipt prefix of the global counter, and its recovery key (in its written form) if
    /// given, all in one transaction.
    async fn enroll(
        &self,
        code_hash: &str,
        token_hash: &str,
        label: Option<&str>,
        recovery_key: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(Center, Device)>;
    /// The device holding this credential: its current one, or the one before a rotation
    /// until the new one is first used.
    async fn device_by_token(&self, token_hash: &str) -> Result<Option<Device>>;
    async fn devices(&self, center: Option<&str>) -> Result<Vec<Device>>;
    /// The device `code`, if there is one.
    async fn device(&self, code: &str) -> Result<Option<Device>>;
    /// Keeps what a device reported at its last successful exchange.
    async fn note_contact(&self, contact: &Contact) -> Result<()>;
    /// What each device (of `center`, or all) last reported, by device code.
    async fn contacts(&self, center: Option<&str>) -> Result<Vec<Contact>>;
    /// Revokes a device; with `wipe_at`, also asks it to erase its data (kept from the first
    /// time it was asked).
    async fn revoke_device(&self, code: &str, wipe_at: Option<&str>) -> Result<Device>;
    /// Records that a device erased its data, and forgets its recovery key.
    async fn device_wiped(&self, code: &str, at: &str) -> Result<Device>;
    /// Keeps the recovery key of a device's encrypted database.
    async fn set_recovery_key(&self, device: &str, key: &str) -> Result<()>;
    /// The recovery key a device sent, if any.
    async fn recovery_key(&self, device: &str) -> Result<Option<String>>;

    /// Adds an account for `centers` (each must exist; the membership rule is checked by the
    /// caller) and queues it (`Pulled::Account`) in each of those centres' logs.
    async fn add_account(
        &self,
        account: &Account,
        centers: &[String],
        at: &Stamp,
    ) -> Result<ClerkAccount>;
    /// The accounts, active and disabled, of one centre or of all, by user name.
    async fn accounts(&self, center: Option<&str>) -> Result<Vec<ClerkAccount>>;
    /// Changes an account (`ClerkAccount::changed` decides) and queues the new copy in the log
    /// of each of its centres.
    async fn change_account(
        &self,
        username: &str,
        change: &AccountChange,
        at: &Stamp,
    ) -> Result<ClerkAccount>;

    /// Keeps the hash of a credential of the agency API, good for its agency only.
    async fn add_agency_token(&self, credential: &AgencyCredential, token_hash: &str)
    -> Result<()>;
    /// The agency credential with this hash, revoked or expired ones included.
    async fn agency_by_token(&self, token_hash: &str) -> Result<Option<AgencyCredential>>;
    /// The agency credentials, of one agency or all, newest first.
    async fn agency_credentials(&self, agency: Option<&str>) -> Result<Vec<AgencyCredential>>;
    /// Revokes an agency credential by its id; revoking it again keeps the first date.
    async fn revoke_agency_credential(&self, id: &str, at: &str) -> Result<AgencyCredential>;

    /// Gives a device a new credential. The one it holds now stays valid until the new one is
    /// first used (`device_by_token` then forgets it); one rotated before that is dropped.
    async fn rotate_device_token(&self, device: &str, token_hash: &str) -> Result<()>;

    /// Judges a device's audit claim against the head held for it (`anchor::judge`) and, in
    /// the same transaction, keeps the new head when it extends, or flags the device when it
    /// does not.
    async fn anchor_audit(
        &self,
        device: &str,
        claim: Option<&AuditClaim>,
        at: &str,
    ) -> Result<Verdict>;

    /// Counts one refusal of `kind`.
    async fn count_refusal(&self, kind: Refusal, at: &str) -> Result<()>;
    /// Every device's audit standing, the refusals counted, the failed logins reported.
    async fn health(&self) -> Result<FleetHealth>;

    /// Applies a push and returns the next page for the device's centre, in one transaction.
    async fn exchange(
        &self,
        device: &Device,
        request: &ExchangeRequest,
        context: &ExchangeContext,
    ) -> Result<Exchanged>;

    /// Open requests (dispatched or in processing) of an agency, oldest first.
    async fn agency_requests(&self, agency: &str) -> Result<Vec<ServerRequest>>;
    async fn request_by_receipt(&self, receipt: &str) -> Result<ServerRequest>;
    /// Moves a request as the agency and queues the decision for the request's centre.
    async fn agency_decide(
        &self,
        receipt: &str,
        action: Action,
        reason: Option<&str>,
        actor: &str,
        at: &Stamp,
    ) -> Result<ServerRequest>;

    /// Keeps the public half of the release key (as `tauri signer generate` wrote it),
    /// replacing the one held.
    async fn set_release_key(&self, public_key: &str, at: &str) -> Result<()>;
    async fn release_key(&self) -> Result<Option<String>>;
    /// Stores a release (whose `size` is its package's) with its package. A version published
    /// already is refused: releases are never edited.
    async fn publish_release(&self, release: &Release, package: Vec<u8>) -> Result<()>;
    /// Every release, newest first, without their packages.
    async fn releases(&self) -> Result<Vec<Release>>;
    /// The newest release above `above` that is offered to `center`.
    async fn newest_release(&self, center: &str, above: Version) -> Result<Option<Release>>;
    /// Release `version` if it is offered to `center`; one for other centres is `None`, as a
    /// version never published is.
    async fn release_for(&self, version: &str, center: &str) -> Result<Option<Release>>;
    /// At most `len` bytes of release `version`'s package from `offset`, fewer at its end:
    /// a download reads it a piece at a time, never whole.
    async fn package_chunk(&self, version: &str, offset: u64, len: usize) -> Result<Vec<u8>>;
}

/// Opens the database a URL names, creating it (SQLite) and migrating it.
pub async fn open(url: &str) -> Result<Arc<dyn Storage>> {
    if let Some(path) = url.strip_prefix("sqlite://") {
        if path.is_empty() {
            return Err(Error::DatabaseUrl {
                shown: without_credentials(url),
            });
        }
        Ok(Arc::new(SqliteStorage::open(std::path::Path::new(path))?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresStorage::connect(url).await?))
    } else {
        Err(Error::DatabaseUrl {
            shown: without_credentials(url),
        })
    }
}

/// A database URL as a refusal may show it: without the user and password before `@`, nor
/// the parameters after `?` (a password may be one). Text with no scheme may be a connection
/// string whose parts hold a password: none of it is shown.
fn without_credentials(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "(a text with no scheme://)".to_owned();
    };
    let rest = rest.split_once('?').map_or(rest, |(before, _)| before);
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    format!("{scheme}://{host}{path}")
}

/// A stored value that does not read back.
pub(crate) fn corrupt(e: impl std::fmt::Display) -> Error {
    Error::Corrupt(e.to_string())
}

/// What a centre's devices pull after an account of the centre was added or changed.
pub(crate) fn account_entry(account: &ClerkAccount) -> guichet_protocol::Pulled {
    guichet_protocol::Pulled::Account {
        account: account.account.clone(),
    }
}

/// What both backends write of a release beyond its plain columns: its version's numbers, and
/// its centres as a JSON array (none for every centre).
pub(crate) fn release_row(release: &Release) -> Result<([i64; 3], Option<String>)> {
    let version = Version::parse(&release.version)?;
    let numbers = [version.major, version.minor, version.patch].map(i64::from);
    let centres = release
        .centres
        .as_ref()
        .map(serde_json::to_string)
        .transpose()?;
    Ok((numbers, centres))
}

/// The refusal of a version published already.
pub(crate) fn already_published(version: &str) -> Error {
    Error::Conflict(format!(
        "version {version} is published already: publish a new version"
    ))
}

/// How many changes a pull may return.
pub(crate) fn pull_limit(asked: u32) -> u32 {
    asked.min(MAX_PULL)
}

/// A pull page from log rows (seq, hlc, body) read in order, `limit + 1` at most: at most
/// `limit` changes and `MAX_PULL_BYTES` of stamps and bodies (but always the first change);
/// and whether more follow.
pub(crate) fn pull_page(
    rows: impl IntoIterator<Item = Result<(i64, String, String)>>,
    limit: u32,
) -> Result<(Vec<PulledChange>, bool)> {
    let mut changes = Vec::new();
    let mut bytes = 0;
    for row in rows {
        let (seq, hlc, body) = row?;
        let size = hlc.len() + body.len();
        if changes.len() >= limit as usize
            || (!changes.is_empty() && bytes + size > guichet_protocol::MAX_PULL_BYTES)
        {
            return Ok((changes, true));
        }
        bytes += size;
        changes.push(PulledChange {
            seq: u64::try_from(seq)
                .map_err(|_| Error::Corrupt(format!("log sequence {seq} is negative")))?,
            hlc: hlc.parse()?,
            body: serde_json::from_str(&body)?,
        });
    }
    Ok((changes, false))
}

/// A catalogue version as one centre sees it: only the services offered there.
pub(crate) fn catalogue_for(catalogue: &Catalogue, center: &str) -> Catalogue {
    Catalogue {
        services: catalogue
            .services
            .iter()
            .filter(|s| s.availability.offered_at(center))
            .cloned()
            .collect(),
        ..catalogue.clone()
    }
}

/// The decision a centre pulls after an agency moved one of its requests.
pub(crate) fn decision(
    request: &ServerRequest,
    action: Action,
    from: guichet_domain::request::RequestStatus,
    actor: &str,
) -> Result<guichet_protocol::Pulled> {
    Ok(guichet_protocol::Pulled::Decision {
        request: request.id.clone(),
        receipt: guichet_domain::receipt::ReceiptNumber::parse(&request.receipt)
            .map_err(corrupt)?,
        action,
        from,
        to: request.status,
        reason: request.reason.clone(),
        actor: actor.to_owned(),
    })
}

/// Checks an enrolment code's row: it must exist, be unused and not expired.
pub(crate) fn check_code(
    row: Option<(String, String, Option<String>)>,
    now: DateTime<Utc>,
) -> Result<String> {
    let Some((center, expires_at, used_at)) = row else {
        return Err(Error::Unauthorized(
            "unknown enrolment code: ask the administrator for a new one".into(),
        ));
    };
    if used_at.is_some() {
        return Err(Error::Conflict(
            "this enrolment code was already used: each code enrols one device".into(),
        ));
    }
    let expires = DateTime::parse_from_rfc3339(&expires_at)
        .map_err(corrupt)?
        .with_timezone(&Utc);
    if expires <= now {
        return Err(Error::Unauthorized(format!(
            "this enrolment code expired at {expires_at}: ask the administrator for a new one"
        )));
    }
    Ok(center)
}

/// The device code and receipt prefix for the device numbered `index` by the global counter.
pub(crate) fn new_device_identity(
    center: &str,
    index: i64,
) -> Result<(String, guichet_domain::receipt::ReceiptPrefix)> {
    let index = u32::try_from(index).map_err(|_| {
        Error::Conflict("every receipt prefix is taken: no more devices can be enrolled".into())
    })?;
    let prefix = guichet_domain::receipt::ReceiptPrefix::from_index(index)
        .map_err(|e| Error::Conflict(e.to_string()))?;
    Ok((format!("{center}-{prefix}"), prefix))
}

#[cfg(test)]
mod migration_tests {
    use std::path::Path;

    use super::{Migration, POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};

    fn check(folder: &str, migrations: &[Migration]) {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../schema")
            .join(folder);
        guichet_migrations::check_folder(&dir, migrations).unwrap();
    }

    #[test]
    fn every_file_of_the_sqlite_schema_folder_is_listed_in_order() {
        check("backoffice-sqlite", SQLITE_MIGRATIONS);
    }

    #[test]
    fn every_file_of_the_postgres_schema_folder_is_listed_in_order() {
        check("backoffice-postgres", POSTGRES_MIGRATIONS);
    }
}

#[cfg(test)]
mod page_tests {
    use guichet_domain::receipt::ReceiptNumber;
    use guichet_domain::request::{Action, RequestStatus};
    use guichet_protocol::{MAX_PULL_BYTES, Pulled};

    use super::pull_page;
    use crate::error::Result;

    /// Log rows whose bodies are decisions with a reason of `reason_bytes`.
    fn rows(count: i64, reason_bytes: usize) -> Vec<Result<(i64, String, String)>> {
        (1..=count)
            .map(|seq| {
                let body = Pulled::Decision {
                    request: format!("r{seq}"),
                    receipt: ReceiptNumber::parse("K7XA-0000-042E").unwrap(),
                    action: Action::Reject,
                    from: RequestStatus::Dispatched,
                    to: RequestStatus::Rejected,
                    reason: Some("x".repeat(reason_bytes)),
                    actor: "civil-registry".into(),
                };
                Ok((
                    seq,
                    "001773133200000-000001-bo".into(),
                    serde_json::to_string(&body).unwrap(),
                ))
            })
            .collect()
    }

    #[test]
    fn a_page_ends_before_the_change_that_would_pass_its_bytes() {
        let (page, more) = pull_page(rows(9, 1024 * 1024), 1000).unwrap();
        assert!(more);
        assert_eq!(
            page.len(),
            3,
            "three 1 MiB changes fit under 4 MiB, not four"
        );
        assert_eq!(page.last().unwrap().seq, 3);
        // One change larger than the cap still makes a page of one: paging goes on.
        let (page, more) = pull_page(rows(2, MAX_PULL_BYTES + 10), 1000).unwrap();
        assert_eq!((page.len(), more), (1, true));
        // Small changes stop at the count.
        let (page, more) = pull_page(rows(11, 10), 10).unwrap();
        assert_eq!((page.len(), more), (10, true));
        let (page, more) = pull_page(rows(10, 10), 10).unwrap();
        assert_eq!((page.len(), more), (10, false));
    }

    /// Stamps count towards a page's bytes as much as bodies: a few changes stamped with a
    /// huge node (kept before pushes bounded it) do not make a page larger than a device reads.
    #[test]
    fn a_pages_bytes_count_the_stamps_too() {
        let node = "n".repeat(1024 * 1024);
        let rows: Vec<Result<(i64, String, String)>> = rows(9, 10)
            .into_iter()
            .map(|row| {
                row.map(|(seq, _, body)| (seq, format!("001773133200000-000001-{node}"), body))
            })
            .collect();
        let (page, more) = pull_page(rows, 1000).unwrap();
        assert_eq!(
            (page.len(), more),
            (3, true),
            "three changes stamped with 1 MiB fit under 4 MiB, not four"
        );
    }
}
