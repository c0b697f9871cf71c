//! The SQL both backends run alike, written once. Where a statement differs between them only
//! in how its parameters are written (`?1` on SQLite, `$1` on PostgreSQL), `Statements` builds
//! it for a backend's `Dialect`, once per process. What really differs (the snapshot's reads
//! and the plan's writes, row locks, SQLite's JSON and PostgreSQL's arrays) stays in the
//! backends.

/// The columns a centre is read from, in `RawCenter`'s order.
pub(crate) const CENTER_COLUMNS: &str = "code, name, kind, time_zone, currency, waiting_target_min";

/// The columns a device is read from, in `RawDevice`'s order.
pub(crate) const DEVICE_COLUMNS: &str =
    "code, center, receipt_prefix, label, revoked, enrolled_at, wipe_requested_at, wiped_at";

/// The columns of `accounts` that `RawAccount` holds, with the account's centres (a JSON
/// array on SQLite, an array on PostgreSQL) after them.
pub(crate) const ACCOUNT_COLUMNS: &str =
    "a.username, a.display_name, a.role, a.active, a.verifier, a.created_at, a.updated_at";

/// The columns an agency credential is read from, in `AgencyCredential`'s order.
pub(crate) const AGENCY_CREDENTIAL_COLUMNS: &str = "id, agency, issued_at, expires_at, revoked_at";

/// The columns of `requests`, in `RawRequest`'s order.
pub(crate) const REQUEST_COLUMNS: &str =
    "id, receipt, center, device, service, agency, catalogue_version,
    citizen, status, fee, paid_minor, waiver, exemptions, form, documents, reason, updated_hlc";

/// What a request already stored takes from a newer copy: everything a device or an agency
/// may change after intake.
pub(crate) const REQUEST_UPSERT: &str =
    "ON CONFLICT (id) DO UPDATE SET status = excluded.status, fee = excluded.fee,
        paid_minor = excluded.paid_minor, waiver = excluded.waiver,
        documents = excluded.documents, reason = excluded.reason,
        updated_hlc = excluded.updated_hlc";

/// The columns a release is read from, in `RawRelease`'s order: never its package, only the
/// package's size (which both databases read without the package).
pub(crate) const RELEASE_COLUMNS: &str =
    "version, file_name, CAST(length(package) AS BIGINT), sha256, signature, notes, centres,
    published_at";

pub(crate) const RELEASE_KEY: &str = "SELECT public_key FROM release_key WHERE id = 1";

pub(crate) const CENTER_CODES: &str = "SELECT code FROM centers ORDER BY code";

pub(crate) const LATEST_CATALOGUE: &str =
    "SELECT body FROM catalogue_versions ORDER BY version DESC LIMIT 1";

pub(crate) const LATEST_CATALOGUE_VERSION: &str = "SELECT MAX(version) FROM catalogue_versions";

/// Takes the next index of the global receipt prefix counter.
pub(crate) const TAKE_PREFIX_INDEX: &str =
    "UPDATE prefix_counter SET next_index = next_index + 1 WHERE id = 1
     RETURNING next_index - 1";

/// Every device's audit standing, in `DeviceHealth`'s order.
pub(crate) const DEVICE_HEALTH: &str =
    "SELECT d.code, d.center, d.revoked, a.head_seq, a.seen_at, a.flag, a.flagged_at
     FROM devices d LEFT JOIN device_audit a ON a.device = d.code
     ORDER BY d.center, d.code";

pub(crate) const REFUSALS: &str =
    "SELECT kind, count, last_at FROM security_refusals ORDER BY kind";

pub(crate) const FAILED_LOGINS: &str =
    "SELECT count(*) FROM session_events WHERE event = 'login_failed'";

/// How a backend writes a statement's parameters.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

/// The statements both backends run, in a backend's dialect, with their parameters listed in
/// order where the statement does not make them plain.
#[derive(Debug)]
pub(crate) struct Statements {
    /// A centre by code.
    pub center: String,
    pub centers: String,
    /// `(code, name, kind, time_zone, currency, waiting_target_min, created_at)`; no row is
    /// inserted when the code is taken.
    pub insert_center: String,
    /// `(code, name, time_zone, waiting_target_min)`, each NULL to leave it; returns the
    /// centre's columns. One statement, so that two operators' changes to different terms
    /// do not undo each other.
    pub update_center: String,
    /// The last place in a centre's log.
    pub log_head: String,
    /// Takes the next place in a centre's log: bumping the centre's counter takes the row's
    /// write lock, so a centre's places become visible in order.
    pub next_log_seq: String,
    /// `(center, seq, origin_device, hlc, body)`.
    pub insert_log: String,
    /// `(center, after seq, device left out, limit)`.
    pub pull: String,
    pub request_by_receipt: String,
    /// `REQUEST_COLUMNS`, a request as a whole.
    pub upsert_request: String,
    /// An agency's open requests, oldest first.
    pub agency_requests: String,
    /// `(version, body, published_at)`.
    pub insert_catalogue_version: String,
    /// `(version, code, body)`.
    pub insert_catalogue_service: String,
    /// `(code_hash, center, expires_at)`.
    pub insert_enrolment_code: String,
    /// `(center, expires_at, used_at)` of a code.
    pub enrolment_code: String,
    /// `(code_hash, used_at, device)`.
    pub use_enrolment_code: String,
    /// `(code, center, receipt_prefix, token_hash, label, enrolled_at)`.
    pub insert_device: String,
    /// The devices of a centre, or all (NULL).
    pub devices: String,
    /// A device by code.
    pub device: String,
    /// Forgets the credential before a rotation once the new one is in use.
    pub settle_token: String,
    /// The device holding a credential, the one before a rotation included.
    pub device_by_token: String,
    /// `(code, new token hash)`.
    pub rotate_token: String,
    /// `(code, wipe requested at or NULL)`, returning the device.
    pub revoke_device: String,
    /// `(code, wiped at)`, returning the device.
    pub device_wiped: String,
    /// `(code, key)`.
    pub set_recovery_key: String,
    pub recovery_key: String,
    /// `(device, app_version, contact_at, waiting, refused, clock_offset_ms)`.
    pub note_contact: String,
    /// What each device of a centre (NULL for all) last reported: `RawContact`'s columns.
    pub contacts: String,
    /// `(username, display_name, role, active, verifier, created_and_updated_at)`; no row is
    /// inserted when the name is taken.
    pub insert_account: String,
    /// `(username, center)`.
    pub insert_account_center: String,
    /// `(username, role, active, verifier, updated_at)`.
    pub change_account: String,
    /// The condition on `accounts a` for the accounts of a centre, or all (NULL).
    pub accounts_of_center: String,
    /// `(token_hash, agency, issued_at, id, expires_at)`.
    pub insert_agency_token: String,
    pub agency_by_token: String,
    /// The credentials of an agency, or all (NULL), newest first.
    pub agency_credentials: String,
    /// `(id, revoked at)`, the first date kept, returning the credential.
    pub revoke_agency_credential: String,
    /// The audit head held for a device: `(head_seq, head_hash)`.
    pub audit_head: String,
    /// `(device, head_seq, head_hash, seen_at)`.
    pub keep_audit_head: String,
    /// `(device, flagged at, flag)`, the first flag kept.
    pub flag_audit: String,
    /// `(kind, at)`.
    pub count_refusal: String,
    /// `(public_key, set_at)`: the one release key, replaced if there was one.
    pub set_release_key: String,
    /// `(version, major, minor, patch, file_name, sha256, signature, notes, centres,
    /// published_at, package)`; no row is inserted when the version is published already.
    pub insert_release: String,
    /// Every release, newest first.
    pub releases: String,
    /// `(major, minor, patch, centre)`: the newest release above that version offered to
    /// the centre.
    pub newest_release: String,
    /// `(version, centre)`: the release if it is offered to the centre.
    pub release_for: String,
}

impl Statements {
    pub(crate) fn new(dialect: Dialect) -> Self {
        // `p` before a parameter's number; `text` after a parameter only compared with NULL,
        // whose type PostgreSQL cannot infer from that.
        let (p, text) = match dialect {
            Dialect::Sqlite => ('?', ""),
            Dialect::Postgres => ('$', "::TEXT"),
        };
        // The codes in a release's `centres` (a JSON array in text), as rows whose column is
        // `value`.
        let centre_codes = match dialect {
            Dialect::Sqlite => "json_each(centres)",
            Dialect::Postgres => "json_array_elements_text(centres::json)",
        };
        let offered_to = |centre: u8| {
            format!(
                "(centres IS NULL OR EXISTS (SELECT 1 FROM {centre_codes} WHERE value = {p}{centre}))"
            )
        };
        Statements {
            center: format!("SELECT {CENTER_COLUMNS} FROM centers WHERE code = {p}1"),
            centers: format!("SELECT {CENTER_COLUMNS} FROM centers ORDER BY code"),
            insert_center: format!(
                "INSERT INTO centers (code, name, kind, time_zone, currency, waiting_target_min,
                    created_at)
                 VALUES ({p}1, {p}2, {p}3, {p}4, {p}5, {p}6, {p}7)
                 ON CONFLICT (code) DO NOTHING"
            ),
            update_center: format!(
                "UPDATE centers SET name = coalesce({p}2, name),
                    time_zone = coalesce({p}3, time_zone),
                    waiting_target_min = coalesce({p}4, waiting_target_min)
                 WHERE code = {p}1 RETURNING {CENTER_COLUMNS}"
            ),
            log_head: format!("SELECT log_seq FROM centers WHERE code = {p}1"),
            next_log_seq: format!(
                "UPDATE centers SET log_seq = log_seq + 1 WHERE code = {p}1 RETURNING log_seq"
            ),
            insert_log: format!(
                "INSERT INTO change_log (center, seq, origin_device, hlc, body)
                 VALUES ({p}1, {p}2, {p}3, {p}4, {p}5)"
            ),
            pull: format!(
                "SELECT seq, hlc, body FROM change_log
                 WHERE center = {p}1 AND seq > {p}2 AND origin_device <> {p}3
                 ORDER BY seq LIMIT {p}4"
            ),
            request_by_receipt: format!(
                "SELECT {REQUEST_COLUMNS} FROM requests WHERE receipt = {p}1"
            ),
            upsert_request: format!(
                "INSERT INTO requests ({REQUEST_COLUMNS})
                 VALUES ({p}1, {p}2, {p}3, {p}4, {p}5, {p}6, {p}7, {p}8, {p}9, {p}10, {p}11,
                    {p}12, {p}13, {p}14, {p}15, {p}16, {p}17)
                 {REQUEST_UPSERT}"
            ),
            agency_requests: format!(
                "SELECT {REQUEST_COLUMNS} FROM requests
                 WHERE agency = {p}1 AND status IN ('dispatched', 'in_processing')
                 ORDER BY updated_hlc, receipt"
            ),
            insert_catalogue_version: format!(
                "INSERT INTO catalogue_versions (version, body, published_at)
                 VALUES ({p}1, {p}2, {p}3)"
            ),
            insert_catalogue_service: format!(
                "INSERT INTO catalogue_services (version, code, body) VALUES ({p}1, {p}2, {p}3)"
            ),
            insert_enrolment_code: format!(
                "INSERT INTO enrolment_codes (code_hash, center, expires_at)
                 VALUES ({p}1, {p}2, {p}3)"
            ),
            enrolment_code: format!(
                "SELECT center, expires_at, used_at FROM enrolment_codes WHERE code_hash = {p}1"
            ),
            use_enrolment_code: format!(
                "UPDATE enrolment_codes SET used_at = {p}2, device = {p}3 WHERE code_hash = {p}1"
            ),
            insert_device: format!(
                "INSERT INTO devices (code, center, receipt_prefix, token_hash, label, enrolled_at)
                 VALUES ({p}1, {p}2, {p}3, {p}4, {p}5, {p}6)"
            ),
            devices: format!(
                "SELECT {DEVICE_COLUMNS} FROM devices
                 WHERE {p}1{text} IS NULL OR center = {p}1 ORDER BY center, code"
            ),
            device: format!("SELECT {DEVICE_COLUMNS} FROM devices WHERE code = {p}1"),
            settle_token: format!(
                "UPDATE devices SET previous_token_hash = NULL
                 WHERE token_hash = {p}1 AND previous_token_hash IS NOT NULL"
            ),
            device_by_token: format!(
                "SELECT {DEVICE_COLUMNS} FROM devices
                 WHERE token_hash = {p}1 OR previous_token_hash = {p}1"
            ),
            rotate_token: format!(
                "UPDATE devices SET previous_token_hash = coalesce(previous_token_hash, token_hash),
                    token_hash = {p}2
                 WHERE code = {p}1"
            ),
            revoke_device: format!(
                "UPDATE devices SET revoked = TRUE,
                    wipe_requested_at = coalesce(wipe_requested_at, {p}2)
                 WHERE code = {p}1 RETURNING {DEVICE_COLUMNS}"
            ),
            device_wiped: format!(
                "UPDATE devices SET wiped_at = coalesce(wiped_at, {p}2), recovery_key = NULL
                 WHERE code = {p}1 RETURNING {DEVICE_COLUMNS}"
            ),
            set_recovery_key: format!("UPDATE devices SET recovery_key = {p}2 WHERE code = {p}1"),
            recovery_key: format!("SELECT recovery_key FROM devices WHERE code = {p}1"),
            note_contact: format!(
                "INSERT INTO device_contacts
                    (device, app_version, contact_at, waiting, refused, clock_offset_ms)
                 VALUES ({p}1, {p}2, {p}3, {p}4, {p}5, {p}6)
                 ON CONFLICT (device) DO UPDATE SET app_version = excluded.app_version,
                    contact_at = excluded.contact_at, waiting = excluded.waiting,
                    refused = excluded.refused, clock_offset_ms = excluded.clock_offset_ms"
            ),
            contacts: format!(
                "SELECT c.device, c.app_version, c.contact_at, c.waiting, c.refused,
                    c.clock_offset_ms
                 FROM device_contacts c JOIN devices d ON d.code = c.device
                 WHERE {p}1{text} IS NULL OR d.center = {p}1 ORDER BY c.device"
            ),
            insert_account: format!(
                "INSERT INTO accounts (username, display_name, role, active, verifier, created_at,
                    updated_at)
                 VALUES ({p}1, {p}2, {p}3, {p}4, {p}5, {p}6, {p}6)
                 ON CONFLICT (username) DO NOTHING"
            ),
            insert_account_center: format!(
                "INSERT INTO account_centers (username, center) VALUES ({p}1, {p}2)"
            ),
            change_account: format!(
                "UPDATE accounts SET role = {p}2, active = {p}3, verifier = {p}4, updated_at = {p}5
                 WHERE username = {p}1"
            ),
            accounts_of_center: format!(
                "{p}1{text} IS NULL OR a.username IN
                    (SELECT username FROM account_centers WHERE center = {p}1)"
            ),
            insert_agency_token: format!(
                "INSERT INTO agency_tokens (token_hash, agency, issued_at, id, expires_at)
                 VALUES ({p}1, {p}2, {p}3, {p}4, {p}5)"
            ),
            agency_by_token: format!(
                "SELECT {AGENCY_CREDENTIAL_COLUMNS} FROM agency_tokens WHERE token_hash = {p}1"
            ),
            agency_credentials: format!(
                "SELECT {AGENCY_CREDENTIAL_COLUMNS} FROM agency_tokens
                 WHERE {p}1{text} IS NULL OR agency = {p}1 ORDER BY issued_at DESC, id"
            ),
            revoke_agency_credential: format!(
                "UPDATE agency_tokens SET revoked_at = coalesce(revoked_at, {p}2) WHERE id = {p}1
                 RETURNING {AGENCY_CREDENTIAL_COLUMNS}"
            ),
            audit_head: format!("SELECT head_seq, head_hash FROM device_audit WHERE device = {p}1"),
            keep_audit_head: format!(
                "INSERT INTO device_audit (device, head_seq, head_hash, seen_at)
                 VALUES ({p}1, {p}2, {p}3, {p}4)
                 ON CONFLICT (device) DO UPDATE SET head_seq = excluded.head_seq,
                    head_hash = excluded.head_hash, seen_at = excluded.seen_at"
            ),
            flag_audit: format!(
                "UPDATE device_audit SET flagged_at = coalesce(flagged_at, {p}2),
                    flag = coalesce(flag, {p}3)
                 WHERE device = {p}1"
            ),
            count_refusal: format!(
                "INSERT INTO security_refusals (kind, count, last_at) VALUES ({p}1, 1, {p}2)
                 ON CONFLICT (kind) DO UPDATE SET count = security_refusals.count + 1,
                    last_at = excluded.last_at"
            ),
            set_release_key: format!(
                "INSERT INTO release_key (id, public_key, set_at) VALUES (1, {p}1, {p}2)
                 ON CONFLICT (id) DO UPDATE SET public_key = excluded.public_key,
                    set_at = excluded.set_at"
            ),
            insert_release: format!(
                "INSERT INTO releases (version, major, minor, patch, file_name, sha256, signature,
                    notes, centres, published_at, package)
                 VALUES ({p}1, {p}2, {p}3, {p}4, {p}5, {p}6, {p}7, {p}8, {p}9, {p}10, {p}11)
                 ON CONFLICT (version) DO NOTHING"
            ),
            releases: format!(
                "SELECT {RELEASE_COLUMNS} FROM releases ORDER BY major DESC, minor DESC, patch DESC"
            ),
            newest_release: format!(
                "SELECT {RELEASE_COLUMNS} FROM releases
                 WHERE (major, minor, patch) > ({p}1, {p}2, {p}3) AND {}
                 ORDER BY major DESC, minor DESC, patch DESC LIMIT 1",
                offered_to(4)
            ),
            release_for: format!(
                "SELECT {RELEASE_COLUMNS} FROM releases WHERE version = {p}1 AND {}",
                offered_to(2)
            ),
        }
    }
}
