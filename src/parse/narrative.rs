//! Measures cited in narrative text: "Ref No 1.C4 b) … 28% against a target
//! of 95%".
//!
//! A paragraph about a measure opens with its reference (the intro wording
//! and the reference format are in `rules/measures.toml`). In each of its
//! sentences that states a target, the measure's value is the figure of the
//! same unit nearest before the target (or, failing that, the first after
//! it), skipping figures that are changes ("by 1%"), rate bases ("per
//! 100,000"), years, or figures of another period ("88.2% at the end of
//! quarter 1", "55.1% at end of September 2015"). Only sentences that state
//! both a value and a target yield a measure.

use std::collections::BTreeMap;

use regex::Regex;
use std::sync::OnceLock;

use super::{Parsed, RawMeasure};
use crate::classify::Classification;
use crate::layout::{join_lines, LayoutDoc};
use crate::model::{MeasureSource, Provenance};
use crate::rules::{normalise, Rules};

/// A figure in a sentence.
#[derive(Debug, Clone, PartialEq)]
struct Figure {
    start: usize,
    end: usize,
    text: String,
    unit: Unit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Percent,
    Pounds,
    Days,
    Plain,
}

fn number_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    // Structural, not wording: digits with thousands separators and a decimal
    // part, an optional £ before and % or "days" after.
    RE.get_or_init(|| Regex::new(r"(£\s?)?\d[\d,]*(?:\.\d+)?(?:/\d{2,4})?(\s?%|\s+days\b)?").expect("static pattern"))
}

fn year_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"\b(19|20)\d\d\b").expect("static pattern"))
}

fn unit_of(text: &str) -> Unit {
    if text.contains('%') {
        Unit::Percent
    } else if text.contains('£') {
        Unit::Pounds
    } else if text.contains("days") {
        Unit::Days
    } else {
        Unit::Plain
    }
}

/// Figures of a sentence, without years, financial years and digits inside
/// words (Q2, 19+ stays a figure but is rarely the nearest).
fn figures(s: &str) -> Vec<Figure> {
    number_re()
        .find_iter(s)
        .filter(|m| {
            let before = s[..m.start()].chars().next_back();
            let t = m.as_str().trim();
            let inside_word = before.is_some_and(|c| c.is_alphanumeric() || c == '.');
            let year = t.len() == 4 && (t.starts_with("19") || t.starts_with("20")) && !t.contains(['%', '£']);
            let fin_year = t.contains('/');
            !inside_word && !year && !fin_year
        })
        .map(|m| Figure {
            start: m.start(),
            end: m.end(),
            text: m.as_str().trim().to_string(),
            unit: unit_of(m.as_str()),
        })
        .collect()
}

/// Sentences: split after . ! ? followed by a space and a capital letter.
fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let b = text.as_bytes();
    for (i, ch) in text.char_indices() {
        if matches!(ch, '.' | '!' | '?') {
            let rest = &text[i + 1..];
            let mut it = rest.chars();
            if it.next().is_some_and(|c| c == ' ') && it.next().is_some_and(|c| c.is_uppercase()) {
                // Not after "No." (Ref No. 1.A3) or single letters (e.g.).
                let word: String = text[..i].chars().rev().take_while(|c| c.is_alphanumeric()).collect();
                if word.chars().count() > 2 || word.chars().all(|c| c.is_ascii_digit()) {
                    out.push(&text[start..=i]);
                    start = i + 1;
                }
            }
        }
    }
    if start < b.len() {
        out.push(&text[start..]);
    }
    out
}

/// A quarter's number from a digit or a number word of the rules.
fn quarter_number(w: &str, rules: &Rules) -> Option<u32> {
    w.parse().ok().or_else(|| rules.measures.narrative.number_words.get(&w.to_lowercase()).copied())
}

/// Whether the words after a figure place it in another period than the
/// document's.
fn other_period(after: &str, rules: &Rules, quarter: Option<u32>, first_year: Option<i32>) -> bool {
    // The words up to the next figure or bracket.
    let window: String = after.chars().take_while(|c| !c.is_ascii_digit() && *c != '(' && *c != ';').take(40).collect();
    let norm = format!(" {} ", normalise(&window));
    if rules.measures.narrative.other_period_after.iter().any(|p| norm.contains(&format!(" {p} "))) {
        return true;
    }
    if let (Some(q), Some(c)) = (quarter, rules.measures.narrative.quarter_mention.captures(after)) {
        if c.name("n").and_then(|m| quarter_number(m.as_str(), rules)).is_some_and(|n| n != q) {
            return true;
        }
    }
    if let Some(y) = first_year {
        let near: String = after.chars().take(30).collect();
        if let Some(m) = year_re().find(&near) {
            if m.as_str().parse::<i32>().is_ok_and(|found| found < y) {
                return true;
            }
        }
    }
    false
}

/// Whether the word before a figure makes it a change or a base, not a level.
fn not_level(before: &str, rules: &Rules) -> bool {
    let norm = normalise(before);
    let tail: Vec<&str> = norm.split(' ').collect();
    rules.measures.narrative.not_level_before.iter().any(|p| {
        let words: Vec<&str> = p.split(' ').collect();
        tail.len() >= words.len() && tail[tail.len() - words.len()..] == words[..]
    })
}

/// The value and target a sentence states, if it states both.
fn value_and_target(
    s: &str,
    skip_to: usize,
    rules: &Rules,
    quarter: Option<u32>,
    first_year: Option<i32>,
) -> Option<(String, String)> {
    let target = rules
        .measures
        .narrative
        .target
        .iter()
        .filter_map(|re| {
            re.captures(s).and_then(|c| c.name("n")).map(|m| (m.start(), m.end(), m.as_str().trim().to_string()))
        })
        .min_by_key(|t| t.0)?;
    let unit = unit_of(&target.2);
    let usable = |f: &Figure| {
        f.start >= skip_to
            && (f.end <= target.0 || f.start >= target.1)
            && f.unit == unit
            && !not_level(&s[..f.start], rules)
            && !other_period(&s[f.end..], rules, quarter, first_year)
    };
    let figs = figures(s);
    let before = figs.iter().rev().find(|f| f.end <= target.0 && usable(f));
    let after = || figs.iter().find(|f| f.start >= target.1 && usable(f));
    let value = before.or_else(after)?;
    Some((value.text.clone(), target.2))
}

/// Find the measures narrative paragraphs cite.
pub fn parse(doc: &LayoutDoc, class: &Classification, rules: &Rules, out: &mut Parsed) {
    let quarter = class.period.as_deref().and_then(|p| p.rsplit('Q').next()).and_then(|q| q.trim().parse().ok());
    let first_year: Option<i32> = class.period.as_deref().and_then(|p| p.get(0..4)).and_then(|y| y.parse().ok());
    for p in doc.paragraphs() {
        let text = join_lines(&p.text);
        let Some(intro) = rules.measures.narrative.ref_intro.iter().find_map(|re| re.find(&text)) else { continue };
        let after_intro = &text[intro.end()..];
        let Some(r) =
            rules.measures.ref_pattern.find(after_intro).filter(|m| after_intro[..m.start()].trim().is_empty())
        else {
            continue;
        };
        let ref_end = intro.end() + r.end();
        let mut offset = 0;
        for s in sentences(&text) {
            let skip = ref_end.saturating_sub(offset).min(s.len());
            if let Some((value, target)) = value_and_target(s, skip, rules, quarter, first_year) {
                out.measures.push(RawMeasure {
                    r#ref: Some(r.as_str().to_string()),
                    title: None,
                    good_is: None,
                    frequency: None,
                    target: Some(target),
                    value: Some(value),
                    status: None,
                    status_text: None,
                    direction: None,
                    direction_text: None,
                    priority_measure: false,
                    group: None,
                    source: MeasureSource::Narrative,
                    extra: BTreeMap::new(),
                    provenance: Provenance::Paragraph { paragraph: p.index, page: p.page },
                });
            }
            offset += s.len();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vt(s: &str) -> Option<(String, String)> {
        let rules = Rules::builtin().unwrap();
        value_and_target(s, 0, &rules, Some(2), Some(2016))
    }

    #[test]
    fn value_and_target_from_council_sentences() {
        let p = |a: &str, b: &str| Some((a.to_string(), b.to_string()));
        assert_eq!(vt("Currently performance is 30.4% against the target of 26%."), p("30.4%", "26%"));
        assert_eq!(vt("lower than target profile at 341 against an annual target of 2,500."), p("341", "2,500"));
        assert_eq!(vt("slightly below 6% target at 5.7%"), p("5.7%", "6%"));
        assert_eq!(
            vt("exceeded 2014/15 performance by 1% to 13%, the service did not meet annual target of 20%"),
            p("13%", "20%")
        );
        assert_eq!(vt("was 88.2% at the end of quarter 1 against a target of 100%."), None);
        assert_eq!(
            vt("remained significantly below the target of 95%, with the performance in quarter two being static at 28% (26% in the previous quarter)."),
            p("28%", "95%")
        );
        assert_eq!(
            vt("was 54.9% at end September 2016 compared with 55.1% at end of September 2015 and is presently on course to achieve the 98.0% target by year end."),
            p("54.9%", "98.0%")
        );
        assert_eq!(
            vt("Sickness days lost per FTE is 10.71 days (excluding schools) – target is 10.2 days"),
            p("10.71 days", "10.2 days")
        );
        assert_eq!(
            vt("52.11missed bin collections per 100,000 collections in Q2, against a target of 60"),
            p("52.11", "60")
        );
        assert_eq!(vt("target of 95% was met and increased by 1% compared to 2014/15"), None);
    }

    #[test]
    fn sentences_do_not_split_after_ref_no() {
        let s = sentences("Ref No. 1.A3 Re-referrals. Currently 30.4%. Next one");
        assert_eq!(s.len(), 3, "{s:?}");
    }
}
