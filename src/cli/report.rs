//! `sportello report`: what the bot did over a period, computed from stored events;
//! with `--from`/`--to`, the shop's KPIs (`crate::report::kpis`) for the terminal, as
//! JSON, CSV or one HTML page.

use crate::config::Config;
use crate::report::{Kpis, Summary, full_report, html_page, period, summarise};
use crate::store::Store;
use anyhow::Context;
use chrono::{Duration, Utc};
use clap::Args;
use std::process::ExitCode;

#[derive(Args)]
pub struct ReportArgs {
    /// How far back, e.g. 7d, 24h (default: everything).
    #[arg(long, conflicts_with_all = ["from", "to"])]
    since: Option<String>,
    /// KPIs from this day (YYYY-MM-DD, UTC) ...
    #[arg(long, value_parser = super::day)]
    from: Option<chrono::NaiveDate>,
    /// ... to this day, included (default: today).
    #[arg(long, requires = "from", value_parser = super::day)]
    to: Option<chrono::NaiveDate>,
    /// Print the report as one JSON object (keys as in README's report section).
    #[arg(long, conflicts_with_all = ["csv", "html"])]
    json: bool,
    /// The KPIs as CSV: the period, each week, channel and department (needs --from/--to).
    #[arg(long, requires = "from", conflicts_with = "html")]
    csv: bool,
    /// Write the KPIs as one self-contained HTML page with charts (needs --from/--to).
    #[arg(long, value_name = "FILE", requires = "from")]
    html: Option<std::path::PathBuf>,
    /// Language of the HTML page (default: it).
    #[arg(long, default_value = "it", requires = "html")]
    lang: crate::domain::Lang,
}

fn parse_since(raw: &str) -> anyhow::Result<Duration> {
    crate::config::parse_duration(raw).map_err(|e| anyhow::anyhow!("--since {e}"))
}

pub fn run(store: &Store, config: &Config, args: &ReportArgs) -> anyhow::Result<ExitCode> {
    if let Some(from) = args.from {
        let to = args.to.unwrap_or_else(|| chrono::Utc::now().date_naive());
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
            println!("  {:>3}  {}", u.count, crate::text::for_terminal(&u.text));
        }
    }
}

/// The KPIs in a few lines for a terminal: the days as given (`--to` included),
/// shares in percent, times in minutes and hours, `-` for a figure with no data.
fn print_kpis(r: &Kpis) {
    print!("{}", kpi_lines(r));
}

fn kpi_lines(r: &Kpis) -> String {
    let frt = &r.first_response_seconds.operator;
    let last_day = (r.to - Duration::days(1)).date_naive();
    let score = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.1}"));
    let mut out = format!(
        "{} to {} (UTC, both included)\n",
        r.from.date_naive(),
        last_day
    );
    out += &format!(
        "conversations {}  messages {}  settled by the bot {}  left without an answer {}  handed off {}\n",
        r.conversations,
        r.messages,
        share(r.settled_rate()),
        share(r.unanswered_rate),
        share(r.handoff_rate)
    );
    out += &format!(
        "first response (operators, business time) p50 {} p90 {}; resolution p50 {}\n",
        span(frt.p50),
        span(frt.p90),
        span(r.resolution_seconds.p50)
    );
    out += &format!(
        "CSAT {} ({})  NPS {} ({})  retention {}  SLA breaches {}\n",
        r.csat
            .average
            .map_or("-".to_owned(), |v| format!("{} of 5", score(Some(v)))),
        super::counted(r.csat.responses, "answer", "answers"),
        r.nps.score.map_or("-".to_owned(), |v| format!("{v:.0}")),
        super::counted(r.nps.responses, "answer", "answers"),
        r.retention_rate
            .map_or("-".to_owned(), |v| format!("{v:.1}%")),
        r.sla_breaches
    );
    out
}

/// A share (0..1) in percent, one decimal.
fn share(v: Option<f64>) -> String {
    v.map_or("-".to_owned(), |v| format!("{:.1}%", v * 100.0))
}

/// Seconds as a person reads a wait: `45 s`, `12 min`, `3 h 05 min`, `2 d 4 h`.
fn span(seconds: Option<i64>) -> String {
    let Some(s) = seconds else {
        return "-".to_owned();
    };
    match s {
        ..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        3600..86400 => format!("{} h {:02} min", s / 3600, s % 3600 / 60),
        _ => format!("{} d {} h", s / 86400, s % 86400 / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_terminal_report_reads_as_days_percent_and_minutes() {
        let day = |d: u32| {
            chrono::NaiveDate::from_ymd_opt(2026, 11, d)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap()
                .and_utc()
        };
        let mut r = Kpis {
            from: day(1),
            to: day(30) + Duration::days(1),
            conversations: 21,
            messages: 40,
            containment_rate: Some(0.739_047_619_047_619_1),
            handoff_rate: Some(0.260_952_380_952_380_9),
            unanswered_rate: Some(0.142_857_142_857_142_85),
            retention_rate: None,
            sla_breaches: 2,
            ..Kpis::default()
        };
        r.first_response_seconds.operator.p50 = Some(754);
        r.first_response_seconds.operator.p90 = Some(3 * 3600 + 5 * 60 + 9);
        r.resolution_seconds.p50 = Some(2 * 86400 + 4 * 3600 + 1);
        r.csat.average = Some(4.333_333);
        r.csat.responses = 3;
        assert_eq!(
            kpi_lines(&r),
            "2026-11-01 to 2026-11-30 (UTC, both included)\n\
             conversations 21  messages 40  settled by the bot 59.6%  left without an answer 14.3%  handed off 26.1%\n\
             first response (operators, business time) p50 12 min p90 3 h 05 min; resolution p50 2 d 4 h\n\
             CSAT 4.3 of 5 (3 answers)  NPS - (0 answers)  retention -  SLA breaches 2\n"
        );
        assert_eq!(span(Some(59)), "59 s");
    }
}
