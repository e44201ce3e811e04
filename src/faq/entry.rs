//! One FAQ entry: a Markdown file with TOML front matter between `+++` lines.

use crate::diagnostics::{Diagnostic, line_of_key, toml_error};
use crate::domain::Lang;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub id: String,
    pub lang: Lang,
    pub questions: Vec<String>,
    /// Markdown.
    pub answer: String,
    pub tags: Vec<String>,
    pub department: Option<String>,
    pub threshold: Option<f32>,
    /// Written by `faq drafts`: never served until an editor removes it.
    pub draft: bool,
    pub path: PathBuf,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    id: Option<String>,
    lang: Option<String>,
    questions: Option<Vec<String>>,
    #[serde(default)]
    tags: Vec<String>,
    department: Option<String>,
    threshold: Option<f32>,
    #[serde(default)]
    draft: bool,
}

const FENCE: &str = "+++";

/// Parse one file's text. `folder_lang` is the language its folder (`it/`, `en/`) implies.
pub fn parse(path: &Path, text: &str, folder_lang: Option<Lang>) -> Result<Entry, Diagnostic> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.split_inclusive('\n');
    if lines.next().map(str::trim) != Some(FENCE) {
        return Err(
            Diagnostic::error(path, 1, "the file does not start with a `+++` line")
                .hint("put the TOML front matter between two `+++` lines, then the answer"),
        );
    }
    let start = FENCE.len() + text[FENCE.len()..].find('\n').map_or(0, |i| i + 1);
    let Some(close) = find_closing_fence(&text[start..]) else {
        return Err(
            Diagnostic::error(path, 1, "the front matter is never closed")
                .hint("add a line with `+++` after the TOML keys"),
        );
    };
    let toml_text = &text[start..start + close];
    let body = text[start + close..]
        .split_once('\n')
        .map_or("", |(_, body)| body);
    // The file's line of the answer's first line (after the fences and blank lines).
    let blank = body.lines().take_while(|l| l.trim().is_empty()).count();
    let answer = Answer {
        text: body.trim().to_owned(),
        line: toml_text.lines().count() + 3 + blank,
    };
    let fm: FrontMatter = toml::from_str(toml_text).map_err(|e| {
        toml_error(path, 2, toml_text, &e)
            .hint("keys: id, lang, questions, tags, department, threshold, draft")
    })?;
    build(path, toml_text, fm, answer, folder_lang)
}

fn find_closing_fence(rest: &str) -> Option<usize> {
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim() == FENCE {
            return Some(offset);
        }
        offset += line.len();
    }
    None
}

/// The text after the front matter, trimmed, and the file's line it starts on.
struct Answer {
    text: String,
    line: usize,
}

fn build(
    path: &Path,
    toml_text: &str,
    fm: FrontMatter,
    Answer { text: answer, line }: Answer,
    folder_lang: Option<Lang>,
) -> Result<Entry, Diagnostic> {
    let at = |key: &str| 1 + line_of_key(toml_text, key);
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    let id = fm.id.unwrap_or_else(|| stem.to_owned());
    if id.is_empty()
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(Diagnostic::error(
            path,
            at("id"),
            format!("id `{id}` has characters other than a-z, 0-9, - and _"),
        )
        .hint("ids appear in URLs, reports and eval files: keep them plain"));
    }
    let lang = match (fm.lang, folder_lang) {
        (Some(l), _) => l.parse().map_err(|e: crate::domain::IdError| {
            Diagnostic::error(path, at("lang"), e.to_string())
        })?,
        (None, Some(l)) => l,
        (None, None) => {
            return Err(
                Diagnostic::error(path, 1, "the entry's language is unknown")
                    .hint("put the file under faq/it/ or faq/en/, or set lang = \"it\""),
            );
        }
    };
    let questions: Vec<String> = fm
        .questions
        .unwrap_or_default()
        .into_iter()
        .map(|q| q.trim().to_owned())
        .collect();
    if questions.is_empty() || questions.iter().any(String::is_empty) {
        return Err(Diagnostic::error(
            path,
            at("questions"),
            "the entry needs at least one non-empty question",
        )
        .hint(match lang {
            Lang::It => {
                "questions = [\"Quanto ci mette ad arrivare il pacco?\", \"tempi di consegna?\"]"
            }
            Lang::En => "questions = [\"How long does delivery take?\", \"delivery times?\"]",
        }));
    }
    if answer.is_empty() {
        return Err(Diagnostic::error(
            path,
            1 + toml_text.lines().count() + 1,
            "the answer after the front matter is empty",
        )
        .hint("write the answer in Markdown below the closing `+++`"));
    }
    // A draft published as it was written would tell customers to "write the answer
    // here", or quote operators' replies to other customers with `{order}` left in:
    // its notes are for the editor. The answer is the same for everyone: only
    // `{hours}` is filled in (the hours the bot keeps), any other `{word}` would reach
    // customers as written.
    if !fm.draft
        && let Some((i, found)) = answer.lines().enumerate().find_map(|(i, line)| {
            let counted = ASKED_LINE.find(line).map(|m| m.as_str());
            DRAFT_NOTES
                .iter()
                .chain(PLACEHOLDERS)
                .find(|mark| line.contains(**mark))
                .copied()
                .or(counted)
                .or_else(|| {
                    BRACED
                        .find_iter(line)
                        .map(|m| m.as_str())
                        .find(|m| *m != HOURS)
                })
                .map(|mark| (i, mark))
        })
    {
        let what = if PLACEHOLDERS.contains(&found) {
            format!(
                "the answer has `{found}`, a placeholder of the draft's quoted replies: an FAQ answer is the same for every customer, nothing fills it in"
            )
        } else if BRACED.is_match(found) {
            let what = format!(
                "the answer has `{found}`, which nothing fills in: customers would read it as written"
            );
            return Err(Diagnostic::error(path, line + i, what).hint(
                "the one placeholder an answer may hold is `{hours}` (the opening hours the bot keeps, in the entry's language); write the words themselves otherwise",
            ));
        } else {
            format!(
                "the answer still has the draft's notes (`{found}`, written by `sportello faq drafts`)"
            )
        };
        return Err(Diagnostic::error(path, line + i, what)
        .hint("write the answer to customers in place of the notes (the operators' replies quoted there are a start), or put `draft = true` back"));
    }
    if let Some(t) = fm.threshold.filter(|t| !(0.0..=1.0).contains(t)) {
        return Err(Diagnostic::error(
            path,
            at("threshold"),
            format!("threshold {t} is outside 0..1"),
        )
        .hint(
            "it is a probability: threshold = 0.9 answers only when 9 in 10 such answers are right",
        ));
    }
    Ok(Entry {
        id,
        lang,
        questions,
        answer,
        tags: fm.tags,
        department: fm.department,
        threshold: fm.threshold,
        draft: fm.draft,
        path: path.to_owned(),
    })
}

/// Words of a draft's notes (`faq drafts`): an entry served with them was published
/// unedited.
pub const DRAFT_MARK: &str = "sportello faq drafts";

/// The titles of a draft's notes, in both languages (`faq drafts` writes them): an
/// answer that still has one was published with the notes.
pub const DRAFT_NOTES: &[&str] = &[
    DRAFT_MARK,
    "Cosa hanno risposto gli operatori:",
    "(nessuna risposta di un operatore per ora)",
    "What operators replied:",
    "(no operator reply yet)",
];

/// A draft's count line: "Chiesto 3 volte, dal …", "Chiesto una volta, il …", "Asked
/// 2 times, on …", "Asked once, on …".
static ASKED_LINE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"^\s*(Chiesto (una volta|\d+ volte), (il|dal) |Asked (once|\d+ times), )")
        .expect("a valid pattern")
});

/// The placeholder an answer may hold: the opening hours of the entry's department
/// (else the shop's), filled in as the answer is sent.
pub const HOURS: &str = "{hours}";

/// A `{word}` in an answer: a placeholder, filled in only if it is `{hours}`.
static BRACED: std::sync::LazyLock<regex::Regex> =
    std::sync::LazyLock::new(|| regex::Regex::new(r"\{[a-z_]+\}").expect("a valid pattern"));

/// What a draft writes in place of a customer's details in operators' replies
/// (`text::personal::placeholders`).
pub const PLACEHOLDERS: &[&str] = &["{order}", "{name}", "{email}", "{phone}"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_draft_published_unedited_is_an_error_and_kept_as_a_draft_is_not() {
        let notes = "Bozza scritta da `sportello faq drafts`: scrivi qui la risposta, poi togli `draft = true`.\n";
        let err = parse_str(&format!("+++\nquestions = [\"a?\"]\n+++\n{notes}")).unwrap_err();
        assert!(err.message.contains("draft's notes"), "{err}");
        let draft = parse_str(&format!(
            "+++\nquestions = [\"a?\"]\ndraft = true\n+++\n{notes}"
        ));
        assert!(draft.unwrap().draft);
    }

    /// The first line of the notes replaced by an answer is not enough: the quoted
    /// replies and their placeholders are still the draft's, and said with their line.
    #[test]
    fn a_draft_half_edited_is_still_an_error_at_the_line_left() {
        let half = "+++\nquestions = [\"a?\"]\n+++\nSì, emettiamo fattura.\nChiesto 2 volte, il 2026-12-04.\n\nCosa hanno risposto gli operatori:\n\n> Certo, per l'ordine {order} ti mandiamo la fattura.\n";
        let err = parse_str(half).unwrap_err();
        assert!(err.message.contains("Chiesto 2 volte, il "), "{err}");
        assert_eq!(err.line, 5, "the count line comes first: {err}");
        let quoted_only = "+++\nquestions = [\"a?\"]\n+++\nSì.\n> Ciao {name}, certo.\n";
        let err = parse_str(quoted_only).unwrap_err();
        assert_eq!(err.line, 5, "{err}");
        assert!(err.message.contains("`{name}`"), "{err}");
        let fine = "+++\nquestions = [\"a?\"]\n+++\nSì: scrivi il numero d'ordine {come PF-123} nel campo note.\n";
        assert!(parse_str(fine).is_ok());
    }

    #[test]
    fn hours_is_the_one_placeholder_an_answer_may_hold() {
        let hours = "+++\nquestions = [\"a?\"]\n+++\nRispondiamo: {hours}\n";
        assert!(parse_str(hours).is_ok());
        let typo = "+++\nquestions = [\"a?\"]\n+++\nSì.\nRispondiamo: {orari}\n";
        let err = parse_str(typo).unwrap_err();
        assert_eq!(err.line, 5, "{err}");
        assert!(
            err.message.contains("`{orari}`, which nothing fills in"),
            "{err}"
        );
        assert!(
            err.hint.as_deref().is_some_and(|h| h.contains("{hours}")),
            "{err}"
        );
    }

    fn parse_str(text: &str) -> Result<Entry, Diagnostic> {
        parse(Path::new("faq/it/x.md"), text, Some(Lang::It))
    }

    #[test]
    fn a_well_formed_entry_parses() {
        let e =
            parse_str("+++\nquestions = [\"a?\"]\ndepartment = \"logistica\"\n+++\nRisposta.\n")
                .unwrap();
        assert_eq!(
            (e.id.as_str(), e.lang, e.answer.as_str()),
            ("x", Lang::It, "Risposta.")
        );
    }

    #[test]
    fn an_unknown_key_is_reported_on_its_line() {
        let err = parse_str("+++\nquestions = [\"a?\"]\ncolour = 1\n+++\nR.\n").unwrap_err();
        assert_eq!(err.line, 3, "{err}");
        assert!(err.message.contains("colour"), "{err}");
    }

    #[test]
    fn an_empty_answer_and_missing_questions_are_errors() {
        assert!(parse_str("+++\nquestions = [\"a?\"]\n+++\n\n").is_err());
        let err = parse_str("+++\ntags = []\n+++\nR.\n").unwrap_err();
        assert!(err.message.contains("question"), "{err}");
    }

    #[test]
    fn an_unclosed_front_matter_is_an_error() {
        assert!(parse_str("+++\nquestions = [\"a?\"]\nR.\n").is_err());
        assert!(parse_str("questions = []\n").is_err());
    }
}
