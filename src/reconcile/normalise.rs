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

use std::collections::{BTreeMap, HashSet};

use crate::rules::{Reconcile, StemStep};

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
    /// term frequency counts them). A run does not call this: it remembers
    /// each printed word's stems ([`crate::reconcile::profile`]), since its
    /// titles and commentaries repeat the same few thousand words.
    pub fn content_words(&self, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        for_each_word(text, |raw, _| out.extend(self.word_stems(raw)));
        out
    }

    /// The content stems one printed word (as [`for_each_word`] hands it
    /// out) contributes. They depend on the printed word alone, so a caller
    /// may remember them by it.
    pub fn word_stems(&self, raw: &str) -> Vec<String> {
        let capitals = all_capitals(raw);
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

/// Whether every letter of a printed word is a capital ("NHS", "A").
fn all_capitals(raw: &str) -> bool {
    raw.chars().filter(|c| c.is_alphabetic()).all(char::is_uppercase)
}

/// Hand each printed word of `text` that could be a content word to `f`,
/// with whether it is printed as a name: capitalised inside the sentence
/// ("the Towns Fund", "Kiveton Park") or an acronym. Council titles are
/// sentences, so a capital after the first word marks a programme, place or
/// body. Words with digits (numbers, years, amounts, references) are left
/// out: they change every year.
pub fn for_each_word(text: &str, mut f: impl FnMut(&str, bool)) {
    let mut k = 0usize;
    scan_raw_words(text, |raw| {
        let first = k == 0;
        k += 1;
        if raw.chars().any(|c| c.is_ascii_digit()) {
            return;
        }
        let acronym = all_capitals(raw) && raw.chars().nth(1).is_some();
        let name = acronym || (!first && raw.chars().next().is_some_and(char::is_uppercase));
        f(raw, name);
    });
}

/// Words as printed: runs of letters and digits; apostrophes inside a word
/// are dropped with a possessive "s" ("children’s" → "children", "carers’" →
/// "carers"). Each word is handed out as a slice of `text` where it is one,
/// from a reused buffer otherwise: a run profiles millions of words.
fn scan_raw_words(text: &str, mut f: impl FnMut(&str)) {
    let mut joined = String::new();
    // The word being read: `text[start..end]` while it has no apostrophe in
    // it, `joined` once one was cut out.
    let (mut start, mut end, mut cut) = (0usize, 0usize, false);
    let mut flush = |start: usize, end: usize, cut: &mut bool, joined: &mut String| {
        if *cut {
            f(joined);
            joined.clear();
            *cut = false;
        } else if end > start {
            f(&text[start..end]);
        }
    };
    let mut chars = text.char_indices().peekable();
    while let Some((i, ch)) = chars.next() {
        if ch.is_alphanumeric() {
            if cut {
                joined.push(ch);
            } else if end == start {
                start = i;
            }
            end = i + ch.len_utf8();
        } else if matches!(ch, '\'' | '\u{2019}' | '\u{2018}' | '\u{02BC}') && (cut || end > start) {
            // The word goes on after the apostrophe, without it: from here it
            // is not a slice of the text.
            if !cut {
                joined.push_str(&text[start..end]);
                cut = true;
            }
            // Possessive: skip a following "s" that ends the word.
            let mut look = chars.clone();
            if matches!(look.next(), Some((_, 's' | 'S'))) && !look.peek().is_some_and(|(_, c)| c.is_alphanumeric()) {
                chars.next();
            }
        } else {
            flush(start, end, &mut cut, &mut joined);
            (start, end) = (i, i);
        }
    }
    flush(start, end, &mut cut, &mut joined);
}

/// Words as printed, collected ([`scan_raw_words`]).
fn raw_words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    scan_raw_words(text, |w| words.push(w.to_string()));
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

    /// The scanner hands out slices of the text and a joined copy only
    /// where an apostrophe was cut: the words must be exactly those of the
    /// plain character-by-character reading it replaced (kept here as the
    /// oracle), on every string of a small, awkward alphabet.
    #[test]
    fn scanned_words_are_those_of_the_plain_reading() {
        fn plain(text: &str) -> Vec<String> {
            let mut words = Vec::new();
            let mut cur = String::new();
            let mut chars = text.chars().peekable();
            while let Some(ch) = chars.next() {
                if ch.is_alphanumeric() {
                    cur.push(ch);
                } else if matches!(ch, '\'' | '\u{2019}' | '\u{2018}' | '\u{02BC}') && !cur.is_empty() {
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
        let alphabet = ['a', 's', 'S', 'É', 'ß', '7', ' ', '-', '\'', '’', 'ʼ', '‘'];
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..20_000 {
            let mut text = String::new();
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            for _ in 0..(state >> 60) + 1 {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                text.push(alphabet[(state >> 33) as usize % alphabet.len()]);
            }
            assert_eq!(raw_words(&text), plain(&text), "{text:?}");
        }
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
