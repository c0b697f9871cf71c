//! Writing a report to disk, all or nothing: the output is made beside its destination under a
//! temporary name and renamed into place only when complete, so a failure leaves no partial
//! file behind (and an existing file of the same name untouched).

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::csv::{csv_stream, write_csv_dir};
use crate::error::{Error, Result};
use crate::model::Report;
use crate::pdf::pdf_bytes;
use crate::xlsx::xlsx_bytes;

/// The formats a report is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// A directory with one CSV file per table.
    Csv,
    /// One workbook, one sheet per table.
    Xlsx,
    /// A printable A4 document with charts.
    Pdf,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Csv, Format::Xlsx, Format::Pdf];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
            Format::Pdf => "pdf",
        }
    }
}

/// The directory `out` goes in, which must exist.
fn parent_of(out: &Path) -> Result<PathBuf> {
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    if !parent.is_dir() {
        return Err(Error::Write {
            path: out.to_owned(),
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!(
                    "the directory {} does not exist: create it first or choose another path",
                    parent.display()
                ),
            ),
        });
    }
    Ok(parent)
}

/// Checks that `out` can take a report in `format` before anything is computed.
pub fn check_destination(format: Format, out: &Path) -> Result<()> {
    let parent = parent_of(out)?;
    // A folder that takes no file is said now, in these words, rather than after the report
    // is computed, naming the temporary file the report is written to first.
    if let Err(e) = tempfile::Builder::new()
        .prefix(".guichet-probe-")
        .tempfile_in(&parent)
    {
        return Err(Error::Write {
            path: out.to_owned(),
            source: std::io::Error::new(
                e.kind(),
                format!(
                    "the folder {} cannot be written to ({}): choose another folder",
                    parent.display(),
                    std::io::Error::from(e.kind())
                ),
            ),
        });
    }
    match format {
        Format::Csv => {
            if out.exists() && !is_empty_dir(out) {
                return Err(Error::OutputNotEmpty {
                    path: out.to_owned(),
                });
            }
        }
        Format::Xlsx | Format::Pdf => {
            if out.is_dir() {
                return Err(Error::Write {
                    path: out.to_owned(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::IsADirectory,
                        "it is a directory: give a file name such as report.pdf",
                    ),
                });
            }
            // The report takes the place of what is there: only an ordinary file may be
            // replaced (not a device, a socket or a pipe, and not through a link), and only
            // one that is already a document of the format (an earlier report): a path typed
            // wrong must not replace the workstation's database or its key file.
            if let Ok(meta) = std::fs::symlink_metadata(out) {
                let problem = if !meta.is_file() {
                    Some(
                        "it is not an ordinary file (a device, a link or a pipe) and would be \
                         replaced: give the name of a new file such as report.pdf",
                    )
                } else if !begins_as(out, format) {
                    Some(
                        "it is a file of another kind, which the report would replace: give the \
                         name of a new file, or of an earlier report to replace",
                    )
                } else {
                    None
                };
                if let Some(problem) = problem {
                    return Err(Error::Write {
                        path: out.to_owned(),
                        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, problem),
                    });
                }
            }
        }
    }
    Ok(())
}

/// Whether the file at `path` begins as a document in `format` does: an earlier report it may
/// replace. A workbook is a ZIP archive; an empty file holds nothing to lose.
fn begins_as(path: &Path, format: Format) -> bool {
    let magic: &[u8] = match format {
        Format::Pdf => b"%PDF-",
        Format::Xlsx => b"PK\x03\x04",
        Format::Csv => return true,
    };
    let mut head = [0u8; 5];
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    let read = std::io::Read::read(&mut file, &mut head).unwrap_or(0);
    read == 0 || head[..read].starts_with(magic)
}

fn is_empty_dir(path: &Path) -> bool {
    std::fs::read_dir(path).is_ok_and(|mut entries| entries.next().is_none())
}

/// The report in `format` as bytes, for an app that saves or sends it itself. CSV comes as
/// one stream: every table, each with its header line, separated by empty lines (`write`
/// makes a directory of files instead).
pub fn render(report: &Report, format: Format) -> Result<Vec<u8>> {
    match format {
        Format::Xlsx => xlsx_bytes(report),
        Format::Pdf => pdf_bytes(report),
        Format::Csv => Ok(csv_stream(report)),
    }
}

/// Writes the report to `out` in `format`, all or nothing.
pub fn write(report: &Report, format: Format, out: &Path) -> Result<()> {
    check_destination(format, out)?;
    let parent = parent_of(out)?;
    let failed = |source: std::io::Error| Error::Write {
        path: out.to_owned(),
        source,
    };
    match format {
        Format::Csv => {
            let staging = tempfile::Builder::new()
                .prefix(".guichet-report-")
                .tempdir_in(&parent)
                .map_err(failed)?;
            // The directory the files are read through: its user's alone, as they are.
            #[cfg(unix)]
            std::fs::set_permissions(
                staging.path(),
                std::os::unix::fs::PermissionsExt::from_mode(0o700),
            )
            .map_err(failed)?;
            write_csv_dir(report, staging.path())?;
            if out.exists() {
                std::fs::remove_dir(out).map_err(failed)?;
            }
            let staged = staging.keep();
            if let Err(e) = std::fs::rename(&staged, out) {
                let _ignored = std::fs::remove_dir_all(&staged);
                return Err(failed(e));
            }
        }
        Format::Xlsx | Format::Pdf => {
            let bytes = render(report, format)?;
            let mut staged = tempfile::Builder::new()
                .prefix(".guichet-report-")
                .tempfile_in(&parent)
                .map_err(failed)?;
            std::io::Write::write_all(&mut staged, &bytes).map_err(failed)?;
            staged.persist(out).map_err(|e| failed(e.error))?;
        }
    }
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_report_replaces_an_ordinary_file_only() {
        let dir = tempfile::TempDir::new().unwrap();
        let file = dir.path().join("report.pdf");
        assert!(check_destination(Format::Pdf, &file).is_ok(), "a new file");
        std::fs::write(&file, b"%PDF-1.7 older").unwrap();
        assert!(
            check_destination(Format::Pdf, &file).is_ok(),
            "an older report"
        );
        // Not a report of the format: the workstation's database, its key file, a PDF given
        // as a workbook. Refused, and left as it was.
        let database = dir.path().join("guichet.sqlite3");
        std::fs::write(&database, b"SQLite format 3\0").unwrap();
        let keys = dir.path().join("keys.json");
        std::fs::write(&keys, b"{\"slots\": []}").unwrap();
        for (format, refused) in [
            (Format::Pdf, &database),
            (Format::Xlsx, &keys),
            (Format::Xlsx, &file),
        ] {
            let said = check_destination(format, refused).unwrap_err().to_string();
            assert!(
                said.contains("a file of another kind"),
                "{refused:?}: {said}"
            );
        }
        assert_eq!(std::fs::read(&database).unwrap(), b"SQLite format 3\0");
        let link = dir.path().join("link.pdf");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        let device = Path::new("/dev/null");
        for refused in [link.as_path(), device] {
            let said = check_destination(Format::Xlsx, refused)
                .unwrap_err()
                .to_string();
            assert!(said.contains("not an ordinary file"), "{refused:?}: {said}");
        }
        assert_eq!(std::fs::read(&file).unwrap(), b"%PDF-1.7 older");
    }
}
