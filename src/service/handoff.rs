//! Handing a conversation to the queue and taking it back: the ticket, its place, the
//! wait promised, and the events that say so.

use super::{Result, Service};
use crate::domain::triage::DecisionKind;
use crate::domain::{
    Event, EventKind, HandoffReason, Inbound, Lang, ModeEvent, Priority, Ticket, TicketEvent,
    TicketStatus,
};
use crate::store::{StoreError, Turn};

impl Service {
    /// Hand the conversation to `department`'s queue; returns what to tell the customer
    /// (their place, the wait, when people are back).
    pub(super) fn hand_over(
        &self,
        turn: &mut Turn,
        inbound: &Inbound,
        department: String,
        reason: &HandoffReason,
        priority: Priority,
    ) -> Result<String> {
        let lang = turn.conversation.lang.unwrap_or(Lang::It);
        let summary = self.story(inbound, reason)?;
        let department = self.routed(department, &summary, inbound, reason);
        let back = self.back_at(&department, inbound.at, lang);
        let (position, estimate) =
            self.open_ticket(turn, inbound, (department, summary), reason, priority)?;
        let due = self.due_past_closing(turn.tickets.last(), inbound.at, lang);
        let conv = &mut turn.conversation;
        conv.acked_at = Some(inbound.at);
        let wait = super::texts::Wait {
            position,
            back: back.as_deref(),
            estimate,
            due: due.as_deref(),
        };
        let order = conv.order_numbers.last().map(String::as_str);
        Ok(super::texts::handoff(lang, reason, &wait, order))
    }

    /// "Voglio un operatore" names no department; the question before it, in the
    /// ticket's summary, may ("mi serve la nota di credito"): a request for a person
    /// whose own words name none, that would go to the default department, goes where
    /// the summary's keywords send it.
    fn routed(
        &self,
        department: String,
        summary: &str,
        inbound: &Inbound,
        reason: &HandoffReason,
    ) -> String {
        let asked = *reason == HandoffReason::Asked
            && self.config.department_by_keywords(&inbound.text).is_none();
        match self.config.department_by_keywords(summary) {
            Some(named) if asked && department == self.config.default_department => {
                named.to_owned()
            }
            _ => department,
        }
    }

    /// Queue a new ticket for the conversation, in `department` with `summary`; returns
    /// its place in the queue.
    pub(super) fn open_ticket(
        &self,
        turn: &mut Turn,
        inbound: &Inbound,
        (department, summary): (String, String),
        reason: &HandoffReason,
        priority: Priority,
    ) -> Result<(usize, Option<crate::care::Estimate>)> {
        let conv = &mut turn.conversation;
        let ticket = Ticket {
            id: self.store.next_ticket_id()?,
            customer: conv.customer.clone(),
            department,
            priority,
            reason: reason.clone(),
            lang: conv.lang.unwrap_or(Lang::It),
            order_number: conv.order_numbers.last().cloned(),
            summary,
            status: TicketStatus::Queued,
            operator: None,
            opened_at: inbound.at,
            claimed_at: None,
            first_response_at: None,
            closed_at: None,
            promise: None,
            told_position: None,
            broken_promises: 0,
            version: 0,
        };
        conv.transition(ModeEvent::HandOff, Some(ticket.id))
            .expect("the bot owns the conversation");
        let kind = EventKind::TicketOpened {
            ticket: ticket.id,
            department: ticket.department.clone(),
            priority,
            reason: reason.to_string(),
        };
        turn.events.push(Event {
            at: inbound.at,
            customer: inbound.customer.clone(),
            kind,
        });
        let mut ticket = ticket;
        let position = self.store.queue_position(&ticket)?;
        let estimate = self.promise(&mut ticket, position, inbound.at, turn)?;
        ticket.told_position = Some(position);
        turn.tickets.push(ticket);
        Ok((position, estimate))
    }

    /// What the ticket is about, for the operator: the message that handed over, unless
    /// it only asked for a person; then the customer's latest real question of this
    /// conversation (one the bot tried to answer), if any.
    /// A choice picked by its number ("3") is no question: the one it answered is told,
    /// and the pick itself is left out of the summary.
    fn story(&self, inbound: &Inbound, reason: &HandoffReason) -> Result<String> {
        if *reason != HandoffReason::Asked {
            return Ok(inbound.text.clone());
        }
        let since = inbound.at - crate::domain::SESSION_GAP;
        let transcript = self.store.transcript(&inbound.customer)?;
        let question = transcript.iter().rev().find(|m| {
            m.at >= since
                && m.author == crate::domain::Author::Customer
                && m.verdict.as_ref().is_some_and(|v| {
                    matches!(
                        v.decision,
                        DecisionKind::Answer | DecisionKind::Clarify | DecisionKind::Fallback
                    ) && !v.cause.picked()
                        && crate::text::has_letters(&m.text)
                })
        });
        let asked = crate::text::has_letters(&inbound.text);
        Ok(match question {
            Some(q) if asked => format!("{} · {}", q.text, inbound.text),
            Some(q) => q.text.clone(),
            None => inbound.text.clone(),
        })
    }

    /// A request for a person (or two misses in a row) gathers what the customer
    /// writes while it waits, joined
    /// with " · " ("voglio un operatore · le scarpe sono arrivate rotte"), until its
    /// summary is about a line long: the queue shows what they need, whatever the
    /// request itself said. Not greetings, thanks, cancellations or another request for
    /// a person (`chatter`), not attachments, not once someone took it.
    pub(super) fn add_to_request(
        &self,
        turn: &mut Turn,
        inbound: &Inbound,
        chatter: bool,
    ) -> Result<()> {
        /// A summary this long takes no more.
        const GROWS_TO: usize = 160;
        // Most messages are not written while queued: that is looked at first.
        let queued = turn.conversation.mode == crate::domain::Mode::Queued;
        let Some(id) = turn.conversation.ticket.filter(|_| queued) else {
            return Ok(());
        };
        let says = crate::text::word_count(&inbound.text) >= 3;
        let skip = chatter || inbound.attachment.is_some() || !says;
        if skip || turn.tickets.iter().any(|t| t.id == id) {
            return Ok(());
        }
        let Some(mut ticket) = self.store.ticket(id)? else {
            return Ok(());
        };
        // A request for a person, or two misses in a row: what they write next says
        // what they need (a complaint or an intent's handoff says it already).
        let says_little = matches!(
            ticket.reason,
            HandoffReason::Asked | HandoffReason::LowConfidence
        );
        if ticket.status == TicketStatus::Queued
            && says_little
            && ticket.summary.chars().count() < GROWS_TO
        {
            ticket.summary = format!("{} · {}", ticket.summary, inbound.text);
            turn.tickets.push(ticket);
        }
        Ok(())
    }

    /// The customer takes back the request: the ticket is cancelled, the bot is back.
    pub(super) fn cancel_ticket(&self, turn: &mut Turn, inbound: &Inbound) -> Result<()> {
        let id = turn.conversation.ticket;
        let Some(mut ticket) = id.map(|id| self.store.ticket(id)).transpose()?.flatten() else {
            // No ticket to cancel (a store damaged by hand): the bot takes it back anyway.
            turn.conversation
                .transition(ModeEvent::Cancel, None)
                .map_err(|_| StoreError::Conflict)?;
            return Ok(());
        };
        // Claimed meanwhile: this message was decided on a stale queue; decide again.
        let change = ticket
            .apply(&TicketEvent::Cancel, inbound.at)
            .map_err(|_| StoreError::Conflict)?;
        if let Some(change) = change {
            turn.conversation
                .transition(change, None)
                .map_err(|_| StoreError::Conflict)?;
        }
        turn.events.push(Event {
            at: inbound.at,
            customer: inbound.customer.clone(),
            kind: EventKind::Cancelled { ticket: ticket.id },
        });
        turn.tickets.push(ticket);
        Ok(())
    }
}

impl Service {
    /// An order number the customer gives while their ticket is open goes on the
    /// ticket, if it has none yet (the operator sees it in the queue and the ticket; a
    /// second one, "anche l'ordine ...", stays in the conversation).
    pub(super) fn order_on_ticket(&self, turn: &mut Turn, number: &str) -> Result<()> {
        let Some(id) = turn.conversation.ticket else {
            return Ok(());
        };
        if let Some(ticket) = turn.tickets.iter_mut().find(|t| t.id == id) {
            if ticket.is_open() {
                ticket.order_number.get_or_insert_with(|| number.to_owned());
            }
            return Ok(());
        }
        if let Some(mut ticket) = self.store.ticket(id)?
            && ticket.is_open()
            && ticket.order_number.is_none()
        {
            ticket.order_number = Some(number.to_owned());
            turn.tickets.push(ticket);
        }
        Ok(())
    }
}
