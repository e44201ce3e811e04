//! What channels need: the outbox and what became of its entries (failed, held,
//! unreachable, providers' reports), email threading, contacts, mailbox marks and
//! uploaded files.

use super::{PgStore, decode, json, outbox_seq};
use crate::domain::{ChannelKind, CustomerId, Outbound};
use crate::store::{
    AttachmentMeta, ChannelState, Contact, DeliveryStatus, EmailThread, FailedOutbound, Held,
    MailboxMark, Outbox, Result, Unreachable,
};
use chrono::{DateTime, Utc};

impl Outbox for PgStore {
    fn outbox_customers(&self, kind: ChannelKind) -> Result<Vec<CustomerId>> {
        let ids: Vec<String> = self.pool.run(async |c| {
            Ok(c.query(
                "SELECT customer FROM outbox WHERE channel = $1 GROUP BY customer ORDER BY customer COLLATE \"C\"",
                &[&kind.as_str()],
            )
            .await?
            .into_iter()
            .map(|row| row.get(0))
            .collect())
        })?;
        Ok(ids
            .iter()
            .filter_map(|id| CustomerId::parse(id).ok())
            .collect())
    }

    fn pending_outbox(&self, customer: &CustomerId) -> Result<Vec<(Vec<u8>, Outbound)>> {
        self.pool.run(async |c| {
            c.query(
                "SELECT seq, body FROM outbox WHERE customer = $1 ORDER BY seq",
                &[&customer.as_str()],
            )
            .await?
            .into_iter()
            .map(|row| {
                let seq: i64 = row.get(0);
                Ok((seq.to_be_bytes().to_vec(), decode("outbox", row.get(1))?))
            })
            .collect()
        })
    }

    fn ack_outbox(&self, key: &[u8]) -> Result<()> {
        self.execute("DELETE FROM outbox WHERE seq = $1", &[&outbox_seq(key)])?;
        Ok(())
    }

    /// Moved from the outbox to `failed` in one transaction; false if it was gone.
    fn fail_outbox(&self, key: &[u8], reason: &str, at: DateTime<Utc>) -> Result<bool> {
        self.pool.run(async |c| {
            let tx = c.transaction().await?;
            let Some(row) = tx
                .query_opt(
                    "DELETE FROM outbox WHERE seq = $1 RETURNING customer, body",
                    &[&outbox_seq(key)],
                )
                .await?
            else {
                return Ok(false);
            };
            let customer: String = row.get(0);
            let failed = FailedOutbound {
                outbound: decode("outbox", row.get(1))?,
                reason: reason.to_owned(),
                at,
            };
            tx.execute(
                "INSERT INTO failed (seq, customer, body) VALUES ($1, $2, $3)",
                &[&outbox_seq(key), &customer, &json(&failed)],
            )
            .await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    fn failed_outbox(&self, customer: &CustomerId) -> Result<Vec<FailedOutbound>> {
        self.bodies(
            "failed",
            "SELECT body FROM failed WHERE customer = $1 ORDER BY seq",
            &[&customer.as_str()],
        )
    }

    fn mark_unreachable(&self, customer: &CustomerId, why: &Unreachable) -> Result<()> {
        self.upsert("unreachable", customer, &json(why))
    }

    fn clear_unreachable(&self, customer: &CustomerId) -> Result<()> {
        self.execute(
            "DELETE FROM unreachable WHERE customer = $1",
            &[&customer.as_str()],
        )?;
        Ok(())
    }

    fn unreachable(&self, customer: &CustomerId) -> Result<Option<Unreachable>> {
        self.by_customer("unreachable", customer)
    }

    fn hold(&self, customer: &CustomerId, why: &Held) -> Result<()> {
        self.upsert("held", customer, &json(why))
    }

    /// Under the row's lock: a customer released meanwhile stays released.
    fn template_sent(&self, customer: &CustomerId, reason: &str) -> Result<bool> {
        self.pool.run(async |c| {
            let tx = c.transaction().await?;
            let Some(row) = tx
                .query_opt(
                    "SELECT body FROM held WHERE customer = $1 FOR UPDATE",
                    &[&customer.as_str()],
                )
                .await?
            else {
                return Ok(false);
            };
            // A record that does not decode is left as it is (`verify` reports it), as
            // on sled.
            let Ok(mut held) = decode::<Held>("held", row.get(0)) else {
                return Ok(false);
            };
            held.template_sent = true;
            held.reason = reason.to_owned();
            upsert_in(&tx, "held", customer, &json(&held)).await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    fn held(&self, customer: &CustomerId) -> Result<Option<Held>> {
        self.by_customer("held", customer)
    }

    fn release(&self, customer: &CustomerId) -> Result<()> {
        self.execute(
            "DELETE FROM held WHERE customer = $1",
            &[&customer.as_str()],
        )?;
        Ok(())
    }

    fn record_status(&self, customer: &CustomerId, status: &DeliveryStatus) -> Result<()> {
        self.pool.run(async |c| {
            let seq = PgStore::next_seq(c).await? as i64;
            c.execute(
                "INSERT INTO statuses (seq, customer, body) VALUES ($1, $2, $3)",
                &[&seq, &customer.as_str(), &json(status)],
            )
            .await?;
            Ok(())
        })
    }

    fn statuses(&self, customer: &CustomerId) -> Result<Vec<DeliveryStatus>> {
        self.bodies(
            "statuses",
            "SELECT body FROM statuses WHERE customer = $1 ORDER BY seq",
            &[&customer.as_str()],
        )
    }

    /// Taken if free, run out (the server's clock decides, not ours), or held by a
    /// process that is gone (its presence lock is free: `presence.rs`); renewed if
    /// ours. Only while this process's presence lock is held, by the server's account
    /// too (a lock it freed while this process had not noticed yet takes nothing).
    fn lease_outbox(&self, customer: &CustomerId) -> Result<bool> {
        if !self.present()? {
            return Ok(false);
        }
        let taken = self.execute(
            &format!(
                "INSERT INTO outbox_leases (customer, holder, until)
                 SELECT $1, $2, now() + make_interval(secs => $3)
                 WHERE NOT pg_try_advisory_xact_lock({ours})
                 ON CONFLICT (customer) DO UPDATE SET holder = excluded.holder, until = excluded.until
                 WHERE outbox_leases.until < now()
                    OR outbox_leases.holder = excluded.holder
                    OR (outbox_leases.holder <> excluded.holder
                        AND starts_with(outbox_leases.holder, '{mark}')
                        AND pg_try_advisory_xact_lock({theirs}))",
                ours = super::presence::key_of("$2::text"),
                theirs = super::presence::key_of("outbox_leases.holder"),
                mark = super::presence::MARK,
            ),
            &[
                &customer.as_str(),
                &self.instance.as_str(),
                &crate::store::OUTBOX_LEASE.as_secs_f64(),
            ],
        )?;
        Ok(taken == 1)
    }

    fn end_outbox_lease(&self, customer: &CustomerId) -> Result<()> {
        self.execute(
            "DELETE FROM outbox_leases WHERE customer = $1 AND holder = $2",
            &[&customer.as_str(), &self.instance.as_str()],
        )?;
        Ok(())
    }
}

impl ChannelState for PgStore {
    fn mailbox_mark(&self, mailbox: &str) -> Result<Option<MailboxMark>> {
        Ok(self
            .bodies(
                "mailbox_marks",
                "SELECT body FROM mailbox_marks WHERE mailbox = $1",
                &[&mailbox],
            )?
            .pop())
    }

    /// Never back within one UIDVALIDITY: two instances reading the mailbox may write
    /// their marks in either order, and the later write of the lower one must not make
    /// both read again what was read.
    fn set_mailbox_mark(&self, mailbox: &str, mark: MailboxMark) -> Result<()> {
        self.execute(
            "INSERT INTO mailbox_marks (mailbox, body) VALUES ($1, $2)
             ON CONFLICT (mailbox) DO UPDATE SET body = excluded.body
             WHERE (mailbox_marks.body->>'uid_validity') <> (excluded.body->>'uid_validity')
                OR (mailbox_marks.body->>'last_uid')::bigint < (excluded.body->>'last_uid')::bigint",
            &[&mailbox, &json(&mark)],
        )?;
        Ok(())
    }

    fn email_thread(&self, customer: &CustomerId) -> Result<Option<EmailThread>> {
        self.by_customer("email_threads", customer)
    }

    /// Read under a row lock and written in one transaction (the reader and the
    /// sender, maybe on two instances, both change it).
    fn update_email_thread(
        &self,
        customer: &CustomerId,
        change: &dyn Fn(&mut EmailThread),
    ) -> Result<()> {
        self.pool.run(async |c| {
            let tx = c.transaction().await?;
            lock_customer(&tx, "email_threads", customer).await?;
            let row = tx
                .query_opt(
                    "SELECT body FROM email_threads WHERE customer = $1",
                    &[&customer.as_str()],
                )
                .await?;
            let mut thread: EmailThread = match row {
                Some(row) => decode("email_threads", row.get(0))?,
                None => EmailThread::default(),
            };
            change(&mut thread);
            upsert_in(&tx, "email_threads", customer, &json(&thread)).await?;
            tx.commit().await?;
            Ok(())
        })
    }

    fn contact(&self, customer: &CustomerId) -> Result<Option<Contact>> {
        self.by_customer("contacts", customer)
    }

    fn update_contact(
        &self,
        customer: &CustomerId,
        change: &dyn Fn(Option<Contact>) -> Option<Contact>,
    ) -> Result<()> {
        self.pool.run(async |c| {
            let tx = c.transaction().await?;
            lock_customer(&tx, "contacts", customer).await?;
            let row = tx
                .query_opt(
                    "SELECT body FROM contacts WHERE customer = $1",
                    &[&customer.as_str()],
                )
                .await?;
            // A record that does not decode counts as none, as on sled.
            let before = row.and_then(|r| decode::<Contact>("contacts", r.get(0)).ok());
            match change(before) {
                Some(contact) => upsert_in(&tx, "contacts", customer, &json(&contact)).await?,
                None => {
                    tx.execute(
                        "DELETE FROM contacts WHERE customer = $1",
                        &[&customer.as_str()],
                    )
                    .await?;
                }
            }
            tx.commit().await?;
            Ok(())
        })
    }

    fn put_attachment(&self, meta: &AttachmentMeta, bytes: &[u8]) -> Result<()> {
        self.execute(
            "INSERT INTO attachments (id, customer, meta, bytes) VALUES ($1, $2, $3, $4)
             ON CONFLICT (id) DO UPDATE SET meta = excluded.meta, bytes = excluded.bytes",
            &[&meta.id, &meta.customer.as_str(), &json(meta), &bytes],
        )?;
        Ok(())
    }

    fn attachment(&self, id: &str) -> Result<Option<(AttachmentMeta, Vec<u8>)>> {
        self.pool.run(async |c| {
            let Some(row) = c
                .query_opt("SELECT meta, bytes FROM attachments WHERE id = $1", &[&id])
                .await?
            else {
                return Ok(None);
            };
            Ok(Some((decode("attachments", row.get(0))?, row.get(1))))
        })
    }
}

impl PgStore {
    /// The `body` of `table`'s row for `customer`.
    fn by_customer<T: serde::de::DeserializeOwned>(
        &self,
        table: &'static str,
        customer: &CustomerId,
    ) -> Result<Option<T>> {
        Ok(self
            .bodies(
                table,
                &format!("SELECT body FROM {table} WHERE customer = $1"),
                &[&customer.as_str()],
            )?
            .pop())
    }

    fn upsert(
        &self,
        table: &'static str,
        customer: &CustomerId,
        body: &(dyn tokio_postgres::types::ToSql + Sync),
    ) -> Result<()> {
        self.pool
            .run(async |c| upsert_in(&*c, table, customer, body).await)
    }
}

/// Write `table`'s row for `customer` (one row per customer).
pub(super) async fn upsert_in(
    c: &impl tokio_postgres::GenericClient,
    table: &'static str,
    customer: &CustomerId,
    body: &(dyn tokio_postgres::types::ToSql + Sync),
) -> Result<()> {
    c.execute(
        &format!(
            "INSERT INTO {table} (customer, body) VALUES ($1, $2)
             ON CONFLICT (customer) DO UPDATE SET body = excluded.body"
        ),
        &[&customer.as_str(), body],
    )
    .await?;
    Ok(())
}

/// Serialise read-modify-writes of one customer's row in `table`, whether the row
/// exists yet or not (a transaction-scoped advisory lock on the pair).
async fn lock_customer(
    tx: &tokio_postgres::Transaction<'_>,
    table: &str,
    customer: &CustomerId,
) -> Result<()> {
    tx.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
        &[&format!("{table}:{}", customer.as_str())],
    )
    .await?;
    Ok(())
}
