//! Handoff: what the reading of one document hands to the run.
//!
//! The run keeps little of a document's records (the fields reconciliation
//! reads, [`crate::reconcile::rows`]) and writes all of them to the dataset
//! ([`crate::spool`], [`crate::emit`]). Both are made here, where the
//! document was read: in a worker process, or on a `--in-process` thread,
//! side by side with the other documents. The supervisor, one process for
//! the whole run, then decodes only the fields it keeps and copies the
//! rendered records to the spool, and later to `dataset.json`, as they
//! are. Measured on 500 reports, when it decoded whole records, spooled
//! them as compact JSON and transcoded them into the pretty dataset at the
//! end, its CPU time was 3.3–3.4 s against 2.6–3.0 s now: 1.07 s against
//! 0.74–0.80 s while the workers read (where, under `--jobs 2`, it
//! competes with them), and the time it works alone after them was
//! 1.7 s against 1.25–1.5 s.

use serde::{Deserialize, Serialize};

use crate::emit::Rendered;
use crate::model::{Document, DocumentError, ErrorKind};
use crate::pipeline::DocResult;
use crate::reconcile::rows::{MeasureFields, MilestoneFields};

/// One document, read, as the run receives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Handoff {
    pub document: Document,
    pub milestones: Vec<MilestoneFields>,
    pub measures: Vec<MeasureFields>,
    /// How many key entries the document has.
    pub keys: usize,
    /// Its milestones, measures and key entries as they will stand in
    /// `dataset.json`.
    pub records: Rendered,
}

/// One document's outcome, as the run receives it.
pub type Outcome = Result<Handoff, DocumentError>;

impl Handoff {
    pub fn of(r: DocResult) -> Outcome {
        let records = Rendered::of(&r.milestones, &r.measures, &r.keys).map_err(|e| DocumentError {
            path: r.document.path.clone(),
            kind: ErrorKind::ParserCrash,
            message: format!(
                "plantrace could not write this file's records as JSON ({e:#}); this is a bug in plantrace: please report it with the file"
            ),
        })?;
        Ok(Handoff {
            milestones: r.milestones.iter().map(MilestoneFields::of).collect(),
            measures: r.measures.iter().map(MeasureFields::of).collect(),
            keys: r.keys.len(),
            records,
            document: r.document,
        })
    }
}

/// The outcome of reading a document, handed off.
pub fn hand_off(outcome: Result<DocResult, DocumentError>) -> Outcome {
    outcome.and_then(Handoff::of)
}
