//! Memory and disk with many stored conversations. The probe runs in a child process
//! (`bench --rss-probe N`, hidden), so its peak RSS is the serving process's own and not
//! the benchmark's other runs: it opens a fresh store, lets N customers write two
//! messages each through the service, and reports its peak RSS (Linux `VmHWM`) as one
//! JSON line on stdout (printed by `cli::bench`).

use super::pipeline::{self, Load};
use crate::config::Config;
use crate::matcher::Brain;
use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::process::Command;

/// What the probe prints (one JSON line).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Probe {
    pub conversations: usize,
    pub rss_mb: f64,
    pub seconds: f64,
}

/// In the child: fill the store in `data` and measure.
pub fn probe(
    data: &Path,
    brain: Brain,
    config: Config,
    conversations: usize,
    concurrency: usize,
) -> anyhow::Result<Probe> {
    let texts = super::texts(&brain);
    let service = pipeline::service_in(data, brain, config)?;
    let load = Load {
        texts: &texts,
        customers: conversations,
        per_customer: 2,
        concurrency: concurrency.max(1),
    };
    let run = pipeline::pipeline(&service, load)?;
    let probe = Probe {
        conversations,
        rss_mb: peak_rss_mb()?,
        seconds: run.seconds,
    };
    Ok(probe)
}

/// In the parent: run the probe as a child on `data`, then measure the store on disk.
pub fn measure(
    content: &crate::service::ContentDirs,
    data: &Path,
    conversations: usize,
    concurrency: usize,
) -> anyhow::Result<(Probe, u64)> {
    let exe = std::env::current_exe().context("finding the sportello binary")?;
    let output = Command::new(exe)
        .arg("--faq")
        .arg(&content.faq)
        .arg("--intents")
        .arg(&content.intents)
        .arg("--data")
        .arg(data)
        .args(["bench", "--rss-probe", &conversations.to_string()])
        .args(["--concurrency", &concurrency.to_string()])
        .output()
        .context("starting the memory probe")?;
    anyhow::ensure!(
        output.status.success(),
        "the memory probe failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let probe: Probe = serde_json::from_slice(&output.stdout).context("reading the probe")?;
    Ok((probe, disk_bytes(data)?))
}

/// Peak resident memory of this process, in MiB.
fn peak_rss_mb() -> anyhow::Result<f64> {
    let status = std::fs::read_to_string("/proc/self/status")
        .context("reading /proc/self/status (the memory figure needs Linux)")?;
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .context("no VmHWM in /proc/self/status")?;
    Ok(kb / 1024.0)
}

/// Bytes the directory takes on disk (allocated blocks, so sparse files count as
/// what they use).
pub fn disk_bytes(dir: &Path) -> anyhow::Result<u64> {
    use std::os::unix::fs::MetadataExt;
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            disk_bytes(&entry.path())?
        } else {
            meta.blocks() * 512
        };
    }
    Ok(total)
}
