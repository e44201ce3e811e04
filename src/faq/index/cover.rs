//! How much of a message an entry explains: the share of the message's words, weighted
//! by how rare they are among the folder's entries, that the entry's own questions,
//! tags or answer use. A customer asking about a gift card that "gives an error" shares
//! "gift card" with the gift-card entry but not "error": the entry answers part of the
//! message, and the calibration learns (from left-out entries) how much that matters.

use std::collections::{HashMap, HashSet};

/// The analysed words of each entry of one language, and in how many entries each is.
pub(super) struct EntryWords {
    words: HashMap<usize, HashSet<String>>,
    entries_with: HashMap<String, u32>,
}

/// A message's distinct words with their weights, ready to be compared with entries.
pub(super) struct Weighed {
    words: Vec<(String, f32)>,
    total: f32,
}

impl EntryWords {
    /// From `(entry, analysed words)` pairs (an entry's questions, tags and answer).
    pub(super) fn new<'a>(docs: impl Iterator<Item = (usize, &'a [String])>) -> Self {
        let mut words: HashMap<usize, HashSet<String>> = HashMap::new();
        for (entry, terms) in docs {
            words
                .entry(entry)
                .or_default()
                .extend(terms.iter().cloned());
        }
        let mut entries_with: HashMap<String, u32> = HashMap::new();
        for set in words.values() {
            for w in set {
                *entries_with.entry(w.clone()).or_default() += 1;
            }
        }
        Self {
            words,
            entries_with,
        }
    }

    /// The message's distinct words, each weighted by its rarity among the entries (a
    /// word no entry uses weighs most).
    pub(super) fn weigh(&self, terms: &[String]) -> Weighed {
        let n = self.words.len() as f32;
        let mut words: Vec<(String, f32)> = Vec::with_capacity(terms.len());
        for t in terms {
            if words.iter().any(|(w, _)| w == t) {
                continue;
            }
            let with = self.entries_with.get(t).copied().unwrap_or(0) as f32;
            words.push((t.clone(), (1.0 + n / (with + 0.5)).ln()));
        }
        let total = words.iter().map(|(_, w)| w).sum();
        Weighed { words, total }
    }

    /// The share of the message's weight that `entry` uses (0 for an empty message).
    pub(super) fn explained(&self, entry: usize, message: &Weighed) -> f32 {
        let Some(set) = self.words.get(&entry) else {
            return 0.0;
        };
        if message.total <= 0.0 {
            return 0.0;
        }
        let found: f32 = message
            .words
            .iter()
            .filter(|(w, _)| set.contains(w))
            .map(|(_, weight)| weight)
            .sum();
        found / message.total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        text.split(' ').map(str::to_owned).collect()
    }

    #[test]
    fn an_entry_explains_the_words_it_uses_rare_ones_most() {
        let docs = [
            (0, words("buono regalo scadenza")),
            (1, words("reso giorni")),
            (2, words("rimborso giorni")),
        ];
        let index = EntryWords::new(docs.iter().map(|(e, w)| (*e, w.as_slice())));
        let all = index.weigh(&words("buono regalo"));
        assert!((index.explained(0, &all) - 1.0).abs() < 1e-6);
        assert_eq!(index.explained(1, &all), 0.0);
        // A word no entry knows is part of the message no entry explains.
        let part = index.weigh(&words("buono regalo errore"));
        let share = index.explained(0, &part);
        assert!(share > 0.3 && share < 0.9, "{share}");
        // "giorni" is in two entries: it explains less of a message than "reso".
        let reso = index.weigh(&words("reso giorni"));
        assert!(index.explained(1, &reso) > 0.99);
        assert!(index.explained(2, &reso) < 0.5);
        assert_eq!(index.explained(9, &reso), 0.0);
        assert_eq!(index.explained(0, &index.weigh(&[])), 0.0);
    }
}
