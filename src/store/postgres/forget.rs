//! Forgetting a customer on PostgreSQL: in one transaction, every row that is theirs
//! deleted, and their tickets and events kept for the KPIs under a random anonymous id
//! without texts (the rules of `records.rs`, as on sled); then the tables vacuumed so
//! the deleted rows' space is reused. What the server's WAL, replicas and backups
//! still hold is the operator's to rotate (README, "Storage").

use super::{PgStore, decode, json};
use crate::domain::{CustomerId, Event, Ticket};
use crate::store::records::{anonymise_event, anonymise_ticket, anonymous_id};
use crate::store::{Forgotten, Result};

/// The tables keyed by customer whose rows are simply deleted.
const DELETED: [&str; 14] = [
    "messages",
    "notes",
    "dedupe",
    "outbox",
    "failed",
    "statuses",
    "conversations",
    "unreachable",
    "held",
    "email_threads",
    "contacts",
    "attachments",
    "outbox_leases",
    "flood_buckets",
];

impl PgStore {
    pub(in crate::store) fn forget(&self, customer: &CustomerId) -> Result<Forgotten> {
        let anon = anonymous_id(customer);
        let who = customer.as_str();
        let done = self.pool.run(async |c| {
            let tx = c.transaction().await?;
            let mut done = Forgotten {
                anonymous_id: anon.as_str().to_owned(),
                ..Forgotten::default()
            };
            // The conversation first, as a turn takes it (then its tickets): a message
            // arriving meanwhile waits instead of deadlocking.
            tx.execute(
                "SELECT 1 FROM conversations WHERE customer = $1 FOR UPDATE",
                &[&who],
            )
            .await?;
            let tickets = tx
                .query(
                    "SELECT body FROM tickets WHERE customer = $1 ORDER BY id FOR UPDATE",
                    &[&who],
                )
                .await?;
            for row in tickets {
                let mut ticket: Ticket = decode("tickets", row.get(0))?;
                anonymise_ticket(&mut ticket, &anon);
                // Its version moves on, in the record as in the column turns check.
                ticket.version = ticket.version.wrapping_add(1);
                tx.execute(
                    "UPDATE tickets SET customer = $2, open = false, queued = false,
                            version = $4, body = $3 WHERE id = $1",
                    &[
                        &(ticket.id.0 as i64),
                        &anon.as_str(),
                        &json(&ticket),
                        &(ticket.version as i64),
                    ],
                )
                .await?;
                done.tickets_anonymised += 1;
            }
            let events = tx
                .query("SELECT seq, body FROM events WHERE customer = $1", &[&who])
                .await?;
            for row in events {
                let mut event: Event = decode("events", row.get(1))?;
                anonymise_event(&mut event, &anon);
                tx.execute(
                    "UPDATE events SET customer = $2, body = $3 WHERE seq = $1",
                    &[&row.get::<_, i64>(0), &anon.as_str(), &json(&event)],
                )
                .await?;
                done.events_anonymised += 1;
            }
            // Their web chat's and uploads' rate keys name them too.
            tx.execute("DELETE FROM rate_events WHERE strpos(key, $1) > 0", &[&who])
                .await?;
            for table in DELETED {
                let gone = tx
                    .execute(&format!("DELETE FROM {table} WHERE customer = $1"), &[&who])
                    .await? as usize;
                match table {
                    "messages" => done.messages = gone,
                    "notes" => done.notes = gone,
                    _ => {}
                }
            }
            tx.commit().await?;
            Ok(done)
        })?;
        // Not in a transaction (VACUUM cannot be): the space of the deleted rows is
        // marked for reuse.
        self.pool.run(async |c| {
            c.batch_execute(&format!("VACUUM tickets, events, {}", DELETED.join(", ")))
                .await?;
            Ok(())
        })?;
        Ok(done)
    }
}
