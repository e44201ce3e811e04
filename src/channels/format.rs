//! Text shared by the channels. FAQ answers are Markdown: Telegram gets them in its
//! HTML parse mode, where only `&`, `<` and `>` need escaping (so `_ * . ( )` in an
//! answer can never make Telegram reject it); WhatsApp in its own marks (`*bold*`,
//! `_italic_`, `~strike~`, ```` ``` ```` for code). Both in parts that fit their
//! 4,096-character limit ([`split`]).

use regex::Regex;
use std::sync::LazyLock;

pub use crate::domain::MAX_MESSAGE;

static LINK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)").expect("valid regex"));
// Bold and italic runs never contain a tag (`<`, `>`) or a link placeholder (`\u{1}`):
// whatever they would wrap stays literal, so the tags always nest properly.
static BOLD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\*\*([^*\n<>\x01]+?)\*\*|__([^_\n<>\x01]+?)__").expect("valid regex")
});
static ITALIC: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(^|[^\w*])\*([^*\s<>\x01][^*\n<>\x01]*?)\*|(^|[^\w])_([^_\s<>\x01][^_\n<>\x01]*?)_($|[^\w])",
    )
    .expect("valid regex")
});
static PLACEHOLDER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\x01(\d+)\x01").expect("valid regex"));
static HEADING: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^#{1,6}\s+(.+)$").expect("valid regex"));
static BULLET: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?m)^(\s*)[-*+]\s+").expect("valid regex"));

/// Markdown (the subset FAQ answers use: bold, italics, code, links, headings,
/// bullets) as Telegram HTML. Anything else stays literal text, safely escaped.
pub fn to_html(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len() + 16);
    let parts = markdown.split('`').count();
    for (i, part) in markdown.split('`').enumerate() {
        if i % 2 == 1 && parts > i + 1 {
            out.push_str("<code>");
            out.push_str(&escape(part));
            out.push_str("</code>");
        } else {
            if i > 0 && i % 2 == 1 {
                out.push('`');
            }
            out.push_str(&inline(&escape(part)));
        }
    }
    out
}

/// Links become placeholders first, so emphasis markers inside a URL or a link's text
/// are never touched; they are put back last.
fn inline(text: &str) -> String {
    let text = text.replace('\u{1}', "");
    let text = BULLET.replace_all(&text, "$1• ");
    let mut links = Vec::new();
    let text = LINK.replace_all(&text, |c: &regex::Captures| {
        links.push(format!(
            "<a href=\"{}\">{}</a>",
            c[2].replace('"', "&quot;"),
            &c[1]
        ));
        format!("\u{1}{}\u{1}", links.len() - 1)
    });
    let text = HEADING.replace_all(&text, "<b>$1</b>");
    let text = BOLD.replace_all(&text, |c: &regex::Captures| {
        let inner = c.get(1).or_else(|| c.get(2)).map_or("", |m| m.as_str());
        format!("<b>{inner}</b>")
    });
    let text = ITALIC.replace_all(&text, |c: &regex::Captures| match c.get(2) {
        Some(inner) => format!("{}<i>{}</i>", &c[1], inner.as_str()),
        None => format!("{}<i>{}</i>{}", &c[3], &c[4], &c[5]),
    });
    PLACEHOLDER
        .replace_all(&text, |c: &regex::Captures| {
            c[1].parse::<usize>()
                .ok()
                .and_then(|i| links.get(i).cloned())
                .unwrap_or_default()
        })
        .into_owned()
}

/// Markdown (the same subset) in WhatsApp's marks: bold `*x*`, italic `_x_`, code
/// in triple backticks, a link as its text and address, headings bold, bullets `•`.
pub fn to_whatsapp(markdown: &str) -> String {
    marked(markdown, &WHATSAPP)
}

/// The answer's Markdown as plain text (a mail's `text/plain` part): no marks, links
/// as "text (address)", bullets as "•".
pub fn to_plain(markdown: &str) -> String {
    marked(markdown, &PLAIN)
}

/// How bold, italic and code are written on a channel that is not HTML.
struct Marks {
    bold: &'static str,
    italic: &'static str,
    code: &'static str,
}

const WHATSAPP: Marks = Marks {
    bold: "*",
    italic: "_",
    code: "```",
};
const PLAIN: Marks = Marks {
    bold: "",
    italic: "",
    code: "",
};

fn marked(markdown: &str, marks: &Marks) -> String {
    let mut out = String::with_capacity(markdown.len());
    let parts = markdown.split('`').count();
    for (i, part) in markdown.split('`').enumerate() {
        if i % 2 == 1 && parts > i + 1 {
            out.push_str(marks.code);
            out.push_str(part);
            out.push_str(marks.code);
        } else {
            if i > 0 && i % 2 == 1 {
                out.push('`');
            }
            out.push_str(&marked_inline(part, marks));
        }
    }
    out
}

/// Bold becomes `\u{2}` marks first, so that the italic rule never reads its stars;
/// links become placeholders, so that no mark reaches into an address.
fn marked_inline(text: &str, marks: &Marks) -> String {
    let text = text.replace(['\u{1}', '\u{2}'], "");
    let text = BULLET.replace_all(&text, "$1• ");
    let mut links = Vec::new();
    let text = LINK.replace_all(&text, |c: &regex::Captures| {
        links.push(format!("{} ({})", &c[1], &c[2]));
        format!("\u{1}{}\u{1}", links.len() - 1)
    });
    let text = HEADING.replace_all(&text, "\u{2}$1\u{2}");
    let text = BOLD.replace_all(&text, |c: &regex::Captures| {
        let inner = c.get(1).or_else(|| c.get(2)).map_or("", |m| m.as_str());
        format!("\u{2}{inner}\u{2}")
    });
    let i = marks.italic;
    let text = ITALIC.replace_all(&text, |c: &regex::Captures| match c.get(2) {
        Some(inner) => format!("{}{i}{}{i}", &c[1], inner.as_str()),
        None => format!("{}{i}{}{i}{}", &c[3], &c[4], &c[5]),
    });
    let text = PLACEHOLDER.replace_all(&text, |c: &regex::Captures| {
        c[1].parse::<usize>()
            .ok()
            .and_then(|i| links.get(i).cloned())
            .unwrap_or_default()
    });
    text.replace('\u{2}', marks.bold)
}

pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Cut `text` into parts of at most `limit` UTF-16 units, preferring paragraph, then
/// line, then word boundaries.
pub fn split(text: &str, limit: usize) -> Vec<String> {
    let mut parts = Vec::new();
    let mut rest = text.trim();
    while utf16_len(rest) > limit {
        let mut end = 0;
        let mut units = 0;
        for (i, c) in rest.char_indices() {
            units += c.len_utf16();
            if units > limit {
                break;
            }
            end = i + c.len_utf8();
        }
        let window = &rest[..end];
        let cut = ["\n\n", "\n", " "]
            .iter()
            .find_map(|sep| window.rfind(sep).filter(|&at| at > end / 2))
            .unwrap_or(end);
        parts.push(rest[..cut].trim_end().to_owned());
        rest = rest[cut..].trim_start();
    }
    if !rest.is_empty() || parts.is_empty() {
        parts.push(rest.to_owned());
    }
    parts
}

fn utf16_len(text: &str) -> usize {
    text.encode_utf16().count()
}

/// Choices as a numbered list to answer with the number (WhatsApp past its list's
/// limits, email always); survey scores as one line.
pub fn numbered(choices: &[crate::domain::Choice]) -> String {
    let lines: Vec<String> = choices
        .iter()
        .enumerate()
        .map(|(n, c)| {
            if c.label.chars().all(|ch| ch.is_ascii_digit()) {
                c.label.clone()
            } else {
                format!("{}. {}", n + 1, c.label)
            }
        })
        .collect();
    if choices
        .iter()
        .all(|c| c.label.chars().all(|ch| ch.is_ascii_digit()))
    {
        format!("\n\n({})", lines.join(" · "))
    } else {
        format!("\n\n{}", lines.join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_becomes_telegram_html_with_everything_else_escaped() {
        assert_eq!(
            to_html(
                "**Spedizione** gratis sopra 50 € (Italia) & <Europa>. Vedi [la guida](https://shop.example/a_b?x=1&y=2)."
            ),
            "<b>Spedizione</b> gratis sopra 50 € (Italia) &amp; &lt;Europa&gt;. Vedi <a href=\"https://shop.example/a_b?x=1&amp;y=2\">la guida</a>."
        );
        assert_eq!(
            to_html("usa il codice `A_B*C`"),
            "usa il codice <code>A_B*C</code>"
        );
        assert_eq!(to_html("- uno\n- due"), "• uno\n• due");
        assert_eq!(
            to_html("snake_case_name e 2*3*4"),
            "snake_case_name e 2*3*4"
        );
        assert_eq!(to_html("un _vero_ affare"), "un <i>vero</i> affare");
        assert_eq!(to_html("un `solo backtick"), "un `solo backtick");
    }

    #[test]
    fn emphasis_never_reaches_into_links_or_crosses_tags() {
        assert_eq!(
            to_html("[x](https://a.example/__init__/*y*)"),
            "<a href=\"https://a.example/__init__/*y*\">x</a>"
        );
        assert_eq!(to_html("**a _b** c_"), "<b>a _b</b> c_");
        assert_eq!(
            to_html("# **Titolo**"),
            "<b><b>Titolo</b></b>",
            "nested, properly"
        );
        assert_eq!(
            to_html("**[guida](https://a.example)**"),
            "**<a href=\"https://a.example\">guida</a>**"
        );
        assert_eq!(to_html("a \u{1}0\u{1} b"), "a 0 b", "no forged placeholder");
    }

    #[test]
    fn markdown_becomes_whatsapp_marks() {
        assert_eq!(
            to_whatsapp(
                "**Spedizione** gratis, _subito_: vedi [la guida](https://shop.example/a_b)."
            ),
            "*Spedizione* gratis, _subito_: vedi la guida (https://shop.example/a_b)."
        );
        assert_eq!(to_whatsapp("# Resi\n- uno\n- due"), "*Resi*\n• uno\n• due");
        assert_eq!(to_whatsapp("un *vero* affare"), "un _vero_ affare");
        assert_eq!(to_whatsapp("codice `A_B*C`"), "codice ```A_B*C```");
        assert_eq!(
            to_whatsapp("snake_case_name e 2*3*4 <b>&"),
            "snake_case_name e 2*3*4 <b>&",
            "nothing escaped: WhatsApp shows text as it is"
        );
    }

    #[test]
    fn markdown_becomes_plain_text_for_a_mail() {
        assert_eq!(
            to_plain("**Spedizione** gratis, _subito_: vedi [la guida](https://shop.example/a_b)."),
            "Spedizione gratis, subito: vedi la guida (https://shop.example/a_b)."
        );
        assert_eq!(to_plain("# Resi\n- uno\n- due"), "Resi\n• uno\n• due");
        assert_eq!(
            to_plain("codice `A_B*C`, snake_case"),
            "codice A_B*C, snake_case"
        );
    }

    #[test]
    fn long_answers_are_split_at_boundaries_within_the_limit() {
        let paragraph = "parola ".repeat(300);
        let text = format!("{paragraph}\n\n{paragraph}\n\n{paragraph}");
        let parts = split(&text, MAX_MESSAGE);
        assert!(parts.len() >= 2);
        assert!(parts.iter().all(|p| utf16_len(p) <= MAX_MESSAGE));
        let words: usize = parts.iter().map(|p| p.split_whitespace().count()).sum();
        assert_eq!(words, 900, "nothing lost at the cuts");
        let emoji = "😀".repeat(3000);
        let parts = split(&emoji, MAX_MESSAGE);
        assert!(parts.iter().all(|p| utf16_len(p) <= MAX_MESSAGE));
        assert_eq!(parts.concat(), emoji);
    }
}
