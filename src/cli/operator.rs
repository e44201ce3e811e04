//! `sportello operator add|list|remove|token`: operator accounts, from the terminal. The
//! password is read from standard input (one line) or asked twice at a terminal.

use crate::accounts::{self, ApiToken, Operator, Role};
use crate::config::Config;
use crate::service::Service;
use crate::store::Store;
use anyhow::{Context, bail};
use chrono::Utc;
use clap::Subcommand;
use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

#[derive(Subcommand)]
pub enum OperatorCommand {
    /// Create an account (password from standard input or a prompt).
    Add {
        name: String,
        /// A department the operator works for (repeat for several).
        #[arg(long = "department", required = true)]
        departments: Vec<String>,
        /// operator or admin (the very first account is always an admin).
        #[arg(long, value_enum, default_value_t = Role::Operator)]
        role: Role,
    },
    /// The accounts.
    List,
    /// Remove an account: its sessions and API tokens stop working at once.
    Remove { name: String },
    /// Make an API token for scripts (printed once).
    Token {
        name: String,
        #[arg(long, default_value = "cli")]
        label: String,
    },
}

pub fn run(store: &Store, config: &Config, cmd: &OperatorCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        OperatorCommand::Add {
            name,
            departments,
            role,
        } => add(store, config, name, departments, *role),
        OperatorCommand::List => {
            for op in store.operators()? {
                println!("{}\t{}\t{}", op.name, op.role, op.departments.join(","));
            }
            Ok(ExitCode::SUCCESS)
        }
        OperatorCommand::Remove { name } => {
            bail!("`operator remove {name}` runs through the service (see `cli::run`)")
        }
        OperatorCommand::Token { name, label } => {
            let name = accounts::valid_name(name)?;
            let Some(op) = store.operator(&name)? else {
                bail!(accounts::AccountError::Unknown(name));
            };
            let record = ApiToken::new(&op, label, Utc::now());
            let token = store.issue_api_token(&record)?;
            println!("{token}");
            eprintln!("use it as `Authorization: Bearer TOKEN`; it is not shown again");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `operator remove NAME`: the account, its sessions and tokens go; the tickets it
/// held go back to their queues.
pub fn remove(service: &Service, name: &str) -> anyhow::Result<ExitCode> {
    let name = accounts::valid_name(name)?;
    let store = service.store();
    if let Some(op) = store.operator(&name)? {
        anyhow::ensure!(
            !store.is_last_admin(&op)?,
            "{name} is the last admin and cannot be removed: the shop would have none\n  \
             hint: make another admin first: `sportello operator add NAME --department D \
             --role admin`"
        );
    }
    let Some(back) = service.remove_operator(&name, Utc::now())? else {
        bail!(accounts::AccountError::Unknown(name));
    };
    println!("operator {name} removed; their sessions and API tokens no longer work");
    if !back.is_empty() {
        let ids: Vec<String> = back.iter().map(ToString::to_string).collect();
        println!(
            "back in the queue: {} (they were claimed by {name})",
            ids.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn add(
    store: &Store,
    config: &Config,
    name: &str,
    departments: &[String],
    role: Role,
) -> anyhow::Result<ExitCode> {
    let first = !store.has_admin()?;
    let role = if first { Role::Admin } else { role };
    let known: Vec<String> = config.departments.keys().cloned().collect();
    // Check the name and departments before asking for a password.
    Operator::new(
        name,
        "x".repeat(accounts::MIN_PASSWORD).as_str(),
        role,
        departments,
        &known,
        Utc::now(),
    )?;
    let password = read_password()?;
    let op = Operator::new(name, &password, role, departments, &known, Utc::now())?;
    if !store.add_operator(&op)? {
        bail!(accounts::AccountError::Exists(op.name));
    }
    println!(
        "operator {} added ({}; {})",
        op.name,
        op.role,
        op.departments.join(", ")
    );
    if first {
        eprintln!(
            "there was no admin yet, so this account is one: it can add the others from the console"
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("password: ").context("reading the password")?;
        let again = rpassword::prompt_password("again: ").context("reading the password")?;
        if first != again {
            bail!("the two passwords differ; run the command again");
        }
        return Ok(first);
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    if password.is_empty() {
        bail!(
            "no password on standard input\n  hint: printf '%s\\n' 'the password' | sportello operator add NAME --department D"
        );
    }
    Ok(password)
}
