//! Spool: each document's records on disk from the moment it is read until
//! the dataset is written.
//!
//! A batch over an archive yields hundreds of megabytes of records, and the
//! supervisor needs only a few of their fields to reconcile series across
//! years (titles, plan years, refs, canonical statuses). So as each document
//! finishes, its milestones, measures and key entries are appended to a
//! temporary file in the output folder, rendered as they will stand in
//! `dataset.json` ([`crate::emit::render_elements`], done by the worker that
//! read the document), and the supervisor keeps the document, compact rows
//! of what reconciliation reads ([`crate::reconcile::rows`]), and where the
//! records are. Series are appended in small batches as reconciliation
//! makes them. Writing `dataset.json` copies everything back, in order:
//! the documents' records while reconciliation appends series (through a
//! [`SpoolReader`], which reads at offsets and so never moves the
//! appending position), the series after.
//!
//! The file is created in the output folder (the disk the user chose for
//! the results, not a `/tmp` that may be memory) without a name
//! (`tempfile::tempfile_in`: `O_TMPFILE`, or unlinked at once), so the
//! system reclaims it however the run ends, even killed.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

use crate::emit::Rendered;

/// Where one list of records lies in the spool.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Span {
    offset: u64,
    len: u64,
}

impl Span {
    /// No records.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
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

    /// Append a document's rendered records.
    pub fn put(&mut self, r: &Rendered) -> Result<Spooled> {
        if r.json.len() as u64 != r.len() {
            bail!("a document's records came with {} bytes of JSON where {} were announced", r.json.len(), r.len());
        }
        let all = self.append(&r.json)?;
        let milestones = Span { offset: all.offset, len: r.milestones };
        let measures = Span { offset: milestones.offset + milestones.len, len: r.measures };
        let keys = Span { offset: measures.offset + measures.len, len: r.keys };
        Ok(Spooled { milestones, measures, keys })
    }

    /// Append rendered records ([`crate::emit::render_elements`]).
    pub fn append(&mut self, json: &[u8]) -> Result<Span> {
        self.writer.write_all(json).with_context(|| {
            format!("writing records to a temporary file in {} (is the disk full?)", self.dir.display())
        })?;
        let span = Span { offset: self.end, len: json.len() as u64 };
        self.end += span.len;
        Ok(span)
    }

    /// A reader of everything appended so far, which copies records out
    /// while this spool goes on taking more (the dataset's records are
    /// written while reconciliation appends series): it reads at given
    /// offsets, so the two never move each other's file position.
    pub fn reader(&mut self) -> Result<SpoolReader> {
        self.writer.flush().with_context(|| self.failed("writing"))?;
        let file = self.writer.get_ref().try_clone().with_context(|| self.failed("reading back"))?;
        Ok(SpoolReader { dir: self.dir.clone(), file, end: self.end, buffer: Vec::new() })
    }

    fn failed(&self, what: &str) -> String {
        failed(&self.dir, what)
    }
}

fn failed(dir: &Path, what: &str) -> String {
    format!("{what} records in a temporary file in {}", dir.display())
}

/// Reads back what a [`Spool`] held when the reader was made
/// ([`Spool::reader`]).
pub struct SpoolReader {
    dir: PathBuf,
    file: File,
    end: u64,
    /// Records are read back through this, in pieces of [`COPY_PIECE`].
    buffer: Vec<u8>,
}

impl SpoolReader {
    /// Copy the records at `span` to `out`, as written.
    pub fn copy(&mut self, span: Span, out: &mut dyn Write) -> Result<()> {
        if span.offset + span.len > self.end {
            bail!(
                "{}: nothing was written at {}..{}",
                failed(&self.dir, "reading back"),
                span.offset,
                span.offset + span.len
            );
        }
        if self.buffer.len() < COPY_PIECE {
            self.buffer.resize(COPY_PIECE, 0);
        }
        let (mut at, end) = (span.offset, span.offset + span.len);
        while at < end {
            let n = (end - at).min(COPY_PIECE as u64) as usize;
            let piece = &mut self.buffer[..n];
            read_exact_at(&self.file, piece, at).with_context(|| failed(&self.dir, "reading back"))?;
            out.write_all(piece).with_context(|| failed(&self.dir, "copying out"))?;
            at += n as u64;
        }
        Ok(())
    }
}

/// Records are copied out of the spool in pieces of at most this much.
const COPY_PIECE: usize = 1 << 20;

#[cfg(unix)]
fn read_exact_at(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
fn read_exact_at(file: &File, mut buf: &mut [u8], mut offset: u64) -> std::io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match file.seek_read(buf, offset)? {
            0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            n => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::InputFile;
    use crate::model::{Measure, Milestone};
    use crate::pipeline::{process, DocOptions, DocResult};
    use crate::rules::Rules;

    fn read(name: &str) -> DocResult {
        let file = InputFile { path: Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/reports").join(name) };
        let rules = Rules::builtin().unwrap();
        process(&file, &rules, &DocOptions::default()).unwrap()
    }

    fn rendered(r: &DocResult) -> Rendered {
        Rendered::of(&r.milestones, &r.measures, &r.keys).unwrap()
    }

    impl Spool {
        fn put_doc(&mut self, r: &DocResult) -> Result<Spooled> {
            self.put(&rendered(r))
        }

        /// The records at `span`, decoded (they are a list's elements).
        fn read<T: serde::de::DeserializeOwned>(&mut self, span: Span) -> Result<Vec<T>> {
            let mut json = b"[".to_vec();
            self.reader()?.copy(span, &mut json)?;
            json.push(b']');
            Ok(serde_json::from_slice(&json)?)
        }
    }

    #[test]
    fn records_come_back_as_written_in_any_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::create(dir.path()).unwrap();
        let (a, b) = (read("tracker-2021-22.docx"), read("cabinet-2024-25-midyear.pdf"));
        assert!(!a.milestones.is_empty() && !b.measures.is_empty() && !b.keys.is_empty());
        let (sa, sb) = (spool.put_doc(&a).unwrap(), spool.put_doc(&b).unwrap());
        assert_eq!(spool.read::<Measure>(sb.measures).unwrap(), b.measures);
        assert_eq!(spool.read::<Milestone>(sa.milestones).unwrap(), a.milestones);
        assert_eq!(spool.read::<crate::model::KeyEntry>(sb.keys).unwrap(), b.keys);
        // Appending after reading goes to the end, not over what was read.
        let sc = spool.put_doc(&a).unwrap();
        assert_eq!(spool.read::<Milestone>(sc.milestones).unwrap(), a.milestones);
        assert_eq!(spool.read::<Milestone>(sa.milestones).unwrap(), a.milestones);
        assert!(spool.read::<Milestone>(Span { offset: sc.keys.offset, len: 1 << 30 }).is_err());
        // Lengths that do not add up to the JSON are refused.
        let mut short = rendered(&a);
        short.json.pop();
        assert!(spool.put(&short).is_err());
    }

    #[test]
    fn the_spool_leaves_no_file_behind() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::create(dir.path()).unwrap();
        spool.put_doc(&read("tracker-2021-22.docx")).unwrap();
        // Not even while it is in use: a run killed now leaves nothing.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
