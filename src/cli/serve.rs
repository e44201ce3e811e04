//! `sportello serve`: the long-running process. An HTTP server on
//! `SPORTELLO_HTTP_ADDR` (`/healthz`, `/metrics`, and the Telegram webhook in webhook
//! mode) and the Telegram channel when `SPORTELLO_TELEGRAM_TOKEN` is set; content
//! edits are picked up while it runs. SIGINT/SIGTERM stop it cleanly.

use crate::channels::telegram::{Telegram, TelegramConfig, WebhookResult};
use crate::service::{ContentDirs, Service};
use anyhow::Context;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use std::fmt::Write as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

struct App {
    service: Arc<Service>,
    telegram: Option<Telegram>,
}

pub fn run(service: Service, dirs: &ContentDirs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let service = Arc::new(service);
    let _watcher = watch_content(service.clone(), dirs);
    runtime.block_on(serve(service))
}

async fn serve(service: Arc<Service>) -> anyhow::Result<ExitCode> {
    let addr = std::env::var("SPORTELLO_HTTP_ADDR").unwrap_or_else(|_| "127.0.0.1:8080".into());
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .with_context(|| {
            format!("cannot listen on {addr}\n  hint: set SPORTELLO_HTTP_ADDR to a free host:port")
        })?;
    let (stop_tx, stop) = watch::channel(false);
    let telegram = match TelegramConfig::from_env(&service.config().telegram)? {
        Some(config) => Some(Telegram::start(service.clone(), config, stop.clone()).await?),
        None => None,
    };
    match &telegram {
        Some(t) if t.webhook_path().is_some() => eprintln!("telegram: @{} (webhook)", t.username()),
        Some(t) => eprintln!("telegram: @{} (long polling)", t.username()),
        None => eprintln!("telegram: off (set SPORTELLO_TELEGRAM_TOKEN to connect a bot)"),
    }
    let webhook = telegram.as_ref().and_then(Telegram::webhook_path);
    let app = Arc::new(App { service, telegram });
    let mut router = Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/metrics", get(metrics));
    if let Some(path) = webhook {
        router = router.route(&path, post(webhook_update));
    }
    eprintln!("sportello serving on http://{addr}");
    axum::serve(listener, router.with_state(app.clone()))
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            let _ = stop_tx.send(true);
        })
        .await
        .context("the HTTP server stopped")?;
    if let Some(t) = &app.telegram {
        // teloxide itself pauses 10 s after a 5xx: let a send in flight finish.
        t.drain(Duration::from_secs(15)).await;
    }
    app.service.store().flush()?;
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

async fn webhook_update(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let Some(telegram) = &app.telegram else {
        return StatusCode::NOT_FOUND;
    };
    let secret = headers
        .get("x-telegram-bot-api-secret-token")
        .and_then(|v| v.to_str().ok());
    match telegram.webhook(secret, &body).await {
        WebhookResult::Stored | WebhookResult::Ignored => StatusCode::OK,
        WebhookResult::Forbidden => StatusCode::UNAUTHORIZED,
        WebhookResult::NotStored => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// Prometheus text format.
async fn metrics(State(app): State<Arc<App>>) -> Result<String, StatusCode> {
    let service = app.service.clone();
    let queue = tokio::task::spawn_blocking(move || service.store().queue().map(|q| q.len()))
        .await
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?
        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP sportello_queue_length Open tickets waiting or claimed.\n# TYPE sportello_queue_length gauge\nsportello_queue_length {queue}"
    );
    if let Some(t) = &app.telegram {
        let _ = writeln!(
            out,
            "# HELP sportello_telegram_replies_total Telegram deliveries by outcome.\n# TYPE sportello_telegram_replies_total counter"
        );
        for (outcome, n) in t.shared.stats.snapshot() {
            let _ = writeln!(
                out,
                "sportello_telegram_replies_total{{outcome=\"{outcome}\"}} {n}"
            );
        }
    }
    Ok(out)
}

/// Reload the content folders when they change.
fn watch_content(service: Arc<Service>, dirs: &ContentDirs) -> Option<notify::RecommendedWatcher> {
    let dirs = dirs.clone();
    let folders = [dirs.faq.clone(), dirs.intents.clone()];
    crate::faq::watch(&folders, move || {
        for d in service.reload(&dirs) {
            eprintln!("{d}");
        }
        tracing::info!("content reloaded");
    })
    .map_err(|e| {
        eprintln!("warning: not watching the content folders ({e}); restart to pick up edits")
    })
    .ok()
}
