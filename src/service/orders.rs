//! "Where is my order?", applied: the next step of the check the planner decided (ask
//! for the number, ask for the email or postcode, or look the order up on the shop's
//! platform). The status is said only when the proof is the order's own; a wrong one
//! gets the same words as an unknown number (nothing is revealed, not even that the
//! order exists), and after [`MAX_TRIES`] a person takes over. A slow or failing
//! platform is said plainly, with a person offered: never a guess.

use super::effects::Said;
use super::{Result, Service, order_texts, texts};
use crate::domain::order::{FAILED_CHECK, MAX_TRIES, OrderCheck, Proof};
use crate::domain::{
    Choice, ChoiceTarget, CustomerId, Event, EventKind, HandoffReason, Inbound, Lang,
    LookupOutcome, OutboundKind, Priority,
};
use crate::orders::{LookupError, Order, proves};
use crate::store::Turn;
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::sync::Mutex;

/// Lookups one customer may make within [`LOOKUP_WINDOW`].
const LOOKUPS: usize = 5;
const LOOKUP_WINDOW: Duration = Duration::minutes(10);

/// Recent lookups per customer (in memory: a restart forgives), and each customer's
/// last answer by the message that asked: a turn retried after a write conflict reuses
/// it, so the platform is called and the limit counted once per message.
#[derive(Default)]
pub struct Lookups {
    recent: Mutex<HashMap<CustomerId, Vec<DateTime<Utc>>>>,
    last: Mutex<HashMap<CustomerId, Memo>>,
}

/// A lookup kept for the retries of its turn: the message, the number, when, what.
type Memo = (String, String, std::time::Instant, Looked);

/// How long a lookup is kept for a retried turn (retries take milliseconds).
const MEMO_TTL: std::time::Duration = std::time::Duration::from_secs(60);

/// What a lookup came to.
#[derive(Debug, Clone)]
enum Looked {
    /// Over the limit: not asked.
    Limited,
    Found(Box<std::result::Result<Option<Order>, LookupError>>),
}

impl Lookups {
    /// Count a lookup at `now`; false if the customer is over the limit.
    fn admit(&self, customer: &CustomerId, now: DateTime<Utc>) -> bool {
        let mut all = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        let recent = all.entry(customer.clone()).or_default();
        recent.retain(|t| now - *t < LOOKUP_WINDOW);
        if recent.len() >= LOOKUPS {
            return false;
        }
        recent.push(now);
        true
    }

    /// The lookup of `number` for `inbound`, made once per message.
    fn once(&self, inbound: &Inbound, number: &str, look: impl FnOnce() -> Looked) -> Looked {
        let last = |all: &HashMap<CustomerId, Memo>| {
            all.get(&inbound.customer)
                .filter(|(id, n, _, _)| *id == inbound.message_id && n == number)
                .map(|(_, _, _, looked)| looked.clone())
        };
        if let Some(looked) = last(&self.last.lock().unwrap_or_else(|e| e.into_inner())) {
            return looked;
        }
        // The platform is called without the lock: other customers do not wait.
        let looked = look();
        let now = std::time::Instant::now();
        let entry = (
            inbound.message_id.clone(),
            number.to_owned(),
            now,
            looked.clone(),
        );
        let mut all = self.last.lock().unwrap_or_else(|e| e.into_inner());
        // Nothing kept past its turn: an order is personal data.
        all.retain(|_, (_, _, at, _)| now.duration_since(*at) < MEMO_TTL);
        all.insert(inbound.customer.clone(), entry);
        looked
    }
}

impl Service {
    /// The next step of an order check; returns what to say.
    pub(super) fn order_step(
        &self,
        turn: &mut Turn,
        inbound: &Inbound,
        number: Option<String>,
        proof: Option<Proof>,
    ) -> Result<Said> {
        let lang = turn.conversation.lang.unwrap_or(Lang::It);
        let tries = turn
            .conversation
            .order_check
            .as_ref()
            .map_or(0, |c| c.tries);
        let check = |number: Option<String>, tries| OrderCheck {
            number,
            tries,
            asked_at: inbound.at,
        };
        let reply = |text: String| Said::new(OutboundKind::Reply, Some(text));
        // The number given for the lookup is the customer's order: a person who takes
        // over sees it on the ticket, with its card.
        if let Some(number) = &number {
            // In the form the captures keep ("#1001" is 1001, "pf-552211" PF-552211).
            let number = number.trim_start_matches('#').to_uppercase();
            turn.conversation.remember_order(&number);
        }
        let (Some(number), Some(proof)) = (number.clone(), proof) else {
            let text = match &number {
                None => order_texts::ask_number(lang).to_owned(),
                Some(n) => order_texts::ask_proof(lang, n),
            };
            turn.conversation.order_check = Some(check(number, tries));
            return Ok(reply(text));
        };
        turn.conversation.order_check = None;
        let Some(orders) = &self.orders else {
            return Ok(self.offer_person(turn, order_texts::unavailable(lang)));
        };
        let looked = self.lookups.once(inbound, &number, || {
            if self.lookups.admit(&inbound.customer, inbound.at) {
                Looked::Found(Box::new(orders.find(&number)))
            } else {
                Looked::Limited
            }
        });
        let found = match looked {
            Looked::Limited => {
                log(turn, inbound, LookupOutcome::Limited);
                return Ok(self.offer_person(turn, order_texts::limited(lang)));
            }
            Looked::Found(found) => *found,
        };
        match found {
            Ok(Some(order)) if proves(&order, &proof) => {
                log(turn, inbound, LookupOutcome::Answered);
                turn.conversation.prove_order(&number);
                Ok(reply(order_texts::status(lang, &order)))
            }
            Ok(_) if tries + 1 >= MAX_TRIES => {
                log(turn, inbound, LookupOutcome::NotMatched);
                let department = self.config.default_department.clone();
                let reason = HandoffReason::Intent(FAILED_CHECK.into());
                let handoff =
                    self.hand_over(turn, inbound, department, &reason, Priority::Normal)?;
                let text = format!("{} {handoff}", order_texts::too_many_tries(lang));
                Ok(Said::new(OutboundKind::Handoff, Some(text)))
            }
            Ok(_) => {
                log(turn, inbound, LookupOutcome::NotMatched);
                turn.conversation.order_check = Some(check(None, tries + 1));
                Ok(self.offer_person(turn, order_texts::not_found(lang)))
            }
            Err(e) => {
                match &e {
                    LookupError::Refused(_) => tracing::error!("orders: {e}"),
                    LookupError::Unavailable(_) => tracing::warn!("orders: {e}"),
                }
                log(turn, inbound, LookupOutcome::Unavailable);
                Ok(self.offer_person(turn, order_texts::unavailable(lang)))
            }
        }
    }

    /// Say `text` with one choice: talk to a person (picked by tapping it or by "1").
    fn offer_person(&self, turn: &mut Turn, text: &str) -> Said {
        let lang = turn.conversation.lang.unwrap_or(Lang::It);
        let choices = vec![Choice {
            label: texts::talk_to_person(lang).to_owned(),
            target: ChoiceTarget::Human,
        }];
        turn.conversation.pending_choices.clone_from(&choices);
        Said {
            choices,
            ..Said::new(OutboundKind::Clarify, Some(text.to_owned()))
        }
    }
}

fn log(turn: &mut Turn, inbound: &Inbound, outcome: LookupOutcome) {
    turn.events.push(Event {
        at: inbound.at,
        customer: inbound.customer.clone(),
        kind: EventKind::OrderLookup { outcome },
    });
}

#[cfg(test)]
mod tests {
    use super::{Looked, Lookups};
    use crate::domain::{CustomerId, Inbound};
    use std::cell::Cell;

    fn message(id: &str) -> Inbound {
        Inbound {
            customer: CustomerId::parse("web:abc").unwrap(),
            message_id: id.into(),
            text: "ordine 1234".into(),
            at: chrono::Utc::now(),
            sent_at: None,
            locale: None,
            name: None,
            attachment: None,
            original: None,
        }
    }

    #[test]
    fn a_retried_turn_asks_the_platform_and_counts_the_limit_once_per_message() {
        let lookups = Lookups::default();
        let calls = Cell::new(0);
        let look = || {
            calls.set(calls.get() + 1);
            assert!(lookups.admit(&message("m").customer, chrono::Utc::now()));
            Looked::Found(Box::new(Ok(None)))
        };
        let first = message("m1");
        lookups.once(&first, "1234", look);
        // The same message again (a write conflict retried the turn): no new call.
        lookups.once(&first, "1234", || unreachable!("asked again"));
        assert_eq!(calls.get(), 1);
        // A new message, or another number, asks again.
        lookups.once(&message("m2"), "1234", look);
        lookups.once(&message("m2"), "9999", look);
        assert_eq!(calls.get(), 3);
        let counted = lookups.recent.lock().unwrap()[&first.customer].len();
        assert_eq!(counted, 3, "one count per lookup made");
    }
}
