//! Replies to the choices offered: numbers, ordinals, labels, a yes.

use super::*;

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
fn annulla_to_the_choices_offered_drops_them_not_an_faq_answer() {
    let offered = [Choice {
        label: "a?".into(),
        target: ChoiceTarget::Faq("a".into()),
    }];
    let cancel = IntentHit {
        action: IntentAction::Cancel,
        ..intent(IntentAction::Cancel)
    };
    let annulla = [candidate("annullare-ordine", 0.9)];
    let (decision, _) = decide(
        Situation {
            pending_choices: &offered,
            ..situation(Mode::Bot)
        },
        "annulla",
        Some(&cancel),
        &annulla,
        &Policy::default(),
    );
    assert!(matches!(decision, Decision::Reply { .. }), "{decision:?}");
    // With nothing offered, the FAQ answers "annulla" if it can.
    let (decision, _) = decide(
        situation(Mode::Bot),
        "annulla",
        Some(&cancel),
        &annulla,
        &Policy::default(),
    );
    assert!(matches!(decision, Decision::Answer { .. }), "{decision:?}");
}
