//! The tantivy analyser of each language: words, lowercase, accents folded (so `perche`
//! finds `perché`), stop words removed, Snowball stemming. Queries and questions go
//! through the same one.

use crate::domain::Lang;
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
    StopWordFilter, TextAnalyzer, TokenStream,
};

/// Function words that carry no topic. Question words (quando, quanto, how, when...)
/// are kept on purpose: "quanto costa" and "quando arriva" are different questions.
const IT_STOP: &[&str] = &[
    "a",
    "ad",
    "al",
    "allo",
    "ai",
    "agli",
    "all",
    "alla",
    "alle",
    "c",
    "ci",
    "col",
    "con",
    "d",
    "da",
    "dal",
    "dall",
    "dalla",
    "dalle",
    "dai",
    "dagli",
    "de",
    "del",
    "dell",
    "della",
    "delle",
    "dei",
    "degli",
    "di",
    "e",
    "ed",
    "gli",
    "i",
    "il",
    "in",
    "l",
    "la",
    "le",
    "lo",
    "ma",
    "me",
    "mi",
    "n",
    "ne",
    "nel",
    "nell",
    "nella",
    "nelle",
    "nei",
    "negli",
    "o",
    "od",
    "per",
    "sul",
    "sull",
    "sulla",
    "sulle",
    "sui",
    "sugli",
    "su",
    "ti",
    "tu",
    "un",
    "una",
    "uno",
    "vi",
    "voi",
    "noi",
    "io",
    "lei",
    "lui",
    "si",
    "se",
    "ho",
    "hai",
    "ha",
    "abbiamo",
    "avete",
    "hanno",
    "sono",
    "sei",
    "siamo",
    "siete",
    "mio",
    "mia",
    "miei",
    "mie",
    "tuo",
    "tua",
    "vostro",
    "vostra",
    "suo",
    "sua",
    "che",
    "chi",
    "cui",
    "anche",
    "gia",
    "ancora",
    "poi",
    "piu",
    "molto",
    "ciao",
    "salve",
    "buongiorno",
    "buonasera",
    "grazie",
    "gentile",
    "gentilmente",
    "cortesemente",
    "scusate",
    "scusa",
    "vorrei",
    "volevo",
    "sapere",
    "chiedere",
    "chiedo",
    "domanda",
    "info",
    "informazioni",
    "per",
    "favore",
    "questo",
    "questa",
    "quello",
    "quella",
    "essere",
    "avere",
    "fare",
    "faccio",
    "fate",
    "potete",
    "potreste",
    "puoi",
    "posso",
    "devo",
    "bisogna",
    "ok",
    "allora",
    "quindi",
    "pero",
    "oppure",
    "comunque",
    "tipo",
    "cosa",
    "qualcosa",
    "mai",
];
const EN_STOP: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
    "its", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these", "they",
    "this", "to", "was", "were", "with", "i", "im", "me", "my", "we", "our", "us", "you", "your",
    "do", "does", "did", "am", "been", "have", "has", "had", "would", "could", "should", "can",
    "will", "hi", "hello", "hey", "please", "thanks", "thank", "just", "so", "some", "any", "want",
    "wanted", "know", "like", "need", "about", "also", "there", "here", "ok", "okay", "s", "t",
    "d", "ll", "m", "re", "ve", "what", "which",
];

pub fn analyzer(lang: Lang) -> TextAnalyzer {
    let (stop, stem) = match lang {
        Lang::It => (IT_STOP, Language::Italian),
        Lang::En => (EN_STOP, Language::English),
    };
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(StopWordFilter::remove(stop.iter().map(|w| (*w).to_owned())))
        .filter(Stemmer::new(stem))
        .build()
}

/// The analysed terms of a text, in order (duplicates kept).
pub fn terms(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while stream.advance() {
        out.push(stream.token().text.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accents_do_not_matter_and_words_are_stemmed() {
        let mut it = analyzer(Lang::It);
        assert_eq!(terms(&mut it, "perché"), terms(&mut it, "perche"));
        assert_eq!(terms(&mut it, "spedizioni"), terms(&mut it, "spedizione"));
        assert!(terms(&mut it, "il della per").is_empty());
        let mut en = analyzer(Lang::En);
        assert_eq!(terms(&mut en, "returns"), terms(&mut en, "returning"));
    }
}
