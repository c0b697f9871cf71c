//! Working days, for due dates: processing times are promised in working days, so weekends and
//! the deployment's public holidays do not count.

use std::collections::BTreeSet;

use chrono::{Datelike, Days, NaiveDate, Weekday};

/// The public holidays a deployment configured.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Holidays(pub BTreeSet<NaiveDate>);

impl Holidays {
    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) && !self.0.contains(&day)
    }

    /// The day a result is due when `days` working days are promised from `intake`: the
    /// intake day itself does not count; zero days means the same day.
    pub fn due_date(&self, intake: NaiveDate, days: u32) -> NaiveDate {
        let mut day = intake;
        let mut left = days;
        while left > 0 {
            day = day + Days::new(1);
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        day
    }

    /// Working days after `due` up to and including `today` (zero when not late).
    pub fn working_days_late(&self, due: NaiveDate, today: NaiveDate) -> u32 {
        let mut late = 0;
        let mut day = due;
        while day < today {
            day = day + Days::new(1);
            if self.is_working_day(day) {
                late += 1;
            }
        }
        late
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn skips_weekends_and_holidays() {
        let none = Holidays::default();
        // Friday 2026-11-27 + 1 working day = Monday 30th.
        assert_eq!(none.due_date(d(2026, 11, 27), 1), d(2026, 11, 30));
        assert_eq!(none.due_date(d(2026, 11, 27), 0), d(2026, 11, 27));
        assert_eq!(none.due_date(d(2026, 11, 28), 5), d(2026, 12, 4));
        let christmas = Holidays([d(2026, 12, 24), d(2026, 12, 25)].into_iter().collect());
        // Wednesday 23rd + 2: skip 24, 25 (holidays), 26-27 (weekend) -> Tuesday 29th.
        assert_eq!(christmas.due_date(d(2026, 12, 23), 2), d(2026, 12, 29));
        assert_eq!(
            christmas.working_days_late(d(2026, 12, 23), d(2026, 12, 29)),
            2
        );
        assert_eq!(
            christmas.working_days_late(d(2026, 12, 29), d(2026, 12, 23)),
            0
        );
    }
}
