//! Messages in and out of a channel, and the Clarify choices offered to a customer.

use super::{CustomerId, Lang};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A customer message as an adapter hands it to the service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inbound {
    pub customer: CustomerId,
    /// The provider's id for this message: a redelivery with the same id is dropped.
    pub message_id: String,
    pub text: String,
    /// When it reached the shop: the bot's care runs from here (a ticket opened, a
    /// promise counted, the opening hours read).
    #[serde(with = "crate::domain::instant")]
    pub at: DateTime<Utc>,
    /// When the channel says the customer wrote it, if it tells (WhatsApp's and
    /// Telegram's timestamps). Earlier than `at` when it came late (the bot was down,
    /// a webhook was retried): WhatsApp's 24-hour window, flood pacing, repeats and the
    /// transcript count from it, see [`Inbound::written_at`].
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::domain::instant::option"
    )]
    pub sent_at: Option<DateTime<Utc>>,
    /// The channel's locale for this customer, when it tells one.
    pub locale: Option<Lang>,
    pub name: Option<String>,
    /// A photo, file, voice note... the bot cannot read: `text` is then a typed
    /// reference to it (for the transcript and the operator side).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<Attachment>,
    /// The message as it came when `text` is only its new part (a mail without the
    /// quoted previous message and the signature): kept in the transcript.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original: Option<String>,
}

impl Inbound {
    /// When the customer wrote it: the channel's own time, never later than it arrived.
    pub fn written_at(&self) -> DateTime<Utc> {
        self.sent_at.map_or(self.at, |sent| sent.min(self.at))
    }
}

/// Something a customer sent that is not text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub kind: AttachmentKind,
    /// The provider's reference (a Telegram `file_id`, coordinates for a location).
    pub reference: String,
    pub caption: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttachmentKind {
    Photo,
    Document,
    Voice,
    Audio,
    Video,
    Sticker,
    Location,
    Contact,
    Other,
}

impl AttachmentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AttachmentKind::Photo => "photo",
            AttachmentKind::Document => "document",
            AttachmentKind::Voice => "voice",
            AttachmentKind::Audio => "audio",
            AttachmentKind::Video => "video",
            AttachmentKind::Sticker => "sticker",
            AttachmentKind::Location => "location",
            AttachmentKind::Contact => "contact",
            AttachmentKind::Other => "other",
        }
    }
}

impl Attachment {
    /// The typed reference kept as the message's text: `[photo AgAD...] caption`.
    pub fn reference_text(&self) -> String {
        match &self.caption {
            Some(c) => format!("[{} {}] {c}", self.kind.as_str(), self.reference),
            None => format!("[{} {}]", self.kind.as_str(), self.reference),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboundKind {
    /// An FAQ answer.
    Answer,
    /// "Did you mean": choices to pick from.
    Clarify,
    /// An intent's own text (greeting, thanks...).
    Reply,
    /// The bot could not match and asks to rephrase.
    Fallback,
    /// The conversation was handed to a person.
    Handoff,
    /// The customer took back the request for a person.
    Cancelled,
    /// Written by an operator.
    Operator,
    /// A satisfaction question (CSAT, NPS) or the thanks for an answer.
    Survey,
    /// While queued: the message reached the request, and where the customer stands.
    Waiting,
}

/// What a Clarify choice leads to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChoiceTarget {
    Faq(String),
    Human,
    /// A survey score button: its label is the score.
    Score(u8),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub label: String,
    pub target: ChoiceTarget,
}

/// Telegram's and WhatsApp's limit per message, in UTF-16 code units (Telegram counts
/// after entity parsing). Parts are cut from the Markdown source, which is never
/// shorter than what the channel counts.
pub const MAX_MESSAGE: usize = 4096;

/// A message for a customer, in the order it must be delivered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outbound {
    pub customer: CustomerId,
    pub kind: OutboundKind,
    pub text: String,
    pub choices: Vec<Choice>,
    #[serde(with = "crate::domain::instant")]
    pub at: DateTime<Utc>,
    /// The operator who wrote it (email signs with the name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
}

/// Who wrote a stored message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Author {
    Customer,
    Bot,
    Operator(String),
}
