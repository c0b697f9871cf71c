//! Reading what a command is handed (a catalogue file, a CA certificate, passwords and codes on
//! standard input) with a bound: a wrong path (a package, a disk image, `/dev/zero`) is refused
//! once it passes what the input can hold, rather than read whole into memory.

use std::io::{self, Read};

/// What a bounded read found.
#[derive(Debug, PartialEq, Eq)]
pub enum Bounded {
    /// The whole input, as text.
    Text(String),
    /// More than the bound; nothing past it was read.
    TooLarge,
    /// The input is not UTF-8 text: the byte at this offset is the first that is not.
    NotText { at: usize },
}

/// Reads `reader` to its end, up to `limit` bytes.
pub fn read_bounded(reader: impl Read, limit: u64) -> io::Result<Bounded> {
    let mut bytes = Vec::new();
    reader
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if u64::try_from(bytes.len()).map_or(true, |read| read > limit) {
        return Ok(Bounded::TooLarge);
    }
    Ok(match String::from_utf8(bytes) {
        Ok(text) => Bounded::Text(text),
        Err(e) => Bounded::NotText {
            at: e.utf8_error().valid_up_to(),
        },
    })
}

/// A byte count as people read it: whole MiB or KiB.
pub fn size(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{} KiB", bytes >> 10)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_stops_past_its_bound() {
        assert_eq!(
            read_bounded(&b"abcd"[..], 4).unwrap(),
            Bounded::Text("abcd".into())
        );
        assert_eq!(read_bounded(&b"abcde"[..], 4).unwrap(), Bounded::TooLarge);
        assert_eq!(
            read_bounded(io::repeat(b'x'), 1024).unwrap(),
            Bounded::TooLarge
        );
    }

    #[test]
    fn bytes_that_are_not_text_are_found() {
        assert_eq!(
            read_bounded(&b"ab\xffcd"[..], 64).unwrap(),
            Bounded::NotText { at: 2 }
        );
    }

    #[test]
    fn sizes_read_in_whole_units() {
        assert_eq!(size(64 << 20), "64 MiB");
        assert_eq!(size(4096), "4 KiB");
    }
}
