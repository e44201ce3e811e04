//! Opening sled: a damaged store or one another process holds becomes a clear
//! [`StoreError`], never a crash.

use super::{CACHE_BYTES, Result, StoreError};
use std::path::Path;

/// Open sled in `dir`. A damaged file (truncated, overwritten) makes sled's recovery
/// panic or report corruption: both become [`StoreError::Damaged`], which says to
/// restore a backup, instead of a crash.
pub(super) fn open_db(dir: &Path) -> Result<sled::Db> {
    let damaged = |what: String| StoreError::Damaged {
        dir: dir.to_owned(),
        what,
    };
    let opened = quietly(|| {
        sled::Config::new()
            .path(dir)
            .cache_capacity(CACHE_BYTES)
            .open()
    })
    .map_err(damaged)?;
    opened.map_err(|e| match e {
        sled::Error::Io(io) if io.to_string().contains("could not acquire lock") => {
            StoreError::InUse(dir.to_owned())
        }
        sled::Error::Corruption { .. } => damaged(e.to_string()),
        other => StoreError::Sled(other),
    })
}

/// Run `f`, turning a panic into its message, without printing the panic report.
fn quietly<T>(f: impl FnOnce() -> T) -> std::result::Result<T, String> {
    static HOOK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = HOOK.lock().unwrap_or_else(|e| e.into_inner());
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    std::panic::set_hook(previous);
    result.map_err(|panic| {
        panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_else(|| "unreadable files".into())
    })
}
