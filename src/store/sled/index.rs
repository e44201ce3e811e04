//! Secondary indexes over tickets (layout v2), so that the message path never reads
//! every ticket: `waiting` gives a new ticket its place in the queue by counting the
//! keys ahead of it (over a copy in memory, `queue.rs`), `claims` gives a department's latest waits for the estimate.
//! Both are written in the same transaction as the ticket itself; a v1 store gets
//! them built once when it is opened (`migrate`).
//!
//! - `waiting`: `department \0 rank (u8) secs (i64, sign-flipped BE) nanos (u32 BE)
//!   ticket id (u64 BE)` -> empty, for queued (not claimed) tickets, in queue order
//! - `claims`: `department \0 claimed at (secs, nanos) ticket id` -> opened at (secs,
//!   nanos), one per claimed ticket (its latest claim)

use super::{Result, SledStore, decode};
use crate::domain::{Priority, Ticket, TicketStatus};
use chrono::{DateTime, Utc};
use sled::transaction::{TransactionalTree, UnabortableTransactionError};

pub(super) fn instant(at: DateTime<Utc>) -> [u8; 12] {
    let mut out = [0; 12];
    out[..8].copy_from_slice(&((at.timestamp() as u64) ^ (1 << 63)).to_be_bytes());
    out[8..].copy_from_slice(&at.timestamp_subsec_nanos().to_be_bytes());
    out
}

fn read_instant(bytes: &[u8]) -> Option<DateTime<Utc>> {
    let secs = u64::from_be_bytes(bytes.get(..8)?.try_into().ok()?) ^ (1 << 63);
    let nanos = u32::from_be_bytes(bytes.get(8..12)?.try_into().ok()?);
    DateTime::from_timestamp(secs as i64, nanos)
}

pub(super) fn department_prefix(department: &str) -> Vec<u8> {
    let mut key = department.as_bytes().to_vec();
    key.push(0);
    key
}

/// The ticket's key in `waiting`: sorts like [`Ticket::queue_key`] within a department.
pub(super) fn waiting_key(ticket: &Ticket) -> Vec<u8> {
    let rank = match ticket.priority {
        Priority::Urgent => 0,
        Priority::High => 1,
        Priority::Normal => 2,
        Priority::Low => 3,
    };
    let mut key = department_prefix(&ticket.department);
    key.push(rank);
    key.extend_from_slice(&instant(ticket.opened_at));
    key.extend_from_slice(&ticket.id.0.to_be_bytes());
    key
}

fn claim_key(ticket: &Ticket, claimed_at: DateTime<Utc>) -> Vec<u8> {
    let mut key = department_prefix(&ticket.department);
    key.extend_from_slice(&instant(claimed_at));
    key.extend_from_slice(&ticket.id.0.to_be_bytes());
    key
}

/// Move `ticket`'s index entries from what `before` had to what it has now.
pub(super) fn reindex(
    before: Option<&Ticket>,
    ticket: &Ticket,
    waiting: &TransactionalTree,
    claims: &TransactionalTree,
) -> std::result::Result<(), UnabortableTransactionError> {
    if let Some(before) = before {
        waiting.remove(waiting_key(before))?;
        if let Some(at) = before.claimed_at {
            claims.remove(claim_key(before, at))?;
        }
    }
    if ticket.status == TicketStatus::Queued {
        waiting.insert(waiting_key(ticket), &[])?;
    }
    if let Some(at) = ticket.claimed_at {
        claims.insert(claim_key(ticket, at), &instant(ticket.opened_at))?;
    }
    Ok(())
}

impl SledStore {
    /// (opened at, claimed at) of the department's `n` latest claimed tickets, oldest
    /// first.
    pub fn recent_claims(
        &self,
        department: &str,
        n: usize,
    ) -> Result<Vec<(DateTime<Utc>, DateTime<Utc>)>> {
        let prefix = department_prefix(department);
        let mut out = Vec::with_capacity(n);
        for kv in self.claims.scan_prefix(&prefix).rev().take(n) {
            let (key, opened) = kv?;
            let claimed = read_instant(&key[prefix.len()..]);
            if let (Some(opened), Some(claimed)) = (read_instant(&opened), claimed) {
                out.push((opened, claimed));
            }
        }
        out.reverse();
        Ok(out)
    }

    /// How many `waiting` entries each ticket id has (one for a queued ticket).
    pub(super) fn waiting_ids(&self) -> Result<std::collections::HashMap<u64, usize>> {
        let mut ids = std::collections::HashMap::new();
        for key in self.waiting.iter().keys() {
            let key = key?;
            let id = super::last_u64(&key);
            *ids.entry(id).or_insert(0) += 1;
        }
        Ok(ids)
    }

    /// Drop a ticket from the waiting index outside a turn (erasure cancels it).
    pub(super) fn unqueue(&self, before: &Ticket) -> Result<()> {
        self.waiting.remove(waiting_key(before))?;
        self.queue.invalidate();
        Ok(())
    }

    /// Layout v1 -> v2: build both indexes from the tickets. Safe to run again after a
    /// crash (the version moves to 2 only once they are complete).
    pub(super) fn build_indexes(&self) -> Result<()> {
        self.waiting.clear()?;
        self.claims.clear()?;
        for kv in self.tickets.iter() {
            let (_, value) = kv?;
            let ticket: Ticket = decode("tickets", &value)?;
            if ticket.status == TicketStatus::Queued {
                self.waiting.insert(waiting_key(&ticket), &[])?;
            }
            if let Some(at) = ticket.claimed_at {
                self.claims
                    .insert(claim_key(&ticket, at), &instant(ticket.opened_at))?;
            }
        }
        // Read again from the rebuilt tree (a copy read midway would be partial).
        self.queue.invalidate();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::TicketId;

    #[test]
    fn instants_sort_as_their_bytes_and_read_back() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let times = [
            t("1960-01-01T00:00:00Z"),
            t("2026-11-24T09:00:00Z"),
            t("2026-11-24T09:00:00.5Z"),
            t("2026-11-24T09:00:01Z"),
        ];
        for pair in times.windows(2) {
            assert!(instant(pair[0]) < instant(pair[1]), "{pair:?}");
        }
        for at in times {
            assert_eq!(read_instant(&instant(at)), Some(at));
        }
    }

    #[test]
    fn waiting_keys_sort_like_the_queue() {
        let at = DateTime::parse_from_rfc3339("2026-11-24T09:00:00Z")
            .unwrap()
            .to_utc();
        let ticket = |id: u64, priority, minutes: i64| Ticket {
            id: TicketId(id),
            customer: crate::domain::CustomerId::parse("web:x").unwrap(),
            department: "supporto".into(),
            priority,
            summary: String::new(),
            opened_at: at + chrono::Duration::minutes(minutes),
            ..Ticket::sample()
        };
        let mut tickets = vec![
            ticket(1, Priority::Normal, 0),
            ticket(2, Priority::Urgent, 5),
            ticket(3, Priority::Normal, 3),
            ticket(4, Priority::Low, -10),
            ticket(5, Priority::High, 9),
        ];
        let by_key = {
            let mut t = tickets.clone();
            t.sort_by_key(waiting_key);
            t.iter().map(|t| t.id).collect::<Vec<_>>()
        };
        tickets.sort_by_key(Ticket::queue_key);
        assert_eq!(by_key, tickets.iter().map(|t| t.id).collect::<Vec<_>>());
    }
}
