//! The shop's web chat: a visitor token (random, kept by the browser) names the
//! conversation, so a reload continues it. Messages go through the same
//! `Service::handle_inbound` as every channel; replies are read from the transcript,
//! and reading them marks the outbox delivered. Rates and sizes are limited per visitor
//! and per address, with a message the widget shows as it is.

use super::server::ClientIp;
use super::{ApiError, ApiJson, ApiQuery, App, blocking, feed};
use crate::domain::{Author, CustomerId, Inbound, Lang, Mode};
use crate::store::StoredMessage;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The longest message a customer may send, in characters.
pub const MAX_CHARS: usize = 2_000;
/// Messages one visitor may send per [`WINDOW`]; an address gets more (shared Wi-Fi).
const PER_VISITOR: usize = 8;
const PER_ADDRESS: usize = 40;
/// New conversations one address may start per [`WINDOW`].
const STARTS_PER_ADDRESS: usize = 20;
/// "Typing" signals per visitor in [`WINDOW`] (the page sends one every 3 seconds).
const TYPING_PER_VISITOR: usize = 5;
const WINDOW: Duration = Duration::from_secs(10);

/// The visitor's conversation, from the token the browser holds.
fn customer(app: &App, token: &str) -> Result<CustomerId, ApiError> {
    let token = token.trim();
    if !crate::accounts::valid_visitor(&app.visitor_key, token) {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unknown chat: reload the page to start a new one",
        ));
    }
    let id = &crate::accounts::digest(token)[..16];
    CustomerId::parse(&format!("web:{id}")).map_err(|e| ApiError::internal(&e))
}

pub(super) fn visitor(app: &App, headers: &HeaderMap) -> Result<CustomerId, ApiError> {
    customer(
        app,
        headers
            .get("x-sportello-visitor")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default(),
    )
}

pub async fn start(
    State(app): State<Arc<App>>,
    ClientIp(client): ClientIp,
) -> Result<Json<Value>, ApiError> {
    let address = format!("start:{}", client);
    app.chat_limits
        .allow(&[(&address, STARTS_PER_ADDRESS)], WINDOW, Instant::now())
        .map_err(|wait| ApiError::too_many(wait, "too many new chats from here: wait a moment"))?;
    Ok(Json(
        json!({"visitor": crate::accounts::new_visitor(&app.visitor_key)}),
    ))
}

#[derive(Deserialize)]
pub struct Send {
    id: String,
    text: String,
    #[serde(default)]
    locale: Option<String>,
}

pub async fn send(
    State(app): State<Arc<App>>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Send>,
) -> Result<Json<Value>, ApiError> {
    let customer = visitor(&app, &headers)?;
    let ok_id = (1..=64).contains(&body.id.len())
        && body
            .id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !ok_id {
        return Err(ApiError::bad_request(
            "the message id must be 1-64 letters, digits or -",
        ));
    }
    let text = body.text.trim();
    if text.is_empty() {
        return Err(ApiError::bad_request("the message is empty"));
    }
    let chars = text.chars().count();
    if chars > MAX_CHARS {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the message is too long ({chars} characters; at most {MAX_CHARS}): split it in parts"
            ),
        )
        .with_code("too_long")
        .with_param("max", MAX_CHARS));
    }
    let address = format!("ip:{}", client);
    app.chat_limits
        .allow(
            &[(customer.as_str(), PER_VISITOR), (&address, PER_ADDRESS)],
            WINDOW,
            Instant::now(),
        )
        .map_err(|wait| {
            ApiError::too_many(
                wait,
                format!(
                    "you are writing very fast: wait {} and send again",
                    ApiError::seconds(wait)
                ),
            )
        })?;
    let inbound = Inbound {
        customer,
        message_id: format!("w{}", body.id),
        text: text.to_owned(),
        at: Utc::now(),
        sent_at: None,
        locale: body.locale.as_deref().and_then(Lang::from_locale),
        name: None,
        attachment: None,
        original: None,
    };
    let service = app.service.clone();
    let handled = blocking(move || Ok(service.handle_inbound(&inbound)?)).await?;
    Ok(Json(json!({"stored": !handled.duplicate})))
}

#[derive(Deserialize)]
pub struct After {
    #[serde(default)]
    after: u64,
}

pub async fn messages(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<After>,
) -> Result<Json<Value>, ApiError> {
    let customer = visitor(&app, &headers)?;
    let service = app.service.clone();
    blocking(move || {
        // Everything pending is about to be shown: the outbox is delivered.
        service.deliver(&customer, |_| true)?;
        let store = service.store();
        let lines = store.transcript_after(&customer, query.after)?;
        let conv = store.conversation(&customer)?;
        let state = conv.as_ref().map_or(Mode::Bot, |c| c.mode);
        let ticket = match conv.and_then(|c| c.ticket) {
            Some(id) if state == Mode::Queued => store.ticket(id)?,
            _ => None,
        };
        let position = ticket.map(|t| store.queue_position(&t)).transpose()?;
        let messages: Vec<Value> = lines.iter().map(|(seq, m)| line(*seq, m, true)).collect();
        Ok(Json(
            json!({"messages": messages, "state": state, "position": position}),
        ))
    })
    .await
}

/// One transcript line as the API shows it; operators also see the bot's verdict.
pub fn line(seq: u64, m: &StoredMessage, for_customer: bool) -> Value {
    let (author, operator) = match &m.author {
        Author::Customer => ("customer", None),
        Author::Bot => ("bot", None),
        Author::Operator(name) => ("operator", Some(name.as_str())),
    };
    let mut v = json!({
        "seq": seq, "at": m.at, "author": author, "operator": operator,
        "text": m.text, "kind": m.kind,
    });
    if for_customer {
        v["choices"] = json!(m.choices);
    } else {
        v["decision"] = json!(m.verdict);
        if let Some(original) = &m.original {
            v["original"] = json!(original);
        }
    }
    v
}

#[derive(Deserialize)]
pub struct Visitor {
    #[serde(default)]
    visitor: String,
}

/// Live pokes for one web chat: `changed` whenever its conversation moves.
pub async fn events(
    State(app): State<Arc<App>>,
    ClientIp(client): ClientIp,
    ApiQuery(query): ApiQuery<Visitor>,
) -> Result<impl IntoResponse, ApiError> {
    let customer = customer(&app, &query.visitor)?;
    let slot = app.stream_slot(client)?;
    Ok(feed::stream(&app, slot, move |change| {
        if change.customer != customer {
            return feed::Keep::Skip;
        }
        match &change.typing {
            // An operator typing shows in the chat (without their name).
            Some(crate::service::Typist::Operator(_)) => {
                feed::Keep::Send(json!({"typing": "operator"}))
            }
            Some(crate::service::Typist::Customer) => feed::Keep::Skip,
            None if change.visible => feed::Keep::Send(json!({})),
            None => feed::Keep::Skip,
        }
    }))
}

/// `POST /chat/typing`: the visitor is typing; the console shows it on their ticket.
pub async fn typing(
    State(app): State<Arc<App>>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let customer = visitor(&app, &headers)?;
    // The page says so at most every 3 seconds; each one reaches every open console.
    let (mine, address) = (format!("typing:{customer}"), format!("typing-ip:{client}"));
    app.chat_limits
        .allow(
            &[(&mine, TYPING_PER_VISITOR), (&address, PER_ADDRESS)],
            WINDOW,
            Instant::now(),
        )
        .map_err(|wait| ApiError::too_many(wait, format!("wait {}", ApiError::seconds(wait))))?;
    let service = app.service.clone();
    blocking(move || {
        let ticket = service
            .store()
            .conversation(&customer)?
            .and_then(|c| c.ticket);
        service.typing(&customer, ticket, crate::service::Typist::Customer);
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}
