//! Where the workstation reads time. The wall clock is for people and may be hours off; the
//! monotonic clock (boot time, which keeps counting through suspend) measures durations such
//! as waiting times. Tests inject their own clock.

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use guichet_domain::queue::Moment;

pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> Moment;
}

/// The machine's clocks.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Moment {
        Moment {
            wall: Utc::now(),
            mono_ms: monotonic_ms(),
            boot: boot_id().to_owned(),
        }
    }
}

#[cfg(target_os = "linux")]
fn monotonic_ms() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::Boottime);
    u64::try_from(t.tv_sec).unwrap_or(0) * 1000 + u64::try_from(t.tv_nsec).unwrap_or(0) / 1_000_000
}

/// Elsewhere, a process-local monotonic clock: durations across processes then fall back to
/// the wall clock, because every process is its own "boot".
#[cfg(not(target_os = "linux"))]
fn monotonic_ms() -> u64 {
    static START: OnceLock<std::time::Instant> = OnceLock::new();
    START
        .get_or_init(std::time::Instant::now)
        .elapsed()
        .as_millis() as u64
}

/// Identifies the current boot, so that monotonic readings from before a reboot are not
/// compared with readings after it.
fn boot_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        #[cfg(target_os = "linux")]
        if let Ok(id) = std::fs::read_to_string("/proc/sys/kernel/random/boot_id") {
            return id.trim().to_owned();
        }
        format!("process-{}", uuid::Uuid::new_v4())
    })
}

/// A clock that shows a fixed offset from the real one, like a bus whose clock is wrong.
#[derive(Debug, Clone, Copy)]
pub struct SkewedClock {
    pub offset: chrono::Duration,
}

impl Clock for SkewedClock {
    fn now(&self) -> Moment {
        let mut m = SystemClock.now();
        m.wall += self.offset;
        m
    }
}

/// A clock that only moves when told: for tests of durations and days.
#[derive(Debug)]
pub struct ManualClock {
    state: std::sync::Mutex<Moment>,
}

impl ManualClock {
    pub fn at(wall: DateTime<Utc>) -> Self {
        ManualClock {
            state: std::sync::Mutex::new(Moment {
                wall,
                mono_ms: 1_000_000,
                boot: "manual".into(),
            }),
        }
    }

    /// Moves both clocks forward.
    pub fn advance(&self, by: chrono::Duration) {
        let mut m = self.state.lock().unwrap_or_else(|e| e.into_inner());
        m.wall += by;
        m.mono_ms += u64::try_from(by.num_milliseconds()).unwrap_or(0);
    }

    /// Restarts the machine: a new boot, whose monotonic clock counts again from near zero;
    /// the wall clock goes on.
    pub fn restart(&self) {
        let mut m = self.state.lock().unwrap_or_else(|e| e.into_inner());
        m.boot = format!("{} restarted", m.boot);
        m.mono_ms = 1_000;
    }

    /// Moves only the wall clock, as when someone resets it.
    pub fn set_wall(&self, wall: DateTime<Utc>) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).wall = wall;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Moment {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}
