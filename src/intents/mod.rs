//! Intent rules: named regex patterns over normalised text (lowercase, no accents,
//! chat shorthand expanded), one TOML file each in `intents/`, with an action and the
//! examples and counter-examples that prove the patterns.

mod rule;

pub use rule::{Intent, IntentKind};

use crate::diagnostics::Diagnostic;
use crate::domain::triage::{IntentAction, IntentHit};
use regex::RegexSet;
use std::ops::Range;
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

/// The rules, and every pattern of every rule in one [`RegexSet`]: a message is scanned
/// once for all of them (one lazy DFA, one cache from its pool) instead of once per
/// pattern; only a capture rule whose pattern matched runs its own regexes, to extract.
#[derive(Debug, Clone, Default)]
pub struct Intents {
    rules: Vec<Intent>,
    /// None when the patterns together are too large for one set: each rule is then
    /// tried on its own, with the same result.
    set: Option<RegexSet>,
    /// The positions in `set` of each rule's patterns.
    spans: Vec<Range<usize>>,
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
        let intents = Intents::new(rules);
        diagnostics.extend(intents.verify_examples());
        (intents, diagnostics)
    }

    /// The rules, with their patterns gathered in one set.
    pub fn new(rules: Vec<Intent>) -> Intents {
        let mut spans = Vec::with_capacity(rules.len());
        let mut patterns = Vec::new();
        for rule in &rules {
            let start = patterns.len();
            patterns.extend(rule.patterns.iter().map(|re| re.as_str()));
            spans.push(start..patterns.len());
        }
        let set = RegexSet::new(patterns)
            .inspect_err(|e| tracing::warn!("intent patterns tried one by one: {e}"))
            .ok();
        Intents { rules, set, spans }
    }

    /// The rules, in file name order.
    pub fn rules(&self) -> &[Intent] {
        &self.rules
    }

    /// Which action intent wins on `normalised` text, and what capture intents found.
    /// Order: cancel, hand-offs (highest priority first), answers, replies.
    pub fn classify(&self, normalised: &str) -> Classification {
        let mut out = Classification::default();
        let mut best: Option<(u8, &Intent)> = None;
        let found = self.set.as_ref().map(|set| set.matches(normalised));
        let matches = |i: usize, rule: &Intent| match &found {
            Some(found) => self.spans[i].clone().any(|p| found.matched(p)),
            None => rule.matches(normalised),
        };
        // (where it was written, the capture)
        let mut captured: Vec<(usize, Capture)> = Vec::new();
        for (i, rule) in self.rules.iter().enumerate() {
            match &rule.kind {
                IntentKind::Capture { group } if matches(i, rule) => {
                    captured.extend(rule.captures(normalised, group).map(|(at, value)| {
                        let intent = rule.name.clone();
                        (at, Capture { intent, value })
                    }));
                }
                IntentKind::Capture { .. } => {}
                IntentKind::Action(action) if matches(i, rule) => {
                    let rank = rank(action);
                    if best.is_none_or(|(r, _)| rank > r) {
                        best = Some((rank, rule));
                    }
                }
                IntentKind::Action(_) => {}
            }
        }
        // In the order written, whatever rule found them; a value written twice, or
        // captured by two patterns ("pf-998877" by both), once, where written last.
        captured.sort_by_key(|(at, _)| *at);
        for (_, capture) in captured {
            out.captures.retain(|c| *c != capture);
            out.captures.push(capture);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The set finds what trying each rule's patterns one by one finds, on every
    /// example, counter-example and labelled case of the sample content.
    #[test]
    fn one_scan_of_the_set_classifies_as_every_pattern_alone() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let (intents, diagnostics) = Intents::load_dir(&root.join("intents"));
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        assert!(intents.set.is_some());
        let alone = Intents {
            set: None,
            ..intents.clone()
        };
        let mut texts: Vec<String> = Vec::new();
        for rule in intents.rules() {
            texts.extend(rule.examples.iter().map(|(t, _)| t.clone()));
            texts.extend(rule.counter_examples.iter().map(|(t, _)| t.clone()));
        }
        for file in ["it.jsonl", "en.jsonl"] {
            let cases = std::fs::read_to_string(root.join("tests/eval").join(file)).unwrap();
            for line in cases.lines().filter(|l| !l.trim().is_empty()) {
                let case: serde_json::Value = serde_json::from_str(line).unwrap();
                texts.push(case["text"].as_str().unwrap().to_owned());
            }
        }
        texts.push("ordine 123456 e ordine PF-998877, voglio un operatore subito".into());
        let mut hits = 0;
        for text in &texts {
            let normalised = crate::text::normalise(text);
            let found = intents.classify(&normalised);
            assert_eq!(found, alone.classify(&normalised), "{text}");
            hits += usize::from(found.hit.is_some() || !found.captures.is_empty());
        }
        assert!(
            hits > 50,
            "only {hits} of {} texts matched a rule",
            texts.len()
        );
        let both = intents.classify(&crate::text::normalise(texts.last().unwrap()));
        assert_eq!(both.captures.len(), 2, "{both:?}");
    }

    /// A value written again is listed where it was written last: the last order a
    /// customer names is the one they mean.
    #[test]
    fn a_value_written_twice_counts_where_it_was_written_last() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let (intents, _) = Intents::load_dir(&root.join("intents"));
        let text = "ordine PF-111111, anzi no: ordine 222222... scusate, era proprio PF-111111";
        let found = intents.classify(&crate::text::normalise(text));
        let values: Vec<&str> = found.captures.iter().map(|c| c.value.as_str()).collect();
        assert_eq!(values, ["222222", "PF-111111"], "{found:?}");
    }

    /// A number followed by a currency or a unit is an amount: the shipped rule's `not`
    /// group drops it, and only it.
    #[test]
    fn an_amount_after_ordine_is_not_an_order_number() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let (intents, _) = Intents::load_dir(&root.join("intents"));
        let captured = |text: &str| -> Vec<String> {
            let found = intents.classify(&crate::text::normalise(text));
            found.captures.into_iter().map(|c| c.value).collect()
        };
        for amount in [
            "ho fatto un ordine 1500 euro",
            "ordine 4500€ e ancora niente",
            "an order 12000 dollars worth",
            "ordine 2000 pezzi",
        ] {
            assert_eq!(captured(amount), Vec::<String>::new(), "{amount}");
        }
        assert_eq!(captured("il mio ordine 1500 non arriva"), ["1500"]);
        assert_eq!(captured("ordine 123456 da 50 euro"), ["123456"]);
        assert_eq!(captured("order #4521, 30 euro"), ["4521"]);
    }

    /// Two capture rules: their values in the order written, not in file order.
    #[test]
    fn captures_of_two_rules_keep_the_order_written() {
        let dir = tempfile::tempdir().unwrap();
        let rule = |group: &str, word: &str| {
            format!(
                r#"description = "{group}"
action = "capture"
capture = "{group}"
patterns = ['''\b{word} (?P<{group}>\d{{5}})\b''']
examples = ["{word} 12345"]
"#
            )
        };
        std::fs::write(dir.path().join("a-order.toml"), rule("order", "ordine")).unwrap();
        std::fs::write(dir.path().join("b-case.toml"), rule("case", "pratica")).unwrap();
        let (intents, diagnostics) = Intents::load_dir(dir.path());
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        let found = intents.classify("pratica 22222 per l'ordine 11111");
        let values: Vec<&str> = found.captures.iter().map(|c| c.value.as_str()).collect();
        assert_eq!(values, ["22222", "11111"], "{found:?}");
    }

    /// `order-check` names the bot's own handoff after a failed order check (the
    /// console's order card says "failed" for it): a rule of that name, by key or by
    /// file name, is refused with its line, and the other rules still load.
    #[test]
    fn a_rule_cannot_take_the_name_of_the_bots_order_check() {
        let dir = tempfile::tempdir().unwrap();
        let rule = "description = \"x\"\naction = \"handoff\"\npatterns = ['rimborso']\n";
        std::fs::write(dir.path().join("order-check.toml"), rule).unwrap();
        let named = format!("name = \"order-check\"\n{rule}");
        std::fs::write(dir.path().join("refund.toml"), named).unwrap();
        let fine = rule.replace("rimborso", "reso");
        std::fs::write(dir.path().join("returns.toml"), fine).unwrap();
        let (intents, diagnostics) = Intents::load_dir(dir.path());
        assert_eq!(diagnostics.len(), 2, "{diagnostics:?}");
        for d in &diagnostics {
            let shown = d.to_string();
            assert!(shown.contains("`order-check` is the bot's own"), "{shown}");
        }
        assert!(
            diagnostics
                .iter()
                .any(|d| d.to_string().contains("refund.toml:1:"))
        );
        let names: Vec<&str> = intents.rules().iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["returns"]);
    }
}
