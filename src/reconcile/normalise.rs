//! Titles → content words.
//!
//! The same action is reworded every year ("Commence Moor Road, Manvers
//! cycleway construction" → "Start construction of the Moor Road, Manvers
//! cycleway"), while sibling actions share their phrasing ("single front door
//! for adult social care" / "… children's social care"). Comparing whole
//! strings rewards shared phrasing; comparing content words rewards shared
//! subject matter. So before any comparison a title is cut to its content
//! words: possessives cut, spelling variants folded and acronyms expanded
//! (`[spelling]`, `[acronyms]`), stop words, lifecycle verbs and generic
//! nouns dropped (`[words]`, compared by stem so one form covers the rest),
//! numbers and years dropped, and the rest stemmed (`[stemming]`). All the
//! wording lives in `rules/reconcile.toml`.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::rules::{Reconcile, StemStep};

/// Printed words already normalised, with their stems.
#[derive(Debug, Default)]
pub struct Memo(HashMap<String, Vec<String>>);

/// Title normalisation compiled from the rules.
#[derive(Debug, Clone)]
pub struct Normaliser {
    steps: Vec<StemStep>,
    spelling: BTreeMap<String, Vec<String>>,
    acronyms: BTreeMap<String, Vec<String>>,
    /// Stems of stop words, lifecycle verbs and generic nouns.
    dropped: HashSet<String>,
}

impl Normaliser {
    pub fn new(rules: &Reconcile) -> Normaliser {
        let split = |m: &BTreeMap<String, String>| -> BTreeMap<String, Vec<String>> {
            m.iter()
                .map(|(k, v)| (k.to_lowercase(), v.split_whitespace().map(|w| w.to_lowercase()).collect()))
                .collect()
        };
        let mut n = Normaliser {
            steps: rules.stemming.step.clone(),
            spelling: split(&rules.spelling),
            acronyms: split(&rules.acronyms),
            dropped: HashSet::new(),
        };
        let words = &rules.words;
        let all = words.stopwords.iter().chain(&words.lifecycle_verbs).chain(&words.generic_nouns);
        let dropped: HashSet<String> =
            all.flat_map(|w| raw_words(w)).flat_map(|w| n.fold(&w.to_lowercase())).map(|w| n.stem(&w)).collect();
        n.dropped = dropped;
        n
    }

    /// The content words of `text`, stemmed, in printed order (repeats kept:
    /// term frequency counts them).
    pub fn content_words(&self, text: &str) -> Vec<String> {
        self.content_words_with(text, &mut Memo::default())
    }

    /// [`Normaliser::content_words`] with a [`Memo`].
    pub fn content_words_with(&self, text: &str, memo: &mut Memo) -> Vec<String> {
        self.content_terms_with(text, memo).into_iter().map(|(w, _)| w).collect()
    }

    /// The content words of `text` with, for each, whether it is printed as
    /// a name: capitalised inside the sentence ("the Towns Fund", "Kiveton
    /// Park") or an acronym. Council titles are sentences, so a capital
    /// after the first word marks a programme, place or body.
    pub fn content_terms(&self, text: &str) -> Vec<(String, bool)> {
        self.content_terms_with(text, &mut Memo::default())
    }

    /// [`Normaliser::content_terms`], remembering each printed word's stems
    /// in `memo`: a run's titles, outcomes and commentaries repeat the same
    /// few thousand words, and stemming them again dominated the profiles.
    pub fn content_terms_with(&self, text: &str, memo: &mut Memo) -> Vec<(String, bool)> {
        let mut out = Vec::new();
        for (k, raw) in raw_words(text).into_iter().enumerate() {
            if raw.chars().any(|c| c.is_ascii_digit()) {
                continue; // numbers, years, amounts, refs: they change every year
            }
            let capitals = raw.chars().filter(|c| c.is_alphabetic()).all(char::is_uppercase);
            let acronym = capitals && raw.chars().count() > 1;
            let name = acronym || (k > 0 && raw.chars().next().is_some_and(char::is_uppercase));
            if !memo.0.contains_key(&raw) {
                let stems = self.word_stems(&raw, capitals);
                memo.0.insert(raw.clone(), stems);
            }
            out.extend(memo.0.get(&raw).into_iter().flatten().map(|w| (w.clone(), name)));
        }
        out
    }

    /// The content stems one printed word (without digits) contributes.
    fn word_stems(&self, raw: &str, capitals: bool) -> Vec<String> {
        let lower = raw.to_lowercase();
        let expanded = match self.acronyms.get(&lower) {
            Some(words) if capitals => words.clone(),
            _ => self.fold(&lower),
        };
        expanded
            .iter()
            .map(|w| self.stem(w))
            .filter(|stem| stem.chars().count() > 1 && !self.dropped.contains(stem))
            .collect()
    }

    /// Spelling variants folded: one word may become several ("cycleway" →
    /// "cycle route").
    fn fold(&self, word: &str) -> Vec<String> {
        match self.spelling.get(word) {
            Some(v) => v.clone(),
            None => vec![word.to_string()],
        }
    }

    /// Table-driven suffix stripping: in each step the first rule whose
    /// suffix ends the word and leaves `min_stem` letters applies.
    pub fn stem(&self, word: &str) -> String {
        let mut w = word.to_string();
        for step in &self.steps {
            for (suffix, replacement) in &step.rules {
                if let Some(base) = w.strip_suffix(suffix.as_str()) {
                    if base.chars().count() >= step.min_stem {
                        w = format!("{base}{replacement}");
                    }
                    // The first matching suffix decides the step, applied or not:
                    // "business" ends in "ss" and keeps its "s".
                    break;
                }
            }
        }
        w
    }
}

/// Words as printed: runs of letters and digits; apostrophes inside a word
/// are dropped with a possessive "s" ("children’s" → "children", "carers’" →
/// "carers").
fn raw_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        if ch.is_alphanumeric() {
            cur.push(ch);
        } else if matches!(ch, '\'' | '\u{2019}' | '\u{2018}' | '\u{02BC}') && !cur.is_empty() {
            // Possessive: skip a following "s" that ends the word.
            let mut look = chars.clone();
            if matches!(look.next(), Some('s' | 'S')) && !look.peek().is_some_and(|c| c.is_alphanumeric()) {
                chars.next();
            }
        } else if !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Rules;

    fn normaliser() -> Normaliser {
        let rules = Rules::builtin().unwrap_or_else(|e| panic!("{e}"));
        Normaliser::new(&rules.reconcile)
    }

    #[test]
    fn possessives_and_punctuation_are_cut() {
        assert_eq!(
            raw_words("children’s social-care, carers’ strategy"),
            ["children", "social", "care", "carers", "strategy"]
        );
    }

    #[test]
    fn lifecycle_verbs_generic_nouns_and_numbers_go() {
        let n = normaliser();
        assert_eq!(
            n.content_words("Deliver the £250k investment programme at Herringthorpe Stadium in 2021/22"),
            ["investment", "herringthorpe", "stadium"].map(|w| n.stem(w))
        );
    }

    #[test]
    fn forms_of_a_word_share_a_stem() {
        let n = normaliser();
        for (a, b) in [
            ("refurbishment", "refurbished"),
            ("housing", "house"),
            ("libraries", "library"),
            ("hubs", "hub"),
            ("planting", "plants"),
            ("services", "service"),
        ] {
            assert_eq!(n.stem(a), n.stem(b), "{a} / {b}");
        }
        assert_ne!(n.stem("care"), n.stem("car"));
        assert_eq!(n.stem("business"), "business");
    }

    #[test]
    fn acronyms_expand_only_in_capitals_and_spellings_fold() {
        let n = normaliser();
        let send = n.content_words("SEND sufficiency");
        assert!(send.contains(&n.stem("disabilities")), "{send:?}");
        assert!(!n.content_words("send out the news").contains(&n.stem("disabilities")));
        assert_eq!(n.content_words("Children’s cycleway"), n.content_words("child cycle route"));
    }
}
