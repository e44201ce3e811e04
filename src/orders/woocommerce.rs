//! WooCommerce: REST API v3, `GET {url}/wp-json/wc/v3/orders/{number}` with HTTP basic
//! auth (consumer key and secret); tracking from the Shipment Tracking extension's
//! `_wc_shipment_tracking_items` meta.

use super::{Item, LookupError, Order, OrderStatus, Orders, Shipment, text, time};
use serde_json::Value;

pub fn find(orders: &Orders, number: &str) -> Result<Option<Order>, LookupError> {
    let (key, secret) = (&orders.secrets.key, &orders.secrets.secret);
    let found = orders.get(&format!("/wp-json/wc/v3/orders/{number}"), |r| {
        r.basic_auth(key.clone().unwrap_or_default(), secret.clone())
    })?;
    Ok(found.and_then(|v| read(&v)))
}

/// A WooCommerce order object.
pub fn read(v: &Value) -> Option<Order> {
    let number = text(&v["number"]).or_else(|| text(&v["id"]))?;
    let tracking = v["meta_data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|m| m["key"] == "_wc_shipment_tracking_items")
        .filter_map(|m| m["value"].as_array())
        .flatten()
        .last();
    let shipment = tracking.map(|t| Shipment {
        carrier: text(&t["custom_tracking_provider"]).or_else(|| text(&t["tracking_provider"])),
        tracking_number: text(&t["tracking_number"]),
        tracking_url: text(&t["custom_tracking_link"]),
        shipped_at: time(&t["date_shipped"]),
    });
    let status = match v["status"].as_str().unwrap_or_default() {
        "processing" => OrderStatus::Preparing,
        "completed" | "shipped" => OrderStatus::Shipped,
        "delivered" => OrderStatus::Delivered,
        "cancelled" | "failed" => OrderStatus::Cancelled,
        "refunded" => OrderStatus::Refunded,
        _ if shipment.is_some() => OrderStatus::Shipped,
        _ => OrderStatus::Received,
    };
    let postcode = text(&v["shipping"]["postcode"]).or_else(|| text(&v["billing"]["postcode"]));
    Some(Order {
        number,
        status,
        email: text(&v["billing"]["email"]),
        postcode,
        placed_at: time(&v["date_created_gmt"]).or_else(|| time(&v["date_created"])),
        shipment,
        items: items(&v["line_items"], "name", "quantity"),
        total: text(&v["total"]),
        currency: text(&v["currency"]),
    })
}

/// Line items: `name` and `quantity` under the given keys.
pub fn items(list: &Value, name: &str, quantity: &str) -> Vec<Item> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| {
            Some(Item {
                name: text(&i[name])?,
                quantity: i[quantity]
                    .as_u64()
                    .or_else(|| i[quantity].as_str().and_then(|q| q.parse().ok()))
                    .unwrap_or(1) as u32,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_completed_order_with_tracking_is_shipped_with_its_carrier() {
        let order = read(&json!({
            "id": 727, "parent_id": 0, "number": "727", "status": "completed", "currency": "EUR",
            "date_created": "2026-11-20T10:00:00", "date_created_gmt": "2026-11-20T09:00:00",
            "total": "59.90",
            "billing": {"first_name": "Giulia", "email": "giulia@example.it", "postcode": "20121"},
            "shipping": {"first_name": "Giulia", "postcode": "20121"},
            "line_items": [{"id": 1, "name": "Lampada Arco", "quantity": 1, "total": "49.90"}],
            "meta_data": [{"id": 9, "key": "_wc_shipment_tracking_items", "value": [
                {"tracking_provider": "brt", "custom_tracking_provider": "", "custom_tracking_link": "",
                 "tracking_number": "BRT123", "date_shipped": "1764000000", "tracking_id": "a1"}]}]
        }))
        .unwrap();
        assert_eq!(order.status, OrderStatus::Shipped);
        let shipment = order.shipment.unwrap();
        assert_eq!(shipment.carrier.as_deref(), Some("brt"));
        assert_eq!(shipment.tracking_number.as_deref(), Some("BRT123"));
        assert_eq!(shipment.shipped_at.unwrap().timestamp(), 1764000000);
        assert_eq!(order.items[0].name, "Lampada Arco");
        assert_eq!(
            order.placed_at.unwrap().to_rfc3339(),
            "2026-11-20T09:00:00+00:00"
        );
    }
}
