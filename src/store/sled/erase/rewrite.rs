//! The rewrite after a forget: the live records copied into a fresh store beside the
//! data directory, swapped in, the old files overwritten and deleted; a swap a crash
//! interrupted is finished at the next open.

use crate::store::sled::{Result, SledStore, StoreError};
use std::path::{Path, PathBuf};

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
pub(in crate::store) fn reopen(dir: &Path) -> Result<SledStore> {
    for _ in 0..100 {
        match SledStore::open_as_is(dir) {
            Err(StoreError::InUse(_)) => std::thread::sleep(std::time::Duration::from_millis(50)),
            other => return other,
        }
    }
    SledStore::open_as_is(dir)
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
pub(in crate::store) const SEQ_FLOOR: &str = "seq_floor";
/// `meta` key: records were erased and the files still hold them until a rewrite.
pub(in crate::store) const PENDING: &str = "rewrite_pending";

/// Whether a rewrite of `dir` was started and not finished (its store may be beside it
/// until the next open swaps it back in).
pub(in crate::store) fn interrupted(dir: &Path) -> bool {
    Swap::of(dir).is_ok_and(|swap| swap.started())
}

/// Finish a rewrite a crash interrupted (called by [`SledStore::open`]): a complete copy
/// is swapped in, an incomplete one dropped, a directory moved aside and not replaced
/// is moved back.
pub(in crate::store) fn recover(dir: &Path) -> Result<()> {
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
