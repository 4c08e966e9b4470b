//! What supervisor and worker say to each other: one JSON object per line,
//! a [`Request`] on the worker's stdin, a [`Reply`] on its stdout.
//!
//! Lines, not a binary framing, so a stuck worker can be debugged by hand:
//! `echo '{"path":"x.pdf"}' | plantrace __worker --settings '{...}'`.

use std::io::{self, BufRead, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::layout::Limits;
use crate::model::DocumentError;
use crate::pipeline::{DocOptions, DocResult};

/// One document's outcome.
pub type Outcome = Result<DocResult, DocumentError>;

/// A file name as it crosses the pipe: text when it is valid UTF-8 (nearly
/// always), otherwise its raw bytes, so no path is ever mangled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum WirePath {
    Text(String),
    Bytes(Vec<u8>),
}

impl WirePath {
    pub fn from_path(path: &Path) -> WirePath {
        if let Some(s) = path.to_str() {
            return WirePath::Text(s.to_string());
        }
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            WirePath::Bytes(path.as_os_str().as_bytes().to_vec())
        }
        #[cfg(not(unix))]
        WirePath::Text(path.to_string_lossy().into_owned())
    }

    pub fn to_path(&self) -> PathBuf {
        match self {
            WirePath::Text(s) => PathBuf::from(s),
            #[cfg(unix)]
            WirePath::Bytes(b) => {
                use std::os::unix::ffi::OsStrExt;
                PathBuf::from(std::ffi::OsStr::from_bytes(b))
            }
            #[cfg(not(unix))]
            WirePath::Bytes(b) => PathBuf::from(String::from_utf8_lossy(b).into_owned()),
        }
    }
}

/// Supervisor → worker: read this document.
#[derive(Debug, Serialize, Deserialize)]
pub struct Request {
    pub path: WirePath,
}

/// Worker → supervisor.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reply {
    /// Rules loaded; send documents.
    Ready,
    /// The outcome of the last request.
    Done(Box<Outcome>),
    /// The worker cannot work at all (its rules did not load, a request it
    /// could not read); it exits after saying so.
    Failed(String),
}

/// The per-document settings a worker needs, as passed on its command line
/// (`--settings JSON`): everything in [`DocOptions`], so the worker reads
/// with exactly the limits the supervisor was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    pub max_file_bytes: u64,
    pub zip_entries: usize,
    pub part_bytes: u64,
    pub total_inflated: u64,
    pub pdf_pages: u32,
    pub pdf_objects: usize,
}

impl From<&DocOptions> for Settings {
    fn from(o: &DocOptions) -> Settings {
        let l = &o.limits;
        Settings {
            max_file_bytes: o.max_file_bytes,
            zip_entries: l.zip_entries,
            part_bytes: l.part_bytes,
            total_inflated: l.total_inflated,
            pdf_pages: l.pdf_pages,
            pdf_objects: l.pdf_objects,
        }
    }
}

impl From<Settings> for DocOptions {
    fn from(s: Settings) -> DocOptions {
        DocOptions {
            max_file_bytes: s.max_file_bytes,
            limits: Limits {
                zip_entries: s.zip_entries,
                part_bytes: s.part_bytes,
                total_inflated: s.total_inflated,
                pdf_pages: s.pdf_pages,
                pdf_objects: s.pdf_objects,
            },
        }
    }
}

/// Write one message as a line and flush it.
pub fn send<T: Serialize>(out: &mut impl Write, message: &T) -> io::Result<()> {
    serde_json::to_writer(&mut *out, message).map_err(io::Error::other)?;
    out.write_all(b"\n")?;
    out.flush()
}

/// Why a line could not be read.
#[derive(Debug)]
pub enum LineError {
    /// The other end closed the pipe.
    Closed,
    /// A line longer than the cap: the reader stopped there.
    TooLong,
    Io(io::Error),
}

/// Read one line of at most `cap` bytes (newline included) into `buf`.
pub fn read_line(input: &mut impl BufRead, buf: &mut Vec<u8>, cap: u64) -> Result<(), LineError> {
    buf.clear();
    let n = input.by_ref().take(cap).read_until(b'\n', buf).map_err(LineError::Io)?;
    if n == 0 {
        return Err(LineError::Closed);
    }
    if buf.last() != Some(&b'\n') {
        // Either the cap or end of input in the middle of a line; a worker
        // always ends its lines, so both mean the line is unusable.
        return Err(if n as u64 == cap { LineError::TooLong } else { LineError::Closed });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_carry_every_limit_both_ways() {
        let opts = DocOptions {
            max_file_bytes: 7,
            limits: Limits { zip_entries: 1, part_bytes: 2, total_inflated: 3, pdf_pages: 4, pdf_objects: 5 },
        };
        let json = serde_json::to_string(&Settings::from(&opts)).unwrap();
        let back: DocOptions = serde_json::from_str::<Settings>(&json).unwrap().into();
        assert_eq!(Settings::from(&back), Settings::from(&opts));
    }

    #[cfg(unix)]
    #[test]
    fn paths_that_are_not_utf8_cross_unchanged() {
        use std::os::unix::ffi::OsStrExt;
        let raw = std::ffi::OsStr::from_bytes(b"reports/caf\xe9.pdf");
        let wire = WirePath::from_path(Path::new(raw));
        assert!(matches!(wire, WirePath::Bytes(_)));
        let json = serde_json::to_string(&Request { path: wire }).unwrap();
        let back: Request = serde_json::from_str(&json).unwrap();
        assert_eq!(back.path.to_path().as_os_str(), raw);
        let text = WirePath::from_path(Path::new("a/b.pdf"));
        assert_eq!(serde_json::to_string(&text).unwrap(), "\"a/b.pdf\"");
    }

    #[test]
    fn lines_are_capped() {
        let mut buf = Vec::new();
        let mut input: &[u8] = b"{\"ready\":null}\nxxxxxxxxxx";
        assert!(read_line(&mut input, &mut buf, 100).is_ok());
        assert!(matches!(read_line(&mut input, &mut buf, 100), Err(LineError::Closed)));
        let mut long: &[u8] = b"0123456789\n";
        assert!(matches!(read_line(&mut long, &mut buf, 5), Err(LineError::TooLong)));
    }
}
