//! Forgetting a customer for real. [`Store::forget`] deletes every record that is
//! theirs and keeps only anonymous counts (their tickets and events under a random
//! `forgotten:` id, without texts); then [`rewrite`] copies the live data into a fresh
//! store and destroys the old files, because sled is log-structured: a removed value
//! stays readable in old pages until they are reused.
//!
//! The swap survives a crash at any point: the copy is marked complete before the old
//! directory is moved aside, and [`Store::open`] finishes a swap it finds half done.

use super::{Result, Store, customer_prefix, decode, encode};
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
        let anon = anonymous_id();
        let mut done = Forgotten {
            anonymous_id: anon.to_string(),
            ..Forgotten::default()
        };
        // Counts first, deletions last: an interrupted forget can simply be run again.
        done.tickets_anonymised = self.anonymise_tickets(customer, &anon)?;
        done.events_anonymised = self.anonymise_events(customer, &anon)?;
        done.messages = remove_prefix(&self.messages, customer)?;
        done.notes = remove_prefix(&self.notes, customer)?;
        for tree in [&self.dedupe, &self.outbox, &self.failed] {
            remove_prefix(tree, customer)?;
        }
        self.conversations.remove(customer.as_str())?;
        self.unreachable.remove(customer.as_str())?;
        self.flush()?;
        Ok(done)
    }

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
                ticket.status = TicketStatus::Cancelled;
                self.open_tickets.remove(&key)?;
            }
            self.tickets.insert(key, encode(&ticket))?;
            count += 1;
        }
        Ok(count)
    }

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
            self.events.insert(key, encode(&event))?;
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

/// Where the fresh copy is built, and where the old directory waits to be destroyed.
fn siblings(dir: &Path) -> (PathBuf, PathBuf) {
    let name = dir
        .file_name()
        .map_or_else(|| "data".into(), |n| n.to_string_lossy().into_owned());
    (
        dir.with_file_name(format!("{name}.rewrite")),
        dir.with_file_name(format!("{name}.old")),
    )
}

const COMPLETE: &str = "COMPLETE";

/// Copy the live records of the store in `dir` into a fresh store, swap it in, and
/// overwrite and delete the old files. The store must not be open elsewhere.
pub fn rewrite(dir: &Path) -> Result<()> {
    let (fresh, old) = siblings(dir);
    if fresh.exists() {
        std::fs::remove_dir_all(&fresh)?;
    }
    {
        let from = Store::open(dir)?;
        let to = sled::open(&fresh)?;
        for name in from.db.tree_names() {
            let (source, target) = (from.db.open_tree(&name)?, to.open_tree(&name)?);
            for kv in source.iter() {
                let (k, v) = kv?;
                target.insert(k, v)?;
            }
        }
        // Sequence numbers keep growing across the copy (keys sort in write order).
        let floor = from.next_seq()?.saturating_add(1);
        to.open_tree("meta")?
            .insert(SEQ_FLOOR, &floor.to_be_bytes())?;
        to.flush()?;
    }
    std::fs::write(fresh.join(COMPLETE), b"")?;
    sync_dir(&fresh)?;
    finish_swap(dir, &fresh, &old)
}

/// `meta` key: added to sled's id generator, which starts again at 0 in a copy.
pub(super) const SEQ_FLOOR: &str = "seq_floor";

/// Finish a rewrite a crash interrupted (called by [`Store::open`]).
pub(super) fn recover(dir: &Path) -> Result<()> {
    let (fresh, old) = siblings(dir);
    if fresh.join(COMPLETE).exists() {
        finish_swap(dir, &fresh, &old)
    } else {
        if fresh.exists() {
            std::fs::remove_dir_all(&fresh)?;
        }
        if old.exists() && dir.exists() {
            destroy(&old)?;
        }
        Ok(())
    }
}

fn finish_swap(dir: &Path, fresh: &Path, old: &Path) -> Result<()> {
    if dir.exists() {
        if old.exists() {
            destroy(old)?;
        }
        std::fs::rename(dir, old)?;
    }
    std::fs::rename(fresh, dir)?;
    std::fs::remove_file(dir.join(COMPLETE))?;
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        sync_dir(parent)?;
    }
    destroy(old)
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
