//! `plan`: everything a customer message changes in its conversation, as a value.
//! Pure like [`triage::decide`] (which it calls): it sees the stored conversation, the
//! message, what the matcher read in it and the shop's routing, and returns the
//! conversation as it should be stored, the decision and the department a handoff
//! goes to. The service applies the plan: texts, tickets, the store.
//!
//! The rules here: a closed conversation reopens; name, language and order numbers are
//! remembered; a survey ends with the next message (and counts only within
//! [`SURVEY_TTL`]) unless it gave a score out of range (asked again), only
//! acknowledged, or was not understood; a message of several questions each answered
//! outright is answered with all of them; Clarify choices last one message; the
//! low-confidence streak; a returning customer known by name is welcomed back; a
//! handoff is routed.

use super::triage::{self, Candidate, Cause, Decision, IntentHit, Policy, Situation, Why};
use super::{
    Choice, ChoiceTarget, Conversation, HandoffReason, Inbound, Lang, Mode, ModeEvent,
    PendingSurvey, SESSION_GAP, SURVEY_TTL,
};

/// What the matcher read in the message (the planner never calls it).
#[derive(Debug, Clone, Copy)]
pub struct Reading<'a> {
    /// The language the message was read in; it becomes the conversation's.
    pub lang: Lang,
    pub intent: Option<&'a IntentHit>,
    pub candidates: &'a [Candidate],
    /// Order numbers written in the message.
    pub orders: &'a [&'a str],
    /// For a message of two questions or more ("quanto costa la spedizione? e i
    /// resi?"): each question's candidates, in order; empty otherwise.
    pub parts: &'a [Vec<Candidate>],
}

/// The shop's settings the rules use.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    pub policy: Policy,
    /// The department the customer's own words name (`[departments] keywords`).
    pub keyword_department: Option<&'a str>,
    pub default_department: &'a str,
    /// Whether the configuration has a department: content may name one it lacks
    /// (`check` warns), and a handoff there would wait in a queue nobody is in.
    pub configured: Configured<'a>,
    /// The label of the "talk to a person" choice, in the message's language.
    pub person_label: &'a str,
    /// The shop's order platform is connected (`[orders]`).
    pub orders: bool,
    /// The channel hands the first message without a match to a person (email: no
    /// "please rephrase" round trip a day later).
    pub first_miss_hands_off: bool,
}

/// The configuration's departments, as [`Rules`] asks about them.
#[derive(Clone, Copy)]
pub struct Configured<'a>(pub &'a dyn Fn(&str) -> bool);

impl Configured<'_> {
    fn has(&self, department: &str) -> bool {
        (self.0)(department)
    }
}

impl std::fmt::Debug for Configured<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Configured(..)")
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The conversation as the message leaves it, before any ticket: a handoff or a
    /// cancel changes its mode when the service opens or cancels the ticket.
    pub conversation: Conversation,
    pub decision: Decision,
    pub why: Why,
    /// Where a handoff goes.
    pub department: Option<String>,
    /// Open the reply with a welcome back by name.
    pub welcome_back: bool,
    /// The survey this message ended, answered or not.
    pub survey: Option<PendingSurvey>,
    /// More FAQ entries to answer with the decision's, one per further question of
    /// the message.
    pub also: Vec<String>,
}

/// The conversation as a message finds it: reopened if it was closed, with the
/// customer's name and the language settled. Its `lang` is the one to read the
/// message in.
pub fn arrive(stored: Option<&Conversation>, inbound: &Inbound) -> Conversation {
    let mut conv = stored
        .cloned()
        .unwrap_or_else(|| Conversation::new(inbound.customer.clone(), inbound.at));
    if conv.mode == Mode::Closed {
        conv.transition(ModeEvent::Reopen, None)
            .expect("a closed conversation reopens");
    }
    if inbound.name.is_some() {
        conv.name.clone_from(&inbound.name);
    }
    conv.updated_at = inbound.at;
    // WhatsApp's window counts from when the customer wrote (a late message never
    // moves it back).
    conv.last_inbound_at = conv.last_inbound_at.max(Some(inbound.written_at()));
    let read = crate::text::read_lang(&inbound.text);
    conv.settle_lang(inbound.locale, read.lang, read.words);
    conv
}

/// `arrived` is what [`arrive`] made of `stored` for this message (the service read
/// the message in its language already); `stored` tells a returning customer.
pub fn plan(
    stored: Option<&Conversation>,
    arrived: Conversation,
    inbound: &Inbound,
    reading: &Reading<'_>,
    rules: &Rules<'_>,
) -> Plan {
    let mut conv = arrived;
    conv.lang = Some(reading.lang);
    for order in reading.orders {
        conv.remember_order(order);
    }
    // Any message ends a survey; one left unanswered for a day is not read as answered.
    let survey = conv.survey.take();
    let situation = Situation {
        mode: conv.mode,
        low_confidence_streak: conv.low_confidence_streak,
        pending_choices: &conv.pending_choices,
        attachment: inbound.attachment.is_some(),
        survey: survey
            .as_ref()
            .filter(|s| inbound.at - s.asked_at < SURVEY_TTL)
            .map(|s| s.kind),
        orders: rules.orders,
        first_miss_hands_off: rules.first_miss_hands_off,
        order_check: conv.order_check.as_ref().filter(|c| c.fresh(inbound.at)),
    };
    let (mut decision, mut why) = triage::decide(
        situation,
        &inbound.text,
        reading.intent,
        reading.candidates,
        &rules.policy,
    );
    // Two questions or more in one message, each answered outright on its own: all of
    // them are answered (the whole message may read as neither, or as a choice
    // between them).
    let mut also = Vec::new();
    let from_faq = matches!(
        why.cause,
        Cause::Confident | Cause::TooClose | Cause::BelowThreshold
    );
    if from_faq && matches!(decision, Decision::Answer { .. } | Decision::Clarify { .. }) {
        let mut answered: Vec<String> = Vec::new();
        for part in reading.parts {
            if let Some(top) = triage::confident(part, &rules.policy)
                && !answered.contains(&top.faq_id)
            {
                answered.push(top.faq_id.clone());
            }
        }
        if answered.len() >= 2 {
            why = Why::new(
                Cause::Confident,
                format!(
                    "{} questions, each answered outright: `{}`",
                    reading.parts.len(),
                    answered.join("`, `")
                ),
            );
            decision = Decision::Answer {
                faq_id: answered.remove(0),
            };
            also = answered;
        }
    }
    // An order asked about without its number: the one the customer gave last, if any.
    if let Decision::OrderStatus { number: None, .. } = &decision
        && let Some(last) = conv.order_numbers.last()
    {
        let Decision::OrderStatus { proof, .. } = decision else {
            unreachable!("matched just above");
        };
        decision = Decision::OrderStatus {
            number: Some(last.clone()),
            proof,
        };
    }
    // The check lives only while the customer answers it (the service sets the next).
    if !matches!(decision, Decision::OrderStatus { .. }) {
        conv.order_check = None;
    }
    let keeps_choices = matches!(
        decision,
        Decision::Clarify { .. } | Decision::ToOperator | Decision::Unreadable
    );
    if !keeps_choices {
        conv.pending_choices.clear();
    }
    match &decision {
        Decision::Answer { .. } | Decision::Reply { .. } => conv.low_confidence_streak = 0,
        Decision::Fallback => conv.low_confidence_streak += 1,
        Decision::Clarify { choices } => {
            // Choices offered are not an answer: a miss right after them is the
            // second message in a row the bot could not settle, and goes to a person.
            conv.low_confidence_streak += 1;
            conv.pending_choices.clone_from(choices);
            conv.pending_choices.push(Choice {
                label: rules.person_label.to_owned(),
                target: ChoiceTarget::Human,
            });
        }
        _ => {}
    }
    // A score out of range is asked again, and a message the bot did not understand
    // (a second one goes to a person) or that only acknowledges ("ok", "grazie")
    // leaves the question standing: the survey goes on, its day counted from when it
    // was asked. Anything else ends it ("ciao", a question, "lascia perdere").
    let keeps = match decision {
        Decision::SurveyRetry { .. } | Decision::Fallback => true,
        Decision::Reply { .. } => crate::domain::survey::acknowledges(&inbound.text),
        _ => false,
    };
    let fresh = survey
        .as_ref()
        .is_some_and(|s| inbound.at - s.asked_at < SURVEY_TTL);
    let survey = if keeps && fresh {
        conv.survey = survey;
        None
    } else {
        survey
    };
    let department = match &decision {
        Decision::HandOff {
            reason, department, ..
        } => Some(route(department.as_deref(), reason, reading, rules)),
        _ => None,
    };
    let returning =
        stored.is_some_and(|c| c.name.is_some() && inbound.at - c.updated_at >= SESSION_GAP);
    Plan {
        welcome_back: returning && greets(&decision),
        conversation: conv,
        decision,
        why,
        department,
        survey,
        also,
    }
}

/// The intent's department, else the one the customer's own words name, else the
/// topic of the best FAQ match (unless the match was too weak to trust), else the
/// default. A department the configuration lacks is passed over, so the next one
/// that can be staffed takes the handoff.
fn route(
    intent: Option<&str>,
    reason: &HandoffReason,
    reading: &Reading<'_>,
    rules: &Rules<'_>,
) -> String {
    let topic = || {
        // A match too weak to offer as a choice says nothing about the topic either.
        let best = reading.candidates.first();
        best.filter(|c| c.evidence >= rules.policy.clarify_floor)
            .and_then(|c| c.department.as_deref())
            .filter(|_| *reason != HandoffReason::LowConfidence)
    };
    let configured = |d: &&str| rules.configured.has(d);
    intent
        .filter(configured)
        .or(rules.keyword_department)
        .or_else(|| topic().filter(configured))
        .unwrap_or(rules.default_department)
        .to_owned()
}

/// Whether the reply to this decision may open with a welcome back: not to an upset
/// customer, not while a person owns the conversation, not for a survey score.
fn greets(decision: &Decision) -> bool {
    match decision {
        Decision::HandOff { reason, .. } => *reason != HandoffReason::Complaint,
        Decision::Answer { .. }
        | Decision::Reply { .. }
        | Decision::Clarify { .. }
        | Decision::Fallback
        | Decision::OrderStatus { .. } => true,
        Decision::CancelHandOff
        | Decision::ToOperator
        | Decision::Unreadable
        | Decision::SurveyAnswer { .. }
        | Decision::SurveyRetry { .. } => false,
    }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
