//! Scorecard keys (legends): rows of "symbol, then what it means".
//!
//! A key is found in two shapes:
//!
//! * a table whose rows are a symbol cell (a character in a symbol font, a
//!   Private Use Area character, or — for a lost glyph — nothing) and a
//!   definition cell, usually under a header such as "Direction of travel |
//!   Definition";
//! * a run of paragraphs that each start with a symbol followed by its label,
//!   under a title paragraph such as "Overall status (relevant to target)".
//!
//! Each table or run is one key, so two keys of one document stay apart even
//! when they reuse a glyph. A status-definition table whose first column is
//! status *words* ("Known delays | Action has some risk…") is a milestone
//! status key. What a key's kind is comes from its title (rules/keys.toml);
//! meanings of labels are decided in the normalise stage.

use super::{find_symbol, milestones, row_provenance, Parsed, RawKey, RawKeyEntry, StoredSymbol};
use crate::layout::{join_lines, Block, LayoutDoc, Paragraph, Table};
use crate::model::{KeyKind, Provenance};
use crate::rules::Rules;

/// The distinct cells of a row, left to right (merged positions once).
fn row_cells(t: &Table, r: usize) -> Vec<&crate::layout::Cell> {
    (0..t.ncols).filter_map(|c| t.cell(r, c)).filter(|c| !c.is_continuation()).collect()
}

fn title_kind(text: &str, rules: &Rules) -> Option<KeyKind> {
    rules.keys.titles.longest_within(text)
}

/// A key read from a two-column table.
fn table_key(t: &Table, doc: &LayoutDoc, before: Option<&str>, rules: &Rules) -> Option<RawKey> {
    if t.ncols < 2 || t.rows.len() < 2 {
        return None;
    }
    // A header row: no symbol in its first cell, a title-like text.
    let first = row_cells(t, 0);
    let header =
        first.len() == 2 && find_symbol(&first[0].spans, rules).is_none() && !first[0].joined().is_empty() && {
            let second = first[1].joined();
            second.chars().count() < 40 && first[0].joined().chars().count() < 60
        };
    let body_start = usize::from(header);
    let mut entries = Vec::new();
    let mut symbols = 0;
    let mut words = 0;
    for r in body_start..t.rows.len() {
        let cells = row_cells(t, r);
        if cells.len() != 2 {
            return None;
        }
        let label = join_lines(&cells[1].text);
        if label.is_empty() {
            return None;
        }
        let symbol = find_symbol(&cells[0].spans, rules);
        let first_text = cells[0].joined();
        let symbol = match symbol {
            Some(s) => {
                symbols += 1;
                Some(s)
            }
            None if first_text.is_empty() => None,
            None => {
                // A word where a symbol would be: a status word defined in
                // the second column.
                words += 1;
                Some(StoredSymbol { text: first_text, font: None })
            }
        };
        entries.push(RawKeyEntry { symbol, label, provenance: row_provenance(doc.format, t.index, r, &t.rows[r]) });
    }
    let title = if header { Some(first[0].joined()) } else { before.map(String::from) };
    let kind = title.as_deref().and_then(|t| title_kind(t, rules));
    let is_word_key = words > 0 && symbols == 0;
    if is_word_key {
        // Status words and their definitions: only if the words are statuses.
        let all_status = entries
            .iter()
            .all(|e| e.symbol.as_ref().is_some_and(|s| rules.statuses.milestone.exact(&s.text).is_some()));
        if !all_status || entries.len() < 2 {
            return None;
        }
        return Some(RawKey { title, kind: Some(KeyKind::MilestoneStatus), entries });
    }
    // A symbol key: most rows carry a symbol, none carries a word.
    if words > 0 || symbols == 0 || symbols * 2 < entries.len() {
        return None;
    }
    Some(RawKey { title, kind, entries })
}

/// The symbol a paragraph starts with, and the label after it.
fn leading_symbol(p: &Paragraph, rules: &Rules) -> Option<(StoredSymbol, String)> {
    let first = p.spans.iter().find(|s| !s.text.trim().is_empty())?;
    let sym = find_symbol(std::slice::from_ref(first), rules)?;
    let lead = first.text.trim_start();
    // The symbol must open the paragraph and be short (one or two glyphs).
    if !lead.starts_with(sym.text.as_str()) || sym.text.chars().count() > 2 {
        return None;
    }
    let full = join_lines(&p.text);
    let rest = full.trim_start().strip_prefix(sym.text.as_str())?.trim().to_string();
    if rest.is_empty() {
        return None;
    }
    Some((sym, rest))
}

/// Find every key in a document.
pub fn parse(doc: &LayoutDoc, rules: &Rules, out: &mut Parsed) {
    let mut last_para: Option<String> = None;
    let mut run: Option<RawKey> = None;
    let flush = |run: &mut Option<RawKey>, out: &mut Parsed| {
        if let Some(k) = run.take() {
            if k.entries.len() >= 2 {
                out.keys.push(k);
            }
        }
    };
    for block in &doc.blocks {
        match block {
            Block::Table(t) => {
                flush(&mut run, out);
                let is_data_table =
                    milestones::column_map(t, rules).is_some() || super::measures::column_map(t, rules).is_some();
                if !is_data_table {
                    if let Some(k) = table_key(t, doc, last_para.as_deref(), rules) {
                        out.keys.push(k);
                    }
                }
                last_para = None;
            }
            Block::Paragraph(p) => {
                let text = join_lines(&p.text);
                if let Some((symbol, label)) = leading_symbol(p, rules) {
                    let entry = RawKeyEntry {
                        symbol: Some(symbol),
                        label,
                        provenance: Provenance::Paragraph { paragraph: p.index, page: p.page },
                    };
                    match run.as_mut() {
                        Some(k) => k.entries.push(entry),
                        None => {
                            let kind = last_para.as_deref().and_then(|t| title_kind(t, rules));
                            run = Some(RawKey { title: last_para.clone(), kind, entries: vec![entry] });
                        }
                    }
                    continue;
                }
                // A paragraph without a symbol inside a key whose label reads
                // like a definition: a key row whose glyph was lost.
                if let Some(k) = run.as_mut() {
                    let kind = k.kind.unwrap_or(KeyKind::MeasureStatus);
                    if rules.keys.label_canonical(kind, &text).is_some()
                        && text.chars().count() < 200
                        && title_kind(&text, rules).is_none()
                    {
                        k.entries.push(RawKeyEntry {
                            symbol: None,
                            label: text.clone(),
                            provenance: Provenance::Paragraph { paragraph: p.index, page: p.page },
                        });
                        continue;
                    }
                }
                flush(&mut run, out);
                if !text.is_empty() {
                    last_para = Some(text);
                }
            }
        }
    }
    flush(&mut run, out);
}
