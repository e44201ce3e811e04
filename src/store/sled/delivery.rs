//! What channels need to deliver the outbox: every pending message of a channel, and
//! what to do with one that cannot be delivered (give up on it, visibly), with a
//! customer who cannot be reached any more, or with one whose replies must wait until
//! they write again (held: outside WhatsApp's 24-hour window). Also the providers'
//! delivery reports (WhatsApp `statuses`).

use super::{
    DeliveryStatus, FailedOutbound, Held, Result, SledStore, Unreachable, customer_key, decode,
    encode,
};
use crate::domain::{ChannelKind, CustomerId};
use chrono::{DateTime, Utc};
use sled::Transactional;

impl SledStore {
    /// The customers of channel `kind` who have undelivered messages. Reads keys only;
    /// `pending_outbox` reads a customer's.
    pub fn outbox_customers(&self, kind: ChannelKind) -> Result<Vec<CustomerId>> {
        let prefix = format!("{}:", kind.as_str());
        let mut customers: Vec<CustomerId> = Vec::new();
        for key in self.outbox.scan_prefix(prefix.as_bytes()).keys() {
            let key = key?;
            let id = key.split(|&b| b == 0).next().unwrap_or_default();
            if customers
                .last()
                .is_some_and(|c| c.as_str().as_bytes() == id)
            {
                continue;
            }
            if let Ok(customer) = std::str::from_utf8(id).map(CustomerId::parse) {
                customers.extend(customer.ok());
            }
        }
        Ok(customers)
    }

    /// Move an outbox entry to `failed`, with the reason, atomically.
    pub fn fail_outbox(&self, key: &[u8], reason: &str, at: DateTime<Utc>) -> Result<bool> {
        let Some(value) = self.outbox.get(key)? else {
            return Ok(false);
        };
        let failed = FailedOutbound {
            outbound: decode("outbox", &value)?,
            reason: reason.to_owned(),
            at,
        };
        (&self.outbox, &self.failed)
            .transaction(|(outbox, failed_tree)| {
                outbox.remove(key)?;
                failed_tree.insert(key, encode(&failed))?;
                Ok(())
            })
            .map_err(|e: sled::transaction::TransactionError<()>| match e {
                sled::transaction::TransactionError::Storage(e) => e,
                sled::transaction::TransactionError::Abort(()) => {
                    unreachable!("the transaction never aborts")
                }
            })?;
        Ok(true)
    }

    /// Replies given up on for `customer`, oldest first.
    pub fn failed_outbox(&self, customer: &CustomerId) -> Result<Vec<FailedOutbound>> {
        self.failed
            .scan_prefix(customer_key(customer, &[]))
            .values()
            .map(|v| decode("failed", &v?))
            .collect()
    }

    pub fn mark_unreachable(&self, customer: &CustomerId, why: &Unreachable) -> Result<()> {
        self.unreachable.insert(customer.as_str(), encode(why))?;
        Ok(())
    }

    /// The customer wrote again: they can be reached.
    pub fn clear_unreachable(&self, customer: &CustomerId) -> Result<()> {
        self.unreachable.remove(customer.as_str())?;
        Ok(())
    }

    pub fn unreachable(&self, customer: &CustomerId) -> Result<Option<Unreachable>> {
        self.unreachable
            .get(customer.as_str())?
            .map(|v| decode("unreachable", &v))
            .transpose()
    }

    /// Keep the customer's replies in the outbox until they write again.
    pub fn hold(&self, customer: &CustomerId, why: &Held) -> Result<()> {
        self.held.insert(customer.as_str(), encode(why))?;
        Ok(())
    }

    /// The template went out for a customer still held: say so (true). A customer who
    /// wrote meanwhile was released, and stays so (false).
    pub fn template_sent(&self, customer: &CustomerId, reason: &str) -> Result<bool> {
        let mut updated = false;
        self.held.fetch_and_update(customer.as_str(), |old| {
            let old = old?;
            // A record that does not decode is left as it is (`verify` reports it).
            let Ok(mut held) = decode::<Held>("held", old) else {
                return Some(old.to_vec());
            };
            held.template_sent = true;
            held.reason = reason.to_owned();
            updated = true;
            Some(encode(&held))
        })?;
        Ok(updated)
    }

    pub fn held(&self, customer: &CustomerId) -> Result<Option<Held>> {
        self.held
            .get(customer.as_str())?
            .map(|v| decode("held", &v))
            .transpose()
    }

    /// The customer wrote: their waiting replies may go.
    pub fn release(&self, customer: &CustomerId) -> Result<()> {
        self.held.remove(customer.as_str())?;
        Ok(())
    }

    /// Record a provider's delivery report.
    pub fn record_status(&self, customer: &CustomerId, status: &DeliveryStatus) -> Result<()> {
        let seq = self.next_seq()?.to_be_bytes();
        self.statuses
            .insert(customer_key(customer, &seq), encode(status))?;
        Ok(())
    }

    /// The customer's delivery reports, oldest first.
    pub fn statuses(&self, customer: &CustomerId) -> Result<Vec<DeliveryStatus>> {
        self.statuses
            .scan_prefix(super::customer_prefix(customer))
            .values()
            .map(|v| decode("statuses", &v?))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_sent_after_the_customer_wrote_does_not_hold_their_replies_again() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        let who = CustomerId::parse("whatsapp:393332000001").unwrap();
        let waiting = Held {
            reason: "waiting".into(),
            since: Utc::now(),
            template_sent: false,
        };
        store.hold(&who, &waiting).unwrap();
        assert!(store.template_sent(&who, "template").unwrap());
        let held = store.held(&who).unwrap().unwrap();
        assert!(held.template_sent);
        assert_eq!(held.reason, "template");
        // The customer answered before the template was recorded as sent: released.
        store.release(&who).unwrap();
        assert!(!store.template_sent(&who, "template").unwrap());
        assert!(store.held(&who).unwrap().is_none());
    }
}
