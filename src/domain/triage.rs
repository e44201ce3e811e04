//! `decide`: what the bot does with one customer message, as a value. Pure: it sees
//! the conversation's situation and the matcher's analysis, and never acts.

use super::{Choice, ChoiceTarget, HandoffReason, Mode, Priority, SurveyKind};
use serde::{Deserialize, Serialize};

/// What an intent rule asks for when it fires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntentAction {
    HandOff {
        priority: Priority,
        reason: HandoffReason,
    },
    Reply,
    Answer(String),
    /// Take back a request for a person (only meaningful while queued).
    Cancel,
}

/// The intent that fired on a message, if any.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntentHit {
    pub name: String,
    pub action: IntentAction,
    pub department: Option<String>,
}

/// An FAQ entry the matcher proposes, with a confidence in [0, 1].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub faq_id: String,
    pub label: String,
    pub confidence: f32,
    /// The bar this entry must reach to be answered (its own, or the global one).
    pub threshold: f32,
    pub department: Option<String>,
}

/// The thresholds triage works with.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    /// Below this, a candidate is not worth offering at all.
    pub clarify_floor: f32,
    /// When the runner-up is this close to the top, ask which one was meant.
    pub margin: f32,
    pub max_choices: usize,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            clarify_floor: 0.3,
            margin: 0.08,
            max_choices: 3,
        }
    }
}

/// Where the conversation stands when the message arrives.
#[derive(Debug, Clone, Copy)]
pub struct Situation<'a> {
    pub mode: Mode,
    pub low_confidence_streak: u32,
    pub pending_choices: &'a [Choice],
    /// The message is a photo, file, voice note... that the bot cannot read.
    pub attachment: bool,
    /// A survey the customer was just asked.
    pub survey: Option<SurveyKind>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    Answer {
        faq_id: String,
    },
    Clarify {
        choices: Vec<Choice>,
    },
    Reply {
        intent: String,
    },
    HandOff {
        reason: HandoffReason,
        priority: Priority,
        department: Option<String>,
    },
    /// Could not match; asks to rephrase (the first time in a row).
    Fallback,
    /// The customer took back the request for a person.
    CancelHandOff,
    /// A person owns the conversation: the message goes to them, the bot stays silent.
    ToOperator,
    /// A photo, file or voice note the bot cannot read: say so, never pretend.
    Unreadable,
    /// An answer to the survey just asked (never matched against the FAQ).
    SurveyAnswer {
        survey: SurveyKind,
        score: u8,
        comment: Option<String>,
    },
}

impl Decision {
    pub fn kind(&self) -> &'static str {
        match self {
            Decision::Answer { .. } => "answer",
            Decision::Clarify { .. } => "clarify",
            Decision::Reply { .. } => "reply",
            Decision::HandOff { .. } => "handoff",
            Decision::Fallback => "fallback",
            Decision::CancelHandOff => "cancel_handoff",
            Decision::ToOperator => "to_operator",
            Decision::Unreadable => "unreadable",
            Decision::SurveyAnswer { .. } => "survey_answer",
        }
    }
}

/// Decide, with the reason in words (for events and `ask --json`).
pub fn decide(
    situation: Situation<'_>,
    text: &str,
    intent: Option<&IntentHit>,
    candidates: &[Candidate],
    policy: &Policy,
) -> (Decision, String) {
    if situation.mode.human_owned() {
        return decide_human_owned(situation, intent, candidates, policy);
    }
    if situation.attachment {
        return (
            Decision::Unreadable,
            "an attachment the bot cannot read".into(),
        );
    }
    if let Some(survey) = situation.survey
        && let Some((score, comment)) = super::read_answer(text, survey)
        && !asks_something(comment.as_deref(), intent, candidates)
    {
        let why = format!("answer {score} to the {survey:?} survey");
        return (
            Decision::SurveyAnswer {
                survey,
                score,
                comment,
            },
            why,
        );
    }
    if let Some(choice) = pick_choice(text, situation.pending_choices) {
        return decide_choice(choice, intent);
    }
    if let Some(decision) = intent.and_then(decide_intent) {
        return decision;
    }
    decide_faq(situation, candidates, policy)
}

/// A person owns the conversation: the message is theirs. While still queued, a question
/// the FAQ answers outright is answered at once (the place in the queue is kept), so a
/// customer waiting for a person is never left without an answer the bot has.
fn decide_human_owned(
    situation: Situation<'_>,
    intent: Option<&IntentHit>,
    candidates: &[Candidate],
    policy: &Policy,
) -> (Decision, String) {
    let to_operator = || {
        (
            Decision::ToOperator,
            "a person owns the conversation".into(),
        )
    };
    if situation.mode != Mode::Queued {
        return to_operator();
    }
    match intent.map(|i| &i.action) {
        Some(IntentAction::Cancel) => {
            return (
                Decision::CancelHandOff,
                "customer took back the request".into(),
            );
        }
        // A request for a person, a complaint...: it is already with the people.
        Some(IntentAction::HandOff { .. }) => return to_operator(),
        _ => {}
    }
    if situation.attachment {
        return to_operator();
    }
    match decide_faq(situation, candidates, policy) {
        (Decision::Answer { faq_id }, why) => (
            Decision::Answer { faq_id },
            format!("{why} (while queued: the place is kept)"),
        ),
        _ => to_operator(),
    }
}

/// Whether a message that starts like a score is really a request: a handoff or
/// complaint intent, or a comment that is a question or that the FAQ answers
/// ("2 paia di scarpe non arrivate?", "10 euro di spedizione").
fn asks_something(
    comment: Option<&str>,
    intent: Option<&IntentHit>,
    candidates: &[Candidate],
) -> bool {
    if intent.is_some_and(|i| matches!(i.action, IntentAction::HandOff { .. })) {
        return true;
    }
    let Some(comment) = comment else {
        return false;
    };
    comment.contains('?')
        || candidates
            .first()
            .is_some_and(|c| c.confidence >= c.threshold)
}

/// A reply to a Clarify: its number (`2`, `2.`, `la 2`) or the label typed out.
fn pick_choice<'c>(text: &str, choices: &'c [Choice]) -> Option<&'c Choice> {
    let text = crate::text::fold(text);
    let digits: String = text.chars().filter(|c| c.is_ascii_digit()).collect();
    let short = crate::text::words(&text).count() <= 2;
    if short && !digits.is_empty() {
        let n: usize = digits.parse().ok()?;
        return choices.get(n.checked_sub(1)?);
    }
    choices
        .iter()
        .find(|c| crate::text::fold(&c.label).trim_end_matches('?') == text.trim_end_matches('?'))
}

fn decide_choice(choice: &Choice, intent: Option<&IntentHit>) -> (Decision, String) {
    match &choice.target {
        ChoiceTarget::Faq(id) => (
            Decision::Answer { faq_id: id.clone() },
            format!("customer picked `{id}` from the choices"),
        ),
        ChoiceTarget::Human => (
            Decision::HandOff {
                reason: HandoffReason::Asked,
                priority: Priority::Normal,
                department: intent.and_then(|i| i.department.clone()),
            },
            "customer picked to talk to a person".into(),
        ),
        // Survey buttons are never offered as Clarify choices.
        ChoiceTarget::Score(_) => (Decision::Fallback, "a survey button out of a survey".into()),
    }
}

fn decide_intent(hit: &IntentHit) -> Option<(Decision, String)> {
    let why = format!("intent `{}` matched", hit.name);
    let decision = match &hit.action {
        IntentAction::HandOff { priority, reason } => Decision::HandOff {
            reason: reason.clone(),
            priority: *priority,
            // None: the service routes by keywords, then by the best match's topic.
            department: hit.department.clone(),
        },
        IntentAction::Reply => Decision::Reply {
            intent: hit.name.clone(),
        },
        IntentAction::Answer(id) => Decision::Answer { faq_id: id.clone() },
        IntentAction::Cancel => return None,
    };
    Some((decision, why))
}

fn decide_faq(
    situation: Situation<'_>,
    candidates: &[Candidate],
    policy: &Policy,
) -> (Decision, String) {
    let Some(top) = candidates.first() else {
        return low_confidence(
            situation,
            "no FAQ entry shares a word with the message".into(),
        );
    };
    let runner_up = candidates.get(1).map_or(0.0, |c| c.confidence);
    let close = runner_up >= policy.clarify_floor && top.confidence - runner_up < policy.margin;
    if top.confidence >= top.threshold && !close {
        let why = format!(
            "`{}` at {:.2} >= threshold {:.2}, runner-up {:.2}",
            top.faq_id, top.confidence, top.threshold, runner_up
        );
        return (
            Decision::Answer {
                faq_id: top.faq_id.clone(),
            },
            why,
        );
    }
    if top.confidence >= policy.clarify_floor {
        let bar = (top.confidence - 2.0 * policy.margin).max(policy.clarify_floor);
        let choices: Vec<Choice> = candidates
            .iter()
            .filter(|c| c.confidence >= bar)
            .take(policy.max_choices)
            .map(|c| Choice {
                label: c.label.clone(),
                target: ChoiceTarget::Faq(c.faq_id.clone()),
            })
            .collect();
        let why = if close {
            format!(
                "top two within {:.2}: {:.2} vs {:.2}",
                policy.margin, top.confidence, runner_up
            )
        } else {
            format!(
                "`{}` at {:.2} is below its threshold {:.2}",
                top.faq_id, top.confidence, top.threshold
            )
        };
        return (Decision::Clarify { choices }, why);
    }
    low_confidence(
        situation,
        format!(
            "best match `{}` at {:.2} is below {:.2}",
            top.faq_id, top.confidence, policy.clarify_floor
        ),
    )
}

fn low_confidence(situation: Situation<'_>, why: String) -> (Decision, String) {
    if situation.low_confidence_streak >= 1 {
        let decision = Decision::HandOff {
            reason: HandoffReason::LowConfidence,
            priority: Priority::Normal,
            department: None,
        };
        (
            decision,
            format!("second message in a row without a match: {why}"),
        )
    } else {
        (Decision::Fallback, why)
    }
}

#[cfg(test)]
#[path = "triage_tests.rs"]
mod tests;
