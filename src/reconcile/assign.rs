//! Optimal one-to-one assignment with a "no partner" option.
//!
//! Greedy linking (best pair first) goes wrong on ties: an action takes the
//! sibling that scores a hair higher and leaves its own successor to a worse
//! match. The Hungarian algorithm (`pathfinding::kuhn_munkres`) maximises the
//! total instead. Every row also has its own "no partner" column worth the
//! threshold, so a pair is only taken when it beats leaving both ends alone.
//!
//! Most links are clear (see [`clear_edges`]) and are taken out first; the
//! contested rest falls apart into small connected components (siblings
//! competing for one predecessor), each solved on its own, in parallel.
//! The result is an optimal assignment, computed in milliseconds where the
//! Hungarian algorithm on a whole plan year of a thousand actions (O(n³))
//! would take seconds.

use rayon::prelude::*;

/// A candidate pair and its score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Edge {
    pub row: usize,
    pub col: usize,
    pub score: f64,
}

/// Scores are compared as integers in millionths: the algorithm needs an
/// exact, totally ordered weight.
const SCALE: f64 = 1_000_000.0;

/// The best one-to-one assignment of rows to columns using only `edges`
/// scoring at least `floor`; `result[row]` is the column, or `None`.
pub fn assign(rows: usize, cols: usize, edges: &[Edge], floor: f64) -> Vec<Option<usize>> {
    let edges: Vec<Edge> = edges.iter().copied().filter(|e| e.score >= floor && e.row < rows && e.col < cols).collect();
    let mut out = vec![None; rows];
    let (fixed, rest) = clear_edges(rows, cols, edges, floor);
    for (r, c) in fixed {
        out[r] = Some(c);
    }
    let solved: Vec<Vec<(usize, usize)>> =
        components(rows, cols, &rest).par_iter().map(|c| solve(c, &rest, floor)).collect();
    for (r, c) in solved.into_iter().flatten() {
        out[r] = Some(c);
    }
    out
}

/// Take out the pairs that are in an optimal assignment whatever the rest
/// is, and return them with the edges left to solve.
///
/// With weights above the floor (w = score − floor), an edge whose weight is
/// at least the sum of the best other edges at its two ends is in some
/// optimal assignment: an assignment without it can drop the partners of
/// its two ends (losing at most that sum) and take it instead. Taking it
/// removes its ends, which may make further edges clear; repeated until no
/// edge is. Most links are clear, so what remains for the Hungarian
/// algorithm is the contested few (siblings), in small components.
fn clear_edges(rows: usize, cols: usize, mut edges: Vec<Edge>, floor: f64) -> (Vec<(usize, usize)>, Vec<Edge>) {
    let w = |e: &Edge| e.score - floor;
    let mut fixed = Vec::new();
    let (mut row_done, mut col_done) = (vec![false; rows], vec![false; cols]);
    loop {
        // The two best weights at each row and column.
        let mut top_r = vec![(0.0f64, 0.0f64); rows];
        let mut top_c = vec![(0.0f64, 0.0f64); cols];
        let push = |t: &mut (f64, f64), x: f64| {
            if x > t.0 {
                *t = (x, t.0);
            } else if x > t.1 {
                t.1 = x;
            }
        };
        for e in &edges {
            push(&mut top_r[e.row], w(e));
            push(&mut top_c[e.col], w(e));
        }
        let other = |t: (f64, f64), x: f64| if x >= t.0 { t.1 } else { t.0 };
        let mut progress = false;
        for e in &edges {
            if row_done[e.row] || col_done[e.col] {
                continue;
            }
            let x = w(e);
            if x >= other(top_r[e.row], x) + other(top_c[e.col], x) {
                fixed.push((e.row, e.col));
                row_done[e.row] = true;
                col_done[e.col] = true;
                progress = true;
            }
        }
        edges.retain(|e| !row_done[e.row] && !col_done[e.col]);
        if !progress {
            return (fixed, edges);
        }
    }
}

/// The optimal assignment within one component: (row, column) pairs.
///
/// Components can be large (a measure ref shared by a hundred councils'
/// scorecards ties them all together), and `kuhn_munkres` works on a dense
/// matrix of rows × (columns + rows): O(n³) time and O(n²) memory however
/// few the candidate pairs are. Measured on the reconciliation of a
/// 500-report corpus (components up to 1,533 × 1,521 with 26,348 edges),
/// it took 39% of the reconciler's time. So components are solved by
/// shortest augmenting paths over the sparse edges only (Dijkstra with
/// potentials, the method of Jonker–Volgenant's sparse solver): each row in
/// turn is given its best augmenting path, and "no partner" is a private
/// column of each row at weight zero. Weights are exact integers, so the
/// total is the same optimum `kuhn_munkres` finds (a test checks this).
fn solve(c: &Component, edges: &[Edge], floor: f64) -> Vec<(usize, usize)> {
    let (rs, cs) = (&c.rows, &c.cols);
    let mut adjacency: Vec<Vec<(usize, i64)>> = vec![Vec::new(); rs.len()];
    for e in c.edges.iter().map(|k| &edges[*k]) {
        let (Ok(i), Ok(j)) = (rs.binary_search(&e.row), cs.binary_search(&e.col)) else { continue };
        adjacency[i].push((j, weight(e.score, floor)));
    }
    sparse_assignment(cs.len(), &adjacency).into_iter().enumerate().filter_map(|(i, j)| Some((rs[i], cs[j?]))).collect()
}

/// A pair's weight above "no partner", in millionths; +1 so that a pair
/// exactly at the floor still beats leaving both ends alone.
fn weight(score: f64, floor: f64) -> i64 {
    ((score - floor) * SCALE).round() as i64 + 1
}

/// Maximum-weight matching of rows to `cols` columns over the sparse
/// `adjacency` (per row: (column, weight > 0)); a row may stay unmatched.
/// Returns each row's column.
///
/// Costs are the negated weights; row `i` also has a private "no partner"
/// column `cols + i` at cost 0, so every row is matched and the problem is a
/// rectangular assignment. Potentials `u` (rows) and `v` (columns) keep every
/// reduced cost `cost − u − v` non-negative and every matched pair's zero,
/// so Dijkstra finds each new row's cheapest augmenting path.
fn sparse_assignment(cols: usize, adjacency: &[Vec<(usize, i64)>]) -> Vec<Option<usize>> {
    let rows = adjacency.len();
    let mut s = Search::new(cols, adjacency);
    for start in 0..rows {
        s.augment_from(start);
    }
    s.col_of.into_iter().map(|j| j.filter(|j| *j < cols)).collect()
}

/// The state of [`sparse_assignment`]: the matching, the potentials, and
/// the per-search buffers (reset after each row, touching only what the
/// search reached).
struct Search<'a> {
    adjacency: &'a [Vec<(usize, i64)>],
    cols: usize,
    u: Vec<i64>,
    v: Vec<i64>,
    row_of: Vec<Option<usize>>,
    col_of: Vec<Option<usize>>,
    dist: Vec<i64>,
    via: Vec<usize>,
    settled: Vec<bool>,
    touched: Vec<usize>,
    finished: Vec<usize>,
    heap: std::collections::BinaryHeap<std::cmp::Reverse<(i64, usize)>>,
}

impl<'a> Search<'a> {
    fn new(cols: usize, adjacency: &'a [Vec<(usize, i64)>]) -> Search<'a> {
        let rows = adjacency.len();
        let total = cols + rows;
        let mut s = Search {
            adjacency,
            cols,
            u: Vec::with_capacity(rows),
            v: vec![0; total],
            row_of: vec![None; total],
            col_of: vec![None; rows],
            dist: vec![i64::MAX; total],
            via: vec![usize::MAX; total],
            settled: vec![false; total],
            touched: Vec::new(),
            finished: Vec::new(),
            heap: Default::default(),
        };
        s.u = (0..rows).map(|i| s.edges_of(i).map(|(_, c)| c).min().unwrap_or(0)).collect();
        s
    }

    /// Row `i`'s edges as (column, cost): its candidates, then its own "no
    /// partner" column.
    fn edges_of(&self, i: usize) -> impl Iterator<Item = (usize, i64)> + 'a {
        self.adjacency[i].iter().map(|(j, w)| (*j, -*w)).chain(std::iter::once((self.cols + i, 0)))
    }

    /// Offer row `i`'s columns, reached at distance `base`.
    fn relax(&mut self, i: usize, base: i64) {
        for (j, cost) in self.edges_of(i) {
            let d = base + cost - self.u[i] - self.v[j];
            if d < self.dist[j] {
                if self.dist[j] == i64::MAX {
                    self.touched.push(j);
                }
                self.dist[j] = d;
                self.via[j] = i;
                self.heap.push(std::cmp::Reverse((d, j)));
            }
        }
    }

    /// Match `start` along its cheapest augmenting path.
    fn augment_from(&mut self, start: usize) {
        self.relax(start, 0);
        // Settle columns until a free one: the end of the cheapest path. The
        // row's private column is free, so there always is one.
        let mut end = None;
        while let Some(std::cmp::Reverse((d, j))) = self.heap.pop() {
            if self.settled[j] || d > self.dist[j] {
                continue;
            }
            self.settled[j] = true;
            self.finished.push(j);
            match self.row_of[j] {
                None => {
                    end = Some((j, d));
                    break;
                }
                Some(i) => self.relax(i, d),
            }
        }
        if let Some((last, length)) = end {
            // Columns settled closer than the path's end move their
            // potential by the difference, and so do the rows matched to
            // them (and the start row, at distance 0): reduced costs stay
            // non-negative and matched pairs stay at zero.
            self.u[start] += length;
            for &j in &self.finished {
                if j != last && self.dist[j] < length {
                    self.v[j] -= length - self.dist[j];
                    if let Some(i) = self.row_of[j] {
                        self.u[i] += length - self.dist[j];
                    }
                }
            }
            // Augment along the path back to the start row.
            let mut j = last;
            loop {
                let i = self.via[j];
                let previous = self.col_of[i];
                self.row_of[j] = Some(i);
                self.col_of[i] = Some(j);
                match previous {
                    Some(p) if i != start => j = p,
                    _ => break,
                }
            }
        }
        for &j in &self.touched {
            self.dist[j] = i64::MAX;
            self.settled[j] = false;
        }
        self.touched.clear();
        self.finished.clear();
        self.heap.clear();
    }
}

/// A connected component: its rows and columns (sorted) and its edges.
#[derive(Default)]
struct Component {
    rows: Vec<usize>,
    cols: Vec<usize>,
    edges: Vec<usize>,
}

/// Connected components of the bipartite graph, in order of their first node.
fn components(rows: usize, cols: usize, edges: &[Edge]) -> Vec<Component> {
    let mut parent: Vec<usize> = (0..rows + cols).collect();
    fn find(p: &mut [usize], mut x: usize) -> usize {
        while p[x] != x {
            p[x] = p[p[x]];
            x = p[x];
        }
        x
    }
    for e in edges {
        let (a, b) = (find(&mut parent, e.row), find(&mut parent, rows + e.col));
        if a != b {
            parent[a.max(b)] = a.min(b);
        }
    }
    let mut groups: std::collections::BTreeMap<usize, Component> = Default::default();
    let mut touched = vec![false; rows + cols];
    for (k, e) in edges.iter().enumerate() {
        touched[e.row] = true;
        touched[rows + e.col] = true;
        let root = find(&mut parent, e.row);
        groups.entry(root).or_default().edges.push(k);
    }
    for node in (0..rows + cols).filter(|n| touched[*n]) {
        let root = find(&mut parent, node);
        let g = groups.entry(root).or_default();
        if node < rows {
            g.rows.push(node);
        } else {
            g.cols.push(node - rows);
        }
    }
    groups.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator, so every run tests the same graphs.
    fn xorshift(mut x: u64) -> impl FnMut() -> u64 {
        move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        }
    }

    fn e(row: usize, col: usize, score: f64) -> Edge {
        Edge { row, col, score }
    }

    #[test]
    fn optimal_beats_greedy_on_ties() {
        // Greedy takes (0,0)=0.9 and leaves row 1 with 0.4 (below the floor);
        // optimal takes (0,1)=0.85 and (1,0)=0.88.
        let got = assign(2, 2, &[e(0, 0, 0.9), e(0, 1, 0.85), e(1, 0, 0.88), e(1, 1, 0.4)], 0.5);
        assert_eq!(got, vec![Some(1), Some(0)]);
    }

    #[test]
    fn no_partner_when_nothing_reaches_the_floor() {
        assert_eq!(assign(2, 1, &[e(0, 0, 0.3), e(1, 0, 0.6)], 0.5), vec![None, Some(0)]);
        assert_eq!(assign(1, 1, &[e(0, 0, 0.5)], 0.5), vec![Some(0)], "at the floor counts");
        assert_eq!(assign(3, 0, &[], 0.5), vec![None; 3]);
    }

    /// The best total of (score − floor) over one-to-one assignments, by
    /// trying them all.
    fn brute_force(rows: usize, cols: usize, edges: &[Edge], floor: f64) -> f64 {
        fn go(r: usize, rows: usize, used: &mut Vec<bool>, w: &[Vec<Option<f64>>]) -> f64 {
            if r == rows {
                return 0.0;
            }
            let mut best = go(r + 1, rows, used, w);
            for c in 0..used.len() {
                if let (false, Some(x)) = (used[c], w[r][c]) {
                    used[c] = true;
                    best = best.max(x + go(r + 1, rows, used, w));
                    used[c] = false;
                }
            }
            best
        }
        let mut w = vec![vec![None; cols]; rows];
        for e in edges.iter().filter(|e| e.score >= floor) {
            w[e.row][e.col] = Some(e.score - floor);
        }
        go(0, rows, &mut vec![false; cols], &w)
    }

    #[test]
    fn the_assignment_is_optimal_on_random_graphs() {
        let mut next = xorshift(0x2545_F491_4F6C_DD1D);
        for _ in 0..300 {
            let (rows, cols) = (1 + next() as usize % 5, 1 + next() as usize % 5);
            let mut edges = Vec::new();
            for r in 0..rows {
                for c in 0..cols {
                    if !next().is_multiple_of(3) {
                        edges.push(e(r, c, (next() % 1000) as f64 / 1000.0));
                    }
                }
            }
            let got = assign(rows, cols, &edges, 0.3);
            let mut cols_used = vec![false; cols];
            let mut total = 0.0;
            for (r, c) in got.iter().enumerate() {
                let Some(c) = c else { continue };
                assert!(!std::mem::replace(&mut cols_used[*c], true), "column used twice: {got:?}");
                let edge = edges.iter().find(|x| x.row == r && x.col == *c).expect("an edge");
                total += edge.score - 0.3;
            }
            let best = brute_force(rows, cols, &edges, 0.3);
            assert!((total - best).abs() < 1e-6, "{total} < {best} for {edges:?}");
        }
    }

    /// The sparse solver finds the same optimum as `kuhn_munkres` on the
    /// dense matrix it replaced, on graphs too large to brute-force.
    #[test]
    fn the_sparse_solver_matches_kuhn_munkres() {
        use pathfinding::prelude::{kuhn_munkres, Matrix};
        let mut next = xorshift(0x9E37_79B9_7F4A_7C15);
        for round in 0..200 {
            let (rows, cols) = (1 + next() as usize % 40, 1 + next() as usize % 40);
            let density = 1 + next() % 6;
            let mut adjacency = vec![Vec::new(); rows];
            for (r, adj) in adjacency.iter_mut().enumerate() {
                for c in 0..cols {
                    if next().is_multiple_of(density) {
                        // Few distinct weights, so ties are common.
                        adj.push((c, 1 + (next() % 8) as i64 * 1000 + (r % 2) as i64));
                    }
                }
            }
            let got = sparse_assignment(cols, &adjacency);
            let mut used = vec![false; cols];
            let mut total = 0;
            for (r, c) in got.iter().enumerate() {
                let Some(c) = c else { continue };
                assert!(!std::mem::replace(&mut used[*c], true), "round {round}: column {c} used twice");
                total += adjacency[r].iter().find(|(j, _)| j == c).map(|(_, w)| *w).expect("a candidate pair");
            }
            let mut m = Matrix::new(rows, cols + rows, -1_000_000_000i64);
            for r in 0..rows {
                for k in 0..rows {
                    m[(r, cols + k)] = 0;
                }
                for (c, w) in &adjacency[r] {
                    m[(r, *c)] = *w;
                }
            }
            let (best, _) = kuhn_munkres(&m);
            assert_eq!(total, best, "round {round}: {rows}×{cols}");
        }
    }

    #[test]
    fn separate_components_are_solved_separately() {
        let got = assign(3, 3, &[e(0, 2, 0.9), e(2, 0, 0.7), e(1, 1, 0.8), e(2, 1, 0.75)], 0.5);
        assert_eq!(got, vec![Some(2), Some(1), Some(0)]);
    }
}
