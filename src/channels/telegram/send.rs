//! Telegram's side of delivery ([`Sender`]): one message in Telegram HTML (plain text if
//! Telegram rejects the markup), Clarify choices and survey scores as inline buttons,
//! and Telegram's answers read as the dispatcher's [`Attempt`]s. Ordering, retries,
//! giving up and the outbox are the dispatcher's (`channels::dispatch`).

use super::updates::{chat_of, choice_data};
use crate::channels::dispatch::{Attempt, Sender};
use crate::channels::format::{self, MAX_MESSAGE};
use crate::domain::{ChannelKind, Outbound, OutboundKind};
use teloxide::prelude::*;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup, ParseMode};
use teloxide::{ApiError, RequestError};

/// Room left in a part for what HTML adds over the Markdown source.
const PART: usize = MAX_MESSAGE - 96;

pub struct TelegramSender {
    pub bot: Bot,
}

impl Sender for TelegramSender {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Telegram
    }

    fn parts(&self, out: &Outbound) -> usize {
        format::split(&out.text, PART).len()
    }

    async fn send(&self, out: &Outbound, part: usize) -> Attempt {
        let Some(chat) = chat_of(&out.customer) else {
            return Attempt::GiveUp("not a telegram chat".into());
        };
        let parts = format::split(&out.text, PART);
        let Some(text) = parts.get(part) else {
            return Attempt::Sent;
        };
        let keyboard = (part + 1 == parts.len()).then(|| keyboard(out)).flatten();
        let mut result = send_part(&self.bot, chat, text, keyboard.clone(), false).await;
        if matches!(&result, Err(RequestError::Api(e)) if entities_rejected(e)) {
            result = send_part(&self.bot, chat, text, keyboard, true).await;
        }
        attempt(result)
    }
}

/// Telegram's answer as the dispatcher reads it.
fn attempt(result: Result<(), RequestError>) -> Attempt {
    match result {
        Ok(()) => Attempt::Sent,
        Err(RequestError::RetryAfter(secs)) => Attempt::Retry {
            after: Some(secs.duration()),
            rate_limited: true,
            why: "429 Too Many Requests".into(),
        },
        Err(RequestError::Api(e)) if blocked(&e) => Attempt::Unreachable(e.to_string()),
        Err(RequestError::Api(ApiError::InvalidToken)) => {
            Attempt::Fatal("Telegram refused the bot token".into())
        }
        Err(RequestError::Api(e)) if !server_error(&e) => Attempt::GiveUp(e.to_string()),
        // Telegram said ok but teloxide could not read the message it sent back: it was
        // delivered, and sending again would double it.
        Err(RequestError::InvalidJson { raw, .. }) if raw.contains("\"ok\":true") => Attempt::Sent,
        Err(e @ RequestError::MigrateToChatId(_)) => Attempt::GiveUp(e.to_string()),
        Err(e) => Attempt::Retry {
            after: None,
            rate_limited: false,
            why: e.to_string(),
        },
    }
}

async fn send_part(
    bot: &Bot,
    chat: ChatId,
    text: &str,
    keyboard: Option<InlineKeyboardMarkup>,
    plain: bool,
) -> Result<(), RequestError> {
    let mut request = if plain {
        bot.send_message(chat, text)
    } else {
        bot.send_message(chat, format::to_html(text))
            .parse_mode(ParseMode::Html)
    };
    if let Some(keyboard) = keyboard {
        request = request.reply_markup(keyboard);
    }
    request.await.map(|_| ())
}

/// Clarify choices as buttons, one per row; survey scores side by side (up to six a
/// row: 1-5 in one, 0-10 in two).
fn keyboard(out: &Outbound) -> Option<InlineKeyboardMarkup> {
    let per_row = if out.kind == OutboundKind::Survey {
        6
    } else {
        1
    };
    (!out.choices.is_empty()).then(|| {
        let buttons: Vec<InlineKeyboardButton> = out
            .choices
            .iter()
            .enumerate()
            .map(|(i, c)| InlineKeyboardButton::callback(c.label.clone(), choice_data(i + 1)))
            .collect();
        InlineKeyboardMarkup::new(buttons.chunks(per_row).map(<[_]>::to_vec))
    })
}

fn blocked(e: &ApiError) -> bool {
    matches!(
        e,
        ApiError::BotBlocked
            | ApiError::UserDeactivated
            | ApiError::CantInitiateConversation
            | ApiError::CantTalkWithBots
            | ApiError::ChatNotFound
            | ApiError::BotKicked
    )
}

fn entities_rejected(e: &ApiError) -> bool {
    matches!(e, ApiError::CantParseEntities(_))
        || matches!(e, ApiError::Unknown(d) if d.contains("can't parse entities"))
}

/// Telegram's own trouble (5xx), worth retrying.
fn server_error(e: &ApiError) -> bool {
    let ApiError::Unknown(description) = e else {
        return false;
    };
    let d = description.to_lowercase();
    [
        "internal",
        "bad gateway",
        "unavailable",
        "timeout",
        "timed out",
        "try again",
    ]
    .iter()
    .any(|s| d.contains(s))
}
