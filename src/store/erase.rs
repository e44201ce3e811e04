//! Forgetting a customer for real. [`Store::forget`] deletes every record that is
//! theirs and keeps only anonymous counts (their tickets and events under a random
//! `forgotten:` id, without texts); then [`rewrite`] copies the live data into a fresh
//! store and destroys the old files, because sled is log-structured: a removed value
//! stays readable in old pages until they are reused.
//!
//! The swap survives a crash at any point: the copy is marked complete before the old
//! directory is moved aside, and [`Store::open`] finishes a swap it finds half done.

use super::{Result, Store, StoreError, customer_prefix, decode, encode};
use crate::domain::{CustomerId, EventKind, TicketStatus};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// What forgetting removed, for the operator who asked.
#[derive(Debug, Default, Serialize)]
pub struct Forgotten {
    pub messages: usize,
    pub notes: usize,
    pub tickets_anonymised: usize,
    pub events_anonymised: usize,
    /// The id their anonymous counts now carry.
    pub anonymous_id: String,
}

impl Store {
    /// Delete `customer`'s conversation, messages, notes, pending replies and dedupe
    /// keys; keep their tickets and events for the KPIs under a random anonymous id,
    /// with every text taken out. An open ticket is cancelled. Run [`rewrite`] after
    /// closing the store so that nothing is left in the files.
    pub fn forget(&self, customer: &CustomerId) -> Result<Forgotten> {
        // One anonymous id per forgetting, kept until it is done: a forget run again
        // after a crash puts the rest of the records under the same id.
        let started = format!("{FORGETTING}{}", customer.as_str());
        let anon = match self.meta.get(&started)? {
            Some(v) => {
                CustomerId::parse(&String::from_utf8_lossy(&v)).unwrap_or_else(|_| anonymous_id())
            }
            None => anonymous_id(),
        };
        self.meta.insert(&started, anon.as_str().as_bytes())?;
        let mut done = Forgotten {
            anonymous_id: anon.to_string(),
            ..Forgotten::default()
        };
        // Until the store is rewritten its files still hold what is erased here: the
        // next open finishes the job if this process does not.
        self.meta.insert(PENDING, &[1u8][..])?;
        self.flush()?;
        // Counts first, deletions last: an interrupted forget can simply be run again.
        done.tickets_anonymised = self.anonymise_tickets(customer, &anon)?;
        done.events_anonymised = self.anonymise_events(customer, &anon)?;
        self.drop_from_history(customer)?;
        done.messages = remove_prefix(&self.messages, customer)?;
        done.notes = remove_prefix(&self.notes, customer)?;
        for tree in [&self.dedupe, &self.outbox, &self.failed, &self.statuses] {
            remove_prefix(tree, customer)?;
        }
        self.conversations.remove(customer.as_str())?;
        self.unreachable.remove(customer.as_str())?;
        self.held.remove(customer.as_str())?;
        self.email_threads.remove(customer.as_str())?;
        self.contacts.remove(customer.as_str())?;
        self.remove_attachments(customer)?;
        self.meta.remove(&started)?;
        self.flush()?;
        Ok(done)
    }

    /// `customer`'s tickets under `anon`, texts out; an open one cancelled. Every
    /// ticket is read (not only those the index lists): forgetting is rare, and must
    /// not depend on an index being whole.
    fn anonymise_tickets(&self, customer: &CustomerId, anon: &CustomerId) -> Result<usize> {
        let mut count = 0;
        for kv in self.tickets.iter() {
            let (key, value) = kv?;
            let mut ticket: crate::domain::Ticket = decode("tickets", &value)?;
            if &ticket.customer != customer {
                continue;
            }
            ticket.customer = anon.clone();
            ticket.summary.clear();
            ticket.order_number = None;
            ticket.promise = None;
            if ticket.is_open() {
                self.unqueue(&ticket)?;
                ticket.status = TicketStatus::Cancelled;
                self.open_tickets.remove(&key)?;
            }
            self.tickets.insert(key, encode(&ticket))?;
            self.reindex_ticket(&ticket)?;
            count += 1;
        }
        Ok(count)
    }

    /// `customer`'s events under `anon`, texts out; every event is read, as above.
    fn anonymise_events(&self, customer: &CustomerId, anon: &CustomerId) -> Result<usize> {
        let mut count = 0;
        for kv in self.events.iter() {
            let (key, value) = kv?;
            let mut event: crate::domain::Event = decode("events", &value)?;
            if &event.customer != customer {
                continue;
            }
            event.customer = anon.clone();
            match &mut event.kind {
                EventKind::Decided { text, .. } => text.clear(),
                EventKind::SurveyAnswered { comment, .. } => *comment = None,
                _ => {}
            }
            self.events.insert(&key, encode(&event))?;
            // Listed under the anonymous id (and the time index's customer with it);
            // the entries under `customer` go in `rename_in_history`.
            self.reindex_event(super::be(&key), &event)?;
            count += 1;
        }
        Ok(count)
    }
}

fn remove_prefix(tree: &sled::Tree, customer: &CustomerId) -> Result<usize> {
    let keys: Vec<sled::IVec> = tree
        .scan_prefix(customer_prefix(customer))
        .keys()
        .collect::<std::result::Result<_, _>>()?;
    for key in &keys {
        tree.remove(key)?;
    }
    Ok(keys.len())
}

fn anonymous_id() -> CustomerId {
    let raw = crate::accounts::new_secret();
    CustomerId::parse(&format!("forgotten:{}", &raw[..16])).expect("hex is a valid id")
}

/// The places of a rewrite beside the data directory: the fresh copy, the old
/// directory waiting to be destroyed, and a lock file. Each directory carries a marker
/// of ours, so that a `data.old` a person made (a backup) is never touched.
struct Swap {
    dir: PathBuf,
    fresh: PathBuf,
    old: PathBuf,
    lock: PathBuf,
}

const COMPLETE: &str = "COMPLETE";
const FRESH_MARK: &str = "SPORTELLO_REWRITE";
const OLD_MARK: &str = "SPORTELLO_OLD";

impl Swap {
    fn of(dir: &Path) -> Result<Swap> {
        let dir = dir.canonicalize().or_else(|_| std::path::absolute(dir))?;
        let Some(name) = dir.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            return Err(StoreError::CannotRewrite(format!(
                "{} has no name of its own",
                dir.display()
            )));
        };
        Ok(Swap {
            fresh: dir.with_file_name(format!("{name}.sportello-rewrite")),
            old: dir.with_file_name(format!("{name}.sportello-old")),
            lock: dir.with_file_name(format!("{name}.sportello-lock")),
            dir,
        })
    }

    fn started(&self) -> bool {
        self.fresh.join(FRESH_MARK).exists() || self.old.join(OLD_MARK).exists()
    }

    /// One rewrite or recovery at a time, across processes.
    fn lock(&self) -> Result<std::fs::File> {
        let file = std::fs::File::create(&self.lock)?;
        file.lock()?;
        Ok(file)
    }

    /// The directory must be renamable (not a mount point of its own), and the names
    /// beside it free or ours.
    fn check_renamable(&self) -> Result<()> {
        for (path, mark) in [(&self.fresh, FRESH_MARK), (&self.old, OLD_MARK)] {
            if path.exists() && !path.join(mark).exists() {
                return Err(StoreError::CannotRewrite(format!(
                    "{} exists and is not sportello's: move it away",
                    path.display()
                )));
            }
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let parent = self.dir.parent().unwrap_or(Path::new("/"));
            if std::fs::metadata(&self.dir)?.dev() != std::fs::metadata(parent)?.dev() {
                return Err(StoreError::CannotRewrite(format!(
                    "{} is a mount point and cannot be swapped for a fresh copy",
                    self.dir.display()
                )));
            }
        }
        Ok(())
    }
}

/// Refuse before anything is erased if the store in `dir` could not be rewritten.
pub fn check_rewritable(dir: &Path) -> Result<()> {
    Swap::of(dir)?.check_renamable()
}

/// Copy the live records of the store in `dir` into a fresh store, swap it in, and
/// overwrite and delete the old files. The store must not be open elsewhere.
pub fn rewrite(dir: &Path) -> Result<()> {
    let swap = Swap::of(dir)?;
    swap.check_renamable()?;
    let _lock = swap.lock()?;
    if swap.fresh.join(FRESH_MARK).exists() {
        std::fs::remove_dir_all(&swap.fresh)?;
    }
    copy_live(&swap)?;
    std::fs::write(swap.fresh.join(COMPLETE), b"")?;
    sync_dir(&swap.fresh)?;
    finish_swap(&swap)
}

/// The store this process just closed: sled's flusher thread may hold its lock a
/// moment longer, so wait for it (never for another process's: a few seconds at most).
pub(super) fn reopen(dir: &Path) -> Result<Store> {
    for _ in 0..100 {
        match Store::open_as_is(dir) {
            Err(StoreError::InUse(_)) => std::thread::sleep(std::time::Duration::from_millis(50)),
            other => return other,
        }
    }
    Store::open_as_is(dir)
}

fn copy_live(swap: &Swap) -> Result<()> {
    let from = reopen(&swap.dir)?;
    std::fs::create_dir_all(&swap.fresh)?;
    std::fs::write(swap.fresh.join(FRESH_MARK), b"")?;
    let to = sled::open(&swap.fresh)?;
    for name in from.db.tree_names() {
        let (source, target) = (from.db.open_tree(&name)?, to.open_tree(&name)?);
        for kv in source.iter() {
            let (k, v) = kv?;
            target.insert(k, v)?;
        }
    }
    let meta = to.open_tree("meta")?;
    // Sequence numbers keep growing across the copy (keys sort in write order).
    let floor = from.next_seq()?.saturating_add(1);
    meta.insert(SEQ_FLOOR, &floor.to_be_bytes())?;
    meta.remove(PENDING)?;
    to.flush()?;
    Ok(())
}

/// `meta` key: added to sled's id generator, which starts again at 0 in a copy.
pub(super) const SEQ_FLOOR: &str = "seq_floor";
/// `meta` key prefix: a forget under way, its customer -> the anonymous id it uses.
const FORGETTING: &str = "forgetting:";
/// `meta` key: records were erased and the files still hold them until a rewrite.
pub(super) const PENDING: &str = "rewrite_pending";

/// Finish a rewrite a crash interrupted (called by [`Store::open`]): a complete copy
/// is swapped in, an incomplete one dropped, a directory moved aside and not replaced
/// is moved back.
pub(super) fn recover(dir: &Path) -> Result<()> {
    let swap = Swap::of(dir)?;
    if !swap.started() {
        return Ok(());
    }
    let _lock = swap.lock()?;
    if swap.fresh.join(COMPLETE).exists() {
        return finish_swap(&swap);
    }
    if swap.fresh.join(FRESH_MARK).exists() {
        std::fs::remove_dir_all(&swap.fresh)?;
    }
    if swap.old.join(OLD_MARK).exists() {
        if swap.dir.exists() {
            destroy(&swap.old)?;
        } else {
            std::fs::rename(&swap.old, &swap.dir)?;
            std::fs::remove_file(swap.dir.join(OLD_MARK))?;
        }
    }
    Ok(())
}

fn finish_swap(swap: &Swap) -> Result<()> {
    if swap.dir.exists() && !swap.dir.join(FRESH_MARK).exists() {
        if swap.old.join(OLD_MARK).exists() {
            destroy(&swap.old)?;
        }
        std::fs::write(swap.dir.join(OLD_MARK), b"")?;
        std::fs::rename(&swap.dir, &swap.old)?;
    }
    if swap.fresh.exists() {
        std::fs::rename(&swap.fresh, &swap.dir)?;
    }
    for mark in [COMPLETE, FRESH_MARK] {
        let path = swap.dir.join(mark);
        if path.exists() {
            std::fs::remove_file(path)?;
        }
    }
    sync_dir(swap.dir.parent().unwrap_or(Path::new("/")))?;
    if swap.old.join(OLD_MARK).exists() {
        destroy(&swap.old)?;
    }
    Ok(())
}

/// Overwrite every file with zeros, then delete the directory.
fn destroy(dir: &Path) -> Result<()> {
    use std::io::Write;
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let len = std::fs::metadata(&path)?.len();
            let mut file = std::fs::OpenOptions::new().write(true).open(&path)?;
            let zeros = vec![0u8; 64 * 1024];
            let mut left = len;
            while left > 0 {
                let n = left.min(zeros.len() as u64) as usize;
                file.write_all(&zeros[..n])?;
                left -= n as u64;
            }
            file.sync_all()?;
        }
    }
    std::fs::remove_dir_all(dir)?;
    Ok(())
}

fn sync_dir(dir: &Path) -> Result<()> {
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Event, Lang};

    fn message(customer: &CustomerId, minutes: i64) -> Event {
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-02T09:00:00Z")
            .unwrap()
            .to_utc();
        Event {
            at: at + chrono::Duration::minutes(minutes),
            customer: customer.clone(),
            kind: EventKind::Decided {
                text: "il mio indirizzo è via Zanzibar 3".into(),
                lang: Lang::It,
                decision: crate::domain::triage::DecisionKind::Answer,
                cause: crate::domain::triage::Cause::Confident,
                target: None,
                intent: None,
                reason: String::new(),
                candidates: Vec::new(),
            },
        }
    }

    #[test]
    fn a_forget_run_again_after_a_crash_finishes_under_the_same_anonymous_id() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let giulia = CustomerId::parse("telegram:501").unwrap();
        let marco = CustomerId::parse("telegram:777").unwrap();
        let events: Vec<Event> = (0..6)
            .map(|i| message(if i % 2 == 0 { &giulia } else { &marco }, i))
            .collect();
        store.append_events(&events).unwrap();
        // The first run got as far as the events, then the process died.
        let first = anonymous_id();
        let started = format!("{FORGETTING}{}", giulia.as_str());
        store
            .meta
            .insert(&started, first.as_str().as_bytes())
            .unwrap();
        store.anonymise_events(&giulia, &first).unwrap();
        // Run again: the same id, the index whole, nothing of hers left.
        let done = store.forget(&giulia).unwrap();
        assert_eq!(done.anonymous_id, first.to_string());
        assert_eq!(store.verify().unwrap(), Vec::<String>::new());
        assert!(store.events_of(&giulia).unwrap().is_empty());
        let anonymous = store.events_of(&first).unwrap();
        assert_eq!(anonymous.len(), 3);
        assert!(anonymous.iter().all(|e| e.customer == first));
        assert_eq!(store.events_of(&marco).unwrap().len(), 3);
        assert!(store.meta.get(&started).unwrap().is_none());
        // A forget of its own starts from a fresh id.
        let again = store.forget(&marco).unwrap();
        assert_ne!(again.anonymous_id, done.anonymous_id);
    }
}
