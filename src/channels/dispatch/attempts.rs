//! One message through its channel: sent part by part with retries and backoff
//! (under the channel's in-flight permit, if it limits them), held outside the service
//! window with the channel's template, and its outcome recorded.

use super::{Attempt, Delivery, FIRST_BACKOFF, MAX_BACKOFF, Sender, blocking, window_closed};
use crate::domain::{CustomerId, Lang, Outbound};
use crate::store::{Held, Unreachable};
use chrono::{DateTime, Utc};
use std::sync::atomic::Ordering;

/// A place among the messages in flight (channels that limit them).
pub(super) type Permit<'a> = Option<tokio::sync::SemaphorePermit<'a>>;

/// What to record for one message, and the in-flight permit to hold until it is; None:
/// leave it in the outbox and stop this customer's sender (held, stopping, or the
/// channel stopped).
pub(super) async fn deliver<'d, S: Sender>(
    delivery: &'d Delivery,
    sender: &S,
    out: &Outbound,
) -> Option<(Outcome, Permit<'d>)> {
    let store = delivery.service.store().clone();
    let customer = out.customer.clone();
    let (unreachable, conversation) = blocking(move || {
        Ok((
            store.unreachable(&customer)?,
            store.conversation(&customer)?,
        ))
    })
    .await
    .map_err(|e| tracing::error!("cannot read the customer: {e}"))
    .ok()?;
    if let Some(u) = unreachable {
        let why = format!("customer unreachable: {}", u.reason);
        return Some((Outcome::GiveUp(why), None));
    }
    let last = conversation.as_ref().and_then(|c| c.last_inbound_at);
    let lang = conversation.and_then(|c| c.lang).unwrap_or(Lang::It);
    let (attempt, permit) = if window_closed(sender.window(), last, Utc::now()) {
        (Attempt::NeedsTemplate, None)
    } else {
        send_parts(delivery, sender, out).await?
    };
    match attempt {
        Attempt::Sent => Some((Outcome::Sent, permit)),
        Attempt::GiveUp(why) => Some((Outcome::GiveUp(why), permit)),
        Attempt::Unreachable(why) => Some((Outcome::Unreachable(why), permit)),
        Attempt::NeedsTemplate => {
            hold(delivery, sender, &out.customer, lang).await;
            None
        }
        Attempt::Fatal(why) => {
            delivery.stop_channel(&why);
            None
        }
        Attempt::Retry { .. } => unreachable!("send_parts retries until it ends"),
    }
}

/// Send every part, retrying transient errors until `give_up_after` (counted from the
/// first attempt, so a backlog after an outage gets its full time). None: stopping.
async fn send_parts<'d, S: Sender>(
    delivery: &'d Delivery,
    sender: &S,
    out: &Outbound,
) -> Option<(Attempt, Permit<'d>)> {
    let deadline = Utc::now() + delivery.give_up_after;
    let mut step = Step::First;
    for part in 0..sender.parts(out) {
        match retrying(delivery, deadline, step, || sender.send(out, part)).await? {
            (Attempt::Sent, permit) => step = Step::Later(permit),
            other => return Some(other),
        }
    }
    let held = match step {
        Step::First => None,
        Step::Later(permit) => permit,
    };
    Some((Attempt::Sent, held))
}

/// Where a message stands when a part is sent.
enum Step<'d> {
    /// Nothing sent yet: it may wait for stopping, and takes a permit per attempt.
    First,
    /// Parts already out: the rest goes within the stop's grace, under the permit the
    /// first part took (kept while retrying, so that nothing else is in flight).
    Later(Permit<'d>),
}

/// Call until the channel says anything but "retry", or the deadline passes. A first
/// step takes an in-flight permit per call (if the channel limits them), released while
/// waiting to retry, and gives up when the dispatcher is stopping (None); a later step
/// keeps the permit it was given. The permit comes back with the outcome.
async fn retrying<'d, F, Fut>(
    delivery: &'d Delivery,
    deadline: DateTime<Utc>,
    step: Step<'d>,
    mut call: F,
) -> Option<(Attempt, Permit<'d>)>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Attempt>,
{
    let mut backoff = FIRST_BACKOFF;
    let (first, mut kept) = match step {
        Step::First => (true, None),
        Step::Later(permit) => (false, permit),
    };
    loop {
        let permit = match (&delivery.in_flight, first) {
            (Some(limit), true) => Some(limit.acquire().await.expect("never closed")),
            _ => kept.take(),
        };
        if first && delivery.stopping.load(Ordering::SeqCst) {
            return None;
        }
        let wait = match call().await {
            Attempt::Retry {
                after,
                rate_limited,
                why,
            } => {
                let counter = if rate_limited {
                    &delivery.stats.rate_limited
                } else {
                    &delivery.stats.retries
                };
                counter.fetch_add(1, Ordering::Relaxed);
                let wait = after.unwrap_or(backoff);
                backoff = (backoff * 2).min(MAX_BACKOFF);
                tracing::info!(
                    "{}: send failed, retrying in {wait:?}: {why}",
                    delivery.kind
                );
                wait
            }
            done => return Some((done, permit)),
        };
        if first {
            drop(permit);
        } else {
            kept = permit;
        }
        if Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default() > deadline {
            let why = format!(
                "not delivered within {} (last wait {wait:?})",
                delivery.give_up_after
            );
            return Some((Attempt::GiveUp(why), kept));
        }
        tokio::time::sleep(wait).await;
    }
}

/// Outside the window: keep the customer's messages in the outbox until they write
/// again, then send the channel's template once (if it has one). The hold is on disk
/// before the template can reach the customer: a customer who answers it at once
/// releases a hold that exists, instead of one recorded after their answer that would
/// keep the replies waiting for yet another message.
async fn hold<S: Sender>(delivery: &Delivery, sender: &S, customer: &CustomerId, lang: Lang) {
    delivery.stats.held.fetch_add(1, Ordering::Relaxed);
    let waiting = Held {
        reason: "outside the 24-hour window: replies wait for the customer to write".to_owned(),
        since: Utc::now(),
        template_sent: false,
    };
    record_hold(delivery, customer, move |store, who| {
        store.hold(who, &waiting)
    })
    .await;
    let deadline = Utc::now() + delivery.give_up_after;
    let attempt = retrying(delivery, deadline, Step::First, || async {
        let sent = sender.reopen(customer, lang).await;
        sent.unwrap_or_else(|| Attempt::GiveUp("no template configured".into()))
    })
    .await;
    let Some((attempt, _)) = attempt else {
        return;
    };
    match attempt {
        Attempt::Fatal(why) => delivery.stop_channel(&why),
        Attempt::Sent => {
            delivery.stats.templates.fetch_add(1, Ordering::Relaxed);
            let reason = "outside the 24-hour window: a template asked the customer to write back";
            record_hold(delivery, customer, move |store, who| {
                store.template_sent(who, reason).map(|_| ())
            })
            .await;
        }
        _ => tracing::warn!(
            customer = %customer,
            "{}: outside the window and no template went out; replies wait for the customer",
            delivery.kind
        ),
    }
}

/// Write what a hold became (`write`), flush, and tell the watchers (the console).
async fn record_hold(
    delivery: &Delivery,
    customer: &CustomerId,
    write: impl FnOnce(&crate::store::Store, &CustomerId) -> crate::store::Result<()> + Send + 'static,
) {
    let (service, who) = (delivery.service.clone(), customer.clone());
    let result = blocking(move || {
        write(service.store(), &who)?;
        service.store().flush()?;
        service.delivery_changed(&who)
    })
    .await;
    if let Err(e) = result {
        tracing::error!("cannot record held replies: {e}");
    }
}

/// What became of one message.
pub(super) enum Outcome {
    Sent,
    /// A queue status overtaken by a newer one: leaves the outbox unsent.
    Superseded,
    GiveUp(String),
    Unreachable(String),
}

/// Record the outcome; false if the store failed (the message stays in the outbox for
/// the next scan, unless only marking the customer unreachable failed: the reply is
/// then kept as failed and the next reply to them is refused and marks them again). Store work (a disk sync) runs on the blocking pool.
pub(super) async fn record(
    delivery: &Delivery,
    key: &[u8],
    out: &Outbound,
    outcome: Outcome,
) -> bool {
    let counter = match &outcome {
        Outcome::Sent => &delivery.stats.sent,
        Outcome::Superseded => &delivery.stats.superseded,
        Outcome::GiveUp(reason) | Outcome::Unreachable(reason) => {
            tracing::warn!(customer = %out.customer, "giving up on a reply: {reason}");
            &delivery.stats.failed
        }
    };
    counter.fetch_add(1, Ordering::Relaxed);
    let (store, key, customer) = (
        delivery.service.store().clone(),
        key.to_vec(),
        out.customer.clone(),
    );
    let result = blocking(move || {
        let now = Utc::now();
        match outcome {
            Outcome::Sent | Outcome::Superseded => store.ack_outbox(&key)?,
            Outcome::GiveUp(reason) => {
                store.fail_outbox(&key, &reason, now)?;
            }
            Outcome::Unreachable(reason) => {
                let why = Unreachable {
                    reason: reason.clone(),
                    since: now,
                };
                // The failed reply first: whoever sees the mark finds the reply on record.
                store.fail_outbox(&key, &reason, now)?;
                store.mark_unreachable(&customer, &why)?;
            }
        }
        store.flush()
    })
    .await;
    result
        .map_err(|e| tracing::error!("cannot record a delivery: {e}"))
        .is_ok()
}
