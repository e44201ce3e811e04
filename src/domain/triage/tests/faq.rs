//! Matching: the FAQ's candidates, intents before them, and what a miss does.

use super::*;

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
