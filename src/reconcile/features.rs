//! The features of a candidate link and its score.
//!
//! Three title similarities, each catching what the others miss: TF-IDF
//! cosine (shared rare words count most, so "Herringthorpe" outweighs
//! "investment"), Monge-Elkan over Jaro-Winkler (a word may be inflected or
//! misspelt differently), character trigrams (compound words split
//! differently: "e-bulletin", "ebulletin"). Then context: outcome and
//! activity wording, target-date continuity, a carried-over row one year on,
//! the theme. The score is the weighted sum (weights from
//! `rules/reconcile.toml`, summing to 1) less a penalty per skipped plan year.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use super::profile::{cosine, dice, Corpus, Profile, Profiles, Vocabulary};
use super::rows::MilestoneRow;
use crate::model::Section;
use crate::rules::Rules;

/// A unit-length TF-IDF vector, sorted by word id.
pub type TfIdf = Vec<(u32, f64)>;

/// Titles as content words, ready to compare.
pub struct Titles<'a> {
    pub profiles: &'a Profiles,
    pub vocab: &'a Vocabulary,
    pub rules: &'a Rules,
    /// Monge-Elkan and trigram Dice of each pair of distinct titles compared
    /// so far. They depend on the two titles alone, and a run compares the
    /// same few pairs over and over (a measure's title every quarter, an
    /// action's wording against each year's candidates): at 500 reports,
    /// about 600,000 comparisons of 12,000 distinct pairs. Sharded, so the
    /// threads scoring side by side seldom wait for one another.
    memo: [Mutex<PairMemo>; MEMO_SHARDS],
}

/// (title, title) → [Monge-Elkan, trigram Dice].
type PairMemo = HashMap<(u32, u32), [f64; 2], foldhash::fast::FixedState>;

const MEMO_SHARDS: usize = 16;

impl<'a> Titles<'a> {
    pub fn new(profiles: &'a Profiles, vocab: &'a Vocabulary, rules: &'a Rules) -> Titles<'a> {
        Titles { profiles, vocab, rules, memo: std::array::from_fn(|_| Mutex::default()) }
    }
}

/// Everything a pair of milestones is scored from.
pub struct Scorer<'a> {
    pub titles: Titles<'a>,
    pub milestones: &'a [MilestoneRow],
    pub rules: &'a Rules,
}

/// A scored candidate: the value of each feature (in the order of
/// [`crate::rules::Weights::named`]) and the penalty for skipped years.
#[derive(Debug, Clone, PartialEq)]
pub struct Scored {
    pub values: [f64; 11],
    pub gap_penalty: f64,
    /// Weighted sum less the penalty, rounded to 4 decimals so that the
    /// decision and the printed score agree.
    pub score: f64,
}

/// `x` to 4 decimals; never `-0` (an empty float sum is `-0.0`, which
/// would print as `-0.0` in the dataset).
pub fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0 + 0.0
}

impl Scored {
    /// Each feature's contribution (weight × value), and the year-gap penalty
    /// when there is one, as written in a link's `features`.
    pub fn contributions(&self, rules: &Rules) -> BTreeMap<Cow<'static, str>, f64> {
        let mut out: BTreeMap<Cow<'static, str>, f64> = rules
            .reconcile
            .weights
            .named()
            .iter()
            .zip(self.values)
            .filter(|((_, w), _)| *w > 0.0)
            .map(|((name, w), v)| (Cow::Borrowed(*name), round4(w * v)))
            .collect();
        if self.gap_penalty > 0.0 {
            out.insert("year_gap".into(), -round4(self.gap_penalty));
        }
        out
    }
}

impl Titles<'_> {
    /// Title similarities of profiles `a` and `b`: TF-IDF cosine,
    /// Monge-Elkan, trigram Dice.
    pub fn similarity(&self, a: usize, b: usize, va: &TfIdf, vb: &TfIdf) -> [f64; 3] {
        let (pa, pb) = (&self.profiles[a], &self.profiles[b]);
        let [me, ngram] = self.title_pair(pa, pb);
        [cosine(va, vb), me, ngram]
    }

    /// Monge-Elkan and trigram Dice of two profiles' titles, each pair of
    /// distinct titles computed once. Both measures are symmetric, so the
    /// pair is keyed in order.
    fn title_pair(&self, pa: &Profile, pb: &Profile) -> [f64; 2] {
        let key = (pa.title.min(pb.title), pa.title.max(pb.title));
        let shard = &self.memo[(key.0 ^ key.1.rotate_left(7)) as usize % MEMO_SHARDS];
        // A poisoned shard (a panic elsewhere while holding it) only means
        // a value may be missing: it is computed again.
        let lock = || shard.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(known) = lock().get(&key) {
            return *known;
        }
        let value = [self.monge_elkan(&pa.word_set, &pb.word_set), dice(&pa.grams, &pb.grams)];
        lock().insert(key, value);
        value
    }

    /// The mean of the three title similarities: how alike two titles are,
    /// context aside (renditions of one row, measure titles).
    pub fn mean_similarity(&self, a: usize, b: usize, va: &TfIdf, vb: &TfIdf) -> f64 {
        round4(self.similarity(a, b, va, vb).iter().sum::<f64>() / 3.0)
    }

    /// Symmetric Monge-Elkan: the mean, over the words of each title, of the
    /// best Jaro-Winkler match in the other, averaged both ways. Matches below
    /// the floor count as 0, so unrelated words do not add up to "half
    /// similar".
    fn monge_elkan(&self, a: &[u32], b: &[u32]) -> f64 {
        if a.is_empty() || b.is_empty() {
            return 0.0;
        }
        let floor = self.rules.reconcile.linking.monge_elkan_floor;
        let best = |w: u32, other: &[u32]| -> f64 {
            if other.binary_search(&w).is_ok() {
                return 1.0;
            }
            let word = self.vocab.word(w);
            other
                .iter()
                .filter(|o| self.vocab.may_reach(w, **o, floor))
                .map(|o| strsim::jaro_winkler(word, self.vocab.word(*o)))
                .filter(|s| *s >= floor)
                .fold(0.0, f64::max)
        };
        let one_way = |x: &[u32], y: &[u32]| x.iter().map(|w| best(*w, y)).sum::<f64>() / x.len() as f64;
        (one_way(a, b) + one_way(b, a)) / 2.0
    }
}

impl Scorer<'_> {
    pub fn profiles(&self) -> &Profiles {
        self.titles.profiles
    }

    /// Score the link `earlier` → `later`, `gap` plan years apart (0 for two
    /// rows of one plan year), against the titles of `corpus`.
    pub fn score(&self, earlier: usize, later: usize, va: &TfIdf, vb: &TfIdf, gap: usize, corpus: &Corpus) -> Scored {
        let (ea, la) = (&self.milestones[earlier], &self.milestones[later]);
        let (pa, pb) = (&self.profiles()[earlier], &self.profiles()[later]);
        let [tfidf, me, ngram] = self.titles.similarity(earlier, later, va, vb);
        let values = [
            tfidf,
            me,
            ngram,
            shared_name(pa, pb, corpus, self.rules.reconcile.linking.plain_word_credit),
            dice(&pa.outcome, &pb.outcome),
            dice(&pa.activity, &pb.activity),
            corpus.containment(pb, &pa.rationale),
            f64::from(u8::from(self.rules.reconcile.linking.open_statuses.contains(&ea.status))),
            date_continuity(ea, la),
            f64::from(u8::from(la.section == Section::CarriedOver && gap == 1)),
            self.theme_affinity(ea.theme_key.as_deref(), la.theme_key.as_deref()),
        ];
        let linking = &self.rules.reconcile.linking;
        let gap_penalty = linking.year_gap_penalty * gap.saturating_sub(1) as f64;
        let weighted: f64 = self.rules.reconcile.weights.named().iter().zip(values).map(|((_, w), v)| w * v).sum();
        Scored { values, gap_penalty, score: round4((weighted - gap_penalty).max(0.0)) }
    }

    /// 1 for the same theme, 0.5 for themes related in the crosswalk, else 0.
    pub fn theme_affinity(&self, a: Option<&str>, b: Option<&str>) -> f64 {
        match (a, b) {
            (Some(a), Some(b)) if a == b => 1.0,
            (Some(a), Some(b)) if self.rules.themes.related(a, b) => 0.5,
            _ => 0.0,
        }
    }
}

/// How specific the most specific name two titles share is: 1 when they
/// share a name (a word printed capitalised inside the sentence, or a run of
/// such words) that no plan year compared uses in more than one title
/// ("Forge Island", "Towns Fund", "Thurcroft"), 1/3 when the best they share
/// is used in three titles of some year. A specific word shared in lower
/// case counts `plain_word_credit` of that: it may be a name written
/// plainly ("tree planting") or a coincidence ("venues"). Siblings share
/// their type ("library", "cycleway") and differ in their names.
fn shared_name(a: &Profile, b: &Profile, corpus: &Corpus, plain_word_credit: f64) -> f64 {
    let best = |x: &[u64], y: &[u64], spec: &dyn Fn(u64) -> f64| {
        x.iter().filter(|t| y.binary_search(t).is_ok()).map(|t| spec(*t)).fold(0.0, f64::max)
    };
    let names = best(&a.names, &b.names, &|t| corpus.name_specificity(t));
    let words: Vec<u64> = a.word_set.iter().map(|w| u64::from(*w)).collect();
    let other: Vec<u64> = b.word_set.iter().map(|w| u64::from(*w)).collect();
    let plain = best(&words, &other, &|t| corpus.word_specificity(t as u32));
    names.max(plain * plain_word_credit)
}

/// The later row's target continues the earlier's: 1 when it is the same
/// target (the earlier's revised target when it has one), 0.5 when it comes
/// after it, 0 when earlier or unknown. Dates are ISO partial dates, so they
/// compare as text once cut to `YYYY-MM`.
fn date_continuity(earlier: &MilestoneRow, later: &MilestoneRow) -> f64 {
    let month = |d: &Option<std::sync::Arc<str>>| d.as_deref().map(|d| d.get(..7).unwrap_or(d).to_string());
    let Some(before) = month(&earlier.target.revised_end).or_else(|| month(&earlier.target.end)) else {
        return 0.0;
    };
    let after = [month(&later.target.end), month(&later.target.revised_end), month(&later.target.start)];
    if after.iter().flatten().any(|d| *d == before) {
        1.0
    } else if after.iter().flatten().any(|d| *d > before) {
        0.5
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::super::normalise::Normaliser;
    use super::super::profile::ProfileBuilder;
    use super::*;

    /// The memo of title pairs gives what computing afresh gives, whichever
    /// way round a pair is asked for and however often.
    #[test]
    fn remembered_title_pairs_are_the_computed_ones() {
        let rules = Rules::builtin().unwrap();
        let norm = Normaliser::new(&rules.reconcile);
        let titles = [
            "Plant trees in Herringthorpe",
            "Plant 500 trees in Herringthorpe park",
            "Open the Century business centre",
            "Deliver the Century Business Centre",
            "Plant trees in Herringthorpe",
        ];
        let mut builder = ProfileBuilder::default();
        let reads: Vec<_> =
            titles.iter().enumerate().map(|(i, t)| builder.add(&norm, [t, "", "", &i.to_string()])).collect();
        let (profiles, vocab) = builder.finish(&reads);
        let corpus = Corpus::of((0..titles.len()).map(|i| &profiles[i]));
        let v: Vec<TfIdf> = (0..titles.len()).map(|i| corpus.vector(&profiles[i])).collect();
        let memo = Titles::new(&profiles, &vocab, &rules);
        for round in 0..2 {
            for a in 0..titles.len() {
                for b in 0..titles.len() {
                    let fresh = Titles::new(&profiles, &vocab, &rules).similarity(a, b, &v[a], &v[b]);
                    assert_eq!(memo.similarity(a, b, &v[a], &v[b]), fresh, "{a}, {b} (round {round})");
                    assert_eq!(memo.similarity(b, a, &v[b], &v[a]), fresh, "{b}, {a} (round {round})");
                }
            }
        }
        let [_, me, ngram] = memo.similarity(0, 2, &v[0], &v[2]);
        assert!(me < 0.5 && ngram < 0.5, "unrelated titles are not alike: {me}, {ngram}");
        assert_eq!(memo.similarity(0, 4, &v[0], &v[4])[1..], [1.0, 1.0], "one title");
    }
}
