//! The integration tests: one binary, behaviours named as such, real parts only
//! (sled on disk in a temp dir, tantivy, the sample content, the built binary).

mod support;

mod backends;
mod bad_input;
mod care;
mod cli;
mod content;
mod conversation;
mod crash;
mod customers;
mod email;
mod faq_growth;
mod hardening;
mod inbox;
mod instances;
mod migration;
mod orders;
mod queue;
mod readme;
mod report;
mod semantic;
mod state_machine;
mod telegram;
mod web;
mod web_api;
mod whatsapp;
