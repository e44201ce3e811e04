//! The `waiting` index kept in memory too, so that a ticket's place in the queue is
//! counted over an in-memory ordered set instead of by walking sled's keys: with a
//! few thousand customers waiting, the walk was a quarter of a message's instructions
//! (every handoff and every "you are still number N" counts the tickets ahead).
//!
//! sled stays the truth. The copy is read from `waiting` on first use (and again after
//! anything outside a turn rewrote the index: erasure, a migration, a load). A turn
//! that writes tickets holds the copy's lock across its transaction and applies its
//! changes once it committed, so the copy always equals the tree: no turn can commit
//! between another's transaction and its update of the copy, and reading the tree
//! into the copy holds the lock too. A rebuild of the index drops the copy once it is
//! done.

use super::index::{department_prefix, waiting_key};
use super::{Result, SledStore};
use crate::domain::{Ticket, TicketStatus};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard};

#[derive(Default)]
pub(super) struct Queue {
    /// `None`: not read yet, or dropped because the index changed outside a turn.
    copy: Mutex<Option<Mirror>>,
}

#[derive(Default)]
struct Mirror {
    /// The `waiting` keys (department, rank, opened at, id): queue order per department.
    keys: BTreeSet<Vec<u8>>,
    /// Each waiting ticket's key, to move it when the ticket changes.
    by_ticket: HashMap<u64, Vec<u8>>,
}

impl Mirror {
    fn insert(&mut self, id: u64, key: Vec<u8>) {
        if let Some(old) = self.by_ticket.insert(id, key.clone()) {
            self.keys.remove(&old);
        }
        self.keys.insert(key);
    }

    fn remove(&mut self, id: u64) {
        if let Some(old) = self.by_ticket.remove(&id) {
            self.keys.remove(&old);
        }
    }
}

/// The copy's lock, held by a turn that writes tickets from before its transaction
/// until its changes are in the copy.
pub(super) struct Held<'a>(MutexGuard<'a, Option<Mirror>>);

impl Held<'_> {
    /// The committed tickets (as written) are now in `waiting` or out of it.
    pub(super) fn apply<'t>(mut self, tickets: impl IntoIterator<Item = &'t Ticket>) {
        let Some(mirror) = self.0.as_mut() else {
            return; // not read yet: it will be read with these changes in
        };
        for ticket in tickets {
            if ticket.status == TicketStatus::Queued {
                mirror.insert(ticket.id.0, waiting_key(ticket));
            } else {
                mirror.remove(ticket.id.0);
            }
        }
    }
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, Option<Mirror>> {
        self.copy.lock().unwrap_or_else(|poisoned| {
            // A panic mid-update may have left the copy half changed: read it again.
            let mut guard = poisoned.into_inner();
            *guard = None;
            self.copy.clear_poison();
            guard
        })
    }

    pub(super) fn hold(&self) -> Held<'_> {
        Held(self.lock())
    }

    /// The index changed outside a turn: read it again on next use.
    pub(super) fn invalidate(&self) {
        *self.lock() = None;
    }
}

impl SledStore {
    /// 1-based place of `ticket` among the tickets waiting (queued, not claimed) in its
    /// department; the ticket need not be stored yet.
    pub fn queue_position(&self, ticket: &Ticket) -> Result<usize> {
        let mut guard = self.queue.lock();
        if guard.is_none() {
            *guard = Some(self.read_waiting()?);
        }
        let mirror = guard.as_ref().expect("read just above");
        let own = ticket.id.0.to_be_bytes();
        let ahead = mirror
            .keys
            .range(department_prefix(&ticket.department)..waiting_key(ticket))
            .filter(|key| !key.ends_with(&own))
            .count();
        Ok(ahead + 1)
    }

    fn read_waiting(&self) -> Result<Mirror> {
        let mut mirror = Mirror::default();
        for key in self.waiting.iter().keys() {
            let key = key?;
            let id = super::last_u64(&key);
            mirror.insert(id, key.to_vec());
        }
        Ok(mirror)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Conversation, CustomerId, Priority, TicketId};
    use crate::store::Turn;
    use chrono::{DateTime, Duration};

    /// The place as the tree says it: the keys ahead of the ticket, walked in sled.
    fn walked(store: &SledStore, ticket: &Ticket) -> usize {
        let own = ticket.id.0.to_be_bytes();
        let range = department_prefix(&ticket.department)..waiting_key(ticket);
        let ahead = store.waiting.range(range).keys();
        1 + ahead
            .filter(|k| !k.as_ref().unwrap().ends_with(&own))
            .count()
    }

    /// Commit `ticket` in a turn of its customer's conversation.
    fn write(store: &SledStore, ticket: &mut Ticket) {
        let conversation = store
            .conversation(&ticket.customer)
            .unwrap()
            .unwrap_or_else(|| Conversation::new(ticket.customer.clone(), ticket.opened_at));
        let mut turn = Turn::new(conversation);
        turn.tickets.push(ticket.clone());
        store.commit(&turn).unwrap();
        ticket.version += 1;
    }

    #[test]
    fn places_counted_in_memory_are_the_places_the_tree_gives() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        let start = DateTime::parse_from_rfc3339("2026-11-24T09:00:00Z")
            .unwrap()
            .to_utc();
        let mut tickets: Vec<Ticket> = Vec::new();
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = |n: u64| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state % n
        };
        for step in 0..400 {
            match next(6) {
                // A new ticket, queued.
                0..=2 => {
                    let id = tickets.len() as u64 + 1;
                    let mut ticket = Ticket {
                        id: TicketId(id),
                        customer: CustomerId::parse(&format!("web:c{id}")).unwrap(),
                        department: ["vendite", "logistica"][next(2) as usize].into(),
                        priority: [Priority::Urgent, Priority::High, Priority::Normal]
                            [next(3) as usize],
                        opened_at: start + Duration::seconds(next(600) as i64),
                        ..Ticket::sample()
                    };
                    write(&store, &mut ticket);
                    tickets.push(ticket);
                }
                // One claimed, released, closed or moved to another department.
                _ if !tickets.is_empty() => {
                    let i = next(tickets.len() as u64) as usize;
                    let ticket = &mut tickets[i];
                    match next(4) {
                        0 => ticket.status = TicketStatus::Claimed,
                        1 => ticket.status = TicketStatus::Queued,
                        2 => ticket.status = TicketStatus::Closed,
                        _ => ticket.department = "amministrazione".into(),
                    }
                    write(&store, ticket);
                }
                _ => {}
            }
            if step == 200 {
                // Erasure takes a ticket out of the index outside a turn.
                let queued = tickets.iter().find(|t| t.status == TicketStatus::Queued);
                store.unqueue(queued.unwrap()).unwrap();
            }
            if step % 20 == 0 || step == 201 {
                for ticket in &tickets {
                    assert_eq!(
                        store.queue_position(ticket).unwrap(),
                        walked(&store, ticket),
                        "step {step}, ticket {}",
                        ticket.id.0
                    );
                }
            }
        }
        let queued = tickets.iter().filter(|t| t.status == TicketStatus::Queued);
        assert!(queued.count() > 10, "the queue was not trivially short");
        // A store opened again reads the same places from the tree.
        let places: Vec<usize> = tickets
            .iter()
            .map(|t| store.queue_position(t).unwrap())
            .collect();
        drop(store);
        // sled's flusher thread may hold the directory's lock a moment after the drop.
        let store = (0..100)
            .find_map(|_| match SledStore::open(dir.path()) {
                Err(crate::store::StoreError::InUse(_)) => {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                    None
                }
                other => Some(other.unwrap()),
            })
            .expect("the store opens again once its flusher let go");
        let again: Vec<usize> = tickets
            .iter()
            .map(|t| store.queue_position(t).unwrap())
            .collect();
        assert_eq!(places, again);
    }

    #[test]
    fn turns_on_two_threads_leave_the_copy_equal_to_the_tree() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        let start = DateTime::UNIX_EPOCH;
        let tickets: Vec<Ticket> = (1..=40)
            .map(|id| Ticket {
                id: TicketId(id),
                customer: CustomerId::parse(&format!("web:t{id}")).unwrap(),
                opened_at: start + Duration::seconds(id as i64),
                ..Ticket::sample()
            })
            .collect();
        // Read the copy first, so that every change below goes through it.
        assert_eq!(store.queue_position(&tickets[0]).unwrap(), 1);
        std::thread::scope(|s| {
            for half in tickets.chunks(20) {
                let store = &store;
                s.spawn(move || {
                    for ticket in half {
                        let mut ticket = ticket.clone();
                        write(store, &mut ticket);
                        if ticket.id.0 % 3 == 0 {
                            ticket.status = TicketStatus::Claimed;
                            write(store, &mut ticket);
                        }
                    }
                });
            }
        });
        for ticket in &tickets {
            assert_eq!(
                store.queue_position(ticket).unwrap(),
                walked(&store, ticket)
            );
        }
        let last = tickets.last().unwrap();
        assert_eq!(
            store.queue_position(last).unwrap(),
            27,
            "40 less 13 claimed"
        );
    }
}
