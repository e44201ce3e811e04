//! The FAQ index of each language: tantivy in RAM over the question variants (one
//! document each) and over the answers, plus a classifier trained on the same text.
//!
//! A search ranks entries by their `raw` evidence in [0, 1], the mean of two pieces:
//! `lexical`, the best variant's BM25 score divided by the score the query would get
//! against a copy of itself (the most it could get, so short and long messages, small
//! and large FAQs, share one scale), with a weaker contribution from the answer text;
//! and `model`, the classifier's probability for the entry (and, with `[embeddings]`,
//! the semantic score mixed in). Each hit's `confidence` is that evidence calibrated on
//! the folder ([`calibration`]): the probability of being the right entry.

use super::analyzer::{analyzer, terms};
use super::calibration::{self, Calibration};
use super::lexicon::Lexicon;
use super::model::{Classifier, Example};
use super::vocabulary::Vocabulary;
use super::{Entry, FaqSet};
use crate::domain::Lang;
use docs::{Doc, DocIndex};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use tantivy::tokenizer::TextAnalyzer;

mod cover;
mod docs;
mod folds;

pub use folds::HeldOutSemantic;

/// Weight of the lexical evidence in the raw evidence; the classifier has the rest.
/// Measured on tests/eval (see README): 0.5 ranks best in both languages.
const LEXICAL_WEIGHT: f32 = 0.5;
/// Weight of a match against an entry's answer text, next to its questions: the
/// answer's words are evidence too ("SDI", "Klarna"), but weaker than a question's.
/// Chosen on the development shops (`tests/shops-dev/`): from 0.5 to 0.8 top-1 rose from
/// 81.3% to 82.5% (mean of the four, with the lexicon's first version), the sample
/// FAQ's cases held.
const ANSWER_WEIGHT: f32 = 0.8;
/// How much the semantic evidence weighs in the raw evidence, when there is some.
const SEMANTIC_WEIGHT: f32 = 0.5;
/// The classifier's best entries that join a search's hits.
const MODEL_TOP: usize = 5;

/// One entry found for a query.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// Index into [`FaqIndex::entries`].
    pub entry: usize,
    /// The position among the entry's questions of the variant that matched best
    /// (None when only the answer, the classifier or the embeddings found it).
    pub variant_index: Option<usize>,
    /// The probability that this entry is the right one (the calibrated `raw`).
    pub confidence: f32,
    /// The lexical and model evidence averaged (with the semantic score mixed in when
    /// there is one), before calibration.
    pub raw: f32,
    pub lexical: f32,
    pub model: f32,
}

struct LangIndex {
    analyzer: TextAnalyzer,
    vocabulary: Vocabulary,
    lexicon: Lexicon,
    questions: DocIndex,
    answers: DocIndex,
    /// Each entry's words, for how much of a message an entry explains.
    cover: cover::EntryWords,
    /// The classifier, once trained (None inside: too few entries, or too large).
    /// Until then matching uses the index alone.
    model: OnceLock<Option<Classifier>>,
    /// The folder's own calibration, fitted after the model (until then [`calibration::PRIOR`]).
    calibration: OnceLock<Calibration>,
    /// The same with the semantic evidence mixed in (`[embeddings]`), once fitted.
    semantic_calibration: OnceLock<Calibration>,
    /// The training examples `(terms, text, entry)`, kept until the model is trained.
    examples: Mutex<Vec<(Vec<String>, String, usize)>>,
}

/// The served (non-draft) entries and their search index.
pub struct FaqIndex {
    entries: Vec<Entry>,
    langs: HashMap<Lang, LangIndex>,
}

impl FaqIndex {
    /// The index with its classifiers trained.
    pub fn build(set: &FaqSet) -> tantivy::Result<Self> {
        let index = Self::build_untrained(set)?;
        index.train();
        Ok(index)
    }

    /// The index alone, ready to search at once; [`FaqIndex::train`] adds the
    /// classifiers (the slow part: about 2 s for 1,000 entries), e.g. on another thread.
    pub fn build_untrained(set: &FaqSet) -> tantivy::Result<Self> {
        let entries: Vec<Entry> = set.entries.iter().filter(|e| !e.draft).cloned().collect();
        let mut langs = HashMap::new();
        for lang in Lang::ALL {
            langs.insert(lang, LangIndex::build(&entries, lang)?);
        }
        Ok(Self { entries, langs })
    }

    /// Train the classifiers not trained yet, then calibrate each language on folds of
    /// its own entries; searches see each as soon as it is done.
    pub fn train(&self) {
        for (lang, index) in &self.langs {
            index.train();
            if index.calibration.get().is_none() {
                let fitted = folds::calibrate(&self.entries, *lang, None)
                    .unwrap_or_else(|_| Calibration::fit(&[], &calibration::PRIOR));
                let _ = index.calibration.set(fitted);
            }
        }
    }

    /// Fit each language's calibration with the semantic evidence mixed in, as
    /// [`FaqIndex::search_with`] mixes it; until then (or if the endpoint fails here)
    /// semantic searches use the calibration without it.
    pub fn calibrate_semantic(&self, semantic: &dyn HeldOutSemantic) -> Result<(), String> {
        // Every language or none: a failure leaves them all on the same footing.
        let mut fitted = Vec::new();
        for (lang, index) in &self.langs {
            if index.semantic_calibration.get().is_none() {
                fitted.push((
                    index,
                    folds::calibrate(&self.entries, *lang, Some(semantic))?,
                ));
            }
        }
        for (index, calibration) in fitted {
            let _ = index.semantic_calibration.set(calibration);
        }
        Ok(())
    }

    /// The calibration semantic searches in `lang` use now.
    pub fn semantic_calibration(&self, lang: Lang) -> Option<Calibration> {
        self.langs
            .get(&lang)
            .and_then(|i| i.semantic_calibration.get().copied())
    }

    /// The calibration searches in `lang` use now.
    pub fn calibration(&self, lang: Lang) -> Calibration {
        self.langs
            .get(&lang)
            .and_then(|i| i.calibration.get().copied())
            .unwrap_or(calibration::PRIOR)
    }

    /// Whether every classifier is trained.
    pub fn trained(&self) -> bool {
        self.langs.values().all(|i| i.model.get().is_some())
    }

    /// Training examples waiting for a classifier (0 once trained).
    pub fn untrained_examples(&self) -> usize {
        let pending = |i: &LangIndex| i.examples.lock().map_or(0, |e| e.len());
        self.langs.values().map(pending).sum()
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn entry(&self, id: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.id == id)
    }

    /// How many of the words of `text` (already normalised) the entries of `lang` use:
    /// the shop's own content is the best judge of which language a message is in.
    pub fn known_words(&self, text: &str, lang: Lang) -> usize {
        self.langs.get(&lang).map_or(0, |index| {
            let mut analyzer = index.analyzer.clone();
            terms(&mut analyzer, text)
                .iter()
                .filter(|t| index.vocabulary.knows(t))
                .count()
        })
    }

    /// Entries of `lang` ranked for `text` (already normalised), best first, at most `limit`.
    pub fn search(&self, text: &str, lang: Lang, limit: usize) -> Vec<Hit> {
        self.search_with(text, lang, limit, None)
    }

    /// The same, with each entry's semantic evidence (`[embeddings]`, by entry index)
    /// mixed into the raw evidence before calibration; entries found only this way join.
    /// Calibrated by the fit that saw it ([`FaqIndex::calibrate_semantic`]), once there is one.
    pub fn search_with(
        &self,
        text: &str,
        lang: Lang,
        limit: usize,
        semantic: Option<&HashMap<usize, f32>>,
    ) -> Vec<Hit> {
        let Some(index) = self.langs.get(&lang) else {
            return Vec::new();
        };
        let (mut hits, shape) = index.scored(text);
        if let Some(scores) = semantic {
            mix_semantic(&mut hits, scores, |entry| self.entries[entry].lang == lang);
        }
        let calibration = semantic
            .and_then(|_| index.semantic_calibration.get())
            .or(index.calibration.get())
            .copied()
            .unwrap_or(calibration::PRIOR);
        // Ranked by the evidence; each confidence is the calibrated probability of being
        // right, never above that of the candidate ranked before it.
        let best: Vec<f32> = hits.iter().take(2).map(|h| h.raw).collect();
        let mut ceiling = 1.0_f32;
        hits.truncate(limit);
        for (i, h) in hits.iter_mut().enumerate() {
            let other = if i == 0 { best.get(1) } else { best.first() };
            let s = semantic.and_then(|m| m.get(&h.entry).copied());
            let x = index.features(&shape, h, other.copied().unwrap_or(0.0), s.unwrap_or(0.0));
            h.confidence = calibration.probability(&x).min(ceiling);
            ceiling = h.confidence;
        }
        hits
    }
}

/// What calibration reads of a message besides its hits: how many words it has, what
/// share of them the folder knows, and the words weighed for [`cover::EntryWords`].
struct Shape {
    words: usize,
    known: f32,
    weighed: cover::Weighed,
}

/// Mix each entry's semantic evidence (by entry index) into the hits' raw evidence;
/// entries (that `keep` accepts) found only this way join. Best raw evidence first.
fn mix_semantic(hits: &mut Vec<Hit>, scores: &HashMap<usize, f32>, keep: impl Fn(usize) -> bool) {
    for (&entry, &score) in scores {
        if score > 0.0 && keep(entry) {
            hit(hits, entry);
        }
    }
    for h in hits.iter_mut() {
        let s = scores.get(&h.entry).copied().unwrap_or(0.0);
        h.raw = ((1.0 - SEMANTIC_WEIGHT) * h.raw + SEMANTIC_WEIGHT * s).clamp(0.0, 1.0);
    }
    hits.sort_by(|a, b| b.raw.total_cmp(&a.raw));
}

/// The hit of `entry`, added if it is not there yet.
fn hit(hits: &mut Vec<Hit>, entry: usize) -> &mut Hit {
    let pos = hits
        .iter()
        .position(|h| h.entry == entry)
        .unwrap_or_else(|| {
            hits.push(Hit {
                entry,
                variant_index: None,
                confidence: 0.0,
                raw: 0.0,
                lexical: 0.0,
                model: 0.0,
            });
            hits.len() - 1
        });
    &mut hits[pos]
}

impl LangIndex {
    /// The evidence the calibration reads for hit `h` of a message of this `shape`.
    fn features(
        &self,
        shape: &Shape,
        h: &Hit,
        other: f32,
        semantic: f32,
    ) -> [f32; calibration::FEATURES] {
        calibration::features(
            calibration::Evidence {
                raw: h.raw,
                lead: h.raw - other,
                lexical: h.lexical,
                model: h.model,
                semantic,
            },
            shape.known,
            shape.words,
            self.cover.explained(h.entry, &shape.weighed),
        )
    }

    /// The entries sharing evidence with `text` (normalised), best raw confidence first,
    /// with the message's shape; the model's evidence for its [`MODEL_TOP`] best entries.
    fn scored(&self, text: &str) -> (Vec<Hit>, Shape) {
        let analysed = terms(&mut self.analyzer.clone(), text);
        let words = analysed.len();
        // A word only the lexicon reads is not counted as known: the calibration's folds
        // (the editors' own questions) seldom see one, so it is not fitted on them.
        let known = if analysed.is_empty() {
            0.0
        } else {
            analysed.iter().filter(|t| self.vocabulary.knows(t)).count() as f32 / words as f32
        };
        let mut terms: Vec<String> = Vec::with_capacity(words);
        for t in analysed {
            match self.lexicon.read(&t) {
                Some(read) => terms.extend_from_slice(read),
                None => terms.push(self.vocabulary.correct(t)),
            }
        }
        let shape = Shape {
            words,
            known,
            weighed: self.cover.weigh(&terms),
        };
        let mut hits: Vec<Hit> = Vec::new();
        for (entry, variant, c) in self.questions.search(&terms) {
            let h = hit(&mut hits, entry);
            h.lexical = c;
            h.variant_index = Some(variant);
        }
        for (entry, _, c) in self.answers.search(&terms) {
            let h = hit(&mut hits, entry);
            h.lexical = 1.0 - (1.0 - h.lexical) * (1.0 - ANSWER_WEIGHT * c);
        }
        if let Some(model) = self.model.get().and_then(Option::as_ref) {
            for (entry, p) in model.predict(&terms, text).into_iter().take(MODEL_TOP) {
                hit(&mut hits, entry).model = p;
            }
        }
        for h in &mut hits {
            h.raw = (LEXICAL_WEIGHT * h.lexical + (1.0 - LEXICAL_WEIGHT) * h.model).clamp(0.0, 1.0);
        }
        hits.sort_by(|a, b| b.raw.total_cmp(&a.raw));
        (hits, shape)
    }

    fn build(entries: &[Entry], lang: Lang) -> tantivy::Result<Self> {
        let mut analyzer = analyzer(lang);
        let mut doc = |entry: usize, variant: usize, raw: &str| {
            let text = crate::text::normalise(raw);
            let terms = terms(&mut analyzer, &text);
            Doc {
                entry,
                variant,
                text,
                terms,
            }
        };
        let mut questions = Vec::new();
        let mut answers = Vec::new();
        for (ei, e) in entries.iter().enumerate().filter(|(_, e)| e.lang == lang) {
            for (vi, q) in e.questions.iter().enumerate() {
                questions.push(doc(ei, vi, q));
            }
            answers.push(doc(ei, 0, &format!("{} {}", e.tags.join(" "), e.answer)));
        }
        let examples = questions
            .iter()
            .chain(&answers)
            .map(|d| (d.terms.clone(), d.text.clone(), d.entry))
            .collect();
        let vocabulary = Vocabulary::new(
            questions
                .iter()
                .chain(&answers)
                .flat_map(|d| d.terms.iter().cloned()),
        );
        let lexicon = Lexicon::new(lang, &mut analyzer, &vocabulary);
        Ok(LangIndex {
            analyzer: analyzer.clone(),
            vocabulary,
            lexicon,
            cover: cover::EntryWords::new(
                questions
                    .iter()
                    .chain(&answers)
                    .map(|d| (d.entry, d.terms.as_slice())),
            ),
            questions: DocIndex::build(&questions, lang)?,
            answers: DocIndex::build(&answers, lang)?,
            model: OnceLock::new(),
            calibration: OnceLock::new(),
            semantic_calibration: OnceLock::new(),
            examples: Mutex::new(examples),
        })
    }

    fn train(&self) {
        let mut pending = self.examples.lock().unwrap_or_else(|e| e.into_inner());
        if self.model.get().is_some() {
            return;
        }
        let examples: Vec<Example<'_>> = pending
            .iter()
            .map(|(terms, text, entry)| Example {
                terms,
                text,
                entry: *entry,
            })
            .collect();
        let model = Classifier::train(&examples);
        let _ = self.model.set(model);
        pending.clear();
        pending.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests;
