//! The files of a data directory, readable by their user alone: the directory itself is 0700
//! and every file the workstation writes in it 0600, the database included (SQLite gives its
//! WAL and shared-memory files the database file's mode).

use std::io;
use std::path::Path;

/// Creates the directory (and its parents) if needed, and makes it its user's alone.
pub fn private_dir(path: &Path) -> io::Result<()> {
    std::fs::create_dir_all(path)?;
    restrict(path, 0o700)
}

/// Creates the file empty if it is not there, and makes it its user's alone, so that what
/// opens it next (SQLite) never leaves it readable by others, even for a moment.
pub fn private_file(path: &Path) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    drop(options.open(path)?);
    restrict(path, 0o600)
}

/// Writes the whole file, readable by its user alone: into a new file beside it, then renamed
/// over it, so a reader sees the old content or the new, never a part.
pub fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(".new");
    let fresh = path.with_file_name(name);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&fresh)?;
    // A file left by an earlier run keeps its mode on open: tighten it as well.
    restrict(&fresh, 0o600)?;
    io::Write::write_all(&mut file, bytes)?;
    file.sync_all()?;
    std::fs::rename(&fresh, path)
}

/// An exclusive hold on a lock file, for what two processes on one data directory (the window
/// and the command line, say) must not do at once; given back when dropped. The file is
/// created readable by its user alone and stays: removing it would let two holders lock two
/// different files.
#[derive(Debug)]
pub struct Lock {
    _held: std::fs::File,
}

impl Lock {
    /// Waits for the lock on `path` and takes it.
    pub fn exclusive(path: &Path) -> io::Result<Lock> {
        let mut options = std::fs::OpenOptions::new();
        options.append(true).create(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(path)?;
        file.lock()?;
        Ok(Lock { _held: file })
    }
}

/// Below this many free bytes on the data directory's disk, the status bar warns: the
/// database, its WAL and an export need room to grow, and a write that finds none fails.
pub const LOW_DISK_BYTES: u64 = 500 * 1024 * 1024;

/// The bytes this user may still write on the disk holding `path`, if the system says.
#[cfg(target_os = "linux")]
pub fn free_bytes(path: &Path) -> Option<u64> {
    let stat = rustix::fs::statvfs(path).ok()?;
    Some(stat.f_bavail.saturating_mul(stat.f_frsize))
}

/// Elsewhere the disk is not watched.
#[cfg(not(target_os = "linux"))]
pub fn free_bytes(_: &Path) -> Option<u64> {
    None
}

/// The free bytes worth a warning: those below `LOW_DISK_BYTES`.
pub fn low_disk(free: Option<u64>) -> Option<u64> {
    free.filter(|bytes| *bytes < LOW_DISK_BYTES)
}

#[cfg(unix)]
fn restrict(path: &Path, mode: u32) -> io::Result<()> {
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(mode))
}

#[cfg(not(unix))]
fn restrict(_: &Path, _: u32) -> io::Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn directories_and_files_are_their_users_alone() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        let file = dir.join("f");
        std::fs::write(&file, b"old").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_private(&file, b"new").unwrap();
        assert_eq!(std::fs::read(&file).unwrap(), b"new");
        assert_eq!(mode(&file), 0o600);
        let db = dir.join("db");
        private_file(&db).unwrap();
        assert_eq!(mode(&db), 0o600);
        assert_eq!(std::fs::read(&db).unwrap(), b"");
    }

    #[test]
    fn a_lock_is_held_by_one_at_a_time_and_given_back_when_dropped() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("x.lock");
        let held = Lock::exclusive(&path).unwrap();
        assert_eq!(mode(&path), 0o600);
        let other = std::fs::File::open(&path).unwrap();
        assert!(matches!(
            other.try_lock(),
            Err(std::fs::TryLockError::WouldBlock)
        ));
        drop(held);
        other.try_lock().unwrap();
    }

    #[test]
    fn a_nearly_full_disk_is_told_and_a_roomy_one_is_not() {
        assert_eq!(low_disk(Some(100 * 1024 * 1024)), Some(100 * 1024 * 1024));
        assert_eq!(low_disk(Some(LOW_DISK_BYTES)), None);
        assert_eq!(low_disk(None), None);
        let tmp = tempfile::tempdir().unwrap();
        assert!(free_bytes(tmp.path()).is_some_and(|b| b > 0));
        assert_eq!(free_bytes(&tmp.path().join("no such place")), None);
    }
}
