//! Linking plan years: which unit of a later year continues which unit of an
//! earlier one.
//!
//! Plan years are taken oldest first. For plan year `j`, the rows are its
//! units and the columns are the units of the `max_gap` earlier years that
//! have no successor yet (so a link may skip a year in which the action was
//! not reported). Both are fixed by what came before `j`, never by what comes
//! after, so adding a later year's report leaves every earlier link, and so
//! every series id, as it was.
//!
//! Candidates come from [`super::retrieve`] (each open column is compared
//! through the closest of the wordings its series has had). They are
//! scored, then assigned one-to-one in two passes: within the same or related themes at
//! `review`, then, for what is still unmatched on both sides, across
//! unrelated themes at `cross_theme` (a reorganised theme must not hide a
//! match, but an unrelated one must earn it). Each link is then decided
//! `auto` or `review` against its runner-up; second-best candidates that
//! are still strong become split or merge proposals. `must_link` rules fix
//! a link before scoring; `cannot_link` rules remove every candidate that
//! would put the two into one series.

use std::collections::{HashMap, HashSet};

use rayon::prelude::*;

use super::assign::{assign, Edge};
use super::features::{round4, Scored, Scorer, TfIdf};
use super::overrides::{Resolved, Rule};
use super::profile::Corpus;
use super::retrieve::{Index, Scratch, Wording};
use super::units::{Unit, Years};
use crate::model::Decision;

/// The link that brought a unit into its series.
#[derive(Debug, Clone)]
pub struct UnitLink {
    pub from: usize,
    pub scored: Scored,
    pub decision: Decision,
    /// The best other candidate of either end: (unit, score).
    pub runner_up: Option<(usize, f64)>,
    pub note: Option<String>,
}

/// A split or merge proposed for review: `to` may also continue `from`.
#[derive(Debug, Clone)]
pub struct Proposal {
    pub from: usize,
    pub to: usize,
    pub scored: Scored,
    /// The unit the proposal lost to, and its score.
    pub runner_up: Option<(usize, f64)>,
    pub note: String,
}

/// Every unit's link to its predecessor, the proposals, and override notes.
#[derive(Debug, Clone, Default)]
pub struct Linked {
    pub pred: Vec<Option<UnitLink>>,
    pub proposals: Vec<Proposal>,
    /// Per unit: why an override shaped it (a `cannot_link` that kept it apart).
    pub notes: Vec<Option<String>>,
}

/// A scored pair of one step: row (later unit) and column (earlier unit),
/// as positions in the step's lists.
#[derive(Debug, Clone)]
struct Candidate {
    row: usize,
    col: usize,
    scored: Scored,
    /// The two themes are neither the same nor related.
    cross: bool,
    /// The wording (milestone) of the column's series the row was closest to.
    wording: usize,
}

struct Linker<'a> {
    scorer: &'a Scorer<'a>,
    units: &'a [Unit],
    years: &'a Years,
    cannot: Vec<Vec<(usize, &'a Rule)>>,
    has_successor: Vec<bool>,
    root: Vec<usize>,
    out: Linked,
}

/// Link the units of every plan year to their predecessors.
pub fn link(scorer: &Scorer, units: &[Unit], years: &Years, overrides: &Resolved) -> Linked {
    let n = units.len();
    let mut linker = Linker {
        scorer,
        units,
        years,
        cannot: overrides.cannot_partners(n),
        has_successor: vec![false; n],
        root: (0..n).collect(),
        out: Linked { pred: vec![None; n], proposals: Vec::new(), notes: vec![None; n] },
    };
    let must = overrides.must_predecessor();
    let reserved: HashSet<usize> = overrides.must.iter().map(|r| r.earlier).collect();
    let mut by_year: Vec<Vec<usize>> = vec![Vec::new(); years.keys.len()];
    for (u, unit) in units.iter().enumerate() {
        if let Some(y) = unit.year {
            by_year[y].push(u);
        }
    }
    let max_gap = scorer.rules.reconcile.linking.max_gap;
    for j in 0..years.keys.len() {
        let window: Vec<usize> = (0..j).filter(|y| years.gap(*y, j) <= max_gap).collect();
        let rows: Vec<usize> = by_year[j].iter().copied().filter(|u| !must.contains_key(u)).collect();
        let cols: Vec<usize> = window
            .iter()
            .flat_map(|y| &by_year[*y])
            .copied()
            .filter(|u| !linker.has_successor[*u] && !reserved.contains(u))
            .collect();
        let groups: Vec<Vec<_>> = window
            .iter()
            .chain([&j])
            .map(|y| by_year[*y].iter().map(|u| &scorer.profiles()[units[*u].primary]).collect())
            .collect();
        let corpus = Corpus::grouped(&groups);
        linker.step(j, &rows, &cols, &corpus);
        let mut fixed: Vec<(usize, &Rule)> = by_year[j].iter().filter_map(|u| must.get(u).map(|r| (*u, *r))).collect();
        fixed.sort_by_key(|(u, _)| *u);
        for (u, rule) in fixed {
            linker.fix(u, rule);
        }
    }
    // Rules naming a row without a plan year still join it.
    let mut rest: Vec<(usize, &Rule)> =
        must.iter().filter(|(u, _)| units[**u].year.is_none()).map(|(u, r)| (*u, *r)).collect();
    rest.sort_by_key(|(u, _)| *u);
    for (u, rule) in rest {
        linker.fix(u, rule);
    }
    linker.out
}

impl Linker<'_> {
    fn primary(&self, u: usize) -> usize {
        self.units[u].primary
    }

    /// The units of `u`'s series so far, from `u` back to the first.
    fn history(&self, mut u: usize) -> Vec<usize> {
        let mut out = vec![u];
        while let Some(l) = &self.out.pred[u] {
            u = l.from;
            out.push(u);
        }
        out
    }

    /// Whether a `cannot_link` rule forbids putting `row` into `col`'s series;
    /// the rule when it does.
    fn forbidden(&self, col: usize, row: usize) -> Option<&Rule> {
        self.cannot[row].iter().find(|(other, _)| self.root[*other] == self.root[col]).map(|(_, r)| *r)
    }

    /// Score the candidate pairs of a step (see [`super::retrieve`]). Also
    /// returns, per row, the best pair a `cannot_link` rule blocked at
    /// `review` or above: (row, column).
    fn candidates(
        &self,
        j: usize,
        rows: &[usize],
        cols: &[usize],
        corpus: &Corpus,
    ) -> (Vec<Candidate>, Vec<(usize, usize)>) {
        let t = &self.scorer.rules.reconcile.thresholds;
        let linking = &self.scorer.rules.reconcile.linking;
        let floor = (t.review.min(t.split).min(t.cross_theme) - t.margin).max(0.0);
        let profiles = self.scorer.profiles();
        let vector = |u: &usize| corpus.vector(&profiles[self.primary(*u)]);
        let row_vecs: Vec<TfIdf> = rows.par_iter().map(vector).collect();
        // Every wording each open column's series has had: a new row may be
        // closer to an older wording than to the latest.
        let wordings: Vec<Wording> = cols
            .par_iter()
            .enumerate()
            .flat_map_iter(|(c, u)| {
                self.history(*u).into_iter().map(move |h| Wording {
                    col: c,
                    milestone: self.primary(h),
                    vector: vector(&h),
                })
            })
            .collect();
        let index = Index::new(wordings, cols.len(), corpus, linking.common_word_share, linking.common_word_min);
        let per_row: Vec<(Vec<Candidate>, Option<usize>)> = rows
            .par_iter()
            .enumerate()
            .map_init(Scratch::default, |scratch, (r, ru)| {
                let later = self.primary(*ru);
                let mut found = Vec::new();
                let mut blocked: Option<(usize, f64)> = None;
                for (c, slot) in index.nearest(&row_vecs[r], linking.candidates, scratch) {
                    let cu = cols[c];
                    let gap = self.units[cu].year.map_or(1, |y| self.years.gap(y, j));
                    // The best-scoring wording of the column's series.
                    let score = |slot: usize| {
                        let w = index.wording(slot);
                        (w, self.scorer.score(w.milestone, later, &w.vector, &row_vecs[r], gap, corpus))
                    };
                    let _ = slot;
                    let Some((w, scored)) =
                        index.slots_of(c).map(score).reduce(|a, b| if b.1.score > a.1.score { b } else { a })
                    else {
                        continue;
                    };
                    if scored.score < floor {
                        continue;
                    }
                    if self.forbidden(cu, *ru).is_some() {
                        if scored.score >= t.review && blocked.is_none_or(|(_, s)| scored.score > s) {
                            blocked = Some((c, scored.score));
                        }
                        continue;
                    }
                    let (m, earlier) = (self.scorer.milestones, self.primary(cu));
                    let affinity =
                        self.scorer.theme_affinity(m[earlier].theme_key.as_deref(), m[later].theme_key.as_deref());
                    let known = m[earlier].theme_key.is_some() && m[later].theme_key.is_some();
                    found.push(Candidate {
                        row: r,
                        col: c,
                        scored,
                        cross: known && affinity == 0.0,
                        wording: w.milestone,
                    });
                }
                found.sort_by_key(|c| c.col);
                (found, blocked.map(|(c, _)| c))
            })
            .collect();
        let mut blocked_rows = Vec::new();
        let mut all = Vec::new();
        for (r, (found, blocked)) in per_row.into_iter().enumerate() {
            all.extend(found);
            blocked_rows.extend(blocked.map(|c| (r, c)));
        }
        (all, blocked_rows)
    }

    /// Link the rows of plan year `j` to the open columns.
    fn step(&mut self, j: usize, rows: &[usize], cols: &[usize], corpus: &Corpus) {
        let t = self.scorer.rules.reconcile.thresholds.clone();
        let (cands, blocked) = self.candidates(j, rows, cols, corpus);
        for (r, c) in blocked {
            let (ru, cu) = (rows[r], cols[c]);
            let rule = self.forbidden(cu, ru).map(|r| r.note.clone()).unwrap_or_default();
            let other = &self.scorer.milestones[self.primary(cu)];
            self.out.notes[ru] = Some(format!(
                "kept apart from {} ({}) by {rule}",
                other.id,
                other.plan_year.as_deref().unwrap_or("no plan year")
            ));
        }
        let edges = |cands: &[Candidate], cross: bool, free: &dyn Fn(&Candidate) -> bool| -> Vec<Edge> {
            cands
                .iter()
                .filter(|c| c.cross == cross && free(c))
                .map(|c| Edge { row: c.row, col: c.col, score: c.scored.score })
                .collect()
        };
        // Pass 1: same or related themes.
        let mut row_to_col = assign(rows.len(), cols.len(), &edges(&cands, false, &|_| true), t.review);
        // Pass 2: unrelated themes, for what is left on both sides.
        let mut col_taken = vec![false; cols.len()];
        row_to_col.iter().flatten().for_each(|c| col_taken[*c] = true);
        let free = |c: &Candidate| row_to_col[c.row].is_none() && !col_taken[c.col];
        let second = assign(rows.len(), cols.len(), &edges(&cands, true, &free), t.cross_theme);
        for (r, c) in second.into_iter().enumerate() {
            if let Some(c) = c {
                row_to_col[r] = Some(c);
                col_taken[c] = true;
            }
        }
        let table = Table::new(rows.len(), cols.len(), &cands, &row_to_col);
        self.decide(rows, cols, &table);
        self.propose(rows, cols, &table);
    }

    /// Decide and commit the assigned links of a step.
    fn decide(&mut self, rows: &[usize], cols: &[usize], table: &Table) {
        let t = self.scorer.rules.reconcile.thresholds.clone();
        for (r, c) in table.row_to_col.iter().enumerate() {
            let Some(c) = *c else { continue };
            let cand = table.get(r, c);
            let score = cand.scored.score;
            let runner_up = table.runner_up(r, c, t.margin).map(|(unit_of, s)| {
                let u = match unit_of {
                    Side::Row(x) => rows[x],
                    Side::Col(x) => cols[x],
                };
                (u, s)
            });
            let auto_at = if cand.cross { t.auto.max(t.cross_theme) } else { t.auto };
            let clear = runner_up.is_none_or(|(_, s)| round4(score - s) >= t.margin - 1e-9);
            let decision = if score >= auto_at && clear { Decision::Auto } else { Decision::Review };
            let (ru, cu) = (rows[r], cols[c]);
            let ms = self.scorer.milestones;
            let mut notes = Vec::new();
            if cand.wording != self.primary(cu) {
                let w = &ms[cand.wording];
                notes.push(format!("closest to the {} wording {}", w.plan_year.as_deref().unwrap_or("undated"), w.id));
            }
            if cand.cross {
                notes.push("across unrelated themes".to_string());
            }
            let note = (!notes.is_empty()).then(|| notes.join("; "));
            self.out.pred[ru] = Some(UnitLink { from: cu, scored: cand.scored.clone(), decision, runner_up, note });
            self.has_successor[cu] = true;
            self.root[ru] = self.root[cu];
        }
    }

    /// Propose splits (an unmatched row that scores well against a column
    /// linked to another row) and merges (an unmatched column that scores
    /// well against a row linked to another column), for review.
    fn propose(&mut self, rows: &[usize], cols: &[usize], table: &Table) {
        let t = self.scorer.rules.reconcile.thresholds.clone();
        let strong = |c: &Candidate| c.scored.score >= t.split && (!c.cross || c.scored.score >= t.cross_theme);
        let ms = self.scorer.milestones;
        let id = |u: usize| ms[self.units[u].primary].id.clone();
        for r in (0..rows.len()).filter(|r| table.row_to_col[*r].is_none()) {
            let best = table.by_row[r]
                .iter()
                .map(|k| &table.cands[*k])
                .filter(|c| strong(c))
                .filter_map(|c| table.col_to_row[c.col].map(|other| (c, other)));
            if let Some((c, other)) = best.max_by(|a, b| a.0.scored.score.total_cmp(&b.0.scored.score)) {
                let linked = table.get(other, c.col).scored.score;
                self.out.proposals.push(Proposal {
                    from: cols[c.col],
                    to: rows[r],
                    scored: c.scored.clone(),
                    runner_up: Some((rows[other], linked)),
                    note: format!(
                        "possible split: {} may continue as {} as well as {}",
                        id(cols[c.col]),
                        id(rows[r]),
                        id(rows[other])
                    ),
                });
            }
        }
        for c in (0..cols.len()).filter(|c| table.col_to_row[*c].is_none()) {
            let best = table.by_col[c]
                .iter()
                .map(|k| &table.cands[*k])
                .filter(|x| strong(x))
                .filter_map(|x| table.row_to_col[x.row].map(|other| (x, other)));
            if let Some((x, other)) = best.max_by(|a, b| a.0.scored.score.total_cmp(&b.0.scored.score)) {
                let linked = table.get(x.row, other).scored.score;
                self.out.proposals.push(Proposal {
                    from: cols[c],
                    to: rows[x.row],
                    scored: x.scored.clone(),
                    runner_up: Some((cols[other], linked)),
                    note: format!(
                        "possible merge: {} may continue as {} together with {}",
                        id(cols[c]),
                        id(rows[x.row]),
                        id(cols[other])
                    ),
                });
            }
        }
    }

    /// Apply a `must_link` rule: `u` continues the rule's earlier unit.
    fn fix(&mut self, u: usize, rule: &Rule) {
        let e = rule.earlier;
        let (pe, pu) = (self.primary(e), self.primary(u));
        let profiles = self.scorer.profiles();
        let corpus = Corpus::of([&profiles[pe], &profiles[pu]].into_iter());
        let gap = match (self.units[e].year, self.units[u].year) {
            (Some(a), Some(b)) => self.years.gap(a, b),
            _ => 0,
        };
        let scored =
            self.scorer.score(pe, pu, &corpus.vector(&profiles[pe]), &corpus.vector(&profiles[pu]), gap, &corpus);
        self.out.pred[u] = Some(UnitLink {
            from: e,
            scored,
            decision: Decision::Manual,
            runner_up: None,
            note: Some(rule.note.clone()),
        });
        self.has_successor[e] = true;
        self.root[u] = self.root[e];
    }
}

enum Side {
    Row(usize),
    Col(usize),
}

/// A step's candidates indexed both ways, with the assignment.
struct Table<'c> {
    cands: &'c [Candidate],
    by_row: Vec<Vec<usize>>,
    by_col: Vec<Vec<usize>>,
    pair: HashMap<(usize, usize), usize>,
    row_to_col: Vec<Option<usize>>,
    col_to_row: Vec<Option<usize>>,
}

impl<'c> Table<'c> {
    fn new(rows: usize, cols: usize, cands: &'c [Candidate], row_to_col: &[Option<usize>]) -> Table<'c> {
        let mut t = Table {
            cands,
            by_row: vec![Vec::new(); rows],
            by_col: vec![Vec::new(); cols],
            pair: HashMap::with_capacity(cands.len()),
            row_to_col: row_to_col.to_vec(),
            col_to_row: vec![None; cols],
        };
        for (k, c) in cands.iter().enumerate() {
            t.by_row[c.row].push(k);
            t.by_col[c.col].push(k);
            t.pair.insert((c.row, c.col), k);
        }
        for (r, c) in row_to_col.iter().enumerate() {
            if let Some(c) = c {
                t.col_to_row[*c] = Some(r);
            }
        }
        t
    }

    /// The candidate (r, c); only called for pairs that are candidates.
    fn get(&self, r: usize, c: usize) -> &Candidate {
        &self.cands[self.pair[&(r, c)]]
    }

    fn assigned_score_of_row(&self, r: usize) -> Option<f64> {
        self.row_to_col[r].map(|c| self.get(r, c).scored.score)
    }

    fn assigned_score_of_col(&self, c: usize) -> Option<f64> {
        self.col_to_row[c].map(|r| self.get(r, c).scored.score)
    }

    /// The best competitor of the link (r, c): another column of r or
    /// another row of c, unless the assignment gave that competitor a partner
    /// clearly (by `margin`) better than this pair, in which case it was
    /// never really in the running.
    fn runner_up(&self, r: usize, c: usize, margin: f64) -> Option<(Side, f64)> {
        let from_row = self.by_row[r]
            .iter()
            .map(|k| &self.cands[*k])
            .filter(|x| x.col != c)
            .filter(|x| self.assigned_score_of_col(x.col).is_none_or(|own| own < x.scored.score + margin));
        let from_col = self.by_col[c]
            .iter()
            .map(|k| &self.cands[*k])
            .filter(|x| x.row != r)
            .filter(|x| self.assigned_score_of_row(x.row).is_none_or(|own| own < x.scored.score + margin));
        let best_row = from_row.max_by(|a, b| a.scored.score.total_cmp(&b.scored.score));
        let best_col = from_col.max_by(|a, b| a.scored.score.total_cmp(&b.scored.score));
        match (best_row, best_col) {
            (Some(a), Some(b)) if b.scored.score > a.scored.score => Some((Side::Row(b.row), b.scored.score)),
            (Some(a), _) => Some((Side::Col(a.col), a.scored.score)),
            (None, Some(b)) => Some((Side::Row(b.row), b.scored.score)),
            (None, None) => None,
        }
    }
}
