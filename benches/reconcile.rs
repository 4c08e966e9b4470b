//! Reconciliation speed: 10,000 synthetic milestones over 10 plan years.
//!
//! Run: `cargo bench --bench reconcile` (prints the figure; the aim is under
//! a second). Under `cargo test --all-targets` (no `--bench` argument) it
//! runs a small size only, as a smoke test.
//!
//! `cargo bench --bench reconcile -- --dataset PATH [--rounds N]` instead
//! times reconciliation alone on the records of a real run, the way the run
//! does it: it loads the `dataset.json` that `plantrace run` wrote (e.g. on
//! the throughput corpus), makes the compact rows a run keeps
//! (`reconcile::rows::rows_of`; prints what they hold against the whole
//! records), then calls `reconcile::milestone_series_into` and
//! `reconcile::measure_series_into` with the documents, and prints each
//! step's time (best of N), its peak heap above what was held before it
//! (counted by this binary's allocator, so the figure is the reconciler's
//! working memory), and whether the series come out identical to the ones
//! in the file.
//!
//! The corpus is built like a council's archive: 1,000 actions a year across
//! the themes of `rules/themes.toml`, named after places and services, about
//! 70% continuing into the next year reworded (another lifecycle verb, the
//! words moved, a clause added or dropped), some skipping a year, the rest
//! new. Sibling actions (the same service in another place) are common, as
//! in real plans, so the candidate lists are not trivially short.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use plantrace::model::*;
use plantrace::reconcile;
use plantrace::rules::Rules;

/// The system allocator, counting the bytes in use and their peak, so that
/// the working memory of one step can be told apart from the records it
/// reads.
struct Counting;

static IN_USE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(n: usize) {
    let now = IN_USE.fetch_add(n, Ordering::Relaxed) + n;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

// SAFETY: every call is passed on to `System` unchanged; only counters are
// updated around it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
            grew(new_size);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Run `f`, returning its result, its time and the peak heap it used above
/// what was in use when it started.
fn measured<T>(f: impl FnOnce() -> T) -> (T, Duration, usize) {
    let base = IN_USE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let started = Instant::now();
    let out = f();
    let elapsed = started.elapsed();
    (out, elapsed, PEAK.load(Ordering::Relaxed).saturating_sub(base))
}

/// A small deterministic generator (xorshift), so every run sees the same corpus.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len())]
    }
}

const THEMES: [&str; 8] = [
    "thriving-neighbourhoods",
    "health-and-wellbeing",
    "children-and-young-people",
    "economy",
    "environment",
    "one-council",
    "hope-and-confidence",
    "cross-cutting",
];
const VERBS: [&str; 8] = ["Deliver", "Complete", "Start", "Continue", "Develop", "Launch", "Implement", "Review"];
const SERVICES: [&str; 24] = [
    "library refurbishment",
    "cycleway",
    "community hub",
    "play area improvements",
    "flood alleviation scheme",
    "youth offer",
    "business centre",
    "public realm works",
    "housing development",
    "leisure centre",
    "school places expansion",
    "bus priority measures",
    "tree planting",
    "electric vehicle charging points",
    "market redevelopment",
    "domestic abuse services",
    "carers network",
    "digital inclusion support",
    "family hub",
    "employment support",
    "street lighting upgrade",
    "heritage restoration",
    "ward engagement plans",
    "social value partnership",
];
const CLAUSES: [&str; 6] = [
    "with partners across the borough",
    "following public consultation",
    "as part of the Council Plan",
    "within the agreed budget",
    "working with ward members",
    "subject to funding",
];
const SYLLABLES: [&str; 16] = [
    "ash", "brook", "thorn", "wick", "ley", "ton", "ham", "field", "ford", "dale", "kiv", "wath", "bram", "mal", "rav",
    "ing",
];

/// A place name of two or three syllables, capitalised.
fn place(rng: &mut Rng) -> String {
    let n = 2 + rng.below(2);
    let s: String = (0..n).map(|_| rng.pick(&SYLLABLES)).collect();
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// One action and how it is worded this year.
#[derive(Clone)]
struct Action {
    theme: &'static str,
    place: String,
    service: &'static str,
}

impl Action {
    fn wording(&self, rng: &mut Rng) -> String {
        let verb = rng.pick(&VERBS);
        match rng.below(3) {
            0 => format!("{verb} the {} {}.", self.place, self.service),
            1 => format!("{verb} the {} in {}, {}.", self.service, self.place, rng.pick(&CLAUSES)),
            _ => format!("{verb} work on {} {} {}.", self.place, self.service, rng.pick(&CLAUSES)),
        }
    }
}

/// `years` plan years of `per_year` actions each, as documents and rows.
fn corpus(years: usize, per_year: usize) -> (Vec<Document>, Vec<Milestone>) {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let new_action = |rng: &mut Rng| Action {
        theme: THEMES[rng.below(THEMES.len())],
        place: place(rng),
        service: rng.pick(&SERVICES),
    };
    let mut current: Vec<Action> = (0..per_year).map(|_| new_action(&mut rng)).collect();
    let mut resting: Vec<Action> = Vec::new();
    let (mut documents, mut milestones) = (Vec::new(), Vec::new());
    for y in 0..years {
        let plan_year = format!("{}/{:02}", 2015 + y, (16 + y) % 100);
        let doc_id = format!("dbench{y:02}");
        documents.push(Document {
            id: doc_id.clone(),
            path: format!("bench/tracker-{y:02}.docx"),
            sha256: doc_id.clone(),
            format: Format::Docx,
            kind: DocKind::MilestoneTracker,
            title: None,
            plan_year: Some(plan_year.clone()),
            as_of: Some(format!("{}-12", 2015 + y)),
            period: None,
            pages: None,
            warnings: vec![],
        });
        for (row, a) in current.iter().enumerate() {
            let status = match rng.below(4) {
                0 => MilestoneStatus::Complete,
                1 => MilestoneStatus::Delayed,
                _ => MilestoneStatus::OnTrack,
            };
            milestones.push(Milestone {
                id: format!("{doc_id}-m{:04}", row + 1),
                document_id: doc_id.clone(),
                plan_year: Some(plan_year.clone()),
                section: Section::Main,
                theme: Some(a.theme.to_uppercase()),
                theme_key: Some(a.theme.to_string()),
                outcome: Some(format!("Outcome {} of {}", row % 7, a.theme)),
                activity: None,
                action: a.wording(&mut rng),
                target: TargetDate { end: Some(format!("{}-03", 2016 + y)), ..Default::default() },
                status: MilestoneStatusValue { raw: None, canonical: status },
                rationale: Some(format!("Work on the {} {} is progressing.", a.place, a.service)),
                r#ref: None,
                lead: None,
                extra: Default::default(),
                provenance: Provenance::Docx { table: 0, row: row as u32 },
            });
        }
        // Next year: 70% continue, 5% rest a year, the rest are replaced.
        let mut next = Vec::with_capacity(per_year);
        let back = std::mem::take(&mut resting);
        for a in current.drain(..) {
            match rng.below(100) {
                0..=69 => next.push(a),
                70..=74 => resting.push(a),
                _ => {}
            }
        }
        next.extend(back);
        while next.len() < per_year {
            next.push(new_action(&mut rng));
        }
        next.truncate(per_year);
        current = next;
    }
    (documents, milestones)
}

/// `--dataset PATH`: reconciliation alone, on the records of a run's
/// dataset, as a run does it: records → rows ([`reconcile::rows`]), then
/// each kind's series handed out one at a time (a run spools them; here
/// they are hashed, to compare with the dataset's without holding them).
fn on_dataset(path: &str, rounds: usize, rules: &Rules) -> Result<(), String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{path}: {e}"))?;
    let mut ds: Dataset = serde_json::from_reader(std::io::BufReader::new(file)).map_err(|e| format!("{path}: {e}"))?;
    let stored = (digest_of(ds.series.iter()), digest_of(ds.measure_series.iter()));
    ds.series = Vec::new();
    ds.measure_series = Vec::new();
    ds.scorecard_keys = Vec::new();
    let mib = |b: usize| b as f64 / (1024.0 * 1024.0);
    let records_heap = IN_USE.load(Ordering::Relaxed);
    // What workers hand the run of each record (one document at a time in
    // a run, all at once here; not counted below).
    let fields: (Vec<_>, Vec<_>) = (
        ds.milestones.iter().map(reconcile::rows::MilestoneFields::of).collect(),
        ds.measures.iter().map(reconcile::rows::MeasureFields::of).collect(),
    );
    let fields_heap = IN_USE.load(Ordering::Relaxed) - records_heap;
    let (n_milestones, n_measures) = (ds.milestones.len(), ds.measures.len());
    println!(
        "reconcile {path}: {} documents, {n_milestones} milestones, {n_measures} measures ({} threads)",
        ds.documents.len(),
        rayon::current_num_threads()
    );
    // As a run: packed while documents are read (with the reader's string
    // tables and the profiles read so far), unpacked once reading is done.
    let records = (n_milestones + n_measures).max(1) as f64;
    let mut reader = reconcile::rows::Reader::new(rules);
    let (packed, t_pack, _) = measured(|| reader.pack(&fields.0, &fields.1));
    let packed_heap = IN_USE.load(Ordering::Relaxed) - records_heap - fields_heap;
    // Packed again by the same reader, the rows add only themselves: the
    // strings are in its tables and the texts profiled already.
    let before = IN_USE.load(Ordering::Relaxed);
    let again = reader.pack(&fields.0, &fields.1);
    let rows_alone = IN_USE.load(Ordering::Relaxed) - before;
    drop(again);
    let ((milestones, measures), t, peak) = measured(|| {
        let (mut ms, mut mz) = (reconcile::rows::Unpacked::default(), reconcile::rows::Unpacked::default());
        reader.unpack(packed, &mut ms, &mut mz);
        reader.finish(ms, mz)
    });
    let rows_heap = IN_USE.load(Ordering::Relaxed) - records_heap - fields_heap;
    println!(
        "  rows:             {:>7.3} s, peak heap {:>7.1} MiB; packed {:.1} MiB ({:.0} B a record, of which the \
         rows {:.0} B, the rest string tables and profiles), unpacked {:.1} MiB ({:.0} B a record); the records {:.0} B",
        (t_pack + t).as_secs_f64(),
        mib(peak),
        mib(packed_heap),
        packed_heap as f64 / records,
        rows_alone as f64 / records,
        mib(rows_heap),
        rows_heap as f64 / records,
        records_heap as f64 / records
    );
    // A run keeps the documents only; the records wait on disk.
    drop(fields);
    ds.milestones = Vec::new();
    ds.measures = Vec::new();
    let (mut times, mut peaks) = ([Duration::MAX; 2], [0usize; 2]);
    let (mut counts, mut digests) = ([0usize; 2], [[0u8; 32]; 2]);
    for _ in 0..rounds {
        let mut out = Streamed::default();
        let (_notes, t, peak) =
            measured(|| reconcile::milestone_series_into(&milestones, &ds.documents, rules, &mut |s| out.push(&s)));
        (times[0], peaks[0]) = (times[0].min(t), peaks[0].max(peak));
        (counts[0], digests[0]) = out.finish();
        let mut out = Streamed::default();
        let ((), t, peak) =
            measured(|| reconcile::measure_series_into(&measures, &ds.documents, rules, &mut |s| out.push(&s)));
        (times[1], peaks[1]) = (times[1].min(t), peaks[1].max(peak));
        (counts[1], digests[1]) = out.finish();
    }
    for (k, (name, stored)) in [("milestone series:", stored.0), ("measure series:  ", stored.1)].iter().enumerate() {
        println!(
            "  {name} {:>7.3} s, peak heap {:>7.1} MiB, {} series, {}",
            times[k].as_secs_f64(),
            mib(peaks[k]),
            counts[k],
            if digests[k] == *stored { "identical to the dataset's" } else { "DIFFERENT from the dataset's" }
        );
    }
    println!(
        "  together:         {:>7.3} s (best of {rounds}); peak heap is working memory above the rows",
        (times[0] + times[1]).as_secs_f64()
    );
    Ok(())
}

/// Series as they are handed out: counted and hashed as the JSON array
/// they make, never held.
#[derive(Default)]
struct Streamed {
    hash: sha2::Sha256,
    count: usize,
}

impl Streamed {
    fn push<T: serde::Serialize>(&mut self, x: &T) {
        use sha2::Digest;
        self.hash.update(if self.count == 0 { b"[" } else { b"," });
        self.hash.update(json(x));
        self.count += 1;
    }

    fn finish(mut self) -> (usize, [u8; 32]) {
        use sha2::Digest;
        if self.count == 0 {
            self.hash.update(b"[");
        }
        self.hash.update(b"]");
        (self.count, self.hash.finalize().into())
    }
}

/// The digest of a list of series as [`Streamed`] takes it.
fn digest_of<'a, T: serde::Serialize + 'a>(items: impl Iterator<Item = &'a T>) -> [u8; 32] {
    let mut s = Streamed::default();
    items.for_each(|x| s.push(x));
    s.finish().1
}

/// Series as JSON, to compare a run's with the stored ones.
fn json<T: serde::Serialize>(x: &T) -> Vec<u8> {
    serde_json::to_vec(x).unwrap_or_default()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    if let Some(path) = value("--dataset") {
        let rounds = value("--rounds").and_then(|r| r.parse().ok()).unwrap_or(3usize).max(1);
        let result = Rules::builtin().map_err(|e| e.to_string()).and_then(|rules| on_dataset(&path, rounds, &rules));
        if let Err(e) = result {
            eprintln!("reconcile bench: {e}");
            std::process::exit(2);
        }
        return;
    }
    let full = std::env::args().any(|a| a == "--bench");
    let (years, per_year, rounds) = if full { (10, 1_000, 5) } else { (10, 100, 1) };
    let rules = match Rules::builtin() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("reconcile bench: {e}");
            std::process::exit(2);
        }
    };
    let (documents, milestones) = corpus(years, per_year);
    let mut best = Duration::MAX;
    let mut series = Vec::new();
    for _ in 0..rounds {
        let started = Instant::now();
        series = reconcile::milestone_series(&milestones, &documents, &rules);
        best = best.min(started.elapsed());
    }
    let links = series.iter().flat_map(|s| &s.members).filter_map(|m| m.link.as_ref());
    let (mut auto, mut review) = (0, 0);
    for l in links {
        match l.decision {
            Decision::Review => review += 1,
            _ => auto += 1,
        }
    }
    let threads = rayon::current_num_threads();
    println!(
        "reconcile: {} milestones over {years} plan years → {} series ({auto} auto links, {review} for review) in {:.3} s (best of {rounds}, {threads} threads)",
        milestones.len(),
        series.len(),
        best.as_secs_f64()
    );
}
