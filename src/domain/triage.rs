//! `decide`: what the bot does with one customer message, as a value. Pure: it sees
//! the conversation's situation and the matcher's analysis, and never acts.

use super::order::{OrderCheck, Proof, email_in, named_number_in, number_in, proof_in};
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
    /// "Where is my order?": checked on the shop's platform when one is connected.
    OrderStatus,
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
    /// The evidence behind it before calibration, in [0, 1]: what decides whether the
    /// entry is worth offering as a choice (`clarify_floor`, `margin`).
    #[serde(default)]
    pub evidence: f32,
    /// The bar this entry must reach to be answered (its own, or the global one).
    pub threshold: f32,
    pub department: Option<String>,
}

/// The thresholds triage works with.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    /// Below this evidence, a candidate is not worth offering at all.
    pub clarify_floor: f32,
    /// When the runner-up's confidence is this close to the top's, ask which one was
    /// meant; choices are offered within twice this of the top's evidence.
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
    /// The shop's order platform is connected (`[orders]`).
    pub orders: bool,
    /// The order check in progress, still fresh: the bot asked for a number or proof.
    pub order_check: Option<&'a OrderCheck>,
    /// A miss goes to a person at once, not after a second one (email).
    pub first_miss_hands_off: bool,
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
    /// "Where is my order?": the next step of the check (ask for the number, ask for
    /// the proof, or look the order up). A number missing here is the conversation's
    /// last one, if any (the planner fills it in).
    OrderStatus {
        number: Option<String>,
        proof: Option<Proof>,
    },
}

/// A decision without its data: what events store and reports count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    Answer,
    Clarify,
    Reply,
    Handoff,
    Fallback,
    CancelHandoff,
    ToOperator,
    Unreadable,
    SurveyAnswer,
    OrderStatus,
}

impl DecisionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionKind::Answer => "answer",
            DecisionKind::Clarify => "clarify",
            DecisionKind::Reply => "reply",
            DecisionKind::Handoff => "handoff",
            DecisionKind::Fallback => "fallback",
            DecisionKind::CancelHandoff => "cancel_handoff",
            DecisionKind::ToOperator => "to_operator",
            DecisionKind::Unreadable => "unreadable",
            DecisionKind::SurveyAnswer => "survey_answer",
            DecisionKind::OrderStatus => "order_status",
        }
    }
}

impl std::fmt::Display for DecisionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Decision {
    pub fn kind(&self) -> DecisionKind {
        match self {
            Decision::Answer { .. } => DecisionKind::Answer,
            Decision::Clarify { .. } => DecisionKind::Clarify,
            Decision::Reply { .. } => DecisionKind::Reply,
            Decision::HandOff { .. } => DecisionKind::Handoff,
            Decision::Fallback => DecisionKind::Fallback,
            Decision::CancelHandOff => DecisionKind::CancelHandoff,
            Decision::ToOperator => DecisionKind::ToOperator,
            Decision::Unreadable => DecisionKind::Unreadable,
            Decision::SurveyAnswer { .. } => DecisionKind::SurveyAnswer,
            Decision::OrderStatus { .. } => DecisionKind::OrderStatus,
        }
    }
}

/// Why triage decided as it did, as a value: reports and `faq gaps` count causes,
/// never words, so rewording a reason cannot change a KPI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// The best FAQ match reached its threshold, clear of the runner-up.
    Confident,
    /// The top two matches were too close to tell apart.
    TooClose,
    /// The best match was below its threshold, yet worth offering.
    BelowThreshold,
    /// No FAQ entry shares a word with the message.
    NoCandidate,
    /// The best match was too weak to offer.
    TooWeak,
    /// The second message in a row without a match: handed to a person.
    SecondMiss,
    /// The customer picked an FAQ entry from the choices offered.
    PickedEntry,
    /// The customer picked "talk to a person" from the choices offered.
    PickedPerson,
    /// An intent rule fired.
    Intent,
    /// The customer took back the request for a person.
    TookBack,
    /// A person owns the conversation.
    PersonOwns,
    /// A photo, file or voice note.
    Attachment,
    /// The answer to the survey just asked.
    SurveyAnswer,
    /// A survey button pressed outside a survey.
    StrayButton,
    /// The order number or the email/postcode the bot asked for.
    OrderDetails,
    /// Written before causes were stored, by words the migration did not recognise.
    #[default]
    Unknown,
}

impl Cause {
    /// Whether the bot could not answer: the report's "unanswered" and `faq gaps`.
    pub fn missed(self, decision: DecisionKind) -> bool {
        decision == DecisionKind::Fallback || self == Cause::SecondMiss
    }

    /// Whether the customer picked one of the choices offered.
    pub fn picked(self) -> bool {
        matches!(self, Cause::PickedEntry | Cause::PickedPerson)
    }

    /// The cause of a reason written in words by a sportello that did not store causes
    /// (layout v2 and older). Only the store's migration reads words, once.
    pub fn from_words(reason: &str) -> Cause {
        let starts = |p: &str| reason.starts_with(p);
        if starts("second message in a row") {
            Cause::SecondMiss
        } else if starts("customer picked to talk") {
            Cause::PickedPerson
        } else if starts("customer picked") {
            Cause::PickedEntry
        } else if starts("intent `") {
            Cause::Intent
        } else if starts("top two within") {
            Cause::TooClose
        } else if reason.contains("is below its threshold") {
            Cause::BelowThreshold
        } else if reason.contains(">= threshold") {
            Cause::Confident
        } else if starts("no FAQ entry shares a word") {
            Cause::NoCandidate
        } else if starts("best match") {
            Cause::TooWeak
        } else if starts("customer took back") {
            Cause::TookBack
        } else if starts("a person owns") {
            Cause::PersonOwns
        } else if starts("an attachment") {
            Cause::Attachment
        } else if starts("answer ") && reason.contains("survey") {
            Cause::SurveyAnswer
        } else if starts("a survey button") {
            Cause::StrayButton
        } else if starts("the order details asked for") {
            Cause::OrderDetails
        } else {
            Cause::Unknown
        }
    }
}

/// The cause of a decision, and the same in words for people (`ask`, the transcript).
#[derive(Debug, Clone, PartialEq)]
pub struct Why {
    pub cause: Cause,
    pub text: String,
}

impl Why {
    fn new(cause: Cause, text: impl Into<String>) -> Self {
        Why {
            cause,
            text: text.into(),
        }
    }
}

impl std::fmt::Display for Why {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// Decide, with the cause (and the reason in words, for events and `ask --json`).
pub fn decide(
    situation: Situation<'_>,
    text: &str,
    intent: Option<&IntentHit>,
    candidates: &[Candidate],
    policy: &Policy,
) -> (Decision, Why) {
    if situation.mode.human_owned() {
        return decide_human_owned(situation, intent, candidates, policy);
    }
    if situation.attachment {
        return (
            Decision::Unreadable,
            Why::new(Cause::Attachment, "an attachment the bot cannot read"),
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
            Why::new(Cause::SurveyAnswer, why),
        );
    }
    if let Some(check) = situation.order_check
        && let Some(decision) = order_details(check, text)
    {
        return decision;
    }
    if let Some(choice) = pick_choice(text, situation.pending_choices) {
        return decide_choice(choice, intent);
    }
    if let Some(decision) = intent.and_then(|i| decide_intent(i, situation, text)) {
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
) -> (Decision, Why) {
    let to_operator = || {
        (
            Decision::ToOperator,
            Why::new(Cause::PersonOwns, "a person owns the conversation"),
        )
    };
    if situation.mode != Mode::Queued {
        return to_operator();
    }
    match intent.map(|i| &i.action) {
        Some(IntentAction::Cancel) => {
            return (
                Decision::CancelHandOff,
                Why::new(Cause::TookBack, "customer took back the request"),
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
            Why::new(
                why.cause,
                format!("{why} (while queued: the place is kept)"),
            ),
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

fn decide_choice(choice: &Choice, intent: Option<&IntentHit>) -> (Decision, Why) {
    match &choice.target {
        ChoiceTarget::Faq(id) => (
            Decision::Answer { faq_id: id.clone() },
            Why::new(
                Cause::PickedEntry,
                format!("customer picked `{id}` from the choices"),
            ),
        ),
        ChoiceTarget::Human => (
            Decision::HandOff {
                reason: HandoffReason::Asked,
                priority: Priority::Normal,
                department: intent.and_then(|i| i.department.clone()),
            },
            Why::new(Cause::PickedPerson, "customer picked to talk to a person"),
        ),
        // Survey buttons are never offered as Clarify choices.
        ChoiceTarget::Score(_) => (
            Decision::Fallback,
            Why::new(Cause::StrayButton, "a survey button out of a survey"),
        ),
    }
}

/// A reply to "what is the order number / the email?": the next step of the check.
fn order_details(check: &OrderCheck, text: &str) -> Option<(Decision, Why)> {
    // Waiting for the number, digits are the number, never a postcode.
    let proof = match check.number {
        Some(_) => proof_in(text),
        None => email_in(text),
    };
    let number = check.number.clone().or_else(|| number_in(text));
    let new_number = check.number.is_none() && number.is_some();
    (proof.is_some() || new_number).then(|| {
        let why = Why::new(Cause::OrderDetails, "the order details asked for");
        (Decision::OrderStatus { number, proof }, why)
    })
}

fn decide_intent(hit: &IntentHit, situation: Situation<'_>, text: &str) -> Option<(Decision, Why)> {
    let why = Why::new(Cause::Intent, format!("intent `{}` matched", hit.name));
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
        // Without a platform to ask, the FAQ answers (e.g. how to track an order).
        IntentAction::OrderStatus if !situation.orders => return None,
        IntentAction::OrderStatus => Decision::OrderStatus {
            number: named_number_in(text),
            proof: email_in(text),
        },
    };
    Some((decision, why))
}

fn decide_faq(
    situation: Situation<'_>,
    candidates: &[Candidate],
    policy: &Policy,
) -> (Decision, Why) {
    let Some(top) = candidates.first() else {
        return low_confidence(
            situation,
            Why::new(
                Cause::NoCandidate,
                "no FAQ entry shares a word with the message",
            ),
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
            Why::new(Cause::Confident, why),
        );
    }
    if top.evidence >= policy.clarify_floor {
        let bar = (top.evidence - 2.0 * policy.margin).max(policy.clarify_floor);
        let choices: Vec<Choice> = candidates
            .iter()
            .filter(|c| c.evidence >= bar)
            .take(policy.max_choices)
            .map(|c| Choice {
                label: c.label.clone(),
                target: ChoiceTarget::Faq(c.faq_id.clone()),
            })
            .collect();
        let why = if close {
            let words = format!(
                "top two within {:.2}: {:.2} vs {:.2}",
                policy.margin, top.confidence, runner_up
            );
            Why::new(Cause::TooClose, words)
        } else {
            let words = format!(
                "`{}` at {:.2} is below its threshold {:.2}",
                top.faq_id, top.confidence, top.threshold
            );
            Why::new(Cause::BelowThreshold, words)
        };
        return (Decision::Clarify { choices }, why);
    }
    let words = format!(
        "best match `{}` at {:.2} (evidence {:.2}) is below {:.2}",
        top.faq_id, top.confidence, top.evidence, policy.clarify_floor
    );
    low_confidence(situation, Why::new(Cause::TooWeak, words))
}

fn low_confidence(situation: Situation<'_>, why: Why) -> (Decision, Why) {
    if situation.first_miss_hands_off {
        let decision = Decision::HandOff {
            reason: HandoffReason::LowConfidence,
            priority: Priority::Normal,
            department: None,
        };
        let words = format!("no match, and this channel hands a miss to a person at once: {why}");
        (decision, Why::new(Cause::SecondMiss, words))
    } else if situation.low_confidence_streak >= 1 {
        let decision = Decision::HandOff {
            reason: HandoffReason::LowConfidence,
            priority: Priority::Normal,
            department: None,
        };
        let words = format!("second message in a row without a match: {why}");
        (decision, Why::new(Cause::SecondMiss, words))
    } else {
        (Decision::Fallback, why)
    }
}

#[cfg(test)]
#[path = "triage_tests.rs"]
mod tests;
