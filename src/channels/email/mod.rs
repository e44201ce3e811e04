//! Email: the shop's support mailbox as a channel. [`imap`] reads new mail (IDLE where
//! the server has it, polling otherwise) into customer messages through [`inbound`],
//! [`send`] answers by SMTP threaded to the customer's mail, [`follow_up`] sends a
//! web-chat customer the operator's replies they missed, [`read`] turns a raw mail
//! into what the bot needs (the new text, the thread, whether a person or a machine
//! wrote), [`conn`] is the IMAP connection (TLS, STARTTLS).

mod conn;
mod follow_up;
mod imap;
pub mod inbound;
pub mod read;
mod send;

use crate::channels::dispatch::Delivery;
use crate::config::{EmailSecrets, EmailSettings};
use crate::service::Service;
use inbound::Ingested;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

/// The channel's secrets and settings.
#[derive(Debug, Clone)]
pub struct EmailConfig {
    pub secrets: EmailSecrets,
    pub settings: EmailSettings,
}

/// The reader's state and counters, for `/metrics` and `/healthz`.
#[derive(Debug, Default)]
pub struct Status {
    pub connected: AtomicBool,
    /// The server has IDLE (else the mailbox is polled).
    pub idle: AtomicBool,
    pub received: AtomicU64,
    pub duplicates: AtomicU64,
    pub automated: AtomicU64,
    pub bounces: AtomicU64,
    pub unreadable: AtomicU64,
    pub errors: AtomicU64,
    last_error: Mutex<Option<String>>,
}

impl Status {
    pub fn last_error(&self) -> Option<String> {
        self.last_error
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn set_error(&self, error: Option<String>) {
        *self.last_error.lock().unwrap_or_else(|e| e.into_inner()) = error;
    }

    fn count(&self, outcome: &Ingested) {
        let counter = match outcome {
            Ingested::Message {
                duplicate: true, ..
            } => &self.duplicates,
            Ingested::Message { .. } => &self.received,
            Ingested::Automated { .. } => &self.automated,
            Ingested::Bounce { .. } => &self.bounces,
            Ingested::Unreadable(_) => &self.unreadable,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Counters by outcome, for `/metrics` (`sportello_email_received_total{outcome}`).
    pub fn snapshot(&self) -> Vec<(&'static str, u64)> {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        vec![
            ("message", get(&self.received)),
            ("duplicate", get(&self.duplicates)),
            ("automated", get(&self.automated)),
            ("bounce", get(&self.bounces)),
            ("unreadable", get(&self.unreadable)),
        ]
    }
}

/// A running email channel.
pub struct Email {
    pub delivery: Arc<Delivery>,
    pub status: Arc<Status>,
    config: Arc<EmailConfig>,
}

impl Email {
    /// Start reading the mailbox and sending replies until `stop`.
    pub async fn start(
        service: Arc<Service>,
        config: EmailConfig,
        stop: watch::Receiver<bool>,
    ) -> anyhow::Result<Email> {
        let sender = Arc::new(send::SmtpSender::new(&config.secrets, service.clone())?);
        let give_up = config.settings.give_up_after;
        let delivery = Delivery::start(service.clone(), sender.clone(), give_up, stop.clone());
        crate::channels::supervise(
            "the email follow-ups".into(),
            follow_up::run(
                service.clone(),
                sender,
                config.settings.clone(),
                stop.clone(),
            ),
        );
        let config = Arc::new(config);
        let status = Arc::new(Status::default());
        crate::channels::supervise(
            "the email reader".into(),
            imap::run(service, config.clone(), status.clone(), stop),
        );
        Ok(Email {
            delivery,
            status,
            config,
        })
    }

    /// "assistenza@negozio.it (imap.example.com, IDLE)", for `serve` to print.
    pub fn describe(&self) -> String {
        let s = &self.config.secrets;
        format!(
            "{} (IMAP {}/{}, SMTP {})",
            s.address, s.imap.host, s.mailbox, s.smtp.host
        )
    }
}
