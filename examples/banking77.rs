//! The matching benchmark on BANKING77 (PolyAI, CC-BY-4.0; not in this repository):
//! each intent becomes one FAQ entry whose questions are k training utterances, and the
//! test set runs through the same code as `sportello eval`.
//!
//! `cargo run --release --example banking77 [-- DATA_DIR] [--quick] [--config FILE]`
//! (DATA_DIR defaults to ../shared/data/banking77; `--quick` is CI's smoke run: a few
//! intents, one seed, no latency tables; `--config FILE` with an `[embeddings]` section
//! runs the out-of-scope set and the first k=10 seed again with semantic evidence.)
//!
//! `--tune` never reads test.jsonl: it holds out every 5th training utterance of each
//! intent as a validation set and prints accuracy and the out-of-scope trade-off for a
//! range of thresholds. The shipped defaults were chosen from its output.

use serde::Deserialize;
use sportello::config::Config;
use sportello::domain::Lang;
use sportello::matcher::{Brain, Embedder, EvalCase, evaluate};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(Deserialize)]
struct Row {
    text: String,
    intent: String,
}

/// Kept out of the FAQ for the out-of-scope run: every 4th intent in sorted order.
fn out_of_scope(intents: &[String]) -> Vec<String> {
    intents.iter().step_by(4).take(20).cloned().collect()
}

/// The rows of a JSON lines file, with intent names made into FAQ ids
/// (`reverted_card_payment?` -> `reverted_card_payment_`).
fn read(path: &Path) -> Vec<Row> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e}\nhint: pass the BANKING77 folder (train.jsonl, test.jsonl)",
            path.display()
        )
    });
    let id = |s: &str| {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    text.lines()
        .map(|l| serde_json::from_str::<Row>(l).expect("a {text, intent} line"))
        .map(|r| Row {
            intent: id(&r.intent),
            ..r
        })
        .collect()
}

/// A FAQ folder with one entry per intent: `k` utterances drawn with `seed` (all if None).
fn write_faq(
    dir: &Path,
    by_intent: &BTreeMap<String, Vec<String>>,
    k: Option<usize>,
    seed: u64,
    skip: &[String],
) {
    let en = dir.join("en");
    std::fs::create_dir_all(&en).unwrap();
    for (intent, texts) in by_intent.iter().filter(|(i, _)| !skip.contains(i)) {
        let questions = match k {
            Some(k) => sample(texts, k, seed),
            None => texts.clone(),
        };
        let front = format!(
            "+++\nquestions = {}\n+++\nAnswer about {intent}.\n",
            serde_json::to_string(&questions).unwrap()
        );
        std::fs::write(en.join(format!("{intent}.md")), front).unwrap();
    }
}

/// `k` items drawn without replacement (xorshift, fixed seed).
fn sample(items: &[String], k: usize, seed: u64) -> Vec<String> {
    let mut idx: Vec<usize> = (0..items.len()).collect();
    let mut s = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    for i in (1..idx.len()).rev() {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        idx.swap(i, (s % (i as u64 + 1)) as usize);
    }
    idx.into_iter().take(k).map(|i| items[i].clone()).collect()
}

fn load(faq: &Path, intents: &Path) -> (Brain, f64) {
    let start = Instant::now();
    let (brain, diagnostics) = Brain::load(faq, intents, Config::default().matching, None);
    let errors: Vec<_> = diagnostics
        .iter()
        .filter(|d| d.severity == sportello::diagnostics::Severity::Error)
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    (brain, start.elapsed().as_secs_f64())
}

/// The embeddings endpoint of the configuration at `path` (its `[embeddings]`).
fn embedder(path: Option<&str>) -> std::sync::Arc<Embedder> {
    let path = path.unwrap_or_else(|| panic!("--config needs a file"));
    let config = Config::load(Some(Path::new(path))).unwrap_or_else(|e| panic!("{e}"));
    let settings = config
        .embeddings
        .unwrap_or_else(|| panic!("{path}: no [embeddings] section"));
    Embedder::new(settings, &Embedder::default_cache_dir()).unwrap_or_else(|e| panic!("{e}"))
}

fn cases(test: &[Row], oos: &[String]) -> Vec<EvalCase> {
    test.iter()
        .map(|r| {
            let expected = if oos.contains(&r.intent) {
                "handoff".to_owned()
            } else {
                r.intent.clone()
            };
            serde_json::from_value(
                serde_json::json!({"text": r.text, "expected": expected, "lang": "en"}),
            )
            .unwrap()
        })
        .collect()
}

/// Per-message latency of analysis + triage, in microseconds: (p50, p99, messages/s).
fn latency(brain: &Brain, texts: &[&str]) -> (f64, f64, f64) {
    let mut us: Vec<f64> = Vec::with_capacity(texts.len());
    let start = Instant::now();
    for text in texts {
        let t = Instant::now();
        std::hint::black_box(brain.first_message(text, Some(Lang::En)));
        us.push(t.elapsed().as_secs_f64() * 1e6);
    }
    let rate = texts.len() as f64 / start.elapsed().as_secs_f64();
    us.sort_by(f64::total_cmp);
    let pct = |p: f64| us[((us.len() - 1) as f64 * p) as usize];
    (pct(0.5), pct(0.99), rate)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    let config_at = args.iter().position(|a| a == "--config").map(|i| i + 1);
    let data = args
        .iter()
        .enumerate()
        .find(|(i, a)| !a.starts_with("--") && Some(*i) != config_at)
        .map_or_else(
            || PathBuf::from("../shared/data/banking77"),
            |(_, a)| PathBuf::from(a),
        );
    let embedder = config_at.map(|i| embedder(args.get(i).map(String::as_str)));
    let mut train = read(&data.join("train.jsonl"));
    if args.iter().any(|a| a == "--tune") {
        return tune(&train);
    }
    let mut test = read(&data.join("test.jsonl"));
    let mut by_intent: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in &train {
        by_intent
            .entry(r.intent.clone())
            .or_default()
            .push(r.text.clone());
    }
    if quick {
        let keep: Vec<String> = by_intent.keys().take(8).cloned().collect();
        by_intent.retain(|k, _| keep.contains(k));
        train.retain(|r| keep.contains(&r.intent));
        test.retain(|r| keep.contains(&r.intent));
    }
    let intents: Vec<String> = by_intent.keys().cloned().collect();
    let work = tempdir();
    let no_intents = work.join("intents");
    std::fs::create_dir_all(&no_intents).unwrap();
    let in_scope = cases(&test, &[]);
    println!(
        "BANKING77: {} intents, {} train, {} test utterances{}",
        intents.len(),
        train.len(),
        test.len(),
        if quick { " (quick)" } else { "" }
    );
    println!(
        "\n| run | top-1 | answered precision | handoff recall | load+train s |\n|---|---|---|---|---|"
    );
    let seeds: Vec<u64> = if quick { vec![1] } else { (1..=5).collect() };
    let mut k10 = Vec::new();
    for &seed in &seeds {
        let dir = work.join(format!("k10-{seed}"));
        write_faq(&dir, &by_intent, Some(10), seed, &[]);
        let (brain, secs) = load(&dir, &no_intents);
        let r = evaluate(&brain, &in_scope);
        println!(
            "| k=10, seed {seed} | {:.1}% | {:.1}% | - | {secs:.2} |",
            r.accuracy * 100.0,
            r.answered_precision * 100.0
        );
        k10.push(r.accuracy);
    }
    let mean = k10.iter().sum::<f64>() / k10.len() as f64;
    println!(
        "| **k=10, mean of {}** | **{:.1}%** | | | |",
        k10.len(),
        mean * 100.0
    );
    let all = work.join("all");
    write_faq(&all, &by_intent, None, 0, &[]);
    let (brain, all_secs) = load(&all, &no_intents);
    let r = evaluate(&brain, &in_scope);
    println!(
        "| **k=all** | **{:.1}%** | {:.1}% | - | {all_secs:.2} |",
        r.accuracy * 100.0,
        r.answered_precision * 100.0
    );
    let oos = out_of_scope(&intents);
    let dir = work.join("oos");
    write_faq(&dir, &by_intent, None, 0, &oos);
    let (oos_brain, secs) = load(&dir, &no_intents);
    let r = evaluate(&oos_brain, &cases(&test, &oos));
    println!(
        "| out of scope ({} intents held out) | {:.1}% | **{:.1}%** | **{:.1}%** | {secs:.2} |",
        oos.len(),
        r.accuracy * 100.0,
        r.answered_precision * 100.0,
        r.handoff_recall * 100.0
    );
    println!("  (coverage {:.1}%)", r.coverage * 100.0);
    if let Some(embedder) = &embedder {
        let start = Instant::now();
        let brain = oos_brain.with_embeddings(Some(embedder.clone()));
        let secs = start.elapsed().as_secs_f64();
        let r = evaluate(&brain, &cases(&test, &oos));
        println!(
            "| out of scope, with embeddings | {:.1}% | **{:.1}%** | **{:.1}%** | {secs:.2} (embedding) |",
            r.accuracy * 100.0,
            r.answered_precision * 100.0,
            r.handoff_recall * 100.0
        );
        println!("  (coverage {:.1}%)", r.coverage * 100.0);
        let dir = work.join("k10-1");
        let (brain, _) = load(&dir, &no_intents);
        let brain = brain.with_embeddings(Some(embedder.clone()));
        let r = evaluate(&brain, &in_scope);
        println!(
            "| k=10, seed 1, with embeddings | {:.1}% | {:.1}% | - | |",
            r.accuracy * 100.0,
            r.answered_precision * 100.0
        );
    }
    println!("\nheld out: {}", oos.join(", "));
    if quick {
        return;
    }
    let texts: Vec<&str> = test.iter().map(|r| r.text.as_str()).collect();
    let (p50, p99, rate) = latency(&brain, &texts);
    println!("\n| FAQ | build s | p50 us | p99 us | messages/s |\n|---|---|---|---|---|");
    println!(
        "| 77 entries, {} variants | {all_secs:.2} | {p50:.0} | {p99:.0} | {rate:.0} |",
        train.len()
    );
    let synth: BTreeMap<String, Vec<String>> = (0..1000)
        .map(|i| {
            (
                format!("synthetic-{i:04}"),
                sample(
                    &train.iter().map(|r| r.text.clone()).collect::<Vec<_>>(),
                    10,
                    i + 7,
                ),
            )
        })
        .collect();
    let dir = work.join("synthetic");
    write_faq(&dir, &synth, None, 0, &[]);
    let (big, secs) = load(&dir, &no_intents);
    let (p50, p99, rate) = latency(&big, &texts);
    println!("| 1,000 entries, 10,000 variants | {secs:.2} | {p50:.0} | {p99:.0} | {rate:.0} |");
    let _ = std::fs::remove_dir_all(&work);
}

/// Thresholds and model choices on a validation split of train (test is never read).
fn tune(train: &[Row]) {
    let mut fit: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut validation = Vec::new();
    for (i, r) in train.iter().enumerate() {
        if i % 5 == 4 {
            validation.push(Row {
                text: r.text.clone(),
                intent: r.intent.clone(),
            });
        } else {
            fit.entry(r.intent.clone())
                .or_default()
                .push(r.text.clone());
        }
    }
    let intents: Vec<String> = fit.keys().cloned().collect();
    let work = tempdir();
    let no_intents = work.join("intents");
    std::fs::create_dir_all(&no_intents).unwrap();
    println!(
        "validation: {} fit, {} held",
        train.len() - validation.len(),
        validation.len()
    );
    for (name, k) in [("k=10", Some(10)), ("k=all", None)] {
        let dir = work.join(name);
        write_faq(&dir, &fit, k, 1, &[]);
        let (brain, secs) = load(&dir, &no_intents);
        let r = evaluate(&brain, &cases(&validation, &[]));
        println!("{name}: top-1 {:.1}% ({secs:.2} s)", r.accuracy * 100.0);
    }
    let oos = out_of_scope(&intents);
    let dir = work.join("oos");
    write_faq(&dir, &fit, None, 0, &oos);
    let (mut brain, _) = load(&dir, &no_intents);
    let cases = cases(&validation, &oos);
    println!("\n| threshold | answered precision | handoff recall | coverage |\n|---|---|---|---|");
    for step in 6..=18 {
        brain.settings.threshold = step as f32 * 0.05;
        let r = evaluate(&brain, &cases);
        println!(
            "| {:.2} | {:.1}% | {:.1}% | {:.1}% |",
            brain.settings.threshold,
            r.answered_precision * 100.0,
            r.handoff_recall * 100.0,
            r.coverage * 100.0
        );
    }
    let _ = std::fs::remove_dir_all(&work);
}

fn tempdir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sportello-banking77-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
