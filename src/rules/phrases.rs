//! Phrase tables: printed wording → a canonical value.
//!
//! Most of what plantrace knows about wording has this shape: a list of
//! phrases (and, where phrases are not enough, regular expressions) that mean
//! one canonical value. Matching is done on a normalised form of the text
//! ([`normalise`]) so that case, curly quotes, slashes and line breaks in the
//! printed wording do not matter.

use std::collections::HashMap;

use regex::Regex;
use serde::Deserialize;
use toml::Spanned;

use super::RulesError;

/// Lower-case, straighten quotes and dashes, turn every run of characters
/// other than letters, digits, `%`, `£` and `'` into one space, trim.
///
/// "Completed / Ongoing" and "completed/ongoing" both become
/// "completed ongoing".
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for ch in text.chars() {
        let ch = match ch {
            '\u{2018}' | '\u{2019}' | '\u{02BC}' | '`' => '\'',
            c => c,
        };
        let keep = ch.is_alphanumeric() || ch == '%' || ch == '£' || ch == '\'';
        if keep {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.extend(ch.to_lowercase());
        } else {
            pending_space = true;
        }
    }
    out
}

/// One entry of a phrase table as written in a rules file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhraseEntry<C> {
    pub canonical: C,
    #[serde(default)]
    pub phrases: Vec<String>,
    /// Regular expressions matched against the normalised text.
    #[serde(default)]
    pub patterns: Vec<Spanned<String>>,
}

/// A compiled phrase table.
#[derive(Debug, Clone)]
pub struct PhraseTable<C> {
    /// (normalised phrase padded with a space each side, canonical), longest
    /// phrase first: padded so a whole-word search needs no allocation.
    phrases: Vec<(String, C)>,
    /// Normalised phrase → canonical of the first (longest-first) entry.
    exact: HashMap<String, C>,
    patterns: Vec<(Regex, C)>,
}

impl<C: Clone> Default for PhraseTable<C> {
    fn default() -> Self {
        PhraseTable { phrases: Vec::new(), exact: HashMap::new(), patterns: Vec::new() }
    }
}

impl<C: Clone> PhraseTable<C> {
    /// Compile the entries of one table; `file` and `src` locate errors.
    pub fn compile(entries: &[PhraseEntry<C>], file: &str, src: &str) -> Result<Self, RulesError> {
        let mut phrases = Vec::new();
        let mut patterns = Vec::new();
        for entry in entries {
            for phrase in &entry.phrases {
                let norm = normalise(phrase);
                if !norm.is_empty() {
                    phrases.push((norm, entry.canonical.clone()));
                }
            }
            for pattern in &entry.patterns {
                let re = Regex::new(pattern.get_ref()).map_err(|e| {
                    RulesError::at(file, src, pattern.span().start, format!("invalid regular expression: {e}"))
                })?;
                patterns.push((re, entry.canonical.clone()));
            }
        }
        // Longest first, so that "not currently on target" wins over "on target".
        phrases.sort_by(|a: &(String, C), b: &(String, C)| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        let mut exact = HashMap::new();
        for (p, c) in &phrases {
            exact.entry(p.clone()).or_insert_with(|| c.clone());
        }
        let phrases = phrases.into_iter().map(|(p, c)| (format!(" {p} "), c)).collect();
        Ok(PhraseTable { phrases, exact, patterns })
    }

    /// The canonical value whose phrase equals the whole text (normalised), or
    /// whose pattern matches it.
    pub fn exact(&self, text: &str) -> Option<C> {
        let norm = normalise(text);
        if norm.is_empty() {
            return None;
        }
        self.exact
            .get(&norm)
            .cloned()
            .or_else(|| self.patterns.iter().find(|(re, _)| re.is_match(&norm)).map(|(_, c)| c.clone()))
    }

    /// The canonical value of the longest phrase contained in the text as whole
    /// words, or of the first matching pattern.
    pub fn longest_within(&self, text: &str) -> Option<C> {
        let norm = normalise(text);
        if norm.is_empty() {
            return None;
        }
        let padded = format!(" {norm} ");
        self.phrases
            .iter()
            .find(|(p, _)| padded.contains(p.as_str()))
            .map(|(_, c)| c.clone())
            .or_else(|| self.patterns.iter().find(|(re, _)| re.is_match(&norm)).map(|(_, c)| c.clone()))
    }

    pub fn is_empty(&self) -> bool {
        self.phrases.is_empty() && self.patterns.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalise_folds_case_punctuation_and_quotes() {
        assert_eq!(normalise("Completed / Ongoing"), "completed ongoing");
        assert_eq!(normalise(" completed/ongoing\n"), "completed ongoing");
        assert_eq!(normalise("Carers’ Strategy"), "carers' strategy");
        assert_eq!(normalise("85% – £4,859"), "85% £4 859");
    }

    #[test]
    fn longest_phrase_wins() {
        let entries = vec![
            PhraseEntry { canonical: 1, phrases: vec!["on target".into()], patterns: vec![] },
            PhraseEntry { canonical: 2, phrases: vec!["not currently on target".into()], patterns: vec![] },
        ];
        let t = PhraseTable::compile(&entries, "t.toml", "").unwrap();
        assert_eq!(t.longest_within("Performance is not currently on target."), Some(2));
        assert_eq!(t.longest_within("Performance is on or above target; on target"), Some(1));
        assert_eq!(t.exact("On target"), Some(1));
        assert_eq!(t.exact("On target now"), None);
    }
}
