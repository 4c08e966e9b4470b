//! DOCX reader: a Word `.docx` package → [`LayoutDoc`].
//!
//! The package is opened with `zip` and its XML parts are streamed through
//! `quick-xml` events; nothing is ever held as a DOM. Every part is read
//! through a reader capped at [`Limits::part_bytes`] and all parts together
//! at [`Limits::total_inflated`], so a zip bomb stops after the cap instead
//! of filling memory, and archives with more than [`Limits::zip_entries`]
//! entries are refused before any part is inflated.
//!
//! XML entities are never expanded: a `DOCTYPE` is ignored (with a warning),
//! the five predefined entities and numeric character references are
//! resolved, and references to any other entity are dropped (with a
//! warning). Nothing recurses on document structure: elements are tracked
//! on explicit stacks, style `basedOn` chains and numbering-style links are
//! followed a bounded number of steps, and tables nested more than
//! [`MAX_TABLE_DEPTH`] deep are read as the text of their containing cell.
//!
//! What is read:
//! - `word/document.xml` (or the part `_rels/.rels` names as the main
//!   document): body paragraphs and tables in order. Headers, footers,
//!   footnotes, comments, text boxes, drawings, deleted text, moved-away
//!   text and field instructions are not part of the body text and are
//!   skipped; inserted text, content controls, hyperlinks, smart tags,
//!   custom XML and field results are read.
//! - `word/styles.xml`: document default and style run fonts and bold,
//!   and style-level numbering, so that inherited fonts and bold are known.
//! - `word/theme/theme1.xml`: the major/minor theme fonts that `w:rFonts`
//!   theme attributes refer to.
//! - `word/numbering.xml`: list definitions, to render each paragraph's
//!   number or bullet as printed.
//! - `docProps/core.xml`: `dc:title`.

use std::collections::{HashMap, HashSet};
use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::panic::{catch_unwind, AssertUnwindSafe};

use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::{Reader, XmlVersion};
use zip::result::ZipError;
use zip::ZipArchive;

use super::{Block, Cell, LayoutDoc, LayoutError, Limits, Paragraph, Row, Span, Table};
use crate::model::Format;

/// Tables nested deeper than this inside one another are not built as
/// tables: their paragraphs become lines of the deepest cell that is.
pub const MAX_TABLE_DEPTH: usize = 8;
/// Widest grid built. Word allows 63 columns; cells past this column are
/// appended to the row's last cell.
const MAX_COLS: usize = 512;
/// Most grid positions built over all of a document's tables, merged and
/// padding positions included: a bound on what a hostile `w:gridSpan` or a
/// single very wide row could make every other row allocate.
const MAX_GRID_CELLS: usize = 10_000_000;
/// Most `w:basedOn` / numbering-style-link steps followed.
const MAX_STYLE_CHAIN: usize = 16;
/// List levels in a numbering definition.
const LEVELS: usize = 9;

/// Reads a DOCX document's body into the layout model.
///
/// Errors: [`LayoutError::Corrupt`] when the bytes are not a readable zip
/// or the main document's XML is broken before any content;
/// [`LayoutError::Unsupported`] when the file is a zip but not a Word
/// document (or another kind of file altogether); [`LayoutError::Encrypted`]
/// for password-protected documents; [`LayoutError::TooLarge`] when a limit
/// is exceeded; [`LayoutError::Crash`] if a dependency panics.
pub fn read(bytes: &[u8], limits: &Limits) -> Result<LayoutDoc, LayoutError> {
    match catch_unwind(AssertUnwindSafe(|| read_inner(bytes, limits))) {
        Ok(result) => result,
        Err(panic) => {
            let msg = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            Err(LayoutError::Crash(format!("the DOCX reader crashed on this file: {msg}")))
        }
    }
}

fn read_inner(bytes: &[u8], limits: &Limits) -> Result<LayoutDoc, LayoutError> {
    if let Some(err) = sniff_not_zip(bytes) {
        return Err(err);
    }
    let archive = ZipArchive::new(Cursor::new(bytes)).map_err(|e| {
        LayoutError::Corrupt(format!(
            "not a Word .docx (zip) file: {e} (the file is damaged or truncated, or is another kind of file named .docx)"
        ))
    })?;
    if archive.len() > limits.zip_entries {
        return Err(LayoutError::TooLarge(format!(
            "the .docx archive has {} entries, more than the limit of {}: a damaged or hostile file; if genuine, raise --max-zip-entries",
            archive.len(),
            limits.zip_entries
        )));
    }
    let mut pkg = Package { archive, limits: *limits, total_left: limits.total_inflated };
    let mut warnings = Warnings::default();

    // Package relationships: the main document and core properties.
    let mut main_part = "word/document.xml".to_string();
    let mut core_part = "docProps/core.xml".to_string();
    match pkg.read_part("_rels/.rels", |src| parse_rels(src, "")) {
        Ok(Some(Ok(rels))) => {
            if let Some(t) = rels.iter().find(|r| r.kind.ends_with("/officeDocument")) {
                if pkg.find(&t.target).is_some() {
                    main_part = t.target.clone();
                }
            }
            if let Some(t) = rels.iter().find(|r| r.kind.ends_with("/core-properties")) {
                core_part = t.target.clone();
            }
        }
        Ok(Some(Err(e))) => warnings.push(format!("_rels/.rels is damaged ({e}); using the standard part names")),
        Ok(None) => {}
        Err(e @ (LayoutError::TooLarge(_) | LayoutError::Encrypted(_))) => return Err(e),
        Err(e) => warnings.push(format!("_rels/.rels could not be read ({e}); using the standard part names")),
    }
    if pkg.find(&main_part).is_none() {
        return Err(not_a_word_document(&mut pkg));
    }

    // The main document's relationships: styles, numbering, theme.
    let (dir, file) = match main_part.rfind('/') {
        Some(i) => (&main_part[..=i], &main_part[i + 1..]),
        None => ("", main_part.as_str()),
    };
    let doc_rels_part = format!("{dir}_rels/{file}.rels");
    let mut styles_part = Some(format!("{dir}styles.xml"));
    let mut numbering_part = Some(format!("{dir}numbering.xml"));
    let mut theme_part = Some(format!("{dir}theme/theme1.xml"));
    match pkg.read_part(&doc_rels_part, |src| parse_rels(src, dir)) {
        Ok(Some(Ok(rels))) => {
            let find = |suffix: &str| rels.iter().find(|r| r.kind.ends_with(suffix)).map(|r| r.target.clone());
            styles_part = find("/styles");
            numbering_part = find("/numbering");
            theme_part = find("/theme");
        }
        Ok(Some(Err(e))) => warnings.push(format!("{doc_rels_part} is damaged ({e}); using the standard part names")),
        Ok(None) => {}
        Err(e @ (LayoutError::TooLarge(_) | LayoutError::Encrypted(_))) => return Err(e),
        Err(e) => warnings.push(format!("{doc_rels_part} could not be read ({e}); using the standard part names")),
    }

    let theme = match theme_part {
        Some(part) => pkg.read_aux(&part, &mut warnings, parse_theme)?.unwrap_or_default(),
        None => Theme::default(),
    };
    let styles = match styles_part {
        Some(part) => pkg.read_aux(&part, &mut warnings, |src| parse_styles(src, &theme))?.unwrap_or_default(),
        None => Styles::default(),
    };
    let numbering = match numbering_part {
        Some(part) => pkg.read_aux(&part, &mut warnings, parse_numbering)?,
        None => None,
    };

    // The body.
    let mut body = Body::new(&styles, &theme, numbering, warnings);
    let outcome = pkg.read_part(&main_part, |src| body.parse(src))?;
    let (blocks, mut warnings) = match outcome {
        Some(Ok(())) => body.finish()?,
        Some(Err(BodyError::Fatal(e))) => return Err(e),
        Some(Err(BodyError::Xml(msg))) => {
            if body.blocks.is_empty() && body.para.is_none() && body.tables.is_empty() {
                return Err(LayoutError::Corrupt(format!(
                    "{main_part} is damaged: {msg}; no text could be read from it"
                )));
            }
            body.warnings.push(format!(
                "{main_part} is damaged ({msg}): the text before that point was read, the rest is missing"
            ));
            body.finish()?
        }
        None => return Err(not_a_word_document(&mut pkg)),
    };

    // Metadata.
    let meta_title =
        pkg.read_aux(&core_part, &mut warnings, parse_core_title)?.flatten().filter(|t| !t.trim().is_empty());

    Ok(LayoutDoc { format: Format::Docx, pages: None, blocks, meta_title, warnings: warnings.list })
}

/// Recognises files that are not zips, to say what they are instead.
fn sniff_not_zip(bytes: &[u8]) -> Option<LayoutError> {
    const CFB: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    if bytes.is_empty() {
        return Some(LayoutError::Corrupt("the file is empty (0 bytes): not a Word .docx file".into()));
    }
    if bytes.starts_with(CFB) {
        let marker: Vec<u8> = "EncryptedPackage".encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        if bytes.windows(marker.len()).any(|w| w == marker.as_slice()) {
            return Some(LayoutError::Encrypted(
                "the .docx is password-protected (an encrypted Office package): save an unprotected copy and run again"
                    .into(),
            ));
        }
        return Some(LayoutError::Unsupported(
            "a Word 97–2003 .doc file (OLE compound document), not a .docx: save it as .docx in Word or LibreOffice"
                .into(),
        ));
    }
    if bytes.starts_with(b"{\\rtf") {
        return Some(LayoutError::Unsupported("an RTF file, not a Word .docx: save it as .docx".into()));
    }
    if bytes.starts_with(b"%PDF") {
        return Some(LayoutError::Unsupported("a PDF file named .docx: rename it to .pdf".into()));
    }
    None
}

/// The error for a zip without a main document, naming what it is instead
/// when that is recognisable.
fn not_a_word_document(pkg: &mut Package<'_>) -> LayoutError {
    let what = if pkg.find("xl/workbook.xml").is_some() {
        "it is an Excel workbook (.xlsx) named .docx"
    } else if pkg.find("ppt/presentation.xml").is_some() {
        "it is a PowerPoint presentation (.pptx) named .docx"
    } else if pkg.find("content.xml").is_some() && pkg.find("mimetype").is_some() {
        "it is an OpenDocument file (.odt/.ods) named .docx: save it as .docx"
    } else {
        "not a Word document (an .xlsx or .pptx renamed?)"
    };
    LayoutError::Unsupported(format!("the archive has no word/document.xml: {what}"))
}

// ---------------------------------------------------------------------------
// The package: capped access to parts

struct Package<'a> {
    archive: ZipArchive<Cursor<&'a [u8]>>,
    limits: Limits,
    /// Bytes still allowed to inflate over all parts.
    total_left: u64,
}

impl Package<'_> {
    /// The index of a part: exact name first, then ignoring case and
    /// backslashes (OPC part names are case-insensitive; some tools write
    /// Windows separators).
    fn find(&self, name: &str) -> Option<usize> {
        if let Some(i) = self.archive.index_for_name(name) {
            return Some(i);
        }
        let want = name.trim_start_matches('/').to_ascii_lowercase();
        self.archive.file_names_raw().position(|raw| {
            raw.len() == want.len()
                && raw.iter().zip(want.bytes()).all(|(&a, b)| {
                    let a = if a == b'\\' { b'/' } else { a };
                    a.eq_ignore_ascii_case(&b)
                })
        })
    }

    /// Runs `f` over the inflated bytes of part `name`, through the size caps.
    /// `Ok(None)` when the part does not exist.
    fn read_part<T>(&mut self, name: &str, f: impl FnOnce(&mut dyn BufRead) -> T) -> Result<Option<T>, LayoutError> {
        let Some(index) = self.find(name) else {
            return Ok(None);
        };
        let file = self.archive.by_index(index).map_err(|e| zip_error(name, e))?;
        if file.encrypted() {
            return Err(LayoutError::Encrypted(format!(
                "{name} is encrypted inside the zip: save an unprotected copy of the document and run again"
            )));
        }
        let mut capped =
            Capped { inner: file, part_left: self.limits.part_bytes, total_left: self.total_left, hit: None };
        let out = {
            let mut src = BufReader::with_capacity(64 * 1024, &mut capped);
            let utf16 = match src.fill_buf() {
                Ok(head) => head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]),
                Err(_) => false,
            };
            if utf16 {
                let mut raw = Vec::new();
                let _ = src.read_to_end(&mut raw);
                let text = decode_utf16(&raw);
                f(&mut Cursor::new(text.into_bytes()))
            } else {
                f(&mut src)
            }
        };
        self.total_left = capped.total_left;
        match capped.hit {
            Some(Hit::Part) => Err(LayoutError::TooLarge(format!(
                "{name} inflates to more than {}: a zip bomb or an unusually large document; if genuine, raise --max-inflated",
                fmt_bytes(self.limits.part_bytes)
            ))),
            Some(Hit::Total) => Err(LayoutError::TooLarge(format!(
                "the .docx inflates to more than {} in all (reached while reading {name}): a zip bomb or an unusually large document; if genuine, raise --max-inflated",
                fmt_bytes(self.limits.total_inflated)
            ))),
            None => Ok(Some(out)),
        }
    }

    /// Reads an auxiliary part (styles, numbering, theme, core properties):
    /// a missing part is `None`; a damaged one is `None` with a warning; only
    /// size limits and encryption are errors.
    fn read_aux<T>(
        &mut self,
        name: &str,
        warnings: &mut Warnings,
        f: impl FnOnce(&mut dyn BufRead) -> Result<T, String>,
    ) -> Result<Option<T>, LayoutError> {
        match self.read_part(name, f) {
            Ok(Some(Ok(v))) => Ok(Some(v)),
            Ok(Some(Err(e))) => {
                warnings.push(format!("{name} is damaged ({e}) and was ignored"));
                Ok(None)
            }
            Ok(None) => Ok(None),
            Err(e @ (LayoutError::TooLarge(_) | LayoutError::Encrypted(_))) => Err(e),
            Err(e) => {
                warnings.push(format!("{name} could not be read ({e}) and was ignored"));
                Ok(None)
            }
        }
    }
}

fn zip_error(name: &str, e: ZipError) -> LayoutError {
    match e {
        ZipError::UnsupportedArchive(msg) if msg.to_ascii_lowercase().contains("password") => LayoutError::Encrypted(
            format!("{name} is encrypted inside the zip: save an unprotected copy of the document and run again"),
        ),
        ZipError::UnsupportedArchive(msg) => {
            LayoutError::Unsupported(format!("{name} is stored in a way this reader does not support: {msg}"))
        }
        other => LayoutError::Corrupt(format!("{name} is damaged in the zip: {other}")),
    }
}

fn fmt_bytes(n: u64) -> String {
    const MIB: u64 = 1 << 20;
    if n >= MIB && n.is_multiple_of(MIB) {
        format!("{} MiB", n / MIB)
    } else if n >= MIB {
        format!("{:.1} MiB", n as f64 / MIB as f64)
    } else {
        format!("{n} bytes")
    }
}

fn decode_utf16(raw: &[u8]) -> String {
    let big_endian = raw.starts_with(&[0xFE, 0xFF]);
    let units: Vec<u16> = raw
        .get(2..)
        .unwrap_or_default()
        .chunks_exact(2)
        .map(|c| if big_endian { u16::from_be_bytes([c[0], c[1]]) } else { u16::from_le_bytes([c[0], c[1]]) })
        .collect();
    String::from_utf16_lossy(&units)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hit {
    Part,
    Total,
}

/// A reader that fails once more than its caps have been read.
struct Capped<R> {
    inner: R,
    part_left: u64,
    total_left: u64,
    hit: Option<Hit>,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.hit.is_some() {
            return Err(io::Error::other("size limit reached"));
        }
        let left = self.part_left.min(self.total_left);
        // Allow one byte past the cap, to tell "exactly at the cap" from "over it".
        let allow = usize::try_from(left.saturating_add(1)).unwrap_or(usize::MAX).min(buf.len());
        let n = self.inner.read(&mut buf[..allow])?;
        let n64 = n as u64;
        if n64 > left {
            self.hit = Some(if n64 > self.part_left { Hit::Part } else { Hit::Total });
            return Err(io::Error::other("size limit reached"));
        }
        self.part_left -= n64;
        self.total_left -= n64;
        Ok(n)
    }
}

// ---------------------------------------------------------------------------
// Warnings

#[derive(Debug, Default)]
struct Warnings {
    list: Vec<String>,
    once: HashSet<&'static str>,
}

impl Warnings {
    fn push(&mut self, msg: String) {
        self.list.push(msg);
    }

    fn once(&mut self, key: &'static str, msg: impl FnOnce() -> String) {
        if self.once.insert(key) {
            self.list.push(msg());
        }
    }
}

// ---------------------------------------------------------------------------
// XML helpers

fn new_reader<R: BufRead>(src: R) -> Reader<R> {
    let mut reader = Reader::from_reader(src);
    let config = reader.config_mut();
    config.trim_text(false);
    config.check_end_names = true;
    config.expand_empty_elements = false;
    config.allow_dangling_amp = true;
    reader
}

fn local_name<'a>(e: &'a BytesStart<'_>) -> &'a str {
    let name = e.name().into_inner();
    match name.rfind(':') {
        Some(i) => &name[i + 1..],
        None => name,
    }
}

/// An attribute by local name, preferring the unprefixed or `w:` one.
fn attr(e: &BytesStart<'_>, local: &str) -> Option<String> {
    let mut found: Option<String> = None;
    let mut attrs = e.attributes();
    attrs.with_checks(false);
    for a in attrs.flatten() {
        let key = a.key.into_inner();
        let (prefix, name) = match key.rfind(':') {
            Some(i) => (Some(&key[..i]), &key[i + 1..]),
            None => (None, key),
        };
        if name != local {
            continue;
        }
        let value = match a.normalized_value(XmlVersion::Implicit1_0) {
            Ok(v) => v.into_owned(),
            Err(_) => a.value.to_string(),
        };
        if matches!(prefix, None | Some("w")) {
            return Some(value);
        }
        if found.is_none() {
            found = Some(value);
        }
    }
    found
}

/// `ST_OnOff`: an element with no `val`, or any value but false/0/off, is on.
fn on_off(e: &BytesStart<'_>) -> bool {
    match attr(e, "val") {
        None => true,
        Some(v) => !matches!(v.trim(), "0" | "false" | "off" | "none"),
    }
}

fn attr_u32(e: &BytesStart<'_>, local: &str) -> Option<u32> {
    attr(e, local)?.trim().parse().ok()
}

/// A general reference: predefined entities and character references
/// resolve; anything else (a DTD entity) is `None` and never expanded.
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

/// What the generic walker reports.
enum Item<'e, 'b> {
    Open(&'e BytesStart<'b>),
    Close,
    Text(&'e str),
}

/// Streams a small part, calling `on` with the stack of open element local
/// names (the current element last) and each item. Entities other than the
/// predefined ones and character references are dropped.
fn walk(src: &mut dyn BufRead, mut on: impl FnMut(&[String], Item<'_, '_>)) -> Result<(), String> {
    let mut reader = new_reader(src);
    let mut buf = Vec::new();
    let mut path: Vec<String> = Vec::new();
    loop {
        buf.clear();
        match reader.read_event_into(&mut buf) {
            Ok(Event::Start(e)) => {
                path.push(local_name(&e).to_string());
                on(&path, Item::Open(&e));
            }
            Ok(Event::Empty(e)) => {
                path.push(local_name(&e).to_string());
                on(&path, Item::Open(&e));
                on(&path, Item::Close);
                path.pop();
            }
            Ok(Event::End(_)) => {
                on(&path, Item::Close);
                path.pop();
            }
            Ok(Event::Text(t)) => on(&path, Item::Text(&t.xml10_content())),
            Ok(Event::CData(t)) => on(&path, Item::Text(&t.xml10_content())),
            Ok(Event::GeneralRef(r)) => {
                if let Some(c) = resolve_ref(&r) {
                    let mut tmp = [0u8; 4];
                    on(&path, Item::Text(c.encode_utf8(&mut tmp)));
                }
            }
            Ok(Event::Eof) => return Ok(()),
            Ok(_) => {}
            Err(e) => return Err(format!("{e} at byte {}", reader.error_position())),
        }
    }
}

/// `path` ends with exactly `suffix`.
fn ends_with(path: &[String], suffix: &[&str]) -> bool {
    path.len() >= suffix.len() && path[path.len() - suffix.len()..].iter().zip(suffix).all(|(a, b)| a == b)
}

// ---------------------------------------------------------------------------
// Relationships

struct Rel {
    kind: String,
    /// Part name inside the zip.
    target: String,
}

/// Parses a `.rels` part; targets are resolved against `base` (the source
/// part's folder, with a trailing slash, or "" for the package).
fn parse_rels(src: &mut dyn BufRead, base: &str) -> Result<Vec<Rel>, String> {
    let mut rels = Vec::new();
    walk(src, |path, item| {
        if let Item::Open(e) = item {
            if path.last().is_some_and(|n| n == "Relationship") {
                if attr(e, "TargetMode").is_some_and(|m| m.eq_ignore_ascii_case("external")) {
                    return;
                }
                if let (Some(kind), Some(target)) = (attr(e, "Type"), attr(e, "Target")) {
                    rels.push(Rel { kind, target: resolve_target(base, &target) });
                }
            }
        }
    })?;
    Ok(rels)
}

fn resolve_target(base: &str, target: &str) -> String {
    let target = target.replace('\\', "/");
    let joined = match target.strip_prefix('/') {
        Some(abs) => abs.to_string(),
        None => format!("{base}{target}"),
    };
    let mut parts: Vec<&str> = Vec::new();
    for seg in joined.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

// ---------------------------------------------------------------------------
// Theme fonts

#[derive(Debug, Default)]
struct Theme {
    major: HashMap<&'static str, String>,
    minor: HashMap<&'static str, String>,
}

impl Theme {
    /// A `w:asciiTheme`-style value ("minorHAnsi", "majorBidi", …) → font.
    fn font(&self, value: &str) -> Option<String> {
        let (fonts, rest) = if let Some(rest) = value.strip_prefix("major") {
            (&self.major, rest)
        } else if let Some(rest) = value.strip_prefix("minor") {
            (&self.minor, rest)
        } else {
            return None;
        };
        let script = match rest {
            "Bidi" => "cs",
            "EastAsia" => "ea",
            _ => "latin",
        };
        fonts.get(script).or_else(|| fonts.get("latin")).filter(|f| !f.is_empty()).cloned()
    }
}

fn parse_theme(src: &mut dyn BufRead) -> Result<Theme, String> {
    let mut theme = Theme::default();
    walk(src, |path, item| {
        let Item::Open(e) = item else { return };
        let n = path.len();
        if n < 2 {
            return;
        }
        let script = match path[n - 1].as_str() {
            "latin" => "latin",
            "ea" => "ea",
            "cs" => "cs",
            _ => return,
        };
        let fonts = match path[n - 2].as_str() {
            "majorFont" => &mut theme.major,
            "minorFont" => &mut theme.minor,
            _ => return,
        };
        if let Some(face) = attr(e, "typeface") {
            fonts.entry(script).or_insert(face);
        }
    })?;
    Ok(theme)
}

/// The font a `w:rFonts` element names: theme attributes before explicit
/// ones (as Word applies them), ASCII before high-ANSI before complex script
/// before East Asian.
fn rfonts(e: &BytesStart<'_>, theme: &Theme) -> Option<String> {
    for (theme_attr, plain_attr) in
        [("asciiTheme", "ascii"), ("hAnsiTheme", "hAnsi"), ("cstheme", "cs"), ("eastAsiaTheme", "eastAsia")]
    {
        if let Some(f) = attr(e, theme_attr).and_then(|t| theme.font(&t)) {
            return Some(f);
        }
        if let Some(f) = attr(e, plain_attr).filter(|f| !f.trim().is_empty()) {
            return Some(f);
        }
    }
    None
}

// ---------------------------------------------------------------------------
// Styles

#[derive(Debug, Clone, Default)]
struct StyleDef {
    based_on: Option<String>,
    font: Option<String>,
    bold: Option<bool>,
    num_id: Option<String>,
    ilvl: Option<u32>,
}

/// A style with its `basedOn` chain applied.
#[derive(Debug, Clone, Default)]
struct Resolved {
    font: Option<String>,
    bold: Option<bool>,
    num_id: Option<String>,
    ilvl: Option<u32>,
}

#[derive(Debug, Default)]
struct Styles {
    default_font: Option<String>,
    default_bold: Option<bool>,
    default_para: Option<String>,
    resolved: HashMap<String, Resolved>,
}

impl Styles {
    fn get(&self, id: Option<&str>) -> Option<&Resolved> {
        self.resolved.get(id?)
    }
}

fn parse_styles(src: &mut dyn BufRead, theme: &Theme) -> Result<Styles, String> {
    let mut defs: HashMap<String, StyleDef> = HashMap::new();
    let mut styles = Styles::default();
    let mut current: Option<(String, StyleDef)> = None;
    walk(src, |path, item| match item {
        Item::Open(e) => {
            let name = path.last().map(String::as_str).unwrap_or("");
            if ends_with(path, &["styles", "style"]) {
                let id = attr(e, "styleId").unwrap_or_default();
                if attr(e, "type").as_deref() == Some("paragraph")
                    && attr(e, "default").is_some_and(|d| !matches!(d.as_str(), "0" | "false" | "off"))
                {
                    styles.default_para = Some(id.clone());
                }
                current = Some((id, StyleDef::default()));
                return;
            }
            if ends_with(path, &["docDefaults", "rPrDefault", "rPr", name]) {
                match name {
                    "rFonts" => styles.default_font = rfonts(e, theme),
                    "b" => styles.default_bold = Some(on_off(e)),
                    _ => {}
                }
                return;
            }
            let Some((_, def)) = current.as_mut() else { return };
            if ends_with(path, &["style", "basedOn"]) {
                def.based_on = attr(e, "val");
            } else if ends_with(path, &["style", "rPr", "rFonts"]) {
                def.font = rfonts(e, theme);
            } else if ends_with(path, &["style", "rPr", "b"]) {
                def.bold = Some(on_off(e));
            } else if ends_with(path, &["style", "pPr", "numPr", "numId"]) {
                def.num_id = attr(e, "val");
            } else if ends_with(path, &["style", "pPr", "numPr", "ilvl"]) {
                def.ilvl = attr_u32(e, "val");
            }
        }
        Item::Close => {
            if ends_with(path, &["styles", "style"]) {
                if let Some((id, def)) = current.take() {
                    defs.entry(id).or_insert(def);
                }
            }
        }
        Item::Text(_) => {}
    })?;
    // Apply each style's basedOn chain, a bounded number of steps (chains
    // may loop in a damaged file).
    for id in defs.keys() {
        let mut r = Resolved::default();
        let mut cur = defs.get(id);
        for _ in 0..MAX_STYLE_CHAIN {
            let Some(def) = cur else { break };
            if r.font.is_none() {
                r.font.clone_from(&def.font);
            }
            if r.bold.is_none() {
                r.bold = def.bold;
            }
            if r.num_id.is_none() {
                r.num_id.clone_from(&def.num_id);
            }
            if r.ilvl.is_none() {
                r.ilvl = def.ilvl;
            }
            cur = def.based_on.as_ref().and_then(|b| defs.get(b));
        }
        styles.resolved.insert(id.clone(), r);
    }
    Ok(styles)
}

// ---------------------------------------------------------------------------
// Numbering

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Suffix {
    #[default]
    Tab,
    Space,
    Nothing,
}

impl Suffix {
    fn as_str(self) -> &'static str {
        match self {
            Suffix::Tab => "\t",
            Suffix::Space => " ",
            Suffix::Nothing => "",
        }
    }
}

#[derive(Debug, Clone, Default)]
struct Level {
    start: Option<i64>,
    fmt: Option<String>,
    text: Option<String>,
    /// `w:lvlRestart`: 0 never restarts; n restarts after level n (1-based).
    restart: Option<u32>,
    is_lgl: bool,
    pstyle: Option<String>,
    suffix: Suffix,
}

#[derive(Debug, Clone, Default)]
struct AbstractNum {
    levels: [Option<Level>; LEVELS],
    num_style_link: Option<String>,
}

#[derive(Debug, Clone, Default)]
struct Num {
    abstract_id: Option<String>,
    start_override: [Option<i64>; LEVELS],
    level_override: [Option<Level>; LEVELS],
}

#[derive(Debug, Default)]
struct Numbering {
    abstracts: HashMap<String, AbstractNum>,
    nums: HashMap<String, Num>,
    /// Current value of each level, per list (see [`Numbering::label`]).
    counters: HashMap<String, [Option<i64>; LEVELS]>,
}

fn parse_numbering(src: &mut dyn BufRead) -> Result<Numbering, String> {
    let mut n = Numbering::default();
    let mut abs: Option<(String, AbstractNum)> = None;
    let mut num: Option<(String, Num)> = None;
    let mut lvl: Option<(usize, Level)> = None;
    let mut override_ilvl: Option<usize> = None;
    walk(src, |path, item| match item {
        Item::Open(e) => {
            let name = path.last().map(String::as_str).unwrap_or("");
            if ends_with(path, &["numbering", "abstractNum"]) {
                abs = Some((attr(e, "abstractNumId").unwrap_or_default(), AbstractNum::default()));
            } else if ends_with(path, &["numbering", "num"]) {
                num = Some((attr(e, "numId").unwrap_or_default(), Num::default()));
            } else if ends_with(path, &["abstractNum", "lvl"]) || ends_with(path, &["lvlOverride", "lvl"]) {
                let ilvl = attr_u32(e, "ilvl").or(override_ilvl.map(|i| i as u32)).unwrap_or(0) as usize;
                lvl = Some((ilvl.min(LEVELS - 1), Level::default()));
            } else if ends_with(path, &["abstractNum", "numStyleLink"]) {
                if let Some((_, a)) = abs.as_mut() {
                    a.num_style_link = attr(e, "val");
                }
            } else if ends_with(path, &["num", "abstractNumId"]) {
                if let Some((_, m)) = num.as_mut() {
                    m.abstract_id = attr(e, "val");
                }
            } else if ends_with(path, &["num", "lvlOverride"]) {
                override_ilvl = attr_u32(e, "ilvl").map(|i| (i as usize).min(LEVELS - 1));
            } else if ends_with(path, &["lvlOverride", "startOverride"]) {
                if let (Some((_, m)), Some(i)) = (num.as_mut(), override_ilvl) {
                    m.start_override[i] = attr(e, "val").and_then(|v| v.trim().parse().ok());
                }
            } else if path.len() >= 2 && path[path.len() - 2] == "lvl" {
                let Some((_, l)) = lvl.as_mut() else { return };
                match name {
                    "start" => l.start = attr(e, "val").and_then(|v| v.trim().parse().ok()),
                    "numFmt" => l.fmt = attr(e, "val"),
                    "lvlText" => l.text = attr(e, "val"),
                    "lvlRestart" => l.restart = attr_u32(e, "val"),
                    "isLgl" => l.is_lgl = on_off(e),
                    "pStyle" => l.pstyle = attr(e, "val"),
                    "suff" => {
                        l.suffix = match attr(e, "val").as_deref() {
                            Some("space") => Suffix::Space,
                            Some("nothing") => Suffix::Nothing,
                            _ => Suffix::Tab,
                        }
                    }
                    _ => {}
                }
            }
        }
        Item::Close => {
            if ends_with(path, &["abstractNum", "lvl"]) {
                if let (Some((i, l)), Some((_, a))) = (lvl.take(), abs.as_mut()) {
                    a.levels[i] = Some(l);
                }
            } else if ends_with(path, &["lvlOverride", "lvl"]) {
                if let (Some((i, l)), Some((_, m))) = (lvl.take(), num.as_mut()) {
                    m.level_override[i] = Some(l);
                }
            } else if ends_with(path, &["num", "lvlOverride"]) {
                override_ilvl = None;
            } else if ends_with(path, &["numbering", "abstractNum"]) {
                if let Some((id, a)) = abs.take() {
                    n.abstracts.entry(id).or_insert(a);
                }
            } else if ends_with(path, &["numbering", "num"]) {
                if let Some((id, m)) = num.take() {
                    n.nums.entry(id).or_insert(m);
                }
            }
        }
        Item::Text(_) => {}
    })?;
    Ok(n)
}

impl Numbering {
    /// The abstract definition a `numId` renders with, following numbering
    /// style links a bounded number of steps.
    fn abstract_for(&self, num_id: &str, styles: &Styles) -> Option<(&Num, &AbstractNum)> {
        let num = self.nums.get(num_id)?;
        let mut abs = self.abstracts.get(num.abstract_id.as_deref()?)?;
        for _ in 0..3 {
            let Some(link) = abs.num_style_link.as_deref() else { break };
            let Some(linked) = styles.get(Some(link)).and_then(|s| s.num_id.as_deref()) else { break };
            let Some(next) = self.nums.get(linked).and_then(|m| self.abstracts.get(m.abstract_id.as_deref()?)) else {
                break;
            };
            abs = next;
        }
        Some((num, abs))
    }

    /// The level a paragraph of `style` is at when its numbering gives no
    /// `w:ilvl`: the level linked to that style, else 0.
    fn level_for_style(&self, num_id: &str, style: Option<&str>, styles: &Styles) -> usize {
        let (Some(style), Some((_, abs))) = (style, self.abstract_for(num_id, styles)) else { return 0 };
        abs.levels.iter().position(|l| l.as_ref().and_then(|l| l.pstyle.as_deref()) == Some(style)).unwrap_or(0)
    }

    /// Advances list `num_id` at `ilvl` and renders the label ("2.1", "a)",
    /// "•") with its suffix. `Err` when the list or level is not defined.
    fn label(&mut self, num_id: &str, ilvl: usize, styles: &Styles) -> Result<Option<(String, Suffix)>, ()> {
        let ilvl = ilvl.min(LEVELS - 1);
        let Some((num, abs)) = self.abstract_for(num_id, styles) else { return Err(()) };
        let levels: [Option<&Level>; LEVELS] =
            std::array::from_fn(|i| num.level_override[i].as_ref().or(abs.levels[i].as_ref()));
        let starts: [i64; LEVELS] =
            std::array::from_fn(|i| num.start_override[i].or(levels[i].and_then(|l| l.start)).unwrap_or(0));
        let Some(level) = levels[ilvl] else { return Err(()) };
        // Lists that restart (a start override) count on their own; others
        // share the counters of their abstract definition, as Word does.
        let key = if num.start_override.iter().any(Option::is_some) || num.level_override.iter().any(Option::is_some) {
            format!("n:{num_id}")
        } else {
            format!("a:{}", num.abstract_id.as_deref().unwrap_or(""))
        };
        let fmt_bullet = level.fmt.as_deref() == Some("bullet");
        let fmt_none = level.fmt.as_deref() == Some("none");
        let level = level.clone();
        let restarts: [Option<u32>; LEVELS] = std::array::from_fn(|i| levels[i].and_then(|l| l.restart));
        let formats: [Option<String>; LEVELS] = std::array::from_fn(|i| levels[i].and_then(|l| l.fmt.clone()));

        let counters = self.counters.entry(key).or_insert([None; LEVELS]);
        counters[ilvl] = Some(match counters[ilvl] {
            None => starts[ilvl],
            Some(v) => v.saturating_add(1),
        });
        for j in ilvl + 1..LEVELS {
            let restart = match restarts[j] {
                None => true,
                Some(0) => false,
                Some(r) => ilvl < r as usize,
            };
            if restart {
                counters[j] = None;
            }
        }
        if fmt_bullet {
            return Ok(Some(("•".to_string(), level.suffix)));
        }
        let Some(template) = level.text.as_deref() else { return Ok(None) };
        let mut out = String::new();
        let mut chars = template.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '%' {
                if let Some(d) = chars.peek().and_then(|d| d.to_digit(10)).filter(|d| (1..=9).contains(d)) {
                    chars.next();
                    if fmt_none {
                        continue;
                    }
                    let k = d as usize - 1;
                    let value = counters[k].unwrap_or(starts[k]);
                    let fmt = if level.is_lgl { Some("decimal") } else { formats[k].as_deref() };
                    out.push_str(&format_number(value, fmt.unwrap_or("decimal")));
                    continue;
                }
            }
            out.push(c);
        }
        let out = out.trim().to_string();
        if out.is_empty() {
            return Ok(None);
        }
        Ok(Some((out, level.suffix)))
    }
}

/// A list counter in a `w:numFmt`.
fn format_number(n: i64, fmt: &str) -> String {
    match fmt {
        "decimalZero" if (0..10).contains(&n) => format!("0{n}"),
        "upperRoman" => roman(n).unwrap_or_else(|| n.to_string()),
        "lowerRoman" => roman(n).map(|r| r.to_lowercase()).unwrap_or_else(|| n.to_string()),
        "upperLetter" => letters(n).unwrap_or_else(|| n.to_string()),
        "lowerLetter" => letters(n).map(|r| r.to_lowercase()).unwrap_or_else(|| n.to_string()),
        "ordinal" => {
            let suffix = match (n % 10, n % 100) {
                (_, 11..=13) => "th",
                (1, _) => "st",
                (2, _) => "nd",
                (3, _) => "rd",
                _ => "th",
            };
            format!("{n}{suffix}")
        }
        "none" => String::new(),
        _ => n.to_string(),
    }
}

fn roman(n: i64) -> Option<String> {
    if !(1..4000).contains(&n) {
        return None;
    }
    const TABLE: [(i64, &str); 13] = [
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ];
    let mut n = n;
    let mut out = String::new();
    for (value, digits) in TABLE {
        while n >= value {
            out.push_str(digits);
            n -= value;
        }
    }
    Some(out)
}

/// Word's letter numbering: A … Z, AA … ZZ, AAA ….
fn letters(n: i64) -> Option<String> {
    if !(1..=26 * 50).contains(&n) {
        return None;
    }
    let letter = (b'A' + ((n - 1) % 26) as u8) as char;
    Some(std::iter::repeat_n(letter, ((n - 1) / 26 + 1) as usize).collect())
}

// ---------------------------------------------------------------------------
// Core properties

fn parse_core_title(src: &mut dyn BufRead) -> Result<Option<String>, String> {
    let mut title: Option<String> = None;
    walk(src, |path, item| {
        if let Item::Text(t) = item {
            if ends_with(path, &["coreProperties", "title"]) {
                title.get_or_insert_with(String::new).push_str(t);
            }
        }
    })?;
    Ok(title.map(|t| t.trim().to_string()))
}

// ---------------------------------------------------------------------------
// The body

/// What an open element of the body is, for the handlers of its children
/// and its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    P,
    PPr,
    NumPr,
    R,
    RPr,
    T,
    Tbl,
    TblGrid,
    Tr,
    TrPr,
    Tc,
    TcPr,
    Alt { taken: bool },
    Other,
}

/// Elements whose whole subtree is not body text.
fn skipped(name: &str) -> bool {
    matches!(
        name,
        "drawing"
            | "pict"
            | "object"
            | "txbxContent"
            | "del"
            | "moveFrom"
            | "delText"
            | "delInstrText"
            | "instrText"
            | "sdtPr"
            | "sdtEndPr"
            | "rt"
            | "sectPr"
            | "footnoteReference"
            | "endnoteReference"
            | "commentReference"
            | "annotationRef"
            | "fldData"
            | "ffData"
            | "customXmlPr"
            | "smartTagPr"
            | "background"
            | "tblPr"
            | "tblPrEx"
    ) || name.ends_with("Change")
}

#[derive(Debug, Default)]
struct ParaB {
    style: Option<String>,
    num_id: Option<String>,
    ilvl: Option<u32>,
    text: String,
    spans: Vec<Span>,
    any_text: bool,
    all_bold: bool,
}

#[derive(Debug, Default)]
struct RunB {
    font: Option<String>,
    bold: Option<bool>,
    style: Option<String>,
    hidden: bool,
    /// Text pieces; a piece with a font is a `w:sym` in that font.
    pieces: Vec<(String, Option<String>)>,
}

impl RunB {
    fn push(&mut self, s: &str) {
        match self.pieces.last_mut() {
            Some((text, None)) => text.push_str(s),
            _ => self.pieces.push((s.to_string(), None)),
        }
    }
}

/// A finished paragraph on its way into a cell.
#[derive(Debug)]
struct CellPara {
    text: String,
    spans: Vec<Span>,
    any_text: bool,
    all_bold: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum VMerge {
    Restart,
    Continue,
}

#[derive(Debug, Default)]
struct CellB {
    span: u32,
    vmerge: Option<VMerge>,
    hmerge_continue: bool,
    paras: Vec<CellPara>,
}

#[derive(Debug, Default)]
struct RowB {
    grid_before: u32,
    grid_after: u32,
    header: bool,
    deleted: bool,
    cells: Vec<CellB>,
    cell: Option<CellB>,
}

#[derive(Debug, Default)]
struct TableB {
    grid: usize,
    rows: Vec<Row>,
    row: Option<RowB>,
    /// Widest row placed, in grid columns.
    widest: usize,
    overflow: bool,
}

enum BodyError {
    /// The XML is broken at some point.
    Xml(String),
    /// A limit was reached.
    Fatal(LayoutError),
}

struct Body<'s> {
    styles: &'s Styles,
    theme: &'s Theme,
    numbering: Option<Numbering>,
    warnings: Warnings,
    blocks: Vec<Block>,
    paragraphs: u32,
    tables_done: u32,
    stack: Vec<Tag>,
    /// Depth inside a skipped subtree (0: not skipping).
    skip: u32,
    para: Option<ParaB>,
    run: Option<RunB>,
    tables: Vec<TableB>,
    grid_cells: usize,
    fatal: Option<LayoutError>,
    unknown_entities: usize,
    first_unknown_entity: Option<String>,
    nested_tables: usize,
    overdeep_tables: usize,
    overflow_cells: usize,
}

impl<'s> Body<'s> {
    fn new(styles: &'s Styles, theme: &'s Theme, numbering: Option<Numbering>, warnings: Warnings) -> Self {
        Body {
            styles,
            theme,
            numbering,
            warnings,
            blocks: Vec::new(),
            paragraphs: 0,
            tables_done: 0,
            stack: Vec::new(),
            skip: 0,
            para: None,
            run: None,
            tables: Vec::new(),
            grid_cells: 0,
            fatal: None,
            unknown_entities: 0,
            first_unknown_entity: None,
            nested_tables: 0,
            overdeep_tables: 0,
            overflow_cells: 0,
        }
    }

    fn parse(&mut self, src: &mut dyn BufRead) -> Result<(), BodyError> {
        let mut reader = new_reader(src);
        let mut buf = Vec::with_capacity(4096);
        loop {
            buf.clear();
            match reader.read_event_into(&mut buf) {
                Ok(Event::Start(e)) => self.open(&e, false),
                Ok(Event::Empty(e)) => self.open(&e, true),
                Ok(Event::End(_)) => self.close(),
                Ok(Event::Text(t)) => {
                    if self.in_text() {
                        self.text(&t.xml10_content());
                    }
                }
                Ok(Event::CData(t)) => {
                    if self.in_text() {
                        self.text(&t.xml10_content());
                    }
                }
                Ok(Event::GeneralRef(r)) => match resolve_ref(&r) {
                    Some(c) => {
                        if self.in_text() {
                            let mut tmp = [0u8; 4];
                            self.text(c.encode_utf8(&mut tmp));
                        }
                    }
                    None => {
                        self.unknown_entities += 1;
                        if self.first_unknown_entity.is_none() {
                            self.first_unknown_entity = Some(r.xml10_content().chars().take(40).collect());
                        }
                    }
                },
                Ok(Event::DocType(d)) => {
                    let declares_entities = d.xml10_content().contains("<!ENTITY");
                    self.warnings.once("doctype", || {
                        if declares_entities {
                            "word/document.xml has a DOCTYPE declaring entities (as in an entity-expansion attack); it was ignored and no entity was expanded".to_string()
                        } else {
                            "word/document.xml has a DOCTYPE, which Word never writes; it was ignored".to_string()
                        }
                    });
                }
                Ok(Event::Eof) => return Ok(()),
                Ok(_) => {}
                Err(e) => return Err(BodyError::Xml(format!("{e} at byte {}", reader.error_position()))),
            }
            if let Some(err) = self.fatal.take() {
                return Err(BodyError::Fatal(err));
            }
        }
    }

    /// Closes whatever is still open (a truncated document) and returns the
    /// blocks and warnings.
    fn finish(mut self) -> Result<(Vec<Block>, Warnings), LayoutError> {
        self.skip = 0;
        while let Some(tag) = self.stack.pop() {
            self.close_tag(tag);
        }
        if self.run.is_some() {
            self.finish_run();
        }
        if self.para.is_some() {
            self.finish_para();
        }
        while !self.tables.is_empty() {
            self.finish_table();
        }
        if let Some(err) = self.fatal.take() {
            return Err(err);
        }
        if self.unknown_entities > 0 {
            let name = self.first_unknown_entity.take().unwrap_or_default();
            self.warnings.push(format!(
                "word/document.xml refers to {} undefined entit{} (first: &{name};); they were left out, never expanded",
                self.unknown_entities,
                if self.unknown_entities == 1 { "y" } else { "ies" }
            ));
        }
        if self.nested_tables > 0 {
            self.warnings.push(format!(
                "{} nested table{} read as text of the containing cell, row by row, cells separated by \" | \"",
                self.nested_tables,
                if self.nested_tables == 1 { " was" } else { "s were" }
            ));
        }
        if self.overdeep_tables > 0 {
            self.warnings.push(format!(
                "{} table{} nested more than {MAX_TABLE_DEPTH} deep; their paragraphs were read as lines of the enclosing cell",
                self.overdeep_tables,
                if self.overdeep_tables == 1 { " is" } else { "s are" }
            ));
        }
        if self.overflow_cells > 0 {
            self.warnings.push(format!(
                "{} table cell{} beyond column {MAX_COLS} {} appended to the last cell of {}",
                self.overflow_cells,
                if self.overflow_cells == 1 { "" } else { "s" },
                if self.overflow_cells == 1 { "was" } else { "were" },
                if self.overflow_cells == 1 { "its row" } else { "their rows" }
            ));
        }
        Ok((self.blocks, self.warnings))
    }

    fn in_text(&self) -> bool {
        self.skip == 0 && self.stack.last() == Some(&Tag::T) && self.run.is_some()
    }

    fn text(&mut self, s: &str) {
        if let Some(run) = self.run.as_mut() {
            run.push(s);
        }
    }

    fn open(&mut self, e: &BytesStart<'_>, empty: bool) {
        if self.skip > 0 {
            if !empty {
                self.skip += 1;
            }
            return;
        }
        let name = local_name(e);
        let parent = self.stack.last().copied();
        let tag = match name {
            "p" => {
                if self.para.is_none() {
                    self.para = Some(ParaB { all_bold: true, ..ParaB::default() });
                    Tag::P
                } else {
                    Tag::Other
                }
            }
            "pPr" if parent == Some(Tag::P) => Tag::PPr,
            "pStyle" if parent == Some(Tag::PPr) => {
                if let Some(p) = self.para.as_mut() {
                    p.style = attr(e, "val");
                }
                Tag::Other
            }
            "numPr" if parent == Some(Tag::PPr) => Tag::NumPr,
            "numId" if parent == Some(Tag::NumPr) => {
                if let Some(p) = self.para.as_mut() {
                    p.num_id = attr(e, "val");
                }
                Tag::Other
            }
            "ilvl" if parent == Some(Tag::NumPr) => {
                if let Some(p) = self.para.as_mut() {
                    p.ilvl = attr_u32(e, "val");
                }
                Tag::Other
            }
            "r" => {
                if self.para.is_some() && self.run.is_none() {
                    self.run = Some(RunB::default());
                    Tag::R
                } else {
                    Tag::Other
                }
            }
            "rPr" if parent == Some(Tag::R) => Tag::RPr,
            "rFonts" | "b" | "rStyle" | "vanish" if parent == Some(Tag::RPr) => {
                if let Some(run) = self.run.as_mut() {
                    match name {
                        "rFonts" => run.font = rfonts(e, self.theme),
                        "b" => run.bold = Some(on_off(e)),
                        "rStyle" => run.style = attr(e, "val"),
                        _ => run.hidden = on_off(e),
                    }
                }
                Tag::Other
            }
            "t" if parent == Some(Tag::R) => Tag::T,
            "tab" | "ptab" | "br" | "cr" | "noBreakHyphen" | "sym" if parent == Some(Tag::R) => {
                if let Some(run) = self.run.as_mut() {
                    match name {
                        "tab" | "ptab" => run.push("\t"),
                        "br" | "cr" => run.push("\n"),
                        "noBreakHyphen" => run.push("-"),
                        _ => {
                            let code = attr(e, "char").and_then(|c| u32::from_str_radix(c.trim(), 16).ok());
                            if let Some(c) = code.and_then(char::from_u32) {
                                let font = attr(e, "font").filter(|f| !f.trim().is_empty());
                                run.pieces.push((c.to_string(), font));
                            }
                        }
                    }
                }
                Tag::Other
            }
            "tbl" => {
                if self.tables.len() < MAX_TABLE_DEPTH {
                    self.tables.push(TableB::default());
                    Tag::Tbl
                } else {
                    self.overdeep_tables += 1;
                    Tag::Other
                }
            }
            "tblGrid" if parent == Some(Tag::Tbl) => Tag::TblGrid,
            "gridCol" if parent == Some(Tag::TblGrid) => {
                if let Some(t) = self.tables.last_mut() {
                    t.grid += 1;
                }
                Tag::Other
            }
            "tr" => match self.tables.last_mut() {
                Some(t) if t.row.is_none() => {
                    t.row = Some(RowB::default());
                    Tag::Tr
                }
                _ => Tag::Other,
            },
            "trPr" if parent == Some(Tag::Tr) => Tag::TrPr,
            "gridBefore" | "gridAfter" | "tblHeader" | "del" if parent == Some(Tag::TrPr) => {
                if let Some(row) = self.tables.last_mut().and_then(|t| t.row.as_mut()) {
                    match name {
                        "gridBefore" => row.grid_before = attr_u32(e, "val").unwrap_or(0),
                        "gridAfter" => row.grid_after = attr_u32(e, "val").unwrap_or(0),
                        "tblHeader" => row.header = on_off(e),
                        _ => row.deleted = true,
                    }
                }
                if name == "del" && !empty {
                    self.skip = 1;
                    return;
                }
                Tag::Other
            }
            "tc" => match self.tables.last_mut().and_then(|t| t.row.as_mut()) {
                Some(row) if row.cell.is_none() => {
                    row.cell = Some(CellB { span: 1, ..CellB::default() });
                    Tag::Tc
                }
                _ => Tag::Other,
            },
            "tcPr" if parent == Some(Tag::Tc) => Tag::TcPr,
            "gridSpan" | "vMerge" | "hMerge" if parent == Some(Tag::TcPr) => {
                if let Some(cell) = self.current_cell() {
                    match name {
                        "gridSpan" => cell.span = attr_u32(e, "val").unwrap_or(1).max(1),
                        "vMerge" => {
                            cell.vmerge = Some(match attr(e, "val").as_deref() {
                                Some("restart") => VMerge::Restart,
                                _ => VMerge::Continue,
                            })
                        }
                        _ => cell.hmerge_continue = attr(e, "val").as_deref() != Some("restart"),
                    }
                }
                Tag::Other
            }
            "AlternateContent" => Tag::Alt { taken: false },
            "Choice" | "Fallback" => match self.stack.last_mut() {
                Some(Tag::Alt { taken }) => {
                    if *taken {
                        if !empty {
                            self.skip = 1;
                        }
                        return;
                    }
                    *taken = true;
                    Tag::Other
                }
                _ => Tag::Other,
            },
            n if skipped(n) => {
                if !empty {
                    self.skip = 1;
                }
                return;
            }
            _ => Tag::Other,
        };
        if empty {
            self.close_tag(tag);
        } else {
            self.stack.push(tag);
        }
    }

    fn close(&mut self) {
        if self.skip > 0 {
            self.skip -= 1;
            return;
        }
        if let Some(tag) = self.stack.pop() {
            self.close_tag(tag);
        }
    }

    fn close_tag(&mut self, tag: Tag) {
        match tag {
            Tag::P => self.finish_para(),
            Tag::R => self.finish_run(),
            Tag::Tc => self.finish_cell(),
            Tag::Tr => self.finish_row(),
            Tag::Tbl => self.finish_table(),
            _ => {}
        }
    }

    fn current_cell(&mut self) -> Option<&mut CellB> {
        self.tables.last_mut()?.row.as_mut()?.cell.as_mut()
    }

    fn finish_run(&mut self) {
        let Some(run) = self.run.take() else { return };
        let Some(para) = self.para.as_mut() else { return };
        if run.hidden || run.pieces.is_empty() {
            return;
        }
        let styles = self.styles;
        let char_style = styles.get(run.style.as_deref());
        let para_style = styles.get(para.style.as_deref()).or_else(|| styles.get(styles.default_para.as_deref()));
        let font = run
            .font
            .or_else(|| char_style.and_then(|s| s.font.clone()))
            .or_else(|| para_style.and_then(|s| s.font.clone()))
            .or_else(|| styles.default_font.clone());
        let bold = run
            .bold
            .or(char_style.and_then(|s| s.bold))
            .or(para_style.and_then(|s| s.bold))
            .or(styles.default_bold)
            .unwrap_or(false);
        for (text, sym_font) in run.pieces {
            if text.is_empty() {
                continue;
            }
            if text.chars().any(|c| !c.is_whitespace()) {
                para.any_text = true;
                if !bold {
                    para.all_bold = false;
                }
            }
            para.text.push_str(&text);
            push_span(&mut para.spans, &text, sym_font.or_else(|| font.clone()));
        }
    }

    fn finish_para(&mut self) {
        if self.run.is_some() {
            self.finish_run();
        }
        let Some(para) = self.para.take() else { return };
        let numbering = self.number(&para);
        if let Some(cell) = self.current_cell() {
            if para.text.trim().is_empty() {
                return;
            }
            let (text, spans) = match numbering {
                Some((label, suffix)) => {
                    let prefix = format!("{label}{}", suffix.as_str());
                    let mut spans = vec![Span { text: prefix.clone(), font: None }];
                    for s in para.spans {
                        push_span(&mut spans, &s.text, s.font);
                    }
                    (format!("{prefix}{}", para.text), spans)
                }
                None => (para.text, para.spans),
            };
            cell.paras.push(CellPara { text, spans, any_text: para.any_text, all_bold: para.all_bold });
            return;
        }
        if para.text.trim().is_empty() && numbering.is_none() {
            return;
        }
        let index = self.paragraphs;
        self.paragraphs += 1;
        self.blocks.push(Block::Paragraph(Paragraph {
            index,
            text: para.text,
            spans: para.spans,
            style: para.style,
            numbering: numbering.map(|(label, _)| label),
            bold: para.any_text && para.all_bold,
            page: None,
            bbox: None,
        }));
    }

    /// The paragraph's list label, advancing the list's counters.
    fn number(&mut self, para: &ParaB) -> Option<(String, Suffix)> {
        let styles = self.styles;
        let style_id =
            para.style.as_deref().filter(|id| styles.resolved.contains_key(*id)).or(styles.default_para.as_deref());
        let style = styles.get(style_id);
        let num_id = para.num_id.as_deref().or(style.and_then(|s| s.num_id.as_deref()))?;
        if num_id.trim() == "0" {
            return None;
        }
        let Some(numbering) = self.numbering.as_mut() else {
            self.warnings.once("no-numbering", || {
                "paragraphs are numbered (w:numPr) but word/numbering.xml is missing or unreadable; their list numbers were left out".to_string()
            });
            return None;
        };
        let ilvl = match para.ilvl.or(style.and_then(|s| s.ilvl)) {
            Some(i) => i as usize,
            None => numbering.level_for_style(num_id, style_id, styles),
        };
        match numbering.label(num_id, ilvl, styles) {
            Ok(label) => label,
            Err(()) => {
                let num_id = num_id.to_string();
                self.warnings.once("bad-numbering", || {
                    format!("list {num_id} (w:numId) or one of its levels is not defined in word/numbering.xml; list numbers of such paragraphs were left out")
                });
                None
            }
        }
    }

    fn finish_cell(&mut self) {
        let Some(row) = self.tables.last_mut().and_then(|t| t.row.as_mut()) else { return };
        if let Some(cell) = row.cell.take() {
            row.cells.push(cell);
        }
    }

    fn finish_row(&mut self) {
        if self.tables.last().is_some_and(|t| t.row.as_ref().is_some_and(|r| r.cell.is_some())) {
            self.finish_cell();
        }
        let Some(table) = self.tables.last_mut() else { return };
        let Some(row) = table.row.take() else { return };
        if row.deleted {
            return;
        }
        let r = table.rows.len() as u32;
        let limit = MAX_COLS;
        let mut cells: Vec<Cell> = Vec::with_capacity(table.grid.max(row.cells.len()));
        let before = (row.grid_before as usize).min(limit);
        cells.extend((0..before).map(|_| Cell::empty()));
        for c in row.cells {
            let col = cells.len();
            let (text, spans, bold) = cell_content(c.paras);
            if col >= limit {
                // Past the widest grid built: keep the text in the row's last cell.
                self.overflow_cells += 1;
                if let Some(last) = cells.last().map(|c| c.merged_into) {
                    let target = match last {
                        Some((or, oc)) if or == r => cells.get_mut(oc as usize),
                        Some(_) => None,
                        None => cells.last_mut(),
                    };
                    if let Some(target) = target {
                        append_text(target, text, spans);
                    }
                }
                continue;
            }
            let span = (c.span.max(1) as usize).min(limit - col);
            if c.hmerge_continue && col > 0 {
                // Legacy horizontal merge: this cell widens the one before it.
                let origin = match cells[col - 1].merged_into {
                    Some((or, oc)) if or == r => oc as usize,
                    _ => col - 1,
                };
                if cells[origin].merged_into.is_none() {
                    cells[origin].col_span += span as u32;
                    append_text(&mut cells[origin], text, spans);
                    cells.extend((0..span).map(|_| covered(r, origin as u32)));
                    continue;
                }
            }
            if c.vmerge == Some(VMerge::Continue) {
                if let Some((or, oc)) = vmerge_origin(&table.rows, r, col, span) {
                    if let Some(origin) = table.rows.get_mut(or as usize).and_then(|row| row.cells.get_mut(oc as usize))
                    {
                        origin.row_span = r - or + 1;
                        append_text(origin, text, spans);
                    }
                    cells.extend((0..span).map(|_| covered(or, oc)));
                    continue;
                }
            }
            let mut cell = Cell::empty();
            cell.text = text;
            cell.spans = spans;
            cell.bold = bold;
            cell.col_span = span as u32;
            cells.push(cell);
            cells.extend((1..span).map(|_| covered(r, col as u32)));
        }
        let after = (row.grid_after as usize).min(limit.saturating_sub(cells.len()));
        cells.extend((0..after).map(|_| Cell::empty()));
        table.widest = table.widest.max(cells.len());
        self.grid_cells += cells.len();
        table.rows.push(Row { cells, header: row.header, page: None, bbox: None });
        self.check_grid_budget();
    }

    fn check_grid_budget(&mut self) {
        if self.grid_cells > MAX_GRID_CELLS && self.fatal.is_none() {
            self.fatal = Some(LayoutError::TooLarge(format!(
                "word/document.xml's tables make more than {MAX_GRID_CELLS} grid cells (merged and padding positions included): a damaged or hostile document"
            )));
        }
    }

    fn finish_table(&mut self) {
        if self.tables.last().is_some_and(|t| t.row.is_some()) {
            self.finish_row();
        }
        let Some(mut tb) = self.tables.pop() else { return };
        let grid = tb.grid.min(MAX_COLS);
        let ncols = grid.max(tb.widest);
        let index = self.tables_done;
        if tb.widest > grid && grid > 0 {
            tb.overflow = true;
        }
        let padding: usize = tb.rows.iter().map(|r| ncols - r.cells.len().min(ncols)).sum();
        self.grid_cells += padding;
        self.check_grid_budget();
        if self.fatal.is_some() {
            return;
        }
        for row in &mut tb.rows {
            while row.cells.len() < ncols {
                row.cells.push(Cell::empty());
            }
        }
        let table = Table { index, rows: tb.rows, ncols, page: None, bbox: None, source: "docx" };
        if self.tables.is_empty() {
            if tb.overflow {
                self.warnings.push(format!(
                    "table {} of the document: a row has more cells than the {grid} columns of its w:tblGrid; the grid was widened to {ncols}",
                    index + 1
                ));
            }
            self.tables_done += 1;
            self.blocks.push(Block::Table(table));
            return;
        }
        // A nested table: its rows become lines of the containing cell.
        self.nested_tables += 1;
        for row in &table.rows {
            let mut line = CellPara { text: String::new(), spans: Vec::new(), any_text: false, all_bold: true };
            for cell in row.cells.iter().filter(|c| !c.is_continuation() && !c.text.trim().is_empty()) {
                if !line.text.is_empty() {
                    line.text.push_str(" | ");
                    push_span(&mut line.spans, " | ", None);
                }
                line.text.push_str(&cell.text.replace('\n', " "));
                for s in &cell.spans {
                    push_span(&mut line.spans, &s.text.replace('\n', " "), s.font.clone());
                }
                line.any_text = true;
                line.all_bold &= cell.bold;
            }
            if !line.text.is_empty() {
                self.deliver_line(line);
            }
        }
    }

    /// A line of flattened nested table into the open cell, or the body if
    /// there is none (a damaged document).
    fn deliver_line(&mut self, line: CellPara) {
        if let Some(cell) = self.current_cell() {
            cell.paras.push(line);
            return;
        }
        let index = self.paragraphs;
        self.paragraphs += 1;
        self.blocks.push(Block::Paragraph(Paragraph {
            index,
            text: line.text,
            spans: line.spans,
            style: None,
            numbering: None,
            bold: line.any_text && line.all_bold,
            page: None,
            bbox: None,
        }));
    }
}

/// A grid position covered by the cell at (row, col).
fn covered(row: u32, col: u32) -> Cell {
    let mut c = Cell::empty();
    c.merged_into = Some((row, col));
    c
}

/// The origin a `w:vMerge` continuation at (r, col) spanning `span` columns
/// extends: the cell above must start at the same column with the same width.
fn vmerge_origin(rows: &[Row], r: u32, col: usize, span: usize) -> Option<(u32, u32)> {
    let above = rows.last()?.cells.get(col)?;
    let (or, oc) = above.merged_into.unwrap_or((r.checked_sub(1)?, col as u32));
    let origin = rows.get(or as usize)?.cells.get(oc as usize)?;
    (oc as usize == col && origin.col_span as usize == span && origin.merged_into.is_none()).then_some((or, oc))
}

/// A cell's paragraphs → text (joined with "\n"), spans, whole-cell bold.
fn cell_content(paras: Vec<CellPara>) -> (String, Vec<Span>, bool) {
    let mut text = String::new();
    let mut spans: Vec<Span> = Vec::new();
    let mut any = false;
    let mut all_bold = true;
    for p in paras {
        if !text.is_empty() {
            text.push('\n');
            if let Some(last) = spans.last_mut() {
                last.text.push('\n');
            }
        }
        text.push_str(&p.text);
        for s in p.spans {
            push_span(&mut spans, &s.text, s.font);
        }
        if p.any_text {
            any = true;
            all_bold &= p.all_bold;
        }
    }
    (text, spans, any && all_bold)
}

/// Appends a merged-away cell's text to its origin (a continuation that
/// still holds text: Word shows it in the merged cell).
fn append_text(target: &mut Cell, text: String, spans: Vec<Span>) {
    if text.is_empty() {
        return;
    }
    if !target.text.is_empty() {
        target.text.push('\n');
        if let Some(last) = target.spans.last_mut() {
            last.text.push('\n');
        }
    }
    target.text.push_str(&text);
    for s in spans {
        push_span(&mut target.spans, &s.text, s.font);
    }
}

/// Appends text in `font`, merging with the last span when the font is the same.
fn push_span(spans: &mut Vec<Span>, text: &str, font: Option<String>) {
    if text.is_empty() {
        return;
    }
    match spans.last_mut() {
        Some(last) if last.font == font => last.text.push_str(text),
        _ => spans.push(Span { text: text.to_string(), font }),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::time::{Duration, Instant};

    use zip::write::SimpleFileOptions;
    use zip::{CompressionMethod, ZipWriter};

    use super::*;

    const NS: &str = concat!(
        r#"xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" "#,
        r#"xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" "#,
        r#"xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" "#,
        r#"xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" "#,
        r#"xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" "#,
        r#"xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" "#,
        r#"xmlns:v="urn:schemas-microsoft-com:vml""#
    );

    const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/></Types>"#;

    const PACKAGE_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/></Relationships>"#;

    const DOCUMENT_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/numbering" Target="numbering.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/theme" Target="theme/theme1.xml"/><Relationship Id="rId4" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink" Target="https://example.org/" TargetMode="External"/></Relationships>"#;

    fn zip_parts(parts: &[(&str, &[u8])]) -> Vec<u8> {
        let mut w = ZipWriter::new(Cursor::new(Vec::new()));
        let opts = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
        for (name, data) in parts {
            w.start_file(*name, opts).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    fn document(body: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {NS}><w:body>{body}<w:sectPr><w:headerReference w:type="default" r:id="rId9"/></w:sectPr></w:body></w:document>"#
        )
    }

    /// A package with `body` as its document and `extra` parts (styles,
    /// numbering, theme, core properties) as given.
    fn docx(body: &str, extra: &[(&str, &str)]) -> Vec<u8> {
        let doc = document(body);
        let mut parts: Vec<(&str, &[u8])> = vec![
            ("[Content_Types].xml", CONTENT_TYPES.as_bytes()),
            ("_rels/.rels", PACKAGE_RELS.as_bytes()),
            ("word/_rels/document.xml.rels", DOCUMENT_RELS.as_bytes()),
            ("word/document.xml", doc.as_bytes()),
        ];
        for (name, data) in extra {
            parts.push((name, data.as_bytes()));
        }
        zip_parts(&parts)
    }

    fn read_ok(bytes: &[u8]) -> LayoutDoc {
        match read(bytes, &Limits::default()) {
            Ok(doc) => doc,
            Err(e) => panic!("read failed: {e:?}"),
        }
    }

    fn paras(doc: &LayoutDoc) -> Vec<&Paragraph> {
        doc.paragraphs().collect()
    }

    fn p(text: &str) -> String {
        format!("<w:p><w:r><w:t xml:space=\"preserve\">{text}</w:t></w:r></w:p>")
    }

    fn tc(inner: &str) -> String {
        format!("<w:tc>{inner}</w:tc>")
    }

    fn tc_text(text: &str) -> String {
        tc(&p(text))
    }

    const STYLES: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
  <w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:asciiTheme="minorHAnsi" w:hAnsiTheme="minorHAnsi"/><w:sz w:val="22"/></w:rPr></w:rPrDefault></w:docDefaults>
  <w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/></w:style>
  <w:style w:type="paragraph" w:styleId="Heading1"><w:name w:val="heading 1"/><w:basedOn w:val="Normal"/>
    <w:rPr><w:rFonts w:ascii="Georgia" w:hAnsi="Georgia"/><w:b/></w:rPr></w:style>
  <w:style w:type="paragraph" w:styleId="Heading2"><w:basedOn w:val="Heading1"/><w:rPr><w:i/></w:rPr></w:style>
  <w:style w:type="paragraph" w:styleId="Loop1"><w:basedOn w:val="Loop2"/></w:style>
  <w:style w:type="paragraph" w:styleId="Loop2"><w:basedOn w:val="Loop1"/></w:style>
  <w:style w:type="paragraph" w:styleId="ListNum"><w:basedOn w:val="Normal"/><w:pPr><w:numPr><w:numId w:val="1"/></w:numPr></w:pPr></w:style>
  <w:style w:type="character" w:styleId="Strong"><w:rPr><w:b/></w:rPr></w:style>
  <w:style w:type="table" w:styleId="Grid"><w:tblStylePr w:type="firstRow"><w:rPr><w:rFonts w:ascii="Impact"/><w:b/></w:rPr></w:tblStylePr></w:style>
</w:styles>"#;

    const THEME: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<a:theme xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" name="Office"><a:themeElements><a:fontScheme name="Office">
  <a:majorFont><a:latin typeface="Calibri Light"/><a:ea typeface=""/><a:cs typeface=""/></a:majorFont>
  <a:minorFont><a:latin typeface="Calibri"/><a:ea typeface=""/><a:cs typeface=""/></a:minorFont>
</a:fontScheme></a:themeElements></a:theme>"#;

    const NUMBERING: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<w:numbering xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
  <w:abstractNum w:abstractNumId="0">
    <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1."/></w:lvl>
    <w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1.%2"/></w:lvl>
    <w:lvl w:ilvl="2"><w:start w:val="1"/><w:numFmt w:val="lowerLetter"/><w:lvlText w:val="(%3)"/><w:suff w:val="space"/></w:lvl>
  </w:abstractNum>
  <w:abstractNum w:abstractNumId="1">
    <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="bullet"/><w:lvlText w:val="&#61623;"/><w:rPr><w:rFonts w:ascii="Symbol"/></w:rPr></w:lvl>
  </w:abstractNum>
  <w:abstractNum w:abstractNumId="2">
    <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="upperRoman"/><w:lvlText w:val="%1"/></w:lvl>
    <w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="upperLetter"/><w:lvlText w:val="%2)"/><w:lvlRestart w:val="0"/></w:lvl>
  </w:abstractNum>
  <w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num>
  <w:num w:numId="2"><w:abstractNumId w:val="1"/></w:num>
  <w:num w:numId="3"><w:abstractNumId w:val="0"/><w:lvlOverride w:ilvl="0"><w:startOverride w:val="5"/></w:lvlOverride></w:num>
  <w:num w:numId="4"><w:abstractNumId w:val="2"/></w:num>
</w:numbering>"#;

    fn numbered(num_id: u32, ilvl: u32, text: &str) -> String {
        format!(
            r#"<w:p><w:pPr><w:pStyle w:val="ListParagraph"/><w:numPr><w:ilvl w:val="{ilvl}"/><w:numId w:val="{num_id}"/></w:numPr></w:pPr><w:r><w:t>{text}</w:t></w:r></w:p>"#
        )
    }

    #[test]
    fn paragraphs_with_styles_and_numbering() {
        let body = [
            r#"<w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr><w:r><w:t>Introduction</w:t></w:r></w:p>"#.to_string(),
            numbered(1, 0, "First"),
            numbered(1, 1, "Sub one"),
            numbered(1, 1, "Sub two"),
            numbered(1, 2, "Deep"),
            numbered(1, 0, "Second"),
            numbered(1, 1, "Restarted sub"),
            numbered(2, 0, "A bullet"),
            numbered(3, 0, "Restarts at five"),
            numbered(3, 0, "Six"),
            r#"<w:p><w:pPr><w:pStyle w:val="ListNum"/></w:pPr><w:r><w:t>Style numbered</w:t></w:r></w:p>"#.to_string(),
            r#"<w:p><w:pPr><w:pStyle w:val="ListNum"/><w:numPr><w:numId w:val="0"/></w:numPr></w:pPr><w:r><w:t>Numbering removed</w:t></w:r></w:p>"#.to_string(),
            numbered(4, 0, "Roman"),
            numbered(4, 1, "Letter A"),
            numbered(4, 0, "Roman two"),
            numbered(4, 1, "Letter B, no restart"),
            "<w:p/>".to_string(),
            p("   "),
            p("Plain"),
        ]
        .concat();
        let doc = read_ok(&docx(&body, &[("word/styles.xml", STYLES), ("word/numbering.xml", NUMBERING)]));
        let ps = paras(&doc);
        let got: Vec<(&str, Option<&str>)> = ps.iter().map(|p| (p.text.as_str(), p.numbering.as_deref())).collect();
        assert_eq!(
            got,
            vec![
                ("Introduction", None),
                ("First", Some("1.")),
                ("Sub one", Some("1.1")),
                ("Sub two", Some("1.2")),
                ("Deep", Some("(a)")),
                ("Second", Some("2.")),
                ("Restarted sub", Some("2.1")),
                ("A bullet", Some("•")),
                ("Restarts at five", Some("5.")),
                ("Six", Some("6.")),
                ("Style numbered", Some("3.")),
                ("Numbering removed", None),
                ("Roman", Some("I")),
                ("Letter A", Some("A)")),
                ("Roman two", Some("II")),
                ("Letter B, no restart", Some("B)")),
                ("Plain", None),
            ]
        );
        assert_eq!(ps[0].style.as_deref(), Some("Heading1"));
        assert_eq!(ps[1].style.as_deref(), Some("ListParagraph"));
        assert_eq!(ps[16].style, None);
        // Empty paragraphs are dropped; index counts the paragraphs kept.
        assert!(ps.iter().enumerate().all(|(i, p)| p.index as usize == i));
        assert!(doc.warnings.is_empty(), "{:?}", doc.warnings);
        assert_eq!(doc.format, Format::Docx);
        assert_eq!(doc.pages, None);
    }

    #[test]
    fn numbering_without_numbering_part_warns_once() {
        let body = [numbered(1, 0, "One"), numbered(1, 0, "Two")].concat();
        let doc = read_ok(&docx(&body, &[]));
        assert!(paras(&doc).iter().all(|p| p.numbering.is_none()));
        assert_eq!(doc.warnings.iter().filter(|w| w.contains("numbering.xml")).count(), 1, "{:?}", doc.warnings);
        // A numId that numbering.xml does not define.
        let doc = read_ok(&docx(&numbered(77, 0, "Unknown"), &[("word/numbering.xml", NUMBERING)]));
        assert_eq!(paras(&doc)[0].numbering, None);
        assert!(doc.warnings.iter().any(|w| w.contains("list 77")), "{:?}", doc.warnings);
    }

    #[test]
    fn bold_detection() {
        let body = [
            // All runs bold directly; a whitespace-only plain run does not count.
            r#"<w:p><w:r><w:rPr><w:b/></w:rPr><w:t>Bold</w:t></w:r><w:r><w:t xml:space="preserve"> </w:t></w:r><w:r><w:rPr><w:b w:val="1"/></w:rPr><w:t>too</w:t></w:r></w:p>"#,
            // Mixed.
            r#"<w:p><w:r><w:rPr><w:b/></w:rPr><w:t>Half </w:t></w:r><w:r><w:t>plain</w:t></w:r></w:p>"#,
            // Bold from the paragraph style (Heading1 via Heading2's basedOn).
            r#"<w:p><w:pPr><w:pStyle w:val="Heading2"/></w:pPr><w:r><w:t>Styled bold</w:t></w:r></w:p>"#,
            // Style bold switched off on a run.
            r#"<w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr><w:r><w:t>Heading </w:t></w:r><w:r><w:rPr><w:b w:val="0"/></w:rPr><w:t>not bold</w:t></w:r></w:p>"#,
            // Bold from a character style.
            r#"<w:p><w:r><w:rPr><w:rStyle w:val="Strong"/></w:rPr><w:t>Strong</w:t></w:r></w:p>"#,
            // Bold paragraph mark only: the text is not bold.
            r#"<w:p><w:pPr><w:rPr><w:b/></w:rPr></w:pPr><w:r><w:t>Mark only</w:t></w:r></w:p>"#,
            // A style whose basedOn chain loops.
            r#"<w:p><w:pPr><w:pStyle w:val="Loop1"/></w:pPr><w:r><w:t>Looping style</w:t></w:r></w:p>"#,
        ]
        .concat();
        let doc = read_ok(&docx(&body, &[("word/styles.xml", STYLES), ("word/theme/theme1.xml", THEME)]));
        let got: Vec<(&str, bool)> = paras(&doc).iter().map(|p| (p.text.as_str(), p.bold)).collect();
        assert_eq!(
            got,
            vec![
                ("Bold too", true),
                ("Half plain", false),
                ("Styled bold", true),
                ("Heading not bold", false),
                ("Strong", true),
                ("Mark only", false),
                ("Looping style", false),
            ]
        );
    }

    #[test]
    fn fonts_spans_symbols_and_run_content() {
        let body = [
            // Theme default font (Calibri), then Webdings "a", then Calibri again.
            r#"<w:p><w:r><w:t xml:space="preserve">Status: </w:t></w:r><w:r><w:rFonts w:ascii="Ignored"/><w:t>x</w:t></w:r><w:r><w:rPr><w:rFonts w:ascii="Webdings" w:hAnsi="Webdings"/></w:rPr><w:t>a</w:t></w:r><w:r><w:t xml:space="preserve"> done</w:t></w:r></w:p>"#,
            // w:sym inside a run in Arial.
            r#"<w:p><w:r><w:rPr><w:rFonts w:ascii="Arial" w:hAnsi="Arial"/></w:rPr><w:t>Up </w:t><w:sym w:font="Wingdings" w:char="F0E9"/></w:r></w:p>"#,
            // Tabs, breaks, heading font from style, entities and character references.
            r#"<w:p><w:pPr><w:pStyle w:val="Heading1"/><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr><w:r><w:t>A</w:t><w:tab/><w:t>B</w:t><w:br/><w:t>C&amp;D &lt;&#233;&#x2013;&gt;</w:t><w:cr/><w:noBreakHyphen/></w:r></w:p>"#,
            // hAnsi / cs when ascii is absent.
            r#"<w:p><w:r><w:rPr><w:rFonts w:cs="Tahoma"/></w:rPr><w:t>cs font</w:t></w:r></w:p>"#,
        ]
        .concat();
        let doc = read_ok(&docx(&body, &[("word/styles.xml", STYLES), ("word/theme/theme1.xml", THEME)]));
        let ps = paras(&doc);
        assert_eq!(ps[0].text, "Status: xa done");
        assert_eq!(
            ps[0].spans,
            vec![
                Span { text: "Status: x".into(), font: Some("Calibri".into()) },
                Span { text: "a".into(), font: Some("Webdings".into()) },
                Span { text: " done".into(), font: Some("Calibri".into()) },
            ]
        );
        assert_eq!(ps[1].text, "Up \u{F0E9}");
        assert_eq!(
            ps[1].spans,
            vec![
                Span { text: "Up ".into(), font: Some("Arial".into()) },
                Span { text: "\u{F0E9}".into(), font: Some("Wingdings".into()) },
            ]
        );
        assert_eq!(ps[2].text, "A\tB\nC&D <é–>\n-");
        assert_eq!(ps[2].spans.len(), 1);
        assert_eq!(ps[2].spans[0].font.as_deref(), Some("Georgia"));
        assert_eq!(ps[3].spans[0].font.as_deref(), Some("Tahoma"));
    }

    #[test]
    fn fonts_without_styles_are_none() {
        let doc = read_ok(&docx(&p("No styles part"), &[]));
        assert_eq!(paras(&doc)[0].spans, vec![Span { text: "No styles part".into(), font: None }]);
    }

    fn table(grid: usize, rows: &[String]) -> String {
        let cols = "<w:gridCol w:w=\"1000\"/>".repeat(grid);
        format!(
            r#"<w:tbl><w:tblPr><w:tblStyle w:val="Grid"/><w:tblW w:w="0" w:type="auto"/></w:tblPr><w:tblGrid>{cols}<w:tblGridChange w:id="1"><w:tblGrid><w:gridCol/></w:tblGrid></w:tblGridChange></w:tblGrid>{}</w:tbl>"#,
            rows.concat()
        )
    }

    fn tr(pr: &str, cells: &[String]) -> String {
        format!("<w:tr><w:trPr>{pr}</w:trPr>{}</w:tr>", cells.concat())
    }

    #[test]
    fn table_with_banner_vmerge_and_header() {
        let bold = |t: &str| format!("<w:p><w:r><w:rPr><w:b/></w:rPr><w:t>{t}</w:t></w:r></w:p>");
        let merge = |val: &str, inner: &str| tc(&format!("<w:tcPr><w:vMerge{val}/></w:tcPr>{inner}"));
        let rows = vec![
            tr("<w:tblHeader/>", &[tc(&bold("Outcome")), tc(&bold("Milestone")), tc(&bold("Status"))]),
            tr(
                "",
                &[tc(&format!(
                    "<w:tcPr><w:gridSpan w:val=\"3\"/><w:shd w:fill=\"B4C6E7\"/></w:tcPr>{}",
                    bold("Theme 1: Growth")
                ))],
            ),
            tr("", &[merge(" w:val=\"restart\"", &p("Jobs")), tc_text("Open hub"), tc_text("Done")]),
            tr("", &[merge("", "<w:p/>"), tc_text("Train 50"), tc_text("On track")]),
            tr(
                "",
                &[
                    merge(" w:val=\"continue\"", "<w:p/>"),
                    tc(&format!("{}{}<w:p/>", p("Two"), p("paragraphs"))),
                    tc_text("Late"),
                ],
            ),
            tr("<w:gridBefore w:val=\"1\"/>", &[tc_text("after gap"), tc_text("end")]),
            tr("<w:gridAfter w:val=\"2\"/>", &[tc_text("only")]),
        ];
        let body = format!("{}{}{}", p("Before"), table(3, &rows), p("After"));
        let doc = read_ok(&docx(&body, &[]));
        assert!(matches!(&doc.blocks[0], Block::Paragraph(p) if p.text == "Before"));
        assert!(matches!(&doc.blocks[2], Block::Paragraph(p) if p.text == "After" && p.index == 1));
        let t = doc.tables().next().unwrap();
        assert_eq!((t.index, t.ncols, t.rows.len(), t.source), (0, 3, 7, "docx"));
        assert!(t.rows[0].header && !t.rows[1].header);
        assert!(t.rows[0].cells.iter().all(|c| c.bold));
        assert_eq!(t.rows[0].cells[1].text, "Milestone");
        // Banner.
        let banner = &t.rows[1].cells[0];
        assert_eq!(
            (banner.text.as_str(), banner.col_span, banner.row_span, banner.bold),
            ("Theme 1: Growth", 3, 1, true)
        );
        assert_eq!(t.rows[1].cells[1].merged_into, Some((1, 0)));
        assert_eq!(t.rows[1].cells[2].merged_into, Some((1, 0)));
        assert_eq!(t.origin(1, 2).unwrap().text, "Theme 1: Growth");
        // Vertical merge over three rows.
        assert_eq!((t.rows[2].cells[0].text.as_str(), t.rows[2].cells[0].row_span), ("Jobs", 3));
        for r in [3, 4] {
            let c = &t.rows[r].cells[0];
            assert_eq!(c.merged_into, Some((2, 0)));
            assert!(c.text.is_empty());
        }
        assert_eq!(t.rows[3].cells[1].text, "Train 50");
        assert_eq!(t.rows[4].cells[1].text, "Two\nparagraphs");
        assert_eq!(t.rows[4].cells[1].spans, vec![Span { text: "Two\nparagraphs".into(), font: None }]);
        // gridBefore / gridAfter.
        let texts = |r: usize| t.rows[r].cells.iter().map(|c| c.text.as_str()).collect::<Vec<_>>();
        assert_eq!(texts(5), vec!["", "after gap", "end"]);
        assert_eq!(texts(6), vec!["only", "", ""]);
        assert!(t.rows.iter().all(|r| r.cells.len() == 3));
        assert!(t.rows[6].cells.iter().all(|c| c.merged_into.is_none()));
        assert!(doc.warnings.is_empty(), "{:?}", doc.warnings);
    }

    #[test]
    fn vmerge_continue_with_text_and_mismatched_span() {
        let merge = |val: &str, span: u32, text: &str| {
            tc(&format!("<w:tcPr><w:gridSpan w:val=\"{span}\"/><w:vMerge{val}/></w:tcPr>{}", p(text)))
        };
        let rows = vec![
            tr("", &[merge(" w:val=\"restart\"", 2, "Top"), tc_text("c")]),
            tr("", &[merge("", 2, "stray"), tc_text("c2")]),
            // Different width: not a continuation of the cell above.
            tr("", &[merge("", 1, "new"), tc_text("b"), tc_text("c3")]),
        ];
        let doc = read_ok(&docx(&table(3, &rows), &[]));
        let t = doc.tables().next().unwrap();
        assert_eq!(t.rows[0].cells[0].text, "Top\nstray");
        assert_eq!(t.rows[0].cells[0].row_span, 2);
        assert_eq!(t.rows[1].cells[0].merged_into, Some((0, 0)));
        assert_eq!(t.rows[1].cells[1].merged_into, Some((0, 0)));
        assert_eq!(t.rows[2].cells[0].text, "new");
        assert_eq!(t.rows[2].cells[0].merged_into, None);
    }

    #[test]
    fn rows_wider_than_grid_grow_it_with_a_warning() {
        let rows = vec![tr("", &[tc_text("a"), tc_text("b")]), tr("", &[tc_text("1"), tc_text("2"), tc_text("3")])];
        let doc = read_ok(&docx(&table(2, &rows), &[]));
        let t = doc.tables().next().unwrap();
        assert_eq!(t.ncols, 3);
        assert!(t.rows.iter().all(|r| r.cells.len() == 3));
        assert_eq!(t.rows[1].cells[2].text, "3");
        assert!(doc.warnings.iter().any(|w| w.contains("widened to 3")), "{:?}", doc.warnings);
    }

    #[test]
    fn legacy_hmerge_and_numbered_cell_paragraphs() {
        let hm = |val: &str, text: &str| tc(&format!("<w:tcPr><w:hMerge{val}/></w:tcPr>{}", p(text)));
        let rows = vec![
            tr("", &[hm(" w:val=\"restart\"", "Wide"), hm("", ""), tc_text("c")]),
            tr(
                "",
                &[
                    tc(&format!("{}{}", numbered(2, 0, "first point"), numbered(1, 0, "step"))),
                    tc_text("b"),
                    tc_text("c"),
                ],
            ),
        ];
        let doc = read_ok(&docx(&table(3, &rows), &[("word/numbering.xml", NUMBERING)]));
        let t = doc.tables().next().unwrap();
        assert_eq!((t.rows[0].cells[0].text.as_str(), t.rows[0].cells[0].col_span), ("Wide", 2));
        assert_eq!(t.rows[0].cells[1].merged_into, Some((0, 0)));
        assert_eq!(t.rows[0].cells[2].text, "c");
        assert_eq!(t.rows[1].cells[0].text, "•\tfirst point\n1.\tstep");
        assert_eq!(
            t.rows[1].cells[0].spans.iter().map(|s| s.text.as_str()).collect::<String>(),
            t.rows[1].cells[0].text
        );
    }

    #[test]
    fn cells_past_the_widest_grid_join_the_last_cell() {
        let cells: Vec<String> = (0..MAX_COLS + 3).map(|i| tc_text(&format!("c{i}"))).collect();
        let doc = read_ok(&docx(&table(2, &[tr("", &cells), tr("", &[tc_text("short")])]), &[]));
        let t = doc.tables().next().unwrap();
        assert_eq!(t.ncols, MAX_COLS);
        assert!(t.rows.iter().all(|r| r.cells.len() == MAX_COLS));
        let last = format!("c{}\nc{}\nc{}\nc{}", MAX_COLS - 1, MAX_COLS, MAX_COLS + 1, MAX_COLS + 2);
        assert_eq!(t.rows[0].cells[MAX_COLS - 1].text, last);
        assert!(
            doc.warnings.iter().any(|w| w.contains("3 table cells beyond column 512 were appended")),
            "{:?}",
            doc.warnings
        );
    }

    #[test]
    fn nested_tables_become_cell_text() {
        let inner = table(
            2,
            &[
                tr(
                    "",
                    &[
                        tc_text("Key"),
                        tc("<w:p><w:r><w:rPr><w:rFonts w:ascii=\"Wingdings\"/></w:rPr><w:t>l</w:t></w:r></w:p>"),
                    ],
                ),
                tr("", &[tc_text("Late"), tc_text("red")]),
            ],
        );
        let rows = vec![tr("", &[tc(&format!("{}{inner}<w:p/>", p("Legend:"))), tc_text("x")])];
        let doc = read_ok(&docx(&table(2, &rows), &[]));
        assert_eq!(doc.tables().count(), 1);
        let t = doc.tables().next().unwrap();
        assert_eq!(t.index, 0);
        assert_eq!(t.rows[0].cells[0].text, "Legend:\nKey | l\nLate | red");
        let spans = &t.rows[0].cells[0].spans;
        assert!(spans.iter().any(|s| s.text == "l\n" && s.font.as_deref() == Some("Wingdings")), "{spans:?}");
        assert_eq!(t.rows[0].cells[1].text, "x");
        assert!(doc.warnings.iter().any(|w| w.contains("nested table")), "{:?}", doc.warnings);
    }

    #[test]
    fn tables_nested_past_the_cap_keep_their_text() {
        let mut inner = p("deepest");
        for depth in 0..(MAX_TABLE_DEPTH + 4) {
            inner = table(1, &[tr("", &[tc(&format!("{}{inner}<w:p/>", p(&format!("level {depth}"))))])]);
        }
        let doc = read_ok(&docx(&inner, &[]));
        assert_eq!(doc.tables().count(), 1);
        let text = &doc.tables().next().unwrap().rows[0].cells[0].text;
        assert!(text.contains("deepest"), "{text}");
        assert!(text.contains("level 0"), "{text}");
        assert!(doc.warnings.iter().any(|w| w.contains("more than 8 deep")), "{:?}", doc.warnings);
    }

    #[test]
    fn text_boxes_deletions_and_fields_are_skipped() {
        let body = r#"<w:p>
          <w:r><w:t xml:space="preserve">Kept </w:t></w:r>
          <w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><wp:anchor><a:graphic><a:graphicData><wps:wsp><wps:txbx><w:txbxContent><w:p><w:r><w:t>BOX CHOICE</w:t></w:r></w:p></w:txbxContent></wps:txbx></wps:wsp></a:graphicData></a:graphic></wp:anchor></w:drawing></mc:Choice><mc:Fallback><w:pict><v:shape><v:textbox><w:txbxContent><w:p><w:r><w:t>BOX FALLBACK</w:t></w:r></w:p></w:txbxContent></v:textbox></v:shape></w:pict></mc:Fallback></mc:AlternateContent></w:r>
          <w:del w:id="1" w:author="x"><w:r><w:delText>DELETED</w:delText></w:r></w:del>
          <w:ins w:id="2" w:author="x"><w:r><w:t xml:space="preserve">inserted </w:t></w:r></w:ins>
          <w:moveFrom w:id="3"><w:r><w:t>MOVED AWAY</w:t></w:r></w:moveFrom>
          <w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText xml:space="preserve"> HYPERLINK "x" </w:instrText></w:r><w:r><w:fldChar w:fldCharType="separate"/></w:r><w:r><w:t xml:space="preserve">field result </w:t></w:r><w:r><w:fldChar w:fldCharType="end"/></w:r>
          <w:hyperlink r:id="rId4"><w:r><w:t xml:space="preserve">link </w:t></w:r></w:hyperlink>
          <w:smartTag w:uri="u" w:element="place"><w:smartTagPr><w:attr w:name="n" w:val="v"/></w:smartTagPr><w:r><w:t xml:space="preserve">tagged </w:t></w:r></w:smartTag>
          <w:sdt><w:sdtPr><w:alias w:val="A"/><w:placeholder><w:docPart w:val="X"/></w:placeholder></w:sdtPr><w:sdtContent><w:r><w:t xml:space="preserve">control </w:t></w:r></w:sdtContent></w:sdt>
          <w:r><w:rPr><w:vanish/></w:rPr><w:t>HIDDEN</w:t></w:r>
          <w:r><w:rPr><w:rPrChange w:id="4"><w:rPr><w:rFonts w:ascii="Old"/></w:rPr></w:rPrChange></w:rPr><w:t>end</w:t></w:r>
        </w:p>
        <w:sdt><w:sdtContent><w:p><w:r><w:t>Block control</w:t></w:r></w:p></w:sdtContent></w:sdt>
        <w:p><w:r><w:pict><v:shape><v:textbox><w:txbxContent><w:p><w:r><w:t>VML BOX</w:t></w:r></w:p></w:txbxContent></v:textbox></v:shape></w:pict></w:r></w:p>"#;
        let doc = read_ok(&docx(body, &[]));
        let ps = paras(&doc);
        assert_eq!(ps.len(), 2, "{ps:?}");
        assert_eq!(ps[0].text, "Kept inserted field result link tagged control end");
        assert_eq!(ps[0].spans.len(), 1);
        assert_eq!(ps[0].spans[0].font, None);
        assert_eq!(ps[1].text, "Block control");
        let all = doc.full_text();
        for gone in ["BOX", "DELETED", "MOVED", "HYPERLINK", "HIDDEN"] {
            assert!(!all.contains(gone), "{gone} in {all:?}");
        }
    }

    #[test]
    fn deleted_table_rows_are_dropped() {
        let rows = vec![
            tr("", &[tc_text("kept")]),
            tr("<w:del w:id=\"1\" w:author=\"x\" w:date=\"2020-01-01T00:00:00Z\"/>", &[tc_text("gone")]),
        ];
        let doc = read_ok(&docx(&table(1, &rows), &[]));
        let t = doc.tables().next().unwrap();
        assert_eq!(t.rows.len(), 1);
        assert_eq!(t.rows[0].cells[0].text, "kept");
    }

    #[test]
    fn billion_laughs_is_not_expanded() {
        let mut dtd = String::from("<!DOCTYPE w:document [<!ENTITY lol \"lol\">");
        for i in 1..=9 {
            let prev = if i == 1 { "lol".to_string() } else { format!("lol{}", i - 1) };
            dtd.push_str(&format!("<!ENTITY lol{i} \"{}\">", format!("&{prev};").repeat(10)));
        }
        dtd.push_str("]>");
        let xml = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>{dtd}<w:document {NS}><w:body><w:p><w:r><w:t>Before &lol9; after &amp; more</w:t></w:r></w:p></w:body></w:document>"#
        );
        let bytes = zip_parts(&[("word/document.xml", xml.as_bytes())]);
        let start = Instant::now();
        let doc = read_ok(&bytes);
        assert!(start.elapsed() < Duration::from_secs(2));
        let ps = paras(&doc);
        assert_eq!(ps[0].text, "Before  after & more");
        assert!(!doc.full_text().contains("lollol"));
        assert!(doc.warnings.iter().any(|w| w.contains("DOCTYPE")), "{:?}", doc.warnings);
        assert!(doc.warnings.iter().any(|w| w.contains("&lol9;")), "{:?}", doc.warnings);
    }

    #[test]
    fn zip_bomb_is_too_large() {
        let zeros = vec![0u8; 20 << 20];
        let bytes = zip_parts(&[("word/document.xml", &zeros)]);
        assert!(bytes.len() < 1 << 20, "test bomb should compress well: {}", bytes.len());
        let limits = Limits { part_bytes: 1 << 20, ..Limits::default() };
        let start = Instant::now();
        match read(&bytes, &limits) {
            Err(LayoutError::TooLarge(msg)) => {
                assert!(msg.contains("word/document.xml") && msg.contains("1 MiB") && msg.contains("zip bomb"), "{msg}")
            }
            other => panic!("expected TooLarge, got {other:?}"),
        }
        assert!(start.elapsed() < Duration::from_secs(5));
        // The same bomb as XML text inside a valid document start.
        let mut xml = document("").into_bytes();
        xml.truncate(xml.len() - "</w:body></w:document>".len());
        xml.extend_from_slice(b"<w:p><w:r><w:t>");
        xml.extend(std::iter::repeat_n(b'0', 20 << 20));
        let bytes = zip_parts(&[("word/document.xml", &xml)]);
        assert!(matches!(read(&bytes, &limits), Err(LayoutError::TooLarge(_))));
    }

    #[test]
    fn total_inflated_limit_counts_all_parts() {
        let filler = "x".repeat(600 << 10);
        let styles = format!("<w:styles xmlns:w=\"w\"><!-- {filler} --></w:styles>");
        let bytes = docx(&p("text"), &[("word/styles.xml", &styles), ("word/theme/theme1.xml", &styles)]);
        let limits = Limits { part_bytes: 1 << 20, total_inflated: 1 << 20, ..Limits::default() };
        match read(&bytes, &limits) {
            Err(LayoutError::TooLarge(msg)) => {
                assert!(msg.contains("in all") && msg.contains("--max-inflated"), "{msg}")
            }
            other => panic!("expected TooLarge, got {other:?}"),
        }
        // Each part alone is within the limits.
        assert!(read(&bytes, &Limits { total_inflated: 4 << 20, ..limits }).is_ok());
    }

    #[test]
    fn too_many_entries_is_too_large() {
        let names: Vec<String> = (0..50).map(|i| format!("word/media/image{i}.png")).collect();
        let doc = document(&p("x"));
        let mut parts: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"png"[..])).collect();
        parts.push(("word/document.xml", doc.as_bytes()));
        let bytes = zip_parts(&parts);
        let limits = Limits { zip_entries: 20, ..Limits::default() };
        match read(&bytes, &limits) {
            Err(LayoutError::TooLarge(msg)) => assert!(msg.contains("51 entries") && msg.contains("20"), "{msg}"),
            other => panic!("expected TooLarge, got {other:?}"),
        }
        assert!(read(&bytes, &Limits::default()).is_ok());
    }

    #[test]
    fn random_bytes_are_corrupt() {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let bytes: Vec<u8> = (0..4096)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 24) as u8
            })
            .collect();
        match read(&bytes, &Limits::default()) {
            Err(LayoutError::Corrupt(msg)) => assert!(msg.starts_with("not a Word .docx (zip) file"), "{msg}"),
            other => panic!("expected Corrupt, got {other:?}"),
        }
        assert!(matches!(read(b"", &Limits::default()), Err(LayoutError::Corrupt(_))));
    }

    #[test]
    fn other_files_are_named() {
        let doc = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0];
        assert!(matches!(read(&doc, &Limits::default()), Err(LayoutError::Unsupported(m)) if m.contains(".doc")));
        let mut encrypted = doc.to_vec();
        encrypted.extend("EncryptedPackage".encode_utf16().flat_map(|u| u.to_le_bytes()));
        assert!(matches!(read(&encrypted, &Limits::default()), Err(LayoutError::Encrypted(_))));
        assert!(matches!(read(b"%PDF-1.7\n", &Limits::default()), Err(LayoutError::Unsupported(_))));
    }

    #[test]
    fn zip_without_document_is_unsupported() {
        let bytes =
            zip_parts(&[("xl/workbook.xml", b"<workbook/>"), ("[Content_Types].xml", CONTENT_TYPES.as_bytes())]);
        match read(&bytes, &Limits::default()) {
            Err(LayoutError::Unsupported(msg)) => {
                assert!(msg.contains("no word/document.xml") && msg.contains("Excel"), "{msg}")
            }
            other => panic!("expected Unsupported, got {other:?}"),
        }
        let bytes = zip_parts(&[("readme.txt", b"hello")]);
        match read(&bytes, &Limits::default()) {
            Err(LayoutError::Unsupported(msg)) => assert!(msg.contains("an .xlsx or .pptx renamed?"), "{msg}"),
            other => panic!("expected Unsupported, got {other:?}"),
        }
    }

    #[test]
    fn title_from_core_properties() {
        let core = r#"<?xml version="1.0"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Council Plan 2021/22 &amp; Q2</dc:title><dc:creator>Someone</dc:creator></cp:coreProperties>"#;
        let doc = read_ok(&docx(&p("x"), &[("docProps/core.xml", core)]));
        assert_eq!(doc.meta_title.as_deref(), Some("Council Plan 2021/22 & Q2"));
        let doc = read_ok(&docx(&p("x"), &[]));
        assert_eq!(doc.meta_title, None);
    }

    #[test]
    fn main_part_from_package_relationships_and_odd_names() {
        let rels = PACKAGE_RELS.replace("word/document.xml", "/word/document2.xml");
        let doc = document(&p("from document2"));
        let bytes = zip_parts(&[("_rels/.rels", rels.as_bytes()), ("word/document2.xml", doc.as_bytes())]);
        assert_eq!(paras(&read_ok(&bytes))[0].text, "from document2");
        // Case and separator differences in entry names.
        let bytes = zip_parts(&[("Word\\Document.xml", doc.as_bytes())]);
        assert_eq!(paras(&read_ok(&bytes))[0].text, "from document2");
        assert_eq!(resolve_target("word/", "../customXml/item1.xml"), "customXml/item1.xml");
    }

    #[test]
    fn damaged_xml_keeps_what_came_before() {
        let xml = format!("<w:document {NS}><w:body>{}<w:p><w:r><w:t>cut", p("Complete"));
        let doc = read_ok(&zip_parts(&[("word/document.xml", xml.as_bytes())]));
        let ps = paras(&doc);
        assert_eq!(ps[0].text, "Complete");
        assert_eq!(ps.get(1).map(|p| p.text.as_str()), Some("cut"));
        // Broken before any content: corrupt.
        let bytes = zip_parts(&[("word/document.xml", b"<w:document><w:body></w:bod>")]);
        assert!(matches!(read(&bytes, &Limits::default()), Err(LayoutError::Corrupt(_))));
        // A broken style part is ignored with a warning.
        let doc = read_ok(&docx(&p("x"), &[("word/styles.xml", "<w:styles><w:style></w:styles>")]));
        assert!(doc.warnings.iter().any(|w| w.contains("word/styles.xml is damaged")), "{:?}", doc.warnings);
    }

    #[test]
    fn utf16_document_is_read() {
        let xml = document(&p("wide text é"));
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(xml.encode_utf16().flat_map(|u| u.to_le_bytes()));
        let doc = read_ok(&zip_parts(&[("word/document.xml", &bytes)]));
        assert_eq!(paras(&doc)[0].text, "wide text é");
    }

    #[test]
    fn mutated_and_truncated_documents_never_panic_or_hang() {
        let rows: Vec<String> = (0..6)
            .map(|i| {
                tr(
                    if i == 0 { "<w:tblHeader/>" } else { "" },
                    &[
                        tc(&format!(
                            "<w:tcPr><w:vMerge{}/></w:tcPr>{}",
                            if i % 3 == 0 { " w:val=\"restart\"" } else { "" },
                            p("m")
                        )),
                        tc(&format!("<w:tcPr><w:gridSpan w:val=\"2\"/></w:tcPr>{}", numbered(1, i % 3, "n"))),
                    ],
                )
            })
            .collect();
        let body = format!(
            "{}{}{}",
            numbered(1, 0, "a"),
            table(3, &rows),
            p("z &amp; <w:sym w:font=\"Wingdings\" w:char=\"F0E9\"/>")
        );
        let xml = document(&body).into_bytes();
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let start = Instant::now();
        let bytes_chars = b"<>/=\"&;:wptrcgl0123 x#\xff\x00";
        for _ in 0..400 {
            let mut m = xml.clone();
            for _ in 0..(next() % 4 + 1) {
                let at = (next() as usize) % m.len();
                match next() % 3 {
                    0 => m[at] = bytes_chars[(next() as usize) % bytes_chars.len()],
                    1 => {
                        m.remove(at);
                    }
                    _ => {
                        let len = (next() as usize % 40).min(m.len() - at);
                        let chunk: Vec<u8> = m[at..at + len].to_vec();
                        let to = (next() as usize) % m.len();
                        m.splice(to..to, chunk);
                    }
                }
            }
            let bytes = zip_parts(&[("word/document.xml", &m), ("word/numbering.xml", NUMBERING.as_bytes())]);
            let _ = read(&bytes, &Limits::default());
        }
        let whole = docx(&body, &[("word/numbering.xml", NUMBERING), ("word/styles.xml", STYLES)]);
        for cut in (0..whole.len()).step_by(7) {
            let _ = read(&whole[..cut], &Limits::default());
        }
        for _ in 0..200 {
            let mut z = whole.clone();
            let at = (next() as usize) % z.len();
            z[at] ^= (next() as u8) | 1;
            let _ = read(&z, &Limits::default());
        }
        assert!(start.elapsed() < Duration::from_secs(60));
    }

    #[test]
    fn hostile_spans_are_bounded() {
        let rows = vec![
            tr("<w:gridBefore w:val=\"4000000000\"/>", &[tc_text("a")]),
            tr("", &[tc(&format!("<w:tcPr><w:gridSpan w:val=\"4294967295\"/></w:tcPr>{}", p("wide")))]),
        ];
        let doc = read_ok(&docx(&table(2, &rows), &[]));
        let t = doc.tables().next().unwrap();
        assert!(t.ncols <= MAX_COLS);
        assert!(doc.full_text().contains("wide"));
    }

    #[test]
    fn two_thousand_row_table_is_fast() {
        let rows: Vec<String> = (0..2000)
            .map(|i| {
                tr(
                    "",
                    &[
                        tc_text(&format!("Milestone {i}")),
                        tc("<w:p><w:r><w:rPr><w:rFonts w:ascii=\"Wingdings\"/></w:rPr><w:t>l</w:t></w:r><w:r><w:t xml:space=\"preserve\"> on track</w:t></w:r></w:p>"),
                        tc_text("Q2 2021/22"),
                        tc_text("Some longer rationale text that explains the position of this milestone."),
                    ],
                )
            })
            .collect();
        let bytes = docx(&table(4, &rows), &[]);
        let start = Instant::now();
        let doc = read_ok(&bytes);
        let elapsed = start.elapsed();
        let t = doc.tables().next().unwrap();
        assert_eq!(t.rows.len(), 2000);
        assert_eq!(t.rows[1999].cells[0].text, "Milestone 1999");
        // Milliseconds in release; generous for unoptimised test builds.
        assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    }
}
