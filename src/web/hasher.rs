//! Password hashing (argon2id, 19 MiB of memory each) on a few threads of its own,
//! behind a short line: a flood of logins is refused at once (503) instead of queueing
//! work and memory. On the shared blocking pool each new thread would keep its own
//! 19 MiB malloc arena, and memory would grow with the flood and stay grown.

use super::ApiError;
use axum::http::StatusCode;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};

type Job = Box<dyn FnOnce() + Send>;

pub struct Hasher {
    jobs: SyncSender<Job>,
}

impl Hasher {
    /// `threads` hashing at once, `line` more waiting at most.
    pub fn new(threads: usize, line: usize) -> Self {
        let (jobs, queue) = sync_channel::<Job>(line);
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..threads {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("hasher-{i}"))
                .spawn(move || work(&queue));
            if let Err(e) = spawned {
                tracing::error!("cannot start a password hashing thread: {e}");
            }
        }
        Self { jobs }
    }

    /// Run `job` (a password check or hash) on a hashing thread, or refuse at once
    /// when the line is full.
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let (done, result) = tokio::sync::oneshot::channel();
        let sent = self.jobs.try_send(Box::new(move || {
            let _ = done.send(job());
        }));
        match sent {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(busy()),
            Err(TrySendError::Disconnected(_)) => {
                return Err(ApiError::internal(&"the password hashing threads stopped"));
            }
        }
        result
            .await
            .map_err(|_| ApiError::internal(&"a password check was dropped"))?
    }
}

fn work(queue: &Mutex<Receiver<Job>>) {
    loop {
        let job = match queue.lock().unwrap_or_else(|e| e.into_inner()).recv() {
            Ok(job) => job,
            Err(_) => return,
        };
        job();
    }
}

fn busy() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "the server is busy signing people in: try again in a moment",
    )
    .with_code("busy")
}
