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
//!
//! What a period's report reads through it is in `period.rs`.

use super::index::instant;
use super::{Result, SledStore, customer_key, customer_prefix, decode};
use crate::domain::{CustomerId, Event, EventKind, Ticket, TicketId};
use chrono::{DateTime, Utc};
use sled::transaction::{TransactionalTree, UnabortableTransactionError};

mod period;
#[cfg(test)]
mod tests;

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
pub(super) fn event_keys(seq: u64, event: &Event) -> Vec<(Vec<u8>, Vec<u8>)> {
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

fn seq_of(key: &[u8]) -> u64 {
    key[key.len().saturating_sub(8)..]
        .try_into()
        .map_or(0, u64::from_be_bytes)
}

/// Inside a turn: a new ticket is listed under its customer.
pub(super) fn index_ticket(
    history: &TransactionalTree,
    ticket: &Ticket,
) -> std::result::Result<(), UnabortableTransactionError> {
    history.insert(ticket_key(&ticket.customer, ticket.id), &[])?;
    Ok(())
}

impl SledStore {
    fn events_at(&self, seqs: impl IntoIterator<Item = u64>) -> Result<Vec<(u64, Event)>> {
        let mut out = Vec::new();
        for seq in seqs {
            if let Some(bytes) = self.events.get(seq.to_be_bytes())? {
                out.push((seq, decode("events", &bytes)?));
            }
        }
        Ok(out)
    }

    /// The seqs (or ticket ids) the index lists in `range`, in key order.
    fn listed(&self, range: impl std::ops::RangeBounds<Vec<u8>>) -> Result<Vec<u64>> {
        self.history
            .range(range)
            .keys()
            .map(|k| Ok(seq_of(&k?)))
            .collect()
    }

    /// What the index lists under `prefix`, in key order.
    fn listed_under(&self, prefix: Vec<u8>) -> Result<Vec<u64>> {
        self.history
            .scan_prefix(prefix)
            .keys()
            .map(|k| Ok(seq_of(&k?)))
            .collect()
    }

    /// Events stamped in `[from, to)`, with their seqs, in write order.
    fn events_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<(u64, Event)>> {
        let mut seqs =
            self.listed(tagged(BY_TIME, &[&instant(from)])..tagged(BY_TIME, &[&instant(to)]))?;
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
        let seqs = self.listed_under(tagged(BY_CUSTOMER, &[&customer_prefix(customer)]))?;
        Ok(self.events_at(seqs)?.into_iter().map(|(_, e)| e).collect())
    }

    /// The seqs of `ticket`'s events, in write order.
    fn ticket_events(&self, ticket: TicketId) -> Result<Vec<u64>> {
        self.listed_under(tagged(BY_TICKET, &[&ticket.0.to_be_bytes()]))
    }

    /// Every ticket of `customer`, oldest first.
    pub fn tickets_of(&self, customer: &CustomerId) -> Result<Vec<Ticket>> {
        let mut found = Vec::new();
        for id in self.listed_under(tagged(TICKETS_OF, &[&customer_prefix(customer)]))? {
            if let Some(ticket) = self.ticket(TicketId(id))? {
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
        let events = self.events_between(since, DateTime::<Utc>::MAX_UTC)?;
        Ok(events.into_iter().map(|(_, e)| e).collect())
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
