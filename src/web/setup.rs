//! Accounts over the API: the first-run setup (the one-time token `serve` prints
//! creates the first admin) and admins adding operators (the rest of running accounts
//! is in `admin.rs`).

use super::auth::start_session;
use super::server::ClientIp;
use super::{ApiError, ApiJson, App};
use crate::accounts::{AccountError, Operator, Role};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Instant;

pub async fn setup_needed(State(app): State<Arc<App>>) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({"needed": !app.service.store().has_admin()?})))
}

#[derive(Deserialize)]
pub struct Setup {
    token: String,
    name: String,
    password: String,
    departments: Vec<String>,
}

/// Create the first account (an admin) with the token `serve` printed, and log in.
pub async fn setup(
    State(app): State<Arc<App>>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Setup>,
) -> Result<Response, ApiError> {
    // Used already: the account it made is the way in (not an attempt: GET /setup
    // tells anyone as much).
    if app.service.store().has_admin()? {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "the shop is set up already: log in at /console (an admin adds the other accounts)",
        )
        .with_code("setup_done"));
    }
    let address = format!("setup:{client}");
    let keys = [(address.as_str(), super::limits::MAX_FAILURES)];
    if let Err(wait) = app.logins.attempt(&keys, Instant::now()) {
        return Err(ApiError::too_many(
            wait,
            "too many attempts: try again later",
        ));
    }
    // Taken, not read: two calls with the link cannot both create an admin.
    let token = body.token.trim().to_owned();
    if !app.take_setup_token(&token)? {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "the setup link is not valid: use the one `sportello serve` printed, or create the account with `sportello operator add`",
        )
        .with_code("setup_invalid"));
    }
    app.logins.succeeded(&keys);
    let (name, password, departments) = (body.name, body.password, body.departments);
    match create_operator(&app, name, password, departments, Role::Admin).await {
        Ok(op) => start_session(&app, &op, &headers).await,
        Err(e) => {
            // A bad name or password: the link stays valid for another try.
            app.put_back_setup_token(&token);
            Err(e)
        }
    }
}

/// Check and store a new account (hashing on the hashing threads).
pub async fn create_operator(
    app: &App,
    name: String,
    password: String,
    departments: Vec<String>,
    role: Role,
) -> Result<Operator, ApiError> {
    let known: Vec<String> = app.service.config().departments.keys().cloned().collect();
    let store = app.service.store().clone();
    app.hashing
        .run(move || {
            let op = Operator::new(&name, &password, role, &departments, &known, Utc::now())
                .map_err(account_error)?;
            if !store.add_operator(&op)? {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    format!("operator `{}` already exists", op.name),
                ));
            }
            Ok(op)
        })
        .await
}

/// A refused account, with the code the console translates.
pub(super) fn account_error(e: AccountError) -> ApiError {
    // The terminal's hints name command line flags; the API says it in its own words.
    let message = match &e {
        AccountError::NoDepartment => {
            "an operator needs at least one department: \"departments\": [\"NAME\", ...]".into()
        }
        AccountError::Unknown(name) => format!("no operator `{name}`"),
        _ => e.to_string().replace("\n  hint:", "; hint:"),
    };
    let error = ApiError::bad_request(message);
    match e {
        AccountError::ShortPassword => error
            .with_code("password_short")
            .with_param("min", crate::accounts::MIN_PASSWORD),
        AccountError::Name(_) => error.with_code("name_invalid"),
        _ => error,
    }
}
