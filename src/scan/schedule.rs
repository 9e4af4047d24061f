//! Time for `scan`: durations on the command line (`30m`, `1h30m`), the boundaries of
//! `--every` periods, and report paths with strftime fields, all in the machine's local time
//! zone (what an admin reads on a clock and in a cron table).
//!
//! Periods that divide a day are aligned to local midnight, so `--every 1h` ends its periods at
//! 11:00, 12:00... whenever it was started, and `reports/%Y-%m-%d_%H%M.json` names each file after
//! the start of its period. Other periods run from the start of the scan.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use jiff::tz::TimeZone;
use jiff::Timestamp;

const DAY_SECS: u64 = 86_400;

/// Parses `90s`, `30m`, `1h`, `1h30m`, `2d` (a bare number is seconds).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("`{text}` is not a duration (examples: 90s, 30m, 1h, 1h30m, 1d)");
    let text_trim = text.trim();
    if text_trim.is_empty() {
        return Err(bad());
    }
    if let Ok(secs) = text_trim.parse::<u64>() {
        return Ok(Duration::from_secs(secs));
    }
    let mut total: u64 = 0;
    let mut number: Option<u64> = None;
    for c in text_trim.chars() {
        if let Some(d) = c.to_digit(10) {
            number = Some(
                number
                    .unwrap_or(0)
                    .checked_mul(10)
                    .and_then(|n| n.checked_add(u64::from(d)))
                    .ok_or_else(bad)?,
            );
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => DAY_SECS,
            _ => return Err(bad()),
        };
        let n = number.take().ok_or_else(bad)?;
        total = n
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(bad)?;
    }
    if number.is_some() {
        // Trailing digits without a unit (`1h30`).
        return Err(bad());
    }
    Ok(Duration::from_secs(total))
}

fn timestamp(at: SystemTime) -> Timestamp {
    Timestamp::try_from(at).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The end of the period that contains `now`.
pub fn next_boundary(now: SystemTime, every: Duration) -> SystemTime {
    let every_secs = every.as_secs().max(1);
    if DAY_SECS.is_multiple_of(every_secs) {
        let ts = timestamp(now);
        if let Ok(midnight) = ts.to_zoned_datetime(TimeZone::system()).start_of_day() {
            let midnight = midnight.timestamp().as_second();
            let since = u64::try_from(ts.as_second().saturating_sub(midnight)).unwrap_or(0);
            let ends = (since / every_secs + 1) * every_secs;
            let secs = u64::try_from(midnight).unwrap_or(0).saturating_add(ends);
            return SystemTime::UNIX_EPOCH + Duration::from_secs(secs);
        }
    }
    now + Duration::from_secs(every_secs)
}

/// The report path for a period starting at `at`: strftime fields in local time.
pub fn render_path(pattern: &str, at: SystemTime) -> Result<PathBuf, String> {
    let zoned = timestamp(at).to_zoned_datetime(TimeZone::system());
    jiff::fmt::strtime::format(pattern, &zoned)
        .map(PathBuf::from)
        .map_err(|e| format!("output pattern `{pattern}`: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(172_800)));
        assert_eq!(parse_duration("45"), Ok(Duration::from_secs(45)));
        for bad in ["", "h", "1x", "1h30", "99999999999999999999d", "-5m"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn boundaries_align_to_the_local_day() {
        let now = SystemTime::now();
        let hour = Duration::from_secs(3600);
        let next = next_boundary(now, hour);
        let ahead = next.duration_since(now).unwrap();
        assert!(ahead > Duration::ZERO && ahead <= hour, "{ahead:?}");
        let local = timestamp(next).to_zoned_datetime(TimeZone::system());
        assert_eq!((local.minute(), local.second()), (0, 0));
        // Seven minutes do not divide a day: periods run from now.
        let seven = Duration::from_secs(420);
        assert_eq!(next_boundary(now, seven), now + seven);
        // A boundary is never `now` itself.
        assert!(next_boundary(next, hour) > next);
    }

    #[test]
    fn paths() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_764_000_000);
        let path = render_path("reports/%Y-%m-%d_%H%M.json", at).unwrap();
        let text = path.to_string_lossy().to_string();
        assert!(text.starts_with("reports/2025-11-2"), "{text}");
        assert!(text.ends_with(".json") && text.len() == "reports/2025-11-24_1640.json".len());
        assert_eq!(
            render_path("plain.json", at).unwrap(),
            PathBuf::from("plain.json")
        );
        assert!(render_path("bad-%!.json", at).is_err());
    }
}
