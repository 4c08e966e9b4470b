//! What is compared of each milestone, computed once per run.
//!
//! A [`Profile`] holds a milestone's title as content words (ids into a
//! [`Vocabulary`]), the title's character trigrams and the content words of
//! its outcome and activity. Word ids follow alphabetical order of the words,
//! not the order milestones were read in, so every sum over words is taken in
//! the same order whatever documents are in the run.

use std::collections::HashMap;
use std::sync::Arc;

use super::normalise::{for_each_word, Normaliser};

/// Content words by id.
#[derive(Debug, Clone, Default)]
pub struct Vocabulary {
    pub words: Vec<String>,
    /// Per word: its length in characters and how often each character
    /// occurs (by code point modulo 32), for [`Vocabulary::may_reach`].
    shapes: Vec<(usize, [u8; 32])>,
}

impl Vocabulary {
    pub fn new(words: Vec<String>) -> Vocabulary {
        let shapes = words
            .iter()
            .map(|w| {
                let mut h = [0u8; 32];
                w.chars().for_each(|c| h[c as usize % 32] = h[c as usize % 32].saturating_add(1));
                (w.chars().count(), h)
            })
            .collect();
        Vocabulary { words, shapes }
    }

    pub fn word(&self, id: u32) -> &str {
        self.words.get(id as usize).map_or("", String::as_str)
    }

    /// Whether the Jaro-Winkler similarity of two words can reach `floor`.
    ///
    /// Jaro counts m matching characters: j ≤ (m/|a| + m/|b| + 1) / 3, and m
    /// is at most the characters the two have in common. Winkler's prefix
    /// bonus lifts j to at most 0.6 j + 0.4. So when that bound is below the
    /// floor the exact (and costly) computation cannot reach it.
    pub fn may_reach(&self, a: u32, b: u32, floor: f64) -> bool {
        let (Some((la, ha)), Some((lb, hb))) = (self.shapes.get(a as usize), self.shapes.get(b as usize)) else {
            return true;
        };
        if *la == 0 || *lb == 0 {
            return true;
        }
        // A plain loop over the two fixed arrays: the compiler turns it into
        // a few vector instructions (this runs for every word pair compared).
        let mut common = 0u32;
        for i in 0..32 {
            common += u32::from(ha[i].min(hb[i]));
        }
        let m = f64::from(common);
        let jaro = (m / *la as f64 + m / *lb as f64 + 1.0) / 3.0;
        0.6 * jaro.min(1.0) + 0.4 >= floor
    }
}

/// One milestone, ready to compare.
///
/// The parts are shared (`Arc`): an archive repeats its titles, outcomes
/// and activities thousands of times with a different progress commentary
/// each time, and each such record has a profile of its own, so the title's
/// words and trigrams are held once per distinct title, not per profile.
#[derive(Debug, Clone, Default)]
pub struct Profile {
    /// The distinct title this profile has, numbered in this run's
    /// [`Profiles`]: two profiles with one number have one title, so what
    /// depends on the title alone can be computed once per pair of numbers
    /// ([`super::features::Titles`]).
    pub title: u32,
    /// Content words of the action, printed order, repeats kept.
    pub words: Arc<[u32]>,
    /// The same, sorted and without repeats.
    pub word_set: Arc<[u32]>,
    /// Character trigrams of the content words, sorted, without repeats.
    pub grams: Arc<[u64]>,
    /// Names in the action (see [`name_terms`]), sorted, without repeats.
    pub names: Arc<[u64]>,
    /// Content words of the outcome, the activity and the rationale (the
    /// progress commentary), sorted, without repeats.
    pub outcome: Arc<[u32]>,
    pub activity: Arc<[u32]>,
    pub rationale: Arc<[u32]>,
}

/// The profiles of a run's milestones (or measures), one per distinct
/// text: an archive holds the same rows many times over (a report as PDF and
/// as DOCX, measures repeated from quarter to quarter). Indexed by record,
/// like the records.
#[derive(Debug, Clone, Default)]
pub struct Profiles {
    distinct: Vec<Profile>,
    /// Per record: its profile in `distinct`.
    of: Vec<u32>,
}

impl std::ops::Index<usize> for Profiles {
    type Output = Profile;

    fn index(&self, record: usize) -> &Profile {
        &self.distinct[self.of[record] as usize]
    }
}

/// A title as read: its words (first-seen ids), which of them are printed
/// as names. (Its trigrams are made from the words by
/// [`ProfileBuilder::finish`]: held from the start they were the largest
/// part of what a run kept per title while its workers read.)
type TitleRead = (Box<[u32]>, Box<[bool]>);

/// One record as read by a [`ProfileBuilder`]: its title and its outcome
/// and activity texts as numbers into the builder's tables (an archive
/// repeats them), and the content words of its rationale (sorted
/// first-seen ids), which are the record's own.
///
/// The builder keeps what records share; the caller keeps these, one per
/// record, and gives them back to [`ProfileBuilder::finish`]. A run keeps
/// them with the record's packed row on disk while its workers read
/// ([`crate::reconcile::rows::Packed`]): held by the builder, the
/// rationales' words were most of what the supervisor grew by per report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct RecordRead {
    pub title: u32,
    pub outcome: u32,
    pub activity: u32,
    pub rationale: Box<[u32]>,
}

/// Reads records into profiles one at a time, so that a batch can profile
/// each document's records as the document arrives and keep word ids
/// instead of texts ([`crate::reconcile::rows`]).
///
/// Each distinct title, outcome and activity text is read once. Words are
/// numbered as they are first seen and renumbered in alphabetical order by
/// [`ProfileBuilder::finish`], so the profiles do not depend on the order
/// records were added in, and no text is held as strings longer than it
/// takes to read it. Texts are told apart by a 128-bit digest, not kept as
/// keys.
#[derive(Debug, Default)]
pub struct ProfileBuilder {
    /// Printed word → its content words' first-seen ids. The supervisor of
    /// a run profiles every record as its document arrives, and this is
    /// most of what it does while workers read (a few thousand distinct
    /// words, millions printed): one lookup per printed word, in a map
    /// with a fast hash (foldhash, still seeded per run), and stemming only
    /// the first time a word is seen.
    ids_of: HashMap<Box<str>, Box<[u32]>, foldhash::fast::RandomState>,
    /// Content word → first-seen id.
    seen: HashMap<String, u32>,
    /// Distinct titles and outcome/activity texts, by digest.
    title_of: HashMap<[u8; 16], u32>,
    context_of: HashMap<[u8; 16], u32>,
    titles: Vec<TitleRead>,
    /// Outcome and activity texts as sorted first-seen word ids.
    contexts: Vec<Box<[u32]>>,
}

impl ProfileBuilder {
    /// Read one record's `[title, outcome, activity, rationale]`, for
    /// [`ProfileBuilder::finish`] to take back.
    pub fn add(&mut self, norm: &Normaliser, text: [&str; 4]) -> RecordRead {
        let [action, outcome, activity, rationale] = text;
        let title = match self.title_of.get(&digest(&[action])) {
            Some(t) => *t,
            None => {
                let (mut words, mut names) = (Vec::new(), Vec::new());
                for_each_word(action, |raw, name| {
                    let ids = self.ids(norm, raw);
                    words.extend_from_slice(ids);
                    names.extend(ids.iter().map(|_| name));
                });
                self.titles.push((words.into_boxed_slice(), names.into_boxed_slice()));
                let t = self.titles.len() as u32 - 1;
                self.title_of.insert(digest(&[action]), t);
                t
            }
        };
        let outcome = self.context(norm, outcome);
        let activity = self.context(norm, activity);
        // Boxed, not a vector: one per record, held until the run's end,
        // and a vector keeps the capacity it grew to while the text was
        // read, often twice the words kept.
        let rationale = self.word_set(norm, rationale);
        RecordRead { title, outcome, activity, rationale }
    }

    fn context(&mut self, norm: &Normaliser, text: &str) -> u32 {
        let key = digest(&[text]);
        if let Some(c) = self.context_of.get(&key) {
            return *c;
        }
        let words = self.word_set(norm, text);
        self.contexts.push(words);
        let c = self.contexts.len() as u32 - 1;
        self.context_of.insert(key, c);
        c
    }

    /// The content words of `text` as sorted first-seen ids, without repeats.
    fn word_set(&mut self, norm: &Normaliser, text: &str) -> Box<[u32]> {
        let mut words = Vec::new();
        for_each_word(text, |raw, _| words.extend_from_slice(self.ids(norm, raw)));
        sorted_set(words).into_boxed_slice()
    }

    /// The first-seen ids of the content words one printed word gives.
    fn ids(&mut self, norm: &Normaliser, raw: &str) -> &[u32] {
        if !self.ids_of.contains_key(raw) {
            let ids: Box<[u32]> = norm
                .word_stems(raw)
                .into_iter()
                .map(|w| {
                    let next = self.seen.len() as u32;
                    *self.seen.entry(w).or_insert(next)
                })
                .collect();
            self.ids_of.insert(raw.into(), ids);
        }
        self.ids_of.get(raw).map_or(&[], |ids| &ids[..])
    }

    /// The profiles, indexed by record: `reads[i]` is what
    /// [`ProfileBuilder::add`] returned for record `i`. Records read alike
    /// share one profile. (Reads that came back from disk damaged, naming
    /// a title or text this builder never read, get empty parts.)
    pub fn finish(self, reads: &[RecordRead]) -> (Profiles, Vocabulary) {
        // First-seen id → alphabetical id.
        let mut by_word: Vec<(String, u32)> = self.seen.into_iter().collect();
        by_word.sort_unstable();
        let mut renumber = vec![0u32; by_word.len()];
        for (new, (_, old)) in by_word.iter().enumerate() {
            renumber[*old as usize] = new as u32;
        }
        let vocab = Vocabulary::new(by_word.into_iter().map(|(w, _)| w).collect());
        let ids = |ws: &[u32]| -> Vec<u32> { ws.iter().filter_map(|w| renumber.get(*w as usize).copied()).collect() };
        // The parts of each distinct title and context, shared by every
        // profile that has them.
        let titles: Vec<Profile> = self
            .titles
            .into_iter()
            .enumerate()
            .map(|(title, (words, flags))| {
                let words = ids(&words);
                let grams = trigrams(&words.iter().map(|w| vocab.word(*w)).collect::<Vec<_>>());
                Profile {
                    title: title as u32,
                    word_set: sorted_set(words.clone()).into(),
                    names: name_terms(&words, &flags).into(),
                    grams: grams.into(),
                    words: words.into(),
                    ..Profile::default()
                }
            })
            .collect();
        let contexts: Vec<Arc<[u32]>> = self.contexts.iter().map(|c| Arc::from(sorted_set(ids(c)))).collect();
        let context = |c: u32| contexts.get(c as usize).cloned().unwrap_or_else(|| Arc::from([]));
        let mut distinct = Vec::new();
        let mut numbers: HashMap<&RecordRead, u32, foldhash::fast::RandomState> = HashMap::default();
        let of = reads
            .iter()
            .map(|r| {
                *numbers.entry(r).or_insert_with(|| {
                    distinct.push(Profile {
                        outcome: context(r.outcome),
                        activity: context(r.activity),
                        rationale: sorted_set(ids(&r.rationale)).into(),
                        ..titles.get(r.title as usize).cloned().unwrap_or_default()
                    });
                    distinct.len() as u32 - 1
                })
            })
            .collect();
        (Profiles { distinct, of }, vocab)
    }
}

/// A digest of texts (each length-prefixed, so the
/// boundaries count): equal digests are equal texts, short of a 128-bit
/// SHA-256 collision.
fn digest(text: &[&str]) -> [u8; 16] {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for t in text {
        h.update((t.len() as u64).to_le_bytes());
        h.update(t.as_bytes());
    }
    let mut out = [0u8; 16];
    out.copy_from_slice(&h.finalize()[..16]);
    out
}

/// The names of a title: each word printed as a name, and each run of two
/// or more such words ("Towns Fund" is a name of its own, apart from
/// "Towns and Villages Fund"). Single words keep their word id; a run is a
/// hash of its ids with the top bit set.
fn name_terms(words: &[u32], flags: &[bool]) -> Vec<u64> {
    let mut out = Vec::new();
    let mut run: Vec<u32> = Vec::new();
    let close = |run: &mut Vec<u32>, out: &mut Vec<u64>| {
        if run.len() > 1 {
            let h =
                run.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, w| (h ^ u64::from(*w)).wrapping_mul(0x0100_0000_01b3));
            out.push(h | 1 << 63);
        }
        run.clear();
    };
    for (w, name) in words.iter().zip(flags) {
        if *name {
            out.push(u64::from(*w));
            run.push(*w);
        } else {
            close(&mut run, &mut out);
        }
    }
    close(&mut run, &mut out);
    sorted_set(out)
}

fn sorted_set<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort_unstable();
    v.dedup();
    v
}

/// Trigrams of the words joined by spaces, padded so that word edges count.
fn trigrams(words: &[&str]) -> Vec<u64> {
    let text: Vec<char> = format!(" {} ", words.join(" ")).chars().collect();
    let grams = text.windows(3).map(|w| w.iter().fold(0u64, |acc, c| (acc << 21) | (*c as u64)));
    sorted_set(grams.collect())
}

/// Size of the intersection of two sorted sets.
pub fn common<T: Ord>(a: &[T], b: &[T]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
}

/// Dice coefficient of two sorted sets (0 when either is empty).
pub fn dice<T: Ord>(a: &[T], b: &[T]) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    2.0 * common(a, b) as f64 / (a.len() + b.len()) as f64
}

/// The titles a comparison is made against, grouped by plan year: how rare
/// each word is (IDF) and how specific each word and word pair is.
///
/// A word's frequency is the largest share of one plan year's titles that
/// contain it. A project name that every plan year uses once ("Forge
/// Island") stays as rare as a word used once in all years; counted over all
/// years together it would look common just because the project ran long.
#[derive(Debug, Clone)]
pub struct Corpus {
    weights: HashMap<u32, f64>,
    unseen: f64,
    /// Most titles of one plan year that contain the word (word pair).
    most: HashMap<u32, u32>,
    pair_most: HashMap<u64, u32>,
    /// Mean titles per plan year.
    per_year: f64,
}

impl Corpus {
    /// A corpus of one group of titles.
    pub fn of<'a>(profiles: impl Iterator<Item = &'a Profile>) -> Corpus {
        Corpus::grouped(&[profiles.collect()])
    }

    /// A corpus of groups of titles (one group per plan year).
    pub fn grouped(groups: &[Vec<&Profile>]) -> Corpus {
        let mut most: HashMap<u32, u32> = HashMap::new();
        let mut pair_most: HashMap<u64, u32> = HashMap::new();
        let mut share: HashMap<u32, f64> = HashMap::new();
        let (mut titles, mut nonempty) = (0usize, 0usize);
        for g in groups.iter().filter(|g| !g.is_empty()) {
            let (mut df, mut pf): (HashMap<u32, u32>, HashMap<u64, u32>) = Default::default();
            for p in g {
                p.word_set.iter().for_each(|w| *df.entry(*w).or_default() += 1);
                p.names.iter().for_each(|w| *pf.entry(*w).or_default() += 1);
            }
            let n = g.len() as f64;
            (titles, nonempty) = (titles + g.len(), nonempty + 1);
            for (w, d) in df {
                let s = share.entry(w).or_default();
                *s = s.max(f64::from(d) / n);
                let m = most.entry(w).or_default();
                *m = (*m).max(d);
            }
            for (w, d) in pf {
                let m = pair_most.entry(w).or_default();
                *m = (*m).max(d);
            }
        }
        // IDF as if each plan year had the mean number of titles.
        let n = (titles as f64 / nonempty.max(1) as f64).max(1.0);
        let idf = |sh: f64| ((n + 1.0) / (sh * n + 1.0)).ln() + 1.0;
        Corpus {
            weights: share.into_iter().map(|(w, s)| (w, idf(s))).collect(),
            unseen: idf(0.0),
            most,
            pair_most,
            per_year: n,
        }
    }

    /// The unit-length TF-IDF vector of a title (sublinear term frequency).
    pub fn vector(&self, p: &Profile) -> Vec<(u32, f64)> {
        let mut v: Vec<(u32, f64)> = Vec::with_capacity(p.word_set.len());
        for w in p.word_set.iter() {
            let tf = p.words.iter().filter(|x| *x == w).count() as f64;
            v.push((*w, (1.0 + tf.ln()) * self.weights.get(w).copied().unwrap_or(self.unseen)));
        }
        let norm = v.iter().map(|(_, x)| x * x).sum::<f64>().sqrt();
        if norm > 0.0 {
            v.iter_mut().for_each(|(_, x)| *x /= norm);
        }
        v
    }

    /// The rarity-weighted share of the words of `p` found in `words`
    /// (sorted): 1 when `words` mentions all of them.
    pub fn containment(&self, p: &Profile, words: &[u32]) -> f64 {
        let weight = |w: &u32| self.weights.get(w).copied().unwrap_or(self.unseen);
        let total: f64 = p.word_set.iter().map(weight).sum();
        if total <= 0.0 {
            return 0.0;
        }
        p.word_set.iter().filter(|w| words.binary_search(w).is_ok()).map(weight).sum::<f64>() / total
    }

    /// The most titles of one plan year that contain `w`.
    pub fn most_titles(&self, w: u32) -> u32 {
        self.most.get(&w).copied().unwrap_or(0)
    }

    /// Mean titles per plan year.
    pub fn titles_per_year(&self) -> f64 {
        self.per_year
    }

    /// How specific a word is: 1 when no plan year has it in more than one
    /// title (a name), 1/3 when some plan year has it in three (a type).
    pub fn word_specificity(&self, w: u32) -> f64 {
        1.0 / f64::from(self.most.get(&w).copied().unwrap_or(1).max(1))
    }

    /// The same for a name term: a single word counts all its uses, printed
    /// as a name or not ("Care" in "Care Quality Commission" is no rarer than
    /// "care"); a run of names counts the titles with that run.
    pub fn name_specificity(&self, term: u64) -> f64 {
        if term >> 63 == 0 {
            return self.word_specificity(term as u32);
        }
        let pair = term;
        1.0 / f64::from(self.pair_most.get(&pair).copied().unwrap_or(1).max(1))
    }
}

/// Cosine of two unit vectors sorted by word id.
pub fn cosine(a: &[(u32, f64)], b: &[(u32, f64)]) -> f64 {
    let (mut i, mut j, mut dot) = (0, 0, 0.0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                dot += a[i].1 * b[j].1;
                i += 1;
                j += 1;
            }
        }
    }
    dot.clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Profiles of `[title, outcome, activity, rationale]` texts (same order)
    /// and their vocabulary.
    fn profiles(texts: impl Iterator<Item = [String; 4]>, norm: &Normaliser) -> (Profiles, Vocabulary) {
        let mut builder = ProfileBuilder::default();
        let reads: Vec<RecordRead> = texts.map(|t| builder.add(norm, [&t[0], &t[1], &t[2], &t[3]])).collect();
        builder.finish(&reads)
    }

    #[test]
    fn set_measures() {
        assert_eq!(common(&[1, 2, 3, 5], &[2, 5, 7]), 2);
        assert!((dice(&[1, 2], &[2, 3]) - 0.5).abs() < 1e-12);
        assert_eq!(dice::<u32>(&[], &[1]), 0.0);
    }

    #[test]
    fn identical_texts_share_one_profile_and_words_are_numbered_alphabetically() {
        let rules = crate::rules::Rules::builtin().unwrap();
        let norm = Normaliser::new(&rules.reconcile);
        let text = |a: &str, r: &str| [a.to_string(), "Outcome".to_string(), String::new(), r.to_string()];
        let texts = [
            text("Plant trees in Herringthorpe", "On track"),
            text("Open the Century business centre", "Delayed"),
            text("Plant trees in Herringthorpe", "On track"),
            text("Plant trees in Herringthorpe", "Behind"),
        ];
        let (profiles, vocab) = profiles(texts.into_iter(), &norm);
        assert_eq!(profiles.of, [0, 1, 0, 2], "one profile per distinct text, indexed by record");
        assert_eq!(profiles.distinct.len(), 3);
        assert_eq!(profiles[0].words, profiles[2].words);
        assert_eq!(profiles[0].words, profiles[3].words);
        assert_ne!(profiles[0].rationale, profiles[3].rationale);
        assert_eq!(profiles[0].title, profiles[3].title, "one title, one number");
        assert_ne!(profiles[0].title, profiles[1].title);
        let words: Vec<&str> = profiles[1].word_set.iter().map(|w| vocab.word(*w)).collect();
        let mut sorted = words.clone();
        sorted.sort_unstable();
        assert_eq!(words, sorted, "ids follow alphabetical order");
        assert!(vocab.words.windows(2).all(|w| w[0] < w[1]));
    }

    /// Reads come back from a file on disk: one naming a title, text or
    /// word the builder never read gets empty parts, not a panic.
    #[test]
    fn damaged_reads_give_empty_parts() {
        let rules = crate::rules::Rules::builtin().unwrap();
        let norm = Normaliser::new(&rules.reconcile);
        let mut builder = ProfileBuilder::default();
        let good = builder.add(&norm, ["Plant trees in Herringthorpe", "Greener borough", "", "Planted in May"]);
        let bad = RecordRead { title: 999, outcome: 999, activity: 7, rationale: Box::new([12_345]) };
        let (profiles, _) = builder.finish(&[good.clone(), bad, good]);
        assert_eq!(profiles.of, [0, 1, 0]);
        assert!(!profiles[0].words.is_empty() && !profiles[0].outcome.is_empty() && !profiles[0].rationale.is_empty());
        let p = &profiles[1];
        assert!(p.words.is_empty() && p.outcome.is_empty() && p.activity.is_empty() && p.rationale.is_empty());
    }

    #[test]
    fn rare_words_weigh_more() {
        let p = |w: &[u32]| Profile { words: w.into(), word_set: sorted_set(w.to_vec()).into(), ..Default::default() };
        let titles = [p(&[0, 1]), p(&[0, 2]), p(&[0, 3]), p(&[0, 1])];
        let idf = Corpus::of(titles.iter());
        let v = idf.vector(&titles[0]);
        assert!(v[1].1 > v[0].1, "word 1 (in 2 titles) outweighs word 0 (in all): {v:?}");
        assert!((cosine(&v, &v) - 1.0).abs() < 1e-9);
    }
}
