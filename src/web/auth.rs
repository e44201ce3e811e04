//! Who is calling: operators log in with a name and password (argon2id) and get an
//! HttpOnly, SameSite=Strict session cookie plus a CSRF token that every state-changing
//! request must echo in `X-CSRF-Token`; scripts use `Authorization: Bearer TOKEN`.
//! Login attempts are counted before the password check (see [`super::limits`]): too
//! many for one name from one address lock that pair out for a while. While no account exists,
//! the one-time setup token printed by `serve` creates the first (admin) account.

use super::server::ClientIp;
use super::{ApiError, ApiJson, App, blocking, limits};
use crate::accounts::{self, Operator, Role, Session};
use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Instant;

pub const COOKIE: &str = "sportello_session";
const SESSION_HOURS: i64 = 12;

/// An operator, authenticated (and, for a cookie and a state-changing request,
/// CSRF-checked).
pub struct Authed {
    pub operator: Operator,
    /// The session's CSRF token; none for API tokens.
    pub csrf: Option<String>,
    /// What proved it, to ask again later (a live stream outlives its request).
    credential: Credential,
}

/// The session or API token a request came with (its digest) and the account it
/// belongs to.
#[derive(Clone)]
pub struct Credential {
    digest: String,
    token: bool,
    operator: String,
    account: String,
}

impl Credential {
    /// Whether it still opens the account: not revoked, not expired, the account not
    /// removed (a name reused later is another account) nor its password reset.
    pub fn still_valid(&self, store: &crate::store::Store) -> bool {
        let now = Utc::now();
        let alive = if self.token {
            store
                .api_token(&self.digest)
                .map(|t| t.is_some_and(|t| t.valid(now)))
        } else {
            store.session(&self.digest, now).map(|s| s.is_some())
        };
        let owner = store
            .operator(&self.operator)
            .map(|op| op.is_some_and(|op| op.owns(&self.account)));
        // A store that cannot answer now says nothing against it.
        alive.unwrap_or(true) && owner.unwrap_or(true)
    }
}

impl FromRequestParts<Arc<App>> for Authed {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, ApiError> {
        let store = app.service.store();
        let (name, account, csrf, digest) = if let Some(token) = bearer(&parts.headers) {
            let digest = accounts::digest(token);
            let now = Utc::now();
            let token = store
                .api_token(&digest)?
                .filter(|t| t.valid(now))
                .ok_or_else(ApiError::token_refused)?;
            store.touch_api_token(&digest, &token, now)?;
            (token.operator, token.account, None, digest)
        } else {
            let secret = cookie(&parts.headers, COOKIE).ok_or_else(ApiError::unauthorized)?;
            let digest = accounts::digest(secret);
            let session = store
                .session(&digest, Utc::now())?
                .ok_or_else(ApiError::unauthorized)?;
            let changes = !matches!(parts.method, Method::GET | Method::HEAD);
            let echoed = parts
                .headers
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok());
            if changes && !echoed.is_some_and(|e| accounts::same_secret(e, &session.csrf)) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "missing or wrong X-CSRF-Token header; reload the console",
                )
                .with_code("csrf"));
            }
            (
                session.operator,
                session.account,
                Some(session.csrf),
                digest,
            )
        };
        let refused = if csrf.is_none() {
            ApiError::token_refused
        } else {
            ApiError::unauthorized
        };
        let operator = store
            .operator(&name)?
            .filter(|op| op.owns(&account))
            .ok_or_else(refused)?;
        let credential = Credential {
            token: csrf.is_none(),
            digest,
            operator: name,
            account,
        };
        Ok(Authed {
            operator,
            csrf,
            credential,
        })
    }
}

impl Authed {
    pub fn credential(&self) -> Credential {
        self.credential.clone()
    }

    pub fn me(&self) -> Value {
        me_json(&self.operator, self.csrf.as_deref().unwrap_or_default())
    }

    pub fn require_admin(&self) -> Result<(), ApiError> {
        match self.operator.role {
            Role::Admin => Ok(()),
            Role::Operator => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "only an admin can do this",
            )),
        }
    }
}

fn me_json(op: &Operator, csrf: &str) -> Value {
    json!({"name": op.name, "role": op.role, "departments": op.departments, "csrf": csrf})
}

/// The credentials of `Authorization: Bearer ...` (the scheme in any case, RFC 9110).
pub(super) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let (scheme, credentials) = headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| credentials.trim())
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

#[derive(Deserialize)]
pub struct Login {
    name: String,
    password: String,
}

pub async fn login(
    State(app): State<Arc<App>>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Login>,
) -> Result<Response, ApiError> {
    let address = format!("ip:{client}");
    let Ok(name) = accounts::valid_name(&body.name) else {
        // Not a name anyone can have: counted against the address only.
        let _ = app
            .logins
            .attempt(&[(&address, limits::MAX_ADDRESS_FAILURES)], Instant::now());
        return Err(wrong_login());
    };
    let (pair, by_name) = (pair_key(&name, client), format!("name:{name}"));
    let keys = [
        (pair.as_str(), limits::MAX_FAILURES),
        (address.as_str(), limits::MAX_ADDRESS_FAILURES),
        (by_name.as_str(), u32::MAX),
    ];
    let before = app
        .logins
        .attempt(&keys, Instant::now())
        .map_err(login_locked)?;
    // Many failures for this name from anywhere: slow its attempts down (a lock would let
    // anyone lock an operator out).
    tokio::time::sleep(limits::slowdown(before[2])).await;
    let store = app.service.store().clone();
    let found = app
        .hashing
        .run(move || {
            let op = store.operator(&name)?;
            Ok(match op {
                Some(op) if op.verify(&body.password) => Some(op),
                Some(_) => None,
                None => {
                    accounts::verify_nothing(&body.password);
                    None
                }
            })
        })
        .await?;
    let Some(op) = found else {
        return Err(wrong_login());
    };
    app.logins.succeeded(&keys);
    app.logins.clear(&pair);
    start_session(&app, &op, &headers).await
}

/// The limit key of `name`'s failed logins (and password checks) from `client`.
pub(super) fn pair_key(name: &str, client: std::net::IpAddr) -> String {
    format!("pair:{name}@{client}")
}

/// Too many failed logins (or password checks) from here: wait `wait` seconds.
pub(super) fn login_locked(wait: u64) -> ApiError {
    ApiError::too_many(
        wait,
        match wait.div_ceil(60) {
            0 | 1 => "too many failed logins: try again in 1 minute".to_owned(),
            n => format!("too many failed logins: try again in {n} minutes"),
        },
    )
    .with_code("login_locked")
}

fn wrong_login() -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "wrong name or password").with_code("login_failed")
}

/// A new session for `op`: the cookie and the `Me` body.
pub async fn start_session(
    app: &App,
    op: &Operator,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let secret = accounts::new_secret();
    let session = Session {
        operator: op.name.clone(),
        account: op.account.clone(),
        csrf: accounts::new_secret(),
        expires_at: Utc::now() + chrono::Duration::hours(SESSION_HOURS),
    };
    let store = app.service.store().clone();
    let (digest, stored) = (accounts::digest(&secret), session.clone());
    blocking(move || {
        store.sweep_sessions(Utc::now())?;
        Ok(store.put_session(&digest, &stored)?)
    })
    .await?;
    let cookie = session_cookie(&secret, SESSION_HOURS * 3600, headers);
    Ok((
        [(header::SET_COOKIE, cookie)],
        Json(me_json(op, &session.csrf)),
    )
        .into_response())
}

/// `Secure` when the page was reached over HTTPS (directly or through a proxy that
/// says so), so that a local http:// run still works.
fn session_cookie(value: &str, max_age: i64, headers: &HeaderMap) -> HeaderValue {
    let https = ["origin", "x-forwarded-proto"].iter().any(|h| {
        headers
            .get(*h)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("https"))
    });
    let secure = if https { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{secure}"
    ))
    .expect("hex and fixed text make a valid header")
}

pub async fn logout(
    State(app): State<Arc<App>>,
    authed: Authed,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if authed.csrf.is_some()
        && let Some(secret) = cookie(&headers, COOKIE)
    {
        let (store, digest) = (app.service.store().clone(), accounts::digest(secret));
        blocking(move || Ok(store.end_session(&digest)?)).await?;
    }
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, session_cookie("", 0, &headers))],
    )
        .into_response())
}

pub async fn me(authed: Authed) -> Json<Value> {
    Json(authed.me())
}
