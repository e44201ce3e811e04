//! `[email]` and the `SPORTELLO_EMAIL_*` environment: the shop's support mailbox (IMAP
//! in, SMTP out). The URLs say the server and how to reach it: `imaps://` and
//! `smtps://` are TLS from the first byte; `imap://` and `smtp://` switch to TLS
//! (STARTTLS) when the server offers it, and talk plain text only to a loopback host.

use super::duration;
use anyhow::{Context, bail};
use serde::Deserialize;

/// `[email]`: how the channel behaves.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmailSettings {
    /// What a mail the bot cannot match gets: `"handoff"` (a person, at once: no
    /// "please rephrase" round trip a day later) or `"rephrase"` (as in chat).
    pub first_miss: FirstMiss,
    /// How often the mailbox is checked when the server has no IDLE, e.g. "60s".
    #[serde(deserialize_with = "duration")]
    pub poll_every: chrono::Duration,
    /// How long a reply is retried before it is given up (and kept as failed), e.g. "1h".
    #[serde(deserialize_with = "duration")]
    pub give_up_after: chrono::Duration,
    /// A web-chat customer who left an address and has not read an operator's reply
    /// this long after it was written gets it by email too, e.g. "5m".
    #[serde(deserialize_with = "duration")]
    pub follow_up_after: chrono::Duration,
    /// The page with the shop's chat, linked from those mails ("continue in the chat"),
    /// e.g. "https://negozio.it/assistenza". Without it the mail names no link.
    pub chat_url: Option<url::Url>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FirstMiss {
    Handoff,
    Rephrase,
}

impl Default for EmailSettings {
    fn default() -> Self {
        Self {
            first_miss: FirstMiss::Handoff,
            poll_every: chrono::Duration::seconds(60),
            give_up_after: chrono::Duration::hours(4),
            follow_up_after: chrono::Duration::minutes(5),
            chat_url: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// TLS from the first byte (`imaps://`, `smtps://`).
    Tls,
    /// STARTTLS when offered; plain text only to a loopback host.
    StartTls,
}

/// A mail server as its URL gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailServer {
    pub security: Security,
    pub host: String,
    pub port: u16,
    pub user: String,
}

impl MailServer {
    /// Whether plain text may be used when no STARTTLS is offered.
    pub fn loopback(&self) -> bool {
        let host = self.host.trim_matches(['[', ']']);
        host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }
}

/// The channel's part of the environment. `Debug` leaves the password out.
#[derive(Clone)]
pub struct EmailSecrets {
    /// `SPORTELLO_EMAIL_IMAP_URL`: `imaps://USER@HOST:PORT/MAILBOX`.
    pub imap: MailServer,
    pub mailbox: String,
    /// `SPORTELLO_EMAIL_SMTP_URL`: `smtps://USER@HOST:PORT`.
    pub smtp: MailServer,
    /// `SPORTELLO_EMAIL_PASSWORD`: for both (an app password).
    pub password: String,
    /// `SPORTELLO_EMAIL_ADDRESS`: the shop's From, `assistenza@negozio.it` or
    /// `Negozio <assistenza@negozio.it>`.
    pub address: String,
    /// `SPORTELLO_EMAIL_CA_FILE` (optional): PEM certificates trusted besides the Web
    /// PKI roots, for a mail server with the company's own certificate authority.
    pub ca_pem: Option<Vec<u8>>,
}

impl std::fmt::Debug for EmailSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailSecrets")
            .field("imap", &self.imap)
            .field("mailbox", &self.mailbox)
            .field("smtp", &self.smtp)
            .field("password", &"<redacted>")
            .field("address", &self.address)
            .field("ca_pem", &self.ca_pem.as_ref().map(Vec::len))
            .finish()
    }
}

impl EmailSecrets {
    /// The shop's own address, lowercased, without the display name (read by the same
    /// parser the SMTP side sends from, which refuses an address it cannot read).
    pub fn shop_address(&self) -> String {
        self.address
            .parse::<lettre::message::Mailbox>()
            .map_or_else(|_| self.address.trim().to_owned(), |m| m.email.to_string())
            .to_lowercase()
    }

    /// From the environment; None when `SPORTELLO_EMAIL_IMAP_URL` is unset.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> anyhow::Result<Option<Self>> {
        let Some(imap_url) = var("SPORTELLO_EMAIL_IMAP_URL") else {
            return Ok(None);
        };
        let needed = |name: &str, what: &str| {
            var(name).with_context(|| {
                format!("SPORTELLO_EMAIL_IMAP_URL is set but {name} is not\n  hint: {what}")
            })
        };
        let (imap, mailbox) = server("SPORTELLO_EMAIL_IMAP_URL", &imap_url, "imap", 993, 143)?;
        let smtp_url = needed(
            "SPORTELLO_EMAIL_SMTP_URL",
            "smtps://USER@HOST:465 or smtp://USER@HOST:587 (the same mailbox's outgoing server)",
        )?;
        let (smtp, _) = server("SPORTELLO_EMAIL_SMTP_URL", &smtp_url, "smtp", 465, 587)?;
        let address = needed(
            "SPORTELLO_EMAIL_ADDRESS",
            "the shop's address customers write to, e.g. assistenza@negozio.it",
        )?;
        if !address.contains('@') {
            bail!(
                "SPORTELLO_EMAIL_ADDRESS={address} is not an address\n  hint: e.g. assistenza@negozio.it or \"Negozio <assistenza@negozio.it>\""
            );
        }
        let ca_pem = match var("SPORTELLO_EMAIL_CA_FILE") {
            Some(path) => Some(std::fs::read(&path).with_context(|| {
                format!("SPORTELLO_EMAIL_CA_FILE={path} cannot be read\n  hint: a PEM file with the certificate authority of the mail server")
            })?),
            None => None,
        };
        Ok(Some(EmailSecrets {
            ca_pem,
            imap,
            mailbox: mailbox.unwrap_or_else(|| "INBOX".into()),
            smtp,
            password: needed(
                "SPORTELLO_EMAIL_PASSWORD",
                "the mailbox's password (with Gmail or Office 365, an app password)",
            )?,
            address,
        }))
    }
}

/// `scheme://USER@HOST:PORT/PATH` checked: the server and the path (a mailbox).
fn server(
    name: &str,
    raw: &str,
    scheme: &str,
    tls_port: u16,
    plain_port: u16,
) -> anyhow::Result<(MailServer, Option<String>)> {
    let hint = format!("{scheme}s://USER@HOST:{tls_port} (or {scheme}://USER@HOST:{plain_port})");
    let url = url::Url::parse(raw)
        .with_context(|| format!("{name}={raw} is not a URL\n  hint: {hint}"))?;
    let security = match url.scheme() {
        s if s == format!("{scheme}s") => Security::Tls,
        s if s == scheme => Security::StartTls,
        other => bail!("{name}: unknown scheme `{other}`\n  hint: {hint}"),
    };
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .with_context(|| format!("{name}={raw} has no host\n  hint: {hint}"))?
        .to_owned();
    let user = percent_encoding::percent_decode_str(url.username())
        .decode_utf8_lossy()
        .into_owned();
    if user.is_empty() {
        bail!(
            "{name}={raw} has no user\n  hint: {hint} (an @ in the user is written %40: shop%40gmail.com@imap.gmail.com)"
        );
    }
    let port = url.port().unwrap_or(match security {
        Security::Tls => tls_port,
        Security::StartTls => plain_port,
    });
    let path = url.path().trim_matches('/');
    let mailbox = (!path.is_empty()).then(|| {
        percent_encoding::percent_decode_str(path)
            .decode_utf8_lossy()
            .into_owned()
    });
    let server = MailServer {
        security,
        host,
        port,
        user,
    };
    Ok((server, mailbox))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> anyhow::Result<Option<EmailSecrets>> {
        let map: std::collections::HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        EmailSecrets::from_vars(|n| map.get(n).cloned())
    }

    #[test]
    fn urls_give_the_server_the_user_and_the_mailbox() {
        let s = vars(&[
            (
                "SPORTELLO_EMAIL_IMAP_URL",
                "imaps://shop%40gmail.com@imap.gmail.com/INBOX",
            ),
            (
                "SPORTELLO_EMAIL_SMTP_URL",
                "smtp://shop%40gmail.com@smtp.gmail.com",
            ),
            ("SPORTELLO_EMAIL_PASSWORD", "app password"),
            ("SPORTELLO_EMAIL_ADDRESS", "Negozio <shop@gmail.com>"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(s.imap.user, "shop@gmail.com");
        assert_eq!((s.imap.security, s.imap.port), (Security::Tls, 993));
        assert_eq!((s.smtp.security, s.smtp.port), (Security::StartTls, 587));
        assert_eq!(s.mailbox, "INBOX");
        assert_eq!(s.shop_address(), "shop@gmail.com");
        assert!(!format!("{s:?}").contains("app password"));
        assert!(!s.imap.loopback());
    }

    #[test]
    fn a_missing_or_wrong_setting_says_what_to_set() {
        assert!(vars(&[]).unwrap().is_none(), "off without the IMAP URL");
        let e = vars(&[("SPORTELLO_EMAIL_IMAP_URL", "imaps://a@b")]).unwrap_err();
        assert!(
            format!("{e:#}").contains("SPORTELLO_EMAIL_SMTP_URL"),
            "{e:#}"
        );
        let e = vars(&[("SPORTELLO_EMAIL_IMAP_URL", "pop3://a@b")]).unwrap_err();
        assert!(format!("{e:#}").contains("unknown scheme"), "{e:#}");
        let e = vars(&[("SPORTELLO_EMAIL_IMAP_URL", "imaps://imap.example.com")]).unwrap_err();
        assert!(format!("{e:#}").contains("no user"), "{e:#}");
    }
}
