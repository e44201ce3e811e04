//! The FAQ grows from customers' words: the gaps grouped, drafts that are never
//! served, and a wording an operator marked becoming a reviewable question.

use crate::support::{copy_dir, repo, sportello_ok};
use std::path::Path;

const SCRIPT: &str = r#"{"at":"2026-03-02T09:00:00Z","customer":"web:c1","lang":"it","text":"vendete anche biciclette elettriche?"}
{"at":"2026-03-02T09:10:00Z","customer":"web:c2","lang":"it","text":"avete biciclette elettriche?"}
{"at":"2026-03-02T09:20:00Z","customer":"web:c3","lang":"it","text":"biciclette elettriche ne avete?"}
{"at":"2026-03-02T09:21:00Z","customer":"web:c3","text":"e a pedalata assistita?"}
{"at":"2026-03-02T09:30:00Z","operator":"anna","claim":"web:c3"}
{"at":"2026-03-02T09:31:00Z","operator":"anna","reply":"web:c3","text":"No, vendiamo solo abbigliamento e scarpe."}
{"at":"2026-03-02T09:32:00Z","operator":"anna","close":"web:c3"}
{"at":"2026-03-02T10:00:00Z","customer":"web:c4","lang":"it","text":"ho bisogno della ricevuta intestata alla mia ditta"}
{"at":"2026-03-02T10:01:00Z","customer":"web:c4","text":"il commercialista vuole il documento per la ditta"}
{"at":"2026-03-02T10:05:00Z","operator":"anna","claim":"web:c4"}
{"at":"2026-03-02T10:06:00Z","operator":"anna","reply":"web:c4","text":"Spunta «Richiedo fattura» al checkout."}
{"at":"2026-03-02T10:07:00Z","operator":"anna","close":"web:c4","faq":"fattura"}
"#;

/// A store with the script replayed, and a copy of the sample content to edit.
fn setup(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let (data, faq) = (dir.join("data"), dir.join("faq"));
    copy_dir(&repo().join("faq"), &faq);
    std::fs::write(dir.join("script.jsonl"), SCRIPT).unwrap();
    let script = dir.join("script.jsonl");
    sportello_ok(&data, &["replay", script.to_str().unwrap()]);
    (data, faq)
}

fn run(data: &Path, faq: &Path, args: &[&str]) -> String {
    let mut all = vec!["--faq", faq.to_str().unwrap()];
    all.extend_from_slice(args);
    sportello_ok(data, &all)
}

#[test]
fn gaps_group_what_customers_asked_and_drafts_are_never_served() {
    let dir = tempfile::tempdir().unwrap();
    let (data, faq) = setup(dir.path());
    let gaps: serde_json::Value =
        serde_json::from_str(&run(&data, &faq, &["faq", "gaps", "--json"])).unwrap();
    let top = &gaps[0];
    assert_eq!(top["count"], 3, "{gaps:#}");
    assert_eq!(top["examples"].as_array().unwrap().len(), 3);
    assert!(
        top["words"]
            .as_array()
            .unwrap()
            .contains(&"biciclette".into())
    );
    assert_eq!(
        top["operator_replies"],
        serde_json::json!(["No, vendiamo solo abbigliamento e scarpe."])
    );
    let drafts = faq.join("_drafts");
    run(
        &data,
        &faq,
        &["faq", "drafts", "--out", drafts.to_str().unwrap()],
    );
    let written: Vec<_> = std::fs::read_dir(drafts.join("it")).unwrap().collect();
    assert_eq!(written.len(), 1, "only the gap asked at least twice");
    let text = std::fs::read_to_string(written[0].as_ref().unwrap().path()).unwrap();
    assert!(text.contains("draft = true") && text.contains("\"avete biciclette elettriche?\""));
    assert!(
        text.contains("> No, vendiamo solo abbigliamento e scarpe."),
        "{text}"
    );
    // The draft loads cleanly and is not served.
    let check = run(&data, &faq, &["check"]);
    assert!(check.contains(": 0 errors"), "{check}");
    let ask = run(
        &data,
        &faq,
        &["ask", "avete biciclette elettriche?", "--json"],
    );
    let ask: serde_json::Value = serde_json::from_str(&ask).unwrap();
    assert_eq!(ask["decision"]["decision"], "fallback", "{ask:#}");
}

#[test]
fn a_wording_marked_as_answered_by_an_entry_becomes_its_question_through_a_diff() {
    let dir = tempfile::tempdir().unwrap();
    let (data, faq) = setup(dir.path());
    let wording = "il commercialista vuole il documento per la ditta";
    let diff = run(&data, &faq, &["faq", "suggest"]);
    assert!(diff.contains("fattura.md\n@@ "), "{diff}");
    assert!(diff.contains(&format!("+  \"{wording}\",")), "{diff}");
    let untouched = std::fs::read_to_string(faq.join("it/fattura.md")).unwrap();
    assert!(!untouched.contains(wording), "suggest alone writes nothing");
    run(&data, &faq, &["faq", "suggest", "--apply"]);
    let applied = std::fs::read_to_string(faq.join("it/fattura.md")).unwrap();
    assert!(applied.contains(wording));
    let ask = run(&data, &faq, &["ask", wording, "--json"]);
    let ask: serde_json::Value = serde_json::from_str(&ask).unwrap();
    assert_eq!(ask["decision"]["faq_id"], "fattura", "{ask:#}");
    assert_eq!(
        run(&data, &faq, &["faq", "suggest"]),
        "",
        "nothing left to add"
    );
}
