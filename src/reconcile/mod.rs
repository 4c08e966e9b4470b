//! Reconcile: the same action across plan years → series.
//!
//! The analyst's question is "what happened to this commitment over four
//! years?". Actions are reworded every year, themes renamed, actions split,
//! and carried-over rows repeat last year's plan. The stages:
//!
//! 1. [`normalise`]: titles → content words (word lists in `rules/`).
//! 2. [`profile`]: each milestone's words, trigrams, outcome and activity.
//! 3. [`units`]: the rows of one plan year across its renditions (PDF and
//!    DOCX of one report) gathered into one unit each.
//! 4. [`link`]: plan years linked oldest first, one-to-one by optimal
//!    assignment ([`assign`]) on candidates found by [`retrieve`] and
//!    scored by [`features`], with
//!    overrides ([`overrides`]) applied first; each link decided `auto`,
//!    `review` or `manual`, splits and merges proposed.
//! 5. [`series`]: units and links → the dataset's series, with ids from
//!    content.
//!
//! Measures go through [`measures`]: linked by ref, checked by title.
//!
//! Every number that steers this is in `rules/reconcile.toml`; every link in
//! the output says which features made it.

pub mod assign;
pub mod features;
pub mod link;
pub mod measures;
pub mod normalise;
pub mod overrides;
pub mod profile;
pub mod retrieve;
pub mod series;
pub mod units;

use crate::model::{Document, Measure, MeasureSeries, Milestone, Provenance, Series};
use crate::rules::Rules;

use features::{Scorer, Titles};
use normalise::Normaliser;
use units::Years;

/// Group milestones into series across plan years.
pub fn milestone_series(milestones: &[Milestone], documents: &[Document], rules: &Rules) -> Vec<Series> {
    reconcile(milestones, documents, rules, true).0
}

/// The override rules that name no milestone of this run, as sentences an
/// archivist can act on (a misspelt action, a plan year not in the run).
pub fn unmatched_overrides(milestones: &[Milestone], documents: &[Document], rules: &Rules) -> Vec<String> {
    reconcile(milestones, documents, rules, false).1
}

/// Series and the unmatched-override notes in one pass (what a run needs).
pub fn milestone_series_and_notes(
    milestones: &[Milestone],
    documents: &[Document],
    rules: &Rules,
) -> (Vec<Series>, Vec<String>) {
    reconcile(milestones, documents, rules, true)
}

fn reconcile(
    milestones: &[Milestone],
    documents: &[Document],
    rules: &Rules,
    link: bool,
) -> (Vec<Series>, Vec<String>) {
    let norm = Normaliser::new(&rules.reconcile);
    let (profiles, vocab) = profile::milestone_profiles(milestones, &norm);
    let scorer = Scorer { titles: Titles { profiles: &profiles, vocab: &vocab, rules }, milestones, rules };
    let years = Years::new(milestones.iter().filter_map(|m| m.plan_year.as_deref()));
    let units = units::units(&scorer, documents, &years);
    let resolved = overrides::resolve(rules, milestones, &units, &years);
    if !link {
        return (Vec::new(), resolved.unmatched);
    }
    let linked = link::link(&scorer, &units, &years, &resolved);
    (series::build(&units, &linked, milestones, documents, rules), resolved.unmatched)
}

/// A copy of `m` with only what reconciliation reads: ids, plan year,
/// section, theme key, the four texts, the canonical status and the target
/// dates. A batch keeps these in memory while the full records wait on disk
/// ([`crate::spool`]); what is dropped (printed theme, raw wordings, ref,
/// lead, extra columns, provenance) never changes a series.
pub fn slim_milestone(m: &Milestone) -> Milestone {
    let mut target = m.target.clone();
    target.raw = None;
    target.revised_raw = None;
    let mut status = m.status.clone();
    status.raw = None;
    Milestone {
        theme: None,
        target,
        status,
        r#ref: None,
        lead: None,
        extra: Default::default(),
        provenance: Provenance::Docx { table: 0, row: 0 },
        ..m.clone()
    }
}

/// A copy of `m` with only what reconciliation reads: ids, ref, title,
/// period, source, and the canonical value, status and direction (see
/// [`slim_milestone`]).
pub fn slim_measure(m: &Measure) -> Measure {
    let mut value = m.value.clone();
    if let Some(v) = value.as_mut() {
        v.raw = String::new();
    }
    Measure {
        outcome_code: None,
        frequency: None,
        good_is: None,
        target: None,
        value,
        extra: Default::default(),
        provenance: Provenance::Docx { table: 0, row: 0 },
        ..m.clone()
    }
}

/// Group measures into series across reporting periods.
pub fn measure_series(measures: &[Measure], documents: &[Document], rules: &Rules) -> Vec<MeasureSeries> {
    measures::series(measures, documents, rules)
}
