//! `triage::decide` on its own: situations, intents and candidates made by hand, one
//! file per subject.

use super::*;
use crate::domain::ChoiceTarget;

mod choices;
mod faq;
mod orders;
mod outcomes;
mod people;

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

/// A reply to `choices`, in a fresh conversation.
fn pick(choices: &[Choice], text: &str) -> (Decision, Why) {
    let offered = Situation {
        pending_choices: choices,
        ..situation(Mode::Bot)
    };
    decide(offered, text, None, &[], &Policy::default())
}
