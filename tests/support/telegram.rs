//! A fake Telegram Bot API on 127.0.0.1 (axum) that speaks the JSON teloxide sends
//! and expects, records what the bot does, and injects faults on `sendMessage`.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

/// A message the bot sent.
#[derive(Debug, Clone)]
pub struct Sent {
    pub chat: i64,
    pub text: String,
    pub parse_mode: Option<String>,
    /// Inline keyboard buttons: (label, callback data).
    pub buttons: Vec<(String, String)>,
    /// The JSON the fake answered with (what a later callback query carries).
    pub json: Value,
}

/// What the next `sendMessage` calls meet, in order.
#[derive(Debug, Clone)]
pub enum Fault {
    RetryAfter(u32),
    ServerError,
    Slow(Duration),
    /// The connection is dropped without an answer.
    Drop,
}

#[derive(Default)]
pub struct Inner {
    updates: Vec<(u32, Value)>,
    next_update: u32,
    next_message: i64,
    /// Highest update id acknowledged (by an offset past it).
    pub confirmed: Option<u32>,
    pub sent: Vec<Sent>,
    pub faults: VecDeque<Fault>,
    /// Every method called, lowercased, in order.
    pub calls: Vec<String>,
    pub blocked: HashSet<i64>,
    /// Long polls waiting now, and how many started while another was waiting (what
    /// Telegram answers with 409 "terminated by other getUpdates request").
    active_polls: usize,
    pub overlapping_polls: usize,
    poll_generation: u64,
}

pub struct FakeTelegram {
    pub url: String,
    state: Arc<(Mutex<Inner>, Notify)>,
}

pub const TOKEN: &str = "123456:TEST-token";

impl FakeTelegram {
    pub async fn start() -> FakeTelegram {
        let state: Arc<(Mutex<Inner>, Notify)> = Arc::default();
        state.0.lock().unwrap().next_update = 1000;
        let router = Router::new()
            .route("/{token}/{method}", post(call))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        FakeTelegram { url, state }
    }

    pub fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        f(&mut self.state.0.lock().unwrap())
    }

    fn push(&self, make: impl FnOnce(u32, i64) -> Value) -> u32 {
        let id = self.with(|s| {
            s.next_update += 1;
            s.next_message += 1;
            let (id, m) = (s.next_update, s.next_message);
            s.updates.push((id, make(id, m)));
            id
        });
        self.state.1.notify_waiters();
        id
    }

    /// A private text message from `chat`; returns the update id.
    pub fn text(&self, chat: i64, text: &str) -> u32 {
        self.push(|id, m| {
            json!({"update_id": id, "message": {
                "message_id": m, "date": now(), "chat": private(chat),
                "from": user(chat), "text": text}})
        })
    }

    pub fn photo(&self, chat: i64, caption: &str) -> u32 {
        self.push(|id, m| {
            json!({"update_id": id, "message": {
                "message_id": m, "date": now(), "chat": private(chat), "from": user(chat),
                "caption": caption,
                "photo": [{"file_id": "AgADphoto", "file_unique_id": "u1", "width": 90, "height": 90}]}})
        })
    }

    pub fn group_text(&self, chat: i64, from: i64, text: &str) -> u32 {
        self.push(|id, m| {
            json!({"update_id": id, "message": {
                "message_id": m, "date": now(),
                "chat": {"id": chat, "type": "group", "title": "Clienti"},
                "from": user(from), "text": text}})
        })
    }

    /// The customer presses the `n`-th button (1-based) of a message the bot sent.
    pub fn press(&self, sent: &Sent, n: usize) -> u32 {
        self.press_with(sent, &sent.buttons[n - 1].1)
    }

    /// A button press with any callback data (clients can forge it).
    pub fn press_with(&self, sent: &Sent, data: &str) -> u32 {
        let data = data.to_owned();
        let chat = sent.chat;
        let message = sent.json.clone();
        self.push(|id, _| {
            json!({"update_id": id, "callback_query": {
                "id": format!("cq{id}"), "from": user(chat), "message": message,
                "chat_instance": "ci", "data": data}})
        })
    }

    pub fn sent_to(&self, chat: i64) -> Vec<Sent> {
        self.with(|s| s.sent.iter().filter(|m| m.chat == chat).cloned().collect())
    }

    /// Wait (at most 60 s: teloxide pauses 10 s after each 5xx) until `ready` holds;
    /// false if it never did.
    pub async fn wait_for(&self, mut ready: impl FnMut(&Inner) -> bool) -> bool {
        for _ in 0..3000 {
            if self.with(|s| ready(s)) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        false
    }

    /// Wait until `chat` has received at least `n` messages; returns them.
    pub async fn wait_sent(&self, chat: i64, n: usize) -> Vec<Sent> {
        let ok = self
            .wait_for(|s| s.sent.iter().filter(|m| m.chat == chat).count() >= n)
            .await;
        let sent = self.sent_to(chat);
        assert!(
            ok,
            "chat {chat} got {} of {n} messages: {sent:?}",
            sent.len()
        );
        sent
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn private(chat: i64) -> Value {
    json!({"id": chat, "type": "private", "first_name": "Giulia"})
}

fn user(id: i64) -> Value {
    json!({"id": id, "is_bot": false, "first_name": "Giulia", "language_code": "it"})
}

fn ok(result: Value) -> Response {
    axum::Json(json!({"ok": true, "result": result})).into_response()
}

fn error(status: StatusCode, description: &str, extra: Value) -> Response {
    let mut body = json!({"ok": false, "error_code": status.as_u16(), "description": description});
    if let Value::Object(extra) = extra {
        body.as_object_mut().unwrap().extend(extra);
    }
    (status, axum::Json(body)).into_response()
}

async fn call(
    State(state): State<Arc<(Mutex<Inner>, Notify)>>,
    Path((_token, method)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let method = method.to_lowercase();
    let body: Value = serde_json::from_slice(&body).unwrap_or(json!({}));
    state.0.lock().unwrap().calls.push(method.clone());
    match method.as_str() {
        "getme" => ok(json!({
            "id": 42, "is_bot": true, "first_name": "Sportello", "username": "sportello_test_bot",
            "can_join_groups": true, "can_read_all_group_messages": false,
            "supports_inline_queries": false, "has_main_web_app": false})),
        "getupdates" => get_updates(&state, &body).await,
        "sendmessage" => send_message(&state, &body).await,
        "editmessagereplymarkup" => ok(json!(true)),
        _ => ok(json!(true)),
    }
}

/// A long poll in progress (counted down however its request ends).
struct Polling<'a>(&'a Mutex<Inner>);

impl Drop for Polling<'_> {
    fn drop(&mut self) {
        self.0.lock().unwrap().active_polls -= 1;
    }
}

async fn get_updates(state: &(Mutex<Inner>, Notify), body: &Value) -> Response {
    let offset = body["offset"].as_i64().unwrap_or(0);
    let timeout = body["timeout"].as_u64().unwrap_or(0).min(5);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
    // As Telegram: a new poll ends the one waiting, which gets 409.
    let mine = {
        let mut s = state.0.lock().unwrap();
        if s.active_polls > 0 {
            s.overlapping_polls += 1;
        }
        s.active_polls += 1;
        s.poll_generation += 1;
        s.poll_generation
    };
    let _polling = Polling(&state.0);
    state.1.notify_waiters();
    loop {
        let notified = state.1.notified();
        if state.0.lock().unwrap().poll_generation != mine {
            return error(
                StatusCode::CONFLICT,
                "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                json!({}),
            );
        }
        let batch: Vec<Value> = {
            let mut s = state.0.lock().unwrap();
            if offset > 0 {
                s.updates.retain(|(id, _)| i64::from(*id) >= offset);
                let acked = (offset - 1) as u32;
                s.confirmed = Some(s.confirmed.map_or(acked, |c| c.max(acked)));
            }
            s.updates.iter().take(100).map(|(_, u)| u.clone()).collect()
        };
        if !batch.is_empty() || tokio::time::Instant::now() >= deadline {
            return ok(Value::Array(batch));
        }
        let _ = tokio::time::timeout_at(deadline, notified).await;
    }
}

async fn send_message(state: &(Mutex<Inner>, Notify), body: &Value) -> Response {
    let fault = state.0.lock().unwrap().faults.pop_front();
    match fault {
        Some(Fault::RetryAfter(secs)) => {
            return error(
                StatusCode::TOO_MANY_REQUESTS,
                &format!("Too Many Requests: retry after {secs}"),
                json!({"parameters": {"retry_after": secs}}),
            );
        }
        Some(Fault::ServerError) => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal Server Error",
                json!({}),
            );
        }
        Some(Fault::Slow(d)) => tokio::time::sleep(d).await,
        Some(Fault::Drop) => std::panic::resume_unwind(Box::new("dropped connection")),
        None => {}
    }
    let chat = body["chat_id"].as_i64().unwrap_or_default();
    let mut s = state.0.lock().unwrap();
    if s.blocked.contains(&chat) {
        return error(
            StatusCode::FORBIDDEN,
            "Forbidden: bot was blocked by the user",
            json!({}),
        );
    }
    s.next_message += 1;
    let text = body["text"].as_str().unwrap_or_default().to_owned();
    let mut message = json!({
        "message_id": s.next_message, "date": now(), "chat": private(chat),
        "from": {"id": 42, "is_bot": true, "first_name": "Sportello"}, "text": text});
    if !body["reply_markup"].is_null() {
        message["reply_markup"] = body["reply_markup"].clone();
    }
    let buttons = body["reply_markup"]["inline_keyboard"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row.as_array().cloned().unwrap_or_default())
        .map(|b| {
            let label = b["text"].as_str().unwrap_or_default().to_owned();
            (
                label,
                b["callback_data"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    s.sent.push(Sent {
        chat,
        text,
        parse_mode: body["parse_mode"].as_str().map(str::to_owned),
        buttons,
        json: message.clone(),
    });
    ok(message)
}

/// `sportello serve` as a child process against the fake Bot API, with the sample
/// content and the web server on a free port.
pub fn spawn_serve(fake: &FakeTelegram, place: &crate::support::Place) -> std::process::Child {
    let repo = crate::support::repo();
    spawn_serve_with(fake, place, &repo.join("faq"), "127.0.0.1:0")
}

/// The same with another FAQ folder and HTTP address.
pub fn spawn_serve_with(
    fake: &FakeTelegram,
    place: &crate::support::Place,
    faq: &std::path::Path,
    http: &str,
) -> std::process::Child {
    let files = place.files().join("serve");
    spawn_serve_on(fake, &place.data(), &files, faq, http)
}

/// The same on `data` (a directory or a database URL), the config beside `files`.
pub fn spawn_serve_on(
    fake: &FakeTelegram,
    data: &std::path::Path,
    files: &std::path::Path,
    faq: &std::path::Path,
    http: &str,
) -> std::process::Child {
    let config = files.with_extension("toml");
    std::fs::write(&config, "[telegram]\npoll_timeout = \"1s\"\n").unwrap();
    // SPORTELLO_BIN: the long crash run uses a release build (README, "Crash harness").
    let bin = std::env::var("SPORTELLO_BIN").unwrap_or(env!("CARGO_BIN_EXE_sportello").into());
    std::process::Command::new(bin)
        .arg("--faq")
        .arg(faq)
        .arg("--intents")
        .arg(crate::support::repo().join("intents"))
        .arg("--data")
        .arg(data)
        .arg("--config")
        .arg(&config)
        .arg("serve")
        .env("SPORTELLO_TELEGRAM_TOKEN", TOKEN)
        .env("SPORTELLO_TELEGRAM_API_URL", &fake.url)
        .env("SPORTELLO_HTTP_ADDR", http)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// SIGTERM, and the process must stop cleanly.
pub fn terminate(child: &mut std::process::Child) {
    super::sigterm(child);
    assert!(
        child.wait().unwrap().success(),
        "serve stops cleanly on SIGTERM"
    );
}
