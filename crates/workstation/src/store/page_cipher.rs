//! The page cipher of the encrypted store: SQLCipher's own format (AES-256-CBC with a random
//! IV per page, an HMAC over each page, its IV and its number, PBKDF2 for the HMAC key),
//! computed with the RustCrypto implementations and registered as SQLCipher's crypto
//! provider in place of the OpenSSL one it is built with.
//!
//! Why: SQLCipher's OpenSSL 3 provider looks its algorithms up by name, builds new contexts,
//! expands the AES key and draws the IV from OpenSSL's locked generator for every page it
//! writes or reads, about 4.2 µs per 1 KiB page on our machines, of which 1 µs is the look-ups
//! and 0.9 µs the IV. Here each connection keeps its AES key schedules, the HMAC is keyed
//! per page (two SHA-256 blocks), and IVs are drawn from a ChaCha generator seeded by the
//! operating system (`rand`'s thread generator, reseeded as it goes). The bytes on disk are
//! the same: a database written by either provider opens with the other
//! (`tests/page_cipher.rs`).
//!
//! Only what Guichet's databases use is offered: AES-256-CBC, HMAC and PBKDF2 with SHA-256 or
//! SHA-512. SHA-1 (SQLCipher 3's format) is refused: SQLCipher then reports the key as wrong.
//!
//! The only module that speaks C: SQLCipher calls the functions of its provider table with
//! raw pointers. Each `unsafe` block says what it relies on.
#![allow(unsafe_code)]

use std::ffi::{c_char, c_int, c_void};
use std::sync::Mutex;

use rusqlite::Connection;

use aes::cipher::{
    BlockDecryptMut, BlockEncryptMut, InnerIvInit, KeyInit, block_padding::NoPadding,
};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Sha256, Sha512};
use zeroize::Zeroizing;

const SQLITE_OK: c_int = 0;
const SQLITE_ERROR: c_int = 1;
const CIPHER_ENCRYPT: c_int = 1;
const HMAC_SHA256: c_int = 1;
const HMAC_SHA512: c_int = 2;
const KEY_SIZE: usize = 32;
const BLOCK_SIZE: usize = 16;

/// SQLCipher's table of provider functions (`sqlcipher_provider` in its source, 4.x).
#[repr(C)]
struct Provider {
    activate: unsafe extern "C" fn(*mut c_void) -> c_int,
    deactivate: unsafe extern "C" fn(*mut c_void) -> c_int,
    get_provider_name: unsafe extern "C" fn(*mut c_void) -> *const c_char,
    add_random: unsafe extern "C" fn(*mut c_void, *mut c_void, c_int) -> c_int,
    random: unsafe extern "C" fn(*mut c_void, *mut c_void, c_int) -> c_int,
    hmac: unsafe extern "C" fn(
        *mut c_void,
        c_int,
        *mut u8,
        c_int,
        *mut u8,
        c_int,
        *mut u8,
        c_int,
        *mut u8,
    ) -> c_int,
    kdf: unsafe extern "C" fn(
        *mut c_void,
        c_int,
        *const u8,
        c_int,
        *mut u8,
        c_int,
        c_int,
        c_int,
        *mut u8,
    ) -> c_int,
    cipher: unsafe extern "C" fn(
        *mut c_void,
        c_int,
        *mut u8,
        c_int,
        *mut u8,
        *mut u8,
        c_int,
        *mut u8,
    ) -> c_int,
    get_cipher: unsafe extern "C" fn(*mut c_void) -> *const c_char,
    get_key_sz: unsafe extern "C" fn(*mut c_void) -> c_int,
    get_iv_sz: unsafe extern "C" fn(*mut c_void) -> c_int,
    get_block_sz: unsafe extern "C" fn(*mut c_void) -> c_int,
    get_hmac_sz: unsafe extern "C" fn(*mut c_void, c_int) -> c_int,
    ctx_init: unsafe extern "C" fn(*mut *mut c_void) -> c_int,
    ctx_free: unsafe extern "C" fn(*mut *mut c_void) -> c_int,
    fips_status: unsafe extern "C" fn(*mut c_void) -> c_int,
    get_provider_version: unsafe extern "C" fn(*mut c_void) -> *const c_char,
}

unsafe extern "C" {
    fn sqlcipher_register_provider(p: *mut Provider) -> c_int;
    fn sqlcipher_malloc(size: u64) -> *mut c_void;
}

/// The name `PRAGMA cipher_provider` gives.
pub const PROVIDER_NAME: &str = "rustcrypto";

/// Makes this provider SQLCipher's for the connections opened from now on in the process (a
/// connection keeps the provider it opened with; the format is the same).
///
/// SQLCipher forgets its provider, and frees its own mutexes without forgetting them, when its
/// last encrypted connection closes; registering after that would use a freed mutex. So the
/// first call opens a keyed in-memory database that lives as long as the process: SQLCipher
/// stays active, and the provider registered once stays registered. That database holds
/// nothing; its key is a constant.
pub fn register() {
    static ANCHOR: Mutex<Option<Connection>> = Mutex::new(None);
    let mut anchor = ANCHOR
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if anchor.is_some() {
        return;
    }
    let Ok(conn) = Connection::open_in_memory() else {
        return;
    };
    if conn.pragma_update(None, "key", ANCHOR_KEY).is_err() {
        return;
    }
    // The provider table is SQLCipher 4's; another major version keeps its own provider.
    let version: Option<String> = conn
        .query_row("PRAGMA cipher_version", [], |r| r.get(0))
        .ok();
    if !version.is_some_and(|v| v.starts_with("4.")) {
        return;
    }
    // SAFETY: SQLCipher is active (the anchor's codec), so its mutexes are allocated. The
    // table is allocated with SQLCipher's allocator (SQLCipher frees a provider it replaces
    // with it) and fully written before SQLCipher sees it; SQLCipher only reads it from then
    // on, and never frees it while the anchor lives.
    unsafe {
        let table = sqlcipher_malloc(std::mem::size_of::<Provider>() as u64).cast::<Provider>();
        if table.is_null() {
            return;
        }
        table.write(PROVIDER);
        sqlcipher_register_provider(table);
    }
    *anchor = Some(conn);
}

/// The anchor's key: it encrypts an empty in-memory database.
const ANCHOR_KEY: &str = "x'0000000000000000000000000000000000000000000000000000000000000000'";

const PROVIDER: Provider = Provider {
    activate: ok,
    deactivate: ok,
    get_provider_name: provider_name,
    add_random,
    random,
    hmac,
    kdf,
    cipher,
    get_cipher: cipher_name,
    get_key_sz: key_size,
    get_iv_sz: block_size,
    get_block_sz: block_size,
    get_hmac_sz: hmac_size,
    ctx_init,
    ctx_free,
    fips_status: not_fips,
    get_provider_version: provider_version,
};

/// What one SQLCipher codec (one database of one connection) keeps between pages: its AES
/// key schedules, with the key each was made from. Both are wiped when dropped (`aes`'s
/// `zeroize` feature, `Zeroizing`), as is every copy made for a page.
#[derive(Default)]
struct Context {
    encrypt: Option<(Zeroizing<[u8; KEY_SIZE]>, aes::Aes256Enc)>,
    decrypt: Option<(Zeroizing<[u8; KEY_SIZE]>, aes::Aes256Dec)>,
}

/// A copy of the AES schedule kept in `slot` for `key`; made and kept there first when the
/// slot is empty or holds another key's.
fn kept_schedule<C>(slot: &mut Option<(Zeroizing<[u8; KEY_SIZE]>, C)>, key: &[u8; KEY_SIZE]) -> C
where
    C: KeyInit<KeySize = aes::cipher::consts::U32> + Clone,
{
    match slot {
        Some((kept, schedule)) if kept.as_slice() == key => schedule.clone(),
        _ => {
            let schedule = C::new(key.into());
            *slot = Some((Zeroizing::new(*key), schedule.clone()));
            schedule
        }
    }
}

/// The bytes behind a pointer and a length SQLCipher passes, or None.
///
/// # Safety
/// `ptr` must be null or point to `len` readable bytes that live for `'a`.
unsafe fn bytes<'a>(ptr: *const u8, len: c_int) -> Option<&'a [u8]> {
    let len = usize::try_from(len).ok()?;
    if ptr.is_null() {
        return None;
    }
    // SAFETY: the caller vouches for `len` bytes at `ptr`.
    Some(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// # Safety
/// `ptr` must be null or point to `len` writable bytes that live for `'a`.
unsafe fn bytes_mut<'a>(ptr: *mut u8, len: c_int) -> Option<&'a mut [u8]> {
    let len = usize::try_from(len).ok()?;
    if ptr.is_null() {
        return None;
    }
    // SAFETY: the caller vouches for `len` writable bytes at `ptr`.
    Some(unsafe { std::slice::from_raw_parts_mut(ptr, len) })
}

/// # Safety
/// `ctx` must be null or a pointer `ctx_init` made and `ctx_free` has not freed, used by one
/// thread at a time (SQLCipher holds the connection's mutex).
unsafe fn context<'a>(ctx: *mut c_void) -> Option<&'a mut Context> {
    // SAFETY: as the caller vouches.
    unsafe { ctx.cast::<Context>().as_mut() }
}

fn status(done: Option<()>) -> c_int {
    if done.is_some() {
        SQLITE_OK
    } else {
        SQLITE_ERROR
    }
}

unsafe extern "C" fn ok(_: *mut c_void) -> c_int {
    SQLITE_OK
}

unsafe extern "C" fn not_fips(_: *mut c_void) -> c_int {
    0
}

unsafe extern "C" fn provider_name(_: *mut c_void) -> *const c_char {
    c"rustcrypto".as_ptr()
}

unsafe extern "C" fn provider_version(_: *mut c_void) -> *const c_char {
    c"aes 0.8, hmac 0.12, sha2 0.10, pbkdf2 0.12".as_ptr()
}

unsafe extern "C" fn cipher_name(_: *mut c_void) -> *const c_char {
    c"aes-256-cbc".as_ptr()
}

unsafe extern "C" fn key_size(_: *mut c_void) -> c_int {
    KEY_SIZE as c_int
}

unsafe extern "C" fn block_size(_: *mut c_void) -> c_int {
    BLOCK_SIZE as c_int
}

unsafe extern "C" fn hmac_size(_: *mut c_void, algorithm: c_int) -> c_int {
    mac_size(algorithm)
}

/// The size of an HMAC with `algorithm`, 0 for one not offered.
fn mac_size(algorithm: c_int) -> c_int {
    match algorithm {
        HMAC_SHA256 => 32,
        HMAC_SHA512 => 64,
        _ => 0,
    }
}

/// SQLCipher's `PRAGMA cipher_add_random` adds entropy to the generator: the operating system
/// seeds and reseeds this one, so there is nothing to add.
unsafe extern "C" fn add_random(_: *mut c_void, _: *mut c_void, _: c_int) -> c_int {
    SQLITE_OK
}

unsafe extern "C" fn random(_: *mut c_void, buffer: *mut c_void, length: c_int) -> c_int {
    // SAFETY: SQLCipher passes a buffer of `length` bytes.
    let Some(out) = (unsafe { bytes_mut(buffer.cast(), length) }) else {
        return SQLITE_ERROR;
    };
    rand::rng().fill_bytes(out);
    SQLITE_OK
}

unsafe extern "C" fn ctx_init(ctx: *mut *mut c_void) -> c_int {
    if ctx.is_null() {
        return SQLITE_ERROR;
    }
    let fresh = Box::into_raw(Box::new(Context::default()));
    // SAFETY: SQLCipher passes where to put its context.
    unsafe { ctx.write(fresh.cast()) };
    SQLITE_OK
}

unsafe extern "C" fn ctx_free(ctx: *mut *mut c_void) -> c_int {
    if ctx.is_null() {
        return SQLITE_OK;
    }
    // SAFETY: the pointer was made by `ctx_init` (or is null) and is freed once: SQLCipher
    // clears it here.
    unsafe {
        let made = ctx.read().cast::<Context>();
        if !made.is_null() {
            drop(Box::from_raw(made));
        }
        ctx.write(std::ptr::null_mut());
    }
    SQLITE_OK
}

unsafe extern "C" fn hmac(
    _: *mut c_void,
    algorithm: c_int,
    key: *mut u8,
    key_sz: c_int,
    input: *mut u8,
    input_sz: c_int,
    input2: *mut u8,
    input2_sz: c_int,
    out: *mut u8,
) -> c_int {
    // SAFETY: SQLCipher passes buffers of the sizes it gives, the output large enough for the
    // algorithm's HMAC (`get_hmac_sz`).
    let done = unsafe {
        (|| {
            let key = bytes(key, key_sz)?;
            let input = bytes(input, input_sz)?;
            let input2 = if input2.is_null() {
                None
            } else {
                Some(bytes(input2, input2_sz)?)
            };
            let out = bytes_mut(out, mac_size(algorithm))?;
            match algorithm {
                HMAC_SHA256 => sign::<Hmac<Sha256>>(key, input, input2, out),
                HMAC_SHA512 => sign::<Hmac<Sha512>>(key, input, input2, out),
                _ => None,
            }
        })()
    };
    status(done)
}

/// The HMAC of `input` then `more` under `key`, into `out` (the HMAC's size).
fn sign<M: Mac + KeyInit>(
    key: &[u8],
    input: &[u8],
    more: Option<&[u8]>,
    out: &mut [u8],
) -> Option<()> {
    let mut mac = <M as Mac>::new_from_slice(key).ok()?;
    mac.update(input);
    if let Some(more) = more {
        mac.update(more);
    }
    out.copy_from_slice(&mac.finalize().into_bytes());
    Some(())
}

unsafe extern "C" fn kdf(
    _: *mut c_void,
    algorithm: c_int,
    pass: *const u8,
    pass_sz: c_int,
    salt: *mut u8,
    salt_sz: c_int,
    workfactor: c_int,
    key_sz: c_int,
    key: *mut u8,
) -> c_int {
    // SAFETY: SQLCipher passes buffers of the sizes it gives.
    let done = unsafe {
        (|| {
            let pass = bytes(pass, pass_sz)?;
            let salt = bytes(salt, salt_sz)?;
            let rounds = u32::try_from(workfactor).ok()?;
            let out = bytes_mut(key, key_sz)?;
            match algorithm {
                HMAC_SHA256 => pbkdf2::pbkdf2::<Hmac<Sha256>>(pass, salt, rounds, out).ok(),
                HMAC_SHA512 => pbkdf2::pbkdf2::<Hmac<Sha512>>(pass, salt, rounds, out).ok(),
                _ => None,
            }
        })()
    };
    status(done)
}

unsafe extern "C" fn cipher(
    ctx: *mut c_void,
    mode: c_int,
    key: *mut u8,
    key_sz: c_int,
    iv: *mut u8,
    input: *mut u8,
    input_sz: c_int,
    out: *mut u8,
) -> c_int {
    // SAFETY: SQLCipher passes its codec's context, a key of `key_sz` bytes, an IV of the
    // block size, and input and output buffers of `input_sz` bytes each.
    let done = unsafe {
        (|| {
            let context = context(ctx)?;
            let key: &[u8; KEY_SIZE] = bytes(key, key_sz)?.try_into().ok()?;
            let iv: &[u8; BLOCK_SIZE] = bytes(iv, BLOCK_SIZE as c_int)?.try_into().ok()?;
            let input = bytes(input, input_sz)?;
            let out = bytes_mut(out, input_sz)?;
            if mode == CIPHER_ENCRYPT {
                let schedule = kept_schedule(&mut context.encrypt, key);
                cbc::Encryptor::<aes::Aes256Enc>::inner_iv_init(schedule, iv.into())
                    .encrypt_padded_b2b_mut::<NoPadding>(input, out)
                    .ok()?;
            } else {
                let schedule = kept_schedule(&mut context.decrypt, key);
                cbc::Decryptor::<aes::Aes256Dec>::inner_iv_init(schedule, iv.into())
                    .decrypt_padded_b2b_mut::<NoPadding>(input, out)
                    .ok()?;
            }
            Some(())
        })()
    };
    status(done)
}
