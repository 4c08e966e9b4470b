//! Glyphs → lines of text with spans.
//!
//! PDF has no words or lines, only glyphs at positions. A line is a run of
//! glyphs on one baseline; a space is inserted where the gap between glyphs
//! is wider than a fraction of the font size (many producers position words
//! without space characters); a glyph drawn twice at the same place (fake
//! bold) is kept once.

use super::collect::Glyph;
use crate::layout::Span;

/// One line of text.
#[derive(Debug, Clone)]
pub struct Line {
    pub text: String,
    pub spans: Vec<Span>,
    pub x0: f64,
    pub x1: f64,
    /// Baseline.
    pub y: f64,
    pub top: f64,
    pub bottom: f64,
    pub size: f64,
    pub bold: bool,
}

fn is_bold_font(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.contains("bold") || n.contains("black") || n.contains("heavy") || n.contains("semibold")
}

/// Group glyphs into baseline clusters, top to bottom, each sorted left to
/// right.
pub fn baseline_groups<'a>(glyphs: &[&'a Glyph]) -> Vec<Vec<&'a Glyph>> {
    let mut sorted: Vec<&Glyph> = glyphs.to_vec();
    sorted.sort_by(|a, b| b.y.total_cmp(&a.y).then(a.x0.total_cmp(&b.x0)));
    let mut groups: Vec<Vec<&Glyph>> = Vec::new();
    for g in sorted {
        match groups.last_mut() {
            Some(cur) => {
                let base = cur[0].y;
                let size = cur[0].size.max(g.size);
                if (base - g.y).abs() <= 0.4 * size {
                    cur.push(g);
                } else {
                    groups.push(vec![g]);
                }
            }
            None => groups.push(vec![g]),
        }
    }
    for g in &mut groups {
        g.sort_by(|a, b| a.x0.total_cmp(&b.x0));
    }
    groups
}

/// Split a baseline group where the gap between glyphs is wider than
/// `max_gap` × font size (separate columns on one baseline).
pub fn split_at_gaps(group: Vec<&Glyph>, max_gap: f64) -> Vec<Vec<&Glyph>> {
    let mut out: Vec<Vec<&Glyph>> = Vec::new();
    let mut cur: Vec<&Glyph> = Vec::new();
    let mut last_x1 = f64::MIN;
    for g in group {
        let visible = !g.text.trim().is_empty();
        if !cur.is_empty() && visible && g.x0 - last_x1 > max_gap * g.size {
            out.push(std::mem::take(&mut cur));
        }
        if visible {
            last_x1 = last_x1.max(g.x1);
        }
        cur.push(g);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Build one line from glyphs sorted left to right.
pub fn make_line(glyphs: &[&Glyph], fonts: &[String]) -> Option<Line> {
    let mut text = String::new();
    let mut spans: Vec<Span> = Vec::new();
    let mut last: Option<&Glyph> = None;
    let (mut x0, mut x1, mut top, mut bottom) = (f64::MAX, f64::MIN, f64::MIN, f64::MAX);
    let mut sizes = 0.0;
    let mut n = 0usize;
    let mut all_bold = true;
    // Spans change font rarely: compare font indices, name a span's font
    // only when one starts.
    let mut span_font: Option<Option<u16>> = None;
    let mut span_bold = false;
    for &g in glyphs {
        if let Some(prev) = last {
            // The same glyph drawn again at (almost) the same place.
            if prev.text == g.text && (prev.x0 - g.x0).abs() < 0.15 * g.size && (prev.y - g.y).abs() < 0.15 * g.size {
                continue;
            }
            let gap = g.x0 - prev.x1;
            let ends_space = text.ends_with(' ');
            // A wide gap inside one line is a tab stop (symbol ⇥ label).
            let sep = if gap > 1.5 * g.size.min(prev.size) { '\t' } else { ' ' };
            if ends_space && sep == '\t' {
                text.pop();
                if let Some(s) = spans.last_mut() {
                    s.text.pop();
                }
            }
            if gap > 0.18 * g.size.min(prev.size) && (!ends_space || sep == '\t') && !g.text.starts_with(' ') {
                text.push(sep);
                if let Some(s) = spans.last_mut() {
                    s.text.push(sep);
                }
            }
        }
        if g.text.trim().is_empty() {
            if !text.is_empty() && !text.ends_with(' ') {
                text.push(' ');
                if let Some(s) = spans.last_mut() {
                    s.text.push(' ');
                }
            }
            last = Some(g);
            continue;
        }
        text.push_str(&g.text);
        match spans.last_mut() {
            Some(s) if span_font == Some(g.font) => s.text.push_str(&g.text),
            _ => {
                let font = g.font.and_then(|i| fonts.get(i as usize)).cloned();
                span_bold = font.as_deref().is_some_and(is_bold_font);
                spans.push(Span { text: g.text.to_string(), font });
                span_font = Some(g.font);
            }
        }
        all_bold &= span_bold;
        x0 = x0.min(g.x0);
        x1 = x1.max(g.x1);
        top = top.max(g.top());
        bottom = bottom.min(g.bottom());
        sizes += g.size;
        n += 1;
        last = Some(g);
    }
    if n == 0 {
        return None;
    }
    let text = text.trim_end().to_string();
    if let Some(s) = spans.last_mut() {
        let t = s.text.trim_end().to_string();
        s.text = t;
    }
    let y = glyphs.iter().find(|g| !g.text.trim().is_empty()).map_or(0.0, |g| g.y);
    Some(Line { text, spans, x0, x1, y, top, bottom, size: sizes / n as f64, bold: all_bold })
}

/// Lines of a set of glyphs that belong together (a cell), top to bottom.
pub fn lines_of(glyphs: &[&Glyph], fonts: &[String]) -> Vec<Line> {
    baseline_groups(glyphs).iter().filter_map(|g| make_line(g, fonts)).collect()
}

/// Cell text and spans from its lines: lines joined with `\n`.
pub fn text_and_spans(lines: &[Line]) -> (String, Vec<Span>) {
    let text = lines.iter().map(|l| l.text.as_str()).collect::<Vec<_>>().join("\n");
    let mut spans: Vec<Span> = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        for (j, s) in l.spans.iter().enumerate() {
            let mut piece = s.text.clone();
            if i > 0 && j == 0 {
                piece.insert(0, '\n');
            }
            match spans.last_mut() {
                Some(last) if last.font == s.font => last.text.push_str(&piece),
                _ => spans.push(Span { text: piece, font: s.font.clone() }),
            }
        }
    }
    (text, spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(text: &str, x0: f64, y: f64) -> Glyph {
        Glyph { text: text.into(), x0, x1: x0 + 5.0, y, size: 10.0, font: None, dir: 0 }
    }

    #[test]
    fn lines_and_spaces_from_positions() {
        let glyphs = [g("a", 0.0, 100.0), g("b", 5.0, 100.0), g("c", 15.0, 100.2), g("d", 0.0, 88.0)];
        let refs: Vec<&Glyph> = glyphs.iter().collect();
        let lines = lines_of(&refs, &[]);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].text, "ab c");
        assert_eq!(lines[1].text, "d");
    }

    #[test]
    fn doubled_glyphs_are_kept_once() {
        let glyphs = [g("B", 0.0, 100.0), g("B", 0.3, 100.0), g("e", 5.0, 100.0)];
        let refs: Vec<&Glyph> = glyphs.iter().collect();
        assert_eq!(lines_of(&refs, &[])[0].text, "Be");
    }
}
