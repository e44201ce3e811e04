//! Conversations, transcripts, tickets and the queue; the history that reports and
//! customer records read, by time, customer and ticket (each an index).

use super::{PgStore, decode, json, pg_time};
use crate::domain::{Conversation, CustomerId, Event, EventKind, Ticket, TicketId};
use crate::store::period::PeriodReads;
use crate::store::{Note, Result, StoredMessage};
use chrono::{DateTime, Utc};
use std::collections::HashSet;
use tokio_postgres::GenericClient;
use tokio_postgres::types::ToSql;

type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

impl PgStore {
    /// The `json` column `body` of each row, decoded.
    pub(super) fn bodies<T: serde::de::DeserializeOwned>(
        &self,
        table: &'static str,
        sql: &str,
        params: Params<'_>,
    ) -> Result<Vec<T>> {
        self.pool.run(async |c| {
            c.query(sql, params)
                .await?
                .into_iter()
                .map(|row| decode(table, row.get(0)))
                .collect()
        })
    }

    /// (seq, event) rows, decoded.
    fn seq_events(&self, sql: &str, params: Params<'_>) -> Result<Vec<(u64, Event)>> {
        self.pool.run(async |c| {
            c.query(sql, params)
                .await?
                .into_iter()
                .map(|row| Ok((row.get::<_, i64>(0) as u64, decode("events", row.get(1))?)))
                .collect()
        })
    }

    /// Execute one statement; how many rows it touched.
    pub(super) fn execute(&self, sql: &str, params: Params<'_>) -> Result<u64> {
        self.pool.run(async |c| Ok(c.execute(sql, params).await?))
    }

    pub(super) fn conversation_of(&self, customer: &CustomerId) -> Result<Option<Conversation>> {
        Ok(self
            .bodies(
                "conversations",
                "SELECT body FROM conversations WHERE customer = $1",
                &[&customer.as_str()],
            )?
            .pop())
    }

    pub(super) fn transcript_from(
        &self,
        customer: &CustomerId,
        after: u64,
    ) -> Result<Vec<(u64, StoredMessage)>> {
        self.pool.run(async |c| {
            c.query(
                "SELECT seq, body FROM messages WHERE customer = $1 AND seq > $2 ORDER BY seq",
                &[&customer.as_str(), &(after.min(i64::MAX as u64) as i64)],
            )
            .await?
            .into_iter()
            .map(|row| Ok((row.get::<_, i64>(0) as u64, decode("messages", row.get(1))?)))
            .collect()
        })
    }

    pub(super) fn open_tickets(&self) -> Result<Vec<Ticket>> {
        let mut open: Vec<Ticket> =
            self.bodies("tickets", "SELECT body FROM tickets WHERE open", &[])?;
        open.sort_by_key(Ticket::queue_key);
        Ok(open)
    }

    /// 1-based place among the department's queued tickets (it need not be stored).
    pub(super) fn place_in_queue(&self, ticket: &Ticket) -> Result<usize> {
        let ahead: i64 = self.pool.run(async |c| {
            Ok(c.query_one(
                "SELECT count(*) FROM tickets WHERE queued AND department = $1
                   AND (rank, opened_at, id) < ($2, $3, $4) AND id <> $4",
                &[
                    &ticket.department,
                    &super::turn::rank(ticket.priority),
                    &ticket.opened_at,
                    &(ticket.id.0 as i64),
                ],
            )
            .await?
            .get(0))
        })?;
        Ok(ahead as usize + 1)
    }

    /// (opened at, claimed at) of the department's `n` latest claims, oldest first.
    pub(super) fn claims_of(
        &self,
        department: &str,
        n: usize,
    ) -> Result<Vec<(DateTime<Utc>, DateTime<Utc>)>> {
        let mut claims: Vec<(DateTime<Utc>, DateTime<Utc>)> = self.pool.run(async |c| {
            Ok(c.query(
                "SELECT opened_at, claimed_at FROM tickets
                 WHERE department = $1 AND claimed_at IS NOT NULL
                 ORDER BY claimed_at DESC, id DESC LIMIT $2",
                &[&department, &(n as i64)],
            )
            .await?
            .into_iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect())
        })?;
        claims.reverse();
        Ok(claims)
    }

    pub(super) fn add_note_for(&self, customer: &CustomerId, note: &Note) -> Result<()> {
        self.pool.run(async |c| {
            let seq = PgStore::next_seq(c).await? as i64;
            c.execute(
                "INSERT INTO notes (seq, customer, body) VALUES ($1, $2, $3)",
                &[&seq, &customer.as_str(), &json(note)],
            )
            .await?;
            Ok(())
        })
    }

    pub(super) fn events_by_customer(&self, customer: &CustomerId) -> Result<Vec<Event>> {
        self.bodies(
            "events",
            "SELECT body FROM events WHERE customer = $1 ORDER BY at, seq",
            &[&customer.as_str()],
        )
    }

    pub(super) fn writers(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<HashSet<String>> {
        self.pool.run(async |c| {
            Ok(c.query(
                "SELECT DISTINCT customer FROM events WHERE writer AND at >= $1 AND at < $2",
                &[&pg_time(from), &pg_time(to)],
            )
            .await?
            .into_iter()
            .map(|row| row.get(0))
            .collect())
        })
    }

    pub(super) fn events_in(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(u64, Event)>> {
        self.seq_events(
            "SELECT seq, body FROM events WHERE at >= $1 AND at < $2 ORDER BY seq",
            &[&pg_time(from), &pg_time(to)],
        )
    }

    pub(super) fn append(&self, events: &[Event]) -> Result<()> {
        self.pool.run(async |c| {
            let tx = c.transaction().await?;
            insert_events(&tx, events).await?;
            tx.commit().await?;
            Ok(())
        })
    }
}

/// Write `events`, each under a fresh seq; how many.
pub(super) async fn insert_events(c: &impl GenericClient, events: &[Event]) -> Result<u64> {
    let seqs = PgStore::next_seqs(c, events.len() as i64).await?;
    insert_events_at(c, events, &seqs).await
}

/// Write `events` under `seqs` (one each, in order) in one statement, with the
/// columns their indexes read; how many.
pub(super) async fn insert_events_at(
    c: &impl GenericClient,
    events: &[Event],
    seqs: &[i64],
) -> Result<u64> {
    if events.is_empty() {
        return Ok(0);
    }
    let at: Vec<DateTime<Utc>> = events.iter().map(|e| e.at).collect();
    let customers: Vec<&str> = events.iter().map(|e| e.customer.as_str()).collect();
    let tickets: Vec<Option<i64>> = events
        .iter()
        .map(|e| e.kind.ticket().map(|t| t.0 as i64))
        .collect();
    let writers: Vec<bool> = events
        .iter()
        .map(|e| matches!(e.kind, EventKind::Decided { .. }))
        .collect();
    let bodies: Vec<_> = events.iter().map(json).collect();
    c.execute(
        "INSERT INTO events (seq, at, customer, ticket, writer, body)
         SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::bigint[],
                              $5::boolean[], $6::json[])",
        &[&seqs, &at, &customers, &tickets, &writers, &bodies],
    )
    .await?;
    Ok(events.len() as u64)
}

impl PeriodReads for PgStore {
    fn events_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<(u64, Event)>> {
        self.events_in(from, to)
    }

    fn writers_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<HashSet<String>> {
        self.writers(from, to)
    }

    fn visit_customer_from(
        &self,
        customer: &CustomerId,
        from: DateTime<Utc>,
        visit: &mut dyn FnMut(u64, Event) -> bool,
    ) -> Result<()> {
        // In pages: a tail usually ends within its first few events.
        let (mut at, mut seq) = (pg_time(from), -1_i64);
        loop {
            let page = self.seq_events(
                "SELECT seq, body FROM events WHERE customer = $1 AND (at, seq) > ($2, $3)
                 ORDER BY at, seq LIMIT 64",
                &[&customer.as_str(), &at, &seq],
            )?;
            let full = page.len() == 64;
            for (s, event) in page {
                (at, seq) = (event.at, s as i64);
                if !visit(s, event) {
                    return Ok(());
                }
            }
            if !full {
                return Ok(());
            }
        }
    }

    fn ticket_event_seqs(&self, ticket: TicketId) -> Result<Vec<u64>> {
        self.pool.run(async |c| {
            Ok(c.query(
                "SELECT seq FROM events WHERE ticket = $1 ORDER BY seq",
                &[&(ticket.0 as i64)],
            )
            .await?
            .into_iter()
            .map(|row| row.get::<_, i64>(0) as u64)
            .collect())
        })
    }

    fn events_at(&self, seqs: Vec<u64>) -> Result<Vec<(u64, Event)>> {
        let seqs: Vec<i64> = seqs.into_iter().map(|s| s as i64).collect();
        self.seq_events(
            "SELECT seq, body FROM events WHERE seq = ANY($1) ORDER BY seq",
            &[&seqs],
        )
    }
}
