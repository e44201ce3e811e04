//! The hot conversations: those read or written lately, kept decoded in memory, so a
//! customer's next message does not read and decode its conversation from sled. sled
//! stays the truth: a turn still checks the conversation's version inside its
//! transaction, a conflict drops the cached copy, and a copy is only ever replaced by a
//! newer version (two turns finishing in either order leave the newer one).
//!
//! Bounded by two generations of [`GENERATION`] conversations: when the young one is
//! full it becomes the old one and the previous old one is dropped; a hit in the old
//! generation moves back to the young one.

use crate::domain::{Conversation, CustomerId};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

/// Conversations per generation (at most twice this many are kept).
const GENERATION: usize = 2048;

#[derive(Default)]
pub(super) struct Hot {
    generations: Mutex<Generations>,
}

#[derive(Default)]
struct Generations {
    young: HashMap<CustomerId, Conversation>,
    old: HashMap<CustomerId, Conversation>,
}

impl Generations {
    fn insert(&mut self, conversation: Conversation) {
        if self.young.len() >= GENERATION && !self.young.contains_key(&conversation.customer) {
            self.old = std::mem::take(&mut self.young);
        }
        self.young
            .insert(conversation.customer.clone(), conversation);
    }
}

impl Hot {
    fn lock(&self) -> MutexGuard<'_, Generations> {
        self.generations.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn get(&self, customer: &CustomerId) -> Option<Conversation> {
        let mut g = self.lock();
        if let Some(c) = g.young.get(customer) {
            return Some(c.clone());
        }
        let c = g.old.remove(customer)?;
        g.insert(c.clone());
        Some(c)
    }

    /// Keep `conversation` unless a newer version of it is kept already.
    pub(super) fn put(&self, conversation: &Conversation) {
        let mut g = self.lock();
        let kept = g
            .young
            .get(&conversation.customer)
            .or_else(|| g.old.get(&conversation.customer));
        if kept.is_some_and(|k| k.version >= conversation.version) {
            return;
        }
        g.old.remove(&conversation.customer);
        g.insert(conversation.clone());
    }

    pub(super) fn forget(&self, customer: &CustomerId) {
        let mut g = self.lock();
        g.young.remove(customer);
        g.old.remove(customer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(customer: &str, version: u64) -> Conversation {
        let at = chrono::DateTime::from_timestamp(1_700_000_000, 0).expect("a valid instant");
        Conversation {
            version,
            ..Conversation::new(CustomerId::parse(customer).expect("a valid id"), at)
        }
    }

    #[test]
    fn an_older_version_never_replaces_a_newer_one() {
        let hot = Hot::default();
        hot.put(&conv("web:a", 3));
        hot.put(&conv("web:a", 2));
        assert_eq!(
            hot.get(&conv("web:a", 0).customer).map(|c| c.version),
            Some(3)
        );
        hot.put(&conv("web:a", 4));
        assert_eq!(
            hot.get(&conv("web:a", 0).customer).map(|c| c.version),
            Some(4)
        );
        hot.forget(&conv("web:a", 0).customer);
        assert!(hot.get(&conv("web:a", 0).customer).is_none());
    }

    #[test]
    fn at_most_two_generations_are_kept_and_a_hit_in_the_old_one_survives() {
        let hot = Hot::default();
        for i in 0..GENERATION {
            hot.put(&conv(&format!("web:c{i}"), 1));
        }
        // The young generation is full: the next one starts a new generation.
        hot.put(&conv("web:next", 1));
        let first = conv("web:c0", 0).customer;
        assert!(
            hot.get(&first).is_some(),
            "the old generation is still read"
        );
        for i in 0..GENERATION {
            hot.put(&conv(&format!("web:d{i}"), 1));
        }
        assert!(
            hot.get(&first).is_some(),
            "a hit moved it to the young generation"
        );
        let never_read_again = conv("web:c1", 0).customer;
        assert!(
            hot.get(&never_read_again).is_none(),
            "dropped with its generation"
        );
        let g = hot.lock();
        assert!(g.young.len() + g.old.len() <= 2 * GENERATION);
    }
}
