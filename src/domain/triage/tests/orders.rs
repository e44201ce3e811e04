//! "Where is my order?": the check, step by step.

use super::*;

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
