//! The environment `serve` reads: the address and the channels' secrets, typed and
//! checked together in one place ([`Environment`]). `Debug` leaves every secret out.

use anyhow::Context;

/// What `serve` reads from the environment, typed and checked together: the address
/// and the channels' secrets. (The CLI's own `SPORTELLO_FAQ`, `_INTENTS`, `_DATA` and
/// `_OPERATOR` are read by its options, `SPORTELLO_LOG` by the log filter.) An empty
/// variable counts as unset. `Debug` leaves the secrets out.
#[derive(Clone)]
pub struct Environment {
    /// `SPORTELLO_HTTP_ADDR` (default `127.0.0.1:8080`).
    pub http_addr: String,
    /// Set when `SPORTELLO_TELEGRAM_TOKEN` is.
    pub telegram: Option<TelegramSecrets>,
    /// Set when `SPORTELLO_WHATSAPP_TOKEN` is.
    pub whatsapp: Option<WhatsappSecrets>,
    /// Set when `SPORTELLO_EMAIL_IMAP_URL` is.
    pub email: Option<super::EmailSecrets>,
    /// `SPORTELLO_ORDERS_KEY`, `_SECRET`, `_TOKEN`: the order platform's keys.
    pub orders: crate::orders::OrderSecrets,
    /// `SPORTELLO_METRICS_TOKEN`: when set, `/metrics` answers only a scraper that sends
    /// it (`Authorization: Bearer TOKEN`); unset, anyone who reaches the server reads it.
    pub metrics_token: Option<String>,
}

/// The WhatsApp Cloud API channel's part of the environment.
#[derive(Clone)]
pub struct WhatsappSecrets {
    /// `SPORTELLO_WHATSAPP_TOKEN`: the Bearer access token.
    pub token: String,
    /// `SPORTELLO_WHATSAPP_PHONE_NUMBER_ID`: the business number messages go out from.
    pub phone_number_id: String,
    /// `SPORTELLO_WHATSAPP_APP_SECRET`: signs the webhooks (`X-Hub-Signature-256`).
    pub app_secret: String,
    /// `SPORTELLO_WHATSAPP_VERIFY_TOKEN`: the webhook handshake's token.
    pub verify_token: String,
    /// `SPORTELLO_WHATSAPP_API_URL` (default [`DEFAULT_WHATSAPP_API_URL`]): sends go
    /// to `{API_URL}/{PHONE_NUMBER_ID}/messages`.
    pub api_url: url::Url,
}

pub const DEFAULT_WHATSAPP_API_URL: &str = "https://graph.facebook.com/v23.0";

/// The Telegram channel's part of the environment.
#[derive(Clone)]
pub struct TelegramSecrets {
    /// `SPORTELLO_TELEGRAM_TOKEN`.
    pub token: String,
    /// `SPORTELLO_TELEGRAM_API_URL`: another Bot API server (a local one, the tests' fake).
    pub api_url: Option<url::Url>,
    /// `SPORTELLO_TELEGRAM_WEBHOOK_URL` and `SPORTELLO_TELEGRAM_WEBHOOK_SECRET`.
    pub webhook: Option<(url::Url, String)>,
}

pub const DEFAULT_HTTP_ADDR: &str = "127.0.0.1:8080";

impl Environment {
    /// From the process environment.
    pub fn read() -> anyhow::Result<Environment> {
        Environment::from_vars(|name| std::env::var(name).ok())
    }

    /// From `get`, e.g. a map in a test.
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> anyhow::Result<Environment> {
        let var = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let url = |name: &str| -> anyhow::Result<Option<url::Url>> {
            var(name)
                .map(|v| url::Url::parse(&v).with_context(|| format!("{name}={v} is not a URL")))
                .transpose()
        };
        let telegram = match var("SPORTELLO_TELEGRAM_TOKEN") {
            None => None,
            Some(token) => {
                let webhook = match url("SPORTELLO_TELEGRAM_WEBHOOK_URL")? {
                    Some(u) => {
                        let secret = var("SPORTELLO_TELEGRAM_WEBHOOK_SECRET").context(
                            "SPORTELLO_TELEGRAM_WEBHOOK_URL is set but SPORTELLO_TELEGRAM_WEBHOOK_SECRET is not\n  hint: set a random secret of letters and digits; Telegram sends it back with every update",
                        )?;
                        Some((u, secret))
                    }
                    None => None,
                };
                Some(TelegramSecrets {
                    token,
                    api_url: url("SPORTELLO_TELEGRAM_API_URL")?,
                    webhook,
                })
            }
        };
        let whatsapp = match var("SPORTELLO_WHATSAPP_TOKEN") {
            None => None,
            Some(token) => {
                let needed = |name: &str, what: &str| {
                    var(name).with_context(|| {
                        format!("SPORTELLO_WHATSAPP_TOKEN is set but {name} is not\n  hint: {what}")
                    })
                };
                let api_url = url("SPORTELLO_WHATSAPP_API_URL")?;
                let api_url = match api_url {
                    Some(u) => u,
                    None => url::Url::parse(DEFAULT_WHATSAPP_API_URL).expect("a valid URL"),
                };
                Some(WhatsappSecrets {
                    token,
                    phone_number_id: needed(
                        "SPORTELLO_WHATSAPP_PHONE_NUMBER_ID",
                        "the Phone number ID of the business number (Meta app, WhatsApp > API Setup)",
                    )?,
                    app_secret: needed(
                        "SPORTELLO_WHATSAPP_APP_SECRET",
                        "the App secret (Meta app, App settings > Basic): it signs every webhook",
                    )?,
                    verify_token: needed(
                        "SPORTELLO_WHATSAPP_VERIFY_TOKEN",
                        "any random string; type the same in the Meta app's webhook settings",
                    )?,
                    api_url,
                })
            }
        };
        let orders = crate::orders::OrderSecrets {
            key: var("SPORTELLO_ORDERS_KEY"),
            secret: var("SPORTELLO_ORDERS_SECRET"),
            token: var("SPORTELLO_ORDERS_TOKEN"),
        };
        Ok(Environment {
            http_addr: var("SPORTELLO_HTTP_ADDR").unwrap_or_else(|| DEFAULT_HTTP_ADDR.into()),
            telegram,
            whatsapp,
            email: super::EmailSecrets::from_vars(var)?,
            orders,
            // A secret read from a file often ends in a newline.
            metrics_token: var("SPORTELLO_METRICS_TOKEN").map(|t| t.trim().to_owned()),
        })
    }
}

impl std::fmt::Debug for TelegramSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelegramSecrets")
            .field("token", &"<redacted>")
            .field("api_url", &self.api_url)
            .field(
                "webhook",
                &self.webhook.as_ref().map(|(url, _)| (url, "<redacted>")),
            )
            .finish()
    }
}

impl std::fmt::Debug for Environment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Environment")
            .field("http_addr", &self.http_addr)
            .field("telegram", &self.telegram)
            .field("whatsapp", &self.whatsapp)
            .field("email", &self.email)
            .field("orders", &self.orders)
            .field(
                "metrics_token",
                &self.metrics_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

impl std::fmt::Debug for WhatsappSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhatsappSecrets")
            .field("token", &"<redacted>")
            .field("phone_number_id", &self.phone_number_id)
            .field("app_secret", &"<redacted>")
            .field("verify_token", &"<redacted>")
            .field("api_url", &self.api_url.as_str())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::TelegramSettings;
    use std::collections::BTreeMap;

    fn env(vars: &[(&str, &str)]) -> anyhow::Result<Environment> {
        let vars: BTreeMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Environment::from_vars(|name| vars.get(name).cloned())
    }

    #[test]
    fn the_environment_is_read_typed_and_its_secrets_stay_out_of_debug() {
        let none = env(&[("SPORTELLO_TELEGRAM_TOKEN", " ")]).unwrap();
        assert_eq!(none.http_addr, DEFAULT_HTTP_ADDR);
        assert!(none.telegram.is_none(), "an empty token is no token");
        let full = env(&[
            ("SPORTELLO_HTTP_ADDR", "0.0.0.0:9000"),
            ("SPORTELLO_TELEGRAM_TOKEN", "123:SECRETTOKEN"),
            (
                "SPORTELLO_TELEGRAM_WEBHOOK_URL",
                "https://shop.example/telegram",
            ),
            ("SPORTELLO_TELEGRAM_WEBHOOK_SECRET", "HOOKSECRET"),
            ("SPORTELLO_METRICS_TOKEN", "METRICSSECRET\n"),
        ])
        .unwrap();
        assert_eq!(full.http_addr, "0.0.0.0:9000");
        assert_eq!(
            full.metrics_token.as_deref(),
            Some("METRICSSECRET"),
            "trimmed"
        );
        let telegram = full.telegram.as_ref().unwrap();
        assert_eq!(telegram.token, "123:SECRETTOKEN");
        assert_eq!(telegram.webhook.as_ref().unwrap().1, "HOOKSECRET");
        let shown = format!("{full:?}");
        assert!(
            !shown.contains("SECRETTOKEN")
                && !shown.contains("HOOKSECRET")
                && !shown.contains("METRICSSECRET"),
            "{shown}"
        );
        assert!(shown.contains("shop.example"), "{shown}");
        let adapter = crate::channels::telegram::TelegramConfig::new(
            telegram.clone(),
            &TelegramSettings::default(),
        );
        let shown = format!("{adapter:?}");
        assert!(
            !shown.contains("SECRETTOKEN") && !shown.contains("HOOKSECRET"),
            "{shown}"
        );
    }

    #[test]
    fn whatsapp_needs_its_four_secrets_and_keeps_them_out_of_debug() {
        let missing = env(&[
            ("SPORTELLO_WHATSAPP_TOKEN", "EAAG-TOKEN"),
            ("SPORTELLO_WHATSAPP_PHONE_NUMBER_ID", "1055"),
        ])
        .unwrap_err();
        assert!(
            format!("{missing:#}").contains("SPORTELLO_WHATSAPP_APP_SECRET"),
            "{missing:#}"
        );
        let full = env(&[
            ("SPORTELLO_WHATSAPP_TOKEN", "EAAG-TOKEN"),
            ("SPORTELLO_WHATSAPP_PHONE_NUMBER_ID", "1055"),
            ("SPORTELLO_WHATSAPP_APP_SECRET", "APPSECRET"),
            ("SPORTELLO_WHATSAPP_VERIFY_TOKEN", "VERIFYME"),
        ])
        .unwrap();
        let whatsapp = full.whatsapp.as_ref().unwrap();
        assert_eq!(
            whatsapp.api_url.as_str(),
            "https://graph.facebook.com/v23.0"
        );
        let shown = format!("{full:?}");
        for secret in ["EAAG-TOKEN", "APPSECRET", "VERIFYME"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("1055"), "{shown}");
    }

    #[test]
    fn a_webhook_without_its_secret_or_a_bad_url_says_which_variable() {
        let no_secret = env(&[
            ("SPORTELLO_TELEGRAM_TOKEN", "1:x"),
            (
                "SPORTELLO_TELEGRAM_WEBHOOK_URL",
                "https://shop.example/telegram",
            ),
        ])
        .unwrap_err();
        assert!(
            format!("{no_secret:#}").contains("SPORTELLO_TELEGRAM_WEBHOOK_SECRET"),
            "{no_secret:#}"
        );
        let bad = env(&[
            ("SPORTELLO_TELEGRAM_TOKEN", "1:x"),
            ("SPORTELLO_TELEGRAM_API_URL", "not a url"),
        ])
        .unwrap_err();
        assert!(
            format!("{bad:#}").contains("SPORTELLO_TELEGRAM_API_URL=not a url is not a URL"),
            "{bad:#}"
        );
    }
}
