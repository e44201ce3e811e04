//! Changes between the processes on one database: `NOTIFY` after a commit, and a
//! connection of its own `LISTEN`ing (reconnected if it drops), each notification
//! handed to the process's own feed. A process skips its own: it told its watchers
//! already. Once a dropped connection listens again the feed hears of the gap
//! ([`Heard::Gap`]): what was published meanwhile is lost, and watchers reload.

use super::PgStore;
use crate::store::{Heard, Result};
use futures_util::StreamExt;
use std::time::Duration;
use tokio_postgres::{AsyncMessage, NoTls};

/// The channel name (one per database: `NOTIFY` is scoped to it).
const CHANNEL: &str = "sportello_changes";

/// Longest payload `NOTIFY` takes (8000 bytes): a bigger change is not sent.
const MAX_PAYLOAD: usize = 7_900;

impl PgStore {
    /// Tell the other processes: `payload` reaches their listeners.
    pub(in crate::store) fn publish(&self, payload: &str) -> Result<()> {
        if payload.len() > MAX_PAYLOAD {
            tracing::warn!("a change too big to tell the other instances was dropped");
            return Ok(());
        }
        let message = format!("{}\n{payload}", self.instance);
        self.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &message])?;
        Ok(())
    }

    /// Call `on` with every payload another process publishes, from now on, until the
    /// store is dropped.
    pub(in crate::store) fn listen(&self, on: Box<dyn Fn(Heard<'_>) + Send + Sync>) {
        let config = self.pool.config().clone();
        let instance = self.instance.clone();
        self.pool.spawn(async move {
            let mut again = false;
            loop {
                match listen_once(&config, &instance, &on, &mut again).await {
                    Ok(()) => tracing::warn!("the change listener's connection closed"),
                    Err(e) => tracing::warn!("the change listener's connection failed: {e}"),
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    }
}

/// One connection's worth of listening: returns when it ends. `again`: whether it
/// listened before (then, listening anew, it tells of the gap), set once it listens.
async fn listen_once(
    config: &tokio_postgres::Config,
    instance: &str,
    on: &(dyn Fn(Heard<'_>) + Send + Sync),
    again: &mut bool,
) -> std::result::Result<(), tokio_postgres::Error> {
    let (client, mut connection) = config.connect(NoTls).await?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let driver = tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(AsyncMessage::Notification(n)) => {
                    let _ = tx.send(n.payload().to_owned());
                }
                Ok(_) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    });
    client.batch_execute(&format!("LISTEN {CHANNEL}")).await?;
    if std::mem::replace(again, true) {
        on(Heard::Gap);
    }
    while let Some(message) = rx.recv().await {
        if let Some((from, payload)) = message.split_once('\n')
            && from != instance
        {
            on(Heard::Change(payload));
        }
    }
    drop(client);
    match driver.await {
        Ok(ended) => ended,
        Err(_) => Ok(()),
    }
}
