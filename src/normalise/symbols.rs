//! Scorecard keys and measures: each document's symbols are decoded through
//! that document's own key.
//!
//! A key entry's meaning comes from its label's wording (rules/keys.toml),
//! never from the glyph: the same letter means different things in two keys
//! of one document (in seed 001, Wingdings "ê" is "cannot be assessed" in
//! the status key and "declined" in the direction key). A measure's status
//! cell is decoded through the document's status key and its direction cell
//! through its direction key, matching symbols by their one-byte code (a
//! typed "é", a `w:sym` F0E9 and a PDF glyph U+F0E9 are one symbol) and,
//! where both are known, their font. Only a document without a key of the
//! needed kind falls back to the glyph defaults in rules/keys.toml, with a
//! warning.

use serde::Serialize;

use super::measures::{normalise_ref, quantity};
use super::{place, DocFacts};
use crate::model::{Direction, DirectionValue, KeyEntry, KeyKind, Measure, MeasureStatus, MeasureStatusValue, Symbol};
use crate::parse::{RawKey, RawMeasure, StoredSymbol};
use crate::rules::{symbol_code, GlyphDefault, Rules};

/// The dataset form of a stored symbol: with its font's canonical name and
/// the Unicode glyph it draws.
pub fn symbol(stored: &StoredSymbol, rules: &Rules) -> Symbol {
    let font = stored.font.as_deref().map(|f| rules.symbols.canonical_font(f).unwrap_or(f).to_string());
    let unicode = font.as_deref().and_then(|f| {
        let glyphs: Option<String> = stored.text.chars().map(|c| rules.symbols.glyph(f, c)).collect();
        glyphs
    });
    Symbol { text: stored.text.clone(), font, unicode }
}

/// A key entry's identity for matching: its one-byte code and font.
fn code_of(s: &StoredSymbol) -> Option<u8> {
    s.text.chars().next().and_then(symbol_code)
}

fn same_font(a: &StoredSymbol, b: &StoredSymbol, rules: &Rules) -> bool {
    match (&a.font, &b.font) {
        (Some(x), Some(y)) => {
            rules.symbols.canonical_font(x).unwrap_or(x) == rules.symbols.canonical_font(y).unwrap_or(y)
        }
        _ => true,
    }
}

/// One decoded key.
struct Key {
    kind: KeyKind,
    entries: Vec<(Option<StoredSymbol>, Option<String>)>,
}

impl Key {
    /// The canonical meaning of `s` in this key.
    fn lookup(&self, s: &StoredSymbol, rules: &Rules) -> Option<Option<&str>> {
        let code = code_of(s)?;
        let matches: Vec<&(Option<StoredSymbol>, Option<String>)> =
            self.entries.iter().filter(|(sym, _)| sym.as_ref().and_then(code_of) == Some(code)).collect();
        let best = matches
            .iter()
            .find(|(sym, _)| {
                sym.as_ref().is_some_and(|k| same_font(k, s, rules) && k.font.is_some() && s.font.is_some())
            })
            .or_else(|| matches.iter().find(|(sym, _)| sym.as_ref().is_some_and(|k| same_font(k, s, rules))))?;
        Some(best.1.as_deref())
    }

    /// The meaning of a blank cell: the key's one entry whose symbol is blank.
    fn blank(&self) -> Option<&str> {
        let blanks: Vec<_> = self.entries.iter().filter(|(s, _)| s.is_none()).collect();
        match blanks.as_slice() {
            [(_, c)] => c.as_deref(),
            _ => None,
        }
    }
}

fn kind_of(raw: &RawKey, rules: &Rules) -> KeyKind {
    if let Some(k) = raw.kind {
        return k;
    }
    let votes = |k: KeyKind| raw.entries.iter().filter(|e| rules.keys.label_canonical(k, &e.label).is_some()).count();
    [KeyKind::MeasureStatus, KeyKind::Direction, KeyKind::MilestoneStatus]
        .into_iter()
        .max_by_key(|k| (votes(*k), matches!(k, KeyKind::MeasureStatus)))
        .unwrap_or(KeyKind::MeasureStatus)
}

fn parse_canonical<T: serde::de::DeserializeOwned>(s: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
}

fn canonical_str<T: Serialize>(v: T) -> Option<String> {
    serde_json::to_value(v).ok().and_then(|v| v.as_str().map(String::from))
}

fn default_for<C: Clone>(defaults: &[GlyphDefault<C>], sym: &Symbol) -> Option<C> {
    let glyph = sym.unicode.as_deref().unwrap_or(sym.text.as_str());
    defaults.iter().find(|d| d.glyphs.iter().any(|g| g == glyph)).map(|d| d.canonical.clone())
}

/// Decode a document's keys and measures.
pub fn decode(
    raw_keys: Vec<RawKey>,
    raw_measures: Vec<RawMeasure>,
    facts: &DocFacts,
    rules: &Rules,
) -> (Vec<KeyEntry>, Vec<Measure>, Vec<String>) {
    let mut warnings = Vec::new();
    let mut entries_out = Vec::new();
    let mut keys = Vec::new();
    for (ki, raw) in raw_keys.into_iter().enumerate() {
        let kind = kind_of(&raw, rules);
        let title = raw.title.clone().unwrap_or_else(|| format!("key {}", ki + 1));
        let mut entries = Vec::new();
        for e in raw.entries {
            let by_label = rules.keys.label_canonical(kind, &e.label);
            // A status-word key ("Known delays | Action has some risk…"):
            // the word itself is also evidence.
            let canonical = by_label.or_else(|| {
                (kind == KeyKind::MilestoneStatus)
                    .then(|| {
                        e.symbol.as_ref().and_then(|s| rules.statuses.milestone.exact(&s.text)).and_then(canonical_str)
                    })
                    .flatten()
            });
            if e.symbol.is_none() {
                warnings.push(format!(
                    "{}: key {title:?}: the symbol of {:?} is blank or was lost; the entry is kept with its label",
                    place(&e.provenance),
                    e.label
                ));
            }
            if canonical.is_none() {
                warnings.push(format!(
                    "{}: key {title:?}: label {:?} matches no phrase in rules/keys.toml; its meaning is left null",
                    place(&e.provenance),
                    e.label
                ));
            }
            entries_out.push(KeyEntry {
                document_id: facts.doc_id.clone(),
                key: ki as u32,
                kind,
                symbol: e.symbol.as_ref().map(|s| symbol(s, rules)),
                label: e.label.clone(),
                canonical: canonical.clone(),
                provenance: e.provenance.clone(),
            });
            entries.push((e.symbol, canonical));
        }
        keys.push(Key { kind, entries });
    }

    let status_keys: Vec<&Key> = keys.iter().filter(|k| k.kind == KeyKind::MeasureStatus).collect();
    let direction_keys: Vec<&Key> = keys.iter().filter(|k| k.kind == KeyKind::Direction).collect();
    let mut warned_no_key = [false; 2];
    let mut measures = Vec::new();
    for (i, m) in raw_measures.into_iter().enumerate() {
        let at = place(&m.provenance);
        let r = m.r#ref.as_deref().map(|r| normalise_ref(r, rules));
        let label = r.as_ref().map_or_else(|| m.title.clone().unwrap_or_default(), |r| r.text.clone());
        let scorecard = m.source == crate::model::MeasureSource::Scorecard;

        let status = decode_cell::<MeasureStatus>(
            m.status.as_ref(),
            m.status_text.as_deref(),
            &status_keys,
            &rules.keys.default_measure_status,
            |t| rules.statuses.measure.exact(t).or_else(|| rules.statuses.measure.longest_within(t)),
            scorecard,
            rules,
        );
        let direction = decode_cell::<Direction>(
            m.direction.as_ref(),
            m.direction_text.as_deref(),
            &direction_keys,
            &rules.keys.default_direction,
            |t| rules.statuses.direction.exact(t).or_else(|| rules.statuses.direction.longest_within(t)),
            scorecard,
            rules,
        );
        for (what, outcome, idx) in [("status", &status.1, 0usize), ("direction", &direction.1, 1usize)] {
            match outcome {
                Outcome::Decoded | Outcome::Nothing => {}
                Outcome::NotInKey(s) => warnings.push(format!(
                    "{at}: measure {label}: {what} symbol {s:?} is not in this document's key; left null"
                )),
                Outcome::Default => {
                    if !warned_no_key[idx] {
                        warned_no_key[idx] = true;
                        warnings.push(format!(
                            "the document has no {what} key; {what} symbols were decoded with the defaults in rules/keys.toml"
                        ));
                    }
                }
                Outcome::Unknown(s) => {
                    warnings.push(format!("{at}: measure {label}: {what} {s:?} not understood; left null"))
                }
            }
        }

        let frequency = m.frequency.as_deref().and_then(|f| rules.measures.frequency.longest_within(f));
        let good_is = m
            .good_is
            .as_deref()
            .and_then(|g| rules.measures.good_is.exact(g).or_else(|| rules.measures.good_is.longest_within(g)));
        measures.push(Measure {
            id: format!("{}-r{:04}", facts.doc_id, i + 1),
            document_id: facts.doc_id.clone(),
            r#ref: r.as_ref().map(|r| r.text.clone()),
            title: m.title,
            priority: r.as_ref().and_then(|r| r.priority),
            outcome_code: r.as_ref().and_then(|r| r.outcome.clone()),
            priority_measure: m.priority_measure,
            frequency,
            good_is,
            period: facts.period.clone(),
            target: m.target.as_deref().and_then(|t| quantity(t, rules)),
            value: m.value.as_deref().and_then(|v| quantity(v, rules)),
            status: MeasureStatusValue { symbol: status.0.clone(), canonical: status.2 },
            direction: DirectionValue { symbol: direction.0.clone(), canonical: direction.2 },
            source: m.source,
            extra: m.extra,
            provenance: m.provenance,
        });
    }
    (entries_out, measures, warnings)
}

/// How a status or direction cell was decoded.
enum Outcome {
    Decoded,
    /// Nothing to decode (narrative measure, or a blank cell with no blank key entry).
    Nothing,
    NotInKey(String),
    Default,
    Unknown(String),
}

/// Decode one status or direction cell: its symbol through the document's
/// keys of that kind, a blank cell through a key's blank entry, printed
/// words through rules/statuses.toml.
fn decode_cell<C: serde::de::DeserializeOwned + Clone>(
    stored: Option<&StoredSymbol>,
    text: Option<&str>,
    keys: &[&Key],
    defaults: &[GlyphDefault<C>],
    words: impl Fn(&str) -> Option<C>,
    scorecard: bool,
    rules: &Rules,
) -> (Option<Symbol>, Outcome, Option<C>) {
    match (stored, text) {
        (Some(s), _) => {
            let sym = symbol(s, rules);
            if keys.is_empty() {
                let c = default_for(defaults, &sym);
                let outcome = if c.is_some() { Outcome::Default } else { Outcome::NotInKey(s.text.clone()) };
                return (Some(sym), outcome, c);
            }
            match keys.iter().find_map(|k| k.lookup(s, rules)) {
                Some(c) => (Some(sym), Outcome::Decoded, c.and_then(parse_canonical)),
                None => (Some(sym), Outcome::NotInKey(s.text.clone()), None),
            }
        }
        (None, Some(t)) => match words(t) {
            Some(c) => (None, Outcome::Decoded, Some(c)),
            None => (None, Outcome::Unknown(t.to_string()), None),
        },
        (None, None) if scorecard => {
            let c = keys.iter().find_map(|k| k.blank()).and_then(parse_canonical);
            (None, if c.is_some() { Outcome::Decoded } else { Outcome::Nothing }, c)
        }
        (None, None) => (None, Outcome::Nothing, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{MeasureSource, Provenance};
    use crate::parse::RawKeyEntry;
    use std::collections::BTreeMap;

    fn facts() -> DocFacts {
        DocFacts { doc_id: "d1".into(), plan_year: None, as_of: None, period: Some("2016/17 Q2".into()) }
    }

    fn measure(status: &str, direction: &str) -> RawMeasure {
        RawMeasure {
            r#ref: Some("1.A3".into()),
            title: Some("Re-referrals".into()),
            good_is: None,
            frequency: None,
            target: Some("26%".into()),
            value: Some("30.4%".into()),
            status: Some(StoredSymbol { text: status.into(), font: Some("Wingdings".into()) }),
            status_text: None,
            direction: Some(StoredSymbol { text: direction.into(), font: Some("Wingdings".into()) }),
            direction_text: None,
            priority_measure: false,
            group: None,
            source: MeasureSource::Scorecard,
            extra: BTreeMap::new(),
            provenance: Provenance::Docx { table: 0, row: 1 },
        }
    }

    #[test]
    fn without_a_key_symbols_fall_back_to_the_rules_defaults_with_a_warning() {
        let rules = Rules::builtin().unwrap();
        // Wingdings ü is a tick, ê a down arrow.
        let (_, ms, warnings) = decode(vec![], vec![measure("ü", "ê")], &facts(), &rules);
        assert_eq!(ms[0].status.canonical, Some(MeasureStatus::OnTarget));
        assert_eq!(ms[0].direction.canonical, Some(Direction::Declined));
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains("has no status key"));
    }

    #[test]
    fn a_document_key_overrides_what_a_glyph_usually_means() {
        let rules = Rules::builtin().unwrap();
        // This document's key says the tick means "not applicable".
        let key = RawKey {
            title: Some("Overall status".into()),
            kind: Some(KeyKind::MeasureStatus),
            entries: vec![
                RawKeyEntry {
                    symbol: Some(StoredSymbol { text: "\u{F0FC}".into(), font: Some("Wingdings".into()) }),
                    label: "Measure not applicable for target".into(),
                    provenance: Provenance::Paragraph { paragraph: 3, page: None },
                },
                RawKeyEntry {
                    symbol: Some(StoredSymbol { text: "l".into(), font: Some("Wingdings".into()) }),
                    label: "Measure progressing above or in line with target set".into(),
                    provenance: Provenance::Paragraph { paragraph: 4, page: None },
                },
            ],
        };
        let (keys, ms, _) = decode(vec![key], vec![measure("ü", "ê"), measure("l", "ê")], &facts(), &rules);
        assert_eq!(keys.len(), 2);
        assert_eq!(ms[0].status.canonical, Some(MeasureStatus::NotApplicable), "typed ü is the key's U+F0FC");
        assert_eq!(ms[1].status.canonical, Some(MeasureStatus::OnTarget));
    }
}
