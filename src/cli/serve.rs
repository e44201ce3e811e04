//! `sportello serve`: the long-running process. The HTTP server of [`crate::web`] on
//! `SPORTELLO_HTTP_ADDR` (web chat, console, API, health, metrics, the channels'
//! webhooks) and every channel whose secrets are set (Telegram, WhatsApp); content edits are picked up while it runs. SIGINT/SIGTERM stop it cleanly; a
//! store that stopped writing (a full disk) restarts it in place once the disk has room
//! ([`super::recover`]).

use crate::channels::Channels;
use crate::service::{ContentDirs, Service};
use crate::web::{self, App};
use anyhow::Context;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::{Notify, watch};

/// How `serve` ended.
enum Ended {
    Stopped,
    /// The store must be opened again: start anew on this address.
    Restart(String),
}

pub fn run(service: Service, dirs: &ContentDirs, data: &Path) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let service = Arc::new(service);
    let _watcher = watch_content(service.clone(), dirs);
    match runtime.block_on(serve(service, data.to_owned()))? {
        Ended::Stopped => Ok(ExitCode::SUCCESS),
        Ended::Restart(addr) => {
            drop(runtime);
            Err(super::recover::start_again(&addr))
        }
    }
}

async fn serve(service: Arc<Service>, data: PathBuf) -> anyhow::Result<Ended> {
    // Listened for before the port is bound: a stop asked while starting (a service
    // manager, a test) is kept and stops it cleanly as soon as it serves.
    let stop_asked = shutdown_signal();
    let env = crate::config::Environment::read()?;
    let addr = env.http_addr.clone();
    let listener = web::listen(&addr).await.with_context(|| {
        format!("cannot listen on {addr}\n  hint: set SPORTELLO_HTTP_ADDR to a free host:port")
    })?;
    // The real address (a port of 0 in the setting picks a free one).
    let addr = listener.local_addr().map_or(addr, |a| a.to_string());
    let (stop_tx, stop) = watch::channel(false);
    if let Some((url, _)) = env.telegram.as_ref().and_then(|t| t.webhook.as_ref()) {
        web::check_webhook_path(url.path()).map_err(|e| {
            anyhow::anyhow!(
                "SPORTELLO_TELEGRAM_WEBHOOK_URL: {e}\n  hint: use a path of its own, e.g. https://shop.example/telegram"
            )
        })?;
    }
    let channels = Channels::start(&service, &env, service.config(), &stop).await?;
    for line in channels.describe() {
        eprintln!("{line}");
    }
    let app = Arc::new(App::new(service, channels, stop)?.with_metrics_token(env.metrics_token));
    tokio::spawn(fire_timers(app.service.clone(), app.stop.clone()));
    let router = web::router(app.clone());
    eprintln!("sportello serving on http://{addr}");
    eprintln!("  web chat: http://{addr}/   console: http://{addr}/console");
    if let Some(token) = app.setup_token()? {
        eprintln!(
            "  no operator account yet: open http://{addr}/console?setup={token} to create the first (admin),\n  or stop and run `sportello operator add NAME --department D --role admin`"
        );
    }
    let restart = Arc::new(Notify::new());
    let watched = (app.service.clone(), restart.clone(), app.stop.clone());
    tokio::spawn(super::recover::watch_store(
        watched.0, data, watched.1, watched.2,
    ));
    let restarting = Arc::new(AtomicBool::new(false));
    let limits = app.service.config().web.clone();
    let flag = restarting.clone();
    web::serve_http(listener, router, &limits, async move {
        tokio::select! {
            () = stop_asked => {}
            () = restart.notified() => flag.store(true, Ordering::SeqCst),
        }
        let _ = stop_tx.send(true);
    })
    .await;
    // teloxide itself pauses 10 s after a 5xx: let a send in flight finish.
    app.channels.drain(Duration::from_secs(15)).await;
    if restarting.load(Ordering::SeqCst) {
        // The store refuses writes until reopened: nothing more can be flushed here.
        return Ok(Ended::Restart(addr));
    }
    app.service.store().flush()?;
    Ok(Ended::Stopped)
}

/// Fire the timers kept in the store (promised waits) as they fall due.
async fn fire_timers(service: Arc<Service>, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(10)) => {}
            _ = stop.changed() => return,
        }
        let service = service.clone();
        let fired = tokio::task::spawn_blocking(move || service.fire_due(chrono::Utc::now())).await;
        if let Ok(Err(e)) = fired {
            tracing::error!("timers: {e}");
        }
    }
}

/// SIGINT or SIGTERM, listened for from the call on (not from the first poll): the
/// future resolves at the first one, even one that came before it was polled.
fn shutdown_signal() -> impl Future<Output = ()> {
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        )
    };
    async move {
        #[cfg(unix)]
        if let (Ok(mut interrupt), Ok(mut term)) = signals {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = term.recv() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Reload the content folders when they change.
fn watch_content(service: Arc<Service>, dirs: &ContentDirs) -> Option<notify::RecommendedWatcher> {
    let dirs = dirs.clone();
    let folders = [dirs.faq.clone(), dirs.intents.clone()];
    crate::faq::watch(&folders, move || {
        let problems = service.reload(&dirs);
        for d in &problems {
            eprintln!("{d}");
        }
        // Said each time, so that the log's last word on a file mended is not its error.
        let errors = problems
            .iter()
            .filter(|d| d.severity == crate::diagnostics::Severity::Error)
            .count();
        eprintln!(
            "content reloaded: {} FAQ entries served, {}",
            service.brain().faq.entries().len(),
            super::counted(errors, "error", "errors")
        );
    })
    .map_err(|e| {
        eprintln!("warning: not watching the content folders ({e}); restart to pick up edits")
    })
    .ok()
}
