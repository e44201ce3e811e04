//! One intent rule file: parse, validate, compile its patterns.

use crate::diagnostics::{Diagnostic, line_of_key, toml_error};
use crate::domain::order::FAILED_CHECK;
use crate::domain::triage::{IntentAction, IntentHit};
use crate::domain::{HandoffReason, Lang, Priority};
use regex::Regex;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub enum IntentKind {
    Action(IntentAction),
    /// Captures a named group (e.g. an order number) and lets matching go on.
    Capture {
        group: String,
    },
}

#[derive(Debug, Clone)]
pub struct Intent {
    pub name: String,
    pub kind: IntentKind,
    pub patterns: Vec<Regex>,
    pub department: Option<String>,
    pub reply: BTreeMap<String, String>,
    /// (text, line in the file)
    pub examples: Vec<(String, usize)>,
    pub counter_examples: Vec<(String, usize)>,
    pub path: PathBuf,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    name: Option<String>,
    #[allow(dead_code)]
    description: Option<String>,
    action: String,
    priority: Option<Priority>,
    reason: Option<String>,
    department: Option<String>,
    patterns: Vec<String>,
    #[serde(default)]
    examples: Vec<String>,
    #[serde(default)]
    counter_examples: Vec<String>,
    faq: Option<String>,
    capture: Option<String>,
    #[serde(default)]
    reply: BTreeMap<String, String>,
}

const ACTIONS: &str = "handoff, reply, answer, cancel, order, capture";

pub fn load(path: &Path) -> Result<Intent, Diagnostic> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Diagnostic::error(path, 1, format!("cannot read the file: {e}")))?;
    let file: RuleFile = toml::from_str(&text).map_err(|e| toml_error(path, 1, &text, &e).hint(
        "keys: name, description, action, priority, reason, department, patterns, examples, counter_examples, faq, capture, reply",
    ))?;
    let at = |key: &str| line_of_key(&text, key);
    let name = file.name.clone().unwrap_or_else(|| {
        path.file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_owned()
    });
    if name == FAILED_CHECK {
        // The bot's own handoff reason: the console would call such a ticket's order
        // check failed.
        return Err(Diagnostic::error(
            path,
            at("name"),
            format!("the name `{name}` is the bot's own (an order check that failed)"),
        )
        .hint("give the rule another name (`name = \"...\"` or the file's name)"));
    }
    let kind = kind(&file, &name).map_err(|msg| Diagnostic::error(path, at("action"), msg))?;
    if matches!(kind, IntentKind::Action(IntentAction::Reply)) {
        for lang in Lang::ALL {
            if !file.reply.contains_key(lang.code()) {
                return Err(Diagnostic::error(
                    path,
                    at("action"),
                    format!("action `reply` needs a reply text for `{lang}`"),
                )
                .hint("[reply]\nit = \"...\"\nen = \"...\""));
            }
        }
    }
    if file.patterns.is_empty() {
        return Err(Diagnostic::error(
            path,
            at("patterns"),
            "the rule has no patterns",
        ));
    }
    let mut patterns = Vec::new();
    for p in &file.patterns {
        let re = Regex::new(p).map_err(|e| {
            Diagnostic::error(
                path,
                line_containing(&text, p, at("patterns")),
                format!("pattern {p:?} is not a valid regex: {e}"),
            )
            .hint("patterns use Rust regex syntax and see lowercase text without accents")
        })?;
        patterns.push(re);
    }
    if let IntentKind::Capture { group } = &kind
        && !patterns
            .iter()
            .all(|re| re.capture_names().any(|n| n == Some(group)))
    {
        return Err(Diagnostic::error(
            path,
            at("capture"),
            format!("every pattern needs the named group (?P<{group}>...)"),
        ));
    }
    let lines = |items: &[String]| {
        items
            .iter()
            .map(|s| (s.clone(), line_containing(&text, s, 1)))
            .collect()
    };
    Ok(Intent {
        name,
        kind,
        patterns,
        department: file.department,
        reply: file.reply.clone(),
        examples: lines(&file.examples),
        counter_examples: lines(&file.counter_examples),
        path: path.to_owned(),
    })
}

fn kind(file: &RuleFile, name: &str) -> Result<IntentKind, String> {
    Ok(match file.action.as_str() {
        "handoff" => IntentKind::Action(IntentAction::HandOff {
            priority: file.priority.unwrap_or(Priority::Normal),
            reason: match file.reason.as_deref() {
                Some("asked") => HandoffReason::Asked,
                Some("complaint") => HandoffReason::Complaint,
                _ => HandoffReason::Intent(name.to_owned()),
            },
        }),
        "reply" => IntentKind::Action(IntentAction::Reply),
        "cancel" => IntentKind::Action(IntentAction::Cancel),
        "order" => IntentKind::Action(IntentAction::OrderStatus),
        "answer" => IntentKind::Action(IntentAction::Answer(
            file.faq
                .clone()
                .ok_or("action `answer` needs `faq = \"<entry id>\"`")?,
        )),
        "capture" => IntentKind::Capture {
            group: file
                .capture
                .clone()
                .ok_or("action `capture` needs `capture = \"<group name>\"`")?,
        },
        other => {
            return Err(format!(
                "unknown action `{other}` (expected one of: {ACTIONS})"
            ));
        }
    })
}

fn line_containing(text: &str, needle: &str, default: usize) -> usize {
    let quoted = toml::Value::String(needle.to_owned()).to_string();
    text.lines()
        .position(|l| l.contains(needle) || l.contains(quoted.trim_matches('"')))
        .map_or(default, |i| i + 1)
}

impl Intent {
    pub fn matches(&self, normalised: &str) -> bool {
        self.patterns.iter().any(|re| re.is_match(normalised))
    }

    pub fn captures<'a>(
        &'a self,
        normalised: &'a str,
        group: &'a str,
    ) -> impl Iterator<Item = (usize, String)> + 'a {
        self.patterns
            .iter()
            .flat_map(move |re| re.captures_iter(normalised))
            // A group named `not` that took part says what follows rules the match out
            // ("ordine 1500 euro": an amount), where a look-ahead would (regex has none).
            .filter(|c| c.name("not").is_none())
            .filter_map(move |c| {
                c.name(group)
                    .map(|m| (m.start(), m.as_str().to_uppercase()))
            })
    }

    pub fn hit(&self) -> IntentHit {
        let action = match &self.kind {
            IntentKind::Action(a) => a.clone(),
            IntentKind::Capture { .. } => IntentAction::Reply,
        };
        IntentHit {
            name: self.name.clone(),
            action,
            department: self.department.clone(),
        }
    }

    pub fn reply_text(&self, lang: Lang) -> Option<&str> {
        self.reply
            .get(lang.code())
            .or_else(|| self.reply.values().next())
            .map(String::as_str)
    }
}
