//! `sportello customer show|export|forget ID`: a customer's record, their GDPR access
//! copy, and erasure that leaves nothing of them in the data directory's files.

use crate::domain::CustomerId;
use crate::report::customer;
use clap::Subcommand;
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum CustomerCommand {
    /// The customer's record: channels, name, language, first seen, conversations,
    /// tickets, order numbers, CSAT/NPS given.
    Show {
        id: CustomerId,
        /// Print the record as one JSON object (for scripts).
        #[arg(long)]
        json: bool,
    },
    /// Everything stored about the customer, as JSON (the GDPR access copy).
    Export { id: CustomerId },
    /// Erase the customer's messages and personal data; keep anonymous counts for the
    /// KPIs. Rewrites the data directory: stop `serve` first.
    Forget { id: CustomerId },
}

pub fn run(cli: &super::Cli, cmd: &CustomerCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        CustomerCommand::Show { id, json } => {
            let Some(record) = customer::record(&cli.existing_store()?, id)? else {
                return Ok(unknown(id));
            };
            if *json {
                println!("{}", serde_json::to_string_pretty(&record)?);
            } else {
                print_record(&record);
            }
        }
        CustomerCommand::Export { id } => {
            let Some(copy) = customer::access_copy(&cli.existing_store()?, id)? else {
                return Ok(unknown(id));
            };
            println!("{}", serde_json::to_string_pretty(&copy)?);
        }
        CustomerCommand::Forget { id } => {
            let store = cli.existing_store()?;
            if store.conversation(id)?.is_none() {
                return Ok(unknown(id));
            }
            let sled = matches!(store, crate::store::Store::Sled(_));
            if sled {
                crate::store::check_rewritable(&cli.data)?;
            }
            let done = store.forget(id)?;
            drop(store);
            let after = if sled {
                crate::store::rewrite(&cli.data)?;
                "data directory rewritten"
            } else {
                "rows deleted and the tables vacuumed (the server's WAL and backups are yours to rotate)"
            };
            let n = super::counted;
            println!(
                "forgot {id}: {} and {} erased; {} and {} kept as {} without texts; {after}",
                n(done.messages, "message", "messages"),
                n(done.notes, "note", "notes"),
                n(done.tickets_anonymised, "ticket", "tickets"),
                n(done.events_anonymised, "event", "events"),
                done.anonymous_id
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn unknown(id: &CustomerId) -> ExitCode {
    eprintln!(
        "error: no customer {id} in this store\n  hint: ids look like telegram:123 or web:4f2a; the console shows them"
    );
    ExitCode::FAILURE
}

fn print_record(r: &customer::Record) {
    let name = r.name.as_deref().unwrap_or("(no name)");
    println!("{}  {}", r.id, crate::text::for_terminal(name));
    let lang = r.lang.map_or("-".into(), |l| l.to_string());
    println!(
        "channels {}  language {lang}  first seen {}  last seen {}",
        r.channels.join(", "),
        r.first_seen.format("%Y-%m-%d %H:%M"),
        r.last_seen.format("%Y-%m-%d %H:%M")
    );
    println!(
        "conversations {}  messages {}  orders {}",
        r.conversations,
        r.messages,
        if r.order_numbers.is_empty() {
            "-".into()
        } else {
            r.order_numbers.join(", ")
        }
    );
    for t in &r.tickets {
        println!(
            "  ticket #{} {} {} ({}) opened {} by {}",
            t.id.0,
            t.department,
            t.status,
            t.reason,
            t.opened_at.format("%Y-%m-%d %H:%M"),
            t.operator.as_deref().unwrap_or("-")
        );
    }
    for s in &r.surveys {
        let comment = crate::text::for_terminal(s.comment.as_deref().unwrap_or(""));
        let survey = match s.survey {
            crate::domain::SurveyKind::Csat => "CSAT",
            crate::domain::SurveyKind::Nps => "NPS",
        };
        println!("  {survey} {} {comment}", s.score);
    }
}
