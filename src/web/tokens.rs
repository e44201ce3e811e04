//! API tokens for scripts: everyone lists their own, issues one (its secret shown
//! once) and revokes one at once; admins list and revoke anyone's.

use super::auth::Authed;
use super::{ApiError, App, OptionalJson, blocking};
use crate::accounts::ApiToken;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;

/// `GET /api/v1/tokens`: the caller's own tokens, never their secrets.
pub async fn tokens(State(app): State<Arc<App>>, authed: Authed) -> Result<Json<Value>, ApiError> {
    let store = app.service.store().clone();
    let account = authed.operator.account.clone();
    blocking(move || listed(&store, &account)).await
}

/// `GET /api/v1/operators/{name}/tokens`: an account's tokens, never their secrets, for
/// an admin (anyone, for their own): what to revoke when a password is reset because
/// the account was taken over (a password reset ends sessions, not tokens).
pub async fn tokens_of(
    State(app): State<Arc<App>>,
    authed: Authed,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    mine_or_admin(&authed, &name)?;
    let store = app.service.store().clone();
    blocking(move || listed(&store, &super::admin::existing(&store, &name)?.account)).await
}

fn mine_or_admin(authed: &Authed, name: &str) -> Result<(), ApiError> {
    if authed.operator.name == name {
        Ok(())
    } else {
        authed.require_admin()
    }
}

fn listed(store: &crate::store::Store, account: &str) -> Result<Json<Value>, ApiError> {
    let tokens: Vec<Value> = store
        .api_tokens_of(account)?
        .into_iter()
        .map(|(id, t)| {
            json!({"id": id, "label": t.label, "created_at": t.created_at,
                   "last_used_at": t.last_used_at, "expires_at": t.expires_at})
        })
        .collect();
    Ok(Json(json!({"tokens": tokens})))
}

/// The longest lifetime a token can be given (ten years), in days.
const MAX_TOKEN_DAYS: u32 = 3650;
/// The longest label a token keeps, in characters.
const MAX_TOKEN_LABEL: usize = 100;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    #[serde(default)]
    label: String,
    /// Refused after this many days; none: until revoked.
    expires_in_days: Option<u32>,
}

/// `POST /api/v1/tokens`: a new token for the caller, its secret shown once.
pub async fn new_token(
    State(app): State<Arc<App>>,
    authed: Authed,
    OptionalJson(body): OptionalJson<NewToken>,
) -> Result<Json<Value>, ApiError> {
    let now = Utc::now();
    if let Some(days) = body
        .expires_in_days
        .filter(|d| !(1..=MAX_TOKEN_DAYS).contains(d))
    {
        return Err(ApiError::bad_request(format!(
            "expires_in_days is {days}: give 1 to {MAX_TOKEN_DAYS}, or leave it out for a \
             token that lasts until revoked"
        )));
    }
    let label_chars = body.label.chars().count();
    if label_chars > MAX_TOKEN_LABEL {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the label has {label_chars} characters; at most {MAX_TOKEN_LABEL}"),
        )
        .with_param("max", MAX_TOKEN_LABEL));
    }
    let record = ApiToken {
        expires_at: body
            .expires_in_days
            .map(|d| now + chrono::Duration::days(i64::from(d))),
        ..ApiToken::new(&authed.operator, &body.label, now)
    };
    let store = app.service.store().clone();
    let token = blocking(move || Ok(store.issue_api_token(&record)?)).await?;
    let id = crate::accounts::token_id(&crate::accounts::digest(&token)).to_owned();
    Ok(Json(json!({"id": id, "token": token})))
}

/// `DELETE /api/v1/tokens/{id}`: one of the caller's tokens, refused from now on.
pub async fn revoke_token(
    State(app): State<Arc<App>>,
    authed: Authed,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let store = app.service.store().clone();
    let account = authed.operator.account.clone();
    blocking(move || revoked(&store, &account, &id, "you have")).await
}

/// `DELETE /api/v1/operators/{name}/tokens/{id}`: one of an account's tokens, by an
/// admin (anyone, for their own), refused from now on.
pub async fn revoke_token_of(
    State(app): State<Arc<App>>,
    authed: Authed,
    Path((name, id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    mine_or_admin(&authed, &name)?;
    let store = app.service.store().clone();
    blocking(move || {
        let account = super::admin::existing(&store, &name)?.account;
        revoked(&store, &account, &id, &format!("`{name}` has"))
    })
    .await
}

fn revoked(
    store: &crate::store::Store,
    account: &str,
    id: &str,
    who_has: &str,
) -> Result<StatusCode, ApiError> {
    if store.revoke_api_token(account, id)? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(
            ApiError::new(StatusCode::NOT_FOUND, format!("{who_has} no token {id}"))
                .with_code("not_found"),
        )
    }
}
