//! How one predicted table is scored against one expected table, and how
//! counts add up over a run — exactly as `../shared/icdar2013-eu/README.md`
//! says peers score the set, so our figures sit beside theirs.

use std::collections::HashSet;

use crate::difflib::SequenceMatcher;

/// The text normalisation both sides go through: whitespace folded,
/// lower-cased.
pub fn norm(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// A cell placed on a grid: its start position, its spans and its text
/// (already normalised).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GridCell {
    pub row: usize,
    pub col: usize,
    pub row_span: usize,
    pub col_span: usize,
    pub text: String,
}

/// A table as the scorer sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    pub rows: usize,
    pub cols: usize,
    /// Row-major: each cell's text at its start position, blank at the
    /// positions its spans cover and where no cell is.
    pub texts: Vec<String>,
    /// Row-major: the index (into `cells`) of the cell covering each
    /// position, for the adjacency relations.
    cover: Vec<Option<usize>>,
    pub cells: Vec<GridCell>,
}

impl Grid {
    /// Lays cells out on a `rows × cols` grid; spans are clipped to it. Where
    /// two cells claim one position the later one wins (the ground truth has
    /// no such overlaps; a predicted table cannot have them).
    pub fn new(rows: usize, cols: usize, cells: Vec<GridCell>) -> Grid {
        let mut texts = vec![String::new(); rows * cols];
        let mut cover = vec![None; rows * cols];
        for (i, c) in cells.iter().enumerate() {
            if c.row >= rows || c.col >= cols {
                continue;
            }
            texts[c.row * cols + c.col] = c.text.clone();
            for r in c.row..(c.row + c.row_span.max(1)).min(rows) {
                for k in c.col..(c.col + c.col_span.max(1)).min(cols) {
                    cover[r * cols + k] = Some(i);
                }
            }
        }
        Grid { rows, cols, texts, cover, cells }
    }

    /// A grid just big enough for its cells (the ground truth's case: the
    /// last row and column are the largest `end-row` and `end-col`).
    pub fn fitted(cells: Vec<GridCell>) -> Grid {
        let rows = cells.iter().map(|c| c.row + c.row_span.max(1)).max().unwrap_or(0);
        let cols = cells.iter().map(|c| c.col + c.col_span.max(1)).max().unwrap_or(0);
        Grid::new(rows, cols, cells)
    }
}

/// The structure score of a predicted grid against the expected one:
/// `SequenceMatcher(None, predicted, expected).ratio()` over the row-major
/// cell texts, times the shape factor
/// `1 - (|Δrows| + |Δcols|) / (rows_p + cols_p + rows_g + cols_g + 1)`.
///
/// The predicted sequence is difflib's `a` and the expected one its `b`: the
/// order matters once `b` has 200 items, where difflib's popularity rule
/// drops frequent texts (blank cells, typically) from `b`'s index.
pub fn structure(pred: &Grid, gt: &Grid) -> f64 {
    let ratio = SequenceMatcher::new(&pred.texts, &gt.texts).ratio();
    ratio * shape_factor(pred, gt)
}

pub fn shape_factor(pred: &Grid, gt: &Grid) -> f64 {
    let d = pred.rows.abs_diff(gt.rows) + pred.cols.abs_diff(gt.cols);
    let n = pred.rows + pred.cols + gt.rows + gt.cols + 1;
    1.0 - d as f64 / n as f64
}

/// The direction of an adjacency relation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dir {
    /// `b` is the next non-empty cell right of `a` along a row.
    Right,
    /// `b` is the next non-empty cell below `a` along a column.
    Down,
}

/// One ICDAR 2013 adjacency relation: two neighbouring non-empty cells by
/// their (normalised) texts.
pub type Relation = (String, String, Dir);

/// A table's adjacency relations (ICDAR 2013): along every row, each
/// non-empty cell and the next non-empty cell to its right; along every
/// column, each non-empty cell and the next non-empty one below. Empty cells
/// are skipped over, as ICDAR does, and a spanning cell neighbours every cell
/// along its span (a header over three columns has three cells below it).
pub fn relations(grid: &Grid) -> HashSet<Relation> {
    let mut out = HashSet::new();
    let mut line = |positions: &mut dyn Iterator<Item = usize>, dir: Dir| {
        let mut prev: Option<usize> = None;
        for p in positions {
            let Some(id) = grid.cover[p] else { continue };
            if grid.cells[id].text.is_empty() || prev == Some(id) {
                continue;
            }
            if let Some(a) = prev {
                out.insert((grid.cells[a].text.clone(), grid.cells[id].text.clone(), dir));
            }
            prev = Some(id);
        }
    };
    for r in 0..grid.rows {
        line(&mut (0..grid.cols).map(|c| r * grid.cols + c), Dir::Right);
    }
    for c in 0..grid.cols {
        line(&mut (0..grid.rows).map(|r| r * grid.cols + c), Dir::Down);
    }
    out
}

/// Adjacency-relation counts, summed over tables (micro-average).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct AdjCounts {
    /// Relations of the expected tables.
    pub expected: usize,
    /// Relations of the predicted tables.
    pub predicted: usize,
    /// Relations in both.
    pub correct: usize,
}

impl AdjCounts {
    pub fn of(pred: Option<&Grid>, gt: Option<&Grid>) -> AdjCounts {
        let p = pred.map(relations).unwrap_or_default();
        let g = gt.map(relations).unwrap_or_default();
        AdjCounts { expected: g.len(), predicted: p.len(), correct: p.intersection(&g).count() }
    }

    pub fn add(&mut self, o: AdjCounts) {
        self.expected += o.expected;
        self.predicted += o.predicted;
        self.correct += o.correct;
    }

    pub fn prf(&self) -> Prf {
        Prf::new(self.correct, self.predicted, self.expected)
    }
}

/// Table-detection counts: per page, `min(#predicted, #expected)` true
/// positives, the excess predicted false positives, the missing false
/// negatives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Detection {
    pub tp: usize,
    pub fp: usize,
    #[serde(rename = "fn")]
    pub fn_: usize,
}

impl Detection {
    pub fn page(predicted: usize, expected: usize) -> Detection {
        let tp = predicted.min(expected);
        Detection { tp, fp: predicted - tp, fn_: expected - tp }
    }

    pub fn add(&mut self, o: Detection) {
        self.tp += o.tp;
        self.fp += o.fp;
        self.fn_ += o.fn_;
    }

    pub fn prf(&self) -> Prf {
        Prf::new(self.tp, self.tp + self.fp, self.tp + self.fn_)
    }
}

/// Precision, recall and F1; 0 where a denominator is 0.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Prf {
    pub p: f64,
    pub r: f64,
    pub f1: f64,
}

impl Prf {
    pub fn new(correct: usize, predicted: usize, expected: usize) -> Prf {
        let div = |n: usize, d: usize| if d == 0 { 0.0 } else { n as f64 / d as f64 };
        let (p, r) = (div(correct, predicted), div(correct, expected));
        let f1 = if p + r == 0.0 { 0.0 } else { 2.0 * p * r / (p + r) };
        Prf { p, r, f1 }
    }
}
