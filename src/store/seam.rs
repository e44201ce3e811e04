//! The storage seam: what the rest of Sportello asks of a store, cut by who asks it.
//! Both backends ([`super::sled`] and [`super::postgres`]) implement every trait; backend
//! maintenance (verify, the rewrite after `forget`, footprint) stays off them, on
//! [`super::Store`].
//!
//! Optimistic concurrency is by version numbers: a [`Turn`] carries the version its
//! conversation and tickets were read at, and is refused ([`super::StoreError::Conflict`])
//! if another writer moved one on. One turn is one transaction.

use super::{
    AttachmentMeta, Contact, DeliveryStatus, EmailThread, FailedOutbound, Held, MailboxMark, Note,
    Result, StoredMessage, Turn, Unreachable,
};
use crate::accounts::{ApiToken, Operator, Session};
use crate::config::Canned;
use crate::domain::{ChannelKind, Conversation, CustomerId, Event, Outbound, Ticket, TicketId};
use chrono::{DateTime, Utc};
use std::collections::HashSet;

/// Rows read one at a time (the sled backend streams them; PostgreSQL reads them first).
pub type Rows<'a, T> = Box<dyn Iterator<Item = Result<T>> + 'a>;

/// The service's side: turns, conversations, transcripts, tickets and the queue.
pub trait TurnLog {
    /// Write the turn atomically; returns how many records it wrote.
    fn commit(&self, turn: &Turn) -> Result<u64>;
    /// Make everything this thread wrote durable (before acknowledging a provider).
    fn flush(&self) -> Result<()>;
    /// This thread handles a message it will flush with [`TurnLog::flush_busy`]: a
    /// flush gathering concurrent messages waits for it.
    fn busy(&self) -> super::Busy<'_>;
    fn flush_busy(&self, busy: &super::Busy<'_>) -> Result<()>;
    fn conversation(&self, customer: &CustomerId) -> Result<Option<Conversation>>;
    fn conversations(&self) -> Rows<'_, Conversation>;
    fn transcript(&self, customer: &CustomerId) -> Result<Vec<StoredMessage>>;
    /// The transcript after the line numbered `after`, with the lines' numbers.
    fn transcript_after(
        &self,
        customer: &CustomerId,
        after: u64,
    ) -> Result<Vec<(u64, StoredMessage)>>;
    /// Whether the provider's message id was stored for this customer.
    fn seen(&self, customer: &CustomerId, message_id: &str) -> Result<bool>;
    fn ticket(&self, id: TicketId) -> Result<Option<Ticket>>;
    fn tickets(&self) -> Rows<'_, Ticket>;
    /// The open tickets, in queue order.
    fn queue(&self) -> Result<Vec<Ticket>>;
    /// How many queued tickets of its department come before `ticket`.
    fn queue_position(&self, ticket: &Ticket) -> Result<usize>;
    /// A department's latest `n` claims: (claimed at, opened at), newest first.
    fn recent_claims(
        &self,
        department: &str,
        n: usize,
    ) -> Result<Vec<(DateTime<Utc>, DateTime<Utc>)>>;
    /// Reserve the next ticket number; a number a retried turn reserved is skipped.
    fn next_ticket_id(&self) -> Result<TicketId>;
    fn add_note(&self, customer: &CustomerId, note: &Note) -> Result<()>;
    fn notes(&self, customer: &CustomerId) -> Result<Vec<Note>>;
}

/// The dispatcher's side: replies waiting for delivery and what became of them.
pub trait Outbox {
    /// Customers of `kind` with replies waiting.
    fn outbox_customers(&self, kind: ChannelKind) -> Result<Vec<CustomerId>>;
    /// A customer's waiting replies, in order, with the keys that ack or fail them.
    fn pending_outbox(&self, customer: &CustomerId) -> Result<Vec<(Vec<u8>, Outbound)>>;
    /// The reply was delivered: remove it.
    fn ack_outbox(&self, key: &[u8]) -> Result<()>;
    /// Give up on a reply, visibly; false if it was not waiting any more.
    fn fail_outbox(&self, key: &[u8], reason: &str, at: DateTime<Utc>) -> Result<bool>;
    fn failed_outbox(&self, customer: &CustomerId) -> Result<Vec<FailedOutbound>>;
    fn mark_unreachable(&self, customer: &CustomerId, why: &Unreachable) -> Result<()>;
    fn clear_unreachable(&self, customer: &CustomerId) -> Result<()>;
    fn unreachable(&self, customer: &CustomerId) -> Result<Option<Unreachable>>;
    /// Keep the customer's replies until they write again.
    fn hold(&self, customer: &CustomerId, why: &Held) -> Result<()>;
    /// Mark the hold's template sent, only while still held; whether it was.
    fn template_sent(&self, customer: &CustomerId, reason: &str) -> Result<bool>;
    fn held(&self, customer: &CustomerId) -> Result<Option<Held>>;
    fn release(&self, customer: &CustomerId) -> Result<()>;
    fn record_status(&self, customer: &CustomerId, status: &DeliveryStatus) -> Result<()>;
    fn statuses(&self, customer: &CustomerId) -> Result<Vec<DeliveryStatus>>;
    /// Take or renew this process's right to deliver `customer`'s outbox, for
    /// [`OUTBOX_LEASE`]; false while another process holds it. With several processes
    /// on one store, each reply goes out from one of them; a lease its holder stops
    /// renewing (it died) is taken over when it runs out.
    fn lease_outbox(&self, customer: &CustomerId) -> Result<bool>;
    /// Give the lease back (the customer's outbox is empty for now).
    fn end_outbox_lease(&self, customer: &CustomerId) -> Result<()>;
}

/// How long an outbox lease lasts unless renewed (the dispatcher renews it every
/// third of this while it delivers).
pub const OUTBOX_LEASE: std::time::Duration = std::time::Duration::from_secs(30);

/// The console's people: operators, browser sessions, API tokens, ready replies.
pub trait Accounts {
    /// False if the name is taken.
    fn add_operator(&self, op: &Operator) -> Result<bool>;
    fn operator(&self, name: &str) -> Result<Option<Operator>>;
    fn operators(&self) -> Result<Vec<Operator>>;
    /// Remove the operator with their sessions and tokens; false if there was none.
    fn remove_operator(&self, name: &str) -> Result<bool>;
    /// Write `new` if the stored record is still `old`; false if it changed.
    fn replace_operator(&self, old: &Operator, new: &Operator, end_sessions: bool) -> Result<bool>;
    fn has_admin(&self) -> Result<bool>;
    fn canned(&self) -> Result<Option<Vec<Canned>>>;
    fn put_canned(&self, canned: &[Canned]) -> Result<()>;
    /// The key that signs web chat visitor tokens, made once per store.
    fn server_key(&self) -> Result<String>;
    fn put_session(&self, digest: &str, session: &Session) -> Result<()>;
    fn session(&self, digest: &str, now: DateTime<Utc>) -> Result<Option<Session>>;
    fn end_session(&self, digest: &str) -> Result<()>;
    fn sweep_sessions(&self, now: DateTime<Utc>) -> Result<usize>;
    /// Store a new token; returns its id.
    fn issue_api_token(&self, record: &ApiToken) -> Result<String>;
    fn api_tokens_of(&self, account: &str) -> Result<Vec<(String, ApiToken)>>;
    fn revoke_api_token(&self, account: &str, id: &str) -> Result<bool>;
    fn touch_api_token(&self, digest: &str, token: &ApiToken, now: DateTime<Utc>) -> Result<()>;
    fn api_token(&self, digest: &str) -> Result<Option<ApiToken>>;
    /// The one-time setup token while no admin exists: `fresh` stored unless one is
    /// (every instance prints the same); the one stored.
    fn setup_token(&self, fresh: &str) -> Result<String>;
    /// Take the setup token if `offered` is it (it is then gone: two requests with it
    /// cannot both use it); false if it is not.
    fn take_setup_token(&self, offered: &str) -> Result<bool>;
    /// Store `token` again (its use failed, e.g. a password too short).
    fn put_back_setup_token(&self, token: &str) -> Result<()>;
}

/// Reports and customer records: the past, read by period, customer or ticket.
pub trait History {
    fn events(&self) -> Rows<'_, Event>;
    fn events_of(&self, customer: &CustomerId) -> Result<Vec<Event>>;
    fn tickets_of(&self, customer: &CustomerId) -> Result<Vec<Ticket>>;
    /// Who wrote (a `decided` event) in `[from, to)`.
    fn writers_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<HashSet<String>>;
    fn events_since(&self, since: DateTime<Utc>) -> Result<Vec<Event>>;
    /// The events the KPIs of `[from, to)` read (see the sled backend's `period.rs`).
    fn report_events(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Event>>;
    /// Events outside a turn (imports, `demo`).
    fn append_events(&self, events: &[Event]) -> Result<()>;
}

/// What channels keep per customer beside the conversation: email threading, the
/// address a web-chat customer left, how far a mailbox was read, uploaded files.
pub trait ChannelState {
    fn mailbox_mark(&self, mailbox: &str) -> Result<Option<MailboxMark>>;
    /// Move the mark on (a lower `last_uid` in the same UIDVALIDITY, written late by
    /// another process, leaves it where it is).
    fn set_mailbox_mark(&self, mailbox: &str, mark: MailboxMark) -> Result<()>;
    fn email_thread(&self, customer: &CustomerId) -> Result<Option<EmailThread>>;
    fn update_email_thread(
        &self,
        customer: &CustomerId,
        change: &dyn Fn(&mut EmailThread),
    ) -> Result<()>;
    fn contact(&self, customer: &CustomerId) -> Result<Option<Contact>>;
    fn update_contact(
        &self,
        customer: &CustomerId,
        change: &dyn Fn(Option<Contact>) -> Option<Contact>,
    ) -> Result<()>;
    fn put_attachment(&self, meta: &AttachmentMeta, bytes: &[u8]) -> Result<()>;
    fn attachment(&self, id: &str) -> Result<Option<(AttachmentMeta, Vec<u8>)>>;
}

/// The web side's abuse limits where several processes share a store (PostgreSQL);
/// one process keeps them in memory (`web/limits.rs`, same rules).
pub trait SharedLimits {
    /// Count a login attempt against every key (with its limit), or refuse all: the
    /// seconds to wait while a key is locked out. Ok: each key's count before.
    fn login_attempt(
        &self,
        keys: &[(&str, u32)],
        lockout: std::time::Duration,
    ) -> Result<std::result::Result<Vec<u32>, u64>>;
    /// Give an attempt back (it succeeded).
    fn login_succeeded(&self, keys: &[&str]) -> Result<()>;
    fn login_clear(&self, key: &str) -> Result<()>;
    /// Record an event for every key (at most `max` per `window`), or refuse all: the
    /// seconds until one is allowed.
    fn rate_allow(
        &self,
        keys: &[(&str, usize)],
        window: std::time::Duration,
    ) -> Result<std::result::Result<(), u64>>;
    /// Replace `customer`'s flood bucket (None: they have none) by what `step` makes
    /// of it, under a lock: two instances pacing one customer take turns.
    fn flood_step(
        &self,
        customer: &CustomerId,
        step: &mut dyn FnMut(Option<FloodBucket>) -> FloodBucket,
    ) -> Result<()>;
}

/// A customer's flood-pacing bucket (`service/flood.rs`): messages they may still send
/// in a row, as of `at`, and whether they were told to slow down.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FloodBucket {
    pub tokens: f64,
    pub at: DateTime<Utc>,
    pub told: bool,
}

/// Everything a backend is.
pub trait Backend: TurnLog + Outbox + Accounts + History + ChannelState + Send + Sync {}

impl<T: TurnLog + Outbox + Accounts + History + ChannelState + Send + Sync> Backend for T {}
