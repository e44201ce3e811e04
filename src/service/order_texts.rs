//! What the bot says while checking an order, in Italian and English.

use crate::domain::Lang;
use crate::orders::{Order, OrderStatus};

pub fn ask_number(lang: Lang) -> &'static str {
    match lang {
        Lang::It => {
            "Posso controllare il tuo ordine: qual è il numero? Lo trovi nell'email di conferma."
        }
        Lang::En => {
            "I can check your order: what is the order number? It's in your confirmation email."
        }
    }
}

pub fn ask_proof(lang: Lang, number: &str) -> String {
    match lang {
        Lang::It => format!(
            "Per proteggere i tuoi dati, scrivimi l'email (oppure il CAP di consegna) usata per l'ordine {number}."
        ),
        Lang::En => format!(
            "To protect your data, please write the email address (or the delivery postcode) used for order {number}."
        ),
    }
}

/// No such order, or not with that proof: the same words either way.
pub fn not_found(lang: Lang) -> &'static str {
    match lang {
        Lang::It => {
            "Non trovo un ordine con questo numero e questa email (o CAP). Controlla e riscrivimi il numero dell'ordine, oppure scegli di parlare con una persona."
        }
        Lang::En => {
            "I can't find an order with that number and that email (or postcode). Please check and write the order number again, or choose to talk to a person."
        }
    }
}

pub fn too_many_tries(lang: Lang) -> &'static str {
    match lang {
        Lang::It => "Non riesco a verificare l'ordine con questi dati.",
        Lang::En => "I can't verify the order with these details.",
    }
}

pub fn unavailable(lang: Lang) -> &'static str {
    match lang {
        Lang::It => {
            "In questo momento non riesco a controllare gli ordini. Vuoi parlare con una persona?"
        }
        Lang::En => "I can't check orders right now. Would you like to talk to a person?",
    }
}

pub fn limited(lang: Lang) -> &'static str {
    match lang {
        Lang::It => {
            "Hai chiesto molte verifiche in poco tempo: per sicurezza mi fermo qui. Vuoi parlare con una persona?"
        }
        Lang::En => {
            "That's a lot of checks in a short time, so I'll stop here to be safe. Would you like to talk to a person?"
        }
    }
}

/// The order's status in the customer's language, with the carrier and tracking link
/// when shipped.
pub fn status(lang: Lang, order: &Order) -> String {
    let n = &order.number;
    let shipment = order.shipment.as_ref();
    let date = |t: chrono::DateTime<chrono::Utc>| match lang {
        Lang::It => t.format("%d/%m/%Y").to_string(),
        Lang::En => t.format("%-d %b %Y").to_string(),
    };
    let shipped_on = shipment.and_then(|s| s.shipped_at).map(date);
    let carrier = shipment.and_then(|s| s.carrier.clone());
    let tracking = shipment.and_then(|s| {
        s.tracking_url
            .clone()
            .or_else(|| s.tracking_number.as_ref().map(|t| format!("n. {t}")))
    });
    match (lang, order.status) {
        (Lang::It, OrderStatus::Received) => {
            format!("L'ordine {n} è stato ricevuto: lo stiamo elaborando.")
        }
        (Lang::It, OrderStatus::Preparing) => {
            format!("L'ordine {n} è in preparazione: ti avvisiamo appena parte.")
        }
        (Lang::It, OrderStatus::Shipped) => {
            let mut text = format!("L'ordine {n} è stato spedito");
            if let Some(d) = shipped_on {
                text.push_str(&format!(" il {d}"));
            }
            if let Some(c) = carrier {
                text.push_str(&format!(" con {c}"));
            }
            text.push('.');
            if let Some(t) = tracking {
                text.push_str(&format!(" Puoi seguirlo qui: {t}"));
            }
            text
        }
        (Lang::It, OrderStatus::Delivered) => format!("L'ordine {n} risulta consegnato."),
        (Lang::It, OrderStatus::Cancelled) => format!("L'ordine {n} è stato annullato."),
        (Lang::It, OrderStatus::Refunded) => format!("L'ordine {n} è stato rimborsato."),
        (Lang::En, OrderStatus::Received) => {
            format!("Order {n} has been received and is being processed.")
        }
        (Lang::En, OrderStatus::Preparing) => {
            format!("Order {n} is being prepared: we'll let you know as soon as it ships.")
        }
        (Lang::En, OrderStatus::Shipped) => {
            let mut text = format!("Order {n} was shipped");
            if let Some(d) = shipped_on {
                text.push_str(&format!(" on {d}"));
            }
            if let Some(c) = carrier {
                text.push_str(&format!(" with {c}"));
            }
            text.push('.');
            if let Some(t) = tracking {
                text.push_str(&format!(" You can track it here: {t}"));
            }
            text
        }
        (Lang::En, OrderStatus::Delivered) => format!("Order {n} has been delivered."),
        (Lang::En, OrderStatus::Cancelled) => format!("Order {n} was cancelled."),
        (Lang::En, OrderStatus::Refunded) => format!("Order {n} was refunded."),
    }
}
