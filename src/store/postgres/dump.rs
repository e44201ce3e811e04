//! The dumping side of `store copy` on PostgreSQL: every table read out as
//! [`Record`]s, in pages, so a big store is never held whole (`load.rs` writes them).

use super::{PgStore, decode};
use crate::domain::CustomerId;
use crate::store::copy::Record;
use crate::store::{Result, StoreError};
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
}

fn customer(id: String) -> Result<CustomerId> {
    CustomerId::parse(&id).map_err(|_| StoreError::Damaged {
        dir: std::path::PathBuf::new(),
        what: format!("a row names no customer: {id:?}"),
    })
}
