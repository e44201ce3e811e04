//! `/metrics` in Prometheus text format: messages by author, bot decisions by kind,
//! the queue (length, oldest wait), how long tickets waited to be claimed, and the
//! Telegram deliveries when the channel runs.

use super::{App, blocking};
use crate::service::WAIT_BUCKETS;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use std::fmt::Write as _;
use std::sync::Arc;

pub async fn render(State(app): State<Arc<App>>) -> Result<String, StatusCode> {
    let service = app.service.clone();
    let queue = blocking(move || Ok(service.store().queue()?))
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    let now = Utc::now();
    let oldest = queue
        .iter()
        .map(|t| (now - t.opened_at).num_seconds().max(0))
        .max()
        .unwrap_or(0);
    let counts = app.service.counts();
    let mut out = String::new();
    let mut family = |name: &str, kind: &str, help: &str, samples: Vec<(String, u64)>| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, value) in samples {
            let _ = writeln!(out, "{name}{labels} {value}");
        }
    };
    let plain = |v: u64| vec![(String::new(), v)];
    family(
        "sportello_queue_length",
        "gauge",
        "Open tickets waiting or claimed.",
        plain(queue.len() as u64),
    );
    family(
        "sportello_queue_oldest_wait_seconds",
        "gauge",
        "How long the oldest open ticket has been open.",
        plain(oldest as u64),
    );
    let by = |label: &str, map: Vec<(String, u64)>| {
        map.into_iter()
            .map(|(k, v)| (format!("{{{label}=\"{k}\"}}"), v))
            .collect::<Vec<_>>()
    };
    let messages = counts
        .messages
        .iter()
        .map(|(k, v)| ((*k).to_owned(), *v))
        .collect();
    family(
        "sportello_messages_total",
        "counter",
        "Messages stored since start, by author.",
        by("author", messages),
    );
    let decisions = counts.decisions.clone().into_iter().collect();
    family(
        "sportello_decisions_total",
        "counter",
        "Bot decisions since start, by kind.",
        by("decision", decisions),
    );
    let mut cumulative = 0;
    let mut buckets: Vec<(String, u64)> = Vec::new();
    for (i, n) in counts.claim_wait_buckets.iter().enumerate() {
        cumulative += n;
        let le = WAIT_BUCKETS
            .get(i)
            .map_or("+Inf".to_owned(), u64::to_string);
        buckets.push((format!("_bucket{{le=\"{le}\"}}"), cumulative));
    }
    buckets.push(("_sum".into(), counts.claim_wait_sum_s));
    buckets.push(("_count".into(), cumulative));
    family(
        "sportello_claim_wait_seconds",
        "histogram",
        "Time from handoff to an operator's claim.",
        buckets,
    );
    if let Some(t) = &app.telegram {
        let outcomes = t
            .shared
            .stats
            .snapshot()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        family(
            "sportello_telegram_replies_total",
            "counter",
            "Telegram deliveries by outcome.",
            by("outcome", outcomes),
        );
    }
    Ok(out)
}
