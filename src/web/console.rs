//! The operators' API: the queue, a ticket with everything needed to take it over
//! (transcript with the bot's reasons, notes, earlier tickets, canned replies), the
//! actions on it, accounts, and the live feed. Every call needs an operator.

use super::auth::Authed;
use super::chat::line;
use super::server::ClientIp;
use super::setup::create_operator;
use super::{ApiError, ApiJson, App, OptionalJson, blocking, feed};
use crate::accounts::Role;
use crate::channels::dispatch::window_closed;
use crate::domain::{ChannelKind, Conversation, Ticket, TicketId};
use crate::service::{Service, Transfer};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

pub async fn departments(
    State(app): State<Arc<App>>,
    authed: Result<Authed, ApiError>,
) -> Result<Json<Value>, ApiError> {
    // Before the first account exists, the setup form needs the list.
    if app.service.store().has_admin()? {
        authed?;
    }
    let names: Vec<&String> = app.service.config().departments.keys().collect();
    Ok(Json(json!({"departments": names})))
}

pub async fn operators(
    State(app): State<Arc<App>>,
    _authed: Authed,
) -> Result<Json<Value>, ApiError> {
    let ops = app.service.store().operators()?;
    let list: Vec<Value> = ops
        .iter()
        .map(|o| json!({"name": o.name, "role": o.role, "departments": o.departments}))
        .collect();
    Ok(Json(json!({"operators": list})))
}

#[derive(Deserialize)]
pub struct NewOperator {
    name: String,
    password: String,
    departments: Vec<String>,
    #[serde(default = "operator_role")]
    role: Role,
}

fn operator_role() -> Role {
    Role::Operator
}

pub async fn add_operator(
    State(app): State<Arc<App>>,
    authed: Authed,
    ApiJson(body): ApiJson<NewOperator>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    authed.require_admin()?;
    let op = create_operator(&app, body.name, body.password, body.departments, body.role).await?;
    let v = json!({"name": op.name, "role": op.role, "departments": op.departments});
    Ok((StatusCode::CREATED, Json(v)))
}

/// A ticket as the console lists it.
pub(super) fn ticket_json(
    t: &Ticket,
    conv: Option<&Conversation>,
    config: &crate::config::Config,
    now: DateTime<Utc>,
) -> Value {
    json!({
        "sla": config.sla_of(t, now),
        "id": t.id.0, "customer": t.customer, "channel": t.customer.channel(),
        "name": conv.and_then(|c| c.name.clone()), "department": t.department,
        "priority": t.priority, "reason": t.reason.to_string(), "lang": t.lang,
        "status": t.status, "operator": t.operator, "summary": t.summary,
        "order_number": t.order_number, "opened_at": t.opened_at,
        // Three estimates broken: the queue marks it (never three apologies, then silence).
        "escalated": t.broken_promises >= crate::domain::MAX_BROKEN_PROMISES,
        "waiting_s": (t.closed_at.unwrap_or(now) - t.opened_at).num_seconds().max(0),
    })
}

/// The ticket's order: the number it was opened with, else the customer's latest.
pub(super) fn order_number<'a>(t: &'a Ticket, conv: Option<&'a Conversation>) -> Option<&'a str> {
    t.order_number
        .as_deref()
        .or_else(|| conv.and_then(|c| c.order_numbers.last().map(String::as_str)))
}

fn listed(service: &Service, t: &Ticket, now: DateTime<Utc>) -> Result<Value, ApiError> {
    Ok(ticket_json(
        t,
        service.store().conversation(&t.customer)?.as_ref(),
        service.config(),
        now,
    ))
}

pub async fn queue(State(app): State<Arc<App>>, _authed: Authed) -> Result<Json<Value>, ApiError> {
    let service = app.service.clone();
    blocking(move || {
        let now = Utc::now();
        let tickets = service
            .store()
            .queue()?
            .iter()
            .map(|t| listed(&service, t, now))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Json(json!({"tickets": tickets, "now": now})))
    })
    .await
}

pub(super) fn parse_id(raw: &str) -> Result<TicketId, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::new(StatusCode::NOT_FOUND, format!("no ticket {raw}")))
}

pub async fn ticket(
    State(app): State<Arc<App>>,
    _authed: Authed,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id)?;
    let service = app.service.clone();
    blocking(move || Ok(Json(detail(&service, id)?))).await
}

/// Everything an operator needs to take a conversation over.
fn detail(service: &Service, id: TicketId) -> Result<Value, ApiError> {
    let store = service.store();
    let now = Utc::now();
    let ticket = service.ticket(id)?;
    let conv = store.conversation(&ticket.customer)?;
    let transcript: Vec<Value> = store
        .transcript_after(&ticket.customer, 0)?
        .iter()
        .map(|(seq, m)| line(*seq, m, false))
        .collect();
    let previous = store
        .tickets_of(&ticket.customer)?
        .iter()
        .filter(|t| t.id != id)
        .map(|t| ticket_json(t, conv.as_ref(), service.config(), now))
        .collect::<Vec<_>>();
    let name = conv.as_ref().and_then(|c| c.name.as_deref());
    let order = order_number(&ticket, conv.as_ref());
    let canned: Vec<Value> = service
        .canned()?
        .iter()
        .filter(|c| c.lang.is_none_or(|l| l == ticket.lang))
        .map(|c| json!({"title": c.title, "text": c.fill(name, order)}))
        .collect();
    let conversation = conv.as_ref().map(|c| {
        json!({"customer": c.customer, "mode": c.mode, "name": c.name, "lang": c.lang,
               "order_numbers": c.order_numbers})
    });
    let held = store.held(&ticket.customer)?;
    let window = ticket.customer.kind().and_then(ChannelKind::service_window);
    let last = conv.as_ref().and_then(|c| c.last_inbound_at);
    let delivery = json!({
        // Outside WhatsApp's window: the operator's replies wait for the customer.
        "window_closed": held.is_some() || window_closed(window, last, now),
        "held": held.is_some(),
        "template_sent": held.as_ref().is_some_and(|h| h.template_sent),
        "unreachable": store.unreachable(&ticket.customer)?.map(|u| u.reason),
    });
    Ok(json!({
        "ticket": ticket_json(&ticket, conv.as_ref(), service.config(), now),
        "delivery": delivery,
        "conversation": conversation,
        "transcript": transcript,
        "notes": store.notes(&ticket.customer)?,
        "previous": previous,
        "canned": canned,
    }))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ActBody {
    text: Option<String>,
    department: Option<String>,
    operator: Option<String>,
    /// With `close`: the FAQ entry that answers what the customer asked.
    faq: Option<String>,
}

impl ActBody {
    /// A field that `action` does not take is refused, not ignored: a `close` with a
    /// `text` would drop the goodbye it was meant to say.
    fn fits(&self, action: &str) -> Result<(), ApiError> {
        let takes: &[&str] = match action {
            "reply" | "notes" => &["text"],
            "release" => &["operator"],
            "close" => &["faq"],
            "transfer" => &["department", "operator"],
            "claim" => &[],
            // No such action: said below.
            _ => return Ok(()),
        };
        let given = [
            ("text", self.text.is_some()),
            ("department", self.department.is_some()),
            ("operator", self.operator.is_some()),
            ("faq", self.faq.is_some()),
        ];
        match given
            .iter()
            .find(|(name, set)| *set && !takes.contains(name))
        {
            None => Ok(()),
            Some((name, _)) => {
                let fields = match takes {
                    [] => "no fields".to_owned(),
                    names => names
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(" or "),
                };
                let hint = if *name == "text" {
                    " (to write to the customer, `reply` first)"
                } else {
                    ""
                };
                Err(ApiError::bad_request(format!(
                    "`{action}` takes {fields}, not `{name}`{hint}"
                )))
            }
        }
    }
}

/// `POST /tickets/{id}/{claim|reply|notes|transfer|release|close}`.
pub async fn act(
    State(app): State<Arc<App>>,
    authed: Authed,
    Path((id, action)): Path<(String, String)>,
    OptionalJson(body): OptionalJson<ActBody>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id)?;
    let service = app.service.clone();
    let admin = authed.operator.role == Role::Admin;
    let me = authed.operator.name;
    body.fits(&action)?;
    let text = body.text.unwrap_or_default();
    blocking(move || {
        let now = Utc::now();
        let ticket = match action.as_str() {
            "claim" => service.claim(id, &me, now)?,
            "reply" => service.reply(id, &me, &text, now)?,
            // `operator`: the holder the admin saw (the console sends it).
            "release" => service.release_as(id, &me, admin, body.operator.as_deref(), now)?,
            "close" => match body.faq.as_deref().filter(|f| !f.is_empty()) {
                Some(faq) => service.close_answered_by(id, &me, faq, now)?,
                None => service.close(id, &me, now)?,
            },
            "transfer" => {
                let to = match (body.department, body.operator) {
                    (Some(d), None) => Transfer::Department(d),
                    (None, Some(o)) => Transfer::Operator(o),
                    (Some(_), Some(_)) => {
                        return Err(ApiError::bad_request(
                            "a transfer goes to a department or to a colleague, not both: send only one of `department` and `operator`",
                        ));
                    }
                    (None, None) => {
                        return Err(ApiError::bad_request(
                            "say where to: {\"department\": NAME} or {\"operator\": NAME}",
                        ));
                    }
                };
                service.transfer(id, &me, &to, now)?
            }
            "notes" => {
                let note = service.note(id, &me, &text, now)?;
                return Ok(Json(json!({"note": note})));
            }
            other => {
                return Err(ApiError::new(
                    StatusCode::NOT_FOUND,
                    format!("no action `{other}`: claim, reply, notes, transfer, release or close"),
                ));
            }
        };
        let listed = listed(&service, &ticket, now)?;
        Ok(Json(json!({"ticket": listed})))
    })
    .await
}

/// Live pokes for consoles: every change, with its customer and ticket.
pub async fn events(
    State(app): State<Arc<App>>,
    ClientIp(client): ClientIp,
    authed: Authed,
) -> Result<impl IntoResponse, ApiError> {
    let credential = authed.credential();
    let me = authed.operator.name;
    let slot = app.stream_slot(client)?;
    let service = app.service.clone();
    // Asked again before each thing it sends: an account removed, a token revoked or a
    // session ended by a password reset hears nothing more.
    Ok(feed::stream(&app, slot, move |change| {
        let mut data = json!({"customer": change.customer, "ticket": change.ticket.map(|t| t.0)});
        if change.from_customer {
            data["from_customer"] = json!(true);
        }
        match &change.typing {
            None => {}
            Some(crate::service::Typist::Customer) => data["typing"] = json!("customer"),
            // Colleagues see each other type; nobody is shown their own typing.
            Some(crate::service::Typist::Operator(name)) if *name == me => {
                return feed::Keep::Skip;
            }
            Some(crate::service::Typist::Operator(name)) => data["typing"] = json!(name),
        }
        if !credential.still_valid(service.store()) {
            return feed::Keep::End;
        }
        feed::Keep::Send(data)
    }))
}

/// `POST /tickets/{id}/typing`: the operator is typing a reply; the customer's web chat
/// shows it.
pub async fn typing(
    State(app): State<Arc<App>>,
    authed: Authed,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id)?;
    let service = app.service.clone();
    blocking(move || {
        let ticket = service.ticket(id)?;
        let who = crate::service::Typist::Operator(authed.operator.name);
        service.typing(&ticket.customer, Some(id), who);
        Ok(StatusCode::NO_CONTENT)
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::CustomerId;

    #[test]
    fn a_ticket_whose_estimates_broke_three_times_is_escalated() {
        let mut t = Ticket {
            id: TicketId(7),
            customer: CustomerId::parse("web:x").unwrap(),
            summary: String::new(),
            broken_promises: 2,
            ..Ticket::sample()
        };
        let config = crate::config::Config::default();
        let now = DateTime::UNIX_EPOCH;
        assert_eq!(ticket_json(&t, None, &config, now)["escalated"], false);
        t.broken_promises = crate::domain::MAX_BROKEN_PROMISES;
        assert_eq!(ticket_json(&t, None, &config, now)["escalated"], true);
    }
}
