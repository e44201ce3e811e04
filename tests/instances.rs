//! Several `serve` processes on one PostgreSQL database, as behind a load balancer
//! without sticky sessions: whatever instance a customer's message reaches, each reply
//! goes out once.

use crate::support::postgres::TestDatabase;
use crate::support::whatsapp::{
    APP_SECRET, FakeGraph, deliver, free_addr, spawn_serve_on, text, wait_up,
};
use std::collections::HashSet;
use std::process::Child;
use std::time::Duration;

/// Serve processes, killed when dropped.
struct Instances(Vec<(Child, String)>);

impl Drop for Instances {
    fn drop(&mut self) {
        for (child, _) in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn start(fake: &FakeGraph, db: &TestDatabase, files: &std::path::Path, n: usize) -> Instances {
    let mut instances = Instances(Vec::new());
    for i in 0..n {
        let addr = free_addr();
        let base = files.join(format!("instance{i}"));
        let mut child = spawn_serve_on(fake, &db.data(), &base, &addr, "");
        wait_up(&mut child, &addr, &base);
        instances.0.push((child, addr));
    }
    instances
}

#[test]
fn two_instances_on_one_database_send_each_reply_once() {
    let fake = FakeGraph::start();
    // A slow provider: each send takes long enough for the other instance's outbox
    // scans (every half second) to find the reply still waiting.
    fake.with(|s| s.delay = Duration::from_millis(700));
    let db = TestDatabase::new();
    let files = tempfile::tempdir().unwrap();
    let instances = start(&fake, &db, files.path(), 2);
    let customers: Vec<String> = (0..8).map(|i| format!("3933300{i:05}")).collect();
    for (i, wa) in customers.iter().enumerate() {
        let body = text(
            wa,
            &format!("wamid.LB{i}"),
            "quanto costa la spedizione in italia?",
            0,
        );
        let addr = &instances.0[i % 2].1;
        assert_eq!(deliver(addr, &body, Some(APP_SECRET)), Some(200), "{addr}");
    }
    for wa in &customers {
        fake.wait_sent(wa, 1);
    }
    // Time for a second delivery to happen, were it to.
    std::thread::sleep(Duration::from_secs(3));
    for wa in &customers {
        let sent = fake.sent_to(wa);
        let bodies: HashSet<String> = sent.iter().map(|m| m.to_string()).collect();
        assert_eq!(
            bodies.len(),
            sent.len(),
            "{wa} got a reply twice: {sent:#?}"
        );
    }
}

/// Telegram takes one long poll at a time: of two instances one polls (it leads, by an
/// advisory lock), the other waits; killed, the leader's lock goes with its connection
/// and the other takes over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_two_instances_one_polls_telegram_and_the_other_takes_over_when_it_dies() {
    use crate::support::telegram::{FakeTelegram, spawn_serve_on};
    let fake = FakeTelegram::start().await;
    let db = TestDatabase::new();
    let files = tempfile::tempdir().unwrap();
    let faq = crate::support::repo().join("faq");
    let mut instances = Instances(Vec::new());
    for i in 0..2 {
        let base = files.path().join(format!("instance{i}"));
        let child = spawn_serve_on(&fake, &db.data(), &base, &faq, "127.0.0.1:0");
        instances.0.push((child, String::new()));
    }
    // Several polls' worth (the poll timeout is a second).
    tokio::time::sleep(Duration::from_secs(5)).await;
    fake.text(7001, "quanto costa la spedizione in italia?");
    fake.wait_sent(7001, 1).await;
    let overlaps = fake.with(|s| s.overlapping_polls);
    assert_eq!(overlaps, 0, "two instances polled at once");
    // kill -9 one, then the other (one of them led): whoever is left answers.
    let kill = |child: &mut Child| {
        let _ = child.kill();
        let _ = child.wait();
    };
    kill(&mut instances.0[0].0);
    fake.text(7002, "quanto costa la spedizione in italia?");
    fake.wait_sent(7002, 1).await;
    kill(&mut instances.0[1].0);
    let base = files.path().join("instance2");
    let child = spawn_serve_on(&fake, &db.data(), &base, &faq, "127.0.0.1:0");
    instances.0.push((child, String::new()));
    fake.text(7003, "quanto costa la spedizione in italia?");
    fake.wait_sent(7003, 1).await;
}

/// `serve` with the web side only, on `db`, at `addr`; its log beside `files`.
fn spawn_web(db: &TestDatabase, files: &std::path::Path, addr: &str) -> Child {
    let log = std::fs::File::create(files.with_extension("log")).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sportello"))
        .current_dir(crate::support::repo())
        .arg("--data")
        .arg(db.data())
        .arg("serve")
        .env("SPORTELLO_HTTP_ADDR", addr)
        .env_remove("SPORTELLO_TELEGRAM_TOKEN")
        .env_remove("SPORTELLO_WHATSAPP_TOKEN")
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    wait_up(&mut child, addr, files);
    child
}

/// Failed logins count on the database: spread over two instances, the sixth attempt
/// for a name from one address is refused wherever it lands (in memory, each instance
/// would have allowed five).
#[test]
fn failed_logins_spread_over_two_instances_lock_out_as_on_one() {
    use crate::support::browser::PASSWORD;
    use crate::support::http::request;
    let db = TestDatabase::new();
    let files = tempfile::tempdir().unwrap();
    let out = crate::support::sportello(
        &db.data(),
        &["operator", "add", "anna", "--department", "assistenza"],
        &format!("{PASSWORD}\n"),
    );
    assert!(out.status.success(), "{out:?}");
    let addrs = [free_addr(), free_addr()];
    let _instances = Instances(
        addrs
            .iter()
            .enumerate()
            .map(|(i, addr)| {
                let child = spawn_web(&db, &files.path().join(format!("web{i}")), addr);
                (child, addr.clone())
            })
            .collect(),
    );
    let login = |addr: &str, password: &str| {
        let body = serde_json::json!({"name": "anna", "password": password}).to_string();
        request(addr, "POST", "/api/v1/login", &[], Some(&body)).status
    };
    for attempt in 0..5 {
        assert_eq!(
            login(&addrs[attempt % 2], "not the password"),
            401,
            "{attempt}"
        );
    }
    assert_eq!(
        login(&addrs[0], PASSWORD),
        429,
        "locked on the first instance"
    );
    assert_eq!(login(&addrs[1], PASSWORD), 429, "and on the second");
}

/// The first-run setup link is one for all instances: both print the same, and it
/// works once, on whichever instance it reaches.
#[test]
fn two_fresh_instances_print_one_setup_link_that_works_once_anywhere() {
    use crate::support::browser::PASSWORD;
    use crate::support::http::request;
    let db = TestDatabase::new();
    let files = tempfile::tempdir().unwrap();
    let addrs = [free_addr(), free_addr()];
    let bases: Vec<_> = (0..2)
        .map(|i| files.path().join(format!("web{i}")))
        .collect();
    let _instances = Instances(
        addrs
            .iter()
            .zip(&bases)
            .map(|(addr, base)| (spawn_web(&db, base, addr), addr.clone()))
            .collect(),
    );
    let token_of = |base: &std::path::Path| {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let log = std::fs::read_to_string(base.with_extension("log")).unwrap_or_default();
            if let Some(token) = log
                .split("setup=")
                .nth(1)
                .and_then(|rest| rest.split_whitespace().next())
            {
                return token.to_owned();
            }
            assert!(std::time::Instant::now() < deadline, "no setup link: {log}");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let token = token_of(&bases[0]);
    assert_eq!(token_of(&bases[1]), token, "the same link from both");
    let body = serde_json::json!({"token": token, "name": "capo", "password": PASSWORD,
                                  "departments": ["vendite"]})
    .to_string();
    let r = request(&addrs[1], "POST", "/api/v1/setup", &[], Some(&body));
    assert_eq!(r.status, 200, "{}", r.body);
    let again = request(&addrs[0], "POST", "/api/v1/setup", &[], Some(&body));
    assert_eq!(again.status, 403, "used once, on either");
}

/// kill -9 of one instance while customers write to both: every message either
/// instance acknowledged is answered (what the dead one was delivering, by the other,
/// which takes its leases over as soon as its presence lock is gone), at most the
/// reply in flight twice, and the survivor keeps serving.
#[test]
fn kill_9_of_one_instance_under_load_loses_no_acknowledged_message() {
    let fake = FakeGraph::start();
    fake.with(|s| s.delay = Duration::from_millis(150));
    let db = TestDatabase::new();
    let files = tempfile::tempdir().unwrap();
    let mut instances = start(&fake, &db, files.path(), 2);
    let customers: Vec<String> = (0..16).map(|i| format!("3934400{i:05}")).collect();
    let mut acknowledged = Vec::new();
    for (i, wa) in customers.iter().enumerate() {
        if i == 8 {
            let (child, _) = &mut instances.0[0];
            child.kill().unwrap();
            child.wait().unwrap();
        }
        // The balancer sends to the live ones: after the kill, only the second.
        let to = if i < 8 { i % 2 } else { 1 };
        let body = text(
            wa,
            &format!("wamid.K{i}"),
            "quanto costa la spedizione in italia?",
            0,
        );
        if deliver(&instances.0[to].1, &body, Some(APP_SECRET)) == Some(200) {
            acknowledged.push(wa.clone());
        }
    }
    assert_eq!(
        acknowledged.len(),
        16,
        "the survivor took every message after the kill"
    );
    let all_answered = fake.wait_for(|s| {
        acknowledged
            .iter()
            .all(|wa| s.sent.iter().any(|m| m["to"] == wa.as_str()))
    });
    assert!(all_answered, "an acknowledged message went unanswered");
    let repeated: usize = acknowledged
        .iter()
        .map(|wa| {
            let sent = fake.sent_to(wa);
            let distinct: HashSet<String> = sent.iter().map(|m| m.to_string()).collect();
            sent.len() - distinct.len()
        })
        .sum();
    assert!(
        repeated <= 1,
        "{repeated} replies repeated: at most the one in flight"
    );
}
