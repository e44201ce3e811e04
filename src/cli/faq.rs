//! `sportello faq gaps | drafts --out DIR | suggest [--apply]`: the FAQ grows from
//! what customers asked, in their own words.

use crate::domain::{EventKind, Lang};
use crate::faq::suggest::{add_questions, diff};
use crate::faq::{DRAFT_MARK, DRAFT_NOTES};
use crate::report::gaps::{Gap, gaps, judged};
use anyhow::Context;
use chrono::DateTime;
use clap::Subcommand;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum FaqCommand {
    /// The messages the bot could not answer, grouped by similarity, with counts and
    /// examples.
    Gaps {
        /// Print the groups as JSON (for scripts).
        #[arg(long)]
        json: bool,
    },
    /// Write a draft entry per gap (never served until an editor removes
    /// `draft = true`): the customers' phrasings as questions, operators' replies below.
    Drafts {
        #[arg(long)]
        out: PathBuf,
        /// Only gaps asked at least this many times.
        #[arg(long, default_value_t = 2)]
        min: usize,
    },
    /// Customers' wordings of tickets closed as "answered by FAQ X", as a diff of X's
    /// file; `--apply` writes them.
    Suggest {
        #[arg(long)]
        apply: bool,
    },
}

pub fn run(cli: &super::Cli, cmd: &FaqCommand) -> anyhow::Result<ExitCode> {
    let store = cli.existing_store()?;
    let events = store.events().collect::<crate::store::Result<Vec<_>>>()?;
    match cmd {
        FaqCommand::Gaps { json } => {
            let found = judged(&cli.brain()?, gaps(&store, &events)?);
            if *json {
                println!("{}", serde_json::to_string_pretty(&found)?);
            } else {
                print_gaps(&found);
            }
        }
        FaqCommand::Drafts { out, min } => {
            let brain = cli.brain()?;
            let found = judged(&brain, gaps(&store, &events)?);
            let asked_enough: Vec<&Gap> = found.iter().filter(|g| g.count >= *min).collect();
            if found.is_empty() {
                eprintln!("nothing to draft: no unanswered question stored");
            } else if asked_enough.is_empty() {
                eprintln!(
                    "nothing to draft: no unanswered question was asked {min} times or more \
                     ({} asked fewer: `faq gaps` lists them, `--min 1` drafts them)",
                    found.len()
                );
            }
            for gap in asked_enough {
                if let Some(id) = &gap.close_to {
                    offer_to_entry(&brain, id, gap)?;
                }
                // Close to an entry is a guess from words ("confezione regalo" near the
                // gift cards): what operators answered instead is kept as a draft.
                if gap.close_to.is_none() || !gap.operator_replies.is_empty() {
                    write_draft(out, gap)?;
                }
            }
        }
        FaqCommand::Suggest { apply } => suggest(cli, &store, &events, *apply)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// A gap close to entry `id`: its phrasings as new questions of that entry, shown as
/// a diff of its file (not written: `faq drafts` never edits served entries).
fn offer_to_entry(brain: &crate::matcher::Brain, id: &str, gap: &Gap) -> anyhow::Result<()> {
    let Some(entry) = brain.faq.entry(id) else {
        return Ok(());
    };
    let old = std::fs::read_to_string(&entry.path)
        .with_context(|| format!("reading {}", entry.path.display()))?;
    let known: Vec<String> = entry
        .questions
        .iter()
        .map(|q| crate::text::normalise(q))
        .collect();
    let new_questions: Vec<String> = gap
        .examples
        .iter()
        .filter(|q| !known.contains(&crate::text::normalise(q)))
        .cloned()
        .collect();
    println!(
        "close to entry `{id}` ({}): if it answers them, add these questions to it{}",
        super::counted(gap.count, "message", "messages"),
        if gap.operator_replies.is_empty() {
            ""
        } else {
            "; if not, the draft below has what operators answered"
        }
    );
    if let Some(new) = add_questions(&old, &new_questions) {
        print!("{}", diff(&entry.path.display().to_string(), &old, &new));
    }
    Ok(())
}

fn print_gaps(found: &[Gap]) {
    if found.is_empty() {
        println!("no question the FAQ does not answer today");
    }
    for g in found {
        println!("{:>4}  [{}] {}", g.count, g.lang, g.words.join(" "));
        for e in g.examples.iter().take(3) {
            println!("        «{}»", crate::text::for_terminal(e));
        }
        for reply in g.operator_replies.iter().take(2) {
            let short: String = reply.chars().take(120).collect();
            let cut = if short.len() < reply.len() { "…" } else { "" };
            println!(
                "        operator: «{}{cut}»",
                crate::text::for_terminal(&short.replace('\n', " "))
            );
        }
        if let Some(id) = &g.close_to {
            println!(
                "        -> close to entry `{id}`: if it answers these, add them to it (`faq drafts` shows the diff)"
            );
        }
    }
}

fn write_draft(dir: &Path, gap: &Gap) -> anyhow::Result<()> {
    let slug = if gap.words.is_empty() {
        "domanda".into()
    } else {
        gap.words.join("-")
    };
    let id = match gap.lang {
        Lang::It => format!("bozza-{slug}"),
        Lang::En => format!("draft-{slug}"),
    };
    let path = dir.join(gap.lang.to_string()).join(format!("{id}.md"));
    if path.exists() {
        println!(
            "kept {} (already there: an editor may be working on it)",
            path.display()
        );
        return Ok(());
    }
    std::fs::create_dir_all(path.parent().expect("has a folder"))
        .with_context(|| format!("creating {}", dir.display()))?;
    std::fs::write(&path, draft_text(&id, gap))
        .with_context(|| format!("writing {}", path.display()))?;
    println!(
        "wrote {} ({})",
        path.display(),
        super::counted(gap.count, "message", "messages")
    );
    Ok(())
}

fn draft_text(id: &str, gap: &Gap) -> String {
    let quote = |s: &str| toml::Value::String(s.to_owned()).to_string();
    let questions: String = gap
        .examples
        .iter()
        .map(|q| format!("  {},\n", quote(q)))
        .collect();
    let (first, last) = (
        gap.first_at.format("%Y-%m-%d"),
        gap.last_at.format("%Y-%m-%d"),
    );
    let (note, asked, replies_title, none) = match gap.lang {
        Lang::It => (
            format!(
                "Bozza scritta da `{DRAFT_MARK}`: scrivi qui la risposta, poi togli `draft = true`."
            ),
            match gap.count {
                1 => format!("Chiesto una volta, il {first}."),
                n if first.to_string() == last.to_string() => {
                    format!("Chiesto {n} volte, il {first}.")
                }
                n => format!("Chiesto {n} volte, dal {first} al {last}."),
            },
            DRAFT_NOTES[1],
            DRAFT_NOTES[2],
        ),
        Lang::En => (
            format!(
                "Draft written by `{DRAFT_MARK}`: write the answer here, then remove `draft = true`."
            ),
            match gap.count {
                1 => format!("Asked once, on {first}."),
                n if first.to_string() == last.to_string() => {
                    format!("Asked {n} times, on {first}.")
                }
                n => format!("Asked {n} times, {first} to {last}."),
            },
            DRAFT_NOTES[3],
            DRAFT_NOTES[4],
        ),
    };
    let replies: String = if gap.operator_replies.is_empty() {
        format!("{none}\n")
    } else {
        gap.operator_replies
            .iter()
            .map(|r| format!("> {}\n>\n", r.replace('\n', "\n> ")))
            .collect()
    };
    format!(
        "+++\nid = {}\nlang = \"{}\"\ndraft = true\nquestions = [\n{questions}]\n+++\n{note}\n{asked}\n\n{replies_title}\n\n{replies}",
        quote(id),
        gap.lang,
    )
}

/// The customer's question that the operator answered on `ticket`: the latest message
/// of their own words up to the handoff, in the same conversation (the last 24 hours,
/// since their previous ticket was closed; one they took back with "annulla" is no
/// boundary); if there is none ("voglio un operatore" straight away), the first one
/// they wrote while waiting, before the operator's first reply and the close. Never a
/// request for a person, a greeting or another intent's phrase, nor the "ok, grazie"
/// they write once answered.
fn asked(
    store: &crate::store::Store,
    brain: &crate::matcher::Brain,
    ticket: &crate::domain::Ticket,
) -> anyhow::Result<Option<String>> {
    use crate::domain::{Author, TicketStatus};
    let session = ticket.opened_at - crate::domain::SESSION_GAP;
    let since = store
        .tickets_of(&ticket.customer)?
        .iter()
        .filter(|t| t.id != ticket.id && t.status == TicketStatus::Closed)
        .filter_map(|t| t.closed_at)
        .filter(|closed| *closed <= ticket.opened_at)
        .fold(session, DateTime::max);
    let transcript = store.transcript(&ticket.customer)?;
    let own_words = |text: &str| {
        crate::text::word_count(text) >= 2 && brain.analyse(text, None).intent.is_none()
    };
    let customer = |m: &&crate::store::StoredMessage| m.author == Author::Customer;
    let before = transcript
        .iter()
        .rev()
        .filter(customer)
        .filter(|m| m.at > since && m.at <= ticket.opened_at)
        .map(|m| m.text.trim())
        .find(|text| own_words(text));
    let closed = ticket.closed_at.unwrap_or(DateTime::<chrono::Utc>::MAX_UTC);
    let replied = transcript
        .iter()
        .find(|m| m.at > ticket.opened_at && matches!(m.author, Author::Operator(_)))
        .map_or(closed, |m| m.at.min(closed));
    let found = before.or_else(|| {
        transcript
            .iter()
            .filter(customer)
            .filter(|m| m.at > ticket.opened_at && m.at < replied)
            .map(|m| m.text.trim())
            .find(|text| own_words(text))
    });
    Ok(found.map(str::to_owned))
}

fn suggest(
    cli: &super::Cli,
    store: &crate::store::Store,
    events: &[crate::domain::Event],
    apply: bool,
) -> anyhow::Result<()> {
    let brain = cli.brain()?;
    let mut wanted: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();
    for e in events {
        let EventKind::AnsweredByFaq { ticket, faq, .. } = &e.kind else {
            continue;
        };
        let (Some(entry), Some(ticket)) = (brain.faq.entry(faq), store.ticket(*ticket)?) else {
            continue;
        };
        let Some(wording) = asked(store, &brain, &ticket)? else {
            continue;
        };
        // An FAQ file is shared and committed: the question without who asked it.
        let name = store.conversation(&ticket.customer)?.and_then(|c| c.name);
        let wording = crate::text::personal::scrub(&wording, name.as_deref());
        let key = crate::text::normalise(&wording);
        let list = wanted.entry(entry.path.clone()).or_default();
        let known = entry
            .questions
            .iter()
            .chain(list.iter())
            .any(|q| crate::text::normalise(q) == key);
        if !wording.is_empty() && !known {
            list.push(wording);
        }
    }
    let mut written = 0;
    for (path, questions) in wanted.iter().filter(|(_, q)| !q.is_empty()) {
        let old =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let Some(new) = add_questions(&old, questions) else {
            let by_hand: String = questions
                .iter()
                .map(|q| format!("\n  {}", toml::Value::String(q.clone())))
                .collect();
            eprintln!(
                "{}: its front matter has no `questions = [...]` list this edit can extend \
                 without touching anything else (a comment on the list's lines?); add by \
                 hand:{by_hand}",
                path.display()
            );
            continue;
        };
        print!("{}", diff(&path.display().to_string(), &old, &new));
        if apply {
            std::fs::write(path, new).with_context(|| format!("writing {}", path.display()))?;
            written += 1;
        }
    }
    match (apply, written) {
        (false, _) if wanted.values().all(Vec::is_empty) => eprintln!(
            "nothing to suggest: no ticket closed with `--faq ID` asked in words its entry lacks"
        ),
        (false, _) => {}
        (true, 0) => eprintln!("nothing to apply: no entry gained a question"),
        (true, n) => eprintln!("applied to {n} file(s): review with `git diff`, commit to keep"),
    }
    Ok(())
}
