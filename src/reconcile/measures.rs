//! Measures across reporting periods → measure series.
//!
//! A measure's normalised ref (`1.A3`) is strong evidence: scorecards keep
//! their numbering from quarter to quarter. But numbering does change when a
//! plan is renewed, so the ref is checked against the title: the same ref
//! with a similar title is linked `auto`; the same ref with a different
//! title, or a near-identical title under a new ref, is a possible
//! renumbering and is linked for `review`. Titles are compared with the same
//! content-word similarities as milestone titles.
//!
//! Within one period, the same measure in two renditions of a report (or
//! cited in the narrative of the report whose scorecard lists it) is one
//! member set: its first row speaks for it, the others follow it.

use std::borrow::Cow;
use std::cmp::Reverse;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::OnceLock;

use rayon::prelude::*;

use super::assign::{assign, Edge};
use super::features::{round4, TfIdf, Titles};
use super::profile::{cosine, Corpus};
use super::rows::{MeasureRow, Rows};
use crate::eval::match_key;
use crate::model::{
    Decision, Document, Format, Link, MeasurePoint, MeasureSeries, MeasureSeriesMember, MeasureSource, RunnerUp,
};
use crate::rules::Rules;

/// A period as a sortable key: (first year, quarter, text). "2016/17 Q2" →
/// (2016, 2, …); a period without a quarter sorts before its quarters.
fn period_key(p: &str) -> (i64, u32, String) {
    let year = p.get(..4).and_then(|y| y.parse().ok()).unwrap_or(i64::MAX);
    let quarter = p.split_whitespace().find_map(|w| w.strip_prefix('Q').and_then(|q| q.parse().ok())).unwrap_or(0);
    (year, quarter, p.to_string())
}

/// Rows of one measure in one period: the first speaks for the others.
struct Group {
    slot: Option<usize>,
    rows: Vec<usize>,
}

struct Candidate {
    row: usize,
    col: usize,
    score: f64,
    evidence: Evidence,
    decision: Decision,
    note: Option<&'static str>,
}

/// The weighted features of a link, as numbers until its series is written
/// (an archive's measures make tens of thousands of links).
#[derive(Debug, Clone, Copy)]
struct Evidence {
    same_ref: f64,
    title: Option<f64>,
}

impl Evidence {
    /// The sum of the features (rounded as printed).
    fn sum(&self) -> f64 {
        round4(self.same_ref + self.title.unwrap_or(0.0))
    }

    fn features(&self) -> BTreeMap<Cow<'static, str>, f64> {
        let mut out = BTreeMap::from([("same_ref".into(), self.same_ref)]);
        if let Some(t) = self.title {
            out.insert("title".into(), t);
        }
        out
    }
}

/// Link measures across periods into series, handed to `sink` in the
/// dataset's order.
pub fn series(rows: &Rows<MeasureRow>, documents: &[Document], rules: &Rules, sink: &mut dyn FnMut(MeasureSeries)) {
    let measures = &rows.records;
    let docs: HashMap<&str, &Document> = documents.iter().map(|d| (d.id.as_str(), d)).collect();
    let titles = Titles::new(&rows.profiles, &rows.vocab, rules);
    // Each measure's period, borrowed: its own, else its document's.
    let periods: Vec<Option<&str>> = measures
        .iter()
        .map(|m| m.period.as_deref().or_else(|| docs.get(&*m.document_id).and_then(|d| d.period.as_deref())))
        .collect();
    // The distinct periods in order, a sort key made per period rather than
    // per measure (the text is part of the key, so no two keys tie and the
    // order does not depend on the set's).
    let mut slots: Vec<&str> = periods.iter().flatten().copied().collect::<HashSet<&str>>().into_iter().collect();
    slots.sort_by_cached_key(|p| period_key(p));
    let slot_index: HashMap<&str, usize> = slots.iter().enumerate().map(|(i, s)| (*s, i)).collect();
    let slot_of: Vec<Option<usize>> = periods.iter().map(|p| p.and_then(|p| slot_index.get(p).copied())).collect();

    // Canonical order: period, scorecard before narrative, the document with
    // the most measures, DOCX, document id, row.
    let per_doc = measures.iter().fold(HashMap::<&str, usize>::new(), |mut acc, m| {
        *acc.entry(&*m.document_id).or_default() += 1;
        acc
    });
    let mut order: Vec<usize> = (0..measures.len()).collect();
    // Keys made once per row: each looks up the row's document twice.
    order.sort_by_cached_key(|i| {
        let m = &measures[*i];
        let doc = docs.get(&*m.document_id);
        (
            slot_of[*i].unwrap_or(usize::MAX),
            m.source != MeasureSource::Scorecard,
            Reverse(per_doc.get(&*m.document_id).copied().unwrap_or(0)),
            doc.map_or(1, |d| u8::from(d.format != Format::Docx)),
            m.document_id.clone(),
            *i,
        )
    });
    let groups = group(measures, &order, &slot_of, &titles);
    let linked = link(measures, &groups, slots.len(), &titles);
    output(measures, &groups, &linked, &slots, sink)
}

/// Gather each period's rows of one measure: the same ref with agreeing (or
/// unprinted) titles, or, without a ref, the same title; at most one row per
/// document and source.
fn group(measures: &[MeasureRow], order: &[usize], slot_of: &[Option<usize>], titles: &Titles) -> Vec<Group> {
    let agrees = titles.rules.reconcile.measures.title_agrees;
    let mut groups: Vec<Group> = Vec::new();
    // The groups of the current period by key (`order` is by period, so a
    // period's groups are done once the next period starts).
    let mut open: HashMap<String, Vec<usize>> = HashMap::new();
    let mut current = None;
    for &i in order {
        let m = &measures[i];
        let Some(slot) = slot_of[i] else {
            groups.push(Group { slot: None, rows: vec![i] });
            continue;
        };
        if current != Some(slot) {
            open.clear();
            current = Some(slot);
        }
        let key = match &m.r#ref {
            Some(r) => format!("ref:{r}"),
            None => format!("title:{}", match_key(m.title.as_deref().unwrap_or(""))),
        };
        let fits = |g: &Group| {
            let first = &measures[g.rows[0]];
            let same_place =
                g.rows.iter().any(|r| measures[*r].document_id == m.document_id && measures[*r].source == m.source);
            !same_place && title_similarity(titles, g.rows[0], i, first, m).is_none_or(|s| s >= agrees)
        };
        let candidates = open.entry(key).or_default();
        match candidates.iter().copied().find(|g| fits(&groups[*g])) {
            Some(g) => groups[g].rows.push(i),
            None => {
                candidates.push(groups.len());
                groups.push(Group { slot: Some(slot), rows: vec![i] });
            }
        }
    }
    groups
}

/// Mean of the three title similarities, with IDF over the two titles; None
/// when either title is not printed.
fn title_similarity(titles: &Titles, a: usize, b: usize, ma: &MeasureRow, mb: &MeasureRow) -> Option<f64> {
    if ma.title.is_none() || mb.title.is_none() {
        return None;
    }
    let idf = Corpus::of([&titles.profiles[a], &titles.profiles[b]].into_iter());
    Some(titles.mean_similarity(a, b, &idf.vector(&titles.profiles[a]), &idf.vector(&titles.profiles[b])))
}

/// The words of a unit-length TF-IDF vector through which every vector
/// whose cosine with it reaches `floor` can be found: its heaviest words,
/// until the rest weigh less than `floor` together. A vector sharing none
/// of them shares only the rest, so its cosine is at most the norm of the
/// rest (Cauchy-Schwarz), which is below `floor`. The common words this
/// leaves out are the ones with the longest lists of earlier titles: at
/// 1,000 reports it took the pairs visited from 7.8 to 3.1 million, and
/// measure reconciliation from 1.85 to 1.54 s.
fn probe_words(v: &[(u32, f64)], floor: f64) -> Vec<u32> {
    let mut by_weight: Vec<(u32, f64)> = v.to_vec();
    by_weight.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut rest: f64 = by_weight.iter().map(|(_, x)| x * x).sum();
    let mut out = Vec::with_capacity(by_weight.len());
    for (w, x) in by_weight {
        // A margin for rounding: a word too many costs a visit, one too few
        // a pair.
        if rest.max(0.0).sqrt() < floor - 1e-9 {
            break;
        }
        out.push(w);
        rest -= x * x;
    }
    out
}

/// The link of a group to its predecessor.
#[derive(Debug, Clone)]
struct GroupLink {
    pred: usize,
    score: f64,
    decision: Decision,
    evidence: Evidence,
    /// The best other candidate of either end: (group, score).
    rival: Option<(usize, f64)>,
    note: Option<&'static str>,
}

/// Link each period's groups to open groups of earlier periods.
fn link(measures: &[MeasureRow], groups: &[Group], slots: usize, titles: &Titles) -> Vec<Option<GroupLink>> {
    let rules = &titles.rules.reconcile;
    let mut pred: Vec<Option<GroupLink>> = vec![None; groups.len()];
    let mut has_successor = vec![false; groups.len()];
    for j in 0..slots {
        let rows: Vec<usize> = (0..groups.len()).filter(|g| groups[*g].slot == Some(j)).collect();
        let cols: Vec<usize> =
            (0..groups.len()).filter(|g| groups[*g].slot.is_some_and(|s| s < j) && !has_successor[*g]).collect();
        let first = |g: usize| groups[g].rows[0];
        let idf = Corpus::of(rows.iter().chain(&cols).map(|g| &titles.profiles[first(*g)]));
        // TF-IDF vectors: every row's, and an open column's only once a row
        // comes near it (most open columns are far from every new row).
        let row_vectors: Vec<TfIdf> = rows.par_iter().map(|g| idf.vector(&titles.profiles[first(*g)])).collect();
        // The earlier groups by ref and by title word: a pair is a candidate
        // when it shares either, and only those pairs are visited.
        let (mut by_ref, mut by_word) = (HashMap::<&str, Vec<usize>>::new(), HashMap::<u32, Vec<usize>>::new());
        for (c, cg) in cols.iter().enumerate() {
            let a = first(*cg);
            if let Some(r) = &measures[a].r#ref {
                by_ref.entry(&**r).or_default().push(c);
            }
            for w in titles.profiles[a].word_set.iter() {
                by_word.entry(*w).or_default().push(c);
            }
        }
        // A pair under different refs is only kept when the mean of its three
        // title similarities reaches `renumbered`, so its cosine must reach
        // 3 × renumbered − 2 (the other two are at most 1): checking that
        // first spares the costly Monge-Elkan for most pairs.
        let cosine_floor = 3.0 * rules.measures.renumbered - 2.0 - 1e-3;
        // Rows are scored side by side (a period's candidates in row order
        // whatever the threads: the same links), on the threads `--jobs`
        // allows, which a run may share with reconciling milestones.
        // An open column's vector is made by whichever thread first needs
        // it, once a period. A cache per thread made it over and over: rayon
        // calls the init of `map_init` for every piece of work it splits
        // off, and under `--jobs 2` at 500 reports the vectors were made
        // 385,000 times for 54,000 columns, which took the second thread's
        // gain from this loop.
        let col_vectors: Vec<OnceLock<TfIdf>> = (0..cols.len()).map(|_| OnceLock::new()).collect();
        let per_row: Vec<Vec<Candidate>> = rows
            .par_iter()
            .enumerate()
            .map_init(Vec::new, |near: &mut Vec<usize>, (r, rg)| {
                let mut out = Vec::new();
                let b = first(*rg);
                near.clear();
                if let Some(refs) = measures[b].r#ref.as_deref().and_then(|x| by_ref.get(x)) {
                    near.extend(refs);
                }
                for w in probe_words(&row_vectors[r], cosine_floor) {
                    near.extend(by_word.get(&w).into_iter().flatten());
                }
                near.sort_unstable();
                near.dedup();
                for &c in near.iter() {
                    let a = first(cols[c]);
                    let (ma, mb) = (&measures[a], &measures[b]);
                    let same_ref = ma.r#ref.is_some() && ma.r#ref == mb.r#ref;
                    let vc = col_vectors[c].get_or_init(|| idf.vector(&titles.profiles[a]));
                    let vr = &row_vectors[r];
                    if !same_ref && cosine(vc, vr) < cosine_floor {
                        continue;
                    }
                    let sim = (ma.title.is_some() && mb.title.is_some()).then(|| titles.mean_similarity(a, b, vc, vr));
                    let m = &rules.measures;
                    let total = m.same_ref + m.title;
                    let (ref_w, title_w) = (m.same_ref / total, m.title / total);
                    let (decision, note) = match (same_ref, sim) {
                        (true, None) => (Decision::Auto, None),
                        (true, Some(s)) if s >= m.title_agrees => (Decision::Auto, None),
                        (true, Some(_)) => (Decision::Review, Some("same ref, different title: possible renumbering")),
                        (false, Some(s)) if s >= m.renumbered => {
                            (Decision::Review, Some("near-identical title under a new ref: possible renumbering"))
                        }
                        _ => continue,
                    };
                    let evidence = Evidence {
                        same_ref: round4(ref_w * f64::from(u8::from(same_ref))),
                        title: sim.map(|s| round4(title_w * s)),
                    };
                    let score = if sim.is_some() { evidence.sum() } else { 1.0 };
                    out.push(Candidate { row: r, col: c, score, evidence, decision, note });
                }
                out
            })
            .collect();
        let cands: Vec<Candidate> = per_row.into_iter().flatten().collect();
        let edges: Vec<Edge> = cands.iter().map(|c| Edge { row: c.row, col: c.col, score: c.score }).collect();
        let chosen = assign(rows.len(), cols.len(), &edges, 0.0);
        // Each row's and column's candidates, so that finding a link's
        // rivals costs its degree, not every candidate of the period.
        let (mut by_row, mut by_col) = (vec![Vec::new(); rows.len()], vec![Vec::new(); cols.len()]);
        for (k, x) in cands.iter().enumerate() {
            by_row[x.row].push(k);
            by_col[x.col].push(k);
        }
        for (r, c) in chosen.iter().enumerate() {
            let Some(c) = *c else { continue };
            let Some(cand) = by_row[r].iter().map(|k| &cands[*k]).find(|x| x.col == c) else { continue };
            let rival = by_row[r]
                .iter()
                .chain(&by_col[c])
                .filter(|k| (cands[**k].row == r) != (cands[**k].col == c))
                // Of equal scores, the last candidate, as before indexing.
                .max_by(|a, b| cands[**a].score.total_cmp(&cands[**b].score).then(a.cmp(b)))
                .map(|k| &cands[*k])
                .map(|x| (if x.row == r { cols[x.col] } else { rows[x.row] }, x.score));
            let close = rival.is_some_and(|(_, s)| round4(cand.score - s) < rules.thresholds.margin - 1e-9);
            let decision = if close { Decision::Review } else { cand.decision };
            pred[rows[r]] = Some(GroupLink {
                pred: cols[c],
                score: cand.score,
                decision,
                evidence: cand.evidence,
                rival,
                note: cand.note,
            });
            has_successor[cols[c]] = true;
        }
    }
    pred
}

fn output(
    measures: &[MeasureRow],
    groups: &[Group],
    pred: &[Option<GroupLink>],
    slots: &[&str],
    sink: &mut dyn FnMut(MeasureSeries),
) {
    let first: Vec<usize> = (0..groups.len())
        .map(|mut g| {
            while let Some(l) = &pred[g] {
                g = l.pred;
            }
            g
        })
        .collect();
    let mut by_first: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (g, f) in first.iter().enumerate() {
        by_first.entry(*f).or_default().push(g);
    }
    let id = |g: usize| measures[groups[g].rows[0]].id.to_string();
    for (f, mut members_groups) in by_first {
        members_groups.sort_by_key(|g| (groups[*g].slot.unwrap_or(usize::MAX), *g));
        let mut members = Vec::new();
        let mut history = Vec::new();
        for &g in &members_groups {
            let head = &measures[groups[g].rows[0]];
            let period = groups[g].slot.and_then(|s| slots.get(s).map(|p| p.to_string()));
            let (score, decision, link) = match &pred[g] {
                Some(l) => (
                    l.score,
                    l.decision,
                    Some(Link {
                        from: id(l.pred),
                        to: None,
                        score: l.score,
                        decision: l.decision,
                        features: l.evidence.features(),
                        runner_up: l.rival.map(|(x, s)| RunnerUp { id: id(x), score: s }),
                        note: l.note.map(String::from),
                    }),
                ),
                None => (1.0, Decision::Auto, None),
            };
            members.push(MeasureSeriesMember {
                measure_id: head.id.to_string(),
                period: period.clone(),
                score,
                decision,
                link,
            });
            for &r in &groups[g].rows[1..] {
                let same_period = Link {
                    from: head.id.to_string(),
                    to: None,
                    score: 1.0,
                    decision: Decision::Auto,
                    features: BTreeMap::from([("same_period".into(), 1.0)]),
                    runner_up: None,
                    note: None,
                };
                members.push(MeasureSeriesMember {
                    measure_id: measures[r].id.to_string(),
                    period: period.clone(),
                    score: 1.0,
                    decision: Decision::Auto,
                    link: Some(same_period),
                });
            }
            history.push(MeasurePoint { period, value: head.value, status: head.status, direction: head.direction });
        }
        let latest = members_groups.iter().rev().flat_map(|g| groups[*g].rows.iter()).map(|r| &measures[*r]);
        sink(MeasureSeries {
            id: format!("ms-{}", id(f)),
            r#ref: members_groups.last().and_then(|g| measures[groups[*g].rows[0]].r#ref.as_deref().map(String::from)),
            title: latest.filter_map(|m| m.title.as_deref().map(String::from)).next(),
            members,
            history,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_sort_by_year_then_quarter() {
        let mut p = vec!["2017/18 Q1", "2016/17 Q4", "2016/17", "2016/17 Q2"];
        p.sort_by_key(|x| period_key(x));
        assert_eq!(p, ["2016/17", "2016/17 Q2", "2016/17 Q4", "2017/18 Q1"]);
    }

    /// Every pair whose cosine reaches the floor shares a probe word of
    /// either end, over many vectors with skewed weights (a few heavy words,
    /// many light ones, as TF-IDF gives); a floor of 0 or below probes with
    /// every word.
    #[test]
    fn probe_words_find_every_close_pair() {
        let unit = |v: Vec<(u32, f64)>| -> Vec<(u32, f64)> {
            let n = v.iter().map(|(_, x)| x * x).sum::<f64>().sqrt();
            v.into_iter().map(|(w, x)| (w, x / n)).collect()
        };
        // Deterministic pseudo-random vectors over 12 words.
        let mut seed = 7u64;
        let mut next = || {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) as u32
        };
        let vectors: Vec<Vec<(u32, f64)>> = (0..300)
            .map(|_| {
                let mut words: Vec<u32> = (0..2 + next() % 5).map(|_| next() % 12).collect();
                words.sort_unstable();
                words.dedup();
                unit(words.into_iter().map(|w| (w, 1.0 + f64::from(w % 4) * 1.5 + f64::from(next() % 3))).collect())
            })
            .collect();
        for floor in [0.4, 0.7, 0.9] {
            let (mut close, mut probes) = (0, 0);
            for a in &vectors {
                let probe = probe_words(a, floor);
                probes += probe.len();
                for b in &vectors {
                    if cosine(a, b) >= floor {
                        close += 1;
                        assert!(b.iter().any(|(w, _)| probe.contains(w)), "missed {a:?} ~ {b:?} at {floor}");
                    }
                }
            }
            assert!(close > vectors.len(), "the test needs close pairs beyond each vector itself");
            let all: usize = vectors.iter().map(Vec::len).sum();
            assert!(probes < all || floor < 0.5, "a high floor should leave words out ({probes} of {all})");
        }
        let v = unit(vec![(1, 1.0), (2, 2.0)]);
        assert_eq!(probe_words(&v, 0.0).len(), 2);
        assert_eq!(probe_words(&v, -0.5).len(), 2);
    }
}
