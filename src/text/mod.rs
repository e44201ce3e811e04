//! Text normalisation shared by the FAQ index and the intent rules: case, accents,
//! chat abbreviations, and a small language guess for Italian and English.

pub mod personal;

use crate::domain::Lang;
use unicode_normalization::UnicodeNormalization;

/// Lowercase, strip accents (`perché` -> `perche`), drop control and zero-width
/// characters, collapse white space. Punctuation is kept: intent patterns may use it.
pub fn fold(text: &str) -> String {
    // ASCII decomposes to itself: skipping the decomposition is most of the cost.
    if text.is_ascii() {
        fold_chars(text.chars(), text.len())
    } else {
        fold_chars(text.nfd(), text.len())
    }
}

fn fold_chars(chars: impl Iterator<Item = char>, len: usize) -> String {
    let mut out = String::with_capacity(len);
    let mut space = false;
    for c in chars {
        if is_combining_mark(c) || is_invisible(c) {
            continue;
        }
        if c.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// `text` as one line an operator's terminal shows as it is: control characters
/// (escape sequences that could retitle, hide or fake lines), line breaks and the
/// direction overrides and isolates (which reorder what follows) are written out
/// (`\u{1b}`, `\n`, `\u{202e}`); the rest is kept, joiners of emoji and the marks of
/// right-to-left text too. What the store holds is unchanged; only the printing changes.
pub fn for_terminal(text: &str) -> std::borrow::Cow<'_, str> {
    let hidden =
        |c: char| c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if !text.chars().any(hidden) {
        return text.into();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if hidden(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out.into()
}

fn is_combining_mark(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036f}' | '\u{1ab0}'..='\u{1aff}' | '\u{20d0}'..='\u{20ff}')
}

fn is_invisible(c: char) -> bool {
    (c.is_control() && !c.is_whitespace())
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2064}' | '\u{feff}')
}

/// Chat shorthand customers type, expanded to the words the FAQ uses.
const SHORTHAND: &[(&str, &str)] = &[
    ("nn", "non"),
    ("xke", "perche"),
    ("xk", "perche"),
    ("xche", "perche"),
    ("perke", "perche"),
    ("ke", "che"),
    ("ki", "chi"),
    ("cmq", "comunque"),
    ("qnd", "quando"),
    ("qndo", "quando"),
    ("qnt", "quanto"),
    ("qnto", "quanto"),
    ("gg", "giorni"),
    ("dv", "dove"),
    ("qlc", "qualche"),
    ("qlcs", "qualcosa"),
    ("qlcn", "qualcuno"),
    ("nnt", "niente"),
    ("sn", "sono"),
    ("tt", "tutto"),
    ("grz", "grazie"),
    ("pk", "pacco"),
    ("x", "per"),
    ("u", "you"),
    ("ur", "your"),
    ("pls", "please"),
    ("plz", "please"),
    ("thx", "thanks"),
    ("asap", "soon"),
];

/// [`fold`], then chat shorthand expanded word by word.
pub fn normalise(text: &str) -> String {
    let folded = fold(text);
    let mut out = String::with_capacity(folded.len() + 8);
    for (i, word) in folded.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let (core, tail) = split_trailing_punct(word);
        match SHORTHAND.iter().find(|(short, _)| *short == core) {
            Some((_, long)) => {
                out.push_str(long);
                out.push_str(tail);
            }
            None => out.push_str(word),
        }
    }
    out
}

fn split_trailing_punct(word: &str) -> (&str, &str) {
    let end = word
        .char_indices()
        .rev()
        .take_while(|(_, c)| !c.is_alphanumeric())
        .last()
        .map_or(word.len(), |(i, _)| i);
    word.split_at(end)
}

/// Words of a folded text: runs of letters and digits.
pub fn words(folded: &str) -> impl Iterator<Item = &str> {
    folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
}

const IT_MARKERS: &[&str] = &[
    "il",
    "lo",
    "la",
    "gli",
    "le",
    "di",
    "da",
    "che",
    "non",
    "per",
    "con",
    "sono",
    "mio",
    "mia",
    "come",
    "quando",
    "dove",
    "perche",
    "ciao",
    "grazie",
    "vorrei",
    "posso",
    "ho",
    "e",
    "un",
    "una",
    "del",
    "della",
    "ordine",
    "pacco",
    "buongiorno",
    "salve",
    "quanto",
    "si",
    "mi",
    // Articles joined to prepositions, verbs and pronouns of a customer's question
    // ("avete le capsule al ginseng?"): a message of shop words (often the same in
    // English: capsule, bonus, tablet) is told by these.
    "al",
    "ai",
    "alla",
    "alle",
    "allo",
    "agli",
    "dal",
    "dalla",
    "dalle",
    "dai",
    "dei",
    "delle",
    "degli",
    "nel",
    "nella",
    "nelle",
    "nei",
    "sul",
    "sulla",
    "sui",
    "avete",
    "ha",
    "hanno",
    "fate",
    "siete",
    "questo",
    "questa",
    "anche",
    "ma",
    "piu",
    "gia",
    "cosa",
    "quale",
    "quali",
    "ancora",
    "vostro",
    "vostra",
    "vostri",
    "vostre",
    "voglio",
    "ogni",
    "ci",
    "ne",
    "io",
    "qui",
    "oggi",
    "ieri",
    "senza",
    "tutto",
    "tutti",
    "arrivato",
    "arrivata",
];
const EN_MARKERS: &[&str] = &[
    "the", "an", "is", "are", "my", "you", "to", "of", "and", "how", "what", "when", "where",
    "why", "can", "do", "does", "hi", "hello", "thanks", "thank", "please", "order", "want",
    "would", "it", "have", "your", "me", "there", "we", "our", "us", "not", "sorry", "for", "with",
    "this", "that", "will", "them", "if", "be", "was", "were", "get", "got", "any", "from",
    "which", "who", "about", "need", "did", "has", "they", "their", "been", "just", "could",
    "should", "am", "at", "or", "by", "still", "here", "much", "im", "yet",
];

/// What one reading of a message says about its language: the guess and how many words
/// it saw (the conversation settles its language from both).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LangGuess {
    /// `None` when the evidence is too thin (fewer than two marker words, or a tie).
    pub lang: Option<Lang>,
    pub words: usize,
}

/// Fold the message once and read both the language evidence and the word count.
pub fn read_lang(text: &str) -> LangGuess {
    let folded = fold(text);
    let (mut it, mut en, mut words_seen) = (0usize, 0usize, 0usize);
    for w in words(&folded) {
        words_seen += 1;
        it += usize::from(IT_MARKERS.contains(&w));
        en += usize::from(EN_MARKERS.contains(&w));
    }
    if text.chars().any(|c| "àèéìòù".contains(c)) {
        it += 1;
    }
    let lang = match (it, en) {
        (i, e) if i >= 2 && i > e => Some(Lang::It),
        (i, e) if e >= 2 && e > i => Some(Lang::En),
        (1, 0) if words_seen <= 2 => Some(Lang::It),
        (0, 1) if words_seen <= 2 => Some(Lang::En),
        _ => None,
    };
    LangGuess {
        lang,
        words: words_seen,
    }
}

/// Guess the language of a message. `None` when the evidence is too thin (fewer than
/// two marker words, or a tie): the caller keeps the conversation's language then.
pub fn guess_lang(text: &str) -> Option<Lang> {
    read_lang(text).lang
}

/// Whether `text` holds a letter at all: «5», «?», an emoji or a choice's number ask
/// nothing an editor or an operator could read as a question.
pub fn has_letters(text: &str) -> bool {
    text.chars().any(char::is_alphabetic)
}

pub fn word_count(text: &str) -> usize {
    words(&fold(text)).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_terminal_sees_escape_codes_and_line_breaks_written_out() {
        let attack =
            "ciao\u{1b}]0;PWNED\u{7}\u{1b}[8m nascosto\r\n[05-01] operator anna: ok\u{202e}";
        let shown = for_terminal(attack);
        assert!(!shown.chars().any(|c| c.is_control()), "{shown}");
        assert_eq!(
            shown,
            "ciao\\u{1b}]0;PWNED\\u{7}\\u{1b}[8m nascosto\\r\\n[05-01] operator anna: ok\\u{202e}"
        );
        let plain = "perché? «sì» 👍 👩\u{200d}💻 \u{200f}שלום";
        assert!(matches!(for_terminal(plain), std::borrow::Cow::Borrowed(p) if p == plain));
    }

    #[test]
    fn ascii_text_folds_as_the_unicode_path_folds_it() {
        for c in (0u8..128).map(char::from) {
            let text = format!(" Ab{c}{c}C d\t{c}E ");
            let decomposed = fold_chars(text.nfd(), text.len());
            assert_eq!(fold(&text), decomposed, "char {:?}", c);
        }
    }

    #[test]
    fn folding_removes_accents_case_and_invisible_characters() {
        assert_eq!(
            fold("  Perché   NON\u{200b} è arrivato?"),
            "perche non e arrivato?"
        );
    }

    #[test]
    fn shorthand_is_expanded_word_by_word() {
        assert_eq!(normalise("nn è arrivato, xké?"), "non e arrivato, perche?");
        assert_eq!(
            normalise("qnt costa? dv lo trovo? grz"),
            "quanto costa? dove lo trovo? grazie"
        );
        assert_eq!(normalise("annunci"), "annunci");
    }

    #[test]
    fn language_is_guessed_only_with_evidence() {
        assert_eq!(guess_lang("quanto costa la spedizione?"), Some(Lang::It));
        assert_eq!(guess_lang("how much is the shipping?"), Some(Lang::En));
        assert_eq!(guess_lang("ok"), None);
        assert_eq!(guess_lang("ciao"), Some(Lang::It));
        assert_eq!(guess_lang("the il"), None);
        // Shop words that are English too, told by the Italian around them.
        assert_eq!(guess_lang("avete le capsule al ginseng?"), Some(Lang::It));
        // "all'", "on line" are Italian customers' too: no English evidence.
        assert_eq!(guess_lang("spedite all'estero?"), None);
        assert_eq!(guess_lang("pagamento on line?"), None);
        assert_eq!(guess_lang("capsule decaffeinate disponibili?"), None);
        assert_eq!(guess_lang("do you have ginseng capsules?"), Some(Lang::En));
        assert_eq!(guess_lang("is it still on sale?"), Some(Lang::En));
    }

    #[test]
    fn one_reading_counts_the_words_the_language_guess_saw() {
        for text in [
            "",
            "ok",
            "ciao",
            "how much is the shipping?",
            "nn è arrivato, xké?",
            "Ordine #12345 — dov'è?",
            "\u{200b}hello\u{200b} there",
        ] {
            let read = read_lang(text);
            assert_eq!(read.lang, guess_lang(text), "{text:?}");
            assert_eq!(read.words, word_count(text), "{text:?}");
        }
        assert_eq!(
            read_lang("  Perché   il mio PACCO non è arrivato?? "),
            LangGuess {
                lang: Some(Lang::It),
                words: 7
            }
        );
    }
}
