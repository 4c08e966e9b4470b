//! Parse: tables and paragraphs → records as printed.
//!
//! This stage decides *structure*: which table is a milestone tracker and
//! which column is which, where a row sits in the theme → outcome → activity
//! hierarchy, which rows form a scorecard key, which cells hold a measure's
//! status symbol. It keeps every value as printed; turning printed values
//! into canonical ones is the normalise stage's job.

pub mod keys;
pub mod measures;
pub mod milestones;
pub mod narrative;

use std::collections::BTreeMap;

use crate::classify::Classification;
use crate::layout::{LayoutDoc, Row, Span};
use crate::model::{Format, KeyKind, MeasureSource, Provenance, Section};
use crate::rules::Rules;

/// A milestone row as printed, with its place in the hierarchy resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct RawMilestone {
    pub section: Section,
    pub theme: Option<String>,
    pub outcome: Option<String>,
    pub activity: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub status: Option<String>,
    pub rationale: Option<String>,
    pub r#ref: Option<String>,
    pub lead: Option<String>,
    pub extra: BTreeMap<String, String>,
    pub provenance: Provenance,
}

/// A symbol as stored: the character(s) and the font they are set in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSymbol {
    pub text: String,
    pub font: Option<String>,
}

/// A measure as printed.
#[derive(Debug, Clone, PartialEq)]
pub struct RawMeasure {
    pub r#ref: Option<String>,
    pub title: Option<String>,
    pub good_is: Option<String>,
    pub frequency: Option<String>,
    pub target: Option<String>,
    pub value: Option<String>,
    /// Status cell: its symbol (if any) and its text.
    pub status: Option<StoredSymbol>,
    pub status_text: Option<String>,
    pub direction: Option<StoredSymbol>,
    pub direction_text: Option<String>,
    pub priority_measure: bool,
    /// Banner row the measure sits under (theme / priority / outcome).
    pub group: Option<String>,
    pub source: MeasureSource,
    pub extra: BTreeMap<String, String>,
    pub provenance: Provenance,
}

/// One line of a key as printed.
#[derive(Debug, Clone, PartialEq)]
pub struct RawKeyEntry {
    pub symbol: Option<StoredSymbol>,
    pub label: String,
    pub provenance: Provenance,
}

/// A key (legend) as printed: its title and its entries.
#[derive(Debug, Clone, PartialEq)]
pub struct RawKey {
    pub title: Option<String>,
    /// Kind from the title's wording, when the title says.
    pub kind: Option<KeyKind>,
    pub entries: Vec<RawKeyEntry>,
}

/// Everything the parse stage found in one document.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    pub milestones: Vec<RawMilestone>,
    pub measures: Vec<RawMeasure>,
    pub keys: Vec<RawKey>,
    pub warnings: Vec<String>,
}

/// Parse one document.
pub fn parse(doc: &LayoutDoc, class: &Classification, rules: &Rules) -> Parsed {
    let mut parsed = Parsed::default();
    milestones::parse(doc, rules, &mut parsed);
    keys::parse(doc, rules, &mut parsed);
    measures::parse(doc, rules, &mut parsed);
    narrative::parse(doc, class, rules, &mut parsed);
    parsed
}

/// Where a table row came from, in the form the dataset reports.
pub fn row_provenance(format: Format, table: u32, row_index: usize, row: &Row) -> Provenance {
    match (format, row.page, row.bbox) {
        (Format::Pdf, Some(page), Some(bbox)) => Provenance::Pdf { page, bbox: round_bbox(bbox) },
        (Format::Pdf, Some(page), None) => Provenance::Pdf { page, bbox: [0.0; 4] },
        _ => Provenance::Docx { table, row: row_index as u32 },
    }
}

/// Bounding boxes to a tenth of a point: finer is noise, and it keeps the
/// output stable.
pub fn round_bbox(b: [f64; 4]) -> [f64; 4] {
    b.map(|v| (v * 10.0).round() / 10.0)
}

/// The symbol in a run of spans: the first span set in a symbol font, or a
/// Private Use Area character (how many PDFs store symbol glyphs), or a
/// single character that is not a letter or digit (✓, ↑, ●).
pub fn find_symbol(spans: &[Span], rules: &Rules) -> Option<StoredSymbol> {
    for span in spans {
        let text = span.text.trim();
        if text.is_empty() {
            continue;
        }
        let in_symbol_font = span.font.as_deref().is_some_and(|f| rules.symbols.is_symbol_font(f));
        let pua = text.chars().any(|c| ('\u{F020}'..='\u{F0FF}').contains(&c));
        if in_symbol_font || pua {
            let font = span.font.as_deref().map(|f| rules.symbols.canonical_font(f).unwrap_or(f).to_string());
            return Some(StoredSymbol { text: text.to_string(), font });
        }
    }
    let all: String = spans.iter().map(|s| s.text.as_str()).collect::<String>();
    let trimmed = all.trim();
    let mut chars = trimmed.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if !c.is_alphanumeric() && !c.is_ascii_punctuation() => {
            Some(StoredSymbol { text: c.to_string(), font: spans.first().and_then(|s| s.font.clone()) })
        }
        _ => None,
    }
}

/// Header text with its line breaks removed: words a narrow column broke
/// without a hyphen joined again ("performa" + "nce is").
pub fn unbroken(text: &str) -> String {
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    lines.concat()
}
