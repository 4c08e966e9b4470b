//! An archivist's `must_link` / `cannot_link` rules, resolved to units.
//!
//! A rule names each side by plan year and action text, compared without
//! case and punctuation (the key eval matches rows by), or by milestone id.
//! Text survives re-ingestion: ids change when a report is re-exported, the
//! printed words do not. A side that names a row present in two renditions
//! names their one unit.

use std::collections::HashMap;

use super::rows::MilestoneRow;
use super::units::{Unit, Years};
use crate::eval::match_key;
use crate::rules::{Endpoint, OverridePair, Rules};

/// A resolved rule: the earlier unit, the later unit, and what to write.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub earlier: usize,
    pub later: usize,
    pub note: String,
}

/// The rules that name units in this run.
#[derive(Debug, Clone, Default)]
pub struct Resolved {
    pub must: Vec<Rule>,
    pub cannot: Vec<Rule>,
    /// Rules with a side that names no milestone of this run, as sentences.
    pub unmatched: Vec<String>,
}

impl Resolved {
    /// The later unit's `must_link` predecessor, if a rule gives one.
    pub fn must_predecessor(&self) -> HashMap<usize, &Rule> {
        let mut out = HashMap::new();
        for r in &self.must {
            out.entry(r.later).or_insert(r);
        }
        out
    }

    /// For each unit, the units a `cannot_link` rule keeps it apart from.
    pub fn cannot_partners(&self, units: usize) -> Vec<Vec<(usize, &Rule)>> {
        let mut out: Vec<Vec<(usize, &Rule)>> = vec![Vec::new(); units];
        for r in &self.cannot {
            out[r.earlier].push((r.later, r));
            out[r.later].push((r.earlier, r));
        }
        out
    }
}

/// Find the units each override rule names.
pub fn resolve(rules: &Rules, milestones: &[MilestoneRow], units: &[Unit], years: &Years) -> Resolved {
    let overrides = &rules.overrides;
    // Most runs have no rules: the indices below key every milestone's
    // action text (45-72 ms at 500 reports, on the one thread that then
    // links milestones).
    if overrides.must_link.is_empty() && overrides.cannot_link.is_empty() {
        return Resolved::default();
    }
    let mut unit_of: Vec<usize> = vec![0; milestones.len()];
    for (u, unit) in units.iter().enumerate() {
        unit_of[unit.primary] = u;
        for t in &unit.twins {
            unit_of[t.milestone] = u;
        }
    }
    let mut by_text: HashMap<(&str, String), usize> = HashMap::new();
    let mut by_id: HashMap<&str, usize> = HashMap::new();
    // Units are in canonical order; the first unit with a text wins.
    let mut order: Vec<usize> = (0..milestones.len()).collect();
    order.sort_by_key(|i| unit_of[*i]);
    for i in order {
        let m = &milestones[i];
        by_id.insert(&m.id, unit_of[i]);
        if let Some(y) = m.plan_year.as_deref() {
            by_text.entry((y, match_key(&m.action))).or_insert(unit_of[i]);
        }
    }
    let find = |e: &Endpoint| -> Option<usize> {
        match (&e.id, &e.plan_year, &e.action) {
            (Some(id), _, _) => by_id.get(id.as_str()).copied(),
            (None, Some(y), Some(a)) => by_text.get(&(y.as_str(), match_key(a))).copied(),
            _ => None,
        }
    };
    let order_key = |u: usize| (units[u].year.unwrap_or(years.keys.len()), u);
    let mut out = Resolved::default();
    for (kind, list) in [("must_link", &overrides.must_link), ("cannot_link", &overrides.cannot_link)] {
        for (n, pair) in list.iter().enumerate() {
            let OverridePair { a, b, note } = pair.get_ref();
            match (find(a), find(b)) {
                (Some(x), Some(y)) if x != y => {
                    let (earlier, later) = if order_key(x) <= order_key(y) { (x, y) } else { (y, x) };
                    let note = match note {
                        Some(text) => format!("{kind} rule {}: {text}", n + 1),
                        None => format!("{kind} rule {}", n + 1),
                    };
                    let rule = Rule { earlier, later, note };
                    if kind == "must_link" {
                        out.must.push(rule);
                    } else {
                        out.cannot.push(rule);
                    }
                }
                (Some(_), Some(_)) => {}
                (x, y) => {
                    let missing = if x.is_none() { describe(a) } else { describe(b) };
                    let also =
                        if x.is_none() && y.is_none() { format!(" (nor {})", describe(b)) } else { String::new() };
                    out.unmatched.push(format!("{kind} rule {}: no milestone is {missing}{also}", n + 1));
                }
            }
        }
    }
    out
}

fn describe(e: &Endpoint) -> String {
    match (&e.id, &e.plan_year, &e.action) {
        (Some(id), _, _) => format!("id {id:?}"),
        (None, y, a) => format!("{:?} in {}", a.as_deref().unwrap_or(""), y.as_deref().unwrap_or("any plan year")),
    }
}
