//! Reconciliation: the same action across plan years → series.
//!
//! Two kinds of test. Hand-built trackers in council style go through the
//! library (`reconcile::milestone_series`), one behaviour each: a reworded
//! action, a sibling near-miss, a split, a reorganised theme, overrides both
//! ways, renditions, stable ids. Then the real binary on the rendered
//! fixtures with custom rules folders: link quality against the gold, an
//! override written by an archivist, and ids that survive a new year's
//! report.

mod common;
mod content;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::*;
use plantrace::eval;
use plantrace::model::*;
use plantrace::reconcile;
use plantrace::rules::Rules;

// ------------------------------------------------------------------ helpers

fn builtin() -> Rules {
    Rules::builtin().unwrap_or_else(|e| panic!("{e}"))
}

/// The project's rules with `overrides` as overrides.toml, from a temporary folder.
fn rules_with_overrides(overrides: &str) -> (tempfile::TempDir, Rules) {
    let dir = rules_folder(overrides);
    let rules = Rules::load(Some(dir.path())).unwrap_or_else(|e| panic!("{e}"));
    (dir, rules)
}

fn rules_folder(overrides: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(root().join("rules")).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, dir.path().join(p.file_name().unwrap())).unwrap();
    }
    std::fs::write(dir.path().join("overrides.toml"), overrides).unwrap();
    dir
}

fn doc(id: &str, year: &str, format: Format) -> Document {
    Document {
        id: id.into(),
        path: format!("{id}.{}", format.as_str()),
        sha256: id.into(),
        format,
        kind: DocKind::MilestoneTracker,
        title: None,
        plan_year: Some(year.into()),
        as_of: Some(format!("{}-12", &year[..4])),
        period: None,
        pages: None,
        warnings: vec![],
    }
}

/// A tracker row: document, row number, theme key, action, status. No
/// outcome: these tests are about titles (and one shared outcome text would
/// add the same evidence to every pair).
fn row(d: &Document, n: u32, theme: &str, action: &str, status: MilestoneStatus) -> Milestone {
    Milestone {
        id: format!("{}-m{n:04}", d.id),
        document_id: d.id.clone(),
        plan_year: d.plan_year.clone(),
        section: Section::Main,
        theme: Some(theme.to_uppercase()),
        theme_key: Some(theme.into()),
        outcome: None,
        activity: None,
        action: action.into(),
        target: TargetDate::default(),
        status: MilestoneStatusValue { raw: None, canonical: status },
        rationale: None,
        r#ref: None,
        lead: None,
        extra: BTreeMap::new(),
        provenance: Provenance::Docx { table: 0, row: n },
    }
}

/// A tracker of one plan year: rows of (theme, action, status).
fn tracker(id: &str, year: &str, rows: &[(&str, &str, MilestoneStatus)]) -> (Document, Vec<Milestone>) {
    let d = doc(id, year, Format::Docx);
    let ms = rows
        .iter()
        .enumerate()
        .map(|(i, (theme, action, status))| row(&d, i as u32 + 1, theme, action, *status))
        .collect();
    (d, ms)
}

struct Run {
    series: Vec<Series>,
    milestones: Vec<Milestone>,
}

impl Run {
    fn new(trackers: Vec<(Document, Vec<Milestone>)>, rules: &Rules) -> Run {
        let documents: Vec<Document> = trackers.iter().map(|(d, _)| d.clone()).collect();
        let milestones: Vec<Milestone> = trackers.into_iter().flat_map(|(_, m)| m).collect();
        let series = reconcile::milestone_series(&milestones, &documents, rules);
        Run { series, milestones }
    }

    fn id_of(&self, action: &str) -> &str {
        let m = self.milestones.iter().find(|m| m.action == action);
        &m.unwrap_or_else(|| panic!("no row {action:?}")).id
    }

    fn series_of(&self, action: &str) -> &Series {
        let id = self.id_of(action);
        self.series.iter().find(|s| s.members.iter().any(|m| m.milestone_id == id)).expect("every row has a series")
    }

    fn member(&self, action: &str) -> &SeriesMember {
        let id = self.id_of(action);
        self.series_of(action).members.iter().find(|m| m.milestone_id == id).expect("member")
    }

    /// The link that brought `later` in, if it comes from `earlier`.
    fn link(&self, earlier: &str, later: &str) -> Option<&Link> {
        self.member(later).link.as_ref().filter(|l| l.from == self.id_of(earlier))
    }
}

use MilestoneStatus::{Complete, Delayed, OnTrack};

const CYCLE_21: &str = "Commence Moor Road, Manvers cycleway construction.";
const CYCLE_22: &str = "Start construction of the Moor Road, Manvers cycleway.";

/// Two plan years of a small tracker, in council style.
fn two_years() -> Vec<(Document, Vec<Milestone>)> {
    vec![
        tracker(
            "d21",
            "2021/22",
            &[
                ("environment", CYCLE_21, Delayed),
                ("environment", "Complete phase 1 of Sheffield Road cycleways.", Complete),
                ("thriving-neighbourhoods", "Complete refurbishments at Wath library.", Complete),
                ("economy", "Start to develop full business cases for Towns Fund schemes", OnTrack),
                ("one-council", "Deliver a sustainable wellbeing programme to the whole workforce", OnTrack),
            ],
        ),
        tracker(
            "d22",
            "2022/23",
            &[
                ("environment", CYCLE_22, Delayed),
                ("environment", "Complete design and public consultation for the Doncaster Road cycleway.", OnTrack),
                ("thriving-neighbourhoods", "Consult on a new Library Strategy for 2023–2028.", OnTrack),
                ("economy", "Submit the Towns Fund business cases to government and secure the funding.", OnTrack),
                ("health-and-wellbeing", "Design a single front door for adult social care.", OnTrack),
            ],
        ),
    ]
}

// ------------------------------------------------- behaviour, one at a time

#[test]
fn a_reworded_action_is_linked_automatically_with_its_reasons() {
    let run = Run::new(two_years(), &builtin());
    let link = run.link(CYCLE_21, CYCLE_22).expect("the reworded action is linked");
    assert_eq!(link.decision, Decision::Auto, "{link:?}");
    // The score is the sum of the features' contributions.
    let sum: f64 = link.features.values().sum();
    assert!((sum - link.score).abs() < 0.002, "{} vs {:?}", link.score, link.features);
    for f in ["tfidf", "monge_elkan", "ngram", "shared_name", "same_theme"] {
        assert!(link.features.contains_key(f), "{f} missing from {:?}", link.features);
    }
    let towns = run.link(
        "Start to develop full business cases for Towns Fund schemes",
        "Submit the Towns Fund business cases to government and secure the funding.",
    );
    assert!(towns.is_some_and(|l| l.decision == Decision::Auto), "{towns:?}");
}

#[test]
fn a_sibling_with_the_same_phrasing_is_not_linked() {
    let run = Run::new(two_years(), &builtin());
    // Same phrasing, another road: not the same scheme.
    let sheffield = "Complete phase 1 of Sheffield Road cycleways.";
    let doncaster = "Complete design and public consultation for the Doncaster Road cycleway.";
    assert!(run.link(sheffield, doncaster).is_none_or(|l| l.decision == Decision::Review));
    // A library refurbishment is not the library strategy.
    let wath = "Complete refurbishments at Wath library.";
    assert!(run.link(wath, "Consult on a new Library Strategy for 2023–2028.").is_none());

    // Adult and children's single front doors: each continues its own.
    let mut years = two_years();
    years.push(tracker(
        "d23",
        "2023/24",
        &[
            ("health-and-wellbeing", "Deliver a single front door for adult social care.", OnTrack),
            ("children-and-young-people", "Deliver a single front door for children’s social care.", OnTrack),
        ],
    ));
    let run = Run::new(years, &builtin());
    let adult = "Design a single front door for adult social care.";
    assert!(run.link(adult, "Deliver a single front door for adult social care.").is_some());
    let children = run.member("Deliver a single front door for children’s social care.");
    assert!(children.link.is_none(), "{children:?}");
}

/// One refurbishment of two libraries, then one action per library.
fn library_split() -> Vec<(Document, Vec<Milestone>)> {
    vec![
        tracker(
            "d22",
            "2022/23",
            &[("thriving-neighbourhoods", "Refurbish Thurcroft and Kiveton Park libraries.", Delayed)],
        ),
        tracker(
            "d23",
            "2023/24",
            &[
                ("thriving-neighbourhoods", "Complete the refurbishment of Thurcroft library.", OnTrack),
                ("thriving-neighbourhoods", "Complete the refurbishment of Kiveton Park library.", OnTrack),
            ],
        ),
    ]
}

#[test]
fn a_split_is_proposed_for_review_and_not_linked() {
    let years = library_split();

    let run = Run::new(years, &builtin());
    let whole = run.series_of("Refurbish Thurcroft and Kiveton Park libraries.");
    // One half continues the series (for review: the other half is as close)...
    let linked: Vec<&SeriesMember> = whole.members.iter().filter(|m| m.link.is_some()).collect();
    assert_eq!(linked.len(), 1, "{whole:#?}");
    assert_eq!(linked[0].decision, Decision::Review);
    // ... the other is proposed as a split, for review, and stays in its own series.
    assert_eq!(whole.proposals.len(), 1, "{whole:#?}");
    let p = &whole.proposals[0];
    assert_eq!(p.decision, Decision::Review);
    assert!(p.note.as_deref().is_some_and(|n| n.starts_with("possible split")), "{p:?}");
    let other = p.to.as_deref().expect("a proposal names its other end");
    assert!(run.series.iter().any(|s| s.id != whole.id && s.members[0].milestone_id == other));
    assert_eq!(p.runner_up.as_ref().map(|r| r.id.as_str()), Some(linked[0].milestone_id.as_str()));
}

#[test]
fn a_split_is_confirmed_with_one_rule_per_half() {
    let (_dir, rules) = rules_with_overrides(
        r#"
[[must_link]]
a = { plan_year = "2022/23", action = "Refurbish Thurcroft and Kiveton Park libraries." }
b = { plan_year = "2023/24", action = "Complete the refurbishment of Thurcroft library." }
[[must_link]]
a = { plan_year = "2022/23", action = "Refurbish Thurcroft and Kiveton Park libraries." }
b = { plan_year = "2023/24", action = "Complete the refurbishment of Kiveton Park library." }
"#,
    );
    let years = library_split();

    let run = Run::new(years, &rules);
    let s = run.series_of("Refurbish Thurcroft and Kiveton Park libraries.");
    let decisions: Vec<Decision> = s.members.iter().skip(1).map(|m| m.decision).collect();
    assert_eq!(decisions, [Decision::Manual, Decision::Manual], "{s:#?}");
    assert!(s.proposals.is_empty());
    // Two members in 2023/24, one status point per plan year.
    assert_eq!(s.status_history.len(), 2);
}

#[test]
fn the_examples_in_overrides_toml_are_valid_rules() {
    let shipped = std::fs::read_to_string(root().join("rules/overrides.toml")).unwrap();
    let examples: String = shipped
        .lines()
        .skip_while(|l| !l.starts_with("# Examples"))
        .skip(1)
        .filter_map(|l| l.strip_prefix("# "))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(examples.contains("[[must_link]]") && examples.contains("[[cannot_link]]"));
    let (_dir, rules) = rules_with_overrides(&examples);
    assert_eq!((rules.overrides.must_link.len(), rules.overrides.cannot_link.len()), (3, 1));
    // And the shipped file, as shipped, overrides nothing.
    assert!(builtin().overrides.must_link.is_empty() && builtin().overrides.cannot_link.is_empty());
}

#[test]
fn a_reorganised_theme_does_not_hide_a_match() {
    // Cross cutting and the environment theme are not related in the
    // crosswalk: the match is found by the cross-theme pass.
    let years = vec![
        tracker(
            "d21",
            "2021/22",
            &[(
                "cross-cutting",
                "Develop a proactive Tree Planting Strategy, with a dedicated engagement officer.",
                Delayed,
            )],
        ),
        tracker(
            "d22",
            "2022/23",
            &[
                (
                    "environment",
                    "Adopt the Tree Planting Strategy and plant trees on the sites agreed with members.",
                    OnTrack,
                ),
                ("environment", "Install electric vehicle charging points in Council car parks.", OnTrack),
            ],
        ),
    ];
    let run = Run::new(years, &builtin());
    let link = run
        .link(
            "Develop a proactive Tree Planting Strategy, with a dedicated engagement officer.",
            "Adopt the Tree Planting Strategy and plant trees on the sites agreed with members.",
        )
        .expect("linked across themes");
    assert!(link.note.as_deref().is_some_and(|n| n.contains("unrelated themes")), "{link:?}");
    assert_eq!(link.features.get("same_theme"), Some(&0.0));
    // The unrelated row stays alone; the series carries its latest theme.
    assert_eq!(run.series_of("Install electric vehicle charging points in Council car parks.").members.len(), 1);
    assert_eq!(
        run.series_of("Develop a proactive Tree Planting Strategy, with a dedicated engagement officer.")
            .theme_key
            .as_deref(),
        Some("environment")
    );
}

#[test]
fn must_link_joins_what_the_scores_keep_apart() {
    let (_dir, rules) = rules_with_overrides(
        r#"
[[must_link]]
a = { plan_year = "2021/22", action = "deliver a sustainable wellbeing programme to the WHOLE workforce" }
b = { plan_year = "2022/23", action = "Design a single front door for adult social care." }
note = "Checked against the cabinet minutes."
"#,
    );
    let run = Run::new(two_years(), &rules);
    let link = run
        .link(
            "Deliver a sustainable wellbeing programme to the whole workforce",
            "Design a single front door for adult social care.",
        )
        .expect("the override links them");
    assert_eq!(link.decision, Decision::Manual);
    assert_eq!(link.note.as_deref(), Some("must_link rule 1: Checked against the cabinet minutes."));
    assert!(link.score < 0.4, "the score is still shown: {}", link.score);
}

#[test]
fn cannot_link_keeps_apart_what_the_scores_join() {
    let (_dir, rules) = rules_with_overrides(&format!(
        "[[cannot_link]]\na = {{ plan_year = \"2021/22\", action = \"{CYCLE_21}\" }}\nb = {{ plan_year = \"2022/23\", action = \"{CYCLE_22}\" }}\n"
    ));
    let run = Run::new(two_years(), &rules);
    assert!(run.link(CYCLE_21, CYCLE_22).is_none());
    // The row says why; with no other candidate it starts a series, by hand.
    let kept = run.member(CYCLE_22);
    assert!(kept.note.as_deref().is_some_and(|n| n.contains("cannot_link rule 1")), "{kept:?}");
    assert!(kept.link.is_none() && kept.decision == Decision::Manual, "{kept:?}");
    assert_ne!(run.series_of(CYCLE_21).id, run.series_of(CYCLE_22).id);
}

#[test]
fn an_override_that_names_nothing_is_reported() {
    let (_dir, rules) = rules_with_overrides(
        "[[must_link]]\na = { plan_year = \"2021/22\", action = \"No such action\" }\nb = { id = \"d22-m0001\" }\n",
    );
    let trackers = two_years();
    let documents: Vec<Document> = trackers.iter().map(|(d, _)| d.clone()).collect();
    let milestones: Vec<Milestone> = trackers.into_iter().flat_map(|(_, m)| m).collect();
    let unmatched = reconcile::unmatched_overrides(&milestones, &documents, &rules);
    assert_eq!(unmatched, ["must_link rule 1: no milestone is \"No such action\" in 2021/22"]);
}

#[test]
fn renditions_of_one_report_are_one_action_not_a_second_year() {
    let (docx, rows) = tracker("dA", "2021/22", &[("environment", CYCLE_21, Delayed)]);
    let pdf = Document { id: "dB".into(), format: Format::Pdf, ..doc("dB", "2021/22", Format::Pdf) };
    let pdf_rows: Vec<Milestone> = rows
        .iter()
        .map(|m| Milestone { id: m.id.replace("dA", "dB"), document_id: "dB".into(), ..m.clone() })
        .collect();
    let (d22, rows22) = tracker("dC", "2022/23", &[("environment", CYCLE_22, Delayed)]);
    let run = Run::new(vec![(pdf, pdf_rows), (docx, rows), (d22, rows22)], &builtin());
    assert_eq!(run.series.len(), 1, "{:#?}", run.series);
    let s = &run.series[0];
    assert_eq!(s.members.len(), 3);
    // The DOCX row speaks for the plan year; the PDF row follows it.
    assert_eq!(s.members[0].milestone_id, "dA-m0001");
    let twin = s.members[1].link.as_ref().expect("rendition link");
    assert_eq!((twin.from.as_str(), twin.decision), ("dA-m0001", Decision::Auto));
    assert_eq!(twin.features.get("rendition"), Some(&1.0));
    assert_eq!(s.members[2].link.as_ref().map(|l| l.from.as_str()), Some("dA-m0001"));
    // One status point per plan year, in plan-year order, with the document's progress date.
    let years: Vec<_> = s.status_history.iter().map(|p| (p.plan_year.as_deref(), p.as_of.as_deref())).collect();
    assert_eq!(years, [(Some("2021/22"), Some("2021-12")), (Some("2022/23"), Some("2022-12"))]);
}

#[test]
fn a_rendition_row_read_slightly_differently_is_still_the_same_row() {
    let (docx, rows) = tracker(
        "dA",
        "2021/22",
        &[
            ("one-council", "Appointment based face-to-face customer service to re-open.", OnTrack),
            ("one-council", "Implement new housing case management system.", OnTrack),
        ],
    );
    // The PDF reading lost a word at a line end (hyphenation and spacing
    // slips are the same text already: only letters and digits compare).
    let pdf_rows: Vec<Milestone> = rows
        .iter()
        .map(|m| Milestone {
            id: m.id.replace("dA", "dB"),
            document_id: "dB".into(),
            action: m.action.replace("customer service", "customer"),
            ..m.clone()
        })
        .collect();
    let run = Run::new(vec![(docx, rows), (doc("dB", "2021/22", Format::Pdf), pdf_rows)], &builtin());
    assert_eq!(run.series.len(), 2, "{:#?}", run.series);
    let twin = run.member("Appointment based face-to-face customer to re-open.");
    let link = twin.link.as_ref().expect("joined to the DOCX row");
    assert_eq!((link.from.as_str(), link.decision), ("dA-m0001", Decision::Auto));
    assert!(link.note.as_deref().is_some_and(|n| n.starts_with("rendition")), "{link:?}");
}

#[test]
fn series_ids_survive_a_later_year_and_links_may_skip_a_year() {
    let before = Run::new(two_years(), &builtin());
    let mut years = two_years();
    years.push(tracker(
        "d24",
        "2024/25",
        &[
            ("environment", "Complete construction of the Moor Road, Manvers cycleway.", OnTrack),
            ("economy", "Complete delivery of the Towns Fund programme.", OnTrack),
            ("one-council", "Replace the payroll system.", OnTrack),
        ],
    ));
    let after = Run::new(years, &builtin());
    for s in &before.series {
        let same = after.series.iter().find(|x| x.id == s.id).unwrap_or_else(|| panic!("{} lost", s.id));
        assert_eq!(same.members[..s.members.len()], s.members[..], "{}", s.id);
    }
    // The Moor Road scheme, absent in 2023/24, continues in 2024/25.
    let link = after.link(CYCLE_22, "Complete construction of the Moor Road, Manvers cycleway.").expect("skip link");
    assert!(link.features.get("year_gap").is_some_and(|g| *g < 0.0), "{link:?}");
}

#[test]
fn the_order_documents_are_read_in_does_not_matter() {
    let rules = builtin();
    let forward = Run::new(two_years(), &rules);
    let backward = Run::new(two_years().into_iter().rev().collect(), &rules);
    assert_eq!(forward.series, backward.series);
}

// ------------------------------------------------------------------ measures

fn measure(id: &str, doc: &str, r: &str, title: &str, value: f64) -> Measure {
    Measure {
        id: id.into(),
        document_id: doc.into(),
        r#ref: Some(r.into()),
        title: Some(title.into()),
        priority: None,
        outcome_code: None,
        priority_measure: false,
        frequency: None,
        good_is: None,
        period: None,
        target: None,
        value: Some(Quantity { raw: value.to_string(), number: Some(value), unit: None }),
        status: MeasureStatusValue { symbol: None, canonical: Some(MeasureStatus::OnTarget) },
        direction: DirectionValue { symbol: None, canonical: None },
        source: MeasureSource::Scorecard,
        extra: BTreeMap::new(),
        provenance: Provenance::Docx { table: 0, row: 1 },
    }
}

#[test]
fn measures_link_by_ref_checked_against_the_title() {
    let period = |id: &str, p: &str| Document { period: Some(p.into()), ..doc(id, "2016/17", Format::Docx) };
    let documents = vec![period("q1", "2016/17 Q1"), period("q2", "2016/17 Q2")];
    let measures = vec![
        measure("q2-r1", "q2", "1.A1", "Number of subscribers to ward e-bulletins", 9000.0),
        measure("q2-r2", "q2", "2.B1", "Number of fly-tipping investigations", 12.0),
        measure("q2-r3", "q2", "3.C2", "% of household waste sent for recycling", 44.0),
        measure("q1-r1", "q1", "1.A1", "Number of subscribers to ward e-bulletins", 8000.0),
        measure("q1-r2", "q1", "2.B1", "Rate of looked after children per 10,000", 88.0),
        measure("q1-r3", "q1", "3.C1", "% of household waste sent for recycling", 43.0),
    ];
    let series = reconcile::measure_series(&measures, &documents, &builtin());
    let link_of =
        |id: &str| series.iter().flat_map(|s| &s.members).find(|m| m.measure_id == id).and_then(|m| m.link.clone());
    let same = link_of("q2-r1").expect("same ref, same title");
    assert_eq!((same.from.as_str(), same.decision), ("q1-r1", Decision::Auto));
    let renamed = link_of("q2-r2").expect("same ref, another title");
    assert_eq!(renamed.decision, Decision::Review);
    assert!(renamed.note.as_deref().is_some_and(|n| n.contains("renumbering")));
    let renumbered = link_of("q2-r3").expect("same title, new ref");
    assert_eq!((renumbered.from.as_str(), renumbered.decision), ("q1-r3", Decision::Review));
    // History in period order.
    let s = series.iter().find(|s| s.members.iter().any(|m| m.measure_id == "q2-r1")).unwrap();
    let history: Vec<_> = s.history.iter().map(|p| (p.period.as_deref(), p.value)).collect();
    assert_eq!(history, [(Some("2016/17 Q1"), Some(8000.0)), (Some("2016/17 Q2"), Some(9000.0))]);
}

// ------------------------------------------ the content files, without parsing

#[test]
fn content_trackers_link_with_f1_at_least_095() {
    let trackers = content::all_trackers();
    if trackers.len() < 2 {
        return;
    }
    let (mut ds, gold) = content::dataset_and_gold(&trackers);
    ds.series = reconcile::milestone_series(&ds.milestones, &ds.documents, &builtin());
    let report = eval::evaluate(&ds, &gold);
    let links = report.links.as_ref().expect("series gold");
    assert!(links.overall.f1() >= 0.95, "{}", eval::render(&report));
}

// --------------------------------------------------- the binary on fixtures

fn tracker_files(names: &[&str]) -> Vec<PathBuf> {
    let reports = fixtures().join("reports");
    let mut out = Vec::new();
    for n in names {
        for ext in ["pdf", "docx"] {
            let p = reports.join(format!("{n}.{ext}"));
            if p.is_file() {
                out.push(p);
            }
        }
    }
    out
}

fn run_dataset(files: &[PathBuf], out: &Path, rules: Option<&Path>) -> serde_json::Value {
    let inputs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let mut extra = vec![];
    let rules = rules.map(|r| r.display().to_string());
    if let Some(r) = &rules {
        extra.extend(["--rules", r.as_str()]);
    }
    let o = run(&inputs, out, &extra);
    assert!(o.status.success(), "{}", stderr(&o));
    read_json(&out.join("dataset.json"))
}

const ALL_TRACKERS: [&str; 4] = ["tracker-2021-22", "tracker-2022-23", "tracker-2023-24", "tracker-2024-25"];

#[test]
fn fixture_links_reach_f1_095_with_a_small_review_band() {
    if tracker_files(&ALL_TRACKERS).len() < 5 {
        return;
    }
    let (path, _) = fixture_dataset();
    let o = bin().args(["eval", "--json"]).arg(path).arg(fixtures().join("gold")).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let links = &report["links"];
    let f = |k: &str| links[k].as_f64().unwrap_or(f64::NAN);
    let pairs = &links["overall"];
    let (p, g, t) = (pairs["predicted_pairs"].as_f64(), pairs["gold_pairs"].as_f64(), pairs["true_pairs"].as_f64());
    let (p, g, t) = (p.unwrap(), g.unwrap(), t.unwrap());
    let f1 = 2.0 * t / (p + g);
    assert!(f1 >= 0.95, "link F1 {f1:.3}: {links}");
    assert!(f("bcubed_precision") >= 0.95 && f("bcubed_recall") >= 0.95, "{links}");
    assert!(f("auto_share") >= 0.9, "{links}");
    assert!(links["review_band"].as_u64().is_some_and(|n| n <= 20), "{links}");
}

#[test]
fn an_archivists_overrides_in_a_rules_folder_win_over_scores() {
    let files = tracker_files(&["tracker-2021-22", "tracker-2022-23"]);
    if files.len() < 3 {
        return;
    }
    let rules = rules_folder(
        r#"
[[must_link]]
a = { plan_year = "2021/22", action = "Develop the new Health and Wellbeing Board action plan, based on the findings of the JSNA." }
b = { plan_year = "2022/23", action = "Establish a network of warm spaces in libraries, community buildings and voluntary sector venues during winter 2022/23." }
note = "Test: joined by hand."

[[cannot_link]]
a = { plan_year = "2021/22", action = "Greasbrough roundabout upgrade." }
b = { plan_year = "2022/23", action = "Greasbrough roundabout upgrade." }
"#,
    );
    let tmp = tempfile::tempdir().unwrap();
    let ds = run_dataset(&files, tmp.path(), Some(rules.path()));
    let members: Vec<&serde_json::Value> =
        ds["series"].as_array().unwrap().iter().flat_map(|s| s["members"].as_array().unwrap()).collect();
    let action = |id: &str| {
        ds["milestones"].as_array().unwrap().iter().find(|m| m["id"] == id).map(|m| m["action"].as_str().unwrap_or(""))
    };
    let manual: Vec<_> = members.iter().filter(|m| m["decision"] == "manual").collect();
    let joined =
        manual.iter().find(|m| action(m["milestone_id"].as_str().unwrap()).is_some_and(|a| a.contains("warm spaces")));
    let joined = joined.expect("must_link member");
    assert_eq!(joined["link"]["note"], "must_link rule 1: Test: joined by hand.");
    let kept = manual.iter().find(|m| m["note"].as_str().is_some_and(|n| n.contains("cannot_link rule 1")));
    let kept = kept.expect("cannot_link member");
    assert!(kept["link"].is_null(), "{kept}");
    assert_eq!(action(kept["milestone_id"].as_str().unwrap()), Some("Greasbrough roundabout upgrade."));
}

#[test]
fn series_ids_survive_adding_the_next_years_report() {
    let earlier = tracker_files(&ALL_TRACKERS[..3]);
    let all = tracker_files(&ALL_TRACKERS);
    if all.len() < 5 {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let before = run_dataset(&earlier, &tmp.path().join("before"), None);
    let after = run_dataset(&all, &tmp.path().join("after"), None);
    let by_id: BTreeMap<&str, &serde_json::Value> =
        after["series"].as_array().unwrap().iter().map(|s| (s["id"].as_str().unwrap(), s)).collect();
    for s in before["series"].as_array().unwrap() {
        let id = s["id"].as_str().unwrap();
        let same = by_id.get(id).unwrap_or_else(|| panic!("series {id} lost when 2024/25 was added"));
        let old = s["members"].as_array().unwrap();
        assert_eq!(&same["members"].as_array().unwrap()[..old.len()], &old[..], "{id}");
    }
}

#[test]
fn a_mistake_in_reconcile_toml_stops_the_run_naming_file_and_line() {
    let rules = rules_folder("");
    let path = rules.path().join("reconcile.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("open_statuses = [\"on_track\"", "open_statuses = [\"on_trak\"")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let files = tracker_files(&["tracker-2021-22"]);
    let inputs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let o = run(&inputs, tmp.path(), &["--rules", &rules.path().display().to_string()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let line = text.lines().position(|l| l.starts_with("open_statuses")).unwrap() + 1;
    assert!(stderr(&o).contains(&format!("reconcile.toml:{line}:")), "{}", stderr(&o));
    assert!(!tmp.path().join("dataset.json").exists());
}
