//! `plan::plan` on its own: conversations, messages and readings made by hand.

use super::*;
use crate::domain::triage::IntentAction;
use crate::domain::{CustomerId, Priority, SurveyKind, TicketId};
use chrono::{DateTime, Duration, Utc};

/// The service's order: the message arrives, then the rules plan it.
fn plan(
    stored: Option<&Conversation>,
    inbound: &Inbound,
    reading: &Reading<'_>,
    rules: &Rules<'_>,
) -> Plan {
    super::plan(stored, arrive(stored, inbound), inbound, reading, rules)
}

fn at(minutes: i64) -> DateTime<Utc> {
    DateTime::UNIX_EPOCH + Duration::minutes(minutes)
}

fn message(text: &str, minutes: i64) -> Inbound {
    Inbound {
        customer: CustomerId::parse("terminal:t").unwrap(),
        message_id: format!("m{minutes}"),
        text: text.into(),
        at: at(minutes),
        sent_at: None,
        locale: None,
        name: None,
        attachment: None,
        original: None,
    }
}

fn candidate(id: &str, confidence: f32, department: Option<&str>) -> Candidate {
    Candidate {
        faq_id: id.into(),
        label: format!("{id}?"),
        confidence,
        evidence: confidence,
        threshold: 0.45,
        department: department.map(str::to_owned),
        off_topic: false,
    }
}

/// The departments the tests' configuration has.
fn configured(department: &str) -> bool {
    ["assistenza", "resi", "vendite", "amministrazione"].contains(&department)
}

fn rules(keyword: Option<&'static str>) -> Rules<'static> {
    Rules {
        policy: Policy::default(),
        keyword_department: keyword,
        default_department: "assistenza",
        configured: Configured(&configured),
        person_label: "Parlare con una persona",
        orders: false,
        first_miss_hands_off: false,
    }
}

fn reading<'a>(candidates: &'a [Candidate], intent: Option<&'a IntentHit>) -> Reading<'a> {
    Reading {
        lang: Lang::It,
        intent,
        candidates,
        orders: &[],
        parts: &[],
    }
}

fn conversation() -> Conversation {
    Conversation::new(CustomerId::parse("terminal:t").unwrap(), at(0))
}

#[test]
fn a_closed_conversation_reopens_and_remembers_name_language_and_orders() {
    let mut closed = conversation();
    closed.mode = Mode::Closed;
    let mut inbound = message("dov'è il mio ordine 123456", 5);
    inbound.name = Some("Giulia".into());
    let orders = ["123456"];
    let read = Reading {
        orders: &orders,
        ..reading(&[], None)
    };
    let plan = plan(Some(&closed), &inbound, &read, &rules(None));
    let conv = &plan.conversation;
    assert_eq!(conv.mode, Mode::Bot);
    assert_eq!(conv.name.as_deref(), Some("Giulia"));
    assert_eq!(conv.lang, Some(Lang::It));
    assert_eq!(conv.order_numbers, ["123456"]);
    assert_eq!(conv.updated_at, at(5));
}

#[test]
fn two_misses_in_a_row_hand_off_and_an_answer_resets_the_streak() {
    let first = plan(None, &message("boh", 0), &reading(&[], None), &rules(None));
    assert_eq!(first.decision, Decision::Fallback);
    assert_eq!(first.conversation.low_confidence_streak, 1);
    // A weak match of the "resi" topic does not route a low-confidence handoff there.
    let weak = [candidate("resi", 0.1, Some("resi"))];
    let second = plan(
        Some(&first.conversation),
        &message("mah", 1),
        &reading(&weak, None),
        &rules(None),
    );
    assert!(matches!(
        second.decision,
        Decision::HandOff {
            reason: HandoffReason::LowConfidence,
            ..
        }
    ));
    assert_eq!(second.department.as_deref(), Some("assistenza"));
    let strong = [candidate("spedizione", 0.9, None)];
    let answered = plan(
        Some(&first.conversation),
        &message("spedizione", 1),
        &reading(&strong, None),
        &rules(None),
    );
    assert_eq!(answered.conversation.low_confidence_streak, 0);
}

#[test]
fn choices_offered_end_with_a_person_and_last_one_message() {
    let close = [candidate("a", 0.8, None), candidate("b", 0.77, None)];
    let offered = plan(None, &message("x", 0), &reading(&close, None), &rules(None));
    let targets: Vec<_> = offered
        .conversation
        .pending_choices
        .iter()
        .map(|c| c.target.clone())
        .collect();
    assert_eq!(
        targets,
        [
            ChoiceTarget::Faq("a".into()),
            ChoiceTarget::Faq("b".into()),
            ChoiceTarget::Human
        ]
    );
    assert_eq!(
        offered.conversation.pending_choices[2].label,
        "Parlare con una persona"
    );
    let picked = plan(
        Some(&offered.conversation),
        &message("2", 1),
        &reading(&[], None),
        &rules(None),
    );
    assert_eq!(picked.decision, Decision::Answer { faq_id: "b".into() });
    assert!(picked.conversation.pending_choices.is_empty());
}

#[test]
fn a_miss_after_choices_the_customer_ignored_goes_to_a_person() {
    let close = [candidate("a", 0.8, None), candidate("b", 0.77, None)];
    let offered = plan(None, &message("x", 0), &reading(&close, None), &rules(None));
    assert!(matches!(offered.decision, Decision::Clarify { .. }));
    let missed = plan(
        Some(&offered.conversation),
        &message("boh", 1),
        &reading(&[], None),
        &rules(None),
    );
    assert!(
        matches!(
            missed.decision,
            Decision::HandOff {
                reason: HandoffReason::LowConfidence,
                ..
            }
        ),
        "{:?}",
        missed.decision
    );
    // Picking a choice is an answer: the streak starts again.
    let picked = plan(
        Some(&offered.conversation),
        &message("1", 1),
        &reading(&[], None),
        &rules(None),
    );
    assert_eq!(picked.conversation.low_confidence_streak, 0);
}

#[test]
fn a_handoff_goes_to_the_intents_department_then_the_words_then_the_topic() {
    let asked = IntentHit {
        name: "umano".into(),
        action: IntentAction::HandOff {
            priority: Priority::Normal,
            reason: HandoffReason::Asked,
        },
        department: None,
    };
    let topical = [candidate("resi", 0.3, Some("resi"))];
    let route = |intent: &IntentHit, keyword| {
        plan(
            None,
            &message("una persona per il reso", 0),
            &reading(&topical, Some(intent)),
            &rules(keyword),
        )
        .department
    };
    assert_eq!(route(&asked, None).as_deref(), Some("resi"));
    assert_eq!(route(&asked, Some("vendite")).as_deref(), Some("vendite"));
    let billing = IntentHit {
        department: Some("amministrazione".into()),
        ..asked.clone()
    };
    assert_eq!(
        route(&billing, Some("vendite")).as_deref(),
        Some("amministrazione")
    );
    let none: [Candidate; 0] = [];
    let plain = plan(
        None,
        &message("una persona", 0),
        &reading(&none, Some(&asked)),
        &rules(None),
    );
    assert_eq!(plain.department.as_deref(), Some("assistenza"));
}

#[test]
fn a_department_the_configuration_lacks_is_passed_over_for_the_next_one() {
    let vip = IntentHit {
        name: "vip".into(),
        action: IntentAction::HandOff {
            priority: Priority::Normal,
            reason: HandoffReason::Asked,
        },
        department: Some("marketing".into()),
    };
    let route = |candidates: &[Candidate], keyword| {
        plan(
            None,
            &message("una persona per il reso", 0),
            &reading(candidates, Some(&vip)),
            &rules(keyword),
        )
        .department
    };
    let topical = [candidate("resi", 0.3, Some("resi"))];
    // The intent's department is missing: the customer's words, then the topic.
    assert_eq!(route(&topical, Some("vendite")).as_deref(), Some("vendite"));
    assert_eq!(route(&topical, None).as_deref(), Some("resi"));
    // The topic's is missing too: the default, which the configuration must have.
    let stray = [candidate("resi", 0.3, Some("magazzino"))];
    assert_eq!(route(&stray, None).as_deref(), Some("assistenza"));
    // A match too weak to offer says nothing about the topic.
    let faint = [candidate("resi", 0.05, Some("resi"))];
    assert_eq!(route(&faint, None).as_deref(), Some("assistenza"));
}

#[test]
fn a_customer_back_after_a_day_is_welcomed_unless_upset() {
    let mut known = conversation();
    known.name = Some("Giulia".into());
    let strong = [candidate("spedizione", 0.9, None)];
    let later = SESSION_GAP.num_minutes() + 1;
    let back = plan(
        Some(&known),
        &message("spedizione", later),
        &reading(&strong, None),
        &rules(None),
    );
    assert!(back.welcome_back);
    let soon = plan(
        Some(&known),
        &message("spedizione", 10),
        &reading(&strong, None),
        &rules(None),
    );
    assert!(!soon.welcome_back, "within the session");
    let complaint = IntentHit {
        name: "reclamo".into(),
        action: IntentAction::HandOff {
            priority: Priority::High,
            reason: HandoffReason::Complaint,
        },
        department: None,
    };
    let upset = plan(
        Some(&known),
        &message("vergognoso", later),
        &reading(&strong, Some(&complaint)),
        &rules(None),
    );
    assert!(!upset.welcome_back);
    let stranger = plan(
        Some(&conversation()),
        &message("spedizione", later),
        &reading(&strong, None),
        &rules(None),
    );
    assert!(!stranger.welcome_back, "no name, no welcome");
}

#[test]
fn a_survey_ends_with_the_next_message_and_counts_only_for_a_day() {
    let mut asked = conversation();
    asked.survey = Some(PendingSurvey {
        kind: SurveyKind::Csat,
        ticket: Some(TicketId(7)),
        asked_at: at(0),
    });
    let answered = plan(
        Some(&asked),
        &message("5", 10),
        &reading(&[], None),
        &rules(None),
    );
    assert!(matches!(
        answered.decision,
        Decision::SurveyAnswer { score: 5, .. }
    ));
    assert_eq!(answered.survey.and_then(|s| s.ticket), Some(TicketId(7)));
    assert!(answered.conversation.survey.is_none());
    let late = SURVEY_TTL.num_minutes() + 1;
    let expired = plan(
        Some(&asked),
        &message("5", late),
        &reading(&[], None),
        &rules(None),
    );
    assert_eq!(
        expired.decision,
        Decision::Fallback,
        "a day later, 5 is no score"
    );
    assert!(expired.conversation.survey.is_none());
}

#[test]
fn a_score_out_of_range_keeps_the_survey_as_it_was_asked() {
    let mut asked = conversation();
    let pending = PendingSurvey {
        kind: SurveyKind::Csat,
        ticket: Some(TicketId(7)),
        asked_at: at(0),
    };
    asked.survey = Some(pending.clone());
    let retry = plan(
        Some(&asked),
        &message("6", 10),
        &reading(&[], None),
        &rules(None),
    );
    assert_eq!(
        retry.decision,
        Decision::SurveyRetry {
            survey: SurveyKind::Csat
        }
    );
    assert_eq!(retry.survey, None, "no survey ended");
    assert_eq!(
        retry.conversation.survey,
        Some(pending),
        "still pending, its day counted from when it was asked"
    );
    assert!(!retry.welcome_back);
    assert_eq!(retry.decision.kind().as_str(), "survey_retry");
    assert!(retry.decision.kind().rates_only());
}

#[test]
fn a_message_of_two_questions_answers_each_it_answers_outright() {
    use crate::domain::triage::tests::candidate;
    // The whole message reads as a choice between the two entries.
    let whole = [candidate("spedizione", 0.6), candidate("resi", 0.58)];
    let parts = [
        vec![candidate("spedizione", 0.9), candidate("resi", 0.1)],
        vec![candidate("resi", 0.8), candidate("spedizione", 0.2)],
    ];
    let read = Reading {
        parts: &parts,
        ..reading(&whole, None)
    };
    let inbound = message("quanto costa la spedizione? e i resi sono gratis?", 1);
    let two = plan(None, &inbound, &read, &rules(None));
    assert_eq!(
        two.decision,
        Decision::Answer {
            faq_id: "spedizione".into()
        }
    );
    assert_eq!(two.also, ["resi"]);
    assert_eq!(two.why.cause, Cause::Confident, "{}", two.why);
    assert!(two.conversation.pending_choices.is_empty());
    // One of the two unclear on its own: the message is decided as a whole.
    let unclear = [
        vec![candidate("spedizione", 0.9)],
        vec![candidate("resi", 0.3), candidate("cambi", 0.28)],
    ];
    let read = Reading {
        parts: &unclear,
        ..reading(&whole, None)
    };
    let one = plan(None, &inbound, &read, &rules(None));
    assert!(
        matches!(one.decision, Decision::Clarify { .. }),
        "{:?}",
        one.decision
    );
    assert!(one.also.is_empty());
}
