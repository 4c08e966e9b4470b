//! The dataset: the one JSON document plantrace writes (SPEC §2).
//!
//! These types are the contract with every user of the output. The JSON Schema
//! printed by `plantrace schema` and written beside every dataset is generated
//! from them, so the schema can never drift from what is actually written.
//! Field names follow SPEC §2; fields may be added, never renamed.

use std::borrow::Cow;
use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Version of the dataset layout. Bumped when a field changes meaning.
pub const SCHEMA_VERSION: &str = "1";

/// The whole dataset of one run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Dataset {
    pub schema_version: String,
    pub documents: Vec<Document>,
    pub milestones: Vec<Milestone>,
    pub measures: Vec<Measure>,
    pub scorecard_keys: Vec<KeyEntry>,
    /// Milestones reconciled across plan years.
    pub series: Vec<Series>,
    /// Measures reconciled across periods.
    pub measure_series: Vec<MeasureSeries>,
    /// Documents that could not be processed, with the reason.
    pub errors: Vec<DocumentError>,
}

/// File format of a document, decided from its bytes (not its name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Pdf,
    Docx,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Pdf => "pdf",
            Format::Docx => "docx",
        }
    }
}

/// What kind of document this is, decided from its content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DocKind {
    MilestoneTracker,
    PerformanceReport,
    CabinetReport,
    Timeline,
    Narrative,
    Unknown,
}

/// One input document that was read (successfully or with warnings).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Document {
    /// Stable id derived from the document's bytes.
    pub id: String,
    /// The path as given on the command line (relative where it was relative).
    pub path: String,
    pub sha256: String,
    pub format: Format,
    pub kind: DocKind,
    pub title: Option<String>,
    /// Plan year in `2021/22` form, or null.
    pub plan_year: Option<String>,
    /// Date of the progress position if the document states one (ISO partial date).
    pub as_of: Option<String>,
    /// Reporting period of performance data, e.g. `2016/17 Q2`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
    /// Page count (PDF only).
    pub pages: Option<u32>,
    /// Everything that was seen but not understood, with where it was.
    pub warnings: Vec<String>,
}

/// Whether a milestone belongs to the plan proper or to the actions carried
/// over from an earlier plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    Main,
    CarriedOver,
}

/// One row of a milestone tracker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Milestone {
    pub id: String,
    pub document_id: String,
    pub plan_year: Option<String>,
    pub section: Section,
    /// Theme as printed, tidied.
    pub theme: Option<String>,
    /// Canonical theme from `rules/themes.toml`.
    pub theme_key: Option<String>,
    pub outcome: Option<String>,
    pub activity: Option<String>,
    /// The milestone text: one string, line breaks and hyphenation repaired.
    pub action: String,
    pub target: TargetDate,
    pub status: MilestoneStatusValue,
    pub rationale: Option<String>,
    /// Printed reference of the row, where the tracker has a Ref column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#ref: Option<String>,
    /// Lead officer or service, where the tracker has such a column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lead: Option<String>,
    /// Columns the tracker has that no rule maps to a field, by header text.
    /// Kept so that nothing printed is dropped silently.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, String>,
    pub provenance: Provenance,
}

/// A target date as printed and as understood (SPEC §3).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TargetDate {
    pub raw: Option<String>,
    /// ISO partial date (`YYYY-MM` or `YYYY-MM-DD`).
    pub start: Option<String>,
    pub end: Option<String>,
    /// The revised target as printed, when the cell gives an original and a revised date.
    pub revised_raw: Option<String>,
    pub revised_end: Option<String>,
    pub ongoing: bool,
}

/// Canonical milestone status (SPEC §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MilestoneStatus {
    Complete,
    OnTrack,
    Delayed,
    OffTrack,
    NotStarted,
    NotApplicable,
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MilestoneStatusValue {
    /// The status as printed.
    pub raw: Option<String>,
    pub canonical: MilestoneStatus,
}

/// Where a record came from, so an archivist can find it in the original.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Provenance {
    /// PDF: first page of the row (1-based) and its bounding box in PDF points
    /// `[x0, y0, x1, y1]`, origin bottom-left as in PDF user space.
    Pdf { page: u32, bbox: [f64; 4] },
    /// DOCX: table index in the body (0-based) and grid row within the table (0-based).
    Docx { table: u32, row: u32 },
    /// A measure cited in a paragraph of narrative text.
    Paragraph {
        paragraph: u32,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        page: Option<u32>,
    },
}

/// Canonical measure status (SPEC §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MeasureStatus {
    OnTarget,
    NearTarget,
    OffTarget,
    NotAssessed,
    NotApplicable,
    UnderDevelopment,
}

/// Canonical direction of travel (SPEC §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Improved,
    Stable,
    Declined,
    NotApplicable,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    Monthly,
    Quarterly,
    Termly,
    SixMonthly,
    Annual,
    Biennial,
}

/// Whether a higher or a lower value is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GoodIs {
    High,
    Low,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MeasureSource {
    Scorecard,
    Narrative,
}

/// A number as printed and as understood.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Quantity {
    pub raw: String,
    pub number: Option<f64>,
    /// `%`, `£`, `days`, `count`, `rate_per_10k`, …
    pub unit: Option<String>,
}

/// A symbol as stored in the document and the glyph it draws.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub struct Symbol {
    /// The character(s) as stored (e.g. `é`, or `\u{F0E9}` for a Private Use Area code).
    pub text: String,
    /// The font it is set in, when known (e.g. `Wingdings`).
    pub font: Option<String>,
    /// The Unicode glyph it draws, when the font's table knows it (e.g. `🡹`).
    pub unicode: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MeasureStatusValue {
    pub symbol: Option<Symbol>,
    pub canonical: Option<MeasureStatus>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DirectionValue {
    pub symbol: Option<Symbol>,
    pub canonical: Option<Direction>,
}

/// One performance measure: a scorecard row, or a measure cited in narrative.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Measure {
    pub id: String,
    pub document_id: String,
    /// Normalised reference, e.g. `1.A3`, `3.B4(b)`.
    pub r#ref: Option<String>,
    pub title: Option<String>,
    pub priority: Option<u32>,
    pub outcome_code: Option<String>,
    pub priority_measure: bool,
    pub frequency: Option<Frequency>,
    pub good_is: Option<GoodIs>,
    pub period: Option<String>,
    pub target: Option<Quantity>,
    pub value: Option<Quantity>,
    pub status: MeasureStatusValue,
    pub direction: DirectionValue,
    pub source: MeasureSource,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, String>,
    pub provenance: Provenance,
}

/// Which legend a key entry belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum KeyKind {
    MeasureStatus,
    Direction,
    MilestoneStatus,
}

/// One line of a scorecard key: a symbol and what it means in this document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct KeyEntry {
    pub document_id: String,
    /// Index of the key (legend) within the document: keys of one document stay
    /// apart even when they reuse a glyph.
    pub key: u32,
    pub kind: KeyKind,
    /// Null when the key row's symbol is blank or was lost.
    pub symbol: Option<Symbol>,
    pub label: String,
    /// Canonical meaning (a value of the vocabulary of `kind`), or null when the
    /// label's wording matched no rule.
    pub canonical: Option<String>,
    pub provenance: Provenance,
}

/// How a link between two records was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Score above the high threshold and the runner-up well behind.
    Auto,
    /// Score in the review band: a person should confirm.
    Review,
    /// Decided by an override rule (`rules/overrides.toml`).
    Manual,
}

/// Why a member joined its series: the link to its predecessor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Link {
    /// The member this one continues.
    pub from: String,
    /// In a proposal only: the milestone (in another series) that may
    /// continue `from`, as a split or merge for review.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    pub score: f64,
    pub decision: Decision,
    /// Each feature's contribution to the score.
    // The names are the reconciler's own: borrowed, not allocated per link.
    pub features: BTreeMap<Cow<'static, str>, f64>,
    /// The best competing candidate, when there was one.
    pub runner_up: Option<RunnerUp>,
    /// Free-text reason, e.g. the override rule that decided it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RunnerUp {
    pub id: String,
    pub score: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SeriesMember {
    pub milestone_id: String,
    pub plan_year: Option<String>,
    /// Score of the link that brought this member in (1.0 for the first member).
    pub score: f64,
    pub decision: Decision,
    /// The link to the previous member; null for the first member.
    pub link: Option<Link>,
    /// Why an override shaped this member, e.g. the `cannot_link` rule that
    /// kept it apart from a candidate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StatusPoint {
    pub plan_year: Option<String>,
    pub as_of: Option<String>,
    pub status: MilestoneStatus,
}

/// One action followed across plan years.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Series {
    pub id: String,
    pub theme_key: Option<String>,
    /// Latest wording of the action.
    pub title: String,
    pub members: Vec<SeriesMember>,
    pub status_history: Vec<StatusPoint>,
    /// Links proposed but not made: a possible split or merge, always for review.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub proposals: Vec<Link>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MeasureSeriesMember {
    pub measure_id: String,
    pub period: Option<String>,
    pub score: f64,
    pub decision: Decision,
    pub link: Option<Link>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MeasurePoint {
    pub period: Option<String>,
    pub value: Option<f64>,
    pub status: Option<MeasureStatus>,
    pub direction: Option<Direction>,
}

/// One measure followed across periods.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MeasureSeries {
    pub id: String,
    pub r#ref: Option<String>,
    pub title: Option<String>,
    pub members: Vec<MeasureSeriesMember>,
    pub history: Vec<MeasurePoint>,
}

/// Why a document could not be processed (SPEC §2, §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    Unreadable,
    Encrypted,
    NoTextLayer,
    Corrupt,
    TooLarge,
    Timeout,
    ParserCrash,
    Unsupported,
}

impl std::fmt::Display for ErrorKind {
    /// The kind as the dataset spells it (`parser_crash`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = serde_json::to_value(self).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
        f.write_str(&s)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DocumentError {
    pub path: String,
    pub kind: ErrorKind,
    /// A sentence a person can act on.
    pub message: String,
}

/// The JSON Schema of [`Dataset`], generated from the types above.
pub fn dataset_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(Dataset);
    serde_json::to_value(schema).unwrap_or(serde_json::Value::Null)
}
