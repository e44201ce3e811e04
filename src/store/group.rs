//! Group commit. Every thread that must not acknowledge before its writes are on disk
//! asks for a flush; while one flush runs, the requests that arrive meanwhile wait and
//! are all covered by the next one. So a hundred concurrent messages cost a few fsyncs,
//! not a hundred, and nobody returns before a flush that started after its own write.

use std::sync::{Condvar, Mutex, MutexGuard};

#[derive(Default)]
pub(super) struct GroupFlush {
    state: Mutex<State>,
    finished: Condvar,
}

#[derive(Default)]
struct State {
    /// Requests handed out so far (each caller's ticket is the count at its request).
    requested: u64,
    /// Every request up to this one is on disk.
    flushed: u64,
    /// A flush is running (its leader holds no lock while it runs).
    running: bool,
    /// The last failed flush: the requests up to `.0` it covered get its error.
    failed: Option<(u64, sled::Error)>,
    /// Flushes done, for the benchmark's batch size.
    flushes: u64,
}

impl GroupFlush {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Return once everything this thread wrote before calling is durable.
    pub(super) fn flush(&self, db: &sled::Db) -> sled::Result<()> {
        let mut state = self.lock();
        state.requested += 1;
        let mine = state.requested;
        loop {
            if state.flushed >= mine {
                return Ok(());
            }
            if let Some((upto, e)) = &state.failed
                && *upto >= mine
            {
                return Err(e.clone());
            }
            if state.running {
                state = self.finished.wait(state).unwrap_or_else(|e| e.into_inner());
                continue;
            }
            // Lead: one flush for every request made so far.
            state.running = true;
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
            self.finished.notify_all();
        }
    }

    /// (requests, flushes) so far.
    pub(super) fn counts(&self) -> (u64, u64) {
        let state = self.lock();
        (state.requested, state.flushes)
    }
}
