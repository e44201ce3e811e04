//! A fake WhatsApp Cloud API (Graph API) on 127.0.0.1: the phone-number check and
//! `POST /{version}/{phone-number-id}/messages` with the real request and answer
//! shapes (Bearer token, `{"messages": [{"id": "wamid..."}]}`, Graph errors as
//! `{"error": {"message", "type", "code", "fbtrace_id"}}`), recording what the bot
//! sends and meeting it with scripted faults. Also builds Meta's webhooks, signed, and
//! runs `sportello serve` with the channel's environment.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const TOKEN: &str = "EAAG-test-token";
pub const PHONE_NUMBER_ID: &str = "106540352242922";
pub const APP_SECRET: &str = "test-app-secret";
pub const VERIFY_TOKEN: &str = "verify-me-please";

/// What the next `messages` calls meet, in order.
#[derive(Debug, Clone)]
pub enum Fault {
    /// HTTP 429 with `Retry-After: 1`.
    TooManyRequests,
    /// A Graph error: HTTP 400 with this code (130429 throughput, 131047 outside the
    /// window, 131026 undeliverable...).
    Code(i64),
    ServerError,
}

#[derive(Default)]
pub struct Inner {
    /// Every message the bot sent, as its JSON body, in order.
    pub sent: Vec<Value>,
    pub faults: VecDeque<Fault>,
    /// Answer every call as if the token were revoked (401, code 190).
    pub revoked: bool,
    /// How long each send takes to be answered (a slow provider).
    pub delay: Duration,
    next_id: u64,
}

pub struct FakeGraph {
    /// What `SPORTELLO_WHATSAPP_API_URL` is set to.
    pub api_url: String,
    state: Arc<Mutex<Inner>>,
}

impl FakeGraph {
    /// Start on its own thread and runtime, so that plain tests can drive it.
    pub fn start() -> FakeGraph {
        let state: Arc<Mutex<Inner>> = Arc::default();
        let router = Router::new()
            .route("/v23.0/{number}", get(number))
            .route("/v23.0/{number}/messages", post(message))
            .with_state(state.clone());
        let api_url = format!("http://{}/v23.0", super::serve_in_background(router));
        FakeGraph { api_url, state }
    }

    pub fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        f(&mut self.state.lock().unwrap())
    }

    /// What was sent to `wa_id`, in order.
    pub fn sent_to(&self, wa_id: &str) -> Vec<Value> {
        self.with(|s| {
            s.sent
                .iter()
                .filter(|m| m["to"] == wa_id)
                .cloned()
                .collect()
        })
    }

    /// Wait (at most 30 s) until `wa_id` got `n` messages; returns them.
    pub fn wait_sent(&self, wa_id: &str, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let sent = self.sent_to(wa_id);
            if sent.len() >= n || Instant::now() > deadline {
                assert!(
                    sent.len() >= n,
                    "{wa_id} got {} of {n}: {sent:#?}",
                    sent.len()
                );
                return sent;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Wait (at most 60 s) until `done` holds.
    pub fn wait_for(&self, done: impl Fn(&Inner) -> bool) -> bool {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if self.with(|s| done(s)) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }
}

fn authorised(headers: &HeaderMap, state: &Inner) -> Result<(), Box<Response>> {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if bearer == Some(TOKEN) && !state.revoked {
        return Ok(());
    }
    let body = graph_error(
        190,
        "Error validating access token: The session has been invalidated.",
    );
    Err(Box::new(
        (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response(),
    ))
}

fn graph_error(code: i64, message: &str) -> Value {
    json!({"error": {"message": message, "type": "OAuthException", "code": code,
                     "error_data": {"messaging_product": "whatsapp", "details": message},
                     "fbtrace_id": "AbCdEfGh"}})
}

async fn number(
    State(state): State<Arc<Mutex<Inner>>>,
    Path(number): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = authorised(&headers, &state.lock().unwrap()) {
        return *refused;
    }
    if number != PHONE_NUMBER_ID {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(graph_error(100, "Invalid parameter")),
        )
            .into_response();
    }
    axum::Json(
        json!({"verified_name": "Passo & Filo", "code_verification_status": "VERIFIED",
                      "display_phone_number": "+39 02 1234 5678", "quality_rating": "GREEN",
                      "id": PHONE_NUMBER_ID}),
    )
    .into_response()
}

async fn message(
    State(state): State<Arc<Mutex<Inner>>>,
    Path(number): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let (fault, delay) = {
        let mut s = state.lock().unwrap();
        if let Err(refused) = authorised(&headers, &s) {
            return *refused;
        }
        (s.faults.pop_front(), s.delay)
    };
    tokio::time::sleep(delay).await;
    match fault {
        Some(Fault::TooManyRequests) => {
            let error = graph_error(130429, "Rate limit hit");
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", "1")],
                axum::Json(error),
            )
                .into_response();
        }
        Some(Fault::Code(code)) => {
            let error = graph_error(code, "(#{code}) refused by the fake");
            return (StatusCode::BAD_REQUEST, axum::Json(error)).into_response();
        }
        Some(Fault::ServerError) => {
            return (StatusCode::INTERNAL_SERVER_ERROR, "upstream trouble").into_response();
        }
        None => {}
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(graph_error(100, "Invalid JSON")),
        )
            .into_response();
    };
    let valid = number == PHONE_NUMBER_ID
        && body["messaging_product"] == "whatsapp"
        && body["to"].is_string()
        && ["text", "interactive", "template"].contains(&body["type"].as_str().unwrap_or_default());
    if !valid {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(graph_error(100, "Invalid parameter")),
        )
            .into_response();
    }
    let mut s = state.lock().unwrap();
    s.next_id += 1;
    let id = format!("wamid.HBgM{:08}", s.next_id);
    let to = body["to"].clone();
    s.sent.push(body);
    axum::Json(json!({"messaging_product": "whatsapp",
                      "contacts": [{"input": to, "wa_id": to}],
                      "messages": [{"id": id}]}))
    .into_response()
}

/// Meta's webhook around one `value`.
pub fn webhook(value: Value) -> String {
    json!({"object": "whatsapp_business_account",
           "entry": [{"id": "102290129340398",
                      "changes": [{"field": "messages", "value": value}]}]})
    .to_string()
}

/// A text message from `wa_id` (`Giulia` by profile), sent `ago` seconds before now.
pub fn text(wa_id: &str, id: &str, body: &str, ago: i64) -> String {
    let at = chrono::Utc::now().timestamp() - ago;
    webhook(json!({
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "390212345678", "phone_number_id": PHONE_NUMBER_ID},
        "contacts": [{"profile": {"name": "Giulia"}, "wa_id": wa_id}],
        "messages": [{"from": wa_id, "id": id, "timestamp": at.to_string(), "type": "text",
                      "text": {"body": body}}]
    }))
}

/// A message of another type (`interactive`, `image`...) with its object.
pub fn message_of(wa_id: &str, id: &str, kind: &str, object: Value) -> String {
    let mut message = json!({"from": wa_id, "id": id,
                             "timestamp": chrono::Utc::now().timestamp().to_string(),
                             "type": kind});
    message[kind] = object;
    webhook(json!({
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "390212345678", "phone_number_id": PHONE_NUMBER_ID},
        "contacts": [{"profile": {"name": "Giulia"}, "wa_id": wa_id}],
        "messages": [message]
    }))
}

/// POST a webhook to serve at `addr`, signed with `secret` (None: unsigned); the HTTP
/// status, or None if the connection broke (serve was killed).
pub fn deliver(addr: &str, body: &str, secret: Option<&str>) -> Option<u16> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .ok()?;
    let signature = secret
        .map(|s| {
            let header = sportello::channels::whatsapp::inbound::signature(s, body.as_bytes());
            format!("X-Hub-Signature-256: {header}\r\n")
        })
        .unwrap_or_default();
    let head = format!(
        "POST /whatsapp HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n{signature}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).ok()?;
    stream.write_all(body.as_bytes()).ok()?;
    let mut raw = String::new();
    stream.read_to_string(&mut raw).ok()?;
    raw.split(' ').nth(1)?.parse().ok()
}

/// `sportello serve` on `data` (a directory or a database URL) with the channel pointed
/// at `fake`, on `http` ("127.0.0.1:0" for any port), with `config` as its config file
/// `files.toml`; its stderr goes to `files.log` (read when a test fails).
pub fn spawn_serve_on(
    fake: &FakeGraph,
    data: &std::path::Path,
    files: &std::path::Path,
    http: &str,
    config: &str,
) -> Child {
    let file = files.with_extension("toml");
    std::fs::write(&file, config).unwrap();
    let log = std::fs::File::create(files.with_extension("log")).unwrap();
    let bin = std::env::var("SPORTELLO_BIN").unwrap_or(env!("CARGO_BIN_EXE_sportello").into());
    Command::new(bin)
        .current_dir(crate::support::repo())
        .arg("--data")
        .arg(data)
        .arg("--config")
        .arg(&file)
        .arg("serve")
        .env("SPORTELLO_HTTP_ADDR", http)
        .env_remove("SPORTELLO_TELEGRAM_TOKEN")
        .env("SPORTELLO_WHATSAPP_TOKEN", TOKEN)
        .env("SPORTELLO_WHATSAPP_PHONE_NUMBER_ID", PHONE_NUMBER_ID)
        .env("SPORTELLO_WHATSAPP_APP_SECRET", APP_SECRET)
        .env("SPORTELLO_WHATSAPP_VERIFY_TOKEN", VERIFY_TOKEN)
        .env("SPORTELLO_WHATSAPP_API_URL", &fake.api_url)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap()
}

/// Wait until serve answers `/healthz` at `addr` (any status); panics with its log if
/// it exits.
pub fn wait_up(child: &mut Child, addr: &str, data: &std::path::Path) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let log = std::fs::read_to_string(data.with_extension("log")).unwrap_or_default();
            panic!("serve exited ({status}): {log}");
        }
        if std::net::TcpStream::connect(addr).is_ok() {
            return;
        }
        assert!(Instant::now() < deadline, "serve did not listen on {addr}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub fn free_addr() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}
