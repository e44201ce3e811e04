//! Pure types and rules: identifiers, messages, conversations and their modes, tickets
//! and their state machine (`Ticket::apply`), `triage::decide` (what to do with one
//! message) and `plan::plan` (everything a message changes in its conversation).
//! Nothing here does I/O or reads a clock.

mod conversation;
mod event;
mod ids;
pub mod instant;
mod message;
pub mod order;
pub mod plan;
pub mod survey;
mod ticket;
pub mod triage;

pub use conversation::{Conversation, Mode, ModeEvent, SESSION_GAP, TransitionError};
pub use event::{Event, EventKind, LookupOutcome, Scored, Verdict};
pub use ids::{ChannelKind, CustomerId, IdError, Lang, TicketId};
pub use message::{
    Attachment, AttachmentKind, Author, Choice, ChoiceTarget, Inbound, MAX_MESSAGE, Outbound,
    OutboundKind,
};
pub use survey::{PendingSurvey, SURVEY_TTL, SurveyKind, read_answer};
pub use ticket::{
    HandoffReason, MAX_BROKEN_PROMISES, Priority, Promise, Ticket, TicketError, TicketEvent,
    TicketStatus, moved_a_lot,
};
