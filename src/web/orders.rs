//! The order card an operator sees beside a ticket.

use super::auth::Authed;
use super::console::{order_number, parse_id};
use super::{ApiError, App, blocking};
use crate::domain::HandoffReason;
use crate::domain::order::FAILED_CHECK;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;

/// `GET /tickets/{id}/order`: the order card (status, items, total, tracking) of the
/// ticket's order number, fetched from the shop's platform on demand. Operators are
/// signed in: no email or postcode is asked of them. `verification` says whether the
/// customer proved the order theirs: `proven` (its email or postcode matched, in this
/// conversation), `failed` (the bot's tries ran out and handed over), `named` (only
/// the number was written): an operator does not discuss an order with whoever
/// names its number.
pub async fn order_card(
    State(app): State<Arc<App>>,
    _authed: Authed,
    Path((id, part)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    if part != "order" {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "no such API endpoint"));
    }
    let id = parse_id(&id)?;
    let service = app.service.clone();
    blocking(move || {
        let ticket = service.ticket(id)?;
        let conv = service.store().conversation(&ticket.customer)?;
        let number = order_number(&ticket, conv.as_ref())
            .map(str::to_owned)
            .ok_or_else(|| {
                ApiError::new(StatusCode::NOT_FOUND, "the ticket has no order number")
                    .with_code("no_order_number")
            })?;
        let orders = service.orders().ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "no order platform is connected ([orders] in sportello.toml)",
            )
            .with_code("orders_off")
        })?;
        let verification = if conv
            .as_ref()
            .is_some_and(|c| c.proven_orders.contains(&number))
        {
            "proven"
        } else if ticket.reason == HandoffReason::Intent(FAILED_CHECK.into()) {
            "failed"
        } else {
            "named"
        };
        match orders.find(&number) {
            Ok(Some(order)) => Ok(Json(json!({"order": order, "verification": verification}))),
            Ok(None) => Err(ApiError::new(
                StatusCode::NOT_FOUND,
                format!("the shop has no order {number}"),
            )
            .with_code("no_order")),
            Err(e) => Err(
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
                    .with_code("orders_unavailable"),
            ),
        }
    })
    .await
}
