//! The typed shape of each rules file and its compiled form.
//!
//! Each `*File` struct is exactly what the TOML file may contain (unknown keys
//! are errors, so a misspelt key is reported rather than ignored); `compile`
//! checks what serde cannot (regular expressions, references between
//! entries, value ranges) and builds the form the pipeline uses.

use std::collections::{BTreeMap, HashMap};

use regex::Regex;
use serde::Deserialize;
use toml::Spanned;

use super::phrases::{normalise, PhraseEntry, PhraseTable};
use super::RulesError;
use crate::model::{Direction, DocKind, Frequency, GoodIs, KeyKind, MeasureStatus, MilestoneStatus};

fn compile_regexes(list: &[Spanned<String>], file: &str, src: &str) -> Result<Vec<Regex>, RulesError> {
    list.iter()
        .map(|p| {
            Regex::new(p.get_ref())
                .map_err(|e| RulesError::at(file, src, p.span().start, format!("invalid regular expression: {e}")))
        })
        .collect()
}

fn phrase_list(list: &[String]) -> Vec<String> {
    let mut v: Vec<String> = list.iter().map(|s| normalise(s)).filter(|s| !s.is_empty()).collect();
    v.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    v
}

// ---------------------------------------------------------------- columns.toml

/// Roles of the columns of a milestone tracker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MilestoneColumn {
    Outcome,
    Action,
    Target,
    Status,
    Rationale,
    Ref,
    Lead,
}

/// Roles of the columns of a performance scorecard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeasureColumn {
    Ref,
    Title,
    GoodIs,
    Frequency,
    Target,
    Value,
    Status,
    Direction,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnsFile {
    milestone: Vec<PhraseEntry<MilestoneColumn>>,
    measure: Vec<PhraseEntry<MeasureColumn>>,
}

/// Column-header synonyms.
#[derive(Debug, Clone)]
pub struct Columns {
    pub milestone: PhraseTable<MilestoneColumn>,
    pub measure: PhraseTable<MeasureColumn>,
}

impl ColumnsFile {
    pub fn compile(self, file: &str, src: &str) -> Result<Columns, RulesError> {
        Ok(Columns {
            milestone: PhraseTable::compile(&self.milestone, file, src)?,
            measure: PhraseTable::compile(&self.measure, file, src)?,
        })
    }
}

impl Columns {
    /// The role of a milestone-tracker column from its header text.
    pub fn milestone_role(&self, header: &str) -> Option<MilestoneColumn> {
        self.milestone.exact(header).or_else(|| self.milestone.longest_within(header))
    }

    /// The role of a scorecard column from its header text.
    pub fn measure_role(&self, header: &str) -> Option<MeasureColumn> {
        self.measure.exact(header).or_else(|| self.measure.longest_within(header))
    }
}

// --------------------------------------------------------------- statuses.toml

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusesFile {
    milestone: Vec<PhraseEntry<MilestoneStatus>>,
    #[serde(default)]
    measure: Vec<PhraseEntry<MeasureStatus>>,
    #[serde(default)]
    direction: Vec<PhraseEntry<Direction>>,
}

/// Printed status words → canonical statuses.
#[derive(Debug, Clone)]
pub struct Statuses {
    pub milestone: PhraseTable<MilestoneStatus>,
    pub measure: PhraseTable<MeasureStatus>,
    pub direction: PhraseTable<Direction>,
}

impl StatusesFile {
    pub fn compile(self, file: &str, src: &str) -> Result<Statuses, RulesError> {
        Ok(Statuses {
            milestone: PhraseTable::compile(&self.milestone, file, src)?,
            measure: PhraseTable::compile(&self.measure, file, src)?,
            direction: PhraseTable::compile(&self.direction, file, src)?,
        })
    }
}

// ------------------------------------------------------------------- keys.toml

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeysFile {
    titles: Vec<PhraseEntry<KeyKind>>,
    measure_status: Vec<PhraseEntry<MeasureStatus>>,
    direction: Vec<PhraseEntry<Direction>>,
    milestone_status: Vec<PhraseEntry<MilestoneStatus>>,
    #[serde(default)]
    default_measure_status: Vec<GlyphDefault<MeasureStatus>>,
    #[serde(default)]
    default_direction: Vec<GlyphDefault<Direction>>,
}

/// Glyphs that mean `canonical` in a document that has no key.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GlyphDefault<C> {
    pub canonical: C,
    pub glyphs: Vec<String>,
}

/// Scorecard-key wording: which legend a heading introduces, and what each
/// label means.
#[derive(Debug, Clone)]
pub struct Keys {
    pub titles: PhraseTable<KeyKind>,
    pub measure_status: PhraseTable<MeasureStatus>,
    pub direction: PhraseTable<Direction>,
    pub milestone_status: PhraseTable<MilestoneStatus>,
    pub default_measure_status: Vec<GlyphDefault<MeasureStatus>>,
    pub default_direction: Vec<GlyphDefault<Direction>>,
}

impl KeysFile {
    pub fn compile(self, file: &str, src: &str) -> Result<Keys, RulesError> {
        Ok(Keys {
            titles: PhraseTable::compile(&self.titles, file, src)?,
            measure_status: PhraseTable::compile(&self.measure_status, file, src)?,
            direction: PhraseTable::compile(&self.direction, file, src)?,
            milestone_status: PhraseTable::compile(&self.milestone_status, file, src)?,
            default_measure_status: self.default_measure_status,
            default_direction: self.default_direction,
        })
    }
}

impl Keys {
    /// Canonical meaning of a key label, as the vocabulary value of `kind`.
    pub fn label_canonical(&self, kind: KeyKind, label: &str) -> Option<String> {
        let as_str = |v: serde_json::Value| v.as_str().map(String::from);
        match kind {
            KeyKind::MeasureStatus => {
                self.measure_status.longest_within(label).and_then(|c| serde_json::to_value(c).ok()).and_then(as_str)
            }
            KeyKind::Direction => {
                self.direction.longest_within(label).and_then(|c| serde_json::to_value(c).ok()).and_then(as_str)
            }
            KeyKind::MilestoneStatus => {
                self.milestone_status.longest_within(label).and_then(|c| serde_json::to_value(c).ok()).and_then(as_str)
            }
        }
    }
}

// ----------------------------------------------------------------- themes.toml

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThemesFile {
    theme: Vec<ThemeEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeEntry {
    key: Spanned<String>,
    name: String,
    #[serde(default)]
    aliases: Vec<String>,
    /// Keys of themes whose actions may have moved here in a reorganisation.
    #[serde(default)]
    related: Vec<Spanned<String>>,
}

/// One canonical theme.
#[derive(Debug, Clone)]
pub struct Theme {
    pub key: String,
    pub name: String,
    pub related: Vec<String>,
}

/// Theme aliases → canonical theme keys, and the crosswalk between themes.
#[derive(Debug, Clone)]
pub struct Themes {
    pub themes: Vec<Theme>,
    table: PhraseTable<String>,
}

impl ThemesFile {
    pub fn compile(self, file: &str, src: &str) -> Result<Themes, RulesError> {
        let mut seen: HashMap<String, ()> = HashMap::new();
        let valid_key =
            Regex::new("^[a-z0-9]+(-[a-z0-9]+)*$").map_err(|e| RulesError::at(file, src, 0, e.to_string()))?;
        for t in &self.theme {
            if !valid_key.is_match(t.key.get_ref()) {
                return Err(RulesError::at(
                    file,
                    src,
                    t.key.span().start,
                    format!(
                        "theme key {:?} must be lower-case words joined by hyphens, e.g. \"thriving-neighbourhoods\"",
                        t.key.get_ref()
                    ),
                ));
            }
            if seen.insert(t.key.get_ref().clone(), ()).is_some() {
                return Err(RulesError::at(
                    file,
                    src,
                    t.key.span().start,
                    format!("theme key {:?} is defined twice", t.key.get_ref()),
                ));
            }
        }
        let mut entries = Vec::new();
        let mut themes = Vec::new();
        for t in &self.theme {
            for r in &t.related {
                if !seen.contains_key(r.get_ref()) {
                    return Err(RulesError::at(
                        file,
                        src,
                        r.span().start,
                        format!("related theme {:?} is not a theme key in this file", r.get_ref()),
                    ));
                }
            }
            let mut phrases = t.aliases.clone();
            phrases.push(t.name.clone());
            phrases.push(t.key.get_ref().replace('-', " "));
            entries.push(PhraseEntry { canonical: t.key.get_ref().clone(), phrases, patterns: vec![] });
            themes.push(Theme {
                key: t.key.get_ref().clone(),
                name: t.name.clone(),
                related: t.related.iter().map(|r| r.get_ref().clone()).collect(),
            });
        }
        Ok(Themes { themes, table: PhraseTable::compile(&entries, file, src)? })
    }
}

impl Themes {
    /// The canonical key of a printed theme name.
    pub fn key_for(&self, printed: &str) -> Option<String> {
        self.table.exact(printed).or_else(|| self.table.longest_within(printed))
    }

    /// Whether actions may move between these two themes (same theme, or
    /// related either way in the crosswalk).
    pub fn related(&self, a: &str, b: &str) -> bool {
        a == b
            || self.themes.iter().any(|t| {
                (t.key == a && t.related.iter().any(|r| r == b)) || (t.key == b && t.related.iter().any(|r| r == a))
            })
    }
}

// ------------------------------------------------------------------ dates.toml

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatesFile {
    months: BTreeMap<String, Spanned<u32>>,
    seasons: BTreeMap<String, SeasonSpan>,
    ongoing: Vec<String>,
    original: Vec<String>,
    revised: Vec<String>,
    from: Vec<String>,
    #[serde(default)]
    filler: Vec<String>,
    #[serde(default)]
    quarter_words: Vec<String>,
    #[serde(default)]
    range_words: Vec<String>,
    #[serde(default)]
    list_words: Vec<String>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeasonSpan {
    pub start: u32,
    pub end: u32,
}

/// Date vocabulary (SPEC §3): month names, seasons, and the phrases that mark
/// ongoing, original/revised and open-ended targets.
#[derive(Debug, Clone)]
pub struct Dates {
    pub months: HashMap<String, u32>,
    pub seasons: HashMap<String, SeasonSpan>,
    /// Normalised phrases, longest first.
    pub ongoing: Vec<String>,
    pub original: Vec<String>,
    pub revised: Vec<String>,
    pub from: Vec<String>,
    pub filler: Vec<String>,
    pub quarter_words: Vec<String>,
    /// Words joining the ends of a range, normalised.
    pub range_words: Vec<String>,
    /// Words listing alternatives, normalised.
    pub list_words: Vec<String>,
    /// The phrase lists above as case-insensitive regular expressions over
    /// printed text, words separated by any punctuation or line break.
    pub original_re: Regex,
    pub revised_re: Regex,
    pub ongoing_re: Regex,
    pub from_re: Regex,
}

/// A regular expression matching any of `phrases` (normalised) as whole
/// words in printed text, allowing any non-word characters between words.
fn phrases_regex(phrases: &[String], file: &str, src: &str) -> Result<Regex, RulesError> {
    let alts: Vec<String> =
        phrases.iter().map(|p| p.split(' ').map(regex::escape).collect::<Vec<_>>().join(r"[\W_]+")).collect();
    let pattern = if alts.is_empty() { r"\b\B".to_string() } else { format!(r"(?i)\b(?:{})\b", alts.join("|")) };
    Regex::new(&pattern)
        .map_err(|e| RulesError::at(file, src, 0, format!("cannot build a pattern from the phrases: {e}")))
}

impl DatesFile {
    pub fn compile(self, file: &str, src: &str) -> Result<Dates, RulesError> {
        let mut months = HashMap::new();
        for (name, n) in &self.months {
            if !(1..=12).contains(n.get_ref()) {
                return Err(RulesError::at(
                    file,
                    src,
                    n.span().start,
                    format!("month {name:?} must be a number from 1 to 12"),
                ));
            }
            months.insert(normalise(name), *n.get_ref());
        }
        let mut seasons = HashMap::new();
        for (name, span) in &self.seasons {
            if !(1..=12).contains(&span.start) || !(1..=12).contains(&span.end) {
                let at = src.find(name.as_str()).unwrap_or(0);
                return Err(RulesError::at(
                    file,
                    src,
                    at,
                    format!("season {name:?}: start and end must be months 1 to 12"),
                ));
            }
            seasons.insert(normalise(name), *span);
        }
        let ongoing = phrase_list(&self.ongoing);
        let original = phrase_list(&self.original);
        let revised = phrase_list(&self.revised);
        let from = phrase_list(&self.from);
        Ok(Dates {
            months,
            seasons,
            original_re: phrases_regex(&original, file, src)?,
            revised_re: phrases_regex(&revised, file, src)?,
            ongoing_re: phrases_regex(&ongoing, file, src)?,
            from_re: phrases_regex(&from, file, src)?,
            ongoing,
            original,
            revised,
            from,
            filler: phrase_list(&self.filler),
            quarter_words: phrase_list(&self.quarter_words),
            range_words: phrase_list(&self.range_words),
            list_words: phrase_list(&self.list_words),
        })
    }
}

// --------------------------------------------------------------- document.toml

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocumentFile {
    kind: Vec<KindSignalEntry>,
    carried_over: Vec<String>,
    #[serde(default)]
    plan_year: Vec<Spanned<String>>,
    #[serde(default)]
    as_of: Vec<Spanned<String>>,
    #[serde(default)]
    period: Vec<Spanned<String>>,
    #[serde(default)]
    noise: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KindSignalEntry {
    kind: DocKind,
    #[serde(default = "one")]
    weight: f64,
    phrases: Vec<String>,
}

fn one() -> f64 {
    1.0
}

/// A phrase whose presence in a document's text is evidence of its kind.
#[derive(Debug, Clone)]
pub struct KindSignal {
    pub kind: DocKind,
    pub weight: f64,
    pub phrases: Vec<String>,
}

/// Document-level wording: kind signals, section markers, plan-year and
/// as-of patterns, and lines that are page furniture.
#[derive(Debug, Clone)]
pub struct DocumentRules {
    pub kinds: Vec<KindSignal>,
    /// Normalised headings of carried-over sections, longest first.
    pub carried_over: Vec<String>,
    pub plan_year: Vec<Regex>,
    pub as_of: Vec<Regex>,
    pub period: Vec<Regex>,
    pub noise: Vec<Regex>,
}

impl DocumentFile {
    pub fn compile(self, file: &str, src: &str) -> Result<DocumentRules, RulesError> {
        let check_groups = |list: &[Spanned<String>], groups: &[&str], what: &str| -> Result<Vec<Regex>, RulesError> {
            let res = compile_regexes(list, file, src)?;
            for (re, spanned) in res.iter().zip(list) {
                for g in groups {
                    if !re.capture_names().flatten().any(|n| n == *g) {
                        return Err(RulesError::at(
                            file,
                            src,
                            spanned.span().start,
                            format!("{what} pattern must have a named group (?P<{g}>…)"),
                        ));
                    }
                }
            }
            Ok(res)
        };
        Ok(DocumentRules {
            kinds: self
                .kind
                .iter()
                .map(|k| KindSignal { kind: k.kind, weight: k.weight, phrases: phrase_list(&k.phrases) })
                .collect(),
            carried_over: phrase_list(&self.carried_over),
            plan_year: check_groups(&self.plan_year, &["y1", "y2"], "plan_year")?,
            as_of: check_groups(&self.as_of, &["date"], "as_of")?,
            period: check_groups(&self.period, &["q", "y1", "y2"], "period")?,
            noise: compile_regexes(&self.noise, file, src)?,
        })
    }
}

// --------------------------------------------------------------- measures.toml

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasuresFile {
    frequency: Vec<PhraseEntry<Frequency>>,
    good_is: Vec<PhraseEntry<GoodIs>>,
    units: Vec<PhraseEntry<String>>,
    priority_measure: Vec<String>,
    #[serde(default)]
    no_value: Vec<String>,
    ref_pattern: Spanned<String>,
    narrative: NarrativeFile,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NarrativeFile {
    ref_intro: Vec<Spanned<String>>,
    target: Vec<Spanned<String>>,
    #[serde(default)]
    not_level_before: Vec<String>,
    #[serde(default)]
    other_period_after: Vec<String>,
    quarter_mention: Spanned<String>,
    #[serde(default)]
    number_words: BTreeMap<String, u32>,
}

/// How measures cited in narrative text are recognised.
#[derive(Debug, Clone)]
pub struct NarrativeRules {
    pub ref_intro: Vec<Regex>,
    /// Patterns whose group `n` is a stated target.
    pub target: Vec<Regex>,
    /// Normalised words after which a figure is not a level.
    pub not_level_before: Vec<String>,
    /// Normalised phrases after which a figure belongs to another period.
    pub other_period_after: Vec<String>,
    /// A quarter named after a figure; group `n` is its number or word.
    pub quarter_mention: Regex,
    /// Number words ("two", "second") → numbers, lower-case.
    pub number_words: HashMap<String, u32>,
}

/// Scorecard wording: frequencies, polarity, units and priority markers.
#[derive(Debug, Clone)]
pub struct MeasureRules {
    pub frequency: PhraseTable<Frequency>,
    pub good_is: PhraseTable<GoodIs>,
    pub units: PhraseTable<String>,
    pub priority_measure: Vec<String>,
    /// The priority marker as printed, optionally in brackets, for removing
    /// it from titles.
    pub priority_marker: Regex,
    /// Cell texts that mean "no value" (n/a, tbc, …), normalised.
    pub no_value: Vec<String>,
    /// A measure reference, groups p, o, n and optional s.
    pub ref_pattern: Regex,
    pub narrative: NarrativeRules,
}

impl MeasuresFile {
    pub fn compile(self, file: &str, src: &str) -> Result<MeasureRules, RulesError> {
        let target = compile_regexes(&self.narrative.target, file, src)?;
        for (re, spanned) in target.iter().zip(&self.narrative.target) {
            if !re.capture_names().flatten().any(|n| n == "n") {
                return Err(RulesError::at(
                    file,
                    src,
                    spanned.span().start,
                    "narrative target pattern must have a named group (?P<n>…)",
                ));
            }
        }
        let ref_pattern = compile_regexes(std::slice::from_ref(&self.ref_pattern), file, src)?.remove(0);
        for g in ["p", "o", "n", "s"] {
            if !ref_pattern.capture_names().flatten().any(|n| n == g) {
                return Err(RulesError::at(
                    file,
                    src,
                    self.ref_pattern.span().start,
                    format!("ref_pattern must have a named group (?P<{g}>…)"),
                ));
            }
        }
        let priority_measure = phrase_list(&self.priority_measure);
        let marker = phrases_regex(&priority_measure, file, src)?;
        let priority_marker = Regex::new(&format!(r"\s*\(?{}\)?", marker.as_str()))
            .map_err(|e| RulesError::at(file, src, 0, format!("cannot build the priority marker pattern: {e}")))?;
        Ok(MeasureRules {
            ref_pattern,
            priority_marker,
            frequency: PhraseTable::compile(&self.frequency, file, src)?,
            good_is: PhraseTable::compile(&self.good_is, file, src)?,
            units: PhraseTable::compile(&self.units, file, src)?,
            priority_measure,
            no_value: phrase_list(&self.no_value),
            narrative: NarrativeRules {
                quarter_mention: {
                    let re =
                        compile_regexes(std::slice::from_ref(&self.narrative.quarter_mention), file, src)?.remove(0);
                    if !re.capture_names().flatten().any(|n| n == "n") {
                        return Err(RulesError::at(
                            file,
                            src,
                            self.narrative.quarter_mention.span().start,
                            "quarter_mention must have a named group (?P<n>…)",
                        ));
                    }
                    re
                },
                number_words: self.narrative.number_words.iter().map(|(k, v)| (k.to_lowercase(), *v)).collect(),
                ref_intro: compile_regexes(&self.narrative.ref_intro, file, src)?,
                target,
                not_level_before: phrase_list(&self.narrative.not_level_before),
                other_period_after: phrase_list(&self.narrative.other_period_after),
            },
        })
    }
}

// ---------------------------------------------------------------- symbols.toml

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SymbolsFile {
    font: Vec<FontEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FontEntry {
    name: Spanned<String>,
    #[serde(default)]
    aliases: Vec<String>,
    glyphs: BTreeMap<String, String>,
}

/// Symbol-font tables: which Unicode glyph each code of a symbol font draws.
#[derive(Debug, Clone, Default)]
pub struct Symbols {
    /// Canonical font name by normalised name or alias.
    names: HashMap<String, String>,
    /// Glyph table by canonical font name, indexed by the low byte of the code.
    tables: HashMap<String, Vec<Option<String>>>,
}

/// Font names compared without case, spaces, hyphens, a subset prefix
/// (`ABCDEF+Wingdings`) or a style suffix (`,Regular`).
pub fn font_key(name: &str) -> String {
    let name = match name.split_once('+') {
        Some((prefix, rest)) if prefix.len() == 6 && prefix.chars().all(|c| c.is_ascii_uppercase()) => rest,
        _ => name,
    };
    let name = name.split(',').next().unwrap_or(name);
    name.chars().filter(|c| c.is_alphanumeric()).flat_map(|c| c.to_lowercase()).collect()
}

impl SymbolsFile {
    pub fn compile(self, file: &str, src: &str) -> Result<Symbols, RulesError> {
        let mut names = HashMap::new();
        let mut tables = HashMap::new();
        for font in &self.font {
            let canonical = font.name.get_ref().clone();
            let mut table = vec![None; 256];
            for (code, glyph) in &font.glyphs {
                let at = src[font.name.span().start..]
                    .find(&format!("\"{code}\""))
                    .map_or(font.name.span().start, |p| p + font.name.span().start);
                let byte = u8::from_str_radix(code, 16).map_err(|_| {
                    RulesError::at(
                        file,
                        src,
                        at,
                        format!("glyph code {code:?} of {canonical} must be two hex digits, e.g. \"E9\""),
                    )
                })?;
                if glyph.is_empty() {
                    return Err(RulesError::at(file, src, at, format!("glyph {code} of {canonical} is empty")));
                }
                table[byte as usize] = Some(glyph.clone());
            }
            names.insert(font_key(&canonical), canonical.clone());
            for alias in &font.aliases {
                names.insert(font_key(alias), canonical.clone());
            }
            tables.insert(canonical, table);
        }
        Ok(Symbols { names, tables })
    }
}

impl Symbols {
    /// The canonical name of a symbol font, if `font` is one (any spelling).
    pub fn canonical_font(&self, font: &str) -> Option<&str> {
        self.names.get(&font_key(font)).map(|s| s.as_str())
    }

    /// Whether `font` is a symbol font with a table here.
    pub fn is_symbol_font(&self, font: &str) -> bool {
        self.canonical_font(font).is_some()
    }

    /// The Unicode glyph drawn by character `ch` in symbol font `font`.
    ///
    /// `ch` may be the typed character (`é`, U+00E9) or its Private Use Area
    /// form (U+F0E9), which is how Word stores `w:sym` codes and how many
    /// PDF producers map symbol glyphs.
    pub fn glyph(&self, font: &str, ch: char) -> Option<&str> {
        let canonical = self.canonical_font(font)?;
        let code = symbol_code(ch)?;
        self.tables.get(canonical)?.get(code as usize)?.as_deref()
    }
}

/// The one-byte code of a symbol-font character: Latin-1 as typed, or the
/// Private Use Area form U+F020–U+F0FF.
pub fn symbol_code(ch: char) -> Option<u8> {
    let c = ch as u32;
    match c {
        0x20..=0xFF => Some(c as u8),
        0xF020..=0xF0FF => Some((c - 0xF000) as u8),
        _ => None,
    }
}

// -------------------------------------------------------------- reconcile.toml

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReconcileFile {
    pub weights: Weights,
    pub thresholds: Thresholds,
    pub linking: Linking,
    pub measures: MeasureLinking,
    pub words: WordLists,
    pub stemming: Stemming,
    #[serde(default)]
    pub spelling: BTreeMap<String, String>,
    #[serde(default)]
    pub acronyms: BTreeMap<String, String>,
}

/// Weight of each similarity feature in a link's score. After compiling they
/// sum to 1, so a feature's contribution is its weight times its value.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Weights {
    pub tfidf: f64,
    pub monge_elkan: f64,
    pub ngram: f64,
    pub shared_name: f64,
    pub same_outcome: f64,
    pub same_activity: f64,
    pub rationale: f64,
    pub still_open: f64,
    pub date_continuity: f64,
    pub carried_over: f64,
    pub same_theme: f64,
}

impl Weights {
    /// Every weight with its feature name, as the dataset names features.
    pub fn named(&self) -> [(&'static str, f64); 11] {
        [
            ("tfidf", self.tfidf),
            ("monge_elkan", self.monge_elkan),
            ("ngram", self.ngram),
            ("shared_name", self.shared_name),
            ("same_outcome", self.same_outcome),
            ("same_activity", self.same_activity),
            ("rationale", self.rationale),
            ("still_open", self.still_open),
            ("date_continuity", self.date_continuity),
            ("carried_over", self.carried_over),
            ("same_theme", self.same_theme),
        ]
    }

    fn scaled(&self, k: f64) -> Weights {
        Weights {
            tfidf: self.tfidf * k,
            monge_elkan: self.monge_elkan * k,
            ngram: self.ngram * k,
            shared_name: self.shared_name * k,
            same_outcome: self.same_outcome * k,
            same_activity: self.same_activity * k,
            rationale: self.rationale * k,
            still_open: self.still_open * k,
            date_continuity: self.date_continuity * k,
            carried_over: self.carried_over * k,
            same_theme: self.same_theme * k,
        }
    }
}

/// Decision thresholds on a link's score.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Thresholds {
    /// At or above: linked automatically (if the runner-up is behind by `margin`).
    pub auto: f64,
    /// At or above (and below `auto`): linked for review.
    pub review: f64,
    /// How far the runner-up must be behind for an automatic decision.
    pub margin: f64,
    /// Stricter threshold for links across unrelated themes.
    pub cross_theme: f64,
    /// Minimum score of a second successor (predecessor) for a split (merge)
    /// to be proposed.
    pub split: f64,
    /// Minimum score for two differently worded rows of one plan year in two
    /// documents to be taken as one row in two renditions.
    pub rendition: f64,
}

/// How far links may reach and how words are compared.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Linking {
    /// Plan years a link may reach back (1: consecutive years only).
    pub max_gap: usize,
    /// Subtracted from the score per plan year skipped.
    pub year_gap_penalty: f64,
    /// Word similarities below this count as 0 in Monge-Elkan.
    pub monge_elkan_floor: f64,
    /// Share of `shared_name` a specific word earns when it is not printed
    /// as a name.
    pub plain_word_credit: f64,
    /// How many of the most similar earlier actions (by TF-IDF) each new
    /// row is scored against in full.
    pub candidates: usize,
    /// Words in more than this share of one plan year's titles, and in more
    /// than `common_word_min` of them, do not bring candidates.
    pub common_word_share: f64,
    pub common_word_min: u32,
    /// Statuses of an earlier row that leave the action open, so that it is
    /// likely to continue (feature `still_open`).
    pub open_statuses: Vec<MilestoneStatus>,
}

/// How measures are linked across periods.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasureLinking {
    /// Weight of "the normalised refs agree".
    pub same_ref: f64,
    /// Weight of title similarity.
    pub title: f64,
    /// Same ref and title similarity at least this: automatic.
    pub title_agrees: f64,
    /// Different refs and title similarity at least this: a possible
    /// renumbering, for review.
    pub renumbered: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WordLists {
    pub lifecycle_verbs: Vec<String>,
    pub generic_nouns: Vec<String>,
    pub stopwords: Vec<String>,
}

/// Table-driven suffix stripping (see `rules/reconcile.toml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stemming {
    pub step: Vec<StemStep>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StemStep {
    /// A rule applies only if it leaves at least this many letters.
    pub min_stem: usize,
    /// `[suffix, replacement]`, first match wins.
    pub rules: Vec<(String, String)>,
}

pub type Reconcile = ReconcileFile;

/// Byte offset of `key` in `[section]` of `src`, for error messages.
fn key_offset(src: &str, section: &str, key: &str) -> usize {
    let start = src.find(&format!("[{section}]")).unwrap_or(0);
    src[start..]
        .find(&format!("\n{key} "))
        .or_else(|| src[start..].find(&format!("\n{key}=")))
        .map_or(start, |p| start + p + 1)
}

fn is_word(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_lowercase() || c.is_ascii_digit())
}

impl ReconcileFile {
    pub fn compile(self, file: &str, src: &str) -> Result<Reconcile, RulesError> {
        let err = |section: &str, key: &str, msg: String| RulesError::at(file, src, key_offset(src, section, key), msg);
        let t = &self.thresholds;
        let l = &self.linking;
        let m = &self.measures;
        let unit_values = [
            ("thresholds", "auto", t.auto),
            ("thresholds", "review", t.review),
            ("thresholds", "margin", t.margin),
            ("thresholds", "cross_theme", t.cross_theme),
            ("thresholds", "split", t.split),
            ("thresholds", "rendition", t.rendition),
            ("linking", "year_gap_penalty", l.year_gap_penalty),
            ("linking", "monge_elkan_floor", l.monge_elkan_floor),
            ("linking", "plain_word_credit", l.plain_word_credit),
            ("linking", "common_word_share", l.common_word_share),
            ("measures", "same_ref", m.same_ref),
            ("measures", "title", m.title),
            ("measures", "title_agrees", m.title_agrees),
            ("measures", "renumbered", m.renumbered),
        ];
        for (section, name, v) in unit_values {
            if !(0.0..=1.0).contains(&v) {
                return Err(err(section, name, format!("{name} must be between 0 and 1")));
            }
        }
        if t.review > t.auto {
            return Err(err("thresholds", "review", "threshold review must not be above auto".into()));
        }
        if l.candidates == 0 {
            return Err(err("linking", "candidates", "candidates must be 1 or more".into()));
        }
        if !(1..=50).contains(&l.max_gap) {
            return Err(err("linking", "max_gap", "max_gap must be a whole number of plan years from 1 to 50".into()));
        }
        for (name, w) in self.weights.named() {
            if !w.is_finite() || w < 0.0 {
                return Err(err("weights", name, format!("weight {name} must be a number, 0 or more")));
            }
        }
        let total: f64 = self.weights.named().iter().map(|(_, w)| w).sum();
        if total <= 0.0 {
            return Err(err("weights", "tfidf", "at least one weight must be above 0".into()));
        }
        if m.same_ref + m.title <= 0.0 {
            return Err(err("measures", "same_ref", "same_ref and title cannot both be 0".into()));
        }
        for (i, step) in self.stemming.step.iter().enumerate() {
            for (suffix, replacement) in &step.rules {
                if !is_word(suffix) || !(replacement.is_empty() || is_word(replacement)) {
                    let at = src.find(&format!("\"{suffix}\"")).unwrap_or(0);
                    return Err(RulesError::at(
                        file,
                        src,
                        at,
                        format!(
                            "stemming step {}: rule [{suffix:?}, {replacement:?}] must be lower-case letters",
                            i + 1
                        ),
                    ));
                }
            }
        }
        for (table, map) in [("spelling", &self.spelling), ("acronyms", &self.acronyms)] {
            for (from, to) in map {
                if !is_word(from) || to.split_whitespace().next().is_none() {
                    return Err(err(
                        table,
                        from,
                        format!("[{table}] {from:?}: the key must be one lower-case word and the value not empty"),
                    ));
                }
            }
        }
        let weights = self.weights.scaled(1.0 / total);
        Ok(ReconcileFile { weights, ..self })
    }
}

// -------------------------------------------------------------- overrides.toml

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverridesFile {
    #[serde(default)]
    pub must_link: Vec<Spanned<OverridePair>>,
    #[serde(default)]
    pub cannot_link: Vec<Spanned<OverridePair>>,
}

/// Two milestones an archivist says are (or are not) the same action.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverridePair {
    pub a: Endpoint,
    pub b: Endpoint,
    #[serde(default)]
    pub note: Option<String>,
}

/// A milestone named by plan year and action text (compared without case and
/// punctuation, so it survives re-ingestion), or by id.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    #[serde(default)]
    pub plan_year: Option<String>,
    #[serde(default)]
    pub action: Option<String>,
    #[serde(default)]
    pub id: Option<String>,
}

pub type Overrides = OverridesFile;

impl OverridesFile {
    pub fn compile(self, file: &str, src: &str) -> Result<Overrides, RulesError> {
        let plan_year = Regex::new(r"^\d{4}/\d{2}$").map_err(|e| RulesError::at(file, src, 0, e.to_string()))?;
        for pair in self.must_link.iter().chain(self.cannot_link.iter()) {
            for end in [&pair.get_ref().a, &pair.get_ref().b] {
                let problem = match (&end.id, &end.action, &end.plan_year) {
                    (None, None, _) => Some("each side of an override needs `action` (with `plan_year`) or `id`"),
                    (None, Some(_), None) => Some("an override side named by `action` needs its `plan_year`"),
                    (_, _, Some(y)) if !plan_year.is_match(y) => Some("`plan_year` must be written like \"2021/22\""),
                    _ => None,
                };
                if let Some(problem) = problem {
                    return Err(RulesError::at(file, src, pair.span().start, problem));
                }
            }
        }
        Ok(self)
    }
}
