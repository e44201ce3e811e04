//! Shopify: the Admin REST API, `GET {url}/admin/api/2025-01/orders.json?name=%23{number}
//! &status=any` with `X-Shopify-Access-Token`; fulfillments carry the tracking.

use super::woocommerce::items;
use super::{LookupError, Order, OrderStatus, Orders, Shipment, text, time};
use serde_json::Value;

pub fn find(orders: &Orders, number: &str) -> Result<Option<Order>, LookupError> {
    let token = orders.secrets.token.clone().unwrap_or_default();
    let path = format!("/admin/api/2025-01/orders.json?name=%23{number}&status=any");
    let found = orders.get(&path, |r| r.header("X-Shopify-Access-Token", token))?;
    Ok(found.and_then(|v| {
        let list = v["orders"].as_array()?;
        // `name` filters loosely (prefixes match): keep the order with exactly that name.
        let wanted = format!("#{number}");
        list.iter()
            .find(|o| o["name"] == wanted.as_str())
            .and_then(read)
    }))
}

/// A Shopify order object.
pub fn read(v: &Value) -> Option<Order> {
    let number = text(&v["name"])?.trim_start_matches('#').to_owned();
    let fulfillment = v["fulfillments"]
        .as_array()
        .into_iter()
        .flatten()
        .rev()
        .find(|f| f["status"] != "cancelled" && f["status"] != "failure");
    let shipment = fulfillment.map(|f| Shipment {
        carrier: text(&f["tracking_company"]),
        tracking_number: text(&f["tracking_number"]),
        tracking_url: text(&f["tracking_url"]).or_else(|| f["tracking_urls"].get(0).and_then(text)),
        shipped_at: time(&f["created_at"]),
    });
    let financial = v["financial_status"].as_str().unwrap_or_default();
    let status = if financial == "refunded" {
        OrderStatus::Refunded
    } else if !v["cancelled_at"].is_null() {
        OrderStatus::Cancelled
    } else if fulfillment.is_some_and(|f| f["shipment_status"] == "delivered") {
        OrderStatus::Delivered
    } else if fulfillment.is_some() {
        OrderStatus::Shipped
    } else if matches!(financial, "paid" | "partially_paid" | "partially_refunded") {
        OrderStatus::Preparing
    } else {
        OrderStatus::Received
    };
    Some(Order {
        number,
        status,
        email: text(&v["email"]).or_else(|| text(&v["contact_email"])),
        postcode: text(&v["shipping_address"]["zip"])
            .or_else(|| text(&v["billing_address"]["zip"])),
        placed_at: time(&v["created_at"]),
        shipment,
        items: items(&v["line_items"], "name", "quantity"),
        total: text(&v["total_price"]),
        currency: text(&v["currency"]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_delivered_fulfillment_is_delivered_and_a_cancelled_order_is_cancelled() {
        let order = json!({
            "id": 450789469, "name": "#1001", "email": "bob@example.com",
            "created_at": "2026-11-20T10:00:00+01:00", "cancelled_at": null,
            "financial_status": "paid", "fulfillment_status": "fulfilled",
            "total_price": "59.90", "currency": "EUR",
            "shipping_address": {"zip": "20121", "country_code": "IT"},
            "line_items": [{"id": 1, "name": "Lampada Arco - Nera", "quantity": 2}],
            "fulfillments": [{"id": 1, "status": "success", "created_at": "2026-11-21T09:00:00+01:00",
                              "tracking_company": "BRT", "tracking_number": "BRT9",
                              "tracking_url": "https://brt.example/BRT9", "tracking_urls": [],
                              "shipment_status": "delivered"}]
        });
        let read_order = read(&order).unwrap();
        assert_eq!(read_order.number, "1001");
        assert_eq!(read_order.status, OrderStatus::Delivered);
        assert_eq!(read_order.items[0].quantity, 2);
        let mut cancelled = order.clone();
        cancelled["cancelled_at"] = json!("2026-11-20T12:00:00+01:00");
        cancelled["fulfillments"] = json!([]);
        assert_eq!(read(&cancelled).unwrap().status, OrderStatus::Cancelled);
    }
}
