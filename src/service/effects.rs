//! What a decision does to the turn, and what the bot says for it: the answer, the
//! choices, the handoff, the survey, the order step; said once per burst.

use super::{Result, Service, texts};
use crate::domain::triage::Decision;
use crate::domain::{Author, Choice, ChoiceTarget, Inbound, Lang, Outbound, OutboundKind};
use crate::matcher::Brain;
use crate::store::Turn;

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

impl Service {
    /// An FAQ entry's answer as the customer reads it: `{hours}` filled in with the
    /// hours of the entry's department (else the shop's), in the entry's language.
    pub(super) fn answer_of(
        &self,
        entry: &crate::faq::Entry,
        now: chrono::DateTime<chrono::Utc>,
    ) -> String {
        if !entry.answer.contains(crate::faq::HOURS) {
            return entry.answer.clone();
        }
        let hours = entry
            .department
            .as_deref()
            .map_or(&self.config.hours, |d| self.config.hours_of(d));
        entry
            .answer
            .replace(crate::faq::HOURS, &hours.week_words(now, entry.lang))
    }

    /// Apply the decision to the turn; returns what to say. The answer text comes from
    /// the same brain that decided, even if a reload lands meanwhile.
    pub(super) fn effects(
        &self,
        brain: &Brain,
        decision: &Decision,
        applied: Applied<'_>,
        turn: &mut Turn,
    ) -> Result<Said> {
        let Applied {
            department,
            survey,
            inbound,
            chatter,
            complaint,
            also,
        } = applied;
        let lang = turn.conversation.lang.unwrap_or(Lang::It);
        let fixed = |kind, text: &str| Said::new(kind, Some(text.to_owned()));
        let fallback = || texts::fallback(lang, brain.faq.example_question(lang));
        Ok(match decision {
            Decision::Answer { faq_id } => {
                let answer = brain
                    .faq
                    .entry(faq_id)
                    .map(|e| self.answer_of(e, inbound.at));
                let mut answer = answer.unwrap_or_else(fallback);
                for id in also {
                    if let Some(entry) = brain.faq.entry(id) {
                        answer = format!("{answer}\n\n{}", self.answer_of(entry, inbound.at));
                    }
                }
                // Answered while waiting: still what the person will be asked about.
                self.add_to_request(turn, inbound, chatter)?;
                if let Some(reminder) = self.still_in_line(&mut turn.conversation, inbound.at)? {
                    answer = format!("{answer}\n\n{reminder}");
                }
                Said {
                    target: Some(faq_id.clone()),
                    ..Said::new(OutboundKind::Answer, Some(answer))
                }
            }
            Decision::Clarify { .. } => {
                let choices = turn.conversation.pending_choices.clone();
                let entries = choices
                    .iter()
                    .filter(|c| matches!(c.target, ChoiceTarget::Faq(_)))
                    .count();
                Said {
                    choices,
                    ..fixed(OutboundKind::Clarify, texts::clarify(lang, entries))
                }
            }
            Decision::Reply { intent } => {
                let text = brain.intents.get(intent).and_then(|i| i.reply_text(lang));
                // A rule without words of its own ("annulla" with nothing to take back).
                let text = text.unwrap_or_else(|| texts::all_right(lang));
                // A thanks or an "ok" left a survey standing: the question again, with
                // its buttons, after the reply.
                if let Some(survey) = &turn.conversation.survey {
                    let again = texts::survey_still(survey.kind, lang);
                    return Ok(Said {
                        target: Some(intent.clone()),
                        choices: super::surveys::score_choices(survey.kind),
                        ..Said::new(OutboundKind::Reply, Some(format!("{text} {again}")))
                    });
                }
                let said = Said::new(OutboundKind::Reply, Some(text.to_owned()));
                Said {
                    target: Some(intent.clone()),
                    ..said
                }
            }
            Decision::Fallback => Said::new(OutboundKind::Fallback, Some(fallback())),
            Decision::HandOff {
                reason, priority, ..
            } => {
                let department = department.expect("the plan routes every handoff");
                Self::score_in_complaint(turn, inbound, survey.as_ref(), reason);
                let text = self.hand_over(turn, inbound, department, reason, *priority)?;
                Said::new(OutboundKind::Handoff, Some(text))
            }
            Decision::CancelHandOff => {
                self.cancel_ticket(turn, inbound)?;
                fixed(OutboundKind::Cancelled, texts::cancelled(lang))
            }
            Decision::ToOperator => {
                self.add_to_request(turn, inbound, chatter)?;
                let text = match complaint {
                    Some(priority) => self.complaint_while_queued(turn, inbound, priority)?,
                    None => None,
                };
                let text = match text {
                    Some(text) => Some(text),
                    None => self.still_queued(&mut turn.conversation, inbound.at)?,
                };
                Said::new(OutboundKind::Waiting, text)
            }
            Decision::Unreadable => fixed(OutboundKind::Reply, texts::unreadable(lang)),
            Decision::SurveyAnswer {
                survey: kind,
                score,
                comment,
            } => {
                let ticket = survey.and_then(|s| s.ticket);
                self.survey_answered(turn, inbound, (*kind, *score, comment.clone()), ticket)
            }
            Decision::OrderStatus { number, proof } => {
                self.order_step(turn, inbound, number.clone(), proof.clone())?
            }
            Decision::SurveyRetry { survey } => Self::survey_again(*survey, lang),
        })
    }
}

/// Queue what the bot says, unless the customer heard the same words for what it
/// `heard` just now: a burst hears them once (the same message again, or any message
/// while it waits: one "noted"). A question put another way is answered even when the
/// answer is the same (the same choices again, not silence).
pub(super) fn say(turn: &mut Turn, said: Said, inbound: &Inbound, heard: &str) {
    let Some(text) = said.text else {
        return;
    };
    let heard = if said.kind == OutboundKind::Waiting {
        ""
    } else {
        heard
    };
    let digest = crate::accounts::digest(&format!("{text}\n{heard}"))[..16].to_owned();
    if turn.conversation.repeats(digest, inbound.written_at()) {
        return;
    }
    let out = Outbound {
        customer: inbound.customer.clone(),
        kind: said.kind,
        text,
        choices: said.choices,
        at: inbound.at,
        operator: None,
    };
    turn.outbound.push((Author::Bot, out));
}

/// What the plan leaves to the service besides its decision.
pub(super) struct Applied<'a> {
    pub(super) department: Option<String>,
    pub(super) survey: Option<crate::domain::PendingSurvey>,
    pub(super) inbound: &'a Inbound,
    /// The message is a greeting, a thanks, "annulla" or a request for a person: no
    /// need said in it.
    pub(super) chatter: bool,
    /// The message complains (the intent's priority): while queued, the ticket is
    /// raised to it and the customer hears so.
    pub(super) complaint: Option<crate::domain::Priority>,
    /// More entries to answer with an Answer's, one per further question.
    pub(super) also: &'a [String],
}
