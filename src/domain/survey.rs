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
/// the rest as a comment (`4 gentilissimi`). None when the message is not an answer.
pub fn read_answer(text: &str, kind: SurveyKind) -> Option<(u8, Option<String>)> {
    let (score, comment) = scored(text, kind)?;
    let score = u8::try_from(score)
        .ok()
        .filter(|s| kind.range().contains(s))?;
    Some((score, comment))
}

/// A bare score outside the survey's range ("6" or "7/10" to a 1–5 question, six
/// stars, "11" to a 0–10 one): the customer meant to answer, and is asked again.
pub fn out_of_range(text: &str, kind: SurveyKind) -> bool {
    scored(text, kind).is_some_and(|(score, comment)| {
        comment.is_none() && u8::try_from(score).map_or(true, |s| !kind.range().contains(&s))
    })
}

/// A score at the start of the message, in range or not, and the rest as a comment.
fn scored(text: &str, kind: SurveyKind) -> Option<(usize, Option<String>)> {
    let text = text.trim();
    let stars = text.chars().filter(|&c| c == '⭐' || c == '★').count();
    let rest: String = text
        .chars()
        .filter(|&c| !matches!(c, '⭐' | '★' | '\u{fe0f}'))
        .collect();
    if kind == SurveyKind::Csat && stars > 0 && rest.trim().is_empty() {
        return Some((stars, None));
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
    let after = after
        .strip_prefix("/5")
        .or_else(|| after.strip_prefix("/10"))
        .unwrap_or(after);
    // "10 euro di spedizione?" is a question, not a score: only separators may follow
    // the number directly.
    if after.chars().next().is_some_and(char::is_alphanumeric) {
        return None;
    }
    let comment = after.trim_matches(|c: char| c.is_whitespace() || ",.;:-!–".contains(c));
    Some((score, (!comment.is_empty()).then(|| comment.to_owned())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_are_read_with_their_comment() {
        let csat = |t| read_answer(t, SurveyKind::Csat);
        assert_eq!(csat("5"), Some((5, None)));
        assert_eq!(csat(" 4/5 "), Some((4, None)));
        assert_eq!(csat("voto 3"), Some((3, None)));
        assert_eq!(
            csat("2 - troppo lenti"),
            Some((2, Some("troppo lenti".into())))
        );
        assert_eq!(csat("⭐⭐⭐⭐"), Some((4, None)));
        assert_eq!(read_answer("10!", SurveyKind::Nps), Some((10, None)));
        assert_eq!(read_answer("0", SurveyKind::Nps), Some((0, None)));
    }

    #[test]
    fn questions_and_out_of_range_numbers_are_not_answers() {
        let csat = |t| read_answer(t, SurveyKind::Csat);
        assert_eq!(csat("quanto costa la spedizione?"), None);
        assert_eq!(csat("6"), None);
        assert_eq!(csat("0"), None);
        assert_eq!(csat("3x2 sulle magliette?"), None);
        assert_eq!(csat("123456"), None);
        assert_eq!(read_answer("11", SurveyKind::Nps), None);
        assert_eq!(csat("⭐⭐⭐⭐⭐⭐"), None);
    }

    #[test]
    fn a_bare_score_out_of_range_is_told_from_a_question() {
        let csat = |t| out_of_range(t, SurveyKind::Csat);
        for meant in ["6", "0", " 7/10 ", "voto 9", "10!", "⭐⭐⭐⭐⭐⭐"] {
            assert!(csat(meant), "{meant:?} is a score out of range");
        }
        for other in [
            "5",
            "3/5",
            "6 euro di spedizione?",
            "6 taglie?",
            "quanto costa?",
            "123",
        ] {
            assert!(!csat(other), "{other:?} is no score out of range");
        }
        assert!(out_of_range("11", SurveyKind::Nps));
        assert!(!out_of_range("10", SurveyKind::Nps));
        assert!(
            !out_of_range("⭐⭐⭐⭐⭐⭐", SurveyKind::Nps),
            "stars are a CSAT's"
        );
    }
}
