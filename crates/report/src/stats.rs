//! Waiting-time statistics in bounded memory, so that a year of tickets is summarised without
//! keeping every ticket.
//!
//! Times go into a histogram: one bucket per second up to two hours, then one per minute up to
//! two days; longer waits share the last bucket. Percentiles are nearest-rank (the smallest
//! recorded value with at least p % of the values at or below it; the median of an even count
//! is the lower middle value), exact to the second below two hours and to the minute above.
//! The maximum and the mean are exact. A histogram holds one counter per bucket up to the
//! longest wait it has seen: at most 9,960 counters (40 kB), whatever the number of tickets.

use serde::{Deserialize, Serialize};

const SECOND_BUCKETS: u64 = 2 * 3600;
const MINUTE_BUCKETS: u64 = 46 * 60;

/// The waiting times of a group of tickets, as they are added.
#[derive(Debug, Clone, Default)]
pub struct WaitHistogram {
    count: u64,
    sum_ms: u64,
    max_ms: u64,
    above_target: u64,
    /// Tickets per bucket, up to the highest bucket seen.
    buckets: Vec<u32>,
}

impl WaitHistogram {
    /// The p-th percentile in seconds (p in 0..=100), nearest rank; None when empty.
    pub fn percentile_s(&self, p: u32) -> Option<u64> {
        if self.count == 0 {
            return None;
        }
        let rank = (self.count * u64::from(p)).div_ceil(100).max(1);
        let mut seen = 0;
        for (key, n) in self.buckets.iter().enumerate() {
            seen += u64::from(*n);
            if seen >= rank {
                return Some(bucket_value(key).min(self.max_ms / 1000));
            }
        }
        Some(self.max_ms / 1000)
    }

    pub fn summary(&self) -> WaitSummary {
        WaitSummary {
            count: self.count,
            median_s: self.percentile_s(50),
            p90_s: self.percentile_s(90),
            max_s: (self.count > 0).then_some(self.max_ms / 1000),
            mean_s: (self.count > 0).then(|| self.sum_ms as f64 / self.count as f64 / 1000.0),
            above_target: self.above_target,
            share_above_target: (self.count > 0)
                .then(|| self.above_target as f64 / self.count as f64),
        }
    }
}

impl WaitHistogram {
    /// Adds the waits of a sketch (a day's, kept or just read).
    pub fn merge(&mut self, sketch: &Sketch) {
        self.count += sketch.count;
        self.sum_ms += sketch.sum_ms;
        self.max_ms = self.max_ms.max(sketch.max_ms);
        self.above_target += sketch.above_target;
        let mut key = 0usize;
        for pair in sketch.runs.chunks_exact(2) {
            key += pair[0] as usize;
            if key >= self.buckets.len() {
                self.buckets.resize(key + 1, 0);
            }
            self.buckets[key] = self.buckets[key].saturating_add(pair[1]);
        }
    }
}

/// The waits of one group on one day, small enough to keep: the same buckets as a
/// histogram's, but only those that hold a wait. While a day is read its buckets are listed
/// as they come; `seal` sorts and counts them into runs, the form that is kept.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Sketch {
    count: u64,
    sum_ms: u64,
    max_ms: u64,
    above_target: u64,
    /// Pairs of numbers: the gap from the previous bucket that holds waits (from bucket 0 for
    /// the first), and how many waits it holds.
    runs: Vec<u32>,
    /// The bucket of each wait added since the last seal.
    #[serde(skip)]
    added: Vec<u32>,
}

impl Sketch {
    /// Adds one wait; `target_ms` is the centre's waiting-time target.
    pub fn add(&mut self, wait_ms: u64, target_ms: u64) {
        self.count += 1;
        self.sum_ms += wait_ms;
        self.max_ms = self.max_ms.max(wait_ms);
        if wait_ms > target_ms {
            self.above_target += 1;
        }
        self.added.push(bucket(wait_ms / 1000) as u32);
    }

    /// Counts the waits added into runs.
    pub fn seal(&mut self) {
        if self.added.is_empty() {
            return;
        }
        let mut counts: Vec<(u32, u32)> = Vec::new();
        let mut key = 0u32;
        for pair in self.runs.chunks_exact(2) {
            key += pair[0];
            counts.push((key, pair[1]));
        }
        counts.extend(self.added.drain(..).map(|k| (k, 1)));
        counts.sort_unstable_by_key(|c| c.0);
        self.runs.clear();
        let mut previous = 0u32;
        let mut iter = counts.into_iter().peekable();
        while let Some((key, mut n)) = iter.next() {
            while let Some(&(next, more)) = iter.peek()
                && next == key
            {
                n = n.saturating_add(more);
                iter.next();
            }
            self.runs.push(key - previous);
            self.runs.push(n);
            previous = key;
        }
        self.added = Vec::new();
    }
}

fn bucket(seconds: u64) -> usize {
    let key = if seconds < SECOND_BUCKETS {
        seconds
    } else {
        SECOND_BUCKETS + ((seconds - SECOND_BUCKETS) / 60).min(MINUTE_BUCKETS - 1)
    };
    key as usize
}

fn bucket_value(key: usize) -> u64 {
    let key = key as u64;
    if key < SECOND_BUCKETS {
        key
    } else {
        SECOND_BUCKETS + (key - SECOND_BUCKETS) * 60
    }
}

/// Waiting times of a group of served tickets, in whole seconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct WaitSummary {
    /// Tickets whose waiting time is known (the citizen came to the counter).
    pub count: u64,
    pub median_s: Option<u64>,
    pub p90_s: Option<u64>,
    pub max_s: Option<u64>,
    pub mean_s: Option<f64>,
    /// Waited longer than the centre's target.
    pub above_target: u64,
    /// `above_target` over `count`, 0 to 1.
    pub share_above_target: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The histogram of `waits`, in seconds, with a target of 15 minutes.
    fn histogram(waits: impl IntoIterator<Item = u64>) -> WaitHistogram {
        let mut sketch = Sketch::default();
        for s in waits {
            sketch.add(s * 1000, 900_000);
        }
        sketch.seal();
        let mut h = WaitHistogram::default();
        h.merge(&sketch);
        h
    }

    #[test]
    fn nearest_rank_percentiles() {
        let s = histogram([60, 120, 180, 240, 1200]).summary();
        assert_eq!(s.median_s, Some(180));
        assert_eq!(s.p90_s, Some(1200));
        assert_eq!(s.max_s, Some(1200));
        assert_eq!(s.above_target, 1);
        assert_eq!(s.share_above_target, Some(0.2));
        assert_eq!(histogram([10, 20, 30, 40]).percentile_s(50), Some(20));
        assert_eq!(WaitHistogram::default().summary().median_s, None);
    }

    /// Days added up from their sketches give the histogram of the whole period, exactly.
    #[test]
    fn sketches_add_up_to_the_histogram_of_all_their_waits() {
        let wait = |day: u64, i: u64| (i * 7919 + day * 104_729) % 9_000;
        let whole = histogram((0..3).flat_map(|day| (0..500).map(move |i| wait(day, i))));
        let mut merged = WaitHistogram::default();
        for day in 0..3u64 {
            let mut sketch = Sketch::default();
            for i in 0..500u64 {
                sketch.add(wait(day, i) * 1000, 900_000);
                if i == 250 {
                    sketch.seal();
                }
            }
            sketch.seal();
            let kept: Sketch =
                serde_json::from_str(&serde_json::to_string(&sketch).unwrap()).unwrap();
            merged.merge(&kept);
        }
        assert_eq!(merged.summary(), whole.summary());
        assert_eq!(merged.buckets, whole.buckets);
        assert_eq!(merged.percentile_s(99), whole.percentile_s(99));
    }

    #[test]
    fn long_waits_keep_bounded_buckets() {
        let h = histogram(0..200_000u64);
        assert!(h.buckets.len() <= (SECOND_BUCKETS + MINUTE_BUCKETS) as usize);
        assert_eq!(h.summary().max_s, Some(199_999));
        assert_eq!(h.percentile_s(1), Some(1999));
    }
}
