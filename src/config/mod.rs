//! Typed configuration: `sportello.toml` (or `--config FILE`) plus `SPORTELLO_*`
//! environment variables ([`Environment`], read in one place). Secrets come only from
//! the environment.

mod channels;
mod email;
mod env;
mod load;

pub use channels::{OrdersSettings, TelegramSettings, WhatsappSettings};
pub use email::{EmailSecrets, EmailSettings, FirstMiss, MailServer, Security};
pub use env::{DEFAULT_HTTP_ADDR, Environment, TelegramSecrets, WhatsappSecrets};
pub use load::ConfigError;

use crate::matcher::MatchSettings;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub matching: MatchSettings,
    /// Where handoffs go when neither the FAQ entry nor the intent names a department.
    pub default_department: String,
    pub departments: BTreeMap<String, Department>,
    pub telegram: TelegramSettings,
    pub whatsapp: WhatsappSettings,
    pub email: EmailSettings,
    pub orders: OrdersSettings,
    /// `[embeddings]`: semantic evidence from an embeddings endpoint (off when absent).
    pub embeddings: Option<crate::matcher::EmbeddingSettings>,
    /// `[[canned]]`: the console's ready replies; `{name}` and `{order}` are filled in.
    pub canned: Vec<Canned>,
    /// `[hours]`: when people are in (default: always).
    pub hours: crate::care::Hours,
    pub surveys: SurveySettings,
    pub web: WebSettings,
}

/// `[web]`: the HTTP server's defences (see README, "Web chat and console").
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebSettings {
    /// Reverse proxies whose `X-Forwarded-For` is believed: behind them the client's
    /// address (for the login lockout and the web chat's limits) is the last one in that
    /// header not itself a trusted proxy. Anyone else's header is ignored.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Open connections allowed from one address; past it new ones are closed at once.
    pub max_connections_per_address: usize,
    /// Open connections allowed in all.
    pub max_connections: usize,
    /// A connection that has not sent a whole request head within this time (also
    /// between requests on a kept-alive connection) is closed, e.g. "10s" (at most 30s).
    #[serde(deserialize_with = "header_timeout")]
    pub header_timeout: chrono::Duration,
}

impl Default for WebSettings {
    fn default() -> Self {
        Self {
            trusted_proxies: Vec::new(),
            max_connections_per_address: 128,
            max_connections: 4096,
            header_timeout: chrono::Duration::seconds(10),
        }
    }
}

fn header_timeout<'de, D: serde::Deserializer<'de>>(d: D) -> Result<chrono::Duration, D::Error> {
    let span = duration(d)?;
    if span <= chrono::Duration::zero() || span > chrono::Duration::seconds(30) {
        return Err(serde::de::Error::custom(
            "header_timeout must be between 1s and 30s",
        ));
    }
    Ok(span)
}

/// `[surveys]`: satisfaction questions in the chat.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SurveySettings {
    /// Ask CSAT (1-5) when an operator closes a ticket.
    pub csat: bool,
    /// Ask NPS (0-10) after a CSAT answer, at most this often per customer, e.g. "90d".
    #[serde(deserialize_with = "duration")]
    pub nps_every: chrono::Duration,
}

impl Default for SurveySettings {
    fn default() -> Self {
        Self {
            csat: true,
            nps_every: chrono::Duration::days(90),
        }
    }
}

/// A ready reply for operators.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Canned {
    pub title: String,
    /// Offered only in conversations in this language (default: all).
    #[serde(default)]
    pub lang: Option<crate::domain::Lang>,
    pub text: String,
}

impl Canned {
    fn new(lang: crate::domain::Lang, title: &str, text: &str) -> Self {
        Self {
            title: title.into(),
            lang: Some(lang),
            text: text.into(),
        }
    }

    /// The text with `{name}` and `{order}` filled in. A name not known is left out
    /// ("Ciao, ..."); an order number not known stays as `{order}`, for the operator
    /// to complete.
    pub fn fill(&self, name: Option<&str>, order: Option<&str>) -> String {
        let mut text = match name {
            Some(name) => self.text.replace("{name}", name),
            None => self.text.replace(" {name}", "").replace("{name}", ""),
        };
        if let Some(order) = order {
            text = text.replace("{order}", order);
        }
        text
    }

    fn defaults() -> Vec<Canned> {
        use crate::domain::Lang::{En, It};
        vec![
            Canned::new(
                It,
                "Saluto",
                "Ciao {name}, sono qui per aiutarti. Dammi un attimo per controllare.",
            ),
            Canned::new(
                It,
                "Ordine in verifica",
                "Ciao {name}, sto verificando l'ordine {order} con il magazzino: ti aggiorno entro oggi.",
            ),
            Canned::new(
                It,
                "Ordine spedito",
                "Buone notizie {name}: l'ordine {order} è partito. Riceverai il link di tracciamento via email.",
            ),
            Canned::new(
                It,
                "Chiusura",
                "Grazie {name}, se ti serve altro scrivici pure qui. Buona giornata!",
            ),
            Canned::new(
                En,
                "Greeting",
                "Hi {name}, I'm here to help. Give me a moment to check.",
            ),
            Canned::new(
                En,
                "Order being checked",
                "Hi {name}, I'm checking order {order} with the warehouse: I'll update you today.",
            ),
            Canned::new(
                En,
                "Order shipped",
                "Good news {name}: order {order} has shipped. You'll get the tracking link by email.",
            ),
            Canned::new(
                En,
                "Closing",
                "Thanks {name}, if you need anything else just write here. Have a good day!",
            ),
        ]
    }
}

/// A span written as a number and a unit: `30s`, `10m`, `24h`, `7d`.
pub fn parse_duration(raw: &str) -> Result<chrono::Duration, String> {
    let raw = raw.trim();
    let split = raw.char_indices().last().map_or(0, |(i, _)| i);
    let (n, unit) = raw.split_at(split);
    let n: i64 = n
        .parse()
        .ok()
        .filter(|n| (0..=100_000).contains(n))
        .ok_or_else(|| {
            format!("{raw}: expected a number (0 to 100000) and a unit, like 30s, 10m, 24h or 7d")
        })?;
    match unit {
        "s" => Ok(chrono::Duration::seconds(n)),
        "m" => Ok(chrono::Duration::minutes(n)),
        "h" => Ok(chrono::Duration::hours(n)),
        "d" => Ok(chrono::Duration::days(n)),
        _ => Err(format!("{raw}: the unit is s, m, h or d (e.g. 10m)")),
    }
}

fn duration<'de, D: serde::Deserializer<'de>>(d: D) -> Result<chrono::Duration, D::Error> {
    let raw = String::deserialize(d)?;
    parse_duration(&raw).map_err(serde::de::Error::custom)
}

fn optional_duration<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<chrono::Duration>, D::Error> {
    duration(d).map(Some)
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Department {
    /// How the department is shown to customers, per language code.
    #[serde(default)]
    pub label: BTreeMap<String, String>,
    /// The department's own hours, when they differ from the shop's `[hours]`.
    #[serde(default)]
    pub hours: Option<crate::care::Hours>,
    /// Operator first-response target, in business time, e.g. "10m".
    #[serde(default, deserialize_with = "optional_duration")]
    pub sla_first_response: Option<chrono::Duration>,
    /// Words that send a handoff here when neither the intent nor the FAQ entry names
    /// a department, e.g. `["fattura", "invoice"]` (matched without case or accents).
    #[serde(default)]
    pub keywords: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        let departments = ["vendite", "logistica", "amministrazione", "assistenza"]
            .into_iter()
            .map(|d| (d.to_owned(), Department::default()))
            .collect();
        Self {
            matching: MatchSettings::default(),
            default_department: "assistenza".into(),
            departments,
            telegram: TelegramSettings::default(),
            whatsapp: WhatsappSettings::default(),
            email: EmailSettings::default(),
            orders: OrdersSettings::default(),
            embeddings: None,
            canned: Canned::defaults(),
            hours: crate::care::Hours::always(),
            surveys: SurveySettings::default(),
            web: WebSettings::default(),
        }
    }
}

impl Config {
    /// How a department is named to a customer writing in `lang`: its `label` for
    /// that language, else the built-in one of the four default departments, else
    /// its name ("logistica" is "Shipping" to an English customer, never "logistica").
    pub fn department_label<'a>(
        &'a self,
        department: &'a str,
        lang: crate::domain::Lang,
    ) -> &'a str {
        if let Some(label) = self
            .departments
            .get(department)
            .and_then(|d| d.label.get(lang.code()))
        {
            return label;
        }
        let it = lang == crate::domain::Lang::It;
        match department {
            "vendite" if it => "Vendite",
            "vendite" => "Sales",
            "logistica" if it => "Logistica",
            "logistica" => "Shipping",
            "amministrazione" if it => "Amministrazione",
            "amministrazione" => "Billing",
            "assistenza" if it => "Assistenza clienti",
            "assistenza" => "Customer care",
            _ => department,
        }
    }

    /// The hours that apply to a department: its own, else the shop's.
    pub fn hours_of(&self, department: &str) -> &crate::care::Hours {
        self.departments
            .get(department)
            .and_then(|d| d.hours.as_ref())
            .unwrap_or(&self.hours)
    }

    /// A ticket's first-response SLA state now, if its department has a target.
    pub fn sla_of(
        &self,
        ticket: &crate::domain::Ticket,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Option<crate::care::SlaState> {
        let target = self
            .departments
            .get(&ticket.department)?
            .sla_first_response?;
        let hours = self.hours_of(&ticket.department);
        Some(crate::care::sla_state(
            hours,
            target,
            ticket.opened_at,
            ticket.first_response_at,
            now,
        ))
    }

    /// The first department (in name order) with a keyword that `text` mentions, if
    /// any: a keyword matches whole words (several words match them in a row).
    pub fn department_by_keywords(&self, text: &str) -> Option<&str> {
        let spaced = |t: &str| {
            let folded = crate::text::fold(t);
            let words: Vec<&str> = crate::text::words(&folded).collect();
            format!(" {} ", words.join(" "))
        };
        let text = spaced(text);
        self.departments.iter().find_map(|(name, d)| {
            d.keywords
                .iter()
                .map(|k| spaced(k))
                .any(|k| k.trim() != "" && text.contains(&k))
                .then_some(name.as_str())
        })
    }
}
