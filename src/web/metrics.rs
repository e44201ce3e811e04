//! `/metrics` in Prometheus text format: messages by author, bot decisions by kind,
//! the queue (length, oldest wait), how long tickets waited to be claimed, and the
//! Telegram deliveries when the channel runs.

use super::{App, blocking};
use crate::care::SlaState;
use crate::service::{Counts, WAIT_BUCKETS};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::Utc;
use std::fmt::Write as _;
use std::sync::Arc;

/// One metric: its name, type, help line and samples (label set or suffix, value).
struct Family {
    name: String,
    kind: &'static str,
    help: String,
    samples: Vec<(String, u64)>,
}

pub async fn render(State(app): State<Arc<App>>, headers: HeaderMap) -> axum::response::Response {
    use axum::response::IntoResponse;
    if let Some(token) = &app.metrics_token {
        let sent = super::auth::bearer(&headers);
        if !sent.is_some_and(|s| crate::accounts::same_secret(s, token)) {
            let challenge = [(axum::http::header::WWW_AUTHENTICATE, "Bearer")];
            let error = super::ApiError::new(
                StatusCode::UNAUTHORIZED,
                "send Authorization: Bearer SPORTELLO_METRICS_TOKEN (Prometheus: authorization: {credentials: TOKEN})",
            )
            .with_code("unauthorized");
            return (challenge, error).into_response();
        }
    }
    match families(&app).await {
        Ok(text) => text.into_response(),
        Err(status) => status.into_response(),
    }
}

/// The metrics as Prometheus text.
async fn families(app: &App) -> Result<String, StatusCode> {
    let service = app.service.clone();
    let queue = blocking(move || Ok(service.store().queue()?))
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    let now = Utc::now();
    let oldest = queue
        .iter()
        .map(|t| (now - t.opened_at).num_seconds().max(0) as u64)
        .max()
        .unwrap_or(0);
    let mut families = vec![
        Family {
            name: "sportello_queue_length".into(),
            kind: "gauge",
            help: "Open tickets waiting or claimed.".into(),
            samples: vec![(String::new(), queue.len() as u64)],
        },
        Family {
            name: "sportello_queue_oldest_wait_seconds".into(),
            kind: "gauge",
            help: "How long the oldest open ticket has been open.".into(),
            samples: vec![(String::new(), oldest)],
        },
    ];
    let config = app.service.config();
    let flagged = |state| {
        let n = queue
            .iter()
            .filter(|t| config.sla_of(t, now) == Some(state))
            .count();
        n as u64
    };
    families.push(Family {
        name: "sportello_sla_open_tickets".into(),
        kind: "gauge",
        help: "Open tickets close to (near) or past (breached) their first-response target.".into(),
        samples: labelled(
            "state",
            [
                ("near".to_owned(), flagged(SlaState::Near)),
                ("breached".to_owned(), flagged(SlaState::Breached)),
            ],
        ),
    });
    families.extend(counted(&app.service.counts()));
    if let Some(embedder) = &app.service.brain().embedder {
        let failures = embedder.failures.load(std::sync::atomic::Ordering::Relaxed);
        families.push(Family {
            name: "sportello_embeddings_failures_total".into(),
            kind: "counter",
            help: "Calls to the embeddings endpoint that failed (matching went on without them)."
                .into(),
            samples: vec![(String::new(), failures)],
        });
    }
    families.push(Family {
        name: "sportello_http_connections_refused_total".into(),
        kind: "counter",
        help: "Connections closed at once because an address or the server had too many open."
            .into(),
        samples: vec![(String::new(), super::server::refused_connections())],
    });
    for delivery in app.channels.deliveries() {
        let outcomes = delivery.stats.snapshot().into_iter();
        families.push(Family {
            name: format!("sportello_{}_replies_total", delivery.kind),
            kind: "counter",
            help: format!("{} deliveries by outcome.", delivery.kind),
            samples: labelled("outcome", outcomes.map(|(k, v)| (k.to_owned(), v))),
        });
    }
    if let Some(whatsapp) = &app.channels.whatsapp {
        families.push(Family {
            name: "sportello_whatsapp_statuses_total".into(),
            kind: "counter",
            help: "WhatsApp delivery reports received, by status.".into(),
            samples: labelled("status", whatsapp.statuses()),
        });
    }
    if let Some(email) = &app.channels.email {
        let counts = email.status.snapshot().into_iter();
        families.push(Family {
            name: "sportello_email_received_total".into(),
            kind: "counter",
            help: "Mails read from the mailbox, by what they were.".into(),
            samples: labelled("outcome", counts.map(|(k, v)| (k.to_owned(), v))),
        });
        let connected = email
            .status
            .connected
            .load(std::sync::atomic::Ordering::Relaxed);
        families.push(Family {
            name: "sportello_email_connected".into(),
            kind: "gauge",
            help: "1 while the mailbox is connected.".into(),
            samples: vec![(String::new(), u64::from(connected))],
        });
    }
    let mut out = String::new();
    for f in families {
        let _ = writeln!(
            out,
            "# HELP {} {}\n# TYPE {} {}",
            f.name, f.help, f.name, f.kind
        );
        for (labels, value) in f.samples {
            let _ = writeln!(out, "{}{labels} {value}", f.name);
        }
    }
    Ok(out)
}

/// The service's counters since start.
fn counted(counts: &Counts) -> [Family; 3] {
    let messages = counts.messages.iter().map(|(k, v)| ((*k).to_owned(), *v));
    let decisions = counts.decisions.iter().map(|(k, v)| (k.clone(), *v));
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
    [
        Family {
            name: "sportello_messages_total".into(),
            kind: "counter",
            help: "Messages stored since start, by author.".into(),
            samples: labelled("author", messages),
        },
        Family {
            name: "sportello_decisions_total".into(),
            kind: "counter",
            help: "Bot decisions since start, by kind.".into(),
            samples: labelled("decision", decisions),
        },
        Family {
            name: "sportello_claim_wait_seconds".into(),
            kind: "histogram",
            help: "Time from handoff to an operator's first claim.".into(),
            samples: buckets,
        },
    ]
}

fn labelled(label: &str, values: impl IntoIterator<Item = (String, u64)>) -> Vec<(String, u64)> {
    values
        .into_iter()
        .map(|(k, v)| (format!("{{{label}=\"{k}\"}}"), v))
        .collect()
}
