//! Retrieval: for each new row, the few earlier actions worth scoring.
//!
//! Scoring every earlier action that shares a word with a new row is
//! quadratic in the size of a plan year: with a thousand actions a year,
//! "funding" alone brings hundreds of candidates, each compared word by word
//! (Monge-Elkan) against every wording its series has had. So candidates
//! are found as a search engine finds documents: TF-IDF dot products are
//! accumulated over the posting lists of the row's words, skipping words
//! too common to tell actions apart, and only the `candidates` closest
//! earlier actions (each at its closest wording) are scored in full. Any
//! earlier action that shares a word no other title of its plan year uses
//! (a name) is scored as well, however it ranks.

use std::collections::HashMap;

use super::features::TfIdf;
use super::profile::Corpus;

/// One wording of an earlier action: the column (action) it belongs to, the
/// milestone that printed it, and its TF-IDF vector.
pub struct Wording {
    pub col: usize,
    pub milestone: usize,
    pub vector: TfIdf,
}

/// Posting lists over the wordings of the open earlier actions.
pub struct Index {
    wordings: Vec<Wording>,
    /// word → (wording, weight of the word in that wording, the word is a name).
    postings: HashMap<u32, Vec<(usize, f64, bool)>>,
    /// Per column, the slot of its latest wording.
    latest: Vec<usize>,
}

/// Reusable per-thread buffers for [`Index::nearest`].
#[derive(Default)]
pub struct Scratch {
    dot: Vec<f64>,
    named: Vec<bool>,
    touched: Vec<usize>,
    /// Per column: (best slot, its dot product, a name is shared).
    best: Vec<Option<(usize, f64, bool)>>,
}

impl Index {
    /// Index `wordings` of `cols` columns (each column's latest wording
    /// first). Words in more than `common_share`
    /// of one plan year's titles (and in more than `common_min` of them) are
    /// left out: they find everything and so nothing.
    pub fn new(wordings: Vec<Wording>, cols: usize, corpus: &Corpus, common_share: f64, common_min: u32) -> Index {
        let mut postings: HashMap<u32, Vec<(usize, f64, bool)>> = HashMap::new();
        for (slot, w) in wordings.iter().enumerate() {
            for (word, weight) in &w.vector {
                let most = corpus.most_titles(*word);
                if most > common_min && f64::from(most) > common_share * corpus.titles_per_year() {
                    continue;
                }
                postings.entry(*word).or_default().push((slot, *weight, most <= 1));
            }
        }
        let mut latest = vec![usize::MAX; cols];
        for (slot, w) in wordings.iter().enumerate() {
            if latest[w.col] == usize::MAX {
                latest[w.col] = slot;
            }
        }
        Index { wordings, postings, latest }
    }

    /// The slots of a column's wordings, latest first.
    pub fn slots_of(&self, col: usize) -> impl Iterator<Item = usize> + '_ {
        (self.latest[col]..self.wordings.len()).take_while(move |s| self.wordings[*s].col == col)
    }

    /// The slot of a column's latest wording.
    pub fn latest(&self, col: usize) -> usize {
        self.latest[col]
    }

    pub fn wording(&self, slot: usize) -> &Wording {
        &self.wordings[slot]
    }

    /// The columns worth scoring against `row`, each with its closest
    /// wording (a slot): the `k` with the highest dot product, then any
    /// other that shares a name. In a fixed order (best first, ties by
    /// column).
    pub fn nearest(&self, row: &TfIdf, k: usize, scratch: &mut Scratch) -> Vec<(usize, usize)> {
        scratch.dot.resize(self.wordings.len(), 0.0);
        scratch.named.resize(self.wordings.len(), false);
        for (word, weight) in row {
            for &(slot, w, name) in self.postings.get(word).into_iter().flatten() {
                if scratch.dot[slot] == 0.0 && !scratch.named[slot] {
                    scratch.touched.push(slot);
                }
                scratch.dot[slot] += weight * w;
                scratch.named[slot] |= name;
            }
        }
        // Per column: its best wording, and whether any wording shares a name.
        scratch.best.resize(self.latest.len(), None);
        let mut cols = Vec::new();
        for &slot in &scratch.touched {
            let (col, dot, named) = (self.wordings[slot].col, scratch.dot[slot], scratch.named[slot]);
            match &mut scratch.best[col] {
                None => {
                    scratch.best[col] = Some((slot, dot, named));
                    cols.push(col);
                }
                Some(e) => {
                    if dot > e.1 || (dot == e.1 && slot < e.0) {
                        (e.0, e.1) = (slot, dot);
                    }
                    e.2 |= named;
                }
            }
            scratch.dot[slot] = 0.0;
            scratch.named[slot] = false;
        }
        scratch.touched.clear();
        let mut ranked: Vec<(usize, usize, f64, bool)> =
            cols.into_iter().filter_map(|c| scratch.best[c].take().map(|(s, d, n)| (c, s, d, n))).collect();
        ranked.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)));
        let mut out: Vec<(usize, usize)> = Vec::with_capacity(k.min(self.latest.len()));
        for (rank, (col, slot, _, named)) in ranked.into_iter().enumerate() {
            if rank < k || named {
                out.push((col, slot));
            }
        }
        out
    }
}
