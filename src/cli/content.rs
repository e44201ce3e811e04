//! `check`, `ask` and `eval`: the editors' and the developers' view of matching.

use crate::diagnostics::Diagnostic;
use crate::domain::Lang;
use crate::matcher::{Brain, EvalCase, evaluate};
use anyhow::Context;
use serde_json::json;
use std::path::Path;
use std::process::ExitCode;

pub fn check(cli: &super::Cli) -> anyhow::Result<ExitCode> {
    let config = cli.config()?;
    let (brain, mut diagnostics) = Brain::load(&cli.faq, &cli.intents, config.matching, None);
    diagnostics.extend(brain.conflicts());
    diagnostics.extend(brain.unknown_departments(|d| config.departments.contains_key(d)));
    diagnostics.extend(orders_warning(cli, &config));
    diagnostics.extend(no_entries_warning(cli, &brain));
    for d in &diagnostics {
        println!("{d}");
    }
    let errors = diagnostics
        .iter()
        .filter(|d| d.severity == crate::diagnostics::Severity::Error)
        .count();
    let drafts = match brain.faq.drafts() {
        0 => String::new(),
        1 => " (and 1 draft, not served)".to_owned(),
        n => format!(" (and {n} drafts, not served)"),
    };
    println!(
        "{}{drafts}, {}: {}, {}",
        super::counted(brain.faq.entries().len(), "FAQ entry", "FAQ entries"),
        super::counted(brain.intents.rules().len(), "intent", "intents"),
        super::counted(errors, "error", "errors"),
        super::counted(diagnostics.len() - errors, "warning", "warnings"),
    );
    for lang in Lang::ALL {
        if brain.faq.entries().iter().any(|e| e.lang == lang) {
            println!("{}", calibration_line(lang, &brain.faq.calibration(lang)));
        }
    }
    Ok(if errors > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// A FAQ folder that reads but serves no entry (empty, or drafts only): every question
/// would go to a person. A warning, as `bench` refuses to measure it.
fn no_entries_warning(cli: &super::Cli, brain: &Brain) -> Option<Diagnostic> {
    (brain.faq.entries().is_empty() && cli.faq.is_dir()).then(|| {
        Diagnostic::warning(
            &cli.faq,
            1,
            "no FAQ entry to serve here: the bot would answer no question and hand every \
             one to a person",
        )
        .hint("write entries as `*.md` files (the sample's faq/ shows the form), or pass the folder with --faq DIR")
    })
}

/// `[orders]` set while its keys are missing from this environment (or its url is
/// wrong): `serve` would refuse to start (a warning: `check` may run where the shop's
/// secrets are not).
fn orders_warning(cli: &super::Cli, config: &crate::config::Config) -> Option<Diagnostic> {
    config.orders.provider?;
    let missing = cli.orders(config).err()?;
    let file = cli
        .config
        .clone()
        .unwrap_or_else(|| "sportello.toml".into());
    let text = std::fs::read_to_string(&file).unwrap_or_default();
    let line = text
        .lines()
        .position(|l| l.trim() == "[orders]")
        .map_or(1, |n| n + 1);
    let mut said = format!("{missing:#}")
        .lines()
        .map(str::to_owned)
        .collect::<Vec<_>>();
    let hint = said
        .iter()
        .position(|l| l.trim_start().starts_with("hint:"))
        .map(|i| {
            said.remove(i)
                .trim_start()
                .trim_start_matches("hint:")
                .trim()
                .to_owned()
        });
    let warning = Diagnostic::warning(
        &file,
        line,
        format!("{}; `serve` refuses to start this way", said.join(" ")),
    );
    Some(match hint {
        Some(hint) => warning.hint(hint),
        None => warning,
    })
}

/// What the folder's calibration learnt, in the editors' words.
fn calibration_line(lang: Lang, c: &crate::faq::calibration::Calibration) -> String {
    if c.questions == 0 && c.left_out == 0 {
        return format!(
            "confidence ({lang}): fewer than three entries to learn from; the built-in calibration is used"
        );
    }
    if c.questions == 0 {
        return format!(
            "confidence ({lang}): no entry has two questions, so only out-of-scope questions ({}) were learnt from: the bot answers less\n  hint: give each entry three to five questions in the customers' own words",
            c.left_out
        );
    }
    format!(
        "confidence ({lang}): calibrated on the folder itself: {} of {} held-out questions found their own entry ({:.0}%), {} questions of left-out entries played out of scope{}",
        c.found,
        c.questions,
        100.0 * c.found as f64 / c.questions as f64,
        c.left_out,
        if c.found * 2 < c.questions {
            "\n  hint: entries whose questions share few words with each other are hard to match; add questions in the customers' own words (`sportello faq suggest`)"
        } else {
            ""
        }
    )
}

/// Print the store's inconsistencies; true if there are none.
pub fn check_store(store: &crate::store::Store) -> anyhow::Result<bool> {
    let problems = store.verify()?;
    for p in &problems {
        println!("store: {p}");
    }
    println!("store: {} problems", problems.len());
    Ok(problems.is_empty())
}

pub fn ask(brain: &Brain, text: &str, lang: Option<Lang>, json: bool) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        !text.trim().is_empty(),
        "nothing to ask about: the message is empty\n  hint: sportello ask \"quanto costa la spedizione?\""
    );
    let (analysis, decision, reason) = brain.first_message(text, lang);
    let lang = analysis.lang;
    let candidates: Vec<_> = analysis
        .candidates
        .iter()
        .zip(&analysis.evidence)
        .map(|(c, e)| {
            json!({
                "faq_id": c.faq_id,
                "confidence": round(c.confidence),
                "threshold": round(c.threshold),
                "department": c.department,
                "off_topic": c.off_topic,
                "features": {"raw": round(e.raw), "lexical": round(e.lexical), "model": round(e.model),
                             "semantic": e.semantic.map(round)},
                "matched_question": e.matched_question,
            })
        })
        .collect();
    if json {
        let out = json!({
            "text": text,
            "lang": lang,
            "normalised": analysis.normalised,
            "decision": decision,
            "cause": reason.cause,
            "reason": reason.text,
            "intent": analysis.intent.as_ref().map(|i| &i.name),
            "captures": analysis.captures,
            "semantic_error": analysis.semantic_error,
            "candidates": candidates,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("decision: {} ({reason})", decision.kind());
    if let Some(intent) = &analysis.intent {
        println!("intent:   {}", intent.name);
    }
    if let Some(why) = &analysis.semantic_error {
        println!("semantic: off for this message ({why})");
    }
    for (c, e) in analysis.candidates.iter().zip(&analysis.evidence) {
        let semantic = e
            .semantic
            .map(|s| format!(" semantic {s:.2}"))
            .unwrap_or_default();
        println!(
            "  {:.2}  {:<28} evidence {:.2}: lexical {:.2} model {:.2}{semantic}  {:?}",
            c.confidence, c.faq_id, e.raw, e.lexical, e.model, e.matched_question
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn round(x: f32) -> f64 {
    (f64::from(x) * 1000.0).round() / 1000.0
}

pub fn eval(brain: &Brain, path: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut cases = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let case: EvalCase = serde_json::from_str(line).with_context(|| {
            format!("{}:{}: not a case\n  hint: each line is {{\"text\": \"...\", \"expected\": \"<faq id>|<intent>|handoff\"}}", path.display(), i + 1)
        })?;
        let known = case.expected == crate::matcher::HANDOFF
            || brain.faq.entry(&case.expected).is_some()
            || brain.intents.get(&case.expected).is_some();
        if !known {
            eprintln!(
                "{}:{}: warning: expected `{}` is no FAQ entry or intent of this content \
                 (nor `handoff`): the case can only miss",
                path.display(),
                i + 1,
                case.expected
            );
        }
        cases.push(case);
    }
    // Nothing measured is no score (an empty file would read as 100%).
    anyhow::ensure!(
        !cases.is_empty(),
        "{} holds no cases\n  hint: each line is {{\"text\": \"...\", \"expected\": \"<faq id>|<intent>|handoff\"}}",
        path.display()
    );
    let report = evaluate(brain, &cases);
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(ExitCode::SUCCESS);
    }
    // What an editor would look at: a wrong answer, a wrong best match, or a case the
    // bot left unanswered that it should have answered (a handoff by the expected
    // intent, "human", is right).
    let looked_at: Vec<_> = report
        .results
        .iter()
        .filter(|r| {
            let wrong_answer = r.answered.as_ref().is_some_and(|a| *a != r.expected);
            let answerable = r.expected != "handoff";
            let wrong_best = answerable && r.predicted.as_deref() != Some(&r.expected);
            let unanswered = answerable && r.answered.is_none() && r.decision != "handoff";
            wrong_answer || wrong_best || unanswered
        })
        .collect();
    if !looked_at.is_empty() {
        println!(
            "  cases answered wrong or not answered (decision, confidence, expected, best match, text):"
        );
    }
    for r in looked_at {
        println!(
            "  {:<9} {:.2} expected {:<26} got {:<26} {:?}",
            r.decision,
            r.confidence,
            r.expected,
            r.predicted.as_deref().unwrap_or("-"),
            r.text
        );
    }
    // A share of no cases is no figure: "-" (the JSON keeps 1.0 beside its counts).
    let pct = |share: f64, of: usize| {
        if of == 0 {
            "- (no cases)".to_owned()
        } else {
            format!("{:.1}%", share * 100.0)
        }
    };
    println!(
        "cases {}  accuracy {}  answered {}  answered_precision {}  handoff_recall {}  coverage {}",
        report.cases,
        pct(report.accuracy, report.answerable_cases),
        report.answered,
        pct(report.answered_precision, report.answered),
        pct(report.handoff_recall, report.handoff_cases),
        pct(report.coverage, report.answerable_cases)
    );
    println!(
        "  accuracy and coverage: best match right, and answered, among the {} cases that expect an entry or intent; answered_precision: right among the {} answered; handoff_recall: not answered among the {} `handoff` cases",
        report.answerable_cases, report.answered, report.handoff_cases
    );
    Ok(ExitCode::SUCCESS)
}
