//! One turn, one transaction: the customer's message (refused if its id was stored),
//! the conversation and tickets (refused if their version moved on), the replies for
//! the transcript and the outbox, the events.
//!
//! Few round trips: the turn's sequence numbers come in one query, each table's rows
//! go in one `INSERT … SELECT FROM unnest(…)`, and every write is sent at once
//! (tokio-postgres pipelines the queries of one connection that are in flight
//! together); the results are checked after, and any refusal rolls the whole
//! transaction back. About six round trips a turn where there were two dozen.

use super::{PgStore, channel_of, json};
use crate::domain::{Conversation, Priority, Ticket, TicketStatus};
use crate::store::{Result, StoreError, StoredMessage, Turn};
use futures_util::future::{join4, try_join, try_join_all};
use tokio_postgres::types::{Json, ToSql};
use tokio_postgres::{GenericClient, Transaction};

/// A turn's rows, ready to write once their sequence numbers are known.
struct Rows<'t> {
    turn: &'t Turn,
    /// The inbound line (its verdict), if there is a message.
    inbound: Option<Json<serde_json::Value>>,
    /// Per reply: its transcript line and its outbox record.
    outbound: Vec<(Json<serde_json::Value>, Json<serde_json::Value>)>,
}

impl<'t> Rows<'t> {
    fn of(turn: &'t Turn) -> Self {
        let inbound = (turn.inbound.as_ref())
            .map(|inbound| json(&StoredMessage::inbound(inbound, turn.inbound_verdict())));
        let outbound = turn
            .outbound
            .iter()
            .map(|(author, out)| {
                (
                    json(&StoredMessage::outbound(author.clone(), out)),
                    json(out),
                )
            })
            .collect();
        Rows {
            turn,
            inbound,
            outbound,
        }
    }

    fn seqs_needed(&self) -> i64 {
        (usize::from(self.inbound.is_some()) + self.outbound.len() + self.turn.events.len()) as i64
    }
}

impl PgStore {
    pub(super) fn commit_turn(&self, turn: &Turn) -> Result<u64> {
        let rows = Rows::of(turn);
        let written = self.pool.run(async |c| {
            let tx = c.transaction().await?;
            let seqs = PgStore::next_seqs(&tx, rows.seqs_needed()).await?;
            let (inbound_seq, rest) = match rows.inbound {
                Some(_) => (seqs.first().copied(), &seqs[1..]),
                None => (None, &seqs[..]),
            };
            let (outbound_seqs, event_seqs) = rest.split_at(rows.outbound.len());
            // All at once; then, as when they went one by one, a message whose id was
            // stored is a duplicate before anything else (two deliveries of it at the
            // same moment also find the conversation moved on), a stale conversation or
            // ticket a conflict.
            let (fresh, conversation, tickets, rest) = join4(
                dedupe(&tx, turn, inbound_seq),
                write_conversation(&tx, &turn.conversation),
                try_join_all(turn.tickets.iter().map(|t| write_ticket(&tx, t))),
                async {
                    try_join(
                        insert_lines(&tx, &rows, inbound_seq, outbound_seqs),
                        super::reads::insert_events_at(&tx, &turn.events, event_seqs),
                    )
                    .await
                    .map(|_| ())
                },
            )
            .await;
            if !fresh? {
                let id = turn.inbound.as_ref().map(|i| i.message_id.clone());
                return Err(StoreError::Duplicate(id.unwrap_or_default()));
            }
            conversation?;
            tickets?;
            rest?;
            tx.commit().await?;
            let written = 2 * u64::from(rows.inbound.is_some())
                + 1
                + 2 * turn.tickets.len() as u64
                + 2 * rows.outbound.len() as u64
                + turn.events.len() as u64;
            Ok(written)
        })?;
        self.written
            .fetch_add(written, std::sync::atomic::Ordering::Relaxed);
        Ok(written)
    }
}

/// The customer's message id, once per customer: false if it was stored already.
async fn dedupe(tx: &Transaction<'_>, turn: &Turn, seq: Option<i64>) -> Result<bool> {
    let (Some(inbound), Some(seq)) = (&turn.inbound, seq) else {
        return Ok(true);
    };
    let fresh = tx
        .execute(
            "INSERT INTO dedupe (customer, message_id, seq) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
            &[&inbound.customer.as_str(), &inbound.message_id, &seq],
        )
        .await?;
    Ok(fresh == 1)
}

/// The transcript lines (the message's and the replies') and the outbox entries.
async fn insert_lines(
    tx: &Transaction<'_>,
    rows: &Rows<'_>,
    inbound_seq: Option<i64>,
    outbound_seqs: &[i64],
) -> Result<()> {
    let (mut customers, mut seqs, mut bodies) = (Vec::new(), Vec::new(), Vec::new());
    if let (Some(inbound), Some(line), Some(seq)) = (&rows.turn.inbound, &rows.inbound, inbound_seq)
    {
        customers.push(inbound.customer.as_str());
        seqs.push(seq);
        bodies.push(line);
    }
    let mut channels = Vec::new();
    let mut records = Vec::new();
    for (((_, out), (line, record)), seq) in rows
        .turn
        .outbound
        .iter()
        .zip(&rows.outbound)
        .zip(outbound_seqs)
    {
        customers.push(out.customer.as_str());
        seqs.push(*seq);
        bodies.push(line);
        channels.push(channel_of(&out.customer));
        records.push(record);
    }
    let replies = rows.turn.outbound.len();
    let out_customers = &customers[customers.len() - replies..];
    let params: [&(dyn ToSql + Sync); 3] = [&customers, &seqs, &bodies];
    let transcript = async {
        if customers.is_empty() {
            return Ok(0);
        }
        tx.execute(
            "INSERT INTO messages (customer, seq, body)
             SELECT * FROM unnest($1::text[], $2::bigint[], $3::json[])",
            &params,
        )
        .await
    };
    let outbox = async {
        if replies == 0 {
            return Ok(0);
        }
        tx.execute(
            "INSERT INTO outbox (seq, customer, channel, body)
             SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::json[])",
            &[&outbound_seqs, &out_customers, &channels, &records],
        )
        .await
    };
    try_join(transcript, outbox).await?;
    Ok(())
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
