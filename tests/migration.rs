//! A store written by the previous release (key layout v1: made by sportello at commit
//! aeeda56 with `demo --days 3 --until 2026-11-20`, a replay of three handoffs with one
//! claim, and an operator account) opens with this one: migrated in place to the
//! current layout, with the same report, the same queue and a working queue position.

use crate::support::{open_service, repo, sample_dirs, sportello_ok};
use sportello::domain::{CustomerId, Inbound, TicketStatus};
use sportello::store::{LAYOUT_VERSION, Store};
use std::path::PathBuf;

/// Unpack the fixture store into a fresh temp dir; returns (temp dir, store path).
fn fixture_store() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("tar")
        .arg("xzf")
        .arg(repo().join("tests/fixtures/store-v1.tar.gz"))
        .arg("-C")
        .arg(dir.path())
        .status()
        .expect("tar runs");
    assert!(status.success());
    let store = dir.path().join("store-v1");
    (dir, store)
}

#[test]
fn a_store_written_by_the_previous_release_opens_with_the_same_report_and_queue() {
    let (_dir, data) = fixture_store();
    let report = sportello_ok(
        &data,
        &[
            "report",
            "--from",
            "2026-11-18",
            "--to",
            "2026-11-21",
            "--json",
        ],
    );
    let expected =
        std::fs::read_to_string(repo().join("tests/fixtures/store-v1-report.json")).unwrap();
    let parse = |s: &str| serde_json::from_str::<serde_json::Value>(s).unwrap();
    assert_eq!(parse(&report), parse(&expected));
    let store = Store::open(&data).unwrap();
    assert_eq!(store.layout_version().unwrap(), LAYOUT_VERSION);
    let queue = store.queue().unwrap();
    let waiting: Vec<_> = queue
        .iter()
        .filter(|t| t.status == TicketStatus::Queued)
        .collect();
    assert_eq!(waiting.len(), 2, "{queue:?}");
    for (n, ticket) in waiting.iter().enumerate() {
        assert_eq!(store.queue_position(ticket).unwrap(), n + 1);
    }
    drop(store);
    let operators = sportello_ok(&data, &["operator", "list"]);
    assert!(operators.contains("paola"), "{operators}");
}

#[test]
fn a_handoff_in_a_migrated_store_is_told_its_place_behind_the_old_queue() {
    let (_dir, data) = fixture_store();
    let service = open_service(&data, &sample_dirs());
    let at = chrono::DateTime::parse_from_rfc3339("2026-11-21T10:00:00Z")
        .unwrap()
        .to_utc();
    let inbound = Inbound {
        customer: CustomerId::parse("telegram:9005").unwrap(),
        message_id: "m1".into(),
        text: "voglio parlare con un operatore".into(),
        at,
        locale: None,
        name: None,
        attachment: None,
    };
    let handled = service.handle_inbound(&inbound).unwrap();
    let ticket = handled.ticket.expect("a handoff");
    assert_eq!(service.store().queue_position(&ticket).unwrap(), 3);
    let said = service
        .store()
        .pending_outbox(&inbound.customer)
        .unwrap()
        .into_iter()
        .map(|(_, o)| o.text)
        .collect::<Vec<_>>()
        .join(" ");
    assert!(said.contains("numero 3"), "{said}");
    // The wait estimate comes from the claims the migration indexed (anna's claim).
    assert!(
        !service
            .store()
            .recent_claims("assistenza", 20)
            .unwrap()
            .is_empty(),
        "claims indexed"
    );
}

#[test]
fn a_store_from_a_newer_release_is_refused_with_a_hint() {
    let (_dir, data) = fixture_store();
    drop(Store::open(&data).unwrap());
    let db = sled::open(&data).unwrap();
    db.open_tree("meta")
        .unwrap()
        .insert("version", &(LAYOUT_VERSION + 1).to_be_bytes())
        .unwrap();
    db.flush().unwrap();
    drop(db);
    let err = Store::open(&data).err().expect("refused").to_string();
    assert!(err.contains("newer") && err.contains("hint"), "{err}");
}
