//! What identifies a customer in their own words, taken out before those words become
//! the shop's content (`faq gaps`, `faq drafts`, `faq suggest`): an FAQ file is
//! committed and shared, and `customer forget` cannot reach it.

use regex::Regex;
use std::sync::LazyLock;

fn pattern(source: &str) -> Regex {
    Regex::new(source).expect("a valid pattern")
}

static EMAIL: LazyLock<Regex> = LazyLock::new(|| pattern(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"));
/// A phone number: a + and seven digits or more, or nine digits or more with spaces,
/// dots or dashes (not a date's slashes, not a row of sizes "38 40 42 44").
static PHONE: LazyLock<Regex> =
    LazyLock::new(|| pattern(r"\+\d(?:[ .-]?\d){6,}|\b\d(?:[ .-]?\d){8,}\b"));
/// An order number as the capture rule reads it: 5 to 10 digits, or `PF-` and digits.
static ORDER: LazyLock<Regex> = LazyLock::new(|| pattern(r"(?i)\b(?:pf-?)?\d{5,10}\b"));
/// "sono Francesca", "mi chiamo Luigi Bianchi", "I'm Anna", "my name is John Smith":
/// an introduction with a capitalised name.
static INTRODUCTION: LazyLock<Regex> = LazyLock::new(|| {
    pattern(
        r"\b(?:[Ss]ono|[Mm]i chiamo|[Ii]'m|I am|[Mm]y name is|[Tt]his is|[Qq]ui è|[Qq]ui e')\s+\p{Lu}\p{Ll}+(?:\s+\p{Lu}\p{Ll}+)?",
    )
});
/// Punctuation left alone by what was taken out: ", ," or ", ." or a space before it.
static ORPHAN: LazyLock<Regex> = LazyLock::new(|| pattern(r"\s*([,;:])\s*([,.;:!?])"));
static SPACES: LazyLock<Regex> = LazyLock::new(|| pattern(r"\s{2,}"));
static SPACE_BEFORE: LazyLock<Regex> = LazyLock::new(|| pattern(r"\s+([,.;:!?])"));

/// `text` (an operator's reply) with order numbers, emails, phone numbers and the words
/// of `name` as `{order}`, `{email}`, `{phone}` and `{name}`: a draft answer is for
/// everyone (the editor fills in the shop's own address, if it was one).
pub fn placeholders(text: &str, name: Option<&str>) -> String {
    let text = ORDER.replace_all(text, "{order}");
    let text = EMAIL.replace_all(&text, "{email}");
    let text = PHONE.replace_all(&text, "{phone}");
    replace_name(&text, name, "{name}")
}

/// The names customers gave of themselves in `texts` ("sono Francesca Neri", "I'm
/// Anna"), each once, joined by spaces: with the channel's name, what `placeholders`
/// takes out of an operator's reply to them.
pub fn introduced<'a>(texts: impl IntoIterator<Item = &'a str>) -> String {
    let mut names: Vec<&str> = Vec::new();
    for text in texts {
        for found in INTRODUCTION.find_iter(text) {
            // The words after the introduction's verb: the capitalised ones.
            let name = found
                .as_str()
                .split_whitespace()
                .skip_while(|w| !w.starts_with(char::is_uppercase) || is_intro_word(w));
            for word in name.take_while(|w| !is_not_a_name(w)) {
                if !names.contains(&word) {
                    names.push(word);
                }
            }
        }
    }
    names.join(" ")
}

/// The capitalised words of an introduction that are not the name.
fn is_intro_word(word: &str) -> bool {
    matches!(word, "Sono" | "Mi" | "I" | "I'm" | "My" | "This" | "Qui")
}

/// Capitalised words after "sono" / "I am" that say how one is, not who ("Sono Molto
/// deluso"): never taken for a name.
fn is_not_a_name(word: &str) -> bool {
    const WORDS: [&str; 24] = [
        "molto",
        "davvero",
        "proprio",
        "stanco",
        "stanca",
        "deluso",
        "delusa",
        "arrabbiato",
        "arrabbiata",
        "io",
        "qui",
        "un",
        "una",
        "il",
        "la",
        "very",
        "really",
        "so",
        "not",
        "a",
        "an",
        "the",
        "still",
        "here",
    ];
    WORDS.contains(&crate::text::fold(word).as_str())
}

/// `text` with each word of `name` (two letters or more, any case) as `with`.
fn replace_name(text: &str, name: Option<&str>, with: &str) -> String {
    let mut out = text.to_owned();
    for word in name
        .into_iter()
        .flat_map(str::split_whitespace)
        .filter(|w| w.chars().count() >= 2)
    {
        if let Ok(re) = Regex::new(&format!(r"(?i)\b{}\b", regex::escape(word))) {
            out = re.replace_all(&out, with).into_owned();
        }
    }
    out
}

/// `text` without emails, phone numbers, order numbers, an introduction ("sono
/// Francesca") or any word of `name` (the name the channel gave): what is left is the
/// question, as anyone could ask it.
pub fn scrub(text: &str, name: Option<&str>) -> String {
    let mut out = EMAIL.replace_all(text, "").into_owned();
    out = PHONE.replace_all(&out, "").into_owned();
    out = ORDER.replace_all(&out, "").into_owned();
    out = INTRODUCTION.replace_all(&out, "").into_owned();
    out = replace_name(&out, name, "");
    // Tidy what the cuts left: doubled punctuation, spaces, a leading comma.
    for _ in 0..3 {
        out = ORPHAN.replace_all(&out, "$2").into_owned();
    }
    out = SPACE_BEFORE.replace_all(&out, "$1").into_owned();
    out = SPACES.replace_all(&out, " ").into_owned();
    out.trim_matches(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':' | '.'))
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::scrub;

    #[test]
    fn a_customer_s_own_words_lose_who_they_are() {
        assert_eq!(
            scrub(
                "Ciao, sono Francesca. Ho ordinato le scarpe rosse, ordine 4455667, ma la taglia 38 è piccola: posso cambiarla con la 39?",
                None
            ),
            "Ciao. Ho ordinato le scarpe rosse, ordine, ma la taglia 38 è piccola: posso cambiarla con la 39?"
        );
        assert_eq!(
            scrub(
                "sono Luigi Bianchi, ordine 9988776: la giacca è arrivata rotta",
                None
            ),
            "ordine: la giacca è arrivata rotta"
        );
        assert_eq!(
            scrub(
                "scrivetemi a giulia.rossi@example.it o al +39 333 123 4567, grazie",
                None
            ),
            "scrivetemi a o al, grazie"
        );
        assert_eq!(
            scrub("Hi, I'm John Smith: where is PF-552211?", Some("John")),
            "Hi: where is?"
        );
        assert_eq!(
            scrub("giulia qui, il pacco non arriva", Some("Giulia Rossi")),
            "qui, il pacco non arriva"
        );
        // Nothing personal: unchanged (a date, a row of sizes are no phone numbers).
        for plain in [
            "quanto costa la spedizione in Sardegna? sono 2 pacchi",
            "avete le taglie 38 40 42 44? ordinato il 12/03/2024",
        ] {
            assert_eq!(scrub(plain, None), plain);
        }
        assert_eq!(
            super::placeholders(
                "ti ho scritto a giulia.rossi@example.it, o chiama il 333 123 4567",
                None
            ),
            "ti ho scritto a {email}, o chiama il {phone}"
        );
    }

    #[test]
    fn a_reply_loses_the_customer_s_name_and_order_numbers() {
        let text = "Ciao giulia, l'ordine 4455667 (e PF-552211) parte oggi. Grazie Giulia!";
        assert_eq!(
            super::placeholders(text, Some("Giulia Rossi")),
            "Ciao {name}, l'ordine {order} (e {order}) parte oggi. Grazie {name}!"
        );
        assert_eq!(super::placeholders("ordine 123456", None), "ordine {order}");
    }

    #[test]
    fn the_names_customers_give_are_read_once_each() {
        let said = [
            "Buongiorno, sono Francesca Neri, ordine 4455667",
            "Sono Francesca, di nuovo",
            "Hi, I'm Anna. My name is John Smith, this is Bob",
            "sono arrivati due pacchi",
        ];
        assert_eq!(
            super::introduced(said),
            "Francesca Neri Anna John Smith Bob"
        );
        assert_eq!(
            super::introduced(["Sono Molto deluso", "I am Really Angry"]),
            ""
        );
        let reply = "Ciao Francesca, certo: per l'ordine 4455667 ti scrivo io, Anna";
        assert_eq!(
            super::placeholders(reply, Some(&super::introduced(said))),
            "Ciao {name}, certo: per l'ordine {order} ti scrivo io, {name}"
        );
    }
}
