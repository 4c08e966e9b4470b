//! Pages set sideways: text running up or down the page.
//!
//! A landscape table is often printed on a portrait page turned by a quarter
//! (a `/Rotate 90` page, or text drawn rotated): its glyphs' baselines run
//! vertically, and every line, column and row test in this layer assumes
//! horizontal text. So a page whose text mostly runs in one other direction
//! is turned upright first — glyphs and rules together — laid out as usual,
//! and the boxes it yields are turned back, so provenance stays in the PDF's
//! own coordinates.

use super::collect::{PageRaw, Seg};
use crate::layout::BBox;

/// Turn a point by `-k` quarter turns (so text in direction `k` becomes
/// left-to-right).
fn turn(k: u8, x: f64, y: f64) -> (f64, f64) {
    match k % 4 {
        1 => (y, -x),
        2 => (-x, -y),
        3 => (-y, x),
        _ => (x, y),
    }
}

/// Turn a point back by `k` quarter turns.
fn unturn(k: u8, x: f64, y: f64) -> (f64, f64) {
    turn((4 - k % 4) % 4, x, y)
}

/// Turn the page upright if most of its text runs in one other direction.
pub fn upright(raw: &mut PageRaw) {
    let mut counts = [0usize; 4];
    for g in raw.glyphs.iter().filter(|g| !g.text.trim().is_empty()) {
        counts[(g.dir % 4) as usize] += 1;
    }
    let total: usize = counts.iter().sum();
    let Some((k, &n)) = counts.iter().enumerate().max_by_key(|(_, n)| **n) else { return };
    if k == 0 || n * 2 <= total {
        return;
    }
    let k = k as u8;
    for g in &mut raw.glyphs {
        let advance = g.x1 - g.x0;
        let (x, y) = turn(k, g.x0, g.y);
        g.x0 = x;
        g.x1 = x + advance;
        g.y = y;
        g.dir = (g.dir + 4 - k) % 4;
    }
    for s in &mut raw.segs {
        let (ax, ay) = turn(k, s.x0, s.y0);
        let (bx, by) = turn(k, s.x1, s.y1);
        *s = Seg { x0: ax.min(bx), y0: ay.min(by), x1: ax.max(bx), y1: ay.max(by) };
    }
    for p in &mut raw.slanted {
        *p = turn(k, p.0, p.1);
    }
    let [x0, y0, x1, y1] = raw.media;
    let (ax, ay) = turn(k, x0, y0);
    let (bx, by) = turn(k, x1, y1);
    raw.media = [ax.min(bx), ay.min(by), ax.max(bx), ay.max(by)];
    raw.rotation = k;
}

/// A box of the upright frame back in the page's own coordinates.
pub fn unturn_bbox(k: u8, b: BBox) -> BBox {
    if k.is_multiple_of(4) {
        return b;
    }
    let (ax, ay) = unturn(k, b[0], b[1]);
    let (bx, by) = unturn(k, b[2], b[3]);
    [ax.min(bx), ay.min(by), ax.max(bx), ay.max(by)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turning_and_back_is_the_identity() {
        for k in 0..4 {
            let (x, y) = turn(k, 12.0, 34.0);
            let (a, b) = unturn(k, x, y);
            assert!((a - 12.0).abs() < 1e-9 && (b - 34.0).abs() < 1e-9, "{k}");
        }
        let b = [10.0, 20.0, 30.0, 40.0];
        let (ax, ay) = turn(1, b[0], b[1]);
        let (bx, by) = turn(1, b[2], b[3]);
        let turned = [ax.min(bx), ay.min(by), ax.max(bx), ay.max(by)];
        assert_eq!(unturn_bbox(1, turned), b);
    }

    #[test]
    fn a_page_of_text_running_upwards_is_turned_upright() {
        use crate::layout::pdf::collect::Glyph;
        // "AB" written bottom to top at x = 100, starting at y = 50.
        let glyphs = vec![
            Glyph { text: "A".into(), x0: 100.0, x1: 106.0, y: 50.0, size: 10.0, font: None, dir: 1 },
            Glyph { text: "B".into(), x0: 100.0, x1: 106.0, y: 56.0, size: 10.0, font: None, dir: 1 },
        ];
        let mut raw = PageRaw { number: 1, media: [0.0, 0.0, 595.0, 842.0], glyphs, ..Default::default() };
        upright(&mut raw);
        assert_eq!(raw.rotation, 1);
        let (a, b) = (&raw.glyphs[0], &raw.glyphs[1]);
        assert!(a.x0 < b.x0 && (a.y - b.y).abs() < 1e-9, "one line, left to right: {a:?} {b:?}");
        assert_eq!((a.dir, b.dir), (0, 0));
    }
}
