//! Group commit. Every thread that must not acknowledge before its writes are on disk
//! asks for a flush; while one flush runs, the requests that arrive meanwhile wait and
//! are all covered by the next one. So a hundred concurrent messages cost a few fsyncs,
//! not a hundred, and nobody returns before a flush that started after its own write.
//!
//! The leader of a flush first gathers: while other threads are still handling a
//! message (they hold a [`Busy`] guard) and have not asked yet, it waits for them, up to
//! [`GATHER`]. Without this, on a busy two-core machine a flush covered about three
//! messages and the flushes' own work (a write, a `sync_file_range`, waking the
//! waiters) was a quarter of the CPU per message. A thread that is not handling a
//! message (nobody busy) is flushed for at once.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The longest a flush waits for the messages being handled to ask for it.
const GATHER: Duration = Duration::from_millis(2);

#[derive(Default)]
pub(super) struct GroupFlush {
    state: Mutex<State>,
    /// A flush finished (waiters check whether it covered them).
    finished: Condvar,
    /// A request arrived or a busy thread finished (the gathering leader checks).
    arrived: Condvar,
}

#[derive(Default)]
struct State {
    /// Requests handed out so far (each caller's ticket is the count at its request).
    requested: u64,
    /// Every request up to this one is on disk.
    flushed: u64,
    /// A flush is gathering or running (its leader holds no lock while it flushes).
    running: bool,
    /// The last failed flush: the requests up to `.0` it covered get its error.
    failed: Option<(u64, sled::Error)>,
    /// Flushes done, for the benchmark's batch size.
    flushes: u64,
    /// Threads handling a message now (holding a [`Busy`]), asked for a flush or not.
    busy: usize,
    /// The tickets of those that asked and are not flushed yet, oldest first.
    busy_asked: std::collections::VecDeque<u64>,
}

/// A thread is handling a message that it will flush: a gathering flush waits for it
/// (up to [`GATHER`]). Dropped when the thread's flush returned.
pub struct Busy<'a> {
    group: &'a GroupFlush,
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.group.lock().busy -= 1;
        self.group.arrived.notify_all();
    }
}

impl GroupFlush {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// This thread is handling a message it will flush (hold the guard until then).
    pub(super) fn busy(&self) -> Busy<'_> {
        self.lock().busy += 1;
        Busy { group: self }
    }

    /// Return once everything this thread wrote before calling is durable. `busy`: the
    /// guard this thread took for the message, if any.
    pub(super) fn flush(&self, db: &sled::Db, busy: Option<&Busy<'_>>) -> sled::Result<()> {
        let mut state = self.lock();
        state.requested += 1;
        let mine = state.requested;
        if busy.is_some() {
            state.busy_asked.push_back(mine);
        }
        self.arrived.notify_all();
        loop {
            if state.flushed >= mine {
                break Ok(());
            }
            if let Some((upto, e)) = &state.failed
                && *upto >= mine
            {
                break Err(e.clone());
            }
            if state.running {
                state = self.finished.wait(state).unwrap_or_else(|e| e.into_inner());
                continue;
            }
            // Lead: gather the messages still being handled, then one flush for every
            // request made so far.
            state.running = true;
            let deadline = Instant::now() + GATHER;
            while state.busy_asked.len() < state.busy {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                state = self
                    .arrived
                    .wait_timeout(state, left)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
            let target = state.requested;
            drop(state);
            let result = db.flush();
            state = self.lock();
            state.running = false;
            state.flushes += 1;
            match result {
                Ok(_) => state.flushed = state.flushed.max(target),
                Err(e) => state.failed = Some((target, e)),
            }
            // Whoever this flush covered has had their answer, flushed or failed.
            while state.busy_asked.front().is_some_and(|&t| t <= target) {
                state.busy_asked.pop_front();
            }
            self.finished.notify_all();
        }
    }

    /// (requests, flushes) so far.
    pub(super) fn counts(&self) -> (u64, u64) {
        let state = self.lock();
        (state.requested, state.flushes)
    }
}
