//! "We'll write to you": a web-chat customer who left an address and has not read an
//! operator's reply within `[email] follow_up_after` gets it by email, with a link back
//! to the chat. Unread means still in the chat's outbox (the chat marks it delivered
//! when it shows it). The reply stays in the chat; each one goes by email once.

use super::send::{SmtpSender, follow_up, outcome};
use crate::channels::dispatch::Attempt;
use crate::channels::dispatch::blocking;
use crate::domain::{ChannelKind, CustomerId, Lang, Outbound, OutboundKind};
use crate::service::Service;
use crate::store::Contact;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Look for unread replies at most this often (and at least every half delay).
const MAX_SCAN: Duration = Duration::from_secs(30);

struct Due {
    customer: CustomerId,
    contact: Contact,
    replies: Vec<Outbound>,
    lang: Lang,
}

/// A follow-up that failed for now is tried again after a growing pause (1 minute,
/// doubling, at most an hour); one the server refuses for good is given up.
const FIRST_PAUSE: Duration = Duration::from_secs(60);
const MAX_PAUSE: Duration = Duration::from_secs(3600);

pub async fn run(
    service: Arc<Service>,
    sender: Arc<SmtpSender>,
    settings: crate::config::EmailSettings,
    mut stop: watch::Receiver<bool>,
) {
    let after = settings.follow_up_after;
    let link = settings.chat_url.map(|u| u.to_string());
    let mut paused: HashMap<CustomerId, (Instant, Duration)> = HashMap::new();
    let every =
        (after.to_std().unwrap_or(MAX_SCAN) / 2).clamp(Duration::from_millis(200), MAX_SCAN);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stop.changed() => return,
        }
        let store_side = service.clone();
        let due = blocking(move || due(&store_side, after, Utc::now())).await;
        let due = match due {
            Ok(due) => due,
            Err(e) => {
                tracing::error!("email follow-ups: cannot read the chats: {e}");
                continue;
            }
        };
        for d in due {
            if paused
                .get(&d.customer)
                .is_some_and(|(until, _)| Instant::now() < *until)
            {
                continue;
            }
            let customer = d.customer.clone();
            match send_one(&service, &sender, d, link.as_deref()).await {
                Sent::Done => {
                    paused.remove(&customer);
                }
                Sent::Later => {
                    let pause = paused
                        .get(&customer)
                        .map_or(FIRST_PAUSE, |(_, p)| (*p * 2).min(MAX_PAUSE));
                    paused.insert(customer, (Instant::now() + pause, pause));
                }
            }
        }
    }
}

/// The chats with operator replies unread for `after` that were not sent by email yet.
fn due(
    service: &Service,
    after: chrono::Duration,
    now: DateTime<Utc>,
) -> crate::store::Result<Vec<Due>> {
    let store = service.store();
    let mut due = Vec::new();
    for customer in store.outbox_customers(ChannelKind::Web)? {
        let Some(contact) = store.contact(&customer)? else {
            continue;
        };
        let since = contact.followed_up.unwrap_or(DateTime::<Utc>::MIN_UTC);
        let replies: Vec<Outbound> = store
            .pending_outbox(&customer)?
            .into_iter()
            .map(|(_, out)| out)
            .filter(|o| o.kind == OutboundKind::Operator && o.at > since && now - o.at >= after)
            .collect();
        if replies.is_empty() {
            continue;
        }
        let lang = store
            .conversation(&customer)?
            .and_then(|c| c.lang)
            .unwrap_or(Lang::It);
        due.push(Due {
            customer,
            contact,
            replies,
            lang,
        });
    }
    Ok(due)
}

enum Sent {
    /// Sent, or given up for good: recorded, not tried again.
    Done,
    Later,
}

async fn send_one(service: &Arc<Service>, sender: &SmtpSender, d: Due, link: Option<&str>) -> Sent {
    let last = d.replies.iter().map(|r| r.at).max();
    match follow_up(sender.from(), &d.contact.email, &d.replies, d.lang, link) {
        Ok(mail) => match sender.send_mail(mail).await {
            Ok(()) => {}
            // Only an address that does not exist ends it: a refused login or a quota
            // is the shop's to fix, and the replies go once it is.
            Err(e) if matches!(outcome(&e), Attempt::Unreachable(_)) => {
                tracing::warn!(customer = %d.customer, "email follow-up refused, given up: {e}");
            }
            Err(e) => {
                tracing::warn!(customer = %d.customer, "email follow-up not sent, trying later: {e}");
                return Sent::Later;
            }
        },
        Err(e) => {
            tracing::warn!(customer = %d.customer, "email follow-up not built, given up: {e}")
        }
    }
    let (store, customer, sent_to) = (service.store().clone(), d.customer, d.contact.email);
    let recorded = blocking(move || {
        // Only for the address it went to (the visitor may have changed it meanwhile).
        store.update_contact(&customer, |now| {
            now.map(|mut c| {
                if c.email == sent_to {
                    c.followed_up = last.max(c.followed_up);
                }
                c
            })
        })
    });
    if let Err(e) = recorded.await {
        tracing::error!("email follow-up not recorded: {e}");
        return Sent::Later;
    }
    Sent::Done
}
