//! Helpers shared by the integration tests: run the real binary, read what it
//! wrote.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_plantrace"));
    c.current_dir(root());
    c
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixtures() -> PathBuf {
    root().join("fixtures")
}

/// Run `plantrace run` on `inputs` into `out`, with extra args.
pub fn run(inputs: &[&Path], out: &Path, extra: &[&str]) -> Output {
    let mut c = bin();
    c.arg("run");
    for i in inputs {
        c.arg(i);
    }
    c.arg("--out").arg(out).arg("--quiet").args(extra);
    c.output().expect("the plantrace binary runs")
}

pub fn read_json(path: &Path) -> serde_json::Value {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// Run the bundled fixtures once per test binary and share the result.
pub fn fixture_dataset() -> &'static (PathBuf, serde_json::Value) {
    use std::sync::OnceLock;
    static DS: OnceLock<(PathBuf, serde_json::Value)> = OnceLock::new();
    DS.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("plantrace-fixtures-{}", std::process::id()));
        let o = run(&[&fixtures().join("reports")], &dir, &[]);
        assert!(o.status.success(), "run on fixtures failed: {}", stderr(&o));
        let path = dir.join("dataset.json");
        let value = read_json(&path);
        (path, value)
    })
}

/// Run `plantrace run` on `inputs` into `out`, with extra args and
/// environment variables.
pub fn run_env(inputs: &[&Path], out: &Path, extra: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = bin();
    c.arg("run");
    for i in inputs {
        c.arg(i);
    }
    c.arg("--out").arg(out).arg("--quiet").args(extra);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("the plantrace binary runs")
}

/// The process ids whose parent is `pid` (Linux: from /proc).
pub fn children_of(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else { return out };
    for e in entries.flatten() {
        let Some(child) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else { continue };
        // "pid (comm) state ppid ...": comm may hold spaces, so split after ')'.
        let ppid = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok());
        if ppid == Some(pid) {
            out.push(child);
        }
    }
    out
}

/// Whether a process exists and is not a zombie (Linux: from /proc).
pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(')').map(|(_, rest)| !rest.trim_start().starts_with('Z')))
        .unwrap_or(false)
}
