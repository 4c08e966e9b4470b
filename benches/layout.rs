//! Layout-stage throughput on the fixture PDFs: pages per second of
//! `read_layout` (glyphs, rules, tables, page joins, font pass), against
//! `pdf-extract`'s own plain-text extraction of the same files measured in
//! the same run, so the figure is a ratio that does not depend on the machine.
//!
//! Run: `cargo bench --bench layout` (single thread).

use std::time::Instant;

use plantrace::layout::Limits;
use plantrace::model::Format;
use plantrace::pipeline::read_layout;

fn main() {
    // `cargo test --all-targets` runs harness-less benches without
    // `--bench`; measure only under `cargo bench`.
    if !std::env::args().any(|a| a == "--bench") {
        println!("layout benchmark: run with `cargo bench --bench layout` (skipped under cargo test)");
        return;
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/reports");
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .expect("fixtures/reports exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pdf"))
        .map(|p| {
            (p.file_name().unwrap_or_default().to_string_lossy().to_string(), std::fs::read(&p).unwrap_or_default())
        })
        .collect();
    files.sort();
    let rounds = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(20usize);
    let limits = Limits::default();

    let mut pages = 0u64;
    let started = Instant::now();
    for _ in 0..rounds {
        for (_, bytes) in &files {
            let doc = read_layout(bytes, Format::Pdf, &limits).expect("fixture PDFs read");
            pages += doc.pages.unwrap_or(0) as u64;
        }
    }
    let layout_s = started.elapsed().as_secs_f64();

    let started = Instant::now();
    for _ in 0..rounds {
        for (_, bytes) in &files {
            let _ = pdf_extract::extract_text_from_mem(bytes);
        }
    }
    let text_s = started.elapsed().as_secs_f64();

    println!("layout stage on {} fixture PDFs × {rounds} rounds: {pages} pages", files.len());
    println!("  read_layout            {:>8.1} pages/s  ({layout_s:.2} s)", pages as f64 / layout_s);
    println!("  pdf_extract plain text {:>8.1} pages/s  ({text_s:.2} s)", pages as f64 / text_s);
    println!("  ratio layout / plain text time: {:.2}", layout_s / text_s);
}
