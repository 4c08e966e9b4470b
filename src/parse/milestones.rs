//! Milestone trackers: tables → milestone rows in their hierarchy.
//!
//! A tracker table is recognised by its header row (column roles from
//! `rules/columns.toml`: an action column plus target/status columns).
//! Rows are then read in order, keeping the hierarchy a reader sees:
//!
//! * a row that is one cell across the whole table is a banner: a theme
//!   (`rules/themes.toml`), a carried-over section heading
//!   (`rules/document.toml`), or — in trackers without an outcome column —
//!   an outcome;
//! * a row whose cells right of the outcome column are one cell is an
//!   activity group heading;
//! * a row with an action is a milestone, under the outcome cell that covers
//!   it (merged cells resolved by the layout stage);
//! * a row with no action but other text continues the milestone above (a
//!   row broken across a page that the layout stage could not join).
//!
//! Headings in paragraphs between tables (a theme title, "Outstanding
//! actions from original plan") set the same context.

use std::collections::BTreeMap;

use super::{row_provenance, unbroken, Parsed, RawMilestone};
use crate::layout::{join_lines, Block, LayoutDoc, Table};
use crate::model::Section;
use crate::rules::{normalise, MilestoneColumn, Rules};

/// Column roles of a tracker table.
#[derive(Debug, Clone)]
pub struct ColumnMap {
    /// Row index of the header row.
    pub header_row: usize,
    /// Role of each grid column (None for columns no rule names).
    pub roles: Vec<Option<MilestoneColumn>>,
    /// Header text of each grid column.
    pub headers: Vec<String>,
}

impl ColumnMap {
    /// First grid column with `role`.
    pub fn col(&self, role: MilestoneColumn) -> Option<usize> {
        self.roles.iter().position(|r| *r == Some(role))
    }
}

/// Find the header row of a tracker table and the role of each column.
pub fn column_map(table: &Table, rules: &Rules) -> Option<ColumnMap> {
    for (ri, row) in table.rows.iter().enumerate().take(6) {
        let mut roles = vec![None; table.ncols];
        let mut headers = vec![String::new(); table.ncols];
        for c in 0..table.ncols {
            let Some(cell) = table.origin(ri, c) else { continue };
            let text = cell.joined();
            if text.is_empty() || text.chars().count() > 60 {
                continue;
            }
            headers[c] = text.clone();
            // A narrow header cell may break a word without a hyphen
            // ("Good performa" / "nce is"): try the lines run together too.
            let role =
                rules.columns.milestone_role(&text).or_else(|| rules.columns.milestone_role(&unbroken(&cell.text)));
            // A role is taken by its first column only; a header cell spanning
            // two grid columns names the first.
            if role.is_some() && !roles.contains(&role) {
                roles[c] = role;
            }
        }
        let has = |r| roles.contains(&Some(r));
        let distinct = roles.iter().flatten().count();
        let _ = row;
        if has(MilestoneColumn::Action)
            && (has(MilestoneColumn::Target) || has(MilestoneColumn::Status))
            && distinct >= 3
        {
            return Some(ColumnMap { header_row: ri, roles, headers });
        }
    }
    None
}

/// The reading context: where in the hierarchy the next row sits.
#[derive(Debug, Default)]
struct Context {
    theme: Option<String>,
    section: Option<Section>,
    outcome: Option<String>,
    activity: Option<String>,
}

/// What a banner (a row or paragraph that spans the page) announces.
enum Banner {
    Section(Section),
    Theme(String),
    Other(String),
}

fn banner(text: &str, rules: &Rules) -> Banner {
    let norm = normalise(text);
    if rules.document.carried_over.iter().any(|p| norm.contains(p.as_str())) {
        return Banner::Section(Section::CarriedOver);
    }
    if norm.split(' ').count() <= 10 && rules.themes.key_for(text).is_some() {
        return Banner::Theme(tidy(text));
    }
    Banner::Other(tidy(text))
}

/// One line, whitespace folded, bullets and stray punctuation trimmed.
pub fn tidy(text: &str) -> String {
    let joined = join_lines(text);
    joined.trim_start_matches(['•', '·', '▪', '●', '◦', '\u{F0B7}', '-', '*']).trim().to_string()
}

fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

/// Parse every tracker table of a document.
pub fn parse(doc: &LayoutDoc, rules: &Rules, out: &mut Parsed) {
    let mut ctx = Context::default();
    for block in &doc.blocks {
        match block {
            Block::Paragraph(p) => {
                let text = join_lines(&p.text);
                if text.is_empty() || text.chars().count() > 120 {
                    continue;
                }
                match banner(&text, rules) {
                    Banner::Section(s) => ctx.section = Some(s),
                    Banner::Theme(t) => {
                        ctx.theme = Some(t);
                        ctx.outcome = None;
                        ctx.activity = None;
                    }
                    Banner::Other(_) => {}
                }
            }
            Block::Table(t) => {
                if let Some(map) = column_map(t, rules) {
                    parse_table(doc, t, &map, rules, &mut ctx, out);
                }
            }
        }
    }
}

fn parse_table(doc: &LayoutDoc, t: &Table, map: &ColumnMap, rules: &Rules, ctx: &mut Context, out: &mut Parsed) {
    let action_col = map.col(MilestoneColumn::Action).unwrap_or(0);
    let outcome_col = map.col(MilestoneColumn::Outcome);
    let header_texts: Vec<String> =
        (0..t.ncols).map(|c| t.origin(map.header_row, c).map(|x| x.joined()).unwrap_or_default()).collect();
    // A new table under a new outcome column starts without an outcome.
    ctx.outcome = None;
    ctx.activity = None;

    // Banners above the header row (theme title rows).
    for ri in 0..map.header_row {
        if let Some(text) = single_cell_text(t, ri, 0) {
            apply_banner(&text, rules, ctx, outcome_col.is_none(), out);
        }
    }

    for ri in map.header_row + 1..t.rows.len() {
        let row = &t.rows[ri];
        let texts: Vec<String> =
            (0..t.ncols).map(|c| t.origin(ri, c).map(|x| x.joined()).unwrap_or_default()).collect();
        if texts == header_texts {
            continue; // a repeated header row
        }
        // Banner: one cell across the whole table.
        if let Some(text) = single_cell_text(t, ri, 0) {
            apply_banner(&text, rules, ctx, outcome_col.is_none(), out);
            continue;
        }
        // Outcome: the cell covering the outcome column, when it has text.
        if let Some(oc) = outcome_col {
            if let Some(cell) = t.origin(ri, oc) {
                let text = tidy(&cell.text);
                let starts_here = t.cell(ri, oc).is_some_and(|c| !c.is_continuation());
                if !text.is_empty() && (starts_here || ctx.outcome.as_deref() != Some(text.as_str())) {
                    if ctx.outcome.as_deref() != Some(text.as_str()) {
                        ctx.activity = None;
                    }
                    ctx.outcome = Some(text);
                }
            }
        }
        // Activity group heading: one cell across every column right of the outcome.
        let first_body_col = outcome_col.map_or(0, |c| c + 1);
        if outcome_col.is_some() {
            if let Some(text) = single_cell_text(t, ri, first_body_col) {
                match banner(&text, rules) {
                    Banner::Section(s) => ctx.section = Some(s),
                    Banner::Theme(_) | Banner::Other(_) => ctx.activity = Some(tidy(&text)),
                }
                continue;
            }
        }
        let action_cell = t.cell(ri, action_col);
        let action_starts_here = action_cell.is_some_and(|c| !c.is_continuation());
        let action = if action_starts_here { tidy(&texts[action_col]) } else { String::new() };
        let get = |role| map.col(role).map(|c| texts[c].clone()).filter(|s: &String| !s.is_empty());
        if action.is_empty() {
            // No action: the rest of the milestone above, broken across a page.
            let rest: Vec<(usize, &String)> = texts
                .iter()
                .enumerate()
                .filter(|(c, s)| {
                    !s.is_empty() && Some(*c) != outcome_col && t.cell(ri, *c).is_some_and(|x| !x.is_continuation())
                })
                .collect();
            if rest.is_empty() {
                continue;
            }
            match out.milestones.last_mut() {
                Some(prev) => {
                    for (c, text) in rest {
                        let field = match map.roles[c] {
                            Some(MilestoneColumn::Target) => &mut prev.target,
                            Some(MilestoneColumn::Status) => &mut prev.status,
                            Some(MilestoneColumn::Rationale) => &mut prev.rationale,
                            Some(MilestoneColumn::Ref) => &mut prev.r#ref,
                            Some(MilestoneColumn::Lead) => &mut prev.lead,
                            _ => continue,
                        };
                        *field = Some(match field.take() {
                            Some(before) => join_lines(&format!("{before}\n{text}")),
                            None => text.clone(),
                        });
                    }
                }
                None => out.warnings.push(format!(
                    "table {} row {}: text without an action before any milestone, skipped: {:?}",
                    t.index + 1,
                    ri + 1,
                    texts.join(" | ")
                )),
            }
            continue;
        }
        let mut extra = BTreeMap::new();
        for c in 0..t.ncols {
            if map.roles[c].is_none() && !map.headers[c].is_empty() && !texts[c].is_empty() {
                extra.insert(map.headers[c].clone(), texts[c].clone());
            }
        }
        let target = map
            .col(MilestoneColumn::Target)
            .and_then(|c| t.origin(ri, c))
            .map(|c| c.text.trim().to_string())
            .filter(|s| !s.is_empty());
        out.milestones.push(RawMilestone {
            section: ctx.section.unwrap_or(Section::Main),
            theme: ctx.theme.clone(),
            outcome: ctx.outcome.clone(),
            activity: ctx.activity.clone(),
            action,
            target,
            status: get(MilestoneColumn::Status),
            rationale: get(MilestoneColumn::Rationale).and_then(|r| non_empty(tidy(&r))),
            r#ref: get(MilestoneColumn::Ref),
            lead: get(MilestoneColumn::Lead),
            extra,
            provenance: row_provenance(doc.format, t.index, ri, row),
        });
    }
}

fn apply_banner(text: &str, rules: &Rules, ctx: &mut Context, outcome_banners: bool, out: &mut Parsed) {
    match banner(text, rules) {
        Banner::Section(s) => ctx.section = Some(s),
        Banner::Theme(t) => {
            ctx.theme = Some(t);
            ctx.outcome = None;
            ctx.activity = None;
        }
        Banner::Other(t) if outcome_banners => {
            ctx.outcome = Some(t);
            ctx.activity = None;
        }
        Banner::Other(t) => {
            if ctx.theme.as_deref() != Some(t.as_str()) {
                out.warnings.push(format!("banner {t:?} is not a theme in rules/themes.toml; taken as the theme"));
            }
            ctx.theme = Some(t);
            ctx.outcome = None;
            ctx.activity = None;
        }
    }
}

/// The text of a row when everything from column `from` rightwards is one
/// cell with text (a banner or a group heading).
fn single_cell_text(t: &Table, ri: usize, from: usize) -> Option<String> {
    let row = t.rows.get(ri)?;
    if from >= t.ncols {
        return None;
    }
    let first = row.cells.get(from)?;
    if first.is_continuation() && first.merged_into.is_some_and(|(r, _)| r as usize != ri) {
        return None;
    }
    let origin = first.merged_into.unwrap_or((ri as u32, from as u32));
    let all_one = (from..t.ncols).all(|c| {
        let cell = &row.cells[c];
        let o = cell.merged_into.unwrap_or((ri as u32, c as u32));
        o == origin
    });
    if !all_one || t.ncols - from < 2 {
        return None;
    }
    let text = t.cell(origin.0 as usize, origin.1 as usize)?.joined();
    (!text.is_empty()).then_some(text)
}
