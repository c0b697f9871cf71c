//! The back office's operations over any storage: credentials (random, stored only as
//! hashes), clerk accounts (passwords checked, kept only as Argon2id verifiers), the server's
//! hybrid clock, and the checks that need no database.

use std::sync::{Arc, Mutex};

use chrono::{Duration, Utc};
use guichet_domain::account::SessionEvent;
use guichet_domain::account::{Role, Verifier, check_new_account, check_password};
use guichet_domain::catalogue::{self, Catalogue, CenterKind, is_valid_code};
use guichet_domain::citizen::{NationalIdScheme, scheme_by_name};
use guichet_domain::hlc::Hlc;
use guichet_domain::keyslot::RecoveryKey;
use guichet_domain::money::Currency;
use guichet_domain::receipt::ReceiptNumber;
use guichet_domain::request::Action;
use guichet_domain::zone::{UnknownZone, Zone};
use guichet_domain::{hex, sha256_hex};
use guichet_protocol::{
    CenterTerms, Change, DeviceState, EnrollRequest, EnrollResponse, ExchangeRequest,
    ExchangeResponse, MAX_PUSH, Outcome, TokenRotation, VouchRequest, VouchResponse,
};
use rand::Rng;

use crate::anchor::Verdict;
use crate::error::{Error, Missing, Result};
use crate::model::{
    AccountChange, AgencyCredential, Center, CenterUpdate, Clerk, Contact, Device, EnrolmentCode,
    FleetHealth, FleetLine, IssuedAgencyCredential, MAX_AGENCY_CREDENTIAL_DAYS, NewClerk, Refusal,
    Release, ServerRequest, Stamp, check_membership,
};
use crate::release::{
    DEB_MAGIC, MAX_FILE_NAME_CHARS, MAX_NOTES_CHARS, MAX_PACKAGE_BYTES, ReleaseKey, Version,
    check_signature,
};

use crate::storage::{ExchangeContext, Storage};

/// The national id rule the back office checks citizens and forms with, unless configured.
pub const DEFAULT_NATIONAL_ID_SCHEME: &str = "ee-isikukood";

/// How long an enrolment code stays usable unless told otherwise.
pub const DEFAULT_CODE_VALIDITY_HOURS: i64 = 72;
/// The longest reason an agency gives for a decision, in characters: the centre's clerk reads
/// it to the citizen.
pub const MAX_REASON_CHARS: usize = 1000;
/// The longest name of who decided at an agency, in characters.
pub const MAX_ACTOR_CHARS: usize = 100;

/// Refuses a text longer than `max` characters or holding a character a screen would not show
/// as it is (line breaks pass).
fn bounded(what: &str, text: &str, max: usize) -> Result<()> {
    let len = text.chars().count();
    if len > max {
        return Err(Error::Invalid(format!(
            "{what} has {len} characters: at most {max}; nothing was changed"
        )));
    }
    if let Some(problem) = guichet_domain::text::hidden_problem(text, true) {
        return Err(Error::Invalid(format!(
            "{what} {problem}: type it again without it; nothing was changed"
        )));
    }
    Ok(())
}

/// The longest an enrolment code may stay valid: 30 days, time to reach a bus on tour.
pub const MAX_CODE_VALIDITY_HOURS: i64 = 30 * 24;

/// How long an enrolment code asked to be valid `hours` stays so; refused outside 1 hour to
/// 30 days (a code valid for ever is a standing key to the centre).
pub fn code_validity(hours: i64) -> Result<Duration> {
    if (1..=MAX_CODE_VALIDITY_HOURS).contains(&hours) {
        Ok(Duration::hours(hours))
    } else {
        Err(validity_refused(&format!("{hours} hours")))
    }
}

fn validity_refused(asked: &str) -> Error {
    Error::Invalid(format!(
        "an enrolment code is valid for 1 to {MAX_CODE_VALIDITY_HOURS} hours (30 days), not \
         {asked}: nothing was issued"
    ))
}

/// A release as an administrator gives it: the package, its `.sig` file's content, and for whom.
#[derive(Clone)]
pub struct NewRelease {
    /// `MAJOR.MINOR.PATCH`.
    pub version: String,
    pub file_name: String,
    pub package: Vec<u8>,
    pub signature: String,
    /// The centres it is offered to; `None` for every centre.
    pub centres: Option<Vec<String>>,
    pub notes: String,
}

/// A release's terms, checked (`BackOffice::release_terms`): what is left to check is its
/// package and signature.
#[derive(Debug)]
pub struct ReleaseTerms {
    version: Version,
    file_name: String,
    notes: String,
    centres: Option<Vec<String>>,
    key: ReleaseKey,
}

impl std::fmt::Debug for NewRelease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewRelease")
            .field("version", &self.version)
            .field("file_name", &self.file_name)
            .field("package_bytes", &self.package.len())
            .field("centres", &self.centres)
            .finish_non_exhaustive()
    }
}

/// Refuses a package file name that is not a plain Debian one: it is shown to operators and
/// sent to devices in a header.
fn check_file_name(name: &str) -> Result<()> {
    let plain = |c: char| c.is_ascii_alphanumeric() || "._+~-".contains(c);
    if name.is_empty()
        || name.starts_with('.')
        || name.chars().count() > MAX_FILE_NAME_CHARS
        || !name.chars().all(plain)
    {
        let shown: String = name.chars().take(MAX_FILE_NAME_CHARS).collect();
        return Err(Error::Invalid(format!(
            "'{shown}' is not a package file name: use at most {MAX_FILE_NAME_CHARS} letters, \
             digits, '.', '_', '+', '~' or '-' (as guichet_1.4.0_amd64.deb); nothing was published"
        )));
    }
    Ok(())
}

/// Symbols of enrolment codes: no 0/O or 1/I/L, so a code read over the phone survives.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

/// What publishing an imported catalogue did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published {
    New(u32),
    /// The latest version says the same: nothing was published.
    Unchanged(u32),
}

/// A centre to add: its code, name, kind, IANA time zone, currency and waiting-time target.
#[derive(Debug, Clone, Copy)]
pub struct NewCenter<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub kind: CenterKind,
    pub time_zone: &'a str,
    pub currency: &'a str,
    pub waiting_target_min: u32,
}

/// What to change of a centre; `None` leaves it as it is.
#[derive(Debug, Clone, Copy, Default)]
pub struct CenterChange<'a> {
    pub name: Option<&'a str>,
    pub time_zone: Option<&'a str>,
    pub waiting_target_min: Option<u32>,
}

fn center_name(name: &str) -> Result<String> {
    catalogue::center_name(name)
        .map(str::to_owned)
        .map_err(Error::Invalid)
}

fn center_zone(zone: &str) -> Result<Zone> {
    zone.parse()
        .map_err(|e: UnknownZone| Error::Invalid(e.to_string()))
}

fn waiting_target(minutes: u32) -> Result<u32> {
    catalogue::waiting_target(minutes).map_err(Error::Invalid)
}

/// The waiting-time target a centre gets when none is given, in minutes.
pub const DEFAULT_WAITING_TARGET_MIN: u32 = 15;

/// Up to ten codes for a refusal to list, and how many more there are.
fn some_codes<'a>(codes: impl ExactSizeIterator<Item = &'a str>) -> String {
    const SHOWN: usize = 10;
    let more = codes.len().saturating_sub(SHOWN);
    let listed: Vec<&str> = codes.take(SHOWN).collect();
    match (listed.is_empty(), more) {
        (true, _) => "none".to_owned(),
        (false, 0) => listed.join(", "),
        (false, more) => format!("{} and {more} more", listed.join(", ")),
    }
}

/// How far past its own time the back office's clock follows a device's stamps: two days. A
/// bus whose clock is set in the wrong time zone or on the wrong day still has its changes
/// ordered before what the back office stamps after them (an agency's decision); a clock set
/// in the wrong year, a stamp no change can honestly carry, does not drag every clock along.
pub const MAX_CLOCK_AHEAD_MS: u64 = 48 * 3_600_000;

#[derive(Debug, Clone)]
pub struct BackOffice {
    storage: Arc<dyn Storage>,
    clock: Arc<Mutex<Hlc>>,
    national_ids: &'static dyn NationalIdScheme,
    /// Password checks asked for by anyone on the network (a vouch) take 64 MiB and a core
    /// each: at most this many at once, so a flood cannot exhaust the machine's memory.
    vouching: Arc<tokio::sync::Semaphore>,
}

/// Vouches checked at once, and how long one waits for its turn before the answer is "busy".
const VOUCHES_AT_ONCE: usize = 2;
const VOUCH_QUEUE_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// The hash under which a credential or code is stored.
pub fn secret_hash(secret: &str) -> String {
    sha256_hex(secret.as_bytes())
}

/// The verifier of a password that passed `check_password`, with a fresh random salt. Argon2id
/// at 64 MiB takes a good part of a second: it runs on the blocking pool.
async fn new_verifier(password: &str) -> Result<Verifier> {
    let mut salt = [0u8; 16];
    rand::rng().fill(&mut salt);
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || Verifier::new(&password, salt))
        .await
        .map_err(|e| Error::Task(e.to_string()))?
        .map_err(Error::from)
}

fn normalize_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

impl BackOffice {
    pub fn new(storage: Arc<dyn Storage>) -> Self {
        Self {
            storage,
            clock: Arc::new(Mutex::new(Hlc::new("backoffice"))),
            national_ids: scheme_by_name(DEFAULT_NATIONAL_ID_SCHEME)
                .unwrap_or(&guichet_domain::citizen::PlainId),
            vouching: Arc::new(tokio::sync::Semaphore::new(VOUCHES_AT_ONCE)),
        }
    }

    /// The scheme national ids are checked with, here and on the devices.
    pub fn national_id_scheme(&self) -> &'static dyn NationalIdScheme {
        self.national_ids
    }

    /// Uses another national id scheme (by the name the workstations are set up with).
    pub fn with_national_ids(mut self, scheme: &str) -> Result<Self> {
        self.national_ids = scheme_by_name(scheme)?;
        Ok(self)
    }

    pub async fn open(url: &str) -> Result<Self> {
        Ok(Self::new(crate::storage::open(url).await?))
    }

    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.storage
    }

    fn stamp(&self) -> Stamp {
        let wall = Utc::now();
        let now_ms = u64::try_from(wall.timestamp_millis()).unwrap_or(0);
        let hlc = match self.clock.lock() {
            Ok(mut clock) => clock.tick(now_ms),
            Err(poisoned) => poisoned.into_inner().tick(now_ms),
        };
        Stamp { hlc, wall }
    }

    /// Takes in a device's latest stamp, but never further than `MAX_CLOCK_AHEAD_MS` past the
    /// back office's own clock: a bus whose clock is set a year ahead would otherwise carry
    /// this clock there, and every device after it at its next sync.
    fn observe(&self, device: &str, remote: &guichet_domain::hlc::HlcStamp) {
        let now_ms = u64::try_from(Utc::now().timestamp_millis()).unwrap_or(0);
        let (_, held) = match self.clock.lock() {
            Ok(mut clock) => clock.observe_at_most(remote, now_ms, MAX_CLOCK_AHEAD_MS),
            Err(poisoned) => {
                poisoned
                    .into_inner()
                    .observe_at_most(remote, now_ms, MAX_CLOCK_AHEAD_MS)
            }
        };
        if held {
            let ahead_s = remote.wall_ms.saturating_sub(now_ms) / 1000;
            tracing::warn!(
                device,
                ahead_s,
                "a device's changes are stamped ahead of the back office's clock: its clock is \
                 wrong; the back office's clock keeps to its own time"
            );
        }
    }

    pub async fn add_center(&self, new: &NewCenter<'_>) -> Result<Center> {
        let NewCenter {
            code,
            name,
            kind,
            time_zone,
            currency,
            waiting_target_min,
        } = *new;
        if !is_valid_code(code) {
            return Err(Error::Invalid(format!(
                "centre code '{code}' is not valid: use 1 to 64 letters, digits, '-', '_' or '.'"
            )));
        }
        let center = Center {
            code: code.to_owned(),
            name: center_name(name)?,
            kind,
            time_zone: center_zone(time_zone)?,
            currency: Currency::choose(currency).map_err(|e| Error::Invalid(e.to_string()))?,
            waiting_target_min: waiting_target(waiting_target_min)?,
        };
        self.storage.add_center(&center, &self.stamp()).await?;
        Ok(center)
    }

    /// Changes what `change` gives of a centre (its name, time zone, waiting-time target),
    /// all checked before any is written; its devices take the new terms at their next
    /// exchange. Its code, kind and currency stay: the fees its devices took were counted in
    /// that currency.
    pub async fn update_center(&self, code: &str, change: &CenterChange<'_>) -> Result<Center> {
        let CenterChange {
            name,
            time_zone,
            waiting_target_min,
        } = *change;
        if name.is_none() && time_zone.is_none() && waiting_target_min.is_none() {
            return Err(Error::Invalid(
                "nothing to change: give the centre's new name, time zone or waiting-time target"
                    .into(),
            ));
        }
        let update = CenterUpdate {
            name: name.map(center_name).transpose()?,
            time_zone: time_zone.map(center_zone).transpose()?,
            waiting_target_min: waiting_target_min.map(waiting_target).transpose()?,
        };
        let center = self
            .storage
            .update_center(code, &update)
            .await
            .map_err(|e| unknown_centre(code, e))?;
        tracing::info!(center = %center.code, "centre's terms changed");
        Ok(center)
    }

    pub async fn centers(&self) -> Result<Vec<Center>> {
        self.storage.centers().await
    }

    /// The centre `code`, or a refusal that says where the centres are listed.
    async fn known_centre(&self, code: &str) -> Result<Center> {
        self.storage
            .center(code)
            .await
            .map_err(|e| unknown_centre(code, e))
    }

    /// Validates and publishes a catalogue; its version must be above every published one.
    /// The catalogue last published, whole.
    pub async fn latest_catalogue(&self) -> Result<Option<Catalogue>> {
        self.storage.latest_catalogue().await
    }

    /// Publishes `catalogue` as the next version, unless it says what the latest version
    /// says already: then nothing is published (an unchanged file imported again).
    pub async fn publish_if_changed(&self, mut catalogue: Catalogue) -> Result<Published> {
        let latest = self.storage.latest_catalogue().await?;
        if let Some(latest) = &latest {
            catalogue.version = latest.version;
            if *latest == catalogue {
                return Ok(Published::Unchanged(latest.version));
            }
        }
        catalogue.version = latest.map_or(1, |l| l.version + 1);
        self.publish_catalogue(&catalogue).await?;
        Ok(Published::New(catalogue.version))
    }

    pub async fn publish_catalogue(&self, catalogue: &Catalogue) -> Result<u32> {
        catalogue.validate()?;
        self.storage
            .publish_catalogue(catalogue, &self.stamp())
            .await?;
        Ok(catalogue.version)
    }

    /// A new one-time enrolment code for a device of `center`, valid for `valid_for` (at most
    /// `MAX_CODE_VALIDITY_HOURS`, see `code_validity`).
    pub async fn issue_enrolment_code(
        &self,
        center: &str,
        valid_for: Duration,
    ) -> Result<EnrolmentCode> {
        if valid_for < Duration::hours(1) || valid_for > Duration::hours(MAX_CODE_VALIDITY_HOURS) {
            return Err(validity_refused(&format!(
                "{} minutes",
                valid_for.num_minutes()
            )));
        }
        // The thread's generator is not Send: it must be gone before the first await.
        let symbols: String = {
            let mut rng = rand::rng();
            (0..12)
                .map(|_| char::from(CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())]))
                .collect()
        };
        let code = format!("{}-{}-{}", &symbols[0..4], &symbols[4..8], &symbols[8..12]);
        let expires_at = Utc::now() + valid_for;
        self.storage
            .add_enrolment_code(center, &secret_hash(&normalize_code(&code)), expires_at)
            .await?;
        Ok(EnrolmentCode {
            code,
            center: center.to_owned(),
            expires_at,
        })
    }

    /// Exchanges a one-time code for a device credential. What the device sends is checked
    /// first, so that a refused enrolment leaves its code unused.
    pub async fn enroll(&self, request: &EnrollRequest) -> Result<EnrollResponse> {
        let label = device_label(request.label.as_deref())?;
        let recovery = sent_recovery_key(
            request.recovery_key.as_deref(),
            "the enrolment code was not used, so the device may enrol with it again",
        )?;
        let written = recovery.as_ref().map(RecoveryKey::written);
        let mut bytes = [0u8; 32];
        rand::rng().fill(&mut bytes);
        let token = hex(&bytes);
        let enrolled = self
            .storage
            .enroll(
                &secret_hash(&normalize_code(&request.code)),
                &secret_hash(&token),
                label,
                written.as_deref().map(String::as_str),
                Utc::now(),
            )
            .await;
        if let Err(Error::Unauthorized(_) | Error::Conflict(_)) = &enrolled {
            self.refused(Refusal::EnrolmentCodeRefused, None).await;
        }
        let (center, device) = enrolled?;
        tracing::info!(device = %device.code, center = %center.code, "device enrolled");
        // An account changed after this read is in the centre's log too, which the device
        // pulls from the start.
        let accounts = self
            .storage
            .accounts(Some(&center.code))
            .await?
            .into_iter()
            .map(|stored| stored.account)
            .collect();
        Ok(EnrollResponse {
            center_code: center.code,
            center_name: center.name,
            center_kind: center.kind,
            time_zone: center.time_zone.name().to_owned(),
            national_id_scheme: self.national_ids.name().to_owned(),
            currency: center.currency.code().to_owned(),
            waiting_target_min: center.waiting_target_min,
            device_code: device.code,
            receipt_prefix: device.receipt_prefix,
            token,
            accounts,
        })
    }

    /// Adds an account after checking its user name, display name, centres and password; the
    /// password is kept only as its verifier. The devices of its centres get it at their next
    /// sync.
    pub async fn add_clerk(&self, new: &NewClerk) -> Result<Clerk> {
        let display_name = check_new_account(&new.username, &new.display_name, &new.password)?;
        let mut centers: Vec<String> = new.centers.iter().map(|c| c.trim().to_owned()).collect();
        centers.sort();
        centers.dedup();
        check_membership(&new.username, new.role, &centers)?;
        // Checked again when the account is written; here so that a mistyped centre is refused
        // before the password is hashed.
        for code in &centers {
            self.known_centre(code).await?;
        }
        let account = guichet_domain::account::Account {
            username: new.username.clone(),
            display_name: display_name.to_owned(),
            role: new.role,
            active: true,
            verifier: new_verifier(&new.password).await?,
        };
        let stored = self
            .storage
            .add_account(&account, &centers, &self.stamp())
            .await?;
        tracing::info!(role = %stored.account.role, centres = stored.centers.len(), "account added");
        Ok(Clerk::from(&stored))
    }

    /// The accounts of one centre, or of all, without their verifiers.
    pub async fn clerks(&self, center: Option<&str>) -> Result<Vec<Clerk>> {
        if let Some(code) = center {
            self.known_centre(code).await?;
        }
        Ok(self
            .storage
            .accounts(center)
            .await?
            .iter()
            .map(Clerk::from)
            .collect())
    }

    pub async fn disable_clerk(&self, username: &str) -> Result<Clerk> {
        self.change_clerk(username, &AccountChange::Disable).await
    }

    pub async fn enable_clerk(&self, username: &str) -> Result<Clerk> {
        self.change_clerk(username, &AccountChange::Enable).await
    }

    /// Gives an account a new password, checked like a first one.
    pub async fn reset_clerk_password(&self, username: &str, password: &str) -> Result<Clerk> {
        check_password(username, password)?;
        let verifier = new_verifier(password).await?;
        self.change_clerk(username, &AccountChange::Verifier(verifier))
            .await
    }

    pub async fn change_clerk_role(&self, username: &str, role: Role) -> Result<Clerk> {
        self.change_clerk(username, &AccountChange::Role(role))
            .await
    }

    async fn change_clerk(&self, username: &str, change: &AccountChange) -> Result<Clerk> {
        let stored = self
            .storage
            .change_account(username, change, &self.stamp())
            .await?;
        let what = match change {
            AccountChange::Disable => "account disabled",
            AccountChange::Enable => "account enabled",
            AccountChange::Verifier(_) => "account password reset",
            AccountChange::Role(_) => "account role changed",
        };
        tracing::info!(role = %stored.account.role, "{what}");
        Ok(Clerk::from(&stored))
    }

    /// Issues a credential for the agency API, good for `agency` only (its requests and the
    /// steps on them) for `valid_for`. The back office keeps only its hash; it is shown once.
    pub async fn issue_agency_token(
        &self,
        agency: &str,
        valid_for: Duration,
    ) -> Result<IssuedAgencyCredential> {
        if !is_valid_code(agency) {
            return Err(Error::Invalid(format!(
                "'{agency}' is not an agency code: use the code of the catalogue"
            )));
        }
        if valid_for <= Duration::zero() || valid_for > Duration::days(MAX_AGENCY_CREDENTIAL_DAYS) {
            return Err(Error::Invalid(format!(
                "an agency credential is valid for 1 to {MAX_AGENCY_CREDENTIAL_DAYS} days: give \
                 a validity in that range; nothing was issued"
            )));
        }
        // A credential for an agency no catalogue names would reach no request, for as long
        // as it is valid, with nothing to say why.
        self.catalogue_agency(agency, "; nothing was issued")
            .await?;
        let mut bytes = [0u8; 32];
        rand::rng().fill(&mut bytes);
        let token = hex(&bytes);
        let hash = secret_hash(&token);
        let now = Utc::now();
        let credential = AgencyCredential {
            id: hash[..12].to_owned(),
            agency: agency.to_owned(),
            issued_at: now.to_rfc3339(),
            expires_at: Some((now + valid_for).to_rfc3339()),
            revoked_at: None,
        };
        self.storage.add_agency_token(&credential, &hash).await?;
        tracing::info!(agency, credential = %credential.id, "agency credential issued");
        Ok(IssuedAgencyCredential { credential, token })
    }

    /// The agency an agency credential is good for; an unknown, revoked or expired one is
    /// refused, logged (by its id, never its value) and counted.
    pub async fn agency_of(&self, token: &str) -> Result<String> {
        let now = Utc::now();
        let Some(credential) = self
            .storage
            .agency_by_token(&secret_hash(token.trim()))
            .await?
        else {
            self.refused(Refusal::AgencyCredentialUnknown, None).await;
            return Err(Error::Unauthorized(
                "unknown agency credential: ask the administrator for one \
                 (guichet-backoffice agency token AGENCY)"
                    .into(),
            ));
        };
        match credential.refusal(now) {
            None => Ok(credential.agency),
            Some(refusal) => {
                self.refused(refusal, Some(&credential.id)).await;
                let when = match refusal {
                    Refusal::AgencyCredentialRevoked => format!(
                        "was revoked at {}",
                        credential.revoked_at.as_deref().unwrap_or("?")
                    ),
                    _ => format!(
                        "expired at {}",
                        credential.expires_at.as_deref().unwrap_or("?")
                    ),
                };
                Err(Error::Unauthorized(format!(
                    "agency credential {} of {} {when}: ask the administrator for a new one \
                     (guichet-backoffice agency token {})",
                    credential.id, credential.agency, credential.agency
                )))
            }
        }
    }

    /// The agency credentials, of one agency or all, newest first; never their values.
    /// The agency credentials, of one agency or all. An agency with none that the catalogue
    /// does not name either is refused: a mistyped code must not read as "no credential".
    pub async fn agency_credentials(&self, agency: Option<&str>) -> Result<Vec<AgencyCredential>> {
        let credentials = self.storage.agency_credentials(agency).await?;
        if let Some(agency) = agency
            && credentials.is_empty()
        {
            self.catalogue_agency(agency, "").await?;
        }
        Ok(credentials)
    }

    /// Refuses an agency the latest catalogue does not name, listing those it does; `after`
    /// ends the refusal (what was not done).
    async fn catalogue_agency(&self, agency: &str, after: &str) -> Result<()> {
        let Some(catalogue) = self.storage.latest_catalogue().await? else {
            return Err(Error::Invalid(format!(
                "no catalogue is published yet: publish the one that lists agency '{agency}' \
                 first{after}"
            )));
        };
        if !catalogue.agencies.iter().any(|a| a.code == agency) {
            return Err(Error::Invalid(format!(
                "agency '{agency}' is not in the catalogue (version {}); its agencies are {}: \
                 give one of these codes{after}",
                catalogue.version,
                some_codes(catalogue.agencies.iter().map(|a| a.code.as_str()))
            )));
        }
        Ok(())
    }

    /// Revokes an agency credential by its id: it is refused from now on.
    pub async fn revoke_agency_credential(&self, id: &str) -> Result<AgencyCredential> {
        let credential = self
            .storage
            .revoke_agency_credential(id.trim(), &Utc::now().to_rfc3339())
            .await?;
        tracing::info!(credential = %credential.id, agency = %credential.agency, "agency credential revoked");
        Ok(credential)
    }

    /// Logs and counts a refused credential; `id` names it when it is known (never its value).
    /// Counting must not hide the refusal: a failure to count is logged and the refusal stands.
    pub async fn refused(&self, refusal: Refusal, id: Option<&str>) {
        tracing::warn!(
            refusal = refusal.as_str(),
            credential = id.unwrap_or("-"),
            "credential refused"
        );
        if let Err(error) = self
            .storage
            .count_refusal(refusal, &Utc::now().to_rfc3339())
            .await
        {
            tracing::error!(%error, "the refusal could not be counted");
        }
    }

    /// The device a bearer token belongs to; a revoked device is refused with its own error.
    pub async fn authenticate(&self, token: &str) -> Result<Device> {
        let Some(device) = self
            .storage
            .device_by_token(&secret_hash(token.trim()))
            .await?
        else {
            self.refused(Refusal::DeviceCredentialUnknown, None).await;
            return Err(Error::Unauthorized(
                "unknown device credential (or one replaced by a rotation): enrol the device"
                    .into(),
            ));
        };
        if device.revoked && !device.wipe_pending() {
            self.refused(Refusal::DeviceRevoked, Some(&device.code))
                .await;
            return Err(Error::Revoked {
                device: device.code,
            });
        }
        Ok(device)
    }

    /// Refuses a device revoked with a wipe pending anything but its last exchanges and its
    /// confirmation.
    fn active(&self, device: &Device) -> Result<()> {
        if device.revoked {
            return Err(Error::Revoked {
                device: device.code.clone(),
            });
        }
        Ok(())
    }

    /// A new credential for an authenticated device. Its current one keeps working until the
    /// new one is first used, so an answer lost on the way leaves the device able to sync and
    /// to ask again.
    pub async fn rotate_device_token(&self, device: &Device) -> Result<TokenRotation> {
        self.active(device)?;
        let mut bytes = [0u8; 32];
        rand::rng().fill(&mut bytes);
        let token = hex(&bytes);
        self.storage
            .rotate_device_token(&device.code, &secret_hash(&token))
            .await?;
        tracing::info!(device = %device.code, "device credential rotated");
        Ok(TokenRotation { token })
    }

    /// Every device's audit standing, the refusals counted and the failed logins reported.
    pub async fn health(&self) -> Result<FleetHealth> {
        self.storage.health().await
    }

    /// The fleet at a glance: each device (of `center`, or all) with its standing and what it
    /// reported at its last successful exchange.
    pub async fn fleet(&self, center: Option<&str>) -> Result<Vec<FleetLine>> {
        if let Some(code) = center {
            self.known_centre(code).await?;
        }
        let mut contacts: std::collections::HashMap<String, Contact> = self
            .storage
            .contacts(center)
            .await?
            .into_iter()
            .map(|c| (c.device.clone(), c))
            .collect();
        Ok(self
            .storage
            .devices(center)
            .await?
            .into_iter()
            .map(|device| FleetLine {
                standing: device.standing().to_owned(),
                last_contact: contacts.remove(&device.code),
                device,
            })
            .collect())
    }

    pub async fn devices(&self, center: Option<&str>) -> Result<Vec<Device>> {
        self.storage.devices(center).await
    }

    /// Revokes a device: its credential is refused from now on. With `wipe`, the device may
    /// still push what waits on it at its next contact, is sent nothing, and is told to erase
    /// its data; its confirmation (`confirm_wiped`) closes it for good.
    pub async fn revoke_device(&self, code: &str, wipe: bool) -> Result<Device> {
        let at = wipe.then(|| Utc::now().to_rfc3339());
        let device = self
            .storage
            .revoke_device(code.trim(), at.as_deref())
            .await?;
        tracing::info!(device = %device.code, wipe, "device revoked");
        Ok(device)
    }

    /// A device revoked with a wipe says it erased its data: it is closed for good and its
    /// recovery key forgotten.
    pub async fn confirm_wiped(&self, device: &Device) -> Result<Device> {
        if !device.wipe_pending() {
            return Err(Error::Conflict(format!(
                "device {} was not asked to erase its data: only a device revoked with --wipe \
                 confirms a wipe",
                device.code
            )));
        }
        let device = self
            .storage
            .device_wiped(&device.code, &Utc::now().to_rfc3339())
            .await?;
        tracing::info!(device = %device.code, "device erased its data");
        Ok(device)
    }

    /// Push then pull, for an authenticated device, the request taken as arrived now.
    pub async fn exchange(
        &self,
        device: &Device,
        request: &ExchangeRequest,
    ) -> Result<ExchangeResponse> {
        self.exchange_arrived(device, request, Utc::now()).await
    }

    /// Push then pull, for an authenticated device, the request's headers having arrived at
    /// `arrived`: the device's clock, which it read as it sent them, is compared with that time,
    /// so that neither the upload of a large push over a slow link nor the checks before the
    /// push count as its clock's offset.
    pub async fn exchange_arrived(
        &self,
        device: &Device,
        request: &ExchangeRequest,
        arrived: chrono::DateTime<Utc>,
    ) -> Result<ExchangeResponse> {
        if request.push.len() > MAX_PUSH {
            return Err(Error::TooManyEntries {
                count: request.push.len(),
                max: MAX_PUSH,
            });
        }
        // Before anything is written (the audit's head below): a refused exchange changes
        // nothing.
        if let Some(problem) = request.state.as_ref().and_then(DeviceState::problem) {
            return Err(Error::Invalid(problem));
        }
        let recovery = sent_recovery_key(
            request.recovery_key.as_deref(),
            "nothing of the exchange was applied",
        )?;
        let verdict = self
            .storage
            .anchor_audit(
                &device.code,
                request.audit.as_ref(),
                &Utc::now().to_rfc3339(),
            )
            .await?;
        let audit_anchor = match verdict {
            Verdict::Unchecked => None,
            Verdict::Extends { head } => Some(head.seq),
            Verdict::NeedsAnchor { seq } => return Err(Error::AuditAnchor { seq }),
            Verdict::Rewritten { reason } => {
                self.refused(Refusal::AuditRewritten, Some(&device.code))
                    .await;
                return Err(Error::AuditRewritten {
                    device: device.code.clone(),
                    reason,
                });
            }
        };
        if let Some(latest) = request.push.iter().map(|e| &e.hlc).max() {
            self.observe(&device.code, latest);
        }
        let stamp = self.stamp();
        let context = ExchangeContext {
            stamp: stamp.clone(),
            national_ids: self.national_ids,
        };
        let wipe = device.wipe_pending();
        let done = if wipe {
            // What waits on the device is taken; nothing more of the centre's is sent to it.
            let last = ExchangeRequest {
                limit: 0,
                recovery_key: None,
                ..request.clone()
            };
            self.storage.exchange(device, &last, &context).await?
        } else {
            if let Some(recovery) = &recovery {
                self.storage
                    .set_recovery_key(&device.code, &recovery.written())
                    .await?;
            }
            self.storage.exchange(device, request, &context).await?
        };
        let failed_logins = request
            .push
            .iter()
            .zip(&done.results)
            .filter(|(entry, result)| {
                matches!(result.outcome, Outcome::Applied { .. })
                    && matches!(
                        entry.change,
                        Change::ClerkSession {
                            event: SessionEvent::LoginFailed,
                            ..
                        }
                    )
            })
            .count();
        if failed_logins > 0 {
            tracing::warn!(device = %device.code, failed_logins, "failed logins reported by a device");
        }
        if let Some(state) = &request.state {
            self.storage
                .note_contact(&Contact {
                    device: device.code.clone(),
                    app_version: state.app_version.clone(),
                    at: arrived.to_rfc3339(),
                    waiting: state.waiting,
                    refused: state.refused,
                    clock_offset_ms: (state.clock - arrived).num_milliseconds(),
                })
                .await?;
        }
        let center = if wipe {
            None
        } else {
            let center = self.storage.center(&device.center).await?;
            Some(CenterTerms {
                name: center.name,
                time_zone: center.time_zone.name().to_owned(),
                waiting_target_min: center.waiting_target_min,
            })
        };
        Ok(ExchangeResponse {
            center,
            audit_anchor,
            results: done.results,
            changes: done.changes,
            cursor: if wipe { request.cursor } else { done.cursor },
            more: done.more && !wipe,
            server_hlc: stamp.hlc,
            wipe,
        })
    }

    /// Vouches for a clerk at their first login on a device: the device must be enrolled and
    /// not revoked, the account active in the device's centre, and the password right. The
    /// answer is the account and the device's recovery key, which opens the device. Every
    /// failure gets the same answer, after the same Argon2id work.
    pub async fn vouch(&self, request: &VouchRequest) -> Result<VouchResponse> {
        let refused = || Error::Unauthorized("the user name or the password is wrong".into());
        let device = self.storage.device(request.device_code.trim()).await?;
        let account = match &device {
            Some(device) if !device.revoked => self
                .storage
                .accounts(Some(&device.center))
                .await?
                .into_iter()
                .map(|stored| stored.account)
                .find(|a| a.username == request.username.trim() && a.active),
            _ => None,
        };
        let _turn = tokio::time::timeout(VOUCH_QUEUE_WAIT, self.vouching.acquire())
            .await
            .map_err(|_| Error::Busy)?
            .map_err(|_| Error::Busy)?;
        let password = request.password.clone();
        let checked = account.clone();
        let matches = tokio::task::spawn_blocking(move || match &checked {
            Some(account) => account.verifier.matches(&password),
            None => {
                // The same cost as a wrong password.
                let _ = Verifier::new(&password, [0; 16]);
                false
            }
        })
        .await
        .map_err(|e| Error::Task(e.to_string()))?;
        let (Some(device), Some(account), true) = (device, account, matches) else {
            let shown: String = request.device_code.trim().chars().take(40).collect();
            self.refused(Refusal::VouchRefused, Some(&shown)).await;
            return Err(refused());
        };
        let recovery_key = self
            .storage
            .recovery_key(&device.code)
            .await?
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "device {} has not sent its recovery key yet: log in there once with an account it already knows, and let it sync",
                    device.code
                ))
            })?;
        tracing::info!(device = %device.code, "clerk vouched for");
        Ok(VouchResponse {
            account,
            recovery_key,
        })
    }

    /// The requests dispatched to `agency` or in its processing. An agency with none that
    /// the catalogue does not name either is refused: a mistyped code must not read as "no
    /// request waits".
    pub async fn agency_requests(&self, agency: &str) -> Result<Vec<ServerRequest>> {
        let requests = self.storage.agency_requests(agency).await?;
        if requests.is_empty() {
            self.catalogue_agency(agency, "").await?;
        }
        Ok(requests)
    }

    /// An agency's decision on a request, by its receipt number (typed forgivingly).
    pub async fn agency_decide(
        &self,
        receipt: &str,
        action: Action,
        reason: Option<&str>,
        actor: &str,
    ) -> Result<ServerRequest> {
        let receipt = ReceiptNumber::parse(receipt).map_err(guichet_domain::DomainError::from)?;
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        bounded("the reason", reason.unwrap_or_default(), MAX_REASON_CHARS)?;
        let actor = actor.trim();
        if actor.is_empty() {
            return Err(Error::Invalid(
                "the actor is blank: give who decided at the agency (--actor NAME, or \"actor\" \
                 in the body); nothing was changed"
                    .into(),
            ));
        }
        bounded("the actor", actor, MAX_ACTOR_CHARS)?;
        let request = self
            .storage
            .agency_decide(receipt.as_str(), action, reason, actor, &self.stamp())
            .await?;
        tracing::info!(receipt = %request.receipt, action = %action, to = %request.status, "agency decision");
        Ok(request)
    }

    /// Keeps the public half of the release key (a `KEY.pub` of `tauri signer generate`):
    /// releases are published from now on only signed with its private half. Answers the key
    /// and the one it replaced.
    pub async fn set_release_key(&self, written: &str) -> Result<(ReleaseKey, Option<ReleaseKey>)> {
        if written.len() > crate::release::MAX_KEY_FILE_BYTES {
            return Err(Error::Invalid(format!(
                "a public key is a few hundred bytes, not {}: give the KEY.pub file that \
                 `tauri signer generate` wrote",
                written.len()
            )));
        }
        let key = ReleaseKey::parse(written)?;
        let before = self.current_release_key().await?;
        self.storage
            .set_release_key(key.written(), &Utc::now().to_rfc3339())
            .await?;
        tracing::info!(key = key.id(), "release key set");
        Ok((key, before))
    }

    /// The release key held, if one was set.
    pub async fn current_release_key(&self) -> Result<Option<ReleaseKey>> {
        self.storage
            .release_key()
            .await?
            .map(|written| ReleaseKey::parse(&written).map_err(|e| Error::Corrupt(e.to_string())))
            .transpose()
    }

    /// Publishes a release after checking what is given, and that its signature verifies
    /// against the release key, as the devices will check it. Refused, nothing is stored.
    pub async fn publish_release(&self, new: NewRelease) -> Result<Release> {
        let terms = self
            .release_terms(&new.version, &new.file_name, &new.notes, new.centres)
            .await?;
        self.publish_with_terms(terms, new.package, new.signature)
            .await
    }

    /// What a release is published with, checked before its package is read: an upload of
    /// hundreds of megabytes is not made to learn that the version is taken or mistyped, a
    /// centre unknown or no release key set.
    pub async fn release_terms(
        &self,
        version: &str,
        file_name: &str,
        notes: &str,
        centres: Option<Vec<String>>,
    ) -> Result<ReleaseTerms> {
        let version = Version::parse(version.trim())?;
        check_file_name(file_name)?;
        let notes = notes.trim().to_owned();
        bounded("the notes' text", &notes, MAX_NOTES_CHARS)?;
        let centres = match centres {
            None => None,
            Some(given) => {
                let mut codes: Vec<String> = given
                    .iter()
                    .map(|c| c.trim().to_owned())
                    .filter(|c| !c.is_empty())
                    .collect();
                codes.sort();
                codes.dedup();
                if codes.is_empty() {
                    return Err(Error::Invalid(
                        "no centre given: name the centres to offer it to, or none to offer it \
                         to every centre; nothing was published"
                            .into(),
                    ));
                }
                for code in &codes {
                    self.known_centre(code).await?;
                }
                Some(codes)
            }
        };
        let key = self.current_release_key().await?.ok_or_else(|| {
            Error::Conflict(
                "no release key: set it first with `guichet-backoffice release key KEY.pub`; \
                 nothing was published"
                    .into(),
            )
        })?;
        let version_text = version.to_string();
        let published = self.storage.releases().await?;
        if published.iter().any(|r| r.version == version_text) {
            return Err(crate::storage::already_published(&version_text));
        }
        // A device is offered the newest release for its centre: one below the releases
        // already offered to each centre it names would never reach a device.
        let above: Vec<(Version, &Option<Vec<String>>)> = published
            .iter()
            .filter_map(|r| Version::parse(&r.version).ok().map(|v| (v, &r.centres)))
            .filter(|(v, _)| *v > version)
            .collect();
        let offered_above = |centre: &str| {
            above.iter().any(|(_, to)| {
                to.as_ref()
                    .is_none_or(|codes| codes.iter().any(|c| c == centre))
            })
        };
        let shadowed = match &centres {
            None => above.iter().any(|(_, to)| to.is_none()),
            Some(codes) => codes.iter().all(|c| offered_above(c)),
        };
        if let Some(newest) = above.iter().map(|(v, _)| *v).max().filter(|_| shadowed) {
            return Err(Error::Conflict(format!(
                "version {version_text} would never be offered: each centre it is for ({}) is \
                 offered a newer release already, and a device takes the newest for its centre; \
                 publish a version above {newest}; nothing was published",
                match &centres {
                    None => "every centre".to_owned(),
                    Some(codes) => codes.join(", "),
                }
            )));
        }
        Ok(ReleaseTerms {
            version,
            file_name: file_name.to_owned(),
            notes,
            centres,
            key,
        })
    }

    /// Publishes `package` on `terms`, once its signature is checked against the release key
    /// (and names the version). Two publications of one version race to the storage, which
    /// keeps the first.
    pub async fn publish_with_terms(
        &self,
        terms: ReleaseTerms,
        package: Vec<u8>,
        signature: String,
    ) -> Result<Release> {
        if package.is_empty() {
            return Err(Error::Invalid(
                "the package is empty: give the .deb that `bash package-app` built; nothing was \
                 published"
                    .into(),
            ));
        }
        if package.len() > MAX_PACKAGE_BYTES {
            return Err(Error::Invalid(format!(
                "the package has {} bytes: at most {} MiB are accepted; nothing was published",
                package.len(),
                MAX_PACKAGE_BYTES / (1024 * 1024)
            )));
        }
        if !package.starts_with(DEB_MAGIC) {
            return Err(Error::Invalid(
                "this is not a Debian package, which is all the devices install: give the .deb \
                 that `bash package-app` built (under target/release/bundle/deb/); nothing was \
                 published"
                    .into(),
            ));
        }
        let ReleaseTerms {
            version,
            file_name,
            notes,
            centres,
            key,
        } = terms;
        // A package of hundreds of megabytes takes a while to verify and hash: not on the
        // server's async threads.
        let (signature, sha256, package) = tokio::task::spawn_blocking(move || {
            let signature = check_signature(&key, &signature, &package, version)?;
            let sha256 = guichet_domain::sha256_hex(&package);
            Ok::<_, Error>((signature, sha256, package))
        })
        .await
        .map_err(|e| Error::Task(e.to_string()))??;
        let release = Release {
            version: version.to_string(),
            file_name,
            size: package.len() as u64,
            sha256,
            signature,
            notes,
            centres,
            published_at: Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        };
        self.storage.publish_release(&release, package).await?;
        tracing::info!(
            version = %release.version,
            size = release.size,
            centres = ?release.centres,
            "release published"
        );
        Ok(release)
    }

    /// Every release, newest first, without their packages.
    pub async fn releases(&self) -> Result<Vec<Release>> {
        self.storage.releases().await
    }

    /// The newest release above `current` for a device's centre, if there is one; not for a
    /// device revoked with a wipe pending.
    pub async fn offer_update(&self, device: &Device, current: Version) -> Result<Option<Release>> {
        self.active(device)?;
        let offered = self.storage.newest_release(&device.center, current).await?;
        if let Some(release) = &offered {
            tracing::info!(
                device = %device.code,
                current = %current,
                offered = %release.version,
                "update offered"
            );
        }
        Ok(offered)
    }

    /// Release `version` for a device to download, if it is offered to its centre; for
    /// another centre it is not found, as a version never published.
    pub async fn release_for_device(&self, device: &Device, version: &str) -> Result<Release> {
        self.active(device)?;
        let not_found = || {
            Error::not_found(
                Missing::Release,
                version.chars().take(40).collect::<String>(),
            )
        };
        let version = Version::parse(version).map_err(|_| not_found())?;
        let release = self
            .storage
            .release_for(&version.to_string(), &device.center)
            .await?
            .ok_or_else(not_found)?;
        tracing::info!(
            device = %device.code,
            version = %release.version,
            size = release.size,
            "release package served"
        );
        Ok(release)
    }
}

/// A storage's "not found" for the centre `code`, told as an unknown centre.
fn unknown_centre(code: &str, error: Error) -> Error {
    match error {
        Error::NotFound { .. } => Error::UnknownCentre {
            code: code.to_owned(),
        },
        e => e,
    }
}

/// The recovery key a device sent, if it sent one, or why it is refused; `unchanged` says what
/// the refusal left as it was.
fn sent_recovery_key(sent: Option<&str>, unchanged: &str) -> Result<Option<RecoveryKey>> {
    sent.map(RecoveryKey::parse).transpose().map_err(|e| {
        Error::Invalid(format!(
            "the device's recovery key was refused ({e}); {unchanged}"
        ))
    })
}

/// The most characters a device's label may have: it is shown in the fleet's lines.
pub const MAX_DEVICE_LABEL_CHARS: usize = 80;

/// A device's label, trimmed (`None` when empty), or why it is refused: it is printed in the
/// operator's terminal by `devices list`, where a control character could rewrite the screen.
fn device_label(label: Option<&str>) -> Result<Option<&str>> {
    let Some(label) = label.map(str::trim).filter(|l| !l.is_empty()) else {
        return Ok(None);
    };
    let chars = label.chars().count();
    if chars > MAX_DEVICE_LABEL_CHARS {
        return Err(Error::Invalid(format!(
            "the device's label has {chars} characters: give at most {MAX_DEVICE_LABEL_CHARS}; \
             the enrolment code was not used"
        )));
    }
    if let Some(problem) = guichet_domain::text::hidden_problem(label, false) {
        return Err(Error::Invalid(format!(
            "the device's label {problem}: give it as plain text; the enrolment code was not \
             used"
        )));
    }
    Ok(Some(label))
}
