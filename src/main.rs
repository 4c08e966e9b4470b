//! The `plantrace` command line (SPEC §1).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use plantrace::eval::{self, Thresholds};
use plantrace::ingest::{self, InputFile};
use plantrace::layout::Limits;
use plantrace::model::dataset_schema;
use plantrace::pipeline::{self, DocOptions};
use plantrace::rules::Rules;
use plantrace::run::{self, Isolation, RunOptions};
use plantrace::worker::{self, WorkerOptions};
use plantrace::{emit, inspect};

/// Turn council plan reports (PDF, DOCX) into one normalised, longitudinal
/// JSON dataset. With no command, runs on the bundled fixtures:
/// `plantrace run fixtures/reports --out out`.
#[derive(Parser)]
#[command(name = "plantrace", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Read every .pdf/.docx under the inputs and write DIR/dataset.json.
    Run(RunArgs),
    /// Print what was seen in one document: kind, tables with their cells, keys, warnings.
    Inspect {
        file: PathBuf,
        /// Print the tables as JSON ({page, bbox, rows: [[{text, row, col, row_span, col_span, bbox}]]}).
        #[arg(long)]
        json: bool,
        #[arg(long, value_name = "DIR")]
        rules: Option<PathBuf>,
    },
    /// Score a dataset against gold (a gold .json file or a folder of them).
    Eval(EvalArgs),
    /// Print the dataset's JSON Schema.
    Schema,
    /// Internal: read documents for a supervising `plantrace run`, one JSON
    /// request line on stdin, one reply line on stdout (see src/worker/).
    #[command(name = "__worker", hide = true)]
    Worker {
        /// The per-document settings, as JSON.
        #[arg(long)]
        settings: String,
        /// Rules folder; without it, the rules built into the binary.
        #[arg(long, value_name = "DIR")]
        rules: Option<PathBuf>,
    },
}

const DEFAULT_MAX_FILE_MIB: u64 = 1024;
const DEFAULT_DOC_TIMEOUT: f64 = worker::DEFAULT_DOC_TIMEOUT_SECS as f64;

#[derive(Args, Clone)]
struct RunArgs {
    /// Files or folders (searched recursively) of .pdf/.docx reports.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Output folder for dataset.json and dataset.schema.json.
    #[arg(long, default_value = "out")]
    out: PathBuf,
    /// Rules folder (default: ./rules if present, else the built-in rules).
    #[arg(long, value_name = "DIR")]
    rules: Option<PathBuf>,
    /// Cores to use (default: all): documents read in parallel, and the
    /// threads that reconcile series across them.
    #[arg(long, short = 'j')]
    jobs: Option<usize>,
    /// Nothing on stderr but warnings and the summary line.
    #[arg(long, short = 'q')]
    quiet: bool,
    /// Largest input file read, in MiB.
    #[arg(long, default_value_t = DEFAULT_MAX_FILE_MIB, value_name = "MIB")]
    max_file_size: u64,
    /// Time one document may take, in seconds; a document still being read
    /// then is stopped and reported as a timeout.
    #[arg(long, default_value_t = DEFAULT_DOC_TIMEOUT, value_name = "SECS", value_parser = positive_seconds)]
    doc_timeout: f64,
    /// Memory (address space) one worker process may use, in MiB; a document
    /// needing more is reported as too_large. 0: no limit.
    #[arg(long, default_value_t = worker::DEFAULT_MAX_MEMORY_MIB, value_name = "MIB")]
    max_memory: u64,
    /// Most entries a .docx archive may have.
    #[arg(long, default_value_t = Limits::default().zip_entries, value_name = "N")]
    max_zip_entries: usize,
    /// Most a .docx may inflate to, in MiB, all parts together; one part (or
    /// one PDF stream) may take at most half of it.
    #[arg(long, default_value_t = Limits::default().total_inflated >> 20, value_name = "MIB")]
    max_inflated: u64,
    /// Most pages a PDF may have.
    #[arg(long, default_value_t = Limits::default().pdf_pages, value_name = "N")]
    max_pages: u32,
    /// Read documents on threads of this process instead of isolated worker
    /// processes (for debugging and measuring: a document that crashes or
    /// hangs the parser then takes the whole run with it; no time or memory
    /// limits).
    #[arg(long)]
    in_process: bool,
}

impl RunArgs {
    /// `plantrace` with no arguments: `plantrace run fixtures/reports --out out`.
    fn embedded_default() -> RunArgs {
        let defaults = Limits::default();
        RunArgs {
            inputs: vec![PathBuf::from("fixtures/reports")],
            out: PathBuf::from("out"),
            rules: None,
            jobs: None,
            quiet: false,
            max_file_size: DEFAULT_MAX_FILE_MIB,
            doc_timeout: DEFAULT_DOC_TIMEOUT,
            max_memory: worker::DEFAULT_MAX_MEMORY_MIB,
            max_zip_entries: defaults.zip_entries,
            max_inflated: defaults.total_inflated >> 20,
            max_pages: defaults.pdf_pages,
            in_process: false,
        }
    }

    fn doc_options(&self) -> DocOptions {
        let total_inflated = self.max_inflated.saturating_mul(1 << 20);
        DocOptions {
            max_file_bytes: self.max_file_size.saturating_mul(1 << 20),
            limits: Limits {
                zip_entries: self.max_zip_entries,
                part_bytes: total_inflated / 2,
                total_inflated,
                pdf_pages: self.max_pages,
                ..Limits::default()
            },
        }
    }

    fn isolation(&self) -> Isolation {
        if self.in_process {
            return Isolation::InProcess;
        }
        Isolation::Workers(WorkerOptions {
            doc_timeout: std::time::Duration::from_secs_f64(self.doc_timeout),
            max_memory: (self.max_memory > 0).then(|| self.max_memory.saturating_mul(1 << 20)),
            exe: None,
        })
    }
}

fn positive_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v < 1e9 => Ok(v),
        _ => Err(format!("expected a positive number of seconds, got {s:?}")),
    }
}

#[derive(Args)]
struct EvalArgs {
    dataset: PathBuf,
    gold: PathBuf,
    /// Print the figures as JSON.
    #[arg(long)]
    json: bool,
    #[arg(long)]
    min_precision: Option<f64>,
    #[arg(long)]
    min_recall: Option<f64>,
    /// Minimum exact-match rate of status, target end, theme key and outcome.
    #[arg(long)]
    min_field: Option<f64>,
    #[arg(long)]
    min_measure_recall: Option<f64>,
    /// Minimum exact-match rate of measure status, direction and value.
    #[arg(long)]
    min_measure_field: Option<f64>,
    #[arg(long)]
    min_keys: Option<f64>,
    #[arg(long)]
    min_link_f1: Option<f64>,
}

fn jobs(n: Option<usize>) -> usize {
    n.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1)
}

fn load_rules(dir: Option<&std::path::Path>) -> Result<Rules, ExitCode> {
    Rules::load(dir).map_err(|e| {
        eprintln!("plantrace: error in rules: {e}");
        ExitCode::from(2)
    })
}

fn cmd_run(args: RunArgs) -> ExitCode {
    let rules = match load_rules(args.rules.as_deref()) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let files = match run::discover(&args.inputs) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("plantrace: {e}");
            return ExitCode::from(2);
        }
    };
    let opts = RunOptions {
        inputs: args.inputs.clone(),
        out: args.out.clone(),
        jobs: jobs(args.jobs),
        quiet: args.quiet,
        doc: args.doc_options(),
        isolation: args.isolation(),
    };
    // From here a Ctrl-C or SIGTERM stops the run cleanly: workers are
    // stopped and the previous dataset is left as it was.
    worker::catch_stop_signals();
    match run::run(files, &rules, &opts) {
        Ok(summary) => {
            eprintln!("{}", summary.line());
            if summary.errors.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            if let Some(sig) = worker::stop_requested() {
                eprintln!(
                    "plantrace: interrupted; nothing was written ({} is as it was)",
                    args.out.join("dataset.json").display()
                );
                worker::die_of(sig);
            }
            eprintln!("plantrace: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn cmd_inspect(file: PathBuf, json: bool, rules_dir: Option<PathBuf>) -> ExitCode {
    let rules = match load_rules(rules_dir.as_deref()) {
        Ok(r) => r,
        Err(code) => return code,
    };
    if !file.is_file() {
        eprintln!("plantrace: {} is not a file", file.display());
        return ExitCode::from(2);
    }
    let input = InputFile { path: file };
    let path = input.display();
    let loaded = match ingest::load(&input, 1 << 30) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("plantrace: {path}: {}: {}", e.kind, e.message);
            return ExitCode::from(1);
        }
    };
    match pipeline::process_loaded(&path, &loaded, &rules, &DocOptions::default()) {
        Ok(ins) => {
            if json {
                match emit::to_json(&inspect::tables_json(&ins.layout)) {
                    Ok(bytes) => print!("{}", String::from_utf8_lossy(&bytes)),
                    Err(e) => {
                        eprintln!("plantrace: {e:#}");
                        return ExitCode::from(2);
                    }
                }
            } else {
                print!("{}", inspect::render(&ins, &rules));
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("plantrace: {}: {}: {}", e.path, e.kind, e.message);
            ExitCode::from(1)
        }
    }
}

fn cmd_eval(args: EvalArgs) -> ExitCode {
    let dataset: plantrace::model::Dataset = match std::fs::read(&args.dataset)
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
    {
        Ok(d) => d,
        Err(e) => {
            eprintln!("plantrace: cannot read dataset {}: {e}", args.dataset.display());
            return ExitCode::from(2);
        }
    };
    let gold = match eval::load_gold(&args.gold) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("plantrace: {e:#}");
            return ExitCode::from(2);
        }
    };
    let report = eval::evaluate(&dataset, &gold);
    if args.json {
        match emit::to_json(&report) {
            Ok(b) => print!("{}", String::from_utf8_lossy(&b)),
            Err(e) => {
                eprintln!("plantrace: {e:#}");
                return ExitCode::from(2);
            }
        }
    } else {
        print!("{}", eval::render(&report));
    }
    let t = Thresholds {
        precision: args.min_precision,
        recall: args.min_recall,
        field: args.min_field,
        measure_recall: args.min_measure_recall,
        measure_field: args.min_measure_field,
        keys: args.min_keys,
        link_f1: args.min_link_f1,
    };
    let fails = eval::failures(&report, &t);
    if fails.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!("plantrace: below threshold:");
        for f in fails {
            eprintln!("  {f}");
        }
        ExitCode::from(1)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        None => cmd_run(RunArgs::embedded_default()),
        Some(Command::Worker { settings, rules }) => worker::serve(rules, &settings),
        Some(Command::Run(args)) => cmd_run(args),
        Some(Command::Inspect { file, json, rules }) => cmd_inspect(file, json, rules),
        Some(Command::Eval(args)) => cmd_eval(args),
        Some(Command::Schema) => match emit::to_json(&dataset_schema()) {
            Ok(b) => {
                print!("{}", String::from_utf8_lossy(&b));
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("plantrace: {e:#}");
                ExitCode::from(2)
            }
        },
    }
}
