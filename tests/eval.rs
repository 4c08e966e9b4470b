//! `plantrace eval` on a small hand-made dataset and gold, scored to numbers
//! worked out by hand.

mod common;

use std::fs;

use common::*;
use serde_json::json;

#[allow(clippy::too_many_arguments)] // one argument per field a test sets
fn milestone(
    id: &str,
    doc: &str,
    year: &str,
    action: &str,
    status: &str,
    end: &str,
    theme: &str,
    outcome: &str,
) -> serde_json::Value {
    json!({
        "id": id, "document_id": doc, "plan_year": year, "section": "main",
        "theme": theme, "theme_key": theme, "outcome": outcome, "activity": null,
        "action": action,
        "target": {"raw": end, "start": end, "end": end, "revised_raw": null, "revised_end": null, "ongoing": false},
        "status": {"raw": status, "canonical": status},
        "rationale": "Work is under way.",
        "provenance": {"table": 0, "row": 1}
    })
}

fn member(id: &str, year: &str, from: Option<&str>, decision: &str) -> serde_json::Value {
    json!({
        "milestone_id": id, "plan_year": year, "score": 1.0, "decision": decision,
        "link": from.map(|f| json!({"from": f, "score": 0.9, "decision": decision, "features": {}, "runner_up": null}))
    })
}

/// Two trackers, 2021/22 (4 rows) and 2022/23 (3 rows).
///
/// Gold 2021/22 has 4 rows; the dataset finds 3 of them ("face-to-face" with
/// different hyphenation still matches) plus one row that is not in gold:
/// precision 3/4, recall 3/4. Of the 3 matched rows, status agrees on 2,
/// target end on 3, theme on 3, outcome on 2 (one outcome differs).
///
/// Gold 2022/23 has 3 rows, all found, all fields right.
///
/// Gold series: {A21, A22} and {B21, B22}. The dataset links A21→A22 (auto,
/// right), C21→C22 (auto, wrong: gold has them apart) and B21→B22 only for
/// review (not counted). Pairs among the 6 matched milestones: predicted
/// {A21,A22}, {C21,C22} = 2; gold {A21,A22}, {B21,B22} = 2; true 1:
/// precision 0.5, recall 0.5, F1 0.5.
#[test]
fn eval_scores_a_hand_made_pair_to_hand_worked_figures() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = json!({
        "schema_version": "1",
        "documents": [
            {"id": "d1", "path": "reports/tracker-2021-22.pdf", "sha256": "x", "format": "pdf", "kind": "milestone_tracker",
             "title": null, "plan_year": "2021/22", "as_of": null, "pages": 1, "warnings": []},
            {"id": "d2", "path": "reports/tracker-2022-23.docx", "sha256": "y", "format": "docx", "kind": "milestone_tracker",
             "title": null, "plan_year": "2022/23", "as_of": null, "pages": null, "warnings": []}
        ],
        "milestones": [
            milestone("A21", "d1", "2021/22", "Open the new library", "complete", "2021-08", "t", "Outcome one"),
            milestone("B21", "d1", "2021/22", "Provide face to face support", "on_track", "2021-12", "t", "Outcome one"),
            milestone("C21", "d1", "2021/22", "Plant 500 trees", "on_track", "2022-03", "t", "Outcome WRONG"),
            milestone("X21", "d1", "2021/22", "A row that is not in gold", "on_track", "2022-03", "t", "Outcome one"),
            milestone("A22", "d2", "2022/23", "Run the new library", "on_track", "2023-03", "t", "Outcome one"),
            milestone("B22", "d2", "2022/23", "Extend face-to-face support", "on_track", "2023-03", "t", "Outcome one"),
            milestone("C22", "d2", "2022/23", "Plant 1,000 more trees", "delayed", "2023-03", "t", "Outcome two")
        ],
        "measures": [], "scorecard_keys": [],
        "series": [
            {"id": "s1", "theme_key": "t", "title": "x", "members": [member("A21", "2021/22", None, "auto"), member("A22", "2022/23", Some("A21"), "auto")], "status_history": []},
            {"id": "s2", "theme_key": "t", "title": "x", "members": [member("B21", "2021/22", None, "auto"), member("B22", "2022/23", Some("B21"), "review")], "status_history": []},
            {"id": "s3", "theme_key": "t", "title": "x", "members": [member("C21", "2021/22", None, "auto"), member("C22", "2022/23", Some("C21"), "auto")], "status_history": []},
            {"id": "s4", "theme_key": "t", "title": "x", "members": [member("X21", "2021/22", None, "auto")], "status_history": []}
        ],
        "measure_series": [], "errors": []
    });
    let gold = tmp.path().join("gold");
    fs::create_dir(&gold).unwrap();
    let g = |year: &str, action: &str, status: &str, end: &str, outcome: &str| json!({"plan_year": year, "theme_key": "t", "outcome": outcome, "action": action, "target_end": end, "status": status, "rationale": "Work is under way."});
    fs::write(
        gold.join("tracker-2021-22.json"),
        json!({"milestones": [
            g("2021/22", "Open the new library", "complete", "2021-08", "Outcome one"),
            g("2021/22", "Provide face-to-face support", "delayed", "2021-12", "Outcome one"),
            g("2021/22", "Plant 500 trees", "on_track", "2022-03", "Outcome one"),
            g("2021/22", "A row the dataset missed", "on_track", "2022-03", "Outcome one")
        ]})
        .to_string(),
    )
    .unwrap();
    fs::write(
        gold.join("tracker-2022-23.json"),
        json!({"milestones": [
            g("2022/23", "Run the new library", "on_track", "2023-03", "Outcome one"),
            g("2022/23", "Extend face to face support", "on_track", "2023-03", "Outcome one"),
            g("2022/23", "Plant 1,000 more trees", "delayed", "2023-03", "Outcome two")
        ]})
        .to_string(),
    )
    .unwrap();
    fs::write(
        gold.join("series.json"),
        json!({"series": [["Open the new library", "Run the new library"], ["Provide face-to-face support", "Extend face-to-face support"]]}).to_string(),
    )
    .unwrap();
    let ds_path = tmp.path().join("dataset.json");
    fs::write(&ds_path, ds.to_string()).unwrap();

    let o = bin().args(["eval", "--json"]).arg(&ds_path).arg(&gold).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let close = |v: &serde_json::Value, want: f64| (v.as_f64().unwrap() - want).abs() < 1e-9;

    let d1 = &r["documents"][0]["metrics"];
    assert!(close(&d1["precision"], 0.75) && close(&d1["recall"], 0.75), "{d1}");
    assert!(close(&d1["status"], 2.0 / 3.0), "{d1}");
    assert!(close(&d1["target_end"], 1.0) && close(&d1["theme_key"], 1.0));
    assert!(close(&d1["outcome"], 2.0 / 3.0), "{d1}");
    let d2 = &r["documents"][1]["metrics"];
    assert!(close(&d2["precision"], 1.0) && close(&d2["recall"], 1.0) && close(&d2["status"], 1.0));
    let all = &r["overall_metrics"];
    assert!(close(&all["precision"], 6.0 / 7.0) && close(&all["recall"], 6.0 / 7.0), "{all}");

    let links = &r["links"]["overall"];
    assert_eq!(
        (links["predicted_pairs"].as_u64(), links["gold_pairs"].as_u64(), links["true_pairs"].as_u64()),
        (Some(2), Some(2), Some(1))
    );
    assert_eq!(r["links"]["links_review"], 1);
    assert_eq!(r["links"]["links_auto"], 2);
    // The review link joins a gold pair: review precision 1.
    assert!(close(&r["links"]["review_precision"], 1.0));

    // Thresholds: recall 0.75 fails --min-recall 0.9 → exit 1 naming it.
    let o = bin().args(["eval", "--min-recall", "0.9"]).arg(&ds_path).arg(&gold).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("tracker-2021-22.pdf: row recall 0.750"), "{}", stderr(&o));
    let o =
        bin().args(["eval", "--min-link-f1", "0.4", "--min-recall", "0.7"]).arg(&ds_path).arg(&gold).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}
