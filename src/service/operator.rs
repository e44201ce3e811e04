//! Operator actions on a ticket: claim, reply, transfer, release, close, notes. Each
//! is one atomic turn that checks the ticket and the conversation are still what the
//! action saw.

use super::{Result, Service, ServiceError, texts};
use crate::domain::{
    Author, Event, EventKind, ModeEvent, Outbound, OutboundKind, Ticket, TicketError, TicketEvent,
    TicketId,
};
use crate::store::{Note, Turn};
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

    /// Read the ticket, apply `event` to it ([`Ticket::apply`], which says how the
    /// conversation's mode follows), and commit the ticket, the conversation, the
    /// events and any message (the operator's `reply`, the farewell and the survey at a
    /// close) in one turn. `mark` is one more event to log.
    fn act(
        &self,
        id: TicketId,
        now: DateTime<Utc>,
        event: &TicketEvent,
        reply: Option<&str>,
        mark: Option<EventKind>,
    ) -> Result<Ticket> {
        self.retry(|| {
            let mut ticket = self.ticket(id)?;
            let change = ticket
                .apply(event, now)
                .map_err(|e| refused(id, event.by().unwrap_or_default(), e))?;
            // Written even without a mode change, so that this turn and a customer
            // message in flight are ordered (see `Conversation::version`).
            let conv = self.store.conversation(&ticket.customer)?;
            let mut turn = Turn::new(conv.ok_or(ServiceError::NoTicket(id))?);
            if let Some(change) = change {
                turn.conversation
                    .transition(change, Some(id))
                    .map_err(|_| crate::store::StoreError::Conflict)?;
            }
            turn.conversation.updated_at = now;
            let mut logged = vec![logged(id, event)];
            // Claimed (or handed from the queue to someone): the wait told ends here.
            if change == Some(ModeEvent::Claim) {
                logged.extend(Service::settle_promise(&mut ticket, now));
            }
            logged.extend(mark.clone());
            if let Some(text) = reply {
                let line = said(
                    &ticket,
                    OutboundKind::Operator,
                    text.to_owned(),
                    vec![],
                    now,
                );
                turn.outbound.push(line);
            }
            // Back in a queue: the customer hears why, and their place.
            let back = match event {
                TicketEvent::ToDepartment { department, .. } => Some(Some(department)),
                TicketEvent::TakeBack { .. } => Some(None),
                _ => None,
            };
            if let Some(department) = back {
                let position = self.store.queue_position(&ticket)?;
                let away = self.back_at(&ticket.department, now, ticket.lang);
                let away = away.as_deref();
                let text = match department {
                    Some(department) => texts::transferred(ticket.lang, department, position, away),
                    None => texts::taken_back(ticket.lang, position, away),
                };
                let line = said(&ticket, OutboundKind::Waiting, text, vec![], now);
                turn.outbound.push(line);
            }
            if change == Some(ModeEvent::Close) {
                // No operator wrote to the customer (a duplicate, settled by phone): the
                // farewell does not speak of a conversation that never was; if the
                // operator named the FAQ entry that answers it, the customer gets that
                // answer (never a request closed without a reply). Once an operator
                // wrote, the entry only tags the ticket (`faq suggest`).
                let answer = match &mark {
                    // In the customer's language only (the CLI and the API name any entry).
                    Some(EventKind::AnsweredByFaq { faq, .. }) => self
                        .brain()
                        .faq
                        .entry(faq)
                        .filter(|e| e.lang == ticket.lang)
                        .map(|e| e.answer.clone()),
                    _ => None,
                };
                let (kind, farewell) = match (ticket.first_response_at, answer) {
                    (Some(_), _) => (OutboundKind::Reply, texts::closed(ticket.lang).to_owned()),
                    (None, Some(answer)) => (
                        OutboundKind::Answer,
                        texts::closed_with_answer(ticket.lang, &answer),
                    ),
                    (None, None) => (
                        OutboundKind::Reply,
                        texts::closed_unanswered(ticket.lang).to_owned(),
                    ),
                };
                let line = said(&ticket, kind, farewell, vec![], now);
                turn.outbound.push(line);
                if let Some((question, choices)) =
                    self.ask_csat(&mut turn.conversation, &ticket, now)
                {
                    let line = said(&ticket, OutboundKind::Survey, question, choices, now);
                    turn.outbound.push(line);
                }
            }
            for kind in logged {
                turn.events.push(Event {
                    at: now,
                    customer: ticket.customer.clone(),
                    kind,
                });
            }
            turn.tickets.push(ticket.clone());
            self.commit_turn(&turn, Some(id))?;
            self.store.flush()?;
            Ok(Ticket {
                version: ticket.version + 1,
                ..ticket
            })
        })
    }
}

impl Service {
    /// Commit a turn, count it and tell watchers (of `ticket`, if any) that the
    /// customer's transcript changed. Every turn goes through here: customer
    /// messages, held messages, operator actions and promise news. Durability is the
    /// caller's: it flushes before it acknowledges (a batch flushes once).
    pub(super) fn commit_turn(&self, turn: &Turn, ticket: Option<TicketId>) -> Result<()> {
        self.store.commit(turn)?;
        self.count(turn);
        if turn.inbound.is_some() {
            self.announce_message(&turn.conversation.customer, ticket);
        } else {
            self.announce(&turn.conversation.customer, ticket, true);
        }
        Ok(())
    }
}

/// The event an operator action logs.
fn logged(ticket: TicketId, event: &TicketEvent) -> EventKind {
    match event {
        TicketEvent::Claim { by } => EventKind::Claimed {
            ticket,
            operator: by.clone(),
        },
        TicketEvent::Reply { by } => EventKind::OperatorReplied {
            ticket,
            operator: by.clone(),
        },
        TicketEvent::Release { by } => EventKind::Released {
            ticket,
            operator: by.clone(),
            from: None,
        },
        // A removed account's tickets are put back in its own name: no one else held them.
        TicketEvent::TakeBack { by, from } => EventKind::Released {
            ticket,
            operator: by.clone(),
            from: (from != by).then(|| from.clone()),
        },
        TicketEvent::ToDepartment { by, department } => EventKind::Transferred {
            ticket,
            operator: by.clone(),
            department: Some(department.clone()),
            to_operator: None,
        },
        TicketEvent::ToOperator { by, operator: to } => EventKind::Transferred {
            ticket,
            operator: by.clone(),
            department: None,
            to_operator: Some(to.clone()),
        },
        TicketEvent::Close { by } => EventKind::Closed {
            ticket,
            operator: by.clone(),
        },
        TicketEvent::Cancel => EventKind::Cancelled { ticket },
    }
}

/// The service's error for a ticket that refused an operator's action.
fn refused(id: TicketId, operator: &str, error: TicketError) -> ServiceError {
    let operator = operator.to_owned();
    match error {
        TicketError::AlreadyClaimed(by) => ServiceError::AlreadyClaimed { ticket: id, by },
        TicketError::NotYours(holder) => ServiceError::NotYours {
            ticket: id,
            operator,
            holder,
        },
        TicketError::NotOpen(status) => ServiceError::NotOpen(id, status),
        TicketError::SameDepartment(d) => ServiceError::SameDepartment(id, d),
    }
}

/// A message for the ticket's customer, by its operator or by the bot.
pub(super) fn said(
    ticket: &Ticket,
    kind: OutboundKind,
    text: String,
    choices: Vec<crate::domain::Choice>,
    at: DateTime<Utc>,
) -> (Author, Outbound) {
    let author = match kind {
        OutboundKind::Operator => Author::Operator(ticket.operator.clone().unwrap_or_default()),
        _ => Author::Bot,
    };
    let out = Outbound {
        customer: ticket.customer.clone(),
        kind,
        text,
        choices,
        at,
        operator: match kind {
            OutboundKind::Operator => ticket.operator.clone(),
            _ => None,
        },
    };
    (author, out)
}
