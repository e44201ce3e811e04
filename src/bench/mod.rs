//! `sportello bench`: the figures a shop's small server has to meet, measured on this
//! machine: durable pipeline throughput against the storage floor, matching latency
//! at 77 / 1,000 / 10,000 FAQ entries, cold start, peak memory and disk with 100,000
//! stored conversations, a week's report and a customer's record on a store holding a
//! year of events, and with `[embeddings]` what the semantic evidence adds to a message.
//! Everything runs on temporary directories; nothing of the
//! shop's own data is touched. Build with `--release`: a debug build says so.

mod history;
mod matching;
mod memory;
mod pipeline;
mod semantic;
mod throughput;

pub use memory::Probe;
pub use semantic::{SemanticLatency, measure as semantic_latency};
use throughput::throughput_in;
pub use throughput::{Throughput, throughput, throughput_postgres};

use crate::config::Config;
use crate::matcher::Brain;
use crate::service::ContentDirs;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Customers writing at the same moment in the throughput runs.
pub const CONCURRENCY: usize = 16;

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// The short run (CI): fewer messages and conversations, no 10,000-entry FAQ.
    pub quick: bool,
    /// BANKING77 (PolyAI, CC-BY-4.0): a folder with train.jsonl and test.jsonl.
    pub banking77: PathBuf,
    /// Customers writing at the same moment in the throughput and memory runs.
    pub concurrency: usize,
    /// A PostgreSQL server (`postgres://USER@HOST:PORT`): the pipeline is also run on it.
    pub postgres: Option<String>,
}

/// How big each run is.
struct Sizes {
    customers: usize,
    per_customer: usize,
    faq_entries: &'static [usize],
    queries: usize,
    cold_starts: usize,
    conversations: usize,
    /// Events in the year of history the reports are timed on.
    year_events: usize,
}

const FULL: Sizes = Sizes {
    customers: 20_000,
    per_customer: 4,
    faq_entries: &[77, 1_000, 10_000],
    queries: usize::MAX,
    cold_starts: 5,
    conversations: 100_000,
    year_events: 2_000_000,
};

const QUICK: Sizes = Sizes {
    customers: 500,
    per_customer: 4,
    faq_entries: &[77, 1_000],
    queries: 300,
    cold_starts: 1,
    conversations: 2_000,
    year_events: 200_000,
};

/// The figures, as `--json` prints them.
#[derive(Debug, Serialize)]
pub struct Figures {
    pub machine: Machine,
    #[serde(flatten)]
    pub throughput: Throughput,
    /// The pipeline on PostgreSQL against its own floor (`bench --postgres URL`).
    pub postgres: Option<Throughput>,
    pub matching: Vec<matching::Latency>,
    pub match_p99_us_1k: f64,
    /// From reading the 1,000-entry folder to answering (from the index).
    pub cold_start_ms_1k: f64,
    /// From reading it to its classifiers trained (on another thread in `serve`).
    pub trained_ms_1k: f64,
    /// Peak RSS with 100,000 stored conversations (null in `--quick`: see `rss_mb`).
    pub rss_mb_100k: Option<f64>,
    pub rss_mb: f64,
    pub rss_conversations: usize,
    pub store_mb_per_1k_conversations: f64,
    /// The last week's KPI report on a store holding a year of events (2 million in the
    /// full run; `year.events` says how many).
    pub report_week_ms_year: f64,
    /// `customer show` of a customer who wrote all year, on that store.
    pub customer_show_ms_year: f64,
    pub year: history::Aged,
    /// With `[embeddings]`: a first message's latency with and without the endpoint's
    /// evidence (null without `[embeddings]`).
    pub semantic: Option<SemanticLatency>,
}

#[derive(Debug, Serialize)]
pub struct Machine {
    pub cpus: usize,
    pub cpu: String,
    pub build: &'static str,
}

/// Run every measure; `progress` hears what starts.
pub fn run(
    content: &ContentDirs,
    config: Config,
    options: &Options,
    progress: &dyn Fn(&str),
) -> anyhow::Result<Figures> {
    let sizes = if options.quick { QUICK } else { FULL };
    let train = matching::read(&options.banking77, "train.jsonl")?;
    let test = matching::read(&options.banking77, "test.jsonl")?;
    let scratch = tempfile::tempdir()?;
    let brain = content_brain(content, &config)?;
    let texts = texts(&brain);
    let throughput = throughput_in(scratch.path(), brain, &config, options, progress)?;
    let postgres = options
        .postgres
        .as_deref()
        .map(|server| throughput_postgres(content, &config, options, server, progress))
        .transpose()?;
    progress("matching...");
    let queries = &test[..sizes.queries.min(test.len())];
    let mut latencies = Vec::new();
    let mut cold_start_ms_1k = 0.0;
    let mut trained_ms_1k = 0.0;
    for &entries in sizes.faq_entries {
        let faq = scratch.path().join(format!("faq-{entries}"));
        matching::write_faq(&faq, &train, entries)?;
        let mut starts = Vec::new();
        let mut trains = Vec::new();
        let mut brain = None;
        for _ in 0..if entries == 1_000 {
            sizes.cold_starts
        } else {
            1
        } {
            let (b, ms, trained) = matching::cold_start(&faq, &content.intents, config.matching)?;
            starts.push(ms);
            trains.push(trained);
            brain = Some(b);
        }
        starts.sort_by(f64::total_cmp);
        if entries == 1_000 {
            cold_start_ms_1k = matching::percentile(&starts, 0.5);
            trains.sort_by(f64::total_cmp);
            trained_ms_1k = matching::percentile(&trains, 0.5);
        }
        latencies.push(matching::latency(&brain.expect("loaded once"), queries));
    }
    let semantic = if config.embeddings.is_some() {
        progress("semantic evidence...");
        semantic::measure(content, &config, &texts, &scratch.path().join("embeddings"))?
    } else {
        None
    };
    progress(&format!("memory: {} conversations...", sizes.conversations));
    let (probe, disk) = memory::measure(
        content,
        &scratch.path().join("memory"),
        sizes.conversations,
        options.concurrency.max(1),
    )?;
    progress(&format!(
        "reports on a year of {} events...",
        sizes.year_events
    ));
    let year = history::measure(&scratch.path().join("year"), &config, sizes.year_events)?;
    let figures = Figures {
        machine: machine(),
        throughput,
        match_p99_us_1k: latencies
            .iter()
            .find(|l| l.entries >= 1_000)
            .map_or(0.0, |l| l.p99_us),
        matching: latencies,
        cold_start_ms_1k,
        trained_ms_1k,
        rss_mb_100k: (probe.conversations == 100_000).then_some(probe.rss_mb),
        rss_mb: probe.rss_mb,
        rss_conversations: probe.conversations,
        store_mb_per_1k_conversations: disk as f64
            / 1_048_576.0
            / (probe.conversations as f64 / 1_000.0),
        report_week_ms_year: year.report_week_ms,
        customer_show_ms_year: year.customer_show_ms,
        year,
        semantic,
        postgres,
    };
    Ok(figures)
}

/// The memory probe, in the child process `run` starts (`bench --rss-probe N`).
pub fn probe(
    content: &ContentDirs,
    data: &Path,
    config: Config,
    conversations: usize,
    concurrency: usize,
) -> anyhow::Result<Probe> {
    let brain = content_brain(content, &config)?;
    memory::probe(data, brain, config, conversations, concurrency)
}

/// The content the benchmark measures: refused when it has no FAQ entry (run elsewhere
/// than the shop's folder, `faq/` is missing and every figure would be of nothing).
pub(crate) fn content_brain(content: &ContentDirs, config: &Config) -> anyhow::Result<Brain> {
    let brain = Brain::load(&content.faq, &content.intents, config.matching, None).0;
    anyhow::ensure!(
        !brain.faq_set.entries.is_empty(),
        "no FAQ entries in {}: the benchmark measures matching and the pipeline on the \
         content it is given\n  hint: run it where faq/ and intents/ are, or pass --faq DIR \
         --intents DIR",
        content.faq.display()
    );
    Ok(brain)
}

/// What the benchmark's customers write: every FAQ question, every intent example
/// (greetings, thanks, requests for a person, complaints) and a few questions no entry
/// answers, in both languages.
fn texts(brain: &Brain) -> Vec<String> {
    let mut texts = faq_questions(brain);
    for rule in brain.intents.rules() {
        texts.extend(rule.examples.iter().map(|(t, _)| t.clone()));
    }
    texts.extend(
        [
            "vendete anche biciclette elettriche?",
            "avete un negozio fisico a Milano?",
            "do you ship to the moon?",
            "ok",
        ]
        .map(String::from),
    );
    texts
}

fn faq_questions(brain: &Brain) -> Vec<String> {
    let entries = brain.faq_set.entries.iter();
    entries.flat_map(|e| e.questions.clone()).collect()
}

fn machine() -> Machine {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    Machine {
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
        cpu,
        build: if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
    }
}
