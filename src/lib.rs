//! Sportello: a customer-service bot with human handoff for online shops.
//!
//! Reading order: `domain` (pure types and triage), `text` (normalisation), `faq` and
//! `intents` (the editors' content), `matcher` (the brain), `store` (sled), `service`
//! (all effects), `report`, `channels`, `accounts`, `web` (HTTP), `config`, `cli`.
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
pub mod report;
pub mod service;
pub mod store;
pub mod text;
pub mod web;
