//! Target dates as printed → ISO partial dates (SPEC §3).
//!
//! The grammar lives here (ranges, day-first numeric dates, financial years
//! and their quarters, open-ended "From …" targets, "Original … Revised …"
//! pairs); the vocabulary (month names, seasons, the phrases for ongoing,
//! original, revised and from) comes from `rules/dates.toml`.

use crate::layout::join_lines;
use crate::model::TargetDate;
use crate::rules::{normalise, Dates};

/// A calendar point with month or day precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Point {
    year: i32,
    month: u32,
    day: Option<u32>,
}

impl Point {
    fn iso(self) -> String {
        match self.day {
            Some(d) => format!("{:04}-{:02}-{:02}", self.year, self.month, d),
            None => format!("{:04}-{:02}", self.year, self.month),
        }
    }
}

/// A span of time a phrase denotes; `year` may be missing ("June" in
/// "June – November 2021") and is filled from the span it pairs with.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Span {
    start: (Option<i32>, u32, Option<u32>),
    end: (Option<i32>, u32, Option<u32>),
    /// Months the end lies after the start's year (winter: Dec → Feb).
    end_year_offset: i32,
}

impl Span {
    fn month(year: Option<i32>, month: u32, day: Option<u32>) -> Span {
        Span { start: (year, month, day), end: (year, month, day), end_year_offset: 0 }
    }

    fn has_year(&self) -> bool {
        self.start.0.is_some()
    }

    fn with_year(mut self, year: i32) -> Span {
        self.start.0 = Some(year);
        self.end.0 = Some(year + self.end_year_offset);
        self
    }

    fn start_point(&self) -> Option<Point> {
        Some(Point { year: self.start.0?, month: self.start.1, day: self.start.2 })
    }

    fn end_point(&self) -> Option<Point> {
        Some(Point { year: self.end.0?, month: self.end.1, day: self.end.2 })
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Span(Span),
    Dash,
    Slash,
    Word,
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

fn year_of(s: &str) -> Option<i32> {
    let n: i32 = s.parse().ok()?;
    match s.len() {
        4 if (1900..=2100).contains(&n) => Some(n),
        _ => None,
    }
}

/// "2022/23", "2022-23", "2022/2023" → 2022 (a financial year's first year).
fn financial_year(s: &str) -> Option<i32> {
    let (a, b) = s.split_once(['/', '-', '–'])?;
    let y1 = year_of(a)?;
    let y2: i32 = b.parse().ok()?;
    let y2 = if b.len() == 2 {
        (y1 / 100) * 100 + y2
    } else if b.len() == 4 {
        y2
    } else {
        return None;
    };
    (y2 == y1 + 1).then_some(y1)
}

/// "31/03/2023", "31.03.23" → a day (UK day-first).
fn numeric_date(s: &str) -> Option<Point> {
    let parts: Vec<&str> = s.split(['/', '.', '-']).collect();
    if parts.len() != 3 {
        return None;
    }
    let d: u32 = parts[0].parse().ok()?;
    let m: u32 = parts[1].parse().ok()?;
    let y: i32 = parts[2].parse().ok()?;
    let y = match parts[2].len() {
        2 => 2000 + y,
        4 => y,
        _ => return None,
    };
    ((1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m)).then_some(Point { year: y, month: m, day: Some(d) })
}

fn ordinal_day(w: &str) -> Option<u32> {
    let digits = w.trim_end_matches(|c: char| c.is_alphabetic());
    let suffix = &w[digits.len()..];
    if !matches!(suffix, "" | "st" | "nd" | "rd" | "th") || digits.is_empty() || digits.len() > 2 {
        return None;
    }
    let d: u32 = digits.parse().ok()?;
    (1..=31).contains(&d).then_some(d)
}

/// Split printed text into date tokens.
fn tokenize(text: &str, vocab: &Dates) -> Vec<Tok> {
    // Words are runs of letters/digits plus the separators of numeric forms.
    let mut raw: Vec<String> = Vec::new();
    let mut cur = String::new();
    let flush = |cur: &mut String, raw: &mut Vec<String>| {
        if !cur.is_empty() {
            raw.push(std::mem::take(cur));
        }
    };
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let next_digit = chars.get(i + 1).is_some_and(|n| n.is_ascii_digit());
        let prev_digit = i > 0 && chars[i - 1].is_ascii_digit();
        if c.is_alphanumeric() {
            cur.extend(c.to_lowercase());
        } else if matches!(c, '/' | '.' | '-' | '–') && prev_digit && next_digit && !cur.is_empty() {
            // Inside "31/03/2023" or "2022/23" or "2022-23".
            cur.push(if c == '–' { '-' } else { c });
        } else {
            flush(&mut cur, &mut raw);
            match c {
                '-' | '–' | '—' | '‑' => raw.push("-".into()),
                '/' | '&' => raw.push("/".into()),
                _ => {}
            }
        }
    }
    flush(&mut cur, &mut raw);

    let mut toks = Vec::new();
    let mut i = 0;
    while i < raw.len() {
        let w = raw[i].as_str();
        let next = raw.get(i + 1).map(|s| s.as_str());
        if w == "-" || vocab.range_words.iter().any(|r| r == w) {
            toks.push(Tok::Dash);
        } else if w == "/" || vocab.list_words.iter().any(|l| l == w) {
            toks.push(Tok::Slash);
        } else if let Some(p) = numeric_date(w) {
            toks.push(Tok::Span(Span::month(Some(p.year), p.month, p.day)));
        } else if let Some(y1) = financial_year(w) {
            toks.push(Tok::Span(Span { start: (Some(y1), 4, None), end: (Some(y1 + 1), 3, None), end_year_offset: 1 }));
        } else if let Some(y) = year_of(w) {
            // A bare year after a month or season was consumed with it, so
            // this one stands alone: the whole calendar year.
            toks.push(Tok::Span(Span { start: (Some(y), 1, None), end: (Some(y), 12, None), end_year_offset: 0 }));
        } else if let Some(&m) = vocab.months.get(w) {
            let year = next.and_then(year_of);
            if year.is_some() {
                i += 1;
            }
            toks.push(Tok::Span(Span::month(year, m, None)));
        } else if let Some(d) = ordinal_day(w).filter(|_| next.is_some_and(|n| vocab.months.contains_key(n))) {
            let m = next.and_then(|n| vocab.months.get(n)).copied().unwrap_or(1);
            let year = raw.get(i + 2).and_then(|s| year_of(s));
            i += if year.is_some() { 2 } else { 1 };
            toks.push(Tok::Span(Span::month(year, m, Some(d))));
        } else if let Some(season) = vocab.seasons.get(w) {
            let year = next.and_then(year_of);
            if year.is_some() {
                i += 1;
            }
            let offset = if season.end < season.start { 1 } else { 0 };
            toks.push(Tok::Span(Span {
                start: (year, season.start, None),
                end: (year.map(|y| y + offset), season.end, None),
                end_year_offset: offset,
            }));
        } else if let Some(q) = quarter(w, next, vocab) {
            // "q3 2022/23", "quarter 3 2022/23", "q3 2022"
            let consumed = if w.starts_with('q') && w.len() == 2 { 0 } else { 1 };
            let fy_word = raw.get(i + 1 + consumed).map(|s| s.as_str());
            let fy = fy_word.and_then(financial_year).or_else(|| fy_word.and_then(year_of));
            if let Some(y1) = fy {
                i += 1 + consumed;
                let (start_m, year) = match q {
                    1 => (4, y1),
                    2 => (7, y1),
                    3 => (10, y1),
                    _ => (1, y1 + 1),
                };
                toks.push(Tok::Span(Span {
                    start: (Some(year), start_m, None),
                    end: (Some(year), start_m + 2, None),
                    end_year_offset: 0,
                }));
            } else {
                toks.push(Tok::Word);
            }
        } else {
            toks.push(Tok::Word);
        }
        i += 1;
    }
    toks
}

/// The quarter number of "q3" or "quarter" followed by "3".
fn quarter(w: &str, next: Option<&str>, vocab: &Dates) -> Option<u32> {
    if let Some(n) = w.strip_prefix('q').filter(|n| n.len() == 1) {
        if vocab.quarter_words.iter().any(|q| q == "q") {
            return n.parse().ok().filter(|q| (1..=4).contains(q));
        }
    }
    if vocab.quarter_words.iter().any(|q| q == w) {
        return next?.parse().ok().filter(|q: &u32| (1..=4).contains(q));
    }
    None
}

/// The overall span of the dates in a piece of text: from the first date's
/// start to the last date's end, with missing years filled from the date
/// that follows ("June – November 2021") or precedes.
fn overall(text: &str, vocab: &Dates) -> Option<(Point, Option<Point>)> {
    let toks = tokenize(text, vocab);
    // "July 2021 – outcome of bid known": a range whose end is an event, not
    // a date, has no end date.
    let last_span = toks.iter().rposition(|t| matches!(t, Tok::Span(_)))?;
    let open_ended =
        matches!(toks.get(last_span + 1), Some(Tok::Dash)) && matches!(toks.get(last_span + 2), Some(Tok::Word));
    let mut spans: Vec<Span> =
        toks.into_iter().filter_map(|t| if let Tok::Span(s) = t { Some(s) } else { None }).collect();
    // Fill missing years backwards from the next dated span, then forwards.
    for i in (0..spans.len()).rev() {
        if !spans[i].has_year() {
            if let Some(next) = spans[i + 1..].iter().find(|s| s.has_year()).copied() {
                let ny = next.start.0.unwrap_or(0);
                let y = if spans[i].start.1 > next.start.1 { ny - 1 } else { ny };
                spans[i] = spans[i].with_year(y);
            }
        }
    }
    for i in 0..spans.len() {
        if !spans[i].has_year() {
            if let Some(prev) = spans[..i].iter().rev().find(|s| s.has_year()).copied() {
                let py = prev.end.0.unwrap_or(0);
                let y = if spans[i].start.1 < prev.end.1 { py + 1 } else { py };
                spans[i] = spans[i].with_year(y);
            }
        }
    }
    let start = spans.iter().find_map(|s| s.start_point())?;
    let end = spans.iter().rev().find_map(|s| s.end_point())?;
    Some((start, (!open_ended).then_some(end)))
}

/// Split off parenthesised asides: ("Ongoing", ["March 2022"]).
fn split_parens(text: &str) -> (String, Vec<String>) {
    let mut main = String::new();
    let mut asides = Vec::new();
    let mut depth = 0usize;
    let mut cur = String::new();
    for c in text.chars() {
        match c {
            '(' | '[' => {
                if depth == 0 {
                    cur.clear();
                } else {
                    cur.push(c);
                }
                depth += 1;
            }
            ')' | ']' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    asides.push(std::mem::take(&mut cur));
                    main.push(' ');
                } else {
                    cur.push(c);
                }
            }
            _ if depth > 0 => cur.push(c),
            _ => main.push(c),
        }
    }
    if depth > 0 {
        asides.push(cur);
    }
    (main, asides)
}

/// Parse one part of a target cell (no original/revised split).
fn parse_part(text: &str, vocab: &Dates) -> TargetDate {
    let mut t = TargetDate::default();
    let (main, asides) = split_parens(text);
    t.ongoing = vocab.ongoing_re.is_match(&main) || asides.iter().any(|a| vocab.ongoing_re.is_match(a));
    let main_wo_ongoing = vocab.ongoing_re.replace_all(&main, " ");
    let from = vocab.from_re.find(&main_wo_ongoing).filter(|m| main_wo_ongoing[..m.start()].trim().is_empty());
    let aside_end = || {
        asides.iter().find_map(|a| overall(&vocab.ongoing_re.replace_all(a, " "), vocab)).map(|(s, e)| e.unwrap_or(s))
    };
    if let Some((s, e)) = overall(&main_wo_ongoing, vocab) {
        t.start = Some(s.iso());
        t.end = if from.is_some() {
            // "From July 2021 (ongoing to October 2022)": the aside ends it.
            aside_end().map(Point::iso)
        } else {
            e.map(Point::iso)
        };
        // "Ongoing (March 2022)"-style single points with ongoing: no start.
        if t.ongoing && Some(s) == e && from.is_none() {
            t.start = None;
        }
    } else if let Some(e) = aside_end() {
        // No date outside the brackets: the bracketed date is the end.
        t.end = Some(e.iso());
    }
    t
}

/// Parse a target-date cell as printed. The second value is a warning when
/// the cell was not understood.
pub fn parse_target(raw: &str, vocab: &Dates) -> (TargetDate, Option<String>) {
    let printed = join_lines(raw);
    if printed.is_empty() {
        return (TargetDate::default(), None);
    }
    let mut t = if let Some(rev) = vocab.revised_re.find(&printed) {
        let before = &printed[..rev.start()];
        let after = printed[rev.end()..].trim_start_matches(|c: char| c == ':' || c.is_whitespace() || c == '-');
        let before = match vocab.original_re.find(before) {
            Some(m) => before[m.end()..].trim_start_matches(|c: char| c == ':' || c.is_whitespace()),
            None => before,
        };
        let mut t = parse_part(before, vocab);
        let revised = parse_part(after, vocab);
        let after = after.trim();
        t.revised_raw = (!after.is_empty()).then(|| after.to_string());
        t.revised_end = revised.end.or(revised.start);
        t.ongoing |= revised.ongoing;
        t
    } else {
        let text = match vocab.original_re.find(&printed) {
            Some(m) if printed[..m.start()].trim().is_empty() => {
                printed[m.end()..].trim_start_matches(|c: char| c == ':' || c.is_whitespace()).to_string()
            }
            _ => printed.clone(),
        };
        parse_part(&text, vocab)
    };
    t.raw = Some(printed.clone());
    let understood = t.start.is_some() || t.end.is_some() || t.ongoing || t.revised_end.is_some();
    let warning = (!understood).then(|| format!("target date {printed:?} not understood; kept as printed"));
    (t, warning)
}

/// A single date ("19 December 2024", "January 2022") as an ISO partial
/// date: the end of what the text denotes.
pub fn parse_point(text: &str, vocab: &Dates) -> Option<String> {
    overall(text, vocab).map(|(s, e)| e.unwrap_or(s).iso())
}

/// Whether the text is only filler words around nothing (used to tell an
/// empty target cell from an unreadable one).
pub fn is_blank(text: &str, vocab: &Dates) -> bool {
    let n = normalise(text);
    n.is_empty() || vocab.filler.contains(&n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Rules;

    fn p(raw: &str) -> TargetDate {
        let rules = Rules::builtin().unwrap();
        parse_target(raw, &rules.dates).0
    }

    fn se(raw: &str) -> (Option<String>, Option<String>) {
        let t = p(raw);
        (t.start, t.end)
    }

    fn s(x: &str) -> Option<String> {
        Some(x.to_string())
    }

    #[test]
    fn spec_table() {
        assert_eq!(se("August 2021"), (s("2021-08"), s("2021-08")));
        assert_eq!(se("June – November 2021"), (s("2021-06"), s("2021-11")));
        assert_eq!(se("July-November 2021"), (s("2021-07"), s("2021-11")));
        assert_eq!(se("June –\nNovember\n2021"), (s("2021-06"), s("2021-11")));
        assert_eq!(se("From September 2021"), (s("2021-09"), None));
        let t = p("Ongoing");
        assert!(t.ongoing && t.start.is_none() && t.end.is_none());
        let t = p("Ongoing (March 2022)");
        assert!(t.ongoing);
        assert_eq!((t.start, t.end), (None, s("2022-03")));
        let t = p("Original target date: December 2021 Revised target date: Summer 2022");
        assert_eq!((t.start.clone(), t.end.clone()), (s("2021-12"), s("2021-12")));
        assert_eq!(t.revised_raw.as_deref(), Some("Summer 2022"));
        assert_eq!(t.revised_end, s("2022-08"));
        assert_eq!(se("31/03/2023"), (s("2023-03-31"), s("2023-03-31")));
        assert_eq!(se("Spring 2022"), (s("2022-03"), s("2022-05")));
        assert_eq!(se("Summer 2022"), (s("2022-06"), s("2022-08")));
        assert_eq!(se("Autumn 2022"), (s("2022-09"), s("2022-11")));
        assert_eq!(se("Winter 2022"), (s("2022-12"), s("2023-02")));
        assert_eq!(se("Q3 2022/23"), (s("2022-10"), s("2022-12")));
        assert_eq!(se("Quarter 4 2022/23"), (s("2023-01"), s("2023-03")));
        assert_eq!(se("End of March 2023"), (s("2023-03"), s("2023-03")));
    }

    #[test]
    fn forms_seen_in_trackers() {
        assert_eq!(se("September 2020 – November 2021 (ongoing to March 2022)"), (s("2020-09"), s("2021-11")));
        assert!(p("September 2020 – November 2021 (ongoing to March 2022)").ongoing);
        let t = p("From July 2021 (ongoing to October 2022)");
        assert_eq!((t.start.clone(), t.end.clone(), t.ongoing), (s("2021-07"), s("2022-10"), true));
        assert_eq!(se("July 2021 – outcome of bid known"), (s("2021-07"), None));
        let t = p("Ongoing for the duration of the pandemic");
        assert!(t.ongoing && t.end.is_none());
        assert_eq!(se("November – January 2022"), (s("2021-11"), s("2022-01")));
        assert_eq!(se("2022/23"), (s("2022-04"), s("2023-03")));
        assert_eq!(se("19th December 2024"), (s("2024-12-19"), s("2024-12-19")));
        let t = p("Original target date:\nDecember\n2021\nRevised\ntarget date:\nMarch 2022");
        assert_eq!((t.end, t.revised_end), (s("2021-12"), s("2022-03")));
    }

    #[test]
    fn unknown_wording_is_kept_raw_with_a_warning() {
        let rules = Rules::builtin().unwrap();
        let (t, w) = parse_target("When the funding allows", &rules.dates);
        assert_eq!(t.raw.as_deref(), Some("When the funding allows"));
        assert!(t.start.is_none() && t.end.is_none());
        assert!(w.unwrap().contains("not understood"));
    }
}
