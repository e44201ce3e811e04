//! The seam's [`TurnLog`] and [`History`] on PostgreSQL (the others are in
//! `accounts.rs` and `channel.rs`).

use super::PgStore;
use crate::domain::{Conversation, CustomerId, Event, Ticket, TicketId};
use crate::store::{Busy, History, Note, Result, Rows, StoredMessage, Turn, TurnLog};
use chrono::{DateTime, Utc};
use std::collections::HashSet;

impl TurnLog for PgStore {
    fn commit(&self, turn: &Turn) -> Result<u64> {
        self.commit_turn(turn)
    }

    /// A committed transaction is durable (`synchronous_commit`): nothing to wait for.
    fn flush(&self) -> Result<()> {
        Ok(())
    }

    fn busy(&self) -> Busy<'_> {
        Busy(None)
    }

    fn flush_busy(&self, _busy: &Busy<'_>) -> Result<()> {
        Ok(())
    }

    fn conversation(&self, customer: &CustomerId) -> Result<Option<Conversation>> {
        self.conversation_of(customer)
    }

    fn conversations(&self) -> Rows<'_, Conversation> {
        rows(self.bodies(
            "conversations",
            "SELECT body FROM conversations ORDER BY customer COLLATE \"C\"",
            &[],
        ))
    }

    fn transcript(&self, customer: &CustomerId) -> Result<Vec<StoredMessage>> {
        Ok(self
            .transcript_from(customer, 0)?
            .into_iter()
            .map(|(_, line)| line)
            .collect())
    }

    fn transcript_after(
        &self,
        customer: &CustomerId,
        after: u64,
    ) -> Result<Vec<(u64, StoredMessage)>> {
        self.transcript_from(customer, after)
    }

    fn seen(&self, customer: &CustomerId, message_id: &str) -> Result<bool> {
        self.pool.run(async |c| {
            Ok(c.query_opt(
                "SELECT 1 FROM dedupe WHERE customer = $1 AND message_id = $2",
                &[&customer.as_str(), &message_id],
            )
            .await?
            .is_some())
        })
    }

    fn ticket(&self, id: TicketId) -> Result<Option<Ticket>> {
        Ok(self
            .bodies(
                "tickets",
                "SELECT body FROM tickets WHERE id = $1",
                &[&(id.0 as i64)],
            )?
            .pop())
    }

    fn tickets(&self) -> Rows<'_, Ticket> {
        rows(self.bodies("tickets", "SELECT body FROM tickets ORDER BY id", &[]))
    }

    fn queue(&self) -> Result<Vec<Ticket>> {
        self.open_tickets()
    }

    fn queue_position(&self, ticket: &Ticket) -> Result<usize> {
        self.place_in_queue(ticket)
    }

    fn recent_claims(
        &self,
        department: &str,
        n: usize,
    ) -> Result<Vec<(DateTime<Utc>, DateTime<Utc>)>> {
        self.claims_of(department, n)
    }

    fn next_ticket_id(&self) -> Result<TicketId> {
        self.pool.run(async |c| {
            let id: i64 = c
                .query_one("SELECT nextval('ticket_ids')", &[])
                .await?
                .get(0);
            Ok(TicketId(id as u64))
        })
    }

    fn add_note(&self, customer: &CustomerId, note: &Note) -> Result<()> {
        self.add_note_for(customer, note)
    }

    fn notes(&self, customer: &CustomerId) -> Result<Vec<Note>> {
        self.bodies(
            "notes",
            "SELECT body FROM notes WHERE customer = $1 ORDER BY seq",
            &[&customer.as_str()],
        )
    }
}

impl History for PgStore {
    fn events(&self) -> Rows<'_, Event> {
        rows(self.bodies("events", "SELECT body FROM events ORDER BY seq", &[]))
    }

    fn events_of(&self, customer: &CustomerId) -> Result<Vec<Event>> {
        self.events_by_customer(customer)
    }

    fn tickets_of(&self, customer: &CustomerId) -> Result<Vec<Ticket>> {
        self.bodies(
            "tickets",
            "SELECT body FROM tickets WHERE customer = $1 ORDER BY id",
            &[&customer.as_str()],
        )
    }

    fn writers_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<HashSet<String>> {
        self.writers(from, to)
    }

    fn events_since(&self, since: DateTime<Utc>) -> Result<Vec<Event>> {
        Ok(self
            .events_in(since, DateTime::<Utc>::MAX_UTC)?
            .into_iter()
            .map(|(_, e)| e)
            .collect())
    }

    fn report_events(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Event>> {
        crate::store::period::report_events(self, from, to)
    }

    fn append_events(&self, events: &[Event]) -> Result<()> {
        self.append(events)
    }
}

/// Rows read at once, handed out one at a time (an error: as the only row).
fn rows<'a, T: 'a>(read: Result<Vec<T>>) -> Rows<'a, T> {
    match read {
        Ok(all) => Box::new(all.into_iter().map(Ok)),
        Err(e) => Box::new(std::iter::once(Err(e))),
    }
}
