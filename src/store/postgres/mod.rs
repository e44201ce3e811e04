//! The PostgreSQL backend: the same store on a database server, so that several
//! `serve` processes can share it. One [`crate::store::Turn`] is one SQL transaction;
//! a conversation or ticket is written only `WHERE version = ` the one it was read at.
//!
//! The seam is synchronous (the service runs on the blocking pool), the driver
//! (tokio-postgres) is not: the connections are driven by a small runtime of their own
//! on a thread of their own, and a call waits for its query on the calling thread.
//! So a call works from any thread, inside another runtime or not.
//!
//! The schema is in `schema.rs` (versioned migrations, run at open); the tables mirror
//! sled's trees, records as `json` beside the columns that queries select on (`json`,
//! not `jsonb`: a customer may type a NUL, which `jsonb` cannot hold).

mod accounts;
mod backend;
mod bus;
mod channel;
mod dump;
mod floor;
mod forget;
mod lead;
mod limits;
mod load;
mod pool;
mod presence;
mod reads;
mod schema;
mod turn;

use super::{Result, StoreError};
use pool::Pool;
use std::sync::Arc;
use tokio_postgres::types::Json;

pub use floor::drop_database;
pub use schema::SCHEMA_VERSION;

/// A store on PostgreSQL (cheap to clone: the clones share the connections).
#[derive(Clone)]
pub struct PgStore {
    pool: Arc<Pool>,
    /// Records written by turns, for the benchmark.
    written: Arc<std::sync::atomic::AtomicU64>,
    /// This process among the others on the database (it holds leases by this name).
    instance: Arc<String>,
    /// Its presence lock: a lease of a process that lost it is taken over at once.
    presence: Arc<presence::Presence>,
}

impl PgStore {
    /// Connect to `url` (`postgres://USER@HOST:PORT/DB`) and bring the schema up to date;
    /// a database not there yet is created (a new shop's first start).
    pub fn open(url: &str) -> Result<PgStore> {
        Self::connect(url, true)
    }

    /// The same, for a database that must exist already ([`StoreError::NoStore`]).
    pub fn open_existing(url: &str) -> Result<PgStore> {
        Self::connect(url, false)
    }

    fn connect(url: &str, create: bool) -> Result<PgStore> {
        let bad = |why: String| StoreError::BadUrl {
            url: crate::store::shown(std::path::Path::new(url)),
            why,
        };
        let mut config: tokio_postgres::Config = url.parse().map_err(|e| bad(format!("{e}")))?;
        // Without a name the server picks its own default (the user's, usually its
        // maintenance database `postgres`): the shop would be written there.
        if config.get_dbname().is_none_or(str::is_empty) {
            return Err(bad("it names no database".into()));
        }
        // A server that does not answer is an error in seconds, not a hang; a peer that
        // vanished is noticed by TCP keepalives within a minute (the URL may say
        // otherwise: `connect_timeout`, `keepalives_idle`).
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(std::time::Duration::from_secs(10));
        }
        config.keepalives_idle(std::time::Duration::from_secs(30));
        let pool = match Pool::new(config.clone()) {
            Err(StoreError::Postgres(e)) if missing_database(&e) => {
                if !create {
                    return Err(StoreError::NoStore(crate::store::shown(
                        std::path::Path::new(url),
                    )));
                }
                create_database(&config)?;
                Pool::new(config)?
            }
            other => other?,
        };
        let instance = format!(
            "{}{}-{}",
            presence::MARK,
            std::process::id(),
            &crate::accounts::new_secret()[..12]
        );
        let store = PgStore {
            pool: Arc::new(pool),
            written: Arc::default(),
            instance: Arc::new(instance),
            presence: Arc::default(),
        };
        // A database that holds no Sportello schema (a mistyped name that exists, an
        // empty one) is no store for a command that reads one: nothing is created in it.
        if !create && store.pool.run(async |c| schema::stored_version(c).await)? == 0 {
            return Err(StoreError::NoStore(crate::store::shown(
                std::path::Path::new(url),
            )));
        }
        store.pool.run(async |c| schema::migrate(c).await)?;
        Ok(store)
    }

    /// The schema version of the database (after migration: [`SCHEMA_VERSION`]).
    pub fn layout_version(&self) -> Result<u64> {
        self.pool.run(async |c| schema::stored_version(c).await)
    }

    /// A small write, committed: whether the database takes writes now.
    pub fn probe_write(&self) -> Result<()> {
        let now = chrono::Utc::now().to_rfc3339();
        self.pool.run(async |c| {
            c.execute(
                "INSERT INTO meta (key, value) VALUES ('probe', $1)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                &[&now],
            )
            .await?;
            Ok(())
        })
    }

    pub fn records_written(&self) -> u64 {
        self.written.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// (rows, bytes on disk) of the store's tables.
    pub fn footprint(&self) -> Result<(u64, u64)> {
        self.pool.run(async |c| {
            let mut rows = 0;
            for table in schema::TABLES {
                let n: i64 = c
                    .query_one(&format!("SELECT count(*) FROM {table}"), &[])
                    .await?
                    .get(0);
                rows += n as u64;
            }
            let bytes: i64 = c
                .query_one(
                    "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint
                     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE n.nspname = current_schema() AND c.relkind = 'r'",
                    &[],
                )
                .await?
                .get(0);
            Ok((rows, bytes as u64))
        })
    }

    /// What is inconsistent: records that do not decode, queue flags that disagree
    /// with their tickets, outbox entries of customers without a conversation.
    pub fn verify(&self) -> Result<Vec<String>> {
        self.pool.run(async |c| {
            let mut problems = Vec::new();
            for row in c.query("SELECT id, open, body FROM tickets", &[]).await? {
                let id: i64 = row.get(0);
                match serde_json::from_value::<crate::domain::Ticket>(row.get(2)) {
                    Ok(t) if t.is_open() != row.get::<_, bool>(1) => {
                        problems.push(format!("ticket {id}: its open flag disagrees with it"));
                    }
                    Ok(_) => {}
                    Err(e) => problems.push(format!("ticket {id} does not decode: {e}")),
                }
            }
            let orphans: i64 = c
                .query_one(
                    "SELECT count(*) FROM outbox o
                     WHERE NOT EXISTS (SELECT 1 FROM conversations c WHERE c.customer = o.customer)",
                    &[],
                )
                .await?
                .get(0);
            if orphans > 0 {
                problems.push(format!(
                    "{orphans} outbox entries belong to no conversation"
                ));
            }
            Ok(problems)
        })
    }

    /// A fresh, increasing number for records (transcript lines, events...).
    async fn next_seq(c: &impl tokio_postgres::GenericClient) -> Result<u64> {
        let n: i64 = c.query_one("SELECT nextval('seqs')", &[]).await?.get(0);
        Ok(n as u64)
    }

    /// `n` numbers of the store's sequence in one query, ascending.
    async fn next_seqs(c: &impl tokio_postgres::GenericClient, n: i64) -> Result<Vec<i64>> {
        if n == 0 {
            return Ok(Vec::new());
        }
        let row = c
            .query_one(
                "SELECT array_agg(n ORDER BY n) FROM
                   (SELECT nextval('seqs') AS n FROM generate_series(1, $1::bigint)) AS s",
                &[&n],
            )
            .await?;
        Ok(row.get(0))
    }
}

/// What the server said (its message and SQLSTATE), not only "db error".
pub(crate) fn detail(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => match std::error::Error::source(e) {
            Some(source) => format!("{e}: {source}"),
            None => e.to_string(),
        },
    }
}

fn missing_database(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&tokio_postgres::error::SqlState::INVALID_CATALOG_NAME)
}

/// Create the database `config` names (a new shop's first start), from the server's
/// `postgres` database.
fn create_database(config: &tokio_postgres::Config) -> Result<()> {
    let name = config.get_dbname().unwrap_or("postgres").to_owned();
    let mut admin = config.clone();
    admin.dbname("postgres");
    let pool = Pool::new(admin)?;
    let quoted = format!("\"{}\"", name.replace('"', "\"\""));
    tracing::info!("creating the database {quoted}");
    pool.run(async |c| {
        match c.batch_execute(&format!("CREATE DATABASE {quoted}")).await {
            // Another instance created it meanwhile (at the same moment, the catalog's
            // unique index says so instead).
            Err(e)
                if e.code() == Some(&tokio_postgres::error::SqlState::DUPLICATE_DATABASE)
                    || e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) =>
            {
                Ok(())
            }
            other => Ok(other?),
        }
    })
}

/// A record's `json` value, decoded, or [`StoreError::Corrupt`] naming its table.
fn decode<T: serde::de::DeserializeOwned>(
    table: &'static str,
    value: serde_json::Value,
) -> Result<T> {
    serde_json::from_value(value).map_err(|e| StoreError::corrupt(table, e))
}

/// A record as a `json` parameter.
fn json<T: serde::Serialize>(value: &T) -> Json<serde_json::Value> {
    Json(serde_json::to_value(value).expect("store records serialise to JSON"))
}

/// The channel part of a customer id (`telegram:42` -> `telegram`).
fn channel_of(customer: &crate::domain::CustomerId) -> &str {
    customer
        .as_str()
        .split(':')
        .next()
        .unwrap_or(customer.as_str())
}

/// An outbox key: the entry's seq, big-endian (what `pending_outbox` hands out).
fn outbox_seq(key: &[u8]) -> i64 {
    key.try_into()
        .map_or(-1, |b: [u8; 8]| i64::from_be_bytes(b))
}

/// `at` within what `timestamptz` holds (years 1 to 9999 are plenty): chrono's own
/// limits (open-ended periods use them) are beyond PostgreSQL's.
fn pg_time(at: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
    let first = chrono::DateTime::from_timestamp(-62_135_596_800, 0).expect("year 1");
    let last = chrono::DateTime::from_timestamp(253_402_300_799, 0).expect("year 9999");
    at.clamp(first, last)
}
