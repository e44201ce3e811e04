//! A customer message: decide, then write every effect in one turn.

use super::{Result, Service, ServiceError, texts};
use crate::domain::triage::{self, Decision, Situation};
use crate::domain::{
    Author, Choice, ChoiceTarget, Conversation, Event, EventKind, HandoffReason, Inbound, Lang,
    Mode, ModeEvent, Outbound, OutboundKind, Scored, Ticket,
};
use crate::matcher::{Analysis, Brain};
use crate::store::{StoreError, Turn};

/// What the bot says for a decision, and the FAQ entry or intent it used.
pub(super) struct Said {
    pub(super) kind: OutboundKind,
    pub(super) text: Option<String>,
    pub(super) choices: Vec<Choice>,
    pub(super) target: Option<String>,
}

impl Said {
    pub(super) fn new(kind: OutboundKind, text: Option<String>) -> Self {
        Self {
            kind,
            text,
            choices: Vec::new(),
            target: None,
        }
    }
}

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

impl Service {
    /// Handle a customer message and return once it and its replies are on disk: the
    /// caller may acknowledge it to the provider.
    pub fn handle_inbound(&self, inbound: &Inbound) -> Result<Handled> {
        let handled = self.handle_inbound_unflushed(inbound)?;
        self.store.flush()?;
        Ok(handled)
    }

    /// Handle a customer message, committed but not yet flushed: for a caller that
    /// stores a batch and then flushes once (`Store::flush`) before acknowledging it.
    pub fn handle_inbound_unflushed(&self, inbound: &Inbound) -> Result<Handled> {
        let duplicate = Handled {
            duplicate: true,
            decision: None,
            reason: "already stored".into(),
            analysis: None,
            ticket: None,
        };
        if self.store.seen(&inbound.customer, &inbound.message_id)? {
            return Ok(duplicate);
        }
        let pace = self.flood.pace(&inbound.customer, inbound.at);
        let result = self.retry(|| match pace {
            super::flood::Pace::Admit => self.try_inbound(inbound),
            super::flood::Pace::Hold { tell } => self.hold_inbound(inbound, tell),
        });
        match result {
            Err(ServiceError::Store(StoreError::Duplicate(_))) => Ok(duplicate),
            other => other,
        }
    }

    fn try_inbound(&self, inbound: &Inbound) -> Result<Handled> {
        let expected = self.store.conversation(&inbound.customer)?;
        // Known by name and back after a while: greeted by name.
        let returning = expected.as_ref().is_some_and(|c| {
            c.name.is_some() && inbound.at - c.updated_at >= crate::domain::SESSION_GAP
        });
        let mut conv = expected
            .clone()
            .unwrap_or_else(|| Conversation::new(inbound.customer.clone(), inbound.at));
        if conv.mode == Mode::Closed {
            conv.transition(ModeEvent::Reopen, None)
                .expect("closed reopens");
        }
        if inbound.name.is_some() {
            conv.name.clone_from(&inbound.name);
        }
        conv.updated_at = inbound.at;
        let words = crate::text::word_count(&inbound.text);
        conv.settle_lang(
            inbound.locale,
            crate::text::guess_lang(&inbound.text),
            words,
        );
        let brain = self.brain();
        let analysis = brain.analyse(&inbound.text, conv.lang);
        conv.lang = Some(analysis.lang);
        let lang = analysis.lang;
        for capture in &analysis.captures {
            conv.remember_order(&capture.value);
        }
        let situation = Situation {
            mode: conv.mode,
            low_confidence_streak: conv.low_confidence_streak,
            pending_choices: &conv.pending_choices,
            attachment: inbound.attachment.is_some(),
            // A survey left unanswered for a day is over.
            survey: conv
                .survey
                .as_ref()
                .filter(|s| inbound.at - s.asked_at < crate::domain::SURVEY_TTL)
                .map(|s| s.kind),
        };
        let (decision, reason) = triage::decide(
            situation,
            &inbound.text,
            analysis.intent.as_ref(),
            &analysis.candidates,
            &brain.settings.policy(),
        );
        let mut turn = Turn {
            inbound: Some(inbound.clone()),
            ..Turn::default()
        };
        let mut said = self.effects(&brain, &decision, &mut conv, &mut turn, inbound, &analysis)?;
        let greets = matches!(
            decision,
            Decision::Answer { .. }
                | Decision::Reply { .. }
                | Decision::Clarify { .. }
                | Decision::Fallback
                | Decision::HandOff { .. }
        ) && !matches!(
            decision,
            Decision::HandOff {
                reason: HandoffReason::Complaint,
                ..
            }
        );
        if let (true, true, Some(name), Some(text)) = (returning, greets, &conv.name, &said.text) {
            said.text = Some(texts::welcome_back(lang, name, text));
        }
        let digest = said
            .text
            .as_deref()
            .map(|t| crate::accounts::digest(t)[..16].to_owned());
        let repeated = digest.is_some_and(|d| conv.repeats(d, inbound.at));
        if let Some(text) = said.text.filter(|_| !repeated) {
            let out = Outbound {
                customer: inbound.customer.clone(),
                kind: said.kind,
                text,
                choices: said.choices,
                at: inbound.at,
            };
            turn.outbound.push((Author::Bot, out));
        }
        let event = decided_event(inbound, lang, &decision, said.target, &reason, &analysis);
        turn.events.insert(0, event);
        turn.expected_conversation = expected;
        turn.conversation = Some(conv);
        self.store.commit(&turn)?;
        self.count(&turn);
        let ticket = turn.conversation.as_ref().and_then(|c| c.ticket);
        self.announce(
            &inbound.customer,
            ticket.or(turn.tickets.first().map(|t| t.id)),
            true,
        );
        let ticket = turn.tickets.into_iter().next();
        Ok(Handled {
            duplicate: false,
            decision: Some(decision),
            reason,
            analysis: Some(analysis),
            ticket,
        })
    }

    /// A message over the customer's pace: stored for the transcript (and an operator),
    /// not matched; the first one of a burst gets a polite notice. With a person on
    /// the conversation the bot says nothing anyway, so it goes the usual way.
    fn hold_inbound(&self, inbound: &Inbound, tell: bool) -> Result<Handled> {
        let expected = self.store.conversation(&inbound.customer)?;
        let Some(mut conv) = expected.clone() else {
            return self.try_inbound(inbound);
        };
        if matches!(conv.mode, Mode::Queued | Mode::WithOperator) {
            return self.try_inbound(inbound);
        }
        conv.updated_at = inbound.at;
        let mut turn = Turn {
            inbound: Some(inbound.clone()),
            ..Turn::default()
        };
        if tell {
            let lang = conv.lang.unwrap_or(Lang::It);
            let out = Outbound {
                customer: inbound.customer.clone(),
                kind: OutboundKind::Reply,
                text: texts::slow_down(lang).to_owned(),
                choices: Vec::new(),
                at: inbound.at,
            };
            turn.outbound.push((Author::Bot, out));
        }
        turn.expected_conversation = expected;
        turn.conversation = Some(conv);
        self.store.commit(&turn)?;
        self.count(&turn);
        self.announce(&inbound.customer, None, tell);
        Ok(Handled {
            duplicate: false,
            decision: None,
            reason: "held: the customer is writing faster than the bot answers".into(),
            analysis: None,
            ticket: None,
        })
    }

    /// Apply the decision to the conversation and the turn; returns what to say. The
    /// answer text comes from the same brain that decided, even if a reload lands meanwhile.
    fn effects(
        &self,
        brain: &Brain,
        decision: &Decision,
        conv: &mut Conversation,
        turn: &mut Turn,
        inbound: &Inbound,
        analysis: &Analysis,
    ) -> Result<Said> {
        let lang = conv.lang.unwrap_or(Lang::It);
        let keeps_choices = matches!(
            decision,
            Decision::Clarify { .. } | Decision::ToOperator | Decision::Unreadable
        );
        if !keeps_choices {
            conv.pending_choices.clear();
        }
        // An answered or ignored survey is over: it never blocks the next question.
        let survey = conv.survey.take();
        let fixed = |kind, text: &str| Said::new(kind, Some(text.to_owned()));
        Ok(match decision {
            Decision::Answer { faq_id } => {
                conv.low_confidence_streak = 0;
                let answer = brain.faq.entry(faq_id).map(|e| e.answer.clone());
                let mut answer = answer.unwrap_or_else(|| texts::fallback(lang).to_owned());
                if let Some(reminder) = self.still_in_line(conv, inbound.at)? {
                    answer = format!("{answer}\n\n{reminder}");
                }
                Said {
                    target: Some(faq_id.clone()),
                    ..Said::new(OutboundKind::Answer, Some(answer))
                }
            }
            Decision::Clarify { choices } => {
                let mut choices = choices.clone();
                let label = texts::talk_to_person(lang).to_owned();
                choices.push(Choice {
                    label,
                    target: ChoiceTarget::Human,
                });
                conv.pending_choices.clone_from(&choices);
                Said {
                    choices,
                    ..fixed(OutboundKind::Clarify, texts::clarify(lang))
                }
            }
            Decision::Reply { intent } => {
                conv.low_confidence_streak = 0;
                let text = brain.intents.get(intent).and_then(|i| i.reply_text(lang));
                let said = Said::new(OutboundKind::Reply, text.map(str::to_owned));
                Said {
                    target: Some(intent.clone()),
                    ..said
                }
            }
            Decision::Fallback => {
                conv.low_confidence_streak += 1;
                fixed(OutboundKind::Fallback, texts::fallback(lang))
            }
            Decision::HandOff {
                reason,
                priority,
                department,
            } => {
                // The intent's department, else the customer's own words, else the
                // topic of the best FAQ match (unless the match was too weak to trust).
                let routed = department
                    .clone()
                    .or_else(|| {
                        let keyword = self.config.department_by_keywords(&inbound.text);
                        keyword.map(str::to_owned)
                    })
                    .or_else(|| {
                        let topic = analysis
                            .candidates
                            .first()
                            .and_then(|c| c.department.clone());
                        topic.filter(|_| *reason != HandoffReason::LowConfidence)
                    });
                let department = routed.unwrap_or_else(|| self.config.default_department.clone());
                let back = self.back_at(&department, inbound.at, lang);
                let (position, estimate) =
                    self.open_ticket(conv, turn, inbound, department, reason, *priority)?;
                conv.acked_at = Some(inbound.at);
                let wait = texts::Wait {
                    position,
                    back: back.as_deref(),
                    estimate,
                };
                let order = conv.order_numbers.last().map(String::as_str);
                let text = texts::handoff(lang, reason, &wait, order);
                Said::new(OutboundKind::Handoff, Some(text))
            }
            Decision::CancelHandOff => {
                self.cancel_ticket(conv, turn, inbound)?;
                fixed(OutboundKind::Cancelled, texts::cancelled(lang))
            }
            Decision::ToOperator => {
                Said::new(OutboundKind::Waiting, self.still_queued(conv, inbound.at)?)
            }
            Decision::Unreadable => fixed(OutboundKind::Reply, texts::unreadable(lang)),
            Decision::SurveyAnswer {
                survey: kind,
                score,
                comment,
            } => {
                let ticket = survey.and_then(|s| s.ticket);
                self.survey_answered(
                    conv,
                    turn,
                    inbound,
                    (*kind, *score, comment.clone()),
                    ticket,
                )
            }
        })
    }
}

fn decided_event(
    inbound: &Inbound,
    lang: Lang,
    decision: &Decision,
    target: Option<String>,
    reason: &str,
    analysis: &Analysis,
) -> Event {
    Event {
        at: inbound.at,
        customer: inbound.customer.clone(),
        kind: EventKind::Decided {
            text: inbound.text.clone(),
            lang,
            decision: decision.kind().to_owned(),
            target,
            intent: analysis.intent.as_ref().map(|i| i.name.clone()),
            reason: reason.to_owned(),
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
