//! Storage: the seam ([`seam`]: traits cut by who uses them) and its two backends,
//! [`sled`] (embedded, the default: a directory) and [`postgres`] (a server: several
//! `serve` processes on one database). Only this folder touches either.
//!
//! [`Store`] is the backend a command opened: `--data DIR` or `--data postgres://…`.
//! It derefs to the seam's traits (bring them into scope with `use crate::store::*`
//! or by name); backend maintenance (verify, `forget`'s rewrite, footprint, counters)
//! is on `Store` itself.

pub mod copy;
mod period;
pub mod postgres;
mod records;
mod seam;
mod shown;
pub mod sled;

pub use postgres::PgStore;
pub use records::{
    AttachmentMeta, Contact, DeliveryStatus, EmailThread, FailedOutbound, Forgotten, Held,
    MailboxMark, Note, StoredMessage, Turn, Unreachable,
};
pub use seam::{
    Accounts, Backend, ChannelState, FloodBucket, History, OUTBOX_LEASE, Outbox, Rows,
    SharedLimits, TurnLog,
};
pub use shown::shown;
pub use sled::{LAYOUT_VERSION, SledStore, check_rewritable, rewrite};

use crate::domain::CustomerId;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the data directory {0} is in use by another running sportello (chat or serve)\n  hint: while `serve` runs, read the shop from its console or API (the report: GET /api/v1/report; the FAQ's gaps: GET /api/v1/faq/gaps; an API token: POST /api/v1/tokens, or the console's Gestione / Admin panel); else stop the other process, or pass --data OTHER_DIR"
    )]
    InUse(PathBuf),
    #[error(
        "the data directory {dir} was written with key layout v{found}, newer than this sportello (v{LAYOUT_VERSION})\n  hint: upgrade sportello"
    )]
    NewerLayout { dir: PathBuf, found: u64 },
    #[error("the conversation changed while it was being handled; try again")]
    Conflict,
    #[error("the message {0} was already stored")]
    Duplicate(String),
    #[error(
        "storage error: {0}\n  hint: check that the data directory is writable and the disk is not full"
    )]
    Sled(::sled::Error),
    /// `dir` is empty where the error was met below the store's path (a sled read);
    /// the command line names the store it opened ([`StoreError::name_the_store`]).
    #[error(
        "the store{} is corrupt ({what})\n  hint: restore the data directory from a backup (stop sportello, replace the folder, start again)",
        if dir.as_os_str().is_empty() { String::new() } else { format!(" in {}", shown(dir)) }
    )]
    Damaged { dir: PathBuf, what: String },
    #[error(
        "file error in the data directory: {0}\n  hint: check that the data directory and its parent are writable and the disk is not full"
    )]
    Io(#[from] std::io::Error),
    #[error(
        "--data {0} is a file, not a data directory\n  hint: name a directory (it is created if missing) or a postgres:// URL"
    )]
    NotADirectory(PathBuf),
    #[error(
        "{0} is a folder of other files, not a data directory\n  hint: name the data directory the shop ran with, or a new or empty directory (it is created if missing), or a postgres:// URL"
    )]
    NotAStore(PathBuf),
    #[error(
        "no store at {0}\n  hint: --data (or SPORTELLO_DATA) names the data directory `serve`, `chat` or `demo` ran with (the default is ./data), or the PostgreSQL database that holds the shop: one that does not exist yet, or holds no shop, is made by `serve`, not by a command that reads"
    )]
    NoStore(String),
    #[error(
        "cannot rewrite the data directory: {0}\n  hint: `forget` swaps the directory for a fresh copy beside it: use a subdirectory of the volume as --data"
    )]
    CannotRewrite(String),
    #[error(
        "database error: {}\n  hint: check that the PostgreSQL server in --data is running, reachable, and lets this user create tables",
        postgres::detail(.0)
    )]
    Postgres(tokio_postgres::Error),
    #[error(
        "--data {url} is not a PostgreSQL URL this sportello reads ({why})\n  hint: write it as postgres://USER@HOST:PORT/DATABASE"
    )]
    BadUrl { url: String, why: String },
    #[error(
        "the database was written with schema v{found}, newer than this sportello (v{})\n  hint: upgrade sportello",
        postgres::SCHEMA_VERSION
    )]
    NewerSchema { found: u64 },
    #[error(
        "the store at {0} is an unfinished `store copy`: the copy into it stopped part way, so it holds only part of the shop\n  hint: delete it (the directory, or DROP DATABASE) and run `sportello store copy` again; the source was only read"
    )]
    Incomplete(String),
    #[error(
        "{0} is the last admin: the shop would have none\n  hint: make another admin first (`sportello operator add NAME --department D --role admin`, or the console)"
    )]
    LastAdmin(String),
    #[error(
        "the target store is not empty\n  hint: copy into a new directory or an empty database; nothing was written"
    )]
    NotEmpty,
    #[error(
        "corrupt record in {tree}: {source}\n  hint: the store is damaged: restore the data directory from a backup"
    )]
    Corrupt {
        tree: &'static str,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl StoreError {
    /// Name `data` as the damaged store if the error named none.
    pub fn name_the_store(&mut self, data: &Path) {
        if let StoreError::Damaged { dir, .. } = self
            && dir.as_os_str().is_empty()
        {
            data.clone_into(dir);
        }
    }

    /// A record of `tree` that does not decode.
    pub fn corrupt(tree: &'static str, e: impl std::error::Error + Send + Sync + 'static) -> Self {
        StoreError::Corrupt {
            tree,
            source: Box::new(e),
        }
    }
}

impl From<tokio_postgres::Error> for StoreError {
    /// A deadlock or a serialisation failure is a conflict: read again and retry, as
    /// for a version that moved on.
    fn from(e: tokio_postgres::Error) -> Self {
        use tokio_postgres::error::SqlState;
        match e.code() {
            Some(&SqlState::T_R_DEADLOCK_DETECTED | &SqlState::T_R_SERIALIZATION_FAILURE) => {
                StoreError::Conflict
            }
            _ => StoreError::Postgres(e),
        }
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// A thread is handling a message it will flush ([`TurnLog::busy`]).
pub struct Busy<'a>(Option<sled::Gathering<'a>>);

/// This process leads the work only one process may do ([`Store::lead`]) until
/// [`Leadership::lost`] returns or the value is dropped (which gives the lead back).
pub struct Leadership {
    /// Turns true when the lead was lost (None: it cannot be, one process per store).
    lost: Option<tokio::sync::watch::Receiver<bool>>,
    _release: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Leadership {
    /// Returns when the lead is lost (never on sled).
    pub async fn lost(&mut self) {
        match &mut self.lost {
            Some(lost) => {
                let _ = lost.wait_for(|lost| *lost).await;
            }
            None => std::future::pending().await,
        }
    }
}

/// The store a command works on.
#[derive(Clone)]
pub enum Store {
    Sled(std::sync::Arc<SledStore>),
    Postgres(PgStore),
}

impl std::ops::Deref for Store {
    type Target = dyn Backend;

    fn deref(&self) -> &Self::Target {
        match self {
            Store::Sled(store) => store.as_ref(),
            Store::Postgres(store) => store,
        }
    }
}

impl Store {
    /// Whether `op` is the only admin (the shop would have none without it): the API
    /// and the CLI refuse to remove or demote that account.
    pub fn is_last_admin(&self, op: &crate::accounts::Operator) -> Result<bool> {
        use crate::accounts::Role;
        if op.role != Role::Admin {
            return Ok(false);
        }
        let admins = self.operators()?;
        Ok(admins.iter().filter(|o| o.role == Role::Admin).count() <= 1)
    }

    /// Open the store at `data`: a `postgres://` (or `postgresql://`) URL, or else a
    /// directory (sled, created if missing).
    /// A store an interrupted `store copy` left is refused ([`StoreError::Incomplete`]).
    pub fn open(data: &Path) -> Result<Store> {
        let store = match data.to_str().filter(|d| is_database_url(d)) {
            Some(url) => Store::Postgres(PgStore::open(url)?),
            None if data.exists() && !data.is_dir() => {
                return Err(StoreError::NotADirectory(data.to_owned()));
            }
            None if holds_other_files(data) && !sled::interrupted(data) => {
                return Err(StoreError::NotAStore(data.to_owned()));
            }
            None => Store::Sled(std::sync::Arc::new(SledStore::open(data)?)),
        };
        store.finished(data)
    }

    /// This store, unless a `store copy` into it stopped part way.
    fn finished(self, data: &Path) -> Result<Store> {
        if self.copy_unfinished()? {
            return Err(StoreError::Incomplete(shown(data)));
        }
        Ok(self)
    }

    /// The store `data` names, only if it exists: for a command that reads what a shop
    /// did, where [`Store::open`] would create a new, empty one (a mistyped directory, a
    /// database not there). A sled store is a directory sled made (`conf` and `db`) or
    /// one an interrupted `forget` left beside it (the open finishes the swap).
    pub fn open_existing(data: &Path) -> Result<Store> {
        if let Some(url) = data.to_str().filter(|d| is_database_url(d)) {
            return Store::Postgres(PgStore::open_existing(url)?).finished(data);
        }
        if data.exists() && !data.is_dir() {
            return Err(StoreError::NotADirectory(data.to_owned()));
        }
        let made_by_sled = data.join("conf").is_file() && data.join("db").is_file();
        if !made_by_sled && !sled::interrupted(data) {
            return Err(StoreError::NoStore(shown(data)));
        }
        Store::open(data)
    }

    /// What is inconsistent in the store (empty: nothing).
    pub fn verify(&self) -> Result<Vec<String>> {
        match self {
            Store::Sled(store) => store.verify(),
            Store::Postgres(store) => store.verify(),
        }
    }

    /// The stored layout's version (after migration: the current one).
    pub fn layout_version(&self) -> Result<u64> {
        match self {
            Store::Sled(store) => store.layout_version(),
            Store::Postgres(store) => store.layout_version(),
        }
    }

    /// Whether the store takes a write now (`/healthz`).
    pub fn probe_write(&self) -> Result<()> {
        match self {
            Store::Sled(store) => store.probe_write(),
            Store::Postgres(store) => store.probe_write(),
        }
    }

    /// (records, bytes) stored now.
    pub fn footprint(&self) -> Result<(u64, u64)> {
        match self {
            Store::Sled(store) => store.footprint(),
            Store::Postgres(store) => store.footprint(),
        }
    }

    /// (flush requests, flushes done) since the store was opened.
    pub fn flush_counts(&self) -> (u64, u64) {
        match self {
            Store::Sled(store) => store.flush_counts(),
            // Every commit is its own flush, done by the server.
            Store::Postgres(_) => (0, 0),
        }
    }

    /// Records written by turns since the store was opened.
    pub fn records_written(&self) -> u64 {
        match self {
            Store::Sled(store) => store.records_written(),
            Store::Postgres(store) => store.records_written(),
        }
    }

    /// The abuse limits every process on the store shares (None: one process, it
    /// keeps them itself).
    pub fn shared_limits(&self) -> Option<&dyn SharedLimits> {
        match self {
            Store::Sled(_) => None,
            Store::Postgres(store) => Some(store),
        }
    }

    /// Whether other processes may use this store at the same time (PostgreSQL).
    pub fn is_shared(&self) -> bool {
        matches!(self, Store::Postgres(_))
    }

    /// Whether this process may go on delivering under the outbox leases it holds
    /// (false once it knows it lost its presence on a shared store: the others may be
    /// taking them over); always on sled.
    pub fn may_deliver(&self) -> bool {
        match self {
            Store::Sled(_) => true,
            Store::Postgres(store) => store.still_present(),
        }
    }

    /// Tell the other processes on this store a change (`payload`); a store only one
    /// process can open (sled) has nobody to tell.
    pub fn publish(&self, payload: &str) -> Result<()> {
        match self {
            Store::Sled(_) => Ok(()),
            Store::Postgres(store) => store.publish(payload),
        }
    }

    /// Call `on` with what other processes [`Store::publish`], until the store is
    /// dropped (sled: never).
    pub fn listen(&self, on: Box<dyn Fn(Heard<'_>) + Send + Sync>) {
        match self {
            Store::Sled(_) => {}
            Store::Postgres(store) => store.listen(on),
        }
    }

    /// Wait until this process leads `name` among the processes on the store (sled:
    /// at once, it is the only one).
    pub async fn lead(&self, name: &str) -> Leadership {
        match self {
            Store::Sled(_) => Leadership {
                lost: None,
                _release: None,
            },
            Store::Postgres(store) => store.lead(name).await,
        }
    }

    /// Delete what is `customer`'s and anonymise what the KPIs keep (on sled, then
    /// [`rewrite`] the directory once the store is closed; on PostgreSQL the tables
    /// are vacuumed).
    pub fn forget(&self, customer: &CustomerId) -> Result<Forgotten> {
        match self {
            Store::Sled(store) => store.forget(customer),
            Store::Postgres(store) => store.forget(customer),
        }
    }
}

/// Whether `dir` is a directory with entries sled did not make (a FAQ folder, a home
/// directory): writing a store there would mix it with them. Hidden files and a fresh
/// volume's `lost+found` do not count.
fn holds_other_files(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    let names: Vec<_> = entries
        .filter_map(|e| e.ok().map(|e| e.file_name()))
        .filter(|n| n != "lost+found" && !n.to_string_lossy().starts_with('.'))
        .collect();
    let by_sled = |n: &std::ffi::OsString| {
        let n = n.to_string_lossy();
        n == "conf" || n == "db" || n == "blobs" || n.starts_with("snap.")
    };
    !names.is_empty() && !names.iter().any(by_sled)
}

/// Whether `--data` names a database rather than a directory.
pub fn is_database_url(data: &str) -> bool {
    data.starts_with("postgres://") || data.starts_with("postgresql://")
}

/// What a listener hears from the other processes on a shared store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heard<'a> {
    /// A change another process published.
    Change(&'a str),
    /// The listener's connection failed and is back: changes published meanwhile were
    /// not heard (watchers should look at everything again).
    Gap,
}
