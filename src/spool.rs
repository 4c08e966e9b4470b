//! Spool: each document's records on disk from the moment it is read until
//! the dataset is written.
//!
//! A batch over an archive yields hundreds of megabytes of records, and the
//! supervisor needs only a few of their fields to reconcile series across
//! years (titles, plan years, refs, canonical statuses). So as each document
//! finishes, its milestones, measures and key entries are appended to a
//! temporary file in the output folder, as one compact JSON array each, and
//! the supervisor keeps the document, compact rows of what reconciliation
//! reads ([`crate::reconcile::rows`]), and where the arrays are. Series are
//! appended in small batches as reconciliation makes them. Writing
//! `dataset.json` then reads everything back one document (one batch) at a
//! time, in order.
//!
//! The file is created in the output folder (the disk the user chose for
//! the results, not a `/tmp` that may be memory) without a name
//! (`tempfile::tempfile_in`: `O_TMPFILE`, or unlinked at once), so the
//! system reclaims it however the run ends, even killed.

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::Serialize;

use crate::pipeline::DocResult;

/// Where one list of records lies in the spool.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Span {
    offset: u64,
    len: u64,
}

/// Where one document's records lie in the spool.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Spooled {
    pub milestones: Span,
    pub measures: Span,
    pub keys: Span,
}

/// The spool file, open for appending and reading back.
pub struct Spool {
    /// The folder it is in, for messages (the file has no name).
    dir: PathBuf,
    writer: BufWriter<File>,
    end: u64,
}

impl Spool {
    /// Create the spool in `dir` (created if needed).
    pub fn create(dir: &Path) -> Result<Spool> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating output folder {}", dir.display()))?;
        let file = tempfile::tempfile_in(dir).with_context(|| {
            format!("creating a temporary file for the records in {} (is the folder writable?)", dir.display())
        })?;
        Ok(Spool { dir: dir.to_path_buf(), writer: BufWriter::with_capacity(1 << 16, file), end: 0 })
    }

    /// Append a document's records.
    pub fn put(&mut self, r: &DocResult) -> Result<Spooled> {
        Ok(Spooled {
            milestones: self.append(&r.milestones)?,
            measures: self.append(&r.measures)?,
            keys: self.append(&r.keys)?,
        })
    }

    /// Append a list of records (one JSON array); [`Spool::read`] takes them back.
    pub fn append<T: Serialize>(&mut self, records: &[T]) -> Result<Span> {
        let bytes = serde_json::to_vec(records).context("serialising records for the spool")?;
        self.writer.write_all(&bytes).with_context(|| {
            format!("writing records to a temporary file in {} (is the disk full?)", self.dir.display())
        })?;
        let span = Span { offset: self.end, len: bytes.len() as u64 };
        self.end += span.len;
        Ok(span)
    }

    /// Read back the JSON array of records at `span`, as written.
    pub fn read_json(&mut self, span: Span) -> Result<Vec<u8>> {
        if span.offset + span.len > self.end {
            bail!(
                "{}: nothing was written at {}..{}",
                self.failed("reading back"),
                span.offset,
                span.offset + span.len
            );
        }
        self.writer.flush().with_context(|| self.failed("writing"))?;
        let file = self.writer.get_mut();
        let mut bytes = vec![0; span.len as usize];
        let read = file
            .seek(SeekFrom::Start(span.offset))
            .and_then(|_| file.read_exact(&mut bytes))
            .and_then(|_| file.seek(SeekFrom::Start(self.end)));
        read.with_context(|| self.failed("reading back"))?;
        Ok(bytes)
    }

    fn failed(&self, what: &str) -> String {
        format!("{what} records in a temporary file in {}", self.dir.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::InputFile;
    use crate::model::{Measure, Milestone};
    use crate::pipeline::{process, DocOptions};
    use crate::rules::Rules;

    fn read(name: &str) -> DocResult {
        let file = InputFile { path: Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/reports").join(name) };
        let rules = Rules::builtin().unwrap();
        process(&file, &rules, &DocOptions::default()).unwrap()
    }

    impl Spool {
        fn read<T: serde::de::DeserializeOwned>(&mut self, span: Span) -> Result<Vec<T>> {
            Ok(serde_json::from_slice(&self.read_json(span)?)?)
        }
    }

    #[test]
    fn records_come_back_as_written_in_any_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::create(dir.path()).unwrap();
        let (a, b) = (read("tracker-2021-22.docx"), read("cabinet-2024-25-midyear.pdf"));
        assert!(!a.milestones.is_empty() && !b.measures.is_empty() && !b.keys.is_empty());
        let (sa, sb) = (spool.put(&a).unwrap(), spool.put(&b).unwrap());
        assert_eq!(spool.read::<Measure>(sb.measures).unwrap(), b.measures);
        assert_eq!(spool.read::<Milestone>(sa.milestones).unwrap(), a.milestones);
        assert_eq!(spool.read::<crate::model::KeyEntry>(sb.keys).unwrap(), b.keys);
        // Appending after reading goes to the end, not over what was read.
        let sc = spool.put(&a).unwrap();
        assert_eq!(spool.read::<Milestone>(sc.milestones).unwrap(), a.milestones);
        assert_eq!(spool.read::<Milestone>(sa.milestones).unwrap(), a.milestones);
        assert!(spool.read::<Milestone>(Span { offset: sc.keys.offset, len: 1 << 30 }).is_err());
    }

    #[test]
    fn the_spool_leaves_no_file_behind() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::create(dir.path()).unwrap();
        spool.put(&read("tracker-2021-22.docx")).unwrap();
        // Not even while it is in use: a run killed now leaves nothing.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
