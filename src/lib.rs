//! Sportello: a customer-service bot with human handoff for online shops.
//!
//! Reading order: `domain` (pure types and rules: `triage::decide`, `plan::plan`,
//! `Ticket::apply`), `text` (normalisation), `faq` and `intents` (the editors' content),
//! `matcher` (the brain), `care` (hours, wait estimates, SLA), `store` (sled), `service`
//! (where a plan becomes effects), `report` (KPIs from events), `channels`, `accounts`,
//! `web` (HTTP), `config` (the file and the environment), `cli` (commands and printing),
//! `bench`. `ARCHITECTURE.md` walks the folders and the path of a message.
#![forbid(unsafe_code)]

pub mod accounts;
pub mod bench;
pub mod care;
pub mod channels;
pub mod cli;
pub mod config;
pub mod diagnostics;
pub mod domain;
pub mod faq;
pub mod intents;
pub mod matcher;
pub mod orders;
pub mod report;
pub mod service;
pub mod store;
pub mod text;
pub mod web;
