//! Releases of the app: their versions, the release key, and the signature checked when one
//! is published.
//!
//! The devices' updater (Tauri's) installs a package only if its signature verifies against
//! the public key built into the app; the back office checks the same signature against the
//! same public key before it stores a release, so that it never offers a package the devices
//! would refuse. The private key is never on the back office nor on a device. Tauri's signer
//! writes its `.pub` and `.sig` files as base64 of minisign's text formats; the devices are
//! given the `.sig` content as written.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use minisign_verify::{PublicKey, Signature};

use crate::error::{Error, Result};

/// The largest package accepted: the app's package weighs tens of megabytes.
pub const MAX_PACKAGE_BYTES: usize = 300 * 1024 * 1024;

/// The largest `.pub` or `.sig` content accepted; Tauri's are under 500 bytes.
pub const MAX_KEY_FILE_BYTES: usize = 4096;

/// The longest release notes, in characters: what the admin API's query string holds, in any
/// script.
pub const MAX_NOTES_CHARS: usize = 4_000;

/// The longest package file name, in characters.
pub const MAX_FILE_NAME_CHARS: usize = 200;

/// The media type of a Debian package, as the devices are sent it.
pub const PACKAGE_MEDIA_TYPE: &str = "application/vnd.debian.binary-package";

/// How every Debian package begins: an `ar` archive whose first member is `debian-binary`.
/// The devices' updater installs nothing else, so nothing else is published.
pub const DEB_MAGIC: &[u8] = b"!<arch>\ndebian-binary";

/// A release's version, `MAJOR.MINOR.PATCH`: compared as numbers, so 0.10.0 is above 0.9.0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub patch: u32,
}

impl Version {
    /// Reads `MAJOR.MINOR.PATCH`, each a number without leading zeros, so that one version
    /// has one way to be written.
    pub fn parse(text: &str) -> Result<Self> {
        let shown: String = text.chars().take(40).collect();
        let refused = |why: &str| {
            Error::Invalid(format!(
                "'{shown}' is not a version: {why}; write MAJOR.MINOR.PATCH, as 1.4.0"
            ))
        };
        let parts: Vec<&str> = text.split('.').collect();
        let [major, minor, patch] = parts[..] else {
            return Err(refused("it needs three numbers separated by dots"));
        };
        let number = |part: &str| {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(refused("each part is a number"));
            }
            if part.len() > 1 && part.starts_with('0') {
                return Err(refused("a number does not start with 0"));
            }
            part.parse::<u32>()
                .map_err(|_| refused("a number is too large"))
        };
        Ok(Version {
            major: number(major)?,
            minor: number(minor)?,
            patch: number(patch)?,
        })
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// The public half of the release key, as `tauri signer generate` writes it to `KEY.pub`.
#[derive(Debug, Clone)]
pub struct ReleaseKey {
    written: String,
    key: PublicKey,
    id: String,
}

impl ReleaseKey {
    pub fn parse(written: &str) -> Result<Self> {
        let written = written.trim();
        let refused = || {
            Error::Invalid(
                "this is not a public key as `tauri signer generate` writes it (base64 of a \
                 minisign public key): give the KEY.pub file it wrote"
                    .into(),
            )
        };
        let text = minisign_text(written).ok_or_else(refused)?;
        let key = PublicKey::decode(&text).map_err(|_| refused())?;
        let id = text.lines().nth(1).and_then(key_id).ok_or_else(refused)?;
        Ok(ReleaseKey {
            written: written.to_owned(),
            key,
            id,
        })
    }

    /// As `tauri signer generate` wrote it: the text the app's configuration holds too.
    pub fn written(&self) -> &str {
        &self.written
    }

    /// The key's id, as minisign shows it (`D02F4EADC9A02CC7`).
    pub fn id(&self) -> &str {
        &self.id
    }
}

/// Checks that `signature` (a `.sig` file's content, as Tauri's signer writes it) signs
/// `package` with `key`, and names `version` as the version it was made for (`tauri signer
/// sign --app-version`): the devices refuse a package offered under another version than it
/// was signed for, so that an old signed package cannot be passed off as a new one. Answers
/// the signature as the devices are to be given it.
pub fn check_signature(
    key: &ReleaseKey,
    signature: &str,
    package: &[u8],
    version: Version,
) -> Result<String> {
    let written = signature.trim();
    let unreadable = || {
        Error::Invalid(
            "the signature does not parse: give the .sig file that `tauri signer sign` wrote \
             beside the package (base64 of a minisign signature)"
                .into(),
        )
    };
    if written.len() > MAX_KEY_FILE_BYTES {
        return Err(unreadable());
    }
    let text = minisign_text(written).ok_or_else(unreadable)?;
    let parsed = Signature::decode(&text).map_err(|_| unreadable())?;
    // Legacy (not prehashed) signatures allowed, as the devices' updater allows them.
    match key.key.verify(package, &parsed, true) {
        Ok(()) => {}
        Err(minisign_verify::Error::UnexpectedKeyId) => {
            let signer = text
                .lines()
                .nth(1)
                .and_then(key_id)
                .unwrap_or_else(|| "?".into());
            return Err(Error::Invalid(format!(
                "the package is not signed with this back office's release key (it was signed \
                 with key {signer}, the release key is {}): sign it with the key whose public \
                 half `release key` holds",
                key.id
            )));
        }
        Err(minisign_verify::Error::InvalidSignature) => {
            return Err(Error::Invalid(
                "the signature does not match the package: this is not the file that was signed, \
                 or it changed since; sign this package again (tauri signer sign)"
                    .into(),
            ));
        }
        Err(_) => return Err(unreadable()),
    }
    let signed_for = parsed
        .trusted_comment()
        .split('\t')
        .find_map(|field| field.strip_prefix("version:"));
    match signed_for {
        Some(signed_for) if signed_for == version.to_string() => {}
        Some(signed_for) => {
            return Err(Error::Invalid(format!(
                "the signature was made for version {signed_for}, not {version}: publish it as \
                 {signed_for}, or sign the package again with --app-version {version}"
            )));
        }
        None => {
            return Err(Error::Invalid(format!(
                "the signature does not name the version it was made for, and the devices \
                 install only a package signed for the version it is offered as: sign it again \
                 with --app-version {version}"
            )));
        }
    }
    Ok(written.to_owned())
}

/// Minisign's text from Tauri's base64 of it.
fn minisign_text(written: &str) -> Option<String> {
    String::from_utf8(STANDARD.decode(written).ok()?).ok()
}

/// The key id of a minisign key or signature line (base64: two bytes of algorithm, then the
/// id's eight, little-endian), as minisign shows it.
fn key_id(line: &str) -> Option<String> {
    let bytes = STANDARD.decode(line.trim()).ok()?;
    let id: [u8; 8] = bytes.get(2..10)?.try_into().ok()?;
    Some(format!("{:016X}", u64::from_le_bytes(id)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_three_numbers_compared_as_numbers() {
        let v = |text: &str| Version::parse(text).unwrap();
        assert!(v("0.10.0") > v("0.9.0"));
        assert!(v("1.0.0") > v("0.99.99"));
        assert!(v("2.0.10") > v("2.0.9"));
        assert_eq!(v("0.10.0").to_string(), "0.10.0");
        assert_eq!(
            v("0.0.0"),
            Version {
                major: 0,
                minor: 0,
                patch: 0
            }
        );
        for bad in [
            "",
            "1",
            "1.2",
            "1.2.3.4",
            "v1.2.3",
            "1.02.3",
            "1.2.-3",
            "1.2.x",
            "1..3",
            " 1.2.3",
            "1.2.3-beta",
            "99999999999.0.0",
        ] {
            let refused = Version::parse(bad).unwrap_err().to_string();
            assert!(refused.contains("MAJOR.MINOR.PATCH"), "{bad}: {refused}");
        }
    }

    #[test]
    fn a_key_that_is_not_tauris_is_refused_and_a_good_one_shows_its_id() {
        let good = include_str!("../tests/fixtures/release/good.pub");
        let key = ReleaseKey::parse(&format!("{good}\n")).unwrap();
        assert_eq!(key.id(), "D02F4EADC9A02CC7");
        assert_eq!(key.written(), good.trim());
        let minisign_own = String::from_utf8(STANDARD.decode(good).unwrap()).unwrap();
        for bad in [
            "",
            "not base64!",
            &minisign_own,
            &STANDARD.encode("two\nlines"),
        ] {
            let refused = ReleaseKey::parse(bad).unwrap_err().to_string();
            assert!(refused.contains("tauri signer generate"), "{refused}");
        }
    }
}
