//! "http": a JSON endpoint a shop writes itself, `GET {url}/orders/{number}` with
//! `Authorization: Bearer {SPORTELLO_ORDERS_TOKEN}` (if set), 404 for an unknown number,
//! and this object (README, "Where is my order?"):
//!
//! `{"number", "status": "received|preparing|shipped|delivered|cancelled|refunded",
//! "email", "postcode", "placed_at", "carrier", "tracking_number", "tracking_url",
//! "shipped_at", "items": [{"name", "quantity"}], "total", "currency"}`

use super::woocommerce::items;
use super::{LookupError, Order, OrderStatus, Orders, Shipment, text, time};
use serde_json::Value;

pub fn find(orders: &Orders, number: &str) -> Result<Option<Order>, LookupError> {
    let token = orders.secrets.token.clone();
    let found = orders.get(&format!("/orders/{number}"), |r| match token {
        Some(t) => r.bearer_auth(t),
        None => r,
    })?;
    match found {
        None => Ok(None),
        Some(v) => read(&v).map(Some).ok_or_else(|| {
            LookupError::Unavailable("the order does not read (README, \"http\")".into())
        }),
    }
}

pub fn read(v: &Value) -> Option<Order> {
    let status: OrderStatus = serde_json::from_value(v["status"].clone()).ok()?;
    let shipment =
        (text(&v["carrier"]).is_some() || text(&v["tracking_number"]).is_some()).then(|| {
            Shipment {
                carrier: text(&v["carrier"]),
                tracking_number: text(&v["tracking_number"]),
                tracking_url: text(&v["tracking_url"]),
                shipped_at: time(&v["shipped_at"]),
            }
        });
    Some(Order {
        number: text(&v["number"])?,
        status,
        email: text(&v["email"]),
        postcode: text(&v["postcode"]),
        placed_at: time(&v["placed_at"]),
        shipment,
        items: items(&v["items"], "name", "quantity"),
        total: text(&v["total"]),
        currency: text(&v["currency"]),
    })
}
