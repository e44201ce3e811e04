//! Forgetting a customer for real. [`SledStore::forget`] deletes every record that is
//! theirs and keeps only anonymous counts (their tickets and events under a random
//! `forgotten:` id, without texts); then [`rewrite`] copies the live data into a fresh
//! store and destroys the old files, because sled is log-structured: a removed value
//! stays readable in old pages until they are reused.
//!
//! The swap survives a crash at any point: the copy is marked complete before the old
//! directory is moved aside, and [`SledStore::open`] finishes a swap it finds half done.
//! The swap is in `rewrite.rs`.

mod rewrite;

pub(in crate::store) use rewrite::interrupted;
pub(super) use rewrite::{PENDING, SEQ_FLOOR, recover, reopen};
pub use rewrite::{check_rewritable, rewrite};

use super::{Forgotten, Result, SledStore, customer_prefix, decode, encode};
use crate::domain::CustomerId;
use crate::store::records::anonymous_id;

impl SledStore {
    /// Delete `customer`'s conversation, messages, notes, pending replies and dedupe
    /// keys; keep their tickets and events for the KPIs under a random anonymous id,
    /// with every text taken out. An open ticket is cancelled. Run [`rewrite`] after
    /// closing the store so that nothing is left in the files.
    pub fn forget(&self, customer: &CustomerId) -> Result<Forgotten> {
        // One anonymous id per forgetting, kept until it is done: a forget run again
        // after a crash puts the rest of the records under the same id.
        let started = format!("{FORGETTING}{}", customer.as_str());
        let anon = match self.meta.get(&started)? {
            Some(v) => CustomerId::parse(&String::from_utf8_lossy(&v))
                .unwrap_or_else(|_| anonymous_id(customer)),
            None => anonymous_id(customer),
        };
        self.meta.insert(&started, anon.as_str().as_bytes())?;
        let mut done = Forgotten {
            anonymous_id: anon.to_string(),
            ..Forgotten::default()
        };
        // Until the store is rewritten its files still hold what is erased here: the
        // next open finishes the job if this process does not.
        self.meta.insert(PENDING, &[1u8][..])?;
        self.flush()?;
        // Counts first, deletions last: an interrupted forget can simply be run again.
        done.tickets_anonymised = self.anonymise_tickets(customer, &anon)?;
        done.events_anonymised = self.anonymise_events(customer, &anon)?;
        self.drop_from_history(customer)?;
        done.messages = remove_prefix(&self.messages, customer)?;
        done.notes = remove_prefix(&self.notes, customer)?;
        for tree in [&self.dedupe, &self.outbox, &self.failed, &self.statuses] {
            remove_prefix(tree, customer)?;
        }
        self.conversations.remove(customer.as_str())?;
        self.hot.forget(customer);
        self.unreachable.remove(customer.as_str())?;
        self.held.remove(customer.as_str())?;
        self.email_threads.remove(customer.as_str())?;
        self.contacts.remove(customer.as_str())?;
        self.remove_attachments(customer)?;
        self.meta.remove(&started)?;
        self.flush()?;
        Ok(done)
    }

    /// `customer`'s tickets under `anon`, texts out; an open one cancelled. Every
    /// ticket is read (not only those the index lists): forgetting is rare, and must
    /// not depend on an index being whole.
    fn anonymise_tickets(&self, customer: &CustomerId, anon: &CustomerId) -> Result<usize> {
        let mut count = 0;
        for kv in self.tickets.iter() {
            let (key, value) = kv?;
            let mut ticket: crate::domain::Ticket = decode("tickets", &value)?;
            if &ticket.customer != customer {
                continue;
            }
            let before = ticket.clone();
            if crate::store::records::anonymise_ticket(&mut ticket, anon) {
                self.unqueue(&before)?;
                self.open_tickets.remove(&key)?;
            }
            self.tickets.insert(key, encode(&ticket))?;
            self.reindex_ticket(&ticket)?;
            count += 1;
        }
        Ok(count)
    }

    /// `customer`'s events under `anon`, texts out; every event is read, as above.
    fn anonymise_events(&self, customer: &CustomerId, anon: &CustomerId) -> Result<usize> {
        let mut count = 0;
        for kv in self.events.iter() {
            let (key, value) = kv?;
            let mut event: crate::domain::Event = decode("events", &value)?;
            if &event.customer != customer {
                continue;
            }
            crate::store::records::anonymise_event(&mut event, anon);
            self.events.insert(&key, encode(&event))?;
            // Listed under the anonymous id (and the time index's customer with it);
            // the entries under `customer` go in `rename_in_history`.
            self.reindex_event(super::be(&key), &event)?;
            count += 1;
        }
        Ok(count)
    }
}

/// `meta` key prefix: a forget under way, its customer -> the anonymous id it uses.
const FORGETTING: &str = "forgetting:";

fn remove_prefix(tree: &sled::Tree, customer: &CustomerId) -> Result<usize> {
    let keys: Vec<sled::IVec> = tree
        .scan_prefix(customer_prefix(customer))
        .keys()
        .collect::<std::result::Result<_, _>>()?;
    for key in &keys {
        tree.remove(key)?;
    }
    Ok(keys.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Event, EventKind, Lang};

    fn message(customer: &CustomerId, minutes: i64) -> Event {
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-02T09:00:00Z")
            .unwrap()
            .to_utc();
        Event {
            at: at + chrono::Duration::minutes(minutes),
            customer: customer.clone(),
            kind: EventKind::Decided {
                text: "il mio indirizzo è via Zanzibar 3".into(),
                lang: Lang::It,
                decision: crate::domain::triage::DecisionKind::Answer,
                cause: crate::domain::triage::Cause::Confident,
                target: None,
                intent: None,
                reason: String::new(),
                candidates: Vec::new(),
            },
        }
    }

    #[test]
    fn a_forget_run_again_after_a_crash_finishes_under_the_same_anonymous_id() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        let giulia = CustomerId::parse("telegram:501").unwrap();
        let marco = CustomerId::parse("telegram:777").unwrap();
        let events: Vec<Event> = (0..6)
            .map(|i| message(if i % 2 == 0 { &giulia } else { &marco }, i))
            .collect();
        store.append_events(&events).unwrap();
        // The first run got as far as the events, then the process died.
        let first = anonymous_id(&giulia);
        let started = format!("{FORGETTING}{}", giulia.as_str());
        store
            .meta
            .insert(&started, first.as_str().as_bytes())
            .unwrap();
        store.anonymise_events(&giulia, &first).unwrap();
        // Run again: the same id, the index whole, nothing of hers left.
        let done = store.forget(&giulia).unwrap();
        assert_eq!(done.anonymous_id, first.to_string());
        assert_eq!(first.counted_channel(), "telegram", "{first}");
        assert_eq!(store.verify().unwrap(), Vec::<String>::new());
        assert!(store.events_of(&giulia).unwrap().is_empty());
        let anonymous = store.events_of(&first).unwrap();
        assert_eq!(anonymous.len(), 3);
        assert!(anonymous.iter().all(|e| e.customer == first));
        assert_eq!(store.events_of(&marco).unwrap().len(), 3);
        assert!(store.meta.get(&started).unwrap().is_none());
        // A forget of its own starts from a fresh id.
        let again = store.forget(&marco).unwrap();
        assert_ne!(again.anonymous_id, done.anonymous_id);
    }
}
