//! Satisfaction surveys asked in the chat: CSAT (1–5) after a ticket is closed, NPS
//! (0–10) now and then. Reading an answer is pure: a score, maybe a comment after it,
//! or nothing (then the message is an ordinary one and the survey is dropped).

use super::TicketId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How long an unanswered survey still reads a number as its answer.
pub const SURVEY_TTL: chrono::Duration = chrono::Duration::hours(24);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SurveyKind {
    /// "How did we do?" 1 (badly) to 5 (very well).
    Csat,
    /// "Would you recommend us?" 0 (never) to 10 (certainly).
    Nps,
}

impl SurveyKind {
    pub fn range(self) -> std::ops::RangeInclusive<u8> {
        match self {
            SurveyKind::Csat => 1..=5,
            SurveyKind::Nps => 0..=10,
        }
    }
}

/// A survey the customer was asked and has not answered yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingSurvey {
    pub kind: SurveyKind,
    /// The ticket a CSAT is about.
    pub ticket: Option<TicketId>,
    #[serde(with = "crate::domain::instant")]
    pub asked_at: DateTime<Utc>,
}

/// A score in range at the start of the message (`4`, `4/5`, `voto 4`, `⭐⭐⭐⭐`), and
/// the rest as a comment (`4 gentilissimi`). None when the message is not an answer:
/// a quantity ("3 giorni fa ho ordinato...") or a score on another scale ("5 su 10"
/// to a 1–5 question) is none.
pub fn read_answer(text: &str, kind: SurveyKind) -> Option<(u8, Option<String>)> {
    let read = scored(text, kind)?;
    let quantity = read.comment.as_deref().is_some_and(|c| {
        let folded = crate::text::fold(c);
        crate::text::words(&folded)
            .next()
            .is_some_and(|w| UNITS.contains(&w))
    });
    if quantity || !read.fits(kind) {
        return None;
    }
    Some((u8::try_from(read.score).ok()?, read.comment))
}

/// A bare score outside the survey's range ("6" or "7/10" to a 1–5 question, six
/// stars, "11" to a 0–10 one, "5 su 10" to a 1–5 one): the customer meant to answer,
/// and is asked again.
pub fn out_of_range(text: &str, kind: SurveyKind) -> bool {
    scored(text, kind).is_some_and(|read| read.comment.is_none() && !read.fits(kind))
}

/// A message that only acknowledges or thanks ("ok", "grazie mille", "perfetto
/// grazie", "👍"): after a survey question it leaves the question standing.
pub fn acknowledges(text: &str) -> bool {
    const WORDS: [&str; 30] = [
        "ok",
        "okay",
        "oki",
        "grazie",
        "mille",
        "tante",
        "thanks",
        "thank",
        "you",
        "ty",
        "cheers",
        "va",
        "bene",
        "capito",
        "ricevuto",
        "perfetto",
        "perfetta",
        "perfect",
        "great",
        "got",
        "it",
        "d",
        "accordo",
        "alright",
        "sure",
        "molto",
        "gentile",
        "gentilissimo",
        "gentilissima",
        "gentilissimi",
    ];
    const SIGNS: &str = "👍👌🙏😊🙂😀😃😄😁☺❤\u{fe0f}\u{200d}";
    let folded = crate::text::fold(text);
    if folded.contains('?') {
        return false;
    }
    let words: Vec<&str> = crate::text::words(&folded).collect();
    if words.is_empty() {
        let signs = folded.chars().filter(|c| !c.is_whitespace());
        return signs.clone().next().is_some() && signs.into_iter().all(|c| SIGNS.contains(c));
    }
    words.len() <= 5 && words.iter().all(|w| WORDS.contains(w))
}

/// Words after a number that make it a quantity: "5 giorni che aspetto" is no five.
pub const UNITS: [&str; 18] = [
    "giorni",
    "giorno",
    "settimane",
    "ore",
    "minuti",
    "mesi",
    "paia",
    "pezzi",
    "euro",
    "days",
    "day",
    "weeks",
    "hours",
    "minutes",
    "months",
    "items",
    "pairs",
    "eur",
];

/// A score as written: the number, the comment after it, and the scale the customer
/// named ("su 10"), if any.
struct Scored {
    score: usize,
    comment: Option<String>,
    scale: Option<usize>,
}

impl Scored {
    /// In the survey's range, and on its scale if one was named.
    fn fits(&self, kind: SurveyKind) -> bool {
        let high = usize::from(*kind.range().end());
        u8::try_from(self.score).is_ok_and(|s| kind.range().contains(&s))
            && self.scale.is_none_or(|scale| scale == high)
    }
}

/// A score at the start of the message, in range or not, and the rest as a comment:
/// digits or stars, else words ("cinque", "dieci su dieci", and for a CSAT the
/// question's own scale, "benissimo", "male", "excellent").
fn scored(text: &str, kind: SurveyKind) -> Option<Scored> {
    digits_or_stars(text, kind).or_else(|| worded(text, kind))
}

fn digits_or_stars(text: &str, kind: SurveyKind) -> Option<Scored> {
    let text = text.trim();
    let stars = text.chars().filter(|&c| c == '⭐' || c == '★').count();
    let rest: String = text
        .chars()
        .filter(|&c| !matches!(c, '⭐' | '★' | '\u{fe0f}'))
        .collect();
    if kind == SurveyKind::Csat && stars > 0 && rest.trim().is_empty() {
        return Some(Scored {
            score: stars,
            comment: None,
            scale: None,
        });
    }
    let body = ["voto", "score", "rating"]
        .iter()
        .find(|w| {
            text.get(..w.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(w))
        })
        .map_or(text, |w| &text[w.len()..])
        .trim_start_matches([' ', ':']);
    let digits: String = body.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() || digits.len() > 2 {
        return None;
    }
    let score: usize = digits.parse().ok()?;
    let after = &body[digits.len()..];
    // "4/5", "8 su 10", "10 out of 10": the scale the customer had in mind.
    let named = SCALE.captures(after);
    let scale = named.as_ref().and_then(|c| number_of(&c[2]));
    let after = named.map_or(after, |c| &after[c.get(0).map_or(0, |m| m.end())..]);
    // "10 euro di spedizione?" is a question, not a score: only separators may follow
    // the number directly.
    if after.chars().next().is_some_and(char::is_alphanumeric) {
        return None;
    }
    Some(Scored {
        score,
        comment: comment_of(after),
        scale,
    })
}

/// "5", "10", "cinque", "ten": the value.
fn number_of(word: &str) -> Option<usize> {
    let word = word.to_lowercase();
    word.parse().ok().or_else(|| {
        NUMBER_WORDS
            .iter()
            .find(|(w, _)| *w == word)
            .map(|&(_, v)| v)
    })
}

/// What follows a score, without the separators around it; None when nothing does.
fn comment_of(after: &str) -> Option<String> {
    let comment = after.trim_matches(|c: char| c.is_whitespace() || SEPARATORS.contains(c));
    (!comment.is_empty()).then(|| comment.to_owned())
}

const SEPARATORS: &str = ",.;:-!–";

/// The scale after a score: "/5", " su 10", " out of five".
static SCALE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"(?i)^\s*(/|su\b|out of\b)\s*(5|10|cinque|dieci|five|ten)\b")
        .expect("a valid pattern")
});

/// Number words, Italian and English, by value.
const NUMBER_WORDS: [(&str, usize); 24] = [
    ("zero", 0),
    ("uno", 1),
    ("una", 1),
    ("due", 2),
    ("tre", 3),
    ("quattro", 4),
    ("cinque", 5),
    ("sei", 6),
    ("sette", 7),
    ("otto", 8),
    ("nove", 9),
    ("dieci", 10),
    ("one", 1),
    ("two", 2),
    ("three", 3),
    ("four", 4),
    ("five", 5),
    ("six", 6),
    ("seven", 7),
    ("eight", 8),
    ("nine", 9),
    ("ten", 10),
    ("undici", 11),
    ("eleven", 11),
];

/// Words that rate help on the CSAT's scale, folded: the question's own ends ("male",
/// "benissimo"; "poor", "excellent") and the words customers use for them. Words that
/// as often only acknowledge or thank ("ok", "perfetto, grazie", "great, thanks") are
/// none of them: a thanks is no top score.
const RATING_WORDS: [(&str, usize); 41] = [
    ("male", 1),
    ("malissimo", 1),
    ("pessimo", 1),
    ("pessima", 1),
    ("terribile", 1),
    ("orribile", 1),
    ("vergognoso", 1),
    ("poor", 1),
    ("terrible", 1),
    ("awful", 1),
    ("horrible", 1),
    ("scarso", 2),
    ("scarsa", 2),
    ("insufficiente", 2),
    ("maluccio", 2),
    ("bad", 2),
    ("mediocre", 2),
    ("meh", 2),
    ("discreto", 3),
    ("discreta", 3),
    ("sufficiente", 3),
    ("average", 3),
    ("fair", 3),
    ("bene", 4),
    ("buono", 4),
    ("buona", 4),
    ("soddisfatto", 4),
    ("soddisfatta", 4),
    ("good", 4),
    ("satisfied", 4),
    ("benissimo", 5),
    ("ottimo", 5),
    ("ottima", 5),
    ("eccellente", 5),
    ("fantastico", 5),
    ("fantastica", 5),
    ("excellent", 5),
    ("amazing", 5),
    ("awesome", 5),
    ("fantastic", 5),
    ("impeccabile", 5),
];

/// Words that make a rating stronger: "molto bene" is a 5, "very bad" a 1.
const INTENSIFIERS: [&str; 5] = ["molto", "very", "davvero", "really", "veramente"];

/// Words that may follow a worded score and still leave it an answer ("ottimo
/// servizio grazie"); anything else after it without a separator ("due magliette
/// rotte", "bene ma...") makes the message something other than a score.
const TAIL_WORDS: [&str; 18] = [
    "stelle",
    "stella",
    "stars",
    "star",
    "servizio",
    "assistenza",
    "lavoro",
    "aiuto",
    "grazie",
    "mille",
    "davvero",
    "service",
    "job",
    "help",
    "support",
    "thanks",
    "thank",
    "you",
];

/// A worded score at the start of the message: `[voto] [molto] word [su N]`, then
/// the end, a separator and a comment, or only thanks and what was rated.
fn worded(text: &str, kind: SurveyKind) -> Option<Scored> {
    // The message's words, folded, each with where it ends in the text.
    let mut words = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices().chain([(text.len(), ' ')]) {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                words.push((crate::text::fold(&text[s..i]), i));
                start = None;
            }
            _ => {}
        }
    }
    let mut at = 0;
    let word = |at: usize| words.get(at).map(|(w, _)| w.as_str());
    if word(at).is_some_and(|w| ["voto", "score", "rating"].contains(&w)) {
        at += 1;
    }
    let negated = word(at).is_some_and(|w| w == "non" || w == "not");
    if negated {
        at += 1;
    }
    let strong = word(at).is_some_and(|w| INTENSIFIERS.contains(&w));
    if strong {
        at += 1;
    }
    let w = word(at)?;
    let number = NUMBER_WORDS.iter().find(|(n, _)| *n == w).map(|&(_, v)| v);
    // "così così", "so so": the middle of the scale.
    let middle = ["cosi", "so"].contains(&w) && word(at + 1) == Some(w);
    let score = match number {
        Some(n) if !strong && !negated => n,
        Some(_) => return None,
        None if kind != SurveyKind::Csat => return None,
        None if middle => {
            at += 1;
            3
        }
        None => {
            // Words that also thank ("perfetto", "great") rate only when negated.
            let thanking = ["perfetto", "perfetta", "perfect", "great"];
            let rated = RATING_WORDS
                .iter()
                .find(|(r, _)| *r == w)
                .map(|&(_, v)| v)
                .or_else(|| (negated && thanking.contains(&w)).then_some(5))?;
            match (negated, strong, rated) {
                // "non male", "not bad": fair; "not (very) good": poor.
                (true, _, 1 | 2) => 3,
                (true, _, _) => 2,
                (false, true, 4) => 5,
                (false, true, 2) => 1,
                _ => rated,
            }
        }
    };
    at += 1;
    // "cinque su cinque", "8 out of ten".
    let of = match (word(at), word(at + 1)) {
        (Some("su"), Some(_)) => 2,
        (Some("out"), Some("of")) => 3,
        _ => 0,
    };
    let scale = (of > 0)
        .then(|| word(at + of - 1).and_then(number_of))
        .flatten()
        .filter(|&n| n == 5 || n == 10);
    if scale.is_some() {
        at += of;
    }
    let end = at.checked_sub(1).map_or(0, |last| words[last].1);
    let after = &text[end..];
    let separated = after
        .trim_start()
        .starts_with(|c: char| SEPARATORS.contains(c));
    let only_tail = words[at..]
        .iter()
        .all(|(w, _)| TAIL_WORDS.contains(&w.as_str()));
    (separated || only_tail).then(|| Scored {
        score,
        comment: comment_of(after),
        scale,
    })
}

#[cfg(test)]
#[path = "survey_tests.rs"]
mod tests;
