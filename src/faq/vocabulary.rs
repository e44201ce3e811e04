//! The analysed terms an index knows, to mend typos: a query term the FAQ has never
//! seen is replaced by the most frequent known term one edit away (two for long
//! words), so `rimborzo` finds `rimborso`.

use std::collections::HashMap;

pub struct Vocabulary {
    counts: HashMap<String, u32>,
}

/// Shorter terms are left alone: one edit changes them too much.
const MIN_LEN: usize = 4;
const TWO_EDITS_FROM: usize = 8;

impl Vocabulary {
    pub fn new(terms: impl IntoIterator<Item = String>) -> Self {
        let mut counts = HashMap::new();
        for t in terms {
            *counts.entry(t).or_insert(0) += 1;
        }
        Self { counts }
    }

    pub fn knows(&self, term: &str) -> bool {
        self.counts.contains_key(term)
    }

    /// `term` itself if known or short, else the closest known term, if one is close.
    pub fn correct(&self, term: String) -> String {
        let len = term.chars().count();
        if len < MIN_LEN || self.counts.contains_key(&term) {
            return term;
        }
        let max = if len >= TWO_EDITS_FROM { 2 } else { 1 };
        self.counts
            .iter()
            .filter(|(t, _)| t.chars().count().abs_diff(len) <= max)
            .filter_map(|(t, n)| {
                edit_distance(&term, t, max).map(|d| (d, std::cmp::Reverse(*n), t))
            })
            .min()
            .map_or(term, |(_, _, t)| t.clone())
    }
}

/// Optimal-string-alignment distance (insertions, deletions, substitutions and
/// swaps of neighbours), or `None` when it exceeds `max`.
fn edit_distance(a: &str, b: &str, max: usize) -> Option<usize> {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = d;
        }
    }
    let d = rows[a.len()][b.len()];
    (d <= max).then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typo_is_mended_to_the_closest_known_term() {
        let v = Vocabulary::new(["rimbors", "spedizion", "spedizion"].map(String::from));
        assert_eq!(v.correct("rimborz".into()), "rimbors");
        assert_eq!(v.correct("spedizon".into()), "spedizion");
        assert_eq!(v.correct("xyzw".into()), "xyzw");
        assert_eq!(v.correct("abc".into()), "abc");
    }

    #[test]
    fn swapped_letters_are_one_edit() {
        assert_eq!(edit_distance("spedzioni", "spediziono", 2), Some(2));
        assert_eq!(edit_distance("ab", "ba", 1), Some(1));
        assert_eq!(edit_distance("abcd", "wxyz", 2), None);
    }
}
