//! Every outcome triage can produce, and its cause read back from its words.

use super::*;

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
