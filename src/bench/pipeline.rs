//! Throughput: messages through the real `Service` (intents, FAQ match, triage, one
//! store transaction with the outbox, a durable flush before "acknowledging"), from
//! many customers at once; and the floor: a raw tantivy query plus the same number of
//! sled writes and a sled flush per message, done the plain way, equally durable.

use crate::config::Config;
use crate::domain::{CustomerId, Inbound};
use crate::matcher::Brain;
use crate::service::Service;
use crate::store::Store;
use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use std::path::Path;
use std::time::Instant;
use tantivy::collector::TopDocs;
use tantivy::query::QueryParser;
use tantivy::schema::{Schema, TEXT};
use tantivy::{Index, TantivyDocument};

/// How much work a run did, and how long it took.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    pub messages: usize,
    pub seconds: f64,
    pub flushes: u64,
    /// Records written (inserts and removals), for the floor's like-for-like writes.
    pub records: u64,
    /// CPU time (user + system, every thread of the process) the run took, in seconds:
    /// steadier than `seconds` on a shared machine.
    pub cpu_seconds: f64,
}

impl Run {
    pub fn per_second(&self) -> f64 {
        self.messages as f64 / self.seconds.max(1e-9)
    }

    /// CPU microseconds per message.
    pub fn cpu_us_per_message(&self) -> f64 {
        self.cpu_seconds * 1e6 / self.messages.max(1) as f64
    }
}

/// CPU time this process used so far (user + system, all threads), in seconds, from
/// `/proc/self/stat` (Linux; 0 elsewhere).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // The fields after the command name (which may hold spaces): utime and stime are
    // the 12th and 13th, in clock ticks (100 per second on Linux).
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
    ticks(11)
        .zip(ticks(12))
        .map_or(0.0, |(u, s)| (u + s) / 100.0)
}

/// Who writes what: `customers` customers, each `per_customer` messages in a row,
/// `concurrency` customers at a time. Message texts cycle through `texts`.
#[derive(Debug, Clone, Copy)]
pub struct Load<'a> {
    pub texts: &'a [String],
    pub customers: usize,
    pub per_customer: usize,
    pub concurrency: usize,
}

impl Load<'_> {
    /// How many messages the load sends.
    pub fn messages(&self) -> usize {
        self.customers * self.per_customer
    }
}

/// A weekday morning: handoffs find the shop open.
pub fn start_time() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-24T09:00:00Z")
        .expect("a valid instant")
        .with_timezone(&Utc)
}

/// Feed the load through `service`; each `handle_inbound` returns only after its
/// message and replies are flushed (group commit across the concurrent customers).
pub fn pipeline(service: &Service, load: Load<'_>) -> anyhow::Result<Run> {
    let (requests_before, flushes_before) = service.store().flush_counts();
    let records_before = service.store().records_written();
    let cpu_before = cpu_seconds();
    let start = Instant::now();
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let workers: Vec<_> = (0..load.concurrency)
            .map(|w| scope.spawn(move || customers_of(service, load, w)))
            .collect();
        for worker in workers {
            worker.join().expect("a pipeline worker panicked")?;
        }
        Ok(())
    })?;
    let seconds = start.elapsed().as_secs_f64();
    let (requests, flushes) = service.store().flush_counts();
    // (On PostgreSQL every commit is durable when it returns: no flushes to count.)
    anyhow::ensure!(
        service.store().is_shared() || requests - requests_before >= load.messages() as u64,
        "fewer flush requests than messages: something was acknowledged unflushed"
    );
    Ok(Run {
        messages: load.messages(),
        seconds,
        // On PostgreSQL each message's commit is its flush.
        flushes: if service.store().is_shared() {
            load.messages() as u64
        } else {
            flushes - flushes_before
        },
        records: service.store().records_written() - records_before,
        cpu_seconds: cpu_seconds() - cpu_before,
    })
}

fn customers_of(service: &Service, load: Load<'_>, worker: usize) -> anyhow::Result<()> {
    let start = start_time();
    for c in (worker..load.customers).step_by(load.concurrency) {
        let customer = CustomerId::parse(&format!("web:bench-{c}"))?;
        for i in 0..load.per_customer {
            let text = &load.texts[(c * 7 + i * 13) % load.texts.len()];
            let inbound = Inbound {
                customer: customer.clone(),
                message_id: format!("{c}-{i}"),
                text: text.clone(),
                at: start + Duration::milliseconds((c * 50 + i * 20_000) as i64),
                sent_at: None,
                locale: None,
                name: None,
                attachment: None,
                original: None,
            };
            service
                .handle_inbound(&inbound)
                .with_context(|| format!("message {c}-{i}"))?;
        }
    }
    Ok(())
}

/// The floor for `run`'s work: per message one tantivy query (default tokenizer, top 3)
/// over the FAQ questions, `run.records / run.messages` sled inserts of `value_bytes`
/// each, then sled's own flush, from the same number of threads.
pub fn floor(
    questions: &[String],
    load: Load<'_>,
    run: &Run,
    value_bytes: usize,
    dir: &Path,
) -> anyhow::Result<Run> {
    let db = sled::Config::new()
        .path(dir)
        .cache_capacity(32 * 1024 * 1024)
        .open()?;
    let tree = db.open_tree("floor")?;
    let value = vec![b'x'; value_bytes];
    floor_with(questions, load, run, &|m, records| {
        for r in 0..records {
            let key = [(m as u64).to_be_bytes(), (r as u64).to_be_bytes()].concat();
            tree.insert(key, value.as_slice())?;
        }
        db.flush()?;
        Ok(())
    })
}

/// The floor on PostgreSQL for `run`'s work: per message the same tantivy query, then
/// `run.records / run.messages` rows of `value_bytes` inserted in one transaction and
/// committed, from the same number of threads, on `store` (a scratch database).
pub fn floor_postgres(
    questions: &[String],
    load: Load<'_>,
    run: &Run,
    value_bytes: usize,
    store: &crate::store::PgStore,
) -> anyhow::Result<Run> {
    store.floor_table()?;
    let value = "x".repeat(value_bytes);
    floor_with(questions, load, run, &|m, records| {
        Ok(store.floor_commit(m as i64, records, &value)?)
    })
}

/// Per message of `run`: a raw tantivy query (default tokenizer, top 3) over
/// `questions`, then `write(message, records per message)`, durably; from
/// `load.concurrency` threads.
fn floor_with(
    questions: &[String],
    load: Load<'_>,
    run: &Run,
    write: &(dyn Fn(usize, usize) -> anyhow::Result<()> + Sync),
) -> anyhow::Result<Run> {
    let (index, field) = raw_index(questions)?;
    let reader = index.reader()?;
    let parser = QueryParser::for_index(&index, vec![field]);
    let per_message = (run.records as f64 / run.messages as f64).round() as usize;
    let cpu_before = cpu_seconds();
    let start = Instant::now();
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let workers: Vec<_> = (0..load.concurrency)
            .map(|w| {
                let (searcher, parser) = (reader.searcher(), &parser);
                scope.spawn(move || -> anyhow::Result<()> {
                    for m in (w..run.messages).step_by(load.concurrency) {
                        let (query, _) =
                            parser.parse_query_lenient(&load.texts[m % load.texts.len()]);
                        let hits =
                            searcher.search(&query, &TopDocs::with_limit(3).order_by_score())?;
                        std::hint::black_box(hits);
                        write(m, per_message)?;
                    }
                    Ok(())
                })
            })
            .collect();
        for worker in workers {
            worker.join().expect("a floor worker panicked")?;
        }
        Ok(())
    })?;
    Ok(Run {
        messages: run.messages,
        seconds: start.elapsed().as_secs_f64(),
        flushes: run.messages as u64,
        records: (per_message * run.messages) as u64,
        cpu_seconds: cpu_seconds() - cpu_before,
    })
}

fn raw_index(questions: &[String]) -> tantivy::Result<(Index, tantivy::schema::Field)> {
    let mut schema = Schema::builder();
    let field = schema.add_text_field("question", TEXT);
    let index = Index::create_in_ram(schema.build());
    let mut writer: tantivy::IndexWriter = index.writer_with_num_threads(1, 15_000_000)?;
    for q in questions {
        let mut doc = TantivyDocument::default();
        doc.add_text(field, q);
        writer.add_document(doc)?;
    }
    writer.commit()?;
    Ok((index, field))
}

/// A service on a fresh store in `dir`, serving `brain`.
pub fn service_in(dir: &Path, brain: Brain, config: Config) -> anyhow::Result<Service> {
    let store =
        Store::open(dir).with_context(|| format!("opening {}", crate::store::shown(dir)))?;
    Ok(Service::new(store, brain, config))
}
