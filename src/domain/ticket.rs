//! A ticket: a conversation's stay in the operator queue, from handoff to close.
//! [`Ticket::apply`] is the only code that changes its status, and it returns the
//! change of the conversation's mode that goes with it, so the two cannot drift:
//!
//! | ticket            | conversation mode |
//! |-------------------|-------------------|
//! | Queued            | Queued            |
//! | Claimed           | WithOperator      |
//! | Closed            | Closed            |
//! | Cancelled         | Bot               |

use super::{CustomerId, Lang, ModeEvent, TicketId};
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

impl fmt::Display for TicketStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TicketStatus::Queued => "queued",
            TicketStatus::Claimed => "claimed",
            TicketStatus::Closed => "closed",
            TicketStatus::Cancelled => "cancelled",
        })
    }
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
    #[serde(with = "crate::domain::instant")]
    pub opened_at: DateTime<Utc>,
    #[serde(default, with = "crate::domain::instant::option")]
    pub claimed_at: Option<DateTime<Utc>>,
    #[serde(default, with = "crate::domain::instant::option")]
    pub first_response_at: Option<DateTime<Utc>>,
    #[serde(default, with = "crate::domain::instant::option")]
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
    /// Bumped by every write (the store does it); a turn that read an older version
    /// is refused and decided again. Tickets written before versions read as 0.
    #[serde(default)]
    pub version: u64,
}

/// "Estimated wait 5–15 minutes": when it falls due unclaimed, the customer hears
/// from us once, and a new estimate is made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Promise {
    #[serde(with = "crate::domain::instant")]
    pub made_at: DateTime<Utc>,
    #[serde(with = "crate::domain::instant")]
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

/// What an operator, or the customer, does to a ticket. `by` is the operator acting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TicketEvent {
    Claim {
        by: String,
    },
    Reply {
        by: String,
    },
    /// Back in the queue (only its owner may release it).
    Release {
        by: String,
    },
    /// An admin puts back in its queue a ticket `from` holds (that colleague is away,
    /// or their account was removed); refused if someone else holds it by then.
    TakeBack {
        by: String,
        from: String,
    },
    /// Back in the queue of another department.
    ToDepartment {
        by: String,
        department: String,
    },
    /// Handed to an operator, from the queue or by its owner.
    ToOperator {
        by: String,
        operator: String,
    },
    Close {
        by: String,
    },
    /// The customer takes the request back while it waits.
    Cancel,
}

impl TicketEvent {
    /// The operator acting (none for the customer's cancel).
    pub fn by(&self) -> Option<&str> {
        match self {
            TicketEvent::Claim { by }
            | TicketEvent::Reply { by }
            | TicketEvent::Release { by }
            | TicketEvent::TakeBack { by, .. }
            | TicketEvent::ToDepartment { by, .. }
            | TicketEvent::ToOperator { by, .. }
            | TicketEvent::Close { by } => Some(by),
            TicketEvent::Cancel => None,
        }
    }
}

/// Why a ticket refused an event; the ticket is left as it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TicketError {
    #[error("already taken by {0}")]
    AlreadyClaimed(String),
    /// The action needs the ticket claimed by the one acting; it is claimed by
    /// someone else (`Some`) or waiting in the queue (`None`).
    #[error("claimed by {}", .0.as_deref().unwrap_or("nobody"))]
    NotYours(Option<String>),
    #[error("not open ({0})")]
    NotOpen(TicketStatus),
    #[error("already in {0}")]
    SameDepartment(String),
}

impl Ticket {
    /// Apply `event` at `now`. Returns the mode event the conversation must take
    /// (None: its mode stays); on an error nothing changed.
    pub fn apply(
        &mut self,
        event: &TicketEvent,
        now: DateTime<Utc>,
    ) -> Result<Option<ModeEvent>, TicketError> {
        use TicketStatus::{Cancelled, Claimed, Closed, Queued};
        match event {
            TicketEvent::Claim { by } => match self.status {
                Queued => {
                    self.claim_for(by, now);
                    Ok(Some(ModeEvent::Claim))
                }
                Claimed => Err(TicketError::AlreadyClaimed(
                    self.operator.clone().unwrap_or_default(),
                )),
                status => Err(TicketError::NotOpen(status)),
            },
            TicketEvent::Reply { by } => {
                self.owned_by(by)?;
                self.first_response_at.get_or_insert(now);
                Ok(None)
            }
            TicketEvent::Release { by } => {
                self.owned_by(by)?;
                self.status = Queued;
                self.operator = None;
                Ok(Some(ModeEvent::Release))
            }
            TicketEvent::TakeBack { from, .. } => {
                self.owned_by(from)?;
                self.status = Queued;
                self.operator = None;
                Ok(Some(ModeEvent::Release))
            }
            TicketEvent::ToDepartment { by, department } => {
                let claimed = self.held_by(by)?;
                if *department == self.department {
                    return Err(TicketError::SameDepartment(department.clone()));
                }
                self.department.clone_from(department);
                self.status = Queued;
                self.operator = None;
                Ok(claimed.then_some(ModeEvent::Release))
            }
            TicketEvent::ToOperator { by, operator } => {
                let claimed = self.held_by(by)?;
                self.claim_for(operator, now);
                Ok((!claimed).then_some(ModeEvent::Claim))
            }
            TicketEvent::Close { by } => {
                self.held_by(by)?;
                self.status = Closed;
                self.operator = Some(by.clone());
                self.closed_at = Some(now);
                Ok(Some(ModeEvent::Close))
            }
            TicketEvent::Cancel => match self.status {
                Queued => {
                    self.status = Cancelled;
                    self.closed_at = Some(now);
                    Ok(Some(ModeEvent::Cancel))
                }
                Claimed => Err(TicketError::AlreadyClaimed(
                    self.operator.clone().unwrap_or_default(),
                )),
                status => Err(TicketError::NotOpen(status)),
            },
        }
    }

    fn claim_for(&mut self, operator: &str, now: DateTime<Utc>) {
        self.status = TicketStatus::Claimed;
        self.operator = Some(operator.to_owned());
        self.claimed_at.get_or_insert(now);
    }

    /// Claimed by `operator`.
    fn owned_by(&self, operator: &str) -> Result<(), TicketError> {
        match (self.status, self.operator.as_deref()) {
            (TicketStatus::Claimed, Some(op)) if op == operator => Ok(()),
            (TicketStatus::Claimed | TicketStatus::Queued, holder) => {
                Err(TicketError::NotYours(holder.map(str::to_owned)))
            }
            (status, _) => Err(TicketError::NotOpen(status)),
        }
    }

    /// Waiting (anyone may act: false) or claimed by `operator` (true).
    fn held_by(&self, operator: &str) -> Result<bool, TicketError> {
        match self.status {
            TicketStatus::Queued => Ok(false),
            TicketStatus::Claimed => self.owned_by(operator).map(|()| true),
            status => Err(TicketError::NotOpen(status)),
        }
    }

    pub fn is_open(&self) -> bool {
        matches!(self.status, TicketStatus::Queued | TicketStatus::Claimed)
    }

    /// Queue order: higher priority first, then who waited longest.
    pub fn queue_key(&self) -> (std::cmp::Reverse<Priority>, DateTime<Utc>, TicketId) {
        (std::cmp::Reverse(self.priority), self.opened_at, self.id)
    }
}

#[cfg(test)]
impl Ticket {
    /// A queued ticket for tests: number 1, `terminal:t`, "assistenza", opened at the
    /// epoch; tests change what they look at with `Ticket { .., ..Ticket::sample() }`.
    pub(crate) fn sample() -> Ticket {
        Ticket {
            id: TicketId(1),
            customer: CustomerId::parse("terminal:t").unwrap(),
            department: "assistenza".into(),
            priority: Priority::Normal,
            reason: HandoffReason::Asked,
            lang: Lang::It,
            order_number: None,
            summary: "una persona".into(),
            status: TicketStatus::Queued,
            operator: None,
            opened_at: DateTime::UNIX_EPOCH,
            claimed_at: None,
            first_response_at: None,
            closed_at: None,
            promise: None,
            broken_promises: 0,
            told_position: None,
            version: 0,
        }
    }
}

#[cfg(test)]
#[path = "ticket_tests.rs"]
mod tests;
