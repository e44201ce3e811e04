//! Promises about waiting: the estimate told at handoff is stored on the ticket with
//! its due time (a timer that lives in the store, survives restarts and fires once).
//! When it falls due with nobody on the ticket, the customer hears from us once (sorry,
//! and a new estimate) and the ticket moves up; a claim in time keeps it.

use super::act::said;
use super::{Result, Service, ServiceError, texts};
use crate::care::Estimate;
use crate::domain::{
    CustomerId, Event, EventKind, Lang, OutboundKind, Promise, Ticket, TicketStatus, moved_a_lot,
};
use crate::store::Turn;
use chrono::{DateTime, Utc};

/// What a waiting customer is told without having written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum News {
    /// The wait told passed with nobody on the ticket.
    Late,
    /// The queue moved a lot since they were last told their place.
    Moved,
}

impl Service {
    /// Estimate the wait for `ticket` at `position`, store it as its promise and
    /// record it; None if no opening is in sight. After a broken promise (the one
    /// `ticket` still holds) the new range starts where the broken one ended.
    pub(super) fn promise(
        &self,
        ticket: &mut Ticket,
        position: usize,
        now: DateTime<Utc>,
        turn: &mut Turn,
    ) -> Result<Option<Estimate>> {
        let hours = self.config.hours_of(&ticket.department);
        let mut estimate = Estimate::new(&self.recent_waits(&ticket.department)?, position);
        if let Some(broken) = ticket.promise.as_ref().filter(|p| p.due <= now) {
            estimate = estimate.after_broken(broken.high_minutes);
        }
        let Some(due) = estimate.due(hours, now) else {
            ticket.promise = None;
            return Ok(None);
        };
        ticket.promise = Some(Promise {
            made_at: now,
            due,
            low_minutes: estimate.low_minutes,
            high_minutes: estimate.high_minutes,
        });
        turn.events.push(Event {
            at: now,
            customer: ticket.customer.clone(),
            kind: EventKind::PromiseMade {
                ticket: ticket.id,
                due,
                low_minutes: estimate.low_minutes,
                high_minutes: estimate.high_minutes,
            },
        });
        Ok(Some(estimate))
    }

    /// Open time from handoff to claim of the department's latest claimed tickets.
    fn recent_waits(&self, department: &str) -> Result<Vec<chrono::Duration>> {
        let hours = self.config.hours_of(department);
        let recent = self.store.recent_claims(department, crate::care::HISTORY)?;
        Ok(recent
            .iter()
            .map(|(opened, claimed)| hours.business_time(*opened, *claimed))
            .collect())
    }

    /// The earliest promise still standing on a waiting ticket.
    pub fn next_due(&self) -> Result<Option<DateTime<Utc>>> {
        Ok(self
            .store
            .queue()?
            .iter()
            .filter(|t| t.status == TicketStatus::Queued)
            .filter_map(|t| t.promise.as_ref().map(|p| p.due))
            .min())
    }

    /// Fire the timers due at `now`: each broken promise once, and one update for a
    /// customer whose place in the queue improved a lot. Returns the customers told.
    pub fn fire_due(&self, now: DateTime<Utc>) -> Result<Vec<CustomerId>> {
        let mut told = Vec::new();
        // Places counted in one pass over the queue (it is in queue order).
        let mut seen: std::collections::HashMap<String, usize> = Default::default();
        for ticket in self.store.queue()? {
            if ticket.status != TicketStatus::Queued {
                continue;
            }
            let place = seen.entry(ticket.department.clone()).or_default();
            *place += 1;
            let due = ticket.promise.as_ref().is_some_and(|p| p.due <= now);
            let moved = ticket
                .told_position
                .is_some_and(|before| moved_a_lot(before, *place));
            let news = if due {
                News::Late
            } else if moved {
                News::Moved
            } else {
                continue;
            };
            if self.retry(|| self.tell_waiting(ticket.id, now, news))? {
                told.push(ticket.customer.clone());
            }
        }
        Ok(told)
    }

    /// Tell a waiting customer the news, once: a broken promise (recorded, the ticket
    /// raised) or a queue that moved; either way with a new estimate. False if the
    /// news is no longer true (claimed, or told by someone else meanwhile).
    fn tell_waiting(
        &self,
        id: crate::domain::TicketId,
        now: DateTime<Utc>,
        news: News,
    ) -> Result<bool> {
        let before = self.ticket(id)?;
        let position = self.store.queue_position(&before)?;
        let still = before.status == TicketStatus::Queued
            && match news {
                News::Late => before.promise.as_ref().is_some_and(|p| p.due <= now),
                News::Moved => before
                    .told_position
                    .is_some_and(|t| moved_a_lot(t, position)),
            };
        if !still {
            return Ok(false);
        }
        let mut ticket = before;
        let conv = self.store.conversation(&ticket.customer)?;
        let mut turn = Turn::new(conv.ok_or(ServiceError::NoTicket(id))?);
        // The place said is the place after the raise, and "moved up" only if it is
        // better than both the place before it and the place the customer last heard
        // (urgent tickets that came in meanwhile may have pushed it back): an urgent
        // ticket stays behind the urgent ones before it.
        let mut position = position;
        let mut passed = false;
        if news == News::Late {
            ticket.priority = ticket.priority.raised();
            ticket.broken_promises += 1;
            turn.events.push(Event {
                at: now,
                customer: ticket.customer.clone(),
                kind: EventKind::PromiseBroken { ticket: id },
            });
            let raised = self.store.queue_position(&ticket)?;
            passed = raised < position && ticket.told_position.is_none_or(|told| raised < told);
            position = raised;
        }
        let estimate = if ticket.broken_promises < crate::domain::MAX_BROKEN_PROMISES {
            self.promise(&mut ticket, position, now, &mut turn)?
        } else {
            ticket.promise = None;
            None
        };
        ticket.told_position = Some(position);
        let lang = turn.conversation.lang.unwrap_or(Lang::It);
        let back = self.back_at(&ticket.department, now, lang);
        let due = self.due_past_closing(Some(&ticket), now, lang);
        let wait = texts::Wait {
            position,
            back: back.as_deref(),
            estimate,
            due: due.as_deref(),
        };
        let text = match news {
            News::Late => texts::late(lang, &wait, passed),
            News::Moved => texts::moved_up(lang, &wait),
        };
        turn.outbound
            .push(said(&ticket, OutboundKind::Waiting, text, vec![], now));
        turn.conversation.acked_at = Some(now);
        turn.conversation.updated_at = now;
        turn.tickets.push(ticket);
        self.commit_turn(&turn, Some(id))?;
        self.store.flush()?;
        Ok(true)
    }

    /// At a claim: the promise standing is kept (in time) or broken (late, and not yet
    /// fired); either way it ends.
    pub(super) fn settle_promise(ticket: &mut Ticket, now: DateTime<Utc>) -> Option<EventKind> {
        let promise = ticket.promise.take()?;
        Some(if now <= promise.due {
            EventKind::PromiseKept { ticket: ticket.id }
        } else {
            EventKind::PromiseBroken { ticket: ticket.id }
        })
    }
}
