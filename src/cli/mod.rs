//! The command line (names are stable: scripts and checks use them).

mod bench;
mod content;
mod customer;
mod demo;
mod faq;
mod operator;
mod queue;
mod recover;
mod replay;
mod report;
mod serve;
mod store;

use crate::config::Config;
use crate::matcher::Brain;
use crate::service::{ContentDirs, Service};
use crate::store::Store;
use anyhow::Context;
use clap::{Parser, Subcommand};
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "sportello",
    version,
    about = "Customer-service bot with human handoff for online shops"
)]
pub struct Cli {
    /// The FAQ folder.
    #[arg(long, global = true, default_value = "faq", env = "SPORTELLO_FAQ")]
    faq: PathBuf,
    /// The intent rules folder.
    #[arg(
        long,
        global = true,
        default_value = "intents",
        env = "SPORTELLO_INTENTS"
    )]
    intents: PathBuf,
    /// The store: a data directory (the embedded sled store) or a PostgreSQL URL
    /// (`postgres://USER@HOST:PORT/DATABASE`, shared by several instances).
    #[arg(long, global = true, default_value = "data", env = "SPORTELLO_DATA")]
    data: PathBuf,
    /// The configuration file (default: sportello.toml if present).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the bot: web chat, operator console, API, metrics; Telegram when a token is set.
    Serve,
    /// Talk to the bot in the terminal, as a customer (same engine, same store).
    Chat(crate::channels::terminal::ChatArgs),
    /// What the bot would do with a message, and why.
    Ask {
        text: String,
        /// Conversation language (default: guessed from the text, else it).
        #[arg(long)]
        lang: Option<crate::domain::Lang>,
        /// Print the decision, the candidates and their evidence as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Validate faq/ and intents/; exit 1 on errors.
    Check {
        /// Also check the data directory's consistency (serve must be stopped).
        #[arg(long)]
        store: bool,
    },
    /// Measure matching on labelled cases (JSON lines {"text","expected"}).
    Eval {
        cases: PathBuf,
        /// Print the figures and the misses as JSON (keys as in README's matching section).
        #[arg(long)]
        json: bool,
    },
    /// The operator queue.
    #[command(subcommand)]
    Queue(queue::QueueCommand),
    /// Feed a scripted stream (JSON lines) through the service on the script's clock.
    Replay { script: PathBuf },
    /// Fill the store with a realistic month (for the console and the report).
    Demo(demo::DemoArgs),
    /// Operator accounts for the console.
    #[command(subcommand)]
    Operator(operator::OperatorCommand),
    /// The FAQ grows from customers' words: gaps, drafts, suggested questions.
    #[command(subcommand)]
    Faq(faq::FaqCommand),
    /// A customer's record, GDPR access copy, or erasure.
    #[command(subcommand)]
    Customer(customer::CustomerCommand),
    /// Counts of messages and decisions, and the questions the bot could not answer.
    Report(report::ReportArgs),
    /// Throughput, latency, memory against the storage floor (build with --release).
    Bench(bench::BenchArgs),
    /// Move a shop between stores: `store copy --from DIR_OR_URL --to DIR_OR_URL`.
    #[command(subcommand)]
    Store(store::StoreCommand),
}

pub fn main() -> ExitCode {
    quiet_when_the_reader_leaves();
    let cli = Cli::parse_from(close_faq_means_the_entry(std::env::args_os().collect()));
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SPORTELLO_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    // `store copy` names its own stores; every other command reads `--data`.
    let data = (!matches!(cli.command, Command::Store(_))).then(|| cli.data.clone());
    match run(cli) {
        Ok(code) => code,
        // `replay x | head -1`: written with `?`, the reader's leaving ends it as above.
        Err(e) if reader_left(&e) => ExitCode::from(READER_LEFT),
        Err(mut e) => {
            if let Some(data) = &data {
                name_the_damaged_store(&mut e, data);
            }
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// A damaged page met by a read names no folder (sled's error has none): the store the
/// command opened is named, in place, with the error's context kept.
fn name_the_damaged_store(e: &mut anyhow::Error, data: &std::path::Path) {
    use crate::service::ServiceError;
    if e.downcast_ref::<ServiceError>().is_some() {
        if let Some(ServiceError::Store(store)) = e.downcast_mut::<ServiceError>() {
            store.name_the_store(data);
        }
    } else if let Some(store) = e.downcast_mut::<crate::store::StoreError>() {
        store.name_the_store(data);
    }
}

/// A day on the command line: `YYYY-MM-DD`, said so when it is not one.
/// "1 answer", "3 answers": a count with its noun.
pub(crate) fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

pub fn day(raw: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .map_err(|e| format!("`{raw}` is not a day ({e}): write it as YYYY-MM-DD, e.g. 2026-11-30"))
}

/// The exit status of a tool whose reader went away (`sportello queue list | head -1`):
/// the shell's for a process ended by SIGPIPE.
pub const READER_LEFT: u8 = 141;

/// `println!` panics when standard output is a pipe whose reader closed it (Rust
/// ignores SIGPIPE, so the write fails with EPIPE). A command line tool stops quietly
/// there, as one killed by SIGPIPE does; any other panic is reported as before.
fn quiet_when_the_reader_leaves() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info.payload_as_str().unwrap_or_default();
        if message.starts_with("failed printing to stdout") && message.contains("os error 32") {
            std::process::exit(i32::from(READER_LEFT));
        }
        report(info);
    }));
}

/// The error is standard output's reader going away (EPIPE): a write's own error, as
/// `writeln!(out, ..)?` returns it, not a cause deep in another (an HTTP client's).
fn reader_left(e: &anyhow::Error) -> bool {
    e.downcast_ref::<std::io::Error>()
        .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
}

/// `sportello queue close N --faq ID`: after `queue close`, `--faq` names the FAQ entry
/// that answered the customer, while everywhere else it is the global `--faq DIR`. clap
/// cannot give one long name two meanings (the global is propagated into every
/// subcommand), so the word after `close` is renamed before parsing.
pub fn close_faq_means_the_entry(args: Vec<OsString>) -> Vec<OsString> {
    let close = args
        .windows(2)
        .position(|w| w[0] == "queue" && w[1] == "close")
        .map(|i| i + 2);
    let Some(start) = close else {
        return args;
    };
    let mut args = args;
    for arg in &mut args[start..] {
        if arg == "--" {
            break;
        }
        let renamed = match arg.to_str() {
            Some("--faq") => format!("--{}", queue::ANSWERED_BY),
            Some(a) if a.starts_with("--faq=") => {
                format!("--{}={}", queue::ANSWERED_BY, &a["--faq=".len()..])
            }
            _ => continue,
        };
        *arg = renamed.into();
    }
    args
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match &cli.command {
        Command::Serve => serve::run(cli.serving_service()?, &cli.dirs(), &cli.data),
        Command::Chat(args) => {
            crate::channels::terminal::run(&cli.open_service()?, &cli.dirs(), args)
        }
        Command::Ask { text, lang, json } => content::ask(&cli.brain()?, text, *lang, *json),
        Command::Check { store } => {
            let content = content::check(&cli)?;
            if !store {
                return Ok(content);
            }
            let sound = content::check_store(&cli.existing_store()?)?;
            Ok(if sound { content } else { ExitCode::FAILURE })
        }
        Command::Eval { cases, json } => content::eval(&cli.brain()?, cases, *json),
        // The queue is the shop's tickets: a mistyped --data finds none, it makes no store.
        // Only `close --faq` needs the content.
        Command::Queue(cmd) if cmd.reads_the_faq() => {
            cli.content_folders()?;
            queue::run(&cli.service_on(cli.existing_store()?)?, cmd)
        }
        Command::Queue(cmd) => queue::run(&cli.service_without_content()?, cmd),
        Command::Replay { script } => replay::run(&cli.open_service()?, script),
        // Removing an account puts its tickets back in the queues: the service does it,
        // without the content, the channels or the order platform.
        Command::Operator(operator::OperatorCommand::Remove { name }) => {
            operator::remove(&cli.service_without_content()?, name)
        }
        // A new shop's first account makes its store; the others read an existing one.
        Command::Operator(cmd @ operator::OperatorCommand::Add { .. }) => {
            operator::run(&cli.open_store()?, &cli.config()?, cmd)
        }
        Command::Operator(cmd) => operator::run(&cli.existing_store()?, &cli.config()?, cmd),
        Command::Customer(cmd) => customer::run(&cli, cmd),
        Command::Demo(args) => demo::run(&cli.open_service()?, args, &cli.data),
        Command::Faq(cmd) => faq::run(&cli, cmd),
        Command::Report(args) => report::run(&cli.existing_store()?, &cli.config()?, args),
        Command::Bench(args) => bench::run(&cli.dirs(), &cli.data, cli.config()?, args),
        Command::Store(cmd) => store::run(cmd),
    }
}

impl Cli {
    fn config(&self) -> anyhow::Result<Config> {
        Ok(Config::load(self.config.as_deref())?)
    }

    fn dirs(&self) -> ContentDirs {
        ContentDirs {
            faq: self.faq.clone(),
            intents: self.intents.clone(),
        }
    }

    /// The FAQ and intents folders are there: a bot started away from the shop's folder
    /// would answer nothing and miss every request for a person (an intent), so the
    /// commands that load the content refuse, before they open or create a store.
    fn content_folders(&self) -> anyhow::Result<()> {
        for (dir, flag, what) in [
            (&self.faq, "--faq", "FAQ"),
            (&self.intents, "--intents", "intents"),
        ] {
            anyhow::ensure!(
                dir.is_dir(),
                "no {what} folder at {}\n  hint: run sportello from the shop's folder (where \
                 faq/ and intents/ are), or pass {flag} DIR",
                dir.display()
            );
        }
        Ok(())
    }

    /// Load the content; problems in single files are printed and the files skipped.
    fn brain(&self) -> anyhow::Result<Brain> {
        self.content_folders()?;
        let config = self.config()?;
        let (brain, diagnostics) = Brain::load(&self.faq, &self.intents, config.matching, None);
        for d in &diagnostics {
            eprintln!("{d}");
        }
        Ok(brain.with_embeddings(embedder(&config)?))
    }

    /// The store for a command that works on what the shop did (report, customers, FAQ
    /// gaps, check --store, the queue, existing accounts): a mistyped --data is an
    /// error, not a new empty store.
    fn existing_store(&self) -> anyhow::Result<Store> {
        Ok(Store::open_existing(&self.data)?)
    }

    /// The service over the existing store, without the content, the channels or the
    /// order platform: for what works on tickets and accounts alone.
    fn service_without_content(&self) -> anyhow::Result<Service> {
        let config = self.config()?;
        let brain = Brain::empty(config.matching);
        Ok(Service::new(self.existing_store()?, brain, config))
    }

    fn open_store(&self) -> anyhow::Result<Store> {
        Store::open(&self.data)
            .with_context(|| format!("opening the store in {}", crate::store::shown(&self.data)))
    }

    /// For `serve`: answering from the index at once, the classifiers training on
    /// another thread (a large FAQ takes seconds to train).
    fn serving_service(&self) -> anyhow::Result<Service> {
        self.content_folders()?;
        let config = self.config()?;
        let (brain, mut diagnostics) =
            Brain::load_untrained(&self.faq, &self.intents, config.matching, None);
        diagnostics.extend(brain.unknown_departments(|d| config.departments.contains_key(d)));
        for d in &diagnostics {
            eprintln!("{d}");
        }
        let brain = std::sync::Arc::new(brain.with_embeddings(embedder(&config)?));
        brain.train_in_background();
        let orders = self.orders(&config)?;
        Ok(Service::new(self.open_store()?, brain, config)
            .with_orders(orders)
            .with_problems(diagnostics))
    }

    fn open_service(&self) -> anyhow::Result<Service> {
        self.content_folders()?;
        self.service_on(self.open_store()?)
    }

    /// The service over `store`, with the content, the configuration and the order
    /// platform.
    fn service_on(&self, store: Store) -> anyhow::Result<Service> {
        let config = self.config()?;
        let brain = self.brain()?;
        let orders = self.orders(&config)?;
        Ok(Service::new(store, brain, config).with_orders(orders))
    }

    /// The shop's order platform, when `[orders]` names one.
    fn orders(&self, config: &Config) -> anyhow::Result<Option<crate::orders::Orders>> {
        let env = crate::config::Environment::read()?;
        config.orders.connect(&env.orders)
    }
}

/// The embeddings endpoint, when `[embeddings]` is set.
fn embedder(config: &Config) -> anyhow::Result<Option<std::sync::Arc<crate::matcher::Embedder>>> {
    config
        .embeddings
        .clone()
        .map(|settings| {
            crate::matcher::Embedder::new(settings, &crate::matcher::Embedder::default_cache_dir())
        })
        .transpose()
}
