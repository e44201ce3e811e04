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
