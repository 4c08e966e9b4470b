//! Layout: a document's bytes → pages, paragraphs, tables and cells, with
//! provenance.
//!
//! Both formats land in one model ([`LayoutDoc`]) so that no later stage
//! cares where a table came from: a PDF table rebuilt from drawn rules and
//! glyph positions and a DOCX table read from its XML give the same grid.
//! Merged cells are resolved to a rectangular grid in which every position
//! exists and continuation positions point at their origin cell; header rows
//! that a PDF repeats on every page are dropped; rows broken across a page
//! are joined.

pub mod docx;
pub mod pdf;

use serde::Serialize;

use crate::model::Format;

/// Why a document's layout could not be read. Each variant maps to a
/// `DocumentError` kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayoutError {
    #[error("{0}")]
    Corrupt(String),
    #[error("{0}")]
    Encrypted(String),
    #[error("{0}")]
    NoTextLayer(String),
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    Unsupported(String),
    #[error("{0}")]
    Crash(String),
}

/// Limits that protect a run from hostile or broken files.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Most entries a DOCX zip may have.
    pub zip_entries: usize,
    /// Most bytes one DOCX part, or one PDF stream, may inflate to.
    pub part_bytes: u64,
    /// Most bytes all DOCX parts read may inflate to together.
    pub total_inflated: u64,
    /// Most pages a PDF may have.
    pub pdf_pages: u32,
    /// Most indirect objects a PDF may have.
    pub pdf_objects: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            zip_entries: 10_000,
            part_bytes: 256 << 20,
            total_inflated: 512 << 20,
            pdf_pages: 5_000,
            pdf_objects: 2_000_000,
        }
    }
}

/// A rectangle in PDF points, origin bottom-left: `[x0, y0, x1, y1]`.
pub type BBox = [f64; 4];

/// A run of text set in one font.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Span {
    pub text: String,
    /// Font family (DOCX `w:rFonts`/`w:sym` font; PDF BaseFont without subset
    /// prefix), when known.
    pub font: Option<String>,
}

/// A paragraph of body text (outside tables).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Paragraph {
    /// Ordinal among the document's paragraphs (0-based).
    pub index: u32,
    /// Lines of the paragraph joined with `\n` (DOCX: one line).
    pub text: String,
    pub spans: Vec<Span>,
    /// DOCX style id, or `heading` for PDF lines set markedly larger than body text.
    pub style: Option<String>,
    /// The paragraph's number or bullet as printed ("2.1", "•").
    pub numbering: Option<String>,
    /// Whole paragraph bold.
    pub bold: bool,
    pub page: Option<u32>,
    pub bbox: Option<BBox>,
}

/// One position of a table's grid.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cell {
    /// Lines (PDF) or paragraphs (DOCX) joined with `\n`. Empty for
    /// continuation positions.
    pub text: String,
    pub spans: Vec<Span>,
    pub row_span: u32,
    pub col_span: u32,
    /// For a position covered by a merged cell: the (row, column) of the
    /// cell that covers it.
    pub merged_into: Option<(u32, u32)>,
    /// Whole cell bold.
    pub bold: bool,
    pub page: Option<u32>,
    pub bbox: Option<BBox>,
}

impl Cell {
    pub fn empty() -> Cell {
        Cell {
            text: String::new(),
            spans: Vec::new(),
            row_span: 1,
            col_span: 1,
            merged_into: None,
            bold: false,
            page: None,
            bbox: None,
        }
    }

    /// Whether this position is covered by another cell.
    pub fn is_continuation(&self) -> bool {
        self.merged_into.is_some()
    }

    /// The text on one line, line breaks and hyphenation repaired.
    pub fn joined(&self) -> String {
        join_lines(&self.text)
    }
}

/// A row of a table's grid.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub cells: Vec<Cell>,
    /// Marked as a header row (DOCX `w:tblHeader`; PDF rows repeated at the
    /// top of every page).
    pub header: bool,
    /// First page the row is on (PDF).
    pub page: Option<u32>,
    pub bbox: Option<BBox>,
}

/// A table as a rectangular grid.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    /// Ordinal among the document's tables (0-based).
    pub index: u32,
    pub rows: Vec<Row>,
    pub ncols: usize,
    /// First page (PDF).
    pub page: Option<u32>,
    pub bbox: Option<BBox>,
    /// How the grid was found: `docx`, `ruled` or `aligned`.
    pub source: &'static str,
}

impl Table {
    pub fn cell(&self, row: usize, col: usize) -> Option<&Cell> {
        self.rows.get(row)?.cells.get(col)
    }

    /// The cell that covers a position (itself, or its merge origin).
    pub fn origin(&self, row: usize, col: usize) -> Option<&Cell> {
        let c = self.cell(row, col)?;
        match c.merged_into {
            Some((r, c)) => self.cell(r as usize, c as usize),
            None => Some(c),
        }
    }
}

/// A block of the body, in reading order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Block {
    Paragraph(Paragraph),
    Table(Table),
}

/// One document's layout.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayoutDoc {
    pub format: Format,
    /// Page count (PDF).
    pub pages: Option<u32>,
    pub blocks: Vec<Block>,
    /// Title from the document's metadata, when set.
    pub meta_title: Option<String>,
    pub warnings: Vec<String>,
}

impl LayoutDoc {
    pub fn tables(&self) -> impl Iterator<Item = &Table> {
        self.blocks.iter().filter_map(|b| match b {
            Block::Table(t) => Some(t),
            Block::Paragraph(_) => None,
        })
    }

    pub fn paragraphs(&self) -> impl Iterator<Item = &Paragraph> {
        self.blocks.iter().filter_map(|b| match b {
            Block::Paragraph(p) => Some(p),
            Block::Table(_) => None,
        })
    }

    /// Every piece of text in reading order, for classification and
    /// document-level patterns.
    pub fn full_text(&self) -> String {
        let mut out = String::new();
        for b in &self.blocks {
            match b {
                Block::Paragraph(p) => {
                    out.push_str(&p.text);
                    out.push('\n');
                }
                Block::Table(t) => {
                    for r in &t.rows {
                        for c in r.cells.iter().filter(|c| !c.is_continuation()) {
                            out.push_str(&c.text);
                            out.push('\t');
                        }
                        out.push('\n');
                    }
                }
            }
        }
        out
    }
}

/// Join the lines of a cell or paragraph into one line.
///
/// A line that ends in a hyphen, slash or dash directly after a letter or
/// digit was broken there ("face-to-" / "face", "Completed/" / "Ongoing",
/// "8–" / "15 October"), so the mark stays and no space is added; every
/// other line break becomes one space ("June –" / "November" keeps its). Runs of
/// whitespace fold to one space.
pub fn join_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split('\n') {
        let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
        if line.is_empty() {
            continue;
        }
        if !out.is_empty() {
            let mut tail = out.chars().rev();
            let last = tail.next();
            let before = tail.next();
            // Word processors break lines after a hyphen or a slash inside a
            // word ("face-to-" / "face", "Completed/" / "Ongoing").
            let hyphen_break = matches!(last, Some('-') | Some('\u{2010}') | Some('/') | Some('–'))
                && before.is_some_and(|c| c.is_alphanumeric());
            if !hyphen_break {
                out.push(' ');
            }
        }
        out.push_str(&line);
    }
    out
}

/// Fold whitespace: what two renderings of the same text agree on.
pub fn fold_ws(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_lines_repairs_hyphenated_breaks() {
        assert_eq!(join_lines("provide face-to-\nface support"), "provide face-to-face support");
        assert_eq!(join_lines("June –\nNovember\n2021"), "June – November 2021");
        assert_eq!(join_lines("the target\n\n  of 95%"), "the target of 95%");
        assert_eq!(join_lines("2021 -\n2022"), "2021 - 2022");
        assert_eq!(join_lines("Completed/\nOngoing"), "Completed/Ongoing");
        assert_eq!(join_lines("(8–\n15 October)"), "(8–15 October)");
    }
}
