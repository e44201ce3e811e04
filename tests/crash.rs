//! The crash harness: `sportello serve` as a child process against the fake Telegram,
//! many customers writing at once, SIGKILL at random moments, restarts. After it all:
//! every update got its reply, in each chat's order, a reply doubled at most once per
//! kill in a chat, the store sound (`Store::verify`: no ticket in two states). Also a
//! kill while operators claim tickets and while the FAQ reloads.
//!
//! Short in CI; the long run on demand: `SPORTELLO_CRASH_ROUNDS=40 cargo test crash`
//! (`SPORTELLO_CRASH_SEED` replays a run). Restart times are printed, not asserted.

use crate::support::telegram::{FakeTelegram, spawn_serve, spawn_serve_with, terminate};
use crate::support::{Place, copy_dir, open_service, repo, sample_dirs, sportello};
use sportello::channels::telegram::to_html;
use sportello::store::Store;
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

const QUESTIONS: [(&str, &str); 6] = [
    ("quanto costa la spedizione?", "costi-di-spedizione"),
    ("come faccio un reso?", "come-fare-un-reso"),
    ("posso pagare con paypal?", "metodi-di-pagamento"),
    ("quanto ci mette ad arrivare il pacco?", "tempi-di-consegna"),
    (
        "posso cambiare l'indirizzo di consegna?",
        "modifica-indirizzo",
    ),
    ("come traccio il mio ordine?", "tracciamento-ordine"),
];

/// xorshift64: the run is replayable from its seed.
struct Rng(u64);

impl Rng {
    fn from_env() -> Rng {
        let seed = std::env::var("SPORTELLO_CRASH_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
                    | 1
            });
        eprintln!("crash harness seed: SPORTELLO_CRASH_SEED={seed}");
        Rng(seed)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn rounds() -> usize {
    std::env::var("SPORTELLO_CRASH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4)
}

/// Spawn serve and wait until it polls Telegram again; returns it and how long that took.
async fn restart(fake: &FakeTelegram, start: impl FnOnce() -> Child) -> (Child, Duration) {
    let polls =
        |f: &FakeTelegram| f.with(|s| s.calls.iter().filter(|c| *c == "getupdates").count());
    let before = polls(fake);
    let began = Instant::now();
    let mut child = start();
    while polls(fake) == before {
        assert!(
            child.try_wait().unwrap().is_none(),
            "serve exited on restart: the store did not open"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    (child, began.elapsed())
}

fn kill(child: &mut Child) {
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
}

fn assert_sound(data: &Path) {
    let store = Store::open(data).expect("the store opens after the kills");
    let problems = store.verify().unwrap();
    assert!(problems.is_empty(), "{problems:#?}");
}

fn answers() -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let brain = open_service(dir.path(), &sample_dirs()).brain();
    QUESTIONS
        .iter()
        .map(|(_, id)| to_html(&brain.faq.entry(id).unwrap().answer))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_at_random_moments_loses_no_acknowledged_update_and_keeps_each_chats_order() {
    let fake = FakeTelegram::start().await;
    let place = Place::new();
    let data = place.data();
    let mut rng = Rng::from_env();
    let chats: Vec<i64> = (1001..=1024).collect();
    let mut asked: Vec<Vec<usize>> = vec![Vec::new(); chats.len()];
    let mut ask = |fake: &FakeTelegram, c: usize| {
        let q = (c + asked[c].len()) % QUESTIONS.len();
        fake.text(chats[c], QUESTIONS[q].0);
        asked[c].push(q);
    };
    let (mut serve, _) = restart(&fake, || spawn_serve(&fake, &place)).await;
    let mut restarts = Vec::new();
    let kills = rounds();
    for round in 0..kills {
        // A quarter of the customers write in each round, all at once.
        for c in (round % 4..chats.len()).step_by(4) {
            ask(&fake, c);
        }
        tokio::time::sleep(Duration::from_millis(20 + rng.below(600))).await;
        kill(&mut serve);
        let (child, took) = restart(&fake, || spawn_serve(&fake, &place)).await;
        serve = child;
        restarts.push(took.as_millis());
    }
    eprintln!("{kills} kills; restart to polling (ms): {restarts:?}");
    let expected = answers();
    let done = fake
        .wait_for(|s| {
            asked
                .iter()
                .enumerate()
                .all(|(c, qs)| s.sent.iter().filter(|m| m.chat == chats[c]).count() >= qs.len())
        })
        .await;
    assert!(done, "every customer got a reply for each message");
    terminate(&mut serve);
    let mut doubled = 0;
    for (c, qs) in asked.iter().enumerate() {
        let mut texts: Vec<String> = fake.sent_to(chats[c]).into_iter().map(|m| m.text).collect();
        let sent = texts.len();
        texts.dedup();
        let want: Vec<&String> = qs.iter().map(|q| &expected[*q]).collect();
        assert_eq!(
            texts.iter().collect::<Vec<_>>(),
            want,
            "chat {}: all, in order",
            chats[c]
        );
        assert!(
            sent - texts.len() <= kills,
            "chat {}: {sent} replies for {}",
            chats[c],
            qs.len()
        );
        doubled += sent - texts.len();
    }
    eprintln!("{doubled} replies doubled over {kills} kills");
    let acknowledged = fake.with(|s| s.confirmed);
    assert!(acknowledged.is_some(), "updates were acknowledged");
    assert_sound(&data);
}

/// One raw HTTP request; None if the connection broke (the server was killed).
fn post(addr: &str, path: &str, token: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).ok()?;
    let mut raw = String::new();
    stream.read_to_string(&mut raw).ok()?;
    raw.split(' ').nth(1)?.parse().ok()
}

fn free_addr() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_while_operators_claim_leaves_each_ticket_in_one_state() {
    let fake = FakeTelegram::start().await;
    let place = Place::new();
    let data = place.data();
    let out = sportello(
        &data,
        &["operator", "add", "anna", "--department", "assistenza"],
        "password-anna-1\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = sportello(&data, &["operator", "token", "anna"], "");
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let addr = free_addr();
    let faq = repo().join("faq");
    let (mut serve, _) = restart(&fake, || spawn_serve_with(&fake, &place, &faq, &addr)).await;
    let chats: Vec<i64> = (2001..=2012).collect();
    for chat in &chats {
        fake.text(*chat, "voglio parlare con un operatore");
    }
    assert!(
        fake.wait_for(|s| s.sent.len() >= chats.len()).await,
        "all handed off"
    );
    let mut rng = Rng::from_env();
    let claims = {
        let (addr, token) = (addr.clone(), token.clone());
        tokio::task::spawn_blocking(move || {
            (1..=12)
                .map(|id| {
                    (
                        id,
                        post(&addr, &format!("/api/v1/tickets/{id}/claim"), &token),
                    )
                })
                .collect::<Vec<_>>()
        })
    };
    tokio::time::sleep(Duration::from_millis(rng.below(60))).await;
    kill(&mut serve);
    let claims = claims.await.unwrap();
    eprintln!("claims answered before the kill: {claims:?}");
    assert_sound(&data);
    let store = Store::open(&data).unwrap();
    for (id, status) in &claims {
        let ticket = store
            .ticket(sportello::domain::TicketId(*id))
            .unwrap()
            .unwrap();
        if *status == Some(200) {
            assert_eq!(
                ticket.operator.as_deref(),
                Some("anna"),
                "an acknowledged claim is kept: #{id}"
            );
        }
    }
    drop(store);
    let (mut serve, _) = restart(&fake, || spawn_serve_with(&fake, &place, &faq, &addr)).await;
    for (id, _) in &claims {
        let status = post(&addr, &format!("/api/v1/tickets/{id}/claim"), &token);
        // Claimed before the kill (409: already anna's) or now (200): never lost, never double.
        assert!(matches!(status, Some(200 | 409)), "#{id}: {status:?}");
    }
    terminate(&mut serve);
    assert_sound(&data);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_an_faq_reload_serves_the_edited_answer_after_restart() {
    let fake = FakeTelegram::start().await;
    let place = Place::new();
    let (data, faq) = (place.data(), place.files().join("faq"));
    copy_dir(&repo().join("faq"), &faq);
    let addr = free_addr();
    let (mut serve, _) = restart(&fake, || spawn_serve_with(&fake, &place, &faq, &addr)).await;
    fake.text(3001, QUESTIONS[0].0);
    assert_eq!(fake.wait_sent(3001, 1).await.len(), 1);
    let file = faq.join("it/costi-di-spedizione.md");
    let text = std::fs::read_to_string(&file).unwrap();
    let body = text[4..].find("+++\n").unwrap() + 8;
    let edited = format!(
        "{}La spedizione ora costa 3,90 €, gratis sopra i 39 €.\n\n{}",
        &text[..body],
        &text[body..]
    );
    std::fs::write(&file, &edited).unwrap();
    let mut rng = Rng::from_env();
    tokio::time::sleep(Duration::from_millis(rng.below(300))).await;
    kill(&mut serve);
    let (mut serve, _) = restart(&fake, || spawn_serve_with(&fake, &place, &faq, &addr)).await;
    fake.text(3001, QUESTIONS[0].0);
    let sent = fake.wait_sent(3001, 2).await;
    assert!(sent[1].text.contains("3,90"), "{}", sent[1].text);
    terminate(&mut serve);
    assert_sound(&data);
}

/// `chattr +i` (immutable) on the store's files and folders: even root cannot write
/// them, as on a read-only mount. Undone on drop, so the temp dir can be removed.
struct ReadOnly(std::path::PathBuf);

impl ReadOnly {
    fn set(path: &Path, on: bool) {
        let flag = if on { "+i" } else { "-i" };
        let status = std::process::Command::new("chattr")
            .args(["-R", flag])
            .arg(path)
            .status()
            .expect("chattr (e2fsprogs) runs");
        assert!(status.success(), "chattr {flag} {}", path.display());
    }
}

impl Drop for ReadOnly {
    fn drop(&mut self) {
        ReadOnly::set(&self.0, false);
    }
}

#[test]
fn a_read_only_data_directory_is_a_clear_error_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let customer: sportello::domain::CustomerId = "telegram:4001".parse().unwrap();
    let service = open_service(&data, &sample_dirs());
    let inbound = sportello::domain::Inbound {
        customer: customer.clone(),
        message_id: "1".into(),
        text: QUESTIONS[0].0.into(),
        at: chrono::Utc::now(),
        sent_at: None,
        locale: None,
        name: None,
        attachment: None,
        original: None,
    };
    service.handle_inbound(&inbound).unwrap();
    drop(service);
    let guard = ReadOnly(data.clone());
    ReadOnly::set(&data, true);
    let out = sportello(&data, &["queue", "list"], "");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert_ne!(out.status.code(), Some(101), "no panic: {stderr}");
    assert!(
        stderr.contains("writable") && stderr.contains("hint"),
        "a clear error: {stderr}"
    );
    drop(guard);
    let store = Store::open(&data).expect("opens once writable again");
    assert_eq!(
        store.transcript(&customer).unwrap().len(),
        2,
        "nothing lost"
    );
    assert!(store.verify().unwrap().is_empty());
}
