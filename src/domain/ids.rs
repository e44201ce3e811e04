//! Identifiers parsed at the edge: customers (`channel:id`), tickets, languages.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum IdError {
    #[error("customer id `{0}` is not `channel:id` (hint: e.g. `telegram:123`, `terminal:anna`)")]
    Customer(String),
    #[error("ticket id `{0}` is not a number (hint: use the number `sportello queue list` shows)")]
    Ticket(String),
    #[error("language `{0}` is not supported (hint: use `it` or `en`)")]
    Lang(String),
}

/// A customer as seen by one channel: `telegram:123`, `terminal:anna`, `web:4f2a`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CustomerId(String);

impl CustomerId {
    pub fn parse(raw: &str) -> Result<Self, IdError> {
        let raw = raw.trim();
        let valid = raw.split_once(':').is_some_and(|(channel, id)| {
            !channel.is_empty()
                && !id.is_empty()
                && channel.chars().all(|c| c.is_ascii_lowercase())
                && !raw.chars().any(|c| c.is_control() || c.is_whitespace())
        });
        if valid && raw.len() <= 262 {
            Ok(Self(raw.to_owned()))
        } else {
            Err(IdError::Customer(raw.to_owned()))
        }
    }

    pub fn channel(&self) -> &str {
        self.0.split_once(':').map_or("", |(c, _)| c)
    }

    /// The channel this customer writes on, if it is one Sportello serves (ids of
    /// other kinds come from replay scripts and forgotten customers).
    pub fn kind(&self) -> Option<ChannelKind> {
        ChannelKind::parse(self.channel())
    }

    /// The anonymous id a forgotten customer's tickets and events are kept under
    /// (`forgotten:...`): nothing more may be stored about them.
    pub fn is_forgotten(&self) -> bool {
        self.channel() == "forgotten"
    }

    /// The channel the report counts this customer under: their own; for a forgotten
    /// customer the one they wrote on (`forgotten:telegram.4f2a...`), so that erasing
    /// someone moves no conversation between channels (ids forgotten before the channel
    /// was kept count as `forgotten`).
    pub fn counted_channel(&self) -> &str {
        if self.is_forgotten()
            && let Some((channel, _)) = self.local().split_once('.')
            && !channel.is_empty()
        {
            return channel;
        }
        self.channel()
    }

    /// The id within the channel (`123` of `telegram:123`).
    pub fn local(&self) -> &str {
        self.0.split_once(':').map_or("", |(_, id)| id)
    }

    /// A customer of `kind` with the channel's own id for them.
    pub fn of(kind: ChannelKind, local: &str) -> Result<Self, IdError> {
        Self::parse(&format!("{}:{local}", kind.as_str()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for CustomerId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for CustomerId {
    type Error = IdError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<CustomerId> for String {
    fn from(id: CustomerId) -> Self {
        id.0
    }
}

impl fmt::Display for CustomerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The channels customers write on: the prefix of their ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    Telegram,
    Whatsapp,
    Email,
    Web,
    Terminal,
}

impl ChannelKind {
    pub const ALL: [ChannelKind; 5] = [
        ChannelKind::Telegram,
        ChannelKind::Whatsapp,
        ChannelKind::Email,
        ChannelKind::Web,
        ChannelKind::Terminal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Telegram => "telegram",
            ChannelKind::Whatsapp => "whatsapp",
            ChannelKind::Email => "email",
            ChannelKind::Web => "web",
            ChannelKind::Terminal => "terminal",
        }
    }

    pub fn parse(name: &str) -> Option<ChannelKind> {
        ChannelKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// How long after the customer's last message the channel lets a business write
    /// freely: WhatsApp's 24 hours (after that, only an approved template). None: always.
    pub fn service_window(self) -> Option<chrono::Duration> {
        match self {
            ChannelKind::Whatsapp => Some(chrono::Duration::hours(24)),
            _ => None,
        }
    }
}

impl fmt::Display for ChannelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A ticket number, as operators type it (`12`, `#12`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TicketId(pub u64);

impl FromStr for TicketId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.trim()
            .trim_start_matches('#')
            .parse()
            .map(TicketId)
            .map_err(|_| IdError::Ticket(s.to_owned()))
    }
}

impl fmt::Display for TicketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// The languages the shop serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    It,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::It, Lang::En];

    pub fn code(self) -> &'static str {
        match self {
            Lang::It => "it",
            Lang::En => "en",
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::It => Lang::En,
            Lang::En => Lang::It,
        }
    }

    /// From a locale such as `it-IT`, `en_GB` or `it`.
    pub fn from_locale(locale: &str) -> Option<Lang> {
        locale.get(..2)?.parse().ok()
    }
}

impl FromStr for Lang {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "it" => Ok(Lang::It),
            "en" => Ok(Lang::En),
            _ => Err(IdError::Lang(s.to_owned())),
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customer_ids_need_a_channel_and_an_id() {
        assert_eq!(
            CustomerId::parse("telegram:42").unwrap().channel(),
            "telegram"
        );
        assert!(CustomerId::parse("telegram").is_err());
        assert!(CustomerId::parse("Tele gram:1").is_err());
        assert!(CustomerId::parse(":1").is_err());
    }

    #[test]
    fn ticket_ids_accept_a_hash() {
        assert_eq!("#12".parse::<TicketId>(), Ok(TicketId(12)));
        assert!("abc".parse::<TicketId>().is_err());
    }

    #[test]
    fn locales_map_to_languages() {
        assert_eq!(Lang::from_locale("it-IT"), Some(Lang::It));
        assert_eq!(Lang::from_locale("en_GB"), Some(Lang::En));
        assert_eq!(Lang::from_locale("de"), None);
    }
}
