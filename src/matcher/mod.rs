//! The brain: intents first, then the FAQ index, turned into candidates with a
//! confidence in [0, 1] that triage can compare with thresholds. Built from the
//! content folders; swapped whole when they change.

mod content_check;
pub use content_check::has_errors;
mod eval;
pub mod semantic;

pub use eval::{EvalCase, EvalReport, HANDOFF, evaluate};
pub use semantic::{Embedder, EmbeddingSettings};

use crate::diagnostics::Diagnostic;
use crate::domain::triage::{self, Decision, Situation};
use crate::domain::triage::{Candidate, IntentHit, Policy};
use crate::domain::{Lang, Mode};
use crate::faq::{self, FaqIndex, FaqSet};
use crate::intents::{Capture, Intents};
use serde::Serialize;
use std::path::Path;

/// How many candidates an analysis keeps.
const CANDIDATES: usize = 5;

/// Matching settings (from the config file's `[matching]`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MatchSettings {
    /// The confidence an entry needs to be answered without asking.
    pub threshold: f32,
    pub clarify_floor: f32,
    pub margin: f32,
}

impl Default for MatchSettings {
    fn default() -> Self {
        let p = Policy::default();
        Self {
            threshold: 0.85,
            clarify_floor: p.clarify_floor,
            margin: p.margin,
        }
    }
}

impl MatchSettings {
    pub fn policy(&self) -> Policy {
        Policy {
            clarify_floor: self.clarify_floor,
            margin: self.margin,
            ..Policy::default()
        }
    }
}

/// What the brain makes of one message.
#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    /// The conversation's language: the one given, else the one the message matched in.
    pub lang: Lang,
    pub normalised: String,
    pub intent: Option<IntentHit>,
    pub captures: Vec<Capture>,
    pub candidates: Vec<Candidate>,
    /// Why there is no semantic evidence though `[embeddings]` is set (endpoint slow
    /// or down): matching went on without it.
    pub semantic_error: Option<String>,
    /// For each candidate, what its confidence is made of.
    pub evidence: Vec<Evidence>,
}

/// Why a candidate scored what it did (shown by `ask --json`).
#[derive(Debug, Clone, Serialize)]
pub struct Evidence {
    /// The question variant that matched best (empty when only the answer text did).
    pub matched_question: String,
    /// The lexical and model evidence averaged (the semantic score mixed in when there
    /// is one), before the folder's calibration turned it into the candidate's
    /// confidence (the probability of being right).
    pub raw: f32,
    /// BM25 against the questions and the answer, over the query's own score.
    pub lexical: f32,
    /// The classifier's probability for the entry.
    pub model: f32,
    /// The embeddings' evidence (`[embeddings]`), when the endpoint answered.
    pub semantic: Option<f32>,
}

pub struct Brain {
    pub faq: FaqIndex,
    pub faq_set: FaqSet,
    pub intents: Intents,
    pub settings: MatchSettings,
    /// The embeddings endpoint (`[embeddings]`), and the FAQ's questions embedded.
    pub embedder: Option<std::sync::Arc<Embedder>>,
    pub semantic: Option<semantic::SemanticIndex>,
}

/// Up to this many training examples (questions and answers), `serve` trains before it
/// answers, so the first customers get the full evidence: with the calibration's folds
/// that is 0.4–0.7 s in a release build for ~850 examples (BANKING77 at k = 10), about a
/// second or two at this bound; with `[embeddings]` the semantic calibration's folds
/// follow (and, the first time, the held-out questions are embedded).
const TRAIN_AT_ONCE: usize = 2_000;

impl Brain {
    /// Load both folders. Errors in single files are returned as diagnostics and the
    /// files skipped; `previous` keeps serving the last good version of a broken entry.
    pub fn load(
        faq_dir: &Path,
        intents_dir: &Path,
        settings: MatchSettings,
        previous: Option<&Brain>,
    ) -> (Brain, Vec<Diagnostic>) {
        let loaded = Brain::load_untrained(faq_dir, intents_dir, settings, previous);
        loaded.0.faq.train();
        loaded
    }

    /// The same, ready to match at once from the index alone: the classifiers train
    /// later ([`Brain::train_in_background`]). What `serve` starts and reloads with, so
    /// that it answers within a second of starting or of an edit, even on a large FAQ.
    pub fn load_untrained(
        faq_dir: &Path,
        intents_dir: &Path,
        settings: MatchSettings,
        previous: Option<&Brain>,
    ) -> (Brain, Vec<Diagnostic>) {
        let (faq_set, mut diagnostics) = faq::load_dir(faq_dir, previous.map(|b| &b.faq_set));
        let (intents, intent_diags) = Intents::load_dir(intents_dir);
        diagnostics.extend(intent_diags);
        let faq = FaqIndex::build_untrained(&faq_set).unwrap_or_else(|e| {
            diagnostics.push(Diagnostic::error(
                faq_dir,
                1,
                format!("cannot build the index: {e}"),
            ));
            FaqIndex::build(&FaqSet::default()).expect("an empty index always builds")
        });
        let brain = Brain {
            faq,
            faq_set,
            intents,
            settings,
            embedder: None,
            semantic: None,
        };
        diagnostics.extend(brain.check_answer_targets());
        diagnostics.extend(brain.check_sample_shop());
        (brain, diagnostics)
    }

    /// No content at all: for the commands that act on tickets and accounts only
    /// (`operator remove` puts tickets back in their queues; it matches nothing).
    pub fn empty(settings: MatchSettings) -> Brain {
        Brain {
            faq: FaqIndex::build(&FaqSet::default()).expect("an empty index always builds"),
            faq_set: FaqSet::default(),
            intents: Intents::default(),
            settings,
            embedder: None,
            semantic: None,
        }
    }

    /// With semantic evidence from `embedder`: the FAQ's questions are embedded now
    /// (from the cache where they were before). An endpoint that does not answer leaves
    /// the brain without it (said in the log), to be tried again at the next reload.
    pub fn with_embeddings(self, embedder: Option<std::sync::Arc<Embedder>>) -> Brain {
        let Some(embedder) = embedder else {
            return self;
        };
        let semantic = match semantic::SemanticIndex::build(embedder.clone(), self.faq.entries()) {
            Ok(index) => Some(index),
            Err(e) => {
                tracing::warn!("semantic evidence off until the next reload: {e}");
                None
            }
        };
        let brain = Brain {
            embedder: Some(embedder),
            semantic,
            ..self
        };
        if brain.faq.trained() {
            brain.calibrate_semantic();
        }
        brain
    }

    /// Fit the calibration with the semantic evidence (the FAQ's questions embedded as
    /// customers' messages, from the cache where they were before); an endpoint that
    /// fails here leaves semantic searches on the calibration without it (logged).
    fn calibrate_semantic(&self) {
        if let Some(index) = &self.semantic
            && let Err(e) = self.faq.calibrate_semantic(index)
        {
            tracing::warn!("semantic evidence not calibrated until the next reload: {e}");
        }
    }

    /// Train the classifiers: at once for a small FAQ (a fraction of a second), else on
    /// a thread of their own, matching using each as soon as it is ready.
    pub fn train_in_background(self: &std::sync::Arc<Self>) {
        if self.faq.trained() {
            return;
        }
        if self.faq.untrained_examples() <= TRAIN_AT_ONCE {
            self.faq.train();
            self.calibrate_semantic();
            return;
        }
        let brain = self.clone();
        std::thread::spawn(move || {
            let start = std::time::Instant::now();
            brain.faq.train();
            brain.calibrate_semantic();
            tracing::info!("classifiers trained in {:?}", start.elapsed());
        });
    }

    /// Match `text` in the conversation's language. When the language is not known
    /// yet, both are searched and Italian (the shop's first language) wins unless
    /// English matches clearly better. Entries of the other language are used in a
    /// known-language conversation only when nothing of its own language is worth
    /// offering and the other language's best would be answered outright.
    pub fn analyse(&self, text: &str, lang: Option<Lang>) -> Analysis {
        let normalised = crate::text::normalise(text);
        let classification = self.intents.classify(&normalised);
        let top = |hits: &[faq::Hit]| hits.first().map_or(0.0, |h| h.confidence);
        let evidence = |hits: &[faq::Hit]| hits.first().map_or(0.0, |h| h.raw);
        let known = lang.or_else(|| self.lang_by_vocabulary(&normalised));
        let first = known.unwrap_or(Lang::It);
        let mut hits = self.faq.search(&normalised, first, CANDIDATES);
        let mut found_in = first;
        // The other language's entries win when the language is unknown and their
        // evidence is clearly stronger, or when nothing of the known language is worth
        // offering and the other's best would be answered outright.
        let worth_trying = match known {
            None => Some(evidence(&hits) + self.settings.margin),
            Some(_) if evidence(&hits) < self.settings.clarify_floor => None,
            Some(_) => Some(f32::INFINITY),
        };
        if worth_trying.is_none_or(f32::is_finite) {
            let other = self.faq.search(&normalised, first.other(), CANDIDATES);
            let wins = match worth_trying {
                Some(bar) => evidence(&other) >= bar,
                None => top(&other) >= self.settings.threshold,
            };
            if wins {
                (hits, found_in) = (other, first.other());
            }
        }
        let entries = self.faq.entries();
        let (semantic, semantic_error) = self.semantic_scores(text);
        if let Some(scores) = &semantic {
            hits = self
                .faq
                .search_with(&normalised, found_in, CANDIDATES, Some(scores));
        }
        // "Where is my order?" with no platform to ask: the rule stands aside for the
        // FAQ, whose entries answer it outright only if one of their questions is
        // about orders ("Come traccio il mio ordine?"), not for sharing its other
        // words ("Dove siete?").
        let about_orders = classification
            .hit
            .as_ref()
            .is_some_and(|hit| hit.action == triage::IntentAction::OrderStatus);
        let off_topic = |e: &faq::Entry| {
            about_orders
                && !e
                    .questions
                    .iter()
                    .any(|q| crate::domain::order::about_orders(q))
        };
        // Entries about orders first (the ranking among each kept): the best of them
        // is the one triage weighs.
        if about_orders {
            hits.sort_by_cached_key(|h| off_topic(&entries[h.entry]));
        }
        let candidates = hits
            .iter()
            .map(|h| {
                let e = &entries[h.entry];
                Candidate {
                    faq_id: e.id.clone(),
                    label: e.questions[0].clone(),
                    confidence: h.confidence,
                    evidence: h.raw,
                    threshold: e.threshold.unwrap_or(self.settings.threshold),
                    department: e.department.clone(),
                    off_topic: off_topic(e),
                }
            })
            .collect();
        Analysis {
            // A conversation keeps its language even when the other's entries answer.
            lang: lang.unwrap_or(found_in),
            normalised,
            intent: classification.hit,
            captures: classification.captures,
            candidates,
            semantic_error,
            evidence: hits
                .into_iter()
                .map(|h| Evidence {
                    semantic: semantic
                        .as_ref()
                        .map(|s| s.get(&h.entry).copied().unwrap_or(0.0)),
                    matched_question: h
                        .variant_index
                        .map(|v| entries[h.entry].questions[v].clone())
                        .unwrap_or_default(),
                    raw: h.raw,
                    lexical: h.lexical,
                    model: h.model,
                })
                .collect(),
        }
    }

    /// Each entry's semantic evidence for `text`, or why there is none (None, None when
    /// `[embeddings]` is not set).
    fn semantic_scores(
        &self,
        text: &str,
    ) -> (
        Option<std::collections::HashMap<usize, f32>>,
        Option<String>,
    ) {
        match (&self.semantic, &self.embedder) {
            (Some(index), _) => match index.scores(text) {
                Ok(scores) => (Some(scores), None),
                Err(e) => (None, Some(e)),
            },
            (None, Some(_)) => (None, Some("the FAQ's questions are not embedded".into())),
            (None, None) => (None, None),
        }
    }

    /// What the bot would do with `text` as the first message of a fresh conversation
    /// (`ask`, `eval` and the benchmarks): the analysis, the decision and its reason.
    /// `lang` is the channel's locale, if any; else the text's own markers decide.
    pub fn first_message(
        &self,
        text: &str,
        lang: Option<Lang>,
    ) -> (Analysis, Decision, triage::Why) {
        let analysis = self.analyse(text, lang.or_else(|| crate::text::guess_lang(text)));
        let situation = Situation {
            mode: Mode::Bot,
            low_confidence_streak: 0,
            pending_choices: &[],
            attachment: false,
            survey: None,
            // What the content answers: an order lookup is the service's, not `ask`'s.
            orders: false,
            order_check: None,
            first_miss_hands_off: false,
        };
        let (decision, reason) = triage::decide(
            situation,
            text,
            analysis.intent.as_ref(),
            &analysis.candidates,
            &self.settings.policy(),
        );
        (analysis, decision, reason)
    }

    /// The language whose entries know more of the message's words, if one does.
    fn lang_by_vocabulary(&self, normalised: &str) -> Option<Lang> {
        let it = self.faq.known_words(normalised, Lang::It);
        let en = self.faq.known_words(normalised, Lang::En);
        match it.cmp(&en) {
            std::cmp::Ordering::Greater => Some(Lang::It),
            std::cmp::Ordering::Less => Some(Lang::En),
            std::cmp::Ordering::Equal => None,
        }
    }
}
