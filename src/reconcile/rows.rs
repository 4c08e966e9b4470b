//! What reconciliation reads of each record, compact, made as documents
//! arrive.
//!
//! A batch over an archive holds tens of thousands of milestones and
//! measures, and reconciling them needs every one of a kind at once (a
//! series runs through all plan years). The full records wait in the spool
//! ([`crate::spool`]); reconciliation reads only these rows: ids, plan year
//! or period, theme, the canonical status and dates, and a profile in place
//! of the texts. Repeated strings (a document's id, a plan year, a theme, a
//! title that recurs every quarter) are held once and shared. Texts that
//! only feed the similarity features (outcome, activity, rationale) are
//! read into word ids by a [`ProfileBuilder`] and dropped.
//!
//! While documents are still being read, each one's rows are packed
//! ([`Packed`]: numbers into the reader's string and enum tables, and each
//! record's own words, its rationale's, as a [`RecordRead`]), and a run
//! keeps them on disk ([`Packed::to_bytes`]) until the workers are done;
//! [`Reader::unpack_milestones`] and [`Reader::unpack_measures`] then make
//! the rows of each kind when it is reconciled (both in one pass when the
//! run reconciles them side by side, `crate::run`). What stays in memory while workers
//! read is what records share: the string tables, the words met, each
//! distinct title and outcome or activity text. Measured on 110,000
//! records (`cargo bench --bench reconcile -- --dataset`, 1,000 reports):
//! 7 bytes a record in memory while workers read (88 when the rationales'
//! words were kept in memory too), 162 on disk, ~310 unpacked, against
//! ~1,160 for the record.

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::normalise::Normaliser;
use super::profile::{ProfileBuilder, Profiles, RecordRead, Vocabulary};
use crate::model::{Direction, Measure, MeasureSource, MeasureStatus, Milestone, MilestoneStatus, Section};
use crate::rules::Rules;

/// The fields of a milestone that reconciliation reads, as they leave the
/// worker that read the document: a fifth of the record's JSON, so the
/// supervisor decodes only what it keeps (the record itself reaches the
/// dataset already rendered, [`crate::handoff`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MilestoneFields {
    pub id: String,
    pub document_id: String,
    pub plan_year: Option<String>,
    pub section: Section,
    pub theme_key: Option<String>,
    pub action: String,
    pub outcome: Option<String>,
    pub activity: Option<String>,
    pub rationale: Option<String>,
    pub start: Option<String>,
    pub end: Option<String>,
    pub revised_end: Option<String>,
    pub status: MilestoneStatus,
}

impl MilestoneFields {
    pub fn of(m: &Milestone) -> MilestoneFields {
        MilestoneFields {
            id: m.id.clone(),
            document_id: m.document_id.clone(),
            plan_year: m.plan_year.clone(),
            section: m.section,
            theme_key: m.theme_key.clone(),
            action: m.action.clone(),
            outcome: m.outcome.clone(),
            activity: m.activity.clone(),
            rationale: m.rationale.clone(),
            start: m.target.start.clone(),
            end: m.target.end.clone(),
            revised_end: m.target.revised_end.clone(),
            status: m.status.canonical,
        }
    }

    /// The four texts its profile is made of: action, outcome, activity,
    /// rationale.
    fn texts(&self) -> [&str; 4] {
        fn text(t: &Option<String>) -> &str {
            t.as_deref().unwrap_or("")
        }
        [&self.action, text(&self.outcome), text(&self.activity), text(&self.rationale)]
    }
}

/// The fields of a measure that reconciliation reads (see
/// [`MilestoneFields`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeasureFields {
    pub id: String,
    pub document_id: String,
    pub r#ref: Option<String>,
    pub title: Option<String>,
    pub period: Option<String>,
    pub source: MeasureSource,
    pub value: Option<f64>,
    pub status: Option<MeasureStatus>,
    pub direction: Option<Direction>,
}

impl MeasureFields {
    pub fn of(m: &Measure) -> MeasureFields {
        MeasureFields {
            id: m.id.clone(),
            document_id: m.document_id.clone(),
            r#ref: m.r#ref.clone(),
            title: m.title.clone(),
            period: m.period.clone(),
            source: m.source,
            value: m.value.as_ref().and_then(|v| v.number),
            status: m.status.canonical,
            direction: m.direction.canonical,
        }
    }
}

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
}

/// Rows of one kind as unpacked, in run order, with what was read of each
/// one's texts, until [`Reader::milestone_rows`] or
/// [`Reader::measure_rows`] makes their profiles.
#[derive(Debug)]
pub struct Unpacked<T> {
    records: Vec<T>,
    reads: Vec<RecordRead>,
}

impl<T> Unpacked<T> {
    /// Room for `n` rows: growing by doubling would hold up to twice them.
    pub fn with_capacity(n: usize) -> Unpacked<T> {
        Unpacked { records: Vec::with_capacity(n), reads: Vec::with_capacity(n) }
    }
}

impl<T> Default for Unpacked<T> {
    fn default() -> Self {
        Unpacked::with_capacity(0)
    }
}

/// Rows of one kind in run order, with their profiles (indexed like the
/// rows) and the vocabulary of those profiles.
#[derive(Debug, Default)]
pub struct Rows<T> {
    pub records: Vec<T>,
    pub profiles: Profiles,
    pub vocab: Vocabulary,
}

/// A document's rows as a run keeps them while it reads on (on disk, as
/// [`Packed::to_bytes`]): numbers into the reader's tables instead of
/// strings and enums, and the ids in one string. About a quarter of the
/// size of the rows, which [`Reader::unpack`] makes once reading is done.
#[derive(Debug, Default, PartialEq)]
pub struct Packed {
    ids: String,
    id_ends: Vec<u32>,
    milestones: Vec<PackedMilestone>,
    measures: Vec<PackedMeasure>,
}

impl Packed {
    pub fn milestones(&self) -> usize {
        self.milestones.len()
    }

    pub fn measures(&self) -> usize {
        self.measures.len()
    }

    /// The rows as bytes, for a run to keep on disk while its workers read
    /// ([`Packed::from_bytes`] reads them back): little-endian numbers, each
    /// list after its length.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            16 + self.ids.len()
                + 4 * self.id_ends.len()
                + 46 * self.milestones.len()
                + 44 * self.measures.len()
                + 4 * self.milestones.iter().map(|m| m.read.rationale.len()).sum::<usize>(),
        );
        let u32s = |out: &mut Vec<u8>, xs: &[u32]| xs.iter().for_each(|x| out.extend_from_slice(&x.to_le_bytes()));
        let len = |out: &mut Vec<u8>, n: usize| u32s(out, &[u32::try_from(n).unwrap_or(u32::MAX)]);
        len(&mut out, self.ids.len());
        out.extend_from_slice(self.ids.as_bytes());
        len(&mut out, self.id_ends.len());
        u32s(&mut out, &self.id_ends);
        len(&mut out, self.milestones.len());
        for m in &self.milestones {
            u32s(&mut out, &[m.document_id, m.plan_year, m.theme_key, m.action, m.target[0], m.target[1], m.target[2]]);
            out.extend_from_slice(&[m.section, m.status]);
            read_to_bytes(&mut out, &m.read);
        }
        len(&mut out, self.measures.len());
        for m in &self.measures {
            u32s(&mut out, &[m.document_id, m.r#ref, m.title, m.period]);
            out.extend_from_slice(&[m.source, m.status, m.direction, u8::from(m.value.is_some())]);
            out.extend_from_slice(&m.value.unwrap_or(0.0).to_le_bytes());
            read_to_bytes(&mut out, &m.read);
        }
        out
    }

    /// Rows written by [`Packed::to_bytes`]; `None` if `bytes` are not that.
    pub fn from_bytes(bytes: &[u8]) -> Option<Packed> {
        let mut r = Bytes(bytes);
        let n = r.len()?;
        let ids = String::from_utf8(r.take(n)?.to_vec()).ok()?;
        let n = r.len()?;
        let id_ends = (0..n).map(|_| r.u32()).collect::<Option<Vec<u32>>>()?;
        let n = r.len()?;
        let milestones = (0..n)
            .map(|_| {
                let [document_id, plan_year, theme_key, action, t0, t1, t2] = r.u32s::<7>()?;
                let [section, status] = r.u8s::<2>()?;
                let read = r.read()?;
                let target = [t0, t1, t2];
                Some(PackedMilestone { document_id, plan_year, theme_key, action, target, section, status, read })
            })
            .collect::<Option<Vec<_>>>()?;
        let n = r.len()?;
        let measures = (0..n)
            .map(|_| {
                let [document_id, r#ref, title, period] = r.u32s::<4>()?;
                let [source, status, direction, has_value] = r.u8s::<4>()?;
                let value = f64::from_le_bytes(r.u8s::<8>()?);
                let value = (has_value == 1).then_some(value);
                let read = r.read()?;
                Some(PackedMeasure { document_id, r#ref, title, period, value, source, status, direction, read })
            })
            .collect::<Option<Vec<_>>>()?;
        r.0.is_empty().then_some(Packed { ids, id_ends, milestones, measures })
    }
}

/// A record's [`RecordRead`] as bytes: its three numbers, then its
/// rationale's words after their count.
fn read_to_bytes(out: &mut Vec<u8>, read: &RecordRead) {
    let n = u32::try_from(read.rationale.len()).unwrap_or(u32::MAX);
    for x in [read.title, read.outcome, read.activity, n].iter().chain(read.rationale.iter()) {
        out.extend_from_slice(&x.to_le_bytes());
    }
}

/// Reads [`Packed::to_bytes`].
struct Bytes<'a>(&'a [u8]);

impl<'a> Bytes<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = (self.0.get(..n)?, self.0.get(n..)?);
        self.0 = rest;
        Some(head)
    }

    fn u8s<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    fn u32(&mut self) -> Option<u32> {
        self.u8s::<4>().map(u32::from_le_bytes)
    }

    fn u32s<const N: usize>(&mut self) -> Option<[u32; N]> {
        let mut out = [0; N];
        for x in &mut out {
            *x = self.u32()?;
        }
        Some(out)
    }

    /// A length: it cannot exceed what is left, which bounds what a damaged
    /// length could make us allocate.
    fn len(&mut self) -> Option<usize> {
        let n = self.u32()? as usize;
        (n <= self.0.len()).then_some(n)
    }

    /// What [`read_to_bytes`] wrote.
    fn read(&mut self) -> Option<RecordRead> {
        let [title, outcome, activity] = self.u32s::<3>()?;
        let n = self.len()?;
        let rationale = (0..n).map(|_| self.u32()).collect::<Option<Box<[u32]>>>()?;
        Some(RecordRead { title, outcome, activity, rationale })
    }
}

/// No string (an absent field).
const NONE: u32 = u32::MAX;

#[derive(Debug, Clone, PartialEq)]
struct PackedMilestone {
    document_id: u32,
    plan_year: u32,
    theme_key: u32,
    action: u32,
    target: [u32; 3],
    section: u8,
    status: u8,
    read: RecordRead,
}

#[derive(Debug, Clone, PartialEq)]
struct PackedMeasure {
    document_id: u32,
    r#ref: u32,
    title: u32,
    period: u32,
    value: Option<f64>,
    source: u8,
    status: u8,
    direction: u8,
    read: RecordRead,
}

/// Makes rows from records, one document at a time, in any order.
pub struct Reader {
    norm: Normaliser,
    /// Every distinct string of the rows, held once, and its number.
    numbers: HashMap<Arc<str>, u32, foldhash::fast::RandomState>,
    strings: Vec<Arc<str>>,
    /// The enum values met, numbered in order of meeting.
    sections: Vec<Section>,
    statuses: Vec<MilestoneStatus>,
    sources: Vec<MeasureSource>,
    measure_statuses: Vec<Option<MeasureStatus>>,
    directions: Vec<Option<Direction>>,
    milestone_profiles: ProfileBuilder,
    measure_profiles: ProfileBuilder,
}

/// The number of `v` in `table` (added when new). Tables hold enum values,
/// a handful each.
fn code<T: PartialEq + Copy>(table: &mut Vec<T>, v: T) -> u8 {
    let i = table.iter().position(|x| *x == v).unwrap_or_else(|| {
        table.push(v);
        table.len() - 1
    });
    u8::try_from(i).unwrap_or(u8::MAX)
}

impl Reader {
    pub fn new(rules: &Rules) -> Reader {
        Reader {
            norm: Normaliser::new(&rules.reconcile),
            numbers: HashMap::default(),
            strings: Vec::new(),
            sections: Vec::new(),
            statuses: Vec::new(),
            sources: Vec::new(),
            measure_statuses: Vec::new(),
            directions: Vec::new(),
            milestone_profiles: ProfileBuilder::default(),
            measure_profiles: ProfileBuilder::default(),
        }
    }

    fn number(&mut self, s: &str) -> u32 {
        if let Some(n) = self.numbers.get(s) {
            return *n;
        }
        let x: Arc<str> = Arc::from(s);
        let n = u32::try_from(self.strings.len()).unwrap_or(NONE);
        self.strings.push(x.clone());
        self.numbers.insert(x, n);
        n
    }

    fn number_opt(&mut self, s: &Option<String>) -> u32 {
        s.as_deref().map_or(NONE, |s| self.number(s))
    }

    /// The shared string numbered `n`.
    fn string(&self, n: u32) -> Option<Arc<str>> {
        self.strings.get(n as usize).cloned()
    }

    /// Pack a document's records (profiling their texts on the way).
    pub fn pack(&mut self, milestones: &[MilestoneFields], measures: &[MeasureFields]) -> Packed {
        let mut p = Packed::default();
        for m in milestones {
            p.ids.push_str(&m.id);
            p.id_ends.push(u32::try_from(p.ids.len()).unwrap_or(u32::MAX));
            let packed = PackedMilestone {
                document_id: self.number(&m.document_id),
                plan_year: self.number_opt(&m.plan_year),
                theme_key: self.number_opt(&m.theme_key),
                action: self.number(&m.action),
                target: [self.number_opt(&m.start), self.number_opt(&m.end), self.number_opt(&m.revised_end)],
                section: code(&mut self.sections, m.section),
                status: code(&mut self.statuses, m.status),
                read: self.milestone_profiles.add(&self.norm, m.texts()),
            };
            p.milestones.push(packed);
        }
        for m in measures {
            p.ids.push_str(&m.id);
            p.id_ends.push(u32::try_from(p.ids.len()).unwrap_or(u32::MAX));
            let packed = PackedMeasure {
                document_id: self.number(&m.document_id),
                r#ref: self.number_opt(&m.r#ref),
                title: self.number_opt(&m.title),
                period: self.number_opt(&m.period),
                value: m.value,
                source: code(&mut self.sources, m.source),
                status: code(&mut self.measure_statuses, m.status),
                direction: code(&mut self.directions, m.direction),
                read: self.measure_profiles.add(&self.norm, [m.title.as_deref().unwrap_or(""), "", "", ""]),
            };
            p.measures.push(packed);
        }
        p
    }

    /// A packed document's ids, its milestones' then its measures'.
    fn ids<'p>(ids: &'p str, ends: &'p [u32]) -> impl Iterator<Item = Box<str>> + 'p {
        let mut start = 0usize;
        ends.iter().map(move |end| {
            let end = *end as usize;
            let id: Box<str> = ids.get(start..end).unwrap_or("").into();
            start = end;
            id
        })
    }

    /// The milestone rows of a packed document, appended to `out`; they
    /// are taken out of `p` (its measures are left).
    pub fn unpack_milestones(&self, p: &mut Packed, out: &mut Unpacked<MilestoneRow>) {
        let s = |n: u32| self.string(n);
        // The milestones' ids come first.
        for (m, id) in std::mem::take(&mut p.milestones).into_iter().zip(Self::ids(&p.ids, &p.id_ends)) {
            out.reads.push(m.read);
            out.records.push(MilestoneRow {
                id,
                document_id: s(m.document_id).unwrap_or_default(),
                plan_year: s(m.plan_year),
                section: self.sections.get(usize::from(m.section)).copied().unwrap_or(Section::Main),
                theme_key: s(m.theme_key),
                action: s(m.action).unwrap_or_default(),
                target: Dates { start: s(m.target[0]), end: s(m.target[1]), revised_end: s(m.target[2]) },
                status: self.statuses.get(usize::from(m.status)).copied().unwrap_or(MilestoneStatus::Unknown),
            });
        }
    }

    /// The measure rows of a packed document, appended to `out`; they are
    /// taken out of `p` (its milestones, if still there, are left).
    pub fn unpack_measures(&self, p: &mut Packed, out: &mut Unpacked<MeasureRow>) {
        let s = |n: u32| self.string(n);
        // The measures' ids are the last ones.
        let measures = std::mem::take(&mut p.measures);
        let ids = Self::ids(&p.ids, &p.id_ends).skip(p.id_ends.len().saturating_sub(measures.len()));
        for (m, id) in measures.into_iter().zip(ids) {
            out.reads.push(m.read);
            out.records.push(MeasureRow {
                id,
                document_id: s(m.document_id).unwrap_or_default(),
                r#ref: s(m.r#ref),
                title: s(m.title),
                period: s(m.period),
                source: self.sources.get(usize::from(m.source)).copied().unwrap_or(MeasureSource::Scorecard),
                value: m.value,
                status: self.measure_statuses.get(usize::from(m.status)).copied().flatten(),
                direction: self.directions.get(usize::from(m.direction)).copied().flatten(),
            });
        }
    }

    /// The rows of a packed document, appended to `milestones` and
    /// `measures`.
    pub fn unpack(&self, mut p: Packed, milestones: &mut Unpacked<MilestoneRow>, measures: &mut Unpacked<MeasureRow>) {
        self.unpack_milestones(&mut p, milestones);
        self.unpack_measures(&mut p, measures);
    }

    /// The milestone rows of the run (unpacked, in run order) with their
    /// profiles. The milestones' profile builder is spent: call once.
    pub fn milestone_rows(&mut self, rows: Unpacked<MilestoneRow>) -> Rows<MilestoneRow> {
        let (profiles, vocab) = std::mem::take(&mut self.milestone_profiles).finish(&rows.reads);
        Rows { records: rows.records, profiles, vocab }
    }

    /// The measure rows of the run, as [`Reader::milestone_rows`].
    pub fn measure_rows(&mut self, rows: Unpacked<MeasureRow>) -> Rows<MeasureRow> {
        let (profiles, vocab) = std::mem::take(&mut self.measure_profiles).finish(&rows.reads);
        Rows { records: rows.records, profiles, vocab }
    }

    /// The rows of the run, in run order, with their profiles.
    pub fn finish(
        mut self,
        milestones: Unpacked<MilestoneRow>,
        measures: Unpacked<MeasureRow>,
    ) -> (Rows<MilestoneRow>, Rows<MeasureRow>) {
        (self.milestone_rows(milestones), self.measure_rows(measures))
    }
}

/// Rows of records held whole (tests, benchmarks, a single report).
pub fn rows_of(
    rules: &Rules,
    milestones: &[Milestone],
    measures: &[Measure],
) -> (Rows<MilestoneRow>, Rows<MeasureRow>) {
    let mut reader = Reader::new(rules);
    let milestones: Vec<MilestoneFields> = milestones.iter().map(MilestoneFields::of).collect();
    let measures: Vec<MeasureFields> = measures.iter().map(MeasureFields::of).collect();
    let packed = reader.pack(&milestones, &measures);
    let (mut ms, mut mz) = (Unpacked::default(), Unpacked::default());
    reader.unpack(packed, &mut ms, &mut mz);
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
        let mut by_doc: Vec<Packed> = docs
            .iter()
            .rev()
            .map(|d| reader.pack(&d.milestones.iter().map(MilestoneFields::of).collect::<Vec<_>>(), &[]))
            .collect();
        by_doc.reverse();
        let (mut rows, mut none) = (Unpacked::default(), Unpacked::default());
        by_doc.into_iter().for_each(|p| reader.unpack(p, &mut rows, &mut none));
        let (arrived, _) = reader.finish(rows, none);
        let (in_order, _) = rows_of(&rules, &whole, &[]);

        assert_eq!(arrived.records.len(), whole.len());
        for (i, m) in whole.iter().enumerate() {
            let r = &arrived.records[i];
            assert_eq!(
                (&*r.id, &*r.document_id, &*r.action),
                (m.id.as_str(), m.document_id.as_str(), m.action.as_str())
            );
            assert_eq!(
                (r.plan_year.as_deref(), r.theme_key.as_deref()),
                (m.plan_year.as_deref(), m.theme_key.as_deref())
            );
            assert_eq!((r.section, r.status), (m.section, m.status.canonical));
            assert_eq!(r.target.end.as_deref(), m.target.end.as_deref());
            assert_eq!(words(&arrived, i), words(&in_order, i), "profile of {}", m.id);
        }
        assert_eq!(arrived.vocab.words, in_order.vocab.words, "word ids do not depend on arrival order");
        let mut series = Vec::new();
        super::super::milestone_series_into(&arrived, &documents, &rules, &mut |s| series.push(s));
        assert_eq!(series, super::super::milestone_series(&whole, &documents, &rules));
    }

    /// Rows kept on disk come back as they were; damaged bytes are refused,
    /// not misread.
    #[test]
    fn packed_rows_survive_bytes() {
        let rules = Rules::builtin().unwrap();
        let (a, b) = (read("tracker-2021-22.docx", &rules), read("cabinet-2024-25-midyear.pdf", &rules));
        let fields = |d: &DocResult| -> (Vec<MilestoneFields>, Vec<MeasureFields>) {
            (d.milestones.iter().map(MilestoneFields::of).collect(), d.measures.iter().map(MeasureFields::of).collect())
        };
        let mut reader = Reader::new(&rules);
        let ((ma, za), (mb, zb)) = (fields(&a), fields(&b));
        let (pa, pb) = (reader.pack(&ma, &za), reader.pack(&mb, &zb));
        assert!(pa.milestones() > 0 && pb.measures() > 0);
        assert!(pa.milestones.iter().any(|m| !m.read.rationale.is_empty()), "rationales' words travel with the rows");
        assert!(pb.measures.iter().any(|m| m.value.is_some()) && pb.measures.iter().any(|m| m.value.is_none()));
        for p in [&pa, &pb, &Packed::default()] {
            let bytes = p.to_bytes();
            assert_eq!(Packed::from_bytes(&bytes).as_ref(), Some(p));
            assert_eq!(Packed::from_bytes(&bytes[..bytes.len() - 1]), None);
            let mut longer = bytes.clone();
            longer.push(0);
            assert_eq!(Packed::from_bytes(&longer), None);
        }
        let mut huge = pa.to_bytes();
        huge[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(Packed::from_bytes(&huge), None);
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
