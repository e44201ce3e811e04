//! The loading side of `store copy` on PostgreSQL: records written in one
//! transaction per batch, and the counters set above the copied ones after the last.

use super::{PgStore, json};
use crate::domain::CustomerId;
use crate::store::Result;
use crate::store::copy::Record;
use tokio_postgres::GenericClient;
use tokio_postgres::types::ToSql;

impl PgStore {
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

    pub(in crate::store) fn mark_copy(&self, unfinished: bool) -> Result<()> {
        self.pool.run(async |c| {
            if unfinished {
                c.execute(
                    "INSERT INTO meta (key, value) VALUES ('copy_unfinished', '')
                     ON CONFLICT (key) DO NOTHING",
                    &[],
                )
                .await?;
            } else {
                c.execute("DELETE FROM meta WHERE key = 'copy_unfinished'", &[])
                    .await?;
            }
            Ok(())
        })
    }

    pub(in crate::store) fn copy_unfinished(&self) -> Result<bool> {
        self.pool.run(async |c| {
            Ok(c.query_one(
                "SELECT EXISTS (SELECT 1 FROM meta WHERE key = 'copy_unfinished')",
                &[],
            )
            .await?
            .get(0))
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
            let seq = [*seq as i64];
            super::reads::insert_events_at(c, std::slice::from_ref(event), &seq).await?;
            return Ok(());
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
