//! The batch: discover inputs, process every document in isolation and in
//! parallel, reconcile across documents, write the dataset.
//!
//! Documents are processed in any order but assembled in input order (sorted
//! paths), and every id derives from content, so the output is byte-identical
//! whatever `--jobs` is.
//!
//! By default each document is read in a worker process ([`crate::worker`]),
//! so a document that crashes, hangs or exhausts memory costs only itself;
//! `--in-process` reads them on threads of this process instead, for
//! debugging and for measuring what isolation costs.
//!
//! Each document arrives handed off ([`crate::handoff`]): its records
//! already rendered as they will stand in the dataset, and the fields
//! reconciliation reads. The rendered records go to a spool on disk
//! ([`crate::spool`]); the supervisor keeps the document and compact rows
//! of those fields ([`reconcile::rows`]). Series are rendered and spooled
//! as they are made, and the dataset is written by copying everything back
//! in order.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;

use crate::emit;
use crate::footprint;
use crate::handoff::{hand_off, Outcome};
use crate::ingest::{self, InputFile};
use crate::model::{Document, DocumentError};
use crate::pipeline::{self, DocOptions};
use crate::reconcile;
use crate::reconcile::rows::{MeasureRow, MilestoneRow, Packed, Reader, Rows, Unpacked};
use crate::rules::Rules;
use crate::spool::{Span, Spool, SpoolReader, Spooled};
use crate::worker::{self, WorkerOptions};

/// Where documents are read.
#[derive(Debug, Clone)]
pub enum Isolation {
    /// In worker processes (the default): a crash, hang or runaway
    /// allocation ends only that document.
    Workers(WorkerOptions),
    /// On threads of this process: faster to debug, but a document that
    /// overflows the stack or aborts ends the whole run, and one that loops
    /// hangs it.
    InProcess,
}

impl Default for Isolation {
    fn default() -> Self {
        Isolation::Workers(WorkerOptions::default())
    }
}

/// Settings of one run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub inputs: Vec<PathBuf>,
    pub out: PathBuf,
    pub jobs: usize,
    pub quiet: bool,
    pub doc: DocOptions,
    pub isolation: Isolation,
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

/// A read document as the supervisor keeps it while the batch runs: the
/// document, and where in the spool its records lie and the rows
/// reconciliation reads of them, packed ([`reconcile::rows::Packed`]).
/// What stays in memory per document is the document, a few numbers, and
/// what the reader's string tables and profiles gained from it.
pub struct Kept {
    pub document: Document,
    pub rows: SpooledRows,
    pub keys: usize,
    pub spooled: Spooled,
}

/// Where a document's packed rows lie in the spool, and how many there are.
///
/// Kept on disk, not in memory, while the workers read: 162 bytes a
/// record with its rationale's words, 17 MiB at 1,000 reports. Held in
/// memory the rows made the supervisor grow by ~21 KB a report while its
/// workers read; on disk, by ~11 KB; with the rationales' words on disk
/// too, by ~3 KB (sampled RSS, 500 against 1,000 reports).
pub struct SpooledRows {
    span: Span,
    milestones: usize,
    measures: usize,
}

/// What the supervisor holds of each document: kept, or why it failed.
pub type Held = Result<Kept, DocumentError>;

/// The progress bar (a terminal only) and the pages/s it shows.
struct Progress {
    bar: Option<ProgressBar>,
    started: Instant,
    pages: AtomicU64,
}

impl Progress {
    fn new(total: usize, quiet: bool) -> Progress {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(total as u64);
            let style = ProgressStyle::with_template("{bar:40} {pos}/{len} documents  {msg}  ETA {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar
        });
        Progress { bar, started: Instant::now(), pages: AtomicU64::new(0) }
    }

    /// Count one finished document (from any thread).
    fn done(&self, outcome: &Outcome) {
        let Some(bar) = &self.bar else { return };
        if let Ok(d) = outcome {
            let n = u64::from(d.document.pages.unwrap_or(0));
            let p = self.pages.fetch_add(n, Ordering::Relaxed) + n;
            let rate = p as f64 / self.started.elapsed().as_secs_f64().max(1e-3);
            bar.set_message(format!("{rate:.0} pages/s"));
        }
        bar.inc(1);
    }

    fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Process documents, `opts.jobs` at a time, in worker processes or (with
/// [`Isolation::InProcess`]) on threads, handing each outcome to `keep` as
/// it arrives. What `keep` returns is in input order. Stops early, with an
/// error, when SIGINT or SIGTERM asked the run to stop (see
/// [`worker::catch_stop_signals`]).
pub fn process_all<T: Send>(
    files: &[InputFile],
    rules: &Rules,
    opts: &RunOptions,
    keep: &(dyn Fn(Outcome) -> T + Sync),
) -> Result<Vec<T>> {
    let progress = Progress::new(files.len(), opts.quiet);
    let counted = |o: Outcome| {
        progress.done(&o);
        keep(o)
    };
    let kept = match &opts.isolation {
        Isolation::Workers(w) => {
            worker::process_isolated(files, rules, &opts.doc, w, opts.jobs, &counted).map_err(anyhow::Error::from)
        }
        Isolation::InProcess => in_process(files, rules, opts, &counted),
    };
    progress.finish();
    kept
}

fn in_process<T: Send>(
    files: &[InputFile],
    rules: &Rules,
    opts: &RunOptions,
    keep: &(dyn Fn(Outcome) -> T + Sync),
) -> Result<Vec<T>> {
    let pool =
        rayon::ThreadPoolBuilder::new().num_threads(opts.jobs.max(1)).build().context("starting worker threads")?;
    // Largest first, as the worker pool does; back in input order after.
    let order = ingest::largest_first(files);
    let mut kept: Vec<Option<(usize, T)>> = pool.install(|| {
        order
            .par_iter()
            .map(|&i| {
                if worker::stop_requested().is_some() {
                    return None;
                }
                Some((i, keep(hand_off(pipeline::process(&files[i], rules, &opts.doc)))))
            })
            .collect()
    });
    if worker::stop_requested().is_some() {
        bail!(worker::PoolError::Interrupted);
    }
    kept.sort_by_key(|k| k.as_ref().map(|(i, _)| *i));
    Ok(kept.into_iter().flatten().map(|(_, t)| t).collect())
}

/// Spool a document's records and keep the rest (see [`Kept`]).
fn keep(outcome: Outcome, spool: &Mutex<Spool>, reader: &Mutex<Reader>) -> Result<Held> {
    let h = match outcome {
        Ok(h) => h,
        Err(e) => return Ok(Err(e)),
    };
    let packed = unpoisoned(reader.lock(), "the record reader")?.pack(&h.milestones, &h.measures);
    let bytes = packed.to_bytes();
    let mut spool = lock(spool)?;
    let spooled = spool.put(&h.records)?;
    let span = spool.append(&bytes)?;
    let rows = SpooledRows { span, milestones: packed.milestones(), measures: packed.measures() };
    Ok(Ok(Kept { rows, keys: h.keys, document: h.document, spooled }))
}

/// A document's packed rows, back from the spool.
fn unspool(rows: &SpooledRows, spool: &mut SpoolReader, buffer: &mut Vec<u8>) -> Result<Packed> {
    buffer.clear();
    spool.copy(rows.span, buffer)?;
    Packed::from_bytes(buffer).context("a document's rows came back from the temporary file damaged")
}

fn lock(spool: &Mutex<Spool>) -> Result<std::sync::MutexGuard<'_, Spool>> {
    unpoisoned(spool.lock(), "the spool")
}

/// What a mutex held, or an error if a thread panicked holding it.
fn unpoisoned<T, E>(r: std::result::Result<T, E>, what: &str) -> Result<T> {
    r.map_err(|_| anyhow::anyhow!("{what} was poisoned by a panic"))
}

/// Records made after the documents' (series) on their way to the spool,
/// in batches, so that a run holds at most a batch of them.
struct ToSpool<'a, T> {
    spool: &'a Mutex<Spool>,
    batch: Vec<T>,
    spans: Vec<Span>,
    count: usize,
    error: Option<anyhow::Error>,
}

impl<'a, T: serde::Serialize> ToSpool<'a, T> {
    const BATCH: usize = 32;

    fn new(spool: &'a Mutex<Spool>) -> Self {
        ToSpool { spool, batch: Vec::new(), spans: Vec::new(), count: 0, error: None }
    }

    fn push(&mut self, x: T) {
        self.count += 1;
        self.batch.push(x);
        if self.batch.len() >= Self::BATCH {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if self.batch.is_empty() || self.error.is_some() {
            self.batch.clear();
            return;
        }
        // Rendered on this thread; only the copy into the spool is shared.
        let mut json = Vec::new();
        let appended = emit::render_elements(&self.batch, &mut json).and_then(|_| lock(self.spool)?.append(&json));
        match appended {
            Ok(span) => self.spans.push(span),
            Err(e) => self.error = Some(e),
        }
        self.batch.clear();
    }

    /// Where the records are, in order, and how many there are.
    fn finish(mut self) -> Result<Spans> {
        self.flush();
        match self.error {
            Some(e) => Err(e),
            None => Ok(Spans { spans: self.spans, count: self.count }),
        }
    }
}

/// Where a list of records lies in the spool, in order.
#[derive(Debug, Default)]
pub struct Spans {
    pub spans: Vec<Span>,
    pub count: usize,
}

/// The run once every document is read: documents (in input order, an
/// identical copy of one read before skipped) and errors, where each
/// document's records are, and where its rows for reconciliation are.
pub struct Gathered {
    pub documents: Vec<Document>,
    pub spooled: Vec<Spooled>,
    pub rows: Vec<SpooledRows>,
    pub keys: usize,
    pub errors: Vec<DocumentError>,
}

/// Gather what was kept of each document (in input order).
pub fn gather(held: Vec<Held>) -> Gathered {
    let (mut documents, mut spooled, mut rows, mut errors): (Vec<Document>, _, _, _) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut keys = 0;
    let mut seen: HashMap<String, usize> = HashMap::new();
    for h in held {
        match h {
            Ok(k) => {
                // An identical copy of a document already read adds nothing.
                if let Some(first) = seen.get(&k.document.sha256) {
                    documents[*first].warnings.push(format!("identical copy at {} skipped", k.document.path));
                    continue;
                }
                seen.insert(k.document.sha256.clone(), documents.len());
                documents.push(k.document);
                spooled.push(k.spooled);
                rows.push(k.rows);
                keys += k.keys;
            }
            Err(e) => errors.push(e),
        }
    }
    Gathered { documents, spooled, rows, keys, errors }
}

/// The series of a run, in the spool, and notes about the run as a whole
/// (an override that names nothing).
pub struct Reconciled {
    pub series: Spans,
    pub measure_series: Spans,
    pub notes: Vec<String>,
}

/// Reconcile milestones and measures, spooling the series as they are
/// made: side by side when that fits in the memory the run has already
/// used ([`side_by_side`]), else one kind after the other.
///
/// One after the other, each kind's rows are made from the spool only when
/// its turn comes and dropped when it is done, so the two kinds' rows and
/// working memory are never held together. Each kind has steps that run on
/// one thread (a plan year's assignment, writing the series), so side by
/// side the other kind fills the second thread meanwhile.
fn reconcile_into(
    mut reader: Reader,
    rows: &[SpooledRows],
    documents: &[Document],
    rules: &Rules,
    spool: &Mutex<Spool>,
    together: bool,
) -> Result<Reconciled> {
    let mut packed = lock(spool)?.reader()?;
    let mut buffer = Vec::new();
    let mut each = |f: &mut dyn FnMut(&mut Packed)| -> Result<()> {
        for r in rows {
            f(&mut unspool(r, &mut packed, &mut buffer)?);
        }
        Ok(())
    };
    let count = |f: fn(&SpooledRows) -> usize| rows.iter().map(f).sum();
    let milestones_of = |rows: Rows<MilestoneRow>| -> Result<(Spans, Vec<String>)> {
        let mut out = ToSpool::new(spool);
        let notes = reconcile::milestone_series_into(&rows, documents, rules, &mut |s| out.push(s));
        drop(rows);
        Ok((out.finish()?, notes))
    };
    let measures_of = |rows: Rows<MeasureRow>| -> Result<Spans> {
        let mut out = ToSpool::new(spool);
        reconcile::measure_series_into(&rows, documents, rules, &mut |s| out.push(s));
        drop(rows);
        out.finish()
    };
    if together {
        let (mut milestones, mut measures) =
            (Unpacked::with_capacity(count(|r| r.milestones)), Unpacked::with_capacity(count(|r| r.measures)));
        each(&mut |p| {
            reader.unpack_milestones(p, &mut milestones);
            reader.unpack_measures(p, &mut measures);
        })?;
        let (milestones, measures) = (reader.milestone_rows(milestones), reader.measure_rows(measures));
        let (series, measure_series) = rayon::join(|| milestones_of(milestones), || measures_of(measures));
        let (series, notes) = series?;
        return Ok(Reconciled { series, measure_series: measure_series?, notes });
    }
    let mut records = Unpacked::with_capacity(count(|r| r.milestones));
    each(&mut |p| reader.unpack_milestones(p, &mut records))?;
    let (series, notes) = milestones_of(reader.milestone_rows(records))?;
    let mut records = Unpacked::with_capacity(count(|r| r.measures));
    each(&mut |p| reader.unpack_measures(p, &mut records))?;
    let measure_series = measures_of(reader.measure_rows(records))?;
    Ok(Reconciled { series, measure_series, notes })
}

/// What reconciling one row takes at its peak, unpacked and worked on,
/// rounded up from the supervisor's peak after the workers less its size
/// before (`--jobs 2`). Measures alone (one kind after the other): 21.5
/// MiB for 27,322 rows at 500 reports, 39.8 MiB for 53,097 at 1,000, 790-
/// 830 bytes a row. Both kinds side by side: 35 and 70 MiB, which leaves
/// 530-560 bytes a milestone (27,044 and 56,930 rows).
const MILESTONE_ROW_BYTES: u64 = 560;
const MEASURE_ROW_BYTES: u64 = 840;

/// The memory reconciling both kinds side by side takes, estimated.
fn side_by_side_need(milestones: usize, measures: usize) -> u64 {
    MILESTONE_ROW_BYTES
        .saturating_mul(milestones as u64)
        .saturating_add(MEASURE_ROW_BYTES.saturating_mul(measures as u64))
}

/// Whether to reconcile the two kinds side by side: only on more than one
/// thread, and only when what that takes (`need`) fits in what the run
/// held while reading and has given back ([`footprint::given_back`]). Then
/// the run's peak stays the one reading made (at 500 reports: the
/// supervisor peaks at 54 MiB side by side, the run at 69-70 while
/// reading), and the tail after the workers is ~0.3 s shorter (`--jobs 2`,
/// four alternated runs: medians 1.57 -> 1.27 s). A large archive does not
/// fit (1,000 reports: 89-90 MiB side by side against 70-72 while
/// reading) and goes one kind after the other. `tests/cli.rs` checks that
/// both ways write the same dataset (`--jobs 1` and `--jobs 2`).
fn side_by_side(jobs: usize, need: u64, given_back: u64) -> bool {
    jobs >= 2 && need <= given_back
}

/// Run the whole batch and write the dataset.
///
/// Once every document is read, the documents and their records (most of
/// the dataset's bytes) are written on a thread of their own while the
/// series are made, and go to disk meanwhile; the series and errors follow,
/// and the file is renamed into place only when complete.
pub fn run(files: Vec<InputFile>, rules: &Rules, opts: &RunOptions) -> Result<Summary> {
    let started = Instant::now();
    remove_stale_temporaries(&opts.out);
    let spool = Mutex::new(Spool::create(&opts.out)?);
    let reader = Mutex::new(Reader::new(rules));
    let held = process_all(&files, rules, opts, &|o| keep(o, &spool, &reader))?;
    let reader = unpoisoned(reader.into_inner(), "the record reader")?;
    let held = held.into_iter().collect::<Result<Vec<Held>>>()?;
    let mut records = lock(&spool)?.reader()?;
    let Gathered { documents, spooled, rows, keys, errors } = gather(held);
    let milestone_count = rows.iter().map(|r| r.milestones).sum();
    let measure_count = rows.iter().map(|r| r.measures).sum();
    let mut dataset = emit::DatasetWriter::create(&opts.out)?;
    // Workers are done and waited for: their peaks count as given back.
    let workers = match opts.isolation {
        Isolation::Workers(_) => opts.jobs.min(files.len()),
        Isolation::InProcess => 0,
    };
    let together =
        side_by_side(opts.jobs, side_by_side_need(milestone_count, measure_count), footprint::given_back(workers));
    // Reconciliation runs on threads too: `--jobs` bounds those as well, so
    // `--jobs 1` reconciles on one core (the records are written beside it:
    // mostly copying, and waiting for the disk).
    let pool =
        rayon::ThreadPoolBuilder::new().num_threads(opts.jobs.max(1)).build().context("starting worker threads")?;
    let (written, reconciled) = std::thread::scope(|s| {
        let writing = s.spawn(|| dataset.records(&documents, &spooled, &mut records));
        let reconciled = pool.install(|| reconcile_into(reader, &rows, &documents, rules, &spool, together));
        let written = writing.join().unwrap_or_else(|_| bail!("writing the dataset's records failed (a panic)"));
        (written, reconciled)
    });
    written?;
    // The last reader of the spool but one (finish takes the other): the
    // spool must be closed before the dataset is committed, or flushing the
    // file system's journal writes its pages to disk too.
    drop(records);
    let reconciled = reconciled?;
    for e in &errors {
        eprintln!("plantrace: {}: {}: {}", e.path, e.kind, e.message);
    }
    for note in &reconciled.notes {
        eprintln!("plantrace: warning: {note}");
    }
    if worker::stop_requested().is_some() {
        bail!(worker::PoolError::Interrupted);
    }
    let series = unpoisoned(spool.into_inner(), "the spool")?.reader()?;
    let written = dataset.finish(&reconciled.series.spans, &reconciled.measure_series.spans, &errors, series)?;
    Ok(Summary {
        documents: documents.len() + errors.len(),
        pages: documents.iter().map(|d| d.pages.unwrap_or(0) as u64).sum(),
        milestones: milestone_count,
        measures: measure_count,
        keys,
        series: reconciled.series.count,
        errors,
        elapsed: started.elapsed(),
        dataset_path: written.dataset,
    })
}

/// Discover the inputs of a run.
pub fn discover(inputs: &[PathBuf]) -> Result<Vec<InputFile>, ingest::DiscoverError> {
    ingest::discover(inputs)
}

/// Remove the temporary files (`.NAME.tmp-PID`) that an earlier run killed
/// while writing (SIGKILL, power loss) left in the output folder. Only
/// those whose process is gone: another run may be writing right now.
/// A file that cannot be removed is left; it is harmless.
fn remove_stale_temporaries(out: &Path) {
    let Ok(entries) = std::fs::read_dir(out) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(pid) = name.strip_prefix('.').and_then(|n| n.rsplit_once(".tmp-")).map(|(_, pid)| pid) else {
            continue;
        };
        let Ok(pid) = pid.parse::<u32>() else { continue };
        if !process_alive(pid) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Whether a process with this id exists.
fn process_alive(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else { return false };
        // SAFETY: signal 0 only checks that the process exists.
        let r = unsafe { libc::kill(pid, 0) };
        r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
    #[cfg(not(unix))]
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn side_by_side_only_on_threads_and_within_what_was_given_back() {
        // 500 reports' rows need ~38 MB; two workers' peaks gave back ~54.
        let need = side_by_side_need(27_044, 27_322);
        assert!((35_000_000..40_000_000).contains(&need), "{need}");
        assert!(side_by_side(2, need, 54_000_000));
        assert!(!side_by_side(1, need, 54_000_000), "one thread gains nothing and would hold both kinds");
        // 1,000 reports' rows do not fit.
        assert!(!side_by_side(2, side_by_side_need(56_930, 53_097), 54_000_000));
        assert!(!side_by_side(2, side_by_side_need(usize::MAX, usize::MAX), u64::MAX - 1));
    }

    #[test]
    fn stale_temporaries_of_dead_runs_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // A pid that cannot be running (beyond Linux's pid_max).
        std::fs::write(d.join(".dataset.json.tmp-4294967"), b"half").unwrap();
        let mine = format!(".dataset.json.tmp-{}", std::process::id());
        std::fs::write(d.join(&mine), b"being written").unwrap();
        std::fs::write(d.join("dataset.json"), b"{}").unwrap();
        std::fs::write(d.join("notes.tmp-1"), b"not ours").unwrap();
        remove_stale_temporaries(d);
        let mut names: Vec<String> =
            std::fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into()).collect();
        names.sort();
        assert_eq!(names, vec![mine, "dataset.json".to_string(), "notes.tmp-1".to_string()]);
    }
}
