//! What an email reply threads to, per customer: the subject of their mail and the
//! message ids of the conversation (theirs and ours), for `In-Reply-To` and
//! `References`. And the address a web-chat customer left, for the operator's replies
//! they did not see in the chat.

use super::{Result, Store, decode, encode};
use crate::domain::CustomerId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A web-chat customer's address for replies they miss.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    /// Lowercased, checked.
    pub email: String,
    pub since: DateTime<Utc>,
    /// Operator replies up to this instant went by email too.
    pub followed_up: Option<DateTime<Utc>>,
}

/// How many message ids `References` carries (the first and the latest ones).
const MAX_REFERENCES: usize = 20;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EmailThread {
    /// The subject of the customer's latest mail.
    pub subject: String,
    /// The customer's latest mail, which the next reply answers.
    pub last: String,
    /// The thread's message ids, oldest first, without angle brackets.
    pub references: Vec<String>,
}

impl EmailThread {
    /// Add ids at the end (each once), keeping the first and the latest.
    pub fn extend(&mut self, ids: impl IntoIterator<Item = String>) {
        for id in ids {
            if !id.is_empty() && !self.references.contains(&id) {
                self.references.push(id);
            }
        }
        if self.references.len() > MAX_REFERENCES {
            let extra = self.references.len() - MAX_REFERENCES;
            self.references.drain(1..=extra);
        }
    }
}

/// How far the mailbox was read: the last mail stored, by its IMAP UID, valid while
/// the folder keeps its UIDVALIDITY.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxMark {
    pub uid_validity: u32,
    pub last_uid: u32,
}

impl Store {
    /// Where reading `mailbox` stopped (`meta` key `email_mark:MAILBOX`).
    pub fn mailbox_mark(&self, mailbox: &str) -> Result<Option<MailboxMark>> {
        self.meta
            .get(format!("email_mark:{mailbox}"))?
            .map(|v| decode("meta", &v))
            .transpose()
    }

    /// Move the mark (flushed with the next flush: a mark lost in a crash only means
    /// mails read again, which their `Message-ID` makes duplicates).
    pub fn set_mailbox_mark(&self, mailbox: &str, mark: MailboxMark) -> Result<()> {
        self.meta
            .insert(format!("email_mark:{mailbox}"), encode(&mark))?;
        Ok(())
    }

    pub fn email_thread(&self, customer: &CustomerId) -> Result<Option<EmailThread>> {
        self.email_threads
            .get(customer.as_str())?
            .map(|v| decode("email_threads", &v))
            .transpose()
    }

    pub fn contact(&self, customer: &CustomerId) -> Result<Option<Contact>> {
        self.contacts
            .get(customer.as_str())?
            .map(|v| decode("contacts", &v))
            .transpose()
    }

    /// Change the contact atomically (the chat and the follow-ups both write it), then
    /// flush.
    pub fn update_contact(
        &self,
        customer: &CustomerId,
        change: impl Fn(Option<Contact>) -> Option<Contact>,
    ) -> Result<()> {
        self.contacts.update_and_fetch(customer.as_str(), |old| {
            let old = old.and_then(|v| decode::<Contact>("contacts", v).ok());
            change(old).map(|c| encode(&c))
        })?;
        self.flush()
    }

    /// Change the thread atomically (the reader and the sender both write it); flushed
    /// with the next flush: the reply that needs it goes out only after the customer's
    /// message is flushed.
    pub fn update_email_thread(
        &self,
        customer: &CustomerId,
        change: impl Fn(&mut EmailThread),
    ) -> Result<()> {
        let mut bad = None;
        self.email_threads
            .update_and_fetch(customer.as_str(), |old| {
                let mut thread = match old.map(|v| decode::<EmailThread>("email_threads", v)) {
                    Some(Ok(t)) => t,
                    Some(Err(e)) => {
                        bad = Some(e);
                        return old.map(<[u8]>::to_vec);
                    }
                    None => EmailThread::default(),
                };
                change(&mut thread);
                Some(encode(&thread))
            })?;
        bad.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::EmailThread;

    #[test]
    fn references_keep_the_first_and_the_latest_ids_once_each() {
        let mut t = EmailThread::default();
        t.extend(["a".to_owned(), "b".to_owned(), "a".to_owned()]);
        assert_eq!(t.references, ["a", "b"]);
        t.extend((0..30).map(|i| format!("m{i}")));
        assert_eq!(t.references.len(), 20);
        assert_eq!(t.references[0], "a");
        assert_eq!(t.references[19], "m29");
        assert_eq!(t.references[1], "m11");
    }
}
