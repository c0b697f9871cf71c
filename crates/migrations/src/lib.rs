//! Schema migrations, shared by Guichet's three databases: the workstation's (SQLite) and the
//! back office's on SQLite and on PostgreSQL.
//!
//! What they agree on lives here: a migration is a numbered SQL file embedded at build time
//! (`embed!`), released files are only ever added, and a database goes from the version it
//! records to the newest in one transaction, or is refused when a newer release made it
//! (`pending`). Where the version is recorded, how the database is locked meanwhile and how
//! SQL runs stay with each store, so this crate depends on nothing.

use std::path::Path;

/// One migration: its version (its place in its list, from 1), its file name and its SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migration {
    pub version: usize,
    pub name: &'static str,
    pub sql: &'static str,
}

/// A schema folder's migrations in order, embedded: `embed!("../schema/x", ["0001_a.sql",
/// "0002_b.sql"])`, the folder relative to the calling file as `include_str!` reads it. Each
/// file's version is its place in the list; the user's tests hold the list against the folder
/// (`check_folder`), so that a file added there but not here fails a test.
#[macro_export]
macro_rules! embed {
    ($dir:literal, [$($file:literal),+ $(,)?]) => {
        $crate::numbered([$(($file, include_str!(concat!($dir, "/", $file)))),+])
    };
}

/// Numbers `embed!`'s files from 1.
#[doc(hidden)]
pub const fn numbered<const N: usize>(files: [(&'static str, &'static str); N]) -> [Migration; N] {
    let mut migrations = [Migration {
        version: 0,
        name: "",
        sql: "",
    }; N];
    let mut place = 0;
    while place < N {
        migrations[place] = Migration {
            version: place + 1,
            name: files[place].0,
            sql: files[place].1,
        };
        place += 1;
    }
    migrations
}

/// A database this build must not touch: it records version `found`, and the build knows
/// `known` migrations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooNew {
    pub found: i64,
    pub known: usize,
}

/// The migrations that bring a database recording version `found` to the newest.
pub fn pending(known: &[Migration], found: i64) -> Result<&[Migration], TooNew> {
    pending_up_to(known, found, known.len())
}

/// The migrations that bring a database recording version `found` to version `target` (the
/// newest at most); none when it is there already or beyond.
pub fn pending_up_to(
    known: &[Migration],
    found: i64,
    target: usize,
) -> Result<&[Migration], TooNew> {
    // No release records a negative version: such a database is not one of ours to migrate.
    let current = usize::try_from(found)
        .ok()
        .filter(|current| *current <= known.len())
        .ok_or(TooNew {
            found,
            known: known.len(),
        })?;
    Ok(known
        .get(current..target.min(known.len()))
        .unwrap_or_default())
}

/// Holds a list against the folder it was embedded from: every `.sql` file there is listed, in
/// the order of the names, each name starts with its version, each SQL is the file's text.
pub fn check_folder(dir: &Path, known: &[Migration]) -> Result<(), String> {
    let unreadable = |e: std::io::Error| format!("{}: {e}", dir.display());
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        let path = entry.map_err(unreadable)?.path();
        if path.extension().is_some_and(|extension| extension == "sql") {
            let name = path
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default();
            files.push((name, std::fs::read_to_string(&path).map_err(unreadable)?));
        }
    }
    files.sort();
    compare(&files, known)
}

/// `check_folder` on the folder's files (name and text), sorted by name.
fn compare(files: &[(String, String)], known: &[Migration]) -> Result<(), String> {
    let in_folder: Vec<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
    let listed: Vec<&str> = known.iter().map(|m| m.name).collect();
    if in_folder != listed {
        return Err(format!(
            "the folder holds {in_folder:?}, but the list names {listed:?}: list every file, in \
             the order of their names"
        ));
    }
    for (place, (migration, (_, sql))) in known.iter().zip(files).enumerate() {
        let number = migration.name.split('_').next().map(str::parse::<usize>);
        if migration.version != place + 1 || number != Some(Ok(migration.version)) {
            return Err(format!(
                "{} is migration {} of the list: its name must start with {:04}_",
                migration.name,
                place + 1,
                place + 1
            ));
        }
        if migration.sql != sql {
            return Err(format!(
                "{} is not the SQL of the file of that name in the folder",
                migration.name
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{Migration, TooNew, compare, numbered, pending, pending_up_to};

    const KNOWN: [Migration; 3] = numbered([
        ("0001_a.sql", "CREATE TABLE a (x);"),
        ("0002_b.sql", "CREATE TABLE b (x);"),
        ("0003_c.sql", "CREATE TABLE c (x);"),
    ]);

    fn versions(migrations: &[Migration]) -> Vec<usize> {
        migrations.iter().map(|m| m.version).collect()
    }

    fn folder(names: &[&str]) -> Vec<(String, String)> {
        names
            .iter()
            .map(|name| {
                let sql = KNOWN
                    .iter()
                    .find(|m| m.name == *name)
                    .map_or("CREATE TABLE z (x);", |m| m.sql);
                ((*name).to_owned(), sql.to_owned())
            })
            .collect()
    }

    #[test]
    fn files_are_numbered_by_their_place() {
        assert_eq!(versions(&KNOWN), [1, 2, 3]);
        assert_eq!(KNOWN[1].name, "0002_b.sql");
        assert_eq!(KNOWN[1].sql, "CREATE TABLE b (x);");
    }

    #[test]
    fn a_database_gets_the_migrations_above_its_version() {
        assert_eq!(versions(pending(&KNOWN, 0).unwrap()), [1, 2, 3]);
        assert_eq!(versions(pending(&KNOWN, 2).unwrap()), [3]);
        assert!(pending(&KNOWN, 3).unwrap().is_empty());
    }

    #[test]
    fn a_target_stops_the_migrations_early() {
        assert_eq!(versions(pending_up_to(&KNOWN, 0, 1).unwrap()), [1]);
        assert_eq!(versions(pending_up_to(&KNOWN, 1, 2).unwrap()), [2]);
        // Already there or beyond: nothing, and no refusal.
        assert!(pending_up_to(&KNOWN, 2, 2).unwrap().is_empty());
        assert!(pending_up_to(&KNOWN, 3, 1).unwrap().is_empty());
        // A target past the newest stops at the newest.
        assert_eq!(versions(pending_up_to(&KNOWN, 1, 9).unwrap()), [2, 3]);
    }

    #[test]
    fn a_database_of_a_newer_release_is_refused() {
        let refused = TooNew { found: 4, known: 3 };
        assert_eq!(pending(&KNOWN, 4), Err(refused));
        assert_eq!(pending_up_to(&KNOWN, 4, 1), Err(refused));
        assert_eq!(
            pending(&KNOWN, -1),
            Err(TooNew {
                found: -1,
                known: 3
            })
        );
    }

    #[test]
    fn the_list_must_name_every_file_of_the_folder_in_order() {
        let all = ["0001_a.sql", "0002_b.sql", "0003_c.sql"];
        assert_eq!(compare(&folder(&all), &KNOWN), Ok(()));
        let added = ["0001_a.sql", "0002_b.sql", "0003_c.sql", "0004_d.sql"];
        let err = compare(&folder(&added), &KNOWN).unwrap_err();
        assert!(err.contains("0004_d.sql"), "{err}");
        let swapped = numbered([
            ("0001_a.sql", KNOWN[0].sql),
            ("0003_c.sql", KNOWN[2].sql),
            ("0002_b.sql", KNOWN[1].sql),
        ]);
        assert!(compare(&folder(&all), &swapped).is_err());
    }

    #[test]
    fn a_name_must_start_with_its_version_and_hold_the_files_sql() {
        let misnumbered = numbered([("0001_a.sql", KNOWN[0].sql), ("0003_c.sql", KNOWN[2].sql)]);
        let err = compare(&folder(&["0001_a.sql", "0003_c.sql"]), &misnumbered).unwrap_err();
        assert!(err.contains("must start with 0002_"), "{err}");
        let other_sql = numbered([("0001_a.sql", "DROP TABLE a;")]);
        assert!(compare(&folder(&["0001_a.sql"]), &other_sql).is_err());
    }
}
