//! The PostgreSQL side of `store copy`: every table read out as [`Record`]s (in pages,
//! so a big store is never held whole), and records written in one transaction per
//! batch.

use super::{PgStore, decode, json};
use crate::domain::CustomerId;
use crate::store::copy::Record;
use crate::store::{Result, StoreError};
use tokio_postgres::GenericClient;
use tokio_postgres::types::ToSql;

/// Rows read per page.
const PAGE: i64 = 5_000;

impl PgStore {
    pub(in crate::store) fn is_empty(&self) -> Result<bool> {
        self.pool.run(async |c| {
            Ok(c.query_one(
                "SELECT NOT EXISTS (SELECT 1 FROM conversations)
                    AND NOT EXISTS (SELECT 1 FROM tickets)
                    AND NOT EXISTS (SELECT 1 FROM events)
                    AND NOT EXISTS (SELECT 1 FROM operators)",
                &[],
            )
            .await?
            .get(0))
        })
    }

    pub(in crate::store) fn dump(&self, out: &mut dyn FnMut(Record) -> Result<()>) -> Result<()> {
        self.pages("conversations", "customer", "body", out, |row, _| {
            Ok(Record::Conversation(decode("conversations", row.get(0))?))
        })?;
        self.pages("messages", "seq", "customer, body", out, |row, seq| {
            Ok(Record::Message {
                customer: customer(row.get(0))?,
                seq,
                line: decode("messages", row.get(1))?,
            })
        })?;
        self.pages("dedupe", "seq", "customer, message_id", out, |row, seq| {
            Ok(Record::Dedupe {
                customer: customer(row.get(0))?,
                message_id: row.get(1),
                seq,
            })
        })?;
        self.pages("tickets", "id", "body", out, |row, _| {
            Ok(Record::Ticket(decode("tickets", row.get(0))?))
        })?;
        self.pages("outbox", "seq", "body", out, |row, seq| {
            Ok(Record::Outbox {
                seq,
                out: decode("outbox", row.get(0))?,
            })
        })?;
        self.pages("failed", "seq", "customer, body", out, |row, seq| {
            Ok(Record::Failed {
                customer: customer(row.get(0))?,
                seq,
                failed: decode("failed", row.get(1))?,
            })
        })?;
        self.pages("events", "seq", "body", out, |row, seq| {
            Ok(Record::Event {
                seq,
                event: decode("events", row.get(0))?,
            })
        })?;
        self.pages("statuses", "seq", "customer, body", out, |row, seq| {
            Ok(Record::Status {
                customer: customer(row.get(0))?,
                seq,
                status: decode("statuses", row.get(1))?,
            })
        })?;
        self.pages("notes", "seq", "customer, body", out, |row, seq| {
            Ok(Record::Note {
                customer: customer(row.get(0))?,
                seq,
                note: decode("notes", row.get(1))?,
            })
        })?;
        self.dump_small(out)
    }

    /// The tables without a seq: read whole (they hold one row per customer, account
    /// or mailbox at most).
    fn dump_small(&self, out: &mut dyn FnMut(Record) -> Result<()>) -> Result<()> {
        let rows = |sql: &str| -> Result<Vec<tokio_postgres::Row>> {
            self.pool.run(async |c| Ok(c.query(sql, &[]).await?))
        };
        for row in rows("SELECT customer, body FROM unreachable")? {
            let why = decode("unreachable", row.get(1))?;
            out(Record::Unreachable {
                customer: customer(row.get(0))?,
                why,
            })?;
        }
        for row in rows("SELECT customer, body FROM held")? {
            let held = decode("held", row.get(1))?;
            out(Record::Held {
                customer: customer(row.get(0))?,
                held,
            })?;
        }
        for row in rows("SELECT body FROM operators ORDER BY name")? {
            out(Record::Operator(decode("operators", row.get(0))?))?;
        }
        for row in rows("SELECT digest, body FROM sessions")? {
            let session = decode("sessions", row.get(1))?;
            out(Record::Session {
                digest: row.get(0),
                session,
            })?;
        }
        for row in rows("SELECT digest, body FROM api_tokens")? {
            let token = decode("api_tokens", row.get(1))?;
            out(Record::ApiToken {
                digest: row.get(0),
                token,
            })?;
        }
        for row in rows("SELECT meta, bytes FROM attachments ORDER BY id")? {
            out(Record::Attachment {
                meta: decode("attachments", row.get(0))?,
                bytes: row.get(1),
            })?;
        }
        for row in rows("SELECT customer, body FROM email_threads")? {
            let thread = decode("email_threads", row.get(1))?;
            out(Record::EmailThread {
                customer: customer(row.get(0))?,
                thread,
            })?;
        }
        for row in rows("SELECT customer, body FROM contacts")? {
            let contact = decode("contacts", row.get(1))?;
            out(Record::Contact {
                customer: customer(row.get(0))?,
                contact,
            })?;
        }
        for row in rows("SELECT mailbox, body FROM mailbox_marks")? {
            let mark = decode("mailbox_marks", row.get(1))?;
            out(Record::MailboxMark {
                mailbox: row.get(0),
                mark,
            })?;
        }
        if let Some(key) = self.meta_value("server_key")? {
            out(Record::ServerKey(key))?;
        }
        if let Some(canned) = crate::store::Accounts::canned(self)? {
            out(Record::Canned(canned))?;
        }
        Ok(())
    }

    /// `table`'s rows in order of `key` (a bigint, or text for conversations), a page
    /// at a time; `record` gets the row (its `columns`) and the key as a seq.
    fn pages(
        &self,
        table: &str,
        key: &str,
        columns: &str,
        out: &mut dyn FnMut(Record) -> Result<()>,
        record: impl Fn(&tokio_postgres::Row, u64) -> Result<Record>,
    ) -> Result<()> {
        let text_key = key == "customer";
        let (mut after_seq, mut after_text) = (-1_i64, String::new());
        loop {
            let sql = format!(
                "SELECT {columns}, {key} FROM {table} WHERE {key} > $1 ORDER BY {key} LIMIT {PAGE}"
            );
            let after: &(dyn ToSql + Sync) = if text_key { &after_text } else { &after_seq };
            let rows = self
                .pool
                .run(async |c| Ok(c.query(&sql, &[after]).await?))?;
            let last = rows.len() as i64 == PAGE;
            for row in &rows {
                let at = row.len() - 1;
                if text_key {
                    after_text = row.get(at);
                    out(record(row, 0)?)?;
                } else {
                    after_seq = row.get(at);
                    out(record(row, after_seq as u64)?)?;
                }
            }
            if !last {
                return Ok(());
            }
        }
    }

    pub(in crate::store) fn load(&self, records: &[Record]) -> Result<()> {
        self.pool.run(async |c| {
            let tx = c.transaction().await?;
            for record in records {
                load_one(&tx, record).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    pub(in crate::store) fn finish_load(&self, max_seq: u64, max_ticket: u64) -> Result<()> {
        self.pool.run(async |c| {
            // setval needs at least 1; `false`: the next value is this one.
            c.execute(
                "SELECT setval('seqs', greatest($1, (SELECT last_value FROM seqs)), true)",
                &[&(max_seq.max(1) as i64)],
            )
            .await?;
            c.execute(
                "SELECT setval('ticket_ids', greatest($1, (SELECT last_value FROM ticket_ids)), true)",
                &[&(max_ticket.max(1) as i64)],
            )
            .await?;
            Ok(())
        })
    }
}

async fn load_one(c: &impl GenericClient, record: &Record) -> Result<()> {
    let (sql, params): (&str, Vec<Box<dyn ToSql + Sync + Send + '_>>) = match record {
        Record::Conversation(conv) => (
            "INSERT INTO conversations (customer, version, body) VALUES ($1, $2, $3)",
            vec![
                Box::new(conv.customer.as_str()),
                Box::new(conv.version as i64),
                Box::new(json(conv)),
            ],
        ),
        Record::Message {
            customer,
            seq,
            line,
        } => seq_row("messages", customer, *seq, json(line)),
        Record::Dedupe {
            customer,
            message_id,
            seq,
        } => (
            "INSERT INTO dedupe (customer, message_id, seq) VALUES ($1, $2, $3)",
            vec![
                Box::new(customer.as_str()),
                Box::new(message_id.as_str()),
                Box::new(*seq as i64),
            ],
        ),
        Record::Ticket(ticket) => return super::turn::insert_ticket(c, ticket).await,
        Record::Outbox { seq, out } => (
            "INSERT INTO outbox (seq, customer, channel, body) VALUES ($1, $2, $3, $4)",
            vec![
                Box::new(*seq as i64),
                Box::new(out.customer.as_str()),
                Box::new(super::channel_of(&out.customer)),
                Box::new(json(out)),
            ],
        ),
        Record::Failed {
            customer,
            seq,
            failed,
        } => seq_row("failed", customer, *seq, json(failed)),
        Record::Event { seq, event } => {
            return super::reads::insert_event(c, *seq as i64, event).await;
        }
        Record::Status {
            customer,
            seq,
            status,
        } => seq_row("statuses", customer, *seq, json(status)),
        Record::Note {
            customer,
            seq,
            note,
        } => seq_row("notes", customer, *seq, json(note)),
        other => return load_small(c, other).await,
    };
    let params: Vec<&(dyn ToSql + Sync)> = params
        .iter()
        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
        .collect();
    c.execute(sql, &params).await?;
    Ok(())
}

type Row<'a> = (&'static str, Vec<Box<dyn ToSql + Sync + Send + 'a>>);

fn seq_row<'a>(
    table: &'static str,
    customer: &'a CustomerId,
    seq: u64,
    body: tokio_postgres::types::Json<serde_json::Value>,
) -> Row<'a> {
    let sql = match table {
        "messages" => "INSERT INTO messages (seq, customer, body) VALUES ($1, $2, $3)",
        "failed" => "INSERT INTO failed (seq, customer, body) VALUES ($1, $2, $3)",
        "statuses" => "INSERT INTO statuses (seq, customer, body) VALUES ($1, $2, $3)",
        _ => "INSERT INTO notes (seq, customer, body) VALUES ($1, $2, $3)",
    };
    (
        sql,
        vec![
            Box::new(seq as i64),
            Box::new(customer.as_str()),
            Box::new(body),
        ],
    )
}

/// The records of the tables without a seq.
async fn load_small(c: &impl GenericClient, record: &Record) -> Result<()> {
    match record {
        Record::Unreachable { customer, why } => {
            super::channel::upsert_in(c, "unreachable", customer, &json(why)).await
        }
        Record::Held { customer, held } => {
            super::channel::upsert_in(c, "held", customer, &json(held)).await
        }
        Record::EmailThread { customer, thread } => {
            super::channel::upsert_in(c, "email_threads", customer, &json(thread)).await
        }
        Record::Contact { customer, contact } => {
            super::channel::upsert_in(c, "contacts", customer, &json(contact)).await
        }
        Record::Operator(op) => {
            execute(
                c,
                "INSERT INTO operators (name, body) VALUES ($1, $2)",
                &[&op.name, &json(op)],
            )
            .await
        }
        Record::Session { digest, session } => {
            execute(
                c,
                "INSERT INTO sessions (digest, operator, expires_at, body) VALUES ($1, $2, $3, $4)",
                &[
                    digest,
                    &session.operator,
                    &session.expires_at,
                    &json(session),
                ],
            )
            .await
        }
        Record::ApiToken { digest, token } => {
            execute(
                c,
                "INSERT INTO api_tokens (digest, operator, body) VALUES ($1, $2, $3)",
                &[digest, &token.operator, &json(token)],
            )
            .await
        }
        Record::Attachment { meta, bytes } => {
            execute(
                c,
                "INSERT INTO attachments (id, customer, meta, bytes) VALUES ($1, $2, $3, $4)",
                &[&meta.id, &meta.customer.as_str(), &json(meta), bytes],
            )
            .await
        }
        Record::MailboxMark { mailbox, mark } => {
            execute(
                c,
                "INSERT INTO mailbox_marks (mailbox, body) VALUES ($1, $2)",
                &[mailbox, &json(mark)],
            )
            .await
        }
        Record::ServerKey(key) => {
            execute(
                c,
                "INSERT INTO meta (key, value) VALUES ('server_key', $1)",
                &[key],
            )
            .await
        }
        Record::Canned(canned) => {
            let value = serde_json::to_string(canned).expect("canned replies serialise");
            execute(
                c,
                "INSERT INTO meta (key, value) VALUES ('canned', $1)",
                &[&value],
            )
            .await
        }
        _ => unreachable!("load_one writes the records with a seq"),
    }
}

async fn execute(c: &impl GenericClient, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<()> {
    c.execute(sql, params).await?;
    Ok(())
}

fn customer(id: String) -> Result<CustomerId> {
    CustomerId::parse(&id).map_err(|_| StoreError::Damaged {
        dir: std::path::PathBuf::new(),
        what: format!("a row names no customer: {id:?}"),
    })
}
