//! The layout layer on the fixtures' real traps: merged cells, banner rows,
//! repeated headers, rows broken across pages, two-line target cells, symbol
//! fonts in every encoding — and the PDF and DOCX of one report giving the
//! same grid.

use std::path::PathBuf;

use plantrace::layout::{fold_ws, Block, LayoutDoc, Limits, Table};
use plantrace::model::Format;
use plantrace::pipeline::read_layout;

fn read(name: &str) -> LayoutDoc {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/reports").join(name);
    let bytes = std::fs::read(&path).unwrap();
    let format = if name.ends_with(".pdf") { Format::Pdf } else { Format::Docx };
    read_layout(&bytes, format, &Limits::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn tables(doc: &LayoutDoc) -> Vec<&Table> {
    doc.tables().collect()
}

/// The table whose cells contain `needle`.
fn table_with<'a>(doc: &'a LayoutDoc, needle: &str) -> &'a Table {
    doc.tables()
        .find(|t| t.rows.iter().any(|r| r.cells.iter().any(|c| c.text.contains(needle))))
        .unwrap_or_else(|| panic!("no table contains {needle:?}"))
}

/// (row, col) of the cell whose text contains `needle`.
fn find(t: &Table, needle: &str) -> (usize, usize) {
    for (r, row) in t.rows.iter().enumerate() {
        for (c, cell) in row.cells.iter().enumerate() {
            if cell.joined().contains(needle) {
                return (r, c);
            }
        }
    }
    panic!("no cell contains {needle:?}")
}

#[test]
fn pdf_and_docx_of_one_tracker_give_the_same_grid() {
    let pdf = read("tracker-2021-22.pdf");
    let docx = read("tracker-2021-22.docx");
    let (tp, td) = (tables(&pdf), tables(&docx));
    assert_eq!(tp.len(), td.len(), "table count");
    let (mut same, mut total) = (0usize, 0usize);
    let mut diffs = Vec::new();
    for (a, b) in tp.iter().zip(&td) {
        assert_eq!((a.rows.len(), a.ncols), (b.rows.len(), b.ncols), "shape of table {}", a.index);
        for r in 0..a.rows.len() {
            for c in 0..a.ncols {
                let (x, y) = (&a.rows[r].cells[c], &b.rows[r].cells[c]);
                total += 1;
                let equal = fold_ws(&x.joined()) == fold_ws(&y.joined())
                    && x.merged_into == y.merged_into
                    && (x.row_span, x.col_span) == (y.row_span, y.col_span);
                if equal {
                    same += 1;
                } else {
                    diffs.push(format!("table {} ({r},{c}): {:?} vs {:?}", a.index, x.joined(), y.joined()));
                }
            }
        }
    }
    assert!(total > 400, "{total} cells");
    let rate = same as f64 / total as f64;
    assert!(rate >= 0.99, "{same}/{total} cells agree ({rate:.3}):\n{}", diffs.join("\n"));
}

#[test]
fn merged_outcome_cells_cover_their_rows() {
    for name in ["tracker-2021-22.pdf", "tracker-2021-22.docx"] {
        let doc = read(name);
        let t = table_with(&doc, "Democratic arrangements");
        let (r, c) = find(t, "Democratic arrangements");
        let cell = &t.rows[r].cells[c];
        assert!(cell.row_span >= 8, "{name}: outcome spans {} rows", cell.row_span);
        for below in r + 1..r + cell.row_span as usize {
            assert_eq!(t.rows[below].cells[c].merged_into, Some((r as u32, c as u32)), "{name} row {below}");
        }
    }
}

#[test]
fn banner_rows_span_the_table() {
    for name in ["tracker-2021-22.pdf", "tracker-2021-22.docx"] {
        let doc = read(name);
        let t = table_with(&doc, "BETTER HEALTH AND WELLBEING");
        let (r, c) = find(t, "BETTER HEALTH AND WELLBEING");
        assert_eq!((r, c), (0, 0));
        assert_eq!(t.rows[0].cells[0].col_span as usize, t.ncols, "{name}");
        // An activity group row spans every column right of the outcome.
        let (ar, ac) = find(t, "Ensure support is in place for carers");
        assert_eq!(ac, 1);
        assert_eq!(t.rows[ar].cells[1].col_span as usize, t.ncols - 1, "{name}");
    }
}

#[test]
fn headers_repeated_on_every_page_appear_once() {
    let doc = read("tracker-2021-22.pdf");
    let t = table_with(&doc, "Democratic arrangements");
    let pages: std::collections::BTreeSet<u32> = t.rows.iter().filter_map(|r| r.page).collect();
    assert!(pages.len() >= 3, "the first theme table runs over pages {pages:?}");
    let header_rows = t.rows.iter().filter(|r| r.cells[0].joined() == "Outcomes").count();
    assert_eq!(header_rows, 1, "the column header row must appear once after joining pages");
    assert!(t.rows[0].header && t.rows[1].header, "repeated rows are marked as headers");
}

#[test]
fn a_row_broken_across_a_page_is_one_row() {
    // The last 2024/25 carried-over children's row runs from page 4 to 5.
    let doc = read("tracker-2024-25.pdf");
    let t = table_with(&doc, "single front door for children");
    let (r, _) = find(t, "single front door for children");
    let row = &t.rows[r];
    let outcome = t.origin(r, 0).unwrap().joined();
    assert_eq!(outcome, "Children and young people are safe and protected from harm");
    let rationale = row.cells[4].joined();
    assert!(rationale.contains("93% of contacts"), "rationale continued from the next page: {rationale:?}");
    assert_eq!(t.rows.len(), r + 1, "no stray continuation row left");
    // And a merged outcome cell cut by a page break carries on (2021/22).
    let doc = read("tracker-2021-22.pdf");
    let t = table_with(&doc, "Implementation of staff volunteering policy");
    let (r, _) = find(t, "Implementation of staff volunteering policy");
    assert_eq!(
        t.origin(r, 0).unwrap().joined(),
        "Rotherham residents, VCS organisations and businesses use their skills and assets to help others"
    );
}

#[test]
fn two_line_target_cells_keep_both_lines() {
    for name in ["tracker-2021-22.pdf", "tracker-2021-22.docx"] {
        let doc = read(name);
        let t = table_with(&doc, "Herringthorpe");
        let (r, _) = find(t, "Deliver £250k investment works in Herringthorpe");
        let target = &t.rows[r].cells[2];
        assert!(target.text.contains('\n'), "{name}: {:?}", target.text);
        assert_eq!(target.joined(), "Original target date: November 2021 Revised target date: March 2022", "{name}");
    }
}

/// The first span of a cell set in `font`.
fn symbol_span(t: &Table, r: usize, c: usize) -> (&str, Option<&str>) {
    let cell = &t.rows[r].cells[c];
    let span = cell.spans.iter().find(|s| !s.text.trim().is_empty()).expect("a span");
    (span.text.trim(), span.font.as_deref())
}

#[test]
fn symbol_cells_in_each_encoding_keep_character_and_font() {
    // DOCX: a run in a symbol font, and a w:sym element.
    let doc = read("cabinet-2024-25-midyear.docx");
    let status = table_with(&doc, "Performance is on or above target");
    let (r, _) = find(status, "Performance is on or above target");
    assert_eq!(symbol_span(status, r, 0), ("a", Some("Webdings")));
    let dir = table_with(&doc, "Performance or numbers have improved");
    let (r, _) = find(dir, "Performance or numbers have improved");
    assert_eq!(symbol_span(dir, r, 0), ("\u{F0E9}", Some("Wingdings")));

    // PDF: Private Use Area code with the embedded symbol font's name.
    let doc = read("cabinet-2024-25-midyear.pdf");
    let status = table_with(&doc, "Performance is on or above target");
    let (r, _) = find(status, "Performance is on or above target");
    assert_eq!(symbol_span(status, r, 0), ("\u{F061}", Some("Webdings")));

    // PDF: a Latin-1 character in a font named Wingdings (a key as paragraphs).
    let doc = read("performance-2016-17-q2.pdf");
    let item = doc
        .blocks
        .iter()
        .find_map(|b| match b {
            Block::Paragraph(p) if p.text.contains("Numbers have improved") => Some(p),
            _ => None,
        })
        .expect("the direction key line");
    let first = item.spans.iter().find(|s| !s.text.trim().is_empty()).unwrap();
    assert_eq!((first.text.trim(), first.font.as_deref()), ("é", Some("Wingdings")));
}

#[test]
fn documents_without_tables_of_milestones_still_lay_out() {
    let doc = read("annual-report-2021-22-neighbourhoods.docx");
    assert!(doc.paragraphs().count() > 30);
    let numbered = doc.paragraphs().filter(|p| p.numbering.is_some()).count();
    assert!(numbered > 0 || doc.paragraphs().any(|p| p.text.starts_with("2.1")), "numbered paragraphs are kept");
    let timeline = read("timeline-2015-18.pdf");
    let t = tables(&timeline);
    assert!(!t.is_empty() && t.iter().all(|t| t.ncols >= 4), "the timeline is a month-by-strand grid");
}

#[test]
fn a_borderless_table_is_found_by_alignment_and_matches_its_docx() {
    let pdf = read("cabinet-2024-25-midyear.pdf");
    let docx = read("cabinet-2024-25-midyear.docx");
    let (a, b) = (table_with(&pdf, "Summary at Quarter 2"), table_with(&docx, "Summary at Quarter 2"));
    assert_eq!(a.source, "aligned", "no rules are drawn, so only alignment can find it");
    assert_eq!((a.rows.len(), a.ncols), (b.rows.len(), b.ncols));
    for r in 0..a.rows.len() {
        for c in 0..a.ncols {
            assert_eq!(fold_ws(&a.rows[r].cells[c].joined()), fold_ws(&b.rows[r].cells[c].joined()), "({r},{c})");
        }
    }
    // Numbered paragraphs and bulleted lists nearby stay paragraphs.
    assert!(pdf.paragraphs().any(|p| p.text.starts_with("2.13")));
    assert!(pdf.paragraphs().any(|p| p.text.starts_with("• Performance or numbers have improved")));
}

#[test]
fn the_fast_content_parser_agrees_with_lopdf_on_every_fixture_page() {
    // The fixtures, and the ICDAR PDFs (other producers) when they are beside
    // the checkout.
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in [root.join("fixtures/reports"), root.join("../shared/icdar2013-eu")] {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        files.extend(entries.map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "pdf")));
    }
    let mut pages = 0;
    for path in files {
        let Ok(doc) = lopdf::Document::load(&path) else { continue };
        for (n, id) in doc.get_pages() {
            let Ok(content) = doc.get_page_content(id) else { continue };
            // Pages lopdf's own parser cannot read are not a comparison.
            let Ok(slow) = lopdf::content::Content::decode(&content) else { continue };
            let fast = pdf_extract::fast_content::decode(&content);
            assert_eq!(fast.operations.len(), slow.operations.len(), "{} page {n}", path.display());
            for (a, b) in fast.operations.iter().zip(&slow.operations) {
                assert_eq!(a.operator, b.operator, "{} page {n}", path.display());
                if a.operator != "BI" {
                    assert!(
                        a.operands == b.operands,
                        "{} page {n}: {:?} vs {:?}",
                        path.display(),
                        a.operands,
                        b.operands
                    );
                }
            }
            pages += 1;
        }
    }
    assert!(pages > 50);
}

/// Every grid position of two renderings of one document, compared.
fn same_grids(pdf: &LayoutDoc, docx: &LayoutDoc) -> Vec<String> {
    let (tp, td) = (tables(pdf), tables(docx));
    let mut diffs = Vec::new();
    if tp.len() != td.len() {
        diffs.push(format!("{} tables vs {}", tp.len(), td.len()));
    }
    for (a, b) in tp.iter().zip(&td) {
        if (a.rows.len(), a.ncols) != (b.rows.len(), b.ncols) {
            diffs.push(format!("table {}: {}×{} vs {}×{}", a.index, a.rows.len(), a.ncols, b.rows.len(), b.ncols));
            continue;
        }
        for r in 0..a.rows.len() {
            for c in 0..a.ncols {
                let (x, y) = (&a.rows[r].cells[c], &b.rows[r].cells[c]);
                if fold_ws(&x.joined()) != fold_ws(&y.joined()) || (x.row_span, x.col_span) != (y.row_span, y.col_span)
                {
                    diffs.push(format!("table {} ({r},{c}): {:?} vs {:?}", a.index, x.joined(), y.joined()));
                }
            }
        }
    }
    diffs
}

#[test]
fn page_breaks_inside_merged_cells_and_rows_keep_the_grid() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/layout");
    for name in ["0009-tracker-2017-18", "0030-tracker-2017-18"] {
        let read_at = |ext: &str, format: Format| {
            let bytes = std::fs::read(dir.join(format!("{name}.{ext}"))).unwrap();
            read_layout(&bytes, format, &Limits::default()).unwrap()
        };
        let diffs = same_grids(&read_at("pdf", Format::Pdf), &read_at("docx", Format::Docx));
        assert!(diffs.is_empty(), "{name}:\n{}", diffs.join("\n"));
    }
}
