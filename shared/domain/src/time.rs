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
}
