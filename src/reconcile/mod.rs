//! Reconcile: the same action across plan years → series.
//!
//! First version: every milestone starts its own series; the linking of
//! reworded actions across years is built in the reconciliation issue.

use crate::model::{Decision, Measure, MeasureSeries, Milestone, Series, SeriesMember, StatusPoint};

/// Group milestones into series.
pub fn milestone_series(milestones: &[Milestone]) -> Vec<Series> {
    milestones
        .iter()
        .map(|m| Series {
            id: format!("s-{}", m.id),
            theme_key: m.theme_key.clone(),
            title: m.action.clone(),
            members: vec![SeriesMember {
                milestone_id: m.id.clone(),
                plan_year: m.plan_year.clone(),
                score: 1.0,
                decision: Decision::Auto,
                link: None,
                note: None,
            }],
            status_history: vec![StatusPoint {
                plan_year: m.plan_year.clone(),
                as_of: None,
                status: m.status.canonical,
            }],
            proposals: Vec::new(),
        })
        .collect()
}

/// Group measures into series.
pub fn measure_series(_measures: &[Measure]) -> Vec<MeasureSeries> {
    Vec::new()
}
