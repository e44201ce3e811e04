//! Connections to the database, driven by a runtime on a thread of their own, and the
//! synchronous [`Pool::run`] the backend's calls go through.

use crate::store::{Result, StoreError};
use std::sync::{Condvar, Mutex};
use tokio_postgres::{Client, Config, NoTls};

/// At most this many connections per process (a turn holds one while it runs).
const MAX_CONNECTIONS: usize = 16;

pub(super) struct Pool {
    config: Config,
    /// Drives the connections; dropped (and its thread ended) with the pool.
    driver: tokio::runtime::Handle,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    idle: Mutex<Idle>,
    returned: Condvar,
}

struct Idle {
    clients: Vec<Client>,
    /// Connections open now, idle or in use.
    open: usize,
}

impl Pool {
    pub(super) fn new(config: Config) -> Result<Pool> {
        let (handle_tx, handle_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("postgres".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime for the database connections");
                let _ = handle_tx.send(runtime.handle().clone());
                runtime.block_on(async {
                    let _ = stopped.await;
                });
            })?;
        let driver = handle_rx
            .recv()
            .map_err(|_| StoreError::Io(std::io::Error::other("the database thread died")))?;
        let pool = Pool {
            config,
            driver,
            stop: Some(stop),
            idle: Mutex::new(Idle {
                clients: Vec::new(),
                open: 0,
            }),
            returned: Condvar::new(),
        };
        // Fail at open, with the server's reason, rather than at the first message. (It
        // is counted like any other: one the server cut later is let go of once.)
        let client = pool.take()?;
        pool.put_back(client);
        Ok(pool)
    }

    pub(super) fn config(&self) -> &Config {
        &self.config
    }

    /// Run `task` on the connections' runtime (it ends with the pool).
    pub(super) fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        self.driver.spawn(task);
    }

    /// Run `work` on a connection, waiting here for it. The connection goes back to
    /// the pool afterwards, or its place is freed if `work` panicked.
    pub(super) fn run<T>(&self, work: impl AsyncFnOnce(&mut Client) -> Result<T>) -> Result<T> {
        let mut lent = Lent {
            pool: self,
            client: Some(self.take()?),
        };
        let client = lent.client.as_mut().expect("lent until dropped");
        futures_executor::block_on(work(client))
    }

    fn take(&self) -> Result<Client> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            while let Some(client) = idle.clients.pop() {
                if !client.is_closed() {
                    return Ok(client);
                }
                idle.open -= 1;
            }
            if idle.open < MAX_CONNECTIONS {
                idle.open += 1;
                drop(idle);
                return self.connect().inspect_err(|_| {
                    self.idle.lock().unwrap_or_else(|p| p.into_inner()).open -= 1;
                    self.returned.notify_one();
                });
            }
            idle = self.returned.wait(idle).unwrap_or_else(|p| p.into_inner());
        }
    }

    fn put_back(&self, client: Client) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if client.is_closed() {
            idle.open -= 1;
        } else {
            idle.clients.push(client);
        }
        self.returned.notify_one();
    }

    /// A new connection, its driver spawned on the pool's runtime.
    fn connect(&self) -> Result<Client> {
        let config = self.config.clone();
        let connecting = self.driver.spawn(async move {
            let (client, connection) = config.connect(NoTls).await?;
            tokio::spawn(async move {
                if let Err(e) = connection.await {
                    tracing::warn!("database connection ended: {e}");
                }
            });
            Ok::<_, tokio_postgres::Error>(client)
        });
        match futures_executor::block_on(connecting) {
            Ok(Ok(client)) => Ok(client),
            Ok(Err(e)) => Err(StoreError::Postgres(e)),
            Err(e) => Err(StoreError::Io(std::io::Error::other(e))),
        }
    }
}

/// A connection taken from the pool: given back when dropped (a panic included).
struct Lent<'a> {
    pool: &'a Pool,
    client: Option<Client>,
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            if std::thread::panicking() {
                // Maybe mid-transaction: not lent again.
                let mut idle = self.pool.idle.lock().unwrap_or_else(|p| p.into_inner());
                idle.open -= 1;
                self.pool.returned.notify_one();
            } else {
                self.pool.put_back(client);
            }
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        let idle = self.idle.get_mut().unwrap_or_else(|p| p.into_inner());
        idle.clients.clear();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
