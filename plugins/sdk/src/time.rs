//! Vendor time formats → RFC 3339 UTC, without a date library (plugins stay small and the
//! arithmetic is the proleptic-Gregorian days-from-civil algorithm, exact for all years we see).
//!
//! Accepted: `2021-07-01T07:52:17+00:00`, `2021-03-04T11:37:27.836272Z`,
//! `2024-05-29 10:48:27.364000+00:00` (space separator), zone-less `2018-12-21 21:03:47`,
//! `2023-10-11T10:52:42.469`, offsets `+0530`/`+05`, and Unix seconds or milliseconds.

/// A parsed instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parsed {
    /// Seconds since the Unix epoch, UTC.
    pub seconds: i64,
    /// Sub-second part.
    pub nanos: u32,
    /// Whether the text carried a zone (`Z` or an offset); if not, it was read as UTC.
    pub explicit_zone: bool,
}

impl Parsed {
    /// RFC 3339 in UTC.
    pub fn to_rfc3339(&self) -> String {
        format_rfc3339(self.seconds, self.nanos)
    }
}

/// Days since 1970-01-01 of a civil date.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Formats an instant as RFC 3339 UTC with the shortest of 0, 3, 6 or 9 fractional digits
/// that represents it exactly.
pub fn format_rfc3339(seconds: i64, nanos: u32) -> String {
    let days = seconds.div_euclid(86_400);
    let secs_of_day = seconds.rem_euclid(86_400);
    let (y, mo, d) = civil_from_days(days);
    let (h, mi, s) = (secs_of_day / 3600, secs_of_day % 3600 / 60, secs_of_day % 60);
    let frac = if nanos == 0 {
        String::new()
    } else if nanos.is_multiple_of(1_000_000) {
        format!(".{:03}", nanos / 1_000_000)
    } else if nanos.is_multiple_of(1_000) {
        format!(".{:06}", nanos / 1_000)
    } else {
        format!(".{nanos:09}")
    };
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{frac}Z")
}

fn number(text: &str, len: usize, what: &str) -> Result<u32, String> {
    if text.len() != len || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("expected {len}-digit {what}, found `{text}`"));
    }
    text.parse().map_err(|_| format!("bad {what} `{text}`"))
}

/// Parses an ISO 8601 / RFC 3339 date-time (see the module docs for the accepted forms).
pub fn parse(text: &str) -> Result<Parsed, String> {
    let t = text.trim();
    let err = |why: String| format!("unrecognised time `{text}`: {why}");
    if t.len() < 19 {
        return Err(err("too short".into()));
    }
    // Every form accepted is ASCII; checking it first makes each byte offset below a char
    // boundary (a stray `é` or U+FFFD at byte 10 would otherwise panic `split_at`).
    if !t.is_ascii() {
        return Err(err("not ASCII".into()));
    }
    let (date, rest) = t.split_at(10);
    let mut parts = date.split('-');
    let (Some(y), Some(mo), Some(d), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(err("date is not YYYY-MM-DD".into()));
    };
    let y = i64::from(number(y, 4, "year").map_err(err)?);
    let mo = number(mo, 2, "month").map_err(err)?;
    let d = number(d, 2, "day").map_err(err)?;
    if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) {
        return Err(err("no such date".into()));
    }
    let rest = rest
        .strip_prefix(['T', 't', ' '])
        .ok_or_else(|| err("no `T` or space before the time".into()))?;
    if rest.len() < 8 {
        return Err(err("time is not HH:MM:SS".into()));
    }
    let (hms, mut rest) = rest.split_at(8);
    let h = number(&hms[0..2], 2, "hour").map_err(err)?;
    let mi = number(&hms[3..5], 2, "minute").map_err(err)?;
    let s = number(&hms[6..8], 2, "second").map_err(err)?;
    if &hms[2..3] != ":" || &hms[5..6] != ":" || h > 23 || mi > 59 || s > 60 {
        return Err(err("time is not HH:MM:SS".into()));
    }
    let mut nanos = 0u32;
    if let Some(frac) = rest.strip_prefix(['.', ',']) {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(err("empty fraction".into()));
        }
        let kept = &frac[..digits.min(9)];
        nanos = kept.parse::<u32>().map_err(|_| err("bad fraction".into()))? * 10u32.pow(9 - kept.len() as u32);
        rest = &frac[digits..];
    }
    let (offset_secs, explicit_zone) = match rest {
        "" => (0, false),
        "Z" | "z" => (0, true),
        zone => (parse_offset(zone).map_err(err)?, true),
    };
    // A leap second (:60) folds into the next second, as most systems do.
    let seconds = days_from_civil(y, mo, d) * 86_400 + i64::from(h * 3600 + mi * 60 + s) - offset_secs;
    Ok(Parsed {
        seconds,
        nanos,
        explicit_zone,
    })
}

fn parse_offset(zone: &str) -> Result<i64, String> {
    let (sign, digits) = match zone.as_bytes().first() {
        Some(b'+') => (1, &zone[1..]),
        Some(b'-') => (-1, &zone[1..]),
        _ => return Err(format!("bad zone `{zone}`")),
    };
    let compact: String = digits.chars().filter(|c| *c != ':').collect();
    let (h, m) = match compact.len() {
        2 => (number(&compact, 2, "offset hour")?, 0),
        4 => (
            number(&compact[..2], 2, "offset hour")?,
            number(&compact[2..], 2, "offset minute")?,
        ),
        _ => return Err(format!("bad zone `{zone}`")),
    };
    if h > 23 || m > 59 {
        return Err(format!("bad zone `{zone}`"));
    }
    Ok(sign * i64::from(h * 3600 + m * 60))
}

/// Unix time given as a number: values above 10^11 can only be milliseconds (10^11 seconds is
/// the year 5138), so they are read as such; the flag says which was used.
pub fn from_unix(value: f64) -> Option<(Parsed, bool)> {
    if !value.is_finite() || value < 0.0 {
        return None;
    }
    let millis = value > 1e11;
    // Split whole and fractional parts before scaling: scaling first would push the value past
    // f64's 53-bit integer precision and invent digits.
    let (seconds, nanos) = if millis {
        let ms = value.round() as i64;
        (ms.div_euclid(1000), (ms.rem_euclid(1000) * 1_000_000) as u32)
    } else {
        let whole = value.trunc();
        let nanos = ((value - whole) * 1e9).round().min(999_999_999.0) as u32;
        (whole as i64, nanos)
    };
    Some((
        Parsed {
            seconds,
            nanos,
            explicit_zone: true,
        },
        millis,
    ))
}

/// Minutes between a local wall time and the UTC time of the same instant (`local − utc`),
/// rounded to the quarter hour as real zone offsets are.
pub fn offset_minutes(local: &Parsed, utc: &Parsed) -> i32 {
    let diff = local.seconds - utc.seconds;
    ((diff as f64 / 900.0).round() * 15.0) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rfc(text: &str) -> String {
        parse(text).unwrap().to_rfc3339()
    }

    #[test]
    fn vendor_formats() {
        assert_eq!(rfc("2021-07-01T07:52:17+00:00"), "2021-07-01T07:52:17Z");
        assert_eq!(rfc("2021-03-04T11:37:27.836272Z"), "2021-03-04T11:37:27.836272Z");
        assert_eq!(rfc("2024-05-29 10:48:27.364000+00:00"), "2024-05-29T10:48:27.364Z");
        assert_eq!(rfc("2018-12-22 08:03:47+11:00"), "2018-12-21T21:03:47Z");
        assert_eq!(rfc("2023-10-11T10:52:42.4"), "2023-10-11T10:52:42.400Z");
        assert_eq!(rfc("2020-01-01T00:30:00-0130"), "2020-01-01T02:00:00Z");
        assert!(!parse("2018-12-21 21:03:47").unwrap().explicit_zone);
        assert!(parse("2021-07-01T07:52:17+00:00").unwrap().explicit_zone);
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "yesterday",
            "2021-13-01T00:00:00Z",
            "2021-02-29T00:00:00Z",
            "2021-07-01X07:52:17",
            "2021-07-01T07:52:17+0",
            // Non-ASCII where a byte offset is sliced (found by fuzzing the NoahFace
            // normalizer: a percent-decoded `%A3` became U+FFFD inside the time).
            "2018-12-2\u{FFFD}08:30:47",
            "2018-12-22 08:30\u{FFFD}47",
            "2018-12-22 08:30:47\u{e9}",
            "2018-12-22 08:30:47.1\u{FFFD}",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert!(parse("2024-02-29T00:00:00Z").is_ok());
    }

    #[test]
    fn unix_seconds_and_millis() {
        let (p, ms) = from_unix(1_660_625_866.0).unwrap();
        assert!(!ms);
        assert_eq!(p.to_rfc3339(), "2022-08-16T04:57:46Z");
        let (p, ms) = from_unix(1_684_127_133_123.0).unwrap();
        assert!(ms);
        assert_eq!(p.to_rfc3339(), "2023-05-15T05:05:33.123Z");
    }

    #[test]
    fn civil_round_trip() {
        for days in [-719_468, -1, 0, 1, 11_016, 19_000, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn offsets_from_local_and_utc() {
        let utc = parse("2018-12-21 21:03:47").unwrap();
        let local = parse("2018-12-22 08:03:47").unwrap();
        assert_eq!(offset_minutes(&local, &utc), 660);
    }
}
