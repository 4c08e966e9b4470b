//! Emit: the dataset and its schema, written atomically.
//!
//! A run writes `dataset.json` and `dataset.schema.json` into its output
//! folder. Each file is written to a temporary file in the same folder,
//! flushed to disk, then renamed over the old one, so an interrupted run
//! never leaves a half-written dataset: readers see the old file or the new
//! one, nothing in between.

use std::cell::RefCell;
use std::fs;
use std::io::Write;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use anyhow::{Context, Result};
use serde::ser::{Error as _, SerializeSeq};
use serde::{Serialize, Serializer};

use crate::model::{
    dataset_schema, Document, DocumentError, KeyEntry, Measure, MeasureSeries, Milestone, Series, SCHEMA_VERSION,
};
use crate::spool::{Span, Spool, Spooled};

/// Serialise a value as the project's canonical JSON: pretty, two-space
/// indent, keys in declaration order (maps are `BTreeMap`s), newline at end.
pub fn to_json<T: serde::Serialize>(value: &T) -> Result<Vec<u8>> {
    let mut out = serde_json::to_vec_pretty(value).context("serialising JSON")?;
    out.push(b'\n');
    Ok(out)
}

/// Write `bytes` to `path` atomically: temporary file, fsync, rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |w| w.write_all(bytes).map_err(Into::into))
}

/// Write to `path` atomically, streaming: `fill` writes into a buffered
/// temporary file in the same folder, which is flushed to disk and renamed
/// over `path` only when `fill` succeeds. Nothing is held whole in memory.
pub fn write_atomic_with(path: &Path, fill: impl FnOnce(&mut dyn Write) -> Result<()>) -> Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_else(|| "output".into());
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| -> Result<()> {
        let f = fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        let mut w = std::io::BufWriter::with_capacity(1 << 16, f);
        fill(&mut w).with_context(|| format!("writing {}", tmp.display()))?;
        let f = w.into_inner().map_err(|e| anyhow::anyhow!("writing {}: {}", tmp.display(), e.error()))?;
        f.sync_all().with_context(|| format!("flushing {}", tmp.display()))?;
        fs::rename(&tmp, path).with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))?;
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Stream a value as the project's canonical JSON (as [`to_json`] gives).
pub fn write_json<T: serde::Serialize>(w: &mut dyn Write, value: &T) -> Result<()> {
    serde_json::to_writer_pretty(&mut *w, value).context("serialising JSON")?;
    w.write_all(b"\n")?;
    Ok(())
}

/// Paths of what a run writes.
pub struct Written {
    pub dataset: PathBuf,
    pub schema: PathBuf,
}

/// The dataset of a run whose per-document records wait in the spool
/// ([`crate::spool`]): serialised exactly as the [`crate::model::Dataset`] with the same
/// contents would be (same fields in the same order, so the same bytes),
/// reading one document's records at a time.
#[derive(Serialize)]
pub struct DatasetView<'a> {
    schema_version: &'static str,
    documents: &'a [Document],
    milestones: FromSpool<'a, Milestone>,
    measures: FromSpool<'a, Measure>,
    scorecard_keys: FromSpool<'a, KeyEntry>,
    series: FromSpool<'a, Series>,
    measure_series: FromSpool<'a, MeasureSeries>,
    errors: &'a [DocumentError],
}

impl<'a> DatasetView<'a> {
    /// `spooled[i]` says where the records of `documents[i]` are; `series`
    /// and `measure_series` where the series are, in order.
    pub fn new(
        documents: &'a [Document],
        spooled: &'a [Spooled],
        spool: Spool,
        series: &[Span],
        measure_series: &[Span],
        errors: &'a [DocumentError],
    ) -> DatasetView<'a> {
        let spool = Rc::new(RefCell::new(spool));
        let spans = |f: fn(&Spooled) -> Span| spooled.iter().map(f).collect();
        DatasetView {
            schema_version: SCHEMA_VERSION,
            documents,
            milestones: FromSpool::new(&spool, spans(|s| s.milestones)),
            measures: FromSpool::new(&spool, spans(|s| s.measures)),
            scorecard_keys: FromSpool::new(&spool, spans(|s| s.keys)),
            series: FromSpool::new(&spool, series.to_vec()),
            measure_series: FromSpool::new(&spool, measure_series.to_vec()),
            errors,
        }
    }
}

/// One list of the dataset, read back from the spool a span (a document's
/// records, a batch of series) at a time while it is written.
struct FromSpool<'a, T> {
    spool: Rc<RefCell<Spool>>,
    spans: Vec<Span>,
    records: PhantomData<&'a T>,
}

impl<T> FromSpool<'_, T> {
    fn new(spool: &Rc<RefCell<Spool>>, spans: Vec<Span>) -> Self {
        FromSpool { spool: spool.clone(), spans, records: PhantomData }
    }
}

/// Each record goes from the spool's compact JSON straight into the
/// dataset's pretty JSON (`serde_transcode`), without being built as a `T`
/// in between (no allocation per field): the same bytes, since serde_json
/// writes strings and floats the same way each time and parses floats
/// exactly (`float_roundtrip`).
impl<T: Serialize> Serialize for FromSpool<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(None)?;
        for span in &self.spans {
            let bytes = self.spool.borrow_mut().read_json(*span).map_err(|e| S::Error::custom(format!("{e:#}")))?;
            let records: Vec<&serde_json::value::RawValue> = serde_json::from_slice(&bytes)
                .map_err(|e| S::Error::custom(format!("decoding spooled records: {e}")))?;
            for r in records {
                let mut record = serde_json::Deserializer::from_str(r.get());
                seq.serialize_element(&serde_transcode::Transcoder::new(&mut record))?;
            }
        }
        seq.end()
    }
}

/// Write the dataset and its schema into `out_dir` (created if needed).
pub fn write_dataset(out_dir: &Path, dataset: &impl Serialize) -> Result<Written> {
    fs::create_dir_all(out_dir).with_context(|| format!("creating output folder {}", out_dir.display()))?;
    let schema = out_dir.join("dataset.schema.json");
    write_atomic(&schema, &to_json(&dataset_schema())?)?;
    let data = out_dir.join("dataset.json");
    write_atomic_with(&data, |w| write_json(w, dataset))?;
    Ok(Written { dataset: data, schema })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::InputFile;
    use crate::model::{Dataset, ErrorKind};
    use crate::pipeline::{process, DocOptions};
    use crate::rules::Rules;

    /// The view over the spool writes the very bytes the whole dataset
    /// would: the real records of two trackers and a cabinet report (so
    /// some documents add nothing to some lists), series and an error.
    #[test]
    fn the_spooled_view_writes_what_the_dataset_would() {
        let rules = Rules::builtin().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::create(dir.path()).unwrap();
        let mut ds = Dataset { schema_version: SCHEMA_VERSION.into(), ..Default::default() };
        let mut spooled = Vec::new();
        for name in ["tracker-2021-22.docx", "cabinet-2024-25-midyear.pdf", "tracker-2023-24.pdf"] {
            let file = InputFile { path: Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/reports").join(name) };
            let r = process(&file, &rules, &DocOptions::default()).unwrap();
            spooled.push(spool.put(&r).unwrap());
            ds.documents.push(r.document);
            ds.milestones.extend(r.milestones);
            ds.measures.extend(r.measures);
            ds.scorecard_keys.extend(r.keys);
        }
        ds.series = crate::reconcile::milestone_series(&ds.milestones, &ds.documents, &rules);
        ds.measure_series = crate::reconcile::measure_series(&ds.measures, &ds.documents, &rules);
        ds.errors.push(DocumentError { path: "x.pdf".into(), kind: ErrorKind::Corrupt, message: "damaged".into() });
        assert!(!ds.milestones.is_empty() && !ds.measures.is_empty() && !ds.scorecard_keys.is_empty());

        // Series in batches of unequal sizes, as a run spools them.
        let (a, b) = ds.series.split_at(1);
        let series = [spool.append(a).unwrap(), spool.append(b).unwrap()];
        let measure_series = [spool.append(&ds.measure_series).unwrap()];
        let view = DatasetView::new(&ds.documents, &spooled, spool, &series, &measure_series, &ds.errors);
        let mut streamed = Vec::new();
        write_json(&mut streamed, &view).unwrap();
        assert!(streamed == to_json(&ds).unwrap(), "the streamed dataset differs from the whole one");
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("dataset.json");
        write_atomic(&p, b"old").unwrap();
        write_atomic(&p, b"new").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"new");
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 1);
    }
}
