//! `decide`: what the bot does with one customer message, as a value. Pure: it sees
//! the conversation's situation and the matcher's analysis, and never acts. This file
//! holds what triage speaks in (candidates, policy, situation, decisions and their
//! causes); `decide.rs` the decision itself.

mod decide;

pub use decide::{confident, decide};

use super::order::{OrderCheck, Proof};
use super::{Choice, HandoffReason, Mode, Priority, SurveyKind};
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
    /// The message asks what a rule that stands aside names ("where is my order?"
    /// with no order platform to ask) and none of this entry's questions does: it may
    /// be offered as a choice, never answered outright.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub off_topic: bool,
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
    /// A score outside the survey's range ("6" to 1–5): ask again, the survey stays.
    SurveyRetry {
        survey: SurveyKind,
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
    SurveyRetry,
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
            DecisionKind::SurveyRetry => "survey_retry",
        }
    }

    /// A message that only answers a survey (or tries to): it rates what came before,
    /// and neither starts nor continues a conversation as the KPIs count them.
    pub fn rates_only(self) -> bool {
        matches!(self, DecisionKind::SurveyAnswer | DecisionKind::SurveyRetry)
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
            Decision::SurveyRetry { .. } => DecisionKind::SurveyRetry,
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
    /// A score outside the survey's range.
    SurveyOutOfRange,
    /// A number that names none of the choices offered: they are offered again.
    ChoiceOutOfRange,
    /// A lone number with no choices or survey to answer ("2"): the bot asks what it
    /// means, never answers the FAQ entry that holds the number ("2 anni").
    LoneNumber,
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
    pub fn new(cause: Cause, text: impl Into<String>) -> Self {
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

#[cfg(test)]
pub(crate) mod tests;
