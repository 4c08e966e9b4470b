//! plantrace: council plan reports (PDF, DOCX) → one normalised,
//! longitudinal JSON dataset.
//!
//! The pipeline is a chain of stages, each its own module with one job, that
//! talk through plain types and never call back up the chain:
//!
//! ingest (files → bytes, limits) → layout (PDF glyphs / DOCX XML → pages,
//! paragraphs, tables, cells with provenance) → classify (what kind of
//! document) → parse (tables → milestones, measures, keys as printed) →
//! normalise (dates, statuses, themes, symbols via `rules/`) → reconcile
//! (series across years) → emit (dataset + schema).
//!
//! Knowledge about wording lives in `rules/` (see [`rules`]), not in code.

// Table code walks several parallel per-row and per-column arrays by index
// (`xs[c]`, `texts[c]`, `map.roles[c]`); iterator chains would hide that.
#![allow(clippy::needless_range_loop)]

pub mod classify;
pub mod emit;
pub mod eval;
pub mod footprint;
pub mod handoff;
pub mod ingest;
pub mod inspect;
pub mod layout;
pub mod model;
pub mod normalise;
pub mod parse;
pub mod pipeline;
pub mod reconcile;
pub mod rules;
pub mod run;
pub mod spool;
pub mod worker;
