//! Reading the Cloud API's webhook payloads: real shapes, signatures, what is skipped.

use super::*;
use serde_json::json;

fn webhook(value: serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": value}]}]
    }))
    .unwrap()
}

#[test]
fn the_signature_is_hmac_sha256_as_published() {
    // RFC 4231, test case 2.
    assert_eq!(
        signature("Jefe", b"what do ya want for nothing?"),
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}

#[test]
fn a_signature_is_checked_against_the_raw_body() {
    let body = br#"{"object":"whatsapp_business_account"}"#;
    let good = signature("s3cret", body);
    assert!(signed("s3cret", body, Some(&good)));
    assert!(!signed("other", body, Some(&good)));
    assert!(!signed("s3cret", b"{}", Some(&good)));
    assert!(!signed("s3cret", body, None));
    assert!(!signed("s3cret", body, Some("sha256=zz")));
    assert!(!signed(
        "s3cret",
        body,
        Some(&good.replace("sha256=", "sha1="))
    ));
}

#[test]
fn texts_replies_and_media_become_messages_and_reactions_nothing() {
    let now = DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z")
        .unwrap()
        .to_utc();
    let body = webhook(json!({
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "390200000000", "phone_number_id": "1055"},
        "contacts": [{"profile": {"name": "Giulia"}, "wa_id": "393331234567"}],
        "messages": [
            {"from": "393331234567", "id": "wamid.1", "timestamp": "1764582000",
             "type": "text", "text": {"body": "Ciao"}},
            {"from": "393331234567", "id": "wamid.2", "timestamp": "1764582001",
             "type": "interactive", "interactive": {"type": "list_reply",
              "list_reply": {"id": "choice:2", "title": "Tempi di consegna", "description": "x"}}},
            {"from": "393331234567", "id": "wamid.3", "timestamp": "1764582002",
             "type": "audio", "audio": {"id": "MEDIA9", "mime_type": "audio/ogg", "voice": true}},
            {"from": "393331234567", "id": "wamid.4", "timestamp": "1764582003",
             "type": "reaction", "reaction": {"message_id": "wamid.0", "emoji": "👍"}},
            {"from": "393331234567", "id": "wamid.5", "timestamp": "9999999999",
             "type": "location", "location": {"latitude": 45.4642, "longitude": 9.19}}
        ]
    }));
    let found = read(&body, "1055", now).unwrap().incoming;
    let messages: Vec<&Inbound> = found
        .iter()
        .filter_map(|i| match i {
            Incoming::Message(m) => Some(m),
            Incoming::Status { .. } => None,
        })
        .collect();
    assert_eq!(messages.len(), 4, "the reaction is not a message");
    assert_eq!(messages[0].customer.as_str(), "whatsapp:393331234567");
    assert_eq!(messages[0].name.as_deref(), Some("Giulia"));
    assert_eq!(messages[0].locale, Some(Lang::It));
    // Care runs from its arrival; Meta's time says when the customer wrote it.
    assert_eq!(messages[0].at, now);
    assert_eq!(messages[0].written_at().timestamp(), 1764582000);
    assert_eq!(messages[1].text, "2");
    let voice = messages[2].attachment.as_ref().unwrap();
    assert_eq!(
        (voice.kind, voice.reference.as_str()),
        (AttachmentKind::Voice, "MEDIA9")
    );
    assert_eq!(
        messages[3].written_at(),
        now,
        "a timestamp in the future is read as now"
    );
    assert_eq!(messages[3].text, "[location 45.46420,9.19000]");
}

#[test]
fn a_failed_status_for_an_undeliverable_number_marks_the_customer() {
    let body = webhook(json!({
        "statuses": [
            {"id": "wamid.9", "status": "read", "timestamp": "1764582000", "recipient_id": "447700900123"},
            {"id": "wamid.8", "status": "failed", "timestamp": "1764582000", "recipient_id": "447700900123",
             "errors": [{"code": 131026, "title": "Message undeliverable"}]}
        ]
    }));
    let found = read(&body, "1055", Utc::now()).unwrap().incoming;
    assert!(
        matches!(&found[0], Incoming::Status { unreachable: false, status, .. } if status.status == "read")
    );
    let Incoming::Status {
        unreachable,
        status,
        ..
    } = &found[1]
    else {
        panic!("a status");
    };
    assert!(unreachable);
    assert_eq!(
        status.error.as_deref(),
        Some("131026 Message undeliverable")
    );
    assert!(read(br#"{"object":"page","entry":[]}"#, "1055", Utc::now()).is_err());
}

#[test]
fn another_business_numbers_messages_are_left_for_it() {
    // An app with two numbers sends both numbers' changes to the same webhook.
    let message = |number: &str, id: &str| {
        json!({"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "390200000000", "phone_number_id": number},
            "messages": [{"from": "393331234567", "id": id, "timestamp": "1764582000",
                          "type": "text", "text": {"body": "Ciao"}}]
        }})
    };
    let body = serde_json::to_vec(&json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA", "changes": [message("1055", "wamid.ours"), message("2077", "wamid.theirs")]}]
    }))
    .unwrap();
    let read = read(&body, "1055", Utc::now()).unwrap();
    assert_eq!(read.other_numbers, ["2077"]);
    let ids: Vec<&str> = read
        .incoming
        .iter()
        .filter_map(|i| match i {
            Incoming::Message(m) => Some(m.message_id.as_str()),
            Incoming::Status { .. } => None,
        })
        .collect();
    assert_eq!(ids, ["wamid.ours"]);
}
