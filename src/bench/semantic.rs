//! What the semantic evidence (`[embeddings]`) adds to each message: the shop's own
//! content answering its own questions and intent examples as first messages, with and
//! without the endpoint's evidence, on the same machine in the same run.

use crate::config::Config;
use crate::matcher::{Brain, Embedder};
use crate::service::ContentDirs;
use serde::Serialize;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Instant;

/// Latency per first message with and without the semantic evidence.
#[derive(Debug, Clone, Serialize)]
pub struct SemanticLatency {
    pub url: String,
    pub messages: usize,
    pub p50_ms_without: f64,
    pub p99_ms_without: f64,
    pub p50_ms_with: f64,
    pub p99_ms_with: f64,
    /// Median added by the endpoint's evidence (with minus without).
    pub added_ms_p50: f64,
    /// Calls to the endpoint that failed during the run (each one a message matched
    /// without it).
    pub failures: u64,
    /// Whether the confidence was calibrated with the semantic evidence (the held-out
    /// questions embedded) before the run.
    pub calibrated: bool,
}

/// Time `texts` as first messages against the content of `content`, with the endpoint
/// of `config`'s `[embeddings]` (its vectors cached under `cache`) and without; None
/// when `[embeddings]` is not set.
pub fn measure(
    content: &ContentDirs,
    config: &Config,
    texts: &[String],
    cache: &Path,
) -> anyhow::Result<Option<SemanticLatency>> {
    let Some(settings) = config.embeddings.clone() else {
        return Ok(None);
    };
    let url = settings.url.clone();
    let embedder = Embedder::new(settings, cache)?;
    let without = super::content_brain(content, config)?;
    let with = super::content_brain(content, config)?.with_embeddings(Some(embedder.clone()));
    let calibrated = crate::domain::Lang::ALL
        .into_iter()
        .any(|l| with.faq.semantic_calibration(l).is_some());
    let before = embedder.failures.load(Ordering::Relaxed);
    let time = |brain: &Brain| {
        let mut ms: Vec<f64> = texts
            .iter()
            .map(|t| {
                let start = Instant::now();
                std::hint::black_box(brain.first_message(t, None));
                start.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        ms.sort_by(f64::total_cmp);
        ms
    };
    let (plain, semantic) = (time(&without), time(&with));
    let p = super::matching::percentile;
    Ok(Some(SemanticLatency {
        url,
        messages: texts.len(),
        p50_ms_without: p(&plain, 0.5),
        p99_ms_without: p(&plain, 0.99),
        p50_ms_with: p(&semantic, 0.5),
        p99_ms_with: p(&semantic, 0.99),
        added_ms_p50: p(&semantic, 0.5) - p(&plain, 0.5),
        failures: embedder.failures.load(Ordering::Relaxed) - before,
        calibrated,
    }))
}
