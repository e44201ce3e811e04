//! A tantivy index in RAM of short documents (an FAQ's question variants, or its
//! answers), each belonging to an entry, searched with BM25 over analysed terms and
//! scored against the query's own ceiling.

use crate::domain::Lang;
use crate::faq::analyzer::analyzer;
use tantivy::collector::TopDocs;
use tantivy::columnar::Column;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{FAST, Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions};
use tantivy::{Index, IndexWriter, Searcher, TantivyDocument, Term};

const K1: f32 = 1.2;
const B: f32 = 0.75;
/// Documents fetched from tantivy before grouping them by entry.
const FETCH: usize = 64;

/// A document to index: its entry, its variant within the entry, its text.
pub(super) struct Doc {
    pub(super) entry: usize,
    pub(super) variant: usize,
    pub(super) text: String,
    pub(super) terms: Vec<String>,
}

/// A tantivy index of short documents, each belonging to an entry.
pub(super) struct DocIndex {
    searcher: Searcher,
    field: Field,
    columns: Vec<Column<u64>>,
    docs: Vec<(usize, usize)>,
    avg_len: f32,
}

impl DocIndex {
    pub(super) fn build(docs: &[Doc], lang: Lang) -> tantivy::Result<Self> {
        let mut schema = Schema::builder();
        let indexing = TextFieldIndexing::default()
            .set_tokenizer("faq")
            .set_index_option(IndexRecordOption::WithFreqs);
        let field = schema.add_text_field(
            "text",
            TextOptions::default().set_indexing_options(indexing),
        );
        let doc_field = schema.add_u64_field("doc", FAST);
        let index = Index::create_in_ram(schema.build());
        index.tokenizers().register("faq", analyzer(lang));
        let mut writer: IndexWriter = index.writer_with_num_threads(1, 15_000_000)?;
        for (n, d) in docs.iter().enumerate() {
            let mut doc = TantivyDocument::default();
            doc.add_text(field, &d.text);
            doc.add_u64(doc_field, n as u64);
            writer.add_document(doc)?;
        }
        writer.commit()?;
        let searcher = index.reader()?.searcher();
        let columns = searcher
            .segment_readers()
            .iter()
            .map(|s| s.fast_fields().u64("doc"))
            .collect::<tantivy::Result<_>>()?;
        let total: usize = docs.iter().map(|d| d.terms.len()).sum();
        let avg_len = (total as f32 / docs.len().max(1) as f32).max(1.0);
        let docs = docs.iter().map(|d| (d.entry, d.variant)).collect();
        Ok(Self {
            searcher,
            field,
            columns,
            docs,
            avg_len,
        })
    }

    /// (entry, document within the entry, confidence) for the best document of each
    /// entry that shares a term with the query, best first.
    pub(super) fn search(&self, terms: &[String]) -> Vec<(usize, usize, f32)> {
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
                let query: Box<dyn Query> =
                    Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs));
                (Occur::Should, query)
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
