//! The mailbox reader: every unseen mail, oldest first, is stored (and answered) and
//! only then flagged `\Seen`, so a crash or restart never loses one (it is read again)
//! and never answers one twice (a mail's `Message-ID` is stored with it). Between
//! rounds it waits in IDLE where the server has it, else it polls.

use super::conn::{self, Session};
use super::inbound::{Ingested, ingest};
use super::{EmailConfig, Status};
use crate::service::Service;
use futures_util::TryStreamExt;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::watch;

/// IDLE is renewed this often (RFC 2177 asks for less than 29 minutes).
const IDLE_RENEW: Duration = Duration::from_secs(10 * 60);
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// The longest an IMAP command may take (a fetch of a large mail included).
const COMMAND: Duration = Duration::from_secs(120);

/// Read the mailbox until `stop`, reconnecting after errors.
pub async fn run(
    service: Arc<Service>,
    config: Arc<EmailConfig>,
    status: Arc<Status>,
    mut stop: watch::Receiver<bool>,
) {
    let mut backoff = Duration::from_secs(1);
    loop {
        match session(&service, &config, &status, &mut stop).await {
            Ok(()) => return,
            Err(e) => {
                status.connected.store(false, Ordering::Relaxed);
                status.errors.fetch_add(1, Ordering::Relaxed);
                status.set_error(Some(format!("{e:#}")));
                tracing::warn!("email: {e:#}; connecting again in {backoff:?}");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = stop.changed() => return,
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// One connection: read what is new, wait, again; Ok when asked to stop. Every
/// command has a deadline: a connection dropped silently (a NAT, a server gone) is
/// noticed and opened again.
async fn session(
    service: &Arc<Service>,
    config: &EmailConfig,
    status: &Status,
    stop: &mut watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let secrets = &config.secrets;
    let shop = secrets.shop_address();
    let tls = conn::tls_config(secrets.ca_pem.as_deref())?;
    let mut session =
        within("login", conn::login(&secrets.imap, &secrets.password, &tls)).await??;
    within("SELECT", session.select(&secrets.mailbox)).await??;
    let idle = within("CAPABILITY", session.capabilities())
        .await??
        .has_str("IDLE");
    status.connected.store(true, Ordering::Relaxed);
    status.idle.store(idle, Ordering::Relaxed);
    status.set_error(None);
    tracing::info!(
        "email: reading {} on {} ({})",
        secrets.mailbox,
        secrets.imap.host,
        if idle { "IDLE" } else { "polling" }
    );
    loop {
        // What the server said besides answers (a new mail's EXISTS) is read by the
        // search below; anything said after it shows here once IDLE has started.
        let unsolicited = session.unsolicited_responses.clone();
        while unsolicited.try_recv().is_ok() {}
        read_new(&mut session, service, status, &shop).await?;
        if *stop.borrow() {
            let _ = within("LOGOUT", session.logout()).await;
            return Ok(());
        }
        if idle {
            let mut handle = session.idle();
            within("IDLE", handle.init()).await??;
            if !unsolicited.is_empty() {
                // Mail arrived between the search and IDLE: read it now.
                session = within("DONE", handle.done()).await??;
                continue;
            }
            let stopped = {
                let (wait, _interrupt) = handle.wait_with_timeout(IDLE_RENEW);
                // The library's timer restarts on every keepalive: ours does not.
                tokio::select! {
                    r = wait => { r?; false }
                    _ = tokio::time::sleep(IDLE_RENEW) => false,
                    _ = stop.changed() => true,
                }
            };
            session = within("DONE", handle.done()).await??;
            if stopped {
                let _ = within("LOGOUT", session.logout()).await;
                return Ok(());
            }
        } else {
            let every = config
                .settings
                .poll_every
                .to_std()
                .unwrap_or(Duration::from_secs(60));
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = stop.changed() => {
                    let _ = within("LOGOUT", session.logout()).await;
                    return Ok(());
                }
            }
        }
    }
}

/// `work` within [`COMMAND`], or an error naming it.
async fn within<T>(what: &str, work: impl Future<Output = T>) -> anyhow::Result<T> {
    tokio::time::timeout(COMMAND, work)
        .await
        .map_err(|_| anyhow::anyhow!("IMAP {what}: no answer in {} s", COMMAND.as_secs()))
}

/// Every unseen mail, oldest first: stored, then flagged.
async fn read_new(
    session: &mut Session,
    service: &Arc<Service>,
    status: &Status,
    shop: &str,
) -> anyhow::Result<()> {
    let found = within("SEARCH", session.uid_search("UNSEEN")).await??;
    let mut uids: Vec<u32> = found.into_iter().collect();
    uids.sort_unstable();
    for uid in uids {
        let raw = within("FETCH", async {
            let mut fetched = session.uid_fetch(uid.to_string(), "BODY.PEEK[]").await?;
            let mut raw = None;
            while let Some(fetch) = fetched.try_next().await? {
                if let Some(body) = fetch.body() {
                    raw = Some(body.to_vec());
                }
            }
            Ok::<_, async_imap::error::Error>(raw)
        })
        .await??;
        let Some(raw) = raw else { continue };
        let (service, shop) = (service.clone(), shop.to_owned());
        let outcome =
            tokio::task::spawn_blocking(move || ingest(&service, &raw, &shop, chrono::Utc::now()))
                .await
                .map_err(|e| anyhow::anyhow!("storing a mail: {e}"))??;
        status.count(&outcome);
        if let Ingested::Unreadable(why) = &outcome {
            tracing::warn!("email: mail {uid} is not a customer message ({why}); flagged as read");
        }
        within("STORE", async {
            let flagged: Vec<_> = session
                .uid_store(uid.to_string(), "+FLAGS (\\Seen)")
                .await?
                .try_collect()
                .await?;
            drop(flagged);
            Ok::<_, async_imap::error::Error>(())
        })
        .await??;
    }
    Ok(())
}
