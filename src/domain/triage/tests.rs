//! `triage::decide` on its own: situations, intents and candidates made by hand.

use super::*;
use crate::domain::ChoiceTarget;

pub(crate) fn candidate(id: &str, confidence: f32) -> Candidate {
    Candidate {
        faq_id: id.into(),
        label: format!("{id}?"),
        confidence,
        evidence: confidence,
        threshold: 0.45,
        department: None,
        off_topic: false,
    }
}

fn situation(mode: Mode) -> Situation<'static> {
    Situation {
        mode,
        low_confidence_streak: 0,
        pending_choices: &[],
        attachment: false,
        survey: None,
        orders: false,
        order_check: None,
        first_miss_hands_off: false,
    }
}

fn intent(action: IntentAction) -> IntentHit {
    IntentHit {
        name: "rule".into(),
        action,
        department: Some("vendite".into()),
    }
}

fn decide_bot(text: &str, hit: Option<&IntentHit>, candidates: &[Candidate]) -> Decision {
    decide(
        situation(Mode::Bot),
        text,
        hit,
        candidates,
        &Policy::default(),
    )
    .0
}

#[test]
fn a_clear_best_entry_is_answered_and_a_close_runner_up_asks_which() {
    let clear = [candidate("a", 0.8), candidate("b", 0.4)];
    assert_eq!(
        decide_bot("x", None, &clear),
        Decision::Answer { faq_id: "a".into() }
    );
    let close = [
        candidate("a", 0.8),
        candidate("b", 0.75),
        candidate("c", 0.1),
    ];
    let Decision::Clarify { choices } = decide_bot("x", None, &close) else {
        panic!("close candidates clarify");
    };
    let offered: Vec<_> = choices.iter().map(|c| c.target.clone()).collect();
    assert_eq!(
        offered,
        [ChoiceTarget::Faq("a".into()), ChoiceTarget::Faq("b".into())]
    );
}

#[test]
fn below_the_threshold_it_clarifies_then_below_the_floor_falls_back_then_hands_off() {
    let weak = [candidate("a", 0.35)];
    assert!(matches!(
        decide_bot("x", None, &weak),
        Decision::Clarify { .. }
    ));
    let none = [candidate("a", 0.1)];
    assert_eq!(decide_bot("x", None, &none), Decision::Fallback);
    assert_eq!(decide_bot("x", None, &[]), Decision::Fallback);
    let second = Situation {
        low_confidence_streak: 1,
        ..situation(Mode::Bot)
    };
    let (decision, why) = decide(second, "x", None, &none, &Policy::default());
    assert!(matches!(
        decision,
        Decision::HandOff {
            reason: HandoffReason::LowConfidence,
            ..
        }
    ));
    assert_eq!(why.cause, Cause::SecondMiss, "{why}");
    assert!(why.cause.missed(decision.kind()));
}

#[test]
fn an_intent_comes_before_the_faq() {
    let strong = [candidate("a", 0.95)];
    let asked = intent(IntentAction::HandOff {
        priority: Priority::High,
        reason: HandoffReason::Complaint,
    });
    assert_eq!(
        decide_bot("x", Some(&asked), &strong),
        Decision::HandOff {
            reason: HandoffReason::Complaint,
            priority: Priority::High,
            department: Some("vendite".into()),
        }
    );
    let reply = intent(IntentAction::Reply);
    assert_eq!(
        decide_bot("x", Some(&reply), &strong),
        Decision::Reply {
            intent: "rule".into()
        }
    );
    // A cancel out of the queue takes nothing back: the FAQ answers if it can, else
    // an all right (not a miss that would hand over at the second).
    let cancel = intent(IntentAction::Cancel);
    assert_eq!(
        decide_bot("x", Some(&cancel), &strong),
        Decision::Answer { faq_id: "a".into() }
    );
    assert_eq!(
        decide_bot("lascia stare ho risolto", Some(&cancel), &[]),
        Decision::Reply {
            intent: "rule".into()
        }
    );
}

#[test]
fn a_choice_is_picked_by_its_ordinal_word_too() {
    let choices = [
        Choice {
            label: "Rate?".into(),
            target: ChoiceTarget::Faq("rate".into()),
        },
        Choice {
            label: "Contrassegno?".into(),
            target: ChoiceTarget::Faq("contrassegno".into()),
        },
    ];
    let offered = Situation {
        pending_choices: &choices,
        ..situation(Mode::Bot)
    };
    for text in [
        "il secondo",
        "seconda",
        "la seconda che hai detto",
        "the second one",
    ] {
        assert_eq!(
            decide(offered, text, None, &[], &Policy::default()).0,
            Decision::Answer {
                faq_id: "contrassegno".into()
            },
            "{text}"
        );
    }
    // Not a pick: a long sentence, or two ordinals.
    for text in [
        "è la seconda volta che scrivo e nessuno mi risponde",
        "il primo o il secondo",
    ] {
        let (decision, _) = decide(offered, text, None, &[], &Policy::default());
        assert!(
            !matches!(decision, Decision::Answer { .. }),
            "{text}: {decision:?}"
        );
    }
}

#[test]
fn a_picked_choice_wins_over_matching() {
    let choices = [
        Choice {
            label: "Spedizione?".into(),
            target: ChoiceTarget::Faq("spedizione".into()),
        },
        Choice {
            label: "Parlare con una persona".into(),
            target: ChoiceTarget::Human,
        },
    ];
    let offered = Situation {
        pending_choices: &choices,
        ..situation(Mode::Bot)
    };
    let policy = Policy::default();
    let (first, _) = decide(offered, "1", None, &[candidate("other", 0.9)], &policy);
    assert_eq!(
        first,
        Decision::Answer {
            faq_id: "spedizione".into()
        }
    );
    let (human, why) = decide(offered, "parlare con una persona", None, &[], &policy);
    assert!(matches!(
        human,
        Decision::HandOff {
            reason: HandoffReason::Asked,
            ..
        }
    ));
    assert_eq!(why.cause, Cause::PickedPerson, "{why}");
    // A number that names no choice offers the same ones again (not the FAQ's match
    // for "3"); a number that is something else is read as the message it is.
    for typed in ["3", "la 5.", "0", "option 4"] {
        let (again, why) = decide(offered, typed, None, &[candidate("other", 0.9)], &policy);
        assert_eq!(
            again,
            Decision::Clarify {
                choices: choices[..1].to_vec()
            },
            "{typed}"
        );
        assert_eq!(why.cause, Cause::ChoiceOutOfRange, "{typed}: {why}");
    }
    for message in ["30 euro", "ordine 123456", "2026"] {
        let (_, why) = decide(offered, message, None, &[], &policy);
        assert_ne!(why.cause, Cause::ChoiceOutOfRange, "{message}");
    }
}

#[test]
fn a_yes_to_one_choice_picks_it_and_to_several_offers_them_again() {
    let policy = Policy::default();
    let one = [
        Choice {
            label: "Dove siete?".into(),
            target: ChoiceTarget::Faq("negozio".into()),
        },
        Choice {
            label: "Parlare con una persona".into(),
            target: ChoiceTarget::Human,
        },
    ];
    let offered = Situation {
        pending_choices: &one,
        ..situation(Mode::Bot)
    };
    for yes in [
        "sì",
        "ok",
        "Sì, esatto",
        "yes please",
        "ok grazie",
        "proprio quello",
    ] {
        let (decision, why) = decide(offered, yes, None, &[], &policy);
        assert_eq!(
            decision,
            Decision::Answer {
                faq_id: "negozio".into()
            },
            "{yes}"
        );
        assert_eq!(why.cause, Cause::PickedEntry, "{yes}");
    }
    for not_yes in ["ok?", "grazie", "sì ma quanto costa la spedizione", "no"] {
        let (_, why) = decide(offered, not_yes, None, &[], &policy);
        assert_ne!(why.cause, Cause::PickedEntry, "{not_yes}");
    }
    let two = [
        Choice {
            label: "a?".into(),
            target: ChoiceTarget::Faq("a".into()),
        },
        Choice {
            label: "b?".into(),
            target: ChoiceTarget::Faq("b".into()),
        },
    ];
    let offered = Situation {
        pending_choices: &two,
        ..situation(Mode::Bot)
    };
    let (again, why) = decide(offered, "sì", None, &[], &policy);
    assert_eq!(
        again,
        Decision::Clarify {
            choices: two.to_vec()
        }
    );
    assert_eq!(why.cause, Cause::ChoiceOutOfRange);
}

#[test]
fn a_lone_number_with_nothing_to_answer_is_asked_about_not_matched() {
    // "2" with no choices or survey pending: the FAQ entry that says "2 anni" is no
    // answer to it.
    let garanzia = [candidate("garanzia", 0.9)];
    let policy = Policy::default();
    for typed in ["2", "la 3.", "0"] {
        let (decision, why) = decide(situation(Mode::Bot), typed, None, &garanzia, &policy);
        assert_eq!(decision, Decision::Fallback, "{typed}");
        assert_eq!(why.cause, Cause::LoneNumber, "{typed}: {why}");
    }
    // A second miss in a row goes to a person, as any.
    let streak = Situation {
        low_confidence_streak: 1,
        ..situation(Mode::Bot)
    };
    let (decision, _) = decide(streak, "2", None, &garanzia, &policy);
    assert!(matches!(decision, Decision::HandOff { .. }), "{decision:?}");
    // A number with words is a question like any other.
    for message in ["2 anni di garanzia?", "30 euro", "ordine 123456"] {
        let (decision, why) = decide(situation(Mode::Bot), message, None, &garanzia, &policy);
        assert_ne!(why.cause, Cause::LoneNumber, "{message}");
        assert_eq!(
            decision,
            Decision::Answer {
                faq_id: "garanzia".into()
            },
            "{message}"
        );
    }
}

#[test]
fn while_a_person_owns_it_the_bot_answers_only_a_queued_faq_question() {
    let strong = [candidate("a", 0.9)];
    let policy = Policy::default();
    let queued = situation(Mode::Queued);
    let (answer, why) = decide(queued, "x", None, &strong, &policy);
    assert_eq!(answer, Decision::Answer { faq_id: "a".into() });
    assert!(why.text.contains("while queued"), "{why}");
    assert_eq!(why.cause, Cause::Confident);
    let weak = [candidate("a", 0.35)];
    assert_eq!(
        decide(queued, "x", None, &weak, &policy).0,
        Decision::ToOperator
    );
    let asked = intent(IntentAction::HandOff {
        priority: Priority::Normal,
        reason: HandoffReason::Asked,
    });
    assert_eq!(
        decide(queued, "x", Some(&asked), &strong, &policy).0,
        Decision::ToOperator
    );
    let cancel = intent(IntentAction::Cancel);
    assert_eq!(
        decide(queued, "x", Some(&cancel), &strong, &policy).0,
        Decision::CancelHandOff
    );
    let with_operator = situation(Mode::WithOperator);
    assert_eq!(
        decide(with_operator, "x", None, &strong, &policy).0,
        Decision::ToOperator
    );
    let unreadable = Situation {
        attachment: true,
        ..queued
    };
    assert_eq!(
        decide(unreadable, "x", None, &strong, &policy).0,
        Decision::ToOperator
    );
}

#[test]
fn an_attachment_is_said_unreadable_and_a_survey_answer_is_not_matched() {
    let strong = [candidate("a", 0.9)];
    let attached = Situation {
        attachment: true,
        ..situation(Mode::Bot)
    };
    let policy = Policy::default();
    assert_eq!(
        decide(attached, "x", None, &strong, &policy).0,
        Decision::Unreadable
    );
    let surveyed = Situation {
        survey: Some(SurveyKind::Csat),
        ..situation(Mode::Bot)
    };
    assert!(matches!(
        decide(surveyed, "5", None, &strong, &policy).0,
        Decision::SurveyAnswer {
            survey: SurveyKind::Csat,
            score: 5,
            ..
        }
    ));
    // A number that starts a question is the question.
    assert_eq!(
        decide(surveyed, "2 paia non arrivate?", None, &strong, &policy).0,
        Decision::Answer { faq_id: "a".into() }
    );
}

/// Every (decision, cause) triage can produce, with its words.
fn every_outcome() -> Vec<(Decision, Why)> {
    let policy = Policy::default();
    let choices = [Choice {
        label: "Spedizione?".into(),
        target: ChoiceTarget::Faq("spedizione".into()),
    }];
    let stray = [Choice {
        label: "5".into(),
        target: ChoiceTarget::Score(5),
    }];
    let person = [Choice {
        label: "Una persona".into(),
        target: ChoiceTarget::Human,
    }];
    let bot = situation(Mode::Bot);
    let streak = Situation {
        low_confidence_streak: 1,
        ..bot
    };
    let weak = [candidate("a", 0.1)];
    let close = [candidate("a", 0.8), candidate("b", 0.78)];
    let below = [candidate("a", 0.4)];
    let strong = [candidate("a", 0.9)];
    let reply = intent(IntentAction::Reply);
    let cancel = intent(IntentAction::Cancel);
    let check = crate::domain::order::OrderCheck {
        number: None,
        tries: 0,
        asked_at: chrono::DateTime::UNIX_EPOCH,
    };
    let asked_number = Situation {
        order_check: Some(&check),
        ..bot
    };
    vec![
        decide(asked_number, "è il 552211", None, &[], &policy),
        decide(bot, "x", None, &strong, &policy),
        decide(bot, "x", None, &close, &policy),
        decide(bot, "x", None, &below, &policy),
        decide(bot, "x", None, &[], &policy),
        decide(bot, "x", None, &weak, &policy),
        decide(streak, "x", None, &weak, &policy),
        decide(streak, "x", None, &[], &policy),
        pick(&choices, "1"),
        pick(&person, "1"),
        pick(&stray, "1"),
        decide(bot, "x", Some(&reply), &strong, &policy),
        decide(situation(Mode::Queued), "x", Some(&cancel), &[], &policy),
        decide(situation(Mode::Queued), "x", None, &strong, &policy),
        decide(situation(Mode::WithOperator), "x", None, &strong, &policy),
        decide(
            Situation {
                attachment: true,
                ..bot
            },
            "x",
            None,
            &[],
            &policy,
        ),
        decide(
            Situation {
                survey: Some(SurveyKind::Nps),
                ..bot
            },
            "9",
            None,
            &[],
            &policy,
        ),
    ]
}

#[test]
fn every_cause_is_read_back_from_its_words_by_the_migration() {
    let outcomes = every_outcome();
    let causes: std::collections::HashSet<Cause> = outcomes.iter().map(|(_, w)| w.cause).collect();
    // Every cause but Unknown is produced by some situation above.
    assert_eq!(causes.len(), 15, "{causes:?}");
    assert!(!causes.contains(&Cause::Unknown));
    for (decision, why) in &outcomes {
        assert_eq!(
            Cause::from_words(&why.text),
            why.cause,
            "{:?}: {why}",
            decision.kind()
        );
    }
    assert_eq!(
        Cause::from_words("reworded by a later release"),
        Cause::Unknown
    );
}

/// A reply to `choices`, in a fresh conversation.
fn pick(choices: &[Choice], text: &str) -> (Decision, Why) {
    let offered = Situation {
        pending_choices: choices,
        ..situation(Mode::Bot)
    };
    decide(offered, text, None, &[], &Policy::default())
}

#[test]
fn where_is_my_order_is_checked_only_with_a_platform_and_a_reply_continues_the_check() {
    let order = IntentHit {
        name: "order-status".into(),
        action: IntentAction::OrderStatus,
        department: None,
    };
    let strong = [candidate("tracciamento", 0.9)];
    assert_eq!(
        decide_bot("dov'è il mio ordine?", Some(&order), &strong),
        Decision::Answer {
            faq_id: "tracciamento".into()
        },
        "no platform: the FAQ answers"
    );
    // ...with an entry that asks the same; one that only shares its words ("Dove
    // siete?") is offered, not answered.
    let beside = [Candidate {
        off_topic: true,
        ..candidate("dove-siete", 0.93)
    }];
    let (decision, why) = decide(
        situation(Mode::Bot),
        "dov'è il mio ordine?",
        Some(&order),
        &beside,
        &Policy::default(),
    );
    assert!(
        matches!(&decision, Decision::Clarify { choices } if choices.len() == 1),
        "{decision:?}"
    );
    assert!(
        why.to_string()
            .contains("asks nothing of what the message's intent names"),
        "{why}"
    );
    let connected = Situation {
        orders: true,
        ..situation(Mode::Bot)
    };
    let policy = Policy::default();
    let (decision, _) = decide(
        connected,
        "dov'è il mio ordine?",
        Some(&order),
        &strong,
        &policy,
    );
    assert_eq!(
        decision,
        Decision::OrderStatus {
            number: None,
            proof: None
        }
    );
    let check = crate::domain::order::OrderCheck {
        number: Some("552211".into()),
        tries: 0,
        asked_at: chrono::DateTime::UNIX_EPOCH,
    };
    let asked = Situation {
        order_check: Some(&check),
        ..connected
    };
    let (decision, why) = decide(asked, "20121", None, &strong, &policy);
    assert_eq!(why.cause, Cause::OrderDetails);
    assert_eq!(
        decision,
        Decision::OrderStatus {
            number: Some("552211".into()),
            proof: Some(crate::domain::order::Proof::Postcode("20121".into()))
        }
    );
    // Anything else goes the usual way (the planner then drops the check).
    assert!(matches!(
        decide(asked, "quanto costa la spedizione?", None, &strong, &policy).0,
        Decision::Answer { .. }
    ));
}
