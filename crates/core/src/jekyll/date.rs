//! Jekyll 4.3 post dates: front-matter `date` values (Psych, then Ruby `Time.parse`) and `DATE-SLUG.EXT` file names;
//! and, read more narrowly, the dates given to Liquid's Jekyll date filters ([`FilterDate`]).

use std::ops::RangeInclusive;

use chrono::{DateTime, Days, FixedOffset, NaiveDate, NaiveDateTime, Offset, TimeDelta, TimeZone, Utc};
use chrono_tz::{OffsetName, Tz};

/// How the YAML scalar holding the date was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quoting {
    /// Unquoted: YAML 1.1 (Psych) may read it as a timestamp, and a zoneless timestamp is UTC.
    Plain,
    /// Single- or double-quoted (or a block scalar): always a string, read by Ruby `Time.parse` in local time.
    Quoted,
}

/// Why a front-matter `date` is not one Jekyll reads the same on every build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DateError {
    /// Nothing but white space.
    Empty,
    /// More than 128 bytes, which Ruby's `Date._parse` refuses.
    TooLong,
    /// Nothing Ruby's `Time.parse` reads as a date or a time.
    Unparsable,
    /// A time without a date: Jekyll would take the day of the build.
    NoDate,
    /// A date without a year: Jekyll would take the year of the build.
    NoYear,
    /// A month, day, hour, minute or second that no date has.
    OutOfRange,
}

impl std::fmt::Display for DateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DateError::Empty => "empty date",
            DateError::TooLong => "not a date Jekyll can read (Ruby refuses more than 128 bytes)",
            DateError::Unparsable => "not a date Jekyll can read",
            DateError::NoDate => "no date part (Jekyll would take the day of the build): add the date",
            DateError::NoYear => "a date without a year (Jekyll would use the year of the build): add the year",
            DateError::OutOfRange => "not a date Jekyll can read (a field is out of range)",
        })
    }
}

impl std::error::Error for DateError {}

/// A post file name whose `DATE-` part names a day that does not exist (`2016-13-45-x.md`): Jekyll aborts the build.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileNameDateError {
    /// The date as the file name writes it.
    pub date: String,
}

impl std::fmt::Display for FileNameDateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the date {} in the file name cannot exist (Jekyll aborts the build)", self.date)
    }
}

impl std::error::Error for FileNameDateError {}

/// Reads a front-matter `date` as Jekyll 4.3 does (`zone` is its local time); Ok is that instant in `zone`'s offset.
pub fn parse(value: &str, quoting: Quoting, zone: Tz) -> Result<DateTime<FixedOffset>, DateError> {
    let text = value.trim();
    if text.is_empty() {
        return Err(DateError::Empty);
    }
    // Jekyll runs `Time.parse(value.to_s)`. A plain scalar Psych read as a Time prints back as an unambiguous
    // instant (without the fraction); a Psych Date prints back as the same `YYYY-MM-DD`, so it needs no special case.
    let instant = match quoting {
        Quoting::Plain => match yaml_timestamp(text) {
            Some(t) => t,
            None => time_parse(text, zone)?,
        },
        Quoting::Quoted => time_parse(text, zone)?,
    };
    Ok(instant.with_timezone(&zone).fixed_offset())
}

/// A Jekyll post file name `DATE-SLUG.EXT` split into its parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PostName<'a> {
    /// The file-name date, read as Ruby does (`16-1-2` is 2016-01-02, `2016-02-30` rolls over to 2016-03-01).
    pub date: NaiveDate,
    /// Everything between the date and the last dot: never empty, may hold spaces and dots, never `/`.
    pub slug: &'a str,
    /// The text after the last dot, without the dot; never empty.
    pub ext: &'a str,
}

/// Splits a post file name (the last `/` component is used); Ok(None) if not `DATE-SLUG.EXT`, Err if DATE can't exist.
pub fn post_file_name(name: &str) -> Result<Option<PostName<'_>>, FileNameDateError> {
    // Jekyll's DATE_FILENAME_MATCHER: (\d{2,4}-\d{1,2}-\d{1,2})-([^/]*)(\.[^.]+)$. Its EntryFilter also skips
    // backup files ending in `~`; names starting with `.`, `_`, `#` or `~` cannot match anyway.
    let name = name.rsplit('/').next().unwrap_or(name);
    let b = name.as_bytes();
    let mut i = 0;
    for (min, max) in [(2, 4), (1, 2), (1, 2)] {
        let end = digits_from(b, i);
        if !(min..=max).contains(&(end - i)) || b.get(end) != Some(&b'-') {
            return Ok(None);
        }
        i = end + 1;
    }
    let (date_text, rest) = (&name[..i - 1], &name[i..]);
    let Some((slug, ext)) = rest.rsplit_once('.') else { return Ok(None) };
    if slug.is_empty() || ext.is_empty() || name.ends_with('~') {
        return Ok(None);
    }
    let f = date_parse(date_text);
    let date = match (f.year, f.mon, f.mday) {
        (Some(y), Some(m), Some(d)) => civil(y, m, d, 0, 0, 0, 0),
        _ => None,
    };
    match date {
        Some(t) => Ok(Some(PostName { date: t.date(), slug, ext })),
        None => Err(FileNameDateError { date: date_text.to_owned() }),
    }
}

/// End of the run of ASCII digits starting at `i`.
fn digits_from(b: &[u8], i: usize) -> usize {
    i + b.get(i..).unwrap_or_default().iter().take_while(|c| c.is_ascii_digit()).count()
}

/// Takes a run of `len` digits at `*i`, then the separator `sep` if given; advances `*i` past both.
fn take(s: &str, i: &mut usize, len: RangeInclusive<usize>, sep: Option<u8>) -> Option<i64> {
    let b = s.as_bytes();
    let end = digits_from(b, *i);
    if !len.contains(&(end - *i)) || sep.is_some_and(|c| b.get(end) != Some(&c)) {
        return None;
    }
    let n = s[*i..end].parse().ok()?;
    *i = end + usize::from(sep.is_some());
    Some(n)
}

/// Psych's YAML 1.1 timestamp (`ScalarScanner::TIME`, then `parse_time`); None where Psych keeps a string.
fn yaml_timestamp(s: &str) -> Option<DateTime<Utc>> {
    // ^-?\d{4}-\d{1,2}-\d{1,2}(?:[Tt]|\s+)\d{1,2}:\d\d:\d\d(?:\.\d*)?(?:\s*(?:Z|[-+]\d{1,2}:?(?:\d\d)?))?$
    let b = s.as_bytes();
    let negative = b.first() == Some(&b'-');
    let mut i = usize::from(negative);
    let year = take(s, &mut i, 4..=4, Some(b'-'))?;
    let (mon, day) = (take(s, &mut i, 1..=2, Some(b'-'))?, take(s, &mut i, 1..=2, None)?);
    let gap = b[i..].iter().take_while(|c| c.is_ascii_whitespace()).count();
    i += if matches!(b.get(i), Some(b'T' | b't')) { 1 } else { (gap > 0).then_some(gap)? };
    let hour = take(s, &mut i, 1..=2, Some(b':'))?;
    let (min, sec) = (take(s, &mut i, 2..=2, Some(b':'))?, take(s, &mut i, 2..=2, None)?);
    if b.get(i) == Some(&b'.') {
        i = digits_from(b, i + 1);
    }
    i += b[i..].iter().take_while(|c| c.is_ascii_whitespace()).count();
    let offset = match &s[i..] {
        "" | "Z" => 0,
        zone if zone.starts_with(['+', '-']) => psych_offset(zone)?,
        _ => return None,
    };
    // Time.utc / Time.new raise ArgumentError for impossible fields, and Psych then keeps the string.
    let local = civil(if negative { -year } else { year }, mon, day, hour, min, sec, 0)?;
    Some((local - TimeDelta::seconds(offset)).and_utc())
}

/// Offset in seconds of a Psych timestamp zone such as `-7`, `+0530`, `+05:30`; None where Psych keeps a string.
fn psych_offset(zone: &str) -> Option<i64> {
    let (sign, rest) = zone.split_at(1);
    rest.bytes().all(|c| c.is_ascii_digit() || c == b':').then_some(())?;
    // The timestamp pattern allows \d{1,2}:?(\d\d)?; Psych then reads ([+-]?\d{1,2}):?(\d{1,2})? greedily.
    let (h, m) = match rest.split_once(':') {
        Some((h, m)) => ((1..=2).contains(&h.len()) && (m.is_empty() || m.len() == 2)).then_some((h, m))?,
        None => (1..=4).contains(&rest.len()).then(|| rest.split_at(rest.len().min(2)))?,
    };
    let hours: i64 = format!("{sign}{h}").parse().ok()?;
    let minutes: i64 = if m.is_empty() { 0 } else { m.parse().ok()? };
    // Psych takes the sign from the hour's integer value, so `-00:30` comes out as +00:30.
    let offset = hours * 3600 + if hours < 0 { -minutes * 60 } else { minutes * 60 };
    // Time.new rejects an offset of a day or more with ArgumentError, and Psych keeps the string.
    (offset.abs() < 86_400).then_some(offset)
}

/// What `Date._parse` found; each part is None when the text did not give it.
#[derive(Debug, Default)]
struct Fields {
    year: Option<i64>,
    mon: Option<i64>,
    mday: Option<i64>,
    hour: Option<i64>,
    min: Option<i64>,
    sec: Option<i64>,
    nanos: Option<u32>,
    zone: Option<String>,
}

/// Ruby `Time.parse(text)` (date 3.2 / time 0.2, as in Ruby 3.1), giving the instant; Err where Jekyll fails or
/// where the result would depend on the day of the build.
fn time_parse(text: &str, zone: Tz) -> Result<DateTime<Utc>, DateError> {
    if text.len() > 128 {
        return Err(DateError::TooLong);
    }
    let f = date_parse(text);
    let Some(year) = f.year else {
        return Err(match (f.mon, f.mday, f.hour, f.min, f.sec, f.nanos) {
            (None, None, None, None, None, None) => DateError::Unparsable,
            (None, None, ..) => DateError::NoDate,
            _ => DateError::NoYear,
        });
    };
    let (mon, mday) = (f.mon.unwrap_or(1), f.mday.unwrap_or(1));
    let (hour, min, sec) = (f.hour.unwrap_or(0), f.min.unwrap_or(0), f.sec.unwrap_or(0));
    let local = civil(year, mon, mday, hour, min, sec, f.nanos.unwrap_or(0)).ok_or(DateError::OutOfRange)?;
    // A zone Time.zone_offset does not know (`-400`, `GMT+5`, `optional`) is ignored: the time is local.
    Ok(match f.zone.and_then(|z| zone_offset(&z, year, zone)) {
        Some(offset) => (local - TimeDelta::seconds(offset)).and_utc(),
        None => local_instant(local, zone),
    })
}

/// Ruby's `Time.local` / `Time.utc` fields check: month 1–12, day 1–31 rolling into the next month, hour 0–24.
fn civil(year: i64, mon: i64, mday: i64, hour: i64, min: i64, sec: i64, nanos: u32) -> Option<NaiveDateTime> {
    let (max_min, max_sec) = if hour == 24 { (0, 0) } else { (59, 60) };
    if !(1..=12).contains(&mon)
        || !(1..=31).contains(&mday)
        || !(0..=24).contains(&hour)
        || !(0..=max_min).contains(&min)
        || !(0..=max_sec).contains(&sec)
    {
        return None;
    }
    let first = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, mon as u32, 1)?;
    let midnight = first.checked_add_days(Days::new(mday as u64 - 1))?.and_hms_opt(0, 0, 0)?;
    midnight.checked_add_signed(TimeDelta::seconds(hour * 3600 + min * 60 + sec) + TimeDelta::nanoseconds(nanos.into()))
}

/// Ruby's `Time.local` in `zone`: the earlier of two readings in a fold; in a gap, the offset from before the gap.
fn local_instant(local: NaiveDateTime, zone: Tz) -> DateTime<Utc> {
    if let Some(t) = zone.from_local_datetime(&local).earliest() {
        return t.with_timezone(&Utc);
    }
    // In a gap (02:30 on a spring-forward night in New York) Ruby reads the time with the offset in force before the
    // gap, which moves it forward by the gap's length (03:30 EDT); a time at the start of the gap gives its end.
    let before = (1..=200).find_map(|k| zone.from_local_datetime(&(local - TimeDelta::minutes(30 * k))).latest());
    let offset = before.map_or(0, |t| t.offset().fix().local_minus_utc());
    (local - TimeDelta::seconds(offset.into())).and_utc()
}

/// Ruby's `Time::ZoneOffset` (RFC 822 names) in hours; the one-letter military zones are handled apart.
const ZONES: [(&str, i64); 12] = [
    ("UTC", 0),
    ("Z", 0),
    ("UT", 0),
    ("GMT", 0),
    ("EST", -5),
    ("EDT", -4),
    ("CST", -6),
    ("CDT", -5),
    ("MST", -7),
    ("MDT", -6),
    ("PST", -8),
    ("PDT", -7),
];

/// Ruby's `Time.zone_offset` in seconds: `±HH[[:]MM[[:]SS]]`, RFC 822 and military names, the site zone's abbreviations.
fn zone_offset(zone: &str, year: i64, tz: Tz) -> Option<i64> {
    let z = zone.to_uppercase();
    if let Some(rest) = z.strip_prefix(['+', '-']) {
        let two = |a: usize| rest.get(a..a + 2).filter(|t| t.bytes().all(|c| c.is_ascii_digit()))?.parse::<i64>().ok();
        let colon = |a: usize| rest.as_bytes().get(a) == Some(&b':');
        let (h, m, s) = match rest.len() {
            2 => (two(0)?, 0, 0),
            4 => (two(0)?, two(2)?, 0),
            5 if colon(2) => (two(0)?, two(3)?, 0),
            6 => (two(0)?, two(2)?, two(4)?),
            8 if colon(2) && colon(5) => (two(0)?, two(3)?, two(6)?),
            _ => return None,
        };
        let sign = if z.starts_with('-') { -1 } else { 1 };
        return Some(sign * ((h * 60 + m) * 60 + s));
    }
    if let Some(&(_, hours)) = ZONES.iter().find(|(name, _)| *name == z) {
        return Some(hours * 3600);
    }
    if z.len() == 1 {
        // A–I are +1…+9, K–M +10…+12, N–Y −1…−12 (J is not a zone).
        let k = "ABCDEFGHIKLMNOPQRSTUVWXY".find(z.as_str())? as i64;
        return Some(if k < 12 { k + 1 } else { 11 - k } * 3600);
    }
    // Otherwise the abbreviation the site zone uses on 1 January or 1 July of that year (BST in Europe/London).
    [1, 7].into_iter().find_map(|month| {
        let midnight = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, 1)?.and_hms_opt(0, 0, 0)?;
        let t = tz.from_local_datetime(&midnight).earliest()?;
        let same = t.offset().abbreviation()?.to_uppercase() == z;
        same.then(|| t.offset().fix().local_minus_utc().into())
    })
}

/// Parts of a date that `s3e` sorts into year, month and day.
struct Ymd {
    y: Option<String>,
    m: String,
    d: Option<String>,
}

/// A time of day with its optional zone text, as `parse_time` reads it.
#[derive(Default)]
struct Tod {
    hour: i64,
    min: Option<i64>,
    sec: Option<i64>,
    nanos: Option<u32>,
    zone: Option<String>,
}

/// Ruby's `Date._parse(text, true)` (date 3.2, the default non-tight parser), for the forms a post date takes.
fn date_parse(text: &str) -> Fields {
    // Weekday, then time and zone, then the first of `d mon y`, `mon d, y`, `y-m-d`, `a/b/c`, `a.b.c`, `'yy`, `mon`,
    // `Nth` to match; each match is cut out (replaced by a space) before the next. Not done: era words (AD, BC), JIS
    // and VMS dates (`27-jul-2021`), ISO week and ordinal dates, bare digit runs (`20210727`): those give Err.
    let mut s: Vec<char> = Vec::with_capacity(text.len());
    for c in text.chars() {
        if c.is_alphanumeric() || "-+',./:@[]".contains(c) {
            s.push(c);
        } else if s.last() != Some(&' ') {
            s.push(' ');
        }
    }
    let mut f = Fields::default();
    cut(&mut s, day_name);
    if let Some(t) = cut(&mut s, time_of_day) {
        (f.hour, f.min, f.sec, f.nanos, f.zone) = (Some(t.hour), t.min, t.sec, t.nanos, t.zone);
    }
    let ymd = cut(&mut s, eu)
        .or_else(|| cut(&mut s, us))
        .or_else(|| cut(&mut s, iso))
        .or_else(|| cut(&mut s, slashes))
        .or_else(|| cut(&mut s, dots));
    let mut comp = true;
    if let Some(ymd) = ymd {
        comp = s3e(&mut f, ymd);
    } else if let Some(y) = cut(&mut s, apostrophe_year) {
        f.year = Some(y);
    } else if let Some(m) = cut(&mut s, month_word) {
        f.mon = Some(m);
    } else if let Some(d) = cut(&mut s, ordinal_day) {
        f.mday = Some(d);
    }
    // parse_frag: a lone 1–2 digit number left over is the day (after a time) or the hour (after a date).
    let rest: String = s.iter().collect();
    let rest = rest.trim();
    if (1..=2).contains(&rest.len()) && rest.bytes().all(|c| c.is_ascii_digit()) {
        let n: i64 = rest.parse().unwrap_or(0);
        if f.hour.is_some() && f.mday.is_none() && (1..=31).contains(&n) {
            f.mday = Some(n);
        }
        if f.mday.is_some() && f.hour.is_none() && n <= 24 {
            f.hour = Some(n);
        }
    }
    if let Some(y) = f.year.filter(|y| comp && (0..=99).contains(y)) {
        f.year = Some(y + if y >= 69 { 1900 } else { 2000 });
    }
    f
}

/// Ruby's `s3e`: decides which of three numbers is the year, month and day; returns false if the year is not to be
/// completed with a century (it had a sign or more than two digits).
fn s3e(f: &mut Fields, ymd: Ymd) -> bool {
    let Ymd { mut y, m, mut d } = ymd;
    let mut m = Some(m);
    if y.is_some() && d.is_none() {
        (y, m, d) = (None, y, m);
    }
    if y.is_none() && d.as_ref().is_some_and(|d| d.len() > 2 || d.starts_with('\'')) {
        y = d.take();
    }
    let number_start = |t: &str| t.find(|c: char| c == '-' || c == '+' || c.is_ascii_digit());
    let number_end = |t: &str, at: usize| at + 1 + t[at + 1..].bytes().take_while(u8::is_ascii_digit).count();
    if let Some(ys) = y.clone()
        && let Some(at) = number_start(&ys)
    {
        let end = if ys[at..].starts_with(['-', '+']) { number_end(&ys, at) } else { digits_from(ys.as_bytes(), at) };
        if end < ys.len() {
            (y, d) = (d, Some(ys[at..end].to_string()));
        }
    }
    if m.as_ref().is_some_and(|m| m.starts_with('\'') || m.len() > 2) {
        (y, m, d) = (m, d, y);
    }
    if d.as_ref().is_some_and(|d| d.starts_with('\'') || d.len() > 2) {
        (y, d) = (d, y);
    }
    let mut comp = true;
    if let Some(ys) = y
        && let Some(at) = number_start(&ys)
    {
        let signed = ys[at..].starts_with(['-', '+']);
        let end = if signed { number_end(&ys, at) } else { digits_from(ys.as_bytes(), at) };
        comp = !signed && end - at <= 2;
        f.year = Some(ys[at..end].parse().unwrap_or(i64::MAX));
    }
    let first_number = |t: &str| {
        let at = t.find(|c: char| c.is_ascii_digit())?;
        Some(t[at..digits_from(t.as_bytes(), at)].parse().unwrap_or(i64::MAX))
    };
    f.mon = m.as_deref().and_then(first_number).or(f.mon);
    f.mday = d.as_deref().and_then(first_number).or(f.mday);
    comp
}

/// A pattern tried at one position: the end of its match and what it read.
type Matcher<T> = fn(&[char], usize) -> Option<(usize, T)>;

/// Finds the leftmost match of `at` (a matcher tried at each position), replaces it with one space, returns it.
fn cut<T>(s: &mut Vec<char>, at: Matcher<T>) -> Option<T> {
    let (start, (end, found)) = (0..=s.len()).find_map(|i| at(s.as_slice(), i).map(|m| (i, m)))?;
    s.splice(start..end, [' ']);
    Some(found)
}

const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

/// End of the run starting at `i` of characters for which `keep` holds.
fn run(s: &[char], i: usize, keep: impl Fn(char) -> bool) -> usize {
    i + s.get(i..).unwrap_or_default().iter().take_while(|&&c| keep(c)).count()
}

/// End of the ASCII digits at `i`.
fn digits(s: &[char], i: usize) -> usize {
    run(s, i, |c| c.is_ascii_digit())
}

/// End of the white space at `i`.
fn spaces(s: &[char], i: usize) -> usize {
    run(s, i, |c| c.is_ascii_whitespace())
}

/// Position after an optional `c` at `i`.
fn opt(s: &[char], i: usize, c: char) -> usize {
    i + usize::from(s.get(i) == Some(&c))
}

/// Whether `i` is a word boundary (`\b`).
fn boundary(s: &[char], i: usize) -> bool {
    let word = |c: &char| c.is_ascii_alphanumeric() || *c == '_';
    (i > 0 && word(&s[i - 1])) != s.get(i).is_some_and(word)
}

/// Whether `word` (lower-case ASCII) is at `i`, ignoring case.
fn word_at(s: &[char], i: usize, word: &str) -> bool {
    word.chars().enumerate().all(|(k, c)| s.get(i + k).is_some_and(|x| x.eq_ignore_ascii_case(&c)))
}

/// The text of `s[a..b]`.
fn text(s: &[char], a: usize, b: usize) -> String {
    s[a..b].iter().collect()
}

/// The number in `s[a..b]` (digits only), saturating.
fn number(s: &[char], a: usize, b: usize) -> i64 {
    text(s, a, b).parse().unwrap_or(i64::MAX)
}

/// The month (1–12) whose three-letter abbreviation is at `i`.
fn month_at(s: &[char], i: usize) -> Option<i64> {
    MONTHS.iter().position(|m| word_at(s, i, m)).map(|k| k as i64 + 1)
}

/// `'?-?\d+` at `i`, with an optional `st|nd|rd|th` suffix: its end and text.
fn year_at(s: &[char], i: usize, suffix: bool) -> Option<(usize, String)> {
    let start = opt(s, opt(s, i, '\''), '-');
    let mut end = digits(s, start);
    (end > start).then_some(())?;
    if suffix && ["st", "nd", "rd", "th"].iter().any(|x| word_at(s, end, x)) && boundary(s, end + 2) {
        end += 2;
    }
    Some((end, text(s, i, end)))
}

/// parse_day: `\b(sun|mon|tue|wed|thu|fri|sat)[^-/\d\s]*`.
fn day_name(s: &[char], i: usize) -> Option<(usize, ())> {
    let days = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
    (boundary(s, i) && days.iter().any(|d| word_at(s, i, d))).then_some(())?;
    Some((run(s, i + 3, |c| !matches!(c, '-' | '/') && !c.is_ascii_digit() && !c.is_ascii_whitespace()), ()))
}

/// `\s*[ap](?:m\b|\.m\.)` at `i`: its end and whether it is `pm`.
fn meridian(s: &[char], i: usize) -> Option<(usize, bool)> {
    let k = spaces(s, i);
    let pm = match s.get(k) {
        Some('a' | 'A') => false,
        Some('p' | 'P') => true,
        _ => return None,
    };
    if word_at(s, k + 1, "m") && boundary(s, k + 2) {
        Some((k + 2, pm))
    } else if word_at(s, k + 1, ".m.") {
        Some((k + 4, pm))
    } else {
        None
    }
}

/// The zone after a time: `(?:gmt|utc?)?[-+]\d+(?:[,.:]\d+(?::\d+)?)?` or `[[:alpha:]]+(?:\sdst)?\b`; its end.
fn zone_at(s: &[char], k: usize) -> Option<usize> {
    let digit = |i: usize| s.get(i).is_some_and(char::is_ascii_digit);
    for prefix in ["gmt", "utc", "ut", ""] {
        let p = k + prefix.len();
        if word_at(s, k, prefix) && matches!(s.get(p), Some('+' | '-')) && digit(p + 1) {
            let mut e = digits(s, p + 1);
            if matches!(s.get(e), Some(',' | '.' | ':')) && digit(e + 1) {
                e = digits(s, e + 1);
                if s.get(e) == Some(&':') && digit(e + 1) {
                    e = digits(s, e + 1);
                }
            }
            return Some(e);
        }
    }
    let e = run(s, k, char::is_alphabetic);
    if e > k && s.get(e).is_some_and(char::is_ascii_whitespace) && word_at(s, e + 1, "dst") && boundary(s, e + 4) {
        return Some(e + 4);
    }
    (e > k && boundary(s, e)).then_some(e)
}

/// parse_time: `H:MM[:SS[.f]]`, `Hh[MMm[SSs]]` or `H am`, then an optional meridian and zone.
fn time_of_day(s: &[char], i: usize) -> Option<(usize, Tod)> {
    let h_end = digits(s, i);
    (h_end > i).then_some(())?;
    let mut t = Tod { hour: number(s, i, h_end), ..Tod::default() };
    let k = spaces(s, h_end);
    let min_at = spaces(s, k + 1);
    let mut end;
    // Ruby re-reads the match with `\A(\d+)h?(\s*:?\s*(\d+)m?(\s*:?\s*(\d+)([,.]\d+)?s?)?)?(\s*[ap]m)?`, so in the
    // `h` form only the hour counts when a space comes before the `h`.
    let mut counts = true;
    if s.get(k) == Some(&':') && digits(s, min_at) > min_at {
        end = digits(s, min_at);
        t.min = Some(number(s, min_at, end));
        let colon = spaces(s, end);
        let sec_at = spaces(s, colon + 1);
        if s.get(colon) == Some(&':') && digits(s, sec_at) > sec_at {
            end = digits(s, sec_at);
            t.sec = Some(number(s, sec_at, end));
            if matches!(s.get(end), Some(',' | '.')) {
                let frac: String = s[end + 1..digits(s, end + 1)].iter().take(9).collect();
                if !frac.is_empty() {
                    t.nanos = format!("{frac:0<9}").parse().ok();
                }
                end = digits(s, end + 1);
            }
        }
    } else if matches!(s.get(k), Some('h' | 'H')) {
        counts = k == h_end;
        end = k + 1;
        let min_at = spaces(s, end);
        if digits(s, min_at) > min_at {
            end = digits(s, min_at);
            t.min = Some(number(s, min_at, end)).filter(|_| counts);
            end = opt(s, opt(s, end, 'm'), 'M');
            let sec_at = spaces(s, end);
            if digits(s, sec_at) > sec_at {
                end = digits(s, sec_at);
                t.sec = Some(number(s, sec_at, end)).filter(|_| counts);
                end = opt(s, opt(s, end, 's'), 'S');
            }
        }
    } else {
        let (m_end, pm) = meridian(s, h_end)?;
        t.hour = t.hour % 12 + if pm { 12 } else { 0 };
        return Some(with_zone(s, m_end, t));
    }
    if let Some((m_end, pm)) = meridian(s, end) {
        if counts {
            t.hour = t.hour % 12 + if pm { 12 } else { 0 };
        }
        end = m_end;
    }
    Some(with_zone(s, end, t))
}

/// Adds the zone that may follow a time ending at `end`; returns the new end.
fn with_zone(s: &[char], end: usize, mut t: Tod) -> (usize, Tod) {
    let at = spaces(s, end);
    match zone_at(s, at) {
        Some(z_end) => {
            t.zone = Some(text(s, at, z_end));
            (z_end, t)
        }
        None => (end, t),
    }
}

/// `'?\d+` at `i`: its end.
fn apostrophe_digits(s: &[char], i: usize) -> Option<usize> {
    let start = opt(s, i, '\'');
    let end = digits(s, start);
    (end > start).then_some(end)
}

/// Whether `c` may stand in the `[^-\d\s']` runs around month names.
fn filler(c: char) -> bool {
    c != '-' && c != '\'' && !c.is_ascii_digit() && !c.is_ascii_whitespace()
}

/// parse_eu: `('?\d+)[^-\d\s]*\s*(mon)[^-\d\s']*(?:\s*('?-?\d+(?:st|nd|rd|th)?))?` (`27 July 2021`).
fn eu(s: &[char], i: usize) -> Option<(usize, Ymd)> {
    let d_end = apostrophe_digits(s, i)?;
    let run_end = run(s, d_end, |c| c == '\'' || filler(c));
    // The greedy run before the month gives characters back until a month name can start.
    let mut after = std::iter::once(spaces(s, run_end)).chain((d_end..run_end).rev());
    let (at, mon) = after.find_map(|p| Some((p, month_at(s, p)?)))?;
    let m_end = run(s, at + 3, filler);
    let (end, y) = match year_at(s, spaces(s, m_end), true) {
        Some((end, y)) => (end, Some(y)),
        None => (m_end, None),
    };
    Some((end, Ymd { y, m: mon.to_string(), d: Some(text(s, i, d_end)) }))
}

/// parse_us: `\b(mon)[^-\d\s']*\s*('?\d+)[^-\d\s']*(?:\s*,?\s*('?-?\d+))?` (`July 27, 2021`).
fn us(s: &[char], i: usize) -> Option<(usize, Ymd)> {
    let mon = month_at(s, i).filter(|_| boundary(s, i))?;
    let d_at = spaces(s, run(s, i + 3, filler));
    let d_end = apostrophe_digits(s, d_at)?;
    let m_end = run(s, d_end, filler);
    let (end, y) = match year_at(s, spaces(s, opt(s, spaces(s, m_end), ',')), false) {
        Some((end, y)) => (end, Some(y)),
        None => (m_end, None),
    };
    Some((end, Ymd { y, m: mon.to_string(), d: Some(text(s, d_at, d_end)) }))
}

/// parse_iso: `('?[-+]?\d+)-(\d+)-('?-?\d+)`.
fn iso(s: &[char], i: usize) -> Option<(usize, Ymd)> {
    let sign = opt(s, i, '\'');
    let start = if matches!(s.get(sign), Some('+' | '-')) { sign + 1 } else { sign };
    let y_end = digits(s, start);
    (y_end > start && s.get(y_end) == Some(&'-')).then_some(())?;
    let m_end = digits(s, y_end + 1);
    (m_end > y_end + 1 && s.get(m_end) == Some(&'-')).then_some(())?;
    let (end, d) = year_at(s, m_end + 1, false)?;
    Some((end, Ymd { y: Some(text(s, i, y_end)), m: text(s, y_end + 1, m_end), d: Some(d) }))
}

/// parse_sla: `('?-?\d+)/\s*('?\d+)(?:\D\s*('?-?\d+))?` (`5/6/2016`).
fn slashes(s: &[char], i: usize) -> Option<(usize, Ymd)> {
    let (a_end, a) = year_at(s, i, false).filter(|(end, _)| s.get(*end) == Some(&'/'))?;
    let b_at = spaces(s, a_end + 1);
    let b_end = apostrophe_digits(s, b_at)?;
    let third = if b_end < s.len() { year_at(s, spaces(s, b_end + 1), false) } else { None };
    let (end, c) = match third {
        Some((end, c)) => (end, Some(c)),
        None => (b_end, None),
    };
    Some((end, Ymd { y: Some(a), m: text(s, b_at, b_end), d: c }))
}

/// parse_dot: `('?-?\d+)\.\s*('?\d+)\.\s*('?-?\d+)` (`6.5.2016`).
fn dots(s: &[char], i: usize) -> Option<(usize, Ymd)> {
    let (a_end, a) = year_at(s, i, false).filter(|(end, _)| s.get(*end) == Some(&'.'))?;
    let b_at = spaces(s, a_end + 1);
    let b_end = apostrophe_digits(s, b_at).filter(|end| s.get(*end) == Some(&'.'))?;
    let (end, c) = year_at(s, spaces(s, b_end + 1), false)?;
    Some((end, Ymd { y: Some(a), m: text(s, b_at, b_end), d: Some(c) }))
}

/// parse_year: `'(\d+)\b`.
fn apostrophe_year(s: &[char], i: usize) -> Option<(usize, i64)> {
    let end = digits(s, i + 1);
    (s.get(i) == Some(&'\'') && end > i + 1 && boundary(s, end)).then(|| (end, number(s, i + 1, end)))
}

/// parse_mon: `\b(mon)\S*`.
fn month_word(s: &[char], i: usize) -> Option<(usize, i64)> {
    let mon = month_at(s, i).filter(|_| boundary(s, i))?;
    Some((run(s, i + 3, |c| !c.is_ascii_whitespace()), mon))
}

/// parse_mday: `(\d+)(st|nd|rd|th)\b`.
fn ordinal_day(s: &[char], i: usize) -> Option<(usize, i64)> {
    let end = digits(s, i);
    let suffix = ["st", "nd", "rd", "th"].iter().any(|x| word_at(s, end, x)) && boundary(s, end + 2);
    (end > i && suffix).then(|| (end + 2, number(s, i, end)))
}

// ---------------------------------------------------------------------------------------------------------------
// Dates given to Liquid's Jekyll date filters
//
// Two parsers, on purpose. [`parse`] reads a post's front-matter `date` the way Jekyll 4.3 does: Psych, then Ruby's
// `Time.parse`, so a quoted date without a zone is in the site's zone, worded dates (`March 3, 2016`) are read and
// impossible days roll over (`2016-02-30` is March 1). [`FilterDate::parse`] reads the value a post hands to
// `date_to_string`, `date_to_long_string`, `date_to_xmlschema` or `date_to_rfc822`: only the numeric
// `YYYY-MM-DD[( |T)HH:MM[:SS[.fff]]] [Z|UTC|GMT|±HH[:]MM]` shape, keeping the offset written and taking UTC when
// there is none (it knows no site zone), and refusing an impossible day. Merging them would change what those
// filters print (a zoneless value would move to the site's zone, a worded or impossible date would render instead
// of being a problem), so both stay.

/// A date and time as written in a value given to a Jekyll date filter, with its UTC offset in minutes (none
/// written means UTC).
pub struct FilterDate {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    offset: i32,
}

/// English month names, as Ruby's `%B` writes them (`%b` is their first three letters).
const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
/// Ruby's `%a` day names, Sunday first.
const DAY_NAMES: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

impl FilterDate {
    /// `YYYY-MM-DD[( |T)HH:MM[:SS[.fff]]][ ](Z|UTC|±HH[:]MM)`, or liquid's own date-time text.
    pub fn parse(s: &str) -> Option<FilterDate> {
        let s = s.trim();
        let b = s.as_bytes();
        let mut i = 0;
        let num = |i: &mut usize, min: usize, max: usize| -> Option<u32> {
            let n = b[*i..].iter().take(max).take_while(|c| c.is_ascii_digit()).count();
            if n < min {
                return None;
            }
            let v = s[*i..*i + n].parse().ok()?;
            *i += n;
            Some(v)
        };
        let eat = |i: &mut usize, c: u8| -> bool {
            let ok = b.get(*i) == Some(&c);
            *i += usize::from(ok);
            ok
        };
        let year = num(&mut i, 4, 4)?;
        eat(&mut i, b'-').then_some(())?;
        let month = num(&mut i, 1, 2)?;
        eat(&mut i, b'-').then_some(())?;
        let day = num(&mut i, 1, 2)?;
        let (mut hour, mut minute, mut second) = (0, 0, 0);
        let mut k = i;
        while b.get(k) == Some(&b' ') {
            k += 1;
        }
        if b.get(i) == Some(&b'T') || (k > i && b.get(k).is_some_and(u8::is_ascii_digit)) {
            i = if b.get(i) == Some(&b'T') { i + 1 } else { k };
            hour = num(&mut i, 1, 2)?;
            eat(&mut i, b':').then_some(())?;
            minute = num(&mut i, 2, 2)?;
            if eat(&mut i, b':') {
                second = num(&mut i, 2, 2)?;
                if eat(&mut i, b'.') {
                    while b.get(i).is_some_and(u8::is_ascii_digit) {
                        i += 1;
                    }
                }
            }
        }
        while b.get(i) == Some(&b' ') {
            i += 1;
        }
        let rest = &s[i..];
        let offset = if rest.is_empty() || rest == "Z" || rest == "UTC" || rest == "GMT" {
            0
        } else {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let digits: String = rest[1..].chars().filter(|c| *c != ':').collect();
            if digits.len() != 4 || !digits.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let (h, m): (i32, i32) = (digits[..2].parse().ok()?, digits[2..].parse().ok()?);
            sign * (h * 60 + m)
        };
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        let valid = (1..=12).contains(&month)
            && day >= 1
            && day <= days[month as usize - 1]
            && hour < 24
            && minute < 60
            && second <= 60;
        valid.then_some(FilterDate { year: i64::from(year), month, day, hour, minute, second, offset })
    }

    fn weekday(&self) -> usize {
        let (y, m, d) = (self.year - i64::from(self.month <= 2), i64::from(self.month), i64::from(self.day));
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        (days + 4).rem_euclid(7) as usize
    }

    fn month_name(&self, long: bool) -> &'static str {
        let name = MONTH_NAMES[self.month as usize - 1];
        if long { name } else { &name[..3] }
    }

    /// Jekyll's `date_to_string` (`long`: `date_to_long_string`): `07 Nov 2008`, or with `ordinal` `7th Nov 2008`
    /// (`us`: `Nov 7th, 2008`).
    pub fn stringify(&self, long: bool, ordinal: bool, us: bool) -> String {
        let (month, year, day) = (self.month_name(long), self.year, self.day);
        if !ordinal {
            return format!("{day:02} {month} {year}");
        }
        let suffix = match (day % 100, day % 10) {
            (11..=13, _) => "th",
            (_, 1) => "st",
            (_, 2) => "nd",
            (_, 3) => "rd",
            _ => "th",
        };
        if us { format!("{month} {day}{suffix}, {year}") } else { format!("{day}{suffix} {month} {year}") }
    }

    fn offset(&self, colon: bool) -> String {
        let sign = if self.offset < 0 { '-' } else { '+' };
        let m = self.offset.unsigned_abs();
        if colon { format!("{sign}{:02}:{:02}", m / 60, m % 60) } else { format!("{sign}{:02}{:02}", m / 60, m % 60) }
    }

    /// Jekyll's `date_to_xmlschema`: ISO 8601 with the offset written, `2008-11-07T13:07:54-08:00`.
    pub fn xmlschema(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}",
            self.year,
            self.month,
            self.day,
            self.hour,
            self.minute,
            self.second,
            self.offset(true)
        )
    }

    /// Jekyll's `date_to_rfc822`: `Fri, 07 Nov 2008 13:07:54 -0800`.
    pub fn rfc822(&self) -> String {
        format!(
            "{}, {:02} {} {} {:02}:{:02}:{:02} {}",
            DAY_NAMES[self.weekday()],
            self.day,
            self.month_name(false),
            self.year,
            self.hour,
            self.minute,
            self.second,
            self.offset(false)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Quoting::{Plain, Quoted};
    use chrono_tz::America::{Los_Angeles, New_York, Sao_Paulo};
    use chrono_tz::Asia::Tokyo;
    use chrono_tz::Europe::London;
    use chrono_tz::UTC;

    /// The parsed date as RFC 3339, panicking with the reason on Err.
    fn at(value: &str, quoting: Quoting, zone: Tz) -> String {
        parse(value, quoting, zone).unwrap_or_else(|e| panic!("{value:?}: {e}")).to_rfc3339()
    }

    /// The Err reason for a value that must not parse.
    fn err(value: &str, quoting: Quoting) -> String {
        parse(value, quoting, UTC).expect_err(value).to_string()
    }

    #[test]
    fn plain_timestamp_without_zone_is_utc() {
        assert_eq!(at("2015-03-17 10:00:00", Plain, New_York), "2015-03-17T06:00:00-04:00");
        assert_eq!(at("2015-03-17 10:00:00", Plain, UTC), "2015-03-17T10:00:00+00:00");
        assert_eq!(at("2015-03-17T10:00:00", Plain, UTC), "2015-03-17T10:00:00+00:00");
        assert_eq!(at("2015-3-7t9:00:00", Plain, UTC), "2015-03-07T09:00:00+00:00");
        assert_eq!(at("2015-03-17   10:00:00.75", Plain, UTC), "2015-03-17T10:00:00+00:00");
        // Time.utc rolls a day past the month's end over, like Time.local.
        assert_eq!(at("2016-02-30 10:00:00", Plain, UTC), "2016-03-01T10:00:00+00:00");
    }

    #[test]
    fn plain_timestamp_with_zone_is_that_instant() {
        for (zone, utc) in [
            ("Z", "10:00"),
            (" Z", "10:00"),
            ("+05", "05:00"),
            (" -7", "17:00"),
            ("+05:30", "04:30"),
            ("+0530", "04:30"),
            (" -0700", "17:00"),
        ] {
            let value = format!("2015-03-17 10:00:00{zone}");
            assert_eq!(at(&value, Plain, UTC), format!("2015-03-17T{utc}:00+00:00"), "{value}");
        }
        // `+530` fits the YAML pattern, but Psych reads it as +53h and keeps a string; Time.parse drops the offset.
        assert_eq!(at("2015-03-17 10:00:00 +530", Plain, New_York), "2015-03-17T10:00:00-04:00");
    }

    #[test]
    fn plain_date_only_is_local_midnight() {
        assert_eq!(at("2014-12-15", Plain, New_York), "2014-12-15T00:00:00-05:00");
        assert_eq!(at("2017-11-8", Plain, New_York), "2017-11-08T00:00:00-05:00");
        assert_eq!(at("2015-01-16", Quoted, UTC), "2015-01-16T00:00:00+00:00");
    }

    #[test]
    fn explicit_offsets_give_the_instant() {
        for q in [Plain, Quoted] {
            assert_eq!(at("2016-10-06 11:10:38 -0700", q, UTC), "2016-10-06T18:10:38+00:00");
            assert_eq!(at("2016-10-06 11:10:38 -0700", q, Los_Angeles), "2016-10-06T11:10:38-07:00");
        }
        assert_eq!(at("2014-03-12T10:11:00-04:00", Quoted, UTC), "2014-03-12T14:11:00+00:00");
        assert_eq!(at("2020-07-07T00:00:00.000Z", Plain, UTC), "2020-07-07T00:00:00+00:00");
        assert_eq!(at("2020-07-07T00:00:00.250Z", Quoted, UTC), "2020-07-07T00:00:00.250+00:00");
    }

    #[test]
    fn strings_without_zone_are_local() {
        assert_eq!(at("2015-03-17 10:00:00", Quoted, New_York), "2015-03-17T10:00:00-04:00");
        assert_eq!(at("2015-12-08 10:00", Plain, New_York), "2015-12-08T10:00:00-05:00");
        assert_eq!(at("2016-03-03 3:00", Plain, UTC), "2016-03-03T03:00:00+00:00");
        assert_eq!(at("2016-01-01 10:00 pm", Quoted, UTC), "2016-01-01T22:00:00+00:00");
        assert_eq!(at("2016-01-01 12:30 a.m.", Quoted, UTC), "2016-01-01T00:30:00+00:00");
    }

    #[test]
    fn worded_dates_are_local_midnight() {
        for value in
            ["July 27, 2021", "Jul 27, 2021", "27 July 2021", "Tuesday, July 27th, 2021", "2021-07-27 (optional)"]
        {
            assert_eq!(at(value, Plain, New_York), "2021-07-27T00:00:00-04:00", "{value}");
        }
        assert_eq!(at("2016-07-19 (optional)", Plain, UTC), "2016-07-19T00:00:00+00:00");
        assert_eq!(at("Tue, 06 Oct 2015 11:10:38 +0000", Quoted, New_York), "2015-10-06T07:10:38-04:00");
        // A month and year alone is the first of the month.
        assert_eq!(at("July 2021", Plain, UTC), "2021-07-01T00:00:00+00:00");
    }

    #[test]
    fn zone_names() {
        assert_eq!(at("2016-03-21 12:00 EDT", Plain, UTC), "2016-03-21T16:00:00+00:00");
        for (name, hours) in [
            ("UTC", 0),
            ("utc", 0),
            ("GMT", 0),
            ("Z", 0),
            ("EST", -5),
            ("EDT", -4),
            ("CST", -6),
            ("CDT", -5),
            ("MST", -7),
            ("MDT", -6),
            ("PST", -8),
            ("PDT", -7),
        ] {
            let t = parse(&format!("2016-03-21 12:00 {name}"), Quoted, Tokyo).unwrap();
            assert_eq!(t.naive_utc().format("%H").to_string(), format!("{:02}", 12 - hours), "{name}");
        }
        for zone in ["+02:00", "+0200", "+02", " +02:00", " +0200", " +02"] {
            assert_eq!(at(&format!("2016-03-21 12:00{zone}"), Quoted, UTC), "2016-03-21T10:00:00+00:00", "{zone}");
        }
        // The site zone's own abbreviations count too, even out of season: BST in January is +01:00.
        assert_eq!(at("2016-01-15 10:00 BST", Quoted, London), "2016-01-15T09:00:00+00:00");
        // Unknown names and malformed offsets leave the time local.
        assert_eq!(at("2016-01-15 10:00 CET", Quoted, New_York), "2016-01-15T10:00:00-05:00");
        assert_eq!(at("2016-01-15 10:00 GMT+5", Quoted, New_York), "2016-01-15T10:00:00-05:00");
    }

    #[test]
    fn malformed_or_misplaced_offsets_are_dropped() {
        assert_eq!(at("2016-06-17 12:00-400", Plain, New_York), "2016-06-17T12:00:00-04:00");
        assert_eq!(at("2023-01-29 18:30:22 2023 -0800", Plain, Tokyo), "2023-01-29T18:30:22+09:00");
    }

    #[test]
    fn ruby_quirks() {
        assert_eq!(at("5/6/2016", Quoted, UTC), "2016-06-05T00:00:00+00:00");
        assert_eq!(at("2016/5/6", Quoted, UTC), "2016-05-06T00:00:00+00:00");
        // With no part longer than two digits, Ruby reads a/b/c as y/m/d.
        assert_eq!(at("5/6/16", Quoted, UTC), "2005-06-16T00:00:00+00:00");
        assert_eq!(at("2016-02-30", Plain, UTC), "2016-03-01T00:00:00+00:00");
        assert_eq!(at("2015-02-31", Quoted, UTC), "2015-03-03T00:00:00+00:00");
        assert_eq!(at("16-1-2", Quoted, UTC), "2016-01-02T00:00:00+00:00");
        assert_eq!(at("70-1-2", Quoted, UTC), "1970-01-02T00:00:00+00:00");
        assert_eq!(at("2016-01-01 24:00", Quoted, UTC), "2016-01-02T00:00:00+00:00");
    }

    #[test]
    fn errors() {
        assert_eq!(parse("2016-13-45", Plain, UTC), Err(DateError::OutOfRange));
        assert_eq!(parse("10:00", Quoted, UTC), Err(DateError::NoDate));
        assert_eq!(parse("July 27", Quoted, UTC), Err(DateError::NoYear));
        assert!(err("2016-13-45", Plain).contains("not a date"));
        assert!(err("2016-02-32", Quoted).contains("not a date"));
        assert!(err("2016-01-01 25:00", Quoted).contains("not a date"));
        assert_eq!(err("not a date", Quoted), "not a date Jekyll can read");
        assert!(err("10:00", Quoted).contains("add the date"));
        assert!(err("10:00", Plain).contains("add the date"));
        assert!(err("July 27", Quoted).contains("add the year"));
        assert!(err("", Quoted).contains("empty"));
        assert!(err("  \t ", Plain).contains("empty"));
        assert!(err(&format!("2016-01-01 {}", "x".repeat(130)), Quoted).contains("128"));
        // Ruby reads `(hosted)` as `19 h…`: an hour with no date left, so Jekyll fails (or uses today).
        assert!(parse("2016-07-19 (hosted)", Plain, UTC).is_err());
    }

    #[test]
    fn dst_gaps_and_folds() {
        // Ruby moves a time in a gap forward by the gap's length; a midnight gap gives 01:00.
        assert_eq!(at("2016-03-13 02:30", Quoted, New_York), "2016-03-13T03:30:00-04:00");
        assert_eq!(at("2018-11-04", Plain, Sao_Paulo), "2018-11-04T01:00:00-02:00");
        // In a fold the earlier reading wins.
        assert_eq!(at("2016-11-06 01:30", Quoted, New_York), "2016-11-06T01:30:00-04:00");
    }

    /// Every `date:` value in corpora/*/_posts (560 lines in 560 files), one real value per shape, with its count:
    /// 346 `YYYY-MM-DD`; 62 `YYYY-MM-DD HH:MM:SS -HHMM`; 27 `'YYYY-MM-DDTHH:MM:SS-HH:MM'`;
    /// 22 `YYYY-MM-DD HH:MM:SS +HHMM`; 17 `'YYYY-MM-DD'`; 14 `YYYY-MM-DD HH:MM`; 10 `"YYYY-MM-DD HH:MM:SS +HHMM"`;
    /// 9 `YYYY-MM-DD (optional)`; 6 `YYYY-MM-DD HH:MM:SS`; 31 `Month D(D), YYYY` and 1 `'Month DD, YYYY'`;
    /// 4 `"YYYY-MM-DD HH:MM:SS -HHMM"`; 2 `YYYY-MM-D`; 2 `'YYYY-MM-DD HH:MM EDT'`, 1 `"…EDT"`, 1 plain `… EDT`;
    /// 1 `YYYY-MM-DDTHH:MM:SS.sssZ`; 1 `YYYY-MM-DD H:MM`; 1 `YYYY-MM-DD HH:MM:SS YYYY -HHMM`;
    /// 1 `YYYY-MM-DD HH:MM-HHH`; 1 `YYYY-MM-DD ` (trailing space).
    #[test]
    fn corpus_shapes() {
        for (value, quoting, utc) in [
            ("2016-03-25", Plain, "2016-03-25T00:00:00"),
            ("2019-07-02 11:21:02 -0400", Plain, "2019-07-02T15:21:02"),
            ("2014-03-19T10:14:29-04:00", Quoted, "2014-03-19T14:14:29"),
            ("2023-01-20 23:00:00 +0530", Plain, "2023-01-20T17:30:00"),
            ("2015-02-11", Quoted, "2015-02-11T00:00:00"),
            ("2015-12-08 10:00", Plain, "2015-12-08T10:00:00"),
            ("2013-05-08 23:46:11 +0200", Quoted, "2013-05-08T21:46:11"),
            ("2016-07-19 (optional)", Plain, "2016-07-19T00:00:00"),
            ("2015-03-17 14:00:00", Plain, "2015-03-17T14:00:00"),
            ("September 21, 2021", Plain, "2021-09-21T00:00:00"),
            ("June 2, 2020", Plain, "2020-06-02T00:00:00"),
            ("April 23, 2020", Quoted, "2020-04-23T00:00:00"),
            ("2013-09-06 22:02:41 -0400", Quoted, "2013-09-07T02:02:41"),
            ("2017-11-8", Plain, "2017-11-08T00:00:00"),
            ("2016-03-22 14:00 EDT", Quoted, "2016-03-22T18:00:00"),
            ("2016-03-23 09:00 EDT", Quoted, "2016-03-23T13:00:00"),
            ("2016-03-21 12:00 EDT", Plain, "2016-03-21T16:00:00"),
            ("2020-07-07T00:00:00.000Z", Plain, "2020-07-07T00:00:00"),
            ("2016-03-03 3:00", Plain, "2016-03-03T03:00:00"),
            ("2023-01-29 18:30:22 2023 -0800", Plain, "2023-01-29T18:30:22"),
            ("2016-06-17 12:00-400", Plain, "2016-06-17T12:00:00"),
            ("2016-08-04 ", Plain, "2016-08-04T00:00:00"),
        ] {
            assert_eq!(at(value, quoting, UTC), format!("{utc}+00:00"), "{value}");
        }
    }

    /// JEKYLL.md §10 cases 1, 2, 4, 13, 15, 16, 17, 18 and 25.
    #[test]
    fn jekyll_md_cases() {
        assert_eq!(at("2013-05-06 02:12:52 +0200", Quoted, Los_Angeles), "2013-05-05T17:12:52-07:00");
        assert_eq!(at("2018-04-19 16:07:00 +0100", Quoted, Los_Angeles), "2018-04-19T08:07:00-07:00");
        assert_eq!(at("2023-01-29 18:30:22 2023 -0800", Plain, Los_Angeles), "2023-01-29T18:30:22-08:00");
        assert_eq!(at("2017-09-27 (optional)", Plain, UTC), "2017-09-27T00:00:00+00:00");
        assert_eq!(at("2015-03-17 10:00:00", Plain, UTC), "2015-03-17T10:00:00+00:00");
        assert_eq!(at("2015-03-17 10:00:00", Plain, New_York), "2015-03-17T06:00:00-04:00");
        assert_eq!(at("2020-07-07T00:00:00.000Z", Plain, UTC), "2020-07-07T00:00:00+00:00");
        assert_eq!(at("2020-07-07T00:00:00.000Z", Plain, New_York), "2020-07-06T20:00:00-04:00");
        assert_eq!(at("2016-06-17 12:00-400", Plain, UTC), "2016-06-17T12:00:00+00:00");
        assert_eq!(at("2016-06-17 12:00-400", Plain, New_York), "2016-06-17T12:00:00-04:00");
        assert_eq!(at("July 27, 2021", Plain, UTC), "2021-07-27T00:00:00+00:00");
        assert_eq!(at("2018-08-09", Plain, UTC), "2018-08-09T00:00:00+00:00");
        let name = post_file_name("2019-08-09-release-0.18.1.md").unwrap().unwrap();
        assert_eq!((name.date.to_string().as_str(), name.slug, name.ext), ("2019-08-09", "release-0.18.1", "md"));
    }

    /// The post name for `name`, panicking unless it is one.
    fn post(name: &str) -> (String, &str, &str) {
        let p = post_file_name(name).unwrap().unwrap_or_else(|| panic!("{name} is not a post"));
        (p.date.to_string(), p.slug, p.ext)
    }

    #[test]
    fn post_file_names() {
        assert_eq!(post("2016-1-5-x.md"), ("2016-01-05".into(), "x", "md"));
        assert_eq!(post("16-1-2-x.md"), ("2016-01-02".into(), "x", "md"));
        let slug = "three-ways-to manage-research-projects";
        assert_eq!(post("2017-09-28-three-ways-to manage-research-projects.md"), ("2017-09-28".into(), slug, "md"));
        assert_eq!(post("2016-02-03-The_Placeholder.Test.md"), ("2016-02-03".into(), "The_Placeholder.Test", "md"));
        assert_eq!(post("2016-01-11-x.txt"), ("2016-01-11".into(), "x", "txt"));
        assert_eq!(post("_posts/en/posts/2016-04-14-a.html"), ("2016-04-14".into(), "a", "html"));
        assert_eq!(post("2016-02-30-x.md"), ("2016-03-01".into(), "x", "md"));
        for name in
            ["scaling-optimizations-zh_ch.md", "2016-01-01-x", "2016-01-01-x.", "2016-01-01-.md", "2016-01-01-x.md~"]
        {
            assert_eq!(post_file_name(name), Ok(None), "{name}");
        }
        for name in ["20160-01-01-x.md", "2016-001-01-x.md", "2016-01-01x.md", "x2016-01-01-x.md", "2016-01-01.md"] {
            assert_eq!(post_file_name(name), Ok(None), "{name}");
        }
        assert!(post_file_name("2016-13-45-x.md").unwrap_err().to_string().contains("2016-13-45"));
        assert_eq!(
            post_file_name("2016-13-45-x.md").unwrap_err().to_string(),
            "the date 2016-13-45 in the file name cannot exist (Jekyll aborts the build)"
        );
        assert!(post_file_name("2016-01-00-x.md").is_err());
    }

    #[test]
    fn filter_dates_keep_their_offset_and_refuse_what_time_parse_rolls_over() {
        let d = FilterDate::parse("2008-11-07 13:07:54 -0800").expect("valid");
        assert_eq!(d.xmlschema(), "2008-11-07T13:07:54-08:00");
        assert_eq!(d.rfc822(), "Fri, 07 Nov 2008 13:07:54 -0800");
        assert_eq!(d.stringify(false, false, false), "07 Nov 2008");
        assert_eq!(d.stringify(true, true, true), "November 7th, 2008");
        assert_eq!(FilterDate::parse("2016-03-01T10:00Z").expect("valid").xmlschema(), "2016-03-01T10:00:00+00:00");
        // Where the two parsers differ on purpose: Ruby rolls an impossible day over, the filters refuse it.
        assert_eq!(at("2016-02-30", Quoted, UTC), "2016-03-01T00:00:00+00:00");
        assert!(FilterDate::parse("2016-02-30").is_none());
        assert!(FilterDate::parse("March 3, 2016").is_none());
        assert!(parse("March 3, 2016", Quoted, UTC).is_ok());
    }
}
