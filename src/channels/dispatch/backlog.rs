//! A customer's backlog (replies held outside WhatsApp's window, an outage): which of
//! its messages a newer one makes pointless to send.

use crate::domain::{Outbound, OutboundKind};

/// For each message of a customer's backlog, whether it is a queue status ("still
/// number 3", an apology for the wait, a transfer) that a later status in the same
/// backlog overtakes: held a day outside WhatsApp's window, the three of them would
/// arrive together, each with another place in the queue. A handoff's
/// acknowledgement is always sent (it says a person was asked for); so is every
/// answer and every operator's line.
pub(super) fn overtaken(queue: &[(Vec<u8>, Outbound)]) -> Vec<bool> {
    let status = |out: &Outbound| matches!(out.kind, OutboundKind::Waiting | OutboundKind::Handoff);
    let mut newer = false;
    let mut overtaken: Vec<bool> = queue
        .iter()
        .rev()
        .map(|(_, out)| {
            let gone = newer && out.kind == OutboundKind::Waiting;
            newer |= status(out);
            gone
        })
        .collect();
    overtaken.reverse();
    overtaken
}

#[cfg(test)]
mod tests {
    use super::overtaken;
    use crate::domain::{Outbound, OutboundKind};
    use chrono::{DateTime, Utc};

    #[test]
    fn in_a_backlog_only_the_newest_queue_status_goes() {
        use OutboundKind::{Answer, Handoff, Operator, Waiting};
        let backlog = |kinds: &[OutboundKind]| -> Vec<(Vec<u8>, Outbound)> {
            kinds
                .iter()
                .map(|kind| {
                    let out = Outbound {
                        customer: "whatsapp:393331234567".parse().unwrap(),
                        kind: *kind,
                        text: format!("{kind:?}"),
                        choices: vec![],
                        at: DateTime::<Utc>::UNIX_EPOCH,
                        operator: None,
                    };
                    (vec![], out)
                })
                .collect()
        };
        // A day outside the window: the handoff's acknowledgement, two apologies, an
        // operator's line, an answer, then the status of the customer's new message.
        let held = backlog(&[Handoff, Waiting, Waiting, Operator, Answer, Waiting]);
        assert_eq!(
            overtaken(&held),
            [false, true, true, false, false, false],
            "every line but the two overtaken statuses"
        );
        assert_eq!(
            overtaken(&backlog(&[Waiting, Handoff])),
            [true, false],
            "a new request overtakes the old status"
        );
        assert_eq!(
            overtaken(&backlog(&[Handoff, Handoff, Answer])),
            [false, false, false],
            "an acknowledgement always goes"
        );
        assert_eq!(overtaken(&backlog(&[Waiting])), [false]);
    }
}
