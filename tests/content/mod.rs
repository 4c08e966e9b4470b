//! Milestones built straight from the fixture content files
//! (`fixtures/make/content/tracker-*.json`), with their `series` tags as
//! gold: reconciliation measured on the wording of every tracker, without
//! going through PDF or DOCX.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

use plantrace::eval::{Gold, GoldMilestone, GoldSet};
use plantrace::model::*;
use serde_json::Value;

/// One tracker content file as documents (one per rendition), milestones and
/// gold rows.
pub struct Tracker {
    pub name: String,
    pub documents: Vec<Document>,
    pub milestones: Vec<Milestone>,
    /// (action, series tag) per row of one rendition.
    pub rows: Vec<(String, Option<String>)>,
    pub gold: Vec<GoldMilestone>,
}

fn text(v: &Value) -> Option<String> {
    v.as_str().map(|s| s.split('\n').map(str::trim).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(" "))
}

fn status(s: &str) -> MilestoneStatus {
    serde_json::from_value(Value::String(s.to_string())).unwrap_or(MilestoneStatus::Unknown)
}

/// Read `fixtures/make/content/<name>.json`; None when it is not there yet.
pub fn tracker(name: &str) -> Option<Tracker> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/make/content").join(format!("{name}.json"));
    let v: Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    let plan_year = text(&v["plan_year"]);
    let formats: Vec<String> = v["formats"].as_array()?.iter().filter_map(text).collect();
    let mut t = Tracker { name: name.into(), documents: vec![], milestones: vec![], rows: vec![], gold: vec![] };
    for (k, format) in formats.iter().enumerate() {
        let doc_id = format!("d{}{k}", name.replace('-', ""));
        t.documents.push(Document {
            id: doc_id.clone(),
            path: format!("fixtures/reports/{name}.{format}"),
            sha256: doc_id.clone(),
            format: if format == "pdf" { Format::Pdf } else { Format::Docx },
            kind: DocKind::MilestoneTracker,
            title: None,
            plan_year: plan_year.clone(),
            as_of: text(&v["as_of"]),
            period: None,
            pages: None,
            warnings: vec![],
        });
        let mut row_no = 0;
        for section in v["sections"].as_array()? {
            let carried = section["carried_over"].as_bool() == Some(true);
            for theme in section["themes"].as_array()? {
                for outcome in theme["outcomes"].as_array().into_iter().flatten() {
                    for group in outcome["groups"].as_array().into_iter().flatten() {
                        for row in group["rows"].as_array().into_iter().flatten() {
                            row_no += 1;
                            let action = text(&row["action"])?;
                            t.milestones.push(Milestone {
                                id: format!("{doc_id}-m{row_no:04}"),
                                document_id: doc_id.clone(),
                                plan_year: plan_year.clone(),
                                section: if carried { Section::CarriedOver } else { Section::Main },
                                theme: text(&theme["theme"]),
                                theme_key: text(&theme["theme_key"]),
                                outcome: text(&outcome["outcome"]),
                                activity: text(&group["activity"]),
                                action: action.clone(),
                                target: TargetDate {
                                    raw: text(&row["target"]),
                                    end: text(&row["target_end"]),
                                    ..Default::default()
                                },
                                status: MilestoneStatusValue {
                                    raw: text(&row["status"]),
                                    canonical: status(row["status_canonical"].as_str().unwrap_or("")),
                                },
                                rationale: text(&row["rationale"]),
                                r#ref: None,
                                lead: None,
                                extra: BTreeMap::new(),
                                provenance: Provenance::Docx { table: 0, row: row_no },
                            });
                            if k == 0 {
                                t.rows.push((action.clone(), text(&row["series"])));
                                let gold = serde_json::json!({
                                    "plan_year": plan_year, "theme_key": text(&theme["theme_key"]),
                                    "outcome": text(&outcome["outcome"]), "action": action,
                                    "target_end": text(&row["target_end"]), "status": text(&row["status_canonical"]),
                                    "rationale": text(&row["rationale"]),
                                });
                                t.gold.push(serde_json::from_value(gold).ok()?);
                            }
                        }
                    }
                }
            }
        }
    }
    Some(t)
}

/// Every tracker content file present, oldest first.
pub fn all_trackers() -> Vec<Tracker> {
    ["tracker-2021-22", "tracker-2022-23", "tracker-2023-24", "tracker-2024-25"]
        .iter()
        .filter_map(|n| tracker(n))
        .collect()
}

/// A dataset of these trackers (series still to be filled) and its gold.
pub fn dataset_and_gold(trackers: &[Tracker]) -> (Dataset, GoldSet) {
    let mut ds = Dataset { schema_version: SCHEMA_VERSION.into(), ..Default::default() };
    let mut gold = GoldSet::default();
    let mut tags: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for t in trackers {
        ds.documents.extend(t.documents.iter().cloned());
        ds.milestones.extend(t.milestones.iter().cloned());
        gold.docs.insert(t.name.clone(), Gold { milestones: t.gold.clone(), ..Default::default() });
        for (action, tag) in &t.rows {
            if let Some(tag) = tag {
                tags.entry(tag.clone()).or_default().push(action.clone());
            }
        }
    }
    gold.series = tags.into_values().filter(|v| v.len() >= 2).collect();
    (ds, gold)
}
