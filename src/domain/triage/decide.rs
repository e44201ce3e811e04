//! The decision: from the situation, the message, the intent and the candidates, what
//! the bot does and why.

use super::{Candidate, Cause, Decision, IntentAction, IntentHit, Policy, Situation, Why};
use crate::domain::order::{OrderCheck, email_in, named_number_in, number_in, proof_in};
use crate::domain::{Choice, ChoiceTarget, HandoffReason, Mode, Priority};

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
        && let Some((score, comment)) = crate::domain::read_answer(text, survey)
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
    if let Some(survey) = situation.survey
        && crate::domain::survey::out_of_range(text, survey)
    {
        let range = survey.range();
        let (low, high) = (range.start(), range.end());
        let why = format!("a score outside the {survey:?} survey's {low} to {high}");
        return (
            Decision::SurveyRetry { survey },
            Why::new(Cause::SurveyOutOfRange, why),
        );
    }
    if let Some(check) = situation.order_check
        && let Some(decision) = order_details(check, text)
    {
        return decision;
    }
    let reply = ChoiceReply::read(text);
    if let Some(choice) = pick_choice(&reply, situation.pending_choices) {
        return decide_choice(choice, intent);
    }
    if let Some(decision) = assent(&reply, situation.pending_choices, intent) {
        return decision;
    }
    if let Some(asked) = number_not_offered(&reply, situation.pending_choices) {
        let offered = situation.pending_choices.len();
        let why = format!("customer answered {asked} to choices numbered 1 to {offered}");
        // The same choices again (the planner adds "a person" back at the end).
        let choices = situation
            .pending_choices
            .iter()
            .filter(|c| c.target != ChoiceTarget::Human)
            .cloned()
            .collect();
        return (
            Decision::Clarify { choices },
            Why::new(Cause::ChoiceOutOfRange, why),
        );
    }
    if situation.pending_choices.is_empty()
        && situation.survey.is_none()
        && let Some(n) = lone_number(&reply)
    {
        let why = format!("a lone number ({n}) with no choices or survey to answer");
        return low_confidence(situation, Why::new(Cause::LoneNumber, why));
    }
    if let Some(decision) = intent.and_then(|i| decide_intent(i, situation, text)) {
        return decision;
    }
    let faq = decide_faq(situation, candidates, policy);
    // "lascia stare, ho risolto" with nothing to take back: the FAQ answers if it can;
    // else an all right (never a "did you mean", or a person for a second miss). Said
    // to the choices just offered, "annulla" drops them: no FAQ entry on cancelling.
    if let Some(hit) = intent.filter(|i| i.action == IntentAction::Cancel)
        && (!matches!(faq.0, Decision::Answer { .. }) || !situation.pending_choices.is_empty())
    {
        let why = format!("intent `{}` matched, nothing to take back", hit.name);
        let reply = Decision::Reply {
            intent: hit.name.clone(),
        };
        return (reply, Why::new(Cause::Intent, why));
    }
    faq
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

/// A reply to the choices offered, read once: folded, and the digits it holds.
struct ChoiceReply {
    text: String,
    digits: String,
}

impl ChoiceReply {
    fn read(text: &str) -> Self {
        let text = crate::text::fold(text);
        let digits = text.chars().filter(|c| c.is_ascii_digit()).collect();
        Self { text, digits }
    }

    /// Its digits read as one number ("la 2." gives 2).
    fn number(&self) -> Option<usize> {
        self.digits.parse().ok()
    }

    /// An ordinal word, alone in a short reply ("il secondo", "la seconda che hai
    /// detto", "the second one").
    fn ordinal(&self) -> Option<usize> {
        const ORDINALS: [&[&str]; 5] = [
            &["primo", "prima", "first"],
            &["secondo", "seconda", "second"],
            &["terzo", "terza", "third"],
            &["quarto", "quarta", "fourth"],
            &["quinto", "quinta", "fifth"],
        ];
        // A short reply only: "la seconda volta che scrivo" is no pick.
        let words: Vec<&str> = crate::text::words(&self.text).collect();
        if words.len() > 5 {
            return None;
        }
        let mut found = words.iter().filter_map(|w| {
            ORDINALS
                .iter()
                .position(|names| names.contains(w))
                .map(|i| i + 1)
        });
        let first = found.next()?;
        found.next().is_none().then_some(first)
    }
}

/// A reply to a Clarify: its number (`2`, `2.`, `la 2`) or the label typed out.
fn pick_choice<'c>(reply: &ChoiceReply, choices: &'c [Choice]) -> Option<&'c Choice> {
    let short = crate::text::words(&reply.text).count() <= 2;
    if short && !reply.digits.is_empty() {
        return choices.get(reply.number()?.checked_sub(1)?);
    }
    if reply.digits.is_empty()
        && let Some(n) = reply.ordinal()
    {
        return choices.get(n.checked_sub(1)?);
    }
    let typed = reply.text.trim_end_matches('?');
    choices
        .iter()
        .find(|c| crate::text::fold(&c.label).trim_end_matches('?') == typed)
}

/// "Sì", "ok", "esatto" to the choices offered: with one entry offered ("Intendevi
/// questo?"), its pick; with more, they are offered again (a yes names none of them).
fn assent(
    reply: &ChoiceReply,
    choices: &[Choice],
    intent: Option<&IntentHit>,
) -> Option<(Decision, Why)> {
    const YES: [&str; 16] = [
        "si", "ok", "okay", "esatto", "certo", "giusto", "proprio", "perfetto", "yes", "yep",
        "yeah", "sure", "exactly", "correct", "right", "quello",
    ];
    const FILLERS: [&str; 10] = [
        "grazie", "thanks", "please", "questo", "that", "one", "it", "is", "va", "bene",
    ];
    if choices.is_empty() || reply.text.contains('?') {
        return None;
    }
    let words: Vec<&str> = crate::text::words(&reply.text).collect();
    let says_yes = words.iter().any(|w| YES.contains(w))
        && words.len() <= 4
        && words.iter().all(|w| YES.contains(w) || FILLERS.contains(w));
    if !says_yes {
        return None;
    }
    let entries: Vec<Choice> = choices
        .iter()
        .filter(|c| matches!(c.target, ChoiceTarget::Faq(_)))
        .cloned()
        .collect();
    match entries.as_slice() {
        [] => None,
        [one] => Some(decide_choice(one, intent)),
        _ => Some((
            Decision::Clarify { choices: entries },
            Why::new(
                Cause::ChoiceOutOfRange,
                "a yes to several choices names none of them",
            ),
        )),
    }
}

/// A bare number ("3", "la 5.", "option 4") that names none of the choices offered: the
/// customer meant to pick one, not to ask the FAQ about the number ("30 euro" and
/// "ordine 123456" are not picks).
fn number_not_offered(reply: &ChoiceReply, choices: &[Choice]) -> Option<usize> {
    if choices.is_empty() {
        return None;
    }
    let n = lone_number(reply)?;
    (n == 0 || n > choices.len()).then_some(n)
}

/// A number of one or two digits alone, maybe with a word that picks ("3", "la 5.",
/// "option 4"); "30 euro" and "ordine 123456" are not.
fn lone_number(reply: &ChoiceReply) -> Option<usize> {
    const PICKING: [&str; 8] = ["la", "il", "n", "nr", "numero", "number", "the", "option"];
    let rest: String = reply.text.chars().filter(|c| c.is_alphabetic()).collect();
    if reply.digits.len() > 2 || !(rest.is_empty() || PICKING.contains(&rest.as_str())) {
        return None;
    }
    reply.number()
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

/// The best candidate, if it is answered outright: at its threshold, clear of the
/// runner-up, and about what the message's intent names.
pub fn confident<'c>(candidates: &'c [Candidate], policy: &Policy) -> Option<&'c Candidate> {
    let top = candidates.first()?;
    let runner_up = candidates.get(1).map_or(0.0, |c| c.confidence);
    let close = runner_up >= policy.clarify_floor && top.confidence - runner_up < policy.margin;
    (top.confidence >= top.threshold && !close && !top.off_topic).then_some(top)
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
    if confident(candidates, policy).is_some() {
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
        } else if top.off_topic && top.confidence >= top.threshold {
            let words = format!(
                "`{}` at {:.2} asks nothing of what the message's intent names",
                top.faq_id, top.confidence
            );
            Why::new(Cause::BelowThreshold, words)
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
