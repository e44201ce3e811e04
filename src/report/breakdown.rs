//! The KPIs cut by week and by channel, and the reasons for handoffs: what the HTML
//! report charts and the CSV lists row by row.

use super::kpi::{conversations, csat, nps, share, ticket_lives, ticket_times};
use crate::config::Config;
use crate::domain::{Event, EventKind};
use chrono::{DateTime, Datelike, Duration, Utc};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The main figures of `events` in `[from, to)`.
pub fn slice(events: &[Event], config: &Config, from: DateTime<Utc>, to: DateTime<Utc>) -> Value {
    let within = |t: DateTime<Utc>| from <= t && t < to;
    let tickets = ticket_lives(events);
    let (total, contained) = conversations(events, &tickets, from, to);
    let opened: Vec<_> = tickets
        .values()
        .filter(|t| t.opened.is_some_and(within))
        .collect();
    let times = ticket_times(&opened, config, to);
    let messages = events
        .iter()
        .filter(|e| within(e.at) && matches!(e.kind, EventKind::Decided { .. }))
        .count();
    json!({
        "conversations": total,
        "messages": messages,
        "containment_rate": share(contained, total),
        "tickets": opened.len(),
        "first_response_operator": times["first_response_business"],
        "resolution": times["resolution"],
        "csat": csat(events, &within),
        "nps": nps(events, &within),
    })
}

/// One slice per week (weeks start on Monday, UTC), clipped to `[from, to)`.
pub fn by_week(events: &[Event], config: &Config, from: DateTime<Utc>, to: DateTime<Utc>) -> Value {
    let monday = from.date_naive() - Duration::days(from.weekday().num_days_from_monday().into());
    let mut start = monday
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc();
    let mut weeks = Vec::new();
    while start < to {
        let end = start + Duration::days(7);
        let (a, b) = (start.max(from), end.min(to));
        let mut week = slice(events, config, a, b);
        week["week"] = json!(format!(
            "{}-W{:02}",
            a.iso_week().year(),
            a.iso_week().week()
        ));
        week["start"] = json!(a.date_naive());
        weeks.push(week);
        start = end;
    }
    Value::Array(weeks)
}

/// One slice per channel (`telegram`, `web`, ...) that wrote in `[from, to)`.
pub fn by_channel(
    events: &[Event],
    config: &Config,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Value {
    let mut channels: BTreeMap<&str, Vec<Event>> = BTreeMap::new();
    for e in events {
        channels
            .entry(e.customer.channel())
            .or_default()
            .push(e.clone());
    }
    let sliced: BTreeMap<&str, Value> = channels
        .into_iter()
        .map(|(channel, events)| (channel, slice(&events, config, from, to)))
        .filter(|(_, s)| s["messages"] != 0 || s["tickets"] != 0)
        .collect();
    json!(sliced)
}

/// Tickets opened in `[from, to)` by why the bot handed over.
pub fn handoff_reasons(events: &[Event], from: DateTime<Utc>, to: DateTime<Utc>) -> Value {
    let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
    for e in events.iter().filter(|e| from <= e.at && e.at < to) {
        if let EventKind::TicketOpened { reason, .. } = &e.kind {
            *reasons.entry(reason.as_str()).or_default() += 1;
        }
    }
    json!(reasons)
}
