//! The sled backend (the embedded default), the only code that touches sled. Everything a turn changes (the customer's message,
//! the conversation, tickets, replies for the outbox, events) is written in one sled
//! transaction, so a crash leaves either all of it or none of it.
//!
//! Key layout (version 5, [`LAYOUT_VERSION`], in the `meta` tree under `version`).
//! Records are MessagePack from v5 (fields by name, instants as nanoseconds: [`encode`]),
//! JSON before; both are read ([`decode`]), so "(JSON)" below is the record's shape:
//! - `conversations`: `customer id` -> Conversation (JSON)
//! - `messages`: `customer id \0 seq (u64 BE)` -> StoredMessage (JSON), the transcript
//! - `dedupe`: `customer id \0 provider message id` -> seq (u64 BE)
//! - `tickets`: `ticket id (u64 BE)` -> Ticket (JSON), with its `version`
//! - `open_tickets`: `ticket id (u64 BE)` -> empty, the queue
//! - `outbox`: `customer id \0 seq (u64 BE)` -> Outbound (JSON), not yet delivered
//! - `events`: `seq (u64 BE)` -> Event (JSON); `decided` events carry a typed `cause` (v3)
//! - `meta`: `version` -> u64 BE, `next_ticket` -> u64 BE, `server_key` -> hex (signs
//!   web chat visitor tokens), `probe` -> the last write probe's time (`/healthz`)
//! - `failed`: `customer id \0 seq (u64 BE)` -> FailedOutbound (JSON), given up on
//! - `unreachable`: `customer id` -> Unreachable (JSON), e.g. the bot was blocked
//! - `operators`: `name` -> Operator (JSON), with the argon2id password hash
//! - `sessions`: `digest of the cookie` -> Session (JSON)
//! - `api_tokens`: `digest of the token` -> ApiToken (JSON)
//! - `notes`: `customer id \0 seq (u64 BE)` -> Note (JSON), operators' private notes
//! - `meta` `seq_floor` -> u64 BE: added to sled's ids after `forget` rewrote the store
//! - `meta` `canned` -> the console's ready replies as admins saved them (JSON)
//! - `meta` `email_mark:MAILBOX` -> MailboxMark (JSON): the last mail read, by IMAP UID
//! - `waiting`, `claims` (v2): indexes over tickets, see `index.rs`
//! - `held`: `customer id` -> Held (JSON): replies waiting for the customer to write
//!   (outside WhatsApp's 24-hour window)
//! - `statuses`: `customer id \0 seq (u64 BE)` -> DeliveryStatus (JSON), the
//!   providers' delivery reports
//! - `attachment_data`: `customer id \0 attachment id` -> the file's bytes;
//!   `attachment_meta`: `attachment id` -> AttachmentMeta (JSON): web chat uploads
//! - `email_threads`: `customer id` -> EmailThread (JSON): the subject and message ids
//!   an email reply threads to
//! - `contacts`: `customer id` -> Contact (JSON): the address a web-chat customer left
//!   for replies they do not see in the chat
//! - `history` (v4): events by time, by customer and by ticket, tickets by customer,
//!   see `history/`
//!
//! (the trees from `failed` to `notes` were added within v1, `held`, `statuses`, the
//! attachments', `email_threads` and `contacts` within v3: older stores open unchanged.) Migrations: v1 -> v2 builds `waiting` and `claims` from `tickets`;
//! v2 -> v3 gives every `decided` event its cause, read once from its words
//! ([`crate::domain::triage::Cause::from_words`]); v3 -> v4 builds `history` from the
//! events and tickets; v4 -> v5 rewrites nothing (a JSON record stays until it is
//! written again, then in binary; a v5 store is refused by a release that reads only
//! JSON, as any newer layout is). Conversations and tickets carry a
//! `version` that every write bumps (records written before it read as 0).
//!
//! `seq` comes from sled's monotonic id generator, each id a block of 64 seqs (stores
//! written before kept one seq per id: theirs are all below the blocks'), so keys sort in
//! write order.

mod accounts;
mod attachments;
mod backend;
mod delivery;
mod dump;
mod email;
mod erase;
mod group;
mod history;
mod hot;
mod index;
mod migrate;
mod notes;
mod open;
mod queue;
mod read;
mod turn;
mod verify;

pub(in crate::store) use erase::interrupted;
pub use erase::{check_rewritable, rewrite};
pub(super) use group::Busy as Gathering;

use super::{
    AttachmentMeta, Busy, Contact, DeliveryStatus, EmailThread, FailedOutbound, Forgotten, Held,
    MailboxMark, Note, Result, StoreError, StoredMessage, Turn, Unreachable,
};

use std::path::{Path, PathBuf};

pub const LAYOUT_VERSION: u64 = 5;

/// Seqs per id from sled's generator: a turn's records take one id, not one each
/// (every call takes a lock that sled's transactions hold exclusively).
const SEQ_BLOCK: u64 = 64;

/// sled's page cache (its default is 1 GB): the hot conversations are cached decoded
/// above it ([`hot`]), so sled's own can stay small. sled holds more than this: with
/// 100,000 stored conversations the process peaked at 153 MB with 8 MB here, 147 MB
/// with 4 MB.
const CACHE_BYTES: u64 = 4 * 1024 * 1024;

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        match e {
            sled::Error::Corruption { .. } => StoreError::Damaged {
                dir: PathBuf::new(),
                what: e.to_string(),
            },
            other => StoreError::Sled(other),
        }
    }
}

#[derive(Clone)]
pub struct SledStore {
    db: sled::Db,
    conversations: sled::Tree,
    messages: sled::Tree,
    dedupe: sled::Tree,
    tickets: sled::Tree,
    open_tickets: sled::Tree,
    outbox: sled::Tree,
    events: sled::Tree,
    meta: sled::Tree,
    failed: sled::Tree,
    unreachable: sled::Tree,
    operators: sled::Tree,
    sessions: sled::Tree,
    api_tokens: sled::Tree,
    notes: sled::Tree,
    waiting: sled::Tree,
    claims: sled::Tree,
    held: sled::Tree,
    statuses: sled::Tree,
    attachment_meta: sled::Tree,
    attachment_data: sled::Tree,
    email_threads: sled::Tree,
    contacts: sled::Tree,
    history: sled::Tree,
    /// Added to sled's ids: a store rewritten by `forget` keeps its keys increasing.
    seq_floor: u64,
    group: std::sync::Arc<group::GroupFlush>,
    /// The conversations read or written lately, decoded.
    hot: std::sync::Arc<hot::Hot>,
    /// The `waiting` index in memory, for places in the queue.
    queue: std::sync::Arc<queue::Queue>,
    /// Records written by turns (each insert or removal counts), for the benchmark.
    written: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl SledStore {
    /// Open the store in `dir`, first finishing a rewrite (`forget`) that a crash
    /// interrupted or that never ran.
    pub fn open(dir: &Path) -> Result<SledStore> {
        erase::recover(dir)?;
        let store = SledStore::open_as_is(dir)?;
        if store.meta.get(erase::PENDING)?.is_none() {
            return Ok(store);
        }
        drop(store);
        erase::rewrite(dir)?;
        erase::reopen(dir)
    }

    fn open_as_is(dir: &Path) -> Result<SledStore> {
        let db = open::open_db(dir)?;
        let store = SledStore {
            conversations: db.open_tree("conversations")?,
            messages: db.open_tree("messages")?,
            dedupe: db.open_tree("dedupe")?,
            tickets: db.open_tree("tickets")?,
            open_tickets: db.open_tree("open_tickets")?,
            outbox: db.open_tree("outbox")?,
            events: db.open_tree("events")?,
            meta: db.open_tree("meta")?,
            failed: db.open_tree("failed")?,
            unreachable: db.open_tree("unreachable")?,
            operators: db.open_tree("operators")?,
            sessions: db.open_tree("sessions")?,
            api_tokens: db.open_tree("api_tokens")?,
            notes: db.open_tree("notes")?,
            waiting: db.open_tree("waiting")?,
            claims: db.open_tree("claims")?,
            held: db.open_tree("held")?,
            statuses: db.open_tree("statuses")?,
            attachment_meta: db.open_tree("attachment_meta")?,
            attachment_data: db.open_tree("attachment_data")?,
            email_threads: db.open_tree("email_threads")?,
            contacts: db.open_tree("contacts")?,
            history: db.open_tree("history")?,
            seq_floor: 0,
            group: std::sync::Arc::default(),
            hot: std::sync::Arc::default(),
            queue: std::sync::Arc::default(),
            written: std::sync::Arc::default(),
            db,
        };
        let store = SledStore {
            seq_floor: store.meta.get(erase::SEQ_FLOOR)?.map_or(0, |v| be(&v)),
            ..store
        };
        store.migrate(dir)?;
        Ok(store)
    }

    /// Bring an older layout up to [`LAYOUT_VERSION`]; refuse a newer one.
    fn migrate(&self, dir: &Path) -> Result<()> {
        let stored = self.meta.get("version")?.map(|v| be(&v));
        let version = match stored {
            Some(found) if found > LAYOUT_VERSION => {
                return Err(StoreError::NewerLayout {
                    dir: dir.to_owned(),
                    found,
                });
            }
            Some(found) => found,
            None if self.tickets.is_empty() && self.conversations.is_empty() => LAYOUT_VERSION,
            // No version but data: the first v1 stores did not write one.
            None => 1,
        };
        if version < 2 {
            tracing::info!(
                "store {}: migrating key layout v{version} -> v2",
                dir.display()
            );
            self.build_indexes()?;
        }
        if version < 3 {
            let filled = self.fill_causes()?;
            tracing::info!(
                "store {}: key layout v3: {filled} decisions got their cause",
                dir.display()
            );
        }
        if version < 4 {
            let indexed = self.build_history()?;
            tracing::info!(
                "store {}: key layout v4: {indexed} events indexed by time, customer and ticket",
                dir.display()
            );
        }
        if version < 5 {
            // Nothing to rewrite: JSON records read as they are, new ones are binary.
            tracing::info!(
                "store {}: key layout v5: records written from now on are binary",
                dir.display()
            );
        }
        if stored != Some(LAYOUT_VERSION) {
            self.meta.insert("version", &LAYOUT_VERSION.to_be_bytes())?;
            self.db.flush()?;
        }
        Ok(())
    }

    /// The key layout version of the store (after migration: [`LAYOUT_VERSION`]).
    pub fn layout_version(&self) -> Result<u64> {
        Ok(self.meta.get("version")?.map_or(0, |v| be(&v)))
    }

    /// Make everything this thread wrote so far durable. Callers flush before they
    /// acknowledge a message to its provider; concurrent callers share one flush
    /// (group commit).
    pub fn flush(&self) -> Result<()> {
        self.group.flush(&self.db, None)?;
        Ok(())
    }

    /// This thread is handling a message it will flush with [`SledStore::flush_busy`]: a
    /// flush gathering concurrent messages waits for it (a couple of milliseconds at
    /// most), so that one flush covers more of them.
    pub fn busy(&self) -> Busy<'_> {
        Busy(Some(self.group.busy()))
    }

    /// [`SledStore::flush`] for a thread holding `busy`.
    pub fn flush_busy(&self, busy: &Busy<'_>) -> Result<()> {
        self.group.flush(&self.db, busy.0.as_ref())?;
        Ok(())
    }

    /// Whether the store can write now: a small record written and flushed. After an
    /// I/O error (a full disk) sled refuses every write until it is opened again, even
    /// once the disk has room: this is how `serve` notices.
    pub fn probe_write(&self) -> Result<()> {
        let now = chrono::Utc::now().timestamp_millis().to_be_bytes();
        self.meta.insert("probe", &now)?;
        self.flush()
    }

    /// (flush requests, flushes done) since the store was opened.
    pub fn flush_counts(&self) -> (u64, u64) {
        self.group.counts()
    }

    /// Records written by turns since the store was opened.
    pub fn records_written(&self) -> u64 {
        self.written.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// (records, bytes of keys and values) stored now, over every tree.
    pub fn footprint(&self) -> Result<(u64, u64)> {
        let (mut records, mut bytes) = (0, 0);
        for name in self.db.tree_names() {
            for kv in self.db.open_tree(&name)?.iter() {
                let (k, v) = kv?;
                records += 1;
                bytes += (k.len() + v.len()) as u64;
            }
        }
        Ok((records, bytes))
    }

    /// A fresh, increasing sequence number for keys.
    pub fn next_seq(&self) -> Result<u64> {
        Ok(self.next_seqs(1)?[0])
    }

    /// `n` fresh, increasing sequence numbers, from as few of sled's ids as it takes:
    /// each id stands for a block of [`SEQ_BLOCK`] seqs (`id * SEQ_BLOCK + i`, i from 1). A seq
    /// from a block is above every seq of an earlier id, and above every seq of a store
    /// written before blocks (sled's ids only grow), so keys still sort in write order.
    pub fn next_seqs(&self, n: usize) -> Result<Vec<u64>> {
        let mut seqs = Vec::with_capacity(n);
        while seqs.len() < n {
            let base = self.db.generate_id()?.saturating_mul(SEQ_BLOCK);
            let take = (n - seqs.len()).min(SEQ_BLOCK as usize) as u64;
            // From 1: a seq of 0 would be "before everything" (`transcript_after(_, 0)`).
            seqs.extend((1..=take).map(|i| (base + i).saturating_add(self.seq_floor)));
        }
        Ok(seqs)
    }

    /// Reserve the next ticket number (1, 2, 3...). A number reserved by a turn that
    /// is then retried is skipped, never reused.
    pub fn next_ticket_id(&self) -> Result<crate::domain::TicketId> {
        let next = self.meta.update_and_fetch("next_ticket", |old| {
            Some((old.map_or(0, be) + 1).to_be_bytes().to_vec())
        })?;
        Ok(crate::domain::TicketId(next.as_deref().map_or(1, be)))
    }
}

fn be(bytes: &[u8]) -> u64 {
    bytes.try_into().map(u64::from_be_bytes).unwrap_or(0)
}

/// The u64 a key ends with (a seq or a ticket id; 0 for a key too short).
fn last_u64(key: &[u8]) -> u64 {
    be(&key[key.len().saturating_sub(8)..])
}

/// `customer \0 seq` keys: per-customer ranges that sort in write order.
fn customer_key(customer: &crate::domain::CustomerId, suffix: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(customer.as_str().len() + 1 + suffix.len());
    key.extend_from_slice(customer.as_str().as_bytes());
    key.push(0);
    key.extend_from_slice(suffix);
    key
}

fn customer_prefix(customer: &crate::domain::CustomerId) -> Vec<u8> {
    customer_key(customer, &[])
}

/// A record as the store writes it (v5): MessagePack, fields by name, instants as
/// integers ([`crate::domain::instant`]).
fn encode<T: serde::Serialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    rmp_serde::encode::write_named(&mut out, value).expect("store records serialise");
    out
}

/// A record written by any layout: JSON (v1 to v4; an object's first byte is `{`, a
/// list's `[`, as the canned replies are) or MessagePack (v5: a map or an array, whose
/// first byte is never either; a lone integer would be, and no record is one).
fn decode<T: serde::de::DeserializeOwned>(tree: &'static str, bytes: &[u8]) -> Result<T> {
    if matches!(bytes.first(), Some(b'{' | b'[')) {
        return serde_json::from_slice(bytes).map_err(|e| StoreError::corrupt(tree, e));
    }
    rmp_serde::from_slice(bytes).map_err(|e| StoreError::corrupt(tree, e))
}
