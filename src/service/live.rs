//! What the service tells watchers while it runs: a change feed (a customer's
//! conversation or ticket moved: consoles, web chats and channel senders look again)
//! and counters for `/metrics`. Both live in memory; the store stays the truth.

use super::Service;
use crate::domain::{Author, CustomerId, EventKind, TicketId};
use crate::store::{Heard, Turn};
use std::collections::BTreeMap;
use std::sync::Mutex;
use tokio::sync::{broadcast, watch};

/// How many changes a slow watcher may fall behind before it is told to reload all.
const FEED: usize = 1024;

/// Something changed for this customer (a message, a reply, a ticket).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Change {
    pub customer: CustomerId,
    pub ticket: Option<TicketId>,
    /// Whether the customer can see anything new (false for operators' notes).
    pub visible: bool,
    /// Nothing changed: someone is typing (shown live, never stored).
    pub typing: Option<Typist>,
    /// The change is a message from the customer (the console alerts its operator).
    pub from_customer: bool,
}

/// Who is typing in a conversation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Typist {
    Customer,
    Operator(String),
}

/// Upper bounds (seconds) of the buckets of the time a ticket waited to be claimed.
pub const WAIT_BUCKETS: [u64; 6] = [60, 300, 900, 1800, 3600, 14400];

#[derive(Debug, Default, Clone, PartialEq)]
pub struct Counts {
    /// Messages stored, by author: customer, bot, operator.
    pub messages: BTreeMap<&'static str, u64>,
    /// Bot decisions by kind: answer, clarify, handoff...
    pub decisions: BTreeMap<String, u64>,
    /// Claim waits: count per bucket of [`WAIT_BUCKETS`] (and one past the last), sum.
    pub claim_wait_buckets: [u64; WAIT_BUCKETS.len() + 1],
    pub claim_wait_sum_s: u64,
}

pub struct Live {
    feed: broadcast::Sender<Change>,
    /// Counts the times changes may have been missed (the listener of a shared store
    /// was away): watchers reload all when it moves.
    missed: watch::Sender<u64>,
    counts: Mutex<Counts>,
}

impl Default for Live {
    fn default() -> Self {
        Self {
            feed: broadcast::channel(FEED).0,
            missed: watch::channel(0).0,
            counts: Mutex::default(),
        }
    }
}

impl Live {
    /// The feed also carries what the other processes on a shared store (PostgreSQL)
    /// tell: their changes reach this process's consoles and web chats.
    pub(super) fn hear(&self, store: &crate::store::Store) {
        let (feed, missed) = (self.feed.clone(), self.missed.clone());
        store.listen(Box::new(move |heard| match heard {
            Heard::Change(payload) => match serde_json::from_str::<Change>(payload) {
                Ok(change) => {
                    let _ = feed.send(change);
                }
                Err(e) => tracing::warn!("a change from another instance does not read: {e}"),
            },
            Heard::Gap => {
                tracing::warn!(
                    "changes of the other instances may have been missed: watchers reload"
                );
                missed.send_modify(|n| *n += 1);
            }
        }));
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Service {
    /// Changes from now on. A receiver that lags gets `RecvError::Lagged`: reload all.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.live.feed.subscribe()
    }

    /// Moves when changes may have been missed without a receiver lagging (the other
    /// instances' changes, while this one's listener was away): reload all.
    pub fn missed(&self) -> watch::Receiver<u64> {
        self.live.missed.subscribe()
    }

    pub fn counts(&self) -> Counts {
        self.live.counts().clone()
    }

    /// A channel changed how the customer's replies are delivered (held outside
    /// WhatsApp's window): watchers (the console) look again.
    pub fn delivery_changed(&self, customer: &CustomerId) -> crate::store::Result<()> {
        let ticket = self.store.conversation(customer)?.and_then(|c| c.ticket);
        self.announce(customer, ticket, false);
        Ok(())
    }

    /// Tell watchers, after a commit.
    pub(super) fn announce(&self, customer: &CustomerId, ticket: Option<TicketId>, visible: bool) {
        self.tell(Change {
            customer: customer.clone(),
            ticket,
            visible,
            typing: None,
            from_customer: false,
        });
    }

    /// To this process's watchers, and to the other processes on a shared store.
    fn tell(&self, change: Change) {
        if self.store.is_shared() {
            let payload = serde_json::to_string(&change).expect("a change serialises");
            if let Err(e) = self.store.publish(&payload) {
                tracing::warn!("cannot tell the other instances: {e}");
            }
        }
        // No watcher is not an error.
        let _ = self.live.feed.send(change);
    }

    /// Tell watchers the customer wrote.
    pub(super) fn announce_message(&self, customer: &CustomerId, ticket: Option<TicketId>) {
        self.tell(Change {
            customer: customer.clone(),
            ticket,
            visible: true,
            typing: None,
            from_customer: true,
        });
    }

    /// Tell watchers that `who` is typing in `customer`'s conversation.
    pub fn typing(&self, customer: &CustomerId, ticket: Option<TicketId>, who: Typist) {
        self.tell(Change {
            customer: customer.clone(),
            ticket,
            visible: false,
            typing: Some(who),
            from_customer: false,
        });
    }

    /// Count what a committed turn stored.
    pub(super) fn count(&self, turn: &Turn) {
        let mut counts = self.live.counts();
        if turn.inbound.is_some() {
            *counts.messages.entry("customer").or_default() += 1;
        }
        for (author, _) in &turn.outbound {
            let author = match author {
                Author::Customer => "customer",
                Author::Bot => "bot",
                Author::Operator(_) => "operator",
            };
            *counts.messages.entry(author).or_default() += 1;
        }
        for event in &turn.events {
            match &event.kind {
                EventKind::Decided { decision, .. } => {
                    *counts.decisions.entry(decision.to_string()).or_default() += 1;
                }
                EventKind::Claimed { ticket, .. }
                | EventKind::Transferred {
                    ticket,
                    to_operator: Some(_),
                    ..
                } => {
                    // Only a ticket's first claim: a claim after a release is not a wait.
                    let waited = turn.tickets.iter().find(|t| t.id == *ticket).and_then(|t| {
                        let claimed = t.claimed_at.filter(|c| *c == event.at)?;
                        Some((claimed - t.opened_at).num_seconds().max(0) as u64)
                    });
                    if let Some(s) = waited {
                        let bucket = WAIT_BUCKETS.iter().position(|&b| s <= b);
                        counts.claim_wait_buckets[bucket.unwrap_or(WAIT_BUCKETS.len())] += 1;
                        counts.claim_wait_sum_s += s;
                    }
                }
                _ => {}
            }
        }
    }
}
