//! The ICDAR 2013 ground truth: `eu-NNN-reg.xml` (where each table is) and
//! `eu-NNN-str.xml` (each table's cells).
//!
//! Both files share one shape: `table` elements holding one `region` per
//! page the table covers, with a 1-based `page` attribute and coordinates in
//! PDF points, origin bottom-left (checked against the PDFs: page 2 of
//! eu-004 holds "inhabitants" at x 347–395, y 732–741 in both). A region of
//! the region file carries the table's `bounding-box`; a region of the
//! structure file carries `cell`s with `start-row`/`start-col`, optional
//! `end-row`/`end-col` (either may be given alone), a `bounding-box` and a
//! `content`.

use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

/// A rectangle in PDF points, origin bottom-left: `[x0, y0, x1, y1]`.
pub type BBox = [f64; 4];

/// One cell of the ground truth, as written (text not yet normalised).
#[derive(Debug, Clone, PartialEq)]
pub struct TruthCell {
    pub start_row: usize,
    pub start_col: usize,
    pub end_row: usize,
    pub end_col: usize,
    pub text: String,
    pub bbox: Option<BBox>,
}

/// One region: the part of a table on one page.
#[derive(Debug, Clone, PartialEq)]
pub struct TruthRegion {
    pub table_id: String,
    pub region_id: String,
    /// 1-based, like plantrace's page numbers.
    pub page: u32,
    pub bbox: Option<BBox>,
    /// Empty for the region file.
    pub cells: Vec<TruthCell>,
}

/// Parses a `-reg.xml` or `-str.xml` file into its regions, in file order.
pub fn parse(xml: &str) -> Result<Vec<TruthRegion>, String> {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().trim_text(false);
    let mut regions: Vec<TruthRegion> = Vec::new();
    let mut table_id = String::new();
    let mut cell: Option<TruthCell> = None;
    let mut in_content = false;
    loop {
        let at = reader.buffer_position();
        let event = reader.read_event().map_err(|e| format!("XML error at byte {}: {e}", reader.error_position()))?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let empty = matches!(event, Event::Empty(_));
                let what = |msg: String| format!("{msg} (<{}> at byte {at})", local_name(e));
                match local_name(e) {
                    "table" => table_id = attr(e, "id").unwrap_or_default(),
                    "region" => {
                        let page = attr(e, "page").ok_or_else(|| what("region without a page".into()))?;
                        let page = page.trim().parse::<u32>().map_err(|_| what(format!("bad page {page:?}")))?;
                        regions.push(TruthRegion {
                            table_id: table_id.clone(),
                            region_id: attr(e, "id").unwrap_or_default(),
                            page,
                            bbox: None,
                            cells: Vec::new(),
                        });
                    }
                    "cell" => {
                        let num = |name: &str| -> Result<Option<usize>, String> {
                            attr(e, name)
                                .map(|v| v.trim().parse::<usize>().map_err(|_| what(format!("bad {name} {v:?}"))))
                                .transpose()
                        };
                        let start_row = num("start-row")?.ok_or_else(|| what("cell without start-row".into()))?;
                        let start_col = num("start-col")?.ok_or_else(|| what("cell without start-col".into()))?;
                        let end_row = num("end-row")?.unwrap_or(start_row).max(start_row);
                        let end_col = num("end-col")?.unwrap_or(start_col).max(start_col);
                        let c = TruthCell { start_row, start_col, end_row, end_col, text: String::new(), bbox: None };
                        if empty {
                            push_cell(&mut regions, c).map_err(what)?;
                        } else {
                            cell = Some(c);
                        }
                    }
                    "bounding-box" => {
                        let coord = |name: &str| -> Result<f64, String> {
                            let v = attr(e, name).ok_or_else(|| what(format!("bounding-box without {name}")))?;
                            v.trim().parse::<f64>().map_err(|_| what(format!("bad {name} {v:?}")))
                        };
                        let (x1, y1, x2, y2) = (coord("x1")?, coord("y1")?, coord("x2")?, coord("y2")?);
                        let bbox = [x1.min(x2), y1.min(y2), x1.max(x2), y1.max(y2)];
                        match (&mut cell, regions.last_mut()) {
                            (Some(c), _) => c.bbox = Some(bbox),
                            (None, Some(r)) => r.bbox = Some(bbox),
                            (None, None) => return Err(what("bounding-box outside any region".into())),
                        }
                    }
                    "content" => in_content = !empty,
                    _ => {}
                }
            }
            Event::End(ref e) => match local_name_of(e.name().into_inner()) {
                "content" => in_content = false,
                "cell" => {
                    if let Some(c) = cell.take() {
                        push_cell(&mut regions, c).map_err(|m| format!("{m} (</cell> at byte {at})"))?;
                    }
                }
                _ => {}
            },
            Event::Text(t) if in_content => push_text(&mut cell, &t.xml10_content()),
            Event::CData(t) if in_content => push_text(&mut cell, &t.xml10_content()),
            Event::GeneralRef(r) if in_content => {
                if let Some(ch) = resolve_ref(&r) {
                    push_text(&mut cell, ch.encode_utf8(&mut [0u8; 4]));
                }
            }
            Event::Eof => return Ok(regions),
            _ => {}
        }
    }
}

fn push_cell(regions: &mut [TruthRegion], c: TruthCell) -> Result<(), String> {
    match regions.last_mut() {
        Some(r) => {
            r.cells.push(c);
            Ok(())
        }
        None => Err("cell outside any region".into()),
    }
}

fn push_text(cell: &mut Option<TruthCell>, text: &str) {
    if let Some(c) = cell {
        c.text.push_str(text);
    }
}

fn local_name<'a>(e: &'a BytesStart<'_>) -> &'a str {
    local_name_of(e.name().into_inner())
}

fn local_name_of(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    let mut attrs = e.attributes();
    attrs.with_checks(false);
    attrs.flatten().find(|a| local_name_of(a.key.into_inner()) == name).map(|a| {
        a.normalized_value(XmlVersion::Implicit1_0).map(|v| v.into_owned()).unwrap_or_else(|_| a.value.to_string())
    })
}

/// The five predefined entities and character references; the ground truth
/// uses nothing else (`&amp;` in company names).
fn resolve_ref(r: &BytesRef<'_>) -> Option<char> {
    if r.is_char_ref() {
        return r.resolve_char_ref().ok().flatten();
    }
    match r.xml10_content().as_ref() {
        "lt" => Some('<'),
        "gt" => Some('>'),
        "amp" => Some('&'),
        "apos" => Some('\''),
        "quot" => Some('"'),
        _ => None,
    }
}
