//! The FAQ index: one tantivy index in RAM per language, one document per question
//! variant. A search returns entries ranked by their best variant, each with a
//! confidence in [0, 1]: the variant's BM25 score divided by the score the query would
//! get against a copy of itself (the most it could get), so that a short and a long
//! message, a small and a large FAQ, speak the same scale.

use super::analyzer::{analyzer, terms};
use super::{Entry, FaqSet};
use crate::domain::Lang;
use std::collections::HashMap;
use tantivy::collector::TopDocs;
use tantivy::columnar::Column;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, FAST, IndexRecordOption, Schema, TextFieldIndexing, TextOptions};
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

struct LangIndex {
    searcher: Searcher,
    field: Field,
    columns: Vec<Column<u64>>,
    analyzer: TextAnalyzer,
    /// For each document: (entry index, variant index within the entry).
    variants: Vec<(usize, usize)>,
    avg_len: f32,
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
            langs.insert(lang, LangIndex::build(&entries, lang)?);
        }
        Ok(Self { entries, langs })
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    pub fn entry(&self, id: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.id == id)
    }

    /// Entries of `lang` ranked for `text` (already normalised), best first, at most `limit`.
    pub fn search(&self, text: &str, lang: Lang, limit: usize) -> Vec<Hit> {
        self.langs
            .get(&lang)
            .map(|li| li.search(&self.entries, text, limit))
            .unwrap_or_default()
    }
}

impl LangIndex {
    fn build(entries: &[Entry], lang: Lang) -> tantivy::Result<Self> {
        let mut schema = Schema::builder();
        let indexing = TextFieldIndexing::default()
            .set_tokenizer("faq")
            .set_index_option(IndexRecordOption::WithFreqs);
        let field = schema.add_text_field("question", TextOptions::default().set_indexing_options(indexing));
        let doc_field = schema.add_u64_field("doc", FAST);
        let index = Index::create_in_ram(schema.build());
        index.tokenizers().register("faq", analyzer(lang));
        let mut writer: IndexWriter = index.writer_with_num_threads(1, 15_000_000)?;
        let mut variants = Vec::new();
        let mut analyzer = analyzer(lang);
        let mut total_len = 0usize;
        for (ei, entry) in entries.iter().enumerate().filter(|(_, e)| e.lang == lang) {
            for (vi, question) in entry.questions.iter().enumerate() {
                let text = crate::text::normalise(question);
                total_len += terms(&mut analyzer, &text).len();
                let mut doc = TantivyDocument::default();
                doc.add_text(field, &text);
                doc.add_u64(doc_field, variants.len() as u64);
                writer.add_document(doc)?;
                variants.push((ei, vi));
            }
        }
        writer.commit()?;
        let searcher = index.reader()?.searcher();
        let columns = searcher
            .segment_readers()
            .iter()
            .map(|s| s.fast_fields().u64("doc"))
            .collect::<tantivy::Result<_>>()?;
        let avg_len = total_len as f32 / variants.len().max(1) as f32;
        Ok(Self { searcher, field, columns, analyzer, variants, avg_len: avg_len.max(1.0) })
    }

    fn search(&self, entries: &[Entry], text: &str, limit: usize) -> Vec<Hit> {
        let mut counts: Vec<(String, u32)> = Vec::new();
        for t in terms(&mut self.analyzer.clone(), text) {
            match counts.iter_mut().find(|(s, _)| *s == t) {
                Some((_, n)) => *n += 1,
                None => counts.push((t, 1)),
            }
        }
        if counts.is_empty() || self.variants.is_empty() {
            return Vec::new();
        }
        let ceiling = self.self_score(&counts);
        let clauses: Vec<(Occur, Box<dyn Query>)> = counts
            .iter()
            .map(|(t, _)| {
                let term = Term::from_field_text(self.field, t);
                (Occur::Should, Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs)) as Box<dyn Query>)
            })
            .collect();
        let top = self
            .searcher
            .search(&BooleanQuery::new(clauses), &TopDocs::with_limit(FETCH).order_by_score())
            .unwrap_or_default();
        let mut hits: Vec<Hit> = Vec::new();
        for (score, addr) in top {
            let Some(doc) = self.columns[addr.segment_ord as usize].first(addr.doc_id) else { continue };
            let (entry, variant) = self.variants[doc as usize];
            if hits.iter().any(|h| h.entry == entry) || hits.len() >= limit {
                continue;
            }
            hits.push(Hit {
                entry,
                variant: entries[entry].questions[variant].clone(),
                confidence: (score / ceiling).clamp(0.0, 1.0),
            });
        }
        hits
    }

    /// BM25 of the query against a document equal to the query: the ceiling a match
    /// can reach. Terms the index has never seen count with the highest idf, so words
    /// the FAQ does not know lower the confidence.
    fn self_score(&self, counts: &[(String, u32)]) -> f32 {
        let n = self.searcher.num_docs() as f32;
        let len: u32 = counts.iter().map(|(_, c)| c).sum();
        let norm = K1 * (1.0 - B + B * len as f32 / self.avg_len);
        counts
            .iter()
            .map(|(t, c)| {
                let df = self.searcher.doc_freq(&Term::from_field_text(self.field, t)).unwrap_or(0) as f32;
                let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
                let tf = *c as f32;
                idf * (K1 + 1.0) * tf / (tf + norm)
            })
            .sum()
    }
}
