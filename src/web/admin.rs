//! Running the shop without the CLI: operators (remove, reset a password, role and
//! departments), departments and hours as configured, the ready replies, and the
//! content's load errors where people look (API tokens: `tokens.rs`).

use super::auth::Authed;
use super::limits;
use super::server::ClientIp;
use super::{ApiError, ApiJson, App, blocking};
use crate::accounts::{Operator, Role, check_departments};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Instant;

/// `DELETE /api/v1/operators/{name}`: admins only; the account's sessions and tokens
/// end with it, and the tickets it held go back to their queues. The last admin stays.
pub async fn remove_operator(
    State(app): State<Arc<App>>,
    authed: Authed,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    authed.require_admin()?;
    let service = app.service.clone();
    blocking(move || {
        let _one_at_a_time = access_changes();
        let store = service.store();
        // Gone already: a removal that stopped half-way puts back what is left.
        if let Some(op) = store.operator(&name)?
            && store.is_last_admin(&op)?
        {
            return Err(last_admin("the last admin cannot be removed"));
        }
        match service.remove_operator(&name, Utc::now())? {
            Some(_) => Ok(StatusCode::NO_CONTENT),
            None => Err(no_operator(&name)),
        }
    })
    .await
}

/// Changes that could take away the last admin (a removal, a demotion) run one at a
/// time, so that two admins removing each other at once cannot both succeed.
fn access_changes() -> std::sync::MutexGuard<'static, ()> {
    static CHANGES: std::sync::Mutex<()> = std::sync::Mutex::new(());
    CHANGES.lock().unwrap_or_else(|e| e.into_inner())
}

pub(super) fn existing(store: &crate::store::Store, name: &str) -> Result<Operator, ApiError> {
    store.operator(name)?.ok_or_else(|| no_operator(name))
}

fn no_operator(name: &str) -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, format!("no operator `{name}`")).with_code("not_found")
}

fn last_admin(what: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        format!("{what}: make another admin first"),
    )
    .with_code("last_admin")
}

#[derive(Deserialize)]
pub struct NewPassword {
    password: String,
    /// One's own password is changed with the current one.
    #[serde(default)]
    current: Option<String>,
}

/// `POST /api/v1/operators/{name}/password`: an admin resets anyone else's; everyone
/// changes their own with the current one (`current`), so that a session left open,
/// or stolen, cannot take the account over (a wrong one counts as a failed login from
/// here). Their browser sessions end (tokens stay).
pub async fn set_password(
    State(app): State<Arc<App>>,
    ClientIp(client): ClientIp,
    authed: Authed,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<NewPassword>,
) -> Result<StatusCode, ApiError> {
    let own = authed.operator.name == name;
    if own {
        check_current(&app, &name, client, body.current.clone()).await?;
    } else {
        authed.require_admin()?;
    }
    let store = app.service.store().clone();
    app.hashing
        .run(move || {
            let op = existing(&store, &name)?;
            let changed = op
                .with_password(&body.password)
                .map_err(super::setup::account_error)?;
            if !store.replace_operator(&op, &changed, true)? {
                return Err(changed_meanwhile(&name));
            }
            Ok(StatusCode::NO_CONTENT)
        })
        .await
}

/// `current` must be `name`'s password: checked like a login from `client` (counted
/// on the login's own lock; only a wrong one stays counted).
async fn check_current(
    app: &App,
    name: &str,
    client: std::net::IpAddr,
    current: Option<String>,
) -> Result<(), ApiError> {
    // Not given at all: said as such, and not counted as a wrong password.
    if current.as_deref().is_none_or(str::is_empty) {
        return Err(ApiError::bad_request(
            "changing your own password needs your current one: send {\"current\": ..., \"password\": ...}",
        )
        .with_code("current_password"));
    }
    let pair = super::auth::pair_key(name, client);
    let keys = [(pair.as_str(), limits::MAX_FAILURES)];
    app.logins
        .attempt(&keys, Instant::now())
        .map_err(super::auth::login_locked)?;
    let (store, name) = (app.service.store().clone(), name.to_owned());
    let checked = app
        .hashing
        .run(move || {
            let op = existing(&store, &name)?;
            Ok(current.as_deref().is_some_and(|c| op.verify(c)))
        })
        .await;
    // Not checked at all (the server too busy, the account gone): no failure either.
    if !matches!(checked, Ok(false)) {
        app.logins.succeeded(&keys);
    }
    match checked? {
        true => {
            app.logins.clear(&pair);
            Ok(())
        }
        false => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "that is not your current password: type it again",
        )
        .with_code("current_password")),
    }
}

fn changed_meanwhile(name: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        format!("operator `{name}` was changed or removed meanwhile: reload and try again"),
    )
    .with_code("changed")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Access {
    role: Option<Role>,
    departments: Option<Vec<String>>,
}

/// `PUT /api/v1/operators/{name}` `{"role", "departments"}` (either or both): admins
/// change an account's role and departments. It takes effect on the account's next
/// request; sessions and tokens stay. The last admin stays an admin.
pub async fn update_operator(
    State(app): State<Arc<App>>,
    authed: Authed,
    Path(name): Path<String>,
    ApiJson(body): ApiJson<Access>,
) -> Result<Json<Value>, ApiError> {
    authed.require_admin()?;
    let known: Vec<String> = app.service.config().departments.keys().cloned().collect();
    if let Some(departments) = &body.departments {
        check_departments(departments, &known).map_err(super::setup::account_error)?;
    }
    let store = app.service.store().clone();
    blocking(move || {
        let _one_at_a_time = access_changes();
        let op = existing(&store, &name)?;
        let mut changed = op.clone();
        if let Some(role) = body.role {
            changed.role = role;
        }
        if let Some(mut departments) = body.departments {
            departments.dedup();
            changed.departments = departments;
        }
        if changed.role != Role::Admin && store.is_last_admin(&op)? {
            return Err(last_admin("the last admin must stay an admin"));
        }
        if !store.replace_operator(&op, &changed, false)? {
            return Err(changed_meanwhile(&name));
        }
        Ok(Json(
            json!({"name": changed.name, "role": changed.role, "departments": changed.departments}),
        ))
    })
    .await
}

/// `GET /api/v1/hours`: each department's opening hours for people (its own or the
/// shop's), whether it is open now and when it opens next, its first-response target,
/// routing keywords and operators, and the closures of the next 31 days. Read-only: the
/// hours live in `sportello.toml`.
pub async fn hours(State(app): State<Arc<App>>, _authed: Authed) -> Result<Json<Value>, ApiError> {
    const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let config = app.service.config();
    let store = app.service.store().clone();
    let ops = blocking(move || Ok(store.operators()?)).await?;
    let now = Utc::now();
    let describe = |hours: &crate::care::Hours| {
        let week = hours.week_text();
        let week: serde_json::Map<String, Value> = DAYS
            .iter()
            .zip(week)
            .map(|(d, spans)| ((*d).to_owned(), json!(spans)))
            .collect();
        let closed: Vec<String> = hours
            .closed_days(now, 31)
            .iter()
            .map(|d| d.to_string())
            .collect();
        json!({
            "timezone": hours.timezone().name(),
            "week": week,
            "open_now": hours.is_open(now),
            "next_opening": hours.next_opening(now),
            "closed_days": closed,
        })
    };
    let departments: Vec<Value> = config
        .departments
        .iter()
        .map(|(name, d)| {
            let operators: Vec<&str> = ops
                .iter()
                .filter(|o| o.departments.contains(name))
                .map(|o| o.name.as_str())
                .collect();
            json!({
                "name": name,
                "label": d.label,
                "default": *name == config.default_department,
                "own_hours": d.hours.is_some(),
                "hours": describe(config.hours_of(name)),
                "sla_first_response_minutes": d.sla_first_response.map(|s| s.num_minutes()),
                "keywords": d.keywords,
                "operators": operators,
            })
        })
        .collect();
    Ok(Json(
        json!({"now": now, "shop": describe(&config.hours), "departments": departments}),
    ))
}

/// `GET /api/v1/content`: what is wrong in the FAQ and intents folders now (the files
/// skipped or kept at their previous version), for the console's banner.
pub async fn content(State(app): State<Arc<App>>, _authed: Authed) -> Json<Value> {
    let errors: Vec<Value> = app
        .service
        .content_problems()
        .iter()
        .filter(|d| d.severity == crate::diagnostics::Severity::Error)
        .map(
            |d| json!({"path": d.path.display().to_string(), "line": d.line, "message": d.message}),
        )
        .collect();
    Json(json!({"errors": errors}))
}

/// `GET /api/v1/canned`: the console's ready replies, `{name}` and `{order}` unfilled.
pub async fn canned(State(app): State<Arc<App>>, _authed: Authed) -> Result<Json<Value>, ApiError> {
    let service = app.service.clone();
    blocking(move || {
        Ok(Json(
            serde_json::to_value(service.canned()?).unwrap_or_default(),
        ))
    })
    .await
}

/// `PUT /api/v1/canned`: admins replace the whole list (kept in the store; the
/// config's list only seeds it).
pub async fn put_canned(
    State(app): State<Arc<App>>,
    authed: Authed,
    ApiJson(list): ApiJson<Vec<crate::config::Canned>>,
) -> Result<Json<Value>, ApiError> {
    authed.require_admin()?;
    for (n, c) in list.iter().enumerate() {
        let title = c.title.trim();
        if title.is_empty() || title.chars().count() > 80 {
            return Err(ApiError::bad_request(format!(
                "reply {}: the title must be 1 to 80 characters",
                n + 1
            )));
        }
        if c.text.trim().is_empty() || c.text.chars().count() > 4000 {
            return Err(ApiError::bad_request(format!(
                "reply {}: the text must be 1 to 4,000 characters",
                n + 1
            )));
        }
    }
    if list.len() > 200 {
        return Err(ApiError::bad_request("at most 200 ready replies"));
    }
    let service = app.service.clone();
    blocking(move || {
        service.store().put_canned(&list)?;
        Ok(Json(serde_json::to_value(&list).unwrap_or_default()))
    })
    .await
}

/// `GET /api/v1/faq`: the entries served now (id, first question, language), for the
/// console's "closed with FAQ" picker.
pub async fn faq(State(app): State<Arc<App>>, _authed: Authed) -> Json<Value> {
    let brain = app.service.brain();
    let entries: Vec<Value> = brain
        .faq
        .entries()
        .iter()
        .map(|e| json!({"id": e.id, "question": e.questions.first(), "lang": e.lang}))
        .collect();
    Json(json!({"entries": entries}))
}
