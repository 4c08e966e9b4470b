//! A port of CPython's `difflib.SequenceMatcher` (`isjunk=None`,
//! `autojunk=True`), the similarity the field's table benchmarks use.
//!
//! Peers score structure with `SequenceMatcher(None, a, b).ratio()`, so a
//! "close enough" similarity (an LCS, an edit distance) would give figures
//! that are not comparable with theirs. This follows CPython 3.11 step by
//! step: the same `b2j` index, the same popularity purge for long `b`, the
//! same tie-breaking in `find_longest_match`, the same recursion into the
//! pieces left and right of each longest match.

use std::collections::HashMap;
use std::hash::Hash;

/// One maximal matching block: `a[a..a + size] == b[b..b + size]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Match {
    pub a: usize,
    pub b: usize,
    pub size: usize,
}

/// Compares two sequences the way `difflib.SequenceMatcher(None, a, b)` does.
pub struct SequenceMatcher<'s, T> {
    a: &'s [T],
    b: &'s [T],
    /// For each element of `b`, the ascending indices where it occurs, with
    /// popular elements removed (CPython's `b2j`).
    b2j: HashMap<&'s T, Vec<usize>>,
}

impl<'s, T: Eq + Hash> SequenceMatcher<'s, T> {
    pub fn new(a: &'s [T], b: &'s [T]) -> Self {
        let mut b2j: HashMap<&T, Vec<usize>> = HashMap::new();
        for (j, x) in b.iter().enumerate() {
            b2j.entry(x).or_default().push(j);
        }
        // autojunk: in a `b` of 200 or more items, an element that occurs more
        // than 1% + 1 times is "popular" and dropped from the index. It is not
        // junk (`bjunk` stays empty without `isjunk`), so the extension passes
        // of `find_longest_match` may still absorb it next to a match.
        if b.len() >= 200 {
            let ntest = b.len() / 100 + 1;
            b2j.retain(|_, idx| idx.len() <= ntest);
        }
        SequenceMatcher { a, b, b2j }
    }

    /// The longest matching block in `a[alo..ahi]` and `b[blo..bhi]`; among
    /// equally long ones, the one that starts earliest in `a`, then in `b`.
    pub fn find_longest_match(&self, alo: usize, ahi: usize, blo: usize, bhi: usize) -> Match {
        let (a, b) = (self.a, self.b);
        let (mut besti, mut bestj, mut bestsize) = (alo, blo, 0usize);
        // j2len[j]: length of the longest match ending with a[i-1] and b[j].
        let mut j2len: HashMap<usize, usize> = HashMap::new();
        for (i, x) in a.iter().enumerate().take(ahi).skip(alo) {
            let mut newj2len: HashMap<usize, usize> = HashMap::new();
            if let Some(js) = self.b2j.get(x) {
                for &j in js {
                    if j < blo {
                        continue;
                    }
                    if j >= bhi {
                        break;
                    }
                    let prev = if j == 0 { 0 } else { j2len.get(&(j - 1)).copied().unwrap_or(0) };
                    let k = prev + 1;
                    newj2len.insert(j, k);
                    if k > bestsize {
                        besti = i + 1 - k;
                        bestj = j + 1 - k;
                        bestsize = k;
                    }
                }
            }
            j2len = newj2len;
        }
        // Extend by equal elements on each side: this is how popular elements
        // (absent from b2j) still join a match. The second pair of loops in
        // CPython extends by junk elements only; with `isjunk=None` there are
        // none, so those loops never run and are left out.
        while besti > alo && bestj > blo && a[besti - 1] == b[bestj - 1] {
            besti -= 1;
            bestj -= 1;
            bestsize += 1;
        }
        while besti + bestsize < ahi && bestj + bestsize < bhi && a[besti + bestsize] == b[bestj + bestsize] {
            bestsize += 1;
        }
        Match { a: besti, b: bestj, size: bestsize }
    }

    /// CPython's `get_matching_blocks()`: the blocks in order, adjacent ones
    /// collapsed, ending with the sentinel `(len(a), len(b), 0)`.
    pub fn matching_blocks(&self) -> Vec<Match> {
        let (la, lb) = (self.a.len(), self.b.len());
        let mut queue = vec![(0, la, 0, lb)];
        let mut blocks = Vec::new();
        while let Some((alo, ahi, blo, bhi)) = queue.pop() {
            let m = self.find_longest_match(alo, ahi, blo, bhi);
            if m.size > 0 {
                blocks.push(m);
                if alo < m.a && blo < m.b {
                    queue.push((alo, m.a, blo, m.b));
                }
                if m.a + m.size < ahi && m.b + m.size < bhi {
                    queue.push((m.a + m.size, ahi, m.b + m.size, bhi));
                }
            }
        }
        blocks.sort();
        let mut out: Vec<Match> = Vec::with_capacity(blocks.len() + 1);
        for m in blocks {
            match out.last_mut() {
                Some(last) if last.a + last.size == m.a && last.b + last.size == m.b => last.size += m.size,
                _ => out.push(m),
            }
        }
        out.push(Match { a: la, b: lb, size: 0 });
        out
    }

    /// `ratio()`: twice the matched elements over the total length, 1.0 when
    /// both sequences are empty.
    pub fn ratio(&self) -> f64 {
        let matches: usize = self.matching_blocks().iter().map(|m| m.size).sum();
        let total = self.a.len() + self.b.len();
        if total == 0 {
            1.0
        } else {
            2.0 * matches as f64 / total as f64
        }
    }
}
