//! Intent rules: named regex patterns over normalised text (lowercase, no accents,
//! chat shorthand expanded), one TOML file each in `intents/`, with an action and the
//! examples and counter-examples that prove the patterns.

mod rule;

pub use rule::{Intent, IntentKind};

use crate::diagnostics::Diagnostic;
use crate::domain::triage::{IntentAction, IntentHit};
use std::path::Path;

/// A value an intent captured from a message, such as an order number.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Capture {
    pub intent: String,
    pub value: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Classification {
    pub hit: Option<IntentHit>,
    pub captures: Vec<Capture>,
}

#[derive(Debug, Clone, Default)]
pub struct Intents {
    pub rules: Vec<Intent>,
}

impl Intents {
    /// Load every `*.toml` in `dir`; a broken file is reported and skipped. Examples
    /// and counter-examples are checked too.
    pub fn load_dir(dir: &Path) -> (Intents, Vec<Diagnostic>) {
        let mut diagnostics = Vec::new();
        let mut paths: Vec<_> = match std::fs::read_dir(dir) {
            Ok(items) => items
                .filter_map(|i| i.ok().map(|i| i.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "toml"))
                .collect(),
            Err(e) => {
                let d = Diagnostic::error(dir, 1, format!("cannot read the intents folder: {e}"))
                    .hint("pass the folder with --intents DIR");
                return (Intents::default(), vec![d]);
            }
        };
        paths.sort();
        let mut rules: Vec<Intent> = Vec::new();
        for path in paths {
            match rule::load(&path) {
                Ok(r) if rules.iter().any(|o| o.name == r.name) => diagnostics.push(
                    Diagnostic::error(&path, 1, format!("duplicate intent name `{}`", r.name))
                        .hint("names default to the file name: rename one"),
                ),
                Ok(r) => rules.push(r),
                Err(d) => diagnostics.push(d),
            }
        }
        let intents = Intents { rules };
        diagnostics.extend(intents.verify_examples());
        (intents, diagnostics)
    }

    /// Which action intent wins on `normalised` text, and what capture intents found.
    /// Order: cancel, hand-offs (highest priority first), answers, replies.
    pub fn classify(&self, normalised: &str) -> Classification {
        let mut out = Classification::default();
        let mut best: Option<(u8, &Intent)> = None;
        for rule in &self.rules {
            match &rule.kind {
                IntentKind::Capture { group } => {
                    out.captures
                        .extend(rule.captures(normalised, group).map(|value| Capture {
                            intent: rule.name.clone(),
                            value,
                        }));
                }
                IntentKind::Action(action) if rule.matches(normalised) => {
                    let rank = rank(action);
                    if best.is_none_or(|(r, _)| rank > r) {
                        best = Some((rank, rule));
                    }
                }
                IntentKind::Action(_) => {}
            }
        }
        out.hit = best.map(|(_, rule)| rule.hit());
        out
    }

    pub fn get(&self, name: &str) -> Option<&Intent> {
        self.rules.iter().find(|r| r.name == name)
    }

    /// Every example must select its own intent (or capture something); no
    /// counter-example may.
    pub fn verify_examples(&self) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        for rule in &self.rules {
            for (example, line) in &rule.examples {
                if !self.selects(rule, example) {
                    let got = self
                        .classify(&crate::text::normalise(example))
                        .hit
                        .map(|h| h.name);
                    out.push(
                        Diagnostic::error(
                            &rule.path,
                            *line,
                            format!(
                                "example {example:?} does not select `{}` (got {got:?})",
                                rule.name
                            ),
                        )
                        .hint("widen a pattern, or move the example"),
                    );
                }
            }
            for (counter, line) in &rule.counter_examples {
                if self.selects(rule, counter) {
                    out.push(
                        Diagnostic::error(
                            &rule.path,
                            *line,
                            format!("counter-example {counter:?} selects `{}`", rule.name),
                        )
                        .hint("narrow the pattern that matches it"),
                    );
                }
            }
        }
        out
    }

    fn selects(&self, rule: &Intent, text: &str) -> bool {
        let normalised = crate::text::normalise(text);
        let found = self.classify(&normalised);
        match rule.kind {
            IntentKind::Capture { .. } => found.captures.iter().any(|c| c.intent == rule.name),
            IntentKind::Action(_) => found.hit.is_some_and(|h| h.name == rule.name),
        }
    }
}

fn rank(action: &IntentAction) -> u8 {
    match action {
        IntentAction::Cancel => 200,
        IntentAction::HandOff { priority, .. } => 100 + *priority as u8,
        IntentAction::OrderStatus => 60,
        IntentAction::Answer(_) => 50,
        IntentAction::Reply => 10,
    }
}
