//! Points in time as epoch milliseconds: Walmart's order dates are epoch ms, DynamoDB TTL wants epoch
//! seconds and Commerce speaks `YYYY-MM-DD HH:MM:SS` in UTC. One type converts between them all.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::{
    OffsetDateTime, PrimitiveDateTime, format_description::well_known::Rfc3339, macros::format_description,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid timestamp {value:?}: expected {expected}")]
pub struct InvalidTimestamp {
    pub value: String,
    pub expected: &'static str,
}

impl Timestamp {
    pub const EPOCH: Timestamp = Timestamp(0);

    pub const fn from_millis(ms: i64) -> Self {
        Self(ms)
    }

    pub const fn millis(self) -> i64 {
        self.0
    }

    pub const fn seconds(self) -> i64 {
        self.0.div_euclid(1000)
    }

    pub fn plus(self, d: Duration) -> Self {
        Self(
            self.0
                .saturating_add(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
        )
    }

    pub fn minus(self, d: Duration) -> Self {
        Self(
            self.0
                .saturating_sub(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
        )
    }

    /// Time from `earlier` to `self`, zero if `earlier` is later.
    pub fn since(self, earlier: Timestamp) -> Duration {
        Duration::from_millis(u64::try_from(self.0 - earlier.0).unwrap_or(0))
    }

    fn to_offset(self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0) * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// RFC 3339 in UTC with milliseconds, e.g. `2026-11-27T10:00:00.000Z`.
    pub fn to_rfc3339(self) -> String {
        let dt = self.to_offset();
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            dt.year(),
            u8::from(dt.month()),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second(),
            dt.millisecond()
        )
    }

    pub fn parse_rfc3339(raw: &str) -> Result<Self, InvalidTimestamp> {
        OffsetDateTime::parse(raw, &Rfc3339)
            .map(|dt| Self((dt.unix_timestamp_nanos() / 1_000_000) as i64))
            .map_err(|_| InvalidTimestamp {
                value: raw.to_owned(),
                expected: "RFC 3339",
            })
    }

    /// Commerce's `YYYY-MM-DD HH:MM:SS` (UTC, whole seconds).
    pub fn to_commerce(self) -> String {
        let dt = self.to_offset();
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            dt.year(),
            u8::from(dt.month()),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second()
        )
    }

    pub fn parse_commerce(raw: &str) -> Result<Self, InvalidTimestamp> {
        let format = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
        PrimitiveDateTime::parse(raw, &format)
            .map(|dt| Self(dt.assume_utc().unix_timestamp() * 1000))
            .map_err(|_| InvalidTimestamp {
                value: raw.to_owned(),
                expected: "YYYY-MM-DD HH:MM:SS",
            })
    }
}

/// A calendar day as Magento keeps a date attribute (`special_from_date`: `2026-01-31` or
/// `2026-01-31 00:00:00`): a day in the store's time zone, not an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StoreDate(jiff::civil::Date);

impl StoreDate {
    /// Reads the date part of Magento's date value (a time part, always `00:00:00`, is ignored).
    pub fn parse(raw: &str) -> Result<Self, InvalidTimestamp> {
        let invalid = || InvalidTimestamp {
            value: raw.to_owned(),
            expected: "YYYY-MM-DD[ HH:MM:SS]",
        };
        let day = raw.trim().get(..10).ok_or_else(invalid)?;
        day.parse::<jiff::civil::Date>().map(Self).map_err(|_| invalid())
    }

    /// The day after.
    pub fn next(self) -> Self {
        Self(self.0.tomorrow().unwrap_or(self.0))
    }
}

/// The store's time zone (`general/locale/timezone`, an IANA name such as `America/Chicago`).
/// Magento compares date attributes with the store's current day (`Timezone::isScopeDateInInterval`),
/// so a special price dated the 16th starts at midnight of the 16th where the store is.
#[derive(Debug, Clone)]
pub struct StoreTimeZone {
    name: String,
    zone: jiff::tz::TimeZone,
}

/// Zones are the same when their names are: the rules come from the one bundled database.
impl PartialEq for StoreTimeZone {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for StoreTimeZone {}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown time zone {0:?}: expected an IANA name such as America/Chicago")]
pub struct UnknownTimeZone(pub String);

impl StoreTimeZone {
    pub fn named(name: &str) -> Result<Self, UnknownTimeZone> {
        jiff::tz::TimeZone::get(name)
            .map(|zone| Self {
                name: name.to_owned(),
                zone,
            })
            .map_err(|_| UnknownTimeZone(name.to_owned()))
    }

    pub fn utc() -> Self {
        Self {
            name: "UTC".to_owned(),
            zone: jiff::tz::TimeZone::UTC,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The instant the store's day `date` begins (after a daylight-saving gap at midnight, the
    /// first instant that exists).
    pub fn start_of(&self, date: StoreDate) -> Timestamp {
        date.0
            .to_datetime(jiff::civil::Time::midnight())
            .to_zoned(self.zone.clone())
            .map(|zoned| Timestamp(zoned.timestamp().as_millisecond()))
            .unwrap_or(Timestamp::EPOCH)
    }

    /// The last millisecond of the store's day `date`.
    pub fn end_of(&self, date: StoreDate) -> Timestamp {
        self.start_of(date.next()).minus(Duration::from_millis(1))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_round_trip() {
        let t = Timestamp::from_millis(1_764_237_600_123);
        assert_eq!(t.to_rfc3339(), "2025-11-27T10:00:00.123Z");
        assert_eq!(Timestamp::parse_rfc3339(&t.to_rfc3339()).unwrap(), t);
        assert_eq!(t.to_commerce(), "2025-11-27 10:00:00");
        assert_eq!(
            Timestamp::parse_commerce("2025-11-27 10:00:00").unwrap().millis(),
            1_764_237_600_000
        );
        assert!(Timestamp::parse_commerce("yesterday").is_err());
        assert_eq!(t.plus(Duration::from_secs(1)).since(t), Duration::from_secs(1));
        assert_eq!(t.since(t.plus(Duration::from_secs(1))), Duration::ZERO);
    }

    #[test]
    fn store_days_begin_and_end_at_the_stores_midnight() {
        let chicago = StoreTimeZone::named("America/Chicago").unwrap();
        let day = StoreDate::parse("2027-01-16 00:00:00").unwrap();
        assert_eq!(day, StoreDate::parse("2027-01-16").unwrap());
        // Winter: UTC-6.
        assert_eq!(
            chicago.start_of(day),
            Timestamp::parse_commerce("2027-01-16 06:00:00").unwrap()
        );
        assert_eq!(
            chicago.end_of(day),
            Timestamp::parse_commerce("2027-01-17 05:59:59")
                .unwrap()
                .plus(Duration::from_millis(999))
        );
        // Summer: UTC-5; the day of the spring change is 23 hours long.
        let summer = StoreDate::parse("2027-07-01").unwrap();
        assert_eq!(
            chicago.start_of(summer),
            Timestamp::parse_commerce("2027-07-01 05:00:00").unwrap()
        );
        let spring = StoreDate::parse("2027-03-14").unwrap();
        assert_eq!(
            chicago.start_of(spring.next()).since(chicago.start_of(spring)),
            Duration::from_secs(23 * 3600)
        );
        let utc = StoreTimeZone::utc();
        assert_eq!(
            utc.start_of(day),
            Timestamp::parse_commerce("2027-01-16 00:00:00").unwrap()
        );
        assert!(StoreTimeZone::named("Mars/Olympus").is_err());
        assert!(StoreDate::parse("16/01/2027").is_err());
    }
}
