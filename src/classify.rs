//! Classify: what kind of document this is, and the facts that identify it
//! (title, plan year, progress date, reporting period).
//!
//! The kind is decided from content only — wording signals from
//! `rules/document.toml` plus structure (a table with milestone-tracker
//! columns, a scorecard key) — never from the file name.

use crate::layout::{join_lines, Block, LayoutDoc};
use crate::model::DocKind;
use crate::normalise::dates;
use crate::rules::{normalise, MilestoneColumn, Rules};

/// What classification found.
#[derive(Debug, Clone, PartialEq)]
pub struct Classification {
    pub kind: DocKind,
    pub title: Option<String>,
    pub plan_year: Option<String>,
    pub as_of: Option<String>,
    pub period: Option<String>,
    /// Each kind's score, for `inspect`.
    pub scores: Vec<(DocKind, f64)>,
}

/// How many tables look like milestone trackers: a header row with an
/// action column and a target or status column.
fn milestone_tables(doc: &LayoutDoc, rules: &Rules) -> usize {
    doc.tables()
        .filter(|t| {
            t.rows.iter().take(4).any(|r| {
                let roles: Vec<_> = r
                    .cells
                    .iter()
                    .filter(|c| !c.is_continuation())
                    .filter_map(|c| rules.columns.milestone_role(&c.joined()))
                    .collect();
                roles.contains(&MilestoneColumn::Action)
                    && (roles.contains(&MilestoneColumn::Target) || roles.contains(&MilestoneColumn::Status))
                    && roles.len() >= 3
            })
        })
        .count()
}

/// Classify a document.
pub fn classify(doc: &LayoutDoc, rules: &Rules) -> Classification {
    let text = doc.full_text();
    let flat = join_lines(&text.replace('\t', "\n"));
    let norm = format!(" {} ", normalise(&flat));
    let head_norm = format!(" {} ", normalise(&flat.chars().take(1500).collect::<String>()));

    let mut scores: Vec<(DocKind, f64)> = Vec::new();
    for signal in &rules.document.kinds {
        let mut score = 0.0;
        for phrase in &signal.phrases {
            let needle = format!(" {phrase} ");
            if norm.contains(&needle) {
                // A phrase near the start (title, first headings) counts double.
                score += signal.weight * if head_norm.contains(&needle) { 2.0 } else { 1.0 };
            }
        }
        match scores.iter_mut().find(|(k, _)| *k == signal.kind) {
            Some((_, s)) => *s += score,
            None => scores.push((signal.kind, score)),
        }
    }
    let trackers = milestone_tables(doc, rules);
    if trackers > 0 {
        let s = 10.0 + trackers as f64;
        match scores.iter_mut().find(|(k, _)| *k == DocKind::MilestoneTracker) {
            Some((_, v)) => *v += s,
            None => scores.push((DocKind::MilestoneTracker, s)),
        }
    }
    scores.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let kind = match scores.first() {
        Some((k, s)) if *s > 0.0 => *k,
        _ => DocKind::Unknown,
    };

    // Document-level statements live in paragraphs and table headers, not in
    // the cells of a tracker (a rationale's "as at" is about that row).
    let front = statement_text(doc, 60);
    let statements = statement_text(doc, usize::MAX);
    let period = period(&statements, rules);
    let as_of = as_of(&front, rules).or_else(|| period.as_deref().and_then(period_end));
    // Without a stated plan year, the financial year of the progress date
    // (or of the reporting period) is the plan year being reported on.
    let plan_year = plan_year(&flat, rules)
        .or_else(|| as_of.as_deref().and_then(financial_year_of))
        .or_else(|| period.as_deref().map(|p| p.chars().take(7).collect()));
    Classification { kind, title: title(doc), plan_year, as_of, period, scores }
}

/// Paragraph text (the first `max_paragraphs`) and the header rows of
/// tables, one line each.
fn statement_text(doc: &LayoutDoc, max_paragraphs: usize) -> String {
    let mut out = String::new();
    let mut paragraphs = 0;
    for b in &doc.blocks {
        match b {
            Block::Paragraph(p) => {
                if paragraphs >= max_paragraphs {
                    break;
                }
                paragraphs += 1;
                out.push_str(&join_lines(&p.text));
                out.push('\n');
            }
            Block::Table(t) if max_paragraphs == usize::MAX => {
                for r in t.rows.iter().take(2) {
                    for c in r.cells.iter().filter(|c| !c.is_continuation()) {
                        out.push_str(&c.joined());
                        out.push('\n');
                    }
                }
            }
            Block::Table(_) => {}
        }
    }
    out
}

/// The last month of a reporting period: "2016/17 Q2" → "2016-09".
fn period_end(period: &str) -> Option<String> {
    let y1: i32 = period.get(0..4)?.parse().ok()?;
    let q: u32 = period.rsplit('Q').next()?.trim().parse().ok()?;
    let (year, month) = match q {
        1 => (y1, 6),
        2 => (y1, 9),
        3 => (y1, 12),
        4 => (y1 + 1, 3),
        _ => return None,
    };
    Some(format!("{year}-{month:02}"))
}

/// The document's title: its metadata title, else its first heading-like
/// paragraph, else its first line of text.
fn title(doc: &LayoutDoc) -> Option<String> {
    if let Some(t) = doc.meta_title.as_ref().map(|t| t.trim()).filter(|t| !t.is_empty()) {
        return Some(t.to_string());
    }
    let first_text = doc.blocks.iter().find_map(|b| match b {
        Block::Paragraph(p) if !p.text.trim().is_empty() => Some(join_lines(&p.text)),
        Block::Table(t) => t.rows.first().and_then(|r| r.cells.first()).map(|c| c.joined()).filter(|s| !s.is_empty()),
        _ => None,
    });
    let heading = doc.paragraphs().take(12).find(|p| {
        p.style.as_deref().is_some_and(|s| {
            let s = s.to_ascii_lowercase();
            s.contains("title") || s.contains("heading")
        }) && !p.text.trim().is_empty()
    });
    heading.map(|p| join_lines(&p.text)).or(first_text).map(|t| t.chars().take(200).collect())
}

/// "2021/22" from the first plan-year pattern that matches.
pub fn plan_year(text: &str, rules: &Rules) -> Option<String> {
    for re in &rules.document.plan_year {
        if let Some(c) = re.captures(text) {
            let y1: i32 = c.name("y1")?.as_str().parse().ok()?;
            let y2 = c.name("y2")?.as_str();
            let y2: i32 = if y2.len() == 4 { y2.parse().ok()? } else { (y1 / 100) * 100 + y2.parse::<i32>().ok()? };
            if y2 == y1 + 1 {
                return Some(format!("{y1}/{:02}", y2 % 100));
            }
        }
    }
    None
}

/// The financial year (April–March) an ISO date falls in: "2022-01" → "2021/22".
pub fn financial_year_of(iso: &str) -> Option<String> {
    let year: i32 = iso.get(0..4)?.parse().ok()?;
    let month: u32 = iso.get(5..7)?.parse().ok()?;
    let start = if month >= 4 { year } else { year - 1 };
    Some(format!("{start}/{:02}", (start + 1) % 100))
}

fn as_of(text: &str, rules: &Rules) -> Option<String> {
    rules.document.as_of.iter().find_map(|re| {
        let c = re.captures(text)?;
        let d = dates::parse_point(c.name("date")?.as_str(), &rules.dates)?;
        Some(d)
    })
}

fn period(text: &str, rules: &Rules) -> Option<String> {
    rules.document.period.iter().find_map(|re| {
        let c = re.captures(text)?;
        let q: u32 = c.name("q")?.as_str().parse().ok()?;
        let y1: i32 = c.name("y1")?.as_str().parse().ok()?;
        let y2 = c.name("y2").map(|m| m.as_str()).unwrap_or("");
        // "Quarter 2 – July - September 2016": the calendar year of the
        // quarter; Q4 (Jan–Mar) belongs to the financial year before.
        let start = if y2.is_empty() && q == 4 { y1 - 1 } else { y1 };
        Some(format!("{start}/{:02} Q{q}", (start + 1) % 100))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_year_and_period_patterns() {
        let rules = Rules::builtin().unwrap();
        assert_eq!(
            plan_year("The Year Ahead Delivery Plan for 2024-25 was approved", &rules).as_deref(),
            Some("2024/25")
        );
        assert_eq!(period("Period: Quarter 2 – July - September 2016", &rules).as_deref(), Some("2016/17 Q2"));
        assert_eq!(as_of("updated to reflect progress up to 19 December 2024.", &rules).as_deref(), Some("2024-12-19"));
    }
}
