//! Glyphs and rules out of a PDF: `pdf-extract`'s `OutputDev` gives every
//! glyph's transform, width and size, and the stroked and filled paths; a
//! pass with `lopdf` over the same content streams gives the font each
//! piece of text is set in, which `OutputDev` does not report.
//!
//! The two passes are aligned by counting text-showing strings: `pdf-extract`
//! calls `begin_word` once per string of a `Tj` or `TJ`, in content order,
//! recursing into form XObjects; the font pass lists the current font of each
//! such string in the same order. When the counts disagree on a page, that
//! page's fonts are dropped (with a warning) rather than misassigned.

use std::collections::HashMap;

use compact_str::CompactString;
use lopdf::{Dictionary, Document, Object, ObjectId};
use pdf_extract::{ColorSpace, MediaBox, OutputDev, OutputError, Path, PathOp, Transform};

use super::scan::{self, Operand};

/// One glyph as drawn, in PDF user space (origin bottom-left).
#[derive(Debug, Clone)]
pub struct Glyph {
    /// What it prints: nearly always one character, held inline. A heap
    /// `String` per glyph (a 24-byte header and an allocation for one
    /// character) added 9–14 MiB, a sixth to a fifth, to the peak of
    /// reading each of the corpus's two largest PDFs.
    pub text: CompactString,
    pub x0: f64,
    pub x1: f64,
    /// Baseline.
    pub y: f64,
    /// Font size in user space.
    pub size: f64,
    /// Index into [`PageRaw::fonts`].
    pub font: Option<u16>,
    /// Direction of the baseline in quarter turns counter-clockwise
    /// (0 = left to right; 1 = bottom to top, as on a page set sideways).
    /// `x0`/`y` are the glyph's origin and `x1 - x0` its advance along it.
    pub dir: u8,
}

impl Glyph {
    pub fn top(&self) -> f64 {
        self.y + 0.75 * self.size
    }
    pub fn bottom(&self) -> f64 {
        self.y - 0.2 * self.size
    }
    pub fn cx(&self) -> f64 {
        (self.x0 + self.x1) / 2.0
    }
    pub fn cy(&self) -> f64 {
        self.y + 0.3 * self.size
    }
}

/// A horizontal or vertical rule segment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Seg {
    pub x0: f64,
    pub y0: f64,
    pub x1: f64,
    pub y1: f64,
}

impl Seg {
    pub fn horizontal(&self) -> bool {
        (self.y1 - self.y0).abs() <= (self.x1 - self.x0).abs()
    }
}

/// What one page drew.
#[derive(Debug, Clone, Default)]
pub struct PageRaw {
    pub number: u32,
    pub media: [f64; 4],
    pub glyphs: Vec<Glyph>,
    pub segs: Vec<Seg>,
    /// Font names used on this page (BaseFont, subset prefix removed).
    pub fonts: Vec<String>,
    /// Whether the font pass and the glyph pass disagreed.
    pub fonts_unaligned: bool,
    /// Quarter turns the page was turned to set its text upright (0 for
    /// ordinary pages); coordinates are in the turned frame until mapped back.
    pub rotation: u8,
    /// Midpoints of drawn strokes that are neither horizontal nor vertical,
    /// and of curves: the lines of a chart, which tables do not have.
    pub slanted: Vec<(f64, f64)>,
}

/// Fonts of one page's text: the font names used, and the font (an index
/// into `names`) of every text-showing string, in content order.
#[derive(Debug, Clone, Default)]
pub struct FontSequence {
    pub names: Vec<String>,
    pub seq: Vec<Option<u16>>,
}

impl FontSequence {
    /// The index of a font name, added if new.
    fn intern(&mut self, name: String) -> Option<u16> {
        if let Some(i) = self.names.iter().position(|n| *n == name) {
            return u16::try_from(i).ok();
        }
        let i = u16::try_from(self.names.len()).ok()?;
        self.names.push(name);
        Some(i)
    }
}

fn base_font_name(doc: &Document, font: &Object) -> Option<String> {
    let dict = match font {
        Object::Reference(id) => doc.get_dictionary(*id).ok()?,
        Object::Dictionary(d) => d,
        _ => return None,
    };
    let name = dict.get(b"BaseFont").ok()?.as_name().ok()?;
    let name = String::from_utf8_lossy(name).to_string();
    let name = match name.split_once('+') {
        Some((p, rest)) if p.len() == 6 && p.chars().all(|c| c.is_ascii_uppercase()) => rest.to_string(),
        _ => name,
    };
    Some(name)
}

fn deref<'a>(doc: &'a Document, o: &'a Object) -> Option<&'a Object> {
    match o {
        Object::Reference(id) => doc.get_object(*id).ok(),
        o => Some(o),
    }
}

/// The fonts of a resource dictionary by resource name, as indices into
/// the page's font names.
fn font_table(
    doc: &Document,
    resources: Option<&Dictionary>,
    fonts: &mut FontSequence,
) -> HashMap<Vec<u8>, Option<u16>> {
    let mut out = HashMap::new();
    let Some(res) = resources else { return out };
    let Some(dict) = res.get(b"Font").ok().and_then(|f| deref(doc, f)).and_then(|f| f.as_dict().ok()) else {
        return out;
    };
    for (name, font) in dict.iter() {
        out.insert(name.clone(), base_font_name(doc, font).and_then(|n| fonts.intern(n)));
    }
    out
}

/// The Resources dictionary of a page, inherited from its ancestors.
fn page_resources(doc: &Document, page: ObjectId) -> Option<&Dictionary> {
    let mut node = doc.get_dictionary(page).ok()?;
    for _ in 0..32 {
        if let Some(r) = node.get(b"Resources").ok().and_then(|r| deref(doc, r)).and_then(|r| r.as_dict().ok()) {
            return Some(r);
        }
        let parent = node.get(b"Parent").ok()?.as_reference().ok()?;
        node = doc.get_dictionary(parent).ok()?;
    }
    None
}

/// List the font of each text-showing string on a page, in the order
/// `pdf-extract` will report them.
pub fn font_sequence(doc: &Document, page: ObjectId) -> FontSequence {
    let mut fonts = FontSequence::default();
    let resources = page_resources(doc, page);
    let Ok(content) = doc.get_page_content(page) else { return fonts };
    walk_content(doc, &content, resources, &mut fonts, 0);
    fonts
}

fn walk_content(doc: &Document, content: &[u8], resources: Option<&Dictionary>, out: &mut FontSequence, depth: usize) {
    // Form XObjects may nest; a cycle or absurd nesting must not hang us.
    if depth > 12 {
        return;
    }
    let fonts = font_table(doc, resources, out);
    let mut current: Option<u16> = None;
    let mut stack: Vec<Option<u16>> = Vec::new();
    for op in scan::scan(content) {
        let first = op.operands.first();
        match op.operator {
            b"q" => stack.push(current),
            b"Q" => {
                if let Some(f) = stack.pop() {
                    current = f;
                }
            }
            b"Tf" => {
                if let Some(Operand::Name(name)) = first {
                    current = fonts.get(*name).copied().flatten();
                }
            }
            b"Tj" => out.seq.push(current),
            b"TJ" => {
                if let Some(Operand::Array { strings }) = first {
                    out.seq.extend(std::iter::repeat_n(current, *strings));
                }
            }
            b"Do" => {
                let Some(res) = resources else { continue };
                let Some(Operand::Name(name)) = first else { continue };
                let Some(xobjects) =
                    res.get(b"XObject").ok().and_then(|x| deref(doc, x)).and_then(|x| x.as_dict().ok())
                else {
                    continue;
                };
                let Some(Object::Stream(stream)) = xobjects.get(name).ok().and_then(|x| deref(doc, x)) else {
                    continue;
                };
                let is_form =
                    stream.dict.get(b"Subtype").ok().and_then(|s| s.as_name().ok()) == Some(b"Form".as_slice());
                if !is_form {
                    continue;
                }
                let inner_res = stream
                    .dict
                    .get(b"Resources")
                    .ok()
                    .and_then(|r| deref(doc, r))
                    .and_then(|r| r.as_dict().ok())
                    .or(resources);
                let data = stream.decompressed_content().unwrap_or_else(|_| stream.content.clone());
                walk_content(doc, &data, inner_res, out, depth + 1);
            }
            _ => {}
        }
    }
}

// pdf-extract's PathOp is not Clone; the lint's `*op` would move out of a borrow.
#[allow(clippy::needless_match)]
fn clone_op(op: &PathOp) -> PathOp {
    match *op {
        PathOp::MoveTo(x, y) => PathOp::MoveTo(x, y),
        PathOp::LineTo(x, y) => PathOp::LineTo(x, y),
        PathOp::CurveTo(a, b, c, d, e, f) => PathOp::CurveTo(a, b, c, d, e, f),
        PathOp::Rect(x, y, w, h) => PathOp::Rect(x, y, w, h),
        PathOp::Close => PathOp::Close,
    }
}

/// `OutputDev` that records one page's glyphs and rules, and hands the page
/// to `sink` as soon as it is complete. The caller lays the page out there
/// and keeps only the result, so reading a long report never holds every
/// page's glyphs at once: held to the end, they were two thirds of the peak
/// memory of reading a 146-page scorecard (30 of 47 MiB).
pub struct Collector<'a, S: FnMut(PageRaw)> {
    sink: S,
    /// Font sequences by page number.
    fonts: &'a HashMap<u32, FontSequence>,
    cur: Option<PageRaw>,
    word: usize,
    /// Font of the text-showing string being output.
    word_font: Option<u16>,
}

impl<'a, S: FnMut(PageRaw)> Collector<'a, S> {
    pub fn new(fonts: &'a HashMap<u32, FontSequence>, sink: S) -> Self {
        Collector { sink, fonts, cur: None, word: 0, word_font: None }
    }

    fn current_font(&self) -> Option<u16> {
        let page = self.cur.as_ref()?.number;
        *self.fonts.get(&page)?.seq.get(self.word.checked_sub(1)?)?
    }

    fn push_seg(&mut self, a: (f64, f64), b: (f64, f64)) {
        let Some(page) = self.cur.as_mut() else { return };
        if !(a.0.is_finite() && a.1.is_finite() && b.0.is_finite() && b.1.is_finite()) {
            return;
        }
        let (dx, dy) = ((a.0 - b.0).abs(), (a.1 - b.1).abs());
        if dx >= 0.8 && dy >= 0.8 && page.slanted.len() < 100_000 {
            page.slanted.push(((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0));
        }
        if dx < 0.8 || dy < 0.8 {
            let seg = Seg { x0: a.0.min(b.0), y0: a.1.min(b.1), x1: a.0.max(b.0), y1: a.1.max(b.1) };
            if (seg.x1 - seg.x0).max(seg.y1 - seg.y0) >= 2.0 {
                page.segs.push(seg);
            }
        }
    }

    fn path_segments(&mut self, ctm: &Transform, path: &Path, filled: bool) {
        // Row-vector convention, as pdf-extract uses: p' = p × ctm.
        let t = |x: f64, y: f64| (x * ctm.m11 + y * ctm.m21 + ctm.m31, x * ctm.m12 + y * ctm.m22 + ctm.m32);
        let mut start: Option<(f64, f64)> = None;
        let mut last: Option<(f64, f64)> = None;
        let mut poly: Vec<(f64, f64)> = Vec::new();
        for op in &path.ops {
            match *op {
                PathOp::MoveTo(x, y) => {
                    let p = t(x, y);
                    start = Some(p);
                    last = Some(p);
                    poly.push(p);
                }
                PathOp::LineTo(x, y) => {
                    let p = t(x, y);
                    if let Some(l) = last {
                        if !filled {
                            self.push_seg(l, p);
                        }
                    }
                    last = Some(p);
                    poly.push(p);
                }
                PathOp::CurveTo(_, _, _, _, x, y) => {
                    let p = t(x, y);
                    if !filled {
                        if let Some(page) = self.cur.as_mut() {
                            if p.0.is_finite() && p.1.is_finite() && page.slanted.len() < 100_000 {
                                page.slanted.push(p);
                            }
                        }
                    }
                    last = Some(p);
                    poly.clear();
                }
                PathOp::Rect(x, y, w, h) => {
                    let a = t(x, y);
                    let b = t(x + w, y + h);
                    self.rect(a, b, filled);
                }
                PathOp::Close => {
                    if let (Some(l), Some(s)) = (last, start) {
                        if !filled {
                            self.push_seg(l, s);
                        }
                    }
                    last = start;
                }
            }
        }
        // A filled polygon that is a thin box is a rule drawn as a fill.
        if filled && poly.len() >= 4 {
            let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
            for (x, y) in &poly {
                x0 = x0.min(*x);
                y0 = y0.min(*y);
                x1 = x1.max(*x);
                y1 = y1.max(*y);
            }
            self.rect((x0, y0), (x1, y1), true);
        }
    }

    fn rect(&mut self, a: (f64, f64), b: (f64, f64), filled: bool) {
        let (x0, x1) = (a.0.min(b.0), a.0.max(b.0));
        let (y0, y1) = (a.1.min(b.1), a.1.max(b.1));
        let (w, h) = (x1 - x0, y1 - y0);
        if filled {
            // Only thin fills are rules; larger fills are shading.
            if h <= 2.5 && w > h {
                let y = (y0 + y1) / 2.0;
                self.push_seg((x0, y), (x1, y));
            } else if w <= 2.5 && h > w {
                let x = (x0 + x1) / 2.0;
                self.push_seg((x, y0), (x, y1));
            }
        } else {
            self.push_seg((x0, y0), (x1, y0));
            self.push_seg((x0, y1), (x1, y1));
            self.push_seg((x0, y0), (x0, y1));
            self.push_seg((x1, y0), (x1, y1));
        }
    }
}

impl<S: FnMut(PageRaw)> OutputDev for Collector<'_, S> {
    fn begin_page(
        &mut self,
        page_num: u32,
        media_box: &MediaBox,
        _art_box: Option<(f64, f64, f64, f64)>,
    ) -> Result<(), OutputError> {
        self.word = 0;
        self.cur = Some(PageRaw {
            number: page_num,
            media: [media_box.llx, media_box.lly, media_box.urx, media_box.ury],
            fonts: self.fonts.get(&page_num).map(|f| f.names.clone()).unwrap_or_default(),
            ..Default::default()
        });
        Ok(())
    }

    fn end_page(&mut self) -> Result<(), OutputError> {
        if let Some(mut page) = self.cur.take() {
            let expected = self.fonts.get(&page.number).map_or(0, |s| s.seq.len());
            if expected != self.word {
                page.fonts_unaligned = true;
                for g in &mut page.glyphs {
                    g.font = None;
                }
            }
            (self.sink)(page);
        }
        Ok(())
    }

    fn output_character(
        &mut self,
        trm: &Transform,
        width: f64,
        _spacing: f64,
        font_size: f64,
        char: &str,
    ) -> Result<(), OutputError> {
        if char.is_empty() || !font_size.is_finite() {
            return Ok(());
        }
        let font = self.word_font;
        let Some(page) = self.cur.as_mut() else { return Ok(()) };
        let scale_y = (trm.m21 * trm.m21 + trm.m22 * trm.m22).sqrt();
        let scale_x = (trm.m11 * trm.m11 + trm.m12 * trm.m12).sqrt();
        let size = font_size * scale_y;
        let advance = width * font_size * scale_x;
        if !(size.is_finite() && advance.is_finite()) || size <= 0.0 || size > 2000.0 {
            return Ok(());
        }
        let x = trm.m31;
        let y = trm.m32;
        // A degenerate matrix puts glyphs nowhere; they cannot be placed.
        if !(x.is_finite() && y.is_finite()) {
            return Ok(());
        }
        let angle = trm.m12.atan2(trm.m11);
        let dir = (angle / std::f64::consts::FRAC_PI_2).round().rem_euclid(4.0) as u8;
        page.glyphs.push(Glyph {
            text: CompactString::from(char),
            x0: x,
            x1: x + advance.max(0.0),
            y,
            size,
            font,
            dir,
        });
        Ok(())
    }

    fn begin_word(&mut self) -> Result<(), OutputError> {
        self.word += 1;
        // Every glyph of this string is in one font: look it up once.
        self.word_font = self.current_font();
        Ok(())
    }

    fn end_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_line(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn stroke(&mut self, ctm: &Transform, _cs: &ColorSpace, _color: &[f64], path: &Path) -> Result<(), OutputError> {
        // pdf-extract does not report `f*`, `B`, `b` fills and does not clear
        // the path after them, so their rectangles arrive inside the next
        // stroke. A stroke that mixes rectangles with lines holds such
        // leftovers: treat its rectangles as fills (shading), its lines as
        // strokes.
        let has_lines = path.ops.iter().any(|op| matches!(op, PathOp::LineTo(..)));
        let has_rects = path.ops.iter().any(|op| matches!(op, PathOp::Rect(..)));
        if has_lines && has_rects {
            let rects =
                Path { ops: path.ops.iter().filter(|op| matches!(op, PathOp::Rect(..))).map(clone_op).collect() };
            let lines =
                Path { ops: path.ops.iter().filter(|op| !matches!(op, PathOp::Rect(..))).map(clone_op).collect() };
            self.path_segments(ctm, &rects, true);
            self.path_segments(ctm, &lines, false);
        } else {
            self.path_segments(ctm, path, false);
        }
        Ok(())
    }

    fn fill(&mut self, ctm: &Transform, _cs: &ColorSpace, color: &[f64], path: &Path) -> Result<(), OutputError> {
        // White fills erase rather than draw.
        if !color.is_empty() && color.iter().all(|c| *c >= 0.99) {
            return Ok(());
        }
        self.path_segments(ctm, path, true);
        Ok(())
    }
}
