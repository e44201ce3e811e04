//! Orders on the shop's own platform, read-only: WooCommerce, Shopify, PrestaShop, or a
//! plain JSON endpoint a shop writes itself ("http"). One [`Orders::find`] per lookup,
//! with a timeout; each platform's answer is read by a pure function into one [`Order`]
//! (tested on the platforms' real response shapes). Whether the customer may hear the
//! status is [`proves`]: the email or postcode they gave must be the order's.

mod http;
mod prestashop;
mod shopify;
mod woocommerce;

pub use crate::domain::order::Proof;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// `[orders] provider`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Woocommerce,
    Shopify,
    Prestashop,
    Http,
}

/// Where an order stands, as the customer hears it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Received,
    Preparing,
    Shipped,
    Delivered,
    Cancelled,
    Refunded,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shipment {
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
    pub tracking_url: Option<String>,
    pub shipped_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub name: String,
    pub quantity: u32,
}

/// One order, whatever the platform.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub number: String,
    pub status: OrderStatus,
    pub email: Option<String>,
    pub postcode: Option<String>,
    pub placed_at: Option<DateTime<Utc>>,
    pub shipment: Option<Shipment>,
    pub items: Vec<Item>,
    pub total: Option<String>,
    pub currency: Option<String>,
}

/// Whether `proof` is the order's own email or postcode (case and spaces aside).
pub fn proves(order: &Order, proof: &Proof) -> bool {
    let same = |a: &str, b: &str| {
        let fold = |s: &str| -> String {
            s.chars()
                .filter(|c| !c.is_whitespace())
                .flat_map(char::to_lowercase)
                .collect()
        };
        !a.trim().is_empty() && fold(a) == fold(b)
    };
    match proof {
        Proof::Email(e) => order.email.as_deref().is_some_and(|o| same(o, e)),
        Proof::Postcode(p) => order.postcode.as_deref().is_some_and(|o| same(o, p)),
    }
}

/// Why a lookup could not say.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LookupError {
    /// Slow, down, or an answer that does not read: "I can't check right now".
    #[error("the shop's platform did not answer: {0}")]
    Unavailable(String),
    /// The platform refused the keys (401/403): the shop must fix the setup.
    #[error("the shop's platform refused the keys: {0}")]
    Refused(String),
}

/// The secrets, from the environment: `SPORTELLO_ORDERS_KEY`, `_SECRET`, `_TOKEN`.
#[derive(Clone, Default)]
pub struct OrderSecrets {
    pub key: Option<String>,
    pub secret: Option<String>,
    pub token: Option<String>,
}

impl std::fmt::Debug for OrderSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = |s: &Option<String>| s.as_ref().map(|_| "<redacted>");
        f.debug_struct("OrderSecrets")
            .field("key", &set(&self.key))
            .field("secret", &set(&self.secret))
            .field("token", &set(&self.token))
            .finish()
    }
}

/// A connected platform.
pub struct Orders {
    provider: Provider,
    base: String,
    secrets: OrderSecrets,
    client: reqwest::blocking::Client,
}

impl std::fmt::Debug for Orders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Orders")
            .field("provider", &self.provider)
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

impl Orders {
    /// Connect to `url` as `provider`; an error says which secret is missing.
    pub fn new(
        provider: Provider,
        url: &url::Url,
        secrets: OrderSecrets,
        timeout: Duration,
    ) -> anyhow::Result<Orders> {
        let need = |value: &Option<String>, name: &str, what: &str| {
            anyhow::ensure!(
                value.is_some(),
                "[orders] provider = \"{}\" needs {name}\n  hint: {what}",
                serde_json::to_value(provider)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            );
            Ok(())
        };
        match provider {
            Provider::Woocommerce => {
                let how =
                    "WooCommerce > Settings > Advanced > REST API: add a key with Read permission";
                need(&secrets.key, "SPORTELLO_ORDERS_KEY (the consumer key)", how)?;
                need(
                    &secrets.secret,
                    "SPORTELLO_ORDERS_SECRET (the consumer secret)",
                    how,
                )?;
            }
            Provider::Shopify => need(
                &secrets.token,
                "SPORTELLO_ORDERS_TOKEN (an Admin API access token)",
                "Shopify admin > Settings > Apps > Develop apps: a custom app with read_orders",
            )?,
            Provider::Prestashop => need(
                &secrets.key,
                "SPORTELLO_ORDERS_KEY (a webservice key)",
                "PrestaShop back office > Advanced parameters > Webservice: a key with GET on orders, customers, addresses, carriers",
            )?,
            Provider::Http => {}
        }
        let client = reqwest::blocking::Client::builder()
            .timeout(timeout)
            .build()?;
        Ok(Orders {
            provider,
            base: url.as_str().trim_end_matches('/').to_owned(),
            secrets,
            client,
        })
    }

    pub fn provider(&self) -> Provider {
        self.provider
    }

    /// The order with this number (as the customer writes it: `#1001`, `PF-1001`,
    /// `1001`); None if the platform has none.
    pub fn find(&self, number: &str) -> Result<Option<Order>, LookupError> {
        let number = plain_number(number);
        if number.is_empty() {
            return Ok(None);
        }
        match self.provider {
            Provider::Woocommerce => woocommerce::find(self, &number),
            Provider::Shopify => shopify::find(self, &number),
            Provider::Prestashop => prestashop::find(self, &number),
            Provider::Http => http::find(self, &number),
        }
    }

    /// GET `path` (after the base URL) as JSON; None on 404.
    fn get(
        &self,
        path: &str,
        auth: impl FnOnce(reqwest::blocking::RequestBuilder) -> reqwest::blocking::RequestBuilder,
    ) -> Result<Option<serde_json::Value>, LookupError> {
        let url = format!("{}{path}", self.base);
        let response = auth(self.client.get(&url))
            .header("Accept", "application/json")
            .send()
            .map_err(|e| LookupError::Unavailable(e.to_string()))?;
        let status = response.status().as_u16();
        match status {
            200..=299 => response
                .json()
                .map(Some)
                .map_err(|e| LookupError::Unavailable(format!("not JSON: {e}"))),
            404 => Ok(None),
            401 | 403 => Err(LookupError::Refused(format!("HTTP {status} from {url}"))),
            _ => Err(LookupError::Unavailable(format!(
                "HTTP {status} from {url}"
            ))),
        }
    }
}

/// The order number without `#`, a shop prefix (`PF-`) or spaces.
fn plain_number(raw: &str) -> String {
    let raw = raw.trim().trim_start_matches('#');
    let digits_from = raw.find(|c: char| c.is_ascii_digit()).unwrap_or(raw.len());
    raw[digits_from..]
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect()
}

/// A platform's time (RFC 3339, or `2026-11-20T10:00:00` in UTC, or Unix seconds).
fn time(value: &serde_json::Value) -> Option<DateTime<Utc>> {
    if let Some(secs) = value
        .as_i64()
        .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
    {
        return DateTime::from_timestamp(secs, 0);
    }
    let text = value.as_str()?;
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.to_utc())
        .ok()
        .or_else(|| {
            chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S")
                .or_else(|_| chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S"))
                .ok()
                .map(|t| t.and_utc())
        })
}

fn text(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_is_read_as_customers_write_it() {
        assert_eq!(plain_number("#1001"), "1001");
        assert_eq!(plain_number("PF-552211"), "552211");
        assert_eq!(plain_number(" 12 34 "), "1234");
        assert_eq!(plain_number("abc"), "");
    }

    #[test]
    fn only_the_orders_own_email_or_postcode_proves_it() {
        let order = Order {
            number: "1001".into(),
            status: OrderStatus::Shipped,
            email: Some("Giulia.Rossi@Example.it".into()),
            postcode: Some("20 121".into()),
            placed_at: None,
            shipment: None,
            items: vec![],
            total: None,
            currency: None,
        };
        assert!(proves(
            &order,
            &Proof::Email("giulia.rossi@example.it".into())
        ));
        assert!(proves(&order, &Proof::Postcode("20121".into())));
        assert!(!proves(&order, &Proof::Email("giulia@example.it".into())));
        let none = Order {
            email: None,
            ..order
        };
        assert!(!proves(&none, &Proof::Email(String::new())));
    }
}
