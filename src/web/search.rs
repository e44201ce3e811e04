//! The console's views and search: `GET /tickets?view=…&q=…`.

use super::auth::Authed;
use super::console::ticket_json;
use super::{ApiError, App, blocking};
use crate::domain::{Conversation, Ticket};
use axum::Json;
use axum::extract::State;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

#[derive(Deserialize, Default)]
pub struct SearchQuery {
    view: Option<String>,
    q: Option<String>,
}

/// Tickets a view shows, newest first for closed ones.
const CLOSED_SHOWN: usize = 200;

/// `GET /tickets?view=mine|unassigned|all|closed&q=TEXT`: `q` matches the ticket number,
/// the customer's id or name, and the text of their transcript (case and accents aside).
pub async fn search(
    State(app): State<Arc<App>>,
    authed: Authed,
    super::ApiQuery(query): super::ApiQuery<SearchQuery>,
) -> Result<Json<Value>, ApiError> {
    let view = query.view.unwrap_or_else(|| "all".into());
    if !["mine", "unassigned", "all", "closed"].contains(&view.as_str()) {
        return Err(ApiError::bad_request(format!(
            "view `{view}` is not one of mine, unassigned, all, closed"
        )));
    }
    let needle = query
        .q
        .as_deref()
        .map(crate::text::fold)
        .map(|q| q.trim().to_owned())
        .filter(|q| !q.is_empty());
    let service = app.service.clone();
    let me = authed.operator.name.clone();
    blocking(move || {
        let now = Utc::now();
        let store = service.store();
        let mut tickets: Vec<Ticket> = match view.as_str() {
            "closed" => {
                let mut ended: Vec<Ticket> = store
                    .tickets()
                    .filter_map(|t| t.ok())
                    .filter(|t| !t.is_open())
                    .collect();
                ended.sort_by_key(|t| std::cmp::Reverse(t.closed_at));
                ended
            }
            _ => store.queue()?,
        };
        tickets.retain(|t| match view.as_str() {
            "mine" => t.operator.as_deref() == Some(me.as_str()) && t.is_open(),
            "unassigned" => t.status == crate::domain::TicketStatus::Queued,
            _ => true,
        });
        let mut shown = Vec::new();
        for t in tickets {
            let conv = store.conversation(&t.customer)?;
            if let Some(q) = &needle
                && !matches(store, &t, conv.as_ref(), q)?
            {
                continue;
            }
            shown.push(ticket_json(&t, conv.as_ref(), service.config(), now));
            if shown.len() >= CLOSED_SHOWN {
                break;
            }
        }
        Ok(Json(json!({"tickets": shown})))
    })
    .await
}

/// Whether the folded `q` is the ticket's number or in its customer's id, name or
/// transcript.
fn matches(
    store: &crate::store::Store,
    t: &Ticket,
    conv: Option<&Conversation>,
    q: &str,
) -> Result<bool, ApiError> {
    let number = q.trim_start_matches('#');
    if number.parse::<u64>().ok() == Some(t.id.0) {
        return Ok(true);
    }
    let name = conv.and_then(|c| c.name.as_deref()).unwrap_or_default();
    let has = |text: &str| crate::text::fold(text).contains(q);
    if has(t.customer.as_str()) || has(name) || has(&t.summary) {
        return Ok(true);
    }
    Ok(store.transcript(&t.customer)?.iter().any(|m| has(&m.text)))
}
