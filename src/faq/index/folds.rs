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

/// One fold: the entries it is given (with their global indexes) and what it is asked.
struct Fold {
    kept: Vec<Entry>,
    kept_global: Vec<usize>,
    held: Vec<Held>,
}

/// Fit the calibration of `lang` on folds of its entries, with the semantic evidence
/// mixed in as when serving if `semantic` is given. `entries` are the served ones, in
/// the index's order.
pub(super) fn calibrate(
    entries: &[Entry],
    lang: Lang,
    shop_lexicon: &str,
    semantic: Option<&dyn HeldOutSemantic>,
) -> Result<Calibration, String> {
    let mine: Vec<usize> = (0..entries.len())
        .filter(|&i| entries[i].lang == lang)
        .collect();
    if mine.len() < 3 {
        return Ok(Calibration::fit(&[], &calibration::PRIOR));
    }
    let folds = plan(entries, &mine);
    let semantic = match semantic {
        Some(s) => Some(SemanticRows::new(s, entries, &folds)?),
        None => None,
    };
    // On a thread of its own: the folds' indexes are built and dropped there, and the
    // heap they used stays with that thread's arena instead of swelling the one the
    // server runs on (measured: a server's peak RSS under a login flood 185–213 MB with
    // the folds on the main thread, 154–176 MB on their own, 131–135 MB without
    // calibration). A fold that panics costs the folder its own calibration, not the
    // server: the prior is used.
    let samples = std::thread::scope(|s| {
        s.spawn(|| samples_of(folds, lang, shop_lexicon, semantic.as_ref()))
            .join()
            .unwrap_or_else(|_| {
                tracing::error!("calibration ({lang}) failed: the built-in one is used");
                Vec::new()
            })
    });
    Ok(Calibration::fit(&samples, &calibration::PRIOR))
}

/// What each fold's index makes of the questions it was not given.
fn samples_of(
    folds: Vec<Fold>,
    lang: Lang,
    shop_lexicon: &str,
    semantic: Option<&SemanticRows>,
) -> Vec<Sample> {
    let mut samples: Vec<Sample> = Vec::new();
    for Fold {
        kept,
        kept_global,
        held,
    } in folds
    {
        let Ok(index) = LangIndex::build(&kept, lang, shop_lexicon) else {
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
            let scores = semantic.map(|s| s.fold_scores(&q, &fold_of, &unseen));
            if let Some(scores) = &scores {
                mix_semantic(&mut hits, scores, |_| true);
            }
            // Nothing found: rightly silent, and nothing to learn about answers.
            let Some(top) = hits.first() else { continue };
            let other = hits.get(1).map_or(0.0, |h: &Hit| h.raw);
            let s = scores.as_ref().and_then(|s| s.get(&top.entry).copied());
            samples.push(Sample {
                x: index.features(&shape, top, other, s.unwrap_or(0.0)),
                right: q.expected.as_deref() == Some(kept[top.entry].id.as_str()),
                out_of_scope: q.expected.is_none(),
            });
        }
    }
    samples
}

/// The folds of the entries `mine` (global indexes, one language): how many, what each
/// is given and asked.
fn plan(entries: &[Entry], mine: &[usize]) -> Vec<Fold> {
    // Held out per fold from an entry of n questions: a fifth of them (at least one
    // from two questions on; an entry of one question is always kept whole).
    let per_entry = |n: usize| if n >= 2 { (n / 5).max(1) } else { 0 };
    let per_fold: usize = mine
        .iter()
        .map(|&g| per_entry(entries[g].questions.len()))
        .sum();
    let count = calibration::FOLD_SAMPLES
        .div_ceil(per_fold.max(1))
        .clamp(2, calibration::FOLDS);
    (0..count)
        .map(|fold| {
            let mut plan = Fold {
                kept: Vec::new(),
                kept_global: Vec::new(),
                held: Vec::new(),
            };
            for (i, &g) in mine.iter().enumerate() {
                let e = &entries[g];
                let n = e.questions.len();
                if i % calibration::LEAVE_OUT_EVERY == fold {
                    // As many out-of-scope questions per left-out entry as keep their
                    // share of the samples whatever the number of variants.
                    let asked = calibration::OUT_OF_SCOPE_QUESTIONS * per_entry(n).max(1);
                    let out = e.questions.iter().take(asked).enumerate();
                    plan.held.extend(out.map(|(v, q)| Held {
                        text: q.clone(),
                        entry: g,
                        variant: v,
                        expected: None,
                    }));
                    continue;
                }
                let h = per_entry(n);
                let out: HashSet<usize> = (0..h).map(|j| (fold * h + i + j) % n.max(1)).collect();
                let mut given = e.clone();
                given.questions = Vec::new();
                for (v, q) in e.questions.iter().enumerate() {
                    if out.contains(&v) {
                        plan.held.push(Held {
                            text: q.clone(),
                            entry: g,
                            variant: v,
                            expected: Some(e.id.clone()),
                        });
                    } else {
                        given.questions.push(q.clone());
                    }
                }
                plan.kept.push(given);
                plan.kept_global.push(g);
            }
            plan
        })
        .collect()
}

/// Each question some fold asks, scored against every question of the folder, once.
struct SemanticRows {
    questions: Vec<(usize, usize)>,
    rows: HashMap<(usize, usize), Vec<f32>>,
}

impl SemanticRows {
    fn new(
        semantic: &dyn HeldOutSemantic,
        entries: &[Entry],
        folds: &[Fold],
    ) -> Result<SemanticRows, String> {
        let mut keys: Vec<(usize, usize)> = folds
            .iter()
            .flat_map(|f| f.held.iter().map(|h| (h.entry, h.variant)))
            .collect();
        keys.sort_unstable();
        keys.dedup();
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

    /// Semantic evidence from a table: for a question's text, its score against each
    /// question of the folder by `(entry, variant)`.
    struct Table {
        questions: Vec<(usize, usize)>,
        texts: Vec<String>,
        score: fn((usize, usize), (usize, usize)) -> f32,
    }

    impl HeldOutSemantic for Table {
        fn questions(&self) -> Vec<(usize, usize)> {
            self.questions.clone()
        }
        fn scores_for(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, String> {
            Ok(texts
                .iter()
                .map(|t| {
                    let at = self.texts.iter().position(|x| x == t).expect("a question");
                    let asked = self.questions[at];
                    self.questions
                        .iter()
                        .map(|&q| (self.score)(asked, q))
                        .collect()
                })
                .collect())
        }
    }

    fn folder() -> (Vec<Entry>, Vec<(usize, usize)>, Vec<String>) {
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
        let texts = questions
            .iter()
            .map(|&(e, v)| entries[e].questions[v].clone())
            .collect();
        (entries, questions, texts)
    }

    #[test]
    fn a_held_out_question_never_sees_its_own_vector() {
        // Only a question's own vector scores: if a fold let it see itself, the score
        // would tell right from wrong perfectly and earn a weight.
        let (entries, questions, texts) = folder();
        let own = Table {
            questions,
            texts,
            score: |a, b| if a == b { 1.0 } else { 0.0 },
        };
        let fitted = calibrate(&entries, Lang::It, "", Some(&own)).unwrap();
        assert!(fitted.questions > 0);
        assert_eq!(fitted.weights[6], 0.0, "{fitted:?}");
    }

    #[test]
    fn semantic_evidence_that_points_right_earns_its_weight() {
        // The other questions of the same entry score 0.9, the rest nothing.
        let (entries, questions, texts) = folder();
        let same_entry = Table {
            questions,
            texts,
            score: |a, b| if a.0 == b.0 { 0.9 } else { 0.0 },
        };
        let lexical = calibrate(&entries, Lang::It, "", None).unwrap();
        let with = calibrate(&entries, Lang::It, "", Some(&same_entry)).unwrap();
        assert!(with.weights[6] > 0.5, "{with:?}");
        assert!(with.found > lexical.found, "{with:?} vs {lexical:?}");
        assert_eq!(with.questions, lexical.questions);
    }
}
