//! The sample content tests itself, and editors' mistakes are reported, not fatal.

use crate::support::{TestApp, repo};
use sportello::diagnostics::Severity;
use sportello::domain::OutboundKind;
use sportello::matcher::{Brain, EvalCase, evaluate};
use std::time::{Duration, Instant};

fn sample_brain() -> (
    &'static Brain,
    &'static [sportello::diagnostics::Diagnostic],
) {
    let (brain, diagnostics) = crate::support::sample_brain();
    (brain, diagnostics)
}

#[test]
fn the_sample_content_loads_without_errors_and_every_example_holds() {
    let (brain, diagnostics) = sample_brain();
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
    assert!(brain.faq.entries().len() >= 60);
    assert!(brain.intents.rules().len() >= 6);
}

#[test]
fn every_faq_question_ranks_its_own_entry_first() {
    let (brain, _) = sample_brain();
    let conflicts = brain.conflicts();
    assert!(conflicts.is_empty(), "{conflicts:#?}");
}

/// What a labelled case file measures, and the least it may measure.
struct Bars {
    accuracy: f64,
    precision: f64,
    recall: f64,
    coverage: f64,
}

fn measure(brain: &Brain, file: &std::path::Path, bars: &Bars) -> sportello::matcher::EvalReport {
    let text = std::fs::read_to_string(file).unwrap();
    let cases: Vec<EvalCase> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(cases.len() >= 100, "{}", file.display());
    let r = evaluate(brain, &cases);
    let measured = [
        ("top-1", r.accuracy, bars.accuracy),
        ("answered precision", r.answered_precision, bars.precision),
        ("handoff recall", r.handoff_recall, bars.recall),
        ("coverage", r.coverage, bars.coverage),
    ];
    for (what, value, bar) in measured {
        assert!(
            value >= bar,
            "{}: {what} {value:.3} < {bar}",
            file.display()
        );
    }
    r
}

#[test]
fn the_labelled_cases_meet_the_accuracy_and_precision_bars() {
    let (brain, _) = sample_brain();
    let bars = Bars {
        accuracy: 0.90,
        precision: 0.95,
        recall: 0.90,
        coverage: 0.5,
    };
    for file in ["it.jsonl", "en.jsonl"] {
        measure(brain, &repo().join("tests/eval").join(file), &bars);
    }
}

/// The development shops (`tests/shops-dev/`, written by helpers who never saw the
/// sample FAQ; the lexicon, the answer weight and the calibration's features were tuned
/// on them) keep what this tuning reached: each shop its floor, and the four together a
/// mean top-1 and precision above where the calibration alone left them (78.2%, 92.7%).
/// The held-out test shops (`tests/shops/`) are measured, never held to bars, so as not
/// to tune on them.
#[test]
fn matching_keeps_its_bars_on_the_development_shops() {
    let intents = repo().join("intents");
    let bars = Bars {
        accuracy: 0.76,
        precision: 0.90,
        recall: 0.93,
        coverage: 0.18,
    };
    let mut top1 = Vec::new();
    let mut precision = Vec::new();
    for shop in ["it-zampa", "it-bellezza", "en-spoke", "en-leaf"] {
        let dir = repo().join("tests/shops-dev").join(shop);
        let matching = sportello::config::Config::default().matching;
        let (brain, diagnostics) = Brain::load(&dir.join("faq"), &intents, matching, None);
        // The shop kept the sample's intents: only the replies that name the sample
        // shop are said, each once.
        let named: Vec<String> = diagnostics
            .iter()
            .filter(|d| d.message.contains("names the sample shop «Passo & Filo»"))
            .map(|d| d.path.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            named,
            ["goodbye.toml", "greeting.toml", "start.toml"],
            "{shop}"
        );
        assert_eq!(diagnostics.len(), 3, "{shop}: {diagnostics:#?}");
        assert_eq!(brain.faq.entries().len(), 30, "{shop}");
        let report = measure(&brain, &dir.join("cases.jsonl"), &bars);
        assert_eq!((report.answerable_cases, report.handoff_cases), (150, 50));
        top1.push(report.accuracy);
        precision.push(report.answered_precision);
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    assert!(mean(&top1) >= 0.80, "mean top-1 {:.3}", mean(&top1));
    assert!(
        mean(&precision) >= 0.93,
        "mean precision {:.3}",
        mean(&precision)
    );
}

/// A shop's own words (`faq/it/lexicon.txt`): a customer's "sabbietta" finds the entry
/// about "lettiera", which it did not before; `check` reports a line that reads nothing,
/// and the rest of the file still works.
#[test]
fn a_shops_own_lexicon_reads_its_customers_words() {
    let dir = tempfile::tempdir().unwrap();
    let faq = dir.path().join("faq");
    crate::support::copy_dir(&repo().join("tests/shops-dev/it-zampa/faq"), &faq);
    let intents = repo().join("intents");
    let message = "c è una sabbietta da buttare direttamente nel gabinetto?";
    let best = |brain: &Brain| {
        let (analysis, _, _) = brain.first_message(message, Some(sportello::domain::Lang::It));
        analysis.candidates.first().map(|c| c.faq_id.clone())
    };
    let matching = sportello::config::Config::default().matching;
    let (before, _) = Brain::load(&faq, &intents, matching, None);
    assert_ne!(best(&before).as_deref(), Some("tipi-lettiera"));
    std::fs::write(
        faq.join("it/lexicon.txt"),
        "# the words our customers use\nlettiera, sabbietta\ncrocchette\n",
    )
    .unwrap();
    let (after, diagnostics) = Brain::load(&faq, &intents, matching, None);
    assert_eq!(best(&after).as_deref(), Some("tipi-lettiera"));
    // Besides the sample intents' replies naming the sample shop: the lexicon's line.
    let lexicon: Vec<_> = diagnostics
        .iter()
        .filter(|d| d.path.ends_with("it/lexicon.txt"))
        .collect();
    assert_eq!(lexicon.len(), 1, "{diagnostics:#?}");
    assert_eq!(lexicon[0].severity, Severity::Warning);
    assert_eq!(diagnostics.len(), 4, "{diagnostics:#?}");
    let data = dir.path().join("data");
    let out = crate::support::sportello(&data, &["--faq", faq.to_str().unwrap(), "check"], "");
    let said =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(said.contains("lexicon.txt:3"), "{said}");
}

#[test]
fn a_broken_faq_file_is_reported_with_its_line_and_the_rest_still_answers() {
    let app = TestApp::with_own_content();
    let broken = app.dirs.faq.join("it/rotto.md");
    std::fs::write(
        &broken,
        "+++\nquestions = [\"domanda rotta?\"]\ncolore = \"rosso\"\n+++\nRisposta.\n",
    )
    .unwrap();
    let diagnostics = app.service.reload(&app.dirs);
    let d = diagnostics
        .iter()
        .find(|d| d.path == broken)
        .expect("the broken file is reported");
    assert_eq!((d.line, d.severity), (3, Severity::Error));
    assert!(
        d.to_string()
            .starts_with(&format!("{}:3: error:", broken.display())),
        "{d}"
    );
    let mut app = app;
    let out = app.say("terminal:e", "quanto costa la spedizione?");
    assert_eq!(out[0].text, app.answer_of("costi-di-spedizione"));
}

#[test]
fn an_entry_too_large_to_serve_well_is_a_warning_and_still_served() {
    let app = TestApp::with_own_content();
    let big = app.dirs.faq.join("it/garanzia-lunga.md");
    let questions: Vec<String> = (0..301)
        .map(|n| format!("\"garanzia del prodotto numero {n}?\""))
        .collect();
    let answer = "La garanzia dura due anni dalla consegna. ".repeat(120);
    std::fs::write(
        &big,
        format!(
            "+++\nquestions = [{}]\n+++\n{answer}\n",
            questions.join(", ")
        ),
    )
    .unwrap();
    let diagnostics = app.service.reload(&app.dirs);
    let said: Vec<String> = diagnostics
        .iter()
        .filter(|d| d.path == big)
        .map(|d| {
            assert_eq!(d.severity, Severity::Warning, "{d}");
            d.to_string()
        })
        .collect();
    assert_eq!(said.len(), 2, "{said:#?}");
    let chars = answer.trim().chars().count();
    assert!(
        said[0].contains(&format!(
            "the answer is {chars} characters, long to read in a chat (Telegram and WhatsApp split what passes 4096)"
        )),
        "{said:#?}"
    );
    assert!(said[1].contains("301 questions"), "{said:#?}");
    let mut app = app;
    let out = app.say("terminal:g", "garanzia del prodotto numero 7?");
    assert_eq!(out[0].kind, OutboundKind::Answer, "{out:?}");
}

#[test]
fn a_bad_edit_leaves_the_previous_version_of_the_entry_serving() {
    let mut app = TestApp::with_own_content();
    let path = app.dirs.faq.join("it/costi-di-spedizione.md");
    std::fs::write(
        &path,
        "+++\nquestions = [\"quanto costa la spedizione?\"\n+++\nnuova risposta\n",
    )
    .unwrap();
    let diagnostics = app.service.reload(&app.dirs);
    assert!(
        diagnostics
            .iter()
            .any(|d| d.path == path && d.to_string().contains("previous version")),
        "{diagnostics:?}"
    );
    let out = app.say("terminal:e", "quanto costa la spedizione?");
    assert_eq!(out[0].kind, OutboundKind::Answer);
    assert!(
        out[0].text.contains("4,90") || out[0].text.contains("4.90"),
        "{}",
        out[0].text
    );
}

#[test]
fn edits_to_the_faq_folder_are_picked_up_while_running() {
    let mut app = TestApp::with_own_content();
    let (tx, rx) = std::sync::mpsc::channel();
    let _watcher = sportello::faq::watch(&[app.dirs.faq.clone()], move || {
        let _ = tx.send(());
    })
    .unwrap();
    std::fs::write(
        app.dirs.faq.join("it/ombrelli.md"),
        "+++\nquestions = [\"Vendete ombrelli?\", \"avete ombrelli pieghevoli?\"]\n+++\nSì, gli ombrelli sono nella sezione Accessori.\n",
    )
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.service.brain().faq.entry("ombrelli").is_none() && Instant::now() < deadline {
        if rx.recv_timeout(Duration::from_millis(100)).is_ok() {
            app.service.reload(&app.dirs);
        }
    }
    let out = app.say("terminal:w", "vendete ombrelli?");
    assert!(out[0].text.contains("Accessori"), "{out:?}");
}

#[test]
fn draft_entries_are_not_served() {
    let mut app = TestApp::with_own_content();
    std::fs::create_dir_all(app.dirs.faq.join("_drafts")).unwrap();
    std::fs::write(
        app.dirs.faq.join("_drafts/ombrelli.md"),
        "+++\nlang = \"it\"\ndraft = true\nquestions = [\"Vendete ombrelli?\"]\n+++\nBozza.\n",
    )
    .unwrap();
    assert!(app.service.reload(&app.dirs).is_empty());
    let out = app.say("terminal:d", "vendete ombrelli?");
    assert!(out.iter().all(|m| !m.text.contains("Bozza")), "{out:?}");
}

#[test]
fn a_stray_copy_of_an_faq_file_never_replaces_the_live_answer() {
    let dir = tempfile::tempdir().unwrap();
    let faq = dir.path().join("faq");
    crate::support::copy_dir(&repo().join("faq"), &faq);
    let original = std::fs::read_to_string(faq.join("it/rimborsi.md")).unwrap();
    let (answer_start, _) = original.rsplit_once("+++").unwrap().1.trim().split_at(20);
    // A backup copy: same id (the file name is only its default), an old answer. It
    // sorts before the original.
    let stray = faq.join("it/rimborsi-copia.md");
    let copy = original.replacen("+++\n", "+++\nid = \"rimborsi\"\n", 1);
    let copy = format!(
        "{}+++\nVECCHIA RISPOSTA\n",
        copy.rsplit_once("+++").unwrap().0
    );
    std::fs::write(&stray, copy).unwrap();
    let (set, diagnostics) = sportello::faq::load_dir(&faq, None);
    let served = set.get("rimborsi").unwrap();
    assert_eq!(served.path, faq.join("it/rimborsi.md"));
    assert!(served.answer.trim().starts_with(answer_start));
    let blamed: Vec<_> = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.path.clone())
        .collect();
    assert_eq!(blamed, std::slice::from_ref(&stray), "{diagnostics:?}");
    assert!(
        diagnostics
            .iter()
            .any(|d| d.message.contains("duplicate id `rimborsi`")),
        "{diagnostics:?}"
    );

    // An entry already serving keeps serving when a newcomer claims its id, even one
    // named after the id.
    let serving = faq.join("it/politica-resi.md");
    std::fs::write(
        &serving,
        "+++\nid = \"resi-speciali\"\nquestions = [\"resi speciali?\"]\n+++\nQuella in servizio.\n",
    )
    .unwrap();
    std::fs::remove_file(&stray).unwrap();
    let (before, _) = sportello::faq::load_dir(&faq, None);
    let newcomer = faq.join("it/resi-speciali.md");
    std::fs::write(
        &newcomer,
        "+++\nquestions = [\"resi speciali?\"]\n+++\nLa nuova.\n",
    )
    .unwrap();
    let (after, diagnostics) = sportello::faq::load_dir(&faq, Some(&before));
    assert_eq!(after.get("resi-speciali").unwrap().path, serving);
    assert!(
        diagnostics
            .iter()
            .any(|d| d.path == newcomer && d.message.contains("duplicate id")),
        "{diagnostics:?}"
    );
}
