//! Plan years, and the actions of one plan year across its documents.
//!
//! The same report is often archived twice, as PDF and as DOCX: two
//! documents of one plan year with (nearly) the same rows. They are not two
//! years and their rows must not compete with each other for successors, so
//! before linking across years the rows of a plan year are gathered into
//! *units*: one row of the primary document plus the same row in every other
//! document of that year (same text, or a score of at least `rendition`).
//! Linking across years then works on units, and each unit's extra rows join
//! its series linked by the feature `rendition`.
//!
//! The primary document of a year is the one with the most rows, then the
//! latest progress date, then DOCX (its text comes straight from the XML),
//! then the smaller id: an order that depends on the documents alone, never
//! on the order they were read in.

use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap, VecDeque};

use rayon::prelude::*;

use super::assign::{assign, Edge};
use super::features::Scorer;
use super::profile::{cosine, Corpus};
use crate::eval::match_key;
use crate::model::{Document, Format};

/// The plan years present, oldest first.
#[derive(Debug, Clone, Default)]
pub struct Years {
    pub keys: Vec<String>,
    /// The first year of each plan year ("2021/22" → 2021), for gaps.
    numbers: Vec<i64>,
}

impl Years {
    pub fn new<'a>(plan_years: impl Iterator<Item = &'a str>) -> Years {
        let mut keys: Vec<String> = plan_years.map(String::from).collect();
        keys.sort();
        keys.dedup();
        let numbers =
            keys.iter().enumerate().map(|(i, k)| k.get(..4).and_then(|y| y.parse().ok()).unwrap_or(i as i64)).collect();
        Years { keys, numbers }
    }

    pub fn index(&self, key: &str) -> Option<usize> {
        self.keys.binary_search_by(|k| k.as_str().cmp(key)).ok()
    }

    /// Plan years from `earlier` to `later` (at least 1 when they differ).
    pub fn gap(&self, earlier: usize, later: usize) -> usize {
        if earlier == later {
            return 0;
        }
        (self.numbers[later] - self.numbers[earlier]).max(1) as usize
    }
}

/// Another document's row that is this unit's row.
#[derive(Debug, Clone)]
pub struct Twin {
    pub milestone: usize,
    /// None: the same text; Some: a different text, and how alike the two
    /// titles are (at least `rendition`).
    pub similarity: Option<f64>,
}

/// One action of one plan year: a row, plus the same row in other renditions.
#[derive(Debug, Clone)]
pub struct Unit {
    /// Index into [`Years::keys`]; None for milestones without a plan year,
    /// which are never linked.
    pub year: Option<usize>,
    /// The row that speaks for the unit (in the year's primary document
    /// where it has the row).
    pub primary: usize,
    pub twins: Vec<Twin>,
}

/// Gather the rows of every plan year into units, in a canonical order:
/// plan year, then primary document first, then row order.
pub fn units(scorer: &Scorer, documents: &[Document], years: &Years) -> Vec<Unit> {
    let docs: HashMap<&str, &Document> = documents.iter().map(|d| (d.id.as_str(), d)).collect();
    // Rows by plan year, then by document (in row order).
    // Keyed so that rows without a plan year come last.
    let mut by_year: BTreeMap<usize, BTreeMap<&str, Vec<usize>>> = BTreeMap::new();
    for (i, m) in scorer.milestones.iter().enumerate() {
        let year = m.plan_year.as_deref().and_then(|y| years.index(y));
        by_year.entry(year.unwrap_or(usize::MAX)).or_default().entry(&*m.document_id).or_default().push(i);
    }
    // Each plan year's units depend on that year's rows alone: the years are
    // gathered side by side, then concatenated in year order.
    let by_year: Vec<(usize, BTreeMap<&str, Vec<usize>>)> = by_year.into_iter().collect();
    let per_year: Vec<Vec<Unit>> = by_year
        .into_par_iter()
        .map(|(year, by_doc)| {
            let mut ordered: Vec<(&str, Vec<usize>)> = by_doc.into_iter().collect();
            ordered.sort_by_key(|(id, rows)| {
                let doc = docs.get(id);
                (
                    Reverse(rows.len()),
                    Reverse(doc.and_then(|d| d.as_of.clone())),
                    doc.map_or(1, |d| u8::from(d.format != Format::Docx)),
                    id.to_string(),
                )
            });
            let year = (year != usize::MAX).then_some(year);
            match year {
                None => ordered
                    .into_iter()
                    .flat_map(|(_, rows)| rows)
                    .map(|primary| Unit { year: None, primary, twins: Vec::new() })
                    .collect(),
                Some(_) => year_units(scorer, year, ordered),
            }
        })
        .collect();
    per_year.into_iter().flatten().collect()
}

/// Units of one plan year from its documents' rows, primary document first.
fn year_units(scorer: &Scorer, year: Option<usize>, docs: Vec<(&str, Vec<usize>)>) -> Vec<Unit> {
    let mut units: Vec<Unit> = Vec::new();
    let all: Vec<usize> = docs.iter().flat_map(|(_, rows)| rows.iter().copied()).collect();
    let corpus = Corpus::of(all.iter().map(|i| &scorer.profiles()[*i]));
    // Each row's text key, made once: every document of the year is matched
    // against all the units so far.
    let keys: HashMap<usize, String> = all.iter().map(|i| (*i, match_key(&scorer.milestones[*i].action))).collect();
    // (Every row met below is one of `all`, so the fallback is never used.)
    let key = |i: usize| keys.get(&i).map_or("", String::as_str);
    for (_, rows) in docs {
        // The same text: in order, so repeated texts pair up first with first.
        let mut by_text: HashMap<&str, VecDeque<usize>> = HashMap::new();
        for (u, unit) in units.iter().enumerate() {
            by_text.entry(key(unit.primary)).or_default().push_back(u);
        }
        let mut taken = vec![false; units.len()];
        let mut left = Vec::new();
        for row in rows {
            match by_text.get_mut(&key(row)).and_then(VecDeque::pop_front) {
                Some(u) => {
                    taken[u] = true;
                    units[u].twins.push(Twin { milestone: row, similarity: None });
                }
                None => left.push(row),
            }
        }
        // A different text: the best one-to-one match at `rendition` or above.
        let free: Vec<usize> = (0..units.len()).filter(|u| !taken[*u]).collect();
        let matched = match_renditions(scorer, &corpus, &units, &free, &left);
        for (k, row) in left.into_iter().enumerate() {
            match matched[k] {
                Some((u, similarity)) => units[u].twins.push(Twin { milestone: row, similarity: Some(similarity) }),
                None => units.push(Unit { year, primary: row, twins: Vec::new() }),
            }
        }
    }
    units
}

/// For each row of `left`, the free unit it is the same row as, if any:
/// title similarity at or above the `rendition` threshold, and clear of any
/// other candidate by `margin`, so a sibling row never passes for a
/// rendition. Only the titles count: the two renditions print the same
/// outcome, dates and commentary, and a reading slip is in the title.
fn match_renditions(
    scorer: &Scorer,
    corpus: &Corpus,
    units: &[Unit],
    free: &[usize],
    left: &[usize],
) -> Vec<Option<(usize, f64)>> {
    let t = &scorer.rules.reconcile.thresholds;
    let profiles = scorer.profiles();
    let vectors: HashMap<usize, _> = free
        .iter()
        .map(|u| units[*u].primary)
        .chain(left.iter().copied())
        .map(|i| (i, corpus.vector(&profiles[i])))
        .collect();
    // Only pairs that could matter are scored: a pair is taken at
    // `rendition` or above and is a close rival within `margin` of one, so
    // a mean below `rendition − margin` never counts, and the mean of three
    // similarities (each at most 1) is below that when the cosine is below
    // 3 (rendition − margin) − 2. Candidates come from the free units' words.
    let cosine_floor = 3.0 * (t.rendition - t.margin) - 2.0 - 1e-3;
    let mut by_word: HashMap<u32, Vec<usize>> = HashMap::new();
    for (c, u) in free.iter().enumerate() {
        for w in profiles[units[*u].primary].word_set.iter() {
            by_word.entry(*w).or_default().push(c);
        }
    }
    let mut edges = Vec::new();
    let mut near: Vec<usize> = Vec::new();
    for (r, row) in left.iter().enumerate() {
        near.clear();
        for w in profiles[*row].word_set.iter() {
            near.extend(by_word.get(w).into_iter().flatten());
        }
        near.sort_unstable();
        near.dedup();
        for &c in &near {
            let p = units[free[c]].primary;
            if cosine(&vectors[&p], &vectors[row]) < cosine_floor {
                continue;
            }
            let score = scorer.titles.mean_similarity(p, *row, &vectors[&p], &vectors[row]);
            edges.push(Edge { row: r, col: c, score });
        }
    }
    let chosen = assign(left.len(), free.len(), &edges, t.rendition);
    let (mut by_row, mut by_col) = (vec![Vec::new(); left.len()], vec![Vec::new(); free.len()]);
    for e in &edges {
        by_row[e.row].push(e);
        by_col[e.col].push(e);
    }
    chosen
        .iter()
        .enumerate()
        .map(|(r, c)| {
            let c = (*c)?;
            let score = by_row[r].iter().find(|e| e.col == c)?.score;
            let rival = by_row[r]
                .iter()
                .filter(|e| e.col != c)
                .chain(by_col[c].iter().filter(|e| e.row != r))
                .map(|e| e.score)
                .fold(0.0, f64::max);
            (score - rival >= t.margin - 1e-9).then(|| (free[c], score))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn years_sort_and_measure_gaps() {
        let y = Years::new(["2023/24", "2021/22", "2023/24"].into_iter());
        assert_eq!(y.keys, ["2021/22", "2023/24"]);
        assert_eq!(y.gap(0, 1), 2);
        assert_eq!(y.gap(1, 1), 0);
        assert_eq!(y.index("2023/24"), Some(1));
        assert_eq!(y.index("1999/00"), None);
    }
}
