//! `plantrace eval DATASET GOLD`: score a dataset against hand-checked gold
//! (SPEC §6).
//!
//! GOLD is one gold file or a folder of them. A gold file `NAME.json` scores
//! every dataset document whose file name without extension is `NAME` (so the
//! PDF and the DOCX rendition of one report share a gold file). Gold files
//! with `series` (e.g. `series.json`) give the "same action across years"
//! links.
//!
//! Matching: a milestone matches a gold row when their actions agree after
//! folding case, whitespace, punctuation and hyphenation (only letters and
//! digits are compared); each gold row matches at most one milestone.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::model::{Dataset, Decision, Document, Measure, Milestone};

/// One gold file.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Gold {
    #[serde(default)]
    pub milestones: Vec<GoldMilestone>,
    #[serde(default)]
    pub measures: Vec<GoldMeasure>,
    #[serde(default)]
    pub key_entries: Vec<GoldKey>,
    #[serde(default)]
    pub series: Vec<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GoldMilestone {
    #[serde(default)]
    pub plan_year: Option<String>,
    #[serde(default)]
    pub theme_key: Option<String>,
    #[serde(default)]
    pub outcome: Option<String>,
    pub action: String,
    #[serde(default)]
    pub target_end: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub rationale: Option<String>,
    /// `main` or `carried_over`; not scored when absent.
    #[serde(default)]
    pub section: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GoldMeasure {
    #[serde(rename = "ref")]
    pub r#ref: String,
    #[serde(default)]
    pub period: Option<String>,
    #[serde(default)]
    pub value: Option<f64>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub direction: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GoldKey {
    pub kind: String,
    pub label: String,
    #[serde(default)]
    pub canonical: Option<String>,
}

/// Gold files by name (file stem), plus the series from all of them.
#[derive(Debug, Clone, Default)]
pub struct GoldSet {
    pub docs: BTreeMap<String, Gold>,
    pub series: Vec<Vec<String>>,
}

/// Load a gold file or a folder of gold files.
pub fn load_gold(path: &Path) -> Result<GoldSet> {
    let mut files = Vec::new();
    if path.is_dir() {
        for e in std::fs::read_dir(path).with_context(|| format!("reading gold folder {}", path.display()))? {
            let p = e?.path();
            if p.extension().is_some_and(|x| x == "json") {
                files.push(p);
            }
        }
        files.sort();
    } else if path.is_file() {
        files.push(path.to_path_buf());
    } else {
        bail!("gold {} does not exist; give a gold .json file or a folder of them", path.display());
    }
    let mut set = GoldSet::default();
    for f in files {
        let text = std::fs::read_to_string(&f).with_context(|| format!("reading {}", f.display()))?;
        let gold: Gold =
            serde_json::from_str(&text).with_context(|| format!("{} is not a gold file (SPEC §6)", f.display()))?;
        let name = f.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
        set.series.extend(gold.series.iter().cloned());
        // series.json (or any file with only series) is about links, not a document.
        let links_only = name == "series"
            || (gold.milestones.is_empty()
                && gold.measures.is_empty()
                && gold.key_entries.is_empty()
                && !gold.series.is_empty());
        if !links_only {
            set.docs.insert(name, gold);
        }
    }
    Ok(set)
}

/// The text two renderings of one action agree on: letters and digits only,
/// lower-case.
pub fn match_key(text: &str) -> String {
    text.chars().filter(|c| c.is_alphanumeric()).flat_map(|c| c.to_lowercase()).collect()
}

fn fold(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase()
}

/// Similarity of two texts in 0..1 (normalised Levenshtein over folded text).
pub fn text_similarity(a: &str, b: &str) -> f64 {
    let (a, b) = (fold(a), fold(b));
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    strsim::normalized_levenshtein(&a, &b)
}

/// Counts for one document (or summed over several).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    pub gold_rows: usize,
    pub predicted_rows: usize,
    pub matched_rows: usize,
    pub status_ok: usize,
    pub target_end_ok: usize,
    pub theme_key_ok: usize,
    pub outcome_ok: usize,
    pub section_ok: usize,
    pub rationale_similarity_sum: f64,
    pub gold_measures: usize,
    pub found_measures: usize,
    pub measure_status_ok: usize,
    pub measure_direction_ok: usize,
    pub measure_value_ok: usize,
    pub gold_keys: usize,
    pub keys_ok: usize,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.gold_rows += o.gold_rows;
        self.predicted_rows += o.predicted_rows;
        self.matched_rows += o.matched_rows;
        self.status_ok += o.status_ok;
        self.target_end_ok += o.target_end_ok;
        self.theme_key_ok += o.theme_key_ok;
        self.outcome_ok += o.outcome_ok;
        self.section_ok += o.section_ok;
        self.rationale_similarity_sum += o.rationale_similarity_sum;
        self.gold_measures += o.gold_measures;
        self.found_measures += o.found_measures;
        self.measure_status_ok += o.measure_status_ok;
        self.measure_direction_ok += o.measure_direction_ok;
        self.measure_value_ok += o.measure_value_ok;
        self.gold_keys += o.gold_keys;
        self.keys_ok += o.keys_ok;
    }

    pub fn metrics(&self) -> Metrics {
        let ratio = |n: usize, d: usize| if d == 0 { 1.0 } else { n as f64 / d as f64 };
        let m = self.matched_rows;
        Metrics {
            precision: ratio(m, self.predicted_rows),
            recall: ratio(m, self.gold_rows),
            status: ratio(self.status_ok, m),
            target_end: ratio(self.target_end_ok, m),
            theme_key: ratio(self.theme_key_ok, m),
            outcome: ratio(self.outcome_ok, m),
            section: ratio(self.section_ok, m),
            rationale: if m == 0 { 1.0 } else { self.rationale_similarity_sum / m as f64 },
            measure_recall: ratio(self.found_measures, self.gold_measures),
            measure_status: ratio(self.measure_status_ok, self.found_measures),
            measure_direction: ratio(self.measure_direction_ok, self.found_measures),
            measure_value: ratio(self.measure_value_ok, self.found_measures),
            keys: ratio(self.keys_ok, self.gold_keys),
        }
    }
}

/// Rates derived from [`Counts`].
#[derive(Debug, Clone, Serialize)]
pub struct Metrics {
    pub precision: f64,
    pub recall: f64,
    pub status: f64,
    pub target_end: f64,
    pub theme_key: f64,
    pub outcome: f64,
    pub section: f64,
    pub rationale: f64,
    pub measure_recall: f64,
    pub measure_status: f64,
    pub measure_direction: f64,
    pub measure_value: f64,
    pub keys: f64,
}

/// Pairwise link scores.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PairScore {
    pub predicted_pairs: usize,
    pub gold_pairs: usize,
    pub true_pairs: usize,
}

impl PairScore {
    pub fn precision(&self) -> f64 {
        if self.predicted_pairs == 0 {
            1.0
        } else {
            self.true_pairs as f64 / self.predicted_pairs as f64
        }
    }
    pub fn recall(&self) -> f64 {
        if self.gold_pairs == 0 {
            1.0
        } else {
            self.true_pairs as f64 / self.gold_pairs as f64
        }
    }
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

/// Link quality over the reconciled series.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LinkReport {
    /// Pairwise scores of "same series", from `auto` and `manual` links.
    pub overall: PairScore,
    pub by_year_pair: BTreeMap<String, PairScore>,
    pub bcubed_precision: f64,
    pub bcubed_recall: f64,
    pub links_total: usize,
    pub links_auto: usize,
    pub links_manual: usize,
    pub links_review: usize,
    /// Of the `auto` links, those joining one row in two renditions of a report.
    pub links_rendition: usize,
    /// Share of review-band links whose two ends are in one gold series.
    pub review_precision: f64,
    /// Split and merge proposals (always for review, never links).
    pub proposals: usize,
    /// Share of proposals whose two ends are in one gold series.
    pub proposal_precision: f64,
    /// Share of links decided without a person (`auto` of all links).
    pub auto_share: f64,
    /// What a person is asked to look at: review links plus proposals.
    pub review_band: usize,
    /// Pairwise scores if every review link were confirmed: what the review
    /// band can add at most.
    pub if_review_confirmed: PairScore,
}

impl LinkReport {
    pub fn bcubed_f1(&self) -> f64 {
        let (p, r) = (self.bcubed_precision, self.bcubed_recall);
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

/// Scores of one document.
#[derive(Debug, Clone, Serialize)]
pub struct DocReport {
    pub gold: String,
    pub path: String,
    pub counts: Counts,
    pub metrics: Metrics,
}

/// The whole evaluation.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub documents: Vec<DocReport>,
    pub overall: Counts,
    pub overall_metrics: Metrics,
    pub links: Option<LinkReport>,
    /// Gold files no dataset document matched.
    pub unmatched_gold: Vec<String>,
}

fn stem(path: &str) -> String {
    Path::new(path).file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default()
}

/// Pair each gold row with at most one milestone of the same action.
fn match_rows<'a>(gold: &'a [GoldMilestone], pred: &[&'a Milestone]) -> Vec<(&'a GoldMilestone, &'a Milestone)> {
    let mut by_key: HashMap<String, Vec<&Milestone>> = HashMap::new();
    for m in pred {
        by_key.entry(match_key(&m.action)).or_default().push(m);
    }
    for v in by_key.values_mut() {
        v.reverse(); // pop() then takes them in document order
    }
    gold.iter().filter_map(|g| by_key.get_mut(&match_key(&g.action)).and_then(|v| v.pop()).map(|m| (g, m))).collect()
}

fn score_doc(doc: &Document, gold: &Gold, ds: &Dataset) -> (Counts, Vec<(String, String)>) {
    let pred: Vec<&Milestone> = ds.milestones.iter().filter(|m| m.document_id == doc.id).collect();
    let mut c = Counts { gold_rows: gold.milestones.len(), predicted_rows: pred.len(), ..Default::default() };
    let pairs = match_rows(&gold.milestones, &pred);
    let mut matched = Vec::new();
    c.matched_rows = pairs.len();
    for (g, m) in &pairs {
        matched.push((m.id.clone(), g.action.clone()));
        let status = serde_json::to_value(m.status.canonical).ok().and_then(|v| v.as_str().map(String::from));
        c.status_ok += (g.status == status) as usize;
        c.target_end_ok += (g.target_end == m.target.end) as usize;
        c.theme_key_ok += (g.theme_key == m.theme_key) as usize;
        c.outcome_ok += (g.outcome.as_deref().map(fold) == m.outcome.as_deref().map(fold)) as usize;
        let section = serde_json::to_value(m.section).ok().and_then(|v| v.as_str().map(String::from));
        c.section_ok += g.section.as_ref().is_none_or(|s| Some(s) == section.as_ref()) as usize;
        c.rationale_similarity_sum +=
            text_similarity(g.rationale.as_deref().unwrap_or(""), m.rationale.as_deref().unwrap_or(""));
    }

    let measures: Vec<&Measure> = ds.measures.iter().filter(|m| m.document_id == doc.id).collect();
    c.gold_measures = gold.measures.len();
    let mut used = vec![false; measures.len()];
    for g in &gold.measures {
        let want_source = g.source.as_deref();
        let found = measures.iter().enumerate().find(|(i, m)| {
            !used[*i]
                && m.r#ref.as_deref() == Some(g.r#ref.as_str())
                && want_source.is_none_or(|s| {
                    serde_json::to_value(m.source).ok().and_then(|v| v.as_str().map(String::from)).as_deref() == Some(s)
                })
        });
        if let Some((i, m)) = found {
            used[i] = true;
            c.found_measures += 1;
            let st = m
                .status
                .canonical
                .and_then(|s| serde_json::to_value(s).ok())
                .and_then(|v| v.as_str().map(String::from));
            let dir = m
                .direction
                .canonical
                .and_then(|s| serde_json::to_value(s).ok())
                .and_then(|v| v.as_str().map(String::from));
            c.measure_status_ok += (g.status == st) as usize;
            c.measure_direction_ok += (g.direction == dir) as usize;
            let value = m.value.as_ref().and_then(|v| v.number);
            c.measure_value_ok += match (g.value, value) {
                (Some(a), Some(b)) => (a - b).abs() < 1e-6,
                (None, None) => true,
                _ => false,
            } as usize;
        }
    }

    c.gold_keys = gold.key_entries.len();
    let keys: Vec<_> = ds.scorecard_keys.iter().filter(|k| k.document_id == doc.id).collect();
    let mut used = vec![false; keys.len()];
    for g in &gold.key_entries {
        let found = keys.iter().enumerate().find(|(i, k)| {
            !used[*i]
                && serde_json::to_value(k.kind).ok().and_then(|v| v.as_str().map(String::from)).as_deref()
                    == Some(g.kind.as_str())
                && match_key(&k.label) == match_key(&g.label)
        });
        if let Some((i, k)) = found {
            used[i] = true;
            c.keys_ok += (k.canonical == g.canonical) as usize;
        }
    }
    (c, matched)
}

/// Union-find over milestone positions.
struct Clusters(Vec<usize>);

impl Clusters {
    fn find(&mut self, mut x: usize) -> usize {
        while self.0[x] != x {
            self.0[x] = self.0[self.0[x]];
            x = self.0[x];
        }
        x
    }

    fn join(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        if a != b {
            self.0[a.max(b)] = a.min(b);
        }
    }
}

/// The predicted cluster of every milestone (by position in the dataset)
/// when the links whose decision `accept` allows are taken.
fn predicted(ds: &Dataset, index: &HashMap<&str, usize>, accept: impl Fn(Decision) -> bool) -> Vec<usize> {
    let mut c = Clusters((0..ds.milestones.len()).collect());
    for member in ds.series.iter().flat_map(|s| &s.members) {
        let Some(link) = member.link.as_ref().filter(|l| accept(l.decision)) else { continue };
        if let (Some(a), Some(b)) = (index.get(member.milestone_id.as_str()), index.get(link.from.as_str())) {
            c.join(*a, *b);
        }
    }
    (0..ds.milestones.len()).map(|i| c.find(i)).collect()
}

/// Pairwise scores over `items` (positions), overall and by plan-year pair.
fn pair_scores(
    ds: &Dataset,
    items: &[usize],
    pred: &[usize],
    gold: &[String],
) -> (PairScore, BTreeMap<String, PairScore>) {
    let year = |i: usize| ds.milestones[i].plan_year.clone().unwrap_or_else(|| "?".into());
    let (mut overall, mut by_year) = (PairScore::default(), BTreeMap::<String, PairScore>::new());
    for (x, &i) in items.iter().enumerate() {
        for (y, &j) in items.iter().enumerate().skip(x + 1) {
            let (p, g) = (pred[i] == pred[j], gold[x] == gold[y]);
            if !p && !g {
                continue;
            }
            let (ya, yb) = (year(i), year(j));
            let key = if ya <= yb { format!("{ya} ~ {yb}") } else { format!("{yb} ~ {ya}") };
            for score in [&mut overall, by_year.entry(key).or_default()] {
                score.predicted_pairs += p as usize;
                score.gold_pairs += g as usize;
                score.true_pairs += (p && g) as usize;
            }
        }
    }
    (overall, by_year)
}

/// B-cubed precision and recall over `items` (positions).
fn bcubed(items: &[usize], pred: &[usize], gold: &[String]) -> (f64, f64) {
    let n = items.len();
    if n == 0 {
        return (1.0, 1.0);
    }
    let mut pc: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut gc: HashMap<&str, usize> = HashMap::new();
    for (x, &i) in items.iter().enumerate() {
        pc.entry(pred[i]).or_default().push(x);
        *gc.entry(gold[x].as_str()).or_default() += 1;
    }
    let (mut bp, mut br) = (0.0, 0.0);
    for (x, &i) in items.iter().enumerate() {
        let cluster = &pc[&pred[i]];
        let both = cluster.iter().filter(|y| gold[**y] == gold[x]).count() as f64;
        bp += both / cluster.len() as f64;
        br += both / gc[gold[x].as_str()] as f64;
    }
    (bp / n as f64, br / n as f64)
}

fn share(n: usize, d: usize) -> f64 {
    if d == 0 {
        1.0
    } else {
        n as f64 / d as f64
    }
}

/// Score links: clusters from `auto` and `manual` links only; review links
/// and proposals are counted and checked against the gold, not taken.
fn score_links(ds: &Dataset, matched: &HashMap<String, String>, gold_series: &[Vec<String>]) -> LinkReport {
    let mut gold_cluster_of_text: HashMap<String, usize> = HashMap::new();
    for (i, s) in gold_series.iter().enumerate() {
        for t in s {
            gold_cluster_of_text.entry(match_key(t)).or_insert(i);
        }
    }
    let index: HashMap<&str, usize> = ds.milestones.iter().enumerate().map(|(i, m)| (m.id.as_str(), i)).collect();
    let gold_of_id = |id: &str| -> Option<String> {
        let m = &ds.milestones[*index.get(id)?];
        let key = match_key(matched.get(&m.id)?);
        Some(match gold_cluster_of_text.get(&key) {
            Some(i) => format!("S{i}"),
            None => format!("T{}:{key}", m.plan_year.as_deref().unwrap_or("")),
        })
    };
    // Universe: milestones matched to a gold row, in id order.
    let mut items: Vec<usize> =
        (0..ds.milestones.len()).filter(|i| matched.contains_key(&ds.milestones[*i].id)).collect();
    items.sort_by(|a, b| ds.milestones[*a].id.cmp(&ds.milestones[*b].id));
    let gold: Vec<String> = items.iter().filter_map(|i| gold_of_id(&ds.milestones[*i].id)).collect();
    let right = |a: &str, b: &str| gold_of_id(a).is_some_and(|g| gold_of_id(b) == Some(g));

    let mut report = LinkReport::default();
    let (mut review_ok, mut proposal_ok) = (0, 0);
    for s in &ds.series {
        for member in &s.members {
            let Some(link) = &member.link else { continue };
            report.links_total += 1;
            match link.decision {
                Decision::Auto => report.links_auto += 1,
                Decision::Manual => report.links_manual += 1,
                Decision::Review => {
                    report.links_review += 1;
                    review_ok += usize::from(right(&member.milestone_id, &link.from));
                }
            }
            report.links_rendition += usize::from(link.features.contains_key("rendition"));
        }
        for p in &s.proposals {
            report.proposals += 1;
            proposal_ok += usize::from(p.to.as_deref().is_some_and(|to| right(to, &p.from)));
        }
    }
    report.review_precision = share(review_ok, report.links_review);
    report.proposal_precision = share(proposal_ok, report.proposals);
    report.auto_share = share(report.links_auto, report.links_total);
    report.review_band = report.links_review + report.proposals;

    let decided = predicted(ds, &index, |d| d != Decision::Review);
    (report.overall, report.by_year_pair) = pair_scores(ds, &items, &decided, &gold);
    (report.bcubed_precision, report.bcubed_recall) = bcubed(&items, &decided, &gold);
    report.if_review_confirmed = pair_scores(ds, &items, &predicted(ds, &index, |_| true), &gold).0;
    report
}

/// Score a dataset against a gold set.
pub fn evaluate(ds: &Dataset, gold: &GoldSet) -> Report {
    let mut documents = Vec::new();
    let mut overall = Counts::default();
    let mut matched: HashMap<String, String> = HashMap::new();
    let mut used_gold = std::collections::BTreeSet::new();
    let single = ds.documents.len() == 1 && gold.docs.len() == 1;
    for doc in &ds.documents {
        let name = stem(&doc.path);
        let entry = gold
            .docs
            .get(&name)
            .map(|g| (name.clone(), g))
            .or_else(|| single.then(|| gold.docs.iter().next().map(|(n, g)| (n.clone(), g))).flatten());
        let Some((gname, g)) = entry else { continue };
        used_gold.insert(gname.clone());
        let (counts, m) = score_doc(doc, g, ds);
        matched.extend(m);
        overall.add(&counts);
        documents.push(DocReport { gold: gname, path: doc.path.clone(), metrics: counts.metrics(), counts });
    }
    let links = (!gold.series.is_empty()).then(|| score_links(ds, &matched, &gold.series));
    let unmatched_gold = gold.docs.keys().filter(|k| !used_gold.contains(*k)).cloned().collect();
    Report { documents, overall_metrics: overall.metrics(), overall, links, unmatched_gold }
}

/// Minimum figures a run must reach (`--min-*`); checked per document.
#[derive(Debug, Clone, Default)]
pub struct Thresholds {
    pub precision: Option<f64>,
    pub recall: Option<f64>,
    pub field: Option<f64>,
    pub measure_recall: Option<f64>,
    pub measure_field: Option<f64>,
    pub keys: Option<f64>,
    pub link_f1: Option<f64>,
}

/// Every threshold a report misses, as sentences.
pub fn failures(report: &Report, t: &Thresholds) -> Vec<String> {
    let mut out = Vec::new();
    let mut check = |what: &str, value: f64, min: Option<f64>| {
        if let Some(min) = min {
            if value + 1e-12 < min {
                out.push(format!("{what} {value:.3} < {min:.3}"));
            }
        }
    };
    for d in &report.documents {
        let m = &d.metrics;
        let c = &d.counts;
        if c.gold_rows > 0 || c.predicted_rows > 0 {
            check(&format!("{}: row precision", d.path), m.precision, t.precision);
            check(&format!("{}: row recall", d.path), m.recall, t.recall);
            for (name, v) in
                [("status", m.status), ("target_end", m.target_end), ("theme_key", m.theme_key), ("outcome", m.outcome)]
            {
                check(&format!("{}: {name}", d.path), v, t.field);
            }
        }
        if c.gold_measures > 0 {
            check(&format!("{}: measure recall", d.path), m.measure_recall, t.measure_recall);
            for (name, v) in
                [("measure status", m.measure_status), ("direction", m.measure_direction), ("value", m.measure_value)]
            {
                check(&format!("{}: {name}", d.path), v, t.measure_field);
            }
        }
        if c.gold_keys > 0 {
            check(&format!("{}: key entries", d.path), m.keys, t.keys);
        }
    }
    if let Some(l) = &report.links {
        check("link F1", l.overall.f1(), t.link_f1);
    }
    out
}

/// The report as the tables `plantrace eval` prints.
pub fn render(report: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Milestones");
    let _ = writeln!(
        s,
        "{:<48} {:>9} {:>6} {:>6} {:>6} {:>6} {:>6} {:>7} {:>7} {:>9}",
        "document", "rows", "prec", "recall", "status", "end", "theme", "outcome", "section", "rationale"
    );
    let row = |s: &mut String, name: &str, c: &Counts, m: &Metrics| {
        let _ = writeln!(
            s,
            "{:<48} {:>9} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>7.3} {:>7.3} {:>9.3}",
            truncate(name, 48),
            format!("{}/{}", c.matched_rows, c.gold_rows),
            m.precision,
            m.recall,
            m.status,
            m.target_end,
            m.theme_key,
            m.outcome,
            m.section,
            m.rationale
        );
    };
    for d in report.documents.iter().filter(|d| d.counts.gold_rows + d.counts.predicted_rows > 0) {
        row(&mut s, &d.path, &d.counts, &d.metrics);
    }
    row(&mut s, "overall", &report.overall, &report.overall_metrics);

    let _ = writeln!(s, "\nMeasures and keys");
    let _ = writeln!(
        s,
        "{:<48} {:>9} {:>6} {:>6} {:>6} {:>6} {:>9}",
        "document", "measures", "recall", "status", "dir", "value", "keys"
    );
    let mrow = |s: &mut String, name: &str, c: &Counts, m: &Metrics| {
        let _ = writeln!(
            s,
            "{:<48} {:>9} {:>6.3} {:>6.3} {:>6.3} {:>6.3} {:>9}",
            truncate(name, 48),
            format!("{}/{}", c.found_measures, c.gold_measures),
            m.measure_recall,
            m.measure_status,
            m.measure_direction,
            m.measure_value,
            format!("{}/{} {:.3}", c.keys_ok, c.gold_keys, m.keys)
        );
    };
    for d in report.documents.iter().filter(|d| d.counts.gold_measures + d.counts.gold_keys > 0) {
        mrow(&mut s, &d.path, &d.counts, &d.metrics);
    }
    mrow(&mut s, "overall", &report.overall, &report.overall_metrics);

    if let Some(l) = &report.links {
        let _ = writeln!(s, "\nLinks (auto and manual decisions; review-band links not counted)");
        let _ = writeln!(
            s,
            "{:<24} {:>9} {:>9} {:>9} {:>6} {:>6} {:>6}",
            "year pair", "predicted", "gold", "true", "prec", "recall", "F1"
        );
        for (k, p) in &l.by_year_pair {
            let _ = writeln!(
                s,
                "{:<24} {:>9} {:>9} {:>9} {:>6.3} {:>6.3} {:>6.3}",
                k,
                p.predicted_pairs,
                p.gold_pairs,
                p.true_pairs,
                p.precision(),
                p.recall(),
                p.f1()
            );
        }
        let p = &l.overall;
        let _ = writeln!(
            s,
            "{:<24} {:>9} {:>9} {:>9} {:>6.3} {:>6.3} {:>6.3}",
            "overall",
            p.predicted_pairs,
            p.gold_pairs,
            p.true_pairs,
            p.precision(),
            p.recall(),
            p.f1()
        );
        let _ = writeln!(
            s,
            "B-cubed precision {:.3} recall {:.3} F1 {:.3}",
            l.bcubed_precision,
            l.bcubed_recall,
            l.bcubed_f1()
        );
        let _ = writeln!(
            s,
            "links {} (auto {}, of which renditions {}; manual {}; review {}), decided automatically {:.1}%",
            l.links_total,
            l.links_auto,
            l.links_rendition,
            l.links_manual,
            l.links_review,
            100.0 * l.auto_share
        );
        let _ = writeln!(
            s,
            "review band {} (review links {} with precision {:.3}; split/merge proposals {} with precision {:.3}); F1 if all review links were confirmed {:.3}",
            l.review_band,
            l.links_review,
            l.review_precision,
            l.proposals,
            l.proposal_precision,
            l.if_review_confirmed.f1()
        );
    }
    if !report.unmatched_gold.is_empty() {
        let _ = writeln!(s, "\nGold with no document in the dataset: {}", report.unmatched_gold.join(", "));
    }
    s
}

fn truncate(s: &str, n: usize) -> String {
    let count = s.chars().count();
    if count <= n {
        s.to_string()
    } else {
        let tail: String = s.chars().skip(count - (n - 1)).collect();
        format!("…{tail}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn match_key_folds_hyphenation_and_spacing() {
        assert_eq!(match_key("Face-to-face  support."), match_key("face to face support"));
        assert_eq!(match_key("face-toface"), match_key("face-to-face"));
    }

    #[test]
    fn pair_score_rates() {
        let p = PairScore { predicted_pairs: 4, gold_pairs: 5, true_pairs: 3 };
        assert!((p.precision() - 0.75).abs() < 1e-12);
        assert!((p.recall() - 0.6).abs() < 1e-12);
        assert!((p.f1() - 2.0 * 0.75 * 0.6 / 1.35).abs() < 1e-12);
    }
}
