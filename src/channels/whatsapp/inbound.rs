//! Reading WhatsApp Cloud API webhooks, purely: the signature (`X-Hub-Signature-256`,
//! HMAC-SHA256 of the raw body with the app secret, compared in constant time), then
//! the payload (`whatsapp_business_account` → entry → changes → value) into the
//! customers' messages and the delivery reports (`statuses`).

use crate::domain::{Attachment, AttachmentKind, ChannelKind, CustomerId, Inbound, Lang};
use crate::store::DeliveryStatus;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

/// Whether `header` is the app secret's signature of `body`.
pub fn signed(app_secret: &str, body: &[u8], header: Option<&str>) -> bool {
    let Some(sent) = header
        .and_then(|h| h.trim().strip_prefix("sha256="))
        .and_then(|h| hex::decode(h).ok())
    else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&sent).is_ok()
}

/// The signature header for `body` (what Meta sends; the tests' fake signs with it).
pub fn signature(app_secret: &str, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()).expect("HMAC takes any key");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// What a webhook brought.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    Message(Inbound),
    /// A report on a message we sent; `unreachable` when WhatsApp says the customer
    /// cannot receive messages (error 131026).
    Status {
        customer: CustomerId,
        status: DeliveryStatus,
        unreachable: bool,
    },
}

/// A choice's id in an interactive message: its label, so that the reply reads as if
/// typed; a label too long for an id goes by its number.
pub fn choice_id(n: usize, label: &str) -> String {
    if label.len() <= 200 && !label.starts_with("choice:") {
        label.to_owned()
    } else {
        format!("choice:{n}")
    }
}

/// What a webhook holds for this business number.
#[derive(Debug, Default)]
pub struct Read {
    /// Its messages and statuses, in order.
    pub incoming: Vec<Incoming>,
    /// The other business numbers it held customers' messages for (an app with two
    /// numbers sends both to every webhook): left alone, never answered from this one.
    pub other_numbers: Vec<String>,
}

/// The webhook's messages and statuses for the business number `ours` (its phone
/// number id), in order. Err: not a WhatsApp payload.
pub fn read(body: &[u8], ours: &str, now: DateTime<Utc>) -> Result<Read, String> {
    let payload: Payload = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    if payload.object != "whatsapp_business_account" {
        return Err(format!("object `{}`", payload.object));
    }
    let mut read = Read::default();
    let found = &mut read.incoming;
    for change in payload.entry.iter().flat_map(|e| &e.changes) {
        if change.field != "messages" {
            continue;
        }
        let value = &change.value;
        if let Some(number) = value.metadata.as_ref().map(|m| &m.phone_number_id)
            && number != ours
        {
            // (Its delivery reports are no news: only its customers' messages are.)
            if !value.messages.is_empty() {
                read.other_numbers.push(number.clone());
            }
            continue;
        }
        for message in &value.messages {
            if let Some(inbound) = inbound(message, &value.contacts, now) {
                found.push(Incoming::Message(inbound));
            }
        }
        found.extend(value.statuses.iter().filter_map(|s| status(s, now)));
    }
    Ok(read)
}

fn inbound(message: &Message, contacts: &[Contact], now: DateTime<Utc>) -> Option<Inbound> {
    let customer = CustomerId::of(ChannelKind::Whatsapp, &message.from).ok()?;
    let (text, attachment) = content(message)?;
    let name = contacts
        .iter()
        .find(|c| c.wa_id == message.from)
        .or(contacts.first())
        .and_then(|c| c.profile.as_ref())
        .map(|p| p.name.clone())
        .filter(|n| !n.trim().is_empty());
    Some(Inbound {
        customer,
        message_id: message.id.clone(),
        text,
        // Care runs from its arrival; the window and the transcript from Meta's time.
        at: now,
        sent_at: Some(time(&message.timestamp, now)),
        // WhatsApp tells no language; an Italian number is a good first guess.
        locale: message.from.starts_with("39").then_some(Lang::It),
        name,
        attachment,
        original: None,
    })
}

/// The message's text, and what it carries if it is not text. None: nothing to
/// answer (a reaction).
fn content(m: &Message) -> Option<(String, Option<Attachment>)> {
    if let Some(text) = &m.text {
        return Some((text.body.clone(), None));
    }
    if let Some(i) = &m.interactive {
        let reply = i.button_reply.as_ref().or(i.list_reply.as_ref())?;
        let text = match reply.id.strip_prefix("choice:") {
            Some(n) => n.to_owned(),
            None => reply.id.clone(),
        };
        return Some((text, None));
    }
    if let Some(button) = &m.button {
        return Some((button.text.clone(), None));
    }
    if m.kind == "reaction" {
        return None;
    }
    let attachment = attachment(m);
    Some((attachment.reference_text(), Some(attachment)))
}

fn attachment(m: &Message) -> Attachment {
    let media = |kind, media: &Media| Attachment {
        kind,
        reference: media.id.clone(),
        caption: media.caption.clone().or_else(|| media.filename.clone()),
    };
    if let Some(i) = &m.image {
        media(AttachmentKind::Photo, i)
    } else if let Some(d) = &m.document {
        media(AttachmentKind::Document, d)
    } else if let Some(a) = &m.audio {
        let kind = if a.voice {
            AttachmentKind::Voice
        } else {
            AttachmentKind::Audio
        };
        media(kind, a)
    } else if let Some(v) = &m.video {
        media(AttachmentKind::Video, v)
    } else if let Some(s) = &m.sticker {
        media(AttachmentKind::Sticker, s)
    } else if let Some(l) = &m.location {
        Attachment {
            kind: AttachmentKind::Location,
            reference: format!("{:.5},{:.5}", l.latitude, l.longitude),
            caption: l.name.clone().or_else(|| l.address.clone()),
        }
    } else if let Some(c) = m.contacts.as_ref().and_then(|c| c.first()) {
        Attachment {
            kind: AttachmentKind::Contact,
            reference: c
                .phones
                .first()
                .map(|p| p.phone.clone())
                .unwrap_or_default(),
            caption: c.name.as_ref().map(|n| n.formatted_name.clone()),
        }
    } else {
        Attachment {
            kind: AttachmentKind::Other,
            reference: m.kind.clone(),
            caption: None,
        }
    }
}

fn status(s: &Status, now: DateTime<Utc>) -> Option<Incoming> {
    let customer = CustomerId::of(ChannelKind::Whatsapp, &s.recipient_id).ok()?;
    let error = s.errors.first();
    Some(Incoming::Status {
        customer,
        unreachable: s.status == "failed" && error.is_some_and(|e| e.code == 131026),
        status: DeliveryStatus {
            message_id: s.id.clone(),
            status: s.status.clone(),
            at: time(&s.timestamp, now),
            error: error.map(|e| format!("{} {}", e.code, e.title)),
        },
    })
}

/// A webhook's Unix timestamp (seconds, as a string), never later than `now`.
fn time(raw: &str, now: DateTime<Utc>) -> DateTime<Utc> {
    raw.parse::<i64>()
        .ok()
        .and_then(|s| DateTime::from_timestamp(s, 0))
        .map_or(now, |t| t.min(now))
}

#[derive(Deserialize)]
struct Payload {
    object: String,
    #[serde(default)]
    entry: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(default)]
    changes: Vec<Change>,
}

#[derive(Deserialize)]
struct Change {
    field: String,
    value: Value,
}

#[derive(Deserialize)]
struct Value {
    metadata: Option<Metadata>,
    #[serde(default)]
    contacts: Vec<Contact>,
    #[serde(default)]
    messages: Vec<Message>,
    #[serde(default)]
    statuses: Vec<Status>,
}

#[derive(Deserialize)]
struct Metadata {
    phone_number_id: String,
}

#[derive(Deserialize)]
struct Contact {
    wa_id: String,
    profile: Option<Profile>,
}

#[derive(Deserialize)]
struct Profile {
    name: String,
}

#[derive(Deserialize)]
struct Message {
    from: String,
    id: String,
    timestamp: String,
    #[serde(rename = "type")]
    kind: String,
    text: Option<Text>,
    interactive: Option<Interactive>,
    button: Option<Button>,
    image: Option<Media>,
    document: Option<Media>,
    audio: Option<Media>,
    video: Option<Media>,
    sticker: Option<Media>,
    location: Option<Location>,
    contacts: Option<Vec<SharedContact>>,
}

#[derive(Deserialize)]
struct Text {
    body: String,
}

#[derive(Deserialize)]
struct Interactive {
    button_reply: Option<Reply>,
    list_reply: Option<Reply>,
}

#[derive(Deserialize)]
struct Reply {
    id: String,
}

#[derive(Deserialize)]
struct Button {
    text: String,
}

#[derive(Deserialize)]
struct Media {
    id: String,
    caption: Option<String>,
    filename: Option<String>,
    #[serde(default)]
    voice: bool,
}

#[derive(Deserialize)]
struct Location {
    latitude: f64,
    longitude: f64,
    name: Option<String>,
    address: Option<String>,
}

#[derive(Deserialize)]
struct SharedContact {
    name: Option<ContactName>,
    #[serde(default)]
    phones: Vec<Phone>,
}

#[derive(Deserialize)]
struct ContactName {
    formatted_name: String,
}

#[derive(Deserialize)]
struct Phone {
    phone: String,
}

#[derive(Deserialize)]
struct Status {
    id: String,
    status: String,
    timestamp: String,
    recipient_id: String,
    #[serde(default)]
    errors: Vec<StatusError>,
}

#[derive(Deserialize)]
struct StatusError {
    code: i64,
    #[serde(default)]
    title: String,
}

#[cfg(test)]
#[path = "inbound_tests.rs"]
mod tests;
