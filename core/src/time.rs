//! Time as the core sees it: Unix milliseconds passed in by the caller (the Worker reads
//! `Date.now()`, tests pass fixed values), RFC 3339 both ways, and how far an instant is from
//! now in words ("in 42 min", "3 h ago") for the dashboard and the CLI.

/// Milliseconds since the Unix epoch.
pub type UnixMillis = i64;

/// Formats `ms` as an RFC 3339 UTC timestamp with second precision, e.g.
/// `2026-11-26T10:50:00Z`. Uses the days-to-civil algorithm (proleptic Gregorian calendar).
pub fn rfc3339(ms: UnixMillis) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (h, m, s) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}Z")
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`, the inverse of [`rfc3339`]; `None` for
/// anything else.
pub fn parse_rfc3339(text: &str) -> Option<UnixMillis> {
    let b = text.as_bytes();
    let at = |i: usize| b.get(i).copied();
    if b.len() < 20
        || at(4) != Some(b'-')
        || at(7) != Some(b'-')
        || !matches!(at(10), Some(b'T' | b't' | b' '))
        || at(13) != Some(b':')
        || at(16) != Some(b':')
    {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let s = text.get(range)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    if second > 60 {
        return None;
    }
    let mut rest = text.get(19..)?;
    let mut millis = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let padded = format!("{:0<3}", frac.get(..digits.min(3))?);
        millis = padded.parse::<i64>().ok()?;
        rest = frac.get(digits..)?;
    }
    let offset_minutes = match rest {
        "Z" | "z" => 0,
        _ => {
            let (sign, hm) = if let Some(hm) = rest.strip_prefix('+') {
                (1, hm)
            } else {
                (-1, rest.strip_prefix('-')?)
            };
            let (h, m) = hm.split_once(':')?;
            if h.len() != 2 || m.len() != 2 {
                return None;
            }
            sign * (h.parse::<i64>().ok()? * 60 + m.parse::<i64>().ok()?)
        }
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Some(secs * 1000 + millis)
}

/// Howard Hinnant's days_from_civil: days since 1970-01-01 in the proleptic Gregorian calendar.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// "in 42 min", "3 h ago", "just now": how far `at` is from `now`. The dashboard's script
/// repeats this rule to keep its times current; the two are tested against the same cases.
pub fn relative(at: UnixMillis, now: UnixMillis) -> String {
    let future = at > now;
    let delta = (at - now) / 1000;
    let span = delta.unsigned_abs();
    if span < 45 {
        return if future { "in a moment" } else { "just now" }.to_owned();
    }
    let text = if span < 90 * 60 {
        format!("{} min", (span + 30) / 60)
    } else if span < 36 * 3600 {
        format!("{} h", (span + 1800) / 3600)
    } else {
        format!("{} days", (span + 43_200) / 86_400)
    };
    if future {
        format!("in {text}")
    } else {
        format!("{text} ago")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_795_690_200_999), "2026-11-26T10:50:00Z");
        assert_eq!(rfc3339(-1000), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn parsing_inverts_formatting() {
        for ms in [
            0,
            951_782_400_000,
            1_795_690_200_000,
            -1000,
            4_102_444_799_000,
        ] {
            assert_eq!(parse_rfc3339(&rfc3339(ms)), Some(ms), "{}", rfc3339(ms));
        }
    }

    #[test]
    fn fractions_and_offsets() {
        let base = parse_rfc3339("2026-11-26T10:50:00Z").expect("base");
        assert_eq!(parse_rfc3339("2026-11-26T10:50:00.250Z"), Some(base + 250));
        assert_eq!(parse_rfc3339("2026-11-26T10:50:00.5Z"), Some(base + 500));
        assert_eq!(parse_rfc3339("2026-11-26T11:50:00+01:00"), Some(base));
        assert_eq!(parse_rfc3339("2026-11-26T09:50:00-01:00"), Some(base));
        for bad in [
            "",
            "2026-11-26",
            "2026-13-26T10:50:00Z",
            "2026-11-26T10:50:00",
            "x026-11-26T10:50:00Z",
            "2026-11-26T10:50:00.Z",
            "2026-11-26T10:50:00+1:00",
            "2026-11-26T10:50:00*01:00",
            "2026-11-26T10:50:00Zjunk",
            "2026-11-26T10:50:0é0Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn relative_times() {
        let now = 1_000_000_000;
        assert_eq!(relative(now + 10_000, now), "in a moment");
        assert_eq!(relative(now - 10_000, now), "just now");
        // Within the same second: a past instant is never "in a moment".
        assert_eq!(relative(now - 500, now), "just now");
        assert_eq!(relative(now, now), "just now");
        assert_eq!(relative(now + 42 * 60_000, now), "in 42 min");
        assert_eq!(relative(now - 3 * 3_600_000, now), "3 h ago");
        assert_eq!(relative(now + 3 * 86_400_000, now), "in 3 days");
    }
}
