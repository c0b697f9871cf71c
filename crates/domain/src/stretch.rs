//! Stretching a password with Argon2id in memory the hardware handles well.
//!
//! Every derivation of Guichet's (a key slot opened or sealed, a verifier checked, a decoy)
//! fills 64 MiB. Taken from the allocator, that is sixteen thousand pages of 4 KiB, each
//! faulted in and zeroed on first touch, then walked at random by Argon2id, missing the TLB at
//! nearly every block: on a workstation's two cores about as long as the hashing itself. Here
//! the memory is a mapping of its own, aligned on 2 MiB and marked for transparent huge pages
//! (`MADV_HUGEPAGE`), so it comes as 32 pages of 2 MiB: the same memory and passes (a
//! guesser's work per guess is unchanged), about a third less wait at a login
//! (`docs/benchmarks.md`). Where the kernel gives no huge pages (turned off, or a system
//! other than Linux) the derivation runs in ordinary pages, as fast as before.
//!
//! Every derivation goes through here, so a decoy checked for an unknown name costs what an
//! account's check costs.

use argon2::Argon2;
#[cfg(target_os = "linux")]
use argon2::Block;

use crate::error::{DomainError, Result};

/// Argon2id of `password` with `salt` into `out`, at `argon2`'s parameters.
pub(crate) fn stretch(
    argon2: &Argon2<'_>,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<()> {
    #[cfg(target_os = "linux")]
    if let Some(mut memory) = WorkMemory::map(argon2.params().block_count()) {
        return argon2
            .hash_password_into_with_memory(password, salt, out, memory.blocks())
            .map_err(|_| DomainError::SealFailed);
    }
    argon2
        .hash_password_into(password, salt, out)
        .map_err(|_| DomainError::SealFailed)
}

/// Anonymous memory mapped for one derivation and unmapped after it; the kernel zeroes its
/// pages before they serve anything else.
#[cfg(target_os = "linux")]
struct WorkMemory {
    /// The whole mapping, as `mmap` gave it.
    map: *mut libc::c_void,
    map_len: usize,
    /// The blocks, from the first 2 MiB boundary in the mapping.
    start: *mut Block,
    blocks: usize,
}

#[cfg(target_os = "linux")]
impl WorkMemory {
    const HUGE_PAGE: usize = 2 << 20;

    /// `blocks` zeroed blocks, or `None` if the memory cannot be mapped (the caller then
    /// lets Argon2 allocate, which reports a lack of memory its own way).
    #[allow(unsafe_code)]
    fn map(blocks: usize) -> Option<Self> {
        let len = blocks.checked_mul(size_of::<Block>())?;
        let map_len = len.checked_add(Self::HUGE_PAGE)?;
        // SAFETY: an anonymous private mapping of `map_len` bytes at an address the kernel
        // chooses; no memory of this process is touched.
        let map = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                map_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if map == libc::MAP_FAILED {
            return None;
        }
        let offset = (map as usize).next_multiple_of(Self::HUGE_PAGE) - map as usize;
        // SAFETY: `offset` is less than `HUGE_PAGE`, so the `len` bytes from `start` lie inside
        // the mapping.
        let start = unsafe { map.cast::<u8>().add(offset) };
        // Only advice: without huge pages (THP turned off) the mapping works as it is.
        // SAFETY: the range lies inside the mapping just made, which nothing else uses.
        unsafe { libc::madvise(start.cast(), len, libc::MADV_HUGEPAGE) };
        Some(WorkMemory {
            map,
            map_len,
            start: start.cast(),
            blocks,
        })
    }

    #[allow(unsafe_code)]
    fn blocks(&mut self) -> &mut [Block] {
        // SAFETY: `start` is aligned on 2 MiB (more than `Block`'s 64 bytes) and the `blocks`
        // blocks from it lie inside the mapping, which lives as long as `self` and is
        // borrowed mutably here only. A fresh anonymous mapping reads as zeros, and a block of
        // zero bytes is a valid `Block` (plain words).
        unsafe { std::slice::from_raw_parts_mut(self.start, self.blocks) }
    }
}

#[cfg(target_os = "linux")]
impl Drop for WorkMemory {
    #[allow(unsafe_code)]
    fn drop(&mut self) {
        // SAFETY: the mapping was made by `map` with this length and is no longer borrowed.
        unsafe { libc::munmap(self.map, self.map_len) };
    }
}

#[cfg(test)]
mod tests {
    use argon2::{Algorithm, Params, Version};

    use super::*;

    /// The mapped memory gives the hash Argon2 gives in its own memory, at the cost Guichet
    /// uses (one and four lanes).
    #[test]
    fn the_mapped_memory_gives_argon2s_own_hash() {
        for lanes in [1, 4] {
            let params = Params::new(crate::account::ARGON2_MEMORY_KIB, 3, lanes, None).unwrap();
            let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
            let (mut ours, mut theirs) = ([0u8; 32], [0u8; 32]);
            stretch(
                &argon2,
                b"a long passphrase",
                b"sixteen byte salt",
                &mut ours,
            )
            .unwrap();
            argon2
                .hash_password_into(b"a long passphrase", b"sixteen byte salt", &mut theirs)
                .unwrap();
            assert_eq!(ours, theirs);
            assert_ne!(ours, [0u8; 32]);
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_blocks_start_on_a_huge_page_boundary_and_read_as_zeros() {
        let mut memory = WorkMemory::map(4096).unwrap();
        let blocks = memory.blocks();
        assert_eq!(blocks.len(), 4096);
        assert_eq!(blocks.as_ptr() as usize % WorkMemory::HUGE_PAGE, 0);
        assert!(blocks.iter().all(|b| b.as_ref().iter().all(|w| *w == 0)));
    }
}
