//! `sportello bench`: runs [`crate::bench`] and prints its figures (a table, or JSON).

use crate::bench::{self, CONCURRENCY, Figures};
use crate::config::Config;
use crate::service::ContentDirs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
    /// The short run (CI): fewer messages and conversations, no 10,000-entry FAQ.
    #[arg(long)]
    quick: bool,
    /// BANKING77 (PolyAI, CC-BY-4.0): a folder with train.jsonl and test.jsonl.
    #[arg(long, default_value = "../shared/data/banking77")]
    banking77: PathBuf,
    /// Customers writing at the same moment in the throughput and memory runs.
    #[arg(long, default_value_t = CONCURRENCY)]
    concurrency: usize,
    /// Run one part alone: `pipeline` (the durable pipeline against its floor, e.g.
    /// under `perf record`).
    #[arg(long, value_parser = ["pipeline"])]
    only: Option<String>,
    /// Also run the pipeline on this PostgreSQL server (`postgres://USER@HOST:PORT`,
    /// in a scratch database dropped after), against its own floor.
    #[arg(long)]
    postgres: Option<String>,
    /// Internal: the memory probe (a child process fills a store with N conversations).
    #[arg(long, hide = true)]
    rss_probe: Option<usize>,
}

pub fn run(
    content: &ContentDirs,
    data: &Path,
    config: Config,
    args: &BenchArgs,
) -> anyhow::Result<ExitCode> {
    if let Some(n) = args.rss_probe {
        let probe = bench::probe(content, data, config, n, args.concurrency)?;
        // One JSON line: what the parent reads.
        println!("{}", serde_json::to_string(&probe)?);
        return Ok(ExitCode::SUCCESS);
    }
    if cfg!(debug_assertions) {
        eprintln!(
            "note: a debug build; the figures in the README come from `cargo run --release -- bench`"
        );
    }
    let options = bench::Options {
        quick: args.quick,
        banking77: args.banking77.clone(),
        concurrency: args.concurrency,
        postgres: args.postgres.clone(),
    };
    if args.only.as_deref() == Some("pipeline") {
        let progress = |step: &str| eprintln!("{step}");
        let t = bench::throughput(content, config.clone(), &options, &progress)?;
        let pg = args
            .postgres
            .as_deref()
            .map(|server| bench::throughput_postgres(content, &config, &options, server, &progress))
            .transpose()?;
        if args.json {
            let mut json = serde_json::to_value(&t)?;
            json["postgres"] = serde_json::to_value(&pg)?;
            println!("{}", serde_json::to_string_pretty(&json)?);
        } else {
            print_throughput(&t, "sled");
            if let Some(pg) = &pg {
                print_throughput(pg, "PostgreSQL");
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let figures = bench::run(content, config, &options, &|step| eprintln!("{step}"))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&figures)?);
    } else {
        print_table(&figures);
    }
    Ok(ExitCode::SUCCESS)
}

fn row(what: &str, value: String, target: &str) {
    println!("{what:<44} {value:>14}   {target}");
}

fn print_throughput(t: &bench::Throughput, backend: &str) {
    let (target, floor) = if backend == "sled" {
        (">= 20000", "floor: tantivy + sled writes + flush (msg/s)")
    } else {
        ("", "floor: tantivy + INSERTs + COMMIT (msg/s)")
    };
    row(
        &format!("pipeline on {backend}, durable (msg/s)"),
        format!("{:.0}", t.pipeline_msgs_per_s),
        target,
    );
    row(floor, format!("{:.0}", t.floor_msgs_per_s), "");
    row(
        "ratio pipeline / floor (time)",
        format!("{:.2}", t.ratio),
        if backend == "sled" { "<= 1.5" } else { "" },
    );
    row(
        "messages per flush (group commit)",
        format!("{:.1}", t.messages_per_flush),
        "",
    );
    row(
        "CPU per message, pipeline / floor (us)",
        format!(
            "{:.0} / {:.0}",
            t.pipeline_cpu_us_per_msg, t.floor_cpu_us_per_msg
        ),
        "",
    );
    row("ratio of CPU time", format!("{:.2}", t.cpu_ratio), "");
    row(
        "records per message",
        format!("{:.1}", t.records_per_message),
        "",
    );
}

fn print_table(f: &Figures) {
    println!(
        "machine: {} CPUs, {} ({} build)",
        f.machine.cpus, f.machine.cpu, f.machine.build
    );
    print_throughput(&f.throughput, "sled");
    if let Some(pg) = &f.postgres {
        print_throughput(pg, "PostgreSQL");
    }
    for l in &f.matching {
        row(
            &format!("match p50 / p99, {} entries (us)", l.entries),
            format!("{:.0} / {:.0}", l.p50_us, l.p99_us),
            if l.entries == 1_000 { "p99 < 1000" } else { "" },
        );
    }
    row(
        "cold start to answering, 1,000 entries (ms)",
        format!("{:.0}", f.cold_start_ms_1k),
        "< 1000",
    );
    row(
        "  ... to classifiers trained (ms)",
        format!("{:.0}", f.trained_ms_1k),
        "",
    );
    row(
        &format!("peak RSS, {} conversations (MB)", f.rss_conversations),
        format!("{:.0}", f.rss_mb),
        "< 150 at 100000",
    );
    row(
        "store on disk per 1,000 conversations (MB)",
        format!("{:.2}", f.store_mb_per_1k_conversations),
        "",
    );
    row(
        &format!("report of a week, {} events stored (ms)", f.year.events),
        format!("{:.0}", f.report_week_ms_year),
        "< 1000 at 2000000",
    );
    row(
        &format!(
            "customer show, {} of their events (ms)",
            f.year.customer_events
        ),
        format!("{:.0}", f.customer_show_ms_year),
        "< 1000 at 2000000",
    );
    if let Some(s) = &f.semantic {
        row(
            "first message without embeddings, p50 / p99 (ms)",
            format!("{:.2} / {:.2}", s.p50_ms_without, s.p99_ms_without),
            "",
        );
        row(
            "first message with embeddings, p50 / p99 (ms)",
            format!("{:.2} / {:.2}", s.p50_ms_with, s.p99_ms_with),
            &format!("{} failed calls", s.failures),
        );
    }
}
