//! How an operator action becomes a turn: the ticket's change, the conversation's mode,
//! the events, and what the customer hears with it (the operator's words, why they are
//! back in a queue, the farewell and the survey at a close), committed at once.

use super::{Result, Service, ServiceError, texts};
use crate::domain::{
    Author, ChannelKind, Event, EventKind, Lang, ModeEvent, Outbound, OutboundKind, Ticket,
    TicketError, TicketEvent, TicketId,
};
use crate::store::Turn;
use chrono::{DateTime, Utc};

impl Service {
    /// Read the ticket, apply `event` to it ([`Ticket::apply`], which says how the
    /// conversation's mode follows), and commit the ticket, the conversation, the
    /// events and any message (the operator's `reply`, the farewell and the survey at a
    /// close) in one turn. `mark` is one more event to log.
    pub(super) fn act(
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
            let lang = turn.conversation.lang.unwrap_or(ticket.lang);
            let back = self.back_in_queue(&ticket, event, change, lang, now)?;
            turn.outbound.extend(back);
            if change == Some(ModeEvent::Close) {
                self.farewell(&mut turn, &ticket, mark.as_ref(), now);
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

    /// Back in a queue (moved to a department, released by its operator, or put back
    /// by an admin or with a removed account): the customer hears why, and their
    /// place. Handed by its operator to a colleague (`change` none: a person still
    /// has it): the customer hears that a colleague takes over.
    fn back_in_queue(
        &self,
        ticket: &Ticket,
        event: &TicketEvent,
        change: Option<ModeEvent>,
        lang: Lang,
        now: DateTime<Utc>,
    ) -> Result<Option<(Author, Outbound)>> {
        let department = match event {
            TicketEvent::ToDepartment { department, .. } => Some(department),
            TicketEvent::TakeBack { .. } | TicketEvent::Release { .. } => None,
            TicketEvent::ToOperator { by, operator } if change.is_none() && by != operator => {
                let text = texts::handed_to_colleague(lang).to_owned();
                return Ok(Some(said(ticket, OutboundKind::Waiting, text, vec![], now)));
            }
            _ => return Ok(None),
        };
        let position = self.store.queue_position(ticket)?;
        let away = self.back_at(&ticket.department, now, lang);
        let away = away.as_deref();
        let text = match department {
            Some(department) => {
                let label = self.config.department_label(department, lang);
                texts::transferred(lang, label, position, away)
            }
            None if matches!(event, TicketEvent::Release { .. }) => {
                texts::released(lang, position, away)
            }
            None => texts::taken_back(lang, position, away),
        };
        Ok(Some(said(ticket, OutboundKind::Waiting, text, vec![], now)))
    }

    /// What a close says: the farewell, then the satisfaction question (if asked).
    /// No operator wrote to the customer (a duplicate, settled by phone): the farewell
    /// does not speak of a conversation that never was; if the operator named the FAQ
    /// entry that answers it (`mark`), the customer gets that answer (never a request
    /// closed without a reply). Once an operator wrote, the entry only tags the ticket
    /// (`faq suggest`).
    fn farewell(
        &self,
        turn: &mut Turn,
        ticket: &Ticket,
        mark: Option<&EventKind>,
        now: DateTime<Utc>,
    ) {
        // The language the customer writes in now (the ticket keeps the one of its
        // handoff), as the survey's question.
        let lang = turn.conversation.lang.unwrap_or(ticket.lang);
        let answer = match mark {
            // In the customer's language only (the CLI and the API name any entry).
            Some(EventKind::AnsweredByFaq { faq, .. }) => self
                .brain()
                .faq
                .entry(faq)
                .filter(|e| e.lang == lang)
                .map(|e| self.answer_of(e, now)),
            _ => None,
        };
        let (kind, farewell) = match (ticket.first_response_at, answer) {
            (Some(_), _) => (OutboundKind::Reply, texts::closed(lang).to_owned()),
            (None, Some(answer)) => (
                OutboundKind::Answer,
                texts::closed_with_answer(lang, &answer),
            ),
            (None, None) => (
                OutboundKind::Reply,
                texts::closed_unanswered(lang).to_owned(),
            ),
        };
        let survey = self.ask_csat(&mut turn.conversation, ticket, now);
        match survey {
            // A mail is a letter: the farewell and the question are one, not two mails
            // a second apart.
            Some((question, choices)) if ticket.customer.kind() == Some(ChannelKind::Email) => {
                let text = format!("{farewell}\n\n{question}");
                turn.outbound
                    .push(said(ticket, OutboundKind::Survey, text, choices, now));
            }
            Some((question, choices)) => {
                turn.outbound
                    .push(said(ticket, kind, farewell, vec![], now));
                let line = said(ticket, OutboundKind::Survey, question, choices, now);
                turn.outbound.push(line);
            }
            None => turn
                .outbound
                .push(said(ticket, kind, farewell, vec![], now)),
        }
    }

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
