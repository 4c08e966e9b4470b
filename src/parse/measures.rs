//! Performance scorecards: tables of measures → measure rows as printed.
//!
//! A scorecard is recognised by its header row (column roles from
//! `rules/columns.toml`: a reference or measure column plus a value or status
//! column). A row that is one cell across the table is a group banner (a
//! theme or priority); every other row with a reference or a title is a
//! measure. Status and direction cells keep their symbol (character and
//! font) for the normalise stage to decode through the document's own key.

use std::collections::BTreeMap;

use super::{find_symbol, milestones, row_provenance, unbroken, Parsed, RawMeasure};
use crate::layout::{join_lines, LayoutDoc, Table};
use crate::model::MeasureSource;
use crate::rules::{normalise, MeasureColumn, Rules};

/// Column roles of a scorecard table.
#[derive(Debug, Clone)]
pub struct ColumnMap {
    pub header_row: usize,
    pub roles: Vec<Option<MeasureColumn>>,
    pub headers: Vec<String>,
}

impl ColumnMap {
    pub fn col(&self, role: MeasureColumn) -> Option<usize> {
        self.roles.iter().position(|r| *r == Some(role))
    }
}

/// Find the header row of a scorecard and the role of each column.
pub fn column_map(t: &Table, rules: &Rules) -> Option<ColumnMap> {
    if milestones::column_map(t, rules).is_some() {
        return None;
    }
    for ri in 0..t.rows.len().min(4) {
        let mut roles = vec![None; t.ncols];
        let mut headers = vec![String::new(); t.ncols];
        for c in 0..t.ncols {
            let Some(cell) = t.origin(ri, c) else { continue };
            if t.cell(ri, c)
                .is_some_and(|x| x.is_continuation() && x.merged_into.is_some_and(|(_, oc)| oc as usize != c))
            {
                continue;
            }
            let text = cell.joined();
            if text.is_empty() || text.chars().count() > 50 {
                continue;
            }
            headers[c] = text.clone();
            // A narrow header cell may break a word without a hyphen
            // ("Good performa" / "nce is"): try the lines run together too.
            let role = rules.columns.measure_role(&text).or_else(|| rules.columns.measure_role(&unbroken(&cell.text)));
            if role.is_some() && !roles.contains(&role) {
                roles[c] = role;
            }
        }
        let has = |r| roles.contains(&Some(r));
        let n = roles.iter().flatten().count();
        if (has(MeasureColumn::Ref) || has(MeasureColumn::Title))
            && (has(MeasureColumn::Value) || has(MeasureColumn::Status))
            && n >= 3
        {
            return Some(ColumnMap { header_row: ri, roles, headers });
        }
    }
    None
}

/// Parse every scorecard table of a document.
pub fn parse(doc: &LayoutDoc, rules: &Rules, out: &mut Parsed) {
    for t in doc.tables() {
        let Some(map) = column_map(t, rules) else { continue };
        let header_texts: Vec<String> =
            (0..t.ncols).map(|c| t.origin(map.header_row, c).map(|x| x.joined()).unwrap_or_default()).collect();
        let mut group: Option<String> = None;
        for ri in map.header_row + 1..t.rows.len() {
            let texts: Vec<String> = (0..t.ncols)
                .map(|c| match t.cell(ri, c) {
                    Some(cell) if !cell.is_continuation() => cell.joined(),
                    _ => String::new(),
                })
                .collect();
            if texts == header_texts {
                continue;
            }
            let origins: Vec<(u32, u32)> = (0..t.ncols)
                .filter_map(|c| t.cell(ri, c).map(|x| x.merged_into.unwrap_or((ri as u32, c as u32))))
                .collect();
            if origins.windows(2).all(|w| w[0] == w[1]) {
                let text = t.origin(ri, 0).map(|c| c.joined()).unwrap_or_default();
                if !text.is_empty() {
                    group = Some(text);
                }
                continue;
            }
            let get = |role| map.col(role).map(|c| texts[c].clone()).filter(|s: &String| !s.is_empty());
            let r#ref = get(MeasureColumn::Ref);
            let mut title = get(MeasureColumn::Title);
            if r#ref.is_none() && title.is_none() {
                continue;
            }
            let priority_measure = title.as_deref().is_some_and(|t| {
                let n = normalise(t);
                rules.measures.priority_measure.iter().any(|p| format!(" {n} ").contains(&format!(" {p} ")))
            });
            if priority_measure {
                title = title.map(|t| strip_marker(&t, rules));
            }
            let symbol_at = |role| {
                map.col(role).and_then(|c| t.cell(ri, c)).filter(|c| !c.is_continuation()).map(|c| {
                    let sym = find_symbol(&c.spans, rules);
                    let text = join_lines(&c.text);
                    let text = if sym.is_some() || text.is_empty() { None } else { Some(text) };
                    (sym, text)
                })
            };
            let (status, status_text) = symbol_at(MeasureColumn::Status).unwrap_or((None, None));
            let (direction, direction_text) = symbol_at(MeasureColumn::Direction).unwrap_or((None, None));
            let mut extra = BTreeMap::new();
            for c in 0..t.ncols {
                if map.roles[c].is_none() && !map.headers[c].is_empty() && !texts[c].is_empty() {
                    extra.insert(map.headers[c].clone(), texts[c].clone());
                }
            }
            out.measures.push(RawMeasure {
                r#ref,
                title,
                good_is: get(MeasureColumn::GoodIs),
                frequency: get(MeasureColumn::Frequency),
                target: get(MeasureColumn::Target),
                value: get(MeasureColumn::Value),
                status,
                status_text,
                direction,
                direction_text,
                priority_measure,
                group: group.clone(),
                source: MeasureSource::Scorecard,
                extra,
                provenance: row_provenance(doc.format, t.index, ri, &t.rows[ri]),
            });
        }
    }
}

/// The title without its "(Priority measure)" marker.
fn strip_marker(title: &str, rules: &Rules) -> String {
    rules.measures.priority_marker.replace_all(title, "").trim().to_string()
}
