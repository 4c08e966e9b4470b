//! What supervisor and worker say to each other: one JSON object per line,
//! a [`Request`] on the worker's stdin, a [`Reply`] on its stdout.
//!
//! Lines, not a binary framing, so a stuck worker can be debugged by hand:
//! `echo '{"path":"x.pdf"}' | plantrace __worker --settings '{...}'`.
//! One exception: a document's records, rendered as they will stand in the
//! dataset ([`crate::emit::Rendered`], pretty JSON over many lines), follow
//! the reply line that announces their length, as they are, so that the
//! supervisor copies them instead of decoding them.

use std::io::{self, BufRead, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::handoff::Outcome;
use crate::layout::Limits;
use crate::pipeline::DocOptions;

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
    /// The outcome of the last request. When it is a document, its
    /// rendered records follow the line ([`Reply::attachment`]).
    Done(Box<Outcome>),
    /// The worker cannot work at all (its rules did not load, a request it
    /// could not read); it exits after saying so.
    Failed(String),
}

impl Reply {
    /// The bytes that follow this reply's line: a document's rendered
    /// records, whose length the line gives.
    pub fn attachment(&mut self) -> Option<&mut Vec<u8>> {
        match self {
            Reply::Done(outcome) => outcome.as_mut().as_mut().ok().map(|h| &mut h.records.json),
            _ => None,
        }
    }

    /// How many bytes follow this reply's line.
    pub fn attachment_len(&self) -> u64 {
        match self {
            Reply::Done(outcome) => outcome.as_ref().as_ref().map_or(0, |h| h.records.len()),
            _ => 0,
        }
    }
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
    send_with(out, message, &[])
}

/// Write one message as a line, then `attachment` as it is, and flush.
pub fn send_with<T: Serialize>(out: &mut impl Write, message: &T, attachment: &[u8]) -> io::Result<()> {
    serde_json::to_writer(&mut *out, message).map_err(io::Error::other)?;
    out.write_all(b"\n")?;
    out.write_all(attachment)?;
    out.flush()
}

/// Read a reply's line and what follows it ([`Reply::attachment`]), each
/// at most `cap` bytes.
pub fn read_reply(input: &mut impl BufRead, line: &mut Vec<u8>, cap: u64) -> Result<Reply, ReplyError> {
    read_line(input, line, cap).map_err(ReplyError::Line)?;
    let mut reply: Reply = serde_json::from_slice(line).map_err(|e| ReplyError::Garbled(e.to_string()))?;
    let len = reply.attachment_len();
    if len > cap {
        return Err(ReplyError::Line(LineError::TooLong));
    }
    if let Some(bytes) = reply.attachment() {
        // Grown as the bytes arrive, not to the announced length at once: a
        // worker that dies mid-way costs only what it sent.
        bytes.clear();
        let got = input.by_ref().take(len).read_to_end(bytes).map_err(|e| ReplyError::Line(LineError::Io(e)))?;
        if got as u64 != len {
            return Err(ReplyError::Line(LineError::Closed));
        }
    }
    Ok(reply)
}

/// Why a reply could not be read.
#[derive(Debug)]
pub enum ReplyError {
    Line(LineError),
    /// The line was not a reply.
    Garbled(String),
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

    /// A document's records follow its reply line as they are, and come
    /// back whole; a reply cut short in them is a closed channel, one that
    /// announces more than the cap is too long.
    #[test]
    fn rendered_records_follow_the_reply_line() {
        let rules = crate::rules::Rules::builtin().unwrap();
        let file = crate::ingest::InputFile {
            path: Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/reports/tracker-2021-22.docx"),
        };
        let mut handoff = crate::handoff::hand_off(crate::pipeline::process(&file, &rules, &DocOptions::default()));
        let sent = handoff.clone();
        let records = handoff.as_mut().map(|h| std::mem::take(&mut h.records.json)).unwrap();
        assert!(records.len() > 1000 && records.contains(&b'\n'));
        let mut pipe = Vec::new();
        send_with(&mut pipe, &Reply::Done(Box::new(handoff)), &records).unwrap();
        send(&mut pipe, &Reply::Ready).unwrap();

        let mut line = Vec::new();
        let mut input: &[u8] = &pipe;
        match read_reply(&mut input, &mut line, 1 << 30) {
            Ok(Reply::Done(got)) => assert!(*got == sent),
            other => panic!("not the document: {other:?}"),
        }
        assert!(matches!(read_reply(&mut input, &mut line, 1 << 30), Ok(Reply::Ready)));

        let cut = &pipe[..pipe.len() - 100];
        assert!(matches!(read_reply(&mut &cut[..], &mut line, 1 << 30), Err(ReplyError::Line(LineError::Closed))));
        let line_len = pipe.iter().position(|b| *b == b'\n').unwrap() as u64 + 1;
        let capped = read_reply(&mut &pipe[..], &mut line, line_len);
        assert!(matches!(capped, Err(ReplyError::Line(LineError::TooLong))));
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
