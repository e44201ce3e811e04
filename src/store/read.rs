//! Reads: conversations, transcripts, tickets and the queue, the outbox, events.

use super::{Result, Store, customer_key, customer_prefix, decode};
use crate::domain::{
    Author, Conversation, CustomerId, Event, Inbound, Outbound, OutboundKind, Ticket, TicketId,
    Verdict,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One line of a conversation's transcript.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredMessage {
    pub at: DateTime<Utc>,
    pub author: Author,
    pub text: String,
    /// For messages to the customer: what kind of reply it was.
    pub kind: Option<OutboundKind>,
    /// For customer messages the bot decided on: what it decided and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
    /// For Clarify messages: the labels of the choices offered.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
    /// The message as it came when `text` is only its new part (a whole mail).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original: Option<String>,
}

impl StoredMessage {
    pub fn inbound(inbound: &Inbound, verdict: Option<Verdict>) -> Self {
        Self {
            at: inbound.at,
            author: Author::Customer,
            text: inbound.text.clone(),
            kind: None,
            verdict,
            choices: Vec::new(),
            original: inbound.original.clone(),
        }
    }

    pub fn outbound(author: Author, out: &Outbound) -> Self {
        Self {
            at: out.at,
            author,
            text: out.text.clone(),
            kind: Some(out.kind),
            verdict: None,
            choices: out.choices.iter().map(|c| c.label.clone()).collect(),
            original: None,
        }
    }
}

impl Store {
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
