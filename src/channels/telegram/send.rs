//! Delivering the outbox to Telegram: each chat's replies in order, one sender per
//! chat (a slow or rate-limited chat never holds up the others), retried with backoff
//! on network errors and 5xx, waiting out 429 `retry_after`, given up (kept in the
//! store's `failed` tree) after `give_up_after`; a chat that blocked the bot is marked
//! unreachable. A reply leaves the outbox only after Telegram accepted it, and that is
//! flushed at once: a crash can repeat at most the reply in flight, never lose one.

use super::format::{self, MAX_MESSAGE};
use super::updates::{chat_of, choice_data};
use super::{Shared, Stats};
use crate::domain::OutboundKind;
use crate::domain::{CustomerId, Outbound};
use crate::store::Unreachable;
use chrono::Utc;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use teloxide::prelude::*;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup, ParseMode};
use teloxide::{ApiError, RequestError};

const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// How often the outbox is looked at when nothing wakes the sender.
const IDLE_SCAN: Duration = Duration::from_millis(500);

/// Scan the outbox and start a sender for every chat with pending replies and none
/// running, until `stop`.
pub async fn deliver(shared: Arc<Shared>, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        let store = shared.service.store().clone();
        match blocking(move || store.outbox_customers("telegram:")).await {
            Ok(chats) => start_senders(&shared, chats),
            Err(e) => tracing::error!("cannot read the outbox: {e}"),
        }
        tokio::select! {
            _ = shared.wake.notified() => {}
            _ = tokio::time::sleep(IDLE_SCAN) => {}
            _ = stop.changed() => return,
        }
    }
}

/// One sender per chat with pending replies and none running. The scan only says
/// which chats; each sender reads its chat's outbox itself once it holds the chat, so
/// a reply acknowledged since the scan is never sent again.
fn start_senders(shared: &Arc<Shared>, chats: Vec<CustomerId>) {
    for customer in chats {
        if !shared
            .busy
            .lock()
            .expect("busy set")
            .insert(customer.clone())
        {
            continue;
        }
        let shared = shared.clone();
        tokio::spawn(async move {
            send_chat(&shared, &customer).await;
            shared.busy.lock().expect("busy set").remove(&customer);
            shared.wake.notify_one();
        });
    }
}

/// Send the chat's replies in order until its outbox is empty, the adapter stops, or
/// the store fails (the rest then waits for the next scan).
async fn send_chat(shared: &Shared, customer: &CustomerId) {
    loop {
        let (store, who) = (shared.service.store().clone(), customer.clone());
        // Only replies already on disk go out: one of a polled batch not yet flushed
        // (group commit) would otherwise be sent again if a crash lost its update.
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
        for (key, out) in queue {
            if shared.stopping.load(Ordering::SeqCst) || !send_one(shared, &key, &out).await {
                return;
            }
        }
    }
}

/// What became of one reply.
enum Outcome {
    Sent,
    /// Not deliverable: moved to `failed` with this reason.
    GiveUp(String),
    /// The customer cannot be reached: mark them, give up on the reply.
    Unreachable(String),
}

/// Deliver one reply, retrying as long as it may; false if the store failed (the
/// reply stays in the outbox for the next scan). Store work (a disk sync) runs on the
/// blocking pool, never on the threads that serve Telegram and HTTP.
async fn send_one(shared: &Shared, key: &[u8], out: &Outbound) -> bool {
    let store = shared.service.store().clone();
    let customer = out.customer.clone();
    let unreachable = blocking(move || store.unreachable(&customer)).await;
    let outcome = match (chat_of(&out.customer), unreachable) {
        (None, _) => Outcome::GiveUp("not a telegram chat".into()),
        (_, Ok(Some(u))) => Outcome::GiveUp(format!("customer unreachable: {}", u.reason)),
        (Some(chat), _) => attempt(shared, chat, out).await,
    };
    let counter = match &outcome {
        Outcome::Sent => &shared.stats.sent,
        Outcome::GiveUp(reason) | Outcome::Unreachable(reason) => {
            tracing::warn!(customer = %out.customer, "giving up on a reply: {reason}");
            &shared.stats.failed
        }
    };
    counter.fetch_add(1, Ordering::Relaxed);
    let (store, key, customer) = (
        shared.service.store().clone(),
        key.to_vec(),
        out.customer.clone(),
    );
    let result = blocking(move || {
        let now = Utc::now();
        match outcome {
            Outcome::Sent => store.ack_outbox(&key)?,
            Outcome::GiveUp(reason) => {
                store.fail_outbox(&key, &reason, now)?;
            }
            Outcome::Unreachable(reason) => {
                let why = Unreachable {
                    reason: reason.clone(),
                    since: now,
                };
                store.mark_unreachable(&customer, &why)?;
                store.fail_outbox(&key, &reason, now)?;
            }
        }
        store.flush()
    })
    .await;
    result
        .map_err(|e| tracing::error!("cannot record a delivery: {e}"))
        .is_ok()
}

/// Run store work on the blocking pool.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> crate::store::Result<T> + Send + 'static,
) -> crate::store::Result<T> {
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

/// Send every part of the reply, retrying transient errors until `give_up_after`
/// (counted from the first attempt, so a backlog after an outage gets its full time).
async fn attempt(shared: &Shared, chat: ChatId, out: &Outbound) -> Outcome {
    let parts = format::split(&out.text, MAX_MESSAGE - 96);
    let deadline = Utc::now() + shared.config.give_up_after;
    let mut backoff = FIRST_BACKOFF;
    let mut plain = false;
    let mut next = 0;
    while next < parts.len() {
        let keyboard = (next + 1 == parts.len()).then(|| keyboard(out)).flatten();
        let result = send_part(&shared.bot, chat, &parts[next], keyboard, plain).await;
        let wait = match result {
            Ok(()) => {
                next += 1;
                backoff = FIRST_BACKOFF;
                continue;
            }
            Err(RequestError::RetryAfter(secs)) => {
                shared.stats.rate_limited.fetch_add(1, Ordering::Relaxed);
                secs.duration()
            }
            Err(RequestError::Api(e)) if blocked(&e) => return Outcome::Unreachable(e.to_string()),
            Err(RequestError::Api(e)) if !plain && entities_rejected(&e) => {
                plain = true;
                continue;
            }
            Err(RequestError::Api(e)) if !server_error(&e) => {
                return Outcome::GiveUp(e.to_string());
            }
            // Telegram said ok but teloxide could not read the message it sent back:
            // it was delivered, and sending again would double it.
            Err(RequestError::InvalidJson { raw, .. }) if raw.contains("\"ok\":true") => {
                next += 1;
                continue;
            }
            Err(e @ RequestError::MigrateToChatId(_)) => return Outcome::GiveUp(e.to_string()),
            Err(e) => {
                shared.stats.retries.fetch_add(1, Ordering::Relaxed);
                tracing::info!(chat = chat.0, "send failed, retrying in {backoff:?}: {e}");
                let wait = backoff;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                wait
            }
        };
        if Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default() > deadline {
            return Outcome::GiveUp(format!(
                "not delivered within {} (last wait {wait:?})",
                shared.config.give_up_after
            ));
        }
        tokio::time::sleep(wait).await;
    }
    Outcome::Sent
}

async fn send_part(
    bot: &Bot,
    chat: ChatId,
    text: &str,
    keyboard: Option<InlineKeyboardMarkup>,
    plain: bool,
) -> Result<(), RequestError> {
    let mut request = if plain {
        bot.send_message(chat, text)
    } else {
        bot.send_message(chat, format::to_html(text))
            .parse_mode(ParseMode::Html)
    };
    if let Some(keyboard) = keyboard {
        request = request.reply_markup(keyboard);
    }
    request.await.map(|_| ())
}

/// Clarify choices as buttons, one per row; survey scores side by side (up to six a
/// row: 1-5 in one, 0-10 in two).
fn keyboard(out: &Outbound) -> Option<InlineKeyboardMarkup> {
    let per_row = if out.kind == OutboundKind::Survey {
        6
    } else {
        1
    };
    (!out.choices.is_empty()).then(|| {
        let buttons: Vec<InlineKeyboardButton> = out
            .choices
            .iter()
            .enumerate()
            .map(|(i, c)| InlineKeyboardButton::callback(c.label.clone(), choice_data(i + 1)))
            .collect();
        InlineKeyboardMarkup::new(buttons.chunks(per_row).map(<[_]>::to_vec))
    })
}

fn blocked(e: &ApiError) -> bool {
    matches!(
        e,
        ApiError::BotBlocked
            | ApiError::UserDeactivated
            | ApiError::CantInitiateConversation
            | ApiError::CantTalkWithBots
            | ApiError::ChatNotFound
            | ApiError::BotKicked
    )
}

fn entities_rejected(e: &ApiError) -> bool {
    matches!(e, ApiError::CantParseEntities(_))
        || matches!(e, ApiError::Unknown(d) if d.contains("can't parse entities"))
}

/// Telegram's own trouble (5xx), worth retrying.
fn server_error(e: &ApiError) -> bool {
    let ApiError::Unknown(description) = e else {
        return false;
    };
    let d = description.to_lowercase();
    [
        "internal",
        "bad gateway",
        "unavailable",
        "timeout",
        "timed out",
        "try again",
    ]
    .iter()
    .any(|s| d.contains(s))
}

impl Stats {
    pub fn snapshot(&self) -> [(&'static str, u64); 4] {
        [
            ("sent", self.sent.load(Ordering::Relaxed)),
            ("retries", self.retries.load(Ordering::Relaxed)),
            ("rate_limited", self.rate_limited.load(Ordering::Relaxed)),
            ("failed", self.failed.load(Ordering::Relaxed)),
        ]
    }
}
