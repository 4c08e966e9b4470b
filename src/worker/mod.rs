//! Worker isolation: every document is read in a separate process.
//!
//! PDF and DOCX parsers meet hostile and broken files, and some failures
//! cannot be caught inside a process: a stack overflow or an `abort` ends
//! it, an endless loop never returns, a runaway allocation takes the
//! machine's memory. So, as Apache Tika does, the batch runs its documents
//! in worker processes — the `plantrace` binary itself, started as
//! `plantrace __worker` — and a supervisor thread per worker:
//!
//! - sends one request line (a path) on the worker's stdin and waits for one
//!   reply line (the document's `Result<DocResult, DocumentError>`) on its
//!   stdout, at most `--doc-timeout`; past that it kills the worker;
//! - caps the worker's address space at `--max-memory` (RLIMIT_AS), so a
//!   runaway allocation fails inside the worker;
//! - when a worker dies or is killed, turns what happened (the signal, a
//!   panic message, Rust's stack-overflow or allocation-failure message on
//!   its stderr, the timeout) into a [`DocumentError`] of the right kind with
//!   a message a person can act on, starts a fresh worker and carries on.
//!
//! Workers are started lazily, one per `--jobs` slot, and reused for every
//! document of the slot until one fails; each has the next document queued
//! while it reads one, so it never waits for the supervisor. The cost of
//! isolation is one process start and one rules load per slot (about 30 ms)
//! plus writing and parsing each document's results as JSON (well under a
//! millisecond for a typical report). Documents are handed out largest
//! first ([`ingest::largest_first`]), so the run does not end with one
//! worker reading a big report alone. Results are returned in input order
//! whatever order they are read and come back in, so the output depends
//! neither on that nor on `--jobs`.

mod child;
mod fault;
mod sys;
mod wire;

use std::collections::VecDeque;
use std::io::{BufReader, BufWriter, Read};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

pub use crate::handoff::Outcome;
pub use child::serve;
pub use sys::{catch_stop_signals, die_of, stop_requested};

use crate::ingest::{self, InputFile};
use crate::model::{DocumentError, ErrorKind};
use crate::pipeline::DocOptions;
use crate::rules::{Rules, RulesSource};
use wire::{LineError, Reply, ReplyError, Request, Settings};

/// The hidden subcommand that makes the binary a worker.
pub const COMMAND: &str = "__worker";

/// Default per-document time limit, in seconds.
pub const DEFAULT_DOC_TIMEOUT_SECS: u64 = 60;

/// Default cap on a worker's address space, in MiB. Generous for real
/// reports (the largest fixtures need well under 200 MiB; a 1,000-page
/// report a few hundred), and small enough that `--jobs` workers at the cap
/// together stay within a 16–32 GiB machine for typical `--jobs`.
pub const DEFAULT_MAX_MEMORY_MIB: u64 = 4096;

/// Longest reply line accepted from a worker, and longest rendered records
/// after it.
const MAX_REPLY: u64 = 1 << 30;

/// Most of a worker's stderr kept to explain a crash.
const STDERR_TAIL: usize = 16 << 10;

/// How often a waiting supervisor thread looks for SIGINT/SIGTERM.
const TICK: Duration = Duration::from_millis(100);

/// How long a worker that closed its output may take to exit before it is
/// killed (it is usually already dead: this only waits out the kernel).
const EXIT_GRACE: Duration = Duration::from_secs(2);

/// How workers are run.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Time one document may take.
    pub doc_timeout: Duration,
    /// Cap on a worker's address space in bytes (`None`: no cap).
    pub max_memory: Option<u64>,
    /// The `plantrace` binary to start as a worker (default: this
    /// executable; set it when calling the library from another program).
    pub exe: Option<PathBuf>,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        WorkerOptions {
            doc_timeout: Duration::from_secs(DEFAULT_DOC_TIMEOUT_SECS),
            max_memory: Some(DEFAULT_MAX_MEMORY_MIB << 20),
            exe: None,
        }
    }
}

/// Why the pool stopped before every document was read.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    #[error("cannot start a worker process: {0}")]
    Start(String),
    #[error("interrupted by a signal; nothing was written")]
    Interrupted,
}

/// Everything needed to start a worker.
struct Spec {
    exe: PathBuf,
    rules: Option<PathBuf>,
    settings: String,
    opts: WorkerOptions,
}

impl Spec {
    fn new(rules: &Rules, doc: &DocOptions, opts: &WorkerOptions) -> Result<Spec, PoolError> {
        let exe = match &opts.exe {
            Some(p) => p.clone(),
            None => std::env::current_exe()
                .map_err(|e| PoolError::Start(format!("cannot find the plantrace executable ({e})")))?,
        };
        let rules = match &rules.source {
            RulesSource::Dir(d) => Some(std::path::absolute(d).unwrap_or_else(|_| d.clone())),
            RulesSource::Builtin => None,
        };
        let settings = serde_json::to_string(&Settings::from(doc))
            .map_err(|e| PoolError::Start(format!("cannot encode the settings ({e})")))?;
        Ok(Spec { exe, rules, settings, opts: opts.clone() })
    }

    /// Time a new worker may take to load its rules and say it is ready.
    fn startup_timeout(&self) -> Duration {
        self.opts.doc_timeout.max(Duration::from_secs(30))
    }
}

/// Read `files` in worker processes, `jobs` at a time, handing each
/// outcome to `keep` the moment it arrives (so the caller decides what of it
/// stays in memory). What `keep` returns is in input order.
pub fn process_isolated<T: Send>(
    files: &[InputFile],
    rules: &Rules,
    doc: &DocOptions,
    opts: &WorkerOptions,
    jobs: usize,
    keep: &(dyn Fn(Outcome) -> T + Sync),
) -> Result<Vec<T>, PoolError> {
    let spec = Spec::new(rules, doc, opts)?;
    let order = ingest::largest_first(files);
    let next = AtomicUsize::new(0);
    let give_up = AtomicBool::new(false);
    let slots = jobs.clamp(1, files.len().max(1));
    let per_slot: Vec<Result<Vec<(usize, T)>, PoolError>> = thread::scope(|s| {
        let handles: Vec<_> =
            (0..slots).map(|_| s.spawn(|| slot(&spec, files, &order, &next, &give_up, keep))).collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(PoolError::Start("a supervisor thread panicked".into()))))
            .collect()
    });
    let mut all = Vec::with_capacity(files.len());
    let mut first_error = None;
    for r in per_slot {
        match r {
            Ok(v) => all.extend(v),
            // A start failure says more than the interruptions it caused.
            Err(e @ PoolError::Start(_)) => first_error = Some(e),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    if stop_requested().is_some() {
        return Err(PoolError::Interrupted);
    }
    all.sort_by_key(|(i, _)| *i);
    debug_assert_eq!(all.len(), files.len());
    Ok(all.into_iter().map(|(_, o)| o).collect())
}

/// Requests queued in a worker at once: the one it is reading and the
/// next, so it starts the next document the moment it has written a reply
/// instead of waiting for the supervisor to read it and answer (a round
/// trip of thread wake-ups per document, which on a busy machine cost more
/// than the JSON itself).
const QUEUE: usize = 2;

/// One slot: keep this slot's worker supplied with documents from the
/// shared list (`files` in `order`, `next` the position in it), collect its
/// outcomes, replace the worker when it fails.
fn slot<T>(
    spec: &Spec,
    files: &[InputFile],
    order: &[usize],
    next: &AtomicUsize,
    give_up: &AtomicBool,
    keep: &(dyn Fn(Outcome) -> T + Sync),
) -> Result<Vec<(usize, T)>, PoolError> {
    let mut out = Vec::new();
    let mut worker: Option<Worker> = None;
    // Documents sent to the current worker, oldest (the one being read) first.
    let mut queued: VecDeque<usize> = VecDeque::new();
    // Documents sent to a worker that failed before reaching them.
    let mut resend: VecDeque<usize> = VecDeque::new();
    // When the worker began the oldest queued document.
    let mut began = Instant::now();
    loop {
        if stop_requested().is_some() {
            return Err(PoolError::Interrupted);
        }
        while queued.len() < QUEUE && !give_up.load(Ordering::SeqCst) {
            let Some(i) = resend.pop_front().or_else(|| order.get(next.fetch_add(1, Ordering::SeqCst)).copied()) else {
                break;
            };
            let w = match worker.as_mut() {
                Some(w) => w,
                None => match Worker::start(spec) {
                    Ok(w) => {
                        began = Instant::now();
                        worker.insert(w)
                    }
                    Err(e) => {
                        give_up.store(true, Ordering::SeqCst);
                        return Err(e);
                    }
                },
            };
            if queued.is_empty() {
                began = Instant::now();
            }
            queued.push_back(i);
            if w.send(&files[i]).is_err() {
                // The worker died; its reply channel says so below.
                break;
            }
        }
        let (Some(&i), Some(w)) = (queued.front(), worker.as_mut()) else { break };
        let outcome = match w.receive(began + spec.opts.doc_timeout) {
            Ok(outcome) => {
                began = Instant::now();
                outcome
            }
            Err(Failure::Interrupted) => return Err(PoolError::Interrupted),
            Err(failure) => {
                let dying = matches!(failure, Failure::Died);
                let dead = worker.take().map(|w| w.stop(dying));
                // The worker reads in order: it never began the others.
                resend.extend(queued.drain(1..));
                Err(explain(failure, dead, &files[i].display(), spec))
            }
        };
        queued.pop_front();
        out.push((i, keep(outcome)));
    }
    if let Some(w) = worker {
        w.finish();
    }
    Ok(out)
}

/// How a request went wrong.
#[derive(Debug)]
enum Failure {
    /// No reply within the time limit.
    Timeout,
    /// The worker closed its output: it died.
    Died,
    /// The reply line, or the records after it, longer than [`MAX_REPLY`].
    TooLong,
    /// The reply was not a reply (a bug, or a result that cannot cross).
    Garbled(String),
    /// SIGINT or SIGTERM.
    Interrupted,
}

/// What a reply channel can deliver.
type Delivery = Result<Reply, Failure>;

/// A running worker and the threads that drain its output.
struct Worker {
    child: Child,
    stdin: Option<BufWriter<ChildStdin>>,
    replies: Receiver<Delivery>,
    /// The tail of its stderr since the current document began.
    stderr: Arc<Mutex<Vec<u8>>>,
    stderr_thread: Option<thread::JoinHandle<()>>,
    reaped: Option<ExitStatus>,
}

/// What was left of a stopped worker: how it ended and its last words.
struct Remains {
    status: Option<ExitStatus>,
    stderr: String,
}

impl Worker {
    fn start(spec: &Spec) -> Result<Worker, PoolError> {
        let mut cmd = Command::new(&spec.exe);
        cmd.arg(COMMAND).arg("--settings").arg(&spec.settings);
        if let Some(dir) = &spec.rules {
            cmd.arg("--rules").arg(dir);
        }
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        sys::confine(&mut cmd, spec.opts.max_memory);
        let mut child = cmd.spawn().map_err(|e| {
            PoolError::Start(format!(
                "{} ({e}); run with --in-process to read documents in this process",
                spec.exe.display()
            ))
        })?;
        let (Some(stdin), Some(stdout), Some(stderr)) = (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(PoolError::Start("the worker's pipes could not be opened".into()));
        };
        sys::widen_pipe(&stdout);
        let (tx, replies) = mpsc::channel();
        thread::spawn(move || pump_replies(stdout, tx));
        let tail = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&tail);
        let stderr_thread = thread::spawn(move || pump_stderr(stderr, &sink));
        let mut worker = Worker {
            child,
            stdin: Some(BufWriter::new(stdin)),
            replies,
            stderr: tail,
            stderr_thread: Some(stderr_thread),
            reaped: None,
        };
        match worker.wait_reply(Instant::now() + spec.startup_timeout()) {
            Ok(Reply::Ready) => Ok(worker),
            Err(Failure::Interrupted) => Err(PoolError::Interrupted),
            Ok(Reply::Failed(message)) => Err(PoolError::Start(message)),
            Ok(Reply::Done(_)) => Err(PoolError::Start("the worker answered before it was asked".into())),
            Err(failure) => {
                let timed_out = matches!(failure, Failure::Timeout);
                let remains = worker.stop(matches!(failure, Failure::Died));
                let how = match remains.status {
                    _ if timed_out => format!("it was not ready after {} s", spec.startup_timeout().as_secs()),
                    Some(status) => format!("it {}", describe_exit(status)),
                    None => "it stopped answering".into(),
                };
                let words = last_words(&remains.stderr).map(|w| format!(": {w}")).unwrap_or_default();
                let hint = if remains.stderr.contains("memory allocation of") {
                    "; raise --max-memory"
                } else {
                    "; run with --in-process to read documents in this process"
                };
                Err(PoolError::Start(format!("{how}{words}{hint}")))
            }
        }
    }

    /// Queue one document in the worker.
    fn send(&mut self, file: &InputFile) -> std::io::Result<()> {
        let request = Request { path: wire::WirePath::from_path(&file.path) };
        match self.stdin.as_mut() {
            Some(stdin) => wire::send(stdin, &request),
            None => Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe)),
        }
    }

    /// Wait until `deadline` for the outcome of the oldest queued document.
    fn receive(&mut self, deadline: Instant) -> Result<Outcome, Failure> {
        match self.wait_reply(deadline)? {
            Reply::Done(outcome) => Ok(*outcome),
            Reply::Ready => Err(Failure::Garbled("a second ready message".into())),
            Reply::Failed(message) => Err(Failure::Garbled(message)),
        }
    }

    fn wait_reply(&mut self, deadline: Instant) -> Result<Reply, Failure> {
        loop {
            if stop_requested().is_some() {
                return Err(Failure::Interrupted);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Failure::Timeout);
            }
            match self.replies.recv_timeout(left.min(TICK)) {
                Ok(delivery) => return delivery,
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => return Err(Failure::Died),
            }
        }
    }

    /// Stop a worker that failed: give a `dying` one (it closed its
    /// output) a moment to finish dying, so its own exit status is seen
    /// rather than our SIGKILL; kill it if it is still there; collect its
    /// last words.
    fn stop(mut self, dying: bool) -> Remains {
        self.stdin = None;
        let deadline = Instant::now() + if dying { EXIT_GRACE } else { Duration::ZERO };
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(5)),
                Ok(None) => {
                    let _ = self.child.kill();
                    break self.child.wait().ok();
                }
                Err(_) => break None,
            }
        };
        self.reaped = status;
        // The worker is gone, so its stderr pipe is closed and the thread
        // draining it ends.
        if let Some(t) = self.stderr_thread.take() {
            let _ = t.join();
        }
        let stderr = self.stderr.lock().map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
        Remains { status, stderr }
    }

    /// End a healthy worker: close its input, which it takes as the end.
    fn finish(mut self) {
        self.stdin = None;
        let deadline = Instant::now() + EXIT_GRACE;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                self.reaped = Some(status);
                return;
            }
            thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Worker {
    /// No worker outlives its supervisor thread, whatever path left it.
    fn drop(&mut self) {
        if self.reaped.is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Read reply lines and hand them over until the worker's output closes.
fn pump_replies(stdout: impl Read, tx: mpsc::Sender<Delivery>) {
    let mut input = BufReader::with_capacity(sys::PIPE_BYTES, stdout);
    let mut line = Vec::new();
    loop {
        let delivery = match wire::read_reply(&mut input, &mut line, MAX_REPLY) {
            Ok(reply) => Ok(reply),
            Err(ReplyError::Garbled(e)) => Err(Failure::Garbled(e)),
            Err(ReplyError::Line(LineError::Closed | LineError::Io(_))) => return,
            Err(ReplyError::Line(LineError::TooLong)) => Err(Failure::TooLong),
        };
        let last = delivery.is_err();
        if tx.send(delivery).is_err() || last {
            return;
        }
    }
}

/// Keep the tail of a worker's stderr since its current document began.
fn pump_stderr(mut stderr: impl Read, tail: &Mutex<Vec<u8>>) {
    let marker = child::BEGIN_MARKER;
    let mut chunk = vec![0u8; 8 << 10];
    loop {
        let n = match stderr.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let Ok(mut buf) = tail.lock() else { return };
        buf.extend_from_slice(&chunk[..n]);
        if let Some(at) = buf.windows(marker.len()).rposition(|w| w == marker) {
            buf.drain(..at + marker.len());
        }
        if buf.len() > STDERR_TAIL {
            let cut = buf.len() - STDERR_TAIL;
            buf.drain(..cut);
        }
    }
}

/// "exited with status 3", "was killed by signal 11, SIGSEGV: ...".
fn describe_exit(status: ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return format!("was ended by {}", sys::signal_name(sig));
        }
    }
    match status.code() {
        Some(code) => format!("exited with status {code}"),
        None => "ended".into(),
    }
}

/// The worker's last meaningful line on stderr, shortened.
fn last_words(stderr: &str) -> Option<String> {
    let line = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("note: ") && !l.starts_with("stack backtrace"))
        .rfind(|_| true)?;
    let line = line.strip_prefix("plantrace __worker: ").unwrap_or(line);
    Some(if line.chars().count() > 200 {
        format!("{}…", line.chars().take(200).collect::<String>())
    } else {
        line.into()
    })
}

/// Which reader a file went to and how such a file is usually repaired,
/// for messages.
fn reader_of(path: &str) -> (&'static str, &'static str) {
    let lower = path.to_ascii_lowercase();
    if lower.ends_with(".pdf") {
        ("the PDF reader", "repair or re-export it (e.g. qpdf in.pdf out.pdf)")
    } else if lower.ends_with(".docx") {
        ("the DOCX reader", "open it in Word or LibreOffice and save it again")
    } else {
        ("the reader", "re-export it")
    }
}

/// Turn a failed request into the document's error.
fn explain(failure: Failure, dead: Option<Remains>, path: &str, spec: &Spec) -> DocumentError {
    let error = |kind, message| DocumentError { path: path.to_string(), kind, message };
    let (reader, repair) = reader_of(path);
    let stderr = dead.as_ref().map(|d| d.stderr.as_str()).unwrap_or("");
    let status = dead.as_ref().and_then(|d| d.status);
    match failure {
        Failure::Timeout => error(
            ErrorKind::Timeout,
            format!(
                "reading this file took longer than the {} s limit (--doc-timeout) and was stopped: {reader} may be looping on a damaged or hostile file; if the file is genuine but very large, raise --doc-timeout",
                spec.opts.doc_timeout.as_secs_f64()
            ),
        ),
        Failure::TooLong => error(
            ErrorKind::TooLarge,
            format!(
                "this file's results are larger than {} MiB and were not kept; split the file into parts",
                MAX_REPLY >> 20
            ),
        ),
        Failure::Garbled(why) => error(
            ErrorKind::ParserCrash,
            format!(
                "plantrace could not pass this file's results back from its worker process ({why}); this is a bug in plantrace: please report it with the file, and use --in-process meanwhile"
            ),
        ),
        // Handled by the caller; kept total for the compiler.
        Failure::Interrupted => error(ErrorKind::ParserCrash, "the run was interrupted".into()),
        Failure::Died => {
            let how = status.map(describe_exit).unwrap_or_else(|| "stopped answering".into());
            if stderr.contains("memory allocation of") && stderr.contains("failed") {
                let limit = match spec.opts.max_memory {
                    Some(bytes) => format!("the {} MiB a worker may use (--max-memory)", bytes >> 20),
                    None => "the memory available".into(),
                };
                return error(
                    ErrorKind::TooLarge,
                    format!(
                        "reading this file needed more than {limit}, so its worker process was stopped: the file is probably a decompression bomb or damaged; if it is genuine, raise --max-memory"
                    ),
                );
            }
            if stderr.contains("has overflowed its stack") {
                return error(
                    ErrorKind::ParserCrash,
                    format!(
                        "{reader} overflowed its stack on this file (endless recursion: typically an object that contains itself, such as a PDF form that draws itself, or absurdly deep nesting), and its worker process {how}; the file is damaged or hostile: {repair}"
                    ),
                );
            }
            let words = last_words(stderr).map(|w| format!("; its last words: \"{w}\"")).unwrap_or_default();
            error(
                ErrorKind::ParserCrash,
                format!(
                    "{reader} crashed on this file: its worker process {how}{words}; the file is probably damaged: {repair}"
                ),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_words_skip_noise_and_are_short() {
        let err = "thread 'main' has overflowed its stack\nfatal runtime error: stack overflow\n\n";
        assert_eq!(last_words(err).as_deref(), Some("fatal runtime error: stack overflow"));
        assert_eq!(
            last_words("plantrace __worker: panicked at x.rs:1: boom\nnote: run with RUST_BACKTRACE=1").as_deref(),
            Some("panicked at x.rs:1: boom")
        );
        assert!(last_words(&"x".repeat(500)).is_some_and(|w| w.chars().count() == 201));
        assert_eq!(last_words(" \n"), None);
    }

    #[test]
    fn stderr_tail_starts_at_the_current_document() {
        let tail = Mutex::new(Vec::new());
        let mut input = Vec::new();
        input.extend_from_slice(b"old document noise\n");
        input.extend_from_slice(child::BEGIN_MARKER);
        input.extend_from_slice(b"memory allocation of 8 bytes failed\n");
        pump_stderr(&input[..], &tail);
        assert_eq!(&*tail.lock().unwrap(), b"memory allocation of 8 bytes failed\n");
    }
}
