//! A mail as a customer message: who wrote, what they wrote this time (the quoted
//! previous message, the "Il giorno … ha scritto:" / "On … wrote:" header above it and
//! the signature stripped), what it threads to, and whether the bot may answer it at
//! all (auto-replies, lists, bounces).

use crate::domain::AttachmentKind;
use mail_parser::{Address, HeaderValue, MessageParser, MimeHeaders, PartType};
use regex::Regex;
use std::sync::LazyLock;

/// The longest address a customer id takes (RFC 5321's path limit).
pub const MAX_ADDRESS: usize = 254;

/// What a mail is to the bot.
#[derive(Debug, Clone, PartialEq)]
pub enum MailKind {
    /// A person wrote: the bot may answer.
    Customer,
    /// An auto-reply, a list, a no-reply sender: stored, never answered.
    Automated(String),
    /// A delivery-status report: the mail to `recipient` could not be delivered.
    Bounce { recipient: String, why: String },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Mail {
    /// Without the angle brackets; one made from the content when the mail has none.
    pub message_id: String,
    /// Lowercased.
    pub from: String,
    pub name: Option<String>,
    pub subject: String,
    /// What the customer wrote this time, for matching.
    pub fresh: String,
    /// The whole text (HTML-only mail read as text), for the transcript.
    pub full: String,
    /// `References` then `In-Reply-To`, without angle brackets.
    pub references: Vec<String>,
    pub kind: MailKind,
    pub attachments: Vec<(AttachmentKind, String)>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReadError {
    #[error("not a mail message")]
    Unreadable,
    #[error("the mail has no sender address")]
    NoSender,
    #[error("the sender address is longer than {MAX_ADDRESS} characters")]
    LongAddress,
}

/// Read a raw RFC 5322 message.
pub fn read(raw: &[u8]) -> Result<Mail, ReadError> {
    let msg = MessageParser::default()
        .parse(raw)
        .ok_or(ReadError::Unreadable)?;
    let (from, name) = sender(msg.from()).ok_or(ReadError::NoSender)?;
    if from.chars().count() > MAX_ADDRESS {
        return Err(ReadError::LongAddress);
    }
    let message_id = match msg.message_id() {
        Some(id) if !id.trim().is_empty() => id.trim().to_owned(),
        _ => format!(
            "sportello-{}@no-message-id",
            &crate::accounts::digest(&String::from_utf8_lossy(raw))[..24]
        ),
    };
    let full = msg
        .body_text(0)
        .map(|t| t.replace("\r\n", "\n"))
        .unwrap_or_default();
    let mut references = ids(msg.references());
    references.extend(ids(msg.in_reply_to()));
    references.dedup();
    let attachments = msg
        .attachments()
        .map(|part| {
            let kind = match part.content_type().map(|c| c.ctype()) {
                Some("image") => AttachmentKind::Photo,
                Some("audio") => AttachmentKind::Audio,
                Some("video") => AttachmentKind::Video,
                _ => AttachmentKind::Document,
            };
            (kind, part.attachment_name().unwrap_or("file").to_owned())
        })
        .collect();
    let kind = kind_of(&msg, &from);
    Ok(Mail {
        message_id,
        name,
        subject: msg.subject().unwrap_or_default().trim().to_owned(),
        fresh: fresh(&html_above_quote(&msg).unwrap_or_else(|| full.clone())),
        full: full.trim().to_owned(),
        references,
        kind,
        attachments,
        from,
    })
}

fn sender(from: Option<&Address<'_>>) -> Option<(String, Option<String>)> {
    let addr = from?.first()?;
    let address = addr.address()?.trim().to_lowercase();
    if address.is_empty() || !address.contains('@') {
        return None;
    }
    let name = addr
        .name()
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    Some((address, name))
}

fn ids(value: &HeaderValue<'_>) -> Vec<String> {
    match value {
        HeaderValue::Text(id) => vec![id.trim().to_owned()],
        HeaderValue::TextList(list) => list.iter().map(|id| id.trim().to_owned()).collect(),
        _ => Vec::new(),
    }
}

/// Loops and bounces first: a report, then any sign of a machine.
fn kind_of(msg: &mail_parser::Message<'_>, from: &str) -> MailKind {
    if let Some(bounce) = bounce(msg) {
        return bounce;
    }
    let header = |name: &str| msg.header_raw(name).map(|v| v.trim().to_lowercase());
    if let Some(auto) = header("Auto-Submitted").filter(|v| !v.starts_with("no")) {
        return MailKind::Automated(format!("Auto-Submitted: {auto}"));
    }
    if let Some(p) = header("Precedence").filter(|p| ["bulk", "list", "junk"].contains(&p.as_str()))
    {
        return MailKind::Automated(format!("Precedence: {p}"));
    }
    if let Some(list) = header("List-Id") {
        return MailKind::Automated(format!("List-Id: {list}"));
    }
    let local = from.split('@').next().unwrap_or_default();
    let machine = [
        "mailer-daemon",
        "postmaster",
        "no-reply",
        "noreply",
        "do-not-reply",
        "donotreply",
    ];
    if machine
        .iter()
        .any(|m| local == *m || local.starts_with(&format!("{m}+")))
    {
        return MailKind::Automated(format!("sent from {from}"));
    }
    MailKind::Customer
}

/// A delivery-status notification (RFC 3464): the failed recipient and the status.
fn bounce(msg: &mail_parser::Message<'_>) -> Option<MailKind> {
    let report = msg.content_type()?;
    let is_report = report.ctype().eq_ignore_ascii_case("multipart")
        && report
            .subtype()
            .is_some_and(|s| s.eq_ignore_ascii_case("report"));
    if !is_report {
        return None;
    }
    let kind = report
        .attribute("report-type")
        .unwrap_or("unknown")
        .to_owned();
    let automated = move || MailKind::Automated(format!("a report ({kind})"));
    let Some(status) = msg.parts.iter().find_map(|part| {
        let ct = part.content_type()?;
        let dsn = ct.ctype().eq_ignore_ascii_case("message")
            && ct
                .subtype()
                .is_some_and(|s| s.eq_ignore_ascii_case("delivery-status"));
        dsn.then(|| match &part.body {
            PartType::Text(t) => t.to_string(),
            PartType::Binary(b) | PartType::InlineBinary(b) => {
                String::from_utf8_lossy(b).into_owned()
            }
            _ => String::from_utf8_lossy(part.contents()).into_owned(),
        })
    }) else {
        // A read receipt, a feedback report: a machine wrote.
        return Some(automated());
    };
    let field = |name: &str| {
        status.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    };
    if !field("Action").is_some_and(|a| a.eq_ignore_ascii_case("failed")) {
        return Some(MailKind::Automated("a delivery delay report".into()));
    }
    let Some(recipient) = field("Final-Recipient").or_else(|| field("Original-Recipient")) else {
        return Some(automated());
    };
    let recipient = recipient
        .rsplit(';')
        .next()
        .unwrap_or_default()
        .trim()
        .trim_matches(['<', '>'])
        .to_lowercase();
    let why = field("Diagnostic-Code")
        .or_else(|| field("Status"))
        .unwrap_or_else(|| "delivery failed".into());
    Some(MailKind::Bounce { recipient, why })
}

static QUOTE_HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?ims)^[ \t]*(il giorno\b.{0,300}?\bha scritto|il\b.{0,200}?\bha scritto|on\b.{0,300}?\bwrote|le\b.{0,300}?\ba écrit|am\b.{0,300}?\bschrieb)[ \t]*:?[ \t]*$",
    )
    .expect("valid regex")
});
static FORWARD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?im)^[ \t]*(-{2,}\s*(original message|messaggio originale|messaggio inoltrato|forwarded message)\s*-{2,}|_{20,})[ \t]*$",
    )
    .expect("valid regex")
});
/// Outlook's block: `Da: …` / `From: …` followed by `Inviato:` / `Sent:` / `Data:`.
static OUTLOOK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?im)^[ \t]*\*?(da|from)\*?:[^\n]*\n[ \t]*\*?(inviato|sent|data|date)\*?:")
        .expect("valid regex")
});
static SIGNATURE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?im)^(-- ?|--|inviato da (il mio )?(iphone|ipad|android|outlook|samsung)\b.*|inviato dal mio .*|sent from my .*|sent from (outlook|mail) .*|get outlook for .*|scarica outlook per .*)[ \t]*$",
    )
    .expect("valid regex")
});

/// HTML-only mail: the text of the HTML before its quoted part (Gmail's `gmail_quote`,
/// Outlook's reply block, any `<blockquote>`), where the text alone has lost the lines
/// that mark it.
fn html_above_quote(msg: &mail_parser::Message<'_>) -> Option<String> {
    let first = *msg.text_body.first()?;
    if !msg.parts.get(first as usize)?.is_text_html() {
        return None;
    }
    let html = msg.body_html(0)?;
    let lower = html.to_ascii_lowercase();
    let cut = [
        "<blockquote",
        "class=\"gmail_quote",
        "id=\"divrplyfwdmsg",
        "id=\"appendonsend",
    ]
    .iter()
    .filter_map(|m| lower.find(m))
    .min()
    .map_or(html.len(), |at| lower[..at].rfind('<').unwrap_or(at));
    Some(mail_parser::decoders::html::html_to_text(&html[..cut]))
}

/// The text above the quoted previous message and the signature.
pub fn fresh(full: &str) -> String {
    let mut cut = full.len();
    for re in [&*QUOTE_HEADER, &*FORWARD, &*OUTLOOK, &*SIGNATURE] {
        if let Some(m) = re.find(full) {
            cut = cut.min(m.start());
        }
    }
    let kept: Vec<&str> = full[..cut]
        .lines()
        .filter(|line| !line.trim_start().starts_with('>'))
        .collect();
    let text = kept.join("\n");
    let text = text.trim();
    if text.is_empty() {
        // Nothing above the quote (a reply written below it): the first lines that are
        // not quoted.
        let unquoted: Vec<&str> = full
            .lines()
            .filter(|l| !l.trim_start().starts_with('>'))
            .collect();
        return unquoted.join("\n").trim().to_owned();
    }
    text.to_owned()
}

/// `Re: <subject>`, never `Re: Re:` (Italian `R:` and `Rif:` count as `Re:`).
pub fn reply_subject(subject: &str) -> String {
    let mut s = subject.trim();
    loop {
        let lower = s.to_lowercase();
        let prefix = ["re:", "r:", "rif:", "aw:", "sv:"]
            .iter()
            .find(|p| lower.starts_with(*p));
        match prefix {
            Some(p) => s = s[p.len()..].trim_start(),
            None => break,
        }
    }
    if s.is_empty() {
        "Re: la tua richiesta".into()
    } else {
        format!("Re: {s}")
    }
}

#[cfg(test)]
mod tests;
