//! The one clock: wall time in milliseconds since the Unix epoch, and the UTC day it falls in
//! (the daily budget's unit).

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch (0 if the system clock is before it).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Today's date in UTC, `YYYY-MM-DD`.
pub fn today() -> String {
    day_of(now_ms())
}

/// The UTC date of a time, `YYYY-MM-DD`.
pub fn day_of(ms: i64) -> String {
    let mut day = protocol::format_utc(ms);
    day.truncate(10);
    day
}

/// Seconds until the next UTC midnight, when the daily budget starts afresh (at least 1).
pub fn seconds_to_next_day() -> u64 {
    let into_day = now_ms().rem_euclid(86_400_000);
    u64::try_from((86_400_000 - into_day) / 1000)
        .unwrap_or(1)
        .max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_utc_dates() {
        assert_eq!(day_of(0), "1970-01-01");
        assert_eq!(day_of(86_400_000 - 1), "1970-01-01");
        assert_eq!(day_of(1_795_305_600_000), "2026-11-22");
        assert!((1..=86_400).contains(&seconds_to_next_day()));
    }
}
