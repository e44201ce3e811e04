//! A ticket: a conversation's stay in the operator queue, from handoff to close.

use super::{CustomerId, Lang, TicketId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Low,
    Normal,
    High,
    Urgent,
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Priority::Low => "low",
            Priority::Normal => "normal",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        })
    }
}

/// Why the bot handed a conversation over.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandoffReason {
    /// The customer asked for a person (intent or Clarify choice).
    Asked,
    /// Two messages in a row the bot could not match.
    LowConfidence,
    /// The customer is upset: a complaint intent.
    Complaint,
    /// Another intent rule whose action is a handoff.
    Intent(String),
}

impl fmt::Display for HandoffReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HandoffReason::Asked => f.write_str("asked"),
            HandoffReason::LowConfidence => f.write_str("low_confidence"),
            HandoffReason::Complaint => f.write_str("complaint"),
            HandoffReason::Intent(name) => write!(f, "intent:{name}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    Queued,
    Claimed,
    Closed,
    /// The customer took the request back before anyone claimed it.
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    pub id: TicketId,
    pub customer: CustomerId,
    pub department: String,
    pub priority: Priority,
    pub reason: HandoffReason,
    pub lang: Lang,
    pub order_number: Option<String>,
    /// The customer message that caused the handoff.
    pub summary: String,
    pub status: TicketStatus,
    pub operator: Option<String>,
    pub opened_at: DateTime<Utc>,
    pub claimed_at: Option<DateTime<Utc>>,
    pub first_response_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// The wait the customer was told, while it stands (a timer kept in the store).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promise: Option<Promise>,
    /// Estimates that passed with nobody on the ticket.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub broken_promises: u32,
    /// The place in the queue the customer was last told.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub told_position: Option<usize>,
}

/// "Estimated wait 5–15 minutes": when it falls due unclaimed, the customer hears
/// from us once, and a new estimate is made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Promise {
    pub made_at: DateTime<Utc>,
    pub due: DateTime<Utc>,
    pub low_minutes: i64,
    pub high_minutes: i64,
}

impl Priority {
    /// One step up (a broken promise moves the ticket ahead).
    pub fn raised(self) -> Priority {
        match self {
            Priority::Low => Priority::Normal,
            Priority::Normal => Priority::High,
            Priority::High | Priority::Urgent => Priority::Urgent,
        }
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// After this many broken estimates the customer is not given another one (only
/// their place and that they come first): no promise we keep failing to keep.
pub const MAX_BROKEN_PROMISES: u32 = 3;

/// Worth telling the customer: the queue moved at least three places and at least
/// halved their position since they were last told.
pub fn moved_a_lot(told: usize, now: usize) -> bool {
    told >= now + 3 && now * 2 <= told
}

impl Ticket {
    pub fn is_open(&self) -> bool {
        matches!(self.status, TicketStatus::Queued | TicketStatus::Claimed)
    }

    /// Queue order: higher priority first, then who waited longest.
    pub fn queue_key(&self) -> (std::cmp::Reverse<Priority>, DateTime<Utc>, TicketId) {
        (std::cmp::Reverse(self.priority), self.opened_at, self.id)
    }
}
