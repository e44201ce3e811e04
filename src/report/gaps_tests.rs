//! Which messages count as missed, on hand-made events.
use super::misses;
use crate::domain::triage::{Cause, DecisionKind};
use crate::domain::{CustomerId, Event, EventKind, Lang};

fn decided(
    customer: &CustomerId,
    minute: i64,
    text: &str,
    decision: DecisionKind,
    cause: Cause,
) -> Event {
    let at = chrono::DateTime::UNIX_EPOCH + chrono::Duration::minutes(minute);
    Event {
        at,
        customer: customer.clone(),
        kind: EventKind::Decided {
            text: text.into(),
            lang: Lang::It,
            decision,
            cause,
            target: None,
            intent: None,
            reason: String::new(),
            candidates: vec![],
        },
    }
}

/// Choices offered, a number that names none of them (offered again), then a pick:
/// the choices helped, no gap. Without the pick (another question instead) the
/// first message is one.
#[test]
fn a_pick_after_a_number_out_of_range_is_still_a_pick() {
    use {Cause::*, DecisionKind::*};
    let (a, b) = (
        CustomerId::parse("web:a").unwrap(),
        CustomerId::parse("web:b").unwrap(),
    );
    let events = [
        decided(
            &a,
            0,
            "ogni quanto va tolto il calcare",
            Clarify,
            BelowThreshold,
        ),
        decided(&a, 1, "7", Clarify, ChoiceOutOfRange),
        decided(&a, 2, "1", Answer, PickedEntry),
        decided(
            &b,
            0,
            "ogni quanto va tolto il calcare",
            Clarify,
            BelowThreshold,
        ),
        decided(&b, 1, "7", Clarify, ChoiceOutOfRange),
        decided(&b, 2, "quanto costa la spedizione", Answer, Confident),
    ];
    let found = misses(&events);
    let who: Vec<(&str, &str)> = found
        .iter()
        .map(|m| (m.customer.as_str(), &*m.text))
        .collect();
    assert_eq!(who, [("web:b", "ogni quanto va tolto il calcare")]);
}

/// A miss with no words ("2", an emoji) is unanswered, but nothing an FAQ entry could
/// answer: no gap.
#[test]
fn a_miss_without_words_is_no_gap() {
    use {Cause::*, DecisionKind::*};
    let a = CustomerId::parse("web:a").unwrap();
    let events = [
        decided(&a, 0, "2", Fallback, LoneNumber),
        decided(&a, 1, "🤷", Fallback, NoCandidate),
        decided(&a, 2, "posso pagare in contanti", Fallback, NoCandidate),
    ];
    let texts: Vec<String> = misses(&events).iter().map(|m| m.text.to_string()).collect();
    assert_eq!(texts, ["posso pagare in contanti"]);
}
