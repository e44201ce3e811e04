//! Handing a conversation to the queue and taking it back: the ticket, its place, the
//! wait promised, and the events that say so.

use super::{Result, Service};
use crate::domain::{
    Conversation, Event, EventKind, HandoffReason, Inbound, Lang, ModeEvent, Priority, Ticket,
    TicketStatus,
};
use crate::store::Turn;

impl Service {
    /// Queue a new ticket for the conversation; returns its place in the queue.
    pub(super) fn open_ticket(
        &self,
        conv: &mut Conversation,
        turn: &mut Turn,
        inbound: &Inbound,
        department: String,
        reason: &HandoffReason,
        priority: Priority,
    ) -> Result<(usize, Option<crate::care::Estimate>)> {
        let ticket = Ticket {
            id: self.store.next_ticket_id()?,
            customer: conv.customer.clone(),
            department,
            priority,
            reason: reason.clone(),
            lang: conv.lang.unwrap_or(Lang::It),
            order_number: conv.order_numbers.last().cloned(),
            summary: inbound.text.clone(),
            status: TicketStatus::Queued,
            operator: None,
            opened_at: inbound.at,
            claimed_at: None,
            first_response_at: None,
            closed_at: None,
            promise: None,
            told_position: None,
            broken_promises: 0,
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
            customer: conv.customer.clone(),
            kind,
        });
        let mut ticket = ticket;
        let position = self.store.queue_position(&ticket)?;
        let estimate = self.promise(&mut ticket, position, inbound.at, turn)?;
        ticket.told_position = Some(position);
        turn.tickets.push(ticket);
        Ok((position, estimate))
    }

    /// The customer takes back the request: the ticket is cancelled, the bot is back.
    pub(super) fn cancel_ticket(
        &self,
        conv: &mut Conversation,
        turn: &mut Turn,
        inbound: &Inbound,
    ) -> Result<()> {
        if let Some(mut ticket) = conv
            .ticket
            .map(|id| self.store.ticket(id))
            .transpose()?
            .flatten()
        {
            turn.expected_ticket = Some(ticket.clone());
            ticket.status = TicketStatus::Cancelled;
            ticket.closed_at = Some(inbound.at);
            let kind = EventKind::Cancelled { ticket: ticket.id };
            turn.events.push(Event {
                at: inbound.at,
                customer: conv.customer.clone(),
                kind,
            });
            turn.tickets.push(ticket);
        }
        conv.transition(ModeEvent::Cancel, None)
            .expect("queued conversations can cancel");
        Ok(())
    }
}
