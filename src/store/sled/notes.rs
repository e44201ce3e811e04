//! What the console reads beyond the queue: operators' private notes on a customer,
//! the transcript from a point on (with sequence numbers), and a customer's tickets.

use super::{Note, Result, SledStore, customer_key, customer_prefix, decode, encode};
use crate::domain::CustomerId;

impl SledStore {
    pub fn add_note(&self, customer: &CustomerId, note: &Note) -> Result<()> {
        let seq = self.next_seq()?;
        self.notes
            .insert(customer_key(customer, &seq.to_be_bytes()), encode(note))?;
        self.flush()
    }

    pub fn notes(&self, customer: &CustomerId) -> Result<Vec<Note>> {
        self.notes
            .scan_prefix(customer_prefix(customer))
            .values()
            .map(|v| decode("notes", &v?))
            .collect()
    }

    /// Transcript lines after `after` (a sequence number; 0 for all), with theirs.
    pub fn transcript_after(
        &self,
        customer: &CustomerId,
        after: u64,
    ) -> Result<Vec<(u64, super::StoredMessage)>> {
        let start = customer_key(customer, &after.saturating_add(1).to_be_bytes());
        let end = customer_key(customer, &u64::MAX.to_be_bytes());
        let mut lines = Vec::new();
        for kv in self.messages.range(start..=end) {
            let (k, v) = kv?;
            let seq = super::last_u64(&k);
            lines.push((seq, decode("messages", &v)?));
        }
        Ok(lines)
    }
}
