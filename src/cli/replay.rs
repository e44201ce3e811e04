//! `sportello replay SCRIPT.jsonl`: a scripted stream of customer messages and operator
//! actions fed through the real `Service` on the script's own clock, printing every
//! message to a customer as a JSON line `{"at","customer","kind","text"}`. Into a fresh
//! `--data` directory it is how scenarios, demos and reports are checked.

use crate::accounts::{self, Operator, Role};
use crate::domain::{CustomerId, Inbound, Lang, TicketId};
use crate::service::Service;
use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;
use std::io::{BufRead, Write};
use std::path::Path;
use std::process::ExitCode;

/// One script line: a customer message, or an operator action on a customer's ticket.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Line {
    Customer {
        at: DateTime<Utc>,
        customer: String,
        text: String,
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        lang: Option<String>,
    },
    Operator {
        at: DateTime<Utc>,
        operator: String,
        #[serde(default)]
        text: Option<String>,
        /// With `close`: the FAQ entry that answered the customer.
        #[serde(default)]
        faq: Option<String>,
        #[serde(flatten)]
        action: Action,
    },
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Action {
    Claim(String),
    Reply(String),
    Close(String),
}

pub fn run(service: &Service, script: &Path) -> anyhow::Result<ExitCode> {
    let file =
        std::fs::File::open(script).with_context(|| format!("cannot read {}", script.display()))?;
    // Lines as bytes: one that is not UTF-8 is a bad line like any other, not the end.
    let lines = std::io::BufReader::new(file).split(b'\n').map(|line| {
        let mut bytes = line?;
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
        String::from_utf8(bytes)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
    });
    let label = script.display().to_string();
    let failed = play(service, lines, &label, &mut std::io::stdout().lock(), true)?;
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Feed script lines through the service, writing every message to a customer to
/// `out`; a bad line is skipped (and reported as `label:line` if `loud`). Returns how
/// many were.
pub(super) fn play(
    service: &Service,
    lines: impl Iterator<Item = std::io::Result<String>>,
    label: &str,
    out: &mut impl Write,
    loud: bool,
) -> anyhow::Result<usize> {
    let mut failed = 0;
    // The script's clock so far (the time and line number of its latest line).
    let mut clock: Option<(DateTime<Utc>, usize)> = None;
    for (n, raw) in lines.enumerate() {
        let raw = match raw {
            Ok(raw) => raw,
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                if loud {
                    eprintln!("{label}:{}: not UTF-8 text: skipped", n + 1);
                }
                failed += 1;
                continue;
            }
            Err(e) => return Err(e).with_context(|| format!("cannot read {label}")),
        };
        if raw.trim().is_empty() {
            continue;
        }
        let line = match parse(&raw) {
            Ok(line) => line,
            Err(e) => {
                if loud {
                    eprintln!("{label}:{}: {e:#}", n + 1);
                }
                failed += 1;
                continue;
            }
        };
        let at = line.at();
        if let Some((latest, from)) = clock.filter(|(latest, _)| at < *latest) {
            if loud {
                eprintln!(
                    "{label}:{}: {at} is before line {from}'s {latest}: skipped\n  hint: a \
                     script is played in time order; move the line or correct its \"at\"",
                    n + 1
                );
            }
            failed += 1;
            continue;
        }
        clock = Some((at, n + 1));
        fire_timers(service, at, out)?;
        match step(service, line, n + 1) {
            Ok(customer) => {
                print_delivered(service, &customer, out)?;
                // What the step changed for others (a claim moves the queue).
                for other in service.fire_due(at)? {
                    print_delivered(service, &other, out)?;
                }
            }
            Err(e) => {
                if loud {
                    eprintln!("{label}:{}: {e:#}", n + 1);
                }
                failed += 1;
            }
        }
    }
    Ok(failed)
}

fn parse(raw: &str) -> anyhow::Result<Line> {
    serde_json::from_str(raw).context(
        "not a script line\n  hint: {\"at\", \"customer\", \"text\"} or {\"at\", \"operator\", \"claim\"|\"reply\"|\"close\": CUSTOMER, \"text\"}",
    )
}

impl Line {
    fn at(&self) -> DateTime<Utc> {
        match self {
            Line::Customer { at, .. } | Line::Operator { at, .. } => *at,
        }
    }
}

/// Fire, at their own due times, the timers due by `until` (a fired promise makes a
/// later one, so this runs until none is left that early).
fn fire_timers(
    service: &Service,
    until: DateTime<Utc>,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    for _ in 0..10_000 {
        match service.next_due()? {
            Some(due) if due <= until => {
                for customer in service.fire_due(due)? {
                    print_delivered(service, &customer, out)?;
                }
            }
            _ => return Ok(()),
        }
    }
    anyhow::bail!("timers kept firing before {until}: a promise is due again at once")
}

/// Apply one line; the customer it concerns.
fn step(service: &Service, line: Line, n: usize) -> anyhow::Result<CustomerId> {
    match line {
        Line::Customer {
            at,
            customer,
            text,
            name,
            lang,
        } => {
            let customer = CustomerId::parse(&customer)?;
            let inbound = Inbound {
                customer: customer.clone(),
                message_id: format!("replay-{n}"),
                text,
                at,
                sent_at: None,
                locale: lang.as_deref().and_then(Lang::from_locale),
                name,
                attachment: None,
                original: None,
            };
            service.handle_inbound(&inbound)?;
            Ok(customer)
        }
        Line::Operator {
            at,
            operator,
            text,
            faq,
            action,
        } => {
            let name = ensure_operator(service, &operator, at)?;
            let (customer, verb) = match &action {
                Action::Claim(c) => (c, "claim"),
                Action::Reply(c) => (c, "reply"),
                Action::Close(c) => (c, "close"),
            };
            let (customer, ticket) = open_ticket(service, customer, verb)?;
            match action {
                Action::Claim(_) => drop(service.claim(ticket, &name, at)?),
                Action::Close(_) => drop(match faq {
                    Some(faq) => service.close_answered_by(ticket, &name, &faq, at)?,
                    None => service.close(ticket, &name, at)?,
                }),
                Action::Reply(_) => {
                    let text = text.context("a reply needs \"text\"")?;
                    drop(service.reply(ticket, &name, &text, at)?);
                }
            }
            Ok(customer)
        }
    }
}

/// The customer's open ticket.
fn open_ticket(
    service: &Service,
    customer: &str,
    verb: &str,
) -> anyhow::Result<(CustomerId, TicketId)> {
    let id = CustomerId::parse(customer)?;
    let ticket = service
        .store()
        .conversation(&id)?
        .and_then(|c| c.ticket)
        .with_context(|| format!("cannot {verb}: {customer} has no open ticket"))?;
    Ok((id, ticket))
}

/// Operators are created on first use (all departments, a random password nobody
/// knows: `operator add` or the console sets real ones).
fn ensure_operator(service: &Service, raw: &str, at: DateTime<Utc>) -> anyhow::Result<String> {
    let name = accounts::valid_name(raw)?;
    if service.store().operator(&name)?.is_none() {
        let departments: Vec<String> = service.config().departments.keys().cloned().collect();
        let op = Operator::new(
            &name,
            &accounts::new_secret(),
            Role::Operator,
            &departments,
            &departments,
            at,
        )?;
        service.store().add_operator(&op)?;
    }
    Ok(name)
}

/// Print and deliver what waits in the customer's outbox.
fn print_delivered(
    service: &Service,
    customer: &CustomerId,
    out: &mut impl Write,
) -> anyhow::Result<()> {
    let mut lines = Vec::new();
    service.deliver(customer, |m| {
        lines.push(json!({"at": m.at, "customer": m.customer, "kind": m.kind, "text": m.text}));
        true
    })?;
    for line in lines {
        writeln!(out, "{line}")?;
    }
    Ok(())
}
