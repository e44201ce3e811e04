//! The API's one error type: a status and a sentence for the person at the other end
//! (`{"error": "...", "code": "...", ...}`), while the cause of a server-side failure goes
//! to the log only. `code` is stable (docs/api.md): the pages show their own sentence for
//! it in the page's language, with the other keys (`retry_after`, `ticket`, ...) filled in.

use crate::service::ServiceError;
use crate::store::StoreError;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    /// Seconds, for 429.
    pub retry_after: Option<u64>,
    /// The stable name of what went wrong (default: from the status).
    pub code: &'static str,
    /// Details the pages fill into their own sentence.
    pub params: serde_json::Map<String, serde_json::Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            retry_after: None,
            code: default_code(status),
            params: serde_json::Map::new(),
        }
    }

    pub fn with_code(mut self, code: &'static str) -> Self {
        self.code = code;
        self
    }

    pub fn with_param(mut self, key: &str, value: impl Into<serde_json::Value>) -> Self {
        self.params.insert(key.to_owned(), value.into());
        self
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// An API token that opens nothing (any more).
    pub fn token_refused() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "this API token is not valid (revoked, expired, or its account removed): make a new one (`sportello operator token NAME`, or POST /api/v1/tokens once logged in)",
        )
        .with_code("unauthorized")
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "log in first (or send an API token as Authorization: Bearer TOKEN)",
        )
        .with_code("unauthorized")
    }

    /// "1 second", "5 seconds": how long a limited client waits, in words.
    pub fn seconds(wait: u64) -> String {
        match wait.max(1) {
            1 => "1 second".to_owned(),
            n => format!("{n} seconds"),
        }
    }

    pub fn too_many(retry_after: u64, message: impl Into<String>) -> Self {
        Self {
            retry_after: Some(retry_after.max(1)),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, message).with_code("rate_limited")
        }
    }

    /// A failure on our side: logged in full, shown as a sentence.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!("request failed: {cause}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "something went wrong on the server; try again, and tell the shop if it persists",
        )
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            // Checked by the store under its lock: two instances cannot both pass it.
            StoreError::LastAdmin(_) => Self::new(
                StatusCode::CONFLICT,
                "the last admin must stay an admin: make another admin first",
            )
            .with_code("last_admin"),
            e => Self::internal(&e),
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        let e = match e {
            ServiceError::Store(e) => return e.into(),
            e => e,
        };
        let status = match &e {
            ServiceError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ServiceError::NoTicket(_) => StatusCode::NOT_FOUND,
            ServiceError::AlreadyClaimed { .. }
            | ServiceError::NotYours { .. }
            | ServiceError::NotOpen(..)
            | ServiceError::SameDepartment(..)
            | ServiceError::Forgotten(_) => StatusCode::CONFLICT,
            ServiceError::EmptyReply
            | ServiceError::EmptyNote
            | ServiceError::NoDepartment(..)
            | ServiceError::NoOperator(_)
            | ServiceError::NoFaq(_) => StatusCode::BAD_REQUEST,
            ServiceError::Busy => StatusCode::SERVICE_UNAVAILABLE,
        };
        // The CLI's hints (`sportello queue ...`) are for the terminal; the others help.
        let text = e.to_string();
        let message = match &e {
            ServiceError::NoDepartment(..) => text.replace("\n  hint:", "; hint:"),
            _ => text.lines().next().unwrap_or_default().to_owned(),
        };
        let error = Self::new(status, message);
        match e {
            ServiceError::AlreadyClaimed { ticket, by } => error
                .with_code("already_claimed")
                .with_param("ticket", ticket.0)
                .with_param("operator", by),
            ServiceError::NotYours { ticket, holder, .. } => {
                let error = error.with_code("not_yours").with_param("ticket", ticket.0);
                match holder {
                    Some(holder) => error.with_param("operator", holder),
                    None => error,
                }
            }
            ServiceError::NotOpen(ticket, _) => {
                error.with_code("not_open").with_param("ticket", ticket.0)
            }
            ServiceError::Busy => error.with_code("busy"),
            ServiceError::Forgotten(ticket) => {
                error.with_code("forgotten").with_param("ticket", ticket.0)
            }
            _ => error,
        }
    }
}

/// The code of an error that names nothing more specific.
fn default_code(status: StatusCode) -> &'static str {
    match status {
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::CONFLICT => "conflict",
        StatusCode::PAYLOAD_TOO_LARGE => "too_long",
        StatusCode::TOO_MANY_REQUESTS => "rate_limited",
        StatusCode::SERVICE_UNAVAILABLE => "busy",
        s if s.is_server_error() => "server_error",
        _ => "bad_request",
    }
}

/// `Json<T>` whose rejections (bad JSON, wrong content type, too large) answer in
/// the API's own `{"error"}` shape.
pub struct ApiJson<T>(pub T);

impl<T, S> axum::extract::FromRequest<S> for ApiJson<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(ApiError::new(
                bad_input_status(rejection.status()),
                plainer(&rejection.body_text()),
            )),
        }
    }
}

/// axum's rejection sentences, said as the rest of the API says things (and without
/// the server's own type names: "expected struct Login" is "expected a JSON object").
fn plainer(text: &str) -> String {
    let text = &without_type_names(text);
    for (theirs, ours) in [
        (
            "Failed to deserialize the JSON body into the target type: ",
            "the JSON body does not fit: ",
        ),
        (
            "Failed to parse the request body as JSON: ",
            "the body is not JSON: ",
        ),
        (
            "Failed to deserialize query string: ",
            "a query parameter is wrong: ",
        ),
        (
            "Failed to buffer the request body: ",
            "the body could not be read: ",
        ),
        (
            "Expected request with `Content-Type: application/json`",
            "send the body as JSON (Content-Type: application/json)",
        ),
    ] {
        if let Some(rest) = text.strip_prefix(theirs) {
            return format!("{ours}{rest}");
        }
    }
    text.to_owned()
}

/// serde's "struct Login", "enum Role": the caller knows JSON objects and strings.
fn without_type_names(text: &str) -> String {
    static NAMED: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"\b(struct|enum) [A-Z]\w*").expect("a valid pattern")
    });
    NAMED
        .replace_all(text, |c: &regex::Captures<'_>| match &c[1] {
            "struct" => "a JSON object",
            _ => "a string (one of the documented values)",
        })
        .into_owned()
}

/// JSON that parses but does not fit (a missing field, a wrong type) is a bad request
/// like malformed JSON (docs/api.md), not axum's `422`.
fn bad_input_status(status: StatusCode) -> StatusCode {
    if status == StatusCode::UNPROCESSABLE_ENTITY {
        StatusCode::BAD_REQUEST
    } else {
        status
    }
}

/// A JSON body that may be absent: no body (or only whitespace) is `T::default()`,
/// whatever the content type; anything else must be JSON that fits `T` (`400` with
/// the reason otherwise).
pub struct OptionalJson<T>(pub T);

impl<T, S> axum::extract::FromRequest<S> for OptionalJson<T>
where
    T: serde::de::DeserializeOwned + Default,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|r| ApiError::new(r.status(), r.body_text()))?;
        if bytes.trim_ascii().is_empty() {
            return Ok(OptionalJson(T::default()));
        }
        serde_json::from_slice(&bytes)
            .map(OptionalJson)
            .map_err(|e| {
                let e = without_type_names(&e.to_string());
                ApiError::bad_request(format!("the body is not the JSON expected: {e}"))
            })
    }
}

/// `Query<T>` whose rejections (a parameter of the wrong form) answer `400` in the
/// API's own shape.
pub struct ApiQuery<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for ApiQuery<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(ApiError::bad_request(plainer(&rejection.body_text()))),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = self.params;
        body.insert("error".into(), json!(self.message));
        body.insert("code".into(), json!(self.code));
        if let Some(s) = self.retry_after {
            body.insert("retry_after".into(), json!(s));
        }
        let mut response = (self.status, Json(serde_json::Value::Object(body))).into_response();
        if let Some(s) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejections_name_no_type_of_the_server() {
        assert_eq!(
            plainer(
                "Failed to deserialize the JSON body into the target type: invalid type: null, expected struct Login at line 1 column 4"
            ),
            "the JSON body does not fit: invalid type: null, expected a JSON object at line 1 column 4"
        );
    }

    #[test]
    fn a_wait_is_said_in_good_english() {
        assert_eq!(ApiError::seconds(0), "1 second");
        assert_eq!(ApiError::seconds(1), "1 second");
        assert_eq!(ApiError::seconds(12), "12 seconds");
    }
}
