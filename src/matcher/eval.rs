//! `sportello eval`: run labelled cases through the brain and triage, each as the
//! first message of a fresh conversation, and measure.

use super::Brain;
use crate::domain::Lang;
use crate::domain::triage::{Decision, IntentAction};
use serde::{Deserialize, Serialize};

pub const HANDOFF: &str = "handoff";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalCase {
    pub text: String,
    /// An FAQ id, an intent name, or `handoff`.
    pub expected: String,
    pub lang: Option<Lang>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    pub text: String,
    pub expected: String,
    /// The top-1 label: the intent that fired, else the best FAQ candidate.
    pub predicted: Option<String>,
    pub confidence: f32,
    pub decision: String,
    /// What the bot finally said, when it answered (an FAQ id or an intent name).
    pub answered: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EvalReport {
    pub cases: usize,
    /// Top-1 right among the cases that expect an FAQ entry or an intent.
    pub accuracy: f64,
    pub answered: usize,
    /// Share of the bot's final answers that were right.
    pub answered_precision: f64,
    /// Share of `handoff` cases the bot did not answer.
    pub handoff_recall: f64,
    /// Share of the cases that expect an answer that the bot answered.
    pub coverage: f64,
    pub answerable_cases: usize,
    pub handoff_cases: usize,
    /// Each language's calibration: what the folder taught the confidence.
    pub calibration: std::collections::BTreeMap<Lang, crate::faq::calibration::Calibration>,
    /// The same fitted with the semantic evidence (`[embeddings]`), where it was.
    pub semantic_calibration:
        std::collections::BTreeMap<Lang, crate::faq::calibration::Calibration>,
    pub results: Vec<CaseResult>,
}

pub fn evaluate(brain: &Brain, cases: &[EvalCase]) -> EvalReport {
    let results: Vec<CaseResult> = cases.iter().map(|c| run_case(brain, c)).collect();
    let answerable: Vec<&CaseResult> = results.iter().filter(|r| r.expected != HANDOFF).collect();
    let handoffs: Vec<&CaseResult> = results.iter().filter(|r| r.expected == HANDOFF).collect();
    let answered: Vec<&CaseResult> = results.iter().filter(|r| r.answered.is_some()).collect();
    let top1 = answerable
        .iter()
        .filter(|r| r.predicted.as_deref() == Some(&r.expected))
        .count();
    let right = answered
        .iter()
        .filter(|r| r.answered.as_deref() == Some(&r.expected))
        .count();
    let covered = answerable.iter().filter(|r| r.answered.is_some()).count();
    let held = handoffs.iter().filter(|r| r.answered.is_none()).count();
    EvalReport {
        cases: results.len(),
        accuracy: ratio(top1, answerable.len()),
        answered: answered.len(),
        answered_precision: ratio(right, answered.len()),
        handoff_recall: ratio(held, handoffs.len()),
        coverage: ratio(covered, answerable.len()),
        answerable_cases: answerable.len(),
        handoff_cases: handoffs.len(),
        calibration: Lang::ALL
            .into_iter()
            .filter(|l| brain.faq.entries().iter().any(|e| e.lang == *l))
            .map(|l| (l, brain.faq.calibration(l)))
            .collect(),
        semantic_calibration: Lang::ALL
            .into_iter()
            .filter_map(|l| brain.faq.semantic_calibration(l).map(|c| (l, c)))
            .collect(),
        results,
    }
}

fn ratio(n: usize, d: usize) -> f64 {
    if d == 0 { 1.0 } else { n as f64 / d as f64 }
}

fn run_case(brain: &Brain, case: &EvalCase) -> CaseResult {
    let (analysis, decision, _) = brain.first_message(&case.text, case.lang);
    let intent = analysis.intent.as_ref();
    let top = analysis.candidates.first();
    let predicted = match intent {
        // A cancel means nothing in a first message; an order lookup is the service's
        // (without a platform the FAQ answers): the FAQ's best is the prediction.
        Some(hit) if !matches!(hit.action, IntentAction::Cancel | IntentAction::OrderStatus) => {
            Some(hit.name.clone())
        }
        _ => top.map(|c| c.faq_id.clone()),
    };
    let answered = match &decision {
        Decision::Answer { faq_id } => Some(faq_id.clone()),
        Decision::Reply { intent } => Some(intent.clone()),
        _ => None,
    };
    CaseResult {
        text: case.text.clone(),
        expected: case.expected.clone(),
        predicted,
        confidence: top.map_or(0.0, |c| c.confidence),
        decision: decision.kind().to_string(),
        answered,
    }
}
