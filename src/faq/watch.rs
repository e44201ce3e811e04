//! Watch the content folders and call back after edits settle, so a running `chat` or
//! `serve` picks up the editors' changes within about a second.

use notify::{RecursiveMode, Watcher};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

/// Quiet time after the last file event before reloading: editors save in bursts.
const SETTLE: Duration = Duration::from_millis(300);

/// Start watching `dirs`; `on_change` runs on a background thread after each burst of
/// edits. Dropping the returned watcher stops it.
pub fn watch(
    dirs: &[PathBuf],
    on_change: impl Fn() + Send + 'static,
) -> notify::Result<notify::RecommendedWatcher> {
    let (tx, rx) = mpsc::channel();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if event.is_ok_and(|e| !e.kind.is_access()) {
            let _ = tx.send(());
        }
    })?;
    for dir in dirs {
        watcher.watch(dir, RecursiveMode::Recursive)?;
    }
    std::thread::spawn(move || {
        while rx.recv().is_ok() {
            while rx.recv_timeout(SETTLE).is_ok() {}
            on_change();
        }
    });
    Ok(watcher)
}
