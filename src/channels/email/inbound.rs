//! One new mail into the store: a customer's message (matched on its new text, the
//! whole mail kept), a machine's (stored, never answered), or a bounce (the customer it
//! was for is marked unreachable). Runs on the blocking pool; returns once the mail is
//! on disk, so that only then is it flagged `\Seen`.

use super::read::{self, Mail, MailKind};
use crate::domain::{Attachment, CustomerId, Inbound, Lang};
use crate::service::Service;
use crate::store::Unreachable;
use chrono::{DateTime, Utc};

/// What became of a mail.
#[derive(Debug, Clone, PartialEq)]
pub enum Ingested {
    /// A customer's message, stored (and answered unless a person owns the
    /// conversation); `duplicate` when it was stored before (a crash before `\Seen`).
    Message {
        customer: CustomerId,
        duplicate: bool,
    },
    /// Stored, never answered.
    Automated {
        customer: CustomerId,
        why: String,
    },
    Bounce {
        customer: CustomerId,
    },
    /// Not a message a customer can be made of (no sender): only logged.
    Unreadable(String),
}

/// Read and store one mail; `shop` is the shop's own address (its mail is never a
/// customer's).
pub fn ingest(
    service: &Service,
    raw: &[u8],
    shop: &str,
    now: DateTime<Utc>,
) -> crate::service::Result<Ingested> {
    let own = |from: &str| from.eq_ignore_ascii_case(shop);
    let mail = match read::read(raw) {
        Ok(mail) => mail,
        Err(e) => return Ok(Ingested::Unreadable(e.to_string())),
    };
    let Ok(customer) = CustomerId::of(crate::domain::ChannelKind::Email, &mail.from) else {
        return Ok(Ingested::Unreadable(format!(
            "`{}` is not an address",
            mail.from
        )));
    };
    let inbound = inbound(&mail, customer.clone(), now);
    match &mail.kind {
        MailKind::Customer if own(&mail.from) => {
            let why = "sent from the shop's own address";
            service.record_only(&inbound, why)?;
            Ok(Ingested::Automated {
                customer,
                why: why.into(),
            })
        }
        MailKind::Customer => {
            let store = service.store();
            // They wrote: whatever bounced before, the address works.
            store.clear_unreachable(&customer)?;
            // Flushed with the message: the reply that reads it goes out after that.
            store.update_email_thread(&customer, &|thread| {
                if !mail.subject.is_empty() {
                    thread.subject.clone_from(&mail.subject);
                }
                thread.last.clone_from(&mail.message_id);
                thread.extend(mail.references.iter().cloned());
                thread.extend([mail.message_id.clone()]);
            })?;
            let handled = service.handle_inbound(&inbound)?;
            Ok(Ingested::Message {
                customer,
                duplicate: handled.duplicate,
            })
        }
        MailKind::Automated(why) => {
            service.record_only(&inbound, why)?;
            Ok(Ingested::Automated {
                customer,
                why: why.clone(),
            })
        }
        MailKind::Bounce { .. } if !ours(raw) => {
            let why = "a delivery report for a mail Sportello did not send";
            service.record_only(&inbound, why)?;
            Ok(Ingested::Automated {
                customer,
                why: why.into(),
            })
        }
        MailKind::Bounce { recipient, why } => {
            service.record_only(&inbound, "a delivery-status report")?;
            let Ok(bounced) = CustomerId::of(crate::domain::ChannelKind::Email, recipient) else {
                return Ok(Ingested::Unreadable(format!("a bounce for `{recipient}`")));
            };
            let unreachable = Unreachable {
                reason: format!("email bounced: {why}"),
                since: now,
            };
            service.store().mark_unreachable(&bounced, &unreachable)?;
            service.store().flush()?;
            service.delivery_changed(&bounced)?;
            Ok(Ingested::Bounce { customer: bounced })
        }
    }
}

/// Whether a delivery report returns one of Sportello's own mails (it quotes the
/// original's headers, with our `Message-ID`): a forged report, or one for a mail a
/// person sent by hand, marks nobody.
fn ours(raw: &[u8]) -> bool {
    String::from_utf8_lossy(raw).contains("<sportello.")
}

/// The customer message a mail makes: its new text (with the subject, for a first mail
/// whose body may only say "see subject"), the whole mail as the original, files as
/// typed references.
fn inbound(mail: &Mail, customer: CustomerId, now: DateTime<Utc>) -> Inbound {
    let first = mail.references.is_empty();
    let mut text = match (first && !mail.subject.is_empty(), mail.fresh.is_empty()) {
        (true, false) => format!("{}\n{}", mail.subject, mail.fresh),
        (true, true) => mail.subject.clone(),
        (false, _) => mail.fresh.clone(),
    };
    let files: Vec<Attachment> = mail
        .attachments
        .iter()
        .map(|(kind, name)| Attachment {
            kind: *kind,
            reference: "email".into(),
            caption: Some(name.clone()),
        })
        .collect();
    // A mail that is only a file is an attachment the bot cannot read; one with words
    // is read by its words.
    let attachment = files.first().filter(|_| text.trim().is_empty()).cloned();
    if text.trim().is_empty() {
        text = files
            .first()
            .map_or_else(|| "(empty mail)".into(), Attachment::reference_text);
    }
    let mut original = format!("Subject: {}\n\n{}", mail.subject, mail.full);
    for file in &files {
        original.push('\n');
        original.push_str(&file.reference_text());
    }
    Inbound {
        customer,
        message_id: mail.message_id.clone(),
        text,
        at: now,
        sent_at: None,
        locale: None::<Lang>,
        name: mail.name.clone(),
        attachment,
        original: Some(original),
    }
}
