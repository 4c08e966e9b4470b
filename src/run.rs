//! The batch: discover inputs, process every document in parallel, reconcile
//! across documents, write the dataset.
//!
//! Documents are processed in any order but assembled in input order (sorted
//! paths), and every id derives from content, so the output is byte-identical
//! whatever `--jobs` is.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

use crate::emit;
use crate::ingest::{self, InputFile};
use crate::model::{Dataset, DocumentError, SCHEMA_VERSION};
use crate::pipeline::{self, DocOptions, DocResult};
use crate::reconcile;
use crate::rules::Rules;

/// Settings of one run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub inputs: Vec<PathBuf>,
    pub out: PathBuf,
    pub jobs: usize,
    pub quiet: bool,
    pub doc: DocOptions,
}

/// What a run did, for the summary line and the exit status.
#[derive(Debug, Clone)]
pub struct Summary {
    pub documents: usize,
    pub pages: u64,
    pub milestones: usize,
    pub measures: usize,
    pub keys: usize,
    pub series: usize,
    pub errors: Vec<DocumentError>,
    pub elapsed: Duration,
    pub dataset_path: PathBuf,
}

impl Summary {
    /// The one line printed at the end of a run.
    pub fn line(&self) -> String {
        format!(
            "plantrace: {} documents ({} pages), {} milestones, {} measures, {} key entries, {} series, {} errors in {:.1} s → {}",
            self.documents,
            self.pages,
            self.milestones,
            self.measures,
            self.keys,
            self.series,
            self.errors.len(),
            self.elapsed.as_secs_f64(),
            self.dataset_path.display()
        )
    }
}

/// One document's outcome, in input order.
type Outcome = Result<DocResult, DocumentError>;

fn progress_bar(total: usize, quiet: bool) -> Option<ProgressBar> {
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(total as u64);
    let style = ProgressStyle::with_template("{bar:40} {pos}/{len} documents  {msg}  ETA {eta}")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    Some(bar)
}

/// Process documents on a pool of `jobs` threads.
pub fn process_all(files: &[InputFile], rules: &Rules, opts: &RunOptions) -> Result<Vec<Outcome>> {
    let pool =
        rayon::ThreadPoolBuilder::new().num_threads(opts.jobs.max(1)).build().context("starting worker threads")?;
    let bar = progress_bar(files.len(), opts.quiet);
    let started = Instant::now();
    let pages = std::sync::atomic::AtomicU64::new(0);
    let outcomes: Vec<Outcome> = pool.install(|| {
        files
            .par_iter()
            .map(|f| {
                let r = pipeline::process(f, rules, &opts.doc);
                if let Some(bar) = &bar {
                    if let Ok(d) = &r {
                        let p = pages
                            .fetch_add(d.document.pages.unwrap_or(0) as u64, std::sync::atomic::Ordering::Relaxed)
                            + d.document.pages.unwrap_or(0) as u64;
                        let rate = p as f64 / started.elapsed().as_secs_f64().max(1e-3);
                        bar.set_message(format!("{rate:.0} pages/s"));
                    }
                    bar.inc(1);
                }
                r
            })
            .collect()
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    Ok(outcomes)
}

/// Assemble the dataset from per-document outcomes (in input order).
pub fn assemble(outcomes: Vec<Outcome>) -> Dataset {
    let mut ds = Dataset { schema_version: SCHEMA_VERSION.to_string(), ..Default::default() };
    for outcome in outcomes {
        match outcome {
            Ok(r) => {
                // An identical copy of a document already read adds nothing.
                if let Some(first) = ds.documents.iter_mut().find(|d| d.sha256 == r.document.sha256) {
                    first.warnings.push(format!("identical copy at {} skipped", r.document.path));
                    continue;
                }
                ds.documents.push(r.document);
                ds.milestones.extend(r.milestones);
                ds.measures.extend(r.measures);
                ds.scorecard_keys.extend(r.keys);
            }
            Err(e) => ds.errors.push(e),
        }
    }
    ds.series = reconcile::milestone_series(&ds.milestones);
    ds.measure_series = reconcile::measure_series(&ds.measures);
    ds
}

/// Run the whole batch and write the dataset.
pub fn run(files: Vec<InputFile>, rules: &Rules, opts: &RunOptions) -> Result<Summary> {
    let started = Instant::now();
    let outcomes = process_all(&files, rules, opts)?;
    let dataset = assemble(outcomes);
    for e in &dataset.errors {
        eprintln!("plantrace: {}: {:?}: {}", e.path, e.kind, e.message);
    }
    let written = emit::write_dataset(&opts.out, &dataset)?;
    Ok(Summary {
        documents: dataset.documents.len() + dataset.errors.len(),
        pages: dataset.documents.iter().map(|d| d.pages.unwrap_or(0) as u64).sum(),
        milestones: dataset.milestones.len(),
        measures: dataset.measures.len(),
        keys: dataset.scorecard_keys.len(),
        series: dataset.series.len(),
        errors: dataset.errors,
        elapsed: started.elapsed(),
        dataset_path: written.dataset,
    })
}

/// Discover the inputs of a run.
pub fn discover(inputs: &[PathBuf]) -> Result<Vec<InputFile>, ingest::DiscoverError> {
    ingest::discover(inputs)
}
