//! PDF layout: glyphs and drawn rules → paragraphs and tables.
//!
//! `pdf-extract` decodes fonts and reports every glyph with its position
//! (never parse tables from its plain text: it joins a row's cells on one
//! line). Ruled tables are rebuilt from the drawn rules ([`ruled`]); text
//! outside tables becomes paragraphs. A table that runs over several pages is
//! joined back into one: the header rows a word processor repeats at the top
//! of every page are recognised and dropped, a row broken across a page
//! break is joined to its first part, and a merged cell that runs over the
//! break (an outcome cell) is joined to its first part.

mod aligned;
mod collect;
mod rotate;
mod ruled;
mod sanity;
mod scan;
mod text;

use std::collections::HashMap;

use lopdf::Document;
use pdf_extract::{OutputDev, OutputError};

use self::collect::{Collector, FontSequence, Glyph, PageRaw};
use self::text::{lines_of, split_at_gaps, text_and_spans, Line};
use super::{fold_ws, BBox, Block, Cell, LayoutDoc, LayoutError, Limits, Paragraph, Row, Table};
use crate::model::Format;

/// A region of a table piece (a cell, possibly merged) and its lines.
#[derive(Debug, Clone)]
struct Region {
    lines: Vec<Line>,
    page: u32,
    bbox: BBox,
}

#[derive(Debug, Clone)]
struct PRow {
    /// Region id per grid column.
    cells: Vec<usize>,
    page: u32,
    bbox: BBox,
}

/// A table on one page, or several pieces joined.
#[derive(Debug, Clone)]
struct Piece {
    xs: Vec<f64>,
    rows: Vec<PRow>,
    regions: Vec<Region>,
    /// Rows at the top known to repeat on every page.
    header_rows: usize,
    page: u32,
    bbox: BBox,
    /// How the grid was found: `ruled` or `aligned`.
    source: &'static str,
}

impl Piece {
    fn ncols(&self) -> usize {
        self.xs.len() - 1
    }

    fn region_text(&self, id: usize) -> String {
        fold_ws(&self.regions[id].lines.iter().map(|l| l.text.as_str()).collect::<Vec<_>>().join(" "))
    }

    /// Texts of a row, one per distinct region, for comparing rows.
    fn row_key(&self, r: usize) -> Vec<String> {
        let mut out = Vec::new();
        let mut last = usize::MAX;
        for &id in &self.rows[r].cells {
            if id != last {
                out.push(self.region_text(id));
                last = id;
            }
        }
        out
    }

    /// Whether region `id` starts in row `r` (is not continued from above).
    fn starts_in(&self, id: usize, r: usize) -> bool {
        r == 0 || !self.rows[r - 1].cells.contains(&id)
    }

    fn is_banner(&self, r: usize) -> bool {
        let c = &self.rows[r].cells;
        c.iter().all(|&id| id == c[0])
    }
}

/// A block on a page before tables are joined across pages.
enum PageBlock {
    Para(Vec<Line>),
    Table(Piece),
}

/// Read a PDF's layout.
pub fn read(bytes: &[u8], limits: &Limits) -> Result<LayoutDoc, LayoutError> {
    let mut doc = load(bytes)?;
    if doc.objects.len() > limits.pdf_objects {
        return Err(LayoutError::TooLarge(format!(
            "the PDF has {} objects, more than the limit of {}; it is unusually complex or damaged",
            doc.objects.len(),
            limits.pdf_objects
        )));
    }
    if doc.is_encrypted() && doc.decrypt("").is_err() {
        return Err(LayoutError::Encrypted(
            "the PDF is password-protected; ask the publisher for an unprotected copy, or remove the password with qpdf --decrypt --password=PASSWORD in.pdf out.pdf".into(),
        ));
    }
    let pages = doc.get_pages();
    let page_count = pages.len() as u32;
    if page_count == 0 {
        return Err(LayoutError::Corrupt(
            "the PDF has no pages (its page tree is empty or damaged); re-export it".into(),
        ));
    }
    if page_count > limits.pdf_pages {
        return Err(LayoutError::TooLarge(format!(
            "the PDF has {page_count} pages, more than the limit of {}; split it into parts",
            limits.pdf_pages
        )));
    }
    if let Some(trouble) = sanity::inflation_trouble(&doc, limits.part_bytes) {
        return Err(LayoutError::TooLarge(format!(
            "{trouble}, the most one stream may: the PDF is probably a decompression bomb or damaged; if it is genuine, raise --max-inflated (one stream may take half of it)"
        )));
    }
    let mut warnings = sanity::check(&mut doc, &pages)?;
    let fonts: HashMap<u32, FontSequence> =
        pages.iter().map(|(&n, &id)| (n, collect::font_sequence(&doc, id))).collect();
    let laid = extract(&doc, &fonts, &pages, &mut warnings)?;
    let meta_title = title(&doc);

    let total_glyphs: usize = laid.iter().map(|p| p.glyphs).sum();
    if total_glyphs == 0 {
        let images = pages.values().any(|&id| page_has_image(&doc, id));
        return Err(LayoutError::NoTextLayer(if images {
            "scanned PDF with no text layer (its pages are images): run OCR first, e.g. ocrmypdf in.pdf out.pdf, then give plantrace the OCRed file".into()
        } else {
            "the PDF has no text layer (no text on any page): if it is a scan, run OCR first, e.g. ocrmypdf".into()
        }));
    }
    if laid.iter().any(|p| p.fonts_unaligned) {
        warnings.push("font names could not be matched to the text on some pages; symbol fonts there are decoded from the characters alone".into());
    }
    Ok(assemble(laid, page_count, meta_title, warnings))
}

fn load(bytes: &[u8]) -> Result<Document, LayoutError> {
    Document::load_mem(bytes).map_err(|e| {
        let msg = e.to_string();
        if msg.to_ascii_lowercase().contains("decrypt") || msg.to_ascii_lowercase().contains("password") {
            LayoutError::Encrypted(format!(
                "the PDF is encrypted and cannot be opened without its password ({msg}); ask for an unprotected copy or decrypt it with qpdf"
            ))
        } else {
            LayoutError::Corrupt(format!(
                "the PDF cannot be parsed ({msg}); it is damaged or truncated: re-download it, or try repairing it with qpdf in.pdf out.pdf"
            ))
        }
    })
}

/// One page laid out: its table pieces and free lines, and what the
/// passes over the whole document need of the page. Its glyphs are gone.
struct LaidPage {
    number: u32,
    media: [f64; 4],
    rotation: u8,
    /// How many glyphs the page drew.
    glyphs: usize,
    fonts_unaligned: bool,
    pieces: Vec<Piece>,
    lines: Vec<Line>,
}

/// Lay out one page as soon as it has been read, dropping its glyphs.
fn lay_out(mut raw: PageRaw) -> LaidPage {
    rotate::upright(&mut raw);
    let (pieces, lines) = page_layout(&raw);
    LaidPage {
        number: raw.number,
        media: raw.media,
        rotation: raw.rotation,
        glyphs: raw.glyphs.len(),
        fonts_unaligned: raw.fonts_unaligned,
        pieces,
        lines,
    }
}

/// Run `pdf-extract` (through `read`, given the collecting `OutputDev`),
/// laying out each page as it completes.
fn read_pages(
    fonts: &HashMap<u32, FontSequence>,
    read: impl FnOnce(&mut dyn OutputDev) -> Result<(), OutputError>,
) -> Result<Vec<LaidPage>, OutputError> {
    let mut laid = Vec::new();
    read(&mut Collector::new(fonts, |raw| laid.push(lay_out(raw))))?;
    Ok(laid)
}

/// Run `pdf-extract` over every page; if it fails on the whole document,
/// retry page by page so one bad page does not lose the others.
///
/// Each page is laid out inside the same guard, as it is read: a panic in
/// the layout code on one page (a bug of ours, reported in the warning
/// with the panic's message) costs that page its tables and positions,
/// read as plain text, not the whole document.
fn extract(
    doc: &Document,
    fonts: &HashMap<u32, FontSequence>,
    pages: &std::collections::BTreeMap<u32, lopdf::ObjectId>,
    warnings: &mut Vec<String>,
) -> Result<Vec<LaidPage>, LayoutError> {
    let whole = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        read_pages(fonts, |out| pdf_extract::output_doc(doc, out))
    }));
    let mut first_panic: Option<String> = None;
    match whole {
        Ok(Ok(pages)) => return Ok(pages),
        Ok(Err(e)) => warnings.push(format!("the PDF reader stopped early ({e}); reading page by page")),
        Err(payload) => {
            let what = panic_text(payload.as_ref());
            warnings.push(format!("the PDF reader crashed on this file ({what}); reading page by page"));
            first_panic = Some(what);
        }
    }
    let mut out = Vec::new();
    let mut failed = Vec::new();
    let mut plain = Vec::new();
    for (&n, &id) in pages {
        let one = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            read_pages(fonts, |out| pdf_extract::output_doc_page(doc, out, n))
        }));
        match one {
            Ok(Ok(p)) => out.extend(p),
            _ => match plain_text_page(doc, n, id) {
                Some(p) => {
                    out.push(lay_out(p));
                    plain.push(n);
                }
                None => failed.push(n),
            },
        }
    }
    if !plain.is_empty() {
        let list: Vec<String> = plain.iter().map(|n| n.to_string()).collect();
        let (noun, verb) = if plain.len() == 1 { ("page", "was") } else { ("pages", "were") };
        warnings.push(format!(
            "{noun} {} could not be laid out and {verb} read as plain text (lopdf): the words are kept, tables and positions are not",
            list.join(", ")
        ));
    }
    if out.is_empty() {
        let why = first_panic.map(|p| format!(" ({p})")).unwrap_or_default();
        return Err(LayoutError::Crash(format!(
            "the PDF reader could not read any page of this file{why}; it is probably damaged: try repairing it with qpdf in.pdf out.pdf"
        )));
    }
    if !failed.is_empty() {
        let list: Vec<String> = failed.iter().map(|n| n.to_string()).collect();
        warnings.push(format!("pages {} could not be read and are missing from the results", list.join(", ")));
    }
    Ok(out)
}

/// Page `n` read as plain text by lopdf's own extraction, for a page
/// `pdf-extract` cannot read (it panics on some malformed content that
/// lopdf reads past). Better the page's words than nothing: each line of
/// text is set on a baseline of its own, words in order at made-up
/// positions, so paragraphs come out but no table does. None when lopdf
/// finds no text either.
fn plain_text_page(doc: &Document, n: u32, page: lopdf::ObjectId) -> Option<PageRaw> {
    const SIZE: f64 = 10.0;
    let text = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| doc.extract_text(&[n]))).ok()?.ok()?;
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    let media = media_box(doc, page).unwrap_or([0.0, 0.0, 595.0, 842.0]);
    // Lines 1.4 font sizes apart, closer when that would run off the page.
    let room = (media[3] - media[1] - 8.0 * SIZE).max(SIZE);
    let step = (1.4 * SIZE).min(room / lines.len().max(1) as f64);
    let mut glyphs = Vec::new();
    for (k, line) in lines.iter().enumerate() {
        let y = media[3] - 4.0 * SIZE - step * k as f64;
        let mut x = media[0] + 4.0 * SIZE;
        for word in line.split_whitespace() {
            let x1 = x + 0.5 * SIZE * word.chars().count() as f64;
            glyphs.push(Glyph { text: word.into(), x0: x, x1, y, size: SIZE, font: None, dir: 0 });
            x = x1 + 0.3 * SIZE;
        }
    }
    (!glyphs.is_empty()).then(|| PageRaw { number: n, media, glyphs, ..Default::default() })
}

/// A page's MediaBox, inherited through its Parent chain (bounded: the
/// structural check has cut any cycle).
fn media_box(doc: &Document, page: lopdf::ObjectId) -> Option<[f64; 4]> {
    let mut node = page;
    for _ in 0..sanity::MAX_PARENT_CHAIN {
        let dict = doc.get_dictionary(node).ok()?;
        if let Ok(b) = dict.get(b"MediaBox").and_then(|b| b.as_array()) {
            let v: Vec<f64> = b
                .iter()
                .filter_map(|x| x.as_float().ok().map(f64::from).or_else(|| x.as_i64().ok().map(|i| i as f64)))
                .collect();
            return (v.len() == 4).then(|| [v[0], v[1], v[2], v[3]]);
        }
        node = dict.get(b"Parent").ok()?.as_reference().ok()?;
    }
    None
}

/// The message of a caught panic.
fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

fn title(doc: &Document) -> Option<String> {
    let info = doc.trailer.get(b"Info").ok()?.as_reference().ok()?;
    let dict = doc.get_dictionary(info).ok()?;
    let raw = match dict.get(b"Title").ok()? {
        lopdf::Object::String(bytes, _) => bytes.clone(),
        _ => return None,
    };
    let text = if raw.starts_with(&[0xFE, 0xFF]) {
        let units: Vec<u16> =
            raw[2..].chunks(2).filter(|c| c.len() == 2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
        String::from_utf16_lossy(&units)
    } else {
        raw.iter().map(|&b| b as char).collect()
    };
    let text = text.trim().to_string();
    (!text.is_empty()).then_some(text)
}

fn page_has_image(doc: &Document, page: lopdf::ObjectId) -> bool {
    let Ok((res, _)) = doc.get_page_resources(page) else { return false };
    let Some(res) = res else { return false };
    let Ok(xobjects) = res.get(b"XObject") else { return false };
    let dict = match xobjects {
        lopdf::Object::Reference(id) => doc.get_dictionary(*id).ok(),
        lopdf::Object::Dictionary(d) => Some(d),
        _ => None,
    };
    dict.is_some_and(|d| !d.is_empty())
}

/// Lines in the top or bottom margin that repeat on many pages (running
/// headers, footers, page numbers) are page furniture.
fn furniture(pages: &[LaidPage]) -> Vec<Vec<bool>> {
    let key = |t: &str| -> String { t.chars().map(|c| if c.is_ascii_digit() { '#' } else { c }).collect() };
    let mut counts: HashMap<String, usize> = HashMap::new();
    let in_margin = |p: &LaidPage, l: &Line| {
        let h = p.media[3] - p.media[1];
        l.top > p.media[3] - 0.08 * h || l.bottom < p.media[1] + 0.08 * h
    };
    for p in pages {
        let mut seen = std::collections::HashSet::new();
        for l in p.lines.iter().filter(|l| in_margin(p, l)) {
            if seen.insert(key(&l.text)) {
                *counts.entry(key(&l.text)).or_default() += 1;
            }
        }
    }
    let n = pages.len();
    pages
        .iter()
        .map(|p| {
            p.lines
                .iter()
                .map(|l| {
                    if !in_margin(p, l) {
                        return false;
                    }
                    let t = l.text.trim();
                    let page_number = t.len() <= 12
                        && (t.chars().all(|c| c.is_ascii_digit())
                            || t.to_ascii_lowercase().starts_with("page ")
                            || (t.starts_with('-') && t.ends_with('-')));
                    page_number || (n >= 3 && counts.get(&key(&l.text)).copied().unwrap_or(0) * 2 >= n)
                })
                .collect()
        })
        .collect()
}

/// Tables and paragraph lines of one page, in reading order.
fn page_blocks(free_lines: Vec<Line>, pieces: Vec<Piece>) -> Vec<(f64, PageBlock)> {
    let mut blocks: Vec<(f64, PageBlock)> = pieces.into_iter().map(|p| (p.bbox[3], PageBlock::Table(p))).collect();
    // Paragraphs: consecutive lines close together.
    let mut paras: Vec<Vec<Line>> = Vec::new();
    for l in free_lines {
        match paras.last_mut() {
            Some(cur) => {
                let prev = &cur[cur.len() - 1];
                let gap = prev.bottom - l.top;
                let same_size = (prev.size - l.size).abs() < 0.15 * prev.size;
                // A list item: a bullet, or a short marker then a tab stop
                // (a symbol and its label in a key).
                let starts_item = l.text.starts_with(['•', '·', '▪', '●', '\u{F0B7}', '-'])
                    || l.text.chars().take(6).any(|c| c == '\t');
                if gap < 0.55 * l.size && gap > -0.5 * l.size && same_size && !starts_item && prev.bold == l.bold {
                    cur.push(l);
                } else {
                    paras.push(vec![l]);
                }
            }
            None => paras.push(vec![l]),
        }
    }
    blocks.extend(paras.into_iter().map(|p| (p[0].top, PageBlock::Para(p))));
    blocks.sort_by(|a, b| b.0.total_cmp(&a.0));
    blocks
}

/// Turn one page's glyphs and rules into table pieces and free lines.
fn page_layout(raw: &PageRaw) -> (Vec<Piece>, Vec<Line>) {
    let grids = ruled::find_grids(&raw.segs);
    let mut claimed = vec![false; raw.glyphs.len()];
    let mut pieces = Vec::new();
    for grid in grids {
        // Rules around slanted strokes or curves frame a chart, not a table.
        let b = grid.bbox();
        let slanted = raw.slanted.iter().filter(|(x, y)| *x > b[0] && *x < b[2] && *y > b[1] && *y < b[3]).count();
        if slanted >= 6 {
            continue;
        }
        let inside: Vec<usize> = (0..raw.glyphs.len())
            .filter(|&i| !claimed[i] && grid.locate(raw.glyphs[i].cx(), raw.glyphs[i].cy()).is_some())
            .collect();
        let refs: Vec<&Glyph> = inside.iter().map(|&i| &raw.glyphs[i]).collect();
        let (grid, assign) = ruled::refine(grid, &refs);
        let grid = &grid;
        let mut per_region: Vec<Vec<&Glyph>> = vec![Vec::new(); grid.regions];
        for (k, &i) in inside.iter().enumerate() {
            if let Some(id) = assign[k] {
                claimed[i] = true;
                per_region[id].push(&raw.glyphs[i]);
            }
        }
        if per_region.iter().all(|v| v.iter().all(|g| g.text.trim().is_empty())) {
            continue; // decoration: rules with no text
        }
        let nr = grid.nrows();
        let nc = grid.ncols();
        let mut bbox_of = vec![[f64::MAX, f64::MAX, f64::MIN, f64::MIN]; grid.regions];
        for r in 0..nr {
            for c in 0..nc {
                let b = &mut bbox_of[grid.region[r][c]];
                b[0] = b[0].min(grid.xs[c]);
                b[1] = b[1].min(grid.ys[r + 1]);
                b[2] = b[2].max(grid.xs[c + 1]);
                b[3] = b[3].max(grid.ys[r]);
            }
        }
        let regions: Vec<Region> = per_region
            .iter()
            .enumerate()
            .map(|(id, gl)| Region { lines: lines_of(gl, &raw.fonts), page: raw.number, bbox: bbox_of[id] })
            .collect();
        let rows: Vec<PRow> = (0..nr)
            .map(|r| PRow {
                cells: grid.region[r].clone(),
                page: raw.number,
                bbox: [grid.xs[0], grid.ys[r + 1], grid.xs[nc], grid.ys[r]],
            })
            .collect();
        let mut piece = Piece {
            xs: grid.xs.clone(),
            rows,
            regions,
            header_rows: 0,
            page: raw.number,
            bbox: grid.bbox(),
            source: "ruled",
        };
        drop_empty_thin_rows(&mut piece);
        if !piece.rows.is_empty() {
            pieces.push(piece);
        }
    }
    // Borderless tables among the text no ruled table claimed.
    let free: Vec<&Glyph> = raw.glyphs.iter().zip(&claimed).filter(|(_, c)| !**c).map(|(g, _)| g).collect();
    // Only horizontal text can form table rows; text set at an angle (a
    // chart's axis labels) stays out of it.
    let horizontal: Vec<&Glyph> = free.iter().copied().filter(|g| g.dir == 0).collect();
    let text_lines = aligned::text_lines(text::baseline_groups(&horizontal), 1.0);
    let page_width = raw.media[2] - raw.media[0];
    let mut taken: Vec<*const Glyph> = Vec::new();
    for t in aligned::find_tables(&text_lines, page_width) {
        let piece = aligned_piece(&t, &text_lines, raw);
        for &li in &t.lines {
            for c in &text_lines[li].chunks {
                taken.extend(c.glyphs.iter().map(|g| *g as *const Glyph));
            }
        }
        pieces.push(piece);
    }
    // Glyphs are compared by identity (address), never dereferenced through
    // these pointers.
    taken.sort();
    let free: Vec<&Glyph> = free.into_iter().filter(|g| taken.binary_search(&(*g as *const Glyph)).is_err()).collect();
    let mut lines = Vec::new();
    for group in text::baseline_groups(&free) {
        for chunk in split_at_gaps(group, 4.0) {
            if let Some(l) = text::make_line(&chunk, &raw.fonts) {
                lines.push(l);
            }
        }
    }
    lines.sort_by(|a, b| b.y.total_cmp(&a.y).then(a.x0.total_cmp(&b.x0)));
    (pieces, lines)
}

/// A table piece from a borderless table: one region per row and column,
/// except where one chunk of text runs across several columns.
fn aligned_piece(t: &aligned::AlignedTable, lines: &[aligned::TextLine], raw: &PageRaw) -> Piece {
    let ncols = t.xs.len() - 1;
    let col = |x: f64| t.xs.windows(2).position(|w| x < w[1]).unwrap_or(ncols - 1);
    let mut region_glyphs: Vec<Vec<&Glyph>> = Vec::new();
    let mut region_bbox: Vec<BBox> = Vec::new();
    let mut rows = Vec::new();
    for row in &t.rows {
        let base = region_glyphs.len();
        // Start with one region per column; a chunk spanning columns joins them.
        let mut owner: Vec<usize> = (0..ncols).map(|c| base + c).collect();
        for &li in row {
            for ch in &lines[li].chunks {
                let (a, b) = (col(ch.x0 + 0.5), col(ch.x1 - 0.5));
                for c in a + 1..=b.min(ncols - 1) {
                    owner[c] = owner[a];
                }
            }
        }
        let top = row.iter().map(|&li| lines[li].top).fold(f64::MIN, f64::max);
        let bottom = row.iter().map(|&li| lines[li].bottom).fold(f64::MAX, f64::min);
        for c in 0..ncols {
            region_glyphs.push(Vec::new());
            region_bbox.push([t.xs[c], bottom, t.xs[c + 1], top]);
        }
        for c in 0..ncols {
            let o = owner[c];
            if o != base + c {
                let b = region_bbox[base + c];
                let ob = &mut region_bbox[o];
                ob[2] = ob[2].max(b[2]);
            }
        }
        for &li in row {
            for ch in &lines[li].chunks {
                let o = owner[col(ch.x0 + 0.5)];
                region_glyphs[o].extend(ch.glyphs.iter().copied());
            }
        }
        rows.push(PRow { cells: owner, page: raw.number, bbox: [t.xs[0], bottom, t.xs[ncols], top] });
    }
    let regions = region_glyphs
        .iter()
        .zip(&region_bbox)
        .map(|(g, b)| Region { lines: lines_of(g, &raw.fonts), page: raw.number, bbox: *b })
        .collect();
    let top = rows.first().map_or(0.0, |r: &PRow| r.bbox[3]);
    let bottom = rows.last().map_or(0.0, |r: &PRow| r.bbox[1]);
    Piece {
        xs: t.xs.clone(),
        rows,
        regions,
        header_rows: 0,
        page: raw.number,
        bbox: [t.xs[0], bottom, t.xs[ncols], top],
        source: "aligned",
    }
}

/// Spacer rows (no text, a few points high) are drawing artefacts.
fn drop_empty_thin_rows(p: &mut Piece) {
    let keep: Vec<bool> = p
        .rows
        .iter()
        .map(|r| {
            let h = r.bbox[3] - r.bbox[1];
            let empty = r.cells.iter().all(|&id| p.regions[id].lines.is_empty());
            !(empty && h < 6.0)
        })
        .collect();
    let mut i = 0;
    p.rows.retain(|_| {
        let k = keep[i];
        i += 1;
        k
    });
}

fn columns_align(a: &Piece, b: &Piece) -> bool {
    a.xs.len() == b.xs.len() && a.xs.iter().zip(&b.xs).all(|(x, y)| (x - y).abs() <= 3.0)
}

/// Whether a text continues a sentence broken off above it: it starts with
/// a lower-case word ("assets to help others", "harm"). Short values that
/// happen to be lower case ("n/a", "tbc") are not words of a sentence.
fn continues(text: &str) -> bool {
    let mut words = text.split_whitespace();
    let Some(first) = words.next() else { return false };
    let word = first.trim_end_matches([',', '.', ';', ':', ')']);
    let lower = !word.is_empty() && word.chars().all(|c| c.is_lowercase() || c == '-' || c == '\'' || c == '’');
    lower && (word.chars().count() >= 4 || (word.chars().count() >= 2 && words.next().is_some()))
}

/// Join a piece found at the top of a page onto the table that ended the
/// previous page. Returns the piece back when it is a new table.
fn join(table: &mut Piece, mut piece: Piece) -> Option<Piece> {
    // Header rows repeated from the start of the table.
    let max_k = 4.min(piece.rows.len()).min(table.rows.len());
    let mut k = 0;
    while k < max_k && piece.row_key(k) == table.row_key(k) && piece.row_key(k).iter().any(|t| !t.is_empty()) {
        k += 1;
    }
    if k == 0 {
        // The table's column-header row near the top of the piece, after
        // other rows (a new banner): a new table with the same columns.
        let heads: Vec<Vec<String>> =
            (0..3.min(table.rows.len())).map(|r| table.row_key(r)).filter(|k| k.len() > 1).collect();
        if (0..3.min(piece.rows.len())).any(|r| heads.contains(&piece.row_key(r))) {
            return Some(piece);
        }
    }
    table.header_rows = table.header_rows.max(k);
    piece.rows.drain(..k);
    if piece.rows.is_empty() {
        return None;
    }

    let offset = table.regions.len();
    let mut map: Vec<Option<usize>> = vec![None; piece.regions.len()];
    let last = table.rows.len() - 1;
    let body_start = table.header_rows.min(last);

    // Columns every body row fills: a first row missing one of them is the
    // rest of the row broken across the page.
    let ncols = table.ncols();
    let body: Vec<usize> = (body_start..table.rows.len()).filter(|&r| !table.is_banner(r)).collect();
    let filled_everywhere: Vec<bool> = (0..ncols)
        .map(|c| {
            body.len() >= 2
                && body.iter().all(|&r| {
                    let id = table.rows[r].cells[c];
                    !table.regions[id].lines.is_empty() || !table.starts_in(id, r)
                })
        })
        .collect();
    // Columns where the table merges cells down several rows (an outcome
    // column): a merged cell cut by the page break carries on at the top of
    // the next page, empty or mid-sentence.
    let merging: Vec<bool> = (0..ncols)
        .map(|c| {
            (1..table.rows.len()).any(|r| table.rows[r].cells[c] == table.rows[r - 1].cells[c] && !table.is_banner(r))
        })
        .collect();
    let first = &piece.rows[0];
    let first_is_banner = first.cells.iter().all(|&id| id == first.cells[0]);
    let empty_in_first = |c: usize| piece.regions[first.cells[c]].lines.is_empty();
    // An empty cell that is a merged cell carrying on (the column merges, or
    // the cell runs down into the next row of the page) says nothing about
    // whether the row was broken: only the other columns do.
    let spans_down = |c: usize| piece.rows.get(1).is_some_and(|r| r.cells[c] == first.cells[c]);
    let telling = |c: usize| !merging[c] && !spans_down(c);
    // Text cut mid-phrase: the cell above ends open ("Original target
    // date:", "Completed/") or the cell below starts in lower case.
    let cut_mid_phrase = |c: usize| {
        let above = table.region_text(table.rows[last].cells[c]);
        let below = piece.region_text(first.cells[c]);
        !above.is_empty()
            && !below.is_empty()
            && (above.ends_with([':', '/', '-', '–', ',', '(', '&']) || continues(&below))
    };
    let row_continues = !first_is_banner
        && !table.is_banner(last)
        && ((0..ncols).any(|c| telling(c) && cut_mid_phrase(c))
            || if body.len() >= 2 {
                (0..ncols).any(|c| telling(c) && filled_everywhere[c] && empty_in_first(c))
            } else {
                // Too few rows to learn which columns are always filled: a first
                // row empty in most of the columns the last row fills is its rest.
                let filled_last: Vec<usize> = (0..ncols)
                    .filter(|&c| telling(c) && !table.regions[table.rows[last].cells[c]].lines.is_empty())
                    .collect();
                let emptied = filled_last.iter().filter(|&&c| empty_in_first(c)).count();
                !filled_last.is_empty() && emptied * 2 >= filled_last.len()
            });
    for c in 0..ncols {
        let pid = piece.rows[0].cells[c];
        if map[pid].is_some() {
            continue;
        }
        let tid = table.rows[last].cells[c];
        let merged_above = last > 0 && table.rows[last - 1].cells[c] == tid && !table.is_banner(last);
        let text = piece.region_text(pid);
        let carries_on =
            merging[c] && !table.is_banner(last) && !table.regions[tid].lines.is_empty() && continues(&text);
        // An empty cell at the top of the page in a column of merged cells
        // (or running down the page) is the merged cell above carrying on:
        // a new merged cell would have text.
        let empty_carry = text.is_empty()
            && (merged_above || merging[c] || spans_down(c))
            && !table.is_banner(last)
            && !table.regions[tid].lines.is_empty();
        let join_cell = row_continues || empty_carry || carries_on;
        if join_cell && !first_is_banner {
            map[pid] = Some(tid);
        }
    }
    // Move joined regions' text onto their first part.
    for (pid, tid) in map.iter().enumerate() {
        if let Some(tid) = tid {
            let lines = std::mem::take(&mut piece.regions[pid].lines);
            table.regions[*tid].lines.extend(lines);
        }
    }
    let drop_first = row_continues;
    let mut next_id = offset;
    let mut ids: Vec<usize> = vec![0; piece.regions.len()];
    for (pid, m) in map.iter().enumerate() {
        ids[pid] = match m {
            Some(t) => *t,
            None => {
                let id = next_id;
                next_id += 1;
                id
            }
        };
    }
    let mut new_regions: Vec<(usize, Region)> = piece
        .regions
        .into_iter()
        .enumerate()
        .filter(|(pid, _)| map[*pid].is_none())
        .map(|(pid, r)| (ids[pid], r))
        .collect();
    new_regions.sort_by_key(|(id, _)| *id);
    table.regions.extend(new_regions.into_iter().map(|(_, r)| r));
    for (i, row) in piece.rows.into_iter().enumerate() {
        if i == 0 && drop_first {
            continue;
        }
        table.rows.push(PRow {
            cells: row.cells.iter().map(|&pid| ids[pid]).collect(),
            page: row.page,
            bbox: row.bbox,
        });
    }
    None
}

/// Build the final table grid from a (joined) piece; `rotation` gives each
/// page's quarter turns, to map boxes back to the page's own coordinates.
fn finish_table(p: Piece, index: u32, rotation: &HashMap<u32, u8>) -> Table {
    let turn = |page: u32, b: BBox| rotate::unturn_bbox(rotation.get(&page).copied().unwrap_or(0), b);
    let nr = p.rows.len();
    let nc = p.ncols();
    let mut first: HashMap<usize, (usize, usize)> = HashMap::new();
    let mut extent: HashMap<usize, (usize, usize)> = HashMap::new();
    for (r, row) in p.rows.iter().enumerate() {
        for (c, &id) in row.cells.iter().enumerate() {
            first.entry(id).or_insert((r, c));
            let e = extent.entry(id).or_insert((r, c));
            e.0 = e.0.max(r);
            e.1 = e.1.max(c);
        }
    }
    let mut rows = Vec::with_capacity(nr);
    for (r, prow) in p.rows.iter().enumerate() {
        let mut cells = Vec::with_capacity(nc);
        for (c, &id) in prow.cells.iter().enumerate() {
            let origin = first[&id];
            if origin != (r, c) {
                let mut cell = Cell::empty();
                cell.merged_into = Some((origin.0 as u32, origin.1 as u32));
                cells.push(cell);
                continue;
            }
            let region = &p.regions[id];
            let (text, spans) = text_and_spans(&region.lines);
            let end = extent[&id];
            cells.push(Cell {
                text,
                spans,
                row_span: (end.0 - r + 1) as u32,
                col_span: (end.1 - c + 1) as u32,
                merged_into: None,
                bold: !region.lines.is_empty() && region.lines.iter().all(|l| l.bold),
                page: Some(region.page),
                bbox: Some(turn(region.page, region.bbox)),
            });
        }
        rows.push(Row {
            cells,
            header: r < p.header_rows,
            page: Some(prow.page),
            bbox: Some(turn(prow.page, prow.bbox)),
        });
    }
    Table { index, rows, ncols: nc, page: Some(p.page), bbox: Some(turn(p.page, p.bbox)), source: p.source }
}

fn assemble(laid: Vec<LaidPage>, page_count: u32, meta_title: Option<String>, warnings: Vec<String>) -> LayoutDoc {
    let rotation: HashMap<u32, u8> = laid.iter().map(|p| (p.number, p.rotation)).collect();
    let furn = furniture(&laid);

    let mut blocks: Vec<Block> = Vec::new();
    let mut open: Option<Piece> = None;
    let mut para_index = 0u32;
    let mut table_index = 0u32;
    let flush =
        |open: &mut Option<Piece>, blocks: &mut Vec<Block>, table_index: &mut u32, rotation: &HashMap<u32, u8>| {
            if let Some(t) = open.take() {
                blocks.push(Block::Table(finish_table(t, *table_index, rotation)));
                *table_index += 1;
            }
        };
    for (page, furn) in laid.into_iter().zip(furn) {
        let free: Vec<Line> = page.lines.into_iter().zip(furn).filter(|(_, f)| !f).map(|(l, _)| l).collect();
        let page_blocks = page_blocks(free, page.pieces);
        for (i, (_, block)) in page_blocks.into_iter().enumerate() {
            match block {
                PageBlock::Table(piece) => {
                    // Only a table that opens a page can continue the table
                    // that closed the previous one.
                    let can_join = i == 0
                        && open.as_ref().is_some_and(|t| {
                            columns_align(t, &piece) && t.rows.last().is_some_and(|r| r.page + 1 == page.number)
                        });
                    if can_join {
                        if let Some(table) = open.as_mut() {
                            if let Some(new_table) = join(table, piece) {
                                flush(&mut open, &mut blocks, &mut table_index, &rotation);
                                open = Some(new_table);
                            }
                        }
                    } else {
                        flush(&mut open, &mut blocks, &mut table_index, &rotation);
                        open = Some(piece);
                    }
                }
                PageBlock::Para(lines) => {
                    flush(&mut open, &mut blocks, &mut table_index, &rotation);
                    let (text, spans) = text_and_spans(&lines);
                    let size = lines.iter().map(|l| l.size).fold(0.0, f64::max);
                    let bbox = [
                        lines.iter().map(|l| l.x0).fold(f64::MAX, f64::min),
                        lines.iter().map(|l| l.bottom).fold(f64::MAX, f64::min),
                        lines.iter().map(|l| l.x1).fold(f64::MIN, f64::max),
                        lines.iter().map(|l| l.top).fold(f64::MIN, f64::max),
                    ];
                    blocks.push(Block::Paragraph(Paragraph {
                        index: para_index,
                        text,
                        spans,
                        style: (size >= 13.0).then(|| "heading".to_string()),
                        numbering: None,
                        bold: lines.iter().all(|l| l.bold),
                        page: Some(page.number),
                        bbox: Some(rotate::unturn_bbox(page.rotation, bbox)),
                    }));
                    para_index += 1;
                }
            }
        }
    }
    flush(&mut open, &mut blocks, &mut table_index, &rotation);
    LayoutDoc { format: Format::Pdf, pages: Some(page_count), blocks, meta_title, warnings }
}
