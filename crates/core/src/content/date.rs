//! Reading post dates: front-matter values, `YYYY-MM-DD-` file names and `/YYYY/MM/DD/` permalinks.

use chrono::{DateTime, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use chrono_tz::Tz;

/// The forms a front-matter date may take, for error messages.
pub const EXPECTED: &str = "expected YYYY-MM-DD, YYYY-MM-DD HH:MM[:SS] [±HH:MM], RFC 3339 or `Month D, YYYY`";

/// Parses a front-matter date. Values without an offset are read in `zone`.
pub fn parse(value: &str, zone: Tz) -> Option<DateTime<FixedOffset>> {
    let s = value.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
        return Some(dt);
    }
    if let Some(date) =
        ["%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y"].iter().find_map(|f| NaiveDate::parse_from_str(s, f).ok())
    {
        return local(date.and_time(NaiveTime::MIN), zone);
    }
    let (date_part, rest) = match s.find([' ', 'T', 't']) {
        Some(i) => (&s[..i], s[i + 1..].trim()),
        None => (s, ""),
    };
    let date = parse_ymd(date_part)?;
    if rest.is_empty() {
        return local(date.and_time(NaiveTime::MIN), zone);
    }
    let (time_part, offset_part) = split_offset(rest);
    let time = ["%H:%M:%S%.f", "%H:%M"].iter().find_map(|f| NaiveTime::parse_from_str(time_part, f).ok())?;
    let naive = date.and_time(time);
    match offset_part {
        None => local(naive, zone),
        Some(offset) => {
            let offset = parse_offset(offset)?;
            offset.from_local_datetime(&naive).single()
        }
    }
}

/// The date in a `YYYY-MM-DD-slug` file stem, and the slug after it.
pub fn from_file_stem(stem: &str) -> Option<(NaiveDate, &str)> {
    let mut parts = stem.splitn(4, '-');
    let (y, m, d, slug) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if y.len() != 4 || !(1..=2).contains(&m.len()) || !(1..=2).contains(&d.len()) || slug.is_empty() {
        return None;
    }
    Some((ymd(y, m, d)?, slug))
}

/// The date in the first `/YYYY/MM/DD/` run of a permalink.
pub fn from_permalink(permalink: &str) -> Option<NaiveDate> {
    let parts: Vec<&str> = permalink.split('/').collect();
    parts.windows(4).find_map(|w| {
        let (y, m, d) = (w[0], w[1], w[2]);
        (y.len() == 4 && m.len() == 2 && d.len() == 2).then(|| ymd(y, m, d)).flatten()
    })
}

/// Midnight of `date` in `zone`.
pub fn start_of_day(date: NaiveDate, zone: Tz) -> Option<DateTime<FixedOffset>> {
    local(date.and_time(NaiveTime::MIN), zone)
}

fn parse_ymd(s: &str) -> Option<NaiveDate> {
    let mut parts = s.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 {
        return None;
    }
    ymd(y, m, d)
}

fn ymd(y: &str, m: &str, d: &str) -> Option<NaiveDate> {
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !(all_digits(y) && all_digits(m) && all_digits(d)) {
        return None;
    }
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

/// Splits `10:00:00 -0700`, `10:00:00-07:00`, `10:00Z` into time and offset.
fn split_offset(s: &str) -> (&str, Option<&str>) {
    if let Some(time) = s.strip_suffix(['Z', 'z']) {
        return (time.trim(), Some("+00:00"));
    }
    match s.rfind(['+', '-']) {
        Some(i) if i > 0 => (s[..i].trim(), Some(s[i..].trim())),
        _ => (s, None),
    }
}

/// `+02:00`, `-0700`, `+05`.
fn parse_offset(s: &str) -> Option<FixedOffset> {
    let sign = match s.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digits: String = s[1..].chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m) = match digits.len() {
        2 => (digits.parse::<i32>().ok()?, 0),
        4 => (digits[..2].parse::<i32>().ok()?, digits[2..].parse::<i32>().ok()?),
        _ => return None,
    };
    if h > 23 || m > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

/// `naive` read in `zone`; in a gap (spring forward) the first valid instant after it.
fn local(naive: NaiveDateTime, zone: Tz) -> Option<DateTime<FixedOffset>> {
    let dt = match zone.from_local_datetime(&naive) {
        LocalResult::Single(dt) => dt,
        LocalResult::Ambiguous(earliest, _) => earliest,
        LocalResult::None => zone.from_local_datetime(&(naive + chrono::Duration::hours(1))).earliest()?,
    };
    Some(dt.fixed_offset())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, zone: Tz, expected: Option<&str>) {
        assert_eq!(parse(input, zone).map(|d| d.to_rfc3339()), expected.map(str::to_owned), "{input}");
    }

    #[test]
    fn front_matter_dates() {
        let utc = Tz::UTC;
        let london = chrono_tz::Europe::London;
        check("2014-12-03", london, Some("2014-12-03T00:00:00+00:00"));
        check("2014-12-3", utc, Some("2014-12-03T00:00:00+00:00"));
        check("2020-05-18 17:45:00", london, Some("2020-05-18T17:45:00+01:00"));
        check("2015-12-08 10:00", utc, Some("2015-12-08T10:00:00+00:00"));
        check("2016-10-06 11:10:38 -0700", utc, Some("2016-10-06T11:10:38-07:00"));
        check("2021-06-01T08:00:00+02:00", london, Some("2021-06-01T08:00:00+02:00"));
        check("2020-07-07T00:00:00.000Z", london, Some("2020-07-07T00:00:00+00:00"));
        check("2016-06-17 12:00-04:00", utc, Some("2016-06-17T12:00:00-04:00"));
        check("October 21, 2021", utc, Some("2021-10-21T00:00:00+00:00"));
        check("Oct 1, 2021", utc, Some("2021-10-01T00:00:00+00:00"));
        check("1 October 2021", utc, Some("2021-10-01T00:00:00+00:00"));
        check("May 1", utc, None);
        check("2016-13-45", utc, None);
        check("2016-02-30", utc, None);
        check("", utc, None);
    }

    #[test]
    fn daylight_saving_gaps_move_forward() {
        check("2021-03-28 01:30", chrono_tz::Europe::London, Some("2021-03-28T02:30:00+01:00"));
    }

    #[test]
    fn file_names_and_permalinks() {
        assert_eq!(
            from_file_stem("2014-12-03-this-is-ops"),
            Some((NaiveDate::from_ymd_opt(2014, 12, 3).unwrap(), "this-is-ops"))
        );
        assert_eq!(from_file_stem("2016-1-5-x").map(|(d, _)| d), NaiveDate::from_ymd_opt(2016, 1, 5));
        assert_eq!(from_file_stem("welcome-to-ops"), None);
        assert_eq!(from_file_stem("2016-13-45-x"), None);
        assert_eq!(
            from_permalink("/operations/2014/12/03/this-is-operations.html"),
            NaiveDate::from_ymd_opt(2014, 12, 3)
        );
        assert_eq!(from_permalink("/2014/12/03/"), NaiveDate::from_ymd_opt(2014, 12, 3));
        assert_eq!(from_permalink("/about/"), None);
    }
}
