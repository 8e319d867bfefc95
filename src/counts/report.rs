//! The stats, rendered: the plain-text table `tidings stats` prints and the `/stats` page.
//!
//! Pure: the rows come from the store, "today" from the caller. The output is deterministic
//! (feeds by total, then path; aggregators by name, `Other` last). Feed paths and aggregator
//! ids come from requests, so the page escapes every text it shows and the table replaces
//! control characters (a terminal would obey them).
//!
//! The page is one document with one inline `<style>`, no script and nothing fetched, so it
//! works under `Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'`; void
//! elements are closed, so it is well-formed XML too. Each feed gets a bar chart of its last
//! [`CHART_DAYS`] days: one slot a day, bars stacked from reported subscribers, pollers and
//! hub subscriptions (so a bar's height is the day's total). Days without data are gaps; a
//! day with data has a grey mark under the axis, which tells a day of zero from a day unknown.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use chrono::{Days, NaiveDate};

use super::FLUSH_INTERVAL_SECS;
use super::agents::{OTHER, display_name};
use crate::text::escape_markup as esc;

/// One feed's figures for one day (the database layer's row; an aggregator's figure is at
/// most [`super::agents::MAX_PLAUSIBLE`]).
pub use crate::db::DayCounts as DayRow;

/// How many days the page's charts show, ending at today.
pub const CHART_DAYS: u64 = 90;

/// What the columns mean, for both outputs.
const EXPLAINED: &str = "Reported counts are what aggregators (Feedly, Inoreader, NewsBlur, …) announce in \
    the User-Agent of their polls, the largest each gave that day. Pollers are the other distinct \
    address + User-Agent pairs that polled that day (at most 16 per address), counted by a hash salted anew \
    each day; no address is stored. WebSub is subscriptions to the built-in hub. Total is the three added up.";

/// The sentence for a store with no rows.
fn nothing_yet() -> String {
    format!(
        "No polls recorded yet. tidings counts the polls of its feeds while `tidings serve` runs and \
         writes the counts every {FLUSH_INTERVAL_SECS} seconds; come back once readers have polled."
    )
}

/// Each feed's row for `day`, or its latest before `day`, sorted by total (largest first),
/// then path. Feeds with nothing on or before `day` are left out; of two rows for one feed
/// and day, the later in `rows` counts.
fn latest(rows: &[DayRow], day: NaiveDate) -> Vec<&DayRow> {
    let mut by_feed: BTreeMap<&str, &DayRow> = BTreeMap::new();
    for row in rows.iter().filter(|r| r.day <= day) {
        match by_feed.get(row.feed.as_str()) {
            Some(have) if have.day > row.day => {}
            _ => {
                by_feed.insert(&row.feed, row);
            }
        }
    }
    let mut out: Vec<&DayRow> = by_feed.into_values().collect();
    out.sort_by(|a, b| b.total().cmp(&a.total()).then_with(|| a.feed.cmp(&b.feed)));
    out
}

/// The aggregator ids `rows` report, in column order: by display name, `other` last.
fn aggregators<'a>(rows: impl IntoIterator<Item = &'a DayRow>) -> Vec<&'a str> {
    let ids: BTreeSet<&str> = rows.into_iter().flat_map(|r| r.reported.keys().map(String::as_str)).collect();
    let mut ids: Vec<&str> = ids.into_iter().collect();
    ids.sort_by(|a, b| (*a == OTHER, display_name(a), a).cmp(&(*b == OTHER, display_name(b), b)));
    ids
}

/// `s` safe to print on a terminal: control and bidirectional-override characters become `�`.
fn printable(s: &str) -> String {
    s.chars()
        .map(|c| {
            let bidi = matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
            if c.is_control() || bidi { '\u{FFFD}' } else { c }
        })
        .collect()
}

/// The plain-text table `tidings stats` prints: a line per feed with its figures for `day`
/// (or its latest day before, written after its path), columns feed, total, websub, pollers
/// and one per aggregator seen (`-` where a feed has no count from it), aligned, sorted by
/// total (largest first) then path; a TOTAL line; and what the columns mean. With no rows,
/// a sentence saying none are recorded yet and how often they are written. Rows after `day`
/// are not shown.
pub fn table(rows: &[DayRow], day: NaiveDate) -> String {
    if rows.is_empty() {
        return nothing_yet() + "\n";
    }
    let shown = latest(rows, day);
    if shown.is_empty() {
        return format!("No polls recorded on or before {day}.\n");
    }
    let ids = aggregators(shown.iter().copied());
    let mut lines: Vec<Vec<String>> = Vec::with_capacity(shown.len() + 2);
    let mut header: Vec<String> = ["feed", "total", "websub", "pollers"].map(String::from).to_vec();
    header.extend(ids.iter().map(|id| printable(display_name(id))));
    lines.push(header);
    let mut sums = vec![0u64; 3 + ids.len()];
    for row in &shown {
        let mut feed = printable(&row.feed);
        if row.day != day {
            let _ = write!(feed, " ({})", row.day);
        }
        let mut line = vec![feed];
        let mut figures = vec![Some(row.total()), Some(row.websub), Some(row.pollers)];
        figures.extend(ids.iter().map(|id| row.reported.get(*id).copied()));
        for (sum, n) in sums.iter_mut().zip(&figures) {
            *sum = sum.saturating_add(n.unwrap_or(0));
        }
        line.extend(figures.iter().map(|n| n.map_or_else(|| "-".to_owned(), |n| n.to_string())));
        lines.push(line);
    }
    let mut total = vec!["TOTAL".to_owned()];
    total.extend(sums.iter().map(u64::to_string));
    lines.push(total);

    let columns = lines[0].len();
    let widths: Vec<usize> =
        (0..columns).map(|c| lines.iter().map(|l| l[c].chars().count()).max().unwrap_or(0)).collect();
    let mut out = format!("Subscribers on {day}\n\n");
    for line in &lines {
        let mut text = String::new();
        for (c, cell) in line.iter().enumerate() {
            let pad = widths[c] - cell.chars().count();
            if c == 0 {
                text.push_str(cell);
                text.extend(std::iter::repeat_n(' ', pad));
            } else {
                text.push_str("  ");
                text.extend(std::iter::repeat_n(' ', pad));
                text.push_str(cell);
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    }
    let note = format!(
        "{EXPLAINED} TOTAL adds the feeds up, so a reader of two feeds counts twice. A date after a \
         feed means it has no figures for {day} and shows its latest."
    );
    out.push('\n');
    out.push_str(&wrap(&note, WRAP));
    out
}

/// Where the table's note is wrapped.
const WRAP: usize = 96;

/// `text` in lines of at most `width` characters (longer words alone on theirs), each ending
/// in a newline.
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / width + 1);
    let mut line = 0;
    for word in text.split_whitespace() {
        let len = word.chars().count();
        if line > 0 && line + 1 + len > width {
            out.push('\n');
            line = 0;
        }
        if line > 0 {
            out.push(' ');
            line += 1;
        }
        out.push_str(word);
        line += len;
    }
    out.push('\n');
    out
}

/// The chart's geometry: a slot a day, the plot area's position and size.
const SLOT: f64 = 6.0;
const BAR: f64 = 5.0;
const LEFT: f64 = 48.0;
const TOP: f64 = 10.0;
const PLOT_HEIGHT: f64 = 120.0;
const BOTTOM: f64 = 24.0;
const RIGHT: f64 = 8.0;

/// The page's one style sheet.
const STYLE: &str = "\
body{font:15px/1.45 system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem;color:#222;background:#fff}
h1{font-size:1.4rem;margin:0 0 .5rem}
h2{font:600 .95rem/1.3 ui-monospace,monospace;overflow-wrap:anywhere;margin:2.2rem 0 .4rem}
.note{color:#555;font-size:.9rem}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}
caption{text-align:left;color:#666;font-size:.85rem}
th,td{padding:.15rem .6rem;text-align:right;border-bottom:1px solid #ddd}
th{font-weight:600}
svg{display:block;max-width:100%;height:auto;margin-top:.6rem}
svg text{font:11px system-ui,sans-serif;fill:#555}
.ax{stroke:#999;stroke-width:1;fill:none}
.r{fill:#3b6fc4}.p{fill:#e0903a}.w{fill:#3f9f5a}.s{fill:#bbb}
.k{display:inline-block;width:.8em;height:.8em;margin:0 .3em 0 .9em;vertical-align:-.05em}
.k.r{background:#3b6fc4}.k.p{background:#e0903a}.k.w{background:#3f9f5a}.k.s{background:#bbb}
@media (prefers-color-scheme:dark){body{color:#ddd;background:#161616}.note,caption{color:#aaa}\
th,td{border-color:#333}svg text{fill:#aaa}}
";

/// The `/stats` HTML page: `site_title`, then for each feed (by latest total, largest first,
/// then path) a heading with its path, its latest figures in a small table, and a bar chart of
/// the [`CHART_DAYS`] days ending at `today` (bars stacked from reported, pollers and websub,
/// so a bar is the day's total; days without data are gaps; the y axis labelled with the
/// highest total, the x axis with the first and last date). Rows after `today` are ignored; a
/// feed whose latest row is older than the chart still gets its table (and an empty chart).
pub fn page(rows: &[DayRow], today: NaiveDate, site_title: &str) -> String {
    let title = format!("Subscribers — {}", site_title.trim());
    let mut out = String::with_capacity(8192);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n\
         <meta name=\"color-scheme\" content=\"light dark\"/>\n<meta name=\"robots\" content=\"noindex\"/>\n\
         <title>{t}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n<h1>{t}</h1>\n",
        t = esc(&title)
    );
    let shown = latest(rows, today);
    if shown.is_empty() {
        let _ = writeln!(out, "<p>{}</p>", esc(&nothing_yet()));
    } else {
        let _ = writeln!(
            out,
            "<p class=\"note\">Figures for {today}, or a feed's latest day before it. {} Charts show the last {CHART_DAYS} \
             days: bars <span class=\"k r\"></span>reported <span class=\"k p\"></span>pollers \
             <span class=\"k w\"></span>WebSub, stacked to the day's total; days without data are blank, \
             and a <span class=\"k s\"></span>mark under the axis says a day has data.</p>",
            esc(EXPLAINED)
        );
    }
    // Each feed's rows in the chart's window, by day (the later of two rows for a day counts).
    let first = today - Days::new(CHART_DAYS - 1);
    let mut window: BTreeMap<&str, BTreeMap<NaiveDate, &DayRow>> = BTreeMap::new();
    for row in rows.iter().filter(|r| r.day >= first && r.day <= today) {
        window.entry(&row.feed).or_default().insert(row.day, row);
    }
    let empty = BTreeMap::new();
    for row in shown {
        let _ = writeln!(out, "<section>\n<h2>{}</h2>", esc(&row.feed));
        figures(&mut out, row, today);
        chart(&mut out, &row.feed, window.get(row.feed.as_str()).unwrap_or(&empty), today);
        out.push_str("</section>\n");
    }
    out.push_str("</body>\n</html>\n");
    out
}

/// The small table of a feed's latest figures.
fn figures(out: &mut String, row: &DayRow, today: NaiveDate) {
    let when = if row.day == today { format!("On {}", row.day) } else { format!("Latest figures: {}", row.day) };
    let ids = aggregators([row]);
    let _ = write!(
        out,
        "<table>\n<caption>{when}</caption>\n<thead><tr><th scope=\"col\">Total</th><th scope=\"col\">WebSub</th>\
         <th scope=\"col\">Pollers</th>"
    );
    for id in &ids {
        let _ = write!(out, "<th scope=\"col\">{}</th>", esc(display_name(id)));
    }
    let _ = write!(
        out,
        "</tr></thead>\n<tbody><tr><td>{}</td><td>{}</td><td>{}</td>",
        row.total(),
        row.websub,
        row.pollers
    );
    for id in &ids {
        let _ = write!(out, "<td>{}</td>", row.reported[*id]);
    }
    out.push_str("</tr></tbody>\n</table>\n");
}

/// The inline SVG bar chart of `days` (one feed's rows by day) for the [`CHART_DAYS`] days
/// ending at `today`.
fn chart(out: &mut String, feed: &str, days: &BTreeMap<NaiveDate, &DayRow>, today: NaiveDate) {
    let first = today - Days::new(CHART_DAYS - 1);
    let max = days.values().map(|r| r.total()).max().unwrap_or(0).max(1);
    let width = LEFT + SLOT * CHART_DAYS as f64 + RIGHT;
    let height = TOP + PLOT_HEIGHT + BOTTOM;
    let base = TOP + PLOT_HEIGHT;
    let scale = PLOT_HEIGHT / max as f64;
    // One path per series: a rectangle a day, stacked from the axis up.
    let (mut reported, mut pollers, mut websub, mut seen) =
        (String::new(), String::new(), String::new(), String::new());
    for (day, row) in days {
        let slot = (*day - first).num_days() as f64;
        let x = LEFT + slot * SLOT + (SLOT - BAR) / 2.0;
        let mut y = base;
        for (path, n) in [(&mut reported, row.reported_sum()), (&mut pollers, row.pollers), (&mut websub, row.websub)] {
            if n == 0 {
                continue;
            }
            let h = n as f64 * scale;
            y -= h;
            let _ = write!(path, "M{x:.1} {y:.1}h{BAR}v{h:.1}h-{BAR}z");
        }
        let _ = write!(seen, "M{x:.1} {:.1}h{BAR}v2h-{BAR}z", base + 2.0);
    }
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" data-days=\"{CHART_DAYS}\">\n\
         <title>{}: subscribers a day from {first} to {today}; the highest total is {max}</title>\n",
        esc(feed)
    );
    for (class, path) in [("r", &reported), ("p", &pollers), ("w", &websub), ("s", &seen)] {
        if !path.is_empty() {
            let _ = writeln!(out, "<path class=\"{class}\" d=\"{path}\"/>");
        }
    }
    let right = LEFT + SLOT * CHART_DAYS as f64;
    let _ = write!(
        out,
        "<path class=\"ax\" d=\"M{LEFT} {TOP}V{base}H{right}\"/>\n\
         <text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\">{max}</text>\n\
         <text x=\"{lx}\" y=\"{base}\" text-anchor=\"end\">0</text>\n\
         <text x=\"{LEFT}\" y=\"{dy}\">{first}</text>\n\
         <text x=\"{right}\" y=\"{dy}\" text-anchor=\"end\">{today}</text>\n</svg>\n",
        lx = LEFT - 6.0,
        ty = TOP + 8.0,
        dy = height - 4.0,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().expect("a date")
    }

    fn row(feed: &str, on: &str, reported: &[(&str, u64)], pollers: u64, websub: u64) -> DayRow {
        DayRow {
            feed: feed.to_owned(),
            day: day(on),
            reported: reported.iter().map(|(id, n)| ((*id).to_owned(), *n)).collect(),
            pollers,
            websub,
        }
    }

    /// Parses `page` as XML (the doctype allowed) or fails the test with the parser's error.
    fn parse(page: &str) -> roxmltree::Document<'_> {
        let options = roxmltree::ParsingOptions { allow_dtd: true, ..Default::default() };
        roxmltree::Document::parse_with_options(page, options).unwrap_or_else(|e| panic!("{e}\n{page}"))
    }

    fn sample() -> Vec<DayRow> {
        vec![
            row("/feed.atom", "2025-06-01", &[("feedly", 120), ("inoreader", 8)], 10, 2),
            row("/feed.atom", "2025-05-31", &[("feedly", 118)], 9, 2),
            row("/category/ops/feed.atom", "2025-06-01", &[("newsblur", 3), ("other", 1)], 4, 0),
            row("/tag/rust/feed.rss", "2025-06-01", &[], 7, 1),
            row("/old.atom", "2025-05-20", &[("feedly", 1)], 0, 0),
        ]
    }

    #[test]
    fn totals_add_up_and_saturate() {
        let r = row("/f", "2025-06-01", &[("feedly", 120), ("inoreader", 8)], 10, 2);
        assert_eq!(r.total(), 140);
        let huge = row("/f", "2025-06-01", &[("a", u64::MAX), ("b", 1)], 1, 1);
        assert_eq!(huge.total(), u64::MAX);
    }

    #[test]
    fn table_sorts_aligns_and_sums() {
        let text = table(&sample(), day("2025-06-01"));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "Subscribers on 2025-06-01");
        assert_eq!(lines[2], "feed                     total  websub  pollers  Feedly  Inoreader  NewsBlur  Other");
        assert_eq!(lines[3], "/feed.atom                 140       2       10     120          8         -      -");
        assert_eq!(lines[4], "/category/ops/feed.atom      8       0        4       -          -         3      1");
        assert_eq!(lines[5], "/tag/rust/feed.rss           8       1        7       -          -         -      -");
        assert_eq!(lines[6], "/old.atom (2025-05-20)       1       0        0       1          -         -      -");
        assert_eq!(lines[7], "TOTAL                      157       3       21     121          8         3      1");
        assert!(lines[9].starts_with("Reported counts are what aggregators"), "{text}");
        assert!(text.replace('\n', " ").contains("no address is stored"), "{text}");
        assert!(lines[9..].iter().all(|l| l.chars().count() <= WRAP), "the note is wrapped");
        // Numbers are right-aligned, so every line ends where the header does.
        assert!(lines[2..8].iter().all(|l| l.chars().count() == lines[2].chars().count()));
    }

    #[test]
    fn wrapping() {
        assert_eq!(wrap("a bb ccc dddd", 6), "a bb\nccc\ndddd\n");
        assert_eq!(wrap("toolongword x", 4), "toolongword\nx\n");
        assert_eq!(wrap("", 4), "\n");
    }

    #[test]
    fn table_ties_break_by_path() {
        let rows = vec![row("/b", "2025-06-01", &[], 2, 0), row("/a", "2025-06-01", &[], 2, 0)];
        let text = table(&rows, day("2025-06-01"));
        let a = text.find("\n/a").unwrap();
        let b = text.find("\n/b").unwrap();
        assert!(a < b);
    }

    #[test]
    fn table_when_there_is_nothing() {
        let text = table(&[], day("2025-06-01"));
        assert!(text.starts_with("No polls recorded yet."), "{text}");
        assert!(text.contains(&format!("every {FLUSH_INTERVAL_SECS} seconds")));
        let later_only = vec![row("/f", "2025-06-02", &[], 1, 0)];
        assert_eq!(table(&later_only, day("2025-06-01")), "No polls recorded on or before 2025-06-01.\n");
    }

    #[test]
    fn table_prints_no_control_characters() {
        let rows = vec![row("/x\u{1b}[2J\u{202e}<script>", "2025-06-01", &[("evil\u{7}", 1)], 0, 0)];
        let text = table(&rows, day("2025-06-01"));
        assert!(!text.chars().any(|c| c.is_control() && c != '\n'), "{text:?}");
        assert!(!text.contains('\u{202e}'));
        assert!(text.contains("/x\u{fffd}[2J\u{fffd}<script>"));
    }

    #[test]
    fn page_is_well_formed_and_complete() {
        let today = day("2025-06-01");
        let html = page(&sample(), today, "Ops & <Notes>");
        let doc = parse(&html);
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "html");
        let title = root.descendants().find(|n| n.has_tag_name("title")).unwrap();
        assert_eq!(title.text(), Some("Subscribers — Ops & <Notes>"));
        let headings: Vec<&str> =
            root.descendants().filter(|n| n.has_tag_name("h2")).filter_map(|n| n.text()).collect();
        assert_eq!(headings, ["/feed.atom", "/category/ops/feed.atom", "/tag/rust/feed.rss", "/old.atom"]);
        assert_eq!(root.descendants().filter(|n| n.has_tag_name("style")).count(), 1);
        assert!(!html.contains("<script"), "no script");
        assert!(!html.contains(" style="), "no style attributes");
        let svgs: Vec<_> = root.descendants().filter(|n| n.tag_name().name() == "svg").collect();
        assert_eq!(svgs.len(), 4);
        for svg in &svgs {
            assert_eq!(svg.tag_name().namespace(), Some("http://www.w3.org/2000/svg"));
            assert_eq!(svg.attribute("data-days"), Some("90"));
            let texts: Vec<&str> =
                svg.descendants().filter(|n| n.has_tag_name("text")).filter_map(|n| n.text()).collect();
            assert!(texts.contains(&"2025-03-04") && texts.contains(&"2025-06-01"), "first and last day: {texts:?}");
        }
        // The first feed's y axis is labelled with its highest total.
        let texts: Vec<&str> =
            svgs[0].descendants().filter(|n| n.has_tag_name("text")).filter_map(|n| n.text()).collect();
        assert_eq!(texts[0], "140");
        // Its latest figures, with a column per aggregator.
        let cells: Vec<&str> = root
            .descendants()
            .find(|n| n.has_tag_name("table"))
            .unwrap()
            .descendants()
            .filter(|n| n.has_tag_name("td") || n.has_tag_name("th"))
            .filter_map(|n| n.text())
            .collect();
        assert_eq!(cells, ["Total", "WebSub", "Pollers", "Feedly", "Inoreader", "140", "2", "10", "120", "8"]);
    }

    /// The `d` of a chart's path of `class`, if it has one.
    fn path<'a>(svg: roxmltree::Node<'a, 'a>, class: &str) -> Option<&'a str> {
        svg.descendants().find(|n| n.attribute("class") == Some(class)).and_then(|n| n.attribute("d"))
    }

    #[test]
    fn chart_has_90_day_slots() {
        let today = day("2025-06-01");
        let first = today - Days::new(89);
        let rows = vec![
            row("/f", &first.to_string(), &[], 1, 0),
            row("/f", &today.to_string(), &[("feedly", 3)], 0, 1),
            row("/f", &(first - Days::new(1)).to_string(), &[], 50, 0),
            row("/f", &(today + Days::new(1)).to_string(), &[], 70, 0),
        ];
        let html = page(&rows, today, "Site");
        let doc = parse(&html);
        let svg = doc.descendants().find(|n| n.tag_name().name() == "svg").unwrap();
        // Only the two days in the window count: the axis says 4, not 50 or 70.
        let texts: Vec<&str> = svg.descendants().filter(|n| n.has_tag_name("text")).filter_map(|n| n.text()).collect();
        assert_eq!(texts, ["4", "0", "2025-03-04", "2025-06-01"]);
        // Slot 0 and slot 89, each mark a bar's width, half a pixel in from its slot's edge.
        let seen = path(svg, "s").unwrap();
        assert_eq!(seen, "M48.5 132.0h5v2h-5zM582.5 132.0h5v2h-5z");
        assert_eq!(path(svg, "p"), Some("M48.5 100.0h5v30.0h-5z"));
        assert_eq!(path(svg, "r"), Some("M582.5 40.0h5v90.0h-5z"));
        assert_eq!(path(svg, "w"), Some("M582.5 10.0h5v30.0h-5z"), "websub stacked on top, up to the axis' top");
        let right = 48.0 + 6.0 * 90.0;
        assert!(html.contains(&format!("H{right}\"")), "the axis spans 90 slots");
        // The latest figures are today's, not the future row's.
        assert!(html.contains("<caption>On 2025-06-01</caption>"));
    }

    #[test]
    fn page_escapes_what_requests_put_there() {
        let hostile = "/x<script>&\"";
        let rows = vec![row(hostile, "2025-06-01", &[("<img src=x onerror=alert(1)>", 2), ("feedly", 1)], 1, 0)];
        let html = page(&rows, day("2025-06-01"), "T\u{0}itle</title><script>");
        let doc = parse(&html);
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"));
        let h2 = doc.descendants().find(|n| n.has_tag_name("h2")).unwrap();
        assert_eq!(h2.text(), Some(hostile));
        let svg_title = doc.descendants().filter(|n| n.has_tag_name("title")).nth(1).unwrap();
        assert!(svg_title.text().unwrap().starts_with(hostile));
        let ths: Vec<&str> = doc.descendants().filter(|n| n.has_tag_name("th")).filter_map(|n| n.text()).collect();
        assert_eq!(ths, ["Total", "WebSub", "Pollers", "<img src=x onerror=alert(1)>", "Feedly"]);
    }

    #[test]
    fn page_when_there_is_nothing() {
        let html = page(&[], day("2025-06-01"), "Site");
        let doc = parse(&html);
        let p = doc.descendants().find(|n| n.has_tag_name("p")).unwrap();
        assert!(p.text().unwrap().starts_with("No polls recorded yet."));
        assert!(!html.contains("<svg"));
    }

    #[test]
    fn a_feed_with_only_old_data() {
        let today = day("2025-06-01");
        let rows =
            vec![row("/old.atom", "2024-12-25", &[("feedly", 5)], 2, 0), row("/new.atom", "2025-06-01", &[], 1, 0)];
        let html = page(&rows, today, "Site");
        let doc = parse(&html);
        let headings: Vec<&str> = doc.descendants().filter(|n| n.has_tag_name("h2")).filter_map(|n| n.text()).collect();
        assert_eq!(headings, ["/old.atom", "/new.atom"], "sorted by latest total, old or not");
        assert!(html.contains("<caption>Latest figures: 2024-12-25</caption>"));
        let svg = doc.descendants().find(|n| n.tag_name().name() == "svg").unwrap();
        assert!(["r", "p", "w", "s"].iter().all(|c| path(svg, c).is_none()), "an empty chart: all gaps");
        let texts: Vec<&str> = svg.descendants().filter(|n| n.has_tag_name("text")).filter_map(|n| n.text()).collect();
        assert_eq!(texts, ["1", "0", "2025-03-04", "2025-06-01"]);
        let text = table(&rows, today);
        assert!(text.contains("/old.atom (2024-12-25)"), "{text}");
    }

    #[test]
    fn output_is_deterministic() {
        let mut rows = sample();
        let a = (page(&rows, day("2025-06-01"), "S"), table(&rows, day("2025-06-01")));
        rows.reverse();
        let b = (page(&rows, day("2025-06-01"), "S"), table(&rows, day("2025-06-01")));
        assert_eq!(a, b);
    }
}
