//! One outbox dispatcher for every channel. It drains the outbox per customer, in
//! order, one sender task per customer (a slow or rate-limited chat never holds up the
//! others), and calls the channel's small [`Sender`] for one message at a time:
//! retried with backoff on network errors and 5xx, waiting out rate limits, given up
//! (kept in the store's `failed` tree) after `give_up_after`, a customer who cannot be
//! reached marked so. Outside a channel's service window (WhatsApp's 24 hours) the
//! channel's "write to us" template goes out once and the replies wait, in the outbox,
//! until the customer writes. A message leaves the outbox only after the channel took
//! it, and that is flushed at once: a crash can repeat at most the message in flight,
//! never lose one. In a backlog (replies held for a day, an outage) a queue status
//! overtaken by a newer one is not sent: the customer hears where they stand now, once
//! (the transcript keeps every line).

mod attempts;
mod backlog;

use crate::domain::{ChannelKind, CustomerId, Lang, Outbound};
use crate::service::Service;
use attempts::{deliver, record};
use backlog::overtaken;
use chrono::{DateTime, Utc};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, watch};

const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// How often the outbox is looked at when nothing wakes the dispatcher.
const IDLE_SCAN: Duration = Duration::from_millis(500);

/// What became of one call to the channel.
#[derive(Debug, Clone, PartialEq)]
pub enum Attempt {
    Sent,
    /// Worth sending again: after `after` if the channel said (a rate limit), else
    /// after the dispatcher's own backoff.
    Retry {
        after: Option<Duration>,
        rate_limited: bool,
        why: String,
    },
    /// This message cannot be delivered: kept in `failed` with the reason.
    GiveUp(String),
    /// The customer cannot be reached (blocked the bot, no such account).
    Unreachable(String),
    /// Outside the service window: only a template may be sent.
    NeedsTemplate,
    /// The channel cannot send anything (a refused token): it stops, the outbox waits.
    Fatal(String),
}

/// A channel's side of delivery: one message at a time.
pub trait Sender: Send + Sync + 'static {
    fn kind(&self) -> ChannelKind;

    /// How many messages `out` becomes on this channel (a long answer is split).
    fn parts(&self, out: &Outbound) -> usize;

    /// Send part `part` (from 0) of `out`.
    fn send(&self, out: &Outbound, part: usize) -> impl Future<Output = Attempt> + Send;

    /// How many messages may be on their way at once, across customers (None: one per
    /// customer). A crash can repeat only what was in flight: email sends one at a
    /// time, so that a crash repeats at most one mail.
    fn max_in_flight(&self) -> Option<usize> {
        None
    }

    /// How long after the customer's last message free-form messages may be sent
    /// (the channel's own rule, `ChannelKind::service_window`); None: always.
    fn window(&self) -> Option<chrono::Duration> {
        self.kind().service_window()
    }

    /// Outside the window: ask the customer to write back (a pre-approved template).
    /// None when the channel has none configured.
    fn reopen(
        &self,
        customer: &CustomerId,
        lang: Lang,
    ) -> impl Future<Output = Option<Attempt>> + Send {
        let _ = (customer, lang);
        std::future::ready(None)
    }
}

/// Delivery counters, for `/metrics` (`sportello_<channel>_replies_total{outcome}`).
#[derive(Debug, Default)]
pub struct Stats {
    pub sent: AtomicU64,
    pub retries: AtomicU64,
    pub rate_limited: AtomicU64,
    pub failed: AtomicU64,
    /// Replies left waiting for the customer (outside the window).
    pub held: AtomicU64,
    pub templates: AtomicU64,
    /// Queue statuses not sent: a newer one followed them in the backlog.
    pub superseded: AtomicU64,
}

impl Stats {
    pub fn snapshot(&self) -> Vec<(&'static str, u64)> {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        vec![
            ("sent", get(&self.sent)),
            ("retries", get(&self.retries)),
            ("rate_limited", get(&self.rate_limited)),
            ("failed", get(&self.failed)),
            ("held", get(&self.held)),
            ("templates", get(&self.templates)),
            ("superseded", get(&self.superseded)),
        ]
    }
}

/// A running dispatcher: what the web side reads, and how `serve` stops it.
pub struct Delivery {
    pub kind: ChannelKind,
    pub stats: Stats,
    /// Rung after every stored message and operator action, so replies go out at once.
    pub wake: Notify,
    /// Why the channel stopped sending (a refused token), for `/healthz`.
    fatal: Mutex<Option<String>>,
    /// Customers whose sender is running (one at a time per customer).
    busy: Mutex<HashSet<CustomerId>>,
    stopping: AtomicBool,
    give_up_after: chrono::Duration,
    /// Set when the channel limits the messages in flight (from send to recorded).
    in_flight: Option<tokio::sync::Semaphore>,
    service: Arc<Service>,
}

impl Delivery {
    /// Start delivering `sender`'s channel until `stop`.
    pub fn start<S: Sender>(
        service: Arc<Service>,
        sender: Arc<S>,
        give_up_after: chrono::Duration,
        stop: watch::Receiver<bool>,
    ) -> Arc<Delivery> {
        let delivery = Arc::new(Delivery {
            kind: sender.kind(),
            stats: Stats::default(),
            wake: Notify::new(),
            fatal: Mutex::new(None),
            busy: Mutex::default(),
            stopping: AtomicBool::new(false),
            give_up_after,
            in_flight: sender.max_in_flight().map(tokio::sync::Semaphore::new),
            service,
        });
        let what = format!("the {} dispatcher", delivery.kind);
        super::supervise(what, scan(delivery.clone(), sender, stop.clone()));
        tokio::spawn(wake_on_changes(delivery.clone(), stop));
        delivery
    }

    /// Why the channel stopped sending, if it did.
    pub fn fatal(&self) -> Option<String> {
        self.fatal.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Stop sending (the channel cannot); messages wait in the outbox for a restart.
    pub fn stop_channel(&self, why: &str) {
        tracing::error!("{}: stopped sending: {why}", self.kind);
        *self.fatal.lock().unwrap_or_else(|e| e.into_inner()) = Some(why.to_owned());
        self.stopping.store(true, Ordering::SeqCst);
    }

    /// Stop starting new messages and wait (at most `grace`) for the ones in flight to
    /// be recorded, so that a normal stop repeats nothing.
    pub async fn drain(&self, grace: Duration) {
        self.stopping.store(true, Ordering::SeqCst);
        let start = std::time::Instant::now();
        while !self.busy().is_empty() && start.elapsed() < grace {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn busy(&self) -> std::sync::MutexGuard<'_, HashSet<CustomerId>> {
        self.busy.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Scan the outbox and start a sender for every customer of the channel with pending
/// messages, none running and nothing held, until `stop`.
async fn scan<S: Sender>(delivery: Arc<Delivery>, sender: Arc<S>, mut stop: watch::Receiver<bool>) {
    loop {
        let store = delivery.service.store().clone();
        let kind = delivery.kind;
        let due = blocking(move || {
            let mut due = Vec::new();
            for customer in store.outbox_customers(kind)? {
                if store.held(&customer)?.is_none() {
                    due.push(customer);
                }
            }
            Ok(due)
        });
        match due.await {
            Ok(customers) => start_senders(&delivery, &sender, customers),
            Err(e) => tracing::error!("{kind}: cannot read the outbox: {e}"),
        }
        tokio::select! {
            _ = delivery.wake.notified() => {}
            _ = tokio::time::sleep(IDLE_SCAN) => {}
            _ = stop.changed() => return,
        }
    }
}

/// The scan only says which customers; each sender reads its customer's outbox itself
/// once it holds the customer, so a message acknowledged since the scan is never sent
/// again.
fn start_senders<S: Sender>(delivery: &Arc<Delivery>, sender: &Arc<S>, customers: Vec<CustomerId>) {
    if delivery.stopping.load(Ordering::SeqCst) {
        return;
    }
    for customer in customers {
        if !delivery.busy().insert(customer.clone()) {
            continue;
        }
        let (delivery, sender) = (delivery.clone(), sender.clone());
        tokio::spawn(async move {
            let drained = drain_leased(&delivery, sender.as_ref(), &customer).await;
            delivery.busy().remove(&customer);
            if drained {
                delivery.wake.notify_one();
            }
        });
    }
}

/// Drain the customer's outbox while holding their outbox lease (another process on
/// the same store holds it: false, and the next scan tries again), renewed every third
/// of its length; given back when done. Losing it (it ran out) stops the drain.
async fn drain_leased<S: Sender>(delivery: &Delivery, sender: &S, customer: &CustomerId) -> bool {
    if !lease(delivery, customer).await {
        return false;
    }
    let drain = drain_customer(delivery, sender, customer);
    tokio::pin!(drain);
    let mut renew = tokio::time::interval(crate::store::OUTBOX_LEASE / 3);
    renew.tick().await;
    loop {
        tokio::select! {
            _ = &mut drain => break,
            _ = renew.tick() => {
                // Stop only when another process holds it; a failed renewal (the
                // database hiccuped) is tried again at the next tick.
                if renew_lease(delivery, customer).await == Some(false) {
                    tracing::warn!("{}: lost the outbox lease of {customer}", delivery.kind);
                    return false;
                }
            }
        }
    }
    let (store, who) = (delivery.service.store().clone(), customer.clone());
    if let Err(e) = blocking(move || store.end_outbox_lease(&who)).await {
        tracing::warn!("{}: cannot give back a lease: {e}", delivery.kind);
    }
    true
}

async fn lease(delivery: &Delivery, customer: &CustomerId) -> bool {
    renew_lease(delivery, customer).await == Some(true)
}

/// Take or renew the lease: whether it is ours, None if the store failed.
async fn renew_lease(delivery: &Delivery, customer: &CustomerId) -> Option<bool> {
    let (store, who) = (delivery.service.store().clone(), customer.clone());
    match blocking(move || store.lease_outbox(&who)).await {
        Ok(held) => Some(held),
        Err(e) => {
            tracing::error!("{}: cannot take an outbox lease: {e}", delivery.kind);
            None
        }
    }
}

/// Send the customer's messages in order until their outbox is empty, the channel
/// stops, the replies are held, or the store fails (the rest waits for the next scan).
async fn drain_customer<S: Sender>(delivery: &Delivery, sender: &S, customer: &CustomerId) {
    loop {
        let (store, who) = (delivery.service.store().clone(), customer.clone());
        // Only messages already on disk go out: one of a batch not yet flushed (group
        // commit) would otherwise be sent again if a crash lost the message it answers.
        let queue = blocking(move || {
            let queue = store.pending_outbox(&who)?;
            store.flush()?;
            Ok(queue)
        });
        let queue = match queue.await {
            Ok(queue) if !queue.is_empty() => queue,
            Ok(_) => return,
            Err(e) => return tracing::error!("cannot read the outbox: {e}"),
        };
        let overtaken = overtaken(&queue);
        for ((key, out), overtaken) in queue.into_iter().zip(overtaken) {
            // A process that lost its presence stops at once, not at the next renewal.
            if delivery.stopping.load(Ordering::SeqCst) || !delivery.service.store().may_deliver() {
                return;
            }
            if overtaken {
                if !record(delivery, &key, &out, attempts::Outcome::Superseded).await {
                    return;
                }
                continue;
            }
            // A channel's in-flight permit is held from the send until the outcome is
            // on disk.
            let Some((outcome, _permit)) = deliver(delivery, sender, &out).await else {
                return;
            };
            if !record(delivery, &key, &out, outcome).await {
                return;
            }
        }
    }
}

/// Whether free-form messages may not be sent now: past the window since the
/// customer's last message (or they never wrote).
pub fn window_closed(
    window: Option<chrono::Duration>,
    last_inbound: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> bool {
    window.is_some_and(|w| last_inbound.is_none_or(|at| now - at >= w))
}

/// A message written elsewhere (an operator in the console) starts its sender at once,
/// without waiting for the next outbox scan.
async fn wake_on_changes(delivery: Arc<Delivery>, mut stop: watch::Receiver<bool>) {
    use tokio::sync::broadcast::error::RecvError;
    let (mut changes, mut missed) = (delivery.service.subscribe(), delivery.service.missed());
    loop {
        tokio::select! {
            change = changes.recv() => match change {
                Ok(c) if c.customer.kind() != Some(delivery.kind) => {}
                Ok(_) | Err(RecvError::Lagged(_)) => delivery.wake.notify_one(),
                Err(RecvError::Closed) => return,
            },
            gap = missed.changed() => match gap {
                Ok(()) => delivery.wake.notify_one(),
                Err(_) => return,
            },
            _ = stop.changed() => return,
        }
    }
}

/// Run store work on the blocking pool.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> crate::store::Result<T> + Send + 'static,
) -> crate::store::Result<T> {
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

#[cfg(test)]
mod tests {
    use super::window_closed;
    use chrono::{DateTime, Duration, Utc};

    #[test]
    fn the_window_is_open_for_a_day_after_the_customer_wrote() {
        let day = Some(Duration::hours(24));
        let wrote = DateTime::<Utc>::UNIX_EPOCH;
        let at = |h| wrote + Duration::hours(h);
        assert!(!window_closed(day, Some(wrote), at(23)));
        assert!(window_closed(day, Some(wrote), at(24)));
        assert!(window_closed(day, None, at(0)), "never wrote: closed");
        assert!(
            !window_closed(None, None, at(100)),
            "no window: always open"
        );
    }
}
