//! Email: the shop's support mailbox as a channel. [`imap`] reads new mail (IDLE where
//! the server has it, polling otherwise) into customer messages, [`send`] answers by
//! SMTP threaded to the customer's mail, [`read`] turns a raw mail into what the bot
//! needs (the new text, the thread, whether a person or a machine wrote).

pub mod read;
