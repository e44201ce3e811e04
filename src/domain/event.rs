//! Events: every decision and every ticket change, with scores and reasons. Reports
//! and the editors' gap list are computed from these, not from logs.

use super::triage::{Cause, DecisionKind};
use super::{CustomerId, Lang, Priority, TicketId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scored {
    pub id: String,
    pub confidence: f32,
}

/// Why the bot did what it did with one customer message, kept with the message in
/// the transcript for the operator who takes over.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub decision: DecisionKind,
    /// Absent in transcripts written before causes were stored.
    #[serde(default)]
    pub cause: Cause,
    pub target: Option<String>,
    pub intent: Option<String>,
    pub reason: String,
    pub candidates: Vec<Scored>,
}

impl EventKind {
    /// The ticket the event is about, if any.
    pub fn ticket(&self) -> Option<TicketId> {
        match self {
            EventKind::TicketOpened { ticket, .. }
            | EventKind::Claimed { ticket, .. }
            | EventKind::OperatorReplied { ticket, .. }
            | EventKind::Released { ticket, .. }
            | EventKind::Closed { ticket, .. }
            | EventKind::Transferred { ticket, .. }
            | EventKind::Cancelled { ticket }
            | EventKind::PromiseMade { ticket, .. }
            | EventKind::PromiseKept { ticket }
            | EventKind::PromiseBroken { ticket }
            | EventKind::AnsweredByFaq { ticket, .. } => Some(*ticket),
            EventKind::SurveyAnswered { ticket, .. } => *ticket,
            EventKind::Decided { .. } | EventKind::OrderLookup { .. } => None,
        }
    }

    /// The verdict, for a `Decided` event.
    pub fn verdict(&self) -> Option<Verdict> {
        match self {
            EventKind::Decided {
                decision,
                cause,
                target,
                intent,
                reason,
                candidates,
                ..
            } => Some(Verdict {
                decision: *decision,
                cause: *cause,
                target: target.clone(),
                intent: intent.clone(),
                reason: reason.clone(),
                candidates: candidates.iter().take(3).cloned().collect(),
            }),
            _ => None,
        }
    }
}

/// How an order lookup ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LookupOutcome {
    /// The proof matched: the customer heard the status, no person needed.
    Answered,
    /// No such order, or not with that email/postcode (the customer is not told which).
    NotMatched,
    /// The platform was slow, down or refused the keys: a person was offered.
    Unavailable,
    /// Too many lookups in a short time.
    Limited,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    #[serde(with = "crate::domain::instant")]
    pub at: DateTime<Utc>,
    pub customer: CustomerId,
    #[serde(flatten)]
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum EventKind {
    /// The bot decided what to do with a customer message.
    Decided {
        text: String,
        lang: Lang,
        decision: DecisionKind,
        /// Why, as a value (what reports count). Events written before v3 get theirs
        /// from their words once, in the store's migration.
        #[serde(default)]
        cause: Cause,
        /// The FAQ id or intent the decision used, if any.
        target: Option<String>,
        intent: Option<String>,
        reason: String,
        candidates: Vec<Scored>,
    },
    TicketOpened {
        ticket: TicketId,
        department: String,
        priority: Priority,
        reason: String,
    },
    Claimed {
        ticket: TicketId,
        operator: String,
    },
    OperatorReplied {
        ticket: TicketId,
        operator: String,
    },
    Released {
        ticket: TicketId,
        operator: String,
        /// Who held the ticket, when an admin (`operator`) took it back from them.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<String>,
    },
    Closed {
        ticket: TicketId,
        operator: String,
    },
    /// Moved to another department (back in the queue) or handed to another operator.
    Transferred {
        ticket: TicketId,
        operator: String,
        department: Option<String>,
        to_operator: Option<String>,
    },
    Cancelled {
        ticket: TicketId,
    },
    /// The customer was told an expected wait.
    PromiseMade {
        ticket: TicketId,
        #[serde(with = "crate::domain::instant")]
        due: DateTime<Utc>,
        low_minutes: i64,
        high_minutes: i64,
    },
    /// An operator claimed the ticket within the wait told.
    PromiseKept {
        ticket: TicketId,
    },
    /// The wait told passed with nobody on the ticket.
    PromiseBroken {
        ticket: TicketId,
    },
    /// An operator closed the ticket saying FAQ `faq` answers it: the customer's
    /// wording becomes a suggested question of that entry (`faq suggest`).
    AnsweredByFaq {
        ticket: TicketId,
        faq: String,
        operator: String,
    },
    /// The bot looked an order up on the shop's platform for the customer.
    OrderLookup {
        outcome: LookupOutcome,
    },
    /// A customer answered a CSAT or NPS question.
    SurveyAnswered {
        survey: super::SurveyKind,
        score: u8,
        comment: Option<String>,
        ticket: Option<TicketId>,
    },
}
