//! The API's one error type: a status and a sentence for the person at the other end
//! (`{"error": "..."}`), while the cause of a server-side failure goes to the log only.

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
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "log in first (or send an API token as Authorization: Bearer TOKEN)",
        )
    }

    pub fn too_many(retry_after: u64, message: impl Into<String>) -> Self {
        Self {
            retry_after: Some(retry_after.max(1)),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, message)
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
        Self::internal(&e)
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        let status = match &e {
            ServiceError::Store(_) => return Self::internal(&e),
            ServiceError::NoTicket(_) => StatusCode::NOT_FOUND,
            ServiceError::AlreadyClaimed { .. }
            | ServiceError::NotYours { .. }
            | ServiceError::NotOpen(..)
            | ServiceError::SameDepartment(..) => StatusCode::CONFLICT,
            ServiceError::EmptyReply
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
        Self::new(status, message)
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
            Err(rejection) => Err(ApiError::new(rejection.status(), rejection.body_text())),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = match self.retry_after {
            Some(s) => json!({"error": self.message, "retry_after": s}),
            None => json!({"error": self.message}),
        };
        let mut response = (self.status, Json(body)).into_response();
        if let Some(s) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        response
    }
}
