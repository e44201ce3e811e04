//! The KPIs cut by week and by channel, and the reasons for handoffs: what the HTML
//! report charts and the CSV lists row by row.

use super::figures::{Csat, Nps, Percentiles};
use super::kpi::{conversations, csat, nps, share, ticket_lives, ticket_times};
use crate::config::Config;
use crate::domain::{Event, EventKind};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The main figures of a part of the period or of the shop (a week, a channel): a
/// row of the CSV and of the HTML tables. Fields in alphabetical order, as the JSON
/// has always had its keys (see the `kpi` module).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Slice {
    /// Share (0..1) of conversations that opened no ticket.
    pub containment_rate: Option<f64>,
    pub conversations: usize,
    pub csat: Csat,
    /// In business hours.
    pub first_response_operator: Percentiles,
    pub messages: usize,
    pub nps: Nps,
    pub resolution: Percentiles,
    /// Tickets opened.
    pub tickets: usize,
}

/// A week's [`Slice`] with the week's names. The slice's fields are spelled out
/// rather than flattened: `start` and `week` sort among them in the JSON.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Week {
    pub containment_rate: Option<f64>,
    pub conversations: usize,
    pub csat: Csat,
    pub first_response_operator: Percentiles,
    pub messages: usize,
    pub nps: Nps,
    pub resolution: Percentiles,
    /// The week's first day in the period (a Monday but for the first week).
    pub start: NaiveDate,
    pub tickets: usize,
    /// The ISO week, e.g. `2026-W10`: the charts' labels.
    pub week: String,
}

impl Week {
    fn new(week: String, start: NaiveDate, slice: Slice) -> Self {
        let Slice {
            containment_rate,
            conversations,
            csat,
            first_response_operator,
            messages,
            nps,
            resolution,
            tickets,
        } = slice;
        Self {
            containment_rate,
            conversations,
            csat,
            first_response_operator,
            messages,
            nps,
            resolution,
            start,
            tickets,
            week,
        }
    }

    /// The week's figures without its names.
    pub fn figures(&self) -> Slice {
        Slice {
            containment_rate: self.containment_rate,
            conversations: self.conversations,
            csat: self.csat,
            first_response_operator: self.first_response_operator,
            messages: self.messages,
            nps: self.nps,
            resolution: self.resolution,
            tickets: self.tickets,
        }
    }
}

/// The main figures of `events` in `[from, to)`.
pub fn slice(events: &[Event], config: &Config, from: DateTime<Utc>, to: DateTime<Utc>) -> Slice {
    let within = |t: DateTime<Utc>| from <= t && t < to;
    let tickets = ticket_lives(events);
    let counted = conversations(events, &tickets, from, to);
    let (total, contained) = (counted.total, counted.contained);
    let opened: Vec<_> = tickets
        .values()
        .filter(|t| t.opened.is_some_and(within))
        .collect();
    let times = ticket_times(&opened, config, to);
    let messages = events
        .iter()
        .filter(|e| within(e.at) && matches!(e.kind, EventKind::Decided { .. }))
        .count();
    Slice {
        containment_rate: share(contained, total),
        conversations: total,
        csat: csat(events, &within),
        first_response_operator: times.first_response_business,
        messages,
        nps: nps(events, &within),
        resolution: times.resolution,
        tickets: opened.len(),
    }
}

/// One slice per week (weeks start on Monday, UTC), clipped to `[from, to)`.
pub fn by_week(
    events: &[Event],
    config: &Config,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Vec<Week> {
    let monday = from.date_naive() - Duration::days(from.weekday().num_days_from_monday().into());
    let mut start = monday
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc();
    let mut weeks = Vec::new();
    while start < to {
        let end = start + Duration::days(7);
        let (a, b) = (start.max(from), end.min(to));
        let name = format!("{}-W{:02}", a.iso_week().year(), a.iso_week().week());
        weeks.push(Week::new(name, a.date_naive(), slice(events, config, a, b)));
        start = end;
    }
    weeks
}

/// One slice per channel (`telegram`, `web`, ...) that wrote in `[from, to)`.
pub fn by_channel(
    events: &[Event],
    config: &Config,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> BTreeMap<String, Slice> {
    let names: std::collections::BTreeSet<&str> = events
        .iter()
        .map(|e| e.customer.counted_channel())
        .collect();
    if let (1, Some(&only)) = (names.len(), names.first()) {
        // The usual shop on one channel: its slice is the whole, no copy.
        let whole = slice(events, config, from, to);
        let mut one = BTreeMap::new();
        if whole.messages != 0 || whole.tickets != 0 {
            one.insert(only.to_owned(), whole);
        }
        return one;
    }
    let mut channels: BTreeMap<&str, Vec<Event>> = BTreeMap::new();
    for e in events {
        channels
            .entry(e.customer.counted_channel())
            .or_default()
            .push(e.clone());
    }
    channels
        .into_iter()
        .map(|(channel, events)| (channel.to_owned(), slice(&events, config, from, to)))
        .filter(|(_, s)| s.messages != 0 || s.tickets != 0)
        .collect()
}

/// Tickets opened in `[from, to)` by why the bot handed over.
pub fn handoff_reasons(
    events: &[Event],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> BTreeMap<String, usize> {
    let mut reasons: BTreeMap<&str, usize> = BTreeMap::new();
    for e in events.iter().filter(|e| from <= e.at && e.at < to) {
        if let EventKind::TicketOpened { reason, .. } = &e.kind {
            *reasons.entry(reason.as_str()).or_default() += 1;
        }
    }
    reasons
        .into_iter()
        .map(|(reason, count)| (reason.to_owned(), count))
        .collect()
}
