//! Reconcile: the same action across plan years → series.
//!
//! The analyst's question is "what happened to this commitment over four
//! years?". Actions are reworded every year, themes renamed, actions split,
//! and carried-over rows repeat last year's plan. The stages:
//!
//! 0. [`rows`]: each record, as a run's documents arrive, → a compact row
//!    (ids, plan year, theme, canonical status and dates) and a profile.
//! 1. [`normalise`]: titles → content words (word lists in `rules/`).
//! 2. [`profile`]: each milestone's words, trigrams, outcome, activity and
//!    rationale, as word ids.
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
//! the output says which features made it. Series are handed out one at a
//! time as they are made (`*_series_into`), so a run can spool them rather
//! than hold them.

pub mod assign;
pub mod features;
pub mod link;
pub mod measures;
pub mod normalise;
pub mod overrides;
pub mod profile;
pub mod retrieve;
pub mod rows;
pub mod series;
pub mod units;

use crate::model::{Document, Measure, MeasureSeries, Milestone, Series};
use crate::rules::Rules;

use features::{Scorer, Titles};
use rows::{rows_of, MeasureRow, MilestoneRow, Rows};
use units::Years;

/// Group milestones into series across plan years.
pub fn milestone_series(milestones: &[Milestone], documents: &[Document], rules: &Rules) -> Vec<Series> {
    milestone_series_and_notes(milestones, documents, rules).0
}

/// The override rules that name no milestone of this run, as sentences an
/// archivist can act on (a misspelt action, a plan year not in the run).
pub fn unmatched_overrides(milestones: &[Milestone], documents: &[Document], rules: &Rules) -> Vec<String> {
    let (rows, _) = rows_of(rules, milestones, &[]);
    reconcile(&rows, documents, rules, None)
}

/// Series and the unmatched-override notes in one pass.
pub fn milestone_series_and_notes(
    milestones: &[Milestone],
    documents: &[Document],
    rules: &Rules,
) -> (Vec<Series>, Vec<String>) {
    let (rows, _) = rows_of(rules, milestones, &[]);
    let mut series = Vec::new();
    let notes = reconcile(&rows, documents, rules, Some(&mut |s| series.push(s)));
    (series, notes)
}

/// Series of a run's milestone rows ([`rows`]), handed to `sink` one at a
/// time in the dataset's order, so that a batch never holds them all; returns
/// the unmatched-override notes.
pub fn milestone_series_into(
    rows: &Rows<MilestoneRow>,
    documents: &[Document],
    rules: &Rules,
    sink: &mut dyn FnMut(Series),
) -> Vec<String> {
    reconcile(rows, documents, rules, Some(sink))
}

fn reconcile(
    rows: &Rows<MilestoneRow>,
    documents: &[Document],
    rules: &Rules,
    sink: Option<&mut dyn FnMut(Series)>,
) -> Vec<String> {
    let milestones = &rows.records;
    let scorer = Scorer { titles: Titles::new(&rows.profiles, &rows.vocab, rules), milestones, rules };
    let years = Years::new(milestones.iter().filter_map(|m| m.plan_year.as_deref()));
    let units = units::units(&scorer, documents, &years);
    let resolved = overrides::resolve(rules, milestones, &units, &years);
    if let Some(sink) = sink {
        let linked = link::link(&scorer, &units, &years, &resolved);
        series::build(&units, &linked, milestones, documents, rules, sink);
    }
    resolved.unmatched
}

/// Group measures into series across reporting periods.
pub fn measure_series(measures: &[Measure], documents: &[Document], rules: &Rules) -> Vec<MeasureSeries> {
    let (_, rows) = rows_of(rules, &[], measures);
    let mut series = Vec::new();
    measures::series(&rows, documents, rules, &mut |s| series.push(s));
    series
}

/// Measure series of a run's measure rows, handed to `sink` one at a time
/// (see [`milestone_series_into`]).
pub fn measure_series_into(
    rows: &Rows<MeasureRow>,
    documents: &[Document],
    rules: &Rules,
    sink: &mut dyn FnMut(MeasureSeries),
) {
    measures::series(rows, documents, rules, sink)
}
