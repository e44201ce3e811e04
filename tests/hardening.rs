//! What an attacker and an unlucky machine ran into: removed accounts, login bursts,
//! slow connections, a flood of logins, a damaged store, a clashing webhook path.
//! `sportello serve` as a child process, plain HTTP from several loopback addresses.

use crate::support::browser::{PASSWORD, Server};
use crate::support::http::{connect_from, request, request_from};
use crate::support::{sportello, sportello_ok};
use serde_json::json;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

fn login_from(source: &str, addr: &str, name: &str, password: &str) -> u16 {
    let body = json!({"name": name, "password": password}).to_string();
    request_from(source, addr, "POST", "/api/v1/login", &[], Some(&body)).status
}

#[test]
fn a_removed_operators_sessions_and_tokens_never_come_back_when_the_name_is_reused() {
    let server = Server::start(&[("boss", "assistenza"), ("anna", "assistenza")]);
    let addr = server.addr();
    let (cookie, csrf) = crate::support::http::api_login(&addr, "anna");
    let headers = [("Cookie", cookie.as_str()), ("X-CSRF-Token", csrf.as_str())];
    let r = request(&addr, "POST", "/api/v1/tokens", &headers, Some("{}"));
    assert_eq!(r.status, 200, "{}", r.body);
    let token = format!("Bearer {}", r.json()["token"].as_str().unwrap());
    let data = server.stop();

    let removed = sportello_ok(&data.data(), &["operator", "remove", "anna"]);
    assert!(removed.contains("removed"), "{removed}");
    // The name comes back, now as an admin: the old secrets must open nothing.
    let out = sportello(
        &data.data(),
        &[
            "operator",
            "add",
            "anna",
            "--department",
            "vendite",
            "--role",
            "admin",
        ],
        &format!("{PASSWORD}\n"),
    );
    assert!(out.status.success(), "{out:?}");
    let server = Server::spawn(data);
    let addr = server.addr();
    let by_cookie = request(
        &addr,
        "GET",
        "/api/v1/me",
        &[("Cookie", cookie.as_str())],
        None,
    );
    assert_eq!(by_cookie.status, 401, "{}", by_cookie.body);
    let by_token = request(
        &addr,
        "GET",
        "/api/v1/me",
        &[("Authorization", token.as_str())],
        None,
    );
    assert_eq!(by_token.status, 401, "{}", by_token.body);
    assert_eq!(by_token.json()["code"], "unauthorized");
}

#[test]
fn a_burst_of_logins_gets_at_most_five_password_checks_and_never_locks_out_the_owner() {
    let server = Server::start(&[("anna", "assistenza")]);
    let addr = server.addr();
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let burst: Vec<_> = (0..20)
            .map(|_| s.spawn(|| login_from("127.0.0.1", &addr, "anna", "guess guess")))
            .collect();
        burst.into_iter().map(|t| t.join().unwrap()).collect()
    });
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((checked, refused), (5, 15), "{statuses:?}");
    // The attacker's address stays locked for that name, even with the right password...
    assert_eq!(login_from("127.0.0.1", &addr, "anna", PASSWORD), 429);
    // ...but anna, from her own address, still gets in.
    assert_eq!(login_from("127.0.0.2", &addr, "anna", PASSWORD), 200);
}

#[test]
fn behind_a_trusted_proxy_the_forwarded_address_is_the_one_locked() {
    let config = "[web]\ntrusted_proxies = [\"127.0.0.1\"]\n";
    let server = Server::start_with(&[("anna", "assistenza")], Some(config), &[]);
    let addr = server.addr();
    let login = |client: &str, password: &str| {
        let body = json!({"name": "anna", "password": password}).to_string();
        let headers = [("X-Forwarded-For", client)];
        request(&addr, "POST", "/api/v1/login", &headers, Some(&body)).status
    };
    for _ in 0..5 {
        assert_eq!(login("203.0.113.9", "guess guess"), 401);
    }
    assert_eq!(
        login("203.0.113.9", PASSWORD),
        429,
        "the attacker's address"
    );
    assert_eq!(
        login("198.51.100.7", PASSWORD),
        200,
        "the proxy's other client"
    );
    // A client that is not a trusted proxy cannot pick its address with the header.
    let body = json!({"name": "anna", "password": PASSWORD}).to_string();
    let headers = [("X-Forwarded-For", "198.51.100.7")];
    let r = request_from(
        "127.0.0.3",
        &addr,
        "POST",
        "/api/v1/login",
        &headers,
        Some(&body),
    );
    assert_eq!(r.status, 200, "{}", r.body);
}

#[test]
fn slow_connections_are_closed_after_the_header_timeout_and_capped_per_address() {
    let config = "[web]\nheader_timeout = \"1s\"\nmax_connections_per_address = 20\n";
    let server = Server::spawn_with(crate::support::Place::new(), Some(config));
    let addr = server.addr();
    // 60 connections that send half a request head and then nothing.
    let mut slow: Vec<_> = (0..60)
        .map(|_| {
            let mut c = connect_from("127.0.0.1", &addr);
            c.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
                .unwrap();
            c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            c
        })
        .collect();
    // Another client is served meanwhile.
    let r = request_from("127.0.0.2", &addr, "GET", "/healthz", &[], None);
    assert_eq!(r.status, 200, "{}", r.body);
    let started = Instant::now();
    let mut refused = 0;
    for c in &mut slow {
        let mut answer = Vec::new();
        // Every one ends: refused at once (503) or closed by the header timeout.
        let _ = c.read_to_end(&mut answer);
        if String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 503") {
            refused += 1;
        }
    }
    assert_eq!(refused, 40, "all past the cap of 20 are refused");
    assert!(
        started.elapsed() < Duration::from_secs(9),
        "the slow ones were closed by the server, not by the client giving up"
    );
    let r = request_from("127.0.0.1", &addr, "GET", "/metrics", &[], None);
    assert!(
        r.body
            .contains("sportello_http_connections_refused_total 40"),
        "{}",
        r.body
    );
}

/// Open a web chat's live stream as `client` (through the proxy) and read its first
/// event: the stream is live and held open.
fn live_stream(addr: &str, visitor: &str, client: &str) -> std::net::TcpStream {
    use std::io::{BufRead, BufReader};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        stream,
        "GET /api/v1/chat/events?visitor={visitor} HTTP/1.1\r\nHost: {addr}\r\nX-Forwarded-For: {client}\r\nAccept: text/event-stream\r\n\r\n"
    )
    .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut status = String::new();
    reader.read_line(&mut status).unwrap();
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    for line in reader.lines() {
        if line.unwrap().starts_with("data:") {
            return stream;
        }
    }
    panic!("the stream ended before its first event");
}

/// Behind a trusted proxy every client arrives from the proxy's address: the proxy's
/// connections are not capped per address (they would shut out everyone at once),
/// each client's live streams are.
#[test]
fn behind_a_proxy_one_client_s_live_streams_are_capped_and_the_others_still_served() {
    let config = "[web]\ntrusted_proxies = [\"127.0.0.1\"]\nmax_connections_per_address = 4\n";
    let server = Server::spawn_with(crate::support::Place::new(), Some(config));
    let addr = server.addr();
    let (greedy, other) = ("198.51.100.7", "203.0.113.9");
    let visitor = |client: &str| {
        let r = request(
            &addr,
            "POST",
            "/api/v1/chat/start",
            &[("X-Forwarded-For", client)],
            None,
        );
        r.json()["visitor"].as_str().unwrap().to_owned()
    };
    let mine = visitor(greedy);
    let held: Vec<_> = (0..4).map(|_| live_stream(&addr, &mine, greedy)).collect();
    // A fifth stream, even with a fresh visitor token, is refused for that client.
    let fresh = visitor(greedy);
    let path = format!("/api/v1/chat/events?visitor={fresh}");
    let refused = request(&addr, "GET", &path, &[("X-Forwarded-For", greedy)], None);
    assert_eq!(refused.status, 429, "{}", refused.body);
    assert_eq!(refused.json()["code"], "rate_limited");
    // Another client through the same proxy (more connections from 127.0.0.1 than
    // the cap of 4) is served, its streams too.
    let theirs = visitor(other);
    let _their_stream = live_stream(&addr, &theirs, other);
    let health = request(
        &addr,
        "GET",
        "/healthz",
        &[("X-Forwarded-For", other)],
        None,
    );
    assert_eq!(health.status, 200, "{}", health.body);
    assert_eq!(held.len(), 4);
}

/// The peak resident memory of a process, in MB.
fn peak_rss_mb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb / 1024
}

#[test]
fn four_hundred_logins_at_once_are_refused_early_and_memory_stays_bounded() {
    // The default caps: a trusted proxy's connections are not capped per address.
    let config = "[web]\ntrusted_proxies = [\"127.0.0.1\"]\n";
    let server = Server::spawn_with(crate::support::Place::new(), Some(config));
    let addr = server.addr();
    // From 400 different addresses (through the trusted proxy), so no lockout helps.
    let results: Vec<(u16, String)> = std::thread::scope(|s| {
        let logins: Vec<_> = (0..400)
            .map(|i| {
                let addr = &addr;
                s.spawn(move || {
                    let client = format!("198.51.{}.{}", i / 200, i % 200 + 1);
                    let body = json!({"name": format!("user{i}"), "password": "guess guess"});
                    let headers = [("X-Forwarded-For", client.as_str())];
                    let sent = try_request(
                        addr,
                        "POST",
                        "/api/v1/login",
                        &headers,
                        Some(&body.to_string()),
                    );
                    let Some(r) = sent else {
                        return (0, "no answer".to_owned());
                    };
                    let code = if r.status == 503 {
                        r.json()["code"].as_str().unwrap_or("").to_owned()
                    } else {
                        String::new()
                    };
                    (r.status, code)
                })
            })
            .collect();
        logins.into_iter().map(|t| t.join().unwrap()).collect()
    });
    let unanswered = results.iter().filter(|(s, _)| *s == 0).count();
    assert_eq!(
        unanswered,
        0,
        "connections dropped:\n{}",
        server.stderr.lock().unwrap()
    );
    let busy = results.iter().filter(|(s, _)| *s == 503).count();
    let checked = results.iter().filter(|(s, _)| *s == 401).count();
    assert_eq!(busy + checked, 400, "{results:?}");
    assert!(
        busy > 300,
        "most are refused before any hashing: {busy} of 400"
    );
    assert!(
        results
            .iter()
            .filter(|(s, _)| *s == 503)
            .all(|(_, c)| c == "busy")
    );
    let peak = peak_rss_mb(server.pid());
    assert!(peak < 200, "peak RSS {peak} MB");
    // The server still serves.
    assert_eq!(request(&addr, "GET", "/healthz", &[], None).status, 200);
}

#[test]
fn a_truncated_store_says_corrupt_and_restore_a_backup_instead_of_panicking() {
    let data = tempfile::tempdir().unwrap();
    let store = data.path().join("store");
    // Big enough for several of sled's segments.
    sportello_ok(&store, &["demo", "--days", "20", "--until", "2026-11-20"]);
    let truncated = |file: &str, keep: u64| {
        let copy = data.path().join(format!("{file}-{keep}"));
        crate::support::copy_dir(&store, &copy);
        let path = copy.join(file);
        let len = std::fs::metadata(&path).unwrap().len();
        let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.set_len(len * keep / 100).unwrap();
        copy
    };
    // sled's `conf` cut short: always reported as corrupt.
    let broken = truncated("conf", 50);
    for args in [&["check", "--store"][..], &["queue", "list"][..]] {
        let out = sportello(&broken, args, "");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(
            stderr.contains("corrupt") && stderr.contains("backup"),
            "{args:?}: {stderr}"
        );
    }
    // The log cut short: sled's recovery either keeps what is whole (then the store is
    // sound, or `check --store` lists what the cut left inconsistent) or gives up
    // (often with a panic inside sled): never a panic from us, always a clear word.
    for keep in [20, 33, 50, 75] {
        let cut = truncated("db", keep);
        let out = sportello(&cut, &["check", "--store"], "");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{keep}%: {stderr}");
        match out.status.code() {
            Some(0) => assert!(String::from_utf8_lossy(&out.stdout).contains("0 problems")),
            Some(1) => {
                let stdout = String::from_utf8_lossy(&out.stdout);
                let listed = stdout.lines().any(|l| l.starts_with("store: "))
                    && !stdout.contains("store: 0 problems");
                assert!(
                    (stderr.contains("corrupt") && stderr.contains("backup")) || listed,
                    "{keep}%: {stderr}{stdout}"
                );
            }
            other => panic!("{keep}%: exit {other:?}: {stderr}"),
        }
    }
    // Pages overwritten in the middle of the log: a command that reads them says which
    // store is damaged (sled's read error carries no folder; the command line names it).
    let damaged = truncated("db", 100);
    let path = damaged.join("db");
    let mut bytes = std::fs::read(&path).unwrap();
    let len = bytes.len();
    for tenth in 1..10 {
        let at = len * tenth / 10;
        let end = (at + 4096).min(len);
        bytes[at..end].fill(0xA5);
    }
    std::fs::write(&path, bytes).unwrap();
    let args = ["report", "--from", "2026-10-01", "--to", "2026-11-20"];
    let out = sportello(&damaged, &args, "");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stderr.contains("corrupt")
            && stderr.contains("backup")
            && stderr.contains(damaged.to_str().unwrap()),
        "{stderr}"
    );
}

#[test]
fn a_webhook_path_that_clashes_with_a_route_is_refused_before_telegram_hears_of_it() {
    let data = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sportello"))
        .current_dir(crate::support::repo())
        .arg("--data")
        .arg(data.path())
        .arg("serve")
        .env("SPORTELLO_HTTP_ADDR", "127.0.0.1:0")
        .env("SPORTELLO_TELEGRAM_TOKEN", "123:abc")
        // Nothing listens there: the check must come before any call.
        .env("SPORTELLO_TELEGRAM_API_URL", "http://127.0.0.1:9/")
        .env(
            "SPORTELLO_TELEGRAM_WEBHOOK_URL",
            "https://shop.example/healthz",
        )
        .env("SPORTELLO_TELEGRAM_WEBHOOK_SECRET", "s3cret")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stderr.contains("clashes with the server's own `/healthz`") && !stderr.contains("getMe"),
        "{stderr}"
    );
}

/// A small tmpfs mounted on a temporary folder, unmounted when dropped (needs root, as
/// on the project's machines and CI).
struct SmallDisk(std::path::PathBuf);

impl SmallDisk {
    fn mount(on: &std::path::Path, size: &str) -> SmallDisk {
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(on)
            .output()
            .expect("mount runs");
        assert!(
            out.status.success(),
            "cannot mount a small tmpfs for the full-disk test (it needs root): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        SmallDisk(on.to_owned())
    }

    /// Fill what is left with a file; its path.
    fn fill(&self) -> std::path::PathBuf {
        let filler = self.0.join("filler");
        let mut file = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 64 * 1024];
        while file.write_all(&block).is_ok() {}
        let _ = file.sync_all();
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

/// `request`, but a connection refused or reset (serve restarting) is `None`.
fn try_request(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Option<crate::support::http::Response> {
    std::panic::catch_unwind(|| request(addr, method, path, headers, body)).ok()
}

#[test]
fn a_full_disk_loses_no_acknowledged_message_and_serve_recovers_by_itself() {
    let data = crate::support::Place::on_disk();
    let disk = SmallDisk::mount(data.files(), "8m");
    let server = Server::spawn(data);
    let addr = server.addr();
    let visitor = request(&addr, "POST", "/api/v1/chat/start", &[], None).json()["visitor"]
        .as_str()
        .unwrap()
        .to_owned();
    let headers = [("X-Sportello-Visitor", visitor.as_str())];
    let send = |id: &str, text: &str| {
        let body = json!({"id": id, "text": text}).to_string();
        try_request(
            &addr,
            "POST",
            "/api/v1/chat/messages",
            &headers,
            Some(&body),
        )
        .map(|r| r.status)
    };
    assert_eq!(send("m0", "ciao"), Some(200));
    let filler = disk.fill();
    // Write until the store refuses (the chat's limit is 8 messages in 10 s: pace them).
    let mut sent = Vec::new();
    let mut refused = Vec::new();
    for i in 1..=12 {
        let (id, text) = (
            format!("m{i}"),
            format!("messaggio numero {i} durante il disco pieno"),
        );
        match send(&id, &text) {
            Some(200) => sent.push((id, text)),
            other => {
                assert!(matches!(other, Some(500..=599)), "{other:?}");
                refused.push((id, text));
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(1300));
    }
    assert!(!refused.is_empty(), "the full disk refused a message");
    let health = request(&addr, "GET", "/healthz", &[], None);
    assert_eq!(health.status, 503, "{}", health.body);
    assert!(
        health.body.contains("store cannot write"),
        "{}",
        health.body
    );

    // Space comes back: serve reopens the store by itself, on the same address.
    std::fs::remove_file(filler).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while try_request(&addr, "GET", "/healthz", &[], None).map(|r| r.status) != Some(200) {
        assert!(
            Instant::now() < deadline,
            "serve did not recover: {}",
            server.stderr.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    // The chat sends a refused message again (same id): now it is stored.
    for (id, text) in &refused {
        assert_eq!(send(id, text), Some(200));
        sent.push((id.clone(), text.clone()));
    }
    let r = request(
        &addr,
        "GET",
        "/api/v1/chat/messages?after=0",
        &headers,
        None,
    );
    let messages = r.json()["messages"].as_array().unwrap().clone();
    for (_, text) in &sent {
        let copies = messages
            .iter()
            .filter(|m| m["author"] == "customer" && m["text"] == *text)
            .count();
        assert_eq!(copies, 1, "{text}: {messages:?}");
    }
    assert!(
        server
            .stderr
            .lock()
            .unwrap()
            .contains("restarting to reopen the store")
    );
    drop(server);
}

/// `/metrics` tells how busy the shop is: with `SPORTELLO_METRICS_TOKEN` set, only a
/// scraper that sends it reads them; `/healthz` stays open to the load balancer.
#[test]
fn metrics_answer_only_the_scraper_with_the_token_when_one_is_set() {
    let server = Server::start_with(&[], None, &[("SPORTELLO_METRICS_TOKEN", "scrape-me")]);
    let addr = server.addr();
    for sent in [
        None,
        Some("Bearer wrong"),
        Some("scrape-me"),
        Some("Basic scrape-me"),
    ] {
        let headers: Vec<(&str, &str)> = sent.map(|s| ("Authorization", s)).into_iter().collect();
        let r = request(&addr, "GET", "/metrics", &headers, None);
        assert_eq!(r.status, 401, "{sent:?}: {}", r.body);
        assert_eq!(r.header("www-authenticate"), Some("Bearer"), "{sent:?}");
        assert!(!r.body.contains("sportello_"), "{sent:?}");
        // An error as every other: JSON, with what to send.
        assert_eq!(r.json()["code"], "unauthorized", "{sent:?}: {}", r.body);
        assert!(r.body.contains("Authorization: Bearer"), "{}", r.body);
    }
    // The scheme is case-insensitive (RFC 9110).
    let lower = request(
        &addr,
        "GET",
        "/metrics",
        &[("Authorization", "bearer scrape-me")],
        None,
    );
    assert_eq!(lower.status, 200);
    let ok = request(
        &addr,
        "GET",
        "/metrics",
        &[("Authorization", "Bearer scrape-me")],
        None,
    );
    assert_eq!(ok.status, 200);
    assert!(ok.body.contains("sportello_queue_length"), "{}", ok.body);
    assert_eq!(request(&addr, "GET", "/healthz", &[], None).status, 200);
}
