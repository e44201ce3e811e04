//! What an email reply threads to, per customer: the subject of their mail and the
//! message ids of the conversation (theirs and ours), for `In-Reply-To` and
//! `References`. And the address a web-chat customer left, for the operator's replies
//! they did not see in the chat.

use super::{Contact, EmailThread, MailboxMark, Result, SledStore, decode, encode};
use crate::domain::CustomerId;

impl SledStore {
    /// Where reading `mailbox` stopped (`meta` key `email_mark:MAILBOX`).
    pub fn mailbox_mark(&self, mailbox: &str) -> Result<Option<MailboxMark>> {
        self.meta
            .get(format!("email_mark:{mailbox}"))?
            .map(|v| decode("meta", &v))
            .transpose()
    }

    /// Move the mark on, never back within one UIDVALIDITY (flushed with the next
    /// flush: a mark lost in a crash only means mails read again, which their
    /// `Message-ID` makes duplicates).
    pub fn set_mailbox_mark(&self, mailbox: &str, mark: MailboxMark) -> Result<()> {
        self.meta
            .fetch_and_update(format!("email_mark:{mailbox}"), |old| {
                let old: Option<MailboxMark> = old.and_then(|v| decode("meta", v).ok());
                match old {
                    Some(o)
                        if o.uid_validity == mark.uid_validity && o.last_uid >= mark.last_uid =>
                    {
                        Some(encode(&o))
                    }
                    _ => Some(encode(&mark)),
                }
            })?;
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
