//! One document through every per-document stage:
//! ingest → layout → classify → parse → normalise.
//!
//! The result is plain data ([`DocResult`]) so it can cross a process
//! boundary: the batch runner may run this in an isolated worker.

use serde::{Deserialize, Serialize};

use crate::classify::{classify, Classification};
use crate::ingest::{self, InputFile};
use crate::layout::{self, LayoutDoc, LayoutError, Limits};
use crate::model::{Document, DocumentError, ErrorKind, Format, KeyEntry, Measure, Milestone};
use crate::normalise::{self, DocFacts};
use crate::parse;
use crate::rules::Rules;

/// Per-document settings.
#[derive(Debug, Clone, Copy)]
pub struct DocOptions {
    pub max_file_bytes: u64,
    pub limits: Limits,
}

impl Default for DocOptions {
    fn default() -> Self {
        DocOptions { max_file_bytes: 1 << 30, limits: Limits::default() }
    }
}

/// Everything one document yields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocResult {
    pub document: Document,
    pub milestones: Vec<Milestone>,
    pub measures: Vec<Measure>,
    pub keys: Vec<KeyEntry>,
}

/// The stable id of a document: the first 16 hex digits of its SHA-256.
pub fn document_id(sha256: &str) -> String {
    format!("d{}", &sha256[..16.min(sha256.len())])
}

fn layout_error(path: &str, e: LayoutError) -> DocumentError {
    let (kind, message) = match e {
        LayoutError::Corrupt(m) => (ErrorKind::Corrupt, m),
        LayoutError::Encrypted(m) => (ErrorKind::Encrypted, m),
        LayoutError::NoTextLayer(m) => (ErrorKind::NoTextLayer, m),
        LayoutError::TooLarge(m) => (ErrorKind::TooLarge, m),
        LayoutError::Unsupported(m) => (ErrorKind::Unsupported, m),
        LayoutError::Crash(m) => (ErrorKind::ParserCrash, m),
    };
    DocumentError { path: path.to_string(), kind, message }
}

thread_local! {
    /// Set while a parser reads a document: its panics are reported as
    /// `DocumentError`s, so the panic hook need not print them.
    static IN_DOCUMENT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Install (once) a panic hook that stays quiet for panics inside a
/// document's parser — they become errors with a message — and prints every
/// other panic as usual.
fn quiet_document_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !IN_DOCUMENT.with(|f| f.get()) {
                default(info);
            }
        }));
    });
}

/// Read a document's layout from its bytes, turning a parser panic into an
/// error (the batch runner adds process isolation on top of this).
pub fn read_layout(bytes: &[u8], format: Format, limits: &Limits) -> Result<LayoutDoc, LayoutError> {
    quiet_document_panics();
    IN_DOCUMENT.with(|f| f.set(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match format {
        Format::Pdf => layout::pdf::read(bytes, limits),
        Format::Docx => layout::docx::read(bytes, limits),
    }));
    IN_DOCUMENT.with(|f| f.set(false));
    match result {
        Ok(r) => r,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(LayoutError::Crash(format!(
                "the {} parser crashed on this file ({what}); the file is probably damaged: re-export or repair it (e.g. qpdf --replace-input)",
                format.as_str().to_uppercase()
            )))
        }
    }
}

/// Everything classification and parsing saw in one document, for `inspect`.
pub struct Inspection {
    pub layout: LayoutDoc,
    pub class: Classification,
    pub result: DocResult,
}

/// Run one loaded document through layout, classify, parse and normalise.
pub fn process_loaded(
    path: &str,
    loaded: &ingest::Loaded,
    rules: &Rules,
    opts: &DocOptions,
) -> Result<Inspection, DocumentError> {
    let layout = read_layout(&loaded.bytes, loaded.format, &opts.limits).map_err(|e| layout_error(path, e))?;
    let class = classify(&layout, rules);
    let parsed = parse::parse(&layout, &class, rules);
    let doc_id = document_id(&loaded.sha256);
    let facts = DocFacts {
        doc_id: doc_id.clone(),
        plan_year: class.plan_year.clone(),
        as_of: class.as_of.clone(),
        period: class.period.clone(),
    };
    let norm = normalise::normalise(parsed, &facts, rules);
    let mut warnings = layout.warnings.clone();
    warnings.extend(norm.warnings);
    let document = Document {
        id: doc_id,
        path: path.to_string(),
        sha256: loaded.sha256.clone(),
        format: loaded.format,
        kind: class.kind,
        title: class.title.clone(),
        plan_year: class.plan_year.clone(),
        as_of: class.as_of.clone(),
        period: class.period.clone(),
        pages: layout.pages,
        warnings,
    };
    let result = DocResult { document, milestones: norm.milestones, measures: norm.measures, keys: norm.keys };
    Ok(Inspection { layout, class, result })
}

/// Load and process one input file.
pub fn process(file: &InputFile, rules: &Rules, opts: &DocOptions) -> Result<DocResult, DocumentError> {
    let path = file.display();
    let loaded = ingest::load(file, opts.max_file_bytes).map_err(|e| DocumentError {
        path: path.clone(),
        kind: e.kind,
        message: e.message,
    })?;
    process_loaded(&path, &loaded, rules, opts).map(|i| i.result)
}
