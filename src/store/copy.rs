//! `sportello store copy --from DIR_OR_URL --to DIR_OR_URL`: a whole shop from one store
//! into an empty one, whatever the backends. Each backend reads itself out as
//! [`Record`]s in a fixed order (`dump`) and writes them in batches (`load`); what is
//! derived (queue and history indexes) is rebuilt by the target. Record numbers (seqs)
//! and ticket numbers are kept, and the target's next ones start above them.

use super::{
    AttachmentMeta, Contact, DeliveryStatus, EmailThread, FailedOutbound, Held, MailboxMark, Note,
    Result, Store, StoreError, StoredMessage, Unreachable,
};
use crate::accounts::{ApiToken, Operator, Session};
use crate::config::Canned;
use crate::domain::{Conversation, CustomerId, Event, Outbound, Ticket};
use std::collections::BTreeMap;

/// One stored thing, as both backends know it.
#[derive(Debug)]
pub enum Record {
    Conversation(Conversation),
    Message {
        customer: CustomerId,
        seq: u64,
        line: StoredMessage,
    },
    Dedupe {
        customer: CustomerId,
        message_id: String,
        seq: u64,
    },
    Ticket(Ticket),
    Outbox {
        seq: u64,
        out: Outbound,
    },
    Failed {
        customer: CustomerId,
        seq: u64,
        failed: FailedOutbound,
    },
    Event {
        seq: u64,
        event: Event,
    },
    Unreachable {
        customer: CustomerId,
        why: Unreachable,
    },
    Held {
        customer: CustomerId,
        held: Held,
    },
    Status {
        customer: CustomerId,
        seq: u64,
        status: DeliveryStatus,
    },
    Operator(Operator),
    Session {
        digest: String,
        session: Session,
    },
    ApiToken {
        digest: String,
        token: ApiToken,
    },
    Note {
        customer: CustomerId,
        seq: u64,
        note: Note,
    },
    Attachment {
        meta: AttachmentMeta,
        bytes: Vec<u8>,
    },
    EmailThread {
        customer: CustomerId,
        thread: EmailThread,
    },
    Contact {
        customer: CustomerId,
        contact: Contact,
    },
    MailboxMark {
        mailbox: String,
        mark: MailboxMark,
    },
    ServerKey(String),
    Canned(Vec<Canned>),
}

impl Record {
    /// Its kind, for the counts `store copy` prints.
    pub fn kind(&self) -> &'static str {
        match self {
            Record::Conversation(_) => "conversations",
            Record::Message { .. } => "messages",
            Record::Dedupe { .. } => "message ids",
            Record::Ticket(_) => "tickets",
            Record::Outbox { .. } => "outbox",
            Record::Failed { .. } => "failed replies",
            Record::Event { .. } => "events",
            Record::Unreachable { .. } => "unreachable",
            Record::Held { .. } => "held",
            Record::Status { .. } => "delivery reports",
            Record::Operator(_) => "operators",
            Record::Session { .. } => "sessions",
            Record::ApiToken { .. } => "api tokens",
            Record::Note { .. } => "notes",
            Record::Attachment { .. } => "attachments",
            Record::EmailThread { .. } => "email threads",
            Record::Contact { .. } => "contacts",
            Record::MailboxMark { .. } => "mailbox marks",
            Record::ServerKey(_) => "server key",
            Record::Canned(_) => "ready replies",
        }
    }

    /// The record as a stored one: a conversation or ticket with version 0 was
    /// written by a release before versions (sled read it as 0 and went on), while a
    /// turn on PostgreSQL takes version 0 for a record not stored yet, and would
    /// refuse every write of it as a conflict. Stored, it is version 1.
    fn stored_once(self) -> Record {
        match self {
            Record::Conversation(conv) if conv.version == 0 => {
                Record::Conversation(Conversation { version: 1, ..conv })
            }
            Record::Ticket(ticket) if ticket.version == 0 => Record::Ticket(Ticket {
                version: 1,
                ..ticket
            }),
            other => other,
        }
    }

    /// Its record number, if it has one.
    pub fn seq(&self) -> Option<u64> {
        match self {
            Record::Message { seq, .. }
            | Record::Dedupe { seq, .. }
            | Record::Outbox { seq, .. }
            | Record::Failed { seq, .. }
            | Record::Event { seq, .. }
            | Record::Status { seq, .. }
            | Record::Note { seq, .. } => Some(*seq),
            _ => None,
        }
    }
}

/// Records written per batch (one transaction on PostgreSQL).
const BATCH: usize = 2_000;

/// What a copy moved, by kind.
pub type Copied = BTreeMap<&'static str, u64>;

/// Copy everything in `from` into `to`, which must be empty. Until the last record is
/// in, `to` is marked unfinished (durably, before the first record): a copy that stops
/// part way leaves a store [`Store::open`] refuses, not one that looks like the shop.
pub fn copy(from: &Store, to: &Store) -> Result<Copied> {
    if !to.is_empty()? {
        return Err(StoreError::NotEmpty);
    }
    to.mark_copy(true)?;
    let mut copied = Copied::new();
    let (mut max_seq, mut max_ticket) = (0, 0);
    let mut batch = Vec::with_capacity(BATCH);
    from.dump(&mut |record| {
        let record = record.stored_once();
        *copied.entry(record.kind()).or_default() += 1;
        max_seq = max_seq.max(record.seq().unwrap_or(0));
        if let Record::Ticket(t) = &record {
            max_ticket = max_ticket.max(t.id.0);
        }
        batch.push(record);
        if batch.len() == BATCH {
            to.load(&std::mem::take(&mut batch))?;
        }
        Ok(())
    })?;
    to.load(&batch)?;
    to.finish_load(max_seq, max_ticket)?;
    to.mark_copy(false)?;
    Ok(copied)
}

impl Store {
    fn is_empty(&self) -> Result<bool> {
        match self {
            Store::Sled(store) => store.is_empty(),
            Store::Postgres(store) => store.is_empty(),
        }
    }

    fn dump(&self, out: &mut dyn FnMut(Record) -> Result<()>) -> Result<()> {
        match self {
            Store::Sled(store) => store.dump(out),
            Store::Postgres(store) => store.dump(out),
        }
    }

    fn load(&self, records: &[Record]) -> Result<()> {
        match self {
            Store::Sled(store) => store.load(records),
            Store::Postgres(store) => store.load(records),
        }
    }

    /// Mark the store as the target of a copy under way (`true`), or as complete; either
    /// durable when this returns.
    fn mark_copy(&self, unfinished: bool) -> Result<()> {
        match self {
            Store::Sled(store) => store.mark_copy(unfinished),
            Store::Postgres(store) => store.mark_copy(unfinished),
        }
    }

    /// Whether a copy into this store started and did not finish.
    pub fn copy_unfinished(&self) -> Result<bool> {
        match self {
            Store::Sled(store) => store.copy_unfinished(),
            Store::Postgres(store) => store.copy_unfinished(),
        }
    }

    /// After the last batch: the next seqs and ticket numbers start above these, the
    /// derived indexes are built.
    fn finish_load(&self, max_seq: u64, max_ticket: u64) -> Result<()> {
        match self {
            Store::Sled(store) => store.finish_load(max_seq, max_ticket),
            Store::Postgres(store) => store.finish_load(max_seq, max_ticket),
        }
    }
}
