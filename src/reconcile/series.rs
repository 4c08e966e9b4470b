//! Linked units → the dataset's series.
//!
//! Every unit has at most one predecessor, so following predecessors leads
//! each unit to the first unit of its series. A series is named after that
//! first unit's row, `s-<milestone id>`, and a milestone id is `<document
//! id>-m<row>`, derived from the document's bytes: the name depends on the
//! content of the series' oldest report alone, so it survives re-runs and
//! the arrival of later reports.
//!
//! Members are listed in plan-year order, each unit's primary row first and
//! its rows in other renditions right after it. The status history has one
//! point per plan year: the status of that year's first member, with the
//! progress date of its document.

use std::collections::{BTreeMap, HashMap};

use super::link::{Linked, UnitLink};
use super::rows::MilestoneRow;
use super::units::Unit;
use crate::model::{Decision, Document, Link, RunnerUp, Series, SeriesMember, StatusPoint};
use crate::rules::Rules;

/// Build the series of every unit.
pub fn build(
    units: &[Unit],
    linked: &Linked,
    milestones: &[MilestoneRow],
    documents: &[Document],
    rules: &Rules,
    sink: &mut dyn FnMut(Series),
) {
    let as_of: HashMap<&str, Option<&str>> = documents.iter().map(|d| (d.id.as_str(), d.as_of.as_deref())).collect();
    let id = |u: usize| milestones[units[u].primary].id.to_string();
    // First unit of each unit's series. A predecessor always comes earlier
    // in (plan year, unit) order, so the walk ends.
    let first: Vec<usize> = (0..units.len())
        .map(|mut u| {
            while let Some(l) = &linked.pred[u] {
                u = l.from;
            }
            u
        })
        .collect();
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (u, f) in first.iter().enumerate() {
        groups.entry(*f).or_default().push(u);
    }
    let mut proposals: BTreeMap<usize, Vec<Link>> = BTreeMap::new();
    for p in &linked.proposals {
        proposals.entry(first[p.from]).or_default().push(Link {
            from: id(p.from),
            to: Some(id(p.to)),
            score: p.scored.score,
            decision: Decision::Review,
            features: p.scored.contributions(rules),
            runner_up: p.runner_up.map(|(u, score)| RunnerUp { id: id(u), score }),
            note: Some(p.note.clone()),
        });
    }
    let link = |l: &UnitLink| Link {
        from: id(l.from),
        to: None,
        score: l.scored.score,
        decision: l.decision,
        features: l.scored.contributions(rules),
        runner_up: l.runner_up.map(|(u, score)| RunnerUp { id: id(u), score }),
        note: l.note.clone(),
    };
    for (f, mut members_units) in groups {
        members_units.sort_by_key(|u| (units[*u].year.unwrap_or(usize::MAX), *u));
        let mut members = Vec::new();
        for &u in &members_units {
            let unit = &units[u];
            let m = &milestones[unit.primary];
            let note = linked.notes[u].clone();
            let (score, decision, link) = match &linked.pred[u] {
                Some(l) => (l.scored.score, l.decision, Some(link(l))),
                None if note.is_some() => (1.0, Decision::Manual, None),
                None => (1.0, Decision::Auto, None),
            };
            members.push(SeriesMember {
                milestone_id: m.id.to_string(),
                plan_year: m.plan_year.as_deref().map(String::from),
                score,
                decision,
                link,
                note,
            });
            for twin in &unit.twins {
                let t = &milestones[twin.milestone];
                let l = rendition_link(&m.id, twin.similarity);
                members.push(SeriesMember {
                    milestone_id: t.id.to_string(),
                    plan_year: t.plan_year.as_deref().map(String::from),
                    score: l.score,
                    decision: Decision::Auto,
                    link: Some(l),
                    note: None,
                });
            }
        }
        let last = &milestones[units[*members_units.last().unwrap_or(&f)].primary];
        let mut status_history: Vec<StatusPoint> = Vec::new();
        for &u in &members_units {
            let m = &milestones[units[u].primary];
            if status_history.last().is_some_and(|p| p.plan_year.as_deref() == m.plan_year.as_deref()) {
                continue;
            }
            status_history.push(StatusPoint {
                plan_year: m.plan_year.as_deref().map(String::from),
                as_of: as_of.get(&*m.document_id).copied().flatten().map(String::from),
                status: m.status,
            });
        }
        sink(Series {
            id: format!("s-{}", id(f)),
            theme_key: last.theme_key.as_deref().map(String::from),
            title: last.action.to_string(),
            members,
            status_history,
            proposals: proposals.remove(&f).unwrap_or_default(),
        });
    }
}

/// The link from a unit's primary row to the same row in another rendition:
/// feature `rendition`, 1 for the same text, else the titles' similarity.
fn rendition_link(primary: &str, similarity: Option<f64>) -> Link {
    let score = similarity.unwrap_or(1.0);
    let note = similarity.map(|_| "rendition: the same row, read differently".to_string());
    let features = BTreeMap::from([("rendition".into(), score)]);
    Link { from: primary.to_string(), to: None, score, decision: Decision::Auto, features, runner_up: None, note }
}
