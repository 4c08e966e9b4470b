//! The `rules/` folder: everything plantrace knows about wording.
//!
//! Each file is plain, commented TOML that an archivist can edit to teach the
//! tool next year's wording without a rebuild. This module defines the typed
//! shape of every file, loads and validates them, and reports any mistake as
//! `file:line:column: what is wrong`, before a single document is read.

pub mod phrases;

mod files;

use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

pub use files::*;
pub use phrases::{normalise, PhraseEntry, PhraseTable};

/// A mistake in a rules file, located to the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulesError {
    pub file: PathBuf,
    /// 1-based line, 0 when the error is about the file as a whole.
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl RulesError {
    /// An error at byte offset `offset` of `src`.
    pub fn at(file: &str, src: &str, offset: usize, message: impl Into<String>) -> RulesError {
        let (line, column) = line_col(src, offset);
        RulesError { file: PathBuf::from(file), line, column, message: message.into() }
    }

    fn whole_file(file: impl Into<PathBuf>, message: impl Into<String>) -> RulesError {
        RulesError { file: file.into(), line: 0, column: 0, message: message.into() }
    }
}

impl fmt::Display for RulesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}:{}: {}", self.file.display(), self.line, self.column, self.message)
        } else {
            write!(f, "{}: {}", self.file.display(), self.message)
        }
    }
}

impl std::error::Error for RulesError {}

fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let before = &src.as_bytes()[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
    let column = String::from_utf8_lossy(&before[line_start..]).chars().count() + 1;
    (line, column)
}

/// Where the rules come from.
#[derive(Debug, Clone)]
pub enum RulesSource {
    /// A folder of `.toml` files.
    Dir(PathBuf),
    /// The copy of the project's `rules/` compiled into the binary.
    Builtin,
}

impl fmt::Display for RulesSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RulesSource::Dir(d) => write!(f, "{}", d.display()),
            RulesSource::Builtin => write!(f, "built-in rules"),
        }
    }
}

/// The rules files compiled into the binary, used when no `rules/` folder is
/// found, so an installed binary works anywhere.
const BUILTIN: &[(&str, &str)] = &[
    ("columns.toml", include_str!("../../rules/columns.toml")),
    ("statuses.toml", include_str!("../../rules/statuses.toml")),
    ("keys.toml", include_str!("../../rules/keys.toml")),
    ("themes.toml", include_str!("../../rules/themes.toml")),
    ("dates.toml", include_str!("../../rules/dates.toml")),
    ("document.toml", include_str!("../../rules/document.toml")),
    ("measures.toml", include_str!("../../rules/measures.toml")),
    ("symbols.toml", include_str!("../../rules/symbols.toml")),
    ("reconcile.toml", include_str!("../../rules/reconcile.toml")),
    ("overrides.toml", include_str!("../../rules/overrides.toml")),
];

/// Reads one rules file, from a folder or from the built-in copy.
struct Loader {
    source: RulesSource,
}

impl Loader {
    fn read(&self, name: &str) -> Result<(String, String), RulesError> {
        match &self.source {
            RulesSource::Dir(dir) => {
                let path = dir.join(name);
                let display = path.display().to_string();
                match std::fs::read_to_string(&path) {
                    Ok(src) => Ok((display, src)),
                    Err(e) => Err(RulesError::whole_file(
                        path,
                        format!("cannot read this rules file ({e}); every file of the project's rules/ folder must be present"),
                    )),
                }
            }
            RulesSource::Builtin => BUILTIN
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(n, s)| (format!("<built-in>/{n}"), s.to_string()))
                .ok_or_else(|| RulesError::whole_file(name, "no built-in copy of this rules file")),
        }
    }

    fn parse<T: DeserializeOwned>(&self, name: &str) -> Result<(T, String, String), RulesError> {
        let (file, src) = self.read(name)?;
        match toml::from_str::<T>(&src) {
            Ok(value) => Ok((value, file, src)),
            Err(e) => {
                let offset = e.span().map_or(0, |s| s.start);
                let message = e.message().trim().to_string();
                Err(RulesError::at(&file, &src, offset, message))
            }
        }
    }
}

/// All rules, loaded and compiled.
#[derive(Debug, Clone)]
pub struct Rules {
    pub source: RulesSource,
    pub columns: Columns,
    pub statuses: Statuses,
    pub keys: Keys,
    pub themes: Themes,
    pub dates: Dates,
    pub document: DocumentRules,
    pub measures: MeasureRules,
    pub symbols: Symbols,
    pub reconcile: Reconcile,
    pub overrides: Overrides,
}

impl Rules {
    /// Load the rules from `dir`, or from `./rules` when it exists, or the
    /// built-in copy.
    pub fn load(dir: Option<&Path>) -> Result<Rules, RulesError> {
        let source = match dir {
            Some(d) => {
                if !d.is_dir() {
                    return Err(RulesError::whole_file(
                        d,
                        "the rules folder does not exist or is not a folder; give --rules the path of a folder like the project's rules/",
                    ));
                }
                RulesSource::Dir(d.to_path_buf())
            }
            None if Path::new("rules").join("statuses.toml").is_file() => RulesSource::Dir(PathBuf::from("rules")),
            None => RulesSource::Builtin,
        };
        Self::from_source(source)
    }

    /// The rules compiled into the binary.
    pub fn builtin() -> Result<Rules, RulesError> {
        Self::from_source(RulesSource::Builtin)
    }

    fn from_source(source: RulesSource) -> Result<Rules, RulesError> {
        let loader = Loader { source: source.clone() };
        macro_rules! load {
            ($name:literal, $raw:ty) => {{
                let (raw, file, src): ($raw, String, String) = loader.parse($name)?;
                raw.compile(&file, &src)?
            }};
        }
        Ok(Rules {
            source,
            columns: load!("columns.toml", ColumnsFile),
            statuses: load!("statuses.toml", StatusesFile),
            keys: load!("keys.toml", KeysFile),
            themes: load!("themes.toml", ThemesFile),
            dates: load!("dates.toml", DatesFile),
            document: load!("document.toml", DocumentFile),
            measures: load!("measures.toml", MeasuresFile),
            symbols: load!("symbols.toml", SymbolsFile),
            reconcile: load!("reconcile.toml", ReconcileFile),
            overrides: load!("overrides.toml", OverridesFile),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rules_load() {
        let rules = Rules::builtin().unwrap_or_else(|e| panic!("{e}"));
        assert!(!rules.statuses.milestone.is_empty());
    }

    #[test]
    fn line_col_counts_from_one() {
        assert_eq!(line_col("a\nbc\nd", 0), (1, 1));
        assert_eq!(line_col("a\nbc\nd", 3), (2, 2));
        assert_eq!(line_col("a\nbc\nd", 5), (3, 1));
    }

    #[test]
    fn every_project_rules_file_is_built_in() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules");
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().to_string();
            if name.ends_with(".toml") {
                assert!(BUILTIN.iter().any(|(n, _)| *n == name), "{name} is missing from BUILTIN");
            }
        }
    }
}
