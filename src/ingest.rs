//! Ingest: input paths → the list of documents to read, and each document's
//! bytes, under a size limit.
//!
//! Discovery is deterministic: folders are walked recursively and the files
//! found are sorted, so the same inputs always give the same documents in the
//! same order, whatever order the file system lists them in.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::model::{ErrorKind, Format};

/// A file found under the inputs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct InputFile {
    /// The path as it will be reported: relative where the input was relative.
    pub path: PathBuf,
}

impl InputFile {
    pub fn display(&self) -> String {
        self.path.to_string_lossy().replace('\\', "/")
    }
}

/// A mistake in the inputs given on the command line (exit status 2).
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    #[error("input {0} does not exist; give files or folders of .pdf/.docx reports")]
    Missing(PathBuf),
    #[error("cannot read folder {path}: {source}")]
    Unreadable { path: PathBuf, source: std::io::Error },
}

/// Whether a file name has one of the extensions plantrace reads.
pub fn is_report_name(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("pdf") || e.eq_ignore_ascii_case("docx"))
}

/// Every `.pdf`/`.docx` file under `inputs` (files are taken as given,
/// folders walked recursively), sorted and without duplicates.
pub fn discover(inputs: &[PathBuf]) -> Result<Vec<InputFile>, DiscoverError> {
    let mut found = Vec::new();
    for input in inputs {
        let meta = fs::metadata(input).map_err(|_| DiscoverError::Missing(input.clone()))?;
        if meta.is_dir() {
            walk(input, &mut found)?;
        } else {
            found.push(InputFile { path: input.clone() });
        }
    }
    found.sort();
    found.dedup();
    Ok(found)
}

fn walk(dir: &Path, found: &mut Vec<InputFile>) -> Result<(), DiscoverError> {
    let entries = fs::read_dir(dir).map_err(|source| DiscoverError::Unreadable { path: dir.to_path_buf(), source })?;
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        // symlink_metadata: do not follow links to folders, so a link loop
        // cannot make the walk endless.
        let Ok(meta) = fs::symlink_metadata(&path) else { continue };
        if meta.is_dir() {
            walk(&path, found)?;
        } else if is_report_name(&path) && (meta.is_file() || fs::metadata(&path).is_ok_and(|m| m.is_file())) {
            found.push(InputFile { path });
        }
    }
    Ok(())
}

/// The order to read `files` in so that a parallel run ends evenly: largest
/// first by size on disk, ties in input order.
///
/// Documents are handed to workers from one shared list, so the last ones
/// decide how long one core waits for the other at the end. In input order
/// a budget book that happens to sort last is read alone while the other
/// workers have nothing left (an 855-page PDF after 120 ordinary reports
/// left a core idle for 1.3-1.9 s of a 3 s `--jobs 2` run); read first, it
/// overlaps the small ones. Size is only a proxy for work, but the one
/// known before reading. A file that cannot be inspected counts as empty:
/// reading it will report why. The output does not depend on this order.
pub fn largest_first(files: &[InputFile]) -> Vec<usize> {
    let sizes: Vec<u64> = files.iter().map(|f| fs::metadata(&f.path).map_or(0, |m| m.len())).collect();
    let mut order: Vec<usize> = (0..files.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(sizes[i]), i));
    order
}

/// A document's bytes and what they are.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub bytes: Vec<u8>,
    pub sha256: String,
    pub format: Format,
}

/// Why a file could not be loaded.
#[derive(Debug, Clone)]
pub struct LoadError {
    pub kind: ErrorKind,
    pub message: String,
}

/// Read a file (at most `max_bytes`), hash it and decide its format from its
/// first bytes, not its name.
pub fn load(file: &InputFile, max_bytes: u64) -> Result<Loaded, LoadError> {
    let f = fs::File::open(&file.path).map_err(|e| LoadError {
        kind: ErrorKind::Unreadable,
        message: format!("cannot open the file ({e}); check it exists and is readable"),
    })?;
    let mut bytes = Vec::new();
    f.take(max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| LoadError { kind: ErrorKind::Unreadable, message: format!("cannot read the file ({e})") })?;
    if bytes.len() as u64 > max_bytes {
        return Err(LoadError {
            kind: ErrorKind::TooLarge,
            message: format!(
                "the file is larger than the {} MiB limit; split it or raise --max-file-size",
                max_bytes >> 20
            ),
        });
    }
    let format = sniff(&bytes, &file.path)?;
    let sha256 = hex(&Sha256::digest(&bytes));
    Ok(Loaded { bytes, sha256, format })
}

fn sniff(bytes: &[u8], path: &Path) -> Result<Format, LoadError> {
    if bytes.is_empty() {
        return Err(LoadError {
            kind: ErrorKind::Corrupt,
            message: "the file is empty (0 bytes); re-download or re-export it".into(),
        });
    }
    let head = &bytes[..bytes.len().min(1024)];
    if head.windows(5).any(|w| w == b"%PDF-") {
        return Ok(Format::Pdf);
    }
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return Ok(Format::Docx);
    }
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    let message = if bytes.starts_with(b"\xD0\xCF\x11\xE0") {
        "this is an old binary Word (.doc) or Office file, not .docx; save it as .docx or PDF first".to_string()
    } else {
        match ext.as_str() {
            "pdf" => "named .pdf but is not a PDF (no %PDF- header): the file is damaged or not a PDF".to_string(),
            "docx" => "named .docx but is not a zip archive: the file is damaged or not a Word document".to_string(),
            _ => "not a PDF or DOCX file; plantrace reads .pdf and .docx reports".to_string(),
        }
    };
    let kind = if matches!(ext.as_str(), "pdf" | "docx") { ErrorKind::Corrupt } else { ErrorKind::Unsupported };
    Err(LoadError { kind, message })
}

/// Lower-case hex of a byte string.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// Short stable id from any string (first 12 hex digits of its SHA-256).
pub fn short_hash(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes())[..6])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_is_recursive_sorted_and_case_insensitive() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::create_dir_all(d.join("b/c")).unwrap();
        for name in ["z.PDF", "a.docx", "b/c/x.pdf", "b/notes.txt", "b/y.Docx"] {
            fs::write(d.join(name), b"x").unwrap();
        }
        let found = discover(&[d.to_path_buf()]).unwrap();
        let names: Vec<String> =
            found.iter().map(|f| f.path.strip_prefix(d).unwrap().to_string_lossy().to_string()).collect();
        assert_eq!(names, vec!["a.docx", "b/c/x.pdf", "b/y.Docx", "z.PDF"]);
    }

    #[test]
    fn largest_files_are_read_first_and_ties_keep_input_order() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for (name, len) in [("a.pdf", 10), ("b.pdf", 300), ("c.pdf", 10), ("d.pdf", 2000)] {
            fs::write(d.join(name), vec![b'x'; len]).unwrap();
        }
        let mut files = discover(&[d.to_path_buf()]).unwrap();
        // A file gone since discovery counts as empty: it goes last.
        files.insert(1, InputFile { path: d.join("gone.pdf") });
        let names: Vec<String> = largest_first(&files)
            .into_iter()
            .map(|i| files[i].path.file_name().unwrap().to_string_lossy().to_string())
            .collect();
        assert_eq!(names, vec!["d.pdf", "b.pdf", "a.pdf", "c.pdf", "gone.pdf"]);
    }

    #[test]
    fn missing_input_is_an_error() {
        assert!(matches!(discover(&[PathBuf::from("/no/such/place")]), Err(DiscoverError::Missing(_))));
    }

    #[test]
    fn format_comes_from_bytes() {
        let p = Path::new("x.docx");
        assert_eq!(sniff(b"%PDF-1.7\n", p).unwrap(), Format::Pdf);
        assert_eq!(sniff(b"PK\x03\x04rest", Path::new("x.pdf")).unwrap(), Format::Docx);
        assert_eq!(sniff(b"", p).unwrap_err().kind, ErrorKind::Corrupt);
        assert_eq!(sniff(b"hello", Path::new("x.pdf")).unwrap_err().kind, ErrorKind::Corrupt);
        assert_eq!(sniff(b"hello", Path::new("x.txt")).unwrap_err().kind, ErrorKind::Unsupported);
    }
}
