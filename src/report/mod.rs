//! `sportello report`: what the bot did over a period, computed from stored events;
//! with `--from`/`--to`, the shop's KPIs ([`kpi`]).

mod breakdown;
mod charts;
pub mod customer;
pub mod gaps;
mod html;
mod kpi;
mod table;

pub use kpi::kpis;

use crate::domain::{Event, EventKind};
use crate::store::Store;
use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use clap::Args;
use serde::Serialize;
use std::collections::BTreeMap;
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

#[derive(Debug, Default, Serialize)]
pub struct Summary {
    pub messages: usize,
    pub answered: usize,
    pub clarified: usize,
    pub handed_off: usize,
    pub fallbacks: usize,
    pub to_operator: usize,
    pub tickets_opened: usize,
    pub tickets_closed: usize,
    pub by_decision: BTreeMap<String, usize>,
    /// Customer messages the bot could not answer, most frequent first.
    pub top_unanswered: Vec<Unanswered>,
}

#[derive(Debug, Serialize)]
pub struct Unanswered {
    pub text: String,
    pub count: usize,
}

/// The summary of `events` from `since` (and before `until`).
pub fn summarise(
    events: &[Event],
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
) -> Summary {
    let mut s = Summary::default();
    let mut unanswered: BTreeMap<String, (String, usize)> = BTreeMap::new();
    for event in events {
        if since.is_some_and(|t| event.at < t) || until.is_some_and(|t| event.at >= t) {
            continue;
        }
        match &event.kind {
            EventKind::Decided {
                text,
                decision,
                reason,
                ..
            } => {
                s.messages += 1;
                *s.by_decision.entry(decision.clone()).or_default() += 1;
                match decision.as_str() {
                    "answer" | "reply" => s.answered += 1,
                    "clarify" => s.clarified += 1,
                    "handoff" => s.handed_off += 1,
                    "fallback" => s.fallbacks += 1,
                    "to_operator" => s.to_operator += 1,
                    _ => {}
                }
                if missed(decision, reason) {
                    let key = crate::text::normalise(text);
                    unanswered.entry(key).or_insert_with(|| (text.clone(), 0)).1 += 1;
                }
            }
            EventKind::TicketOpened { .. } => s.tickets_opened += 1,
            EventKind::Closed { .. } => s.tickets_closed += 1,
            _ => {}
        }
    }
    let mut top: Vec<Unanswered> = unanswered
        .into_values()
        .map(|(text, count)| Unanswered { text, count })
        .collect();
    top.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.text.cmp(&b.text)));
    top.truncate(20);
    s.top_unanswered = top;
    s
}

/// A message the bot could not answer: not understood, or handed over because the
/// second message in a row had no match (the report's and `faq gaps`' rule).
pub fn missed(decision: &str, reason: &str) -> bool {
    decision == "fallback" || (decision == "handoff" && reason.starts_with("second message"))
}

/// The days `from` to `to` (UTC, both included) as `[start, end)`; None past the
/// last date there is.
pub fn period(
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let midnight = |d: chrono::NaiveDate| d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    Some((midnight(from)?, midnight(to.succ_opt()?)?))
}

/// The KPIs of `[from, to)` with the questions the bot could not answer.
pub fn full_report(
    events: &[Event],
    config: &crate::config::Config,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> serde_json::Value {
    let mut report = kpis(events, config, from, to);
    let top = summarise(events, Some(from), Some(to)).top_unanswered;
    report["top_unanswered"] = serde_json::to_value(top).expect("plain data");
    report
}

pub use html::page as html_page;

fn parse_since(raw: &str) -> anyhow::Result<Duration> {
    crate::config::parse_duration(raw).map_err(|e| anyhow::anyhow!("--since {e}"))
}

pub fn run(
    store: &Store,
    config: &crate::config::Config,
    args: &ReportArgs,
) -> anyhow::Result<ExitCode> {
    if let (Some(from), Some(to)) = (args.from, args.to) {
        anyhow::ensure!(from <= to, "--from {from} is after --to {to}");
        let (start, end) = period(from, to).context("--to is too far in the future")?;
        let events = store.events().collect::<crate::store::Result<Vec<_>>>()?;
        let report = full_report(&events, config, start, end);
        if let Some(path) = &args.html {
            std::fs::write(path, html::page(&report, args.lang))
                .with_context(|| format!("writing {}", path.display()))?;
            eprintln!("wrote {}", path.display());
        } else if args.csv {
            print!("{}", table::csv(&report));
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
    let events = store.events().collect::<crate::store::Result<Vec<_>>>()?;
    let s = summarise(&events, since, None);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&s)?);
        return Ok(ExitCode::SUCCESS);
    }
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
    Ok(ExitCode::SUCCESS)
}

/// The KPIs in a few lines for a terminal.
fn print_kpis(r: &serde_json::Value) {
    println!("{} to {}", r["from"], r["to"]);
    println!(
        "conversations {}  messages {}  settled by the bot {}  handed off {}",
        r["conversations"], r["messages"], r["containment_rate"], r["handoff_rate"]
    );
    println!(
        "first response (operators, business time) p50 {} s p90 {} s; resolution p50 {} s",
        r["first_response_seconds"]["operator"]["p50"],
        r["first_response_seconds"]["operator"]["p90"],
        r["resolution_seconds"]["p50"]
    );
    println!(
        "CSAT {} ({} answers)  NPS {} ({} answers)  retention {}%  SLA breaches {}",
        r["csat"]["average"],
        r["csat"]["responses"],
        r["nps"]["score"],
        r["nps"]["responses"],
        r["retention_rate"],
        r["sla_breaches"]
    );
}
