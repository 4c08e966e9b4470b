//! What reconciliation reads of each record, compact, made as documents
//! arrive.
//!
//! A batch over an archive holds tens of thousands of milestones and
//! measures, and reconciling them needs every one at once (a series runs
//! through all plan years). The full records wait in the spool
//! ([`crate::spool`]); the supervisor keeps only these rows: ids, plan year
//! or period, theme, the canonical status and dates, and a profile number
//! in place of the texts. Repeated strings (a document's id, a plan year, a
//! theme, a title that recurs every quarter) are held once and shared.
//! Texts that only feed the similarity features (outcome, activity,
//! rationale) are read into word ids by a [`ProfileBuilder`] and dropped.
//!
//! So a milestone costs the supervisor about a tenth of what its record
//! does, and the memory of a run is set by its largest documents, not by
//! the size of the archive it reads.

use std::collections::HashSet;
use std::sync::Arc;

use super::normalise::Normaliser;
use super::profile::{milestone_texts, ProfileBuilder, Profiles, Vocabulary};
use crate::model::{Direction, Measure, MeasureSource, MeasureStatus, Milestone, MilestoneStatus, Section};
use crate::rules::Rules;

/// Target dates as ISO partial dates (see [`crate::model::TargetDate`]).
#[derive(Debug, Clone, Default)]
pub struct Dates {
    pub start: Option<Arc<str>>,
    pub end: Option<Arc<str>>,
    pub revised_end: Option<Arc<str>>,
}

/// A milestone as reconciliation reads it.
#[derive(Debug, Clone)]
pub struct MilestoneRow {
    pub id: Box<str>,
    pub document_id: Arc<str>,
    pub plan_year: Option<Arc<str>>,
    pub section: Section,
    pub theme_key: Option<Arc<str>>,
    pub action: Arc<str>,
    pub target: Dates,
    pub status: MilestoneStatus,
    /// Its profile, as numbered by the reader's [`ProfileBuilder`].
    profile: u32,
}

/// A measure as reconciliation reads it.
#[derive(Debug, Clone)]
pub struct MeasureRow {
    pub id: Box<str>,
    pub document_id: Arc<str>,
    pub r#ref: Option<Arc<str>>,
    pub title: Option<Arc<str>>,
    pub period: Option<Arc<str>>,
    pub source: MeasureSource,
    pub value: Option<f64>,
    pub status: Option<MeasureStatus>,
    pub direction: Option<Direction>,
    profile: u32,
}

/// Rows of one kind in run order, with their profiles (indexed like the
/// rows) and the vocabulary of those profiles.
#[derive(Debug, Default)]
pub struct Rows<T> {
    pub records: Vec<T>,
    pub profiles: Profiles,
    pub vocab: Vocabulary,
}

/// Makes rows from records, one document at a time, in any order.
pub struct Reader {
    norm: Normaliser,
    strings: HashSet<Arc<str>>,
    milestone_profiles: ProfileBuilder,
    measure_profiles: ProfileBuilder,
}

impl Reader {
    pub fn new(rules: &Rules) -> Reader {
        Reader {
            norm: Normaliser::new(&rules.reconcile),
            strings: HashSet::new(),
            milestone_profiles: ProfileBuilder::default(),
            measure_profiles: ProfileBuilder::default(),
        }
    }

    /// The shared copy of `s`.
    fn share(&mut self, s: &str) -> Arc<str> {
        if let Some(x) = self.strings.get(s) {
            return x.clone();
        }
        let x: Arc<str> = Arc::from(s);
        self.strings.insert(x.clone());
        x
    }

    fn share_opt(&mut self, s: &Option<String>) -> Option<Arc<str>> {
        s.as_deref().map(|s| self.share(s))
    }

    pub fn milestone(&mut self, m: &Milestone) -> MilestoneRow {
        let profile = self.milestone_profiles.add(&self.norm, milestone_texts(m));
        MilestoneRow {
            id: m.id.as_str().into(),
            document_id: self.share(&m.document_id),
            plan_year: self.share_opt(&m.plan_year),
            section: m.section,
            theme_key: self.share_opt(&m.theme_key),
            action: self.share(&m.action),
            target: Dates {
                start: self.share_opt(&m.target.start),
                end: self.share_opt(&m.target.end),
                revised_end: self.share_opt(&m.target.revised_end),
            },
            status: m.status.canonical,
            profile,
        }
    }

    pub fn measure(&mut self, m: &Measure) -> MeasureRow {
        let profile = self.measure_profiles.add(&self.norm, [m.title.as_deref().unwrap_or(""), "", "", ""]);
        MeasureRow {
            id: m.id.as_str().into(),
            document_id: self.share(&m.document_id),
            r#ref: self.share_opt(&m.r#ref),
            title: self.share_opt(&m.title),
            period: self.share_opt(&m.period),
            source: m.source,
            value: m.value.as_ref().and_then(|v| v.number),
            status: m.status.canonical,
            direction: m.direction.canonical,
            profile,
        }
    }

    /// The rows of the run, in run order, with their profiles.
    pub fn finish(
        self,
        milestones: Vec<MilestoneRow>,
        measures: Vec<MeasureRow>,
    ) -> (Rows<MilestoneRow>, Rows<MeasureRow>) {
        let of = milestones.iter().map(|r| r.profile).collect();
        let (profiles, vocab) = self.milestone_profiles.finish(of);
        let milestones = Rows { records: milestones, profiles, vocab };
        let of = measures.iter().map(|r| r.profile).collect();
        let (profiles, vocab) = self.measure_profiles.finish(of);
        (milestones, Rows { records: measures, profiles, vocab })
    }
}

/// Rows of records held whole (tests, benchmarks, a single report).
pub fn rows_of(
    rules: &Rules,
    milestones: &[Milestone],
    measures: &[Measure],
) -> (Rows<MilestoneRow>, Rows<MeasureRow>) {
    let mut reader = Reader::new(rules);
    let ms = milestones.iter().map(|m| reader.milestone(m)).collect();
    let mz = measures.iter().map(|m| reader.measure(m)).collect();
    reader.finish(ms, mz)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::ingest::InputFile;
    use crate::pipeline::{process, DocOptions, DocResult};

    fn read(name: &str, rules: &Rules) -> DocResult {
        let file = InputFile { path: Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/reports").join(name) };
        process(&file, rules, &DocOptions::default()).unwrap()
    }

    /// Words of a profile's parts, as text (ids differ between vocabularies).
    fn words(rows: &Rows<MilestoneRow>, i: usize) -> Vec<Vec<String>> {
        let p = &rows.profiles[i];
        let text = |ids: &[u32]| ids.iter().map(|w| rows.vocab.word(*w).to_string()).collect();
        vec![text(&p.words), text(&p.word_set), text(&p.outcome), text(&p.activity), text(&p.rationale)]
    }

    /// Documents arrive in any order; the rows, their profiles and the
    /// series are those of the records read whole, in run order.
    #[test]
    fn rows_made_as_documents_arrive_reconcile_like_whole_records() {
        let rules = Rules::builtin().unwrap();
        let docs = [
            read("tracker-2021-22.docx", &rules),
            read("tracker-2022-23.docx", &rules),
            read("tracker-2023-24.pdf", &rules),
        ];
        let whole: Vec<Milestone> = docs.iter().flat_map(|d| d.milestones.clone()).collect();
        let documents: Vec<_> = docs.iter().map(|d| d.document.clone()).collect();
        assert!(docs.iter().all(|d| !d.milestones.is_empty()));

        let mut reader = Reader::new(&rules);
        // The later documents first, as faster workers may deliver them.
        let mut by_doc: Vec<Vec<MilestoneRow>> =
            docs.iter().rev().map(|d| d.milestones.iter().map(|m| reader.milestone(m)).collect()).collect();
        by_doc.reverse();
        let (arrived, _) = reader.finish(by_doc.into_iter().flatten().collect(), Vec::new());
        let (in_order, _) = rows_of(&rules, &whole, &[]);

        assert_eq!(arrived.records.len(), whole.len());
        for (i, m) in whole.iter().enumerate() {
            assert_eq!(&*arrived.records[i].id, m.id);
            assert_eq!(words(&arrived, i), words(&in_order, i), "profile of {}", m.id);
        }
        assert_eq!(arrived.vocab.words, in_order.vocab.words, "word ids do not depend on arrival order");
        let mut series = Vec::new();
        super::super::milestone_series_into(&arrived, &documents, &rules, &mut |s| series.push(s));
        assert_eq!(series, super::super::milestone_series(&whole, &documents, &rules));
    }

    #[test]
    fn repeated_strings_are_held_once() {
        let rules = Rules::builtin().unwrap();
        let doc = read("tracker-2021-22.docx", &rules);
        let (rows, _) = rows_of(&rules, &doc.milestones, &[]);
        let (a, b) = (&rows.records[0], &rows.records[rows.records.len() - 1]);
        assert!(Arc::ptr_eq(&a.document_id, &b.document_id));
        assert!(Arc::ptr_eq(a.plan_year.as_ref().unwrap(), b.plan_year.as_ref().unwrap()));
    }
}
