//! What a period's KPIs read: the period's events and what its figures depend on,
//! never the whole store. The choice is the same on every backend; each gives the
//! reads it is made of ([`PeriodReads`]) from its own indexes.

use super::Result;
use crate::domain::{CustomerId, Event, EventKind, TicketId};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// The indexed reads a period's events are gathered with. Events carry their seq
/// (write order).
pub(super) trait PeriodReads {
    /// Events stamped in `[from, to)`, in write order.
    fn events_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<(u64, Event)>>;
    /// Who wrote (a `decided` event) in `[from, to)`.
    fn writers_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<HashSet<String>>;
    /// `customer`'s events stamped from `from` on, in time order, to `visit` until it
    /// returns false.
    fn visit_customer_from(
        &self,
        customer: &CustomerId,
        from: DateTime<Utc>,
        visit: &mut dyn FnMut(u64, Event) -> bool,
    ) -> Result<()>;
    /// The seqs of `ticket`'s events.
    fn ticket_event_seqs(&self, ticket: TicketId) -> Result<Vec<u64>>;
    /// The events stored under `seqs`.
    fn events_at(&self, seqs: Vec<u64>) -> Result<Vec<(u64, Event)>>;
}

/// A customer's message that starts a conversation or continues one (a survey answer
/// only rates what came before), as the KPIs count conversations.
fn starts_or_continues(kind: &EventKind) -> bool {
    matches!(kind, EventKind::Decided { decision, .. } if !decision.rates_only())
}

/// The events the KPIs of `[from, to)` read ([`crate::report::kpis`] gives the same
/// figures on these, with `writers_between` the period before, as on every event
/// stored), in write order:
/// - the events of `[from - a session gap, to)` (whether a message starts a
///   conversation depends on the one before);
/// - every event of the tickets those touch, earlier or later (when a ticket opened
///   in the period was answered and closed, which customer a closing belongs to);
/// - each customer's events after the period up to their next conversation, for
///   a conversation started in the period and handed to a person after it (only
///   for customers who wrote within a session gap after `to`: for anyone else the
///   next message starts a new conversation).
pub(super) fn report_events(
    store: &impl PeriodReads,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Event>> {
    let gap = crate::domain::SESSION_GAP;
    let lead = from
        .checked_sub_signed(gap)
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    let after = to
        .checked_add_signed(gap)
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    let mut events: BTreeMap<u64, Event> = store.events_between(lead, to)?.into_iter().collect();
    let tickets: BTreeSet<TicketId> = events.values().filter_map(|e| e.kind.ticket()).collect();
    // Each customer's last message in the period.
    let mut last: BTreeMap<&CustomerId, DateTime<Utc>> = BTreeMap::new();
    for e in events.values() {
        if starts_or_continues(&e.kind) && from <= e.at {
            let at = last.entry(&e.customer).or_insert(e.at);
            *at = (*at).max(e.at);
        }
    }
    // A conversation goes on past `to` only if its customer wrote again within a
    // session gap of it (tickets open on a customer's message).
    let going_on = store.writers_between(to, after)?;
    let mut more = Vec::new();
    for (customer, at) in last {
        if going_on.contains(customer.as_str()) {
            more.extend(conversation_tail(store, customer, at, to)?);
        }
    }
    events.extend(more);
    let mut missing = Vec::new();
    for ticket in tickets {
        let seqs = store.ticket_event_seqs(ticket)?;
        missing.extend(seqs.into_iter().filter(|s| !events.contains_key(s)));
    }
    events.extend(store.events_at(missing)?);
    Ok(events.into_values().collect())
}

/// `customer`'s events stamped from `to` on, in time order, up to the message that
/// starts their next conversation (a session gap after `last_message` or the messages
/// since, or any message after a ticket of theirs ended).
fn conversation_tail(
    store: &impl PeriodReads,
    customer: &CustomerId,
    last_message: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<(u64, Event)>> {
    let mut tail = Vec::new();
    let mut previous = last_message;
    let mut ended = false;
    store.visit_customer_from(customer, to, &mut |seq, event| {
        if starts_or_continues(&event.kind) {
            if event.at - previous >= crate::domain::SESSION_GAP || ended {
                return false;
            }
            previous = event.at;
        }
        ended |= matches!(
            event.kind,
            EventKind::Closed { .. } | EventKind::Cancelled { .. }
        );
        tail.push((seq, event));
        true
    })?;
    Ok(tail)
}
