//! Matching latency and cold start at FAQ sizes a shop may reach, with real customer
//! wording: BANKING77 (PolyAI, CC-BY-4.0) turned into FAQ folders of 77, 1,000 and
//! 10,000 entries (its training questions as the entries' questions), queried with its
//! test set. The folders are written as Markdown files, so cold start includes reading
//! and parsing them.

use crate::matcher::{Brain, MatchSettings};
use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Instant;

#[derive(Debug, Deserialize)]
pub struct Labelled {
    pub text: String,
    pub intent: String,
}

/// Read `train.jsonl` or `test.jsonl` of the data set.
pub fn read(dir: &Path, file: &str) -> anyhow::Result<Vec<Labelled>> {
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "reading {}\n  hint: pass --banking77 DIR, a folder with BANKING77's train.jsonl and test.jsonl (README, \"Benchmarks\")",
            path.display()
        )
    })?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| {
            serde_json::from_str(l).with_context(|| format!("{}:{}", path.display(), n + 1))
        })
        .collect()
}

/// Latency of one `analyse` call (first message: the language is guessed too).
#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    pub entries: usize,
    pub questions: usize,
    pub queries: usize,
    pub p50_us: f64,
    pub p99_us: f64,
}

/// Group the training questions into `entries` FAQ entries (77: one per intent; more:
/// consecutive questions of the same intent split evenly) and write them under
/// `dir/en/`.
pub fn write_faq(dir: &Path, train: &[Labelled], entries: usize) -> anyhow::Result<usize> {
    let mut sorted: Vec<&Labelled> = train.iter().collect();
    sorted.sort_by(|a, b| a.intent.cmp(&b.intent));
    let groups: Vec<Vec<&Labelled>> = if entries <= 77 {
        sorted
            .chunk_by(|a, b| a.intent == b.intent)
            .map(<[_]>::to_vec)
            .collect()
    } else {
        let n = entries.min(sorted.len());
        (0..n)
            .map(|i| sorted[i * sorted.len() / n..(i + 1) * sorted.len() / n].to_vec())
            .collect()
    };
    let en = dir.join("en");
    std::fs::create_dir_all(&en)?;
    for (n, group) in groups.iter().enumerate() {
        let questions: Vec<&str> = group.iter().map(|l| l.text.as_str()).collect();
        let body = format!(
            "+++\nid = \"b77-{n:05}\"\nquestions = {}\n+++\nAbout {}: here is what to do, step by step, from the app or the website.\n",
            serde_json::to_string(&questions)?,
            group[0].intent.replace('_', " ")
        );
        std::fs::write(en.join(format!("b77-{n:05}.md")), body)?;
    }
    Ok(groups.len())
}

/// Load `faq` with `intents` as `serve` does and time it: until it can answer (the
/// index), then until its classifiers are trained. The trained brain is returned for
/// the latency run.
pub fn cold_start(
    faq: &Path,
    intents: &Path,
    settings: MatchSettings,
) -> anyhow::Result<(Brain, f64, f64)> {
    let start = Instant::now();
    let (brain, diagnostics) = Brain::load_untrained(faq, intents, settings, None);
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    brain.faq.train();
    let trained_ms = start.elapsed().as_secs_f64() * 1000.0;
    if let Some(d) = diagnostics
        .iter()
        .find(|d| d.severity == crate::diagnostics::Severity::Error)
    {
        anyhow::bail!("the generated FAQ did not load: {d}");
    }
    Ok((brain, ms, trained_ms))
}

pub fn latency(brain: &Brain, queries: &[Labelled]) -> Latency {
    let mut micros: Vec<f64> = queries
        .iter()
        .map(|q| {
            let start = Instant::now();
            std::hint::black_box(brain.analyse(&q.text, None));
            start.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    micros.sort_by(f64::total_cmp);
    Latency {
        entries: brain.faq_set.entries.len(),
        questions: brain
            .faq_set
            .entries
            .iter()
            .map(|e| e.questions.len())
            .sum(),
        queries: micros.len(),
        p50_us: percentile(&micros, 0.50),
        p99_us: percentile(&micros, 0.99),
    }
}

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}
