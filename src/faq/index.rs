//! The FAQ index: one tantivy index in RAM per language, one document per question
//! variant. A search returns entries ranked by their best variant, each with a
//! confidence in [0, 1]: the variant's BM25 score divided by the score the query would
//! get against a copy of itself (the most it could get), so that a short and a long
//! message, a small and a large FAQ, speak the same scale.

use super::analyzer::{analyzer, terms};
use super::vocabulary::Vocabulary;
use super::{Entry, FaqSet};
use crate::domain::Lang;
use std::collections::HashMap;
use tantivy::collector::TopDocs;
use tantivy::columnar::Column;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{FAST, Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{Index, IndexWriter, Searcher, TantivyDocument, Term};

const K1: f32 = 1.2;
const B: f32 = 0.75;
/// Variants fetched from tantivy before grouping them by entry.
const FETCH: usize = 64;

/// One entry found for a query.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// Index into [`FaqIndex::entries`].
    pub entry: usize,
    /// The question variant that matched best.
    pub variant: String,
    pub confidence: f32,
}

/// Weight of a match against an entry's answer text, next to its questions: the
/// answer's words are evidence too ("SDI", "Klarna"), but weaker than a question's.
const ANSWER_WEIGHT: f32 = 0.5;

/// A tantivy index of short documents, each belonging to an entry.
struct DocIndex {
    searcher: Searcher,
    field: Field,
    columns: Vec<Column<u64>>,
    /// For each document: (entry index, variant index within the entry).
    docs: Vec<(usize, usize)>,
    avg_len: f32,
}

struct LangIndex {
    analyzer: TextAnalyzer,
    vocabulary: Vocabulary,
    questions: DocIndex,
    answers: DocIndex,
}

/// The served (non-draft) entries and their search index.
pub struct FaqIndex {
    entries: Vec<Entry>,
    langs: HashMap<Lang, LangIndex>,
}

impl FaqIndex {
    pub fn build(set: &FaqSet) -> tantivy::Result<Self> {
        let entries: Vec<Entry> = set.entries.iter().filter(|e| !e.draft).cloned().collect();
        let mut langs = HashMap::new();
        for lang in Lang::ALL {
            let of_lang = || entries.iter().enumerate().filter(|(_, e)| e.lang == lang);
            let questions = of_lang()
                .flat_map(|(ei, e)| {
                    e.questions
                        .iter()
                        .enumerate()
                        .map(move |(vi, q)| ((ei, vi), q.clone()))
                })
                .collect();
            let answers = of_lang()
                .map(|(ei, e)| ((ei, 0), format!("{} {}", e.tags.join(" "), e.answer)))
                .collect();
            let (questions, q_terms) = DocIndex::build(questions, lang)?;
            let (answers, a_terms) = DocIndex::build(answers, lang)?;
            let vocabulary = Vocabulary::new(q_terms.into_iter().chain(a_terms));
            let index = LangIndex {
                analyzer: analyzer(lang),
                vocabulary,
                questions,
                answers,
            };
            langs.insert(lang, index);
        }
        Ok(Self { entries, langs })
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
            terms(&mut index.analyzer.clone(), text)
                .iter()
                .filter(|t| index.vocabulary.knows(t))
                .count()
        })
    }

    /// Entries of `lang` ranked for `text` (already normalised), best first, at most `limit`.
    pub fn search(&self, text: &str, lang: Lang, limit: usize) -> Vec<Hit> {
        let Some(index) = self.langs.get(&lang) else {
            return Vec::new();
        };
        let terms: Vec<String> = terms(&mut index.analyzer.clone(), text)
            .into_iter()
            .map(|t| index.vocabulary.correct(t))
            .collect();
        let mut hits: Vec<Hit> = index
            .questions
            .search(&terms)
            .into_iter()
            .map(|(ei, vi, c)| Hit {
                entry: ei,
                variant: self.entries[ei].questions[vi].clone(),
                confidence: c,
            })
            .collect();
        for (ei, _, c) in index.answers.search(&terms) {
            let c = ANSWER_WEIGHT * c;
            match hits.iter_mut().find(|h| h.entry == ei) {
                Some(h) => h.confidence = 1.0 - (1.0 - h.confidence) * (1.0 - c),
                None => hits.push(Hit {
                    entry: ei,
                    variant: String::new(),
                    confidence: c,
                }),
            }
        }
        hits.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        hits.truncate(limit);
        hits
    }
}

impl DocIndex {
    /// Index `docs`; also returns every term indexed, for the vocabulary.
    fn build(
        docs: Vec<((usize, usize), String)>,
        lang: Lang,
    ) -> tantivy::Result<(Self, Vec<String>)> {
        let mut schema = Schema::builder();
        let indexing = TextFieldIndexing::default()
            .set_tokenizer("faq")
            .set_index_option(IndexRecordOption::WithFreqs);
        let field = schema.add_text_field(
            "question",
            TextOptions::default().set_indexing_options(indexing),
        );
        let doc_field = schema.add_u64_field("doc", FAST);
        let index = Index::create_in_ram(schema.build());
        index.tokenizers().register("faq", analyzer(lang));
        let mut writer: IndexWriter = index.writer_with_num_threads(1, 15_000_000)?;
        let mut analyzer = analyzer(lang);
        let mut all_terms = Vec::new();
        for (n, (_, text)) in docs.iter().enumerate() {
            let text = crate::text::normalise(text);
            all_terms.extend(terms(&mut analyzer, &text));
            let mut doc = TantivyDocument::default();
            doc.add_text(field, &text);
            doc.add_u64(doc_field, n as u64);
            writer.add_document(doc)?;
        }
        let docs: Vec<(usize, usize)> = docs.into_iter().map(|(at, _)| at).collect();
        writer.commit()?;
        let searcher = index.reader()?.searcher();
        let columns = searcher
            .segment_readers()
            .iter()
            .map(|s| s.fast_fields().u64("doc"))
            .collect::<tantivy::Result<_>>()?;
        let avg_len = all_terms.len() as f32 / docs.len().max(1) as f32;
        Ok((
            Self {
                searcher,
                field,
                columns,
                docs,
                avg_len: avg_len.max(1.0),
            },
            all_terms,
        ))
    }

    /// (entry, document within the entry, confidence) for the best document of each
    /// entry that shares a term with `text`, best first.
    fn search(&self, terms: &[String]) -> Vec<(usize, usize, f32)> {
        let mut counts: Vec<(&str, u32)> = Vec::new();
        for t in terms {
            match counts.iter_mut().find(|(s, _)| s == t) {
                Some((_, n)) => *n += 1,
                None => counts.push((t, 1)),
            }
        }
        if counts.is_empty() || self.docs.is_empty() {
            return Vec::new();
        }
        let ceiling = self.self_score(&counts);
        let clauses: Vec<(Occur, Box<dyn Query>)> = counts
            .iter()
            .map(|(t, _)| {
                let term = Term::from_field_text(self.field, t);
                (
                    Occur::Should,
                    Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs)) as Box<dyn Query>,
                )
            })
            .collect();
        let top = self
            .searcher
            .search(
                &BooleanQuery::new(clauses),
                &TopDocs::with_limit(FETCH).order_by_score(),
            )
            .unwrap_or_default();
        let mut hits: Vec<(usize, usize, f32)> = Vec::new();
        for (score, addr) in top {
            let Some(doc) = self.columns[addr.segment_ord as usize].first(addr.doc_id) else {
                continue;
            };
            let (entry, variant) = self.docs[doc as usize];
            if !hits.iter().any(|h| h.0 == entry) {
                hits.push((entry, variant, (score / ceiling).clamp(0.0, 1.0)));
            }
        }
        hits
    }

    /// BM25 of the query against a document equal to the query: the ceiling a match
    /// can reach. Terms the index has never seen count with the highest idf, so words
    /// the FAQ does not know lower the confidence.
    fn self_score(&self, counts: &[(&str, u32)]) -> f32 {
        let n = self.searcher.num_docs() as f32;
        let len: u32 = counts.iter().map(|(_, c)| c).sum();
        let norm = K1 * (1.0 - B + B * len as f32 / self.avg_len);
        counts
            .iter()
            .map(|(t, c)| {
                let df = self
                    .searcher
                    .doc_freq(&Term::from_field_text(self.field, t))
                    .unwrap_or(0) as f32;
                let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
                let tf = *c as f32;
                idf * (K1 + 1.0) * tf / (tf + norm)
            })
            .sum()
    }
}
