//! One atomic write: everything a customer message or an operator action changes.

use super::{Result, Store, StoreError, customer_key, encode};
use crate::domain::{Author, Conversation, Event, Inbound, Outbound, Ticket};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError as Abort, TransactionError};

/// What one turn writes. `expected_*` are what the decision was based on: if the
/// stored values differ (another thread or process moved first), nothing is written
/// and the commit fails with [`StoreError::Conflict`], so the caller decides again.
#[derive(Debug, Default)]
pub struct Turn {
    pub expected_conversation: Option<Conversation>,
    pub conversation: Option<Conversation>,
    pub inbound: Option<Inbound>,
    pub expected_ticket: Option<Ticket>,
    pub tickets: Vec<Ticket>,
    /// Messages for the customer: logged in the transcript and queued in the outbox.
    pub outbound: Vec<(Author, Outbound)>,
    /// What happened, for reports and the editors' gap list.
    pub events: Vec<Event>,
}

enum Why {
    Conflict,
    Duplicate(String),
    /// The stored ticket a turn overwrites does not decode.
    Corrupt(serde_json::Error),
}

impl Store {
    pub fn commit(&self, turn: &Turn) -> Result<()> {
        let ids: Vec<u64> = (0..turn.outbound.len() + turn.events.len() + 1)
            .map(|_| self.next_seq())
            .collect::<Result<_>>()?;
        let trees = (
            &self.conversations,
            &self.messages,
            &self.dedupe,
            &self.tickets,
            &self.open_tickets,
            &self.outbox,
            &self.events,
            &self.waiting,
            &self.claims,
        );
        let result = trees.transaction(
            |(convs, messages, dedupe, tickets, open, outbox, events, waiting, claims)| {
                let mut ids = ids.iter();
                if let Some(inbound) = &turn.inbound {
                    let key = customer_key(&inbound.customer, inbound.message_id.as_bytes());
                    if dedupe.get(&key)?.is_some() {
                        return Err(Abort::Abort(Why::Duplicate(inbound.message_id.clone())));
                    }
                    let seq = ids.next().expect("one id per record");
                    dedupe.insert(key, &seq.to_be_bytes())?;
                    let verdict = turn
                        .events
                        .iter()
                        .filter(|e| e.customer == inbound.customer)
                        .find_map(|e| e.kind.verdict());
                    let msg = super::StoredMessage::inbound(inbound, verdict);
                    messages.insert(
                        customer_key(&inbound.customer, &seq.to_be_bytes()),
                        encode(&msg),
                    )?;
                }
                if let Some(conv) = &turn.conversation {
                    let stored = convs.get(conv.customer.as_str())?;
                    let expected = turn.expected_conversation.as_ref().map(encode);
                    if stored.as_deref() != expected.as_deref() {
                        return Err(Abort::Abort(Why::Conflict));
                    }
                    let mut conv = conv.clone();
                    conv.version = conv.version.wrapping_add(1);
                    convs.insert(conv.customer.as_str(), encode(&conv))?;
                }
                if let Some(expected) = &turn.expected_ticket {
                    let key = expected.id.0.to_be_bytes();
                    if tickets.get(key)?.as_deref() != Some(encode(expected).as_slice()) {
                        return Err(Abort::Abort(Why::Conflict));
                    }
                }
                for ticket in &turn.tickets {
                    let key = ticket.id.0.to_be_bytes();
                    let before = match tickets.insert(&key, encode(ticket))? {
                        Some(old) => Some(
                            serde_json::from_slice::<Ticket>(&old)
                                .map_err(|e| Abort::Abort(Why::Corrupt(e)))?,
                        ),
                        None => None,
                    };
                    super::index::reindex(before.as_ref(), ticket, waiting, claims)?;
                    if ticket.is_open() {
                        open.insert(&key, &[])?;
                    } else {
                        open.remove(&key)?;
                    }
                }
                for (author, out) in &turn.outbound {
                    let seq = ids.next().expect("one id per record").to_be_bytes();
                    let key = customer_key(&out.customer, &seq);
                    messages.insert(
                        key.clone(),
                        encode(&super::StoredMessage::outbound(author.clone(), out)),
                    )?;
                    outbox.insert(key, encode(out))?;
                }
                for event in &turn.events {
                    events.insert(
                        &ids.next().expect("one id per record").to_be_bytes(),
                        encode(event),
                    )?;
                }
                Ok(())
            },
        );
        match result {
            Ok(()) => {
                let records = 2 * usize::from(turn.inbound.is_some())
                    + usize::from(turn.conversation.is_some())
                    + 2 * (turn.tickets.len() + turn.outbound.len())
                    + turn.events.len();
                self.written
                    .fetch_add(records as u64, std::sync::atomic::Ordering::Relaxed);
                Ok(())
            }
            Err(TransactionError::Abort(Why::Conflict)) => Err(StoreError::Conflict),
            Err(TransactionError::Abort(Why::Duplicate(id))) => Err(StoreError::Duplicate(id)),
            Err(TransactionError::Abort(Why::Corrupt(source))) => Err(StoreError::Corrupt {
                tree: "tickets",
                source,
            }),
            Err(TransactionError::Storage(e)) => Err(StoreError::Sled(e)),
        }
    }

    /// The outbox entry was delivered: remove it.
    pub fn ack_outbox(&self, key: &[u8]) -> Result<()> {
        self.outbox.remove(key)?;
        Ok(())
    }
}
