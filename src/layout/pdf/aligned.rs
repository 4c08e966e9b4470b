//! Borderless tables: text whose columns stay aligned down the page.
//!
//! Without drawn rules a table shows only as whitespace: on each of its lines
//! the text breaks into chunks separated by wide gaps, and those gaps line up
//! from line to line. This module finds runs of such lines, takes as column
//! separators the vertical bands that (almost) no chunk of the run crosses,
//! and makes each line a row — except a line that only continues the row
//! above (a wrapped cell), which is joined to it.
//!
//! Prose is kept out: a block is a table only when most of its lines break
//! into several chunks (a numbered paragraph has one such line and many
//! continuation lines), and a two-column block must have a column of
//! figures (a list of "symbol ⇥ label" lines stays a list).

use super::collect::Glyph;

/// A run of glyphs on one line between wide gaps.
#[derive(Debug, Clone)]
pub struct Chunk<'a> {
    pub glyphs: Vec<&'a Glyph>,
    pub x0: f64,
    pub x1: f64,
}

impl Chunk<'_> {
    fn text(&self) -> String {
        self.glyphs.iter().map(|g| g.text.as_str()).collect::<String>()
    }

    /// A list marker: a bullet, "1.", "a)", "(iv)".
    fn marker(&self) -> bool {
        let t = self.text();
        let t = t.trim();
        let n = t.chars().count();
        if n == 0 || n > 5 {
            return false;
        }
        let bullet = n == 1 && !t.chars().all(char::is_alphanumeric);
        let body = t.trim_start_matches('(').trim_end_matches(['.', ')']);
        let numbered = t.len() > body.len()
            && !body.is_empty()
            && (body.chars().all(|c| c.is_ascii_digit())
                || body.chars().all(|c| matches!(c, 'i' | 'v' | 'x'))
                || body.chars().count() == 1);
        bullet || numbered
    }

    fn numeric(&self) -> bool {
        let t = self.text();
        let t = t.trim();
        let digits = t.chars().filter(|c| c.is_ascii_digit()).count();
        !t.is_empty() && digits * 2 >= t.chars().filter(|c| !c.is_whitespace()).count()
    }
}

/// One baseline of free text, split into chunks.
#[derive(Debug, Clone)]
pub struct TextLine<'a> {
    pub chunks: Vec<Chunk<'a>>,
    pub top: f64,
    pub bottom: f64,
    pub size: f64,
}

impl TextLine<'_> {
    fn x0(&self) -> f64 {
        self.chunks.first().map_or(0.0, |c| c.x0)
    }
    fn x1(&self) -> f64 {
        self.chunks.last().map_or(0.0, |c| c.x1)
    }
}

/// Split baseline groups (left-to-right glyphs) into chunks at gaps wider
/// than `gap` × font size.
pub fn text_lines<'a>(groups: Vec<Vec<&'a Glyph>>, gap: f64) -> Vec<TextLine<'a>> {
    let mut out = Vec::new();
    for group in groups {
        let visible: Vec<&Glyph> = group.into_iter().filter(|g| !g.text.trim().is_empty()).collect();
        if visible.is_empty() {
            continue;
        }
        let mut chunks: Vec<Chunk> = Vec::new();
        for g in visible {
            match chunks.last_mut() {
                Some(c) if g.x0 - c.x1 <= gap * g.size => {
                    c.x1 = c.x1.max(g.x1);
                    c.glyphs.push(g);
                }
                _ => chunks.push(Chunk { glyphs: vec![g], x0: g.x0, x1: g.x1 }),
            }
        }
        // A list item ("•", "1.", "a)" then its text) is one chunk: the gap
        // after a list marker is a tab, not a column.
        if chunks.len() >= 2 && chunks[0].marker() {
            let first = chunks.remove(0);
            let next = &mut chunks[0];
            let mut glyphs = first.glyphs;
            glyphs.append(&mut next.glyphs);
            next.glyphs = glyphs;
            next.x0 = first.x0;
        }
        let top = chunks.iter().flat_map(|c| &c.glyphs).map(|g| g.top()).fold(f64::MIN, f64::max);
        let bottom = chunks.iter().flat_map(|c| &c.glyphs).map(|g| g.bottom()).fold(f64::MAX, f64::min);
        let n = chunks.iter().map(|c| c.glyphs.len()).sum::<usize>().max(1);
        let size = chunks.iter().flat_map(|c| &c.glyphs).map(|g| g.size).sum::<f64>() / n as f64;
        out.push(TextLine { chunks, top, bottom, size });
    }
    out.sort_by(|a, b| b.top.total_cmp(&a.top));
    out
}

/// A borderless table: which lines it covers, its column boundaries, and
/// which lines make each row.
#[derive(Debug, Clone)]
pub struct AlignedTable {
    pub lines: Vec<usize>,
    pub xs: Vec<f64>,
    pub rows: Vec<Vec<usize>>,
}

/// Column separators of a block: bands of at least `min_width` crossed by
/// at most `allowed` lines' chunks.
fn separators(lines: &[&TextLine], allowed: usize, min_width: f64) -> Vec<(f64, f64)> {
    let x0 = lines.iter().map(|l| l.x0()).fold(f64::MAX, f64::min);
    let x1 = lines.iter().map(|l| l.x1()).fold(f64::MIN, f64::max);
    let spans: Vec<Vec<(f64, f64)>> = lines.iter().map(|l| l.chunks.iter().map(|c| (c.x0, c.x1)).collect()).collect();
    whitespace_bands(&spans, x0, x1, allowed, min_width)
}

/// Vertical bands of whitespace through lines of text: the x ranges inside
/// `[x0, x1]`, at least `min_width` wide, that the spans of at most
/// `allowed` lines cross (each line given as its text spans). Bands at the
/// left edge are not separators and are left out.
pub fn whitespace_bands(
    lines: &[Vec<(f64, f64)>],
    x0: f64,
    x1: f64,
    allowed: usize,
    min_width: f64,
) -> Vec<(f64, f64)> {
    if !(x1 - x0 >= 1.0 && x1 - x0 <= 5000.0) {
        return Vec::new();
    }
    let bins = (x1 - x0).ceil() as usize + 1;
    let mut cover = vec![0usize; bins];
    for l in lines {
        let mut seen = vec![false; bins];
        for &(a, b) in l {
            let lo = ((a - x0).floor().max(0.0) as usize).min(bins - 1);
            let hi = ((b - x0).ceil().max(0.0) as usize).min(bins - 1);
            for s in seen.iter_mut().take(hi + 1).skip(lo) {
                *s = true;
            }
        }
        for (i, s) in seen.iter().enumerate() {
            cover[i] += *s as usize;
        }
    }
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    for (i, &c) in cover.iter().enumerate() {
        if c <= allowed {
            start.get_or_insert(i);
        } else if let Some(s) = start.take() {
            if (i - s) as f64 >= min_width && s > 0 && cover[..s].iter().any(|&c| c > allowed) {
                out.push((x0 + s as f64, x0 + i as f64));
            }
        }
    }
    out
}

fn column_of(xs: &[f64], x: f64) -> usize {
    xs.windows(2).position(|w| x < w[1]).unwrap_or(xs.len().saturating_sub(2))
}

/// Occupied columns of a line (a chunk may cover several).
fn occupancy(l: &TextLine, xs: &[f64]) -> Vec<bool> {
    let mut occ = vec![false; xs.len() - 1];
    for c in &l.chunks {
        let (a, b) = (column_of(xs, c.x0 + 0.5), column_of(xs, c.x1 - 0.5));
        for o in occ.iter_mut().take(b + 1).skip(a) {
            *o = true;
        }
    }
    occ
}

/// Evaluate one block of consecutive lines as a table, after trimming
/// lines at its top and bottom that fill fewer than two of its columns
/// (a heading or a lead-in sentence above a table is not part of it).
fn as_table(lines: &[&TextLine], indices: &[usize], page_width: f64) -> Option<AlignedTable> {
    let t = as_table_untrimmed(lines, indices, page_width)?;
    let filled = |i: usize| occupancy(lines[i], &t.xs).iter().filter(|o| **o).count();
    let first = (0..lines.len()).find(|&i| filled(i) >= 2)?;
    let last = (0..lines.len()).rev().find(|&i| filled(i) >= 2)?;
    if first == 0 && last == lines.len() - 1 {
        return Some(t);
    }
    as_table_untrimmed(&lines[first..=last], &indices[first..=last], page_width)
}

fn as_table_untrimmed(lines: &[&TextLine], indices: &[usize], page_width: f64) -> Option<AlignedTable> {
    let multi = lines.iter().filter(|l| l.chunks.len() >= 2).count();
    if lines.len() < 3 || multi < 2 || multi * 2 < lines.len() {
        return None;
    }
    let size = lines.iter().map(|l| l.size).sum::<f64>() / lines.len() as f64;
    let allowed = if lines.len() >= 8 { 1 } else { 0 };
    let seps = separators(lines, allowed, (0.4 * size).max(3.0));
    if seps.is_empty() {
        return None;
    }
    let x0 = lines.iter().map(|l| l.x0()).fold(f64::MAX, f64::min);
    let x1 = lines.iter().map(|l| l.x1()).fold(f64::MIN, f64::max);
    let mut xs = vec![x0];
    xs.extend(seps.iter().map(|(a, b)| (a + b) / 2.0));
    xs.push(x1);
    let ncols = xs.len() - 1;
    // Columns every line leaves empty are not columns.
    let occ: Vec<Vec<bool>> = lines.iter().map(|l| occupancy(l, &xs)).collect();
    // Columns of content: filled by something other than list markers in
    // at least two lines. A numbered or bulleted list has one.
    let content_cols: Vec<usize> = (0..ncols)
        .filter(|&c| {
            lines.iter().filter(|l| l.chunks.iter().any(|ch| column_of(&xs, ch.x0 + 0.5) == c && !ch.marker())).count()
                >= 2
        })
        .collect();
    if content_cols.len() < 2 {
        return None;
    }
    if ncols == 2 || content_cols.len() == 2 {
        // Two columns: one of them must be figures, and prose-wide text
        // must not dominate (a hanging-indent list is not a table).
        let numeric_col = content_cols.iter().any(|&c| {
            let cells: Vec<&Chunk> =
                lines.iter().flat_map(|l| &l.chunks).filter(|ch| column_of(&xs, ch.x0 + 0.5) == c).collect();
            !cells.is_empty() && cells.iter().filter(|ch| ch.numeric()).count() * 10 >= cells.len() * 8
        });
        let wide = lines.iter().flat_map(|l| &l.chunks).filter(|c| c.x1 - c.x0 > 0.45 * page_width).count();
        if !numeric_col || wide * 3 > lines.len() {
            return None;
        }
    }
    // Rows: a line continues the row above when it is close under it and
    // fills only columns that row fills, missing its first column (wrapped
    // text of a later column), or only the first column and starting in
    // lower case (a wrapped row label).
    let mut rows: Vec<Vec<usize>> = Vec::new();
    let mut row_occ: Vec<bool> = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let o = &occ[i];
        let continues = i > 0 && {
            let prev = lines[i - 1];
            let tight = prev.bottom - l.top < 0.6 * size;
            let subset = o.iter().zip(&row_occ).all(|(a, b)| !a || *b);
            let first_missing = !o[0] && row_occ[0];
            let only_first = o[0] && o.iter().skip(1).all(|x| !x);
            let lower = l.chunks[0].text().trim_start().chars().next().is_some_and(|c| c.is_lowercase());
            tight && subset && (first_missing || (only_first && lower))
        };
        if continues {
            if let Some(r) = rows.last_mut() {
                r.push(indices[i]);
            }
        } else {
            rows.push(vec![indices[i]]);
            row_occ = o.clone();
        }
    }
    if rows.len() < 2 {
        return None;
    }
    Some(AlignedTable { lines: indices.to_vec(), xs, rows })
}

/// Find borderless tables among a page's free text lines.
pub fn find_tables(lines: &[TextLine], page_width: f64) -> Vec<AlignedTable> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].chunks.len() < 2 {
            i += 1;
            continue;
        }
        // Grow a block down from a multi-chunk line; take in the one
        // single-chunk line just above it as a possible header.
        let start = if i > 0 && lines[i - 1].bottom - lines[i].top < 1.2 * lines[i].size { i - 1 } else { i };
        let mut end = i + 1;
        while end < lines.len() {
            let (prev, next) = (&lines[end - 1], &lines[end]);
            let gap = prev.bottom - next.top;
            let prose = next.chunks.len() == 1 && next.x1() - next.x0() > 0.6 * page_width;
            if gap > 1.6 * next.size.max(prev.size) || prose {
                break;
            }
            end += 1;
        }
        let idx: Vec<usize> = (start..end).collect();
        let block: Vec<&TextLine> = idx.iter().map(|&k| &lines[k]).collect();
        match as_table(&block, &idx, page_width).or_else(|| {
            // Without the line above, in case it was a title, not a header.
            (start < i).then(|| {
                let idx: Vec<usize> = (i..end).collect();
                let block: Vec<&TextLine> = idx.iter().map(|&k| &lines[k]).collect();
                as_table(&block, &idx, page_width)
            })?
        }) {
            Some(t) => {
                out.push(t);
                i = end;
            }
            None => i += 1,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn glyphs_for(text: &str, x: f64, y: f64) -> Vec<Glyph> {
        text.chars()
            .enumerate()
            .map(|(i, c)| Glyph {
                text: c.to_string().into(),
                x0: x + i as f64 * 5.0,
                x1: x + i as f64 * 5.0 + 5.0,
                y,
                size: 10.0,
                font: None,
                dir: 0,
            })
            .collect()
    }

    #[test]
    fn aligned_columns_make_a_table_and_prose_does_not() {
        let mut all = Vec::new();
        let rows = [
            ("Region", "2019", "2020"),
            ("North", "12", "15"),
            ("South", "7", "9"),
            ("East and", "", ""),
            ("West", "3", "4"),
        ];
        let mut y = 700.0;
        for (a, b, c) in rows {
            all.extend(glyphs_for(a, 50.0, y));
            all.extend(glyphs_for(b, 200.0, y));
            all.extend(glyphs_for(c, 300.0, y));
            y -= 12.0;
        }
        let refs: Vec<&Glyph> = all.iter().collect();
        let groups = super::super::text::baseline_groups(&refs);
        let lines = text_lines(groups, 1.0);
        let tables = find_tables(&lines, 600.0);
        assert_eq!(tables.len(), 1);
        assert_eq!(tables[0].xs.len() - 1, 3);
        assert_eq!(tables[0].rows.len(), 5);

        let mut prose = Vec::new();
        for i in 0..6 {
            prose.extend(glyphs_for(
                "Lorem ipsum dolor sit amet consectetur adipiscing elit sed do",
                50.0,
                700.0 - 12.0 * i as f64,
            ));
        }
        let refs: Vec<&Glyph> = prose.iter().collect();
        let lines = text_lines(super::super::text::baseline_groups(&refs), 1.0);
        assert!(find_tables(&lines, 600.0).is_empty());
    }
}
