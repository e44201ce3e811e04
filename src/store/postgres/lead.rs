//! One leader among the processes on a database, for work only one of them may do
//! (Telegram's long polling): a session-level advisory lock held on a connection of
//! its own. When the leader dies its connection closes and the lock is free: the
//! others, trying every two seconds, take over.

use super::PgStore;
use crate::store::Leadership;
use std::time::Duration;
use tokio::sync::{oneshot, watch};
use tokio_postgres::{Client, NoTls};

/// How often a process that does not lead tries again.
const RETRY: Duration = Duration::from_secs(2);
/// How often a lock's connection is checked, and how long a check may take.
pub(super) const PING: Duration = Duration::from_secs(3);

type Driver = tokio::task::JoinHandle<Result<(), tokio_postgres::Error>>;

/// A connection of its own for a session-level lock, its driver spawned. The server
/// is asked for TCP keepalives, so that it frees the lock of a client that vanished
/// (no FIN: power, partition) within about ten seconds, not TCP's two hours. None if
/// it cannot be had now.
pub(super) async fn lock_connection(config: &tokio_postgres::Config) -> Option<(Client, Driver)> {
    let (client, connection) = config.connect(NoTls).await.ok()?;
    let connection = tokio::spawn(connection);
    let keepalives = "SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 2;
                      SET tcp_keepalives_count = 3";
    if client.batch_execute(keepalives).await.is_err() {
        connection.abort();
        return None;
    }
    Some((client, connection))
}

/// Return once a lock's connection fails: it closed, or a ping failed or took longer
/// than [`PING`] (so a lock is given up before the server hands it to another process).
pub(super) async fn until_lost(client: &Client, connection: &mut Driver) {
    loop {
        tokio::select! {
            _ = &mut *connection => return,
            _ = tokio::time::sleep(PING) => {
                let ping = client.simple_query("SELECT 1");
                if !matches!(tokio::time::timeout(PING, ping).await, Ok(Ok(_))) {
                    return;
                }
            }
        }
    }
}

impl PgStore {
    pub(in crate::store) async fn lead(&self, name: &str) -> Leadership {
        let config = self.pool.config().clone();
        let key = name.to_owned();
        let (won, won_rx) = oneshot::channel::<()>();
        let (lost, lost_rx) = watch::channel(false);
        let (release, released) = oneshot::channel::<()>();
        self.pool.spawn(async move {
            let (won, mut released) = (Some(won), released);
            loop {
                let Some((client, mut connection)) = lock_connection(&config).await else {
                    tokio::time::sleep(RETRY).await;
                    continue;
                };
                loop {
                    let locked = client
                        .query_one(
                            "SELECT pg_try_advisory_lock(hashtextextended($1, 0))",
                            &[&key],
                        )
                        .await;
                    match locked {
                        Ok(row) if row.get::<_, bool>(0) => {
                            if let Some(won) = won {
                                let _ = won.send(());
                            }
                            tokio::select! {
                                _ = &mut released => return,
                                () = until_lost(&client, &mut connection) => {}
                            }
                            tracing::warn!("lost the lead of {key}: its connection failed");
                            let _ = lost.send(true);
                            return;
                        }
                        Ok(_) => tokio::time::sleep(RETRY).await,
                        Err(_) => break,
                    }
                    if released.try_recv().is_ok() {
                        return;
                    }
                }
            }
        });
        // The task ends (without leading) only when the pool does.
        let _ = won_rx.await;
        Leadership {
            lost: Some(lost_rx),
            _release: Some(release),
        }
    }
}
