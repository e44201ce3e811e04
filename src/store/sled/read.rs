//! Reads: conversations, transcripts, tickets and the queue, the outbox, events.

use super::{Result, SledStore, StoredMessage, customer_key, customer_prefix, decode};
use crate::domain::{Conversation, CustomerId, Event, Outbound, Ticket, TicketId};

impl SledStore {
    pub fn conversation(&self, customer: &CustomerId) -> Result<Option<Conversation>> {
        if let Some(hot) = self.hot.get(customer) {
            return Ok(Some(hot));
        }
        let stored: Option<Conversation> = self
            .conversations
            .get(customer.as_str())?
            .map(|v| decode("conversations", &v))
            .transpose()?;
        if let Some(c) = &stored {
            self.hot.put(c);
        }
        Ok(stored)
    }

    pub fn conversations(&self) -> impl Iterator<Item = Result<Conversation>> + '_ {
        self.conversations
            .iter()
            .values()
            .map(|v| decode("conversations", &v?))
    }

    pub fn transcript(&self, customer: &CustomerId) -> Result<Vec<StoredMessage>> {
        self.messages
            .scan_prefix(customer_prefix(customer))
            .values()
            .map(|v| decode("messages", &v?))
            .collect()
    }

    pub fn ticket(&self, id: TicketId) -> Result<Option<Ticket>> {
        self.tickets
            .get(id.0.to_be_bytes())?
            .map(|v| decode("tickets", &v))
            .transpose()
    }

    pub fn tickets(&self) -> impl Iterator<Item = Result<Ticket>> + '_ {
        self.tickets.iter().values().map(|v| decode("tickets", &v?))
    }

    /// Open tickets in queue order: priority, then waiting time.
    pub fn queue(&self) -> Result<Vec<Ticket>> {
        let mut open = Vec::new();
        for key in self.open_tickets.iter().keys() {
            if let Some(v) = self.tickets.get(key?)? {
                open.push(decode::<Ticket>("tickets", &v)?);
            }
        }
        open.sort_by_key(Ticket::queue_key);
        Ok(open)
    }

    /// Messages for `customer` not yet delivered, oldest first, with their outbox keys.
    pub fn pending_outbox(&self, customer: &CustomerId) -> Result<Vec<(Vec<u8>, Outbound)>> {
        self.outbox
            .scan_prefix(customer_prefix(customer))
            .map(|kv| {
                let (k, v) = kv?;
                Ok((k.to_vec(), decode("outbox", &v)?))
            })
            .collect()
    }

    pub fn events(&self) -> impl Iterator<Item = Result<Event>> + '_ {
        self.events.iter().values().map(|v| decode("events", &v?))
    }

    /// Whether the provider message was already stored (a redelivery).
    pub fn seen(&self, customer: &CustomerId, message_id: &str) -> Result<bool> {
        Ok(self
            .dedupe
            .contains_key(customer_key(customer, message_id.as_bytes()))?)
    }
}
