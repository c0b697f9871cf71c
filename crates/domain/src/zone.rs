//! The centre's local time: days and hours as the people of the centre count them.
//!
//! Every moment is stored in UTC. A centre in Baku (UTC+4) that closes at 18:00 counts its
//! afternoon on the day it happened, and a centre in Paris counts its days across the two
//! daylight-saving changes; so each centre has an IANA time zone, and days, due dates, the
//! queue's day and the report's hours are read in it.

use std::fmt;
use std::str::FromStr;

use chrono::{
    DateTime, Days, LocalResult, NaiveDate, NaiveDateTime, TimeDelta, TimeZone, Timelike, Utc,
};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A centre's time zone, by its IANA name ("Europe/Paris", "Asia/Baku", "UTC").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zone(Tz);

/// A name that is not a time zone of the IANA database.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "'{0}' is not a time zone: give its IANA name, such as Europe/Paris, Africa/Dakar or Asia/Baku"
)]
pub struct UnknownZone(pub String);

impl Zone {
    pub const UTC: Zone = Zone(Tz::UTC);

    /// The IANA name.
    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    /// The local day an instant falls on.
    pub fn day_of(&self, instant: DateTime<Utc>) -> NaiveDate {
        instant.with_timezone(&self.0).date_naive()
    }

    /// The local hour (0 to 23) an instant falls in.
    pub fn hour_of(&self, instant: DateTime<Utc>) -> u32 {
        instant.with_timezone(&self.0).hour()
    }

    /// The local date and time of an instant, for display.
    pub fn local(&self, instant: DateTime<Utc>) -> NaiveDateTime {
        instant.with_timezone(&self.0).naive_local()
    }

    /// The first instant of a local day: its midnight, or where a change of clocks skips
    /// midnight, the first minute that exists.
    pub fn start_of(&self, day: NaiveDate) -> DateTime<Utc> {
        let midnight = day.and_time(chrono::NaiveTime::MIN);
        let mut local = midnight;
        // A change of clocks skips at most a day (Samoa skipped 30 December 2011).
        while local - midnight <= TimeDelta::hours(48) {
            match self.0.from_local_datetime(&local) {
                LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => {
                    return t.with_timezone(&Utc);
                }
                LocalResult::None => local += TimeDelta::minutes(15),
            }
        }
        midnight.and_utc()
    }

    /// The first instant after a local day.
    pub fn end_of(&self, day: NaiveDate) -> DateTime<Utc> {
        self.start_of(day + Days::new(1))
    }
}

impl Default for Zone {
    fn default() -> Self {
        Zone::UTC
    }
}

impl FromStr for Zone {
    type Err = UnknownZone;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        name.trim()
            .parse::<Tz>()
            .map(Zone)
            .map_err(|_| UnknownZone(name.to_owned()))
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Zone {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Zone {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for Zone {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Zone".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "An IANA time zone, such as Europe/Athens or Africa/Dakar.",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn names_are_checked() {
        assert_eq!(
            "Europe/Paris".parse::<Zone>().unwrap().name(),
            "Europe/Paris"
        );
        assert_eq!(" Asia/Baku ".parse::<Zone>().unwrap().name(), "Asia/Baku");
        let err = "Europe/Atlantis".parse::<Zone>().unwrap_err();
        assert!(
            err.to_string()
                .contains("'Europe/Atlantis' is not a time zone")
        );
        assert!("".parse::<Zone>().is_err());
    }

    #[test]
    fn an_evening_in_baku_is_the_same_day_there() {
        let baku: Zone = "Asia/Baku".parse().unwrap();
        // 17:30 in Baku is 13:30 UTC; 21:30 UTC is already the next day there.
        assert_eq!(baku.day_of(at("2026-03-10T13:30:00Z")), day(2026, 3, 10));
        assert_eq!(baku.hour_of(at("2026-03-10T13:30:00Z")), 17);
        assert_eq!(baku.day_of(at("2026-03-10T21:30:00Z")), day(2026, 3, 11));
        assert_eq!(baku.start_of(day(2026, 3, 11)), at("2026-03-10T20:00:00Z"));
    }

    #[test]
    fn paris_days_across_both_changes_of_clocks() {
        let paris: Zone = "Europe/Paris".parse().unwrap();
        // 29 March 2026: clocks go from 02:00 to 03:00; the day lasts 23 hours.
        let spring = day(2026, 3, 29);
        assert_eq!(paris.start_of(spring), at("2026-03-28T23:00:00Z"));
        assert_eq!(paris.end_of(spring), at("2026-03-29T22:00:00Z"));
        assert_eq!(paris.hour_of(at("2026-03-29T01:00:00Z")), 3);
        // 25 October 2026: clocks go from 03:00 back to 02:00; the day lasts 25 hours.
        let autumn = day(2026, 10, 25);
        assert_eq!(paris.start_of(autumn), at("2026-10-24T22:00:00Z"));
        assert_eq!(paris.end_of(autumn), at("2026-10-25T23:00:00Z"));
        assert_eq!(paris.day_of(at("2026-10-25T22:59:59Z")), autumn);
        assert_eq!(paris.day_of(at("2026-10-25T23:00:00Z")), day(2026, 10, 26));
    }

    #[test]
    fn a_midnight_that_does_not_exist_starts_the_day_at_the_first_minute_that_does() {
        // Chile moves its clocks at midnight: 6 September 2026 starts at 01:00 there.
        let santiago: Zone = "America/Santiago".parse().unwrap();
        let start = santiago.start_of(day(2026, 9, 6));
        assert_eq!(santiago.local(start).time().hour(), 1);
        assert_eq!(santiago.day_of(start), day(2026, 9, 6));
        // Samoa skipped 30 December 2011 altogether: that day starts when the next one does.
        let apia: Zone = "Pacific/Apia".parse().unwrap();
        assert_eq!(
            apia.start_of(day(2011, 12, 30)),
            apia.start_of(day(2011, 12, 31))
        );
    }
}
