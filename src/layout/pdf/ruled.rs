//! Ruled tables: drawn rules → grids of cells.
//!
//! Rules that touch each other form a table. The distinct x positions of its
//! vertical rules are the column boundaries and the distinct y positions of
//! its horizontal rules the row boundaries; a boundary that is not drawn
//! along a grid cell's edge means the cells on either side are one merged
//! cell (a banner row spanning the table, an outcome cell running down
//! several rows).

use super::collect::Seg;

/// A merged rule line.
#[derive(Debug, Clone, Copy)]
struct Rule {
    /// y of a horizontal rule, x of a vertical one.
    at: f64,
    from: f64,
    to: f64,
}

const SNAP: f64 = 2.0;

/// Merge collinear overlapping segments into rules.
fn merge(mut segs: Vec<Rule>) -> Vec<Rule> {
    segs.sort_by(|a, b| a.at.total_cmp(&b.at).then(a.from.total_cmp(&b.from)));
    let mut out: Vec<Rule> = Vec::new();
    // Cluster by position, then merge intervals within a cluster.
    let mut i = 0;
    while i < segs.len() {
        let mut j = i;
        while j + 1 < segs.len() && segs[j + 1].at - segs[i].at <= 1.0 {
            j += 1;
        }
        let mut cluster: Vec<Rule> = segs[i..=j].to_vec();
        let at = cluster.iter().map(|r| r.at).sum::<f64>() / cluster.len() as f64;
        cluster.sort_by(|a, b| a.from.total_cmp(&b.from));
        let mut cur = Rule { at, from: cluster[0].from, to: cluster[0].to };
        for r in &cluster[1..] {
            if r.from <= cur.to + 1.5 {
                cur.to = cur.to.max(r.to);
            } else {
                out.push(cur);
                cur = Rule { at, from: r.from, to: r.to };
            }
        }
        out.push(cur);
        i = j + 1;
    }
    out.retain(|r| r.to - r.from >= 4.0);
    out
}

/// A table grid found on one page.
#[derive(Debug, Clone)]
pub struct Grid {
    /// Column boundaries, left to right.
    pub xs: Vec<f64>,
    /// Row boundaries, top to bottom (descending y).
    pub ys: Vec<f64>,
    /// Region id of each grid position, `[row][col]`.
    pub region: Vec<Vec<usize>>,
    pub regions: usize,
}

impl Grid {
    pub fn nrows(&self) -> usize {
        self.ys.len().saturating_sub(1)
    }
    pub fn ncols(&self) -> usize {
        self.xs.len().saturating_sub(1)
    }
    pub fn bbox(&self) -> [f64; 4] {
        [self.xs[0], *self.ys.last().unwrap_or(&0.0), *self.xs.last().unwrap_or(&0.0), self.ys[0]]
    }
    /// The grid position containing a point, if any.
    pub fn locate(&self, x: f64, y: f64) -> Option<(usize, usize)> {
        let b = self.bbox();
        if x < b[0] - 0.5 || x > b[2] + 0.5 || y < b[1] - 0.5 || y > b[3] + 0.5 {
            return None;
        }
        let c = self.xs.windows(2).position(|w| x >= w[0] - 0.5 && x <= w[1] + 0.5)?;
        let r = self.ys.windows(2).position(|w| y <= w[0] + 0.5 && y >= w[1] - 0.5)?;
        Some((r, c))
    }
}

fn cluster_positions(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    let mut out: Vec<Vec<f64>> = Vec::new();
    for x in v {
        match out.last_mut() {
            Some(c) if x - c[c.len() - 1] <= SNAP => c.push(x),
            _ => out.push(vec![x]),
        }
    }
    out.into_iter().map(|c| c.iter().sum::<f64>() / c.len() as f64).collect()
}

fn coverage(rules: &[&Rule], at: f64, from: f64, to: f64) -> f64 {
    let len = to - from;
    if len <= 0.0 {
        return 1.0;
    }
    let mut covered = 0.0;
    for r in rules.iter().filter(|r| (r.at - at).abs() <= SNAP) {
        let a = r.from.max(from);
        let b = r.to.min(to);
        if b > a {
            covered += b - a;
        }
    }
    covered / len
}

struct Dsu(Vec<usize>);

impl Dsu {
    fn new(n: usize) -> Dsu {
        Dsu((0..n).collect())
    }
    fn find(&mut self, mut x: usize) -> usize {
        while self.0[x] != x {
            self.0[x] = self.0[self.0[x]];
            x = self.0[x];
        }
        x
    }
    fn union(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        if a != b {
            self.0[a.max(b)] = a.min(b);
        }
    }
}

/// Find the ruled tables among a page's segments.
pub fn find_grids(segs: &[Seg]) -> Vec<Grid> {
    let hs = merge(
        segs.iter()
            .filter(|s| s.horizontal())
            .map(|s| Rule { at: (s.y0 + s.y1) / 2.0, from: s.x0, to: s.x1 })
            .collect(),
    );
    let vs = merge(
        segs.iter()
            .filter(|s| !s.horizontal())
            .map(|s| Rule { at: (s.x0 + s.x1) / 2.0, from: s.y0, to: s.y1 })
            .collect(),
    );
    if hs.len() < 2 || vs.len() < 2 || hs.len() + vs.len() > 20_000 {
        return Vec::new();
    }
    // Connected components of touching rules.
    let n = hs.len() + vs.len();
    let mut dsu = Dsu::new(n);
    for (i, h) in hs.iter().enumerate() {
        for (j, v) in vs.iter().enumerate() {
            if v.at >= h.from - SNAP && v.at <= h.to + SNAP && h.at >= v.from - SNAP && h.at <= v.to + SNAP {
                dsu.union(i, hs.len() + j);
            }
        }
    }
    let mut comps: std::collections::BTreeMap<usize, (Vec<&Rule>, Vec<&Rule>)> = Default::default();
    for (i, h) in hs.iter().enumerate() {
        comps.entry(dsu.find(i)).or_default().0.push(h);
    }
    for (j, v) in vs.iter().enumerate() {
        comps.entry(dsu.find(hs.len() + j)).or_default().1.push(v);
    }
    let mut grids = Vec::new();
    for (_, (h, v)) in comps {
        if h.len() < 2 || v.len() < 2 {
            continue;
        }
        let xs = cluster_positions(v.iter().map(|r| r.at).collect());
        let mut ys = cluster_positions(h.iter().map(|r| r.at).collect());
        ys.reverse();
        if xs.len() < 2 || ys.len() < 2 {
            continue;
        }
        // Drop slivers: rows or columns thinner than a rule's doubling.
        let xs = drop_slivers(xs, 3.0);
        let ys = {
            let mut asc: Vec<f64> = ys.into_iter().rev().collect();
            asc = drop_slivers(asc, 3.0);
            asc.reverse();
            asc
        };
        let (nr, nc) = (ys.len() - 1, xs.len() - 1);
        if nc < 2 && nr < 2 || nr == 0 || nc == 0 {
            continue;
        }
        let mut dsu = Dsu::new(nr * nc);
        for r in 0..nr {
            for c in 1..nc {
                // Boundary between (r, c-1) and (r, c): a vertical rule at xs[c].
                if coverage(&v, xs[c], ys[r + 1], ys[r]) < 0.6 {
                    dsu.union(r * nc + c - 1, r * nc + c);
                }
            }
        }
        for r in 1..nr {
            for c in 0..nc {
                if coverage(&h, ys[r], xs[c], xs[c + 1]) < 0.6 {
                    dsu.union((r - 1) * nc + c, r * nc + c);
                }
            }
        }
        let mut ids = std::collections::HashMap::new();
        let mut region = vec![vec![0usize; nc]; nr];
        for (r, row) in region.iter_mut().enumerate() {
            for (c, slot) in row.iter_mut().enumerate() {
                let root = dsu.find(r * nc + c);
                let next = ids.len();
                *slot = *ids.entry(root).or_insert(next);
            }
        }
        // A box with no inner structure is a frame, not a table.
        if ids.len() < 2 {
            continue;
        }
        grids.push(Grid { xs, ys, region, regions: ids.len() });
    }
    grids.sort_by(|a, b| b.ys[0].total_cmp(&a.ys[0]));
    grids
}

fn drop_slivers(v: Vec<f64>, min: f64) -> Vec<f64> {
    let mut out: Vec<f64> = Vec::new();
    for x in v {
        match out.last() {
            Some(&l) if x - l < min => {}
            _ => out.push(x),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(y: f64, x0: f64, x1: f64) -> Seg {
        Seg { x0, y0: y, x1, y1: y }
    }
    fn v(x: f64, y0: f64, y1: f64) -> Seg {
        Seg { x0: x, y0, x1: x, y1 }
    }

    #[test]
    fn banner_and_merged_cells_become_regions() {
        // 3 columns, 3 rows; row 0 is a banner (no inner verticals);
        // column 0 is merged over rows 1-2 (no rule between them in col 0).
        let segs = vec![
            h(300.0, 0.0, 300.0),
            h(280.0, 0.0, 300.0),
            h(260.0, 100.0, 300.0),
            h(240.0, 0.0, 300.0),
            v(0.0, 240.0, 300.0),
            v(300.0, 240.0, 300.0),
            v(100.0, 240.0, 280.0),
            v(200.0, 240.0, 280.0),
        ];
        let grids = find_grids(&segs);
        assert_eq!(grids.len(), 1);
        let g = &grids[0];
        assert_eq!((g.nrows(), g.ncols()), (3, 3));
        assert_eq!(g.region[0][0], g.region[0][2]); // banner
        assert_eq!(g.region[1][0], g.region[2][0]); // merged outcome
        assert_ne!(g.region[1][1], g.region[2][1]);
        assert_eq!(g.locate(150.0, 250.0), Some((2, 1)));
    }
}
