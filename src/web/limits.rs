//! Limits against abuse: failed logins per name and per address (a lockout window),
//! and message rates per web chat visitor and per address (a sliding window). One
//! process keeps them in memory (they reset on restart, which is fine for what they
//! guard against); processes sharing a PostgreSQL store count them there, together
//! ([`crate::store::SharedLimits`], the same rules), so spreading attempts over
//! instances buys nothing.

use crate::store::Store;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed logins allowed for one name from one address in [`LOCKOUT`] before further
/// attempts from there are refused (the right password from elsewhere still works).
pub const MAX_FAILURES: u32 = 5;
/// Failed logins allowed from one address, whatever the names, in [`LOCKOUT`].
pub const MAX_ADDRESS_FAILURES: u32 = 20;
pub const LOCKOUT: Duration = Duration::from_secs(15 * 60);
/// The longest a name's attempts are slowed down after many failures from anywhere.
pub const MAX_SLOWDOWN: Duration = Duration::from_secs(10);
/// Entries kept before expired ones are swept.
const SWEEP_AT: usize = 10_000;

/// Login attempts per key within a window. An attempt is counted *before* the password
/// is checked and given back only when it succeeds, so a burst of parallel requests
/// gets no more checks than the limit.
#[derive(Default)]
pub struct Failures {
    memory: Mutex<HashMap<String, (u32, Instant)>>,
    /// The store every process counts in, when they share one.
    shared: Option<Store>,
}

/// One key and the attempts it allows in the window (`u32::MAX`: counted only).
pub type Limit<'a> = (&'a str, u32);

/// Run a call to the shared store from an HTTP handler so that waiting on the database
/// does not hold up the other requests: on the server's (multi-threaded) runtime its
/// worker hands its other tasks to the others meanwhile; elsewhere it just runs.
fn off_the_workers<T>(work: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(work)
        }
        _ => work(),
    }
}

/// On a shared store that fails: refuse, and ask to try again in a moment.
fn refused(e: crate::store::StoreError) -> u64 {
    tracing::error!("abuse limits: the shared store failed: {e}");
    1
}

impl Failures {
    /// Counted in `store` if other processes share it, else in memory.
    pub fn new(store: &Store) -> Self {
        Failures {
            memory: Mutex::default(),
            shared: store.is_shared().then(|| store.clone()),
        }
    }

    /// Count an attempt against every key, or refuse all of them: the seconds to wait
    /// if a key has reached its limit. Ok gives each key's count before this attempt.
    pub fn attempt(&self, keys: &[Limit], now: Instant) -> Result<Vec<u32>, u64> {
        if let Some(shared) = self.shared.as_ref().and_then(Store::shared_limits) {
            return off_the_workers(|| shared.login_attempt(keys, LOCKOUT))
                .unwrap_or_else(|e| Err(refused(e)));
        }
        let mut map = self.memory.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > SWEEP_AT {
            map.retain(|_, (_, since)| now < *since + LOCKOUT);
        }
        let wait = keys
            .iter()
            .filter_map(|(k, max)| map.get(*k).map(|e| (e, *max)))
            .filter(|((n, since), max)| n >= max && now < *since + LOCKOUT)
            .map(|((_, since), _)| (*since + LOCKOUT - now).as_secs() + 1)
            .max();
        if let Some(wait) = wait {
            return Err(wait);
        }
        let mut before = Vec::with_capacity(keys.len());
        for (key, max) in keys {
            let entry = map.entry((*key).to_owned()).or_insert((0, now));
            if now >= entry.1 + LOCKOUT {
                *entry = (0, now);
            }
            before.push(entry.0);
            entry.0 += 1;
            if entry.0 == *max {
                // The lockout runs from the attempt that reached the limit.
                entry.1 = now;
            }
        }
        Ok(before)
    }

    /// Give an attempt back (it succeeded).
    pub fn succeeded(&self, keys: &[Limit]) {
        if let Some(shared) = self.shared.as_ref().and_then(Store::shared_limits) {
            let keys: Vec<&str> = keys.iter().map(|(k, _)| *k).collect();
            if let Err(e) = off_the_workers(|| shared.login_succeeded(&keys)) {
                refused(e);
            }
            return;
        }
        let mut map = self.memory.lock().unwrap_or_else(|e| e.into_inner());
        for (key, _) in keys {
            if let Some(entry) = map.get_mut(*key) {
                entry.0 = entry.0.saturating_sub(1);
            }
        }
    }

    pub fn clear(&self, key: &str) {
        if let Some(shared) = self.shared.as_ref().and_then(Store::shared_limits) {
            if let Err(e) = off_the_workers(|| shared.login_clear(key)) {
                refused(e);
            }
            return;
        }
        self.memory
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }
}

/// How long to hold a login for a name that failed `failures` times in the window
/// from anywhere: nothing up to [`MAX_FAILURES`], then a second more each time.
pub fn slowdown(failures: u32) -> Duration {
    let extra = failures.saturating_sub(MAX_FAILURES - 1);
    Duration::from_secs(u64::from(extra)).min(MAX_SLOWDOWN)
}

/// Sliding-window rates: at most `max` events per `window` for one key.
#[derive(Default)]
pub struct Rates {
    memory: Mutex<HashMap<String, Vec<Instant>>>,
    /// The store every process counts in, and this limit's prefix for its keys there.
    shared: Option<(Store, &'static str)>,
}

impl Rates {
    /// Counted in `store` (keys prefixed with `scope`) if other processes share it,
    /// else in memory.
    pub fn new(store: &Store, scope: &'static str) -> Self {
        Rates {
            memory: Mutex::default(),
            shared: store.is_shared().then(|| (store.clone(), scope)),
        }
    }

    /// Record an event for every key, or refuse all: seconds until one is allowed.
    pub fn allow(&self, keys: &[(&str, usize)], window: Duration, now: Instant) -> Result<(), u64> {
        if let Some((store, scope)) = &self.shared
            && let Some(shared) = store.shared_limits()
        {
            let scoped: Vec<String> = keys.iter().map(|(k, _)| format!("{scope}:{k}")).collect();
            let keys: Vec<(&str, usize)> = scoped
                .iter()
                .zip(keys)
                .map(|(k, (_, max))| (k.as_str(), *max))
                .collect();
            return off_the_workers(|| shared.rate_allow(&keys, window))
                .unwrap_or_else(|e| Err(refused(e)));
        }
        let mut map = self.memory.lock().unwrap_or_else(|e| e.into_inner());
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
    fn a_burst_gets_no_more_checks_than_the_limit() {
        let f = Failures::default();
        let t0 = Instant::now();
        let keys = [("pair:anna@1.2.3.4", MAX_FAILURES), ("name:anna", u32::MAX)];
        // Counted before any password check: the sixth of a burst is refused.
        for i in 0..MAX_FAILURES {
            assert_eq!(f.attempt(&keys, t0).map(|b| b[0]), Ok(i));
        }
        assert!(f.attempt(&keys, t0).is_err_and(|s| s > 800));
        // Another address may still try the same name (and is only slowed down).
        let elsewhere = [("pair:anna@5.6.7.8", MAX_FAILURES), ("name:anna", u32::MAX)];
        let before = f.attempt(&elsewhere, t0).unwrap();
        assert_eq!(slowdown(before[1]), Duration::from_secs(1));
        assert_eq!(slowdown(2), Duration::ZERO);
        assert_eq!(slowdown(1000), MAX_SLOWDOWN);
        // The window ends.
        assert!(f.attempt(&keys, t0 + LOCKOUT).is_ok());
    }

    #[test]
    fn a_successful_attempt_is_given_back() {
        let f = Failures::default();
        let t0 = Instant::now();
        let keys = [("pair:anna@1.2.3.4", MAX_FAILURES)];
        for _ in 0..MAX_FAILURES * 3 {
            assert!(f.attempt(&keys, t0).is_ok());
            f.succeeded(&keys);
        }
        f.clear("pair:anna@1.2.3.4");
        assert_eq!(f.attempt(&keys, t0), Ok(vec![0]));
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
