//! Ruled tables: drawn rules → grids of cells.
//!
//! Rules that touch each other form a table. The distinct x positions of its
//! vertical rules are the column boundaries and the distinct y positions of
//! its horizontal rules the row boundaries; a boundary that is not drawn
//! along a grid cell's edge means the cells on either side are one merged
//! cell (a banner row spanning the table, an outcome cell running down
//! several rows).

use super::collect::{Glyph, Seg};

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
        let mut xs = cluster_positions(v.iter().map(|r| r.at).collect());
        // Rules across the rows that run on past the outermost vertical rule
        // enclose columns too (a label column ruled only above and below).
        let h_from = h.iter().map(|r| r.from).fold(f64::MAX, f64::min);
        let h_to = h.iter().map(|r| r.to).fold(f64::MIN, f64::max);
        if let (Some(&first), Some(&last)) = (xs.first(), xs.last()) {
            if h_from < first - 8.0 {
                xs.insert(0, h_from);
            }
            if h_to > last + 8.0 {
                xs.push(h_to);
            }
        }
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

/// Text chunks (runs of glyphs between gaps wider than a font size) of a
/// set of glyphs, as (x0, x1, glyph indices into `glyphs`).
fn chunks_of(glyphs: &[&Glyph]) -> Vec<Vec<(f64, f64, Vec<usize>)>> {
    let mut order: Vec<usize> = (0..glyphs.len()).filter(|&i| !glyphs[i].text.trim().is_empty()).collect();
    order.sort_by(|&a, &b| glyphs[b].y.total_cmp(&glyphs[a].y).then(glyphs[a].x0.total_cmp(&glyphs[b].x0)));
    let mut lines: Vec<Vec<usize>> = Vec::new();
    for i in order {
        match lines.last_mut() {
            Some(l) if (glyphs[l[0]].y - glyphs[i].y).abs() <= 0.4 * glyphs[l[0]].size.max(glyphs[i].size) => l.push(i),
            _ => lines.push(vec![i]),
        }
    }
    lines
        .into_iter()
        .map(|mut l| {
            l.sort_by(|&a, &b| glyphs[a].x0.total_cmp(&glyphs[b].x0));
            let mut chunks: Vec<(f64, f64, Vec<usize>)> = Vec::new();
            for i in l {
                let g = glyphs[i];
                match chunks.last_mut() {
                    Some(c) if g.x0 - c.1 <= g.size => {
                        c.1 = c.1.max(g.x1);
                        c.2.push(i);
                    }
                    _ => chunks.push((g.x0, g.x1, vec![i])),
                }
            }
            chunks
        })
        .collect()
}

/// Refine a ruled grid with the text inside it.
///
/// Some tables rule their header but not their body, or rule rows but not
/// columns: a data row then looks like one cell spanning the table. Where
/// the text inside leaves a vertical band of whitespace through every line
/// and no rule stands in it, that band is a column boundary too; and a
/// cell spanning several columns whose text falls in separate columns (a
/// figure under each header) is split into those columns. A banner or a
/// wrapped heading — one run of text — stays one cell.
///
/// Returns the refined grid and, for each glyph, its region (None outside).
pub fn refine(mut grid: Grid, glyphs: &[&Glyph]) -> (Grid, Vec<Option<usize>>) {
    // 1. Whitespace bands through all the text that no rule stands in.
    let lines = chunks_of(glyphs);
    if lines.len() >= 3 {
        let (x_min, x_max) = (grid.xs[0], *grid.xs.last().unwrap_or(&grid.xs[0]));
        let spans: Vec<Vec<(f64, f64)>> = lines.iter().map(|l| l.iter().map(|(a, b, _)| (*a, *b)).collect()).collect();
        let size = glyphs.iter().map(|g| g.size).sum::<f64>() / glyphs.len().max(1) as f64;
        let allowed = usize::from(lines.len() >= 8);
        // Interior bands only, at least half a font size wide.
        let bands = super::aligned::whitespace_bands(&spans, x_min, x_max, allowed, (0.5 * size).max(3.0));
        for (a, b) in bands {
            if grid.xs.iter().any(|&x| x >= a - 1.0 && x <= b + 1.0) {
                continue;
            }
            let x = (a + b) / 2.0;
            // Only a band that separates text inside cells is a boundary the
            // rules left out: it must have text on both sides within one
            // cell in at least two rows (not just a right-aligned column's
            // margin).
            let Some(col) = grid.xs.windows(2).position(|w| x > w[0] && x < w[1]) else { continue };
            let split_rows = (0..grid.nrows())
                .filter(|&r| {
                    let id = grid.region[r][col];
                    let mut left = false;
                    let mut right = false;
                    for g in glyphs.iter().filter(|g| !g.text.trim().is_empty()) {
                        if grid.locate(g.cx(), g.cy()).is_some_and(|(gr, gc)| grid.region[gr][gc] == id && gr == r) {
                            left |= g.x1 <= a + 0.5;
                            right |= g.x0 >= b - 0.5;
                        }
                    }
                    left && right
                })
                .count();
            if split_rows < 2 {
                continue;
            }
            let Some(pos) = grid.xs.iter().position(|&v| v > x) else { continue };
            grid.xs.insert(pos, x);
            // The new column takes the regions of the column it was cut from.
            for row in &mut grid.region {
                let id = row[pos - 1];
                row.insert(pos, id);
            }
        }
    }

    // 2. Split single-row cells spanning columns whose text lies in separate columns.
    let col_of = |x: f64| grid.xs.windows(2).position(|w| x < w[1]).unwrap_or(grid.xs.len().saturating_sub(2));
    let mut assign: Vec<Option<usize>> =
        glyphs.iter().map(|g| grid.locate(g.cx(), g.cy()).map(|(r, c)| grid.region[r][c])).collect();
    let nr = grid.nrows();
    let mut next = grid.regions;
    for r in 0..nr {
        let row = grid.region[r].clone();
        let mut c = 0;
        while c < row.len() {
            let id = row[c];
            let mut end = c;
            while end + 1 < row.len() && row[end + 1] == id {
                end += 1;
            }
            let single_row =
                (r == 0 || !grid.region[r - 1].contains(&id)) && (r + 1 >= nr || !grid.region[r + 1].contains(&id));
            if end > c && single_row {
                let members: Vec<usize> = (0..glyphs.len()).filter(|&i| assign[i] == Some(id)).collect();
                let sub: Vec<&Glyph> = members.iter().map(|&i| glyphs[i]).collect();
                let chunks: Vec<(f64, f64, Vec<usize>)> = chunks_of(&sub).into_iter().flatten().collect();
                let fits = chunks.iter().all(|(a, b, _)| col_of(a + 0.5) == col_of(b - 0.5));
                let mut cols: Vec<usize> = chunks.iter().map(|(a, _, _)| col_of(a + 0.5)).collect();
                cols.sort();
                cols.dedup();
                if fits && cols.len() >= 2 {
                    // One region per column from c to end.
                    let ids: Vec<usize> = (c..=end)
                        .map(|_| {
                            next += 1;
                            next - 1
                        })
                        .collect();
                    for (k, col) in (c..=end).enumerate() {
                        grid.region[r][col] = ids[k];
                    }
                    for (a, _, idx) in &chunks {
                        let col = col_of(a + 0.5).clamp(c, end);
                        for &j in idx {
                            assign[members[j]] = Some(ids[col - c]);
                        }
                    }
                }
            }
            c = end + 1;
        }
    }
    grid.regions = next;
    (grid, assign)
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

    fn word(text: &str, x: f64, y: f64) -> Vec<Glyph> {
        text.chars()
            .enumerate()
            .map(|(i, c)| Glyph {
                text: c.to_string().into(),
                x0: x + 5.0 * i as f64,
                x1: x + 5.0 * i as f64 + 5.0,
                y,
                size: 10.0,
                font: None,
                dir: 0,
            })
            .collect()
    }

    #[test]
    fn body_rows_without_column_rules_are_split_by_their_text() {
        // A header ruled into two columns; body rows ruled only across.
        let segs = vec![
            h(300.0, 0.0, 300.0),
            h(280.0, 0.0, 300.0),
            h(260.0, 0.0, 300.0),
            h(240.0, 0.0, 300.0),
            v(0.0, 240.0, 300.0),
            v(300.0, 240.0, 300.0),
            v(150.0, 280.0, 300.0),
        ];
        let grid = find_grids(&segs).remove(0);
        assert_eq!(grid.region[1][0], grid.region[1][1], "body cells span both columns before refining");
        let mut glyphs = Vec::new();
        for (y, a, b) in [(285.0, "Topic", "Count"), (265.0, "Libraries", "12"), (245.0, "Parks", "7")] {
            glyphs.extend(word(a, 5.0, y));
            glyphs.extend(word(b, 160.0, y));
        }
        let refs: Vec<&Glyph> = glyphs.iter().collect();
        let (grid, assign) = refine(grid, &refs);
        assert_ne!(grid.region[1][0], grid.region[1][1], "a figure under each header: two cells");
        assert!(assign.iter().all(|a| a.is_some()));
        // A banner of one run of text stays one cell.
        let segs = vec![
            h(300.0, 0.0, 300.0),
            h(280.0, 0.0, 300.0),
            h(260.0, 0.0, 300.0),
            v(0.0, 260.0, 300.0),
            v(300.0, 260.0, 300.0),
            v(150.0, 260.0, 280.0),
        ];
        let grid = find_grids(&segs).remove(0);
        let mut glyphs = word("A banner across the table", 5.0, 285.0);
        glyphs.extend(word("Left", 5.0, 265.0));
        glyphs.extend(word("Right", 160.0, 265.0));
        let refs: Vec<&Glyph> = glyphs.iter().collect();
        let (grid, _) = refine(grid, &refs);
        assert_eq!(grid.region[0][0], grid.region[0][1]);
    }

    #[test]
    fn rules_running_past_the_last_vertical_enclose_a_column() {
        // Verticals only around the middle column; rows ruled full width.
        let segs = vec![
            h(300.0, 0.0, 400.0),
            h(280.0, 0.0, 400.0),
            h(260.0, 0.0, 400.0),
            v(150.0, 260.0, 300.0),
            v(250.0, 260.0, 300.0),
        ];
        let grid = find_grids(&segs).remove(0);
        assert_eq!(grid.ncols(), 3);
        assert_ne!(grid.region[0][0], grid.region[1][0], "the label column is ruled into rows");
    }
}
