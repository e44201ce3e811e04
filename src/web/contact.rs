//! What the web chat says around a person's reply: whether people are in now (opening
//! hours, instead of a fixed "we answer at once"), and the address a waiting customer
//! may leave, so that an operator's reply they do not read in time also goes by email
//! (`channels::email::follow_up`).

use super::{ApiError, ApiJson, ApiQuery, App, blocking};
use crate::domain::{Lang, Mode};
use crate::store::Contact;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

#[derive(Deserialize)]
pub struct StatusQuery {
    #[serde(default)]
    lang: Option<Lang>,
}

/// `GET /chat/status`: `{"people_online", "opens", "email", "contact"}`: people are
/// in now (the default department's hours), else when they are back in words; whether
/// the chat may offer the email field; the address this visitor left, if any.
pub async fn status(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<StatusQuery>,
) -> Result<Json<Value>, ApiError> {
    let config = app.service.config();
    let hours = config.hours_of(&config.default_department);
    let now = Utc::now();
    let online = hours.is_open(now);
    let lang = query.lang.unwrap_or(Lang::It);
    let opens = (!online)
        .then(|| hours.next_opening(now))
        .flatten()
        .map(|at| hours.describe(at, now, lang));
    let contact = match super::chat::visitor(&app, &headers) {
        Ok(customer) => {
            let store = app.service.store().clone();
            blocking(move || Ok(store.contact(&customer)?)).await?
        }
        Err(_) => None,
    };
    Ok(Json(json!({
        "people_online": online,
        "opens": opens,
        // Offered only while mail can go out (not after a refused SMTP login).
        "email": app.channels.email.as_ref().is_some_and(|e| e.delivery.fatal().is_none()),
        "contact": contact.map(|c| c.email),
    })))
}

#[derive(Deserialize)]
pub struct LeaveEmail {
    email: String,
}

/// Addresses one visitor may leave per [`WINDOW`].
const PER_VISITOR: usize = 3;
const WINDOW: std::time::Duration = std::time::Duration::from_secs(60);

/// `POST /chat/email` `{"email"}`: the address of a visitor waiting for a person, for
/// the replies they miss; `{"email"}` as stored. `400` `email_invalid`, `404`
/// `email_off` when the shop has no mailbox connected, `409` `not_waiting` when no
/// person is on the conversation, `429` past 3 a minute.
pub async fn leave_email(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<LeaveEmail>,
) -> Result<Json<Value>, ApiError> {
    let customer = super::chat::visitor(&app, &headers)?;
    if app.channels.email.is_none() {
        return Err(
            ApiError::new(StatusCode::NOT_FOUND, "this shop does not answer by email")
                .with_code("email_off"),
        );
    }
    app.minute_limits
        .allow(
            &[(&format!("email:{customer}"), PER_VISITOR)],
            WINDOW,
            std::time::Instant::now(),
        )
        .map_err(|wait| ApiError::too_many(wait, format!("wait {}", ApiError::seconds(wait))))?;
    let email = valid_email(&body.email).ok_or_else(|| {
        ApiError::bad_request("that is not an email address: check it, e.g. nome@esempio.it")
            .with_code("email_invalid")
    })?;
    let store = app.service.store().clone();
    let stored = email.clone();
    blocking(move || {
        let mode = store.conversation(&customer)?.map(|c| c.mode);
        if !matches!(mode, Some(Mode::Queued | Mode::WithOperator)) {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "an address is taken only while you wait for a person",
            )
            .with_code("not_waiting"));
        }
        let now = Utc::now();
        store.update_contact(&customer, &|before| {
            Some(Contact {
                email: stored.clone(),
                since: now,
                // From now on: replies written before are not mailed.
                followed_up: before.and_then(|c| c.followed_up).max(Some(now)),
            })
        })?;
        Ok(())
    })
    .await?;
    Ok(Json(json!({ "email": email })))
}

/// An address as typed, trimmed and lowercased, if it looks deliverable and the SMTP
/// side takes it: one `@`, a dotted domain, ASCII, no spaces, at most 254 characters.
pub fn valid_email(raw: &str) -> Option<String> {
    let email = raw.trim().to_lowercase();
    let (local, domain) = email.split_once('@')?;
    let ok = !local.is_empty()
        && email.chars().count() <= crate::channels::email::read::MAX_ADDRESS
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && email.is_ascii()
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>,;\"".contains(c))
        && email.parse::<lettre::Address>().is_ok();
    ok.then_some(email)
}

#[cfg(test)]
mod tests {
    use super::valid_email;

    #[test]
    fn addresses_are_checked_and_lowercased() {
        assert_eq!(
            valid_email(" Maria@Example.IT "),
            Some("maria@example.it".into())
        );
        for bad in [
            "maria",
            "maria@",
            "@example.it",
            "a@b",
            "a b@c.it",
            "a@b.it, c@d.it",
            "a@.it",
            "però@x.it",
        ] {
            assert_eq!(valid_email(bad), None, "{bad}");
        }
    }
}
