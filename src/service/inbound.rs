//! A customer message: plan it (the rules live in `domain::plan`), apply the plan
//! (texts, tickets), and write every effect in one turn.

use super::effects::{Applied, say};
use super::{Result, Service, ServiceError, texts};
use crate::domain::plan::{self, Configured, Plan, Reading, Rules};
use crate::domain::triage::{self, Candidate, Decision, IntentAction};
use crate::domain::{
    Author, Conversation, Event, EventKind, Inbound, Lang, Mode, Outbound, OutboundKind, Scored,
    Ticket,
};
use crate::matcher::{Analysis, Brain};
use crate::store::{StoreError, Turn};

/// What happened to an inbound message.
#[derive(Debug, Clone)]
pub struct Handled {
    /// The provider redelivered a message already stored: nothing was done.
    pub duplicate: bool,
    pub decision: Option<Decision>,
    pub reason: String,
    pub analysis: Option<Analysis>,
    pub ticket: Option<Ticket>,
}

/// The analysis of a message, kept across the retries of its turn (a write conflict):
/// the embeddings endpoint is asked once per message, not once per attempt. Made again
/// if the brain was reloaded or the language changed meanwhile.
#[derive(Default)]
struct Memo(std::cell::RefCell<Option<Analysed>>);

/// An analysis, with the brain and the language it was made with.
type Analysed = (std::sync::Arc<Brain>, Option<Lang>, Analysis);

impl Memo {
    fn analyse(&self, brain: &std::sync::Arc<Brain>, text: &str, lang: Option<Lang>) -> Analysis {
        if let Some((b, l, analysis)) = &*self.0.borrow()
            && std::sync::Arc::ptr_eq(b, brain)
            && *l == lang
        {
            return analysis.clone();
        }
        let analysis = brain.analyse(text, lang);
        *self.0.borrow_mut() = Some((brain.clone(), lang, analysis.clone()));
        analysis
    }
}

impl Handled {
    /// A redelivery of a message already stored: nothing done.
    fn duplicate() -> Handled {
        Handled {
            duplicate: true,
            decision: None,
            reason: "already stored".into(),
            analysis: None,
            ticket: None,
        }
    }
}

/// The candidates of each question of a message that asks two or more, split at its
/// question marks ("quanto costa la spedizione? e i resi?"); empty for one question.
/// A part of fewer than two words ("grazie?") is no question of its own.
fn questions_of(brain: &Brain, text: &str, lang: Lang) -> Vec<Vec<Candidate>> {
    let parts: Vec<&str> = text
        .split_inclusive('?')
        .filter(|p| p.contains('?') && crate::text::word_count(p) >= 2)
        .collect();
    if parts.len() < 2 {
        return Vec::new();
    }
    parts
        .into_iter()
        .map(|p| brain.analyse(p, Some(lang)).candidates)
        .collect()
}

impl Service {
    /// Handle a customer message and return once it and its replies are on disk: the
    /// caller may acknowledge it to the provider.
    pub fn handle_inbound(&self, inbound: &Inbound) -> Result<Handled> {
        let busy = self.store.busy();
        let handled = self.handle_inbound_unflushed(inbound)?;
        self.store.flush_busy(&busy)?;
        Ok(handled)
    }

    /// Handle a customer message, committed but not yet flushed: for a caller that
    /// stores a batch and then flushes once (`Store::flush`) before acknowledging it.
    pub fn handle_inbound_unflushed(&self, inbound: &Inbound) -> Result<Handled> {
        let duplicate = Handled::duplicate();
        if self.store.seen(&inbound.customer, &inbound.message_id)? {
            return Ok(duplicate);
        }
        let pace = self
            .flood
            .pace_in(&self.store, &inbound.customer, inbound.written_at());
        let memo = Memo::default();
        let result = self.retry(|| match pace {
            super::flood::Pace::Admit => self.try_inbound(inbound, &memo),
            super::flood::Pace::Hold { tell } => self.hold_inbound(inbound, tell, &memo),
        });
        match result {
            Err(ServiceError::Store(StoreError::Duplicate(_))) => Ok(duplicate),
            other => other,
        }
    }

    /// Plan the message (pure rules, in the domain), then apply the plan: texts,
    /// tickets, and one turn.
    fn try_inbound(&self, inbound: &Inbound, memo: &Memo) -> Result<Handled> {
        let stored = self.store.conversation(&inbound.customer)?;
        let brain = self.brain();
        let arrived = plan::arrive(stored.as_ref(), inbound);
        let analysis = memo.analyse(&brain, &inbound.text, arrived.lang);
        let lang = analysis.lang;
        let orders: Vec<&str> = analysis.captures.iter().map(|c| c.value.as_str()).collect();
        let parts = questions_of(&brain, &inbound.text, lang);
        let reading = Reading {
            lang,
            intent: analysis.intent.as_ref(),
            candidates: &analysis.candidates,
            orders: &orders,
            parts: &parts,
        };
        let configured = |d: &str| self.config.departments.contains_key(d);
        let rules = Rules {
            policy: brain.settings.policy(),
            keyword_department: self.config.department_by_keywords(&inbound.text),
            default_department: &self.config.default_department,
            configured: Configured(&configured),
            person_label: texts::talk_to_person(lang),
            orders: self.orders.is_some(),
            first_miss_hands_off: inbound.customer.kind()
                == Some(crate::domain::ChannelKind::Email)
                && self.config.email.first_miss == crate::config::FirstMiss::Handoff,
        };
        let Plan {
            conversation,
            decision,
            why,
            department,
            welcome_back,
            survey,
            also,
        } = plan::plan(stored.as_ref(), arrived, inbound, &reading, &rules);
        let mut turn = Turn::new(conversation);
        turn.inbound = Some(inbound.clone());
        // A greeting, a thanks, "annulla", another "operatore": no need said in it (a
        // complaint says one).
        let chatter = analysis.intent.as_ref().is_some_and(|i| {
            matches!(
                i.action,
                IntentAction::Reply
                    | IntentAction::Cancel
                    | IntentAction::HandOff {
                        reason: crate::domain::HandoffReason::Asked,
                        ..
                    }
            )
        });
        let complaint = analysis.intent.as_ref().and_then(|i| match i.action {
            IntentAction::HandOff {
                reason: crate::domain::HandoffReason::Complaint,
                priority,
            } => Some(priority),
            _ => None,
        });
        let applied = Applied {
            also: &also,
            complaint,
            department,
            survey,
            inbound,
            chatter,
        };
        let mut said = self.effects(&brain, &decision, applied, &mut turn)?;
        if why.cause == triage::Cause::ChoiceOutOfRange {
            said.text = Some(texts::pick_a_number(lang, said.choices.len()));
        }
        if let Some(number) = orders.last() {
            self.order_on_ticket(&mut turn, number)?;
        }
        if let (true, Some(name), Some(text)) = (welcome_back, &turn.conversation.name, &said.text)
        {
            said.text = Some(texts::welcome_back(lang, name, text));
        }
        let target = said.target.take();
        // An attachment's words do not tell one from another: a burst of photos,
        // a location and a sticker hears "cannot read" once.
        let heard = match decision {
            Decision::Unreadable => "",
            _ => analysis.normalised.as_str(),
        };
        say(&mut turn, said, inbound, heard);
        let event = decided_event(inbound, lang, &decision, target, &why, &analysis);
        turn.events.insert(0, event);
        let ticket = turn.conversation.ticket;
        let ticket = ticket.or(turn.tickets.first().map(|t| t.id));
        self.commit_turn(&turn, ticket)?;
        Ok(Handled {
            duplicate: false,
            decision: Some(decision),
            reason: why.text,
            analysis: Some(analysis),
            ticket: turn.tickets.into_iter().next(),
        })
    }

    /// A message over the customer's pace: stored for the transcript (and an operator),
    /// not matched; the first one of a burst gets a polite notice. With a person on
    /// the conversation the bot says nothing anyway, so it goes the usual way.
    fn hold_inbound(&self, inbound: &Inbound, tell: bool, memo: &Memo) -> Result<Handled> {
        let Some(mut conv) = self.store.conversation(&inbound.customer)? else {
            return self.try_inbound(inbound, memo);
        };
        if matches!(conv.mode, Mode::Queued | Mode::WithOperator) {
            return self.try_inbound(inbound, memo);
        }
        conv.updated_at = inbound.at;
        conv.last_inbound_at = conv.last_inbound_at.max(Some(inbound.written_at()));
        let lang = conv.lang.unwrap_or(Lang::It);
        let mut turn = Turn::new(conv);
        turn.inbound = Some(inbound.clone());
        if tell {
            let out = Outbound {
                customer: inbound.customer.clone(),
                kind: OutboundKind::Reply,
                text: texts::slow_down(lang).to_owned(),
                choices: Vec::new(),
                at: inbound.at,
                operator: None,
            };
            turn.outbound.push((Author::Bot, out));
        }
        self.commit_turn(&turn, None)?;
        Ok(Handled {
            duplicate: false,
            decision: None,
            reason: "held: the customer is writing faster than the bot answers".into(),
            analysis: None,
            ticket: None,
        })
    }

    /// Store a message that must never be answered (a mail's auto-reply, a list, a
    /// bounce): in the transcript and the console, no reply, no decision. Flushed on
    /// return; a redelivery is dropped as for any message.
    pub fn record_only(&self, inbound: &Inbound, why: &str) -> Result<Handled> {
        let handled = Handled::duplicate();
        if self.store.seen(&inbound.customer, &inbound.message_id)? {
            return Ok(handled);
        }
        let result = self.retry(|| {
            let stored = self.store.conversation(&inbound.customer)?;
            let mut conv =
                stored.unwrap_or_else(|| Conversation::new(inbound.customer.clone(), inbound.at));
            conv.updated_at = inbound.at;
            let ticket = conv.ticket;
            let mut turn = Turn::new(conv);
            turn.inbound = Some(inbound.clone());
            self.commit_turn(&turn, ticket)
        });
        match result {
            Err(ServiceError::Store(StoreError::Duplicate(_))) => return Ok(handled),
            other => other?,
        }
        self.store.flush()?;
        Ok(Handled {
            duplicate: false,
            reason: format!("stored, never answered: {why}"),
            ..handled
        })
    }
}

fn decided_event(
    inbound: &Inbound,
    lang: Lang,
    decision: &Decision,
    target: Option<String>,
    why: &triage::Why,
    analysis: &Analysis,
) -> Event {
    Event {
        // A message delivered late counts in the report when the customer wrote it.
        at: inbound.written_at(),
        customer: inbound.customer.clone(),
        kind: EventKind::Decided {
            text: inbound.text.clone(),
            lang,
            decision: decision.kind(),
            cause: why.cause,
            target,
            intent: analysis.intent.as_ref().map(|i| i.name.clone()),
            reason: why.text.clone(),
            candidates: analysis
                .candidates
                .iter()
                .map(|c| Scored {
                    id: c.faq_id.clone(),
                    confidence: c.confidence,
                })
                .collect(),
        },
    }
}
