//! `Service`: the one place where decisions become effects. A channel hands it an
//! `Inbound`; it decides with the brain and triage, then writes the message, the
//! conversation, any ticket, the replies (into the outbox) and the events in one
//! transaction, and flushes before returning, so the caller may acknowledge.

mod act;
mod effects;
mod flood;
mod handoff;
mod inbound;
mod live;
mod operator;
mod order_texts;
mod orders;
mod promises;
mod surveys;
mod texts;
mod waiting;

pub use flood::{BURST, PER_SECOND};
pub use inbound::Handled;
pub use live::{Change, Counts, Typist, WAIT_BUCKETS};
pub use operator::Transfer;

use crate::config::Config;
use crate::diagnostics::Diagnostic;
use crate::domain::{Outbound, TicketId, TicketStatus};
use crate::matcher::Brain;
use crate::store::{Store, StoreError};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

/// How often a turn is decided again when another writer moved first.
const RETRIES: usize = 8;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("ticket {0} does not exist\n  hint: `sportello queue list` shows the open tickets")]
    NoTicket(TicketId),
    #[error("ticket {ticket} is already taken by {by}")]
    AlreadyClaimed { ticket: TicketId, by: String },
    /// `operator` acted on a ticket claimed by `holder` (or by nobody yet).
    #[error("{}", not_yours(*.ticket, .operator, .holder.as_deref()))]
    NotYours {
        ticket: TicketId,
        operator: String,
        holder: Option<String>,
    },
    #[error("ticket {0} is {1}, not open")]
    NotOpen(TicketId, TicketStatus),
    #[error("the reply is empty")]
    EmptyReply,
    #[error("the note is empty")]
    EmptyNote,
    #[error("department `{0}` is not configured\n  hint: configured departments: {1}")]
    NoDepartment(String, String),
    #[error("operator `{0}` does not exist")]
    NoOperator(String),
    #[error("ticket {0} is already in {1}")]
    SameDepartment(TicketId, String),
    #[error("no FAQ entry `{0}`\n  hint: use the id of a served entry (`sportello ask` shows ids)")]
    NoFaq(String),
    #[error("the conversation kept changing while it was being handled; try again")]
    Busy,
    /// The ticket's customer was forgotten (erased): nothing more is stored about them.
    #[error(
        "ticket {0} belongs to a customer who was erased (`customer forget`): notes can no longer be added"
    )]
    Forgotten(TicketId),
}

pub type Result<T> = std::result::Result<T, ServiceError>;

/// The sentence for [`ServiceError::NotYours`]: who has the ticket, and what to do.
fn not_yours(ticket: TicketId, operator: &str, holder: Option<&str>) -> String {
    match holder {
        Some(holder) => format!(
            "ticket {ticket} is claimed by {holder}, not by {operator}\n  \
             hint: ask {holder} to release or transfer it; an admin can put it back in \
             the queue (`sportello queue release {} --as ADMIN`)",
            ticket.0
        ),
        None => format!(
            "ticket {ticket} is waiting in the queue, not claimed by {operator}\n  \
             hint: claim it first: `sportello queue claim {} --as {operator}`",
            ticket.0
        ),
    }
}

/// Where the content lives, for reloads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentDirs {
    pub faq: PathBuf,
    pub intents: PathBuf,
}

pub struct Service {
    store: Store,
    brain: RwLock<Arc<Brain>>,
    config: Config,
    live: live::Live,
    flood: flood::Flood,
    /// The shop's order platform, when `[orders]` connects one.
    orders: Option<crate::orders::Orders>,
    /// Order lookups per customer, for the rate limit.
    lookups: orders::Lookups,
    /// What is wrong in the content folders now (the last load or reload).
    problems: RwLock<Vec<Diagnostic>>,
}

impl Service {
    /// `brain` may be shared (an `Arc`): tests build the sample brain once.
    pub fn new(store: Store, brain: impl Into<Arc<Brain>>, config: Config) -> Self {
        let live = live::Live::default();
        live.hear(&store);
        Self {
            store,
            brain: RwLock::new(brain.into()),
            config,
            live,
            flood: flood::Flood::default(),
            orders: None,
            lookups: orders::Lookups::default(),
            problems: RwLock::default(),
        }
    }

    /// With the problems the content's first load found (the console's banner).
    pub fn with_problems(self, problems: Vec<Diagnostic>) -> Self {
        Self {
            problems: RwLock::new(problems),
            ..self
        }
    }

    /// The console's ready replies: as admins saved them, else the config's.
    pub fn canned(&self) -> Result<Vec<crate::config::Canned>> {
        Ok(match self.store.canned()? {
            Some(saved) => saved,
            None => self.config.canned.clone(),
        })
    }

    /// What is wrong in the content folders now (the last load or reload).
    pub fn content_problems(&self) -> Vec<Diagnostic> {
        self.problems
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// With the shop's order platform connected: "where is my order?" is looked up.
    pub fn with_orders(self, orders: Option<crate::orders::Orders>) -> Self {
        Self { orders, ..self }
    }

    pub fn orders(&self) -> Option<&crate::orders::Orders> {
        self.orders.as_ref()
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The brain serving now; a reload swaps it whole, never half.
    pub fn brain(&self) -> Arc<Brain> {
        self.brain.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Reload the content folders; a broken file keeps its previous version serving.
    /// The new content is served at once from the index; its classifiers train on
    /// another thread.
    pub fn reload(&self, dirs: &ContentDirs) -> Vec<Diagnostic> {
        let current = self.brain();
        let (brain, diagnostics) = Brain::load_untrained(
            &dirs.faq,
            &dirs.intents,
            self.config.matching,
            Some(&current),
        );
        let mut diagnostics = diagnostics;
        diagnostics.extend(brain.unknown_departments(|d| self.config.departments.contains_key(d)));
        let brain = Arc::new(brain.with_embeddings(current.embedder.clone()));
        brain.train_in_background();
        *self.brain.write().unwrap_or_else(|e| e.into_inner()) = brain;
        *self.problems.write().unwrap_or_else(|e| e.into_inner()) = diagnostics.clone();
        diagnostics
    }

    /// Hand every undelivered message for `customer` to `send`, in order; each one
    /// `send` accepts leaves the outbox. Stops at the first refusal.
    pub fn deliver(
        &self,
        customer: &crate::domain::CustomerId,
        mut send: impl FnMut(&Outbound) -> bool,
    ) -> Result<usize> {
        let mut sent = 0;
        for (key, out) in self.store.pending_outbox(customer)? {
            if !send(&out) {
                break;
            }
            self.store.ack_outbox(&key)?;
            sent += 1;
        }
        if sent > 0 {
            self.store.flush()?;
        }
        Ok(sent)
    }

    /// Run `attempt` until it commits without a conflict.
    fn retry<T>(&self, mut attempt: impl FnMut() -> Result<T>) -> Result<T> {
        for _ in 0..RETRIES {
            match attempt() {
                Err(ServiceError::Store(StoreError::Conflict)) => continue,
                other => return other,
            }
        }
        Err(ServiceError::Busy)
    }
}
