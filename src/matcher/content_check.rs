//! What the loaded content tells its editors: question variants that rank another
//! entry first, departments the configuration lacks, intents that answer with an entry
//! that is not served (`sportello check`, the console's problems).

use super::Brain;
use crate::diagnostics::{Diagnostic, Severity};

impl Brain {
    /// Question variants that rank another entry first: a warning for the editors.
    pub fn conflicts(&self) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        for entry in self.faq.entries() {
            for q in &entry.questions {
                let hits = self.faq.search(&crate::text::normalise(q), entry.lang, 2);
                let Some(top) = hits.first() else { continue };
                let winner = &self.faq.entries()[top.entry];
                let folded = crate::text::normalise(q);
                let shared = winner
                    .questions
                    .iter()
                    .any(|w| crate::text::normalise(w) == folded);
                if winner.id != entry.id && shared {
                    // The same question in two entries: the other wins it, and customers
                    // who ask it are offered both.
                    out.push(
                        Diagnostic::warning(
                            &entry.path,
                            1,
                            format!("question {q:?} is also a question of `{}`", winner.id),
                        )
                        .hint(format!(
                            "keep it in the one entry that answers it: here or in {}",
                            winner.path.display()
                        )),
                    );
                } else if winner.id != entry.id {
                    out.push(
                        Diagnostic::warning(
                            &entry.path,
                            1,
                            format!(
                                "question {q:?} ranks `{}` first ({:.2})",
                                winner.id, top.confidence
                            ),
                        )
                        .hint(format!(
                            "reword it, or move it to {}",
                            winner.path.display()
                        )),
                    );
                }
            }
        }
        out
    }

    /// FAQ entries and intents that send handoffs to a department the configuration
    /// does not have (`known` says which it has): warnings for the editors, as such a
    /// handoff still reaches people, in the default department.
    pub fn unknown_departments(&self, known: impl Fn(&str) -> bool) -> Vec<Diagnostic> {
        let faq = self
            .faq
            .entries()
            .iter()
            .filter_map(|e| Some((&e.path, e.department.as_deref()?)));
        let intents = self
            .intents
            .rules()
            .iter()
            .filter_map(|r| Some((&r.path, r.department.as_deref()?)));
        faq.chain(intents)
            .filter(|(_, department)| !known(department))
            .map(|(path, department)| {
                Diagnostic::warning(
                    path,
                    1,
                    format!("department `{department}` is not configured"),
                )
                .hint(
                    "name a [departments.NAME] of sportello.toml; until then its handoffs \
                     go to the department the customer's words or the FAQ match name, \
                     else to default_department",
                )
            })
            .collect()
    }

    /// Intent replies copied from the sample content that still name its shop while
    /// the FAQ folder never does: a new shop's customers would be welcomed by another.
    pub(super) fn check_sample_shop(&self) -> Vec<Diagnostic> {
        const SAMPLE_SHOP: &str = "Passo & Filo";
        let ours = self
            .faq
            .entries()
            .iter()
            .any(|e| e.answer.contains(SAMPLE_SHOP));
        if ours {
            return Vec::new();
        }
        self.intents
            .rules()
            .iter()
            .filter(|r| r.reply.values().any(|t| t.contains(SAMPLE_SHOP)))
            .map(|r| {
                Diagnostic::warning(
                    &r.path,
                    1,
                    format!("the reply names the sample shop «{SAMPLE_SHOP}», which this FAQ folder never names"),
                )
                .hint("write your shop's name and topics in its [reply] (the shipped greeting, start and goodbye are the sample shop's)")
            })
            .collect()
    }

    pub(super) fn check_answer_targets(&self) -> Vec<Diagnostic> {
        use crate::domain::triage::IntentAction;
        use crate::intents::IntentKind;
        self.intents
            .rules()
            .iter()
            .filter_map(|r| match &r.kind {
                IntentKind::Action(IntentAction::Answer(id)) if self.faq.entry(id).is_none() => {
                    Some(
                        Diagnostic::error(
                            &r.path,
                            1,
                            format!("`faq = \"{id}\"` names no served FAQ entry"),
                        )
                        .hint("use the id of an entry in faq/ (its file name)"),
                    )
                }
                _ => None,
            })
            .collect()
    }
}

/// Whether any diagnostic is an error (for `check`'s exit code).
pub fn has_errors(diagnostics: &[Diagnostic]) -> bool {
    diagnostics.iter().any(|d| d.severity == Severity::Error)
}
