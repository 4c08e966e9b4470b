//! The command line contract (SPEC §1): outputs, exit statuses, schema,
//! determinism, rules errors.

mod common;

use std::fs;

use common::*;

#[test]
fn run_writes_a_dataset_that_validates_against_its_schema() {
    let (path, dataset) = fixture_dataset();
    let schema = read_json(&path.with_file_name("dataset.schema.json"));
    let validator = jsonschema::validator_for(&schema).expect("the generated schema is a valid JSON Schema");
    let errors: Vec<String> =
        validator.iter_errors(dataset).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "dataset does not match its schema:\n{}", errors.join("\n"));
    assert_eq!(dataset["schema_version"], "1");
    assert!(dataset["documents"].as_array().is_some_and(|d| !d.is_empty()));
}

#[test]
fn schema_command_prints_the_schema_written_beside_the_dataset() {
    let o = bin().arg("schema").output().unwrap();
    assert!(o.status.success());
    let printed: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let (path, _) = fixture_dataset();
    assert_eq!(printed, read_json(&path.with_file_name("dataset.schema.json")));
    assert!(printed["$defs"]["Milestone"]["properties"]["action"].is_object());
}

#[test]
fn output_is_byte_identical_whatever_the_jobs() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let reports = fixtures().join("reports");
    let oa = run(&[&reports], &a, &["--jobs", "1"]);
    let ob = run(&[&reports], &b, &["--jobs", "2"]);
    assert!(oa.status.success() && ob.status.success(), "{} {}", stderr(&oa), stderr(&ob));
    let (da, db) = (fs::read(a.join("dataset.json")).unwrap(), fs::read(b.join("dataset.json")).unwrap());
    assert!(da == db, "--jobs 1 and --jobs 2 wrote different datasets");
}

#[test]
fn output_does_not_depend_on_the_order_inputs_are_given() {
    let tmp = tempfile::tempdir().unwrap();
    let r = fixtures().join("reports");
    let mut files: Vec<_> = fs::read_dir(&r).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let fwd: Vec<&std::path::Path> = files.iter().map(|p| p.as_path()).collect();
    let rev: Vec<&std::path::Path> = files.iter().rev().map(|p| p.as_path()).collect();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    assert!(run(&fwd, &a, &[]).status.success());
    assert!(run(&rev, &b, &[]).status.success());
    assert_eq!(fs::read(a.join("dataset.json")).unwrap(), fs::read(b.join("dataset.json")).unwrap());
}

#[test]
fn a_broken_rules_file_exits_2_naming_file_and_line_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = tmp.path().join("rules");
    fs::create_dir(&rules).unwrap();
    for e in fs::read_dir(root().join("rules")).unwrap() {
        let p = e.unwrap().path();
        fs::copy(&p, rules.join(p.file_name().unwrap())).unwrap();
    }
    let statuses = fs::read_to_string(rules.join("statuses.toml")).unwrap();
    let broken = statuses.replacen("canonical = \"delayed\"", "canonical = \"delayd\"", 1);
    let line = broken.lines().position(|l| l.contains("delayd")).unwrap() + 1;
    fs::write(rules.join("statuses.toml"), broken).unwrap();
    let out = tmp.path().join("out");
    let o = run(&[&fixtures().join("reports")], &out, &["--rules", rules.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains(&format!("statuses.toml:{line}:")), "no file:line in {err:?}");
    assert!(err.contains("delayd"), "{err}");
    assert!(!out.join("dataset.json").exists());
}

#[test]
fn an_invalid_pattern_in_rules_is_reported_at_its_line() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = tmp.path().join("rules");
    fs::create_dir(&rules).unwrap();
    for e in fs::read_dir(root().join("rules")).unwrap() {
        let p = e.unwrap().path();
        fs::copy(&p, rules.join(p.file_name().unwrap())).unwrap();
    }
    let doc = fs::read_to_string(rules.join("document.toml")).unwrap();
    let broken = doc.replacen("noise = [", "noise = [\n  '(unclosed',", 1);
    let line = broken.lines().position(|l| l.contains("(unclosed")).unwrap() + 1;
    fs::write(rules.join("document.toml"), broken).unwrap();
    let o = run(&[&fixtures().join("reports")], &tmp.path().join("out"), &["--rules", rules.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains(&format!("document.toml:{line}:")), "{}", stderr(&o));
}

#[test]
fn an_empty_input_folder_gives_a_valid_empty_dataset() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty");
    fs::create_dir(&empty).unwrap();
    let out = tmp.path().join("out");
    let o = run(&[&empty], &out, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let ds = read_json(&out.join("dataset.json"));
    for key in ["documents", "milestones", "measures", "scorecard_keys", "series", "measure_series", "errors"] {
        assert_eq!(ds[key], serde_json::json!([]), "{key}");
    }
    let schema = read_json(&out.join("dataset.schema.json"));
    assert!(jsonschema::is_valid(&schema, &ds));
    assert!(stderr(&o).contains("0 documents"));
}

#[test]
fn a_missing_input_exits_2_with_a_clear_message() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = run(&[&tmp.path().join("no-such-folder")], &out, &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("no-such-folder") && err.contains("does not exist"), "{err}");
    assert!(!out.exists());
}

#[test]
fn the_summary_line_counts_what_was_written() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = run(&[&fixtures().join("reports")], &out, &[]);
    assert!(o.status.success());
    let ds = read_json(&out.join("dataset.json"));
    let err = stderr(&o);
    let n = ds["milestones"].as_array().unwrap().len();
    assert!(err.contains(&format!("{n} milestones")), "{err}");
    assert_eq!(err.lines().count(), 1, "quiet, non-terminal runs print only the summary: {err}");
}
