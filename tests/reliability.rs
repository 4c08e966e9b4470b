//! Reliability (SPEC §7): no bad file can crash, hang or poison a batch.
//!
//! The malformed files are real and committed in `fixtures/bad/` (see its
//! README); failures that need a worker to misbehave on a good file (panic,
//! abort, stack overflow, endless loop, runaway allocation) are triggered
//! with the `PLANTRACE_TEST_FAULT` testing aid (src/worker/fault.rs).

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

/// Every file of fixtures/bad/ that must be refused, with the error kinds
/// accepted for it.
const REFUSED: &[(&str, &[&str])] = &[
    ("truncated.pdf", &["corrupt"]),
    ("random-bytes.pdf", &["corrupt"]),
    ("empty.pdf", &["corrupt"]),
    ("empty.docx", &["corrupt"]),
    ("encrypted.pdf", &["encrypted"]),
    ("scanned.pdf", &["no_text_layer"]),
    ("xobject-cycle.pdf", &["corrupt"]),
    ("flate-bomb.pdf", &["too_large"]),
    ("huge.pdf", &["too_large"]),
    ("zip-bomb.docx", &["too_large"]),
    ("not-a-zip.docx", &["corrupt"]),
];

/// Files of fixtures/bad/ that must be read (their hostile part ignored or
/// worked around, with a warning), not refused: the file, and a word the
/// warning must contain.
const READ: &[(&str, &str)] =
    &[("billion-laughs.docx", "entit"), ("parent-cycle.pdf", "cycle"), ("pdf-extract-panic.pdf", "plain text")];

/// Limits of the batch test: short enough for a test, large enough that
/// the good reports are never near them even in a debug build on a busy
/// machine (they need ~1 s and under 128 MiB each).
const DOC_TIMEOUT: u64 = 20;
const BATCH_LIMITS: &[&str] = &["--doc-timeout", "20", "--max-memory", "384", "--max-inflated", "64", "--jobs", "2"];

fn array<'a>(ds: &'a Value, key: &str) -> &'a Vec<Value> {
    ds[key].as_array().unwrap_or_else(|| panic!("dataset has no {key} array"))
}

fn errors_by_file(ds: &Value) -> Vec<(String, String, String)> {
    array(ds, "errors")
        .iter()
        .map(|e| {
            let path = e["path"].as_str().unwrap_or_default();
            let name = Path::new(path).file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
            (name, e["kind"].as_str().unwrap_or_default().to_string(), e["message"].as_str().unwrap_or_default().into())
        })
        .collect()
}

#[test]
fn bad_files_readme_lists_exactly_the_files_the_tests_expect() {
    let bad = fixtures().join("bad");
    let readme = fs::read_to_string(bad.join("README.md")).unwrap();
    let mut listed: Vec<String> = readme
        .lines()
        .filter_map(|l| l.strip_prefix("| `")?.split_once('`').map(|(name, _)| name.to_string()))
        .collect();
    let mut on_disk: Vec<String> = fs::read_dir(&bad)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n != "README.md")
        .collect();
    let mut expected: Vec<String> =
        REFUSED.iter().map(|(n, _)| n.to_string()).chain(READ.iter().map(|(n, _)| n.to_string())).collect();
    listed.sort();
    on_disk.sort();
    expected.sort();
    assert_eq!(listed, expected, "fixtures/bad/README.md and this test disagree");
    assert_eq!(on_disk, expected, "fixtures/bad/ and this test disagree");
    let size: u64 = fs::read_dir(&bad).unwrap().map(|e| e.unwrap().metadata().unwrap().len()).sum();
    assert!(size < 5 << 20, "fixtures/bad/ is {size} bytes; keep it well under 5 MiB");
}

/// The contract of SPEC §7 in one batch: every good report's records are
/// exactly what a run without the bad files gives, every bad file is an
/// error of the right kind with a message, the run ends (exit 1) in a time
/// bounded by the limits.
#[test]
fn one_batch_of_good_and_bad_files_keeps_every_good_record() {
    let tmp = tempfile::tempdir().unwrap();
    let reports = fixtures().join("reports");
    let bad = fixtures().join("bad");

    let clean = run(&[&reports], &tmp.path().join("clean"), BATCH_LIMITS);
    assert!(clean.status.success(), "the good reports alone failed: {}", stderr(&clean));
    let clean = read_json(&tmp.path().join("clean/dataset.json"));

    let started = Instant::now();
    let mixed_out = run(&[&reports, &bad], &tmp.path().join("mixed"), BATCH_LIMITS);
    let elapsed = started.elapsed();
    assert_eq!(mixed_out.status.code(), Some(1), "a run with failed documents exits 1: {}", stderr(&mixed_out));
    let mixed = read_json(&tmp.path().join("mixed/dataset.json"));

    // Bounded by the limits: at most the files that may time out wait for
    // the whole limit (one, in optimised builds), the rest is ordinary work.
    let bound = Duration::from_secs(60 + 2 * DOC_TIMEOUT);
    assert!(elapsed < bound, "the batch took {elapsed:?}, more than {bound:?}");

    // Good documents: the same records, byte for byte.
    let good: Vec<&Value> = array(&mixed, "documents")
        .iter()
        .filter(|d| d["path"].as_str().is_some_and(|p| !p.contains("fixtures/bad/")))
        .collect();
    let clean_docs: Vec<&Value> = array(&clean, "documents").iter().collect();
    assert_eq!(good, clean_docs, "a good document's record changed when bad files were in the batch");
    for key in ["milestones", "measures", "scorecard_keys", "series", "measure_series"] {
        assert!(mixed[key] == clean[key], "{key} changed when bad files were in the batch");
    }
    assert!(array(&clean, "errors").is_empty());

    // Bad documents: each refused with the expected kind and a message, or
    // read with a warning.
    let errors = errors_by_file(&mixed);
    let report = errors.iter().map(|(n, k, m)| format!("  {n}: {k}: {m}")).collect::<Vec<_>>().join("\n");
    assert_eq!(errors.len(), REFUSED.len(), "errors:\n{report}");
    for (name, kinds) in REFUSED {
        let Some((_, kind, message)) = errors.iter().find(|(n, _, _)| n == name) else {
            panic!("{name} is not in errors:\n{report}");
        };
        assert!(kinds.contains(&kind.as_str()), "{name}: {kind}, expected one of {kinds:?}: {message}");
        assert!(message.len() > 20, "{name}: the message should say what to do: {message:?}");
    }
    for (name, expected) in READ {
        let doc = array(&mixed, "documents")
            .iter()
            .find(|d| d["path"].as_str().is_some_and(|p| p.ends_with(name)))
            .unwrap_or_else(|| panic!("{name} should have been read"));
        let warnings = doc["warnings"].to_string();
        assert!(warnings.contains(expected), "{name}: expected a warning about {expected}, got {warnings}");
    }
    // The page pdf-extract panics on still yields its words, through lopdf.
    let panicky = array(&mixed, "documents")
        .iter()
        .find(|d| d["path"].as_str().is_some_and(|p| p.ends_with("pdf-extract-panic.pdf")))
        .map(|d| d["title"].to_string())
        .unwrap_or_default();
    assert!(panicky.contains("Quarterly performance report"), "{panicky}");
    let message = |name: &str| errors.iter().find(|(n, _, _)| n == name).map(|(_, _, m)| m.clone()).unwrap_or_default();
    assert!(message("xobject-cycle.pdf").contains("draws itself"), "{}", message("xobject-cycle.pdf"));
    assert!(message("flate-bomb.pdf").contains("--max-inflated"), "{}", message("flate-bomb.pdf"));
    assert!(message("zip-bomb.docx").contains("--max-inflated"), "{}", message("zip-bomb.docx"));
    assert!(message("scanned.pdf").contains("OCR"), "{}", message("scanned.pdf"));
    assert!(message("encrypted.pdf").contains("password"), "{}", message("encrypted.pdf"));

    // And the summary line counts them.
    let err = stderr(&mixed_out);
    assert!(err.contains(&format!("{} errors", REFUSED.len())), "{err}");
}

#[test]
fn workers_and_in_process_write_the_same_bytes_whatever_the_jobs() {
    let tmp = tempfile::tempdir().unwrap();
    let reports = fixtures().join("reports");
    let runs: [(&str, &[&str]); 3] = [
        ("in-process", &["--in-process", "--jobs", "2"]),
        ("workers-1", &["--jobs", "1"]),
        ("workers-2", &["--jobs", "2"]),
    ];
    let mut outputs = Vec::new();
    for (name, args) in runs {
        let out = tmp.path().join(name);
        let o = run(&[&reports], &out, args);
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        outputs.push((name, fs::read(out.join("dataset.json")).unwrap()));
    }
    for (name, bytes) in &outputs[1..] {
        assert!(*bytes == outputs[0].1, "{name} wrote a different dataset from {}", outputs[0].0);
    }
}

#[test]
fn limits_given_on_the_command_line_reach_the_workers() {
    let tmp = tempfile::tempdir().unwrap();
    let reports = fixtures().join("reports");
    let o = run(&[&reports], tmp.path(), &["--max-pages", "5", "--max-zip-entries", "3"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let ds = read_json(&tmp.path().join("dataset.json"));
    let errors = errors_by_file(&ds);
    assert!(!errors.is_empty());
    for (name, kind, message) in &errors {
        assert_eq!(kind, "too_large", "{name}: {message}");
        if name.ends_with(".docx") {
            assert!(message.contains("--max-zip-entries"), "{name}: {message}");
        } else {
            assert!(message.contains("limit of 5"), "{name}: {message}");
        }
    }
    // Every DOCX has more than three entries; PDFs of at most 5 pages pass.
    let docx = fs::read_dir(&reports).unwrap().filter(|e| e.as_ref().unwrap().path().extension().unwrap() == "docx");
    assert_eq!(errors.iter().filter(|(n, _, _)| n.ends_with(".docx")).count(), docx.count());
    for d in array(&ds, "documents") {
        assert!(d["pages"].as_u64().is_some_and(|p| p <= 5), "{d}");
    }
}

// ---------------------------------------------------------------------------
// Workers that misbehave

/// A folder holding `fault.docx` and `good.docx`, both copies of a small
/// fixture report; the fault is asked for on `fault.docx`, which sorts
/// first, so with one job the same slot must replace its worker to read
/// `good.docx`.
fn fault_run(kind: &str, extra: &[&str]) -> (std::process::Output, Value, Duration) {
    let tmp = tempfile::tempdir().unwrap();
    let inputs = tmp.path().join("in");
    fs::create_dir_all(&inputs).unwrap();
    let src = fixtures().join("reports/tracker-2021-22.docx");
    fs::copy(&src, inputs.join("fault.docx")).unwrap();
    fs::copy(&src, inputs.join("good.docx")).unwrap();
    let out = tmp.path().join("out");
    let mut args = vec!["--jobs", "1"];
    args.extend_from_slice(extra);
    let started = Instant::now();
    let fault = format!("{kind}:fault.docx");
    let o = run_env(&[&inputs], &out, &args, &[("PLANTRACE_TEST_FAULT", &fault)]);
    let elapsed = started.elapsed();
    let ds = read_json(&out.join("dataset.json"));
    (o, ds, elapsed)
}

/// The faulty document is the one error, with `kind` and a message
/// containing `says`; the good one was read by a fresh worker.
fn assert_fault(o: &std::process::Output, ds: &Value, kind: &str, says: &str) {
    assert_eq!(o.status.code(), Some(1), "{}", stderr(o));
    let errors = errors_by_file(ds);
    assert_eq!(errors.len(), 1, "{errors:?}");
    let (name, k, message) = &errors[0];
    assert_eq!((name.as_str(), k.as_str()), ("fault.docx", kind), "{message}");
    assert!(message.contains(says), "expected {says:?} in: {message}");
    let docs = array(ds, "documents");
    assert_eq!(docs.len(), 1);
    assert!(docs[0]["path"].as_str().is_some_and(|p| p.ends_with("good.docx")));
    assert!(!array(ds, "milestones").is_empty(), "the good document's records are missing");
}

#[test]
fn a_worker_that_panics_costs_only_its_document() {
    let (o, ds, _) = fault_run("panic", &[]);
    assert_fault(&o, &ds, "parser_crash", "panic on purpose");
}

#[test]
fn a_worker_that_aborts_costs_only_its_document() {
    let (o, ds, _) = fault_run("abort", &[]);
    assert_fault(&o, &ds, "parser_crash", "SIGABRT");
}

#[test]
fn a_worker_that_overflows_its_stack_costs_only_its_document() {
    let (o, ds, _) = fault_run("stack", &[]);
    assert_fault(&o, &ds, "parser_crash", "overflowed its stack");
}

#[test]
fn a_worker_that_loops_for_ever_is_stopped_at_the_time_limit() {
    let (o, ds, elapsed) = fault_run("loop", &["--doc-timeout", "5"]);
    assert_fault(&o, &ds, "timeout", "--doc-timeout");
    assert!(elapsed < Duration::from_secs(30), "took {elapsed:?} with a 5 s limit");
}

#[test]
fn a_worker_that_allocates_without_bound_is_stopped_at_the_memory_limit() {
    let (o, ds, _) = fault_run("alloc", &["--max-memory", "256"]);
    assert_fault(&o, &ds, "too_large", "256 MiB");
}

// ---------------------------------------------------------------------------
// Interrupted runs

/// Start a run into `out` that cannot finish on its own for two minutes
/// (one document loops), wait until its workers are busy, send `signal`,
/// and check: the run ends at once, the previous dataset is intact, no
/// temporary file and no worker is left, and a new run writes the same
/// bytes as before.
#[cfg(target_os = "linux")]
fn interrupt_midway(signal: i32) {
    use std::os::unix::process::ExitStatusExt;

    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let reports = fixtures().join("reports");
    let first = run(&[&reports], &out, &["--jobs", "2"]);
    assert!(first.status.success(), "{}", stderr(&first));
    let before = fs::read(out.join("dataset.json")).unwrap();

    let stuck = tmp.path().join("stuck.docx");
    fs::copy(fixtures().join("reports/annual-report-2021-22-neighbourhoods.docx"), &stuck).unwrap();
    let mut child = bin()
        .args(["run", "--quiet", "--jobs", "2", "--doc-timeout", "120", "--out"])
        .arg(&out)
        .arg(&reports)
        .arg(&stuck)
        .env("PLANTRACE_TEST_FAULT", "loop:stuck.docx")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let waiting = Instant::now();
    let mut workers = Vec::new();
    while workers.len() < 2 && waiting.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(50));
        workers = children_of(pid);
    }
    assert!(!workers.is_empty(), "no worker process started");
    std::thread::sleep(Duration::from_millis(500));
    // SAFETY: sending a signal to our own child.
    assert_eq!(unsafe { libc::kill(pid as libc::pid_t, signal) }, 0);

    let waiting = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if waiting.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            panic!("the run did not stop within 20 s of signal {signal}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.signal(), Some(signal), "the run should end by the signal it was sent: {status:?}");

    assert!(fs::read(out.join("dataset.json")).unwrap() == before, "the previous dataset.json changed");
    let leftovers: Vec<PathBuf> = fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().contains(".tmp-")))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    let waiting = Instant::now();
    while workers.iter().any(|&w| alive(w)) && waiting.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let survivors: Vec<u32> = workers.iter().copied().filter(|&w| alive(w)).collect();
    assert!(survivors.is_empty(), "workers outlived the run: {survivors:?}");

    // A run killed while writing leaves a temporary file: the next run
    // removes it. And it writes the same bytes as before.
    fs::write(out.join(".dataset.json.tmp-4294967"), b"half a dataset").unwrap();
    let again = run(&[&reports], &out, &["--jobs", "2"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(fs::read(out.join("dataset.json")).unwrap() == before, "a re-run wrote different bytes");
    assert!(!out.join(".dataset.json.tmp-4294967").exists(), "the stale temporary file was not removed");
}

#[cfg(target_os = "linux")]
#[test]
fn a_run_killed_midway_leaves_the_previous_dataset_intact() {
    interrupt_midway(libc::SIGKILL);
}

#[cfg(target_os = "linux")]
#[test]
fn a_run_terminated_midway_stops_its_workers_and_leaves_the_previous_dataset_intact() {
    interrupt_midway(libc::SIGTERM);
}

#[cfg(target_os = "linux")]
#[test]
fn a_run_interrupted_midway_stops_its_workers_and_leaves_the_previous_dataset_intact() {
    interrupt_midway(libc::SIGINT);
}
