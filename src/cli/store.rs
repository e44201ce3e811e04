//! `sportello store copy`: move a shop between backends (or directories, or databases).

use crate::store::Store;
use anyhow::Context;
use clap::Subcommand;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum StoreCommand {
    /// Copy everything (conversations, transcripts, tickets, events, accounts, notes,
    /// outbox...) from one store into an empty one: a directory or postgres:// URL each.
    Copy {
        #[arg(long)]
        from: PathBuf,
        #[arg(long)]
        to: PathBuf,
    },
}

pub fn run(cmd: &StoreCommand) -> anyhow::Result<ExitCode> {
    let StoreCommand::Copy { from, to } = cmd;
    let shown = crate::store::shown;
    anyhow::ensure!(
        from != to,
        "--from and --to are the same store ({}): name an empty one to copy into",
        shown(from)
    );
    // A mistyped source would otherwise be opened as a new, empty store and "copied".
    let source = Store::open_existing(from).map_err(|e| match e {
        crate::store::StoreError::NoStore(at) => anyhow::anyhow!(
            "no store at {at}\n  hint: --from names the data directory a shop ran with \
             (--data), or its postgres:// URL"
        ),
        other => anyhow::Error::new(other).context(format!("opening {}", shown(from))),
    })?;
    let target = Store::open(to).with_context(|| format!("opening {}", shown(to)))?;
    let copied = crate::store::copy::copy(&source, &target).map_err(|e| {
        let copying = format!("copying {} to {}", shown(from), shown(to));
        // Refused before the mark (not empty, not writable): nothing was written.
        if !target.copy_unfinished().unwrap_or(true) {
            return anyhow::Error::new(e).context(copying);
        }
        // What was written stays marked unfinished: every command refuses it.
        anyhow::anyhow!(
            "{copying}: {e}\n  {} holds part of the shop and is marked unfinished (every \
             command refuses it): delete it before you copy again",
            shown(to)
        )
    })?;
    let problems = target.verify()?;
    let total: u64 = copied.values().sum();
    println!(
        "copied {total} records from {} to {}",
        shown(from),
        shown(to)
    );
    for (kind, n) in &copied {
        println!("  {kind:<18} {n}");
    }
    if problems.is_empty() {
        println!("the copy checks out (check --store: 0 problems)");
        Ok(ExitCode::SUCCESS)
    } else {
        for p in &problems {
            eprintln!("copy: {p}");
        }
        Ok(ExitCode::FAILURE)
    }
}
