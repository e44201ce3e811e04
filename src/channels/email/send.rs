//! Replies by SMTP, from the shop's address, threaded to the customer's mail
//! (`Subject: Re: …`, `In-Reply-To`, `References`): the bot's marked
//! `Auto-Submitted: auto-replied` (so that auto-responders do not answer them),
//! operators' signed with their name; text plus a simple HTML part from the Markdown.

use super::read::reply_subject;
use crate::channels::dispatch::{Attempt, Sender, blocking};
use crate::channels::format;
use crate::config::{EmailSecrets, Security};
use crate::domain::{ChannelKind, Outbound, OutboundKind};
use crate::service::Service;
use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::sync::Arc;
use std::time::Duration;

pub struct SmtpSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    service: Arc<Service>,
}

impl SmtpSender {
    /// Send a mail that is not an outbox message (a follow-up).
    pub async fn send_mail(&self, message: Message) -> Result<(), lettre::transport::smtp::Error> {
        self.transport.send(message).await.map(|_| ())
    }

    pub fn from(&self) -> &Mailbox {
        &self.from
    }

    pub fn new(secrets: &EmailSecrets, service: Arc<Service>) -> anyhow::Result<SmtpSender> {
        let server = &secrets.smtp;
        let mut params = TlsParameters::builder(server.host.clone());
        if let Some(pem) = &secrets.ca_pem {
            params = params.add_root_certificate(Certificate::from_pem(pem)?);
        }
        let params = params.build_rustls()?;
        // TLS from the first byte, STARTTLS required, or (loopback only) when offered.
        let tls = match server.security {
            Security::Tls => Tls::Wrapper(params),
            Security::StartTls if server.loopback() => Tls::Opportunistic(params),
            Security::StartTls => Tls::Required(params),
        };
        let builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&server.host).tls(tls);
        let transport = builder
            .port(server.port)
            .credentials(Credentials::new(
                server.user.clone(),
                secrets.password.clone(),
            ))
            .timeout(Some(Duration::from_secs(30)))
            .build();
        let from: Mailbox = secrets.address.parse().map_err(|e| {
            anyhow::anyhow!(
                "SPORTELLO_EMAIL_ADDRESS={} is not an address ({e})\n  hint: e.g. assistenza@negozio.it or \"Negozio <assistenza@negozio.it>\"",
                secrets.address
            )
        })?;
        Ok(SmtpSender {
            transport,
            from,
            service,
        })
    }
}

/// The mail for `out` from `from`, with the message id it goes out under.
fn compose(
    from: &Mailbox,
    out: &Outbound,
    thread: &crate::store::EmailThread,
) -> Result<(Message, String), String> {
    {
        let to = mailbox(out.customer.local())?;
        let domain = from.email.domain().to_owned();
        let id = format!(
            "sportello.{}@{domain}",
            &crate::accounts::new_secret()[..24]
        );
        let mut text = out.text.clone();
        if !out.choices.is_empty() {
            text.push_str(&format::numbered(&out.choices));
        }
        if out.kind == OutboundKind::Operator {
            let shop = from.name.clone().unwrap_or_default();
            let name = out.operator.clone().unwrap_or_default();
            text.push_str(format!("\n\n-- \n{name}\n{shop}").trim_end());
        }
        let html = html(&text);
        let mut builder = Message::builder()
            .from(from.clone())
            .to(to)
            .subject(reply_subject(&thread.subject))
            .message_id(Some(format!("<{id}>")));
        if !thread.last.is_empty() {
            builder = builder.in_reply_to(format!("<{}>", thread.last));
        }
        if !thread.references.is_empty() {
            let refs: Vec<String> = thread.references.iter().map(|r| format!("<{r}>")).collect();
            builder = builder.references(refs.join(" "));
        }
        if out.kind != OutboundKind::Operator {
            builder = builder.header(AutoSubmitted("auto-replied"));
        }
        let message = builder
            .multipart(alternative(format::to_plain(&text), html))
            .map_err(|e| e.to_string())?;
        Ok((message, id))
    }
}

impl Sender for SmtpSender {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Email
    }

    fn parts(&self, _out: &Outbound) -> usize {
        1
    }

    fn max_in_flight(&self) -> Option<usize> {
        Some(1)
    }

    async fn send(&self, out: &Outbound, _part: usize) -> Attempt {
        let (store, customer) = (self.service.store().clone(), out.customer.clone());
        let thread = match blocking(move || store.email_thread(&customer)).await {
            Ok(thread) => thread.unwrap_or_default(),
            Err(e) => {
                return Attempt::Retry {
                    after: None,
                    rate_limited: false,
                    why: format!("cannot read the thread: {e}"),
                };
            }
        };
        let (message, id) = match compose(&self.from, out, &thread) {
            Ok(composed) => composed,
            Err(why) => return Attempt::GiveUp(why),
        };
        if let Err(e) = self.transport.send(message).await {
            return outcome(&e);
        }
        // The customer's next reply threads to this one too.
        let (store, customer) = (self.service.store().clone(), out.customer.clone());
        let recorded = blocking(move || {
            store.update_email_thread(&customer, &|thread| thread.extend([id.clone()]))
        })
        .await;
        if let Err(e) = recorded {
            tracing::warn!("email: sent, but the thread was not updated: {e}");
        }
        Attempt::Sent
    }
}

/// What an SMTP error means for the message. Only an unknown recipient (550, 551, 553
/// with no enhanced status or a `5.1.x` one) marks the customer unreachable: a sending
/// quota (`550 5.4.5`) or a policy refusal of the shop's own mail gives up this one
/// message, not the customer.
pub(super) fn outcome(e: &lettre::transport::smtp::Error) -> Attempt {
    let code = e.status().map(|c| c.to_string());
    let text = e.to_string();
    let enhanced = ENHANCED.find(&text).map(|m| m.as_str());
    match code.as_deref() {
        Some("535" | "534" | "530") => Attempt::Fatal(format!(
            "the SMTP server refused the login ({e})\n  hint: check SPORTELLO_EMAIL_PASSWORD (Gmail and Office 365 want an app password)"
        )),
        Some("550" | "551" | "553") if enhanced.is_none_or(|c| c.starts_with("5.1.")) => {
            Attempt::Unreachable(format!("the address is refused: {e}"))
        }
        _ if e.is_permanent() => Attempt::GiveUp(format!("refused by the SMTP server: {e}")),
        _ => Attempt::Retry {
            after: None,
            rate_limited: false,
            why: text,
        },
    }
}

/// An enhanced status code (RFC 3463) in a server's reply: `5.1.1`.
static ENHANCED: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"\b[245]\.\d{1,3}\.\d{1,3}\b").expect("valid regex")
});

pub(super) fn mailbox(address: &str) -> Result<Mailbox, String> {
    address
        .parse()
        .map_err(|e| format!("`{address}` is not an address: {e}"))
}

/// The answer's Markdown as a simple HTML page.
pub(super) fn html(text: &str) -> String {
    format!(
        "<!DOCTYPE html><html><body><div style=\"font-family:sans-serif;font-size:15px;line-height:1.45\">{}</div></body></html>",
        format::to_html(text).replace('\n', "<br>\n")
    )
}

pub(super) fn alternative(text: String, html: String) -> MultiPart {
    MultiPart::alternative()
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(text),
        )
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_HTML)
                .body(html),
        )
}

/// `Auto-Submitted` (RFC 3834): `auto-replied` on the bot's replies,
/// `auto-generated` on notices.
#[derive(Clone)]
pub(super) struct AutoSubmitted(pub(super) &'static str);

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(AutoSubmitted(if s.trim() == "auto-generated" {
            "auto-generated"
        } else {
            "auto-replied"
        }))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.into())
    }
}

#[cfg(test)]
mod tests {
    use super::compose;
    use crate::domain::{Choice, ChoiceTarget, CustomerId, Outbound, OutboundKind};
    use crate::store::EmailThread;

    #[test]
    fn did_you_mean_is_a_numbered_list_to_answer_with_the_number() {
        let choice = |label: &str, target| Choice {
            label: label.into(),
            target,
        };
        let out = Outbound {
            customer: CustomerId::parse("email:maria@example.it").unwrap(),
            kind: OutboundKind::Clarify,
            text: "Intendevi una di queste?".into(),
            choices: vec![
                choice(
                    "Quanto costa la spedizione?",
                    ChoiceTarget::Faq("costi".into()),
                ),
                choice("Spedite all'estero?", ChoiceTarget::Faq("estero".into())),
                choice("Parlare con una persona", ChoiceTarget::Human),
            ],
            at: chrono::Utc::now(),
            operator: None,
        };
        let thread = EmailThread {
            subject: "R: spedizioni".into(),
            last: "m1@example.it".into(),
            references: vec!["m1@example.it".into()],
        };
        let from = "Negozio <shop@negozio.it>".parse().unwrap();
        let (mail, id) = compose(&from, &out, &thread).unwrap();
        assert!(id.ends_with("@negozio.it"), "{id}");
        let raw = String::from_utf8(mail.formatted()).unwrap();
        assert!(raw.contains("Subject: Re: spedizioni"), "{raw}");
        assert!(raw.contains("In-Reply-To: <m1@example.it>"), "{raw}");
        assert!(raw.contains("Auto-Submitted: auto-replied"), "{raw}");
        let parsed = mail_parser::MessageParser::default()
            .parse(raw.as_bytes())
            .unwrap();
        let text = parsed.body_text(0).unwrap().replace("\r\n", "\n");
        assert!(
            text.ends_with(
                "1. Quanto costa la spedizione?\n2. Spedite all'estero?\n3. Parlare con una persona"
            ),
            "{text}"
        );
    }
}
