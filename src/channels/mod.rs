//! Channel adapters: each turns its traffic into `Inbound` for the service, and hands
//! its side of delivery (a [`dispatch::Sender`]) to the one outbox dispatcher. Text
//! shared by channels (splitting, Markdown to each channel's marks) is in [`format`].

pub mod dispatch;
pub mod email;
pub mod format;
pub mod telegram;
pub mod terminal;
pub mod whatsapp;

use crate::config::{Config, Environment};
use crate::service::Service;
use dispatch::Delivery;
use std::sync::Arc;
use std::time::Duration;
use telegram::{Telegram, TelegramConfig};
use tokio::sync::watch;
use whatsapp::{WhatsApp, WhatsappConfig};

/// What a webhook call came to (the HTTP layer turns it into a status).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookResult {
    Stored,
    /// Not something this version can read: acknowledged, so the provider does not
    /// resend it.
    Ignored,
    Forbidden,
    NotStored,
}

/// The channels `serve` runs (those whose secrets are set): their webhooks, and their
/// dispatchers for `/metrics`, `/healthz` and a clean stop.
#[derive(Default)]
pub struct Channels {
    pub telegram: Option<Telegram>,
    pub whatsapp: Option<WhatsApp>,
    pub email: Option<email::Email>,
}

impl Channels {
    /// Start every channel the environment has secrets for.
    pub async fn start(
        service: &Arc<Service>,
        env: &Environment,
        config: &Config,
        stop: &watch::Receiver<bool>,
    ) -> anyhow::Result<Channels> {
        let telegram = match &env.telegram {
            Some(secrets) => {
                let config = TelegramConfig::new(secrets.clone(), &config.telegram);
                Some(Telegram::start(service.clone(), config, stop.clone()).await?)
            }
            None => None,
        };
        let whatsapp = match &env.whatsapp {
            Some(secrets) => {
                let config = WhatsappConfig {
                    secrets: secrets.clone(),
                    settings: config.whatsapp.clone(),
                };
                Some(WhatsApp::start(service.clone(), config, stop.clone()).await?)
            }
            None => None,
        };
        let email = match &env.email {
            Some(secrets) => {
                let config = email::EmailConfig {
                    secrets: secrets.clone(),
                    settings: config.email.clone(),
                };
                Some(email::Email::start(service.clone(), config, stop.clone()).await?)
            }
            None => None,
        };
        Ok(Channels {
            telegram,
            whatsapp,
            email,
        })
    }

    /// The running dispatchers.
    pub fn deliveries(&self) -> Vec<&Arc<Delivery>> {
        let telegram = self.telegram.as_ref().map(|t| &t.shared.delivery);
        let whatsapp = self.whatsapp.as_ref().map(|w| &w.delivery);
        let email = self.email.as_ref().map(|e| &e.delivery);
        telegram.into_iter().chain(whatsapp).chain(email).collect()
    }

    /// One line per channel for `serve` to print.
    pub fn describe(&self) -> Vec<String> {
        let telegram = match &self.telegram {
            Some(t) if t.webhook_path().is_some() => {
                format!("telegram: @{} (webhook)", t.username())
            }
            Some(t) => format!("telegram: @{} (long polling)", t.username()),
            None => "telegram: off (set SPORTELLO_TELEGRAM_TOKEN to connect a bot)".into(),
        };
        let whatsapp = match &self.whatsapp {
            Some(w) => match w.delivery.fatal() {
                Some(why) => format!("whatsapp: stopped: {why}"),
                None => format!("whatsapp: {} (webhook at /whatsapp)", w.number()),
            },
            None => "whatsapp: off (set SPORTELLO_WHATSAPP_TOKEN and the other SPORTELLO_WHATSAPP_* to connect a number)".into(),
        };
        let email = match &self.email {
            Some(e) => format!("email: {}", e.describe()),
            None => "email: off (set SPORTELLO_EMAIL_IMAP_URL and the other SPORTELLO_EMAIL_* to connect a mailbox)".into(),
        };
        vec![telegram, whatsapp, email]
    }

    /// Stop sending and wait (at most `grace`, all channels at once) for the messages
    /// in flight.
    pub async fn drain(&self, grace: Duration) {
        let draining: Vec<_> = self
            .deliveries()
            .into_iter()
            .map(|d| {
                let d = d.clone();
                tokio::spawn(async move { d.drain(grace).await })
            })
            .collect();
        for task in draining {
            let _ = task.await;
        }
    }
}

/// Run a task that must live as long as the process: if it dies (a bug), stop the
/// process with an error rather than run on deaf or mute; nothing acknowledged is
/// lost, and a supervisor (systemd, Docker) starts it again. A task cancelled because
/// the runtime is shutting down (a clean stop) is not a death: while the runtime drops
/// its tasks another worker may still see the cancellation here, and exiting then
/// turned a clean SIGTERM into a failure.
pub fn supervise(what: String, task: impl Future<Output = ()> + Send + 'static) {
    tokio::spawn(async move {
        if let Err(e) = tokio::spawn(task).await
            && e.is_panic()
        {
            tracing::error!("{what} stopped: {e}");
            eprintln!(
                "error: {what} stopped unexpectedly ({e}); exiting so that it can be restarted"
            );
            std::process::exit(70);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::supervise;

    /// Stopping cleanly drops the runtime with supervised tasks still running: that must
    /// not exit the process (it used to race to `exit(70)`, which would end this test
    /// binary with a failure).
    #[test]
    fn a_runtime_shutting_down_is_not_a_supervised_task_dying() {
        for _ in 0..300 {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                for n in 0..8 {
                    supervise(format!("task {n}"), std::future::pending());
                }
                tokio::task::yield_now().await;
            });
            drop(runtime);
        }
    }
}
