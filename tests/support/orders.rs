//! Fake shop platforms on 127.0.0.1 with their real request and response shapes:
//! WooCommerce's REST API v3 (basic auth, Shipment Tracking meta), Shopify's Admin API
//! (`X-Shopify-Access-Token`, orders by name with fulfillments), PrestaShop's Webservice
//! (the key as basic-auth user, JSON output, linked customer, address and carrier), and
//! the plain "http" endpoint. One order each; faults: down (503) or slow.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const WOO_KEY: &str = "ck_3f1e2d";
pub const WOO_SECRET: &str = "cs_9a8b7c";
pub const SHOPIFY_TOKEN: &str = "shpat_5e6f7a";
pub const PRESTA_KEY: &str = "Q1W2E3R4T5Y6U7I8O9P0ASDFGHJKLZXC";
pub const HTTP_TOKEN: &str = "order-api-token";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Normal,
    /// 503 to everything.
    Down,
    /// Every answer after this long.
    Slow(Duration),
}

#[derive(Default)]
pub struct Inner {
    pub mode: Mode,
    /// Every path asked for, in order.
    pub calls: Vec<String>,
}

pub struct FakeShop {
    pub url: String,
    state: Arc<Mutex<Inner>>,
}

type Shared = State<Arc<Mutex<Inner>>>;

impl FakeShop {
    pub fn start() -> FakeShop {
        let state: Arc<Mutex<Inner>> = Arc::default();
        let router = Router::new()
            .route("/wp-json/wc/v3/orders/{id}", get(woocommerce))
            .route("/admin/api/2025-01/orders.json", get(shopify))
            .route("/api/{resource}/{id}", get(prestashop))
            .route("/orders/{number}", get(plain))
            .with_state(state.clone());
        let url = format!("http://{}", super::serve_in_background(router));
        FakeShop { url, state }
    }

    pub fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        f(&mut self.state.lock().unwrap())
    }
}

/// Log the call, then meet the fault if any: Some(response) to answer with it.
async fn fault(state: &Arc<Mutex<Inner>>, path: String) -> Option<Response> {
    let mode = {
        let mut s = state.lock().unwrap();
        s.calls.push(path);
        s.mode
    };
    match mode {
        Mode::Normal => None,
        Mode::Down => Some((StatusCode::SERVICE_UNAVAILABLE, "maintenance").into_response()),
        Mode::Slow(wait) => {
            tokio::time::sleep(wait).await;
            None
        }
    }
}

fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    use base64::Engine;
    let raw = headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(raw).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, password) = text.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

async fn woocommerce(State(state): Shared, Path(id): Path<String>, headers: HeaderMap) -> Response {
    if let Some(r) = fault(&state, format!("woocommerce {id}")).await {
        return r;
    }
    if basic(&headers) != Some((WOO_KEY.into(), WOO_SECRET.into())) {
        let body = json!({"code": "woocommerce_rest_cannot_view",
                          "message": "Sorry, you cannot view this resource.", "data": {"status": 401}});
        return (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
    }
    if id != "552211" {
        let body = json!({"code": "woocommerce_rest_shop_order_invalid_id", "message": "Invalid ID.",
                          "data": {"status": 404}});
        return (StatusCode::NOT_FOUND, axum::Json(body)).into_response();
    }
    axum::Json(json!({
        "id": 552211, "parent_id": 0, "number": "552211", "order_key": "wc_order_x1",
        "created_via": "checkout", "status": "completed", "currency": "EUR",
        "date_created": "2026-11-24T10:12:00", "date_created_gmt": "2026-11-24T09:12:00",
        "total": "79.80", "customer_id": 12,
        "billing": {"first_name": "Giulia", "last_name": "Rossi", "email": "giulia.rossi@example.it",
                    "postcode": "20121", "city": "Milano", "country": "IT"},
        "shipping": {"first_name": "Giulia", "last_name": "Rossi", "postcode": "20121", "city": "Milano"},
        "line_items": [{"id": 31, "name": "Lampada da tavolo Arco", "product_id": 93, "quantity": 2,
                        "total": "79.80", "sku": "ARCO-N"}],
        "meta_data": [{"id": 4480, "key": "_wc_shipment_tracking_items", "value": [
            {"tracking_provider": "", "custom_tracking_provider": "BRT",
             "custom_tracking_link": "https://vas.brt.it/vas/sped_det_show.hsm?Nspediz=0611223344",
             "tracking_number": "0611223344", "date_shipped": "1795564800", "tracking_id": "a0c1"}]}]
    }))
    .into_response()
}

async fn shopify(
    State(state): Shared,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let name = query.get("name").cloned().unwrap_or_default();
    if let Some(r) = fault(&state, format!("shopify {name}")).await {
        return r;
    }
    let token = headers
        .get("x-shopify-access-token")
        .and_then(|v| v.to_str().ok());
    if token != Some(SHOPIFY_TOKEN) {
        let body = json!({"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"});
        return (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
    }
    if query.get("status").map(String::as_str) != Some("any") || name != "#1001" {
        return axum::Json(json!({"orders": []})).into_response();
    }
    axum::Json(json!({"orders": [{
        "id": 5765512520000u64, "name": "#1001", "email": "sam.taylor@example.co.uk",
        "contact_email": "sam.taylor@example.co.uk", "created_at": "2026-11-20T10:00:00+00:00",
        "cancelled_at": null, "financial_status": "paid", "fulfillment_status": "fulfilled",
        "total_price": "42.50", "currency": "GBP",
        "shipping_address": {"zip": "SW1A 1AA", "country_code": "GB"},
        "line_items": [{"id": 1, "name": "Monstera Deliciosa - Large", "quantity": 1, "price": "42.50"}],
        "fulfillments": [{"id": 4300000, "status": "success", "created_at": "2026-11-21T09:00:00+00:00",
                          "tracking_company": "Royal Mail", "tracking_number": "RM123456785GB",
                          "tracking_url": "https://www.royalmail.com/track-your-item#/tracking-results/RM123456785GB",
                          "tracking_urls": [], "shipment_status": "delivered"}]
    }]}))
    .into_response()
}

async fn prestashop(
    State(state): Shared,
    Path((resource, id)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = fault(&state, format!("prestashop {resource} {id}")).await {
        return r;
    }
    if basic(&headers).map(|(user, _)| user) != Some(PRESTA_KEY.into()) {
        return (StatusCode::UNAUTHORIZED, "401 Unauthorized").into_response();
    }
    if query.get("output_format").map(String::as_str) != Some("JSON") {
        return (StatusCode::OK, "<?xml version=\"1.0\"?><prestashop/>").into_response();
    }
    let found: Option<Value> = match (resource.as_str(), id.as_str()) {
        ("orders", "1245") => Some(json!({"order": {
            "id": 1245, "id_address_delivery": "7", "id_customer": "3", "id_carrier": "2",
            "current_state": "4", "date_add": "2026-11-22 15:30:00", "total_paid": "35.900000",
            "reference": "XKBKNABJK", "shipping_number": "0611998877", "module": "ps_wirepayment",
            "associations": {"order_rows": [{"id": "11", "product_id": "4", "product_name": "Applique Luna - Ottone",
                                              "product_quantity": "1", "unit_price_tax_incl": "35.900000"}]}}})),
        ("customers", "3") => Some(
            json!({"customer": {"id": 3, "email": "marco.bianchi@example.it",
                                                         "firstname": "Marco", "lastname": "Bianchi"}}),
        ),
        ("addresses", "7") => {
            Some(json!({"address": {"id": 7, "postcode": "40121", "city": "Bologna"}}))
        }
        ("carriers", "2") => Some(json!({"carrier": {"id": 2, "name": "BRT",
                                         "url": "https://vas.brt.it/vas/sped_det_show.hsm?Nspediz=@"}})),
        _ => None,
    };
    match found {
        Some(body) => axum::Json(body).into_response(),
        None => {
            let body = json!({"errors": [{"code": 87, "message": "Invalid ID"}]});
            (StatusCode::NOT_FOUND, axum::Json(body)).into_response()
        }
    }
}

async fn plain(State(state): Shared, Path(number): Path<String>, headers: HeaderMap) -> Response {
    if let Some(r) = fault(&state, format!("http {number}")).await {
        return r;
    }
    let bearer = headers.get("authorization").and_then(|v| v.to_str().ok());
    if bearer != Some(&format!("Bearer {HTTP_TOKEN}")) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    if number != "7788" {
        return StatusCode::NOT_FOUND.into_response();
    }
    axum::Json(
        json!({"number": "7788", "status": "preparing", "email": "anna@example.it",
                      "postcode": "00184", "placed_at": "2026-11-30T08:00:00Z",
                      "items": [{"name": "Lampadina E27 smart", "quantity": 3}],
                      "total": "44.70", "currency": "EUR"}),
    )
    .into_response()
}
