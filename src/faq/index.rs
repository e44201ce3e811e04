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

use super::analyzer::terms;
use super::calibration::{self, Calibration};
use super::{Entry, FaqSet};
use crate::domain::Lang;
use lang::LangIndex;
use std::collections::HashMap;

mod cover;
mod docs;
mod folds;
mod lang;

pub use folds::HeldOutSemantic;

/// How much the semantic evidence weighs in the raw evidence, when there is some.
const SEMANTIC_WEIGHT: f32 = 0.5;

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

/// The served (non-draft) entries and their search index.
pub struct FaqIndex {
    entries: Vec<Entry>,
    langs: HashMap<Lang, LangIndex>,
    /// The shop's own lexicon of each language (the calibration's folds read it too).
    lexicons: HashMap<Lang, String>,
    /// Each language's example question ([`FaqIndex::example_question`]).
    examples: HashMap<Lang, String>,
    /// Entries marked `draft = true`, read and not served.
    drafts: usize,
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
            let shop = set.lexicon.get(&lang).map_or("", String::as_str);
            langs.insert(lang, LangIndex::build(&entries, lang, shop)?);
        }
        let examples = Lang::ALL
            .into_iter()
            .filter_map(|lang| Some((lang, example_question(&entries, lang)?.to_owned())))
            .collect();
        Ok(Self {
            drafts: set.entries.len() - entries.len(),
            entries,
            langs,
            lexicons: set.lexicon.clone(),
            examples,
        })
    }

    /// Train the classifiers not trained yet, then calibrate each language on folds of
    /// its own entries; searches see each as soon as it is done.
    pub fn train(&self) {
        for (lang, index) in &self.langs {
            index.train();
            if index.calibration.get().is_none() {
                let fitted = folds::calibrate(&self.entries, *lang, self.shop_lexicon(*lang), None)
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
                    folds::calibrate(
                        &self.entries,
                        *lang,
                        self.shop_lexicon(*lang),
                        Some(semantic),
                    )?,
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

    fn shop_lexicon(&self, lang: Lang) -> &str {
        self.lexicons.get(&lang).map_or("", String::as_str)
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn entry(&self, id: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.id == id)
    }

    /// How many entries of the folder are drafts, not served.
    pub fn drafts(&self) -> usize {
        self.drafts
    }

    /// A question of this shop's own to show a customer as an example of what the bot
    /// answers in `lang`: the shortest first question (3 to 8 words) of an entry, the
    /// first in path order among equals.
    pub fn example_question(&self, lang: Lang) -> Option<&str> {
        self.examples.get(&lang).map(String::as_str)
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

/// See [`FaqIndex::example_question`].
fn example_question(entries: &[Entry], lang: Lang) -> Option<&str> {
    entries
        .iter()
        .filter(|e| e.lang == lang)
        .filter_map(|e| e.questions.first())
        .filter(|q| (3..=8).contains(&q.split_whitespace().count()))
        .min_by_key(|q| q.chars().count())
        .map(String::as_str)
}

#[cfg(test)]
mod tests;
