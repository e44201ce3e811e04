//! What outside services call: the Telegram and WhatsApp webhooks and `/healthz`.

use super::App;
use crate::channels::WebhookResult;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

pub(super) async fn webhook_update(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let Some(telegram) = &app.channels.telegram else {
        return StatusCode::NOT_FOUND;
    };
    let secret = headers
        .get("x-telegram-bot-api-secret-token")
        .and_then(|v| v.to_str().ok());
    answer(telegram.webhook(secret, &body).await)
}

/// The webhook handshake: Meta calls `GET /whatsapp?hub.mode=subscribe&
/// hub.verify_token=...&hub.challenge=...` and expects the challenge back.
pub(super) async fn whatsapp_verify(
    State(app): State<Arc<App>>,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    let Some(whatsapp) = &app.channels.whatsapp else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let param = |name: &str| query.get(name).map(String::as_str);
    match whatsapp.verify(
        param("hub.mode"),
        param("hub.verify_token"),
        param("hub.challenge"),
    ) {
        Some(challenge) => (
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            challenge.to_owned(),
        )
            .into_response(),
        None => StatusCode::FORBIDDEN.into_response(),
    }
}

/// Meta's webhook: 200 only once everything in it is stored and flushed.
pub(super) async fn whatsapp_update(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let Some(whatsapp) = &app.channels.whatsapp else {
        return StatusCode::NOT_FOUND;
    };
    let signature = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok());
    answer(whatsapp.webhook(signature, &body).await)
}

/// `ok` while the store can write and every channel can send; 503 with the reason
/// when not (a full disk, a refused token), so that a load balancer or a monitor sees.
pub(super) async fn healthz(State(app): State<Arc<App>>) -> Response {
    let store = app.service.store().clone();
    let stopped: Vec<String> = app
        .channels
        .deliveries()
        .into_iter()
        .filter_map(|d| {
            d.fatal()
                .map(|why| format!("{}: {}", d.kind, first_line(&why)))
        })
        .collect();
    if !stopped.is_empty() {
        let detail = stopped.join("\n");
        return (StatusCode::SERVICE_UNAVAILABLE, format!("{detail}\n")).into_response();
    }
    match tokio::task::spawn_blocking(move || store.probe_write()).await {
        Ok(Ok(())) => "ok\n".into_response(),
        Ok(Err(e)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("store cannot write: {}\n", first_line(&e.to_string())),
        )
            .into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("{e}\n")).into_response(),
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}

/// What a webhook answers: 200 once the update is stored (or is of no interest), 401 for
/// a bad secret or signature, 503 when it could not be stored, so the sender retries.
fn answer(result: WebhookResult) -> StatusCode {
    match result {
        WebhookResult::Stored | WebhookResult::Ignored => StatusCode::OK,
        WebhookResult::Forbidden => StatusCode::UNAUTHORIZED,
        WebhookResult::NotStored => StatusCode::SERVICE_UNAVAILABLE,
    }
}
