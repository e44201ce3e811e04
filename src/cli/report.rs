//! `sportello report`: what the bot did over a period, computed from stored events;
//! with `--from`/`--to`, the shop's KPIs (`crate::report::kpis`) for the terminal, as
//! JSON, CSV or one HTML page.

use crate::config::Config;
use crate::report::{Kpis, Summary, full_report, html_page, period, summarise};
use crate::store::Store;
use anyhow::Context;
use chrono::{Duration, Utc};
use clap::Args;
use serde::Serialize;
use std::process::ExitCode;

#[derive(Args)]
pub struct ReportArgs {
    /// How far back, e.g. 7d, 24h (default: everything).
    #[arg(long, conflicts_with_all = ["from", "to"])]
    since: Option<String>,
    /// KPIs from this day (YYYY-MM-DD, UTC) ...
    #[arg(long, requires = "to")]
    from: Option<chrono::NaiveDate>,
    /// ... to this day, included.
    #[arg(long, requires = "from")]
    to: Option<chrono::NaiveDate>,
    #[arg(long, conflicts_with_all = ["csv", "html"])]
    json: bool,
    /// The KPIs as CSV: the period, each week, channel and department (needs --from/--to).
    #[arg(long, requires = "from", conflicts_with = "html")]
    csv: bool,
    /// Write the KPIs as one self-contained HTML page with charts (needs --from/--to).
    #[arg(long, value_name = "FILE", requires = "from")]
    html: Option<std::path::PathBuf>,
    /// Language of the HTML page (default: it).
    #[arg(long, default_value = "it")]
    lang: crate::domain::Lang,
}

fn parse_since(raw: &str) -> anyhow::Result<Duration> {
    crate::config::parse_duration(raw).map_err(|e| anyhow::anyhow!("--since {e}"))
}

pub fn run(store: &Store, config: &Config, args: &ReportArgs) -> anyhow::Result<ExitCode> {
    if let (Some(from), Some(to)) = (args.from, args.to) {
        anyhow::ensure!(from <= to, "--from {from} is after --to {to}");
        let (start, end) = period(from, to).context("--to is too far in the future")?;
        let input = crate::report::Input::read(store, start, end)?;
        let report = full_report(&input, config);
        if let Some(path) = &args.html {
            std::fs::write(path, html_page(&report, args.lang))
                .with_context(|| format!("writing {}", path.display()))?;
            eprintln!("wrote {}", path.display());
        } else if args.csv {
            print!("{}", crate::report::csv(&report));
        } else if args.json {
            println!("{}", serde_json::to_string_pretty(&report)?);
        } else {
            print_kpis(&report);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let since = args
        .since
        .as_deref()
        .map(parse_since)
        .transpose()?
        .map(|d| Utc::now() - d);
    let events = match since {
        Some(since) => store.events_since(since)?,
        None => store.events().collect::<crate::store::Result<Vec<_>>>()?,
    };
    let s = summarise(&events, since, None);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&s)?);
    } else {
        print_summary(&s);
    }
    Ok(ExitCode::SUCCESS)
}

/// The summary in a few lines for a terminal.
fn print_summary(s: &Summary) {
    println!(
        "messages {}  answered {}  clarified {}  handed off {}  not understood {}  to operators {}",
        s.messages, s.answered, s.clarified, s.handed_off, s.fallbacks, s.to_operator
    );
    println!(
        "tickets opened {}  closed {}",
        s.tickets_opened, s.tickets_closed
    );
    if !s.top_unanswered.is_empty() {
        println!("\ntop unanswered:");
        for u in &s.top_unanswered {
            println!("  {:>3}  {}", u.count, u.text);
        }
    }
}

/// The KPIs in a few lines for a terminal.
fn print_kpis(r: &Kpis) {
    let frt = &r.first_response_seconds.operator;
    println!("{} to {}", as_json(&r.from), as_json(&r.to));
    println!(
        "conversations {}  messages {}  settled by the bot {}  handed off {}",
        r.conversations,
        r.messages,
        as_json(&r.containment_rate),
        as_json(&r.handoff_rate)
    );
    println!(
        "first response (operators, business time) p50 {} s p90 {} s; resolution p50 {} s",
        as_json(&frt.p50),
        as_json(&frt.p90),
        as_json(&r.resolution_seconds.p50)
    );
    println!(
        "CSAT {} ({} answers)  NPS {} ({} answers)  retention {}%  SLA breaches {}",
        as_json(&r.csat.average),
        r.csat.responses,
        as_json(&r.nps.score),
        r.nps.responses,
        as_json(&r.retention_rate),
        r.sla_breaches
    );
}

/// A figure written as `--json` writes it: `null` when there is none, `3.0` for a
/// whole score, a date in quotes. The terminal lines have always looked like that.
fn as_json(v: &impl Serialize) -> String {
    serde_json::to_string(v).expect("plain data")
}
