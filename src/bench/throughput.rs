//! The durable pipeline against its storage floor: the same messages, threads and
//! records, on sled or on PostgreSQL (`bench --only pipeline` prints this alone).

use super::pipeline::{self, Load};
use super::{FULL, Options, QUICK, content_brain, faq_questions, texts};
use crate::config::Config;
use crate::matcher::Brain;
use crate::service::ContentDirs;
use serde::Serialize;
use std::path::Path;

/// The durable pipeline against its floor (`bench --only pipeline` prints this alone).
#[derive(Debug, Serialize)]
pub struct Throughput {
    pub messages: usize,
    pub concurrency: usize,
    pub pipeline_msgs_per_s: f64,
    pub floor_msgs_per_s: f64,
    /// Pipeline time / floor time for the same messages.
    pub ratio: f64,
    /// Messages made durable per flush in the pipeline (group commit).
    pub messages_per_flush: f64,
    pub records_per_message: f64,
    /// CPU time per message (user + system, all threads): the pipeline's and the
    /// floor's, and their ratio (steadier than the wall-clock `ratio` on a shared machine).
    pub pipeline_cpu_us_per_msg: f64,
    pub floor_cpu_us_per_msg: f64,
    pub cpu_ratio: f64,
    /// What the bot did with the pipeline's messages (answer, clarify, handoff...).
    pub decisions: std::collections::BTreeMap<String, u64>,
}

/// The durable pipeline against its floor alone (`bench --only pipeline`).
pub fn throughput(
    content: &ContentDirs,
    config: Config,
    options: &Options,
    progress: &dyn Fn(&str),
) -> anyhow::Result<Throughput> {
    let scratch = tempfile::tempdir()?;
    let brain = content_brain(content, &config)?;
    throughput_in(scratch.path(), brain, &config, options, progress)
}

/// The pipeline with `brain` (the content's, loaded once by the caller) against its floor.
pub(super) fn throughput_in(
    scratch: &Path,
    brain: Brain,
    config: &Config,
    options: &Options,
    progress: &dyn Fn(&str),
) -> anyhow::Result<Throughput> {
    let (questions, texts) = (faq_questions(&brain), texts(&brain));
    let load = load(&texts, options);
    progress(&format!("pipeline: {} messages...", load.messages()));
    let service = pipeline::service_in(&scratch.join("pipeline"), brain, config.clone())?;
    let run = pipeline::pipeline(&service, load)?;
    let (records, bytes) = service.store().footprint()?;
    let decisions = service.counts().decisions;
    drop(service);
    progress("floor...");
    let value_bytes = (bytes / records.max(1)) as usize;
    let floor = pipeline::floor(&questions, load, &run, value_bytes, &scratch.join("floor"))?;
    Ok(Throughput::of(&run, &floor, load, decisions))
}

/// The same pipeline and load on PostgreSQL (a scratch database on `server`, dropped
/// after) against its own floor: the same rows inserted plainly and committed.
pub fn throughput_postgres(
    content: &ContentDirs,
    config: &Config,
    options: &Options,
    server: &str,
    progress: &dyn Fn(&str),
) -> anyhow::Result<Throughput> {
    let brain = content_brain(content, config)?;
    let (questions, texts) = (faq_questions(&brain), texts(&brain));
    let load = load(&texts, options);
    let url = format!(
        "{}/sportello_bench_{}",
        server.trim_end_matches('/'),
        std::process::id()
    );
    progress(&format!(
        "pipeline on PostgreSQL: {} messages...",
        load.messages()
    ));
    let measured = (|| {
        let service = pipeline::service_in(Path::new(&url), brain, config.clone())?;
        let run = pipeline::pipeline(&service, load)?;
        let (records, bytes) = service.store().footprint()?;
        let decisions = service.counts().decisions;
        let crate::store::Store::Postgres(store) = service.store() else {
            anyhow::bail!(
                "{} did not open as PostgreSQL",
                crate::store::shown(Path::new(&url))
            );
        };
        progress("floor on PostgreSQL...");
        // A row's size: the table bytes include pages' slack and indexes, so the
        // stored records' own average is taken from the pipeline's record count.
        let value_bytes = (bytes / records.max(1)).min(4_096) as usize;
        let floor = pipeline::floor_postgres(&questions, load, &run, value_bytes, store)?;
        Ok(Throughput::of(&run, &floor, load, decisions))
    })();
    crate::store::postgres::drop_database(&url)?;
    measured
}

impl Throughput {
    fn of(
        run: &pipeline::Run,
        floor: &pipeline::Run,
        load: Load<'_>,
        decisions: std::collections::BTreeMap<String, u64>,
    ) -> Throughput {
        Throughput {
            messages: run.messages,
            concurrency: load.concurrency,
            pipeline_msgs_per_s: run.per_second(),
            floor_msgs_per_s: floor.per_second(),
            ratio: run.seconds / floor.seconds,
            messages_per_flush: run.messages as f64 / run.flushes.max(1) as f64,
            records_per_message: run.records as f64 / run.messages as f64,
            pipeline_cpu_us_per_msg: run.cpu_us_per_message(),
            floor_cpu_us_per_msg: floor.cpu_us_per_message(),
            cpu_ratio: run.cpu_seconds / floor.cpu_seconds.max(1e-9),
            decisions,
        }
    }
}

/// The benchmark's load of `texts` at the size `options` asks for.
fn load<'t>(texts: &'t [String], options: &Options) -> Load<'t> {
    let sizes = if options.quick { QUICK } else { FULL };
    Load {
        texts,
        customers: sizes.customers,
        per_customer: sizes.per_customer,
        concurrency: options.concurrency.max(1),
    }
}
