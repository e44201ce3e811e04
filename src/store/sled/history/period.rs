//! The reads a period's report is made of ([`crate::store::period`]), through the
//! history index.

use super::{BY_CUSTOMER, seq_of, tagged};
use crate::domain::{CustomerId, Event, TicketId};
use crate::store::period::PeriodReads;
use crate::store::sled::index::instant;
use crate::store::sled::{Result, SledStore, customer_key, customer_prefix};
use chrono::{DateTime, Utc};
use std::collections::HashSet;

impl PeriodReads for SledStore {
    fn events_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<(u64, Event)>> {
        SledStore::events_between(self, from, to)
    }

    fn writers_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<HashSet<String>> {
        SledStore::writers_between(self, from, to)
    }

    fn visit_customer_from(
        &self,
        customer: &CustomerId,
        from: DateTime<Utc>,
        visit: &mut dyn FnMut(u64, Event) -> bool,
    ) -> Result<()> {
        let start = tagged(BY_CUSTOMER, &[&customer_key(customer, &instant(from))]);
        let prefix = tagged(BY_CUSTOMER, &[&customer_prefix(customer)]);
        for key in self.history.range(start..).keys() {
            let key = key?;
            if !key.starts_with(&prefix) {
                break;
            }
            let seq = seq_of(&key);
            if let Some((_, event)) = SledStore::events_at(self, [seq])?.pop()
                && !visit(seq, event)
            {
                break;
            }
        }
        Ok(())
    }

    fn ticket_event_seqs(&self, ticket: TicketId) -> Result<Vec<u64>> {
        self.ticket_events(ticket)
    }

    fn events_at(&self, seqs: Vec<u64>) -> Result<Vec<(u64, Event)>> {
        SledStore::events_at(self, seqs)
    }
}

impl SledStore {
    /// The events the KPIs of `[from, to)` read: see [`crate::store::period`].
    pub fn report_events(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Vec<Event>> {
        crate::store::period::report_events(self, from, to)
    }
}
