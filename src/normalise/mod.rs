//! Normalise: values as printed → canonical values, through `rules/`.
//!
//! Dates become ISO partial dates (SPEC §3), status words and key labels
//! become the canonical vocabularies (SPEC §4), printed themes become theme
//! keys, symbols are decoded through the document's own key. Whatever is not
//! understood is kept as printed, with a canonical `unknown`/null and a
//! warning on the document saying what and where.

pub mod dates;
pub mod measures;
pub mod symbols;

use crate::model::{KeyEntry, Measure, Milestone, MilestoneStatus, MilestoneStatusValue, Provenance};
use crate::parse::Parsed;
use crate::rules::Rules;

/// Document-level facts the records inherit.
#[derive(Debug, Clone)]
pub struct DocFacts {
    pub doc_id: String,
    pub plan_year: Option<String>,
    pub as_of: Option<String>,
    pub period: Option<String>,
}

/// The canonical records of one document.
#[derive(Debug, Clone, Default)]
pub struct Normalised {
    pub milestones: Vec<Milestone>,
    pub measures: Vec<Measure>,
    pub keys: Vec<KeyEntry>,
    pub warnings: Vec<String>,
}

/// Where a record is, for warnings a person can follow up.
pub fn place(p: &Provenance) -> String {
    match p {
        Provenance::Pdf { page, .. } => format!("page {page}"),
        Provenance::Docx { table, row } => format!("table {} row {}", table + 1, row + 1),
        Provenance::Paragraph { paragraph, .. } => format!("paragraph {}", paragraph + 1),
    }
}

/// Canonical milestone status of a printed status.
pub fn milestone_status(raw: Option<&str>, rules: &Rules) -> MilestoneStatus {
    match raw {
        Some(r) => rules
            .statuses
            .milestone
            .exact(r)
            .or_else(|| rules.statuses.milestone.longest_within(r))
            .unwrap_or(MilestoneStatus::Unknown),
        None => MilestoneStatus::Unknown,
    }
}

/// Normalise everything one document's parse found.
pub fn normalise(parsed: Parsed, facts: &DocFacts, rules: &Rules) -> Normalised {
    let mut out = Normalised { warnings: parsed.warnings, ..Default::default() };
    for (i, m) in parsed.milestones.into_iter().enumerate() {
        let at = place(&m.provenance);
        let (target, warning) = match m.target.as_deref() {
            Some(raw) => dates::parse_target(raw, &rules.dates),
            None => (Default::default(), None),
        };
        if let Some(w) = warning {
            out.warnings.push(format!("{at}: {w}"));
        }
        let canonical = milestone_status(m.status.as_deref(), rules);
        if canonical == MilestoneStatus::Unknown {
            match m.status.as_deref() {
                Some(s) => out.warnings.push(format!(
                    "{at}: status {s:?} is not in rules/statuses.toml; kept as printed with canonical \"unknown\""
                )),
                None => out.warnings.push(format!("{at}: milestone {:?} has no status", short(&m.action))),
            }
        }
        let theme_key = m.theme.as_deref().and_then(|t| rules.themes.key_for(t));
        if let (Some(t), None) = (&m.theme, &theme_key) {
            let w = format!("theme {t:?} is not in rules/themes.toml; theme_key left null");
            if !out.warnings.contains(&w) {
                out.warnings.push(w);
            }
        }
        out.milestones.push(Milestone {
            id: format!("{}-m{:04}", facts.doc_id, i + 1),
            document_id: facts.doc_id.clone(),
            plan_year: facts.plan_year.clone(),
            section: m.section,
            theme: m.theme,
            theme_key,
            outcome: m.outcome,
            activity: m.activity,
            action: m.action,
            target,
            status: MilestoneStatusValue { raw: m.status, canonical },
            rationale: m.rationale,
            r#ref: m.r#ref,
            lead: m.lead,
            extra: m.extra,
            provenance: m.provenance,
        });
    }
    let (keys, measures, warnings) = symbols::decode(parsed.keys, parsed.measures, facts, rules);
    out.keys = keys;
    out.measures = measures;
    out.warnings.extend(warnings);
    out
}

/// The first words of a long text, for messages.
pub fn short(text: &str) -> String {
    let mut s: String = text.chars().take(60).collect();
    if text.chars().count() > 60 {
        s.push('…');
    }
    s
}
