//! `serve` heals a store that stopped writing. After an I/O error (a full disk) sled
//! refuses every write until the store is opened again, even once the disk has room.
//! So `serve` probes the store now and then; while it cannot write, `/healthz` says so
//! (503) and nothing is acknowledged (a customer's message gets an error, Telegram keeps
//! the update). Once a test file can be written beside the store again, `serve` stops
//! cleanly and starts itself anew in place (same process id, same address), which opens
//! the store again.

use crate::service::Service;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};

/// How often the store is probed.
const PROBE_EVERY: Duration = Duration::from_secs(2);

/// Probe the store until it fails and the disk has room again, then ask for a restart.
pub async fn watch_store(
    service: Arc<Service>,
    data: PathBuf,
    restart: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    let mut failing = false;
    loop {
        tokio::select! {
            () = tokio::time::sleep(PROBE_EVERY) => {}
            _ = stop.changed() => return,
        }
        let (service, data) = (service.clone(), data.clone());
        let healed = tokio::task::spawn_blocking(move || match service.store().probe_write() {
            Ok(()) => Ok(false),
            Err(e) => Err((e.to_string(), has_room(&data))),
        })
        .await;
        match healed {
            Ok(Ok(_)) => failing = false,
            Ok(Err((e, room))) => {
                if !failing {
                    eprintln!("error: the store cannot write ({e}); /healthz reports it");
                    failing = true;
                }
                if room {
                    eprintln!("the disk accepts writes again: restarting to reopen the store");
                    restart.notify_one();
                    return;
                }
            }
            Err(e) => tracing::error!("store probe: {e}"),
        }
    }
}

/// Whether 1 MB can be written and synced in the data directory now.
fn has_room(data: &Path) -> bool {
    let probe = data.join(".sportello-space-probe");
    let written = std::fs::File::create(&probe).and_then(|mut f| {
        f.write_all(&vec![0u8; 1 << 20])?;
        f.sync_all()
    });
    let _ = std::fs::remove_file(&probe);
    written.is_ok()
}

/// Replace this process with a fresh `sportello` with the same arguments, listening on
/// `addr` (the address it had). Returns only if that cannot be done.
pub fn start_again(addr: &str) -> anyhow::Error {
    use std::os::unix::process::CommandExt;
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => return anyhow::anyhow!("cannot restart: {e}\n  hint: start sportello again"),
    };
    let e = std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env("SPORTELLO_HTTP_ADDR", addr)
        .exec();
    anyhow::anyhow!("cannot restart: {e}\n  hint: start sportello again")
}
