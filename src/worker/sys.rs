//! The operating-system side of isolation: the limits and ties a worker
//! process gets before it starts, and the supervisor's handling of SIGINT
//! and SIGTERM. Unix only; elsewhere these are no-ops (workers still
//! isolate crashes and the timeout still holds, but memory is not capped).

use std::process::Command;
use std::sync::atomic::{AtomicI32, Ordering};

/// The signal (SIGINT or SIGTERM) that asked this run to stop, or 0.
static STOP: AtomicI32 = AtomicI32::new(0);

/// Prepare `cmd` so that the worker it starts:
/// - has its address space capped at `max_memory` bytes (RLIMIT_AS), so a
///   runaway allocation fails inside the worker instead of exhausting the
///   machine;
/// - is in its own process group, so a Ctrl-C on the terminal reaches only
///   the supervisor, which then stops the workers itself (and a worker's
///   death is never mistaken for a crash of its document);
/// - is killed by the kernel if the supervisor dies, even by SIGKILL
///   (Linux `PR_SET_PDEATHSIG`), so no worker outlives its run.
///
/// `PR_SET_PDEATHSIG` fires when the *thread* that started the worker ends:
/// the pool starts each worker from the thread that then uses it and stops
/// it before that thread ends.
#[cfg(unix)]
pub fn confine(cmd: &mut Command, max_memory: Option<u64>) {
    use std::os::unix::process::CommandExt;
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: the closure runs in the child between fork and exec and only
    // makes async-signal-safe system calls (no allocation, no locks).
    unsafe {
        cmd.pre_exec(move || {
            if let Some(bytes) = max_memory {
                let lim = libc::rlimit { rlim_cur: bytes as libc::rlim_t, rlim_max: bytes as libc::rlim_t };
                if libc::setrlimit(libc::RLIMIT_AS, &lim) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            if libc::setpgid(0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            #[cfg(target_os = "linux")]
            {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                // The supervisor may have died before the prctl took effect.
                if libc::getppid() != parent {
                    return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
                }
            }
            let _ = parent;
            Ok(())
        });
    }
}

#[cfg(not(unix))]
pub fn confine(_cmd: &mut Command, _max_memory: Option<u64>) {}

/// How much a worker's reply pipe holds, and what its reader takes at once.
pub const PIPE_BYTES: usize = 1 << 20;

/// Let the pipe of a worker's replies hold a whole typical reply (a
/// document's records: ~200 KB on average in the benchmark's corpus, 100 MB
/// for 500 reports) instead of Linux's default 64 KiB: with
/// the default, the worker blocked and the supervisor's reader woke several
/// times per document, and under `--jobs 2` each wake-up took a core from a
/// worker. Best effort: where the size cannot be raised (not Linux, or over
/// /proc/sys/fs/pipe-max-size) the pipe works as before.
#[cfg(target_os = "linux")]
pub fn widen_pipe(pipe: &impl std::os::fd::AsRawFd) {
    // SAFETY: F_SETPIPE_SZ on a descriptor we own; failure is harmless.
    unsafe { libc::fcntl(pipe.as_raw_fd(), libc::F_SETPIPE_SZ, PIPE_BYTES as libc::c_int) };
}

#[cfg(not(target_os = "linux"))]
pub fn widen_pipe<T>(_pipe: &T) {}

#[cfg(unix)]
extern "C" fn on_stop_signal(sig: libc::c_int) {
    // A second Ctrl-C while the run is winding down: stop at once, the
    // default way (the dataset on disk is still the old one or the new one,
    // never half of either: emit renames a complete file into place).
    if STOP.swap(sig, Ordering::SeqCst) != 0 {
        // SAFETY: signal and raise are async-signal-safe.
        unsafe {
            libc::signal(sig, libc::SIG_DFL);
            libc::raise(sig);
        }
    }
}

/// Catch SIGINT and SIGTERM: the first one asks the run to stop (see
/// [`stop_requested`]); a second one ends the process at once.
#[cfg(unix)]
pub fn catch_stop_signals() {
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: installs a handler that only touches an atomic (and, on a
        // second signal, restores the default action and re-raises).
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_stop_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            action.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(sig, &action, std::ptr::null_mut());
        }
    }
}

#[cfg(not(unix))]
pub fn catch_stop_signals() {}

/// The signal that asked the run to stop, if one has.
pub fn stop_requested() -> Option<i32> {
    match STOP.load(Ordering::SeqCst) {
        0 => None,
        sig => Some(sig),
    }
}

/// End this process the way `sig` would have, so whoever started it sees
/// the signal (a shell prints nothing and reports 128 + signal number).
pub fn die_of(sig: i32) -> ! {
    #[cfg(unix)]
    // SAFETY: plain libc calls; if the signal does not end us, exit does.
    unsafe {
        libc::signal(sig, libc::SIG_DFL);
        libc::raise(sig);
    }
    std::process::exit(128 + sig)
}

/// The conventional name and meaning of a signal that ended a worker.
pub fn signal_name(sig: i32) -> String {
    #[cfg(unix)]
    {
        let (name, what) = match sig {
            libc::SIGABRT => ("SIGABRT", "aborted"),
            libc::SIGSEGV => ("SIGSEGV", "invalid memory access"),
            libc::SIGBUS => ("SIGBUS", "bus error"),
            libc::SIGILL => ("SIGILL", "illegal instruction"),
            libc::SIGFPE => ("SIGFPE", "arithmetic error"),
            libc::SIGKILL => ("SIGKILL", "killed"),
            libc::SIGTERM => ("SIGTERM", "terminated"),
            libc::SIGINT => ("SIGINT", "interrupted"),
            libc::SIGPIPE => ("SIGPIPE", "broken pipe"),
            libc::SIGXCPU => ("SIGXCPU", "CPU time limit exceeded"),
            libc::SIGSYS => ("SIGSYS", "bad system call"),
            _ => return format!("signal {sig}"),
        };
        format!("signal {sig}, {name}: {what}")
    }
    #[cfg(not(unix))]
    format!("signal {sig}")
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn signals_are_named() {
        assert_eq!(signal_name(libc::SIGSEGV), "signal 11, SIGSEGV: invalid memory access");
        assert_eq!(signal_name(libc::SIGABRT), "signal 6, SIGABRT: aborted");
        assert_eq!(signal_name(77), "signal 77");
    }
}
