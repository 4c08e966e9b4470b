//! The worker side: `plantrace __worker`, started by the supervisor, reads
//! one document per request line and answers with one reply line (and the
//! document's rendered records after it: [`wire::Reply::attachment`]).
//!
//! The worker's stdout carries the protocol only: before anything else runs
//! the worker moves it to a private descriptor and points descriptor 1 at
//! stderr, so a stray `println!` in a dependency cannot corrupt a reply.
//! Everything on stderr is collected by the supervisor, which uses it to
//! explain a crash (a panic message, Rust's "has overflowed its stack",
//! "memory allocation of N bytes failed") and otherwise discards it.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use super::fault;
use super::wire::{self, LineError, Reply, Request, Settings};
use crate::handoff::{hand_off, Outcome};
use crate::ingest::InputFile;
use crate::model::{DocumentError, ErrorKind};
use crate::pipeline::{self, DocOptions};
use crate::rules::Rules;

/// Written on stderr before each document, so the supervisor can tell this
/// document's last words from the previous one's.
pub const BEGIN_MARKER: &[u8] = b"\x1eplantrace-worker: begin document\n";

/// Longest request line accepted (a path and a little JSON).
const MAX_REQUEST: u64 = 1 << 20;

/// Exit status of a worker that could not start (rules, settings).
pub const SETUP_FAILED: u8 = 3;

/// Serve requests until stdin closes. `rules`: the rules folder, or `None`
/// for the rules built into the binary (never `./rules` by guessing: the
/// worker must use exactly what the supervisor loaded).
pub fn serve(rules: Option<PathBuf>, settings: &str) -> ExitCode {
    let mut out = match protocol_stdout() {
        Ok(f) => BufWriter::with_capacity(1 << 16, f),
        Err(e) => {
            eprintln!("plantrace __worker: cannot set up its output: {e}");
            return ExitCode::from(SETUP_FAILED);
        }
    };
    let fail = |out: &mut BufWriter<File>, message: String| {
        eprintln!("plantrace __worker: {message}");
        let _ = wire::send(out, &Reply::Failed(message));
        ExitCode::from(SETUP_FAILED)
    };
    let opts: DocOptions = match serde_json::from_str::<Settings>(settings) {
        Ok(s) => s.into(),
        Err(e) => return fail(&mut out, format!("bad --settings ({e})")),
    };
    let rules = match rules {
        Some(dir) => Rules::load(Some(&dir)),
        None => Rules::builtin(),
    };
    let rules = match rules {
        Ok(r) => r,
        Err(e) => return fail(&mut out, format!("error in rules: {e}")),
    };
    let faults = fault::Faults::from_env();
    quiet_panics();
    if wire::send(&mut out, &Reply::Ready).is_err() {
        return ExitCode::SUCCESS; // the supervisor is gone
    }

    let stdin = io::stdin();
    let mut input = BufReader::new(stdin.lock());
    let mut line = Vec::new();
    loop {
        match wire::read_line(&mut input, &mut line, MAX_REQUEST) {
            Ok(()) => {}
            Err(LineError::Closed) => return ExitCode::SUCCESS,
            Err(LineError::TooLong) => return fail(&mut out, "a request line is too long".into()),
            Err(LineError::Io(e)) => return fail(&mut out, format!("cannot read requests: {e}")),
        }
        let request: Request = match serde_json::from_slice(&line) {
            Ok(r) => r,
            Err(e) => return fail(&mut out, format!("unreadable request ({e})")),
        };
        let file = InputFile { path: request.path.to_path() };
        let _ = io::stderr().write_all(BEGIN_MARKER);
        let mut outcome = read_one(&file, &rules, &opts, &faults);
        let records = outcome.as_mut().map(|h| std::mem::take(&mut h.records.json)).unwrap_or_default();
        if wire::send_with(&mut out, &Reply::Done(Box::new(outcome)), &records).is_err() {
            return ExitCode::SUCCESS; // the supervisor is gone
        }
    }
}

/// Process one document, turning a panic anywhere in plantrace's own stages
/// into an error for that document (the PDF and DOCX readers already catch
/// their own); the worker then carries on with the next request.
fn read_one(file: &InputFile, rules: &Rules, opts: &DocOptions, faults: &fault::Faults) -> Outcome {
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        faults.trigger(&file.display());
        hand_off(pipeline::process(file, rules, opts))
    }));
    result.unwrap_or_else(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        Err(DocumentError {
            path: file.display(),
            kind: ErrorKind::ParserCrash,
            message: format!(
                "plantrace crashed while reading this file ({what}); this is a bug in plantrace: please report it with the file"
            ),
        })
    })
}

/// Panics are caught and reported per document; print one line for each
/// (the supervisor keeps it as the document's last words) instead of the
/// default multi-line message and backtrace.
fn quiet_panics() {
    std::panic::set_hook(Box::new(|info| {
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        eprintln!("plantrace __worker: panicked{at}: {what}");
    }));
}

/// Take descriptor 1 for the protocol and point descriptor 1 at stderr.
#[cfg(unix)]
fn protocol_stdout() -> io::Result<File> {
    use std::os::fd::FromRawFd;
    let _ = io::stdout().flush();
    // SAFETY: dup/dup2 on the process's own standard descriptors; the new
    // descriptor is owned by the returned File and nothing else.
    unsafe {
        let fd = libc::fcntl(libc::STDOUT_FILENO, libc::F_DUPFD_CLOEXEC, 3);
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        if libc::dup2(libc::STDERR_FILENO, libc::STDOUT_FILENO) < 0 {
            let e = io::Error::last_os_error();
            libc::close(fd);
            return Err(e);
        }
        Ok(File::from_raw_fd(fd))
    }
}

#[cfg(not(unix))]
fn protocol_stdout() -> io::Result<File> {
    Err(io::Error::new(io::ErrorKind::Unsupported, "worker processes need a Unix system; use --in-process"))
}
