//! The FAQ grows from customers' words: the gaps grouped, drafts that are never
//! served, and a wording an operator marked becoming a reviewable question.

use crate::support::{Place, copy_dir, repo, sportello_ok};
use std::path::Path;

const SCRIPT: &str = r#"{"at":"2026-02-01T09:00:00Z","customer":"web:c8","lang":"it","text":"vendete anche i monopattini?"}
{"at":"2026-03-02T09:00:00Z","customer":"web:c1","lang":"it","text":"vendete anche biciclette elettriche?"}
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
{"at":"2026-03-02T10:06:30Z","customer":"web:c4","text":"ok perfetto, a posto così"}
{"at":"2026-03-02T10:07:00Z","operator":"anna","close":"web:c4","faq":"fattura"}
{"at":"2026-03-02T10:30:00Z","customer":"web:c7","lang":"it","text":"voglio parlare con un operatore"}
{"at":"2026-03-02T10:31:00Z","customer":"web:c7","text":"serve un documento fiscale per il rimborso spese aziendale"}
{"at":"2026-03-02T10:35:00Z","operator":"anna","claim":"web:c7"}
{"at":"2026-03-02T10:36:00Z","operator":"anna","reply":"web:c7","text":"Spunta «Richiedo fattura» al checkout."}
{"at":"2026-03-02T10:37:00Z","customer":"web:c7","text":"benissimo allora lo rifaccio"}
{"at":"2026-03-02T10:38:00Z","operator":"anna","close":"web:c7","faq":"fattura"}
{"at":"2026-03-02T10:40:00Z","customer":"web:c8","text":"voglio parlare con un operatore"}
{"at":"2026-03-02T10:41:00Z","customer":"web:c8","text":"la ditta ha bisogno del documento con la partita iva"}
{"at":"2026-03-02T10:45:00Z","operator":"anna","claim":"web:c8"}
{"at":"2026-03-02T10:46:00Z","operator":"anna","reply":"web:c8","text":"Spunta «Richiedo fattura» al checkout."}
{"at":"2026-03-02T10:47:00Z","operator":"anna","close":"web:c8","faq":"fattura"}
{"at":"2026-03-02T10:50:00Z","customer":"web:c9","lang":"it","text":"mi intestate lo scontrino alla societa?"}
{"at":"2026-03-02T10:51:00Z","customer":"web:c9","text":"voglio parlare con un operatore"}
{"at":"2026-03-02T10:52:00Z","customer":"web:c9","text":"annulla"}
{"at":"2026-03-02T10:53:00Z","customer":"web:c9","text":"voglio parlare con un operatore"}
{"at":"2026-03-02T10:55:00Z","operator":"anna","claim":"web:c9"}
{"at":"2026-03-02T10:56:00Z","operator":"anna","reply":"web:c9","text":"Spunta «Richiedo fattura» al checkout."}
{"at":"2026-03-02T10:57:00Z","operator":"anna","close":"web:c9","faq":"fattura"}
{"at":"2026-03-02T11:00:00Z","customer":"web:c5","lang":"it","text":"5 6"}
{"at":"2026-03-02T11:01:00Z","customer":"web:c6","lang":"it","text":"5 6"}
"#;

/// A store with the script replayed, and a copy of the sample content to edit.
fn setup(place: &Place) -> (std::path::PathBuf, std::path::PathBuf) {
    let dir = place.files();
    let (data, faq) = (place.data(), dir.join("faq"));
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
    let place = Place::new();
    let (data, faq) = setup(&place);
    let gaps: serde_json::Value =
        serde_json::from_str(&run(&data, &faq, &["faq", "gaps", "--json"])).unwrap();
    let top = &gaps[0];
    assert_eq!(top["count"], 3, "{gaps:#}");
    // «5 6» names no topic: it is no gap of the FAQ, nor an unanswered question in the
    // report (a late survey score, most often), though the bot missed it twice.
    let report: serde_json::Value =
        serde_json::from_str(&run(&data, &faq, &["report", "--json"])).unwrap();
    let unanswered = report["top_unanswered"].as_array().unwrap();
    assert!(
        !unanswered.is_empty() && unanswered.iter().all(|u| u["text"] != "5 6"),
        "{report:#}"
    );
    assert!(report["fallbacks"].as_u64().unwrap() >= 2, "{report:#}");
    assert!(
        gaps.as_array()
            .unwrap()
            .iter()
            .all(|g| !g["words"].as_array().unwrap().is_empty()),
        "{gaps:#}"
    );
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
        text.contains("\nChiesto 3 volte, il 2026-03-02.\n"),
        "{text}"
    );
    assert!(
        text.contains("> No, vendiamo solo abbigliamento e scarpe."),
        "{text}"
    );
    // The draft loads cleanly and is not served.
    let check = run(&data, &faq, &["check"]);
    assert!(check.contains(": 0 errors"), "{check}");
    assert!(check.contains("(and 1 draft, not served)"), "{check}");
    let ask = run(
        &data,
        &faq,
        &["ask", "avete biciclette elettriche?", "--json"],
    );
    let ask: serde_json::Value = serde_json::from_str(&ask).unwrap();
    assert_eq!(ask["decision"]["decision"], "fallback", "{ask:#}");
    // Published as it was written (only `draft = true` taken out), it is refused: its
    // notes would tell customers to "write the answer here".
    let path = written[0].as_ref().unwrap().path();
    std::fs::write(&path, text.replace("draft = true\n", "")).unwrap();
    let out = crate::support::sportello(&data, &["--faq", faq.to_str().unwrap(), "check"], "");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{said}");
    assert!(
        said.contains("the answer still has the draft's notes"),
        "{said}"
    );
    // Half edited (the first note replaced by an answer, the quoted replies left): still
    // refused, at the line of what is left.
    let first_note = text
        .lines()
        .find(|l| l.starts_with("Bozza scritta da"))
        .unwrap();
    let half = text
        .replace("draft = true\n", "")
        .replace(first_note, "No, le biciclette non le vendiamo.");
    std::fs::write(&path, &half).unwrap();
    let out = crate::support::sportello(&data, &["--faq", faq.to_str().unwrap(), "check"], "");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{said}");
    let line = 1 + half
        .lines()
        .position(|l| l.starts_with("Chiesto 3 volte"))
        .unwrap();
    let at = format!(
        "{}:{line}: error: the answer still has the draft's notes",
        path.display()
    );
    assert!(said.contains(&at), "{at}\n{said}");
    let ask = run(
        &data,
        &faq,
        &["ask", "avete biciclette elettriche?", "--json"],
    );
    let ask: serde_json::Value = serde_json::from_str(&ask).unwrap();
    assert_eq!(
        ask["decision"]["decision"], "fallback",
        "not served: {ask:#}"
    );
}

#[test]
fn a_wording_marked_as_answered_by_an_entry_becomes_its_question_through_a_diff() {
    let place = Place::new();
    let (data, faq) = setup(&place);
    let wording = "il commercialista vuole il documento per la ditta";
    let diff = run(&data, &faq, &["faq", "suggest"]);
    assert!(diff.contains("fattura.md\n@@ "), "{diff}");
    assert!(diff.contains(&format!("+  \"{wording}\",")), "{diff}");
    // Asked for a person first, then said what for, while waiting: that is the question.
    let explained = "serve un documento fiscale per il rimborso spese aziendale";
    assert!(diff.contains(&format!("+  \"{explained}\",")), "{diff}");
    // A question from another conversation (a month before) is not this ticket's; one
    // asked before a request for a person that was taken back and asked again is.
    assert!(
        diff.contains("+  \"la ditta ha bisogno del documento con la partita iva\","),
        "{diff}"
    );
    assert!(!diff.contains("monopattini"), "{diff}");
    assert!(
        diff.contains("+  \"mi intestate lo scontrino alla societa?\","),
        "{diff}"
    );
    // What they said once answered is not a question of the entry.
    for said_after in ["a posto così", "lo rifaccio"] {
        assert!(!diff.contains(said_after), "{diff}");
    }
    let untouched = std::fs::read_to_string(faq.join("it/fattura.md")).unwrap();
    assert!(!untouched.contains(wording), "suggest alone writes nothing");
    let apply = || {
        let args = ["--faq", faq.to_str().unwrap(), "faq", "suggest", "--apply"];
        let out = crate::support::sportello(&data, &args, "");
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let said = apply();
    assert!(said.contains("applied to 1 file(s)"), "{said}");
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
    let said = apply();
    assert!(said.contains("nothing to apply"), "{said}");
    assert!(!said.contains("applied"), "{said}");
    // Nothing to do is said, not an empty screen.
    let faq_arg = faq.to_str().unwrap();
    let again = crate::support::sportello(&data, &["--faq", faq_arg, "faq", "suggest"], "");
    let said = String::from_utf8_lossy(&again.stderr);
    assert!(
        again.status.success() && said.contains("nothing to suggest"),
        "{said}"
    );
    let drafts = place.files().join("drafts");
    let args = [
        "--faq",
        faq_arg,
        "faq",
        "drafts",
        "--out",
        drafts.to_str().unwrap(),
        "--min",
        "1000",
    ];
    let none = crate::support::sportello(&data, &args, "");
    let said = String::from_utf8_lossy(&none.stderr);
    assert!(
        none.status.success() && said.contains("nothing to draft"),
        "{said}"
    );
    assert!(!drafts.exists() || std::fs::read_dir(&drafts).unwrap().next().is_none());
}

const RENTALS: &str = r#"{"at":"2026-03-03T09:00:00Z","customer":"web:d1","name":"Giulia","lang":"it","text":"noleggiate gli sci da discesa?"}
{"at":"2026-03-03T09:01:00Z","customer":"web:d1","text":"si possono noleggiare gli sci?"}
{"at":"2026-03-03T09:05:00Z","operator":"anna","claim":"web:d1"}
{"at":"2026-03-03T09:06:00Z","operator":"anna","reply":"web:d1","text":"Ciao Giulia, anche con l'ordine 4455667 niente noleggio: vendiamo soltanto."}
{"at":"2026-03-03T09:07:00Z","operator":"anna","close":"web:d1"}
{"at":"2026-03-03T10:00:00Z","customer":"web:d2","name":"Marco","lang":"it","text":"noleggio sci disponibile?"}
{"at":"2026-03-03T10:01:00Z","customer":"web:d2","text":"sci a noleggio per una settimana?"}
{"at":"2026-03-03T10:05:00Z","operator":"anna","claim":"web:d2"}
{"at":"2026-03-03T10:06:00Z","operator":"anna","reply":"web:d2","text":"Ciao Marco, anche con l'ordine 7788991 niente noleggio: vendiamo soltanto."}
{"at":"2026-03-03T10:07:00Z","operator":"anna","close":"web:d2"}
{"at":"2026-03-03T11:00:00Z","customer":"web:d3","lang":"it","text":"noleggiate sci e scarponi?"}
{"at":"2026-03-03T11:01:00Z","customer":"web:d3","text":"sci noleggio?"}
{"at":"2026-03-03T11:05:00Z","operator":"anna","claim":"web:d3"}
{"at":"2026-03-03T11:06:00Z","operator":"anna","reply":"web:d3","text":"Sorry, we only sell skis, we do not rent them out."}
{"at":"2026-03-03T11:07:00Z","operator":"anna","close":"web:d3"}
"#;

#[test]
fn drafts_carry_operators_replies_once_without_names_or_order_numbers_in_one_language() {
    let place = Place::new();
    let (data, faq) = setup(&place);
    std::fs::write(place.files().join("rentals.jsonl"), RENTALS).unwrap();
    let script = place.files().join("rentals.jsonl");
    sportello_ok(&data, &["replay", script.to_str().unwrap()]);
    let gaps: serde_json::Value =
        serde_json::from_str(&run(&data, &faq, &["faq", "gaps", "--json"])).unwrap();
    let rentals = crate::support::gap_with(&gaps, |w| w.starts_with("nolegg") || w == "sci")
        .unwrap_or_else(|| panic!("{gaps:#}"));
    assert_eq!(
        rentals["operator_replies"],
        serde_json::json!([
            "Ciao {name}, anche con l'ordine {order} niente noleggio: vendiamo soltanto."
        ]),
        "{rentals:#}"
    );
    let drafts = faq.join("_drafts");
    run(
        &data,
        &faq,
        &["faq", "drafts", "--out", drafts.to_str().unwrap()],
    );
    let all: String = std::fs::read_dir(drafts.join("it"))
        .unwrap()
        .map(|f| std::fs::read_to_string(f.unwrap().path()).unwrap())
        .collect();
    for gone in ["Giulia", "Marco", "4455667", "7788991", "Sorry"] {
        assert!(!all.contains(gone), "{gone} in\n{all}");
    }
}

#[test]
fn gaps_skip_what_the_faq_now_answers_and_name_an_entry_that_comes_close() {
    let place = Place::new();
    let (data, faq) = setup(&place);
    let entry = |threshold: &str| {
        format!(
            "+++\nquestions = [\"vendete biciclette elettriche?\", \"avete biciclette elettriche?\", \"biciclette elettriche ne avete?\"]\n{threshold}+++\nNo: vendiamo abbigliamento e scarpe, niente biciclette.\n"
        )
    };
    let file = faq.join("it/biciclette.md");
    let bikes =
        |gaps: &serde_json::Value| crate::support::gap_with(gaps, |w| w == "biciclette").cloned();
    // An entry that answers them: the gap is gone.
    std::fs::write(&file, entry("")).unwrap();
    let gaps: serde_json::Value =
        serde_json::from_str(&run(&data, &faq, &["faq", "gaps", "--json"])).unwrap();
    assert!(bikes(&gaps).is_none(), "{gaps:#}");
    // An entry that only comes close (its own bar is out of reach): "add to it".
    std::fs::write(&file, entry("threshold = 0.999\n")).unwrap();
    let gaps: serde_json::Value =
        serde_json::from_str(&run(&data, &faq, &["faq", "gaps", "--json"])).unwrap();
    let gap = bikes(&gaps).unwrap_or_else(|| panic!("{gaps:#}"));
    assert_eq!(gap["close_to"], "biciclette", "{gap:#}");
    let drafts = faq.join("_drafts");
    let said = run(
        &data,
        &faq,
        &["faq", "drafts", "--out", drafts.to_str().unwrap()],
    );
    assert!(said.contains("close to entry `biciclette`"), "{said}");
    assert!(
        said.contains("+questions = [")
            && said.contains("\"vendete anche biciclette elettriche?\"]"),
        "{said}"
    );
    // Closeness is in the words: what the operator answered is kept as a draft too,
    // for the editor who finds the entry does not answer them.
    let written: Vec<String> = std::fs::read_dir(drafts.join("it"))
        .unwrap()
        .map(|f| std::fs::read_to_string(f.unwrap().path()).unwrap())
        .collect();
    assert_eq!(written.len(), 1, "{said}");
    assert!(
        written[0].contains("draft = true")
            && written[0].contains("No, vendiamo solo abbigliamento e scarpe."),
        "{}",
        written[0]
    );
}
