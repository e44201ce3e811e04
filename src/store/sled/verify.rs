//! A consistency check of the whole store, for the crash harness and for an operator
//! who wants to know a store is sound after a crash (`sportello check --store`): every
//! record decodes, no ticket is in two states (the ticket, the open-ticket set, the
//! waiting index and the conversation's mode all agree), one open ticket per customer,
//! every event and ticket in the history index.

use super::{Result, SledStore, decode};
use crate::domain::{Conversation, Mode, Ticket, TicketStatus};
use std::collections::HashMap;

impl SledStore {
    /// Every inconsistency found, as sentences; empty when the store is sound.
    pub fn verify(&self) -> Result<Vec<String>> {
        let mut problems = Vec::new();
        let mut open_of: HashMap<String, Vec<Ticket>> = HashMap::new();
        let mut waiting = self.waiting_ids()?;
        for kv in self.tickets.iter() {
            let (key, value) = kv?;
            let ticket: Ticket = decode("tickets", &value)?;
            let listed = self.open_tickets.contains_key(&key)?;
            if listed != ticket.is_open() {
                problems.push(format!(
                    "ticket {} is {:?} but {} the open set",
                    ticket.id,
                    ticket.status,
                    if listed { "in" } else { "not in" }
                ));
            }
            let indexed = waiting.remove(&ticket.id.0).unwrap_or(0);
            let expected = usize::from(ticket.status == TicketStatus::Queued);
            if indexed != expected {
                problems.push(format!(
                    "ticket {} is {:?} with {indexed} waiting-index entries",
                    ticket.id, ticket.status
                ));
            }
            if ticket.is_open() {
                open_of
                    .entry(ticket.customer.as_str().to_owned())
                    .or_default()
                    .push(ticket);
            }
        }
        for (id, n) in waiting {
            problems.push(format!("waiting index lists a missing ticket #{id} ({n}x)"));
        }
        for key in self.open_tickets.iter().keys() {
            let key = key?;
            if !self.tickets.contains_key(&key)? {
                problems.push(format!("open set lists a missing ticket {key:?}"));
            }
        }
        for kv in self.conversations.iter() {
            let (_, value) = kv?;
            let conv: Conversation = decode("conversations", &value)?;
            let open = open_of.remove(conv.customer.as_str()).unwrap_or_default();
            problems.extend(mode_problem(&conv, &open));
        }
        for (customer, tickets) in open_of {
            problems.push(format!(
                "{customer} has {} open ticket(s) and no conversation",
                tickets.len()
            ));
        }
        // Every event decodes (read there) and is indexed.
        problems.extend(self.history_problems()?);
        Ok(problems)
    }
}

/// The conversation's mode must say what its open ticket says.
fn mode_problem(conv: &Conversation, open: &[Ticket]) -> Option<String> {
    let who = conv.customer.as_str();
    if open.len() > 1 {
        return Some(format!("{who} has {} open tickets", open.len()));
    }
    let status = open.first().map(|t| t.status);
    let agrees = match conv.mode {
        Mode::Queued => status == Some(TicketStatus::Queued),
        Mode::WithOperator => status == Some(TicketStatus::Claimed),
        Mode::Bot | Mode::Closed => status.is_none(),
    };
    let pointed = open.first().is_none_or(|t| conv.ticket == Some(t.id));
    (!agrees || !pointed).then(|| {
        format!(
            "{who} is {:?} (ticket {:?}) but its open ticket is {:?}",
            conv.mode,
            conv.ticket,
            open.first().map(|t| (t.id, t.status))
        )
    })
}
