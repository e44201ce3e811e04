//! Operator actions on a ticket: claim, reply, transfer, release, close, notes. Each
//! is one atomic turn that checks the ticket and the conversation are still what the
//! action saw.

use super::{Result, Service, ServiceError};
use crate::domain::{EventKind, Ticket, TicketEvent, TicketId};
use crate::store::Note;
use chrono::{DateTime, Utc};

/// Where a transfer sends a ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transfer {
    Department(String),
    Operator(String),
}

impl Service {
    pub fn ticket(&self, id: TicketId) -> Result<Ticket> {
        self.store.ticket(id)?.ok_or(ServiceError::NoTicket(id))
    }

    /// Take a queued ticket. Exactly one operator wins; the others get
    /// [`ServiceError::AlreadyClaimed`] with the winner's name.
    pub fn claim(&self, id: TicketId, operator: &str, now: DateTime<Utc>) -> Result<Ticket> {
        let by = operator.to_owned();
        match self.act(id, now, &TicketEvent::Claim { by }, None, None) {
            // Claiming what is already yours (a second click, a retried request, one
            // that won a moment ago) is done: nothing is written.
            Err(ServiceError::AlreadyClaimed { by, .. }) if by == operator => self.ticket(id),
            other => other,
        }
    }

    /// Write to the customer on their own channel (through the outbox).
    pub fn reply(
        &self,
        id: TicketId,
        operator: &str,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<Ticket> {
        let text = text.trim();
        if text.is_empty() {
            return Err(ServiceError::EmptyReply);
        }
        let by = operator.to_owned();
        self.act(id, now, &TicketEvent::Reply { by }, Some(text), None)
    }

    /// Put a claimed ticket back in the queue.
    pub fn release(&self, id: TicketId, operator: &str, now: DateTime<Utc>) -> Result<Ticket> {
        let by = operator.to_owned();
        self.act(id, now, &TicketEvent::Release { by }, None, None)
    }

    /// Release a ticket `operator` holds; an admin (`admin`: the caller checked the
    /// account's role) also puts back in its queue one a colleague holds — the one
    /// `seen` names, if given (the holder the admin's screen showed).
    pub fn release_as(
        &self,
        id: TicketId,
        operator: &str,
        admin: bool,
        seen: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Ticket> {
        match self.release(id, operator, now) {
            Err(ServiceError::NotYours {
                holder: Some(from), ..
            }) if admin => {
                let from = seen.map_or(from, str::to_owned);
                let by = operator.to_owned();
                self.act(id, now, &TicketEvent::TakeBack { by, from }, None, None)
            }
            other => other,
        }
    }

    /// Remove an operator's account (its sessions and API tokens end with it) and put
    /// the tickets it held back in their queues, so that no customer waits on a person
    /// who is gone. Returns the tickets put back; `None`: no such account and no ticket
    /// held in its name. Run again after a failure, it puts back what is left.
    pub fn remove_operator(&self, name: &str, now: DateTime<Utc>) -> Result<Option<Vec<TicketId>>> {
        let existed = self.store.remove_operator(name)?;
        let held: Vec<TicketId> = self
            .store
            .queue()?
            .into_iter()
            .filter(|t| t.operator.as_deref() == Some(name))
            .map(|t| t.id)
            .collect();
        if !existed && held.is_empty() {
            return Ok(None);
        }
        let (mut back, mut failed) = (Vec::with_capacity(held.len()), None);
        for id in held {
            let (by, from) = (name.to_owned(), name.to_owned());
            match self.act(id, now, &TicketEvent::TakeBack { by, from }, None, None) {
                Ok(_) => back.push(id),
                // Closed or released since the queue was read: nothing to put back.
                Err(ServiceError::NotYours { .. } | ServiceError::NotOpen(..)) => {}
                // The others are still tried; the first failure is reported.
                Err(e) => {
                    failed.get_or_insert(e);
                }
            }
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(Some(back)),
        }
    }

    /// Move the ticket to another department (back in its queue) or hand it to another
    /// operator. Only its owner may move a claimed ticket.
    pub fn transfer(
        &self,
        id: TicketId,
        operator: &str,
        to: &Transfer,
        now: DateTime<Utc>,
    ) -> Result<Ticket> {
        let by = operator.to_owned();
        let event = match to {
            Transfer::Department(d) if !self.config.departments.contains_key(d) => {
                let known: Vec<&str> = self.config.departments.keys().map(String::as_str).collect();
                return Err(ServiceError::NoDepartment(d.clone(), known.join(", ")));
            }
            Transfer::Operator(name) if self.store.operator(name)?.is_none() => {
                return Err(ServiceError::NoOperator(name.clone()));
            }
            Transfer::Department(department) => TicketEvent::ToDepartment {
                by,
                department: department.clone(),
            },
            Transfer::Operator(name) => TicketEvent::ToOperator {
                by,
                operator: name.clone(),
            },
        };
        self.act(id, now, &event, None, None)
    }

    /// A private note on the ticket's customer, for colleagues; never sent.
    pub fn note(
        &self,
        id: TicketId,
        operator: &str,
        text: &str,
        now: DateTime<Utc>,
    ) -> Result<Note> {
        let text = text.trim();
        if text.is_empty() {
            return Err(ServiceError::EmptyNote);
        }
        let ticket = self.ticket(id)?;
        if ticket.customer.is_forgotten() {
            return Err(ServiceError::Forgotten(id));
        }
        let note = Note {
            at: now,
            operator: operator.to_owned(),
            text: text.to_owned(),
        };
        self.store.add_note(&ticket.customer, &note)?;
        self.announce(&ticket.customer, Some(id), false);
        Ok(note)
    }

    /// Close the ticket: the conversation goes back to the bot at the next message.
    pub fn close(&self, id: TicketId, operator: &str, now: DateTime<Utc>) -> Result<Ticket> {
        let by = operator.to_owned();
        self.act(id, now, &TicketEvent::Close { by }, None, None)
    }

    /// Close, saying FAQ entry `faq` answers what the customer asked (their wording
    /// becomes a suggested question of the entry).
    pub fn close_answered_by(
        &self,
        id: TicketId,
        operator: &str,
        faq: &str,
        now: DateTime<Utc>,
    ) -> Result<Ticket> {
        if self.brain().faq.entry(faq).is_none() {
            return Err(ServiceError::NoFaq(faq.to_owned()));
        }
        let mark = EventKind::AnsweredByFaq {
            ticket: id,
            faq: faq.to_owned(),
            operator: operator.to_owned(),
        };
        let by = operator.to_owned();
        self.act(id, now, &TicketEvent::Close { by }, None, Some(mark))
    }
}
