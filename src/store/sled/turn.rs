//! One atomic write: everything a customer message or an operator action changes.

use super::{Result, SledStore, StoreError, Turn, customer_key, encode};
use crate::domain::{Conversation, Ticket};
use sled::Transactional;
use sled::transaction::{
    ConflictableTransactionError as Abort, TransactionError, TransactionalTree,
};

enum Why {
    Conflict,
    Duplicate(String),
    /// A stored record the turn checks does not decode.
    Corrupt(StoreError),
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

/// A turn's records, keyed and encoded before its transaction: while a sled
/// transaction runs, every other read and write of the store waits (sled 0.34 takes a
/// store-wide lock for it), so only the checks and the inserts happen inside.
struct Prepared<'a> {
    inbound: Option<PreparedInbound<'a>>,
    conversation: (&'a str, u64, Vec<u8>),
    /// (the ticket as written, with its version bumped; its record).
    tickets: Vec<(Ticket, Vec<u8>)>,
    /// (key, transcript line, outbox entry).
    outbound: Vec<(Vec<u8>, Vec<u8>, Vec<u8>)>,
    events: Vec<PreparedEvent>,
}

/// An event's key, its record and its entries in the history index.
struct PreparedEvent {
    seq: [u8; 8],
    record: Vec<u8>,
    index: Vec<(Vec<u8>, Vec<u8>)>,
}

struct PreparedInbound<'a> {
    message_id: &'a str,
    dedupe: Vec<u8>,
    seq: [u8; 8],
    key: Vec<u8>,
    line: Vec<u8>,
}

impl SledStore {
    /// Write the turn in one transaction; returns how many records it wrote.
    pub fn commit(&self, turn: &Turn) -> Result<u64> {
        let count = turn.outbound.len() + turn.events.len() + 1;
        let prepared = prepare(turn, &mut self.next_seqs(count)?.into_iter());
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
        // Held from before the transaction until the copy has its changes.
        let queue = (!turn.tickets.is_empty()).then(|| self.queue.hold());
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
            Ok(store_inbound(&trees, prepared.inbound.as_ref())?
                + write_conversation(&trees, &prepared.conversation)?
                + write_tickets(&trees, &prepared.tickets)?
                + queue_outbound(&trees, &prepared.outbound)?
                + log_events(&trees, &prepared.events)?)
        });
        match result {
            Ok(records) => {
                if let Some(queue) = queue {
                    queue.apply(prepared.tickets.iter().map(|(ticket, _)| ticket));
                }
                self.written
                    .fetch_add(records, std::sync::atomic::Ordering::Relaxed);
                self.hot.put(&Conversation {
                    version: turn.conversation.version.wrapping_add(1),
                    ..turn.conversation.clone()
                });
                Ok(records)
            }
            Err(TransactionError::Abort(Why::Conflict)) => {
                // Read it from sled again: the cached copy may be the stale one.
                self.hot.forget(&turn.conversation.customer);
                Err(StoreError::Conflict)
            }
            Err(TransactionError::Abort(Why::Duplicate(id))) => Err(StoreError::Duplicate(id)),
            Err(TransactionError::Abort(Why::Corrupt(error))) => Err(error),
            Err(TransactionError::Storage(e)) => Err(StoreError::Sled(e)),
        }
    }

    /// The outbox entry was delivered: remove it.
    pub fn ack_outbox(&self, key: &[u8]) -> Result<()> {
        self.outbox.remove(key)?;
        Ok(())
    }
}

/// Key and encode everything `turn` writes; `ids` gives each record its seq.
fn prepare<'a>(turn: &'a Turn, ids: &mut impl Iterator<Item = u64>) -> Prepared<'a> {
    let mut next = || ids.next().expect("one id per record").to_be_bytes();
    let inbound = turn.inbound.as_ref().map(|inbound| {
        let verdict = turn.inbound_verdict();
        let seq = next();
        PreparedInbound {
            message_id: &inbound.message_id,
            dedupe: customer_key(&inbound.customer, inbound.message_id.as_bytes()),
            seq,
            key: customer_key(&inbound.customer, &seq),
            line: encode(&super::StoredMessage::inbound(inbound, verdict)),
        }
    });
    let conv = &turn.conversation;
    let conversation = (
        conv.customer.as_str(),
        conv.version,
        encode(&Conversation {
            version: conv.version.wrapping_add(1),
            ..conv.clone()
        }),
    );
    let tickets = turn
        .tickets
        .iter()
        .map(|ticket| {
            let next = Ticket {
                version: ticket.version.wrapping_add(1),
                ..ticket.clone()
            };
            let bytes = encode(&next);
            (next, bytes)
        })
        .collect();
    let outbound = turn
        .outbound
        .iter()
        .map(|(author, out)| {
            let key = customer_key(&out.customer, &next());
            let line = super::StoredMessage::outbound(author.clone(), out);
            (key, encode(&line), encode(out))
        })
        .collect();
    let events = turn
        .events
        .iter()
        .map(|event| {
            let seq = next();
            PreparedEvent {
                seq,
                record: encode(event),
                index: super::history::event_keys(u64::from_be_bytes(seq), event),
            }
        })
        .collect();
    Prepared {
        inbound,
        conversation,
        tickets,
        outbound,
        events,
    }
}

/// The customer's message: its dedupe key (a redelivery aborts the turn) and its line
/// in the transcript, with the bot's verdict on it.
fn store_inbound(t: &Trees<'_>, inbound: Option<&PreparedInbound<'_>>) -> Step {
    let Some(inbound) = inbound else {
        return Ok(0);
    };
    if t.dedupe.get(&inbound.dedupe)?.is_some() {
        return Err(Abort::Abort(Why::Duplicate(inbound.message_id.to_owned())));
    }
    t.dedupe.insert(inbound.dedupe.as_slice(), &inbound.seq)?;
    t.messages
        .insert(inbound.key.as_slice(), inbound.line.as_slice())?;
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
        super::decode::<Versioned>(tree, &b)
            .map(|v| v.version)
            .map_err(|e| Abort::Abort(Why::Corrupt(e)))
    })
}

/// The conversation, if nobody wrote it since it was read; its version goes up.
fn write_conversation(t: &Trees<'_>, (key, version, bytes): &(&str, u64, Vec<u8>)) -> Step {
    if stored_version("conversations", t.convs.get(key)?)? != *version {
        return Err(Abort::Abort(Why::Conflict));
    }
    t.convs.insert(*key, bytes.as_slice())?;
    Ok(1)
}

/// Each ticket, if nobody wrote it since it was read (new ones: if the number is
/// still free); its version goes up, the queue and the indexes follow.
fn write_tickets(t: &Trees<'_>, tickets: &[(Ticket, Vec<u8>)]) -> Step {
    let mut written = 2 * tickets.len() as u64;
    for (next, bytes) in tickets {
        let key = next.id.0.to_be_bytes();
        let before = match t.tickets.get(key)? {
            Some(old) => Some(
                super::decode::<Ticket>("tickets", &old)
                    .map_err(|e| Abort::Abort(Why::Corrupt(e)))?,
            ),
            None => None,
        };
        if before.as_ref().map_or(0, |b| b.version) != next.version.wrapping_sub(1) {
            return Err(Abort::Abort(Why::Conflict));
        }
        t.tickets.insert(&key, bytes.as_slice())?;
        super::index::reindex(before.as_ref(), next, t.waiting, t.claims)?;
        if before.is_none() {
            super::history::index_ticket(t.history, next)?;
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
fn queue_outbound(t: &Trees<'_>, outbound: &[(Vec<u8>, Vec<u8>, Vec<u8>)]) -> Step {
    for (key, line, out) in outbound {
        t.messages.insert(key.as_slice(), line.as_slice())?;
        t.outbox.insert(key.as_slice(), out.as_slice())?;
    }
    Ok(2 * outbound.len() as u64)
}

/// What happened, with its entries in the history index.
fn log_events(t: &Trees<'_>, events: &[PreparedEvent]) -> Step {
    let mut written = 0;
    for PreparedEvent { seq, record, index } in events {
        t.events.insert(seq, record.as_slice())?;
        for (key, value) in index {
            t.history.insert(key.as_slice(), value.as_slice())?;
        }
        written += 1 + index.len() as u64;
    }
    Ok(written)
}
