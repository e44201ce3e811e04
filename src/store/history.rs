//! Indexes over the store's history (layout v4), so that what reads the past reads only
//! the part it needs: a week's report costs the same after a year of events, and a
//! customer's record the same whatever the other customers wrote.
//!
//! One tree, `history`, written in the same transaction as the events and tickets it
//! points to, its keys told apart by their first byte:
//! - `T` instant (12 bytes, see `index.rs`) seq (u64 BE): events by time
//! - `C` customer id `\0` instant seq: events by customer, in time order
//! - `K` ticket id (u64 BE) seq: events by ticket, in write order
//! - `U` customer id `\0` ticket id: tickets by customer
//!
//! The event is read from `events` by its seq. Values are empty, but for a customer's
//! message (a `decided` event) in `T`, whose value is the customer's id: who wrote in
//! a period is read from the index alone (retention compares with the period before).
//! A v3 store gets the tree built once when it is opened (`build_history`).

use super::index::instant;
use super::{Result, Store, customer_key, customer_prefix, decode};
use crate::domain::triage::DecisionKind;
use crate::domain::{CustomerId, Event, EventKind, Ticket, TicketId};
use chrono::{DateTime, Utc};
use sled::transaction::{TransactionalTree, UnabortableTransactionError};
use std::collections::{BTreeMap, BTreeSet};

const BY_TIME: u8 = b'T';
const BY_CUSTOMER: u8 = b'C';
const BY_TICKET: u8 = b'K';
const TICKETS_OF: u8 = b'U';

fn tagged(tag: u8, rest: &[&[u8]]) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + rest.iter().map(|r| r.len()).sum::<usize>());
    key.push(tag);
    for part in rest {
        key.extend_from_slice(part);
    }
    key
}

/// The index entries (key, value) of one event stored under `seq`.
fn event_keys(seq: u64, event: &Event) -> Vec<(Vec<u8>, Vec<u8>)> {
    let seq = seq.to_be_bytes();
    let writer = match event.kind {
        EventKind::Decided { .. } => event.customer.as_str().as_bytes().to_vec(),
        _ => Vec::new(),
    };
    let mut keys = vec![
        (tagged(BY_TIME, &[&instant(event.at), &seq]), writer),
        (
            tagged(
                BY_CUSTOMER,
                &[&customer_key(&event.customer, &instant(event.at)), &seq],
            ),
            Vec::new(),
        ),
    ];
    if let Some(ticket) = event.kind.ticket() {
        keys.push((
            tagged(BY_TICKET, &[&ticket.0.to_be_bytes(), &seq]),
            Vec::new(),
        ));
    }
    keys
}

fn ticket_key(customer: &CustomerId, ticket: TicketId) -> Vec<u8> {
    tagged(
        TICKETS_OF,
        &[&customer_key(customer, &ticket.0.to_be_bytes())],
    )
}

/// A customer's message that starts a conversation or continues one (a survey answer
/// only rates what came before), as the KPIs count conversations.
fn starts_or_continues(kind: &EventKind) -> bool {
    matches!(kind, EventKind::Decided { decision, .. } if *decision != DecisionKind::SurveyAnswer)
}

fn seq_of(key: &[u8]) -> u64 {
    key[key.len().saturating_sub(8)..]
        .try_into()
        .map_or(0, u64::from_be_bytes)
}

/// Inside a turn: index the event just stored under `seq`; returns the entries written.
pub(super) fn index_event(
    history: &TransactionalTree,
    seq: u64,
    event: &Event,
) -> std::result::Result<u64, UnabortableTransactionError> {
    let keys = event_keys(seq, event);
    let written = keys.len() as u64;
    for (key, value) in keys {
        history.insert(key, value)?;
    }
    Ok(written)
}

/// Inside a turn: a new ticket is listed under its customer.
pub(super) fn index_ticket(
    history: &TransactionalTree,
    ticket: &Ticket,
) -> std::result::Result<(), UnabortableTransactionError> {
    history.insert(ticket_key(&ticket.customer, ticket.id), &[])?;
    Ok(())
}

impl Store {
    fn events_at(&self, seqs: impl IntoIterator<Item = u64>) -> Result<Vec<(u64, Event)>> {
        let mut out = Vec::new();
        for seq in seqs {
            if let Some(bytes) = self.events.get(seq.to_be_bytes())? {
                out.push((seq, decode("events", &bytes)?));
            }
        }
        Ok(out)
    }

    fn seqs(&self, from: Vec<u8>, to: Vec<u8>) -> Result<Vec<u64>> {
        self.history
            .range(from..to)
            .keys()
            .map(|k| Ok(seq_of(&k?)))
            .collect()
    }

    /// Events stamped in `[from, to)`, in write order.
    pub fn events_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Event>> {
        Ok(self
            .events_between_seq(from, to)?
            .into_iter()
            .map(|(_, e)| e)
            .collect())
    }

    fn events_between_seq(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(u64, Event)>> {
        let mut seqs = self.seqs(
            tagged(BY_TIME, &[&instant(from)]),
            tagged(BY_TIME, &[&instant(to)]),
        )?;
        seqs.sort_unstable();
        self.events_in_order(&seqs)
    }

    /// The events stored under `seqs` (sorted). Events are written in time order, so
    /// a period's events lie together in `events`: one pass over their key range reads
    /// each page once, where a lookup per event would read a page per event on a store
    /// bigger than the cache. Events in that range but not asked for are skipped; if
    /// they are far more than those asked for (a history imported out of order), the
    /// rest are looked up one by one.
    fn events_in_order(&self, seqs: &[u64]) -> Result<Vec<(u64, Event)>> {
        let (Some(&first), Some(&last)) = (seqs.first(), seqs.last()) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::with_capacity(seqs.len());
        let mut wanted = seqs.iter().copied().peekable();
        let mut skipped = 0;
        let range = self.events.range(first.to_be_bytes()..=last.to_be_bytes());
        for kv in range {
            let (key, value) = kv?;
            let seq = super::be(&key);
            while wanted.next_if(|&w| w < seq).is_some() {}
            if wanted.next_if_eq(&seq).is_some() {
                out.push((seq, decode("events", &value)?));
            } else {
                skipped += 1;
                if skipped > 2 * seqs.len() + 10_000 {
                    break;
                }
            }
        }
        let rest: Vec<u64> = wanted.collect();
        out.extend(self.events_at(rest)?);
        Ok(out)
    }

    /// Every event of `customer`, in time order (write order among equal times).
    pub fn events_of(&self, customer: &CustomerId) -> Result<Vec<Event>> {
        Ok(self
            .events_of_seq(customer)?
            .into_iter()
            .map(|(_, e)| e)
            .collect())
    }

    pub(super) fn events_of_seq(&self, customer: &CustomerId) -> Result<Vec<(u64, Event)>> {
        let prefix = tagged(BY_CUSTOMER, &[&customer_prefix(customer)]);
        let seqs: Vec<u64> = self
            .history
            .scan_prefix(prefix)
            .keys()
            .map(|k| Ok(seq_of(&k?)))
            .collect::<Result<_>>()?;
        self.events_at(seqs)
    }

    /// The seqs of `ticket`'s events, in write order.
    fn ticket_events(&self, ticket: TicketId) -> Result<Vec<u64>> {
        self.history
            .scan_prefix(tagged(BY_TICKET, &[&ticket.0.to_be_bytes()]))
            .keys()
            .map(|k| Ok(seq_of(&k?)))
            .collect()
    }

    /// Every ticket of `customer`, oldest first.
    pub fn tickets_of(&self, customer: &CustomerId) -> Result<Vec<Ticket>> {
        let prefix = tagged(TICKETS_OF, &[&customer_prefix(customer)]);
        let mut found = Vec::new();
        for key in self.history.scan_prefix(prefix).keys() {
            if let Some(ticket) = self.ticket(TicketId(seq_of(&key?)))? {
                found.push(ticket);
            }
        }
        Ok(found)
    }

    /// Who wrote (a `decided` event) in `[from, to)`, from the index alone.
    pub fn writers_between(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<std::collections::HashSet<String>> {
        let mut writers = std::collections::HashSet::new();
        let range = tagged(BY_TIME, &[&instant(from)])..tagged(BY_TIME, &[&instant(to)]);
        for kv in self.history.range(range) {
            let (_, value) = kv?;
            if !value.is_empty() {
                writers.insert(String::from_utf8_lossy(&value).into_owned());
            }
        }
        Ok(writers)
    }

    /// Events from `since` on, in write order (the summary of `report --since`).
    pub fn events_since(&self, since: DateTime<Utc>) -> Result<Vec<Event>> {
        self.events_between(since, DateTime::<Utc>::MAX_UTC)
    }

    /// The events the KPIs of `[from, to)` read ([`crate::report::kpis`] gives the same
    /// figures on these, with [`Store::writers_between`] the period before, as on every
    /// event stored), in write order:
    /// - the events of `[from - a session gap, to)` (whether a message starts a
    ///   conversation depends on the one before);
    /// - every event of the tickets those touch, earlier or later (when a ticket opened
    ///   in the period was answered and closed, which customer a closing belongs to);
    /// - each customer's events after the period up to their next conversation, for
    ///   a conversation started in the period and handed to a person after it (only
    ///   for customers who wrote within a session gap after `to`: for anyone else the
    ///   next message starts a new conversation).
    pub fn report_events(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Event>> {
        let gap = crate::domain::SESSION_GAP;
        let lead = from
            .checked_sub_signed(gap)
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        let after = to
            .checked_add_signed(gap)
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        let mut events: BTreeMap<u64, Event> =
            self.events_between_seq(lead, to)?.into_iter().collect();
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
        let going_on = self.writers_between(to, after)?;
        let mut more = Vec::new();
        for (customer, at) in last {
            if going_on.contains(customer.as_str()) {
                more.extend(self.conversation_tail(customer, at, to)?);
            }
        }
        events.extend(more);
        let mut missing = Vec::new();
        for ticket in tickets {
            let seqs = self.ticket_events(ticket)?;
            missing.extend(seqs.into_iter().filter(|s| !events.contains_key(s)));
        }
        events.extend(self.events_at(missing)?);
        Ok(events.into_values().collect())
    }

    /// `customer`'s events stamped from `to` on, in time order, up to the message
    /// that starts their next conversation (a session gap after `last_message` or the
    /// messages since, or any message after a ticket of theirs ended).
    fn conversation_tail(
        &self,
        customer: &CustomerId,
        last_message: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(u64, Event)>> {
        let start = tagged(BY_CUSTOMER, &[&customer_key(customer, &instant(to))]);
        let mut tail = Vec::new();
        let mut previous = last_message;
        let mut ended = false;
        let prefix = tagged(BY_CUSTOMER, &[&customer_prefix(customer)]);
        for key in self.history.range(start..).keys() {
            let key = key?;
            if !key.starts_with(&prefix) {
                break;
            }
            let seq = seq_of(&key);
            let Some((_, event)) = self.events_at([seq])?.pop() else {
                continue;
            };
            if starts_or_continues(&event.kind) {
                if event.at - previous >= crate::domain::SESSION_GAP || ended {
                    break;
                }
                previous = event.at;
            }
            ended |= matches!(
                event.kind,
                EventKind::Closed { .. } | EventKind::Cancelled { .. }
            );
            tail.push((seq, event));
        }
        Ok(tail)
    }

    /// Write the index entries of an event rewritten in place (forgetting).
    pub(super) fn reindex_event(&self, seq: u64, event: &Event) -> Result<()> {
        for (key, value) in event_keys(seq, event) {
            self.history.insert(key, value)?;
        }
        Ok(())
    }

    /// Write the ticket's entry under its (anonymous) customer (forgetting).
    pub(super) fn reindex_ticket(&self, ticket: &Ticket) -> Result<()> {
        self.history
            .insert(ticket_key(&ticket.customer, ticket.id), &[])?;
        Ok(())
    }

    /// Forgetting, once their events and tickets are listed under the anonymous id:
    /// drop every entry still under `customer`.
    pub(super) fn drop_from_history(&self, customer: &CustomerId) -> Result<()> {
        for tag in [BY_CUSTOMER, TICKETS_OF] {
            let prefix = tagged(tag, &[&customer_prefix(customer)]);
            let keys: Vec<sled::IVec> = self
                .history
                .scan_prefix(&prefix)
                .keys()
                .collect::<std::result::Result<_, _>>()?;
            for key in keys {
                self.history.remove(&key)?;
            }
        }
        Ok(())
    }

    /// Layout v3 -> v4: index every stored event and ticket. Safe to run again after a
    /// crash (the version moves to 4 only once it is complete).
    pub(super) fn build_history(&self) -> Result<u64> {
        self.history.clear()?;
        let mut batch = sled::Batch::default();
        let mut count = 0u64;
        for kv in self.events.iter() {
            let (key, value) = kv?;
            let event: Event = decode("events", &value)?;
            for (k, v) in event_keys(super::be(&key), &event) {
                batch.insert(k, v);
            }
            count += 1;
            if count.is_multiple_of(10_000) {
                self.history.apply_batch(std::mem::take(&mut batch))?;
            }
        }
        for kv in self.tickets.iter() {
            let (_, value) = kv?;
            let ticket: Ticket = decode("tickets", &value)?;
            batch.insert(ticket_key(&ticket.customer, ticket.id), &[]);
        }
        self.history.apply_batch(batch)?;
        Ok(count)
    }

    /// Index problems, for `verify`: every event and ticket listed where it belongs,
    /// nothing listed that is not stored.
    pub(super) fn history_problems(&self) -> Result<Vec<String>> {
        let mut problems = Vec::new();
        let mut expected = 0u64;
        for kv in self.events.iter() {
            let (key, value) = kv?;
            let event: Event = decode("events", &value)?;
            for (k, v) in event_keys(super::be(&key), &event) {
                expected += 1;
                if self.history.get(&k)?.as_deref() != Some(v.as_slice()) {
                    problems.push(format!(
                        "event {} is missing from the history index",
                        super::be(&key)
                    ));
                    break;
                }
            }
        }
        for kv in self.tickets.iter() {
            let (_, value) = kv?;
            let ticket: Ticket = decode("tickets", &value)?;
            expected += 1;
            if !self
                .history
                .contains_key(ticket_key(&ticket.customer, ticket.id))?
            {
                problems.push(format!(
                    "ticket {} is missing from its customer's list",
                    ticket.id
                ));
            }
        }
        let listed = self.history.len() as u64;
        if listed != expected {
            problems.push(format!(
                "the history index has {listed} entries for {expected} expected"
            ));
        }
        Ok(problems)
    }

    /// Write `events` (and their index entries) outside any turn, in large batches: a
    /// history imported or generated (the benchmark's year of a busy shop), one
    /// transaction per call. Not flushed.
    pub fn append_events(&self, events: &[Event]) -> Result<()> {
        let mut batch = sled::Batch::default();
        let mut index = sled::Batch::default();
        for event in events {
            let seq = self.next_seq()?;
            batch.insert(&seq.to_be_bytes(), super::encode(event));
            for (k, v) in event_keys(seq, event) {
                index.insert(k, v);
            }
        }
        use sled::Transactional;
        (&self.events, &self.history)
            .transaction(|(e, h)| {
                e.apply_batch(&batch)?;
                h.apply_batch(&index)?;
                Ok::<(), sled::transaction::ConflictableTransactionError<()>>(())
            })
            .map_err(|e| match e {
                sled::transaction::TransactionError::Storage(e) => e.into(),
                sled::transaction::TransactionError::Abort(()) => {
                    unreachable!("the import never aborts")
                }
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::domain::triage::Cause;
    use crate::domain::{Lang, Priority, SurveyKind};
    use chrono::Duration;

    /// A small xorshift: the histories are random but the same on every run.
    struct Dice(u64);

    impl Dice {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    fn decided(at: DateTime<Utc>, customer: &CustomerId, decision: DecisionKind) -> Event {
        Event {
            at,
            customer: customer.clone(),
            kind: EventKind::Decided {
                text: format!("domanda {}", at.timestamp() % 7),
                lang: Lang::It,
                decision,
                cause: Cause::Unknown,
                target: None,
                intent: None,
                reason: String::new(),
                candidates: Vec::new(),
            },
        }
    }

    /// Forty days of twelve customers: conversations of a few messages, some handed to
    /// a person whose reply and closing come hours or days later, surveys, transfers,
    /// silences shorter and longer than a session gap.
    fn history(seed: u64, start: DateTime<Utc>) -> Vec<Event> {
        let mut dice = Dice(seed);
        let mut events = Vec::new();
        let mut next_ticket = 1;
        for c in 0..12 {
            let customer = CustomerId::parse(&format!("web:c{c}")).unwrap();
            let mut at = start + Duration::minutes(dice.below(3 * 24 * 60) as i64);
            while at < start + Duration::days(40) {
                for _ in 0..=dice.below(4) {
                    events.push(decided(at, &customer, DecisionKind::Answer));
                    at += Duration::minutes(1 + dice.below(20 * 60) as i64);
                }
                if dice.below(3) == 0 {
                    let ticket = TicketId(next_ticket);
                    next_ticket += 1;
                    events.push(decided(at, &customer, DecisionKind::Handoff));
                    let ev = |at, kind| Event {
                        at,
                        customer: customer.clone(),
                        kind,
                    };
                    events.push(ev(
                        at,
                        EventKind::TicketOpened {
                            ticket,
                            department: "assistenza".into(),
                            priority: Priority::Normal,
                            reason: "chiesto".into(),
                        },
                    ));
                    let mut later = at + Duration::minutes(dice.below(6 * 24 * 60) as i64);
                    if dice.below(4) == 0 {
                        events.push(ev(
                            later,
                            EventKind::Transferred {
                                ticket,
                                operator: "anna".into(),
                                department: Some("ordini".into()),
                                to_operator: None,
                            },
                        ));
                    }
                    if dice.below(5) > 0 {
                        later += Duration::minutes(dice.below(600) as i64);
                        let operator = "anna".to_owned();
                        events.push(ev(later, EventKind::OperatorReplied { ticket, operator }));
                        if dice.below(4) > 0 {
                            later += Duration::minutes(dice.below(600) as i64);
                            let operator = "anna".to_owned();
                            events.push(ev(later, EventKind::Closed { ticket, operator }));
                            if dice.below(2) == 0 {
                                events.push(decided(later, &customer, DecisionKind::SurveyAnswer));
                                events.push(ev(
                                    later,
                                    EventKind::SurveyAnswered {
                                        survey: SurveyKind::Csat,
                                        score: 1 + dice.below(5) as u8,
                                        comment: None,
                                        ticket: Some(ticket),
                                    },
                                ));
                            }
                        }
                    }
                    // Sometimes the customer writes again while the ticket waits.
                    if dice.below(3) > 0 {
                        at = at.max(later);
                    }
                }
                at += Duration::minutes(dice.below(4 * 24 * 60) as i64);
            }
        }
        events.sort_by_key(|e| e.at);
        // A few messages written late, stamped earlier (a provider's retried webhook
        // keeps the time the customer wrote): last in write order.
        let late: Vec<usize> = (0..events.len()).filter(|i| i % 53 == 7).collect();
        for (moved, i) in late.into_iter().enumerate() {
            let event = events.remove(i - moved);
            events.push(event);
        }
        events
    }

    #[test]
    fn a_period_read_through_the_index_gives_the_report_of_every_event() {
        let start = DateTime::parse_from_rfc3339("2026-09-01T00:00:00Z")
            .unwrap()
            .to_utc();
        let config = Config::default();
        for seed in 1..=4u64 {
            let dir = tempfile::tempdir().unwrap();
            let store = Store::open(dir.path()).unwrap();
            let all = history(seed * 7919, start);
            assert!(all.len() > 300, "{}", all.len());
            for chunk in all.chunks(97) {
                store.append_events(chunk).unwrap();
            }
            let day = |d: i64| start + Duration::days(d);
            for (from, to) in [
                (day(10), day(17)),
                (day(3), day(4)),
                (day(20), day(23)),
                (day(0), day(30)),
                (day(33), day(45)),
            ] {
                let read = crate::report::Input::read(&store, from, to).unwrap();
                assert!(
                    read.events.len() < all.len(),
                    "the period reads less than all"
                );
                let every = crate::report::Input::of_all(all.clone(), from, to);
                let whole = serde_json::to_value(crate::report::full_report(&every, &config));
                let part = serde_json::to_value(crate::report::full_report(&read, &config));
                assert_eq!(part.unwrap(), whole.unwrap(), "seed {seed}, {from} to {to}");
            }
            assert!(store.verify().unwrap().is_empty());
            let c3 = CustomerId::parse("web:c3").unwrap();
            let mine: Vec<Event> = all.iter().filter(|e| e.customer == c3).cloned().collect();
            let mut mine = mine;
            mine.sort_by_key(|e| e.at);
            assert_eq!(store.events_of(&c3).unwrap(), mine);
        }
    }
}
