//! `plantrace inspect FILE`: what was seen in one document — the archivist's
//! debugging view. Plain text for people, `--json` for tools (the table
//! benchmark reads it).

use std::fmt::Write as _;

use serde::Serialize;

use crate::layout::{BBox, Block, LayoutDoc, Table};
use crate::pipeline::Inspection;
use crate::rules::Rules;

/// One cell in the `--json` view.
#[derive(Debug, Serialize)]
pub struct JsonCell {
    pub text: String,
    pub row: usize,
    pub col: usize,
    pub row_span: u32,
    pub col_span: u32,
    pub bbox: Option<BBox>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fonts: Vec<String>,
}

/// One table in the `--json` view.
#[derive(Debug, Serialize)]
pub struct JsonTable {
    pub index: u32,
    pub page: Option<u32>,
    pub bbox: Option<BBox>,
    pub source: &'static str,
    pub rows: Vec<Vec<JsonCell>>,
}

fn json_table(t: &Table) -> JsonTable {
    let rows = t
        .rows
        .iter()
        .enumerate()
        .map(|(ri, r)| {
            r.cells
                .iter()
                .enumerate()
                .filter(|(_, c)| !c.is_continuation())
                .map(|(ci, c)| {
                    let mut fonts: Vec<String> = c.spans.iter().filter_map(|s| s.font.clone()).collect();
                    fonts.dedup();
                    JsonCell {
                        text: c.joined(),
                        row: ri,
                        col: ci,
                        row_span: c.row_span,
                        col_span: c.col_span,
                        bbox: c.bbox,
                        fonts,
                    }
                })
                .collect()
        })
        .collect();
    JsonTable { index: t.index, page: t.page, bbox: t.bbox, source: t.source, rows }
}

/// The `--json` view: every table of the layout.
pub fn tables_json(layout: &LayoutDoc) -> serde_json::Value {
    let tables: Vec<JsonTable> = layout.tables().map(json_table).collect();
    serde_json::json!({ "pages": layout.pages, "tables": tables, "warnings": layout.warnings })
}

fn cell_preview(text: &str, width: usize) -> String {
    let one: String = crate::layout::join_lines(text);
    let mut s: String = one.chars().take(width).collect();
    if one.chars().count() > width {
        s.pop();
        s.push('…');
    }
    s
}

/// The plain-text view.
pub fn render(ins: &Inspection, rules: &Rules) -> String {
    let mut s = String::new();
    let d = &ins.result.document;
    let _ = writeln!(s, "{} ({}, {} pages)", d.path, d.format.as_str(), d.pages.map_or("?".into(), |p| p.to_string()));
    let _ = writeln!(s, "kind: {:?}   title: {}", d.kind, d.title.as_deref().unwrap_or("-"));
    let _ = writeln!(
        s,
        "plan year: {}   as of: {}   period: {}",
        d.plan_year.as_deref().unwrap_or("-"),
        d.as_of.as_deref().unwrap_or("-"),
        d.period.as_deref().unwrap_or("-")
    );
    let scores: Vec<String> =
        ins.class.scores.iter().filter(|(_, v)| *v > 0.0).map(|(k, v)| format!("{k:?} {v:.1}")).collect();
    let _ = writeln!(s, "kind scores: {}", scores.join(", "));
    for b in &ins.layout.blocks {
        match b {
            Block::Paragraph(p) => {
                let num = p.numbering.as_deref().map(|n| format!("{n} ")).unwrap_or_default();
                let page = p.page.map(|p| format!("p{p} ")).unwrap_or_default();
                let _ = writeln!(s, "¶ {page}{num}{}", cell_preview(&p.text, 110));
            }
            Block::Table(t) => {
                let _ = writeln!(
                    s,
                    "\n▦ table {} ({} rows × {} cols, {}{})",
                    t.index + 1,
                    t.rows.len(),
                    t.ncols,
                    t.source,
                    t.page.map(|p| format!(", page {p}")).unwrap_or_default()
                );
                for (ri, r) in t.rows.iter().enumerate() {
                    let cells: Vec<String> = r
                        .cells
                        .iter()
                        .map(|c| {
                            if c.is_continuation() {
                                "〃".to_string()
                            } else {
                                let mut txt = cell_preview(&c.text, 28);
                                let sym: Vec<String> = c
                                    .spans
                                    .iter()
                                    .filter(|sp| sp.font.as_deref().is_some_and(|f| rules.symbols.is_symbol_font(f)))
                                    .map(|sp| format!("[{} {:?}]", sp.font.as_deref().unwrap_or(""), sp.text))
                                    .collect();
                                if !sym.is_empty() {
                                    txt = format!("{txt} {}", sym.join(" "));
                                }
                                if c.col_span > 1 || c.row_span > 1 {
                                    txt = format!("{txt} ⟨{}×{}⟩", c.row_span, c.col_span);
                                }
                                txt
                            }
                        })
                        .collect();
                    let h = if r.header { "H" } else { " " };
                    let page = r.page.map(|p| format!("p{p}")).unwrap_or_default();
                    let _ = writeln!(s, "  {h}{ri:>3} {page:>4} │ {}", cells.join(" │ "));
                }
                let _ = writeln!(s);
            }
        }
    }
    let r = &ins.result;
    let _ = writeln!(
        s,
        "\nrecords: {} milestones, {} measures, {} key entries",
        r.milestones.len(),
        r.measures.len(),
        r.keys.len()
    );
    for k in &r.keys {
        let sym = k.symbol.as_ref().map_or("(blank)".to_string(), |y| {
            format!("{:?} {} → {}", y.text, y.font.as_deref().unwrap_or("?"), y.unicode.as_deref().unwrap_or("?"))
        });
        let _ = writeln!(
            s,
            "  key {} {:?}: {sym} = {:?} ({})",
            k.key,
            k.kind,
            k.label,
            k.canonical.as_deref().unwrap_or("?")
        );
    }
    if !d.warnings.is_empty() {
        let _ = writeln!(s, "\nwarnings:");
        for w in &d.warnings {
            let _ = writeln!(s, "  - {w}");
        }
    }
    s
}
