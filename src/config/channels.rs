//! `[telegram]`, `[whatsapp]` and `[orders]`: the settings of what Sportello talks to
//! outside (their secrets come from the environment, see `env.rs`).

use super::duration;
use serde::Deserialize;

/// `[telegram]`: how the channel behaves (the token comes from the environment).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelegramSettings {
    /// Long-polling wait per getUpdates call, e.g. "10s".
    #[serde(deserialize_with = "duration")]
    pub poll_timeout: chrono::Duration,
    /// How long a reply is retried before it is given up (and kept as failed), e.g. "1h".
    #[serde(deserialize_with = "duration")]
    pub give_up_after: chrono::Duration,
}

impl Default for TelegramSettings {
    fn default() -> Self {
        Self {
            poll_timeout: chrono::Duration::seconds(10),
            give_up_after: chrono::Duration::hours(1),
        }
    }
}

/// `[whatsapp]`: how the channel behaves (the secrets come from the environment).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WhatsappSettings {
    /// The approved message template sent when a reply falls outside the 24 hours
    /// after the customer's last message (e.g. "riprendi_conversazione"): it asks them
    /// to write back, and the waiting replies go out when they do. Without one, the
    /// replies wait all the same (the console says so).
    pub reopen_template: Option<String>,
    /// The template's language code, as approved (e.g. "it", "en_US").
    pub template_language: String,
    /// How long a reply is retried before it is given up (and kept as failed), e.g. "1h".
    #[serde(deserialize_with = "duration")]
    pub give_up_after: chrono::Duration,
}

impl Default for WhatsappSettings {
    fn default() -> Self {
        Self {
            reopen_template: None,
            template_language: "it".into(),
            give_up_after: chrono::Duration::hours(1),
        }
    }
}

/// `[orders]`: the shop's platform, for "where is my order?" (secrets from the
/// environment: `SPORTELLO_ORDERS_KEY`, `_SECRET`, `_TOKEN`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OrdersSettings {
    /// "woocommerce" | "shopify" | "prestashop" | "http"; none: orders are not looked up.
    pub provider: Option<crate::orders::Provider>,
    /// The shop's address, e.g. "https://negozio.example".
    pub url: Option<String>,
    /// How long a lookup may take before the customer hears "I can't check right now".
    #[serde(deserialize_with = "duration")]
    pub timeout: chrono::Duration,
}

impl Default for OrdersSettings {
    fn default() -> Self {
        Self {
            provider: None,
            url: None,
            timeout: chrono::Duration::seconds(5),
        }
    }
}

impl OrdersSettings {
    /// The connected platform, if `provider` is set; an error says what is missing.
    pub fn connect(
        &self,
        secrets: &crate::orders::OrderSecrets,
    ) -> anyhow::Result<Option<crate::orders::Orders>> {
        let Some(provider) = self.provider else {
            return Ok(None);
        };
        let raw = self.url.as_deref().ok_or_else(|| {
            anyhow::anyhow!(
                "[orders] provider is set but url is not\n  hint: the shop's address, e.g. url = \"https://negozio.example\""
            )
        })?;
        let url = url::Url::parse(raw)
            .map_err(|e| anyhow::anyhow!("[orders] url = {raw:?} is not a URL ({e})"))?;
        let timeout = self
            .timeout
            .to_std()
            .unwrap_or(std::time::Duration::from_secs(5));
        crate::orders::Orders::new(provider, &url, secrets.clone(), timeout).map(Some)
    }
}
