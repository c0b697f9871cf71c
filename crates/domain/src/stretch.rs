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
//!
//! A login's memory can be made ready beforehand ([`prepare`]): mapped and touched while the
//! login screen waits for the clerk's password, so the derivation after the click does not
//! wait for the kernel to find and zero 64 MiB. It serves one derivation, whichever comes
//! first (a slot, a verifier, a decoy: they cost the same), and goes back to the kernel after
//! it like any other; until then it holds 64 MiB of zeros and nothing else. Memory still being
//! made when a derivation begins is dropped, not kept for a login that has already happened.

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
    let blocks = argon2.params().block_count();
    #[cfg(target_os = "linux")]
    let (ready, _running) = READY.begin(blocks);
    #[cfg(target_os = "linux")]
    if let Some(mut memory) = ready.or_else(|| WorkMemory::map(blocks)) {
        return argon2
            .hash_password_into_with_memory(password, salt, out, memory.blocks())
            .map_err(|_| DomainError::SealFailed);
    }
    argon2
        .hash_password_into(password, salt, out)
        .map_err(|_| DomainError::SealFailed)
}

/// Makes the memory of the next derivation at Guichet's cost ready: for the app to call, on a
/// thread of its own, when its login screen or lock screen shows. Nothing is done if memory is
/// ready already, or where there is no such memory to make (not Linux).
pub fn prepare() {
    #[cfg(target_os = "linux")]
    if let Ok(argon2) = crate::account::hasher(crate::account::SLOT_LANES) {
        READY.prepare(argon2.params().block_count());
    }
    warm_up();
}

/// One derivation over the slot's lanes in the least memory Argon2 allows (32 KiB, one pass):
/// the threads that compute lanes in parallel are started, and Argon2's code read in from the
/// program's file, before the login rather than during it. It costs well under a millisecond.
fn warm_up() {
    let lanes = crate::account::SLOT_LANES;
    if let Ok(params) = argon2::Params::new(8 * lanes, 1, lanes, None) {
        let argon2 = Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut out = [0u8; 32];
        let _ = argon2.hash_password_into(b"warm up", b"sixteen byte salt", &mut out);
    }
}

/// The memory made ready for the next derivation, if any.
#[cfg(target_os = "linux")]
static READY: Ready = Ready(std::sync::Mutex::new(Slot {
    memory: None,
    begun: 0,
    running: 0,
}));

#[cfg(target_os = "linux")]
#[derive(Debug)]
struct Ready(std::sync::Mutex<Slot>);

#[cfg(target_os = "linux")]
#[derive(Debug)]
struct Slot {
    memory: Option<WorkMemory>,
    /// Derivations begun so far, and those still running. No memory is made while one runs,
    /// nor kept if one began while it was made: the login it was made for has passed, and it
    /// would hold 64 MiB through the session that login opened.
    begun: u64,
    running: u32,
}

/// A derivation running, from [`Ready::begin`] until it is dropped.
#[cfg(target_os = "linux")]
#[derive(Debug)]
struct Running<'a>(&'a Ready);

#[cfg(target_os = "linux")]
impl Drop for Running<'_> {
    fn drop(&mut self) {
        let mut slot = self.0.slot();
        slot.running = slot.running.saturating_sub(1);
    }
}

#[cfg(target_os = "linux")]
impl Ready {
    fn prepare(&self, blocks: usize) {
        if let Some((begun, memory)) = self.make(blocks) {
            self.keep(begun, memory);
        }
    }

    /// Memory of `blocks` blocks, mapped and touched, with the count of derivations begun
    /// when it was asked for; `None` if memory of that size is ready already, a derivation
    /// is running, or it cannot be mapped.
    fn make(&self, blocks: usize) -> Option<(u64, WorkMemory)> {
        let begun = {
            let slot = self.slot();
            if slot.running > 0 || slot.memory.as_ref().is_some_and(|m| m.blocks == blocks) {
                return None;
            }
            slot.begun
        };
        // Mapped and touched outside the lock: a derivation meanwhile maps its own.
        let mut memory = WorkMemory::map(blocks)?;
        // One write a 4 KiB page (every fourth block) faults each page in, huge or not.
        for block in memory.blocks().iter_mut().step_by(4) {
            block.as_mut()[0] = 0;
        }
        std::hint::black_box(memory.blocks());
        Some((begun, memory))
    }

    /// Keeps `memory` for the next derivation, unless one began since it was asked for.
    fn keep(&self, begun: u64, memory: WorkMemory) {
        let mut slot = self.slot();
        if slot.begun == begun {
            slot.memory = Some(memory);
        }
    }

    /// A derivation of `blocks` blocks begins: the ready memory, if there is some of that
    /// size (it is no longer ready after), and the derivation counted as running until the
    /// second value is dropped.
    fn begin(&self, blocks: usize) -> (Option<WorkMemory>, Running<'_>) {
        let mut slot = self.slot();
        slot.begun += 1;
        slot.running += 1;
        let memory = slot.memory.take().filter(|m| m.blocks == blocks);
        (memory, Running(self))
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Slot> {
        // Memory of zeros cannot be left half-made by a panic: a poisoned lock is still good.
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Anonymous memory mapped for one derivation and unmapped after it; the kernel zeroes its
/// pages before they serve anything else.
#[cfg(target_os = "linux")]
#[derive(Debug)]
struct WorkMemory {
    /// The whole mapping, as `mmap` gave it.
    map: *mut libc::c_void,
    map_len: usize,
    /// The blocks, from the first 2 MiB boundary in the mapping.
    start: *mut Block,
    blocks: usize,
}

// SAFETY: a `WorkMemory` is the only owner of its mapping, which nothing else points into;
// moving it to another thread (the ready memory, made on one thread and used on another)
// moves that ownership.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
unsafe impl Send for WorkMemory {}

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

    const PASSWORD: &[u8] = b"a long passphrase";
    const SALT: &[u8] = b"sixteen byte salt";

    /// The hash Argon2 gives in memory it allocates itself.
    fn argon2s_own_hash(argon2: &Argon2<'_>) -> [u8; 32] {
        let mut out = [0u8; 32];
        argon2.hash_password_into(PASSWORD, SALT, &mut out).unwrap();
        out
    }

    /// The mapped memory gives the hash Argon2 gives in its own memory, at the cost Guichet
    /// uses (one and four lanes).
    #[test]
    fn the_mapped_memory_gives_argon2s_own_hash() {
        for lanes in [1, 4] {
            let params = Params::new(crate::account::ARGON2_MEMORY_KIB, 3, lanes, None).unwrap();
            let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
            let mut ours = [0u8; 32];
            stretch(&argon2, PASSWORD, SALT, &mut ours).unwrap();
            assert_eq!(ours, argon2s_own_hash(&argon2));
            assert_ne!(ours, [0u8; 32]);
        }
    }

    /// Ready memory serves the next derivation of its size, once, and gives its hash.
    #[cfg(target_os = "linux")]
    #[test]
    fn ready_memory_serves_one_derivation_of_its_size() {
        let ready = fresh();
        ready.prepare(4096);
        assert!(
            ready.begin(8192).0.is_none(),
            "memory of another size is not taken"
        );
        assert!(ready.begin(4096).0.is_none(), "a refused take drops it");
        ready.prepare(4096);
        ready.prepare(4096);
        let mut memory = ready.begin(4096).0.expect("made ready");
        assert!(ready.begin(4096).0.is_none(), "it serves once");
        assert!(
            memory
                .blocks()
                .iter()
                .all(|b| b.as_ref().iter().all(|w| *w == 0))
        );

        let params = Params::new(4096, 3, 4, None).unwrap();
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let mut ours = [0u8; 32];
        argon2
            .hash_password_into_with_memory(PASSWORD, SALT, &mut ours, memory.blocks())
            .unwrap();
        assert_eq!(ours, argon2s_own_hash(&argon2));
    }

    /// Memory asked for before a derivation began and made after is not kept: that
    /// derivation mapped its own, and the session it opened does not carry 64 MiB.
    #[cfg(target_os = "linux")]
    #[test]
    fn memory_made_while_a_derivation_began_is_not_kept() {
        let ready = fresh();
        let (begun, memory) = ready.make(4096).expect("made");
        assert!(
            ready.begin(4096).0.is_none(),
            "a derivation began meanwhile"
        );
        ready.keep(begun, memory);
        assert!(ready.slot().memory.is_none(), "not kept");
        ready.prepare(4096);
        assert!(
            ready.begin(4096).0.is_some(),
            "memory made after it is kept"
        );
    }

    /// Nothing is made while a derivation runs (a login that began before the memory was
    /// asked for would leave it to the session it opens); once it ends, memory is made.
    #[cfg(target_os = "linux")]
    #[test]
    fn no_memory_is_made_while_a_derivation_runs() {
        let ready = fresh();
        let (_, running) = ready.begin(4096);
        ready.prepare(4096);
        assert!(ready.slot().memory.is_none(), "not made while one runs");
        drop(running);
        ready.prepare(4096);
        assert!(ready.begin(4096).0.is_some(), "made once it ended");
        assert_eq!(ready.slot().running, 0);
    }

    #[cfg(target_os = "linux")]
    fn fresh() -> Ready {
        Ready(std::sync::Mutex::new(Slot {
            memory: None,
            begun: 0,
            running: 0,
        }))
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
