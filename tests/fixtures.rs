//! The fixture corpus against itself: every gold string must be in the
//! fixture's own text, so gold and fixtures cannot drift apart.
//!
//! The text is read independently of plantrace's layout layer: DOCX from
//! `word/document.xml` with its tags stripped, PDF with `pdf-extract`'s plain
//! text extraction. DOCX gold strings must occur as contiguous text; in a PDF,
//! whose plain text interleaves table columns, the words of a gold string
//! must occur in order (other text may sit between them, as it does where a
//! cell runs over a page break).

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Letters and digits only, lower-case: what a rendering cannot change.
fn squash(s: &str) -> String {
    s.chars().filter(|c| c.is_alphanumeric()).flat_map(|c| c.to_lowercase()).collect()
}

fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(|w| w.to_lowercase()).collect()
}

fn docx_text(path: &Path) -> String {
    let f = fs::File::open(path).unwrap();
    let mut zip = zip::ZipArchive::new(f).unwrap();
    let mut xml = String::new();
    zip.by_name("word/document.xml").unwrap().read_to_string(&mut xml).unwrap();
    // Paragraph ends become spaces; every other tag disappears.
    let xml = xml.replace("</w:p>", " ");
    let mut out = String::new();
    let mut in_tag = false;
    for c in xml.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'")
}

fn pdf_text(path: &Path) -> String {
    let bytes = fs::read(path).unwrap();
    pdf_extract::extract_text_from_mem(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Whether `needle`'s words occur in order in `hay` (as a subsequence).
fn words_in_order(needle: &[String], hay: &[String]) -> bool {
    let mut it = hay.iter();
    needle.iter().all(|w| it.any(|h| h == w))
}

fn gold_files() -> Vec<(String, serde_json::Value)> {
    let mut out = Vec::new();
    for e in fs::read_dir(fixtures().join("gold")).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_stem().unwrap().to_string_lossy().to_string();
        if name == "series" {
            continue;
        }
        let v: serde_json::Value = serde_json::from_slice(&fs::read(&p).unwrap()).unwrap();
        out.push((name, v));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn gold_strings(g: &serde_json::Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for m in g["milestones"].as_array().into_iter().flatten() {
        for field in ["action", "rationale", "outcome"] {
            if let Some(s) = m[field].as_str() {
                out.push((field.to_string(), s.to_string()));
            }
        }
    }
    for k in g["key_entries"].as_array().into_iter().flatten() {
        if let Some(s) = k["label"].as_str() {
            out.push(("key label".into(), s.to_string()));
        }
    }
    out
}

#[test]
fn every_gold_string_is_in_its_fixture() {
    let reports = fixtures().join("reports");
    let mut checked = 0;
    let mut missing = Vec::new();
    for (name, gold) in gold_files() {
        let strings = gold_strings(&gold);
        let mut renditions = 0;
        for ext in ["docx", "pdf"] {
            let path = reports.join(format!("{name}.{ext}"));
            if !path.exists() {
                continue;
            }
            renditions += 1;
            if ext == "docx" {
                let text = squash(&docx_text(&path));
                for (field, s) in &strings {
                    checked += 1;
                    if !text.contains(&squash(s)) {
                        missing.push(format!("{name}.docx {field}: {s:?}"));
                    }
                }
            } else {
                let text = words(&pdf_text(&path));
                for (field, s) in &strings {
                    checked += 1;
                    if !words_in_order(&words(s), &text) {
                        missing.push(format!("{name}.pdf {field}: {s:?}"));
                    }
                }
            }
        }
        assert!(renditions > 0, "gold {name}.json has no fixture in fixtures/reports/");
    }
    assert!(checked > 500, "only {checked} gold strings checked");
    assert!(missing.is_empty(), "{} gold strings not in their fixtures:\n{}", missing.len(), missing.join("\n"));
}

#[test]
fn every_series_member_is_a_gold_action() {
    let series: serde_json::Value =
        serde_json::from_slice(&fs::read(fixtures().join("gold/series.json")).unwrap()).unwrap();
    let actions: Vec<String> = gold_files()
        .iter()
        .flat_map(|(_, g)| g["milestones"].as_array().cloned().unwrap_or_default())
        .filter_map(|m| m["action"].as_str().map(squash))
        .collect();
    let list = series["series"].as_array().unwrap();
    assert!(list.len() >= 20, "expected the multi-year series, found {}", list.len());
    for s in list {
        let members = s.as_array().unwrap();
        assert!(members.len() >= 2);
        for a in members {
            let a = a.as_str().unwrap();
            assert!(actions.contains(&squash(a)), "series member is not a gold action: {a:?}");
        }
    }
}

#[test]
fn fixtures_stay_small() {
    fn size(p: &Path) -> u64 {
        if p.is_dir() {
            fs::read_dir(p).unwrap().map(|e| size(&e.unwrap().path())).sum()
        } else {
            fs::metadata(p).map(|m| m.len()).unwrap_or(0)
        }
    }
    let total = size(&fixtures());
    assert!(total < 20 << 20, "fixtures/ is {} MB, over the 20 MB budget", total >> 20);
}

#[test]
fn the_timeline_and_the_annual_report_have_no_milestones_in_gold() {
    for name in ["timeline-2015-18", "annual-report-2021-22-neighbourhoods"] {
        let g: serde_json::Value =
            serde_json::from_slice(&fs::read(fixtures().join(format!("gold/{name}.json"))).unwrap()).unwrap();
        assert_eq!(g["milestones"].as_array().map_or(0, |a| a.len()), 0, "{name}");
    }
}
