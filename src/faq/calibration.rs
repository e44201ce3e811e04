//! A confidence that means the same on any folder: the probability that the entry a
//! message matched best is the right one, learnt from the folder itself when it loads.
//!
//! The raw evidence (BM25 over its ceiling, the classifier's probability) is peaked on a
//! folder with many variants per entry and flat on one with few, so one threshold on it
//! cannot mean the same everywhere. Calibration asks the folder: in each of up to
//! [`FOLDS`] folds, a fifth of every entry's questions (at least one, from two questions
//! on) is held out and a tenth of the entries are left out whole; an index trained on
//! the rest ranks each held-out question. A question of a kept entry whose entry comes
//! first is a right answer; anything answered to a question of a left-out entry is a
//! wrong one (out of scope). A logistic regression over the
//! evidence of the top entry ([`features`]) then turns evidence into the probability of
//! being right. Its weights are pulled towards [`PRIOR`] (fitted the same way on the
//! sample FAQ of this repository), by as much as a few dozen held-out questions weigh:
//! a folder of fewer than three entries gets the prior, a small one mostly the prior,
//! one of thirty mostly its own.

use serde::Serialize;

/// How many evidence values [`features`] gives.
pub const FEATURES: usize = 8;

/// At most this many folds are trained at load time, each one index and one classifier
/// on part of the folder.
pub const FOLDS: usize = 5;

/// Folds are added until about this many questions of kept entries have been held out:
/// a small folder takes [`FOLDS`], a large one (a fifth of each entry's questions held
/// out per fold) two, so that loading stays cheap.
pub const FOLD_SAMPLES: usize = 300;

/// Entries left out whole in a fold: those whose position modulo this is the fold's
/// number, so that over the folds a fifth (two folds) to half (five) of the entries play
/// out of scope once.
pub const LEAVE_OUT_EVERY: usize = 10;

/// Questions of a left-out entry asked in its fold, for each question a kept entry of
/// its size gives: on a folder of dozens of entries about one sample in four is then out
/// of scope, whatever the number of variants per entry; on a folder of a few, more.
pub const OUT_OF_SCOPE_QUESTIONS: usize = 3;

/// How strongly the weights are pulled towards [`PRIOR`] (a ridge penalty on the
/// distance to it): about what a few dozen held-out questions weigh.
const RIDGE: f64 = 2.0;

/// The prior: weights and bias over [`features`], fitted on the folds of `faq/`.
pub const PRIOR: Calibration = Calibration {
    weights: [0.33, 4.24, -1.63, 2.28, 1.95, 0.32, 0.0, 0.87],
    bias: -3.93,
    questions: 0,
    found: 0,
    left_out: 0,
};

/// A candidate's evidence: its raw confidence, its lead over the best other candidate
/// (negative when another is ahead), its lexical and model evidence, and its semantic
/// score (0 without `[embeddings]`).
#[derive(Debug, Clone, Copy)]
pub struct Evidence {
    pub raw: f32,
    pub lead: f32,
    pub lexical: f32,
    pub model: f32,
    pub semantic: f32,
}

/// The evidence of a candidate as the calibration reads it: [`Evidence`], then the
/// share of the message's words the folder knows, how long the message is
/// (`ln(1 + words)`), then the share of the message the candidate explains (its words,
/// weighted by rarity, that the entry itself uses).
pub fn features(e: Evidence, known: f32, words: usize, explained: f32) -> [f32; FEATURES] {
    [
        e.raw,
        e.lead,
        e.lexical,
        e.model,
        known,
        (1.0 + words as f32).ln(),
        e.semantic,
        explained,
    ]
}

/// A logistic map from [`features`] to the probability of being right.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Calibration {
    pub weights: [f32; FEATURES],
    pub bias: f32,
    /// Held-out questions of kept entries it was fitted on (0: the prior alone).
    pub questions: usize,
    /// How many of those ranked their own entry first.
    pub found: usize,
    /// Questions of left-out entries (out of scope) it was fitted on.
    pub left_out: usize,
}

/// One held-out question: the evidence of the entry ranked first, and whether it was
/// the right one.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub x: [f32; FEATURES],
    pub right: bool,
    /// The question's entry was left out of the fold: any answer is wrong.
    pub out_of_scope: bool,
}

impl Calibration {
    pub fn probability(&self, x: &[f32; FEATURES]) -> f32 {
        let z: f32 = self.bias + self.weights.iter().zip(x).map(|(w, v)| w * v).sum::<f32>();
        1.0 / (1.0 + (-z).exp())
    }

    /// Fit on `samples`, starting from and pulled towards `prior` (a few Newton steps
    /// of a ridge-penalised logistic regression: deterministic, and exact for so few
    /// parameters).
    pub fn fit(samples: &[Sample], prior: &Calibration) -> Calibration {
        const N: usize = FEATURES + 1;
        let prior_w: [f64; N] = std::array::from_fn(|i| {
            if i < FEATURES {
                f64::from(prior.weights[i])
            } else {
                f64::from(prior.bias)
            }
        });
        let mut w = prior_w;
        let row = |s: &Sample| -> [f64; N] {
            std::array::from_fn(|i| if i < FEATURES { f64::from(s.x[i]) } else { 1.0 })
        };
        for _ in 0..25 {
            let mut grad = [0.0_f64; N];
            let mut hess = [[0.0_f64; N]; N];
            for i in 0..N {
                grad[i] = RIDGE * (w[i] - prior_w[i]);
                hess[i][i] = RIDGE;
            }
            for s in samples {
                let x = row(s);
                let z: f64 = w.iter().zip(&x).map(|(a, b)| a * b).sum();
                let p = 1.0 / (1.0 + (-z).exp());
                let y = if s.right { 1.0 } else { 0.0 };
                for i in 0..N {
                    grad[i] += (p - y) * x[i];
                    for j in 0..N {
                        hess[i][j] += p * (1.0 - p) * x[i] * x[j];
                    }
                }
            }
            let Some(step) = solve(hess, grad) else { break };
            let mut size = 0.0;
            for i in 0..N {
                w[i] -= step[i];
                size += step[i].abs();
            }
            if size < 1e-6 {
                break;
            }
        }
        Calibration {
            weights: std::array::from_fn(|i| w[i] as f32),
            bias: w[FEATURES] as f32,
            questions: samples.iter().filter(|s| !s.out_of_scope).count(),
            found: samples.iter().filter(|s| s.right).count(),
            left_out: samples.iter().filter(|s| s.out_of_scope).count(),
        }
    }
}

/// Solve `a x = b` by Gaussian elimination with partial pivoting; None if singular.
fn solve<const N: usize>(mut a: [[f64; N]; N], mut b: [f64; N]) -> Option<[f64; N]> {
    for col in 0..N {
        let pivot = (col..N).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        let (top, rest) = a.split_at_mut(col + 1);
        let pivot_row = &top[col];
        for (r, row) in rest.iter_mut().enumerate() {
            let f = row[col] / pivot_row[col];
            for (x, p) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                *x -= f * p;
            }
            b[col + 1 + r] -= f * b[col];
        }
    }
    let mut x = [0.0; N];
    for r in (0..N).rev() {
        let s: f64 = (r + 1..N).map(|c| a[r][c] * x[c]).sum();
        x[r] = (b[r] - s) / a[r][r];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(raw: f32, right: bool) -> Sample {
        Sample {
            x: features(
                Evidence {
                    raw,
                    lead: raw / 2.0,
                    lexical: raw,
                    model: raw,
                    semantic: 0.0,
                },
                1.0,
                4,
                raw,
            ),
            right,
            out_of_scope: false,
        }
    }

    #[test]
    fn the_fit_follows_the_folder_and_falls_back_on_the_prior() {
        // Right answers above 0.5 raw, wrong ones below: the fitted map must rank them so
        // and say so with probabilities near the truth.
        let mut samples = Vec::new();
        for i in 0..200 {
            let raw = i as f32 / 200.0;
            samples.push(sample(raw, raw > 0.5));
        }
        let fitted = Calibration::fit(&samples, &PRIOR);
        assert_eq!(fitted.questions, 200);
        assert!(fitted.probability(&sample(0.9, true).x) > 0.9, "{fitted:?}");
        assert!(fitted.probability(&sample(0.1, true).x) < 0.1, "{fitted:?}");
        // No samples: the prior itself.
        let empty = Calibration::fit(&[], &PRIOR);
        for (a, b) in empty.weights.iter().zip(PRIOR.weights) {
            assert!((a - b).abs() < 1e-4);
        }
    }

    #[test]
    fn the_solver_solves() {
        let x = solve([[2.0, 1.0], [1.0, 3.0]], [3.0, 5.0]).unwrap();
        assert!(
            (x[0] - 0.8).abs() < 1e-9 && (x[1] - 1.4).abs() < 1e-9,
            "{x:?}"
        );
        assert!(solve([[1.0, 2.0], [2.0, 4.0]], [1.0, 2.0]).is_none());
    }
}
