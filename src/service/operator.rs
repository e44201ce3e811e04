//! Operator actions on a ticket: claim, reply, transfer, release, close, notes. Each
//! is one atomic turn that checks the ticket and the conversation are still what the
//! action saw.

use super::{Result, Service, ServiceError, texts};
use crate::domain::{
    Author, Event, EventKind, ModeEvent, Outbound, OutboundKind, Ticket, TicketId, TicketStatus,
};
use crate::store::{Note, Turn};
use chrono::{DateTime, Utc};

/// Where a transfer sends a ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transfer {
    Department(String),
    Operator(String),
}

/// What an operator action does besides changing the ticket.
struct Change {
    mode: Option<ModeEvent>,
    event: EventKind,
    /// A message for the customer.
    message: Option<(OutboundKind, String)>,
    /// A second event (a promise kept or broken at a claim).
    also: Option<EventKind>,
}

impl Service {
    pub fn ticket(&self, id: TicketId) -> Result<Ticket> {
        self.store.ticket(id)?.ok_or(ServiceError::NoTicket(id))
    }

    /// Take a queued ticket. Exactly one operator wins; the others get
    /// [`ServiceError::AlreadyClaimed`] with the winner's name.
    pub fn claim(&self, id: TicketId, operator: &str, now: DateTime<Utc>) -> Result<Ticket> {
        self.act(id, now, |ticket| match ticket.status {
            TicketStatus::Queued => {
                ticket.status = TicketStatus::Claimed;
                ticket.operator = Some(operator.to_owned());
                ticket.claimed_at.get_or_insert(now);
                let also = Service::settle_promise(ticket, now);
                Ok(Change {
                    mode: Some(ModeEvent::Claim),
                    event: EventKind::Claimed {
                        ticket: id,
                        operator: operator.to_owned(),
                    },
                    message: None,
                    also,
                })
            }
            TicketStatus::Claimed => Err(ServiceError::AlreadyClaimed {
                ticket: id,
                by: ticket.operator.clone().unwrap_or_default(),
            }),
            status => Err(ServiceError::NotOpen(id, status)),
        })
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
        self.act(id, now, |ticket| {
            owned_by(ticket, operator)?;
            ticket.first_response_at.get_or_insert(now);
            Ok(Change {
                mode: None,
                event: EventKind::OperatorReplied {
                    ticket: id,
                    operator: operator.to_owned(),
                },
                message: Some((OutboundKind::Operator, text.to_owned())),
                also: None,
            })
        })
    }

    /// Put a claimed ticket back in the queue.
    pub fn release(&self, id: TicketId, operator: &str, now: DateTime<Utc>) -> Result<Ticket> {
        self.act(id, now, |ticket| {
            owned_by(ticket, operator)?;
            ticket.status = TicketStatus::Queued;
            ticket.operator = None;
            Ok(Change {
                mode: Some(ModeEvent::Release),
                event: EventKind::Released {
                    ticket: id,
                    operator: operator.to_owned(),
                },
                message: None,
                also: None,
            })
        })
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
        match to {
            Transfer::Department(d) if !self.config.departments.contains_key(d) => {
                let known: Vec<&str> = self.config.departments.keys().map(String::as_str).collect();
                return Err(ServiceError::NoDepartment(d.clone(), known.join(", ")));
            }
            Transfer::Operator(name) if self.store.operator(name)?.is_none() => {
                return Err(ServiceError::NoOperator(name.clone()));
            }
            _ => {}
        }
        self.act(id, now, |ticket| {
            let claimed = match ticket.status {
                TicketStatus::Queued => false,
                TicketStatus::Claimed => owned_by(ticket, operator).map(|()| true)?,
                status => return Err(ServiceError::NotOpen(id, status)),
            };
            let (mode, department, to_operator) = match to {
                Transfer::Department(d) if *d == ticket.department => {
                    return Err(ServiceError::SameDepartment(id, d.clone()));
                }
                Transfer::Department(d) => {
                    ticket.department.clone_from(d);
                    ticket.status = TicketStatus::Queued;
                    ticket.operator = None;
                    (claimed.then_some(ModeEvent::Release), Some(d.clone()), None)
                }
                Transfer::Operator(name) => {
                    ticket.status = TicketStatus::Claimed;
                    ticket.operator = Some(name.clone());
                    ticket.claimed_at.get_or_insert(now);
                    (
                        (!claimed).then_some(ModeEvent::Claim),
                        None,
                        Some(name.clone()),
                    )
                }
            };
            Ok(Change {
                mode,
                event: EventKind::Transferred {
                    ticket: id,
                    operator: operator.to_owned(),
                    department,
                    to_operator,
                },
                message: None,
                // Handed straight from the queue to someone: the wait told ends here.
                also: if claimed || ticket.status != TicketStatus::Claimed {
                    None
                } else {
                    Service::settle_promise(ticket, now)
                },
            })
        })
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
            return Err(ServiceError::EmptyReply);
        }
        let ticket = self.ticket(id)?;
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
        self.close_with(id, operator, None, now)
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
        self.close_with(id, operator, Some(mark), now)
    }

    fn close_with(
        &self,
        id: TicketId,
        operator: &str,
        also: Option<EventKind>,
        now: DateTime<Utc>,
    ) -> Result<Ticket> {
        self.act(id, now, |ticket| {
            match ticket.status {
                TicketStatus::Queued => {}
                TicketStatus::Claimed => owned_by(ticket, operator)?,
                status => return Err(ServiceError::NotOpen(id, status)),
            }
            ticket.status = TicketStatus::Closed;
            ticket.operator = Some(operator.to_owned());
            ticket.closed_at = Some(now);
            let farewell = texts::closed(ticket.lang).to_owned();
            Ok(Change {
                mode: Some(ModeEvent::Close),
                event: EventKind::Closed {
                    ticket: id,
                    operator: operator.to_owned(),
                },
                message: Some((OutboundKind::Reply, farewell)),
                also: also.clone(),
            })
        })
    }

    /// Read the ticket, let `change` update it, and commit the ticket, the
    /// conversation's mode change, the event and any message in one turn.
    fn act(
        &self,
        id: TicketId,
        now: DateTime<Utc>,
        change: impl Fn(&mut Ticket) -> Result<Change>,
    ) -> Result<Ticket> {
        self.retry(|| {
            let before = self.ticket(id)?;
            let mut ticket = before.clone();
            let Change {
                mode: mode_event,
                event,
                message,
                also,
            } = change(&mut ticket)?;
            let mut turn = Turn {
                expected_ticket: Some(before),
                ..Turn::default()
            };
            // Written even without a mode change, so that this turn and a customer
            // message in flight are ordered (see `Conversation::version`).
            let expected = self.store.conversation(&ticket.customer)?;
            let mut conv = expected.clone().ok_or(ServiceError::NoTicket(id))?;
            if let Some(mode_event) = mode_event {
                conv.transition(mode_event, Some(id))
                    .map_err(|_| crate::store::StoreError::Conflict)?;
            }
            conv.updated_at = now;
            if let Some((kind, text)) = message {
                turn.outbound.push(said(&ticket, kind, text, vec![], now));
            }
            if mode_event == Some(ModeEvent::Close)
                && let Some((question, choices)) = self.ask_csat(&mut conv, &ticket, now)
            {
                turn.outbound
                    .push(said(&ticket, OutboundKind::Survey, question, choices, now));
            }
            turn.expected_conversation = expected;
            turn.conversation = Some(conv);
            for kind in std::iter::once(event).chain(also) {
                turn.events.push(Event {
                    at: now,
                    customer: ticket.customer.clone(),
                    kind,
                });
            }
            turn.tickets.push(ticket.clone());
            self.commit_ticket_turn(&turn, &ticket)?;
            Ok(ticket)
        })
    }
}

impl Service {
    /// Commit a turn about `ticket`, make it durable, count it and tell watchers.
    pub(super) fn commit_ticket_turn(&self, turn: &Turn, ticket: &Ticket) -> Result<()> {
        self.store.commit(turn)?;
        self.store.flush()?;
        self.count(turn);
        self.announce(&ticket.customer, Some(ticket.id), true);
        Ok(())
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
    };
    (author, out)
}

fn owned_by(ticket: &Ticket, operator: &str) -> Result<()> {
    match (ticket.status, ticket.operator.as_deref()) {
        (TicketStatus::Claimed, Some(op)) if op == operator => Ok(()),
        (TicketStatus::Claimed | TicketStatus::Queued, _) => Err(ServiceError::NotYours {
            ticket: ticket.id,
            operator: operator.to_owned(),
        }),
        (status, _) => Err(ServiceError::NotOpen(ticket.id, status)),
    }
}
