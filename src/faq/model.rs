//! A linear classifier over the FAQ entries of one language, trained when the folder
//! loads on what the editors wrote: every question variant (and the answer text) is an
//! example of its entry. Features are the analysed words and word pairs, plus
//! character 2–5-grams of each word (so `spedire` and `spedizione`, or a typo, still
//! share most of their features), weighted TF-IDF and normalised. Multinomial logistic
//! regression, trained by stochastic gradient descent with a fixed seed: the same
//! folder always gives the same model.
//!
//! Large FAQs stay cheap: each message (in training and when matching) competes only
//! among a shortlist of entries, those whose centroid (the mean of their examples) is
//! nearest to it. With up to [`ALL_COMPETE`] entries the shortlist is all of them and the
//! model is a plain softmax over every entry.

use features::{CHAR, FAMILY, FeatureIds, WORD, raw_features};
use std::collections::HashMap;

const EPOCHS: usize = 30;
/// Large folders need fewer passes: each pass already sees many examples per entry.
/// Up to this many examples, [`EPOCHS`] passes; above, proportionally fewer.
const EPOCH_EXAMPLES: usize = 3_000;
const MIN_EPOCHS: usize = 10;
const LEARNING_RATE: f32 = 0.8;
/// Above this many weights (features x entries), no model is trained and matching
/// relies on the index alone: memory stays bounded for very large FAQs.
const MAX_WEIGHTS: usize = 40_000_000;
/// Up to this many entries, every message competes with every entry.
const ALL_COMPETE: usize = 96;
/// Above [`ALL_COMPETE`], the entries a message competes among: training and
/// prediction cost grow with this, not with the size of the FAQ.
const SHORTLIST: usize = 32;

/// A sparse feature vector: (feature id, value), L2-normalised per feature family.
type Features = Vec<(u32, f32)>;

mod features;

pub struct Classifier {
    ids: FeatureIds,
    idf: Vec<f32>,
    /// `weights[feature * classes + class]`
    weights: Vec<f32>,
    bias: Vec<f32>,
    /// Entry index of each class.
    classes: Vec<usize>,
    /// For each feature, the classes whose centroid has it: `(class, weight)`.
    /// Empty when every class is always on the shortlist.
    centroids: Vec<Vec<(u32, f32)>>,
}

/// One training example: the words (analysed terms) and the normalised text.
pub struct Example<'a> {
    pub terms: &'a [String],
    pub text: &'a str,
    pub entry: usize,
}

impl Classifier {
    pub fn train(examples: &[Example<'_>]) -> Option<Classifier> {
        let mut classes: Vec<usize> = examples.iter().map(|e| e.entry).collect();
        classes.sort_unstable();
        classes.dedup();
        if classes.len() < 2 {
            return None;
        }
        let raw: Vec<Vec<(u64, u32)>> = examples
            .iter()
            .map(|e| raw_features(e.terms, e.text))
            .collect();
        let mut ids = FeatureIds::default();
        let mut df: Vec<u32> = Vec::new();
        for doc in &raw {
            for (h, _) in doc {
                let next = ids.len() as u32;
                let id = *ids.entry(*h).or_insert(next);
                if id as usize == df.len() {
                    df.push(0);
                }
                df[id as usize] += 1;
            }
        }
        if ids.len() * classes.len() > MAX_WEIGHTS {
            return None;
        }
        let n = raw.len() as f32;
        let idf: Vec<f32> = df
            .iter()
            .map(|&d| ((1.0 + n) / (1.0 + d as f32)).ln() + 1.0)
            .collect();
        let mut model = Classifier {
            ids,
            idf,
            weights: vec![0.0; df.len() * classes.len()],
            bias: vec![0.0; classes.len()],
            classes,
            centroids: Vec::new(),
        };
        let data: Vec<(Features, usize)> = raw
            .iter()
            .zip(examples)
            .map(|(r, e)| {
                (
                    model.weigh(r),
                    model
                        .classes
                        .binary_search(&e.entry)
                        .expect("class of a training entry"),
                )
            })
            .collect();
        model.index_centroids(&data);
        let data: Vec<(Features, Vec<u32>, usize)> = data
            .into_iter()
            .map(|(x, y)| {
                let mut list = model.shortlist(&x);
                if !list.contains(&(y as u32)) {
                    *list.last_mut().expect("a shortlist is never empty") = y as u32;
                }
                let y = list
                    .iter()
                    .position(|&c| c == y as u32)
                    .expect("just added");
                (x, list, y)
            })
            .collect();
        model.fit(&data);
        Some(model)
    }

    /// Probability of each entry for a message, best first.
    pub fn predict(&self, terms: &[String], text: &str) -> Vec<(usize, f32)> {
        let features = self.weigh(&raw_features(terms, text));
        let list = self.shortlist(&features);
        let probs = self.probabilities(&features, &list);
        let mut out: Vec<(usize, f32)> = list
            .iter()
            .map(|&c| self.classes[c as usize])
            .zip(probs)
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1));
        out
    }

    fn fit(&mut self, data: &[(Features, Vec<u32>, usize)]) {
        let mut order: Vec<usize> = (0..data.len()).collect();
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let k = self.classes.len();
        let epochs = (EPOCHS * EPOCH_EXAMPLES / data.len().max(1)).clamp(MIN_EPOCHS, EPOCHS);
        for epoch in 0..epochs {
            shuffle(&mut order, &mut seed);
            let rate = LEARNING_RATE / (1.0 + epoch as f32 * 0.2);
            for &i in &order {
                let (x, list, y) = &data[i];
                let mut grad = self.probabilities(x, list);
                grad[*y] -= 1.0;
                for (&c, g) in list.iter().zip(&grad) {
                    self.bias[c as usize] -= rate * g;
                }
                for &(f, v) in x {
                    let row = &mut self.weights[f as usize * k..(f as usize + 1) * k];
                    if list.len() == k {
                        // Every class, in order: a contiguous loop the compiler vectorises.
                        row.iter_mut()
                            .zip(&grad)
                            .for_each(|(w, g)| *w -= rate * g * v);
                    } else {
                        for (&c, g) in list.iter().zip(&grad) {
                            row[c as usize] -= rate * g * v;
                        }
                    }
                }
            }
        }
    }

    /// Softmax over the classes of `list`, in its order.
    fn probabilities(&self, x: &Features, list: &[u32]) -> Vec<f32> {
        let k = self.classes.len();
        let mut logits: Vec<f32> = list.iter().map(|&c| self.bias[c as usize]).collect();
        for &(f, v) in x {
            let row = &self.weights[f as usize * k..(f as usize + 1) * k];
            if list.len() == k {
                logits.iter_mut().zip(row).for_each(|(l, w)| *l += w * v);
            } else {
                for (l, &c) in logits.iter_mut().zip(list) {
                    *l += row[c as usize] * v;
                }
            }
        }
        let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut sum = 0.0;
        for l in &mut logits {
            *l = (*l - max).exp();
            sum += *l;
        }
        logits.iter_mut().for_each(|l| *l /= sum);
        logits
    }

    /// Build the centroid postings, when the FAQ has more entries than a shortlist.
    fn index_centroids(&mut self, data: &[(Features, usize)]) {
        let k = self.classes.len();
        if k <= ALL_COMPETE {
            return;
        }
        let mut sums: Vec<HashMap<u32, f32>> = vec![HashMap::new(); k];
        for (x, y) in data {
            for &(f, v) in x {
                *sums[*y].entry(f).or_insert(0.0) += v;
            }
        }
        self.centroids = vec![Vec::new(); self.idf.len()];
        for (class, sum) in sums.into_iter().enumerate() {
            let norm = sum.values().map(|v| v * v).sum::<f32>().sqrt().max(1e-6);
            for (f, v) in sum {
                self.centroids[f as usize].push((class as u32, v / norm));
            }
        }
        // A feature shared by a quarter of the entries hardly tells them apart, and
        // its long posting list would dominate the cost of every shortlist.
        for posting in &mut self.centroids {
            if posting.len() > k / 4 {
                *posting = Vec::new();
            }
        }
    }

    /// The classes a message competes among: all of them for a small FAQ, else the
    /// [`SHORTLIST`] whose centroids are nearest.
    fn shortlist(&self, x: &Features) -> Vec<u32> {
        let k = self.classes.len();
        if self.centroids.is_empty() {
            return (0..k as u32).collect();
        }
        let mut scores = vec![0.0_f32; k];
        for &(f, v) in x {
            for &(c, w) in &self.centroids[f as usize] {
                scores[c as usize] += v * w;
            }
        }
        let mut list: Vec<u32> = (0..k as u32).collect();
        list.select_nth_unstable_by(SHORTLIST - 1, |a, b| {
            scores[*b as usize].total_cmp(&scores[*a as usize])
        });
        list.truncate(SHORTLIST);
        list
    }

    /// Known features with sublinear TF-IDF, each family (words, characters) scaled to
    /// unit length.
    fn weigh(&self, raw: &[(u64, u32)]) -> Features {
        let mut out: Features = Vec::with_capacity(raw.len());
        for family in [WORD, CHAR] {
            let start = out.len();
            for &(h, tf) in raw.iter().filter(|(h, _)| h & FAMILY == family) {
                if let Some(&id) = self.ids.get(&h) {
                    out.push((id, (1.0 + (tf as f32).ln()) * self.idf[id as usize]));
                }
            }
            let norm = out[start..].iter().map(|(_, v)| v * v).sum::<f32>().sqrt();
            if norm > 0.0 {
                out[start..].iter_mut().for_each(|(_, v)| *v /= norm);
            }
        }
        out
    }
}

fn shuffle(items: &mut [usize], seed: &mut u64) {
    for i in (1..items.len()).rev() {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        items.swap(i, (*seed % (i as u64 + 1)) as usize);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex<'a>(terms: &'a [String], text: &'a str, entry: usize) -> Example<'a> {
        Example { terms, text, entry }
    }

    #[test]
    fn the_classifier_learns_the_entries_from_their_variants() {
        let t = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
        let (a, b, c, d) = (
            t("spedizion cost"),
            t("spes spedizion"),
            t("reso grat"),
            t("restitu articol"),
        );
        let examples = [
            ex(&a, "costo spedizione", 0),
            ex(&b, "spese spedizione", 0),
            ex(&c, "reso gratis", 1),
            ex(&d, "restituire articolo", 1),
        ];
        let model = Classifier::train(&examples).unwrap();
        let q = t("spedizion");
        assert_eq!(model.predict(&q, "spedizioni")[0].0, 0);
        let q = t("restitu");
        assert_eq!(model.predict(&q, "restituisco")[0].0, 1);
        let probs: f32 = model.predict(&q, "restituisco").iter().map(|p| p.1).sum();
        assert!((probs - 1.0).abs() < 1e-4);
    }

    #[test]
    fn a_large_faq_is_matched_through_the_shortlist() {
        let names: Vec<String> = (0..ALL_COMPETE + 30).map(|i| format!("topic{i}")).collect();
        let terms: Vec<Vec<String>> = names
            .iter()
            .map(|n| vec![n.clone(), "order".to_owned()])
            .collect();
        let texts: Vec<String> = names.iter().map(|n| format!("{n} order")).collect();
        let examples: Vec<Example<'_>> = terms
            .iter()
            .zip(&texts)
            .enumerate()
            .map(|(i, (t, x))| ex(t, x, i))
            .collect();
        let model = Classifier::train(&examples).unwrap();
        assert!(
            !model.centroids.is_empty(),
            "above ALL_COMPETE, shortlists are used"
        );
        let q = vec!["topic117".to_owned()];
        let ranked = model.predict(&q, "topic117");
        assert_eq!(ranked[0].0, 117);
        assert_eq!(ranked.len(), SHORTLIST);
    }
}
