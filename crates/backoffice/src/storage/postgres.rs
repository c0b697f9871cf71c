//! The PostgreSQL backend (production: many centres on one database), over tokio-postgres.
//!
//! Each exchange is one transaction that first locks its centre's row (`FOR UPDATE`): the
//! exchanges of one centre and the agency decisions on its requests are serialised, so the
//! plan sees the state it is written to, and the centre's log sequence (bumped on that same
//! row) becomes visible in order, so a pull cursor never skips a change committed late.
//! Different centres proceed in parallel on a pool of connections (deadpool-postgres) that
//! heals: a connection that died (the database restarted, the network dropped it) is found
//! closed when it is next taken and replaced, so the back office serves again as soon as the
//! database does, without a restart; meanwhile a request waits a bounded time and is answered
//! 503. A statement past the connections' time limits (`SESSION_LIMITS`) or a wait for a free
//! connection past `POOL_WAIT` is the database being busy: a 503 to try again too
//! (`Error::DatabaseBusy`). An exchange sends a fixed dozen statements whatever its size, prepared once per
//! connection (each connection's statement cache): the snapshot's reads
//! together, then one multi-row write per table from arrays (`UNNEST`), the centre's log
//! counter bumped once by the number of rows. TLS is not set up: the database is expected on
//! the same host or a private network.

use std::sync::LazyLock;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use deadpool_postgres::{ClientWrapper, Manager, ManagerConfig, Object, Pool, RecyclingMethod};
use guichet_domain::account::{Account, Role};
use guichet_domain::catalogue::{Catalogue, Service};
use guichet_domain::hlc::HlcStamp;
use guichet_domain::money::{Currency, Money};
use guichet_domain::request::Action;
use guichet_protocol::{AuditClaim, AuditPoint, ExchangeRequest, Pulled, PulledChange};
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, NoTls, Row, Statement, Transaction};

use super::rows::{
    RawAccount, RawCenter, RawContact, RawDevice, RawRelease, RawRequest, RequestJson,
};
use super::sql::{
    ACCOUNT_COLUMNS, CENTER_CODES, DEVICE_HEALTH, Dialect, FAILED_LOGINS, LATEST_CATALOGUE,
    LATEST_CATALOGUE_VERSION, REFUSALS, RELEASE_KEY, REQUEST_COLUMNS, REQUEST_UPSERT, Statements,
    TAKE_PREFIX_INDEX,
};
use super::{
    ExchangeContext, Exchanged, POSTGRES_MIGRATIONS, Storage, account_entry, already_published,
    catalogue_for, check_code, corrupt, decision, new_device_identity, pull_limit, pull_page,
    release_row,
};
use crate::anchor::{Verdict, judge};
use crate::error::{Error, Missing, Overrun, Result};
use crate::model::{
    AccountChange, AgencyCredential, Center, CenterUpdate, ClerkAccount, Contact, Device,
    DeviceHealth, FleetHealth, RefundRow, Refusal, RefusalCount, Release, ServerRequest, Stamp,
};
use crate::plan::{
    AccountStanding, PaymentStanding, Plan, Pusher, Snapshot, Wants, agency_decision, plan,
};
use crate::release::Version;

static SQL: LazyLock<Statements> = LazyLock::new(|| Statements::new(Dialect::Postgres));

/// The shared statements that also lock the rows they read until the transaction ends:
/// PostgreSQL runs writers side by side, where SQLite has one at a time.
struct Locking {
    center: String,
    center_codes: String,
    enrolment_code: String,
}

static LOCKING: LazyLock<Locking> = LazyLock::new(|| Locking {
    center: format!("{} FOR UPDATE", SQL.center),
    center_codes: format!("{CENTER_CODES} FOR UPDATE"),
    enrolment_code: format!("{} FOR UPDATE", SQL.enrolment_code),
});

/// The device holding a credential, settling a rotation in the same statement. The SELECT
/// sees the rows as they were before the UPDATE, which is all it needs.
static SETTLE_AND_FIND_DEVICE: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH settled AS ({} RETURNING code) {}",
        SQL.settle_token, SQL.device_by_token
    )
});

/// How many connections the back office keeps open at most.
const CONNECTIONS: usize = 8;

/// How long a request waits for a free connection, and for a new one to open: a database
/// that is down gets the request a 503 after this, not a hang.
const POOL_WAIT: Duration = Duration::from_secs(10);
const CONNECT_WAIT: Duration = Duration::from_secs(5);

/// What the pool's connections give up after, below the HTTP request limit
/// (`crate::http::DEFAULT_REQUEST_TIMEOUT`, 30 s), so that a stuck statement, a lock that is
/// not released or a transaction left open does not keep a pooled connection busy after its
/// request was answered: a statement that runs 20 s, a wait of 10 s for a lock, a transaction
/// idle for 20 s. A URL's own `options` come after these, so an operator's choice wins. The
/// migrations at start run on a connection of their own, without these limits.
const SESSION_LIMITS: &str = "-c statement_timeout=20s -c lock_timeout=10s \
     -c idle_in_transaction_session_timeout=20s";

/// How long the one statement that stores a release's package may run: as long as its
/// upload may take (`crate::http::RELEASE_UPLOAD_TIMEOUT`), as it writes up to 300 MiB.
const PACKAGE_STATEMENT_TIMEOUT: &str = "SET LOCAL statement_timeout = '600s'";

/// Any number, as long as every build uses the same one: it names the migration lock.
const MIGRATION_LOCK: i64 = 0x0067_7569_6368_6574;

#[derive(Debug)]
pub struct PostgresStorage {
    pool: Pool,
}

/// The statements every exchange runs. Each writes all its rows at once from arrays
/// (`UNNEST`), so a push costs about a dozen round trips whatever its size.
#[derive(Debug)]
struct Hot {
    lock_center: Statement,
    applied_ids: Statement,
    requests_by_id: Statement,
    citizens_known: Statement,
    services: Statement,
    accounts_known: Statement,
    payments_known: Statement,
    receipts_taken: Statement,
    refunds_known: Statement,
    insert_applied: Statement,
    insert_sessions: Statement,
    upsert_citizens: Statement,
    upsert_requests: Statement,
    insert_payments: Statement,
    insert_refunds: Statement,
    bump_log: Statement,
    insert_log: Statement,
    pull: Statement,
    log_head: Statement,
}

impl Hot {
    /// The statements, from the connection's cache: prepared on its first exchange only.
    async fn prepare(client: &ClientWrapper) -> Result<Self> {
        Ok(Hot {
            lock_center: client.prepare_cached(&LOCKING.center).await?,
            applied_ids: client
                .prepare_cached(
                    "SELECT id, content_hash, log_seq FROM applied_changes
                     WHERE id = ANY($1::text[])",
                )
                .await?,
            requests_by_id: client
                .prepare_cached(&format!(
                    "SELECT {REQUEST_COLUMNS} FROM requests WHERE id = ANY($1::text[])"
                ))
                .await?,
            citizens_known: client
                .prepare_cached(
                    "SELECT national_id FROM citizens
                     WHERE center = $1 AND national_id = ANY($2::text[])",
                )
                .await?,
            services: client
                .prepare_cached(
                    "SELECT s.version, s.code, s.body FROM catalogue_services s
                     JOIN UNNEST($1::bigint[], $2::text[]) AS w (version, code)
                       ON s.version = w.version AND s.code = w.code",
                )
                .await?,
            accounts_known: client
                .prepare_cached(
                    "SELECT a.username, a.role, a.active,
                        EXISTS (SELECT 1 FROM account_centers m
                                WHERE m.username = a.username AND m.center = $2)
                     FROM accounts a WHERE a.username = ANY($1::text[])",
                )
                .await?,
            payments_known: client
                .prepare_cached(
                    "SELECT p.id, p.request, p.amount_minor, p.currency,
                        coalesce((SELECT sum(f.amount_minor) FROM refunds f
                                  WHERE f.payment = p.id), 0)::bigint
                     FROM payments p WHERE p.id = ANY($1::text[])",
                )
                .await?,
            receipts_taken: client
                .prepare_cached("SELECT receipt FROM requests WHERE receipt = ANY($1::text[])")
                .await?,
            refunds_known: client
                .prepare_cached("SELECT id FROM refunds WHERE id = ANY($1::text[])")
                .await?,
            insert_applied: client
                .prepare_cached(
                    "INSERT INTO applied_changes (id, content_hash, device, seq, kind, applied_at,
                        log_seq, actor, approver)
                     SELECT id, content_hash, $3, seq, kind, $4, log_seq, actor, approver
                     FROM UNNEST($1::text[], $2::text[], $5::bigint[], $6::text[], $7::bigint[],
                        $8::text[], $9::text[])
                       AS t (id, content_hash, seq, kind, log_seq, actor, approver)",
                )
                .await?,
            insert_sessions: client
                .prepare_cached(
                    "INSERT INTO session_events (change_id, center, device, clerk, event, hlc,
                        received_at)
                     SELECT change_id, $1, $2, clerk, event, hlc, $3
                     FROM UNNEST($4::text[], $5::text[], $6::text[], $7::text[])
                       AS t (change_id, clerk, event, hlc)",
                )
                .await?,
            upsert_citizens: client
                .prepare_cached(
                    "INSERT INTO citizens (center, national_id, body)
                     SELECT $1, national_id, body FROM UNNEST($2::text[], $3::text[])
                       AS t (national_id, body)
                     ON CONFLICT (center, national_id) DO UPDATE SET body = excluded.body",
                )
                .await?,
            upsert_requests: client
                .prepare_cached(&format!(
                    "INSERT INTO requests ({REQUEST_COLUMNS})
                     SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[],
                        $5::text[], $6::text[], $7::bigint[], $8::text[], $9::text[], $10::text[],
                        $11::bigint[], $12::text[], $13::text[], $14::text[], $15::text[],
                        $16::text[], $17::text[])
                     {REQUEST_UPSERT}"
                ))
                .await?,
            insert_payments: client
                .prepare_cached(
                    "INSERT INTO payments (id, request, amount_minor, currency, method, receipt)
                     SELECT * FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::text[],
                        $5::text[], $6::text[])",
                )
                .await?,
            insert_refunds: client
                .prepare_cached(
                    "INSERT INTO refunds (id, payment, request, amount_minor, currency, reason,
                        receipt, clerk, approver)
                     SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::bigint[],
                        $5::text[], $6::text[], $7::text[], $8::text[], $9::text[])",
                )
                .await?,
            bump_log: client
                .prepare_cached(
                    "UPDATE centers SET log_seq = log_seq + $2 WHERE code = $1 RETURNING log_seq",
                )
                .await?,
            insert_log: client
                .prepare_cached(
                    "INSERT INTO change_log (center, seq, origin_device, hlc, body)
                     SELECT $1, seq, $2, hlc, body FROM UNNEST($3::bigint[], $4::text[], $5::text[])
                       AS t (seq, hlc, body)",
                )
                .await?,
            pull: client.prepare_cached(&SQL.pull).await?,
            log_head: client.prepare_cached(&SQL.log_head).await?,
        })
    }
}

async fn connect_one(config: &tokio_postgres::Config) -> Result<Client> {
    let (client, connection) = config.connect(NoTls).await?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %e, "PostgreSQL connection closed");
        }
    });
    Ok(client)
}

impl PostgresStorage {
    /// Connects, migrates, and opens the pool (one connection at once, so that a wrong URL or a
    /// database that is down fails the start with its reason).
    pub async fn connect(url: &str) -> Result<Self> {
        let mut config: tokio_postgres::Config = url.parse()?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_WAIT);
        }
        let mut first = connect_one(&config).await?;
        migrate(&mut first).await?;
        drop(first);
        let options = match config.get_options() {
            Some(own) => format!("{SESSION_LIMITS} {own}"),
            None => SESSION_LIMITS.to_owned(),
        };
        config.options(options);
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                // A closed connection is dropped when taken; a live one is used at once.
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(CONNECTIONS)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(POOL_WAIT))
            .create_timeout(Some(CONNECT_WAIT))
            .recycle_timeout(Some(CONNECT_WAIT))
            .build()
            .map_err(|e| Error::Task(format!("the PostgreSQL pool: {e}")))?;
        let storage = Self { pool };
        drop(storage.client().await?);
        Ok(storage)
    }

    /// A connection from the pool: a new one if the one taken had died.
    async fn client(&self) -> Result<Object> {
        self.pool.get().await.map_err(unavailable)
    }
}

/// The pool could not give a connection in time: every one stayed busy (the database is
/// slow), or a new one could not be opened (it is down or restarting). What the database itself
/// refused (a wrong password, a missing database) stays a PostgreSQL error: trying again will
/// not help.
fn unavailable(e: deadpool_postgres::PoolError) -> Error {
    match e {
        deadpool_postgres::PoolError::Timeout(deadpool_postgres::TimeoutType::Wait) => {
            Error::DatabaseBusy(Overrun::Pool)
        }
        deadpool_postgres::PoolError::Backend(e) if e.as_db_error().is_some() => Error::Postgres(e),
        other => Error::DatabaseUnavailable(other.to_string()),
    }
}

/// Applies the embedded migrations above the recorded version, in one transaction holding an
/// advisory lock, so two servers starting at once do not both migrate.
async fn migrate(client: &mut Client) -> Result<()> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)")
        .await?;
    let found: Option<i64> = tx
        .query_one("SELECT MAX(version) FROM schema_version", &[])
        .await?
        .try_get(0)?;
    for migration in guichet_migrations::pending(POSTGRES_MIGRATIONS, found.unwrap_or(0))? {
        tx.batch_execute(migration.sql)
            .await
            .map_err(|e| Error::migration(migration, e))?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES ($1)",
            &[&(migration.version as i64)],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

fn to_center(row: &Row) -> Result<Center> {
    RawCenter {
        code: row.try_get(0)?,
        name: row.try_get(1)?,
        kind: row.try_get(2)?,
        time_zone: row.try_get(3)?,
        currency: row.try_get(4)?,
        waiting_target_min: row.try_get::<_, i32>(5)?.into(),
    }
    .into_center()
}

fn to_device(row: &Row) -> Result<Device> {
    RawDevice {
        code: row.try_get(0)?,
        center: row.try_get(1)?,
        receipt_prefix: row.try_get(2)?,
        label: row.try_get(3)?,
        revoked: row.try_get(4)?,
        enrolled_at: row.try_get(5)?,
        wipe_requested_at: row.try_get(6)?,
        wiped_at: row.try_get(7)?,
    }
    .into_device()
}

fn to_agency_credential(row: &Row) -> Result<AgencyCredential> {
    Ok(AgencyCredential {
        id: row.try_get(0)?,
        agency: row.try_get(1)?,
        issued_at: row.try_get(2)?,
        expires_at: row.try_get(3)?,
        revoked_at: row.try_get(4)?,
    })
}

fn to_request(row: &Row) -> Result<ServerRequest> {
    RawRequest {
        id: row.try_get(0)?,
        receipt: row.try_get(1)?,
        center: row.try_get(2)?,
        device: row.try_get(3)?,
        service: row.try_get(4)?,
        agency: row.try_get(5)?,
        catalogue_version: row.try_get(6)?,
        citizen: row.try_get(7)?,
        status: row.try_get(8)?,
        fee: row.try_get(9)?,
        paid_minor: row.try_get(10)?,
        waiver: row.try_get(11)?,
        exemptions: row.try_get(12)?,
        form: row.try_get(13)?,
        documents: row.try_get(14)?,
        reason: row.try_get(15)?,
        updated_hlc: row.try_get(16)?,
    }
    .into_request()
}

fn to_release(row: &Row) -> Result<Release> {
    RawRelease {
        version: row.try_get(0)?,
        file_name: row.try_get(1)?,
        size: row.try_get(2)?,
        sha256: row.try_get(3)?,
        signature: row.try_get(4)?,
        notes: row.try_get(5)?,
        centres: row.try_get(6)?,
        published_at: row.try_get(7)?,
    }
    .into_release()
}

async fn load_center(tx: &Transaction<'_>, code: &str, lock: bool) -> Result<Center> {
    let sql = if lock { &LOCKING.center } else { &SQL.center };
    let row = tx
        .query_opt(sql, &[&code])
        .await?
        .ok_or_else(|| Error::not_found(Missing::Centre, code))?;
    to_center(&row)
}

async fn latest_catalogue(tx: &Transaction<'_>) -> Result<Option<Catalogue>> {
    let row = tx.query_opt(LATEST_CATALOGUE, &[]).await?;
    row.map(|r| -> Result<Catalogue> { Ok(serde_json::from_str(r.try_get::<_, &str>(0)?)?) })
        .transpose()
}

async fn append_log(
    tx: &Transaction<'_>,
    center: &str,
    origin: &str,
    hlc: &HlcStamp,
    body: &Pulled,
) -> Result<u64> {
    let seq: i64 = tx
        .query_one(&SQL.next_log_seq, &[&center])
        .await?
        .try_get(0)?;
    tx.execute(
        &SQL.insert_log,
        &[
            &center,
            &seq,
            &origin,
            &hlc.to_string(),
            &serde_json::to_string(body)?,
        ],
    )
    .await?;
    u64::try_from(seq).map_err(corrupt)
}

async fn load_request(tx: &Transaction<'_>, receipt: &str) -> Result<Option<ServerRequest>> {
    tx.query_opt(&SQL.request_by_receipt, &[&receipt])
        .await?
        .as_ref()
        .map(to_request)
        .transpose()
}

async fn load_snapshot(
    tx: &Transaction<'_>,
    hot: &Hot,
    center: &str,
    wants: &Wants,
) -> Result<Snapshot> {
    let mut snapshot = Snapshot::default();
    let versions: Vec<i64> = wants.services.iter().map(|(v, _)| i64::from(*v)).collect();
    let codes: Vec<&str> = wants.services.iter().map(|(_, c)| c.as_str()).collect();
    let applied_params: [&(dyn ToSql + Sync); 1] = [&wants.change_ids];
    let requests_params: [&(dyn ToSql + Sync); 1] = [&wants.requests];
    let citizens_params: [&(dyn ToSql + Sync); 2] = [&center, &wants.citizens];
    let services_params: [&(dyn ToSql + Sync); 2] = [&versions, &codes];
    let accounts_params: [&(dyn ToSql + Sync); 2] = [&wants.accounts, &center];
    let payments_params: [&(dyn ToSql + Sync); 1] = [&wants.payments];
    let receipts_params: [&(dyn ToSql + Sync); 1] = [&wants.receipts];
    let refunds_params: [&(dyn ToSql + Sync); 1] = [&wants.refunds];
    // Issued together: tokio-postgres pipelines them on the connection.
    let (applied, requests, citizens, services, accounts, payments, receipts, refunds) = tokio::try_join!(
        tx.query(&hot.applied_ids, &applied_params),
        tx.query(&hot.requests_by_id, &requests_params),
        tx.query(&hot.citizens_known, &citizens_params),
        tx.query(&hot.services, &services_params),
        tx.query(&hot.accounts_known, &accounts_params),
        tx.query(&hot.payments_known, &payments_params),
        tx.query(&hot.receipts_taken, &receipts_params),
        tx.query(&hot.refunds_known, &refunds_params),
    )?;
    for row in applied {
        let log_seq = row
            .try_get::<_, Option<i64>>(2)?
            .map(u64::try_from)
            .transpose()
            .map_err(corrupt)?;
        snapshot
            .applied
            .insert(row.try_get(0)?, (row.try_get(1)?, log_seq));
    }
    for row in requests {
        let request = to_request(&row)?;
        snapshot.requests.insert(request.id.clone(), request);
    }
    for row in citizens {
        snapshot.citizens.insert(row.try_get(0)?);
    }
    for row in services {
        let version = u32::try_from(row.try_get::<_, i64>(0)?).map_err(corrupt)?;
        let service: Service = serde_json::from_str(row.try_get::<_, &str>(2)?)?;
        snapshot
            .services
            .insert((version, row.try_get(1)?), service);
    }
    for row in accounts {
        let standing = AccountStanding {
            role: Role::parse(row.try_get::<_, &str>(1)?).map_err(corrupt)?,
            active: row.try_get(2)?,
            of_center: row.try_get(3)?,
        };
        snapshot.accounts.insert(row.try_get(0)?, standing);
    }
    for row in payments {
        let currency = Currency::parse(row.try_get::<_, &str>(3)?).map_err(corrupt)?;
        let standing = PaymentStanding {
            request: row.try_get(1)?,
            amount: Money::new(row.try_get(2)?, currency),
            refunded_minor: row.try_get(4)?,
        };
        snapshot.payments.insert(row.try_get(0)?, standing);
    }
    for row in receipts {
        snapshot.receipts.insert(row.try_get(0)?);
    }
    for row in refunds {
        snapshot.refunds.insert(row.try_get(0)?);
    }
    Ok(snapshot)
}

/// Accounts with their centres, filtered by the SQL condition `filter` on `$1`; `lock` locks
/// their rows until the transaction ends.
async fn load_accounts(
    tx: &Transaction<'_>,
    filter: &str,
    key: Option<&str>,
    lock: bool,
) -> Result<Vec<ClerkAccount>> {
    let sql = format!(
        "SELECT {ACCOUNT_COLUMNS},
            ARRAY (SELECT center FROM account_centers m WHERE m.username = a.username
                   ORDER BY center)
         FROM accounts a WHERE {filter} ORDER BY a.username{}",
        if lock { " FOR UPDATE OF a" } else { "" }
    );
    tx.query(&sql, &[&key])
        .await?
        .iter()
        .map(|row| {
            RawAccount {
                username: row.try_get(0)?,
                display_name: row.try_get(1)?,
                role: row.try_get(2)?,
                active: row.try_get(3)?,
                verifier: row.try_get(4)?,
                created_at: row.try_get(5)?,
                updated_at: row.try_get(6)?,
                centers: row.try_get(7)?,
            }
            .into_account()
        })
        .collect()
}

async fn load_account(tx: &Transaction<'_>, username: &str, lock: bool) -> Result<ClerkAccount> {
    load_accounts(tx, "a.username = $1", Some(username), lock)
        .await?
        .pop()
        .ok_or_else(|| Error::UnknownClerk {
            username: username.to_owned(),
        })
}

async fn upsert_request(tx: &Transaction<'_>, request: &ServerRequest) -> Result<()> {
    let json = RequestJson::of(request)?;
    tx.execute(
        &SQL.upsert_request,
        &[
            &request.id,
            &request.receipt,
            &request.center,
            &request.device,
            &request.service,
            &request.agency,
            &i64::from(request.catalogue_version),
            &request.citizen,
            &request.status.as_str(),
            &json.fee,
            &request.paid_minor,
            &request.waiver,
            &json.exemptions,
            &json.form,
            &json.documents,
            &request.reason,
            &request.updated_hlc,
        ],
    )
    .await?;
    Ok(())
}

/// Writes a plan, each table in one statement, and gives its applied entries their places in
/// the centre's log.
async fn write_plan(
    tx: &Transaction<'_>,
    hot: &Hot,
    device: &Device,
    plan: &mut Plan,
    at: &Stamp,
) -> Result<()> {
    if plan.applied.is_empty() {
        return Ok(());
    }
    // The log first: each applied change keeps its place in it.
    let hlcs: Vec<String> = plan.peer_log.iter().map(|e| e.hlc.to_string()).collect();
    let bodies = plan
        .peer_log
        .iter()
        .map(|e| {
            serde_json::to_string(&Pulled::Peer {
                device: device.code.clone(),
                change: e.change.clone(),
            })
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let count = i64::try_from(bodies.len()).map_err(corrupt)?;
    let (head, log_seqs): (i64, Vec<i64>) = if count == 0 {
        let head: i64 = tx
            .query_one(&hot.log_head, &[&device.center])
            .await?
            .try_get(0)?;
        (head, Vec::new())
    } else {
        let last: i64 = tx
            .query_one(&hot.bump_log, &[&device.center, &count])
            .await?
            .try_get(0)?;
        let log_seqs: Vec<i64> = (last - count + 1..=last).collect();
        tx.execute(
            &hot.insert_log,
            &[&device.center, &device.code, &log_seqs, &hlcs, &bodies],
        )
        .await?;
        (last - count, log_seqs)
    };
    let seqs = log_seqs
        .into_iter()
        .map(|seq| u64::try_from(seq).map_err(corrupt))
        .collect::<Result<Vec<u64>>>()?;
    let places = plan
        .logged(u64::try_from(head).map_err(corrupt)?, &seqs)
        .into_iter()
        .map(|place| i64::try_from(place).map_err(corrupt))
        .collect::<Result<Vec<i64>>>()?;

    let applied_at = at.wall.to_rfc3339();
    let ids: Vec<&str> = plan.applied.iter().map(|c| c.id.as_str()).collect();
    let hashes: Vec<&str> = plan
        .applied
        .iter()
        .map(|c| c.content_hash.as_str())
        .collect();
    let device_seqs = plan
        .applied
        .iter()
        .map(|c| i64::try_from(c.seq).map_err(corrupt))
        .collect::<Result<Vec<i64>>>()?;
    let kinds: Vec<&str> = plan.applied.iter().map(|c| c.kind).collect();
    let actors: Vec<&str> = plan.applied.iter().map(|c| c.actor.as_str()).collect();
    let approvers: Vec<Option<&str>> = plan.applied.iter().map(|c| c.approver.as_deref()).collect();
    tx.execute(
        &hot.insert_applied,
        &[
            &ids,
            &hashes,
            &device.code,
            &applied_at,
            &device_seqs,
            &kinds,
            &places,
            &actors,
            &approvers,
        ],
    )
    .await?;

    if !plan.sessions.is_empty() {
        let change_ids: Vec<&str> = plan.sessions.iter().map(|e| e.change_id.as_str()).collect();
        let clerks: Vec<&str> = plan.sessions.iter().map(|e| e.clerk.as_str()).collect();
        let events: Vec<&str> = plan.sessions.iter().map(|e| e.event.as_str()).collect();
        let stamps: Vec<String> = plan.sessions.iter().map(|e| e.hlc.to_string()).collect();
        tx.execute(
            &hot.insert_sessions,
            &[
                &device.center,
                &device.code,
                &applied_at,
                &change_ids,
                &clerks,
                &events,
                &stamps,
            ],
        )
        .await?;
    }
    if !plan.citizens.is_empty() {
        let national_ids: Vec<&str> = plan
            .citizens
            .iter()
            .map(|c| c.national_id.as_str())
            .collect();
        let citizen_bodies = plan
            .citizens
            .iter()
            .map(serde_json::to_string)
            .collect::<std::result::Result<Vec<_>, _>>()?;
        tx.execute(
            &hot.upsert_citizens,
            &[&device.center, &national_ids, &citizen_bodies],
        )
        .await?;
    }
    // Payments refer to requests: the requests go first.
    if !plan.requests.is_empty() {
        let requests = RequestColumns::of(&plan.requests)?;
        tx.execute(&hot.upsert_requests, &requests.params()).await?;
    }
    if !plan.payments.is_empty() {
        let payment_ids: Vec<&str> = plan.payments.iter().map(|p| p.id.as_str()).collect();
        let payment_requests: Vec<&str> =
            plan.payments.iter().map(|p| p.request.as_str()).collect();
        let amounts: Vec<i64> = plan.payments.iter().map(|p| p.amount.minor).collect();
        let currencies: Vec<&str> = plan
            .payments
            .iter()
            .map(|p| p.amount.currency.code())
            .collect();
        let methods: Vec<&str> = plan.payments.iter().map(|p| p.method.as_str()).collect();
        let receipts: Vec<&str> = plan.payments.iter().map(|p| p.receipt.as_str()).collect();
        tx.execute(
            &hot.insert_payments,
            &[
                &payment_ids,
                &payment_requests,
                &amounts,
                &currencies,
                &methods,
                &receipts,
            ],
        )
        .await?;
    }
    if !plan.refunds.is_empty() {
        let column =
            |f: fn(&RefundRow) -> &str| -> Vec<&str> { plan.refunds.iter().map(f).collect() };
        let amounts: Vec<i64> = plan.refunds.iter().map(|r| r.amount.minor).collect();
        tx.execute(
            &hot.insert_refunds,
            &[
                &column(|r| &r.id),
                &column(|r| &r.payment),
                &column(|r| &r.request),
                &amounts,
                &column(|r| r.amount.currency.code()),
                &column(|r| &r.reason),
                &column(|r| &r.receipt),
                &column(|r| &r.clerk),
                &column(|r| &r.approver),
            ],
        )
        .await?;
    }
    Ok(())
}

/// The requests of a plan as one array per column, for `Hot::upsert_requests`.
struct RequestColumns<'a> {
    id: Vec<&'a str>,
    receipt: Vec<&'a str>,
    center: Vec<&'a str>,
    device: Vec<&'a str>,
    service: Vec<&'a str>,
    agency: Vec<&'a str>,
    catalogue_version: Vec<i64>,
    citizen: Vec<&'a str>,
    status: Vec<&'static str>,
    fee: Vec<Option<String>>,
    paid_minor: Vec<i64>,
    waiver: Vec<Option<&'a str>>,
    exemptions: Vec<String>,
    form: Vec<String>,
    documents: Vec<String>,
    reason: Vec<Option<&'a str>>,
    updated_hlc: Vec<&'a str>,
}

impl<'a> RequestColumns<'a> {
    fn of(requests: &'a [ServerRequest]) -> Result<Self> {
        let mut columns = RequestColumns {
            id: Vec::with_capacity(requests.len()),
            receipt: Vec::new(),
            center: Vec::new(),
            device: Vec::new(),
            service: Vec::new(),
            agency: Vec::new(),
            catalogue_version: Vec::new(),
            citizen: Vec::new(),
            status: Vec::new(),
            fee: Vec::new(),
            paid_minor: Vec::new(),
            waiver: Vec::new(),
            exemptions: Vec::new(),
            form: Vec::new(),
            documents: Vec::new(),
            reason: Vec::new(),
            updated_hlc: Vec::new(),
        };
        for request in requests {
            let json = RequestJson::of(request)?;
            columns.id.push(&request.id);
            columns.receipt.push(&request.receipt);
            columns.center.push(&request.center);
            columns.device.push(&request.device);
            columns.service.push(&request.service);
            columns.agency.push(&request.agency);
            columns
                .catalogue_version
                .push(i64::from(request.catalogue_version));
            columns.citizen.push(&request.citizen);
            columns.status.push(request.status.as_str());
            columns.fee.push(json.fee);
            columns.paid_minor.push(request.paid_minor);
            columns.waiver.push(request.waiver.as_deref());
            columns.exemptions.push(json.exemptions);
            columns.form.push(json.form);
            columns.documents.push(json.documents);
            columns.reason.push(request.reason.as_deref());
            columns.updated_hlc.push(&request.updated_hlc);
        }
        Ok(columns)
    }

    fn params(&self) -> [&(dyn ToSql + Sync); 17] {
        [
            &self.id,
            &self.receipt,
            &self.center,
            &self.device,
            &self.service,
            &self.agency,
            &self.catalogue_version,
            &self.citizen,
            &self.status,
            &self.fee,
            &self.paid_minor,
            &self.waiver,
            &self.exemptions,
            &self.form,
            &self.documents,
            &self.reason,
            &self.updated_hlc,
        ]
    }
}

async fn pull(
    tx: &Transaction<'_>,
    hot: &Hot,
    device: &Device,
    cursor: u64,
    limit: u32,
) -> Result<(Vec<PulledChange>, u64, bool)> {
    let limit = pull_limit(limit);
    let rows = tx
        .query(
            &hot.pull,
            &[
                &device.center,
                &i64::try_from(cursor).unwrap_or(i64::MAX),
                &device.code,
                &(i64::from(limit) + 1),
            ],
        )
        .await?;
    let (changes, more) = pull_page(
        rows.iter().map(|row| {
            Ok((
                row.try_get::<_, i64>(0)?,
                row.try_get::<_, String>(1)?,
                row.try_get::<_, String>(2)?,
            ))
        }),
        limit,
    )?;
    let next = if more {
        changes.last().map_or(cursor, |c| c.seq)
    } else {
        let head: i64 = tx
            .query_one(&hot.log_head, &[&device.center])
            .await?
            .try_get(0)?;
        u64::try_from(head).map_err(corrupt)?
    };
    Ok((changes, next, more))
}

#[async_trait]
impl Storage for PostgresStorage {
    async fn add_center(&self, center: &Center, at: &Stamp) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let inserted = tx
            .execute(
                &SQL.insert_center,
                &[
                    &center.code,
                    &center.name,
                    &center.kind.as_str(),
                    &center.time_zone.name(),
                    &center.currency.code(),
                    &i32::try_from(center.waiting_target_min).map_err(corrupt)?,
                    &at.wall.to_rfc3339(),
                ],
            )
            .await?;
        if inserted == 0 {
            return Err(Error::Conflict(format!(
                "centre {} already exists",
                center.code
            )));
        }
        if let Some(catalogue) = latest_catalogue(&tx).await? {
            let body = Pulled::Catalogue {
                catalogue: catalogue_for(&catalogue, &center.code),
            };
            append_log(&tx, &center.code, "", &at.hlc, &body).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn centers(&self) -> Result<Vec<Center>> {
        let client = self.client().await?;
        client
            .query(&SQL.centers, &[])
            .await?
            .iter()
            .map(to_center)
            .collect()
    }

    async fn center(&self, code: &str) -> Result<Center> {
        let client = self.client().await?;
        let row = client
            .query_opt(&SQL.center, &[&code])
            .await?
            .ok_or_else(|| Error::not_found(Missing::Centre, code))?;
        to_center(&row)
    }

    async fn update_center(&self, code: &str, update: &CenterUpdate) -> Result<Center> {
        let client = self.client().await?;
        let target = update
            .waiting_target_min
            .map(i32::try_from)
            .transpose()
            .map_err(corrupt)?;
        let row = client
            .query_opt(
                &SQL.update_center,
                &[
                    &code,
                    &update.name,
                    &update
                        .time_zone
                        .as_ref()
                        .map(guichet_domain::zone::Zone::name),
                    &target,
                ],
            )
            .await?
            .ok_or_else(|| Error::not_found(Missing::Centre, code))?;
        to_center(&row)
    }

    async fn publish_catalogue(&self, catalogue: &Catalogue, at: &Stamp) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // Locking every centre in code order serialises publications with each other and
        // with the centres' exchanges, without a chance of deadlock.
        let codes: Vec<String> = tx
            .query(&LOCKING.center_codes, &[])
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<std::result::Result<_, _>>()?;
        let latest: Option<i64> = tx
            .query_one(LATEST_CATALOGUE_VERSION, &[])
            .await?
            .try_get(0)?;
        if let Some(latest) = latest.filter(|l| *l >= i64::from(catalogue.version)) {
            return Err(Error::Conflict(format!(
                "catalogue version {} is not above the published version {latest}",
                catalogue.version
            )));
        }
        let version = i64::from(catalogue.version);
        tx.execute(
            &SQL.insert_catalogue_version,
            &[
                &version,
                &serde_json::to_string(catalogue)?,
                &at.wall.to_rfc3339(),
            ],
        )
        .await?;
        for service in &catalogue.services {
            tx.execute(
                &SQL.insert_catalogue_service,
                &[&version, &service.code, &serde_json::to_string(service)?],
            )
            .await?;
        }
        for code in codes {
            let body = Pulled::Catalogue {
                catalogue: catalogue_for(catalogue, &code),
            };
            append_log(&tx, &code, "", &at.hlc, &body).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn latest_catalogue(&self) -> Result<Option<Catalogue>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let catalogue = latest_catalogue(&tx).await?;
        tx.commit().await?;
        Ok(catalogue)
    }

    async fn latest_catalogue_version(&self) -> Result<Option<u32>> {
        let client = self.client().await?;
        let latest: Option<i64> = client
            .query_one(LATEST_CATALOGUE_VERSION, &[])
            .await?
            .try_get(0)?;
        latest
            .map(|v| u32::try_from(v).map_err(corrupt))
            .transpose()
    }

    async fn add_enrolment_code(
        &self,
        center: &str,
        code_hash: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        load_center(&tx, center, false).await?;
        tx.execute(
            &SQL.insert_enrolment_code,
            &[&code_hash, &center, &expires_at.to_rfc3339()],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn enroll(
        &self,
        code_hash: &str,
        token_hash: &str,
        label: Option<&str>,
        recovery_key: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(Center, Device)> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let row = tx
            .query_opt(&LOCKING.enrolment_code, &[&code_hash])
            .await?
            .map(|r| -> Result<(String, String, Option<String>)> {
                Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?))
            })
            .transpose()?;
        let center = load_center(&tx, &check_code(row, now)?, false).await?;
        let index: i64 = tx.query_one(TAKE_PREFIX_INDEX, &[]).await?.try_get(0)?;
        let (code, prefix) = new_device_identity(&center.code, index)?;
        let enrolled_at = now.to_rfc3339();
        tx.execute(
            &SQL.insert_device,
            &[
                &code,
                &center.code,
                &prefix.as_str(),
                &token_hash,
                &label,
                &enrolled_at,
            ],
        )
        .await?;
        if let Some(key) = recovery_key {
            tx.execute(&SQL.set_recovery_key, &[&code, &key]).await?;
        }
        tx.execute(&SQL.use_enrolment_code, &[&code_hash, &enrolled_at, &code])
            .await?;
        tx.commit().await?;
        Ok((
            center.clone(),
            Device {
                code,
                center: center.code,
                receipt_prefix: prefix,
                label: label.map(str::to_owned),
                revoked: false,
                enrolled_at,
                wipe_requested_at: None,
                wiped_at: None,
            },
        ))
    }

    async fn device_by_token(&self, token_hash: &str) -> Result<Option<Device>> {
        let client = self.client().await?;
        client
            .query_opt(&*SETTLE_AND_FIND_DEVICE, &[&token_hash])
            .await?
            .as_ref()
            .map(to_device)
            .transpose()
    }

    async fn add_account(
        &self,
        account: &Account,
        centers: &[String],
        at: &Stamp,
    ) -> Result<ClerkAccount> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let now = at.wall.to_rfc3339();
        let inserted = tx
            .execute(
                &SQL.insert_account,
                &[
                    &account.username,
                    &account.display_name,
                    &account.role.as_str(),
                    &account.active,
                    &account.verifier.as_str(),
                    &now,
                ],
            )
            .await?;
        if inserted == 0 {
            return Err(Error::ClerkExists {
                username: account.username.clone(),
            });
        }
        let mut in_order = centers.to_vec();
        in_order.sort();
        // Locked in code order, as a catalogue publication does, so the two never deadlock.
        for center in &in_order {
            load_center(&tx, center, true).await?;
            tx.execute(&SQL.insert_account_center, &[&account.username, center])
                .await?;
        }
        let stored = load_account(&tx, &account.username, false).await?;
        for center in &stored.centers {
            append_log(&tx, center, "", &at.hlc, &account_entry(&stored)).await?;
        }
        tx.commit().await?;
        Ok(stored)
    }

    async fn accounts(&self, center: Option<&str>) -> Result<Vec<ClerkAccount>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let accounts = load_accounts(&tx, &SQL.accounts_of_center, center, false).await?;
        tx.commit().await?;
        Ok(accounts)
    }

    async fn change_account(
        &self,
        username: &str,
        change: &AccountChange,
        at: &Stamp,
    ) -> Result<ClerkAccount> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let next = load_account(&tx, username, true)
            .await?
            .changed(change, &at.wall.to_rfc3339())?;
        tx.execute(
            &SQL.change_account,
            &[
                &username,
                &next.account.role.as_str(),
                &next.account.active,
                &next.account.verifier.as_str(),
                &next.updated_at,
            ],
        )
        .await?;
        for center in &next.centers {
            append_log(&tx, center, "", &at.hlc, &account_entry(&next)).await?;
        }
        tx.commit().await?;
        Ok(next)
    }

    async fn add_agency_token(
        &self,
        credential: &AgencyCredential,
        token_hash: &str,
    ) -> Result<()> {
        let client = self.client().await?;
        client
            .execute(
                &SQL.insert_agency_token,
                &[
                    &token_hash,
                    &credential.agency,
                    &credential.issued_at,
                    &credential.id,
                    &credential.expires_at,
                ],
            )
            .await?;
        Ok(())
    }

    async fn agency_by_token(&self, token_hash: &str) -> Result<Option<AgencyCredential>> {
        let client = self.client().await?;
        client
            .query_opt(&SQL.agency_by_token, &[&token_hash])
            .await?
            .as_ref()
            .map(to_agency_credential)
            .transpose()
    }

    async fn agency_credentials(&self, agency: Option<&str>) -> Result<Vec<AgencyCredential>> {
        let client = self.client().await?;
        client
            .query(&SQL.agency_credentials, &[&agency])
            .await?
            .iter()
            .map(to_agency_credential)
            .collect()
    }

    async fn revoke_agency_credential(&self, id: &str, at: &str) -> Result<AgencyCredential> {
        let client = self.client().await?;
        client
            .query_opt(&SQL.revoke_agency_credential, &[&id, &at])
            .await?
            .as_ref()
            .map(to_agency_credential)
            .transpose()?
            .ok_or_else(|| Error::UnknownAgencyCredential { id: id.to_owned() })
    }

    async fn rotate_device_token(&self, device: &str, token_hash: &str) -> Result<()> {
        let client = self.client().await?;
        let updated = client
            .execute(&SQL.rotate_token, &[&device, &token_hash])
            .await?;
        if updated == 0 {
            return Err(Error::not_found(Missing::Device, device));
        }
        Ok(())
    }

    async fn anchor_audit(
        &self,
        device: &str,
        claim: Option<&AuditClaim>,
        at: &str,
    ) -> Result<Verdict> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // The device's row is the lock: two exchanges of one device are judged one by one.
        tx.execute(
            "SELECT 1 FROM devices WHERE code = $1 FOR UPDATE",
            &[&device],
        )
        .await?;
        let held = tx
            .query_opt(&SQL.audit_head, &[&device])
            .await?
            .map(|row| -> Result<AuditPoint> {
                Ok(AuditPoint {
                    seq: u64::try_from(row.try_get::<_, i64>(0)?).map_err(corrupt)?,
                    hash: row.try_get(1)?,
                })
            })
            .transpose()?;
        let verdict = judge(held.as_ref(), claim)?;
        match &verdict {
            Verdict::Extends { head } => {
                let seq = i64::try_from(head.seq)
                    .map_err(|_| Error::Invalid("the audit head's place is out of range".into()))?;
                tx.execute(&SQL.keep_audit_head, &[&device, &seq, &head.hash, &at])
                    .await?;
            }
            Verdict::Rewritten { reason } => {
                tx.execute(&SQL.flag_audit, &[&device, &at, reason]).await?;
            }
            Verdict::Unchecked | Verdict::NeedsAnchor { .. } => {}
        }
        tx.commit().await?;
        Ok(verdict)
    }

    async fn count_refusal(&self, kind: Refusal, at: &str) -> Result<()> {
        let client = self.client().await?;
        client
            .execute(&SQL.count_refusal, &[&kind.as_str(), &at])
            .await?;
        Ok(())
    }

    async fn health(&self) -> Result<FleetHealth> {
        let client = self.client().await?;
        let count = |value: i64| u64::try_from(value).map_err(corrupt);
        let devices = client
            .query(DEVICE_HEALTH, &[])
            .await?
            .iter()
            .map(|row| {
                Ok(DeviceHealth {
                    device: row.try_get(0)?,
                    center: row.try_get(1)?,
                    revoked: row.try_get(2)?,
                    audit_seq: row.try_get::<_, Option<i64>>(3)?.map(count).transpose()?,
                    audit_seen_at: row.try_get(4)?,
                    flag: row.try_get(5)?,
                    flagged_at: row.try_get(6)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let refusals = client
            .query(REFUSALS, &[])
            .await?
            .iter()
            .map(|row| {
                Ok(RefusalCount {
                    kind: row.try_get(0)?,
                    count: count(row.try_get(1)?)?,
                    last_at: row.try_get(2)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let failed_logins = count(client.query_one(FAILED_LOGINS, &[]).await?.try_get(0)?)?;
        Ok(FleetHealth {
            devices,
            refusals,
            failed_logins,
        })
    }

    async fn devices(&self, center: Option<&str>) -> Result<Vec<Device>> {
        let client = self.client().await?;
        client
            .query(&SQL.devices, &[&center])
            .await?
            .iter()
            .map(to_device)
            .collect()
    }

    async fn device(&self, code: &str) -> Result<Option<Device>> {
        let client = self.client().await?;
        client
            .query_opt(&SQL.device, &[&code])
            .await?
            .as_ref()
            .map(to_device)
            .transpose()
    }

    async fn note_contact(&self, contact: &Contact) -> Result<()> {
        let client = self.client().await?;
        client
            .execute(
                &SQL.note_contact,
                &[
                    &contact.device,
                    &contact.app_version,
                    &contact.at,
                    &(contact.waiting as i64),
                    &(contact.refused as i64),
                    &contact.clock_offset_ms,
                ],
            )
            .await?;
        Ok(())
    }

    async fn contacts(&self, center: Option<&str>) -> Result<Vec<Contact>> {
        let client = self.client().await?;
        client
            .query(&SQL.contacts, &[&center])
            .await?
            .iter()
            .map(|r| -> Result<Contact> {
                Ok(RawContact {
                    device: r.try_get(0)?,
                    app_version: r.try_get(1)?,
                    at: r.try_get(2)?,
                    waiting: r.try_get(3)?,
                    refused: r.try_get(4)?,
                    clock_offset_ms: r.try_get(5)?,
                }
                .into_contact())
            })
            .collect()
    }

    async fn revoke_device(&self, code: &str, wipe_at: Option<&str>) -> Result<Device> {
        let client = self.client().await?;
        let row = client
            .query_opt(&SQL.revoke_device, &[&code, &wipe_at])
            .await?
            .ok_or_else(|| Error::not_found(Missing::Device, code))?;
        to_device(&row)
    }

    async fn device_wiped(&self, code: &str, at: &str) -> Result<Device> {
        let client = self.client().await?;
        let row = client
            .query_opt(&SQL.device_wiped, &[&code, &at])
            .await?
            .ok_or_else(|| Error::not_found(Missing::Device, code))?;
        to_device(&row)
    }

    async fn set_recovery_key(&self, device: &str, key: &str) -> Result<()> {
        let client = self.client().await?;
        client
            .execute(&SQL.set_recovery_key, &[&device, &key])
            .await?;
        Ok(())
    }

    async fn recovery_key(&self, device: &str) -> Result<Option<String>> {
        let client = self.client().await?;
        let row = client.query_opt(&SQL.recovery_key, &[&device]).await?;
        Ok(row.and_then(|r| r.get::<_, Option<String>>(0)))
    }

    async fn exchange(
        &self,
        device: &Device,
        request: &ExchangeRequest,
        context: &ExchangeContext,
    ) -> Result<Exchanged> {
        let mut client = self.client().await?;
        let hot = &Hot::prepare(&client).await?;
        let tx = client.transaction().await?;
        let row = tx
            .query_opt(&hot.lock_center, &[&device.center])
            .await?
            .ok_or_else(|| Error::not_found(Missing::Centre, &device.center))?;
        let center = to_center(&row)?;
        let snapshot = load_snapshot(&tx, hot, &center.code, &Wants::of(&request.push)).await?;
        let pusher = Pusher {
            device: &device.code,
            center: &center.code,
            center_kind: center.kind,
            prefix: &device.receipt_prefix,
        };
        let mut plan = plan(pusher, &request.push, snapshot, context.national_ids);
        write_plan(&tx, hot, device, &mut plan, &context.stamp).await?;
        let (changes, cursor, more) = pull(&tx, hot, device, request.cursor, request.limit).await?;
        tx.commit().await?;
        Ok(Exchanged {
            results: plan.results,
            changes,
            cursor,
            more,
        })
    }

    async fn agency_requests(&self, agency: &str) -> Result<Vec<ServerRequest>> {
        let client = self.client().await?;
        client
            .query(&SQL.agency_requests, &[&agency])
            .await?
            .iter()
            .map(to_request)
            .collect()
    }

    async fn request_by_receipt(&self, receipt: &str) -> Result<ServerRequest> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let request = load_request(&tx, receipt)
            .await?
            .ok_or_else(|| Error::not_found(Missing::Request, receipt))?;
        tx.commit().await?;
        Ok(request)
    }

    async fn agency_decide(
        &self,
        receipt: &str,
        action: Action,
        reason: Option<&str>,
        actor: &str,
        at: &Stamp,
    ) -> Result<ServerRequest> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let center = load_request(&tx, receipt)
            .await?
            .ok_or_else(|| Error::not_found(Missing::Request, receipt))?
            .center;
        load_center(&tx, &center, true).await?;
        let mut request = load_request(&tx, receipt)
            .await?
            .ok_or_else(|| Error::not_found(Missing::Request, receipt))?;
        let from = request.status;
        request.status = agency_decision(&request, action, reason)?;
        if let Some(reason) = reason {
            request.reason = Some(reason.to_owned());
        }
        request.updated_hlc = at.hlc.to_string();
        upsert_request(&tx, &request).await?;
        let body = decision(&request, action, from, actor)?;
        append_log(&tx, &request.center, "", &at.hlc, &body).await?;
        tx.commit().await?;
        Ok(request)
    }

    async fn set_release_key(&self, public_key: &str, at: &str) -> Result<()> {
        let client = self.client().await?;
        client
            .execute(&SQL.set_release_key, &[&public_key, &at])
            .await?;
        Ok(())
    }

    async fn release_key(&self) -> Result<Option<String>> {
        let client = self.client().await?;
        let row = client.query_opt(RELEASE_KEY, &[]).await?;
        Ok(row.map(|r| r.try_get(0)).transpose()?)
    }

    async fn publish_release(&self, release: &Release, package: Vec<u8>) -> Result<()> {
        let ([major, minor, patch], centres) = release_row(release)?;
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.batch_execute(PACKAGE_STATEMENT_TIMEOUT).await?;
        let inserted = tx
            .execute(
                &SQL.insert_release,
                &[
                    &release.version,
                    &major,
                    &minor,
                    &patch,
                    &release.file_name,
                    &release.sha256,
                    &release.signature,
                    &release.notes,
                    &centres,
                    &release.published_at,
                    &package,
                ],
            )
            .await?;
        if inserted == 0 {
            return Err(already_published(&release.version));
        }
        tx.commit().await?;
        Ok(())
    }

    async fn releases(&self) -> Result<Vec<Release>> {
        let client = self.client().await?;
        client
            .query(&SQL.releases, &[])
            .await?
            .iter()
            .map(to_release)
            .collect()
    }

    async fn newest_release(&self, center: &str, above: Version) -> Result<Option<Release>> {
        let client = self.client().await?;
        let [major, minor, patch] = [above.major, above.minor, above.patch].map(i64::from);
        client
            .query_opt(&SQL.newest_release, &[&major, &minor, &patch, &center])
            .await?
            .as_ref()
            .map(to_release)
            .transpose()
    }

    async fn release_for(&self, version: &str, center: &str) -> Result<Option<Release>> {
        let client = self.client().await?;
        client
            .query_opt(&SQL.release_for, &[&version, &center])
            .await?
            .as_ref()
            .map(to_release)
            .transpose()
    }

    async fn package_chunk(&self, version: &str, offset: u64, len: usize) -> Result<Vec<u8>> {
        // A package is at most `MAX_PACKAGE_BYTES`, far below what `substring` counts in.
        let out_of_range = |_| Error::Invalid(format!("no piece of {version} at {offset}"));
        let from = i32::try_from(offset.saturating_add(1)).map_err(out_of_range)?;
        let count = i32::try_from(len).map_err(out_of_range)?;
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT substring(package FROM $2 FOR $3) FROM releases WHERE version = $1",
                &[&version, &from, &count],
            )
            .await?
            .ok_or_else(|| Error::not_found(Missing::Release, version))?;
        Ok(row.try_get(0)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pooled connection gives up on a stuck statement, lock or open transaction before the
    /// request it serves does; the options a URL gives itself still apply.
    #[tokio::test]
    async fn pooled_connections_give_up_before_their_request_does() {
        let database = guichet_fixtures::pg::TestDatabase::create().await;
        let url = format!("{}?options=-c%20work_mem%3D8MB", database.url);
        let storage = PostgresStorage::connect(&url).await.unwrap();
        let client = storage.client().await.unwrap();
        let mut shown = Vec::new();
        for setting in [
            "statement_timeout",
            "lock_timeout",
            "idle_in_transaction_session_timeout",
            "work_mem",
        ] {
            let row = client
                .query_one(&format!("SHOW {setting}"), &[])
                .await
                .unwrap();
            shown.push(row.get::<_, String>(0));
        }
        assert_eq!(shown, ["20s", "10s", "20s", "8MB"]);
    }

    /// A wait for a lock past `lock_timeout`, and a wait for a connection past `POOL_WAIT`, are
    /// the database being busy: a 503 to try again shortly, not a fault.
    #[tokio::test]
    async fn a_lock_or_a_connection_not_had_in_time_is_the_database_busy() {
        let database = guichet_fixtures::pg::TestDatabase::create().await;
        let url = format!("{}?options=-c%20lock_timeout%3D100ms", database.url);
        let storage = PostgresStorage::connect(&url).await.unwrap();
        let mut holder = storage.client().await.unwrap();
        let held = holder.transaction().await.unwrap();
        held.batch_execute("LOCK TABLE centers").await.unwrap();
        let waiter = storage.client().await.unwrap();
        let refused = Error::from(
            waiter
                .query("SELECT code FROM centers", &[])
                .await
                .unwrap_err(),
        );
        assert!(
            matches!(refused, Error::DatabaseBusy(Overrun::Lock)),
            "{refused:?}"
        );
        assert_eq!(refused.retry_after(), Some(crate::error::RETRY_AFTER));

        let no_connection = unavailable(deadpool_postgres::PoolError::Timeout(
            deadpool_postgres::TimeoutType::Wait,
        ));
        assert!(
            matches!(no_connection, Error::DatabaseBusy(Overrun::Pool)),
            "{no_connection:?}"
        );
        assert_eq!(no_connection.status_and_code().0, 503);
    }
}
