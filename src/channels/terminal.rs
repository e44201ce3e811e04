//! `sportello chat`: the customer side in a terminal. Lines in are messages; replies,
//! Clarify choices (answer with their number) and operator replies are printed.
//! While it runs, edits to the content folders are picked up.

use crate::domain::{CustomerId, Inbound, Lang, Outbound, OutboundKind};
use crate::service::{ContentDirs, Service};
use anyhow::Context;
use chrono::Utc;
use clap::Args;
use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Args)]
pub struct ChatArgs {
    /// Who you are, `terminal:NAME` (default: terminal:$USER).
    #[arg(long)]
    customer: Option<String>,
    /// Your language, as a channel's locale would tell it.
    #[arg(long)]
    lang: Option<Lang>,
}

pub fn run(service: &Service, dirs: &ContentDirs, args: &ChatArgs) -> anyhow::Result<ExitCode> {
    let user = std::env::var("USER").unwrap_or_else(|_| "guest".into());
    let customer = CustomerId::parse(
        args.customer
            .as_deref()
            .unwrap_or(&format!("terminal:{user}")),
    )?;
    // Another channel's customer would have their pending replies printed here instead
    // of delivered where they wait for them.
    anyhow::ensure!(
        customer.kind() == Some(crate::domain::ChannelKind::Terminal),
        "chat speaks as a terminal customer, not as {customer}\n  hint: use \
         --customer terminal:NAME; the other channels' customers write through `serve`"
    );
    let brain = service.brain();
    eprintln!(
        "Sportello chat as {customer}: {} FAQ entries, {} intents. Write a message; an empty line or Ctrl-D leaves.",
        brain.faq.entries().len(),
        brain.intents.rules().len()
    );
    drop(brain);
    std::thread::scope(|scope| -> anyhow::Result<ExitCode> {
        let _watcher = watch_content(service, dirs, scope);
        let mut out = std::io::stdout().lock();
        let operator = operator_label(service, &customer, args.lang);
        service.deliver(&customer, |m| print(&mut out, m, operator))?;
        let session = Utc::now().timestamp_nanos_opt().unwrap_or_default();
        for (n, line) in std::io::stdin().lock().split(b'\n').enumerate() {
            let text = typed(line.context("reading the terminal")?);
            if text.trim().is_empty() {
                break;
            }
            let inbound = Inbound {
                customer: customer.clone(),
                message_id: format!("{session}-{n}"),
                text,
                at: Utc::now(),
                sent_at: None,
                locale: args.lang,
                name: None,
                attachment: None,
                original: None,
            };
            service.handle_inbound(&inbound)?;
            let operator = operator_label(service, &customer, args.lang);
            service.deliver(&customer, |m| print(&mut out, m, operator))?;
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// A line as typed, without its line end. A terminal set to Latin-1 or Windows-1252
/// (an older Italian setup, a Windows console) sends "perché" as bytes that are not
/// UTF-8: read as Windows-1252, Latin-1's superset with € and typographic quotes (and
/// said on stderr), rather than stopping the chat.
fn typed(mut line: Vec<u8>) -> String {
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    String::from_utf8(line).unwrap_or_else(|e| {
        eprintln!(
            "(this line is not UTF-8: read as Latin-1 (Windows-1252); set the terminal to UTF-8)"
        );
        let cp1252 = mail_parser::decoders::charsets::map::charset_decoder(b"windows-1252")
            .expect("mail-parser knows Windows-1252");
        cp1252(&e.into_bytes())
    })
}

fn watch_content<'s>(
    service: &'s Service,
    dirs: &ContentDirs,
    scope: &'s std::thread::Scope<'s, '_>,
) -> Option<notify::RecommendedWatcher> {
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let watcher = crate::faq::watch(&[dirs.faq.clone(), dirs.intents.clone()], move || {
        let _ = tx.send(());
    });
    let dirs = Arc::new(dirs.clone());
    scope.spawn(move || {
        while rx.recv().is_ok() {
            let problems = service.reload(&dirs);
            for d in &problems {
                eprintln!("{d}");
            }
            eprintln!(
                "(content reloaded: {} FAQ entries)",
                service.brain().faq.entries().len()
            );
        }
    });
    watcher
        .map_err(|e| {
            eprintln!("warning: not watching the content folders ({e}); restart to pick up edits")
        })
        .ok()
}

/// How an operator's line is labelled, in the conversation's language (else the one
/// given with `--lang`, else Italian).
fn operator_label(service: &Service, customer: &CustomerId, lang: Option<Lang>) -> &'static str {
    let conversation = service.store().conversation(customer).ok().flatten();
    match conversation.and_then(|c| c.lang).or(lang) {
        Some(Lang::En) => "operator",
        _ => "operatore",
    }
}

fn print(out: &mut impl Write, m: &Outbound, operator: &str) -> bool {
    let who = match m.kind {
        OutboundKind::Operator => operator,
        _ => "bot",
    };
    let mut text = format!("{who}> {}\n", m.text);
    if m.kind == OutboundKind::Survey && !m.choices.is_empty() {
        // Scores: type the number itself.
        let scores: Vec<String> = m.choices.iter().map(|c| format!("[{}]", c.label)).collect();
        text.push_str(&format!("   {}\n", scores.join(" ")));
    } else {
        for (i, c) in m.choices.iter().enumerate() {
            text.push_str(&format!("   {}. {}\n", i + 1, c.label));
        }
    }
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .is_ok()
}
