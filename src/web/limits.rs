//! In-memory limits against abuse: failed logins per name and per address (a lockout
//! window), and message rates per web chat visitor and per address (a sliding
//! window). They reset on restart, which is fine for what they guard against.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed logins allowed in [`LOCKOUT`] before further attempts are refused.
pub const MAX_FAILURES: u32 = 5;
pub const LOCKOUT: Duration = Duration::from_secs(15 * 60);
/// Entries kept before expired ones are swept.
const SWEEP_AT: usize = 10_000;

#[derive(Default)]
pub struct Failures(Mutex<HashMap<String, (u32, Instant)>>);

impl Failures {
    /// Seconds to wait if any of `keys` is locked out now.
    pub fn locked(&self, keys: &[String], now: Instant) -> Option<u64> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        keys.iter()
            .filter_map(|k| map.get(k))
            .filter(|(n, since)| *n >= MAX_FAILURES && now < *since + LOCKOUT)
            .map(|(_, since)| (*since + LOCKOUT - now).as_secs() + 1)
            .max()
    }

    pub fn fail(&self, keys: &[String], now: Instant) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > SWEEP_AT {
            map.retain(|_, (_, since)| now < *since + LOCKOUT);
        }
        for key in keys {
            let entry = map.entry(key.clone()).or_insert((0, now));
            if now >= entry.1 + LOCKOUT {
                *entry = (0, now);
            }
            entry.0 += 1;
            if entry.0 == MAX_FAILURES {
                // The lockout runs from the failure that reached the limit.
                entry.1 = now;
            }
        }
    }

    pub fn clear(&self, key: &str) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
    }
}

/// Sliding-window rates: at most `max` events per `window` for one key.
#[derive(Default)]
pub struct Rates(Mutex<HashMap<String, Vec<Instant>>>);

impl Rates {
    /// Record an event for every key, or refuse all: seconds until one is allowed.
    pub fn allow(&self, keys: &[(&str, usize)], window: Duration, now: Instant) -> Result<(), u64> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > SWEEP_AT {
            map.retain(|_, times| times.last().is_some_and(|t| now < *t + window));
        }
        let mut wait = None;
        for (key, max) in keys {
            let times = map.entry((*key).to_owned()).or_default();
            times.retain(|t| now < *t + window);
            if times.len() >= *max {
                let free = times[times.len() - max] + window - now;
                wait = wait.max(Some(free.as_secs() + 1));
            }
        }
        if let Some(wait) = wait {
            return Err(wait);
        }
        for (key, _) in keys {
            map.entry((*key).to_owned()).or_default().push(now);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_lock_a_name_for_the_window() {
        let f = Failures::default();
        let t0 = Instant::now();
        let keys = ["name:anna".to_owned()];
        for _ in 0..MAX_FAILURES - 1 {
            f.fail(&keys, t0);
        }
        assert_eq!(f.locked(&keys, t0), None);
        f.fail(&keys, t0);
        assert!(f.locked(&keys, t0).is_some_and(|s| s > 800));
        assert_eq!(f.locked(&keys, t0 + LOCKOUT), None);
        // Failures spread over the window lock for the whole lockout from the last one.
        let late = ["name:bruno".to_owned()];
        for i in 0..MAX_FAILURES {
            f.fail(&late, t0 + Duration::from_secs(200 * u64::from(i)));
        }
        let last = t0 + Duration::from_secs(800);
        assert!(f.locked(&late, last + Duration::from_secs(600)).is_some());
        f.clear("name:anna");
        assert_eq!(f.locked(&keys, t0), None);
    }

    #[test]
    fn a_rate_refuses_past_its_max_and_frees_up() {
        let r = Rates::default();
        let t0 = Instant::now();
        let w = Duration::from_secs(10);
        for _ in 0..3 {
            assert!(r.allow(&[("v", 3), ("ip", 10)], w, t0).is_ok());
        }
        assert_eq!(r.allow(&[("v", 3), ("ip", 10)], w, t0), Err(11));
        // The refused attempt was not counted against the address.
        assert!(r.allow(&[("other", 3), ("ip", 10)], w, t0).is_ok());
        assert!(r.allow(&[("v", 3)], w, t0 + w).is_ok());
    }
}
