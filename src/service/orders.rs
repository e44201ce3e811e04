//! "Where is my order?", applied: the next step of the check the planner decided (ask
//! for the number, ask for the email or postcode, or look the order up on the shop's
//! platform). The status is said only when the proof is the order's own; a wrong one
//! gets the same words as an unknown number (nothing is revealed, not even that the
//! order exists), and after [`MAX_TRIES`] a person takes over. A slow or failing
//! platform is said plainly, with a person offered: never a guess.

use super::inbound::Said;
use super::{Result, Service, order_texts, texts};
use crate::domain::order::{MAX_TRIES, OrderCheck, Proof};
use crate::domain::{
    Choice, ChoiceTarget, CustomerId, Event, EventKind, HandoffReason, Inbound, Lang,
    LookupOutcome, OutboundKind, Priority,
};
use crate::orders::{LookupError, proves};
use crate::store::Turn;
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;
use std::sync::Mutex;

/// Lookups one customer may make within [`LOOKUP_WINDOW`].
const LOOKUPS: usize = 5;
const LOOKUP_WINDOW: Duration = Duration::minutes(10);

/// Recent lookups per customer (in memory: a restart forgives).
#[derive(Default)]
pub struct Lookups(Mutex<HashMap<CustomerId, Vec<DateTime<Utc>>>>);

impl Lookups {
    /// Count a lookup at `now`; false if the customer is over the limit.
    fn admit(&self, customer: &CustomerId, now: DateTime<Utc>) -> bool {
        let mut all = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let recent = all.entry(customer.clone()).or_default();
        recent.retain(|t| now - *t < LOOKUP_WINDOW);
        if recent.len() >= LOOKUPS {
            return false;
        }
        recent.push(now);
        true
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
        if !self.lookups.admit(&inbound.customer, inbound.at) {
            log(turn, inbound, LookupOutcome::Limited);
            return Ok(self.offer_person(turn, order_texts::limited(lang)));
        }
        match orders.find(&number) {
            Ok(Some(order)) if proves(&order, &proof) => {
                log(turn, inbound, LookupOutcome::Answered);
                Ok(reply(order_texts::status(lang, &order)))
            }
            Ok(_) if tries + 1 >= MAX_TRIES => {
                log(turn, inbound, LookupOutcome::NotMatched);
                let department = self.config.default_department.clone();
                let reason = HandoffReason::Intent("order-check".into());
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
