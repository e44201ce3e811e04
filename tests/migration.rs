//! A store written by the previous release (key layout v1: made by sportello at commit
//! aeeda56 with `demo --days 3 --until 2026-11-20`, a replay of three handoffs with one
//! claim, and an operator account) opens with this one: migrated in place to the
//! current layout, with the same report, the same queue and a working queue position.

use crate::support::{open_service, repo, sample_dirs, sportello_ok};
use sportello::config::Config;
use sportello::domain::triage::Cause;
use sportello::domain::{CustomerId, EventKind, Inbound, TicketStatus};
use sportello::service::Service;
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
    let mut report = parse(&report);
    // A figure added since that release, from the same events: some conversations the
    // bot kept ended unanswered (the store holds fallbacks), never more than it kept.
    let unanswered = report
        .as_object_mut()
        .unwrap()
        .remove("unanswered_rate")
        .and_then(|v| v.as_f64())
        .unwrap();
    let kept = report["containment_rate"].as_f64().unwrap();
    assert!(
        unanswered > 0.0 && unanswered <= kept,
        "{unanswered} of {kept}"
    );
    assert_eq!(
        report,
        parse(&expected),
        "every figure of that release unchanged"
    );
    let store = Store::open(&data).unwrap();
    assert_eq!(store.layout_version().unwrap(), LAYOUT_VERSION);
    // v4: every event and ticket indexed (verify checks the history index), so a
    // customer's record and tickets are read through it.
    assert_eq!(store.verify().unwrap(), Vec::<String>::new());
    let with_ticket = store.tickets().next().unwrap().unwrap();
    let theirs = store.tickets_of(&with_ticket.customer).unwrap();
    assert!(theirs.iter().any(|t| t.id == with_ticket.id), "{theirs:?}");
    let all_theirs = store
        .events()
        .map(|e| e.unwrap())
        .filter(|e| e.customer == with_ticket.customer)
        .collect::<Vec<_>>();
    assert!(!all_theirs.is_empty());
    assert_eq!(store.events_of(&with_ticket.customer).unwrap(), all_theirs);
    // v3: every decision got its typed cause from its words, once.
    let causes: Vec<(String, Cause)> = store
        .events()
        .map(|e| e.unwrap())
        .filter_map(|e| match e.kind {
            EventKind::Decided { reason, cause, .. } => Some((reason, cause)),
            _ => None,
        })
        .collect();
    assert!(causes.len() > 100, "{}", causes.len());
    let unknown: Vec<_> = causes
        .iter()
        .filter(|(_, c)| *c == Cause::Unknown)
        .collect();
    assert!(unknown.is_empty(), "{unknown:#?}");
    assert!(causes.iter().any(|(_, c)| *c == Cause::SecondMiss));
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
    // sled lets go of its lock file a moment after the drop: the CLI may find it held.
    let mut operators = String::new();
    for _ in 0..100 {
        let out = crate::support::sportello(&data, &["operator", "list"], "");
        operators = String::from_utf8_lossy(&out.stdout).into_owned();
        if out.status.success() || !String::from_utf8_lossy(&out.stderr).contains("in use") {
            assert!(out.status.success(), "{out:?}");
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
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
        sent_at: None,
        locale: None,
        name: None,
        attachment: None,
        original: None,
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
    let db = when_free(|| sled::open(&data));
    db.open_tree("meta")
        .unwrap()
        .insert("version", &(LAYOUT_VERSION + 1).to_be_bytes())
        .unwrap();
    db.flush().unwrap();
    drop(db);
    // sled lets go of its lock file a moment after the drop (its flusher thread): wait
    // until the answer is about the version, not the lock.
    let mut err = String::new();
    for _ in 0..100 {
        err = Store::open(&data).err().expect("refused").to_string();
        if !err.contains("in use") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(err.contains("newer") && err.contains("hint"), "{err}");
}

#[test]
fn a_record_written_before_a_field_existed_is_answered_first_time() {
    // A conversation stored by a release without `acked_at`, `survey`, `nps_asked_at`,
    // `last_said` and `version` (all `#[serde(default)]`): the turn compares versions,
    // not re-encoded bytes, so the customer is answered, never told "busy".
    let dir = tempfile::tempdir().unwrap();
    let old = serde_json::json!({
        "customer": "telegram:77", "mode": "bot", "lang": "it", "name": "Giulia",
        "low_confidence_streak": 0, "pending_choices": [], "ticket": null,
        "order_numbers": [], "started_at": "2026-11-01T10:00:00Z",
        "updated_at": "2026-11-01T10:00:00Z"
    });
    {
        let db = sled::open(dir.path()).unwrap();
        db.open_tree("conversations")
            .unwrap()
            .insert("telegram:77", serde_json::to_vec(&old).unwrap())
            .unwrap();
        let meta = db.open_tree("meta").unwrap();
        // The v4 store, JSON records: a list (canned replies) as well as objects.
        meta.insert("version", &4u64.to_be_bytes()).unwrap();
        let canned =
            serde_json::json!([{"title": "Resi", "lang": "it", "text": "Entro 30 giorni."}]);
        meta.insert("canned", serde_json::to_vec(&canned).unwrap())
            .unwrap();
        db.flush().unwrap();
    }
    let store = when_free(|| Store::open(dir.path()));
    assert_eq!(store.layout_version().unwrap(), LAYOUT_VERSION);
    let canned = store.canned().unwrap().expect("the saved list");
    assert_eq!(canned[0].title, "Resi");
    assert_eq!(canned[0].text, "Entro 30 giorni.");
    let brain = crate::support::sample_brain().0.clone();
    let service = Service::new(store, brain, Config::default());
    let at = chrono::DateTime::parse_from_rfc3339("2026-11-01T10:05:00Z")
        .unwrap()
        .to_utc();
    let inbound = Inbound {
        customer: CustomerId::parse("telegram:77").unwrap(),
        message_id: "m1".into(),
        text: "quanto costa la spedizione?".into(),
        at,
        sent_at: None,
        locale: None,
        name: None,
        attachment: None,
        original: None,
    };
    let handled = service.handle_inbound(&inbound).unwrap();
    assert!(matches!(
        handled.decision,
        Some(sportello::domain::triage::Decision::Answer { .. })
    ));
    let stored = service
        .store()
        .conversation(&inbound.customer)
        .unwrap()
        .unwrap();
    assert_eq!(stored.version, 1);
    assert_eq!(stored.name.as_deref(), Some("Giulia"));
    // Layout v5: what the turn wrote is MessagePack, the JSON it replaced read as well.
    let line = service.store().transcript(&inbound.customer).unwrap();
    assert_eq!(line[0].text, "quanto costa la spedizione?");
    assert_eq!(
        line[0].at, at,
        "an instant written as an integer reads back"
    );
    drop(service);
    let db = when_free(|| sled::open(dir.path()));
    let raw = db.open_tree("conversations").unwrap();
    let record = raw.get("telegram:77").unwrap().unwrap();
    assert_ne!(record.first(), Some(&b'{'), "rewritten in binary");
    assert!(serde_json::from_slice::<serde_json::Value>(&record).is_err());
    let messages = db.open_tree("messages").unwrap();
    assert!(!messages.is_empty());
    for value in messages.iter().values() {
        assert_ne!(value.unwrap().first(), Some(&b'{'));
    }
    drop((raw, messages, db));
    let store = when_free(|| Store::open(dir.path()));
    assert_eq!(store.conversation(&inbound.customer).unwrap(), Some(stored));
}

/// Open what this process just closed: sled's flusher thread may hold the lock a moment.
fn when_free<T, E: std::fmt::Debug>(mut open: impl FnMut() -> Result<T, E>) -> T {
    for _ in 0..100 {
        if let Ok(opened) = open() {
            return opened;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    open().unwrap()
}
