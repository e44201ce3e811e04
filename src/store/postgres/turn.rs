//! One turn, one transaction: the customer's message (refused if its id was stored),
//! the conversation and tickets (refused if their version moved on), the replies for
//! the transcript and the outbox, the events.

use super::{PgStore, channel_of, json};
use crate::domain::{Conversation, Priority, Ticket, TicketStatus};
use crate::store::{Result, StoreError, StoredMessage, Turn};
use tokio_postgres::types::{Json, ToSql};
use tokio_postgres::{GenericClient, Transaction};

impl PgStore {
    pub(super) fn commit_turn(&self, turn: &Turn) -> Result<u64> {
        let written = self.pool.run(async |c| {
            let tx = c.transaction().await?;
            let mut written = write_inbound(&tx, turn).await?;
            written += write_conversation(&tx, &turn.conversation).await?;
            for ticket in &turn.tickets {
                written += write_ticket(&tx, ticket).await?;
            }
            for (author, out) in &turn.outbound {
                let seq = PgStore::next_seq(&tx).await? as i64;
                let line = StoredMessage::outbound(author.clone(), out);
                let customer = out.customer.as_str();
                tx.execute(
                    "INSERT INTO messages (customer, seq, body) VALUES ($1, $2, $3)",
                    &[&customer, &seq, &json(&line)],
                )
                .await?;
                tx.execute(
                    "INSERT INTO outbox (seq, customer, channel, body) VALUES ($1, $2, $3, $4)",
                    &[&seq, &customer, &channel_of(&out.customer), &json(out)],
                )
                .await?;
                written += 2;
            }
            written += super::reads::insert_events(&tx, &turn.events).await?;
            tx.commit().await?;
            Ok(written)
        })?;
        self.written
            .fetch_add(written, std::sync::atomic::Ordering::Relaxed);
        Ok(written)
    }
}

/// The customer's message: its id once per customer, its line with the bot's verdict.
async fn write_inbound(tx: &Transaction<'_>, turn: &Turn) -> Result<u64> {
    let Some(inbound) = &turn.inbound else {
        return Ok(0);
    };
    let verdict = turn
        .events
        .iter()
        .filter(|e| e.customer == inbound.customer)
        .find_map(|e| e.kind.verdict());
    let seq = PgStore::next_seq(tx).await? as i64;
    let customer = inbound.customer.as_str();
    let fresh = tx
        .execute(
            "INSERT INTO dedupe (customer, message_id, seq) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
            &[&customer, &inbound.message_id, &seq],
        )
        .await?;
    if fresh == 0 {
        return Err(StoreError::Duplicate(inbound.message_id.clone()));
    }
    let line = StoredMessage::inbound(inbound, verdict);
    tx.execute(
        "INSERT INTO messages (customer, seq, body) VALUES ($1, $2, $3)",
        &[&customer, &seq, &json(&line)],
    )
    .await?;
    Ok(2)
}

/// The conversation, if its stored version is still the one it was read at.
async fn write_conversation(tx: &Transaction<'_>, conv: &Conversation) -> Result<u64> {
    let next = Conversation {
        version: conv.version.wrapping_add(1),
        ..conv.clone()
    };
    let (read_at, version) = (conv.version as i64, next.version as i64);
    let customer = conv.customer.as_str();
    let rows = if conv.version == 0 {
        tx.execute(
            "INSERT INTO conversations (customer, version, body) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
            &[&customer, &version, &json(&next)],
        )
        .await?
    } else {
        tx.execute(
            "UPDATE conversations SET version = $3, body = $4
             WHERE customer = $1 AND version = $2",
            &[&customer, &read_at, &version, &json(&next)],
        )
        .await?
    };
    if rows == 0 {
        return Err(StoreError::Conflict);
    }
    Ok(1)
}

/// The ticket, if its stored version is still the one it was read at (a new one: if
/// its number is free).
async fn write_ticket(tx: &Transaction<'_>, ticket: &Ticket) -> Result<u64> {
    let next = Ticket {
        version: ticket.version.wrapping_add(1),
        ..ticket.clone()
    };
    let rows = if ticket.version == 0 {
        insert_ticket_row(tx, &next).await?
    } else {
        let read_at = ticket.version as i64;
        let row = TicketRow::of(&next);
        let mut params = row.params();
        params.push(&read_at);
        tx.execute(
            "UPDATE tickets SET customer = $2, version = $3, department = $4, open = $5,
                    queued = $6, rank = $7, opened_at = $8, claimed_at = $9, body = $10
             WHERE id = $1 AND version = $11",
            &params,
        )
        .await?
    };
    if rows == 0 {
        return Err(StoreError::Conflict);
    }
    Ok(2)
}

/// A ticket as it is (`store copy`).
pub(super) async fn insert_ticket(c: &impl GenericClient, ticket: &Ticket) -> Result<()> {
    insert_ticket_row(c, ticket).await?;
    Ok(())
}

/// Insert the row unless the number is taken; how many rows (0 or 1).
async fn insert_ticket_row(c: &impl GenericClient, ticket: &Ticket) -> Result<u64> {
    let row = TicketRow::of(ticket);
    Ok(c.execute(
        "INSERT INTO tickets (id, customer, version, department, open, queued, rank,
                              opened_at, claimed_at, body)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
        &row.params(),
    )
    .await?)
}

/// A ticket's row: the columns queries select on, and the record.
struct TicketRow<'a> {
    ticket: &'a Ticket,
    customer: &'a str,
    id: i64,
    version: i64,
    queued: bool,
    open: bool,
    rank: i16,
    body: Json<serde_json::Value>,
}

impl<'a> TicketRow<'a> {
    fn of(ticket: &'a Ticket) -> Self {
        TicketRow {
            ticket,
            customer: ticket.customer.as_str(),
            id: ticket.id.0 as i64,
            version: ticket.version as i64,
            queued: ticket.status == TicketStatus::Queued,
            open: ticket.is_open(),
            rank: rank(ticket.priority),
            body: json(ticket),
        }
    }

    /// $1 id, $2 customer, $3 version, $4 department, $5 open, $6 queued, $7 rank,
    /// $8 opened at, $9 claimed at, $10 body.
    fn params(&self) -> Vec<&(dyn ToSql + Sync)> {
        vec![
            &self.id,
            &self.customer,
            &self.version,
            &self.ticket.department,
            &self.open,
            &self.queued,
            &self.rank,
            &self.ticket.opened_at,
            &self.ticket.claimed_at,
            &self.body,
        ]
    }
}

/// Queue order within a department: urgent first.
pub(super) fn rank(priority: Priority) -> i16 {
    match priority {
        Priority::Urgent => 0,
        Priority::High => 1,
        Priority::Normal => 2,
        Priority::Low => 3,
    }
}
