//! The PostgreSQL backend (production: many centres on one database), over tokio-postgres.
//!
//! Each exchange is one transaction that first locks its centre's row (`FOR UPDATE`): the
//! exchanges of one centre and the agency decisions on its requests are serialised, so the
//! plan sees the state it is written to, and the centre's log sequence (bumped on that same
//! row) becomes visible in order, so a pull cursor never skips a change committed late.
//! Different centres proceed in parallel on a small set of connections. TLS is not set up:
//! the database is expected on the same host or a private network.

use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use guichet_domain::catalogue::{Catalogue, CenterKind, Service};
use guichet_domain::hlc::HlcStamp;
use guichet_domain::receipt::ReceiptPrefix;
use guichet_domain::request::Action;
use guichet_protocol::{ExchangeRequest, Pulled, PulledChange};
use tokio::sync::Mutex;
use tokio_postgres::{Client, NoTls, Row, Transaction};

use super::sqlite::{RawRequest, RequestJson};
use super::{
    ExchangeContext, Exchanged, POSTGRES_MIGRATIONS, Storage, catalogue_for, check_code, decision,
    new_device_identity, pull_limit,
};
use crate::error::{Error, Result};
use crate::model::{Center, Device, ServerRequest, Stamp};
use crate::plan::{Plan, Pusher, Snapshot, Wants, agency_decision, plan};

/// How many connections the back office keeps open.
const CONNECTIONS: usize = 8;

/// Any number, as long as every build uses the same one: it names the migration lock.
const MIGRATION_LOCK: i64 = 0x0067_7569_6368_6574;

#[derive(Debug)]
pub struct PostgresStorage {
    clients: Vec<Mutex<Client>>,
    next: AtomicUsize,
}

async fn connect_one(url: &str) -> Result<Client> {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!(error = %e, "PostgreSQL connection closed");
        }
    });
    Ok(client)
}

impl PostgresStorage {
    /// Connects, migrates, and opens the connection set.
    pub async fn connect(url: &str) -> Result<Self> {
        let mut first = connect_one(url).await?;
        migrate(&mut first).await?;
        let mut clients = vec![Mutex::new(first)];
        for _ in 1..CONNECTIONS {
            clients.push(Mutex::new(connect_one(url).await?));
        }
        Ok(Self {
            clients,
            next: AtomicUsize::new(0),
        })
    }

    /// A connection, taken in turn; a caller waits only if all are busy with its turn's one.
    async fn client(&self) -> tokio::sync::MutexGuard<'_, Client> {
        for client in &self.clients {
            if let Ok(guard) = client.try_lock() {
                return guard;
            }
        }
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.clients.len();
        self.clients[i].lock().await
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
    let current: Option<i64> = tx
        .query_one("SELECT MAX(version) FROM schema_version", &[])
        .await?
        .try_get(0)?;
    let current = current.unwrap_or(0);
    if current > POSTGRES_MIGRATIONS.len() as i64 {
        return Err(Error::SchemaTooNew {
            found: current,
            known: POSTGRES_MIGRATIONS.len(),
        });
    }
    for (version, name, sql) in POSTGRES_MIGRATIONS {
        if (*version as i64) <= current {
            continue;
        }
        tx.batch_execute(sql).await.map_err(|e| Error::Migration {
            version: *version,
            name,
            reason: e.to_string(),
        })?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES ($1)",
            &[&(*version as i64)],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

fn corrupt(e: impl std::fmt::Display) -> Error {
    Error::Corrupt(e.to_string())
}

fn to_center(row: &Row) -> Result<Center> {
    Ok(Center {
        code: row.try_get(0)?,
        name: row.try_get(1)?,
        kind: CenterKind::parse(row.try_get::<_, &str>(2)?)?,
    })
}

const DEVICE_COLUMNS: &str = "code, center, receipt_prefix, label, revoked, enrolled_at";

fn to_device(row: &Row) -> Result<Device> {
    Ok(Device {
        code: row.try_get(0)?,
        center: row.try_get(1)?,
        receipt_prefix: ReceiptPrefix::parse(row.try_get::<_, &str>(2)?).map_err(corrupt)?,
        label: row.try_get(3)?,
        revoked: row.try_get(4)?,
        enrolled_at: row.try_get(5)?,
    })
}

const REQUEST_COLUMNS: &str = "id, receipt, center, device, service, agency, catalogue_version,
    citizen, status, fee, paid_minor, waiver, exemptions, form, documents, reason, updated_hlc";

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

async fn load_center(tx: &Transaction<'_>, code: &str, lock: bool) -> Result<Center> {
    let sql = if lock {
        "SELECT code, name, kind FROM centers WHERE code = $1 FOR UPDATE"
    } else {
        "SELECT code, name, kind FROM centers WHERE code = $1"
    };
    let row = tx
        .query_opt(sql, &[&code])
        .await?
        .ok_or_else(|| Error::not_found("centre", code))?;
    to_center(&row)
}

async fn latest_catalogue(tx: &Transaction<'_>) -> Result<Option<Catalogue>> {
    let row = tx
        .query_opt(
            "SELECT body FROM catalogue_versions ORDER BY version DESC LIMIT 1",
            &[],
        )
        .await?;
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
        .query_one(
            "UPDATE centers SET log_seq = log_seq + 1 WHERE code = $1 RETURNING log_seq",
            &[&center],
        )
        .await?
        .try_get(0)?;
    tx.execute(
        "INSERT INTO change_log (center, seq, origin_device, hlc, body) VALUES ($1, $2, $3, $4, $5)",
        &[&center, &seq, &origin, &hlc.to_string(), &serde_json::to_string(body)?],
    )
    .await?;
    u64::try_from(seq).map_err(corrupt)
}

async fn load_request(tx: &Transaction<'_>, by: &str, key: &str) -> Result<Option<ServerRequest>> {
    let sql = format!("SELECT {REQUEST_COLUMNS} FROM requests WHERE {by} = $1");
    tx.query_opt(&sql, &[&key])
        .await?
        .as_ref()
        .map(to_request)
        .transpose()
}

async fn load_snapshot(tx: &Transaction<'_>, center: &str, wants: &Wants) -> Result<Snapshot> {
    let mut snapshot = Snapshot::default();
    for row in tx
        .query(
            "SELECT id, content_hash FROM applied_changes WHERE id = ANY($1)",
            &[&wants.change_ids],
        )
        .await?
    {
        snapshot.applied.insert(row.try_get(0)?, row.try_get(1)?);
    }
    for row in tx
        .query(
            &format!("SELECT {REQUEST_COLUMNS} FROM requests WHERE id = ANY($1)"),
            &[&wants.requests],
        )
        .await?
    {
        let request = to_request(&row)?;
        snapshot.requests.insert(request.id.clone(), request);
    }
    for row in tx
        .query(
            "SELECT national_id FROM citizens WHERE center = $1 AND national_id = ANY($2)",
            &[&center, &wants.citizens],
        )
        .await?
    {
        snapshot.citizens.insert(row.try_get(0)?);
    }
    for (version, code) in &wants.services {
        if let Some(row) = tx
            .query_opt(
                "SELECT body FROM catalogue_services WHERE version = $1 AND code = $2",
                &[&i64::from(*version), code],
            )
            .await?
        {
            let service: Service = serde_json::from_str(row.try_get::<_, &str>(0)?)?;
            snapshot.services.insert((*version, code.clone()), service);
        }
    }
    Ok(snapshot)
}

async fn upsert_request(tx: &Transaction<'_>, request: &ServerRequest) -> Result<()> {
    let json = RequestJson::of(request)?;
    tx.execute(
        &format!(
            "INSERT INTO requests ({REQUEST_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
             ON CONFLICT (id) DO UPDATE SET status = excluded.status, fee = excluded.fee,
                paid_minor = excluded.paid_minor, waiver = excluded.waiver,
                documents = excluded.documents, reason = excluded.reason,
                updated_hlc = excluded.updated_hlc"
        ),
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

async fn write_plan(tx: &Transaction<'_>, device: &Device, plan: &Plan, at: &Stamp) -> Result<()> {
    let applied_at = at.wall.to_rfc3339();
    for change in &plan.applied {
        let seq = i64::try_from(change.seq).map_err(corrupt)?;
        tx.execute(
            "INSERT INTO applied_changes (id, content_hash, device, seq, kind, applied_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &change.id,
                &change.content_hash,
                &device.code,
                &seq,
                &change.kind,
                &applied_at,
            ],
        )
        .await?;
    }
    for citizen in &plan.citizens {
        tx.execute(
            "INSERT INTO citizens (center, national_id, body) VALUES ($1, $2, $3)
             ON CONFLICT (center, national_id) DO UPDATE SET body = excluded.body",
            &[
                &device.center,
                &citizen.national_id,
                &serde_json::to_string(citizen)?,
            ],
        )
        .await?;
    }
    for request in &plan.requests {
        upsert_request(tx, request).await?;
    }
    for payment in &plan.payments {
        tx.execute(
            "INSERT INTO payments (id, request, amount_minor, currency, method, receipt)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &payment.id,
                &payment.request,
                &payment.amount.minor,
                &payment.amount.currency.code(),
                &payment.method,
                &payment.receipt,
            ],
        )
        .await?;
    }
    for (hlc, change) in &plan.peer_log {
        let body = Pulled::Peer {
            device: device.code.clone(),
            change: change.clone(),
        };
        append_log(tx, &device.center, &device.code, hlc, &body).await?;
    }
    Ok(())
}

async fn pull(
    tx: &Transaction<'_>,
    device: &Device,
    cursor: u64,
    limit: u32,
) -> Result<(Vec<PulledChange>, u64, bool)> {
    let limit = pull_limit(limit);
    let rows = tx
        .query(
            "SELECT seq, hlc, body FROM change_log
             WHERE center = $1 AND seq > $2 AND origin_device <> $3 ORDER BY seq LIMIT $4",
            &[
                &device.center,
                &i64::try_from(cursor).unwrap_or(i64::MAX),
                &device.code,
                &(i64::from(limit) + 1),
            ],
        )
        .await?;
    let mut changes = Vec::new();
    for row in rows {
        changes.push(PulledChange {
            seq: u64::try_from(row.try_get::<_, i64>(0)?).map_err(corrupt)?,
            hlc: row.try_get::<_, &str>(1)?.parse()?,
            body: serde_json::from_str(row.try_get::<_, &str>(2)?)?,
        });
    }
    let more = changes.len() > limit as usize;
    changes.truncate(limit as usize);
    let next = if more {
        changes.last().map_or(cursor, |c| c.seq)
    } else {
        let head: i64 = tx
            .query_one(
                "SELECT log_seq FROM centers WHERE code = $1",
                &[&device.center],
            )
            .await?
            .try_get(0)?;
        u64::try_from(head).map_err(corrupt)?
    };
    Ok((changes, next, more))
}

#[async_trait]
impl Storage for PostgresStorage {
    async fn add_center(&self, center: &Center, at: &Stamp) -> Result<()> {
        let mut client = self.client().await;
        let tx = client.transaction().await?;
        let inserted = tx
            .execute(
                "INSERT INTO centers (code, name, kind, created_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (code) DO NOTHING",
                &[
                    &center.code,
                    &center.name,
                    &center.kind.as_str(),
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
        let client = self.client().await;
        client
            .query("SELECT code, name, kind FROM centers ORDER BY code", &[])
            .await?
            .iter()
            .map(to_center)
            .collect()
    }

    async fn center(&self, code: &str) -> Result<Center> {
        let client = self.client().await;
        let row = client
            .query_opt(
                "SELECT code, name, kind FROM centers WHERE code = $1",
                &[&code],
            )
            .await?
            .ok_or_else(|| Error::not_found("centre", code))?;
        to_center(&row)
    }

    async fn publish_catalogue(&self, catalogue: &Catalogue, at: &Stamp) -> Result<()> {
        let mut client = self.client().await;
        let tx = client.transaction().await?;
        // Locking every centre in code order serialises publications with each other and
        // with the centres' exchanges, without a chance of deadlock.
        let codes: Vec<String> = tx
            .query("SELECT code FROM centers ORDER BY code FOR UPDATE", &[])
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<std::result::Result<_, _>>()?;
        let latest: Option<i64> = tx
            .query_one("SELECT MAX(version) FROM catalogue_versions", &[])
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
            "INSERT INTO catalogue_versions (version, body, published_at) VALUES ($1, $2, $3)",
            &[
                &version,
                &serde_json::to_string(catalogue)?,
                &at.wall.to_rfc3339(),
            ],
        )
        .await?;
        for service in &catalogue.services {
            tx.execute(
                "INSERT INTO catalogue_services (version, code, body) VALUES ($1, $2, $3)",
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

    async fn latest_catalogue_version(&self) -> Result<Option<u32>> {
        let client = self.client().await;
        let latest: Option<i64> = client
            .query_one("SELECT MAX(version) FROM catalogue_versions", &[])
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
        let mut client = self.client().await;
        let tx = client.transaction().await?;
        load_center(&tx, center, false).await?;
        tx.execute(
            "INSERT INTO enrolment_codes (code_hash, center, expires_at) VALUES ($1, $2, $3)",
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
        now: DateTime<Utc>,
    ) -> Result<(Center, Device)> {
        let mut client = self.client().await;
        let tx = client.transaction().await?;
        let row = tx
            .query_opt(
                "SELECT center, expires_at, used_at FROM enrolment_codes
                 WHERE code_hash = $1 FOR UPDATE",
                &[&code_hash],
            )
            .await?
            .map(|r| -> Result<(String, String, Option<String>)> {
                Ok((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?))
            })
            .transpose()?;
        let center = load_center(&tx, &check_code(row, now)?, false).await?;
        let index: i64 = tx
            .query_one(
                "UPDATE prefix_counter SET next_index = next_index + 1 WHERE id = 1
                 RETURNING next_index - 1",
                &[],
            )
            .await?
            .try_get(0)?;
        let (code, prefix) = new_device_identity(&center.code, index)?;
        let enrolled_at = now.to_rfc3339();
        tx.execute(
            "INSERT INTO devices (code, center, receipt_prefix, token_hash, label, enrolled_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
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
        tx.execute(
            "UPDATE enrolment_codes SET used_at = $2, device = $3 WHERE code_hash = $1",
            &[&code_hash, &enrolled_at, &code],
        )
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
            },
        ))
    }

    async fn device_by_token(&self, token_hash: &str) -> Result<Option<Device>> {
        let client = self.client().await;
        client
            .query_opt(
                &format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE token_hash = $1"),
                &[&token_hash],
            )
            .await?
            .as_ref()
            .map(to_device)
            .transpose()
    }

    async fn devices(&self, center: Option<&str>) -> Result<Vec<Device>> {
        let client = self.client().await;
        client
            .query(
                &format!(
                    "SELECT {DEVICE_COLUMNS} FROM devices
                     WHERE $1::TEXT IS NULL OR center = $1 ORDER BY center, code"
                ),
                &[&center],
            )
            .await?
            .iter()
            .map(to_device)
            .collect()
    }

    async fn revoke_device(&self, code: &str) -> Result<Device> {
        let client = self.client().await;
        let row = client
            .query_opt(
                &format!(
                    "UPDATE devices SET revoked = TRUE WHERE code = $1 RETURNING {DEVICE_COLUMNS}"
                ),
                &[&code],
            )
            .await?
            .ok_or_else(|| Error::not_found("device", code))?;
        to_device(&row)
    }

    async fn exchange(
        &self,
        device: &Device,
        request: &ExchangeRequest,
        context: &ExchangeContext,
    ) -> Result<Exchanged> {
        let mut client = self.client().await;
        let tx = client.transaction().await?;
        let center = load_center(&tx, &device.center, true).await?;
        let snapshot = load_snapshot(&tx, &center.code, &Wants::of(&request.push)).await?;
        let pusher = Pusher {
            device: &device.code,
            center: &center.code,
            center_kind: center.kind,
            prefix: &device.receipt_prefix,
        };
        let plan = plan(pusher, &request.push, snapshot, context.national_ids);
        write_plan(&tx, device, &plan, &context.stamp).await?;
        let (changes, cursor, more) = pull(&tx, device, request.cursor, request.limit).await?;
        tx.commit().await?;
        Ok(Exchanged {
            results: plan.results,
            changes,
            cursor,
            more,
        })
    }

    async fn agency_requests(&self, agency: &str) -> Result<Vec<ServerRequest>> {
        let client = self.client().await;
        client
            .query(
                &format!(
                    "SELECT {REQUEST_COLUMNS} FROM requests
                     WHERE agency = $1 AND status IN ('dispatched', 'in_processing')
                     ORDER BY updated_hlc, receipt"
                ),
                &[&agency],
            )
            .await?
            .iter()
            .map(to_request)
            .collect()
    }

    async fn request_by_receipt(&self, receipt: &str) -> Result<ServerRequest> {
        let mut client = self.client().await;
        let tx = client.transaction().await?;
        let request = load_request(&tx, "receipt", receipt)
            .await?
            .ok_or_else(|| Error::not_found("request with receipt", receipt))?;
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
        let mut client = self.client().await;
        let tx = client.transaction().await?;
        let center = load_request(&tx, "receipt", receipt)
            .await?
            .ok_or_else(|| Error::not_found("request with receipt", receipt))?
            .center;
        load_center(&tx, &center, true).await?;
        let mut request = load_request(&tx, "receipt", receipt)
            .await?
            .ok_or_else(|| Error::not_found("request with receipt", receipt))?;
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
}
