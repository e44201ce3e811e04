//! `sportello queue list|show|claim|reply|release|close`: the operator side in a terminal.

use crate::domain::{Author, OutboundKind, Ticket, TicketId};
use crate::service::Service;
use chrono::Utc;
use clap::{Args, Subcommand};
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum QueueCommand {
    /// Open tickets in queue order (priority, then waiting time).
    List {
        /// Print the open tickets as JSON (for scripts).
        #[arg(long)]
        json: bool,
    },
    /// One ticket with the conversation's transcript.
    Show { ticket: TicketId },
    /// Take a ticket: exactly one operator gets it.
    Claim {
        ticket: TicketId,
        #[command(flatten)]
        who: Operator,
    },
    /// Write to the customer (delivered on their own channel).
    Reply {
        ticket: TicketId,
        text: String,
        #[command(flatten)]
        who: Operator,
    },
    /// Put a claimed ticket back in the queue.
    Release {
        ticket: TicketId,
        #[command(flatten)]
        who: Operator,
    },
    /// Close a ticket: the bot answers the customer's next message.
    Close {
        ticket: TicketId,
        /// `--faq ID`: the FAQ entry that answers what the customer asked; their
        /// wording becomes a suggested question of it (`sportello faq suggest`).
        /// (After `close`, `--faq` names the entry, not the global FAQ folder: see
        /// [`super::close_faq_means_the_entry`].)
        #[arg(id = ANSWERED_BY, long = ANSWERED_BY, value_name = "ID")]
        faq: Option<String>,
        #[command(flatten)]
        who: Operator,
    },
}

impl QueueCommand {
    /// Whether the command reads the FAQ (`close --faq ID`); the others work on the
    /// store alone, from any folder (a cron job, another machine).
    pub fn reads_the_faq(&self) -> bool {
        matches!(self, QueueCommand::Close { faq: Some(_), .. })
    }
}

/// The long name `queue close`'s `--faq ID` is given internally (the global `--faq DIR`
/// keeps its own).
pub const ANSWERED_BY: &str = "answered-by-faq";

#[derive(Args)]
pub struct Operator {
    /// The operator's name (default: your login name, $USER).
    #[arg(long = "as", env = "SPORTELLO_OPERATOR")]
    name: Option<String>,
}

impl Operator {
    /// The account `--as` names (or $USER): it must exist (an action is logged under
    /// its name).
    fn account(&self, service: &Service) -> anyhow::Result<crate::accounts::Operator> {
        const HINT: &str = "hint: name an account with `--as NAME` (or SPORTELLO_OPERATOR); \
                            `sportello operator list` shows them, `sportello operator add \
                            NAME --department D` makes one";
        let (name, whose) = match &self.name {
            Some(name) => (name.clone(), ""),
            None => match std::env::var("USER") {
                Ok(user) if !user.is_empty() => (user, " (your login name, $USER)"),
                _ => anyhow::bail!(
                    "which operator? no `--as NAME`, no SPORTELLO_OPERATOR, and $USER is \
                     not set\n  {HINT}"
                ),
            },
        };
        let name = crate::accounts::valid_name(&name)?;
        service
            .store()
            .operator(&name)?
            .ok_or_else(|| anyhow::anyhow!("no operator `{name}`{whose}\n  {HINT}"))
    }
}

pub fn run(service: &Service, command: &QueueCommand) -> anyhow::Result<ExitCode> {
    let now = Utc::now();
    // Who acted, by name: `--as` may have come from $USER.
    let done = |verb: &str, t: Ticket, by: &str| {
        println!(
            "ticket {} {verb} by {by} ({}, {})",
            t.id, t.customer, t.department
        )
    };
    match command {
        QueueCommand::List { json } => list(service, *json)?,
        QueueCommand::Show { ticket } => show(service, *ticket)?,
        QueueCommand::Claim { ticket, who } => {
            let who = who.account(service)?;
            done(
                "claimed",
                service.claim(*ticket, &who.name, now)?,
                &who.name,
            )
        }
        QueueCommand::Reply { ticket, text, who } => {
            let who = who.account(service)?;
            done(
                "replied",
                service.reply(*ticket, &who.name, text, now)?,
                &who.name,
            )
        }
        QueueCommand::Release { ticket, who } => {
            let who = who.account(service)?;
            let admin = who.role == crate::accounts::Role::Admin;
            let released = service.release_as(*ticket, &who.name, admin, None, now)?;
            done("released", released, &who.name)
        }
        QueueCommand::Close { ticket, faq, who } => {
            let who = who.account(service)?;
            let closed = match faq {
                Some(faq) => service.close_answered_by(*ticket, &who.name, faq, now)?,
                None => service.close(*ticket, &who.name, now)?,
            };
            done("closed", closed, &who.name)
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn list(service: &Service, json: bool) -> anyhow::Result<()> {
    let queue = service.store().queue()?;
    if json {
        println!("{}", serde_json::to_string_pretty(&queue)?);
        return Ok(());
    }
    if queue.is_empty() {
        println!("the queue is empty");
        return Ok(());
    }
    let now = Utc::now();
    println!(
        "{:<6} {:<8} {:<16} {:<8} {:<10} {:<22} {:<16} summary",
        "ticket", "priority", "department", "waiting", "status", "customer", "reason"
    );
    for t in queue {
        let waited = waited(now - t.opened_at);
        let status = match &t.operator {
            Some(op) => format!("@{op}"),
            None => "queued".into(),
        };
        // One line: a mail's summary keeps its line breaks, a table row cannot.
        let one_line = t.summary.split_whitespace().collect::<Vec<_>>().join(" ");
        let summary: String = crate::text::for_terminal(&one_line)
            .chars()
            .take(50)
            .collect();
        println!(
            "{:<6} {:<8} {:<16} {:<8} {:<10} {:<22} {:<16} {summary}",
            t.id.to_string(),
            t.priority.to_string(),
            t.department,
            waited,
            status,
            t.customer.to_string(),
            t.reason.to_string()
        );
    }
    Ok(())
}

/// A wait for the queue's column, one word: "45m", "3h05m", "2d04h".
fn waited(wait: chrono::Duration) -> String {
    let minutes = wait.num_minutes().max(0);
    match minutes {
        0..60 => format!("{minutes}m"),
        60..1440 => format!("{}h{:02}m", minutes / 60, minutes % 60),
        _ => format!("{}d{:02}h", minutes / 1440, minutes % 1440 / 60),
    }
}

fn show(service: &Service, id: TicketId) -> anyhow::Result<()> {
    let t = service.ticket(id)?;
    println!(
        "ticket {}  {}  {} priority  department {}  reason {}",
        t.id, t.status, t.priority, t.department, t.reason
    );
    println!(
        "customer {}  language {}  order {}",
        t.customer,
        t.lang,
        t.order_number.as_deref().unwrap_or("-")
    );
    println!("opened {}", t.opened_at.format("%Y-%m-%d %H:%M"));
    println!();
    for m in service.store().transcript(&t.customer)? {
        let who = match &m.author {
            Author::Customer => "customer".to_owned(),
            Author::Bot => "bot".to_owned(),
            Author::Operator(name) => format!("operator {name}"),
        };
        println!(
            "[{}] {who}: {}",
            m.at.format("%m-%d %H:%M"),
            crate::text::for_terminal(&m.text)
        );
        // What a customer's "2" picked ("did you mean" lists); a survey's buttons are
        // its scores, shown as they are.
        if m.kind == Some(OutboundKind::Clarify) {
            for (n, label) in m.choices.iter().enumerate() {
                println!("    {}. {}", n + 1, crate::text::for_terminal(label));
            }
        } else if !m.choices.is_empty() {
            println!("    [{}]", crate::text::for_terminal(&m.choices.join(" ")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_wait_reads_in_minutes_hours_or_days() {
        let m = chrono::Duration::minutes;
        let shown: Vec<String> = [0, 59, 60, 185, 1439, 1440, 3125, -5]
            .into_iter()
            .map(|n| super::waited(m(n)))
            .collect();
        assert_eq!(
            shown,
            [
                "0m", "59m", "1h00m", "3h05m", "23h59m", "1d00h", "2d04h", "0m"
            ]
        );
    }
}
