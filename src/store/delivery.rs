//! What channels need to deliver the outbox: every pending message of a channel, and
//! what to do with one that cannot be delivered (give up on it, visibly) or with a
//! customer who cannot be reached any more.

use super::{Result, Store, customer_key, decode, encode};
use crate::domain::{CustomerId, Outbound};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sled::Transactional;

/// A reply the channel gave up on, kept for the operator side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailedOutbound {
    pub outbound: Outbound,
    pub reason: String,
    pub at: DateTime<Utc>,
}

/// Why a customer cannot be written to (e.g. they blocked the bot).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unreachable {
    pub reason: String,
    pub since: DateTime<Utc>,
}

impl Store {
    /// The customers whose id starts with `prefix` (a channel, `telegram:`) and who
    /// have undelivered messages. Reads keys only; `pending_outbox` reads a customer's.
    pub fn outbox_customers(&self, prefix: &str) -> Result<Vec<CustomerId>> {
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
}
