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
