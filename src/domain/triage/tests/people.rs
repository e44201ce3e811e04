//! While a person owns the conversation, attachments, and survey answers.

use super::*;

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
