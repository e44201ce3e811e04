//! A customer's conversation and the state machine of its mode:
//! `Bot -> Queued -> WithOperator -> Closed -> (next message) Bot`, plus
//! `Queued -> Bot` (the customer takes the request back) and `WithOperator -> Queued`
//! (release or transfer). Only [`Mode::apply`] changes a mode.

use super::{Choice, CustomerId, Lang, TicketId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A customer who writes again after this long starts a new conversation (the
/// report counts it; the bot greets a known customer by name).
pub const SESSION_GAP: chrono::Duration = chrono::Duration::hours(24);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Bot,
    Queued,
    WithOperator,
    Closed,
}

/// What can happen to a conversation's mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModeEvent {
    /// The bot hands the conversation to the queue.
    HandOff,
    /// The customer takes back the request while still queued.
    Cancel,
    /// An operator claims the ticket.
    Claim,
    /// The operator puts the ticket back in the queue (release or transfer).
    Release,
    /// The operator (or the customer's cancel) closes the ticket.
    Close,
    /// A customer message arrives after the ticket was closed.
    Reopen,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a conversation in mode {from:?} cannot {event:?}")]
pub struct TransitionError {
    pub from: Mode,
    pub event: ModeEvent,
}

impl Mode {
    pub fn apply(self, event: ModeEvent) -> Result<Mode, TransitionError> {
        use Mode::*;
        use ModeEvent as E;
        match (self, event) {
            (Bot | Closed, E::HandOff) => Ok(Queued),
            (Queued, E::Cancel) => Ok(Bot),
            (Queued, E::Claim) => Ok(WithOperator),
            (WithOperator, E::Release) => Ok(Queued),
            (Queued | WithOperator, E::Close) => Ok(Closed),
            (Closed, E::Reopen) => Ok(Bot),
            (from, event) => Err(TransitionError { from, event }),
        }
    }

    /// Whether a person owns the conversation, so that the bot must stay silent.
    pub fn human_owned(self) -> bool {
        matches!(self, Mode::Queued | Mode::WithOperator)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    pub customer: CustomerId,
    pub mode: Mode,
    pub lang: Option<Lang>,
    pub name: Option<String>,
    /// Messages in a row the bot could not match with confidence.
    pub low_confidence_streak: u32,
    /// The Clarify choices last offered, in order; picked by number or label.
    pub pending_choices: Vec<Choice>,
    /// The open ticket while Queued or WithOperator.
    pub ticket: Option<TicketId>,
    /// Order numbers the customer mentioned, oldest first.
    pub order_numbers: Vec<String>,
    #[serde(with = "crate::domain::instant")]
    pub started_at: DateTime<Utc>,
    #[serde(with = "crate::domain::instant")]
    pub updated_at: DateTime<Utc>,
    /// When the customer was last told where they stand in the queue (handoff or
    /// "still number N"), so that acknowledgements never flood.
    #[serde(default, with = "crate::domain::instant::option")]
    pub acked_at: Option<DateTime<Utc>>,
    /// A survey asked and not answered yet; any other message drops it.
    #[serde(default)]
    pub survey: Option<super::PendingSurvey>,
    /// When NPS was last asked (at most once per `[surveys] nps_every`).
    #[serde(default, with = "crate::domain::instant::option")]
    pub nps_asked_at: Option<DateTime<Utc>>,
    /// A digest of the bot's last message (with the customer's words it answered, but
    /// for a "noted" while waiting) and when it was said: the same again within
    /// [`BURST`] is not sent (a burst of one message gets one answer; a question put
    /// another way is answered). Left out of the record while empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_said: Option<(String, DateTime<Utc>)>,
    /// When the customer last wrote (`updated_at` also moves with operators and
    /// timers): WhatsApp allows free-form messages only within 24 h of it.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::domain::instant::option"
    )]
    pub last_inbound_at: Option<DateTime<Utc>>,
    /// Order numbers the customer proved theirs (the email or postcode on the order
    /// matched): an operator's order card says which orders are verified.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub proven_orders: Vec<String>,
    /// "Where is my order?" in progress: the bot asked for the number or the proof.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_check: Option<super::order::OrderCheck>,
    /// Bumped by every write (the store does it): a turn commits only if the stored
    /// version is still the one it read, so two turns that both write a customer's
    /// messages conflict and the messages' order is the commit order.
    #[serde(default)]
    pub version: u64,
}

/// How long the same bot message is not repeated to one customer.
pub const BURST: chrono::Duration = chrono::Duration::seconds(30);

impl Conversation {
    /// Whether saying `digest` at `at` would repeat the bot's last words within a burst;
    /// either way it becomes the last thing said.
    pub fn repeats(&mut self, digest: String, at: DateTime<Utc>) -> bool {
        let repeated = self
            .last_said
            .as_ref()
            .is_some_and(|(d, when)| *d == digest && at - *when < BURST && at >= *when);
        self.last_said = Some((digest, at));
        repeated
    }

    pub fn new(customer: CustomerId, at: DateTime<Utc>) -> Self {
        Self {
            customer,
            mode: Mode::Bot,
            lang: None,
            name: None,
            low_confidence_streak: 0,
            pending_choices: Vec::new(),
            ticket: None,
            order_numbers: Vec::new(),
            proven_orders: Vec::new(),
            started_at: at,
            updated_at: at,
            acked_at: None,
            survey: None,
            nps_asked_at: None,
            last_said: None,
            last_inbound_at: None,
            order_check: None,
            version: 0,
        }
    }

    /// Apply a mode event; the ticket link follows the mode.
    pub fn transition(
        &mut self,
        event: ModeEvent,
        ticket: Option<TicketId>,
    ) -> Result<(), TransitionError> {
        self.mode = self.mode.apply(event)?;
        match self.mode {
            Mode::Queued | Mode::WithOperator => self.ticket = ticket.or(self.ticket),
            Mode::Bot | Mode::Closed => self.ticket = None,
        }
        if self.mode != Mode::Bot {
            self.pending_choices.clear();
            self.low_confidence_streak = 0;
        }
        Ok(())
    }

    /// Keep the language sticky: the first message sets it (a message of three words
    /// or more clearly in a language, else the channel's locale, else the guess);
    /// later, only such a message in the other language flips it. An English customer
    /// on an Italian browser is answered in English from the first message on.
    pub fn settle_lang(&mut self, locale: Option<Lang>, guess: Option<Lang>, words: usize) {
        self.lang = match (self.lang, locale, guess) {
            (None, Some(_), Some(g)) if words >= 3 => Some(g),
            (None, Some(l), _) => Some(l),
            (None, None, g) => g,
            (Some(cur), _, Some(g)) if g != cur && words >= 3 => Some(g),
            (cur, _, _) => cur,
        };
    }

    /// An order number the customer wrote: the last one written is `order_numbers`'
    /// last, the one a ticket and an order lookup take.
    pub fn remember_order(&mut self, order: &str) {
        self.order_numbers.retain(|o| o != order);
        self.order_numbers.push(order.to_owned());
    }

    /// The customer proved `order` theirs (the bot then said its status).
    pub fn prove_order(&mut self, order: &str) {
        if !self.proven_orders.iter().any(|o| o == order) {
            self.proven_orders.push(order.to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_conversation_reopens_to_the_bot() {
        assert_eq!(Mode::Closed.apply(ModeEvent::Reopen), Ok(Mode::Bot));
        assert!(Mode::Bot.apply(ModeEvent::Claim).is_err());
    }

    #[test]
    fn a_first_message_clearly_in_a_language_beats_the_locale() {
        let id = CustomerId::parse("web:w").unwrap();
        let mut c = Conversation::new(id.clone(), DateTime::UNIX_EPOCH);
        c.settle_lang(Some(Lang::It), Some(Lang::En), 7);
        assert_eq!(c.lang, Some(Lang::En));
        c.settle_lang(Some(Lang::It), None, 1);
        assert_eq!(c.lang, Some(Lang::En), "\"thanks\" keeps it");
        let mut short = Conversation::new(id, DateTime::UNIX_EPOCH);
        short.settle_lang(Some(Lang::It), Some(Lang::En), 1);
        assert_eq!(short.lang, Some(Lang::It), "one word: the locale");
    }

    #[test]
    fn language_does_not_flip_on_one_word() {
        let id = CustomerId::parse("terminal:t").unwrap();
        let mut c = Conversation::new(id, DateTime::UNIX_EPOCH);
        c.settle_lang(None, Some(Lang::It), 4);
        c.settle_lang(None, Some(Lang::En), 1);
        assert_eq!(c.lang, Some(Lang::It));
        c.settle_lang(None, Some(Lang::En), 5);
        assert_eq!(c.lang, Some(Lang::En));
    }
}
