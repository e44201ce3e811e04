//! Channel adapters: each turns its traffic into `Inbound` for the service and
//! delivers the outbox on its own medium.

pub mod telegram;
pub mod terminal;
