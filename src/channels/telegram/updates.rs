//! Telegram updates into what the service understands. Pure: no network, no store.
//!
//! Private chats are customers (`telegram:<chat id>`). Groups are not a support
//! channel: the bot stays out of group conversations and, only when addressed (a
//! command or a mention), says once where to write it privately.

use crate::domain::{Attachment, AttachmentKind, ChannelKind, CustomerId, Inbound, Lang};
use chrono::{DateTime, Utc};
use teloxide::types::{
    CallbackQuery, ChatId, MaybeInaccessibleMessage, Message, MessageId, Update, UpdateKind,
};

/// What an update asks of the adapter.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    /// A customer's message (text, or an attachment's typed reference).
    Message(Inbound),
    /// A Clarify button was pressed: the choice as a message, and the query to answer.
    Choice {
        inbound: Inbound,
        query_id: String,
        /// The message that carried the buttons, to take them away.
        buttons: Option<(ChatId, MessageId)>,
    },
    /// Someone addressed the bot in a group.
    Group(ChatId),
    /// Nothing to do (edits, channel posts, group chatter...).
    Ignore,
}

/// The callback data of the n-th Clarify choice (1-based).
pub fn choice_data(n: usize) -> String {
    format!("choice:{n}")
}

pub fn customer(chat: ChatId) -> CustomerId {
    CustomerId::of(ChannelKind::Telegram, &chat.0.to_string())
        .expect("a chat id is a valid customer id")
}

/// The chat of a `telegram:` customer.
pub fn chat_of(customer: &CustomerId) -> Option<ChatId> {
    (customer.kind() == Some(ChannelKind::Telegram))
        .then(|| customer.local().parse().ok())
        .flatten()
        .map(ChatId)
}

pub fn read(update: &Update, bot_username: &str, now: DateTime<Utc>) -> Incoming {
    match &update.kind {
        UpdateKind::Message(msg) if msg.chat.is_private() => message(msg, now),
        UpdateKind::Message(msg) if addressed(msg, bot_username) => Incoming::Group(msg.chat.id),
        UpdateKind::CallbackQuery(query) => choice(query, now),
        _ => Incoming::Ignore,
    }
}

fn message(msg: &Message, now: DateTime<Utc>) -> Incoming {
    let (text, attachment) = match msg.text() {
        Some(text) => (text.to_owned(), None),
        None => {
            let attachment = attachment(msg);
            (attachment.reference_text(), Some(attachment))
        }
    };
    let user = msg.from.as_ref();
    Incoming::Message(Inbound {
        customer: customer(msg.chat.id),
        message_id: format!("m{}", msg.id.0),
        text,
        at: now,
        sent_at: Some(msg.date.min(now)),
        locale: user
            .and_then(|u| u.language_code.as_deref())
            .and_then(Lang::from_locale),
        name: user.map(|u| u.first_name.clone()),
        attachment,
        original: None,
    })
}

fn attachment(msg: &Message) -> Attachment {
    let (kind, reference) = if let Some(sizes) = msg.photo() {
        let file = sizes.last().map(|p| p.file.id.to_string());
        (AttachmentKind::Photo, file.unwrap_or_default())
    } else if let Some(d) = msg.document() {
        (AttachmentKind::Document, d.file.id.to_string())
    } else if let Some(v) = msg.voice() {
        (AttachmentKind::Voice, v.file.id.to_string())
    } else if let Some(a) = msg.audio() {
        (AttachmentKind::Audio, a.file.id.to_string())
    } else if let Some(v) = msg.video() {
        (AttachmentKind::Video, v.file.id.to_string())
    } else if let Some(v) = msg.video_note() {
        (AttachmentKind::Video, v.file.id.to_string())
    } else if let Some(s) = msg.sticker() {
        (AttachmentKind::Sticker, s.file.id.to_string())
    } else if let Some(l) = msg.location() {
        (
            AttachmentKind::Location,
            format!("{:.5},{:.5}", l.latitude, l.longitude),
        )
    } else if let Some(c) = msg.contact() {
        (AttachmentKind::Contact, c.phone_number.clone())
    } else {
        (AttachmentKind::Other, format!("message {}", msg.id.0))
    };
    Attachment {
        kind,
        reference,
        caption: msg.caption().map(str::to_owned),
    }
}

/// A button press becomes the chosen label as a message (the label, not its number,
/// so a press on an old keyboard still means what the customer saw).
fn choice(query: &CallbackQuery, now: DateTime<Utc>) -> Incoming {
    let Some(n) = query
        .data
        .as_deref()
        .and_then(|d| d.strip_prefix("choice:"))
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|&n| n >= 1)
    else {
        return Incoming::Ignore;
    };
    let regular = match &query.message {
        Some(MaybeInaccessibleMessage::Regular(m)) => Some(m.as_ref()),
        _ => None,
    };
    let label = regular
        .and_then(|m| m.reply_markup())
        .and_then(|markup| markup.inline_keyboard.iter().flatten().nth(n - 1))
        .map(|button| button.text.clone());
    // The message is there and has no such button: forged data, not a customer's choice.
    if regular.is_some() && label.is_none() {
        return Incoming::Ignore;
    }
    let chat = match &query.message {
        Some(m) => m.chat().id,
        None => ChatId(query.from.id.0 as i64),
    };
    Incoming::Choice {
        inbound: Inbound {
            customer: customer(chat),
            message_id: format!("cb{}", query.id.0),
            text: label.unwrap_or_else(|| n.to_string()),
            at: now,
            sent_at: None,
            locale: query
                .from
                .language_code
                .as_deref()
                .and_then(Lang::from_locale),
            name: Some(query.from.first_name.clone()),
            attachment: None,
            original: None,
        },
        query_id: query.id.0.clone(),
        buttons: query.message.as_ref().map(|m| (m.chat().id, m.id())),
    }
}

/// A group message that is a command or mentions the bot.
fn addressed(msg: &Message, bot_username: &str) -> bool {
    let text = msg.text().unwrap_or_default();
    let mention = format!("@{}", bot_username.to_lowercase());
    text.starts_with('/') || (!bot_username.is_empty() && text.to_lowercase().contains(&mention))
}
