//! The shop's KPIs over a period, from stored events alone: conversations and how
//! many the bot settled, first-response and resolution times (operators' counted in
//! business hours too), CSAT, NPS, customer retention, SLA breaches, by department.
//!
//! A conversation starts with a customer's message after 24 h of silence or after
//! their ticket ended; the bot kept it when no ticket was opened in it, and settled it
//! when it also did not end on a message the bot could not answer ("I did not
//! understand", or choices the customer left unpicked).
//!
//! The figures' types are in `figures.rs`.

use super::figures::{
    Csat, FirstResponse, Kpis, Nps, OrderLookups, Percentiles, Promises, RetentionBase, TicketTimes,
};
use crate::config::Config;
use crate::domain::triage::DecisionKind;
use crate::domain::{Event, EventKind, LookupOutcome, SurveyKind, TicketId};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Silence after which a customer's next message starts a new conversation.
use crate::domain::SESSION_GAP;

#[derive(Debug, Default, Clone)]
pub(super) struct TicketLife {
    customer: String,
    department: String,
    pub(super) opened: Option<DateTime<Utc>>,
    first_reply: Option<DateTime<Utc>>,
    ended: Option<DateTime<Utc>>,
}

/// Nearest-rank percentiles of seconds; null when there is no value.
fn percentiles(mut values: Vec<i64>) -> Percentiles {
    if values.is_empty() {
        return Percentiles::default();
    }
    values.sort_unstable();
    let rank =
        |p: f64| values[((p * values.len() as f64).ceil() as usize).clamp(1, values.len()) - 1];
    Percentiles {
        p50: Some(rank(0.5)),
        p90: Some(rank(0.9)),
    }
}

pub(super) fn share(part: usize, whole: usize) -> Option<f64> {
    if whole == 0 {
        None
    } else {
        Some(part as f64 / whole as f64)
    }
}

/// The report for the input's period.
pub fn kpis(input: &super::Input, config: &Config) -> Kpis {
    let (events, from, to) = (input.events.as_slice(), input.from, input.to);
    let within = |t: DateTime<Utc>| from <= t && t < to;
    let tickets = ticket_lives(events);
    let Counted {
        total: conversations,
        contained,
        unanswered,
    } = self::conversations(events, &tickets, from, to);
    let messages = events
        .iter()
        .filter(|e| within(e.at) && matches!(e.kind, EventKind::Decided { .. }))
        .count();
    let opened: Vec<&TicketLife> = tickets
        .values()
        .filter(|t| t.opened.is_some_and(within))
        .collect();
    let department = |d: Option<&str>| {
        let list: Vec<&TicketLife> = opened
            .iter()
            .copied()
            .filter(|t| d.is_none_or(|d| t.department == d))
            .collect();
        ticket_times(&list, config, input.as_of)
    };
    let by_department: BTreeMap<String, TicketTimes> = config
        .departments
        .keys()
        .map(|d| (d.clone(), department(Some(d))))
        .collect();
    let all = department(None);
    let (retention_rate, retention_base) = retention(events, &input.wrote_before, from, to);
    Kpis {
        by_channel: super::breakdown::by_channel(events, config, from, to),
        by_department,
        by_week: super::breakdown::by_week(events, config, from, to),
        containment_rate: share(contained, conversations),
        conversations,
        csat: csat(events, &within),
        first_response_seconds: FirstResponse {
            bot: percentiles(bot_response_times(events, &within)),
            operator: all.first_response_business,
            operator_calendar: all.first_response_calendar,
        },
        from,
        handoff_rate: share(conversations - contained, conversations),
        unanswered_rate: share(unanswered, conversations),
        handoff_reasons: super::breakdown::handoff_reasons(events, from, to),
        messages,
        nps: nps(events, &within),
        orders: order_lookups(events, &within),
        promises: promises(events, &within),
        resolution_seconds: all.resolution,
        retention_base,
        retention_rate,
        sla_breaches: all.sla_breaches,
        to,
        top_unanswered: Vec::new(),
    }
}

/// Every ticket's life, from its events.
pub(super) fn ticket_lives(events: &[Event]) -> BTreeMap<TicketId, TicketLife> {
    let mut tickets: BTreeMap<TicketId, TicketLife> = BTreeMap::new();
    for e in events {
        match &e.kind {
            EventKind::TicketOpened {
                ticket, department, ..
            } => {
                let t = tickets.entry(*ticket).or_default();
                t.customer = e.customer.to_string();
                t.department.clone_from(department);
                t.opened = Some(e.at);
            }
            EventKind::Transferred {
                ticket,
                department: Some(d),
                ..
            } => {
                tickets.entry(*ticket).or_default().department.clone_from(d);
            }
            EventKind::OperatorReplied { ticket, .. } => {
                tickets
                    .entry(*ticket)
                    .or_default()
                    .first_reply
                    .get_or_insert(e.at);
            }
            EventKind::Closed { ticket, .. } | EventKind::Cancelled { ticket } => {
                tickets
                    .entry(*ticket)
                    .or_default()
                    .ended
                    .get_or_insert(e.at);
            }
            _ => {}
        }
    }
    tickets
}

/// How many conversations `events` hold (all of one customer's, say), ever.
pub fn conversation_count(events: &[Event]) -> usize {
    let tickets = ticket_lives(events);
    conversations(
        events,
        &tickets,
        DateTime::<Utc>::MIN_UTC,
        DateTime::<Utc>::MAX_UTC,
    )
    .total
}

/// Conversations started in a period, as the bot ended them.
pub(super) struct Counted {
    pub total: usize,
    /// Opened no ticket.
    pub contained: usize,
    /// Of those, ended on a message the bot could not answer: not understood, or
    /// choices offered and not picked (the customer wrote nothing more).
    pub unanswered: usize,
}

/// Conversations started in the period, and how the bot ended them.
pub(super) fn conversations(
    events: &[Event],
    tickets: &BTreeMap<TicketId, TicketLife>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Counted {
    // Per customer, once: when their tickets opened and ended. (Hash maps keyed by
    // the events' own ids: this runs once per slice of a report, over every event.)
    let mut opened: HashMap<&str, Vec<DateTime<Utc>>> = HashMap::new();
    let mut ended: HashMap<&str, Vec<DateTime<Utc>>> = HashMap::new();
    for t in tickets.values() {
        opened.entry(&t.customer).or_default().extend(t.opened);
        ended.entry(&t.customer).or_default().extend(t.ended);
    }
    let between =
        |times: Option<&Vec<DateTime<Utc>>>, a: DateTime<Utc>, b: Option<DateTime<Utc>>| {
            times.is_some_and(|ts| ts.iter().any(|&x| a <= x && b.is_none_or(|b| x < b)))
        };
    // Each customer's conversation starts, in order, with the conversation's last
    // decision.
    let mut starts: HashMap<&str, Vec<(DateTime<Utc>, DecisionKind)>> = HashMap::new();
    let mut last: HashMap<&str, DateTime<Utc>> = HashMap::new();
    for e in events {
        // A survey answer continues what it rates; it starts nothing.
        let EventKind::Decided { decision, .. } = &e.kind else {
            continue;
        };
        if decision.rates_only() {
            continue;
        }
        let customer = e.customer.as_str();
        let ended_since = |prev: DateTime<Utc>| {
            ended
                .get(customer)
                .is_some_and(|ts| ts.iter().any(|&x| prev < x && x <= e.at))
        };
        // Taking back a request for a person ends its ticket and goes on talking.
        let took_back = *decision == DecisionKind::CancelHandoff;
        let new = last
            .get(customer)
            .is_none_or(|&prev| e.at - prev >= SESSION_GAP || (ended_since(prev) && !took_back));
        let started = starts.entry(customer).or_default();
        match started.last_mut() {
            Some((_, ended_on)) if !new => *ended_on = *decision,
            _ => started.push((e.at, *decision)),
        }
        last.insert(customer, e.at);
    }
    let mut counted = Counted {
        total: 0,
        contained: 0,
        unanswered: 0,
    };
    for (customer, times) in &starts {
        for (i, &(start, ended_on)) in times.iter().enumerate() {
            if from <= start && start < to {
                let next = times.get(i + 1).map(|(t, _)| *t);
                let handed = between(opened.get(customer), start, next);
                counted.total += 1;
                counted.contained += usize::from(!handed);
                let missed = matches!(ended_on, DecisionKind::Fallback | DecisionKind::Clarify);
                counted.unanswered += usize::from(!handed && missed);
            }
        }
    }
    counted
}

/// Seconds from a customer message to the bot's reply (the bot answers in the same
/// turn, so these are the store's own times: 0 unless a turn was retried late).
fn bot_response_times(events: &[Event], within: &dyn Fn(DateTime<Utc>) -> bool) -> Vec<i64> {
    events
        .iter()
        .filter(|e| within(e.at))
        .filter(|e| {
            matches!(&e.kind, EventKind::Decided { decision, .. }
                if *decision != DecisionKind::ToOperator)
        })
        // The reply is written in the same transaction as the message, stamped with
        // the message's time: in store time the bot answers at once.
        .map(|_| 0)
        .collect()
}

/// First response (business and calendar), resolution and SLA breaches of tickets;
/// a ticket still waiting has waited until `until` (now: hours to come are not a
/// breach yet, and a wait past the period's end counts as a late reply would).
pub(super) fn ticket_times(
    tickets: &[&TicketLife],
    config: &Config,
    until: DateTime<Utc>,
) -> TicketTimes {
    let (mut business, mut calendar, mut resolution, mut breaches) = (vec![], vec![], vec![], 0);
    for t in tickets {
        let Some(opened) = t.opened else { continue };
        let hours = config.hours_of(&t.department);
        if let Some(reply) = t.first_reply {
            calendar.push((reply - opened).num_seconds());
            business.push(hours.business_time(opened, reply).num_seconds());
        }
        if let Some(ended) = t.ended {
            resolution.push((ended - opened).num_seconds());
        }
        let sla = config
            .departments
            .get(&t.department)
            .and_then(|d| d.sla_first_response);
        if let Some(sla) = sla {
            // Waiting until the first reply, or until the ticket ended without one
            // (taken back, closed as a duplicate), or still waiting: until `until`.
            let end = t.first_reply.or(t.ended).unwrap_or(until).max(opened);
            let waited = hours.business_time(opened, end);
            breaches += usize::from(waited > sla);
        }
    }
    TicketTimes {
        first_response_business: percentiles(business),
        first_response_calendar: percentiles(calendar),
        resolution: percentiles(resolution),
        sla_breaches: breaches,
        tickets: tickets.len(),
    }
}

/// Waits told to customers, and how they ended.
fn order_lookups(events: &[Event], within: &dyn Fn(DateTime<Utc>) -> bool) -> OrderLookups {
    let mut counts = OrderLookups::default();
    for e in events.iter().filter(|e| within(e.at)) {
        if let EventKind::OrderLookup { outcome } = e.kind {
            counts.looked_up += 1;
            if outcome == LookupOutcome::Answered {
                counts.answered += 1;
            }
        }
    }
    counts
}

fn promises(events: &[Event], within: &dyn Fn(DateTime<Utc>) -> bool) -> Promises {
    let (mut made, mut kept, mut broken) = (0, 0, 0);
    for e in events.iter().filter(|e| within(e.at)) {
        match e.kind {
            EventKind::PromiseMade { .. } => made += 1,
            EventKind::PromiseKept { .. } => kept += 1,
            EventKind::PromiseBroken { .. } => broken += 1,
            _ => {}
        }
    }
    Promises { broken, kept, made }
}

fn scores(events: &[Event], within: &dyn Fn(DateTime<Utc>) -> bool, kind: SurveyKind) -> Vec<u8> {
    events
        .iter()
        .filter(|e| within(e.at))
        .filter_map(|e| match &e.kind {
            EventKind::SurveyAnswered { survey, score, .. } if *survey == kind => Some(*score),
            _ => None,
        })
        .collect()
}

pub(super) fn csat(events: &[Event], within: &dyn Fn(DateTime<Utc>) -> bool) -> Csat {
    let s = scores(events, within, SurveyKind::Csat);
    let sum: u32 = s.iter().map(|&x| u32::from(x)).sum();
    let average = (!s.is_empty()).then(|| f64::from(sum) / s.len() as f64);
    let satisfied = s.iter().filter(|&&x| x >= 4).count();
    Csat {
        average,
        responses: s.len(),
        satisfied_share: share(satisfied, s.len()),
    }
}

pub(super) fn nps(events: &[Event], within: &dyn Fn(DateTime<Utc>) -> bool) -> Nps {
    let s = scores(events, within, SurveyKind::Nps);
    let promoters = s.iter().filter(|&&x| x >= 9).count();
    let detractors = s.iter().filter(|&&x| x <= 6).count();
    let passives = s.len() - promoters - detractors;
    let score =
        (!s.is_empty()).then(|| (promoters as f64 - detractors as f64) * 100.0 / s.len() as f64);
    Nps {
        detractors,
        passives,
        promoters,
        responses: s.len(),
        score,
    }
}

/// CRR = (CE − CN) / CS × 100 on customers who wrote: CS = those who wrote in the
/// equally long period before (`start`), CE = those who wrote in this one, CN = those
/// of CE who had not written in the period before.
fn retention(
    events: &[Event],
    start: &HashSet<String>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> (Option<f64>, RetentionBase) {
    let end: HashSet<&str> = events
        .iter()
        .filter(|e| from <= e.at && e.at < to && matches!(e.kind, EventKind::Decided { .. }))
        .map(|e| e.customer.as_str())
        .collect();
    let new = end.iter().filter(|c| !start.contains(**c)).count();
    let rate = (!start.is_empty()).then(|| (end.len() - new) as f64 * 100.0 / start.len() as f64);
    let base = RetentionBase {
        customers: "who wrote".to_owned(),
        end: end.len(),
        new,
        start: start.len(),
    };
    (rate, base)
}

#[cfg(test)]
#[path = "kpi_tests.rs"]
mod tests;
