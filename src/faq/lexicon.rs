//! Customers' words for what the FAQ says in other words ("soldi" for "rimborso",
//! "postage" for "delivery"): groups of general online-shop language per language, in
//! `lexicon/it.txt` and `lexicon/en.txt`, the group's usual word first. A message's word
//! that the folder never uses is read as the members of its group that the folder does
//! use; a word the folder knows is left alone, so a shop's own wording always wins. No
//! word is in two groups, and no member loses a word to the analyser (both tested).
//! Reading only the group's first known member was tried: on the development shops
//! top-1 fell from 81.8% to 80.8% at the same precision.
//!
//! A shop adds its own groups in `faq/it/lexicon.txt` or `faq/en/lexicon.txt`, same
//! format ("lettiera, sabbietta"): they come after the built-in ones and win over them.

use super::analyzer::{analyzer, terms};
use super::vocabulary::Vocabulary;
use crate::diagnostics::Diagnostic;
use crate::domain::Lang;
use std::collections::HashMap;
use std::path::Path;
use tantivy::tokenizer::TextAnalyzer;

const IT: &str = include_str!("lexicon/it.txt");
const EN: &str = include_str!("lexicon/en.txt");

/// For one folder and language: each analysed word the folder does not use, and the
/// analysed words it stands for that the folder does use.
#[derive(Default)]
pub(super) struct Lexicon {
    stands_for: HashMap<String, Vec<String>>,
}

impl Lexicon {
    /// The groups of `lang`, built-in then the shop's own (`shop`: the text of its
    /// `lexicon.txt`, empty without one), as this folder reads them (`vocabulary`: the
    /// folder's words).
    pub(super) fn new(
        lang: Lang,
        analyzer: &mut TextAnalyzer,
        vocabulary: &Vocabulary,
        shop: &str,
    ) -> Self {
        let built_in = match lang {
            Lang::It => IT,
            Lang::En => EN,
        };
        let mut all = groups(built_in, analyzer);
        all.extend(groups(shop, analyzer));
        let mut stands_for: HashMap<String, Vec<String>> = HashMap::new();
        for members in all {
            // What the folder says for this group: its members whose words it all uses.
            let mut known: Vec<String> = Vec::new();
            let members_known = members
                .iter()
                .filter(|m| m.iter().all(|t| vocabulary.knows(t)));
            for word in members_known.flatten() {
                if !known.contains(word) {
                    known.push(word.clone());
                }
            }
            if known.is_empty() {
                continue;
            }
            // One-word members the folder never uses stand for it.
            for m in &members {
                if let [word] = m.as_slice()
                    && !vocabulary.knows(word)
                {
                    stands_for.insert(word.clone(), known.clone());
                }
            }
        }
        Self { stands_for }
    }

    /// The folder's words for `term`, if it is a customer's word the folder never uses.
    pub(super) fn read(&self, term: &str) -> Option<&[String]> {
        self.stands_for.get(term).map(Vec::as_slice)
    }
}

/// What is wrong with a shop's `lexicon.txt` (warnings: the rest of it still works): a
/// line of one word, a word made only of words the analyser drops.
pub fn check(path: &Path, lang: Lang, text: &str) -> Vec<Diagnostic> {
    let mut analyzer = analyzer(lang);
    let mut found = Vec::new();
    for (n, line) in group_lines(text) {
        let members: Vec<&str> = line
            .split(',')
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .collect();
        if members.len() < 2 {
            found.push(
                Diagnostic::warning(path, n, "a group of one word reads nothing")
                    .hint("write the words that mean the same on one line, comma-separated: lettiera, sabbietta"),
            );
        }
        for m in members {
            if terms(&mut analyzer, &crate::text::normalise(m)).is_empty() {
                found.push(
                    Diagnostic::warning(
                        path,
                        n,
                        format!("`{m}` is only words the matching ignores"),
                    )
                    .hint("use a word that says what the customer means"),
                );
            }
        }
    }
    found
}

/// The lines of a lexicon file that are groups (not comments, not blank), each with its
/// line number (from 1).
fn group_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let lines = text.lines().enumerate().map(|(n, l)| (n + 1, l));
    lines.filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty())
}

/// The groups of a lexicon file, each member analysed.
fn groups(text: &str, analyzer: &mut TextAnalyzer) -> Vec<Vec<Vec<String>>> {
    group_lines(text)
        .map(|(_, line)| {
            line.split(',')
                .map(|m| terms(analyzer, &crate::text::normalise(m)))
                .filter(|t| !t.is_empty())
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_word_reads_as_the_folders_words_of_its_group() {
        let mut it = analyzer(Lang::It);
        let folder = terms(&mut it, "quando arriva il rimborso del reso");
        let vocabulary = Vocabulary::new(folder);
        let lexicon = Lexicon::new(Lang::It, &mut it, &vocabulary, "");
        let soldi = terms(&mut it, "soldi").remove(0);
        let rimborso = terms(&mut it, "rimborso").remove(0);
        assert_eq!(lexicon.read(&soldi), Some(std::slice::from_ref(&rimborso)));
        // The folder's own word stays itself; a word of no group has no reading.
        assert_eq!(lexicon.read(&rimborso), None);
        assert_eq!(lexicon.read(&terms(&mut it, "lampadario").remove(0)), None);
    }

    #[test]
    fn no_member_loses_a_word_and_no_word_is_in_two_groups() {
        for (lang, text) in [(Lang::It, IT), (Lang::En, EN)] {
            let mut analyzer = analyzer(lang);
            let mut seen: HashMap<String, usize> = HashMap::new();
            for (group, line) in group_lines(text) {
                for member in line.split(',') {
                    let analysed = terms(&mut analyzer, &crate::text::normalise(member));
                    let words = member
                        .split(|c: char| !c.is_alphanumeric())
                        .filter(|w| !w.is_empty())
                        .count();
                    assert_eq!(
                        analysed.len(),
                        words,
                        "{lang}: `{}` loses a word",
                        member.trim()
                    );
                    if let [word] = analysed.as_slice() {
                        let before = seen.insert(word.clone(), group);
                        assert!(
                            before.is_none_or(|g| g == group),
                            "{lang}: `{}` ({word}) is in two groups",
                            member.trim()
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn a_shops_own_group_reads_its_words_and_a_bad_line_is_reported() {
        let mut it = analyzer(Lang::It);
        let vocabulary = Vocabulary::new(terms(&mut it, "che lettiera scegliere"));
        let sabbietta = terms(&mut it, "sabbietta").remove(0);
        let lettiera = terms(&mut it, "lettiera");
        let without = Lexicon::new(Lang::It, &mut it, &vocabulary, "");
        assert_eq!(without.read(&sabbietta), None);
        let shop = "# our customers' words\nlettiera, sabbietta\n";
        let with = Lexicon::new(Lang::It, &mut it, &vocabulary, shop);
        assert_eq!(with.read(&sabbietta), Some(lettiera.as_slice()));
        assert!(check(Path::new("lexicon.txt"), Lang::It, shop).is_empty());
        let bad = check(Path::new("lexicon.txt"), Lang::It, "lettiera\nsabbia, il\n");
        let lines: Vec<usize> = bad.iter().map(|d| d.line).collect();
        assert_eq!(lines, [1, 2], "{bad:?}");
    }

    #[test]
    fn a_phrase_the_folder_uses_is_what_a_one_word_synonym_stands_for() {
        let mut en = analyzer(Lang::En);
        let vocabulary = Vocabulary::new(terms(&mut en, "do gift cards expire"));
        let lexicon = Lexicon::new(Lang::En, &mut en, &vocabulary, "");
        let giftcard = terms(&mut en, "giftcard").remove(0);
        assert_eq!(
            lexicon.read(&giftcard),
            Some(terms(&mut en, "gift card").as_slice())
        );
    }
}
