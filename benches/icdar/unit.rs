//! The ICDAR benchmark's scoring code under libtest.
//!
//! `benches/icdar.rs` has its own `main` (`harness = false`), and such a
//! target never runs `#[test]` functions. This target compiles the same
//! modules with the standard harness, so `cargo test --all-targets` (CI)
//! checks the difflib port, the ground-truth reader and the scores without
//! running the benchmark itself.

// The modules serve the benchmark's `main`, which is not part of this target.
#![allow(dead_code)]

#[path = "difflib.rs"]
mod difflib;
#[path = "score.rs"]
mod score;
#[path = "truth.rs"]
mod truth;

mod difflib_tests {
    use crate::difflib::*;

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    // Every expected value below is CPython 3.11's
    // `difflib.SequenceMatcher(None, a, b)` on the same input. The port was
    // also checked against CPython on 300 random pairs (113 with len(b) >=
    // 200, 104 where autojunk changes the ratio): matching blocks identical,
    // ratios equal bit for bit.

    #[test]
    fn ratio_matches_cpython_on_short_sequences() {
        let cases: &[(&str, &str, f64)] = &[
            ("abcd", "bcde", 0.75),
            ("", "", 1.0),
            ("abc", "", 0.0),
            ("private Thread currentThread;", "private volatile Thread currentThread;", 0.8656716417910447),
        ];
        for &(a, b, want) in cases {
            let (a, b) = (chars(a), chars(b));
            assert_eq!(SequenceMatcher::new(&a, &b).ratio(), want, "{a:?} / {b:?}");
        }
    }

    #[test]
    fn matching_blocks_match_cpython() {
        let (a, b) = (chars("private Thread currentThread;"), chars("private volatile Thread currentThread;"));
        let m = SequenceMatcher::new(&a, &b).matching_blocks();
        let want = [Match { a: 0, b: 0, size: 6 }, Match { a: 6, b: 15, size: 23 }, Match { a: 29, b: 38, size: 0 }];
        assert_eq!(m, want);
    }

    #[test]
    fn autojunk_drops_popular_elements_from_long_b_only() {
        // b has 251 items, so 0 (250 times, more than 251/100 + 1) is
        // popular: only the 1 can seed a match. Without autojunk CPython
        // gives 0.9960159362549801.
        let a: Vec<u32> = std::iter::once(1).chain(std::iter::repeat_n(0, 250)).collect();
        let b: Vec<u32> = std::iter::repeat_n(0, 250).chain(std::iter::once(1)).collect();
        assert_eq!(SequenceMatcher::new(&a, &b).ratio(), 0.00398406374501992);
        // With 199 items in b the rule does not apply.
        let a: Vec<u32> = std::iter::once(1).chain(std::iter::repeat_n(0, 198)).collect();
        let b: Vec<u32> = std::iter::repeat_n(0, 198).chain(std::iter::once(1)).collect();
        assert_eq!(SequenceMatcher::new(&a, &b).ratio(), 0.9949748743718593);
    }

    #[test]
    fn autojunk_on_grid_like_text() {
        // Blank cells are the popular element of a real grid.
        let mut a = vec!["x", ""];
        a.extend(["", "", ""]);
        let mut b = vec!["", "", ""];
        for _ in 0..70 {
            a.extend(["a", "b", ""]);
            b.extend(["a", "b", ""]);
        }
        b.push("x");
        assert_eq!(b.len(), 214);
        assert_eq!(SequenceMatcher::new(&a, &b).ratio(), 0.004662004662004662);
    }
}

mod truth_tests {
    use crate::truth::*;

    #[test]
    fn reads_regions_cells_spans_and_entities() {
        let reg = r#"<?xml version="1.0"?><document><table id='1'><region id='1' page='2'>
            <instruction instr-id='3'/><bounding-box x1='100' y1='451' x2='482' y2='543'/></region></table></document>"#;
        let r = parse(reg).expect("region file");
        assert_eq!(r.len(), 1);
        assert_eq!((r[0].table_id.as_str(), r[0].page, r[0].bbox), ("1", 2, Some([100.0, 451.0, 482.0, 543.0])));

        let s = r#"<document><table id="1"><region id="1" page="1" row-increment="0">
            <cell end-col="3" id="1" start-col="1" start-row="0"><bounding-box x1="316" x2="441" y1="533" y2="543"/>
            <content>THRESHOLD
FOR</content><instruction instr-id="325"/></cell>
            <cell id="1" start-col="0" start-row="1" end-row="2"><content>Nurdin &amp; Peacock &#x41;</content></cell>
            </region></table></document>"#;
        let r = parse(s).expect("structure file");
        let c = &r[0].cells;
        assert_eq!(c.len(), 2);
        assert_eq!((c[0].start_row, c[0].start_col, c[0].end_row, c[0].end_col), (0, 1, 0, 3));
        assert_eq!(c[0].text, "THRESHOLD\nFOR");
        assert_eq!(c[0].bbox, Some([316.0, 533.0, 441.0, 543.0]));
        assert_eq!((c[1].end_row, c[1].end_col), (2, 0));
        assert_eq!(c[1].text, "Nurdin & Peacock A");
    }

    #[test]
    fn reports_a_missing_page() {
        let err = parse("<document><table id='1'><region id='1'></region></table></document>").unwrap_err();
        assert!(err.contains("without a page"), "{err}");
    }
}

mod score_tests {
    use std::collections::HashSet;

    use crate::score::*;

    /// A grid of single cells from rows of texts ("" = empty cell).
    fn grid(rows: &[&[&str]]) -> Grid {
        let cols = rows.iter().map(|r| r.len()).max().unwrap_or(0);
        let cells = rows
            .iter()
            .enumerate()
            .flat_map(|(r, row)| {
                row.iter().enumerate().map(move |(c, t)| GridCell {
                    row: r,
                    col: c,
                    row_span: 1,
                    col_span: 1,
                    text: norm(t),
                })
            })
            .collect();
        Grid::new(rows.len(), cols, cells)
    }

    const TABLE: &[&[&str]] = &[&["Name", "2012", "2013"], &["Paris", "10", "12"], &["Rome", "", "9"]];

    #[test]
    fn perfect_match_scores_one() {
        let g = grid(TABLE);
        assert_eq!(structure(&g, &g), 1.0);
        let adj = AdjCounts::of(Some(&g), Some(&g));
        assert_eq!(adj.correct, adj.expected);
        assert_eq!(adj.prf().f1, 1.0);
    }

    #[test]
    fn one_missing_row_by_hand() {
        // Predicted lacks the last row: 6 of 9 cells, all in order, so the
        // ratio is 2·6 / (6 + 9) = 0.8; the shape factor is
        // 1 − (1 + 0) / (2 + 3 + 3 + 3 + 1) = 11/12; the score 0.8 · 11/12.
        let gt = grid(TABLE);
        let pred = grid(&TABLE[..2]);
        let want = 0.8 * 11.0 / 12.0;
        assert!((structure(&pred, &gt) - want).abs() < 1e-12, "{}", structure(&pred, &gt));
        // Expected relations: right 2+2+1 (Rome→9 skips the empty cell),
        // down 2+1+2 (2012→10, and 10 has nothing below) = 10; predicted:
        // right 2+2, down 3 = 7, all of them expected.
        let adj = AdjCounts::of(Some(&pred), Some(&gt));
        assert_eq!(adj, AdjCounts { expected: 10, predicted: 7, correct: 7 });
    }

    #[test]
    fn text_is_folded_and_lower_cased() {
        assert_eq!(norm("  Carbon\ndioxide \t(CO2) "), "carbon dioxide (co2)");
        let a = grid(&[&["TOTAL  EU", "1"]]);
        let b = grid(&[&["total\neu", "1"]]);
        assert_eq!(structure(&a, &b), 1.0);
    }

    #[test]
    fn spans_leave_blanks_and_neighbour_every_covered_cell() {
        // A header spanning two columns over two data cells.
        let cells = vec![
            GridCell { row: 0, col: 0, row_span: 1, col_span: 2, text: "head".into() },
            GridCell { row: 1, col: 0, row_span: 1, col_span: 1, text: "a".into() },
            GridCell { row: 1, col: 1, row_span: 1, col_span: 1, text: "b".into() },
        ];
        let g = Grid::fitted(cells);
        assert_eq!((g.rows, g.cols), (2, 2));
        assert_eq!(g.texts, ["head", "", "a", "b"]);
        let want: HashSet<Relation> = [
            ("a".into(), "b".into(), Dir::Right),
            ("head".into(), "a".into(), Dir::Down),
            ("head".into(), "b".into(), Dir::Down),
        ]
        .into_iter()
        .collect();
        assert_eq!(relations(&g), want);
    }

    #[test]
    fn shape_factor_and_detection_counts() {
        let a = grid(&[&["x", "y"]]);
        let b = grid(&[&["x"], &["y"]]);
        // |Δrows| + |Δcols| = 2 over 1 + 2 + 2 + 1 + 1 = 7.
        assert!((shape_factor(&a, &b) - 5.0 / 7.0).abs() < 1e-12);
        let mut d = Detection::page(3, 1);
        d.add(Detection::page(0, 2));
        assert_eq!(d, Detection { tp: 1, fp: 2, fn_: 2 });
        let prf = d.prf();
        assert!((prf.p - 1.0 / 3.0).abs() < 1e-12 && (prf.r - 1.0 / 3.0).abs() < 1e-12);
    }
}
