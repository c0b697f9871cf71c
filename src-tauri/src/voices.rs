//! WebKitGTK's speech voices, left out of the app's processes.
//!
//! WebKitGTK links the flite speech synthesiser and its voices for the page's speech
//! synthesis, which the window never uses (its scripts are the UI's alone, under its content
//! security policy). Every process that loads WebKit still loads them and relocates the
//! voices' tables: about 3 MB of private memory in each of the app's three processes, and as
//! much again of the voices' data paged in. `restart_without_voices` puts a small library
//! (`voices/no_voices.c`, built by `build.rs`) in the voices' place: it writes it into the
//! data directory under the names of the flite libraries WebKit asks for, and starts the app
//! again with that directory first in the library path, which WebKit's processes inherit.
//!
//! The page's speech synthesis then finds four voices named "silent" and speaks silence.
//! It is done only when the installed WebKitGTK imports from flite nothing but what the
//! stand-in defines (checked at each start from the dynamic symbols of WebKitGTK and of the
//! flite libraries loaded with it; a few milliseconds); otherwise the voices stay, the log
//! says why, and nothing else changes.

use std::ffi::{CStr, OsString};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};

/// The stand-in, built from `voices/no_voices.c`.
const NO_VOICES: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/no_voices.so"));

/// What the stand-in defines: the functions WebKitGTK 2.50 imports from flite.
const STANDS_IN_FOR: &[&str] = &[
    "cmulex_init",
    "cst_wave_resample",
    "delete_voice",
    "delete_wave",
    "flite_add_lang",
    "flite_init",
    "flite_text_to_wave",
    "register_cmu_us_awb",
    "register_cmu_us_kal",
    "register_cmu_us_rms",
    "register_cmu_us_slt",
    "usenglish_init",
];

/// In the environment of the app started again, so that it does not start again.
const RESTARTED: &str = "GUICHET_VOICES_LEFT_OUT";

/// The directory inside the data directory that holds the stand-in.
const DIR: &str = "no-voices";
const FILE: &str = "no_voices.so";

/// Starts the app again without WebKit's voices (see the module's notes), or returns when it
/// is already so started, when there is nothing to leave out, or when it cannot be done.
pub fn restart_without_voices(data_dir: &Path) {
    if std::env::var_os(RESTARTED).is_some() {
        tracing::info!("WebKit's speech voices left out");
        return;
    }
    let dir = match prepare(&data_dir.join(DIR)) {
        Ok(Some(dir)) => dir,
        Ok(None) => return,
        Err(reason) => {
            tracing::info!("WebKit's speech voices kept: {reason}");
            return;
        }
    };
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            tracing::warn!("WebKit's speech voices kept: cannot find the app's own program: {e}");
            return;
        }
    };
    let mut library_path = OsString::from(dir.as_os_str());
    if let Some(old) = std::env::var_os("LD_LIBRARY_PATH").filter(|old| !old.is_empty()) {
        library_path.push(":");
        library_path.push(old);
    }
    let mut args = std::env::args_os();
    let mut command = std::process::Command::new(exe);
    if let Some(arg0) = args.next() {
        command.arg0(arg0);
    }
    command
        .args(args)
        .env("LD_LIBRARY_PATH", library_path)
        .env(RESTARTED, "1");
    // GStreamer, should WebKit ever start it here, would find its flite plugin unable to load
    // and note that in its registry: a registry of the app's own keeps the user's as it is.
    if std::env::var_os("GST_REGISTRY").is_none() {
        command.env("GST_REGISTRY", dir.join("gstreamer-registry.bin"));
    }
    tracing::info!("starting again without WebKit's speech voices");
    let e = command.exec();
    tracing::warn!("WebKit's speech voices kept: cannot start the app again: {e}");
}

/// Writes the stand-in into `dir` under the name of every flite library WebKitGTK needs and
/// returns `dir`; `None` when this process has no WebKitGTK or its WebKitGTK no flite.
fn prepare(dir: &Path) -> Result<Option<PathBuf>, String> {
    if dir.to_string_lossy().contains(':') {
        return Err(format!(
            "the data directory's path has a ':', which the library path cannot hold: {}",
            dir.display()
        ));
    }
    let maps = std::fs::read_to_string("/proc/self/maps")
        .map_err(|e| format!("cannot read this process's libraries: {e}"))?;
    let loaded = loaded_libraries(&maps);
    let Some(webkit) = webkit_in(&loaded) else {
        return Ok(None);
    };
    let read = |path: &Path| {
        Dynamic::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    };
    let webkit_dynamic = read(webkit)?;
    let flite: Vec<&String> = webkit_dynamic
        .needed
        .iter()
        .filter(|name| is_flite(name))
        .collect();
    if flite.is_empty() {
        return Ok(None);
    }
    let mut from_flite = std::collections::HashSet::new();
    for path in loaded
        .iter()
        .filter(|path| path.file_name().is_some_and(is_flite))
    {
        let library = read(path)?;
        let soname = library.soname.unwrap_or_default();
        if !flite.contains(&&soname) {
            return Err(format!(
                "{} ({soname}) is loaded but not named by {}",
                path.display(),
                webkit.display()
            ));
        }
        from_flite.extend(library.defined);
    }
    if let Some(symbol) = missing_from_stand_in(&webkit_dynamic.undefined, &from_flite) {
        return Err(format!(
            "{} imports {symbol} from flite, which the stand-in does not define",
            webkit.display()
        ));
    }
    let cannot = |e: std::io::Error| format!("cannot write the stand-in in {}: {e}", dir.display());
    std::fs::create_dir_all(dir).map_err(cannot)?;
    let file = dir.join(FILE);
    if std::fs::read(&file).ok().as_deref() != Some(NO_VOICES) {
        let partial = dir.join(format!("{FILE}.new"));
        std::fs::write(&partial, NO_VOICES).map_err(cannot)?;
        std::fs::rename(&partial, &file).map_err(cannot)?;
    }
    for name in flite {
        let link = dir.join(name);
        if std::fs::read_link(&link).ok().as_deref() != Some(Path::new(FILE)) {
            let _ = std::fs::remove_file(&link);
            std::os::unix::fs::symlink(FILE, &link).map_err(cannot)?;
        }
    }
    Ok(Some(dir.to_path_buf()))
}

/// The files mapped in a process, from its `/proc/PID/maps`, each once.
fn loaded_libraries(maps: &str) -> Vec<PathBuf> {
    // The path is the rest of the line from its first slash: no field before it has one.
    let mut files: Vec<PathBuf> = maps
        .lines()
        .filter_map(|line| line.find('/').map(|at| PathBuf::from(&line[at..])))
        .collect();
    files.sort();
    files.dedup();
    files
}

/// WebKitGTK's library among `loaded`.
fn webkit_in(loaded: &[PathBuf]) -> Option<&PathBuf> {
    loaded.iter().find(|path| {
        path.file_name()
            .and_then(|name| name.to_str())
            .is_some_and(|name| name.starts_with("libwebkit2gtk-"))
    })
}

fn is_flite(name: impl AsRef<std::ffi::OsStr>) -> bool {
    name.as_ref()
        .to_str()
        .is_some_and(|name| name.starts_with("libflite"))
}

/// The first of `imports` that flite defines (`from_flite`) and the stand-in lacks.
fn missing_from_stand_in<'a>(
    imports: &'a [String],
    from_flite: &std::collections::HashSet<String>,
) -> Option<&'a str> {
    imports
        .iter()
        .map(String::as_str)
        .find(|symbol| !STANDS_IN_FOR.contains(symbol) && from_flite.contains(*symbol))
}

/// What a shared library's dynamic section says: the libraries it needs and the symbols it
/// imports and defines. Only 64-bit little-endian ELF files (x86_64, aarch64) are read.
#[derive(Debug, Default)]
struct Dynamic {
    soname: Option<String>,
    needed: Vec<String>,
    undefined: Vec<String>,
    defined: Vec<String>,
}

const SHT_DYNAMIC: u32 = 6;
const SHT_DYNSYM: u32 = 11;
const DT_NEEDED: u64 = 1;
const DT_SONAME: u64 = 14;

struct Section {
    kind: u32,
    offset: u64,
    size: u64,
    link: u32,
}

impl Dynamic {
    fn read(path: &Path) -> std::io::Result<Self> {
        let mut file = File::open(path)?;
        let not_elf = || invalid("not a 64-bit little-endian ELF file");
        let header = read_at(&mut file, 0, 64).map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => not_elf(),
            _ => e,
        })?;
        if header.get(..6) != Some(b"\x7fELF\x02\x01".as_slice()) {
            return Err(not_elf());
        }
        let entry_size = field(&header, 0x3a, 2)?;
        let table = read_at(
            &mut file,
            field(&header, 0x28, 8)?,
            entry_size * field(&header, 0x3c, 2)?,
        )?;
        let entry_size = usize::try_from(entry_size).map_err(|_| too_large())?;
        let sections = table
            .chunks_exact(entry_size.max(1))
            .map(|s| {
                Ok(Section {
                    kind: u32::try_from(field(s, 4, 4)?).map_err(|_| too_large())?,
                    offset: field(s, 0x18, 8)?,
                    size: field(s, 0x20, 8)?,
                    link: u32::try_from(field(s, 0x28, 4)?).map_err(|_| too_large())?,
                })
            })
            .collect::<std::io::Result<Vec<_>>>()?;
        let mut dynamic = Dynamic::default();
        // The symbols and the dynamic section name their strings in one table, read once.
        let mut string_tables: std::collections::HashMap<u32, Vec<u8>> = Default::default();
        for section in sections
            .iter()
            .filter(|s| matches!(s.kind, SHT_DYNAMIC | SHT_DYNSYM))
        {
            let strings = match string_tables.entry(section.link) {
                std::collections::hash_map::Entry::Occupied(known) => known.into_mut(),
                std::collections::hash_map::Entry::Vacant(slot) => {
                    let table = sections
                        .get(usize::try_from(section.link).map_err(|_| too_large())?)
                        .ok_or_else(|| {
                            invalid("a section names a string table that is not there")
                        })?;
                    slot.insert(read_at(&mut file, table.offset, table.size)?)
                }
            };
            let entries = read_at(&mut file, section.offset, section.size)?;
            if section.kind == SHT_DYNAMIC {
                for entry in entries.chunks_exact(16) {
                    match field(entry, 0, 8)? {
                        DT_NEEDED => dynamic.needed.push(string(strings, field(entry, 8, 8)?)?),
                        DT_SONAME => dynamic.soname = Some(string(strings, field(entry, 8, 8)?)?),
                        _ => {}
                    }
                }
            } else {
                for symbol in entries.chunks_exact(24).skip(1) {
                    let name = string(strings, field(symbol, 0, 4)?)?;
                    if name.is_empty() {
                        continue;
                    }
                    if field(symbol, 6, 2)? == 0 {
                        dynamic.undefined.push(name);
                    } else {
                        dynamic.defined.push(name);
                    }
                }
            }
        }
        Ok(dynamic)
    }
}

fn read_at(file: &mut File, offset: u64, len: u64) -> std::io::Result<Vec<u8>> {
    let mut bytes = vec![0; usize::try_from(len).map_err(|_| too_large())?];
    file.seek(SeekFrom::Start(offset))?;
    file.read_exact(&mut bytes)?;
    Ok(bytes)
}

/// The little-endian unsigned number of `len` bytes at `at`.
fn field(bytes: &[u8], at: usize, len: usize) -> std::io::Result<u64> {
    let bytes = bytes
        .get(at..at + len)
        .ok_or_else(|| invalid("a header is cut short"))?;
    Ok(bytes
        .iter()
        .rev()
        .fold(0, |n, &byte| (n << 8) | u64::from(byte)))
}

fn string(table: &[u8], at: u64) -> std::io::Result<String> {
    let rest = usize::try_from(at)
        .ok()
        .and_then(|at| table.get(at..))
        .ok_or_else(|| invalid("a name lies outside its string table"))?;
    let name = CStr::from_bytes_until_nul(rest).map_err(|_| invalid("a name does not end"))?;
    Ok(name.to_string_lossy().into_owned())
}

fn invalid(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what)
}

fn too_large() -> std::io::Error {
    invalid("a size does not fit in memory")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stand_in_defines_exactly_what_it_stands_in_for() {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join(FILE);
        std::fs::write(&path, NO_VOICES).unwrap();
        let stand_in = Dynamic::read(&path).unwrap();
        let mut defined = stand_in.defined.clone();
        defined.sort();
        assert_eq!(defined, STANDS_IN_FOR);
        assert!(stand_in.undefined.is_empty(), "{:?}", stand_in.undefined);
    }

    #[test]
    fn a_file_that_is_not_a_library_is_refused() {
        let dir = tempfile::TempDir::new().unwrap();
        let path = dir.path().join("notes.txt");
        std::fs::write(&path, "not a library").unwrap();
        let e = Dynamic::read(&path).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
        std::fs::write(&path, &NO_VOICES[..100]).unwrap();
        assert!(Dynamic::read(&path).is_err());
    }

    #[test]
    fn an_import_from_flite_the_stand_in_lacks_keeps_the_voices() {
        let imports = ["g_free", "flite_init", "flite_synth_text", "cst_free"].map(String::from);
        let flite = ["flite_init", "flite_synth_text", "cst_free", "cst_alloc"]
            .map(String::from)
            .into();
        assert_eq!(
            missing_from_stand_in(&imports, &flite),
            Some("flite_synth_text")
        );
        assert_eq!(missing_from_stand_in(&imports[..2], &flite), None);
        assert_eq!(missing_from_stand_in(&imports, &Default::default()), None);
    }

    #[test]
    fn the_libraries_are_read_off_the_maps() {
        let maps = "\
7f00-7f10 r--p 00000000 fe:01 12 /usr/lib/x86_64-linux-gnu/libflite.so.2.2
7f10-7f20 r-xp 00010000 fe:01 12 /usr/lib/x86_64-linux-gnu/libflite.so.2.2
7f20-7f30 rw-p 00000000 00:00 0
7f30-7f40 rw-p 00000000 00:00 0 [heap]
7f40-7f50 r--p 00000000 fe:01 9 /usr/lib/x86_64-linux-gnu/libc.so.6
7f50-7f60 r--p 00000000 fe:01 7 /opt/a dir/libz.so.1
";
        assert_eq!(
            loaded_libraries(maps),
            [
                "/opt/a dir/libz.so.1",
                "/usr/lib/x86_64-linux-gnu/libc.so.6",
                "/usr/lib/x86_64-linux-gnu/libflite.so.2.2"
            ]
            .map(PathBuf::from)
        );
    }

    /// The installed WebKitGTK (the one this test links, as the app does): every flite library
    /// it needs gets the stand-in, and it imports nothing from flite that the stand-in lacks.
    /// Fails when a WebKitGTK update imports more: `voices/no_voices.c` needs it then.
    #[test]
    fn the_installed_webkit_gets_the_stand_in() {
        // Keeps WebKitGTK linked into this test, as it is into the app.
        std::hint::black_box(crate::tune_webview as fn(&webkit2gtk::WebView));
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        let loaded = loaded_libraries(&maps);
        let webkit = webkit_in(&loaded).expect("WebKitGTK is loaded");
        let needed = Dynamic::read(webkit).unwrap().needed;
        let flite: Vec<&String> = needed.iter().filter(|name| is_flite(name)).collect();
        assert!(
            !flite.is_empty(),
            "{} needs no flite: {needed:?}",
            webkit.display()
        );

        let data = tempfile::TempDir::new().unwrap();
        let dir = prepare(&data.path().join(DIR)).unwrap().unwrap();
        assert_eq!(std::fs::read(dir.join(FILE)).unwrap(), NO_VOICES);
        for name in flite {
            assert_eq!(std::fs::read_link(dir.join(name)).unwrap(), Path::new(FILE));
        }
        // A second start finds it all in place.
        assert_eq!(prepare(&data.path().join(DIR)).unwrap(), Some(dir));
        // A data directory the library path cannot name: the voices stay, nothing is written.
        let odd = data.path().join("a:b");
        let refused = prepare(&odd).unwrap_err();
        assert!(refused.contains("':'"), "{refused}");
        assert!(!odd.exists());
    }
}
