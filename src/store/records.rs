//! What the store keeps, whatever the backend: the records that cross the seam
//! (transcript lines, delivery state, email threads, notes, attachments) and [`Turn`],
//! the one atomic write of a customer message or an operator action.

use crate::domain::{
    Author, Conversation, CustomerId, Event, Inbound, Outbound, OutboundKind, Ticket, Verdict,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One line of a conversation's transcript.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredMessage {
    #[serde(with = "crate::domain::instant")]
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
            at: inbound.written_at(),
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

/// A reply the channel gave up on, kept for the operator side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailedOutbound {
    pub outbound: Outbound,
    pub reason: String,
    #[serde(with = "crate::domain::instant")]
    pub at: DateTime<Utc>,
}

/// Replies that wait for the customer to write again: the channel may not send them
/// now (outside WhatsApp's 24-hour window). They stay in the outbox, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Held {
    pub reason: String,
    #[serde(with = "crate::domain::instant")]
    pub since: DateTime<Utc>,
    /// The channel's request to write back (a template) went out.
    pub template_sent: bool,
}

/// A provider's report on a message it took (WhatsApp: sent, delivered, read, failed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryStatus {
    /// The provider's id of the message (a `wamid`).
    pub message_id: String,
    pub status: String,
    #[serde(with = "crate::domain::instant")]
    pub at: DateTime<Utc>,
    /// For `failed`: the provider's code and title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Why a customer cannot be written to (e.g. they blocked the bot).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unreachable {
    pub reason: String,
    #[serde(with = "crate::domain::instant")]
    pub since: DateTime<Utc>,
}

/// A web-chat customer's address for replies they miss.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    /// Lowercased, checked.
    pub email: String,
    #[serde(with = "crate::domain::instant")]
    pub since: DateTime<Utc>,
    /// Operator replies up to this instant went by email too.
    #[serde(default, with = "crate::domain::instant::option")]
    pub followed_up: Option<DateTime<Utc>>,
}

/// How many message ids `References` carries (the first and the latest ones).
const MAX_REFERENCES: usize = 20;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EmailThread {
    /// The subject of the customer's latest mail.
    pub subject: String,
    /// The customer's latest mail, which the next reply answers.
    pub last: String,
    /// The thread's message ids, oldest first, without angle brackets.
    pub references: Vec<String>,
}

impl EmailThread {
    /// Add ids at the end (each once), keeping the first and the latest.
    pub fn extend(&mut self, ids: impl IntoIterator<Item = String>) {
        for id in ids {
            if !id.is_empty() && !self.references.contains(&id) {
                self.references.push(id);
            }
        }
        if self.references.len() > MAX_REFERENCES {
            let extra = self.references.len() - MAX_REFERENCES;
            self.references.drain(1..=extra);
        }
    }
}

/// How far the mailbox was read: the last mail stored, by its IMAP UID, valid while
/// the folder keeps its UIDVALIDITY.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxMark {
    pub uid_validity: u32,
    pub last_uid: u32,
}

/// What is known of a stored file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttachmentMeta {
    pub id: String,
    pub customer: CustomerId,
    /// The name the customer's file had (shown, never trusted as a path).
    pub filename: String,
    /// Sniffed from the bytes, from an allow-list.
    pub content_type: String,
    pub size: usize,
    #[serde(with = "crate::domain::instant")]
    pub at: DateTime<Utc>,
}

/// An operator's note on a customer: never shown to the customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Note {
    #[serde(with = "crate::domain::instant")]
    pub at: DateTime<Utc>,
    pub operator: String,
    pub text: String,
}

/// What one turn writes. A turn always carries its conversation (every write of a
/// customer's messages goes through it, so their order is the commit order).
///
/// Optimistic concurrency: the conversation and each ticket carry the `version` they
/// were read at (0: not stored yet). If a stored version moved on (another thread or
/// process committed first), nothing is written and the commit fails with
/// [`StoreError::Conflict`], so the caller reads and decides again. Each write bumps
/// the version; nothing compares record bytes, so a field added with `#[serde(default)]`
/// never makes a turn conflict with itself.
#[derive(Debug)]
pub struct Turn {
    pub conversation: Conversation,
    pub inbound: Option<Inbound>,
    pub tickets: Vec<Ticket>,
    /// Messages for the customer: logged in the transcript and queued in the outbox.
    pub outbound: Vec<(Author, Outbound)>,
    /// What happened, for reports and the editors' gap list.
    pub events: Vec<Event>,
}

impl Turn {
    pub fn new(conversation: Conversation) -> Self {
        Turn {
            conversation,
            inbound: None,
            tickets: Vec::new(),
            outbound: Vec::new(),
            events: Vec::new(),
        }
    }

    /// The bot's verdict on the customer's message (its line in the transcript carries
    /// it).
    pub fn inbound_verdict(&self) -> Option<crate::domain::Verdict> {
        let inbound = self.inbound.as_ref()?;
        self.events
            .iter()
            .filter(|e| e.customer == inbound.customer)
            .find_map(|e| e.kind.verdict())
    }
}

/// What forgetting removed, for the operator who asked.
#[derive(Debug, Default, Serialize)]
pub struct Forgotten {
    pub messages: usize,
    pub notes: usize,
    pub tickets_anonymised: usize,
    pub events_anonymised: usize,
    /// The id their anonymous counts now carry.
    pub anonymous_id: String,
}

/// The id `customer`'s tickets and events are kept under once forgotten: `forgotten:`,
/// the channel they wrote on (what the report counts them under) and 16 random hex
/// digits.
pub(super) fn anonymous_id(customer: &CustomerId) -> CustomerId {
    let raw = crate::accounts::new_secret();
    let channel = customer.channel();
    CustomerId::parse(&format!("forgotten:{channel}.{}", &raw[..16]))
        .expect("a channel of lowercase letters and hex make a valid id")
}

/// A forgotten customer's ticket as the KPIs keep it: under `anon`, without texts; an
/// open one cancelled. Whether it was open.
pub(super) fn anonymise_ticket(ticket: &mut Ticket, anon: &CustomerId) -> bool {
    ticket.customer = anon.clone();
    ticket.summary.clear();
    ticket.order_number = None;
    ticket.promise = None;
    let open = ticket.is_open();
    if open {
        ticket.status = crate::domain::TicketStatus::Cancelled;
    }
    open
}

/// A forgotten customer's event as the KPIs keep it: under `anon`, without texts.
pub(super) fn anonymise_event(event: &mut Event, anon: &CustomerId) {
    event.customer = anon.clone();
    match &mut event.kind {
        crate::domain::EventKind::Decided { text, .. } => text.clear(),
        crate::domain::EventKind::SurveyAnswered { comment, .. } => *comment = None,
        _ => {}
    }
}
