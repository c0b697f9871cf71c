//! The SQLite backend: one file, one connection behind a mutex. SQLite has one writer at a
//! time anyway, and each exchange is one `BEGIN IMMEDIATE` transaction, so the plan sees
//! exactly the state it is written to. Work runs on the blocking pool so the server's async
//! threads never wait on the disk. A write that finds the file locked by another connection
//! (a command run beside the server) waits up to `BUSY_TIMEOUT`, then is the database being
//! busy: a 503 to try again (`Error::DatabaseBusy`).

use std::path::Path;
use std::sync::{Arc, LazyLock, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use guichet_domain::account::{Account, Role};
use guichet_domain::catalogue::{Catalogue, Service};
use guichet_domain::hlc::HlcStamp;
use guichet_domain::money::{Currency, Money};
use guichet_domain::request::Action;
use guichet_protocol::{AuditClaim, AuditPoint, ExchangeRequest, Pulled, PulledChange};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

use super::rows::{
    RawAccount, RawCenter, RawContact, RawDevice, RawRelease, RawRequest, RequestJson,
};
use super::sql::{
    ACCOUNT_COLUMNS, CENTER_CODES, DEVICE_HEALTH, Dialect, FAILED_LOGINS, LATEST_CATALOGUE,
    LATEST_CATALOGUE_VERSION, REFUSALS, RELEASE_KEY, REQUEST_COLUMNS, Statements,
    TAKE_PREFIX_INDEX,
};
use super::{
    ExchangeContext, Exchanged, SQLITE_MIGRATIONS, Storage, account_entry, already_published,
    catalogue_for, check_code, corrupt, decision, new_device_identity, pull_limit, pull_page,
    release_row,
};
use crate::anchor::{Verdict, judge};
use crate::error::{Error, Missing, Result};
use crate::model::{
    AccountChange, AgencyCredential, Center, CenterUpdate, ClerkAccount, Contact, Device,
    DeviceHealth, FleetHealth, Refusal, RefusalCount, Release, ServerRequest, Stamp,
};
use crate::plan::{
    AccountStanding, PaymentStanding, Plan, Pusher, Snapshot, Wants, agency_decision, plan,
};
use crate::release::Version;

static SQL: LazyLock<Statements> = LazyLock::new(|| Statements::new(Dialect::Sqlite));

/// How long a statement waits for a lock another connection holds on the file.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct SqliteStorage {
    conn: Arc<Mutex<Connection>>,
}

impl SqliteStorage {
    /// Opens (creating if absent) and migrates the database file, readable by its user alone
    /// (SQLite gives its WAL and shared-memory files the database file's mode).
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        private(path)?;
        let mut conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        migrate(&mut conn)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    async fn run<T, F>(&self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn
                .lock()
                .map_err(|_| Error::Task("the SQLite connection's lock was poisoned".into()))?;
            work(&mut guard)
        })
        .await
        .map_err(|e| Error::Task(e.to_string()))?
    }
}

/// Creates the file empty if it is not there, and makes it its user's alone before SQLite
/// opens it, so it is never readable by others, even for a moment.
fn private(path: &Path) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    drop(options.open(path)?);
    #[cfg(unix)]
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    Ok(())
}

/// Applies the embedded migrations above `PRAGMA user_version`, all in one transaction.
fn migrate(conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Exclusive)?;
    let found: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    for migration in guichet_migrations::pending(SQLITE_MIGRATIONS, found)? {
        tx.execute_batch(migration.sql)
            .map_err(|e| Error::migration(migration, e))?;
        tx.pragma_update(None, "user_version", migration.version as i64)?;
    }
    tx.commit()?;
    Ok(())
}

fn center_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawCenter> {
    Ok(RawCenter {
        code: r.get(0)?,
        name: r.get(1)?,
        kind: r.get(2)?,
        time_zone: r.get(3)?,
        currency: r.get(4)?,
        waiting_target_min: r.get(5)?,
    })
}

fn device_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawDevice> {
    Ok(RawDevice {
        code: r.get(0)?,
        center: r.get(1)?,
        receipt_prefix: r.get(2)?,
        label: r.get(3)?,
        revoked: r.get(4)?,
        enrolled_at: r.get(5)?,
        wipe_requested_at: r.get(6)?,
        wiped_at: r.get(7)?,
    })
}

fn agency_credential_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AgencyCredential> {
    Ok(AgencyCredential {
        id: r.get(0)?,
        agency: r.get(1)?,
        issued_at: r.get(2)?,
        expires_at: r.get(3)?,
        revoked_at: r.get(4)?,
    })
}

fn request_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawRequest> {
    Ok(RawRequest {
        id: r.get(0)?,
        receipt: r.get(1)?,
        center: r.get(2)?,
        device: r.get(3)?,
        service: r.get(4)?,
        agency: r.get(5)?,
        catalogue_version: r.get(6)?,
        citizen: r.get(7)?,
        status: r.get(8)?,
        fee: r.get(9)?,
        paid_minor: r.get(10)?,
        waiver: r.get(11)?,
        exemptions: r.get(12)?,
        form: r.get(13)?,
        documents: r.get(14)?,
        reason: r.get(15)?,
        updated_hlc: r.get(16)?,
    })
}

fn release_row_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawRelease> {
    Ok(RawRelease {
        version: r.get(0)?,
        file_name: r.get(1)?,
        size: r.get(2)?,
        sha256: r.get(3)?,
        signature: r.get(4)?,
        notes: r.get(5)?,
        centres: r.get(6)?,
        published_at: r.get(7)?,
    })
}

fn load_center(tx: &Connection, code: &str) -> Result<Center> {
    let row = tx
        .query_row(&SQL.center, [code], center_row)
        .optional()?
        .ok_or_else(|| Error::not_found(Missing::Centre, code))?;
    row.into_center()
}

fn latest_catalogue(tx: &Connection) -> Result<Option<Catalogue>> {
    let body: Option<String> = tx
        .query_row(LATEST_CATALOGUE, [], |r| r.get(0))
        .optional()?;
    Ok(body.as_deref().map(serde_json::from_str).transpose()?)
}

/// Appends to a centre's log.
fn append_log(
    tx: &Transaction<'_>,
    center: &str,
    origin: &str,
    hlc: &HlcStamp,
    body: &Pulled,
) -> Result<u64> {
    let seq: i64 = tx.query_row(&SQL.next_log_seq, [center], |r| r.get(0))?;
    tx.execute(
        &SQL.insert_log,
        params![
            center,
            seq,
            origin,
            hlc.to_string(),
            serde_json::to_string(body)?
        ],
    )?;
    u64::try_from(seq).map_err(corrupt)
}

/// The snapshot reads the requests a push names one by one.
static REQUEST_BY_ID: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {REQUEST_COLUMNS} FROM requests WHERE id = ?1"));

fn load_request(tx: &Connection, sql: &str, key: &str) -> Result<Option<ServerRequest>> {
    tx.query_row(sql, [key], request_row)
        .optional()?
        .map(RawRequest::into_request)
        .transpose()
}

/// Accounts with their centres (as a JSON array), filtered by the SQL condition `filter` on
/// `?1`.
fn load_accounts(tx: &Connection, filter: &str, key: Option<&str>) -> Result<Vec<ClerkAccount>> {
    let mut stmt = tx.prepare_cached(&format!(
        "SELECT {ACCOUNT_COLUMNS},
            (SELECT json_group_array(center) FROM
                (SELECT center FROM account_centers m WHERE m.username = a.username
                 ORDER BY center))
         FROM accounts a WHERE {filter} ORDER BY a.username"
    ))?;
    let rows = stmt
        .query_map([key], |r| {
            Ok((
                RawAccount {
                    username: r.get(0)?,
                    display_name: r.get(1)?,
                    role: r.get(2)?,
                    active: r.get(3)?,
                    verifier: r.get(4)?,
                    created_at: r.get(5)?,
                    updated_at: r.get(6)?,
                    centers: Vec::new(),
                },
                r.get::<_, String>(7)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.into_iter()
        .map(|(mut raw, centers)| {
            raw.centers = serde_json::from_str(&centers)?;
            raw.into_account()
        })
        .collect()
}

fn load_account(tx: &Connection, username: &str) -> Result<ClerkAccount> {
    load_accounts(tx, "a.username = ?1", Some(username))?
        .pop()
        .ok_or_else(|| Error::UnknownClerk {
            username: username.to_owned(),
        })
}

fn load_snapshot(tx: &Connection, center: &str, wants: &Wants) -> Result<Snapshot> {
    let mut snapshot = Snapshot::default();
    let mut stmt =
        tx.prepare_cached("SELECT content_hash, log_seq FROM applied_changes WHERE id = ?1")?;
    for id in &wants.change_ids {
        if let Some(known) = stmt
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?
        {
            snapshot.applied.insert(id.clone(), known);
        }
    }
    for id in &wants.requests {
        if let Some(request) = load_request(tx, &REQUEST_BY_ID, id)? {
            snapshot.requests.insert(id.clone(), request);
        }
    }
    let mut stmt =
        tx.prepare_cached("SELECT 1 FROM citizens WHERE center = ?1 AND national_id = ?2")?;
    for id in &wants.citizens {
        if stmt.exists(params![center, id])? {
            snapshot.citizens.insert(id.clone());
        }
    }
    let mut stmt =
        tx.prepare_cached("SELECT body FROM catalogue_services WHERE version = ?1 AND code = ?2")?;
    for (version, code) in &wants.services {
        let body: Option<String> = stmt
            .query_row(params![version, code], |r| r.get(0))
            .optional()?;
        if let Some(body) = body {
            let service: Service = serde_json::from_str(&body)?;
            snapshot.services.insert((*version, code.clone()), service);
        }
    }
    let mut stmt = tx.prepare_cached(
        "SELECT role, active,
            EXISTS (SELECT 1 FROM account_centers m WHERE m.username = a.username AND m.center = ?2)
         FROM accounts a WHERE username = ?1",
    )?;
    for username in &wants.accounts {
        let row: Option<(String, bool, bool)> = stmt
            .query_row(params![username, center], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        if let Some((role, active, of_center)) = row {
            let standing = AccountStanding {
                role: Role::parse(&role).map_err(corrupt)?,
                active,
                of_center,
            };
            snapshot.accounts.insert(username.clone(), standing);
        }
    }
    let mut stmt = tx.prepare_cached(
        "SELECT p.request, p.amount_minor, p.currency,
            coalesce((SELECT sum(f.amount_minor) FROM refunds f WHERE f.payment = p.id), 0)
         FROM payments p WHERE p.id = ?1",
    )?;
    for id in &wants.payments {
        let row: Option<(String, i64, String, i64)> = stmt
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .optional()?;
        if let Some((request, minor, currency, refunded_minor)) = row {
            let currency = Currency::parse(&currency).map_err(corrupt)?;
            snapshot.payments.insert(
                id.clone(),
                PaymentStanding {
                    request,
                    amount: Money::new(minor, currency),
                    refunded_minor,
                },
            );
        }
    }
    let mut stmt = tx.prepare_cached("SELECT 1 FROM requests WHERE receipt = ?1")?;
    for receipt in &wants.receipts {
        if stmt.exists([receipt])? {
            snapshot.receipts.insert(receipt.clone());
        }
    }
    let mut stmt = tx.prepare_cached("SELECT 1 FROM refunds WHERE id = ?1")?;
    for id in &wants.refunds {
        if stmt.exists([id])? {
            snapshot.refunds.insert(id.clone());
        }
    }
    Ok(snapshot)
}

fn upsert_request(tx: &Transaction<'_>, request: &ServerRequest) -> Result<()> {
    let json = RequestJson::of(request)?;
    tx.execute(
        &SQL.upsert_request,
        params![
            request.id,
            request.receipt,
            request.center,
            request.device,
            request.service,
            request.agency,
            request.catalogue_version,
            request.citizen,
            request.status.as_str(),
            json.fee,
            request.paid_minor,
            request.waiver,
            json.exemptions,
            json.form,
            json.documents,
            request.reason,
            request.updated_hlc,
        ],
    )?;
    Ok(())
}

/// Writes a plan, and gives its applied entries their places in the centre's log.
fn write_plan(tx: &Transaction<'_>, device: &Device, plan: &mut Plan, at: &Stamp) -> Result<()> {
    let head: i64 = tx.query_row(&SQL.log_head, [&device.center], |r| r.get(0))?;
    let seqs = plan
        .peer_log
        .iter()
        .map(|entry| {
            append_log(
                tx,
                &device.center,
                &device.code,
                &entry.hlc,
                &Pulled::Peer {
                    device: device.code.clone(),
                    change: entry.change.clone(),
                },
            )
        })
        .collect::<Result<Vec<u64>>>()?;
    let places = plan.logged(u64::try_from(head).map_err(corrupt)?, &seqs);
    let applied_at = at.wall.to_rfc3339();
    for (change, log_seq) in plan.applied.iter().zip(&places) {
        tx.execute(
            "INSERT INTO applied_changes (id, content_hash, device, seq, kind, applied_at, log_seq,
                actor, approver)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                change.id,
                change.content_hash,
                device.code,
                i64::try_from(change.seq).map_err(corrupt)?,
                change.kind,
                applied_at,
                i64::try_from(*log_seq).map_err(corrupt)?,
                change.actor,
                change.approver,
            ],
        )?;
    }
    for session in &plan.sessions {
        tx.execute(
            "INSERT INTO session_events (change_id, center, device, clerk, event, hlc, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                session.change_id,
                device.center,
                device.code,
                session.clerk,
                session.event.as_str(),
                session.hlc.to_string(),
                applied_at,
            ],
        )?;
    }
    for citizen in &plan.citizens {
        tx.execute(
            "INSERT INTO citizens (center, national_id, body) VALUES (?1, ?2, ?3)
             ON CONFLICT (center, national_id) DO UPDATE SET body = excluded.body",
            params![
                device.center,
                citizen.national_id,
                serde_json::to_string(citizen)?
            ],
        )?;
    }
    for request in &plan.requests {
        upsert_request(tx, request)?;
    }
    for payment in &plan.payments {
        tx.execute(
            "INSERT INTO payments (id, request, amount_minor, currency, method, receipt)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                payment.id,
                payment.request,
                payment.amount.minor,
                payment.amount.currency.code(),
                payment.method,
                payment.receipt,
            ],
        )?;
    }
    for refund in &plan.refunds {
        tx.execute(
            "INSERT INTO refunds (id, payment, request, amount_minor, currency, reason, receipt,
                clerk, approver)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                refund.id,
                refund.payment,
                refund.request,
                refund.amount.minor,
                refund.amount.currency.code(),
                refund.reason,
                refund.receipt,
                refund.clerk,
                refund.approver,
            ],
        )?;
    }
    Ok(())
}

/// The next page for a device: its centre's log after the cursor, without its own changes.
fn pull(
    tx: &Connection,
    device: &Device,
    cursor: u64,
    limit: u32,
) -> Result<(Vec<PulledChange>, u64, bool)> {
    let limit = pull_limit(limit);
    let mut stmt = tx.prepare_cached(&SQL.pull)?;
    let rows = stmt.query_map(
        params![
            device.center,
            i64::try_from(cursor).unwrap_or(i64::MAX),
            device.code,
            i64::from(limit) + 1
        ],
        |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        },
    )?;
    let (changes, more) = pull_page(rows.map(|row| row.map_err(Error::from)), limit)?;
    let next = if more {
        changes.last().map_or(cursor, |c| c.seq)
    } else {
        let head: i64 = tx.query_row(&SQL.log_head, [&device.center], |r| r.get(0))?;
        u64::try_from(head).map_err(corrupt)?
    };
    Ok((changes, next, more))
}

#[async_trait]
impl Storage for SqliteStorage {
    async fn add_center(&self, center: &Center, at: &Stamp) -> Result<()> {
        let center = center.clone();
        let at = at.clone();
        self.run(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let inserted = tx.execute(
                &SQL.insert_center,
                params![
                    center.code,
                    center.name,
                    center.kind.as_str(),
                    center.time_zone.name(),
                    center.currency.code(),
                    center.waiting_target_min,
                    at.wall.to_rfc3339()
                ],
            )?;
            if inserted == 0 {
                return Err(Error::Conflict(format!(
                    "centre {} already exists",
                    center.code
                )));
            }
            if let Some(catalogue) = latest_catalogue(&tx)? {
                let body = Pulled::Catalogue {
                    catalogue: catalogue_for(&catalogue, &center.code),
                };
                append_log(&tx, &center.code, "", &at.hlc, &body)?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn centers(&self) -> Result<Vec<Center>> {
        self.run(|conn| {
            let mut stmt = conn.prepare(&SQL.centers)?;
            let rows = stmt
                .query_map([], center_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            rows.into_iter().map(RawCenter::into_center).collect()
        })
        .await
    }

    async fn center(&self, code: &str) -> Result<Center> {
        let code = code.to_owned();
        self.run(move |conn| load_center(conn, &code)).await
    }

    async fn update_center(&self, code: &str, update: &CenterUpdate) -> Result<Center> {
        let code = code.to_owned();
        let update = update.clone();
        self.run(move |conn| {
            conn.query_row(
                &SQL.update_center,
                params![
                    code,
                    update.name,
                    update
                        .time_zone
                        .as_ref()
                        .map(guichet_domain::zone::Zone::name),
                    update.waiting_target_min
                ],
                center_row,
            )
            .optional()?
            .ok_or_else(|| Error::not_found(Missing::Centre, code))?
            .into_center()
        })
        .await
    }

    async fn publish_catalogue(&self, catalogue: &Catalogue, at: &Stamp) -> Result<()> {
        let catalogue = catalogue.clone();
        let at = at.clone();
        self.run(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let latest: Option<i64> = tx.query_row(LATEST_CATALOGUE_VERSION, [], |r| r.get(0))?;
            if let Some(latest) = latest.filter(|l| *l >= i64::from(catalogue.version)) {
                return Err(Error::Conflict(format!(
                    "catalogue version {} is not above the published version {latest}",
                    catalogue.version
                )));
            }
            tx.execute(
                &SQL.insert_catalogue_version,
                params![
                    catalogue.version,
                    serde_json::to_string(&catalogue)?,
                    at.wall.to_rfc3339()
                ],
            )?;
            for service in &catalogue.services {
                tx.execute(
                    &SQL.insert_catalogue_service,
                    params![
                        catalogue.version,
                        service.code,
                        serde_json::to_string(service)?
                    ],
                )?;
            }
            let codes: Vec<String> = tx
                .prepare(CENTER_CODES)?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            for code in codes {
                let body = Pulled::Catalogue {
                    catalogue: catalogue_for(&catalogue, &code),
                };
                append_log(&tx, &code, "", &at.hlc, &body)?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn latest_catalogue(&self) -> Result<Option<Catalogue>> {
        self.run(|conn| latest_catalogue(conn)).await
    }

    async fn latest_catalogue_version(&self) -> Result<Option<u32>> {
        self.run(|conn| {
            let latest: Option<i64> = conn.query_row(LATEST_CATALOGUE_VERSION, [], |r| r.get(0))?;
            latest
                .map(|v| u32::try_from(v).map_err(corrupt))
                .transpose()
        })
        .await
    }

    async fn add_enrolment_code(
        &self,
        center: &str,
        code_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        let (center, code_hash) = (center.to_owned(), code_hash.to_owned());
        self.run(move |conn| {
            load_center(conn, &center)?;
            conn.execute(
                &SQL.insert_enrolment_code,
                params![code_hash, center, expires_at.to_rfc3339()],
            )?;
            Ok(())
        })
        .await
    }

    async fn enroll(
        &self,
        code_hash: &str,
        token_hash: &str,
        label: Option<&str>,
        recovery_key: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(Center, Device)> {
        let (code_hash, token_hash) = (code_hash.to_owned(), token_hash.to_owned());
        let (label, recovery_key) = (label.map(str::to_owned), recovery_key.map(str::to_owned));
        self.run(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let row = tx
                .query_row(&SQL.enrolment_code, [&code_hash], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .optional()?;
            let center = load_center(&tx, &check_code(row, now)?)?;
            let index: i64 = tx.query_row(TAKE_PREFIX_INDEX, [], |r| r.get(0))?;
            let (code, prefix) = new_device_identity(&center.code, index)?;
            let enrolled_at = now.to_rfc3339();
            tx.execute(
                &SQL.insert_device,
                params![
                    code,
                    center.code,
                    prefix.as_str(),
                    token_hash,
                    label,
                    enrolled_at
                ],
            )?;
            if let Some(key) = &recovery_key {
                tx.execute(&SQL.set_recovery_key, params![code, key])?;
            }
            tx.execute(
                &SQL.use_enrolment_code,
                params![code_hash, enrolled_at, code],
            )?;
            tx.commit()?;
            Ok((
                center.clone(),
                Device {
                    code,
                    center: center.code,
                    receipt_prefix: prefix,
                    label,
                    revoked: false,
                    enrolled_at,
                    wipe_requested_at: None,
                    wiped_at: None,
                },
            ))
        })
        .await
    }

    async fn device_by_token(&self, token_hash: &str) -> Result<Option<Device>> {
        let token_hash = token_hash.to_owned();
        self.run(move |conn| {
            // The new credential in use: the one before the rotation is no longer needed.
            conn.execute(&SQL.settle_token, [&token_hash])?;
            conn.query_row(&SQL.device_by_token, [&token_hash], device_row)
                .optional()?
                .map(RawDevice::into_device)
                .transpose()
        })
        .await
    }

    async fn add_account(
        &self,
        account: &Account,
        centers: &[String],
        at: &Stamp,
    ) -> Result<ClerkAccount> {
        let account = account.clone();
        let centers = centers.to_vec();
        let at = at.clone();
        self.run(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let inserted = tx.execute(
                &SQL.insert_account,
                params![
                    account.username,
                    account.display_name,
                    account.role.as_str(),
                    account.active,
                    account.verifier.as_str(),
                    at.wall.to_rfc3339(),
                ],
            )?;
            if inserted == 0 {
                return Err(Error::ClerkExists {
                    username: account.username,
                });
            }
            for center in &centers {
                load_center(&tx, center)?;
                tx.execute(
                    &SQL.insert_account_center,
                    params![account.username, center],
                )?;
            }
            let stored = load_account(&tx, &account.username)?;
            for center in &stored.centers {
                append_log(&tx, center, "", &at.hlc, &account_entry(&stored))?;
            }
            tx.commit()?;
            Ok(stored)
        })
        .await
    }

    async fn accounts(&self, center: Option<&str>) -> Result<Vec<ClerkAccount>> {
        let center = center.map(str::to_owned);
        self.run(move |conn| load_accounts(conn, &SQL.accounts_of_center, center.as_deref()))
            .await
    }

    async fn change_account(
        &self,
        username: &str,
        change: &AccountChange,
        at: &Stamp,
    ) -> Result<ClerkAccount> {
        let username = username.to_owned();
        let change = change.clone();
        let at = at.clone();
        self.run(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let next = load_account(&tx, &username)?.changed(&change, &at.wall.to_rfc3339())?;
            tx.execute(
                &SQL.change_account,
                params![
                    username,
                    next.account.role.as_str(),
                    next.account.active,
                    next.account.verifier.as_str(),
                    next.updated_at,
                ],
            )?;
            for center in &next.centers {
                append_log(&tx, center, "", &at.hlc, &account_entry(&next))?;
            }
            tx.commit()?;
            Ok(next)
        })
        .await
    }

    async fn add_agency_token(
        &self,
        credential: &AgencyCredential,
        token_hash: &str,
    ) -> Result<()> {
        let (credential, token_hash) = (credential.clone(), token_hash.to_owned());
        self.run(move |conn| {
            conn.execute(
                &SQL.insert_agency_token,
                params![
                    token_hash,
                    credential.agency,
                    credential.issued_at,
                    credential.id,
                    credential.expires_at
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn agency_by_token(&self, token_hash: &str) -> Result<Option<AgencyCredential>> {
        let token_hash = token_hash.to_owned();
        self.run(move |conn| {
            Ok(conn
                .query_row(&SQL.agency_by_token, [&token_hash], agency_credential_row)
                .optional()?)
        })
        .await
    }

    async fn agency_credentials(&self, agency: Option<&str>) -> Result<Vec<AgencyCredential>> {
        let agency = agency.map(str::to_owned);
        self.run(move |conn| {
            let mut stmt = conn.prepare(&SQL.agency_credentials)?;
            let rows = stmt
                .query_map([&agency], agency_credential_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .await
    }

    async fn revoke_agency_credential(&self, id: &str, at: &str) -> Result<AgencyCredential> {
        let (id, at) = (id.to_owned(), at.to_owned());
        self.run(move |conn| {
            conn.query_row(
                &SQL.revoke_agency_credential,
                params![id, at],
                agency_credential_row,
            )
            .optional()?
            .ok_or(Error::UnknownAgencyCredential { id })
        })
        .await
    }

    async fn rotate_device_token(&self, device: &str, token_hash: &str) -> Result<()> {
        let (device, token_hash) = (device.to_owned(), token_hash.to_owned());
        self.run(move |conn| {
            let updated = conn.execute(&SQL.rotate_token, params![device, token_hash])?;
            if updated == 0 {
                return Err(Error::not_found(Missing::Device, device));
            }
            Ok(())
        })
        .await
    }

    async fn anchor_audit(
        &self,
        device: &str,
        claim: Option<&AuditClaim>,
        at: &str,
    ) -> Result<Verdict> {
        let (device, claim, at) = (device.to_owned(), claim.cloned(), at.to_owned());
        self.run(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let held = tx
                .query_row(&SQL.audit_head, [&device], |r| {
                    Ok(AuditPoint {
                        seq: r.get(0)?,
                        hash: r.get(1)?,
                    })
                })
                .optional()?;
            let verdict = judge(held.as_ref(), claim.as_ref())?;
            match &verdict {
                Verdict::Extends { head } => {
                    tx.execute(
                        &SQL.keep_audit_head,
                        params![device, head.seq, head.hash, at],
                    )?;
                }
                Verdict::Rewritten { reason } => {
                    tx.execute(&SQL.flag_audit, params![device, at, reason])?;
                }
                Verdict::Unchecked | Verdict::NeedsAnchor { .. } => {}
            }
            tx.commit()?;
            Ok(verdict)
        })
        .await
    }

    async fn count_refusal(&self, kind: Refusal, at: &str) -> Result<()> {
        let at = at.to_owned();
        self.run(move |conn| {
            conn.execute(&SQL.count_refusal, params![kind.as_str(), at])?;
            Ok(())
        })
        .await
    }

    async fn health(&self) -> Result<FleetHealth> {
        self.run(move |conn| {
            let mut stmt = conn.prepare(DEVICE_HEALTH)?;
            let devices = stmt
                .query_map([], |r| {
                    Ok(DeviceHealth {
                        device: r.get(0)?,
                        center: r.get(1)?,
                        revoked: r.get(2)?,
                        audit_seq: r.get(3)?,
                        audit_seen_at: r.get(4)?,
                        flag: r.get(5)?,
                        flagged_at: r.get(6)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut stmt = conn.prepare(REFUSALS)?;
            let refusals = stmt
                .query_map([], |r| {
                    Ok(RefusalCount {
                        kind: r.get(0)?,
                        count: r.get(1)?,
                        last_at: r.get(2)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let failed_logins = conn.query_row(FAILED_LOGINS, [], |r| r.get(0))?;
            Ok(FleetHealth {
                devices,
                refusals,
                failed_logins,
            })
        })
        .await
    }

    async fn devices(&self, center: Option<&str>) -> Result<Vec<Device>> {
        let center = center.map(str::to_owned);
        self.run(move |conn| {
            let mut stmt = conn.prepare(&SQL.devices)?;
            let rows = stmt
                .query_map([&center], device_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            rows.into_iter().map(RawDevice::into_device).collect()
        })
        .await
    }

    async fn device(&self, code: &str) -> Result<Option<Device>> {
        let code = code.to_owned();
        self.run(move |conn| {
            conn.query_row(&SQL.device, [&code], device_row)
                .optional()?
                .map(RawDevice::into_device)
                .transpose()
        })
        .await
    }

    async fn note_contact(&self, contact: &Contact) -> Result<()> {
        let c = contact.clone();
        self.run(move |conn| {
            conn.execute(
                &SQL.note_contact,
                params![
                    c.device,
                    c.app_version,
                    c.at,
                    c.waiting as i64,
                    c.refused as i64,
                    c.clock_offset_ms
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn contacts(&self, center: Option<&str>) -> Result<Vec<Contact>> {
        let center = center.map(str::to_owned);
        self.run(move |conn| {
            let mut stmt = conn.prepare(&SQL.contacts)?;
            let rows = stmt.query_map([&center], |r| {
                Ok(RawContact {
                    device: r.get(0)?,
                    app_version: r.get(1)?,
                    at: r.get(2)?,
                    waiting: r.get(3)?,
                    refused: r.get(4)?,
                    clock_offset_ms: r.get(5)?,
                })
            })?;
            Ok(rows
                .map(|row| row.map(RawContact::into_contact))
                .collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn revoke_device(&self, code: &str, wipe_at: Option<&str>) -> Result<Device> {
        let (code, wipe_at) = (code.to_owned(), wipe_at.map(str::to_owned));
        self.run(move |conn| {
            conn.query_row(&SQL.revoke_device, params![code, wipe_at], device_row)
                .optional()?
                .ok_or_else(|| Error::not_found(Missing::Device, code))?
                .into_device()
        })
        .await
    }

    async fn device_wiped(&self, code: &str, at: &str) -> Result<Device> {
        let (code, at) = (code.to_owned(), at.to_owned());
        self.run(move |conn| {
            conn.query_row(&SQL.device_wiped, [&code, &at], device_row)
                .optional()?
                .ok_or_else(|| Error::not_found(Missing::Device, code))?
                .into_device()
        })
        .await
    }

    async fn set_recovery_key(&self, device: &str, key: &str) -> Result<()> {
        let (device, key) = (device.to_owned(), key.to_owned());
        self.run(move |conn| {
            conn.execute(&SQL.set_recovery_key, [&device, &key])?;
            Ok(())
        })
        .await
    }

    async fn recovery_key(&self, device: &str) -> Result<Option<String>> {
        let device = device.to_owned();
        self.run(move |conn| {
            Ok(conn
                .query_row(&SQL.recovery_key, [&device], |r| {
                    r.get::<_, Option<String>>(0)
                })
                .optional()?
                .flatten())
        })
        .await
    }

    async fn exchange(
        &self,
        device: &Device,
        request: &ExchangeRequest,
        context: &ExchangeContext,
    ) -> Result<Exchanged> {
        let device = device.clone();
        let request = request.clone();
        let context = context.clone();
        self.run(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let center = load_center(&tx, &device.center)?;
            let snapshot = load_snapshot(&tx, &center.code, &Wants::of(&request.push))?;
            let pusher = Pusher {
                device: &device.code,
                center: &center.code,
                center_kind: center.kind,
                prefix: &device.receipt_prefix,
            };
            let mut plan = plan(pusher, &request.push, snapshot, context.national_ids);
            write_plan(&tx, &device, &mut plan, &context.stamp)?;
            let (changes, cursor, more) = pull(&tx, &device, request.cursor, request.limit)?;
            tx.commit()?;
            Ok(Exchanged {
                results: plan.results,
                changes,
                cursor,
                more,
            })
        })
        .await
    }

    async fn agency_requests(&self, agency: &str) -> Result<Vec<ServerRequest>> {
        let agency = agency.to_owned();
        self.run(move |conn| {
            let mut stmt = conn.prepare(&SQL.agency_requests)?;
            let rows = stmt
                .query_map([&agency], request_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            rows.into_iter().map(RawRequest::into_request).collect()
        })
        .await
    }

    async fn request_by_receipt(&self, receipt: &str) -> Result<ServerRequest> {
        let receipt = receipt.to_owned();
        self.run(move |conn| {
            load_request(conn, &SQL.request_by_receipt, &receipt)?
                .ok_or_else(|| Error::not_found(Missing::Request, receipt))
        })
        .await
    }

    async fn agency_decide(
        &self,
        receipt: &str,
        action: Action,
        reason: Option<&str>,
        actor: &str,
        at: &Stamp,
    ) -> Result<ServerRequest> {
        let (receipt, actor) = (receipt.to_owned(), actor.to_owned());
        let reason = reason.map(str::to_owned);
        let at = at.clone();
        self.run(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut request = load_request(&tx, &SQL.request_by_receipt, &receipt)?
                .ok_or_else(|| Error::not_found(Missing::Request, receipt.clone()))?;
            let from = request.status;
            request.status = agency_decision(&request, action, reason.as_deref())?;
            if reason.is_some() {
                request.reason = reason;
            }
            request.updated_hlc = at.hlc.to_string();
            upsert_request(&tx, &request)?;
            let body = decision(&request, action, from, &actor)?;
            append_log(&tx, &request.center, "", &at.hlc, &body)?;
            tx.commit()?;
            Ok(request)
        })
        .await
    }

    async fn set_release_key(&self, public_key: &str, at: &str) -> Result<()> {
        let (public_key, at) = (public_key.to_owned(), at.to_owned());
        self.run(move |conn| {
            conn.execute(&SQL.set_release_key, params![public_key, at])?;
            Ok(())
        })
        .await
    }

    async fn release_key(&self) -> Result<Option<String>> {
        self.run(|conn| Ok(conn.query_row(RELEASE_KEY, [], |r| r.get(0)).optional()?))
            .await
    }

    async fn publish_release(&self, release: &Release, package: Vec<u8>) -> Result<()> {
        let release = release.clone();
        self.run(move |conn| {
            let ([major, minor, patch], centres) = release_row(&release)?;
            let inserted = conn.execute(
                &SQL.insert_release,
                params![
                    release.version,
                    major,
                    minor,
                    patch,
                    release.file_name,
                    release.sha256,
                    release.signature,
                    release.notes,
                    centres,
                    release.published_at,
                    package,
                ],
            )?;
            if inserted == 0 {
                return Err(already_published(&release.version));
            }
            Ok(())
        })
        .await
    }

    async fn releases(&self) -> Result<Vec<Release>> {
        self.run(|conn| {
            let mut stmt = conn.prepare(&SQL.releases)?;
            let rows = stmt
                .query_map([], release_row_of)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            rows.into_iter().map(RawRelease::into_release).collect()
        })
        .await
    }

    async fn newest_release(&self, center: &str, above: Version) -> Result<Option<Release>> {
        let center = center.to_owned();
        self.run(move |conn| {
            conn.query_row(
                &SQL.newest_release,
                params![above.major, above.minor, above.patch, center],
                release_row_of,
            )
            .optional()?
            .map(RawRelease::into_release)
            .transpose()
        })
        .await
    }

    async fn release_for(&self, version: &str, center: &str) -> Result<Option<Release>> {
        let (version, center) = (version.to_owned(), center.to_owned());
        self.run(move |conn| {
            conn.query_row(&SQL.release_for, params![version, center], release_row_of)
                .optional()?
                .map(RawRelease::into_release)
                .transpose()
        })
        .await
    }

    async fn package_chunk(&self, version: &str, offset: u64, len: usize) -> Result<Vec<u8>> {
        let version = version.to_owned();
        self.run(move |conn| {
            let row: i64 = conn
                .query_row(
                    "SELECT rowid FROM releases WHERE version = ?1",
                    [&version],
                    |r| r.get(0),
                )
                .optional()?
                .ok_or_else(|| Error::not_found(Missing::Release, version))?;
            // Incremental I/O reads the pages of this piece only, where a query would read
            // the whole package for each piece.
            let package = conn.blob_open(rusqlite::MAIN_DB, c"releases", c"package", row, true)?;
            let start = usize::try_from(offset)
                .unwrap_or(usize::MAX)
                .min(package.len());
            let mut piece = vec![0; len.min(package.len() - start)];
            package.read_at_exact(&mut piece, start)?;
            Ok(piece)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode, header};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::*;
    use crate::http::{AppState, app};
    use crate::service::BackOffice;

    /// A write that finds the file locked past the busy timeout (another connection keeps a
    /// write transaction open) is the database busy: a 503 to try again shortly, with
    /// `Retry-After` and words that say so; once the file is free, the same write is served.
    #[tokio::test]
    async fn a_file_locked_past_the_busy_timeout_is_a_503_to_try_again_shortly() {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("bo.sqlite3");
        let storage = SqliteStorage::open(&path).unwrap();
        // The back office's own connection waits 100 ms instead of `BUSY_TIMEOUT`.
        storage
            .conn
            .lock()
            .unwrap()
            .busy_timeout(std::time::Duration::from_millis(100))
            .unwrap();
        let state = AppState::new(BackOffice::new(Arc::new(storage)), Some("admin".into()));
        let mut holder = Connection::open(&path).unwrap();
        let held = holder
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .unwrap();
        let add_center = || {
            Request::post("/admin/v1/centers")
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::AUTHORIZATION, "Bearer admin")
                .body(Body::from(
                    serde_json::json!({"code": "ATH-01", "name": "Athens", "kind": "stationary",
                        "time_zone": "Europe/Athens", "currency": "EUR"})
                    .to_string(),
                ))
                .unwrap()
        };

        let response = app(state.clone()).oneshot(add_center()).await.unwrap();
        let (parts, body) = response.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        assert_eq!(
            (
                parts.status,
                parts.headers.get(header::RETRY_AFTER).cloned(),
                serde_json::from_slice::<serde_json::Value>(&body).unwrap(),
            ),
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Some(header::HeaderValue::from_static("5")),
                serde_json::json!({"error": {"code": "unavailable", "message":
                    "the database is busy or slow just now (another connection kept its file \
                     locked past the wait): try again in a few seconds"}}),
            )
        );

        held.rollback().unwrap();
        let response = app(state).oneshot(add_center()).await.unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
    }
}
