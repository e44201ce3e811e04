//! One customer writing very fast (a stuck key, a script, an angry burst of twenty
//! lines) must not hold up everyone else. Each customer has a bucket of [`BURST`]
//! messages that refills at [`PER_SECOND`]; past it, a message is still stored (the
//! transcript and an operator see every word) but not matched or answered, and the
//! customer is told once, politely, that the bot will read on in a moment. The buckets
//! live in memory (a restart forgives everyone), or in a shared PostgreSQL store, where
//! every instance paces the same bucket. Time is the message's own.

use crate::domain::CustomerId;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Mutex;

/// Messages a customer may send in a row before the bot stops answering each one.
pub const BURST: f64 = 12.0;
/// The bucket refills at one message every two seconds.
pub const PER_SECOND: f64 = 0.5;
/// Above this many customers tracked, the ones with a full bucket are forgotten.
const TRACKED: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Pace {
    Admit,
    /// Over the limit; `tell` the first time in this burst.
    Hold {
        tell: bool,
    },
}

pub use crate::store::FloodBucket as Bucket;

#[derive(Default)]
pub(super) struct Flood {
    buckets: Mutex<HashMap<CustomerId, Bucket>>,
}

impl Flood {
    /// Paced in `store` when other processes share it (a customer writing through two
    /// instances fills one bucket), else in memory.
    pub(super) fn pace_in(
        &self,
        store: &crate::store::Store,
        customer: &CustomerId,
        at: DateTime<Utc>,
    ) -> Pace {
        let Some(shared) = store.shared_limits() else {
            return self.pace(customer, at);
        };
        let mut pace = Pace::Admit;
        let stepped = shared.flood_step(customer, &mut |bucket| {
            let (next, p) = step(bucket, at);
            pace = p;
            next
        });
        if let Err(e) = stepped {
            // Answering is worth more than pacing: admit.
            tracing::warn!("flood pacing: the shared store failed: {e}");
            return Pace::Admit;
        }
        pace
    }

    pub(super) fn pace(&self, customer: &CustomerId, at: DateTime<Utc>) -> Pace {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() > TRACKED {
            buckets.retain(|_, b| refilled(b, at) < BURST);
        }
        let (next, pace) = step(buckets.get(customer).copied(), at);
        buckets.insert(customer.clone(), next);
        pace
    }
}

/// One message at `at` against the customer's bucket (None: a full one).
fn step(bucket: Option<Bucket>, at: DateTime<Utc>) -> (Bucket, Pace) {
    let mut bucket = bucket.unwrap_or(Bucket {
        tokens: BURST,
        at,
        told: false,
    });
    bucket.tokens = refilled(&bucket, at);
    bucket.at = bucket.at.max(at);
    if bucket.tokens >= 1.0 {
        bucket.tokens -= 1.0;
        if bucket.tokens >= BURST / 2.0 {
            bucket.told = false;
        }
        return (bucket, Pace::Admit);
    }
    let tell = !bucket.told;
    bucket.told = true;
    (bucket, Pace::Hold { tell })
}

fn refilled(bucket: &Bucket, at: DateTime<Utc>) -> f64 {
    let seconds = (at - bucket.at).num_milliseconds().max(0) as f64 / 1000.0;
    (bucket.tokens + seconds * PER_SECOND).min(BURST)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_admitted_then_held_with_one_notice_and_the_pace_recovers() {
        let flood = Flood::default();
        let anna = CustomerId::parse("telegram:1").unwrap();
        let bruno = CustomerId::parse("telegram:2").unwrap();
        let t0 = DateTime::parse_from_rfc3339("2026-11-24T10:00:00Z")
            .unwrap()
            .to_utc();
        let paces: Vec<Pace> = (0..20).map(|_| flood.pace(&anna, t0)).collect();
        assert!(paces[..12].iter().all(|p| *p == Pace::Admit));
        assert_eq!(paces[12], Pace::Hold { tell: true });
        assert!(paces[13..].iter().all(|p| *p == Pace::Hold { tell: false }));
        assert_eq!(flood.pace(&bruno, t0), Pace::Admit, "others are not held");
        let later = t0 + chrono::Duration::seconds(4);
        assert_eq!(flood.pace(&anna, later), Pace::Admit, "two refilled");
        assert_eq!(flood.pace(&anna, later), Pace::Admit);
        assert_eq!(flood.pace(&anna, later), Pace::Hold { tell: false });
        let calm = t0 + chrono::Duration::minutes(5);
        assert_eq!(flood.pace(&anna, calm), Pace::Admit);
        for _ in 0..11 {
            flood.pace(&anna, calm);
        }
        assert_eq!(
            flood.pace(&anna, calm),
            Pace::Hold { tell: true },
            "a new burst is told again"
        );
    }
}
