//! The WhatsApp Business Cloud API channel. Customers' messages come by webhook
//! (`/whatsapp` on `SPORTELLO_HTTP_ADDR`): signed by Meta with the app secret, stored
//! durably by the service and flushed **before** the 200 that acknowledges them (Meta
//! redelivers anything else; a redelivery is dropped by its `wamid`). Delivery reports
//! (`statuses`) are recorded, never answered. Replies go out through the one outbox
//! dispatcher (`channels::dispatch`) with this channel's [`send::WhatsappSender`];
//! outside the 24 hours after the customer's last message, the configured template
//! asks them to write back and the replies wait for them.

pub mod inbound;
mod send;

use super::WebhookResult;
use super::dispatch::{Attempt, Delivery, blocking};
use crate::config::{WhatsappSecrets, WhatsappSettings};
use crate::service::Service;
use crate::store::Unreachable;
use anyhow::Context;
use chrono::Utc;
use inbound::Incoming;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

/// How the channel connects: the secrets from the environment and the settings from
/// the config file. (`Debug` leaves the secrets out.)
#[derive(Debug, Clone)]
pub struct WhatsappConfig {
    pub secrets: WhatsappSecrets,
    pub settings: WhatsappSettings,
}

/// A running channel: the webhook's side, and the dispatcher.
pub struct WhatsApp {
    service: Arc<Service>,
    secrets: WhatsappSecrets,
    pub delivery: Arc<Delivery>,
    /// Delivery reports received, by status, for `/metrics`.
    statuses: Mutex<BTreeMap<String, u64>>,
    /// The business number as WhatsApp shows it (empty if the check failed).
    number: String,
}

impl WhatsApp {
    /// Check the token and the number, then start delivering. A refused token stops
    /// the channel (said in the log and by `/healthz`); webhooks are still stored, and
    /// replies wait in the outbox for a restart with a good token.
    pub async fn start(
        service: Arc<Service>,
        config: WhatsappConfig,
        stop: watch::Receiver<bool>,
    ) -> anyhow::Result<WhatsApp> {
        let WhatsappConfig { secrets, settings } = config;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .context("building the HTTP client")?;
        let base = secrets.api_url.as_str().trim_end_matches('/').to_owned();
        let number_url = format!("{base}/{}", secrets.phone_number_id);
        let sender = Arc::new(send::WhatsappSender {
            client,
            messages_url: format!("{number_url}/messages"),
            token: secrets.token.clone(),
            template: settings
                .reopen_template
                .clone()
                .map(|name| (name, settings.template_language.clone())),
        });
        let check = sender.check(&number_url).await;
        let delivery = Delivery::start(service.clone(), sender, settings.give_up_after, stop);
        let number = match check {
            Ok(number) => number,
            Err(Attempt::Fatal(why)) => {
                delivery.stop_channel(&why);
                String::new()
            }
            Err(other) => {
                tracing::warn!("whatsapp: could not check the number ({other:?}); sending anyway");
                String::new()
            }
        };
        Ok(WhatsApp {
            service,
            secrets,
            delivery,
            statuses: Mutex::default(),
            number,
        })
    }

    /// The business number, as WhatsApp shows it.
    pub fn number(&self) -> &str {
        &self.number
    }

    /// The webhook handshake (`GET /whatsapp`): the challenge to echo when the mode is
    /// `subscribe` and the token is ours.
    pub fn verify<'a>(
        &self,
        mode: Option<&str>,
        token: Option<&str>,
        challenge: Option<&'a str>,
    ) -> Option<&'a str> {
        let ours =
            token.is_some_and(|t| crate::accounts::same_secret(&self.secrets.verify_token, t));
        (mode == Some("subscribe") && ours)
            .then_some(challenge)
            .flatten()
    }

    /// A webhook delivery: `signature` is the `X-Hub-Signature-256` header. Stored
    /// only once the signature holds; Ok (the HTTP 200) only once everything in it is
    /// stored and flushed.
    pub async fn webhook(&self, signature: Option<&str>, body: &[u8]) -> WebhookResult {
        if !inbound::signed(&self.secrets.app_secret, body, signature) {
            tracing::warn!("whatsapp: a webhook without a valid signature, refused");
            return WebhookResult::Forbidden;
        }
        let read = match inbound::read(body, &self.secrets.phone_number_id, Utc::now()) {
            Ok(read) => read,
            Err(e) => {
                tracing::warn!("whatsapp: not a payload this version reads, acknowledged: {e}");
                return WebhookResult::Ignored;
            }
        };
        for number in &read.other_numbers {
            tracing::warn!(
                "whatsapp: a webhook for business number {number}, not this one ({}): left \
                 unanswered (one business number per `serve`)",
                self.secrets.phone_number_id
            );
        }
        let incoming = read.incoming;
        for item in &incoming {
            if let Incoming::Status { status, .. } = item {
                let mut counts = self.statuses.lock().unwrap_or_else(|e| e.into_inner());
                *counts.entry(status.status.clone()).or_default() += 1;
            }
        }
        let service = self.service.clone();
        let stored = blocking(move || {
            for item in incoming {
                store(&service, item)?;
            }
            service.store().flush()
        })
        .await;
        match stored {
            Ok(()) => {
                self.delivery.wake.notify_one();
                WebhookResult::Stored
            }
            Err(e) => {
                tracing::error!("whatsapp webhook not stored (Meta will retry): {e}");
                WebhookResult::NotStored
            }
        }
    }

    /// Delivery reports received since start, by status.
    pub fn statuses(&self) -> Vec<(String, u64)> {
        let counts = self.statuses.lock().unwrap_or_else(|e| e.into_inner());
        counts.iter().map(|(k, v)| (k.clone(), *v)).collect()
    }
}

/// Store one message (through the service; a redelivery is dropped by its id) or one
/// delivery report. A customer who writes can be reached, and their waiting replies
/// may go (the 24-hour window is open again).
fn store(service: &Service, item: Incoming) -> crate::store::Result<()> {
    let store = service.store();
    match item {
        Incoming::Message(inbound) => {
            store.clear_unreachable(&inbound.customer)?;
            store.release(&inbound.customer)?;
            match service.handle_inbound_unflushed(&inbound) {
                Ok(_) => Ok(()),
                Err(crate::service::ServiceError::Store(e)) => Err(e),
                // Busy after every retry: not stored, so not acknowledged (Meta resends).
                Err(e) => Err(crate::store::StoreError::Io(std::io::Error::other(
                    e.to_string(),
                ))),
            }
        }
        Incoming::Status {
            customer,
            status,
            unreachable,
        } => {
            if unreachable {
                let why = Unreachable {
                    reason: status.error.clone().unwrap_or_default(),
                    since: status.at,
                };
                store.mark_unreachable(&customer, &why)?;
            }
            store.record_status(&customer, &status)
        }
    }
}
