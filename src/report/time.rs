//! Capture timestamps (nanoseconds since the Unix epoch) as RFC 3339 UTC text.

/// `2026-11-24T09:05:01.250Z` (milliseconds; the report needs no finer grain).
pub fn rfc3339(nanos: u64) -> String {
    let secs = nanos / 1_000_000_000;
    let millis = (nanos % 1_000_000_000) / 1_000_000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    let (h, min, sec) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    // Every u64 of nanoseconds falls in the years 1970 to 2554.
    let year = u64::try_from(y).unwrap_or(0).min(9999);
    // Digit by digit: a report formats two per row, and `format!` took a third of building one.
    let mut text = String::with_capacity(24);
    push_digits(&mut text, year, 4);
    for (separator, value, width) in [
        ('-', u64::from(m), 2),
        ('-', u64::from(d), 2),
        ('T', h, 2),
        (':', min, 2),
        (':', sec, 2),
        ('.', millis, 3),
    ] {
        text.push(separator);
        push_digits(&mut text, value, width);
    }
    text.push('Z');
    text
}

/// Appends the last `width` decimal digits of `value`, zero-padded.
fn push_digits(text: &mut String, value: u64, width: u32) {
    for place in (0..width).rev() {
        let digit = (value / 10u64.pow(place)) % 10;
        text.push(char::from(b'0' + digit as u8));
    }
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        // 2026-11-24T08:55:00Z
        assert_eq!(
            rfc3339(1_795_510_500_123_456_789),
            "2026-11-24T08:55:00.123Z"
        );
        // Leap day.
        assert_eq!(rfc3339(951_782_400_000_000_000), "2000-02-29T00:00:00.000Z");
        // The last instant a u64 of nanoseconds holds.
        assert_eq!(rfc3339(u64::MAX), "2554-07-21T23:34:33.709Z");
        // Every field at its widest and narrowest, against `format!`.
        for nanos in [
            1_000_000_000 * 86_399 + 999_999_999,
            1_709_251_199_001_000_000,
            4_102_444_800_000_000_000,
        ] {
            let secs = nanos / 1_000_000_000;
            let (y, m, d) = civil_from_days((secs / 86_400) as i64);
            let rem = secs % 86_400;
            let want = format!(
                "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
                rem / 3600,
                (rem % 3600) / 60,
                rem % 60,
                (nanos % 1_000_000_000) / 1_000_000
            );
            assert_eq!(rfc3339(nanos), want);
        }
    }
}
