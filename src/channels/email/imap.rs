//! The mailbox reader: every new mail, oldest first, is stored (and answered) and only
//! then flagged `\Seen`, so a crash or restart never loses one (it is read again) and
//! never answers one twice (a mail's `Message-ID` is stored with it). "New" is by IMAP
//! UID, after the last one stored ([`MailboxMark`]): a mail a person opened first is
//! still read. The very first time (or when the folder was recreated) the unseen ones
//! are read. Between rounds it waits in IDLE where the server has it, else it polls.

use super::conn::{self, Session};
use super::inbound::{Ingested, ingest};
use super::{EmailConfig, Status};
use crate::channels::dispatch::blocking;
use crate::service::Service;
use crate::store::MailboxMark;
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
    let selected = within("SELECT", session.select(&secrets.mailbox)).await??;
    let mut place = Place::find(service, &secrets.mailbox, &selected).await?;
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
        read_new(&mut session, service, status, &shop, &mut place).await?;
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

/// Where reading stands in the selected folder.
struct Place {
    mailbox: String,
    /// The folder's UIDVALIDITY (servers without UIDs are read by `\Seen` alone).
    validity: Option<u32>,
    /// The last mail stored; None before the first round in this folder.
    last: Option<u32>,
    /// After a first round by `\Seen`: the newest mail there was at SELECT.
    first_floor: Option<u32>,
}

impl Place {
    async fn find(
        service: &Arc<Service>,
        mailbox: &str,
        selected: &async_imap::types::Mailbox,
    ) -> anyhow::Result<Place> {
        let (store, name) = (service.store().clone(), mailbox.to_owned());
        let mark = blocking(move || store.mailbox_mark(&name)).await?;
        let validity = selected.uid_validity;
        let last = mark
            .filter(|m| Some(m.uid_validity) == validity)
            .map(|m| m.last_uid);
        Ok(Place {
            mailbox: mailbox.to_owned(),
            validity,
            last,
            first_floor: selected.uid_next.map(|n| n.saturating_sub(1)),
        })
    }

    /// The search for the mails to read now.
    fn query(&self) -> String {
        match self.last {
            Some(last) => format!("UID {}:*", last.saturating_add(1)),
            None => "UNSEEN".into(),
        }
    }

    /// Move the mark to `uid` (kept in the store).
    async fn advance(&mut self, service: &Arc<Service>, uid: u32) -> anyhow::Result<()> {
        let Some(validity) = self.validity else {
            return Ok(());
        };
        let last = self.last.map_or(uid, |l| l.max(uid));
        self.last = Some(last);
        let (store, name) = (service.store().clone(), self.mailbox.clone());
        let mark = MailboxMark {
            uid_validity: validity,
            last_uid: last,
        };
        blocking(move || store.set_mailbox_mark(&name, mark)).await?;
        Ok(())
    }
}

/// Every new mail, oldest first: stored, then flagged, then the mark moves past it.
async fn read_new(
    session: &mut Session,
    service: &Arc<Service>,
    status: &Status,
    shop: &str,
    place: &mut Place,
) -> anyhow::Result<()> {
    let first_round = place.last.is_none();
    let found = within("SEARCH", session.uid_search(place.query())).await??;
    // `UID n:*` also names the newest mail when it is older than n.
    let after = place.last.unwrap_or(0);
    let mut uids: Vec<u32> = found.into_iter().filter(|u| *u > after).collect();
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
        let (svc, shop) = (service.clone(), shop.to_owned());
        let outcome =
            tokio::task::spawn_blocking(move || ingest(&svc, &raw, &shop, chrono::Utc::now()))
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
        place.advance(service, uid).await?;
    }
    if first_round {
        // The first round read the unseen ones: from now on, whatever comes after the
        // newest mail there was then (the ones already read stay read).
        if let Some(floor) = place.first_floor {
            place.advance(service, floor).await?;
        }
    }
    Ok(())
}
