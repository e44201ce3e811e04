//! The analysed terms an index knows, to mend typos: a query term the FAQ has never
//! seen is replaced by the most frequent known term one edit away (two for long
//! words), so `rimborzo` finds `rimborso`.

use std::collections::HashMap;

pub struct Vocabulary {
    counts: HashMap<String, u32>,
    /// The known terms by length in chars (`by_len[n]`: the terms of n chars), for the
    /// search of a close one.
    by_len: Vec<Vec<Known>>,
}

/// A known term as the typo search reads it.
struct Known {
    term: String,
    chars: Box<[char]>,
    /// Which letters it has (hashed to 64 bits): one edit changes at most two bits, so
    /// a term whose set differs in more than `2 * max` bits is skipped unread.
    letters: u64,
    count: u32,
}

/// Shorter terms are left alone: one edit changes them too much.
const MIN_LEN: usize = 4;
const TWO_EDITS_FROM: usize = 8;

fn letters(chars: &[char]) -> u64 {
    chars.iter().fold(0, |m, &c| m | 1 << (c as u32 % 64))
}

impl Vocabulary {
    pub fn new(terms: impl IntoIterator<Item = String>) -> Self {
        let mut counts = HashMap::new();
        for t in terms {
            *counts.entry(t).or_insert(0) += 1;
        }
        let mut by_len: Vec<Vec<Known>> = Vec::new();
        for (term, &count) in &counts {
            let chars: Box<[char]> = term.chars().collect();
            if by_len.len() <= chars.len() {
                by_len.resize_with(chars.len() + 1, Vec::new);
            }
            by_len[chars.len()].push(Known {
                term: term.clone(),
                letters: letters(&chars),
                chars,
                count,
            });
        }
        Self { counts, by_len }
    }

    pub fn knows(&self, term: &str) -> bool {
        self.counts.contains_key(term)
    }

    /// `term` itself if known or short, else the closest known term, if one is close
    /// (ties: the more frequent, then the first in alphabetical order).
    pub fn correct(&self, term: String) -> String {
        let chars: Vec<char> = term.chars().collect();
        let len = chars.len();
        if len < MIN_LEN || self.counts.contains_key(&term) {
            return term;
        }
        let max = if len >= TWO_EDITS_FROM { 2 } else { 1 };
        let mask = letters(&chars);
        let mut rows = Rows::default();
        let lengths =
            len.saturating_sub(max)..=(len + max).min(self.by_len.len().saturating_sub(1));
        lengths
            .flat_map(|n| self.by_len.get(n).into_iter().flatten())
            .filter(|k| (k.letters ^ mask).count_ones() as usize <= 2 * max)
            .filter_map(|k| {
                rows.distance(&chars, &k.chars, max)
                    .map(|d| (d, std::cmp::Reverse(k.count), &k.term))
            })
            .min()
            .map_or(term, |(_, _, t)| t.clone())
    }
}

/// The three rows optimal string alignment needs, kept across the terms compared.
#[derive(Default)]
struct Rows {
    before: Vec<usize>,
    last: Vec<usize>,
    row: Vec<usize>,
}

impl Rows {
    /// Optimal-string-alignment distance (insertions, deletions, substitutions and
    /// swaps of neighbours) of `a` and `b`, or `None` when it exceeds `max` (the
    /// comparison stops at the first row whose every cell does).
    fn distance(&mut self, a: &[char], b: &[char], max: usize) -> Option<usize> {
        let width = b.len() + 1;
        for r in [&mut self.before, &mut self.last, &mut self.row] {
            r.clear();
            r.resize(width, 0);
        }
        for (j, cell) in self.last.iter_mut().enumerate() {
            *cell = j;
        }
        for i in 1..=a.len() {
            self.row[0] = i;
            let mut best = i;
            for j in 1..width {
                let cost = usize::from(a[i - 1] != b[j - 1]);
                let mut d = (self.last[j] + 1)
                    .min(self.row[j - 1] + 1)
                    .min(self.last[j - 1] + cost);
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    d = d.min(self.before[j - 2] + 1);
                }
                self.row[j] = d;
                best = best.min(d);
            }
            if best > max {
                return None;
            }
            std::mem::swap(&mut self.before, &mut self.last);
            std::mem::swap(&mut self.last, &mut self.row);
        }
        let d = self.last[b.len()];
        (d <= max).then_some(d)
    }
}

/// [`Rows::distance`] of two strings.
#[cfg(test)]
fn edit_distance(a: &str, b: &str, max: usize) -> Option<usize> {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    Rows::default().distance(&a, &b, max)
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

    /// The whole DP matrix, as the search was first written: the reference the
    /// pruned search (lengths, letter sets, three rows, early stop) must agree with.
    fn full_matrix(a: &str, b: &str) -> usize {
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
        rows[a.len()][b.len()]
    }

    /// The first search: every known term compared in full.
    fn brute_force(terms: &[&str], term: &str) -> String {
        let v = Vocabulary::new(terms.iter().map(|t| t.to_string()));
        let len = term.chars().count();
        if len < MIN_LEN || v.knows(term) {
            return term.to_owned();
        }
        let max = if len >= TWO_EDITS_FROM { 2 } else { 1 };
        v.counts
            .iter()
            .filter_map(|(t, n)| {
                let d = full_matrix(term, t);
                (d <= max).then_some((d, std::cmp::Reverse(*n), t))
            })
            .min()
            .map_or(term.to_owned(), |(_, _, t)| t.clone())
    }

    #[test]
    fn the_pruned_search_finds_what_comparing_every_term_finds() {
        let known = [
            "rimbors",
            "rimbors",
            "rimborsi",
            "spedizion",
            "spedizion",
            "spediz",
            "ordin",
            "ordinat",
            "pagament",
            "pagamenti",
            "resi",
            "reso",
            "consegn",
            "consegnat",
            "refund",
            "refunds",
            "shipping",
            "shipped",
            "delivery",
            "deliver",
            "città",
            "perché",
            "garanzi",
            "garanzia",
            "fattur",
            "fatturazion",
            "annull",
            "annullat",
        ];
        let queries = [
            "rimborz",
            "rimbosr",
            "rimborsii",
            "spedizon",
            "spedizoine",
            "ordni",
            "ordinta",
            "pagamnto",
            "pagamentii",
            "refnud",
            "shiping",
            "shippping",
            "delivry",
            "deliverry",
            "citta",
            "perche",
            "garanzzia",
            "fatturazone",
            "anullat",
            "xyzw",
            "zzzzzzzzzz",
            "consegant",
            "spedizionx",
            "abcdefgh",
        ];
        for q in queries {
            assert_eq!(
                Vocabulary::new(known.iter().map(|t| t.to_string())).correct(q.to_owned()),
                brute_force(&known, q),
                "query {q}"
            );
        }
        for (a, b) in [
            ("spedizoine", "spedizion"),
            ("perche", "perché"),
            ("ab", "ba"),
        ] {
            let max = 3;
            assert_eq!(
                edit_distance(a, b, max),
                Some(full_matrix(a, b)).filter(|&d| d <= max)
            );
        }
    }
}
