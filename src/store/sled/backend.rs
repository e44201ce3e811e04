//! The seam's traits on [`SledStore`]: each method is the inherent one of the same
//! name, written in the file that owns its trees.

use super::{
    AttachmentMeta, Busy, Contact, DeliveryStatus, EmailThread, FailedOutbound, Held, MailboxMark,
    Note, Result, SledStore, StoredMessage, Turn, Unreachable,
};
use crate::accounts::{ApiToken, Operator, Session};
use crate::config::Canned;
use crate::domain::{ChannelKind, Conversation, CustomerId, Event, Outbound, Ticket, TicketId};
use crate::store::{Accounts, ChannelState, History, Outbox, Rows, TurnLog};
use chrono::{DateTime, Utc};
use std::collections::HashSet;

/// `fn name(&self, args) -> T { SledStore::name(self, args) }`, one per line.
macro_rules! forward {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        $(fn $name(&self, $($arg: $ty),*) -> $ret {
            SledStore::$name(self, $($arg),*)
        })*
    };
}

impl TurnLog for SledStore {
    forward! {
        commit(turn: &Turn) -> Result<u64>;
        flush() -> Result<()>;
        busy() -> Busy<'_>;
        flush_busy(busy: &Busy<'_>) -> Result<()>;
        conversation(customer: &CustomerId) -> Result<Option<Conversation>>;
        transcript(customer: &CustomerId) -> Result<Vec<StoredMessage>>;
        transcript_after(customer: &CustomerId, after: u64) -> Result<Vec<(u64, StoredMessage)>>;
        seen(customer: &CustomerId, message_id: &str) -> Result<bool>;
        ticket(id: TicketId) -> Result<Option<Ticket>>;
        queue() -> Result<Vec<Ticket>>;
        queue_position(ticket: &Ticket) -> Result<usize>;
        recent_claims(department: &str, n: usize) -> Result<Vec<(DateTime<Utc>, DateTime<Utc>)>>;
        next_ticket_id() -> Result<TicketId>;
        add_note(customer: &CustomerId, note: &Note) -> Result<()>;
        notes(customer: &CustomerId) -> Result<Vec<Note>>;
    }

    fn conversations(&self) -> Rows<'_, Conversation> {
        Box::new(SledStore::conversations(self))
    }

    fn tickets(&self) -> Rows<'_, Ticket> {
        Box::new(SledStore::tickets(self))
    }
}

impl Outbox for SledStore {
    forward! {
        outbox_customers(kind: ChannelKind) -> Result<Vec<CustomerId>>;
        pending_outbox(customer: &CustomerId) -> Result<Vec<(Vec<u8>, Outbound)>>;
        ack_outbox(key: &[u8]) -> Result<()>;
        fail_outbox(key: &[u8], reason: &str, at: DateTime<Utc>) -> Result<bool>;
        failed_outbox(customer: &CustomerId) -> Result<Vec<FailedOutbound>>;
        mark_unreachable(customer: &CustomerId, why: &Unreachable) -> Result<()>;
        clear_unreachable(customer: &CustomerId) -> Result<()>;
        unreachable(customer: &CustomerId) -> Result<Option<Unreachable>>;
        hold(customer: &CustomerId, why: &Held) -> Result<()>;
        template_sent(customer: &CustomerId, reason: &str) -> Result<bool>;
        held(customer: &CustomerId) -> Result<Option<Held>>;
        release(customer: &CustomerId) -> Result<()>;
        record_status(customer: &CustomerId, status: &DeliveryStatus) -> Result<()>;
        statuses(customer: &CustomerId) -> Result<Vec<DeliveryStatus>>;
    }

    /// One process per directory (sled's lock): it always holds every lease.
    fn lease_outbox(&self, _customer: &CustomerId) -> Result<bool> {
        Ok(true)
    }

    fn end_outbox_lease(&self, _customer: &CustomerId) -> Result<()> {
        Ok(())
    }
}

impl Accounts for SledStore {
    forward! {
        add_operator(op: &Operator) -> Result<bool>;
        operator(name: &str) -> Result<Option<Operator>>;
        operators() -> Result<Vec<Operator>>;
        remove_operator(name: &str) -> Result<bool>;
        replace_operator(old: &Operator, new: &Operator, end_sessions: bool) -> Result<bool>;
        has_admin() -> Result<bool>;
        canned() -> Result<Option<Vec<Canned>>>;
        put_canned(canned: &[Canned]) -> Result<()>;
        server_key() -> Result<String>;
        put_session(digest: &str, session: &Session) -> Result<()>;
        session(digest: &str, now: DateTime<Utc>) -> Result<Option<Session>>;
        end_session(digest: &str) -> Result<()>;
        sweep_sessions(now: DateTime<Utc>) -> Result<usize>;
        issue_api_token(record: &ApiToken) -> Result<String>;
        api_tokens_of(account: &str) -> Result<Vec<(String, ApiToken)>>;
        revoke_api_token(account: &str, id: &str) -> Result<bool>;
        touch_api_token(digest: &str, token: &ApiToken, now: DateTime<Utc>) -> Result<()>;
        api_token(digest: &str) -> Result<Option<ApiToken>>;
        setup_token(fresh: &str) -> Result<String>;
        take_setup_token(offered: &str) -> Result<bool>;
        put_back_setup_token(token: &str) -> Result<()>;
    }
}

impl History for SledStore {
    forward! {
        events_of(customer: &CustomerId) -> Result<Vec<Event>>;
        tickets_of(customer: &CustomerId) -> Result<Vec<Ticket>>;
        writers_between(from: DateTime<Utc>, to: DateTime<Utc>) -> Result<HashSet<String>>;
        events_since(since: DateTime<Utc>) -> Result<Vec<Event>>;
        report_events(from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Event>>;
        append_events(events: &[Event]) -> Result<()>;
    }

    fn events(&self) -> Rows<'_, Event> {
        Box::new(SledStore::events(self))
    }
}

impl ChannelState for SledStore {
    forward! {
        mailbox_mark(mailbox: &str) -> Result<Option<MailboxMark>>;
        set_mailbox_mark(mailbox: &str, mark: MailboxMark) -> Result<()>;
        email_thread(customer: &CustomerId) -> Result<Option<EmailThread>>;
        update_email_thread(customer: &CustomerId, change: &dyn Fn(&mut EmailThread)) -> Result<()>;
        contact(customer: &CustomerId) -> Result<Option<Contact>>;
        update_contact(customer: &CustomerId, change: &dyn Fn(Option<Contact>) -> Option<Contact>) -> Result<()>;
        put_attachment(meta: &AttachmentMeta, bytes: &[u8]) -> Result<()>;
        attachment(id: &str) -> Result<Option<(AttachmentMeta, Vec<u8>)>>;
    }
}
