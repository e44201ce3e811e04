//! Whether the process holding an outbox lease is alive. Each process that takes leases
//! holds a session-level advisory lock named after it (`sportello-instance:NAME`) on a
//! connection of its own; the server frees it as soon as that connection closes, which
//! a killed process's does at once. A lease whose holder no longer holds its lock is
//! taken over then and there (`lease_outbox` tries the lock inside its statement),
//! not when it runs out: after a `kill -9` the customers it was answering wait for the
//! next dispatch, not for [`crate::store::OUTBOX_LEASE`].
//!
//! A process takes leases only while it holds its own lock: one whose lock connection
//! failed takes none until it holds it again (the others may be taking its leases over).

use super::PgStore;
use super::lead::{PING, lock_connection, until_lost};
use crate::store::{Result, StoreError};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// How long a first lease waits for the lock.
const WAIT: Duration = Duration::from_secs(10);

/// This process's presence lock, taken on first use.
#[derive(Default)]
pub(super) struct Presence {
    started: AtomicBool,
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Default)]
struct State {
    held: bool,
    /// Held at least once: from then on a lost lock is said at once, not waited for.
    ever: bool,
    /// Waited for once in vain: later calls say so at once until it is held.
    waited: bool,
}

/// The lock's key, in SQL, for the holder named by the text expression `holder`.
pub(super) fn key_of(holder: &str) -> String {
    format!("hashtextextended('sportello-instance:' || {holder}, 0)")
}

/// Instance names of processes that hold a presence lock start so: a lease of an
/// older process (a rolling upgrade), which holds none, is not taken over early.
pub(super) const MARK: &str = "p:";

impl Presence {
    fn set(&self, held: bool) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.held = held;
        state.ever |= held;
        self.changed.notify_all();
    }
}

impl PgStore {
    /// Whether this process holds its presence lock now. The first call starts
    /// holding it and waits for it (an error if it cannot be had); once it was held, a
    /// lost lock is false at once (the others may be taking this process's leases over:
    /// it must stop delivering until it holds the lock again).
    pub(super) fn present(&self) -> Result<bool> {
        let presence = self.presence.clone();
        if !presence.started.swap(true, Ordering::SeqCst) {
            self.hold_presence();
        }
        let state = presence.state.lock().unwrap_or_else(|p| p.into_inner());
        let (mut state, _) = presence
            .changed
            .wait_timeout_while(state, WAIT, |s| !s.ever && !s.waited)
            .unwrap_or_else(|p| p.into_inner());
        state.waited = true;
        if state.ever {
            Ok(state.held)
        } else {
            Err(StoreError::Io(std::io::Error::other(
                "this process cannot hold its presence lock on the database, so it takes no outbox lease",
            )))
        }
    }

    /// Whether this process may go on delivering under the leases it holds: false as
    /// soon as it knows its presence lock is lost (the others may be taking them over).
    pub(in crate::store) fn still_present(&self) -> bool {
        let state = self
            .presence
            .state
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        state.held || !state.ever
    }

    /// Take the lock on a connection of its own and keep it while the connection
    /// answers; connect and take it again after a failure. Ends with the pool.
    fn hold_presence(&self) {
        let config = self.pool.config().clone();
        let presence = self.presence.clone();
        let lock = format!("SELECT pg_advisory_lock({})", key_of("$1"));
        let instance = self.instance.as_str().to_owned();
        self.pool.spawn(async move {
            loop {
                if let Some((client, mut connection)) = lock_connection(&config).await {
                    let taken =
                        tokio::time::timeout(WAIT, client.execute(&lock, &[&instance])).await;
                    if taken.is_ok_and(|r| r.is_ok()) {
                        presence.set(true);
                        until_lost(&client, &mut connection).await;
                        presence.set(false);
                        tracing::warn!("the presence lock's connection failed: taking it again");
                    }
                    connection.abort();
                }
                tokio::time::sleep(PING).await;
            }
        });
    }
}
