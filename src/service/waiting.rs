//! What a customer waiting for a person hears: when people are back if they are out,
//! and, for messages written while queued, a short "still number N" at most every
//! few minutes (never silence, never a flood).

use super::{Result, Service, texts};
use crate::domain::{Conversation, Lang, Mode, Ticket};
use chrono::{DateTime, Duration, Utc};

/// The least time between two "still number N" for one customer.
pub const ACK_EVERY: Duration = Duration::minutes(3);

impl Service {
    /// If `department`'s people are out at `now`: when they are back, in words ("" if
    /// not within the horizon). None while they are in.
    pub(super) fn back_at(
        &self,
        department: &str,
        now: DateTime<Utc>,
        lang: Lang,
    ) -> Option<String> {
        let hours = self.config.hours_of(department);
        if hours.is_open(now) {
            return None;
        }
        let back = hours
            .next_opening(now)
            .map(|t| hours.describe(t, now, lang));
        Some(back.unwrap_or_default())
    }

    /// When `ticket`'s promise falls due in words, if `department`'s people are in
    /// now but go out before it ends (a handoff at 17:56 with people in until 18:00:
    /// "lunedì alle 9:10", not "5–15 minuti"); None otherwise.
    pub(super) fn due_past_closing(
        &self,
        ticket: Option<&Ticket>,
        now: DateTime<Utc>,
        lang: Lang,
    ) -> Option<String> {
        let ticket = ticket?;
        let promise = ticket.promise.as_ref()?;
        let hours = self.config.hours_of(&ticket.department);
        let wall = promise.due - now;
        (hours.is_open(now) && wall > Duration::minutes(promise.high_minutes + 1))
            .then(|| hours.describe_due(promise.due, now, lang))
    }

    /// The acknowledgement for a message written while queued: the place in the queue
    /// at most every [`ACK_EVERY`], a short "noted" otherwise. None with an operator on
    /// the conversation (they answer).
    pub(super) fn still_queued(
        &self,
        conv: &mut Conversation,
        now: DateTime<Utc>,
    ) -> Result<Option<String>> {
        if conv.mode != Mode::Queued {
            return Ok(None);
        }
        let lang = conv.lang.unwrap_or(Lang::It);
        if conv.acked_at.is_some_and(|t| now - t < ACK_EVERY) {
            return Ok(Some(texts::noted(lang).to_owned()));
        }
        let Some((ticket, position)) = self.place_told(conv, now)? else {
            return Ok(None);
        };
        let back = self.back_at(&ticket.department, now, lang);
        Ok(Some(texts::still_queued(lang, position, back.as_deref())))
    }

    /// A complaint written while queued ("è una vergogna, nessuno risponde"): the
    /// ticket is raised to the complaint's priority (never lowered), and the customer
    /// hears sorry and their place now. None unless queued with a ticket.
    pub(super) fn complaint_while_queued(
        &self,
        turn: &mut crate::store::Turn,
        inbound: &crate::domain::Inbound,
        priority: crate::domain::Priority,
    ) -> Result<Option<String>> {
        let conv = &mut turn.conversation;
        if conv.mode != Mode::Queued {
            return Ok(None);
        }
        let Some(id) = conv.ticket else {
            return Ok(None);
        };
        // The summary may have grown in this turn already: that copy is the one to raise.
        let ticket = match turn.tickets.iter().position(|t| t.id == id) {
            Some(i) => Some(turn.tickets.remove(i)),
            None => self.store.ticket(id)?,
        };
        let Some(mut ticket) = ticket.filter(|t| t.status == crate::domain::TicketStatus::Queued)
        else {
            return Ok(None);
        };
        let before = self.store.queue_position(&ticket)?;
        let raised = ticket.priority < priority;
        if raised {
            ticket.priority = priority;
        }
        let position = self.store.queue_position(&ticket)?;
        // Moved up: ahead of where it was, and of the place the customer last heard.
        let moved =
            raised && position < before && ticket.told_position.is_none_or(|told| position < told);
        let lang = conv.lang.unwrap_or(Lang::It);
        let back = self.back_at(&ticket.department, inbound.at, lang);
        conv.acked_at = Some(inbound.at);
        ticket.told_position = Some(position);
        turn.tickets.push(ticket);
        Ok(Some(texts::sorry_while_queued(
            lang,
            position,
            moved,
            back.as_deref(),
        )))
    }

    /// The reminder under an FAQ answer given while queued.
    pub(super) fn still_in_line(
        &self,
        conv: &mut Conversation,
        now: DateTime<Utc>,
    ) -> Result<Option<String>> {
        let lang = conv.lang.unwrap_or(Lang::It);
        let place = self.place_told(conv, now)?;
        Ok(place.map(|(_, position)| texts::still_in_line(lang, position)))
    }

    /// A queued conversation's ticket and its place in the queue, marked as told to the
    /// customer at `now`; None unless queued with a ticket.
    fn place_told(
        &self,
        conv: &mut Conversation,
        now: DateTime<Utc>,
    ) -> Result<Option<(Ticket, usize)>> {
        if conv.mode != Mode::Queued {
            return Ok(None);
        }
        let Some(ticket) = conv
            .ticket
            .map(|id| self.store.ticket(id))
            .transpose()?
            .flatten()
        else {
            return Ok(None);
        };
        let position = self.store.queue_position(&ticket)?;
        conv.acked_at = Some(now);
        Ok(Some((ticket, position)))
    }
}
