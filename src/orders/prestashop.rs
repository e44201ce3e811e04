//! PrestaShop: the Webservice (`/api/...?output_format=JSON`, the key as the basic-auth
//! user). The order gives the state and the carrier's tracking number; the customer
//! (email), the delivery address (postcode) and the carrier (name, tracking URL) are
//! read from their own resources. States are PrestaShop's default ones.

use super::woocommerce::items;
use super::{LookupError, Order, OrderStatus, Orders, Shipment, text, time};
use serde_json::Value;

pub fn find(orders: &Orders, number: &str) -> Result<Option<Order>, LookupError> {
    let key = orders.secrets.key.clone().unwrap_or_default();
    let get = |resource: &str, id: &str| {
        let key = key.clone();
        let path = format!("/api/{resource}/{id}?output_format=JSON");
        orders.get(&path, move |r| r.basic_auth(key, Some("")))
    };
    let Some(found) = get("orders", number)? else {
        return Ok(None);
    };
    let order = &found["order"];
    let linked = |resource: &str, field: &str, object: &str| -> Result<Value, LookupError> {
        match text(&order[field]).filter(|id| id != "0") {
            Some(id) => Ok(get(resource, &id)?
                .map(|v| v[object].clone())
                .unwrap_or_default()),
            None => Ok(Value::Null),
        }
    };
    let customer = linked("customers", "id_customer", "customer")?;
    let address = linked("addresses", "id_address_delivery", "address")?;
    let carrier = linked("carriers", "id_carrier", "carrier")?;
    Ok(read(order, &customer, &address, &carrier))
}

/// An order with its customer, delivery address and carrier objects.
pub fn read(order: &Value, customer: &Value, address: &Value, carrier: &Value) -> Option<Order> {
    let number = text(&order["id"])?;
    let tracking = text(&order["shipping_number"]);
    let status = match text(&order["current_state"]).as_deref() {
        Some("2" | "3" | "9" | "11") => OrderStatus::Preparing,
        Some("4") => OrderStatus::Shipped,
        Some("5") => OrderStatus::Delivered,
        Some("6" | "8") => OrderStatus::Cancelled,
        Some("7") => OrderStatus::Refunded,
        _ => OrderStatus::Received,
    };
    let shipped = matches!(status, OrderStatus::Shipped | OrderStatus::Delivered);
    let shipment = (shipped || tracking.is_some()).then(|| Shipment {
        carrier: text(&carrier["name"]),
        tracking_url: text(&carrier["url"])
            .zip(tracking.clone())
            .map(|(url, number)| url.replace('@', &number)),
        tracking_number: tracking,
        shipped_at: None,
    });
    Some(Order {
        number,
        status,
        email: text(&customer["email"]),
        postcode: text(&address["postcode"]),
        placed_at: time(&order["date_add"]),
        shipment,
        items: items(
            &order["associations"]["order_rows"],
            "product_name",
            "product_quantity",
        ),
        total: text(&order["total_paid"])
            .map(|t| t.trim_end_matches('0').trim_end_matches('.').to_owned()),
        currency: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn state_4_is_shipped_with_the_carriers_tracking_link() {
        let order = json!({"id": 5, "id_address_delivery": "5", "id_customer": "2", "id_carrier": "3",
            "current_state": "4", "date_add": "2026-11-20 10:00:00", "total_paid": "59.900000",
            "reference": "XKBKNABJK", "shipping_number": "BRT777",
            "associations": {"order_rows": [{"id": "1", "product_id": "7", "product_name": "Applique Luna",
                                             "product_quantity": "2"}]}});
        let carrier = json!({"id": 3, "name": "BRT", "url": "https://vas.brt.it/vas/sped_det_show.hsm?Nspediz=@"});
        let got = read(
            &order,
            &json!({"email": "pub@prestashop.com"}),
            &json!({"postcode": "20121"}),
            &carrier,
        )
        .unwrap();
        assert_eq!(got.status, OrderStatus::Shipped);
        assert_eq!(got.total.as_deref(), Some("59.9"));
        let shipment = got.shipment.unwrap();
        assert_eq!(
            shipment.tracking_url.as_deref(),
            Some("https://vas.brt.it/vas/sped_det_show.hsm?Nspediz=BRT777")
        );
        assert_eq!(got.items[0].quantity, 2);
    }
}
