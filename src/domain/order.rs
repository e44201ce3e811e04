//! "Where is my order?" as pure rules: what the customer gave (an order number, the
//! email or postcode that proves the order is theirs) and the check in progress on the
//! conversation. The lookup itself is `crate::orders`; the service applies the step.

use chrono::{DateTime, Utc};
use regex::Regex;
use serde::{Deserialize, Serialize};
use std::sync::LazyLock;

/// After this long, an unanswered "what is the number / the email?" is forgotten.
pub const CHECK_TTL: chrono::Duration = chrono::Duration::minutes(30);
/// Wrong number or proof this many times: a person takes over.
pub const MAX_TRIES: u8 = 3;
/// The handoff reason when the tries ran out (`HandoffReason::Intent`).
pub const FAILED_CHECK: &str = "order-check";

/// Words of an FAQ question about orders and their journey (folded, whole words):
/// with no order platform, "where is my order?" is answered outright only by an entry
/// one of whose questions has one ("cambio indirizzo ordine", "dov'è il pacco?"), not
/// by one that shares only "dov'è" ("Dove siete?").
pub const ORDER_WORDS: &[&str] = &[
    "ordine",
    "ordini",
    "ordinato",
    "pacco",
    "pacchi",
    "spedizione",
    "spedizioni",
    "spedito",
    "spedita",
    "tracciamento",
    "tracciare",
    "traccio",
    "tracking",
    "corriere",
    "consegna",
    "consegne",
    "acquisto",
    "order",
    "orders",
    "ordered",
    "parcel",
    "parcels",
    "package",
    "packages",
    "delivery",
    "deliveries",
    "shipment",
    "shipments",
    "shipping",
    "shipped",
    "track",
    "courier",
];

/// Whether an FAQ question is about orders (see [`ORDER_WORDS`]).
pub fn about_orders(question: &str) -> bool {
    crate::text::words(&crate::text::fold(question)).any(|w| ORDER_WORDS.contains(&w))
}

/// What a customer gave to show the order is theirs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Proof {
    Email(String),
    Postcode(String),
}

/// The order check in progress: the bot asked for the number or the proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCheck {
    pub number: Option<String>,
    /// Lookups that did not match so far.
    pub tries: u8,
    #[serde(with = "crate::domain::instant")]
    pub asked_at: DateTime<Utc>,
}

impl OrderCheck {
    pub fn fresh(&self, now: DateTime<Utc>) -> bool {
        now - self.asked_at < CHECK_TTL
    }
}

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}\b").expect("valid regex")
});
/// An Italian CAP, a UK postcode, or another country's 4-5 digits.
static POSTCODE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(\d{4,5}|[a-z]{1,2}\d[a-z\d]?\s*\d[a-z]{2})\b").expect("valid regex")
});
/// An order number named as such in a question: `#1001`, `ordine 552211`, `order n. 7788`.
static NAMED_NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(?:#|\b(?:ordine|order|ord|nr|numero|number|n)\b\.?\s*(?:(?:n|nr|no)\b\.?)?\s*[:#]?\s*)((?:pf-?)?\d{3,12})\b",
    )
    .expect("valid regex")
});
static NUMBER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)#?\b(?:pf-?)?\d{3,12}\b").expect("valid regex"));

/// An email address in the text, else a postcode (when the number is already known,
/// a lone group of digits is the postcode).
pub fn proof_in(text: &str) -> Option<Proof> {
    if let Some(email) = email_in(text) {
        return Some(email);
    }
    let words = crate::text::words(text).count();
    (words <= 4)
        .then(|| POSTCODE.find(text))
        .flatten()
        .map(|p| Proof::Postcode(p.as_str().to_uppercase()))
}

/// An email address in the text.
pub fn email_in(text: &str) -> Option<Proof> {
    EMAIL
        .find(text)
        .map(|e| Proof::Email(e.as_str().to_lowercase()))
}

/// An order number named in a question ("dov'è l'ordine 552211?", "where is #1001").
pub fn named_number_in(text: &str) -> Option<String> {
    NAMED_NUMBER
        .captures(text)
        .and_then(|c| c.get(1))
        .map(|m| m.as_str().to_owned())
}

/// An order number in a short reply to "what is the number?" (`123456`, `#1001`,
/// `PF-552211`).
pub fn number_in(text: &str) -> Option<String> {
    let words = crate::text::words(text).count();
    (words <= 6)
        .then(|| NUMBER.find(text))
        .flatten()
        .map(|n| n.as_str().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_email_or_a_postcode_is_read_from_a_short_reply() {
        assert_eq!(
            proof_in("è Giulia.Rossi@Example.it grazie"),
            Some(Proof::Email("giulia.rossi@example.it".into()))
        );
        assert_eq!(proof_in("20121"), Some(Proof::Postcode("20121".into())));
        assert_eq!(
            proof_in("sw1a 1aa"),
            Some(Proof::Postcode("SW1A 1AA".into()))
        );
        assert_eq!(proof_in("non me lo ricordo"), None);
        assert_eq!(number_in("è il 552211"), Some("552211".into()));
        assert_eq!(number_in("#1001"), Some("#1001".into()));
        assert_eq!(number_in("PF-552211"), Some("PF-552211".into()));
        assert_eq!(number_in("boh"), None);
        assert_eq!(
            named_number_in("where is my order #1001?"),
            Some("1001".into())
        );
        assert_eq!(
            named_number_in("a che punto è il mio ordine n. 7788"),
            Some("7788".into())
        );
        assert_eq!(
            named_number_in("stato ordine 5"),
            None,
            "too short to be a number"
        );
        assert_eq!(named_number_in("ordine del 12 maggio"), None);
    }
}
