//! A testing aid: make a worker fail on purpose, the ways real parsers fail,
//! so the supervisor's handling of each can be tested deterministically.
//!
//! `PLANTRACE_TEST_FAULT=KIND:TEXT[,KIND:TEXT...]` makes a worker fail with
//! KIND on every document whose path contains TEXT:
//!
//! | KIND | what the worker does |
//! |---|---|
//! | `panic` | panics (inside plantrace's own code) |
//! | `abort` | aborts the process (SIGABRT), as a C library might |
//! | `stack` | recurses until its stack overflows |
//! | `loop` | loops for ever |
//! | `alloc` | allocates without bound (until `--max-memory` stops it) |
//!
//! Only worker processes read it; `--in-process` runs ignore it (those
//! faults would take the whole run down, which is the point of workers).
//! Real malformed files that do the same are in `fixtures/bad/`.

/// The environment variable read by workers.
pub const VAR: &str = "PLANTRACE_TEST_FAULT";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Panic,
    Abort,
    Stack,
    Loop,
    Alloc,
}

/// The faults asked for, each with the path text that triggers it.
#[derive(Debug, Default)]
pub struct Faults(Vec<(Kind, String)>);

impl Faults {
    pub fn from_env() -> Faults {
        std::env::var(VAR).map(|v| Faults::parse(&v)).unwrap_or_default()
    }

    fn parse(spec: &str) -> Faults {
        let mut out = Vec::new();
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let Some((kind, text)) = item.split_once(':') else {
                eprintln!("plantrace __worker: ignoring {VAR} item {item:?} (expected KIND:TEXT)");
                continue;
            };
            let kind = match kind {
                "panic" => Kind::Panic,
                "abort" => Kind::Abort,
                "stack" => Kind::Stack,
                "loop" => Kind::Loop,
                "alloc" => Kind::Alloc,
                other => {
                    eprintln!("plantrace __worker: ignoring unknown {VAR} kind {other:?}");
                    continue;
                }
            };
            out.push((kind, text.to_string()));
        }
        Faults(out)
    }

    /// Fail now if `path` asks for it.
    pub fn trigger(&self, path: &str) {
        let Some(&(kind, _)) = self.0.iter().find(|(_, text)| path.contains(text.as_str())) else {
            return;
        };
        match kind {
            Kind::Panic => panic!("{VAR}: panic on purpose"),
            Kind::Abort => std::process::abort(),
            Kind::Stack => {
                std::hint::black_box(recurse(std::hint::black_box(1)));
            }
            Kind::Loop => loop {
                std::hint::black_box(0u64);
            },
            Kind::Alloc => {
                // Reserve address space in 64 MiB blocks until the worker's
                // memory limit refuses one (calloc'd: the pages are never
                // touched, so the machine never really fills up).
                let mut blocks: Vec<Vec<u8>> = Vec::new();
                loop {
                    blocks.push(std::hint::black_box(vec![0u8; 64 << 20]));
                }
            }
        }
    }
}

/// Unbounded recursion with a frame the optimiser cannot remove (the
/// condition is never false, but the compiler cannot know that).
#[inline(never)]
fn recurse(n: u64) -> u64 {
    let pad = std::hint::black_box([n; 64]);
    if std::hint::black_box(pad[0]) == u64::MAX {
        return 0;
    }
    recurse(pad[(n % 64) as usize].wrapping_add(1)).wrapping_add(pad[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spec_is_a_list_of_kind_and_text() {
        let f = Faults::parse("panic:a.pdf, loop:b.pdf,bogus,nope:c");
        assert_eq!(f.0, vec![(Kind::Panic, "a.pdf".to_string()), (Kind::Loop, "b.pdf".to_string())]);
        // No match: nothing happens.
        f.trigger("reports/c.pdf");
    }
}
