//! The HTTP side of `sportello serve` (axum): the customers' web chat at `/` (and the
//! embeddable `/widget.js`), the operators' console at `/console`, the JSON API under
//! `/api/v1` (see docs/api.md), live updates as Server-Sent Events, `/healthz`,
//! `/metrics` and the channels' webhooks. Handlers parse and check at the edge, then call
//! `Service` on the blocking pool; what a person sees is separate from what is logged.

mod admin;
mod attachments;
mod auth;
mod chat;
mod console;
mod contact;
mod error;
mod feed;
mod hasher;
mod hooks;
mod limits;
mod metrics;
mod orders;
mod report;
mod search;
mod server;
mod setup;
mod tokens;

pub use error::{ApiError, ApiJson, ApiQuery, OptionalJson};
pub use server::{listen, run as serve_http};

use crate::channels::Channels;
use crate::service::Service;
use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::sync::Arc;
use tokio::sync::watch;

/// The largest API request body (a chat message is at most 2,000 characters).
const MAX_BODY: usize = 64 * 1024;
/// A provider's webhook (a batch of messages and statuses) may be larger.
const WEBHOOK_BODY: usize = 1024 * 1024;

/// Password hashes computed at the same time, at most.
const HASHING_AT_ONCE: usize = 2;
/// Requests allowed to wait for a hashing slot; past them a login is refused at once
/// (503), so that a flood of logins holds neither memory nor threads.
const HASHING_QUEUE: usize = 16;

/// What every handler shares.
pub struct App {
    pub service: Arc<Service>,
    /// The channels running (their webhooks, and their dispatchers' counters).
    pub channels: Channels,
    /// Flips to true when the server stops: live streams end so that it can.
    pub stop: watch::Receiver<bool>,
    logins: limits::Failures,
    /// Web chat rates over ten seconds (messages, new chats, typing).
    chat_limits: limits::Rates,
    /// Rates over a minute (uploads, addresses left): a map of their own (a sweep keeps
    /// only what the caller's window still counts, so two windows must not share one).
    minute_limits: limits::Rates,
    /// Live streams open, per client (behind a proxy, as the proxy names them).
    streams: Arc<server::Open>,
    /// Signs web chat visitor tokens (kept in the store: tokens survive restarts).
    visitor_key: String,
    /// Password hashing is memory-hard (19 MiB each): a few threads of its own.
    hashing: hasher::Hasher,
    /// What a scraper of `/metrics` must send, if anything (`SPORTELLO_METRICS_TOKEN`).
    metrics_token: Option<String>,
}

impl App {
    pub fn new(
        service: Arc<Service>,
        channels: Channels,
        stop: watch::Receiver<bool>,
    ) -> anyhow::Result<Self> {
        let store = service.store().clone();
        Ok(Self {
            visitor_key: store.server_key()?,
            service,
            channels,
            stop,
            logins: limits::Failures::new(&store),
            chat_limits: limits::Rates::new(&store, "chat"),
            minute_limits: limits::Rates::new(&store, "minute"),
            streams: Arc::default(),
            hashing: hasher::Hasher::new(HASHING_AT_ONCE, HASHING_QUEUE),
            metrics_token: None,
        })
    }

    /// `/metrics` only for a scraper that sends `token` (`Authorization: Bearer`).
    pub fn with_metrics_token(self, token: Option<String>) -> Self {
        Self {
            metrics_token: token,
            ..self
        }
    }

    /// Whether `offered` is the setup token (and no admin exists yet); it is then no
    /// longer valid until [`App::put_back_setup_token`]. In the store: every instance
    /// on a shared one takes the same token.
    fn take_setup_token(&self, offered: &str) -> Result<bool, ApiError> {
        let store = self.service.store();
        Ok(!store.has_admin()? && store.take_setup_token(offered)?)
    }

    /// A live stream for `client`, if it holds fewer than `max_connections_per_address`
    /// (a proxy's connections are not capped per address: its clients' streams are).
    fn stream_slot(&self, client: std::net::IpAddr) -> Result<server::Slot, ApiError> {
        let most = self.service.config().web.max_connections_per_address;
        server::Slot::take(&self.streams, client, most, usize::MAX).ok_or_else(|| {
            ApiError::too_many(
                5,
                "too many live pages open from here: close some and reload",
            )
        })
    }

    fn put_back_setup_token(&self, token: &str) {
        if let Err(e) = self.service.store().put_back_setup_token(token) {
            tracing::error!("the setup link could not be kept for another try: {e}");
        }
    }

    /// If no operator account exists, the one-time setup token (made now unless the
    /// store holds one: instances sharing a store print the same), to be printed where
    /// only the person who started the server sees it.
    pub fn setup_token(&self) -> anyhow::Result<Option<String>> {
        let store = self.service.store();
        if store.has_admin()? {
            return Ok(None);
        }
        Ok(Some(store.setup_token(&crate::accounts::new_secret())?))
    }
}

/// Paths the router serves itself (a prefix ending in `/` covers what is under it).
const OWN_PATHS: &[&str] = &[
    "/",
    "/console",
    "/widget.js",
    "/assets/",
    "/healthz",
    "/metrics",
    "/whatsapp",
    "/api/",
];

/// Check a webhook path before anything is registered with the provider: it must be a
/// plain path of its own, not one of the server's routes.
pub fn check_webhook_path(path: &str) -> Result<(), String> {
    let plain = path.starts_with('/')
        && path.len() > 1
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/-_.~".contains(&b))
        && !path.contains("//");
    if !plain {
        return Err(format!(
            "the webhook path `{path}` is not a plain path (letters, digits, `/ - _ . ~`)"
        ));
    }
    let trimmed = path.trim_end_matches('/');
    let clash = OWN_PATHS.iter().find(|own| {
        let own_trimmed = own.trim_end_matches('/');
        trimmed == own_trimmed || (own.ends_with('/') && own.len() > 1 && trimmed.starts_with(*own))
    });
    match clash {
        Some(own) => Err(format!(
            "the webhook path `{path}` clashes with the server's own `{own}`"
        )),
        None => Ok(()),
    }
}

/// All routes, with the webhooks of the channels that run (Telegram's at its own path,
/// in webhook mode; WhatsApp's at `/whatsapp`).
pub fn router(app: Arc<App>) -> Router {
    let webhook = app
        .channels
        .telegram
        .as_ref()
        .and_then(crate::channels::telegram::Telegram::webhook_path);
    let whatsapp = app.channels.whatsapp.is_some();
    let api = Router::new()
        .route("/chat/start", post(chat::start))
        .route("/chat/messages", post(chat::send).get(chat::messages))
        .route("/chat/events", get(chat::events))
        .route("/chat/typing", post(chat::typing))
        .route("/chat/status", get(contact::status))
        .route("/chat/email", post(contact::leave_email))
        .route(
            "/chat/attachments",
            post(attachments::upload).layer(axum::extract::DefaultBodyLimit::max(
                attachments::MAX_ATTACHMENT + 64 * 1024,
            )),
        )
        .route("/attachments/{id}", get(attachments::fetch))
        .route("/setup", get(setup::setup_needed).post(setup::setup))
        .route("/login", post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/me", get(auth::me))
        .route("/tokens", get(tokens::tokens).post(tokens::new_token))
        .route("/tokens/{id}", axum::routing::delete(tokens::revoke_token))
        .route("/content", get(admin::content))
        .route("/faq", get(admin::faq))
        .route("/canned", get(admin::canned).put(admin::put_canned))
        .route("/departments", get(console::departments))
        .route("/hours", get(admin::hours))
        .route(
            "/operators",
            get(console::operators).post(console::add_operator),
        )
        .route(
            "/operators/{name}",
            axum::routing::delete(admin::remove_operator).put(admin::update_operator),
        )
        .route("/operators/{name}/password", post(admin::set_password))
        .route("/operators/{name}/tokens", get(tokens::tokens_of))
        .route(
            "/operators/{name}/tokens/{id}",
            axum::routing::delete(tokens::revoke_token_of),
        )
        .route("/queue", get(console::queue))
        .route("/tickets", get(search::search))
        .route("/tickets/{id}", get(console::ticket))
        .route("/tickets/{id}/typing", post(console::typing))
        .route(
            "/tickets/{id}/{action}",
            post(console::act).get(orders::order_card),
        )
        .route("/events", get(console::events))
        .route("/report", get(report::json))
        .route("/report.html", get(report::page))
        .route("/faq/gaps", get(report::gaps))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "no such API endpoint") })
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY));
    let mut router = Router::new()
        .route("/", get(|| page(CHAT_HTML, true)))
        .route("/console", get(|| page(CONSOLE_HTML, false)))
        .route("/widget.js", get(|| asset(WIDGET_JS, JS)))
        .route("/assets/markdown.js", get(|| asset(MARKDOWN_JS, JS)))
        .route("/assets/chat.js", get(|| asset(CHAT_JS, JS)))
        .route("/assets/chat.css", get(|| asset(CHAT_CSS, CSS)))
        .route("/assets/console.js", get(|| asset(CONSOLE_JS, JS)))
        .route("/assets/console.css", get(|| asset(CONSOLE_CSS, CSS)))
        .route("/healthz", get(hooks::healthz))
        .route("/metrics", get(metrics::render))
        .nest("/api/v1", api);
    if let Some(path) = webhook {
        router = router.route(&path, post(hooks::webhook_update));
    }
    if whatsapp {
        router = router.route(
            "/whatsapp",
            get(hooks::whatsapp_verify)
                .post(hooks::whatsapp_update)
                .layer(axum::extract::DefaultBodyLimit::max(WEBHOOK_BODY)),
        );
    }
    router
        .layer(middleware::from_fn(security_headers))
        .with_state(app)
}

const CHAT_HTML: &str = include_str!("assets/chat.html");
const MARKDOWN_JS: &str = include_str!("assets/markdown.js");
const CHAT_JS: &str = include_str!("assets/chat.js");
const CHAT_CSS: &str = include_str!("assets/chat.css");
const CONSOLE_HTML: &str = include_str!("assets/console.html");
const CONSOLE_JS: &str = include_str!("assets/console.js");
const CONSOLE_CSS: &str = include_str!("assets/console.css");
const WIDGET_JS: &str = include_str!("assets/widget.js");
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// Scripts and styles only from our own files: a message that smuggles markup runs
/// nothing even if a page slipped. The web chat may be framed by the shop's site; the
/// console may not be framed at all.
const CSP: &str = "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:; connect-src 'self'";

async fn page(html: &'static str, frameable: bool) -> Response {
    let frames = if frameable {
        "frame-ancestors *"
    } else {
        "frame-ancestors 'none'"
    };
    let mut response = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response();
    if let Ok(csp) = HeaderValue::from_str(&format!("{CSP}; {frames}")) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    response
}

async fn asset(body: &'static str, content_type: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    response
}

/// Run store and password work on the blocking pool, off the async workers.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(&e))?
}

#[cfg(test)]
mod tests {
    use super::check_webhook_path;

    #[test]
    fn a_webhook_path_may_not_clash_with_a_route() {
        assert!(check_webhook_path("/telegram").is_ok());
        assert!(check_webhook_path("/hooks/tg-8f3a").is_ok());
        for bad in [
            "/",
            "/console",
            "/healthz/",
            "/api/v1/login",
            "/assets/chat.js",
            "/a/{id}",
            "x",
            "/a//b",
        ] {
            assert!(check_webhook_path(bad).is_err(), "{bad}");
        }
    }
}
