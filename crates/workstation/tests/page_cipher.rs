//! The page cipher Guichet registers with SQLCipher writes SQLCipher's format byte for byte: a
//! database written through the OpenSSL provider SQLCipher is built with opens through it, and
//! what it writes opens through OpenSSL's. One test in its own process: the provider is chosen
//! when a connection opens, so connections opened before the registration keep OpenSSL's.

use rusqlite::{Connection, params};

const RAW_KEY: &str = "x'2b7e151628aed2a6abf7158809cf4f3c762e7160f38b4da56a784d9045190cfe'";

/// A connection to `path` with the store's page layout, keyed with `key` (a raw key, or a
/// passphrase derived with `kdf_iter` rounds).
fn open(path: &std::path::Path, key: &str, kdf_iter: Option<u32>) -> Connection {
    let conn = Connection::open(path).unwrap();
    // The refusals below are expected: SQLCipher need not log them.
    conn.query_row("PRAGMA cipher_log_level = NONE", [], |_| Ok(()))
        .unwrap();
    conn.pragma_update(None, "key", key).unwrap();
    if let Some(rounds) = kdf_iter {
        conn.pragma_update(None, "kdf_iter", rounds).unwrap();
    }
    conn.pragma_update(None, "cipher_page_size", 1024).unwrap();
    conn.pragma_update(None, "cipher_hmac_algorithm", "HMAC_SHA256")
        .unwrap();
    conn
}

fn provider(conn: &Connection) -> String {
    conn.query_row("PRAGMA cipher_provider", [], |r| r.get(0))
        .unwrap()
}

/// Rows of several pages each, so that overflow pages are written too.
fn write(conn: &Connection, from: i64, to: i64) {
    let tx = conn.unchecked_transaction().unwrap();
    for i in from..to {
        let text = format!("citizen {i} ").repeat(1 + (i % 300) as usize);
        tx.execute("INSERT INTO t (id, body) VALUES (?1, ?2)", params![i, text])
            .unwrap();
    }
    tx.commit().unwrap();
}

fn digest(conn: &Connection) -> (i64, i64) {
    conn.query_row("SELECT count(*), sum(length(body) * id) FROM t", [], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })
    .unwrap()
}

#[test]
fn either_provider_reads_what_the_other_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let raw = dir.path().join("raw.db");
    let passphrase = dir.path().join("passphrase.db");

    // Written through OpenSSL: one database under a raw key in WAL mode, one under a
    // passphrase (PBKDF2 on the key, not only on the HMAC key).
    let stock = open(&raw, RAW_KEY, None);
    assert_eq!(provider(&stock), "openssl");
    stock
        .query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))
        .unwrap();
    stock
        .execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)", [])
        .unwrap();
    write(&stock, 0, 2000);
    let stock_phrase = open(&passphrase, "correct horse battery", Some(4000));
    stock_phrase
        .execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT)", [])
        .unwrap();
    write(&stock_phrase, 0, 300);
    drop(stock_phrase);

    guichet_workstation::store::register_page_cipher();

    // Read through Guichet's provider, then written through it.
    let ours = open(&raw, RAW_KEY, None);
    assert_eq!(provider(&ours), guichet_workstation::store::PROVIDER_NAME);
    assert_eq!(digest(&ours), digest(&stock));
    write(&ours, 2000, 3000);
    ours.execute("DELETE FROM t WHERE id % 7 = 0", []).unwrap();
    let ours_phrase = open(&passphrase, "correct horse battery", Some(4000));
    assert_eq!(digest(&ours_phrase).0, 300);
    write(&ours_phrase, 300, 600);
    drop(ours_phrase);

    // OpenSSL's connection reads the pages Guichet's wrote, in the WAL and after a checkpoint.
    assert_eq!(digest(&stock), digest(&ours));
    ours.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    drop(ours);
    drop(stock);
    // With every other encrypted connection closed, the provider stays registered.
    let reopened = Connection::open(&raw).unwrap();
    reopened.pragma_update(None, "key", RAW_KEY).unwrap();
    reopened
        .pragma_update(None, "cipher_page_size", 1024)
        .unwrap();
    reopened
        .pragma_update(None, "cipher_hmac_algorithm", "HMAC_SHA256")
        .unwrap();
    assert_eq!(
        provider(&reopened),
        guichet_workstation::store::PROVIDER_NAME
    );
    assert_eq!(
        digest(&reopened).0,
        3000 - (0..3000).filter(|i| i % 7 == 0).count() as i64
    );

    // A wrong key, or a page changed on disk, is refused: the HMAC of each page is checked.
    let wrong = open(
        &raw,
        "x'000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'",
        None,
    );
    assert!(
        wrong
            .query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))
            .is_err()
    );
    drop(wrong);
    drop(reopened);
    let mut bytes = std::fs::read(&raw).unwrap();
    bytes[5 * 1024 + 100] ^= 0x40;
    std::fs::write(&raw, &bytes).unwrap();
    let tampered = open(&raw, RAW_KEY, None);
    assert!(
        tampered
            .query_row("SELECT sum(length(body)) FROM t", [], |r| r
                .get::<_, i64>(0))
            .is_err(),
        "a changed page does not read"
    );
}
