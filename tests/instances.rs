//! Several `serve` processes on one PostgreSQL database, as behind a load balancer
//! without sticky sessions: whatever instance a customer's message reaches, each reply
//! goes out once.

use crate::support::browser::PASSWORD;
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
    spawn_web_with(db, files, addr, "", &[])
}

/// Operator anna (assistenza, password [`PASSWORD`]) on `db`, and two instances with
/// the web side, `config` and `env` on it; their addresses, and the directory of their
/// config and logs.
fn anna_and_two_web_instances(
    db: &TestDatabase,
    config: &str,
    env: &[(&str, String)],
) -> (Instances, [String; 2], tempfile::TempDir) {
    let out = crate::support::sportello(
        &db.data(),
        &["operator", "add", "anna", "--department", "assistenza"],
        &format!("{PASSWORD}\n"),
    );
    assert!(out.status.success(), "{out:?}");
    let files = tempfile::tempdir().unwrap();
    let addrs = [free_addr(), free_addr()];
    let instances = addrs
        .iter()
        .enumerate()
        .map(|(i, addr)| {
            let files = files.path().join(format!("web{i}"));
            (spawn_web_with(db, &files, addr, config, env), addr.clone())
        })
        .collect();
    (Instances(instances), addrs, files)
}

/// The same with `config` as its config file and more environment (a channel's
/// secrets).
fn spawn_web_with(
    db: &TestDatabase,
    files: &std::path::Path,
    addr: &str,
    config: &str,
    env: &[(&str, String)],
) -> Child {
    let log = std::fs::File::create(files.with_extension("log")).unwrap();
    let file = files.with_extension("toml");
    std::fs::write(&file, config).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sportello"))
        .current_dir(crate::support::repo())
        .arg("--data")
        .arg(db.data())
        .arg("--config")
        .arg(&file)
        .arg("serve")
        .env("SPORTELLO_HTTP_ADDR", addr)
        .env_remove("SPORTELLO_TELEGRAM_TOKEN")
        .env_remove("SPORTELLO_WHATSAPP_TOKEN")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    wait_up(&mut child, addr, files);
    child
}

/// Two instances look for the replies web-chat customers missed: each customer who
/// left an address gets each missed reply by email once, even from a slow mail server
/// (while one instance sends, the other finds the same reply due).
#[test]
fn two_instances_mail_a_missed_reply_once() {
    use crate::support::http::{api_login, request};
    use crate::support::mail::{Dovecot, Smtp, env, header};
    let (imap, smtp) = (Dovecot::start(), Smtp::start());
    std::fs::write(smtp.dir().join("slow"), "1.5").unwrap();
    let db = TestDatabase::new();
    let config = "[email]\nfollow_up_after = \"1s\"\n";
    let (_instances, addrs, _files) = anna_and_two_web_instances(&db, config, &env(&imap, &smtp));
    let customers = 3;
    for n in 0..customers {
        // Her requests reach either instance.
        let (here, there) = (&addrs[n % 2], &addrs[(n + 1) % 2]);
        let start = request(here, "POST", "/api/v1/chat/start", &[], None).json();
        let visitor = start["visitor"].as_str().unwrap().to_owned();
        let me = [("X-Sportello-Visitor", visitor.as_str())];
        let body = serde_json::json!({"id": format!("m{n}"), "locale": "it-IT",
                                      "text": "voglio parlare con un operatore"});
        let r = request(
            there,
            "POST",
            "/api/v1/chat/messages",
            &me,
            Some(&body.to_string()),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        let email = serde_json::json!({"email": format!("cliente{n}@example.it")}).to_string();
        let r = request(here, "POST", "/api/v1/chat/email", &me, Some(&email));
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let anna = api_login(&addrs[1], "anna");
    let op = [
        ("Cookie", anna.0.as_str()),
        ("X-CSRF-Token", anna.1.as_str()),
    ];
    for ticket in 1..=customers {
        let claim = format!("/api/v1/tickets/{ticket}/claim");
        assert_eq!(request(&addrs[1], "POST", &claim, &op, None).status, 200);
        let reply = serde_json::json!({"text": format!("Ecco il codice del reso: R-{ticket}.")});
        let path = format!("/api/v1/tickets/{ticket}/reply");
        let r = request(&addrs[1], "POST", &path, &op, Some(&reply.to_string()));
        assert_eq!(r.status, 200, "{}", r.body);
    }
    smtp.wait_for(customers);
    // Several scans of both instances (every half second) and slow sends later:
    std::thread::sleep(Duration::from_secs(5));
    let mut to: Vec<String> = smtp
        .mails()
        .iter()
        .map(|m| header(m, "To").unwrap())
        .collect();
    to.sort();
    let expected: Vec<String> = (0..customers)
        .map(|n| format!("cliente{n}@example.it"))
        .collect();
    assert_eq!(to, expected, "each missed reply mailed once");
}

/// Failed logins count on the database: spread over two instances, the sixth attempt
/// for a name from one address is refused wherever it lands (in memory, each instance
/// would have allowed five).
#[test]
fn failed_logins_spread_over_two_instances_lock_out_as_on_one() {
    use crate::support::http::request;
    let db = TestDatabase::new();
    let (_instances, addrs, _files) = anna_and_two_web_instances(&db, "", &[]);
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
    assert_eq!(again.status, 409, "used once, on either: {}", again.body);
    assert_eq!(again.json()["code"], "setup_done");
}

/// kill -9 of one instance while customers write to both: every message either
/// instance acknowledged is answered (what the dead one was delivering, by the other,
/// which takes its leases over as soon as its presence lock is gone), at most the
/// reply in flight to each customer twice, and the survivor keeps serving.
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
    // Each customer has a sender task of their own (src/channels/dispatch): the kill can
    // catch several customers' replies in flight, each repeated at most once.
    for wa in &acknowledged {
        let sent = fake.sent_to(wa);
        let distinct: HashSet<String> = sent.iter().map(|m| m.to_string()).collect();
        assert!(
            sent.len() - distinct.len() <= 1,
            "{wa}: {} replies repeated, at most the one in flight to them",
            sent.len() - distinct.len()
        );
    }
}

/// A customer's message taken by one instance shows on the other's console: in its
/// live event stream (Server-Sent Events) as it happens, and in its queue.
#[test]
fn a_message_to_one_instance_shows_in_the_other_consoles_stream_and_queue() {
    use crate::support::http::{api_login, request};
    use std::io::{BufRead, BufReader, Write};
    let db = TestDatabase::new();
    let (_instances, addrs, _files) = anna_and_two_web_instances(&db, "", &[]);
    // Anna's console on the second instance follows its event stream.
    let (cookie, _) = api_login(&addrs[1], "anna");
    let mut stream = std::net::TcpStream::connect(&addrs[1]).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        stream,
        "GET /api/v1/events HTTP/1.1\r\nHost: {}\r\nCookie: {cookie}\r\nAccept: text/event-stream\r\n\r\n",
        addrs[1]
    )
    .unwrap();
    let mut lines = BufReader::new(stream).lines();
    let mut next_data = || loop {
        let line = lines.next().expect("the stream stays open").unwrap();
        if let Some(data) = line.strip_prefix("data:") {
            return serde_json::from_str::<serde_json::Value>(data.trim()).unwrap();
        }
    };
    assert_eq!(next_data(), serde_json::json!({}), "the stream is live");
    // A visitor writes to the first instance.
    let start = request(&addrs[0], "POST", "/api/v1/chat/start", &[], None).json();
    let visitor = start["visitor"].as_str().unwrap().to_owned();
    let me = [("X-Sportello-Visitor", visitor.as_str())];
    let body = serde_json::json!({"id": "m1", "locale": "it-IT",
                                  "text": "voglio parlare con un operatore"});
    let r = request(
        &addrs[0],
        "POST",
        "/api/v1/chat/messages",
        &me,
        Some(&body.to_string()),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let event = loop {
        let data = next_data();
        if data["from_customer"] == true {
            break data;
        }
    };
    let customer = event["customer"].as_str().unwrap().to_owned();
    assert!(customer.starts_with("web:"), "{event}");
    let headers = [("Cookie", cookie.as_str())];
    let queue = request(&addrs[1], "GET", "/api/v1/queue", &headers, None).json();
    assert_eq!(
        queue["tickets"][0]["customer"],
        customer.as_str(),
        "{queue}"
    );
    assert_eq!(event["ticket"], queue["tickets"][0]["id"], "{queue}");
}

/// Two operators, each on a console served by a different instance, claim the same
/// ticket at the same moment: exactly one wins, every time, and the other is told who.
#[test]
fn two_operators_on_two_instances_claiming_at_once_exactly_one_wins() {
    use crate::support::http::{api_login, request};
    let db = TestDatabase::new();
    let (_instances, addrs, _files) = anna_and_two_web_instances(&db, "", &[]);
    let out = crate::support::sportello(
        &db.data(),
        &["operator", "add", "bruno", "--department", "assistenza"],
        &format!("{PASSWORD}\n"),
    );
    assert!(out.status.success(), "{out:?}");
    let consoles = [
        (&addrs[0], api_login(&addrs[0], "anna")),
        (&addrs[1], api_login(&addrs[1], "bruno")),
    ];
    for round in 1..=6 {
        let start = request(&addrs[round % 2], "POST", "/api/v1/chat/start", &[], None).json();
        let visitor = start["visitor"].as_str().unwrap().to_owned();
        let me = [("X-Sportello-Visitor", visitor.as_str())];
        let body = serde_json::json!({"id": "h1", "locale": "it-IT",
                                      "text": "voglio parlare con un operatore"});
        let r = request(
            &addrs[round % 2],
            "POST",
            "/api/v1/chat/messages",
            &me,
            Some(&body.to_string()),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        let path = format!("/api/v1/tickets/{round}/claim");
        let results: Vec<_> = std::thread::scope(|s| {
            let claims: Vec<_> = consoles
                .iter()
                .map(|(addr, (cookie, csrf))| {
                    let path = &path;
                    s.spawn(move || {
                        let headers =
                            [("Cookie", cookie.as_str()), ("X-CSRF-Token", csrf.as_str())];
                        request(addr, "POST", path, &headers, None)
                    })
                })
                .collect();
            claims.into_iter().map(|c| c.join().unwrap()).collect()
        });
        crate::support::http::assert_one_claim_won(&results, round);
    }
}
