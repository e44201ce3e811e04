//! The Telegram channel (teloxide). Updates come by long polling (default) or by
//! webhook; each is stored durably by the service **before** Telegram is told it was
//! received: in polling mode the `getUpdates` offset moves past an update only after
//! it is stored, in webhook mode the HTTP 200 comes after. A redelivered update is
//! dropped by its message id. Replies go out through the outbox (see `send`).

mod send;
pub mod updates;

pub use crate::channels::WebhookResult;
pub use crate::channels::format::{escape, split, to_html};

use crate::channels::dispatch::Delivery;
use crate::channels::supervise;
use crate::config::{TelegramSecrets, TelegramSettings};
use crate::service::Service;
use anyhow::Context;
use chrono::Utc;
use std::sync::Arc;
use std::time::Duration;
use teloxide::prelude::*;
use teloxide::types::{CallbackQueryId, Update};
use tokio::sync::watch;
use updates::Incoming;

/// How the adapter connects: the secrets from the environment
/// ([`crate::config::Environment`], whose `Debug` leaves them out) and the settings
/// from the config file.
#[derive(Debug, Clone)]
pub struct TelegramConfig {
    pub secrets: TelegramSecrets,
    pub poll_timeout: u32,
    /// After this long undelivered, a reply is given up (kept in the store as failed).
    pub give_up_after: chrono::Duration,
}

impl TelegramConfig {
    pub fn new(secrets: TelegramSecrets, settings: &TelegramSettings) -> Self {
        Self {
            secrets,
            poll_timeout: settings.poll_timeout.num_seconds().clamp(1, 50) as u32,
            give_up_after: settings.give_up_after,
        }
    }
}

/// What the poller and the webhook share.
pub struct Shared {
    bot: Bot,
    service: Arc<Service>,
    config: TelegramConfig,
    username: String,
    /// The outbox dispatcher (rung after every stored update, so replies go out at once).
    pub delivery: Arc<Delivery>,
}

/// A running adapter: its shared state, to mount the webhook and read the stats.
pub struct Telegram {
    pub shared: Arc<Shared>,
}

impl Telegram {
    /// Connect (getMe), then start the senders and, in polling mode, the poller. They
    /// run until `stop` turns true.
    pub async fn start(
        service: Arc<Service>,
        config: TelegramConfig,
        stop: watch::Receiver<bool>,
    ) -> anyhow::Result<Telegram> {
        // The HTTP client must wait longer than a long poll does.
        let client = teloxide::net::default_reqwest_settings()
            .timeout(Duration::from_secs(u64::from(config.poll_timeout) + 10))
            .build()
            .context("building the HTTP client")?;
        let mut bot = Bot::with_client(config.secrets.token.clone(), client);
        if let Some(url) = &config.secrets.api_url {
            bot = bot.set_api_url(url.clone());
        }
        let me = bot
            .get_me()
            .await
            .context("Telegram refused the bot token (getMe)\n  hint: check SPORTELLO_TELEGRAM_TOKEN (from @BotFather)")?;
        match &config.secrets.webhook {
            Some((url, secret)) => {
                bot.set_webhook(url.clone())
                    .secret_token(secret.clone())
                    .await
                    .context("setWebhook")?;
            }
            None => {
                bot.delete_webhook().await.context("deleteWebhook")?;
            }
        }
        let sender = Arc::new(send::TelegramSender { bot: bot.clone() });
        let delivery = Delivery::start(service.clone(), sender, config.give_up_after, stop.clone());
        let shared = Arc::new(Shared {
            bot,
            service,
            username: me.user.username.clone().unwrap_or_default(),
            delivery,
            config,
        });
        if shared.config.secrets.webhook.is_none() {
            supervise(
                "the Telegram poller".into(),
                poll_as_leader(shared.clone(), stop),
            );
        }
        tracing::info!("telegram: @{} connected", shared.username);
        Ok(Telegram { shared })
    }

    pub fn username(&self) -> &str {
        &self.shared.username
    }

    pub fn webhook_path(&self) -> Option<String> {
        let (url, _) = self.shared.config.secrets.webhook.as_ref()?;
        Some(url.path().to_owned())
    }

    /// A webhook delivery: `secret` is the `X-Telegram-Bot-Api-Secret-Token` header.
    /// Ok only once the update is stored (the HTTP 200 acknowledges it).
    pub async fn webhook(&self, secret: Option<&str>, body: &[u8]) -> WebhookResult {
        let expected = self
            .shared
            .config
            .secrets
            .webhook
            .as_ref()
            .map(|(_, s)| s.as_str());
        let (Some(expected), Some(secret)) = (expected, secret) else {
            return WebhookResult::Forbidden;
        };
        if !crate::accounts::same_secret(expected, secret) {
            return WebhookResult::Forbidden;
        }
        let update = match serde_json::from_slice::<Update>(body) {
            Ok(update) => update,
            Err(e) => {
                tracing::warn!("webhook: not an update this version reads, acknowledged: {e}");
                return WebhookResult::Ignored;
            }
        };
        let stored = match handle(&self.shared, update).await {
            Ok(()) => flush(&self.shared).await,
            Err(e) => Err(e),
        };
        match stored {
            Ok(()) => {
                self.shared.delivery.wake.notify_one();
                WebhookResult::Stored
            }
            Err(e) => {
                tracing::error!("webhook update not stored (Telegram will retry): {e:#}");
                WebhookResult::NotStored
            }
        }
    }
}

/// Long polling: fetch, store every update of the batch, and only then ask for the
/// next batch with an offset past them (which is what acknowledges them).
/// Long polling from one process only (Telegram refuses two at once): this one polls
/// while it leads among the processes on the store, and waits for the lead otherwise.
async fn poll_as_leader(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    loop {
        let store = shared.service.store().clone();
        let mut lead = tokio::select! {
            lead = store.lead("telegram-poller") => lead,
            _ = stop.changed() => return,
        };
        tracing::info!("telegram: this instance polls for updates");
        tokio::select! {
            _ = poll(shared.clone(), stop.clone()) => return,
            _ = lead.lost() => tracing::warn!("telegram: lost the lead; waiting to poll again"),
        }
    }
}

async fn poll(shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    let mut offset: Option<i32> = None;
    let mut backoff = Duration::from_millis(250);
    loop {
        let mut request = shared.bot.get_updates().timeout(shared.config.poll_timeout);
        if let Some(o) = offset {
            request = request.offset(o);
        }
        let batch = tokio::select! {
            r = request.send() => r,
            _ = stop.changed() => return,
        };
        let wait = match batch {
            Ok(batch) => {
                let mut stored = true;
                let mut next = offset;
                for update in batch {
                    let id = update.id;
                    if let Err(e) = handle(&shared, update).await {
                        tracing::error!("update {} not stored, will be fetched again: {e:#}", id.0);
                        stored = false;
                        break;
                    }
                    next = Some(id.as_offset());
                }
                // One flush for the batch (group commit); only then does the offset
                // move past it, which is what acknowledges it to Telegram.
                if let Err(e) = flush(&shared).await {
                    tracing::error!("updates not flushed, will be fetched again: {e:#}");
                    stored = false;
                } else {
                    offset = next;
                }
                shared.delivery.wake.notify_one();
                if stored {
                    backoff = Duration::from_millis(250);
                    continue;
                }
                backoff
            }
            Err(teloxide::RequestError::RetryAfter(s)) => s.duration(),
            Err(e) => {
                tracing::warn!("getUpdates failed, retrying in {backoff:?}: {e}");
                backoff
            }
        };
        backoff = (backoff * 2).min(Duration::from_secs(30));
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
    }
}

/// Store one update through the service (committed; the caller flushes before it
/// acknowledges: the webhook per update, polling once per batch), then do the
/// Telegram-side chores that need no durability (answer a button press, take the
/// buttons away).
pub async fn handle(shared: &Arc<Shared>, update: Update) -> anyhow::Result<()> {
    match updates::read(&update, &shared.username, Utc::now()) {
        Incoming::Message(inbound) => {
            store(shared, inbound).await?;
        }
        Incoming::Choice {
            inbound,
            query_id,
            buttons,
        } => {
            store(shared, inbound).await?;
            let bot = &shared.bot;
            if let Err(e) = bot.answer_callback_query(CallbackQueryId(query_id)).await {
                tracing::info!("answerCallbackQuery: {e}");
            }
            if let Some((chat, message)) = buttons
                && let Err(e) = bot.edit_message_reply_markup(chat, message).await
            {
                tracing::info!("removing the buttons: {e}");
            }
        }
        Incoming::Group(chat) => {
            let text = format!(
                "Rispondo solo in chat privata / I only answer in private chats: https://t.me/{}",
                shared.username
            );
            if let Err(e) = shared.bot.send_message(chat, text).await {
                tracing::info!("group notice: {e}");
            }
        }
        Incoming::Ignore => {}
    }
    Ok(())
}

async fn store(shared: &Arc<Shared>, inbound: crate::domain::Inbound) -> anyhow::Result<()> {
    let service = shared.service.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        service.store().clear_unreachable(&inbound.customer)?;
        service.handle_inbound_unflushed(&inbound)?;
        Ok(())
    })
    .await
    .context("the store task stopped")?
}

async fn flush(shared: &Arc<Shared>) -> anyhow::Result<()> {
    let service = shared.service.clone();
    tokio::task::spawn_blocking(move || service.store().flush())
        .await
        .context("the store task stopped")??;
    Ok(())
}
