//! One atomic write: everything a customer message or an operator action changes.

use super::{Result, Store, StoreError, customer_key, encode};
use crate::domain::{Author, Conversation, Event, Inbound, Outbound, Ticket};
use sled::Transactional;
use sled::transaction::{
    ConflictableTransactionError as Abort, TransactionError, TransactionalTree,
};

/// What one turn writes. A turn always carries its conversation (every write of a
/// customer's messages goes through it, so their order is the commit order).
///
/// Optimistic concurrency: the conversation and each ticket carry the `version` they
/// were read at (0: not stored yet). If a stored version moved on (another thread or
/// process committed first), nothing is written and the commit fails with
/// [`StoreError::Conflict`], so the caller reads and decides again. Each write bumps
/// the version; nothing compares record bytes, so a field added with `#[serde(default)]`
/// never makes a turn conflict with itself.
#[derive(Debug)]
pub struct Turn {
    pub conversation: Conversation,
    pub inbound: Option<Inbound>,
    pub tickets: Vec<Ticket>,
    /// Messages for the customer: logged in the transcript and queued in the outbox.
    pub outbound: Vec<(Author, Outbound)>,
    /// What happened, for reports and the editors' gap list.
    pub events: Vec<Event>,
}

impl Turn {
    pub fn new(conversation: Conversation) -> Self {
        Turn {
            conversation,
            inbound: None,
            tickets: Vec::new(),
            outbound: Vec::new(),
            events: Vec::new(),
        }
    }
}

enum Why {
    Conflict,
    Duplicate(String),
    /// A stored record the turn checks does not decode.
    Corrupt(&'static str, serde_json::Error),
}

type Step = std::result::Result<u64, Abort<Why>>;

/// The trees a turn writes, inside the transaction.
struct Trees<'t> {
    convs: &'t TransactionalTree,
    messages: &'t TransactionalTree,
    dedupe: &'t TransactionalTree,
    tickets: &'t TransactionalTree,
    open: &'t TransactionalTree,
    outbox: &'t TransactionalTree,
    events: &'t TransactionalTree,
    waiting: &'t TransactionalTree,
    claims: &'t TransactionalTree,
    history: &'t TransactionalTree,
}

impl Store {
    /// Write the turn in one transaction; returns how many records it wrote.
    pub fn commit(&self, turn: &Turn) -> Result<u64> {
        let ids: Vec<u64> = (0..turn.outbound.len() + turn.events.len() + 1)
            .map(|_| self.next_seq())
            .collect::<Result<_>>()?;
        let trees = [
            &self.conversations,
            &self.messages,
            &self.dedupe,
            &self.tickets,
            &self.open_tickets,
            &self.outbox,
            &self.events,
            &self.waiting,
            &self.claims,
            &self.history,
        ];
        let result = trees[..].transaction(|t| {
            let trees = Trees {
                convs: &t[0],
                messages: &t[1],
                dedupe: &t[2],
                tickets: &t[3],
                open: &t[4],
                outbox: &t[5],
                events: &t[6],
                waiting: &t[7],
                claims: &t[8],
                history: &t[9],
            };
            let mut ids = ids.iter().copied();
            Ok(store_inbound(&trees, turn, &mut ids)?
                + write_conversation(&trees, &turn.conversation)?
                + write_tickets(&trees, &turn.tickets)?
                + queue_outbound(&trees, &turn.outbound, &mut ids)?
                + log_events(&trees, &turn.events, &mut ids)?)
        });
        match result {
            Ok(records) => {
                self.written
                    .fetch_add(records, std::sync::atomic::Ordering::Relaxed);
                Ok(records)
            }
            Err(TransactionError::Abort(Why::Conflict)) => Err(StoreError::Conflict),
            Err(TransactionError::Abort(Why::Duplicate(id))) => Err(StoreError::Duplicate(id)),
            Err(TransactionError::Abort(Why::Corrupt(tree, source))) => {
                Err(StoreError::Corrupt { tree, source })
            }
            Err(TransactionError::Storage(e)) => Err(StoreError::Sled(e)),
        }
    }

    /// The outbox entry was delivered: remove it.
    pub fn ack_outbox(&self, key: &[u8]) -> Result<()> {
        self.outbox.remove(key)?;
        Ok(())
    }
}

/// The customer's message: its dedupe key (a redelivery aborts the turn) and its line
/// in the transcript, with the bot's verdict on it.
fn store_inbound(t: &Trees<'_>, turn: &Turn, ids: &mut impl Iterator<Item = u64>) -> Step {
    let Some(inbound) = &turn.inbound else {
        return Ok(0);
    };
    let key = customer_key(&inbound.customer, inbound.message_id.as_bytes());
    if t.dedupe.get(&key)?.is_some() {
        return Err(Abort::Abort(Why::Duplicate(inbound.message_id.clone())));
    }
    let seq = ids.next().expect("one id per record");
    t.dedupe.insert(key, &seq.to_be_bytes())?;
    let verdict = turn
        .events
        .iter()
        .filter(|e| e.customer == inbound.customer)
        .find_map(|e| e.kind.verdict());
    let msg = super::StoredMessage::inbound(inbound, verdict);
    t.messages.insert(
        customer_key(&inbound.customer, &seq.to_be_bytes()),
        encode(&msg),
    )?;
    Ok(2)
}

/// Only the version of a stored record is read to check a turn.
#[derive(serde::Deserialize)]
struct Versioned {
    #[serde(default)]
    version: u64,
}

fn stored_version(tree: &'static str, bytes: Option<sled::IVec>) -> Step {
    bytes.map_or(Ok(0), |b| {
        serde_json::from_slice::<Versioned>(&b)
            .map(|v| v.version)
            .map_err(|e| Abort::Abort(Why::Corrupt(tree, e)))
    })
}

/// The conversation, if nobody wrote it since it was read; its version goes up.
fn write_conversation(t: &Trees<'_>, conv: &Conversation) -> Step {
    let key = conv.customer.as_str();
    if stored_version("conversations", t.convs.get(key)?)? != conv.version {
        return Err(Abort::Abort(Why::Conflict));
    }
    let next = Conversation {
        version: conv.version.wrapping_add(1),
        ..conv.clone()
    };
    t.convs.insert(key, encode(&next))?;
    Ok(1)
}

/// Each ticket, if nobody wrote it since it was read (new ones: if the number is
/// still free); its version goes up, the queue and the indexes follow.
fn write_tickets(t: &Trees<'_>, tickets: &[Ticket]) -> Step {
    let mut written = 2 * tickets.len() as u64;
    for ticket in tickets {
        let key = ticket.id.0.to_be_bytes();
        let before = match t.tickets.get(key)? {
            Some(old) => Some(
                serde_json::from_slice::<Ticket>(&old)
                    .map_err(|e| Abort::Abort(Why::Corrupt("tickets", e)))?,
            ),
            None => None,
        };
        if before.as_ref().map_or(0, |b| b.version) != ticket.version {
            return Err(Abort::Abort(Why::Conflict));
        }
        let next = Ticket {
            version: ticket.version.wrapping_add(1),
            ..ticket.clone()
        };
        t.tickets.insert(&key, encode(&next))?;
        super::index::reindex(before.as_ref(), &next, t.waiting, t.claims)?;
        if before.is_none() {
            super::history::index_ticket(t.history, &next)?;
            written += 1;
        }
        if next.is_open() {
            t.open.insert(&key, &[])?;
        } else {
            t.open.remove(&key)?;
        }
    }
    Ok(written)
}

/// The bot's and operators' messages: in the transcript and in the outbox.
fn queue_outbound(
    t: &Trees<'_>,
    outbound: &[(Author, Outbound)],
    ids: &mut impl Iterator<Item = u64>,
) -> Step {
    for (author, out) in outbound {
        let seq = ids.next().expect("one id per record").to_be_bytes();
        let key = customer_key(&out.customer, &seq);
        let line = super::StoredMessage::outbound(author.clone(), out);
        t.messages.insert(key.clone(), encode(&line))?;
        t.outbox.insert(key, encode(out))?;
    }
    Ok(2 * outbound.len() as u64)
}

fn log_events(t: &Trees<'_>, events: &[Event], ids: &mut impl Iterator<Item = u64>) -> Step {
    let mut written = 0;
    for event in events {
        let seq = ids.next().expect("one id per record");
        t.events.insert(&seq.to_be_bytes(), encode(event))?;
        written += 1 + super::history::index_event(t.history, seq, event)?;
    }
    Ok(written)
}
