//! The sled side of `store copy`: every tree read out as [`Record`]s, and records
//! written back; the queue and history indexes are rebuilt after the last batch.

use super::erase::SEQ_FLOOR;
use super::{Result, SledStore, StoreError, be, customer_key, decode, encode};
use crate::domain::{CustomerId, Ticket};
use crate::store::copy::Record;

/// `meta` keys copied (the rest is this store's own: version, probe, counters).
const CANNED: &str = "canned";
const SERVER_KEY: &str = "server_key";
const MAILBOX_MARK: &str = "email_mark:";

impl SledStore {
    /// Whether nothing was ever stored (a fresh directory).
    pub(in crate::store) fn is_empty(&self) -> Result<bool> {
        Ok(self.conversations.is_empty()
            && self.tickets.is_empty()
            && self.events.is_empty()
            && self.operators.is_empty())
    }

    pub(in crate::store) fn dump(&self, out: &mut dyn FnMut(Record) -> Result<()>) -> Result<()> {
        for value in self.conversations.iter().values() {
            out(Record::Conversation(decode("conversations", &value?)?))?;
        }
        self.dump_keyed(&self.messages, "messages", out, |customer, seq, line| {
            Record::Message {
                customer,
                seq,
                line,
            }
        })?;
        for kv in self.dedupe.iter() {
            let (key, seq) = kv?;
            let (customer, message_id) = split_key(&key)?;
            out(Record::Dedupe {
                customer,
                message_id: String::from_utf8_lossy(message_id).into_owned(),
                seq: be(&seq),
            })?;
        }
        for value in self.tickets.iter().values() {
            out(Record::Ticket(decode("tickets", &value?)?))?;
        }
        self.dump_keyed(&self.outbox, "outbox", out, |_, seq, out| Record::Outbox {
            seq,
            out,
        })?;
        self.dump_keyed(&self.failed, "failed", out, |customer, seq, failed| {
            Record::Failed {
                customer,
                seq,
                failed,
            }
        })?;
        for kv in self.events.iter() {
            let (key, value) = kv?;
            out(Record::Event {
                seq: be(&key),
                event: decode("events", &value)?,
            })?;
        }
        self.dump_by_customer(&self.unreachable, "unreachable", out, |customer, why| {
            Record::Unreachable { customer, why }
        })?;
        self.dump_by_customer(&self.held, "held", out, |customer, held| Record::Held {
            customer,
            held,
        })?;
        self.dump_keyed(&self.statuses, "statuses", out, |customer, seq, status| {
            Record::Status {
                customer,
                seq,
                status,
            }
        })?;
        self.dump_accounts(out)?;
        self.dump_keyed(&self.notes, "notes", out, |customer, seq, note| {
            Record::Note {
                customer,
                seq,
                note,
            }
        })?;
        for value in self.attachment_meta.iter().values() {
            let meta: crate::store::AttachmentMeta = decode("attachment_meta", &value?)?;
            let key = customer_key(&meta.customer, meta.id.as_bytes());
            if let Some(bytes) = self.attachment_data.get(key)? {
                out(Record::Attachment {
                    meta,
                    bytes: bytes.to_vec(),
                })?;
            }
        }
        self.dump_by_customer(
            &self.email_threads,
            "email_threads",
            out,
            |customer, thread| Record::EmailThread { customer, thread },
        )?;
        self.dump_by_customer(&self.contacts, "contacts", out, |customer, contact| {
            Record::Contact { customer, contact }
        })?;
        self.dump_meta(out)
    }

    fn dump_accounts(&self, out: &mut dyn FnMut(Record) -> Result<()>) -> Result<()> {
        for value in self.operators.iter().values() {
            out(Record::Operator(decode("operators", &value?)?))?;
        }
        for kv in self.sessions.iter() {
            let (key, value) = kv?;
            out(Record::Session {
                digest: String::from_utf8_lossy(&key).into_owned(),
                session: decode("sessions", &value)?,
            })?;
        }
        for kv in self.api_tokens.iter() {
            let (key, value) = kv?;
            out(Record::ApiToken {
                digest: String::from_utf8_lossy(&key).into_owned(),
                token: decode("api_tokens", &value)?,
            })?;
        }
        Ok(())
    }

    fn dump_meta(&self, out: &mut dyn FnMut(Record) -> Result<()>) -> Result<()> {
        if let Some(key) = self.meta.get(SERVER_KEY)? {
            out(Record::ServerKey(
                String::from_utf8_lossy(&key).into_owned(),
            ))?;
        }
        if let Some(canned) = self.meta.get(CANNED)? {
            out(Record::Canned(decode("meta", &canned)?))?;
        }
        for kv in self.meta.scan_prefix(MAILBOX_MARK) {
            let (key, value) = kv?;
            out(Record::MailboxMark {
                mailbox: String::from_utf8_lossy(&key[MAILBOX_MARK.len()..]).into_owned(),
                mark: decode("meta", &value)?,
            })?;
        }
        Ok(())
    }

    /// A tree keyed `customer \0 seq`.
    fn dump_keyed<T: serde::de::DeserializeOwned>(
        &self,
        tree: &sled::Tree,
        name: &'static str,
        out: &mut dyn FnMut(Record) -> Result<()>,
        record: impl Fn(CustomerId, u64, T) -> Record,
    ) -> Result<()> {
        for kv in tree.iter() {
            let (key, value) = kv?;
            let (customer, seq) = split_key(&key)?;
            out(record(customer, be(seq), decode(name, &value)?))?;
        }
        Ok(())
    }

    /// A tree keyed by customer id.
    fn dump_by_customer<T: serde::de::DeserializeOwned>(
        &self,
        tree: &sled::Tree,
        name: &'static str,
        out: &mut dyn FnMut(Record) -> Result<()>,
        record: impl Fn(CustomerId, T) -> Record,
    ) -> Result<()> {
        for kv in tree.iter() {
            let (key, value) = kv?;
            out(record(parse_customer(&key)?, decode(name, &value)?))?;
        }
        Ok(())
    }

    pub(in crate::store) fn load(&self, records: &[Record]) -> Result<()> {
        for record in records {
            self.load_one(record)?;
        }
        Ok(())
    }

    fn load_one(&self, record: &Record) -> Result<()> {
        let seq_key = |customer: &CustomerId, seq: u64| customer_key(customer, &seq.to_be_bytes());
        match record {
            Record::Conversation(c) => insert(&self.conversations, c.customer.as_str(), encode(c)),
            Record::Message {
                customer,
                seq,
                line,
            } => insert(&self.messages, seq_key(customer, *seq), encode(line)),
            Record::Dedupe {
                customer,
                message_id,
                seq,
            } => insert(
                &self.dedupe,
                customer_key(customer, message_id.as_bytes()),
                seq.to_be_bytes(),
            ),
            Record::Ticket(t) => self.load_ticket(t),
            Record::Outbox { seq, out } => {
                insert(&self.outbox, seq_key(&out.customer, *seq), encode(out))
            }
            Record::Failed {
                customer,
                seq,
                failed,
            } => insert(&self.failed, seq_key(customer, *seq), encode(failed)),
            Record::Event { seq, event } => insert(&self.events, seq.to_be_bytes(), encode(event)),
            Record::Unreachable { customer, why } => {
                insert(&self.unreachable, customer.as_str(), encode(why))
            }
            Record::Held { customer, held } => insert(&self.held, customer.as_str(), encode(held)),
            Record::Status {
                customer,
                seq,
                status,
            } => insert(&self.statuses, seq_key(customer, *seq), encode(status)),
            Record::Operator(op) => insert(&self.operators, op.name.as_str(), encode(op)),
            Record::Session { digest, session } => {
                insert(&self.sessions, digest.as_str(), encode(session))
            }
            Record::ApiToken { digest, token } => {
                insert(&self.api_tokens, digest.as_str(), encode(token))
            }
            Record::Note {
                customer,
                seq,
                note,
            } => insert(&self.notes, seq_key(customer, *seq), encode(note)),
            Record::Attachment { meta, bytes } => {
                insert(
                    &self.attachment_data,
                    customer_key(&meta.customer, meta.id.as_bytes()),
                    bytes,
                )?;
                insert(&self.attachment_meta, meta.id.as_str(), encode(meta))
            }
            Record::EmailThread { customer, thread } => {
                insert(&self.email_threads, customer.as_str(), encode(thread))
            }
            Record::Contact { customer, contact } => {
                insert(&self.contacts, customer.as_str(), encode(contact))
            }
            Record::MailboxMark { mailbox, mark } => {
                insert(&self.meta, format!("{MAILBOX_MARK}{mailbox}"), encode(mark))
            }
            Record::ServerKey(key) => insert(&self.meta, SERVER_KEY, key.as_bytes()),
            Record::Canned(canned) => insert(&self.meta, CANNED, encode(canned)),
        }
    }

    fn load_ticket(&self, ticket: &Ticket) -> Result<()> {
        let key = ticket.id.0.to_be_bytes();
        insert(&self.tickets, key, encode(ticket))?;
        if ticket.is_open() {
            insert(&self.open_tickets, key, [])?;
        }
        Ok(())
    }

    pub(in crate::store) fn mark_copy(&self, unfinished: bool) -> Result<()> {
        if unfinished {
            self.meta.insert(COPY_UNFINISHED, &[])?;
        } else {
            self.meta.remove(COPY_UNFINISHED)?;
        }
        self.db.flush()?;
        Ok(())
    }

    pub(in crate::store) fn copy_unfinished(&self) -> Result<bool> {
        Ok(self.meta.contains_key(COPY_UNFINISHED)?)
    }

    /// The next seqs above `max_seq`, the next ticket above `max_ticket`; the indexes
    /// built; everything flushed.
    pub(in crate::store) fn finish_load(&self, max_seq: u64, max_ticket: u64) -> Result<()> {
        let floor = be(&self.meta.get(SEQ_FLOOR)?.unwrap_or_default()).max(max_seq + 1);
        self.meta.insert(SEQ_FLOOR, &floor.to_be_bytes())?;
        let next = be(&self.meta.get("next_ticket")?.unwrap_or_default()).max(max_ticket);
        self.meta.insert("next_ticket", &next.to_be_bytes())?;
        self.build_indexes()?;
        self.build_history()?;
        self.db.flush()?;
        Ok(())
    }
}

/// The meta key of a store a `store copy` is writing into (removed at its end).
const COPY_UNFINISHED: &str = "copy_unfinished";

fn insert(tree: &sled::Tree, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Result<()> {
    tree.insert(key.as_ref(), value.as_ref())?;
    Ok(())
}

/// `customer \0 rest` -> (customer, rest).
fn split_key(key: &[u8]) -> Result<(CustomerId, &[u8])> {
    let at = key
        .iter()
        .position(|&b| b == 0)
        .ok_or_else(|| bad_key(key))?;
    Ok((parse_customer(&key[..at])?, &key[at + 1..]))
}

fn parse_customer(bytes: &[u8]) -> Result<CustomerId> {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|s| CustomerId::parse(s).ok())
        .ok_or_else(|| bad_key(bytes))
}

fn bad_key(key: &[u8]) -> StoreError {
    StoreError::Damaged {
        dir: std::path::PathBuf::new(),
        what: format!(
            "a key that names no customer: {:?}",
            String::from_utf8_lossy(key)
        ),
    }
}
