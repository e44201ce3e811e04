//! "We'll write to you": a web-chat customer who left an address and has not read an
//! operator's reply within `[email] follow_up_after` gets it by email, with a link back
//! to the chat. Unread means still in the chat's outbox (the chat marks it delivered
//! when it shows it). The reply stays in the chat; each one goes by email once.

use super::send::{AutoSubmitted, SmtpSender, alternative, html, mailbox, outcome};
use crate::channels::dispatch::Attempt;
use crate::channels::dispatch::blocking;
use crate::domain::{ChannelKind, CustomerId, Lang, Outbound, OutboundKind};
use crate::service::Service;
use crate::store::Contact;
use chrono::{DateTime, Utc};
use lettre::Message;
use lettre::message::Mailbox;
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

/// Send what of `d` no process has sent since it was found due, if this process holds
/// the customer's lease; the lease is given back afterwards.
async fn send_one(
    service: &Arc<Service>,
    sender: &SmtpSender,
    mut d: Due,
    link: Option<&str>,
) -> Sent {
    let (store, customer) = (service.store().clone(), d.customer.clone());
    let contact = match blocking(move || take(&store, &customer)).await {
        Ok(Some(contact)) => contact,
        Ok(None) => return Sent::Done,
        Err(e) => {
            tracing::warn!(customer = %d.customer, "email follow-up: cannot take its lease, trying later: {e}");
            return Sent::Later;
        }
    };
    let (store, customer) = (service.store().clone(), d.customer.clone());
    // Read again under the lease: another process may have mailed some of them
    // between this one's scan and its lease (those stay out), the customer may have
    // changed the address or been forgotten (nothing goes).
    let sent_up_to = contact.as_ref().and_then(|c| c.followed_up);
    d.replies.retain(|r| sent_up_to.is_none_or(|at| r.at > at));
    let sent = if let Some(contact) = contact.filter(|_| !d.replies.is_empty()) {
        d.contact = contact;
        let last = d.replies.iter().map(|r| r.at).max();
        send_leased(service, sender, d, last, link).await
    } else {
        Sent::Done
    };
    if let Err(e) = blocking(move || store.end_outbox_lease(&customer)).await {
        tracing::warn!("email follow-up: lease not given back (it runs out): {e}");
    }
    sent
}

/// With several processes on one store each follow-up goes from one: the one holding
/// the customer's outbox lease (a web-chat outbox has no other deliverer). Under it,
/// the customer's contact as it is now; None if another process holds the lease.
fn take(
    store: &crate::store::Store,
    customer: &CustomerId,
) -> crate::store::Result<Option<Option<Contact>>> {
    if !store.lease_outbox(customer)? {
        return Ok(None);
    }
    match store.contact(customer) {
        Ok(contact) => Ok(Some(contact)),
        Err(e) => {
            let _ = store.end_outbox_lease(customer);
            Err(e)
        }
    }
}

async fn send_leased(
    service: &Arc<Service>,
    sender: &SmtpSender,
    d: Due,
    last: Option<DateTime<Utc>>,
    link: Option<&str>,
) -> Sent {
    // Sent well within the lease (it is not renewed meanwhile): a send cut short is
    // tried again, and may arrive twice, as after any crash.
    let within = crate::store::OUTBOX_LEASE / 2;
    match follow_up(sender.from(), &d.contact.email, &d.replies, d.lang, link) {
        Ok(mail) => match tokio::time::timeout(within, sender.send_mail(mail)).await {
            Err(_) => {
                tracing::warn!(customer = %d.customer, "email follow-up: the mail server took too long, trying later");
                return Sent::Later;
            }
            Ok(Ok(())) => {}
            // Only an address that does not exist ends it: a refused login or a quota
            // is the shop's to fix, and the replies go once it is.
            Ok(Err(e)) if matches!(outcome(&e), Attempt::Unreachable(_)) => {
                tracing::warn!(customer = %d.customer, "email follow-up refused, given up: {e}");
            }
            Ok(Err(e)) => {
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
        store.update_contact(&customer, &|now| {
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

/// The operators' replies a web-chat customer has not read, by email to the address
/// they left, with a link back to the chat (`Auto-Submitted: auto-generated`: a
/// notice, not to be answered by a machine).
pub fn follow_up(
    from: &Mailbox,
    to: &str,
    replies: &[Outbound],
    lang: crate::domain::Lang,
    page: Option<&str>,
) -> Result<Message, String> {
    let it = lang == crate::domain::Lang::It;
    let mut text = String::from(if it {
        "Ciao, mentre non eri in chat ti abbiamo risposto:"
    } else {
        "Hello, while you were away from the chat we replied:"
    });
    for reply in replies {
        let who = reply.operator.clone().unwrap_or_default();
        text.push_str(&format!("\n\n**{who}**: {}", reply.text));
    }
    text.push_str("\n\n");
    text.push_str(match (page, it) {
        (Some(_), true) => "Continua la conversazione nella chat: ",
        (Some(_), false) => "Carry on in the chat: ",
        (None, true) => "Continua la conversazione nella chat del sito.",
        (None, false) => "Carry on in the chat on our site.",
    });
    if let Some(page) = page {
        text.push_str(page);
    }
    text.push_str(if it {
        "\n\nRicevi questa email perché hai lasciato il tuo indirizzo nella chat."
    } else {
        "\n\nYou get this email because you left your address in the chat."
    });
    let subject = if it {
        "Ti abbiamo risposto in chat"
    } else {
        "We replied to you in the chat"
    };
    let domain = from.email.domain().to_owned();
    let id = format!(
        "<sportello.{}@{domain}>",
        &crate::accounts::new_secret()[..24]
    );
    let html = html(&text);
    Message::builder()
        .from(from.clone())
        .to(mailbox(to)?)
        .subject(subject)
        .message_id(Some(id))
        .header(AutoSubmitted("auto-generated"))
        .multipart(alternative(text, html))
        .map_err(|e| e.to_string())
}
