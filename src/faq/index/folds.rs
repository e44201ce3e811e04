//! The folds a language's calibration is fitted on (see [`calibration`]): indexes of
//! part of the folder, asked the questions they were not given.

use super::{Hit, LangIndex, mix_semantic};
use crate::domain::Lang;
use crate::faq::Entry;
use crate::faq::calibration::{self, Calibration, Sample};
use std::collections::{HashMap, HashSet};

/// What calibration needs of the semantic evidence (`[embeddings]`): each question of
/// the folder by (entry, variant), and the semantic score of texts against each.
pub trait HeldOutSemantic {
    /// `(entry index, variant index)` of the questions [`Self::scores_for`] scores against.
    fn questions(&self) -> Vec<(usize, usize)>;
    /// For each text (embedded as a customer's message), its score against each question.
    fn scores_for(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, String>;
}

/// A question asked of a fold: its text, its entry and variant (global indexes), and
/// the id of the entry that should answer it (None: its entry was left out).
struct Held {
    text: String,
    entry: usize,
    variant: usize,
    expected: Option<String>,
}

/// Fit the calibration of `lang` on folds of its entries, with the semantic evidence
/// mixed in as when serving if `semantic` is given. `entries` are the served ones, in
/// the index's order.
pub(super) fn calibrate(
    entries: &[Entry],
    lang: Lang,
    semantic: Option<&dyn HeldOutSemantic>,
) -> Result<Calibration, String> {
    let mine: Vec<usize> = (0..entries.len())
        .filter(|&i| entries[i].lang == lang)
        .collect();
    if mine.len() < 3 {
        return Ok(Calibration::fit(&[], &calibration::PRIOR));
    }
    let semantic = match semantic {
        Some(s) => Some(SemanticRows::new(s, entries, &mine)?),
        None => None,
    };
    // Held out per fold from an entry of n questions: a fifth of them (at least one).
    let per_entry = |n: usize| if n >= 2 { (n / 5).max(1) } else { 0 };
    let per_fold: usize = mine
        .iter()
        .map(|&g| per_entry(entries[g].questions.len()))
        .sum();
    let folds = calibration::FOLD_SAMPLES
        .div_ceil(per_fold.max(1))
        .clamp(2, calibration::FOLDS);
    let mut samples: Vec<Sample> = Vec::new();
    for fold in 0..folds {
        let mut kept: Vec<Entry> = Vec::new();
        let mut kept_global: Vec<usize> = Vec::new();
        let mut held: Vec<Held> = Vec::new();
        for (i, &g) in mine.iter().enumerate() {
            let e = &entries[g];
            if i % calibration::LEAVE_OUT_EVERY == fold {
                // As many out-of-scope questions per left-out entry as keep their share
                // of the samples whatever the number of variants.
                let n = calibration::OUT_OF_SCOPE_QUESTIONS * per_entry(e.questions.len()).max(1);
                let out = e.questions.iter().take(n);
                held.extend(out.enumerate().map(|(v, q)| Held {
                    text: q.clone(),
                    entry: g,
                    variant: v,
                    expected: None,
                }));
                continue;
            }
            let n = e.questions.len();
            let h = per_entry(n);
            let out: HashSet<usize> = (0..h).map(|j| (fold * h + i + j) % n.max(1)).collect();
            let mut e = e.clone();
            e.questions = Vec::new();
            for (v, q) in entries[g].questions.iter().enumerate() {
                if out.contains(&v) {
                    held.push(Held {
                        text: q.clone(),
                        entry: g,
                        variant: v,
                        expected: Some(e.id.clone()),
                    });
                } else {
                    e.questions.push(q.clone());
                }
            }
            kept.push(e);
            kept_global.push(g);
        }
        let Ok(index) = LangIndex::build(&kept, lang) else {
            continue;
        };
        index.train();
        let fold_of: HashMap<usize, usize> = kept_global
            .iter()
            .enumerate()
            .map(|(k, &g)| (g, k))
            .collect();
        let unseen: HashSet<(usize, usize)> = held.iter().map(|h| (h.entry, h.variant)).collect();
        for q in held {
            let (mut hits, shape) = index.scored(&crate::text::normalise(&q.text));
            let scores = semantic
                .as_ref()
                .map(|s| s.fold_scores(&q, &fold_of, &unseen));
            if let Some(scores) = &scores {
                mix_semantic(&mut hits, scores, |_| true);
            }
            // Nothing found: rightly silent, and nothing to learn about answers.
            let Some(top) = hits.first() else { continue };
            let other = hits.get(1).map_or(0.0, |h: &Hit| h.raw);
            let s = scores.as_ref().and_then(|s| s.get(&top.entry).copied());
            samples.push(Sample {
                x: shape.features(top, other, s.unwrap_or(0.0)),
                right: q.expected.as_deref() == Some(kept[top.entry].id.as_str()),
                out_of_scope: q.expected.is_none(),
            });
        }
    }
    Ok(Calibration::fit(&samples, &calibration::PRIOR))
}

/// Every question of the language scored against every question of the folder, once.
struct SemanticRows {
    questions: Vec<(usize, usize)>,
    rows: HashMap<(usize, usize), Vec<f32>>,
}

impl SemanticRows {
    fn new(
        semantic: &dyn HeldOutSemantic,
        entries: &[Entry],
        mine: &[usize],
    ) -> Result<SemanticRows, String> {
        let keys: Vec<(usize, usize)> = mine
            .iter()
            .flat_map(|&g| (0..entries[g].questions.len()).map(move |v| (g, v)))
            .collect();
        let texts: Vec<String> = keys
            .iter()
            .map(|&(g, v)| entries[g].questions[v].clone())
            .collect();
        let scores = semantic.scores_for(&texts)?;
        Ok(SemanticRows {
            questions: semantic.questions(),
            rows: keys.into_iter().zip(scores).collect(),
        })
    }

    /// The held-out question's semantic evidence for each entry of the fold (by the
    /// fold's index): its best score against the questions the fold was given.
    fn fold_scores(
        &self,
        q: &Held,
        fold_of: &HashMap<usize, usize>,
        unseen: &HashSet<(usize, usize)>,
    ) -> HashMap<usize, f32> {
        let mut best: HashMap<usize, f32> = HashMap::new();
        let Some(row) = self.rows.get(&(q.entry, q.variant)) else {
            return best;
        };
        for (&(g, v), &score) in self.questions.iter().zip(row) {
            let Some(&k) = fold_of.get(&g) else { continue };
            if unseen.contains(&(g, v)) {
                continue;
            }
            let slot = best.entry(k).or_insert(0.0);
            *slot = slot.max(score);
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::entry;
    use super::*;

    /// Scores 0.9 between questions of the same entry, 0 otherwise: semantic evidence
    /// that always points at the right entry.
    struct SameEntry(Vec<(usize, usize)>);

    impl HeldOutSemantic for SameEntry {
        fn questions(&self) -> Vec<(usize, usize)> {
            self.0.clone()
        }
        fn scores_for(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, String> {
            // The texts come in the order of `questions`: each knows its own entry.
            Ok(texts
                .iter()
                .enumerate()
                .map(|(i, _)| {
                    let own = self.0[i].0;
                    self.0
                        .iter()
                        .map(|&(e, _)| if e == own { 0.9 } else { 0.0 })
                        .collect()
                })
                .collect())
        }
    }

    #[test]
    fn semantic_evidence_that_points_right_earns_its_weight() {
        let entries: Vec<Entry> = (0..12)
            .map(|i| {
                let id = format!("voce{i}");
                // Questions that share few words: the lexical evidence alone is weak.
                entry(
                    &id,
                    &[
                        &format!("parola{i} alfa"),
                        &format!("termine{i} beta"),
                        &format!("cosa{i} gamma"),
                    ],
                    &format!("Risposta su {id}."),
                )
            })
            .collect();
        let questions: Vec<(usize, usize)> =
            (0..12).flat_map(|e| (0..3).map(move |v| (e, v))).collect();
        let semantic = SameEntry(questions);
        let lexical = calibrate(&entries, Lang::It, None).unwrap();
        let with = calibrate(&entries, Lang::It, Some(&semantic)).unwrap();
        assert_eq!(
            lexical.weights[6],
            calibration::PRIOR.weights[6],
            "no semantic score seen"
        );
        assert!(with.weights[6] > lexical.weights[6], "{with:?}");
        assert!(with.found > lexical.found, "{with:?} vs {lexical:?}");
        assert_eq!(with.questions, lexical.questions);
    }
}
