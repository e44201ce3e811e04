//! One leader among the processes on a database, for work only one of them may do
//! (Telegram's long polling): a session-level advisory lock held on a connection of
//! its own. When the leader dies its connection closes and the lock is free: the
//! others, trying every two seconds, take over.

use super::PgStore;
use crate::store::Leadership;
use std::time::Duration;
use tokio::sync::{oneshot, watch};
use tokio_postgres::NoTls;

/// How often a process that does not lead tries again.
const RETRY: Duration = Duration::from_secs(2);
/// How often the leader checks its lock's connection, and how long a check may take.
const PING: Duration = Duration::from_secs(3);

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
                let Ok((client, connection)) = config.connect(NoTls).await else {
                    tokio::time::sleep(RETRY).await;
                    continue;
                };
                let mut connection = tokio::spawn(connection);
                // The server frees the lock of a client that vanished (no FIN: power,
                // partition) within about ten seconds, not TCP's two hours.
                let keepalives = "SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 2;
                                  SET tcp_keepalives_count = 3";
                if client.batch_execute(keepalives).await.is_err() {
                    continue;
                }
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
                            // Held while the connection answers; a ping that fails or
                            // takes too long gives the lead up before the server
                            // (keepalives above) hands it to another process.
                            loop {
                                tokio::select! {
                                    _ = &mut released => return,
                                    _ = &mut connection => break,
                                    _ = tokio::time::sleep(PING) => {
                                        let ping = client.simple_query("SELECT 1");
                                        if !matches!(tokio::time::timeout(PING, ping).await, Ok(Ok(_))) {
                                            break;
                                        }
                                    }
                                }
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
