//! The customer record: known customers greeted by name and never asked again for
//! what the bot knows, routing by the customer's words, the GDPR copy, and `forget`
//! that leaves nothing of them in the data directory's files.

use crate::support::{Place, TestApp, sample_dirs, sportello, sportello_ok};
use serde_json::Value;
use std::path::Path;

/// Giulia writes twice, three days apart, and answers a survey; Marco writes once.
const SCRIPT: &str = r#"{"at":"2026-03-02T09:00:00Z","customer":"telegram:501","name":"Giulia","lang":"it","text":"il mio ordine 4455667 non è ancora arrivato, voglio parlare con un operatore"}
{"at":"2026-03-02T09:05:00Z","operator":"anna","claim":"telegram:501"}
{"at":"2026-03-02T09:06:00Z","operator":"anna","reply":"telegram:501","text":"Ciao Giulia, il pacco di Bergamo arriva domani."}
{"at":"2026-03-02T09:07:00Z","operator":"anna","close":"telegram:501"}
{"at":"2026-03-02T09:08:00Z","customer":"telegram:501","name":"Giulia","text":"4 gentilissimi ma lenti zanzibar"}
{"at":"2026-03-02T10:00:00Z","customer":"telegram:777","name":"Marco","lang":"it","text":"quanto costa la spedizione?"}
{"at":"2026-03-05T18:00:00Z","customer":"telegram:501","name":"Giulia","text":"ciao"}
{"at":"2026-03-05T18:01:00Z","customer":"telegram:501","name":"Giulia","text":"voglio parlare con un operatore"}
"#;

fn replayed(place: &Place) -> Vec<Value> {
    let script = place.files().join("script.jsonl");
    std::fs::write(&script, SCRIPT).unwrap();
    sportello_ok(&place.data(), &["replay", script.to_str().unwrap()])
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn json_of(data: &Path, args: &[&str]) -> Value {
    serde_json::from_str(&sportello_ok(data, args)).unwrap()
}

#[test]
fn a_returning_customer_is_greeted_by_name_and_not_asked_again_for_the_order() {
    let place = Place::new();
    let out = replayed(&place);
    let to_giulia: Vec<&str> = out
        .iter()
        .filter(|o| o["customer"] == "telegram:501")
        .map(|o| o["text"].as_str().unwrap())
        .collect();
    let first = to_giulia[0];
    assert!(first.contains("l'ordine 4455667"), "{first}");
    let back = to_giulia
        .iter()
        .find(|t| t.contains("Giulia, che piacere risentirti"))
        .expect("greeted by name three days later");
    assert!(!back.contains("voglio"), "{back}");
    let handoff = to_giulia.last().unwrap();
    assert!(handoff.contains("4455667"), "{handoff}");
    assert!(
        !handoff.contains("numero d'ordine"),
        "asked again: {handoff}"
    );
    // Marco is new: no greeting by name.
    let to_marco: Vec<&Value> = out
        .iter()
        .filter(|o| o["customer"] == "telegram:777")
        .collect();
    assert!(!to_marco[0]["text"].as_str().unwrap().contains("Marco"));
}

#[test]
fn the_record_and_the_access_copy_say_what_is_stored_about_a_customer() {
    let place = Place::new();
    replayed(&place);
    let data = place.data();
    let r = json_of(&data, &["customer", "show", "telegram:501", "--json"]);
    assert_eq!(r["name"], "Giulia");
    assert_eq!(r["lang"], "it");
    assert_eq!(r["channels"], serde_json::json!(["telegram"]));
    assert_eq!(r["first_seen"], "2026-03-02T09:00:00Z");
    assert_eq!(r["conversations"], 2);
    assert_eq!(r["order_numbers"], serde_json::json!(["4455667"]));
    assert_eq!(r["tickets"].as_array().unwrap().len(), 2);
    assert_eq!(r["surveys"][0]["score"], 4);
    assert_eq!(r["surveys"][0]["comment"], "gentilissimi ma lenti zanzibar");
    let copy = json_of(&data, &["customer", "export", "telegram:501"]);
    let transcript = copy["transcript"].as_array().unwrap();
    assert!(transcript.iter().any(|m| m["text"] == "ciao"));
    assert!(
        transcript
            .iter()
            .any(|m| m["text"] == "Ciao Giulia, il pacco di Bergamo arriva domani.")
    );
    let unknown = sportello(&data, &["customer", "show", "telegram:9"], "");
    assert_eq!(unknown.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("hint:"));
}

/// Every file under `dir`, read as bytes, searched for each needle.
fn found_in_files(dir: &Path, needles: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            for needle in needles {
                if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                    found.push(format!("{needle} in {}", path.display()));
                }
            }
        }
    }
    found
}

/// After forgetting Giulia: the anonymous counts still add up to the report `before`,
/// and Marco is untouched.
fn counts_kept_and_marco_untouched(data: &Path, period: &[&str], before: &Value) {
    let after = json_of(data, period);
    for key in [
        "conversations",
        "messages",
        "csat",
        "promises",
        "handoff_rate",
        // Her conversations stay on the channel she wrote on, not a "forgotten" one.
        "by_channel",
    ] {
        assert_eq!(before[key], after[key], "{key}");
    }
    let marco = json_of(data, &["customer", "show", "telegram:777", "--json"]);
    assert_eq!(marco["name"], "Marco");
}

#[test]
fn forget_leaves_nothing_of_the_customer_in_the_data_directory() {
    let place = Place::on_disk();
    replayed(&place);
    let data = place.data();
    let hers = ["telegram:501", "Giulia", "4455667", "zanzibar", "Bergamo"];
    for needle in hers {
        let stored = found_in_files(&data, &[needle]);
        assert!(!stored.is_empty(), "{needle} is stored before forget");
    }
    let period = [
        "report",
        "--from",
        "2026-03-01",
        "--to",
        "2026-03-31",
        "--json",
    ];
    let before = json_of(&data, &period);
    sportello_ok(&data, &["customer", "forget", "telegram:501"]);
    assert_eq!(found_in_files(&data, &hers), Vec::<String>::new());
    // Only the directory itself is left (and the rewrite's empty lock file): no copy,
    // no old one.
    let mut siblings: Vec<_> = std::fs::read_dir(place.files())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("data"))
        .collect();
    siblings.sort();
    assert_eq!(siblings, ["data", "data.sportello-lock"]);
    counts_kept_and_marco_untouched(&data, &period, &before);
    let gone = sportello(&data, &["customer", "show", "telegram:501"], "");
    assert_eq!(gone.status.code(), Some(1));
    // The rewritten store keeps working: Giulia writing again is a new customer.
    let script = place.files().join("again.jsonl");
    std::fs::write(
        &script,
        r#"{"at":"2026-03-06T09:00:00Z","customer":"telegram:501","text":"quanto costa la spedizione?"}"#,
    )
    .unwrap();
    let again = sportello(&data, &["replay", script.to_str().unwrap()], "");
    assert!(again.status.success());
    let r = json_of(&data, &["customer", "show", "telegram:501", "--json"]);
    assert_eq!(r["conversations"], 1);
    assert_eq!(r["name"], Value::Null);
}

#[test]
fn a_handoff_goes_to_the_department_its_keywords_name() {
    let mut config = sportello::config::Config::parse(
        r#"
default_department = "assistenza"
[departments.assistenza]
[departments.amministrazione]
keywords = ["partita iva", "nota di credito"]
"#,
    )
    .unwrap();
    config.hours = sportello::care::Hours::always();
    let mut app = TestApp::with_config(sample_dirs(), config);
    app.say(
        "telegram:1",
        "voglio parlare con un operatore per la Partita IVA",
    );
    app.say("telegram:2", "voglio parlare con un operatore");
    // The question first, then the request for a person: the question routes it.
    app.say(
        "telegram:3",
        "mi serve la nota di credito per la partita iva",
    );
    app.say("telegram:3", "voglio parlare con un operatore");
    // A question that names no department leaves it where it was.
    app.say("telegram:4", "posso pagare con il bonifico?");
    app.say("telegram:4", "voglio parlare con un operatore");
    let queue = app.queue();
    let department = |c: &str| {
        queue
            .iter()
            .find(|t| t.customer.as_str() == c)
            .map(|t| t.department.clone())
    };
    assert_eq!(department("telegram:1").as_deref(), Some("amministrazione"));
    assert_eq!(department("telegram:2").as_deref(), Some("assistenza"));
    assert_eq!(department("telegram:3").as_deref(), Some("amministrazione"));
    assert_eq!(department("telegram:4").as_deref(), Some("assistenza"));
}

#[test]
fn a_forget_cut_short_is_finished_at_the_next_open_and_a_person_s_backup_is_left_alone() {
    let place = Place::on_disk();
    replayed(&place);
    let data = place.data();
    let backup = place.files().join("data.old");
    std::fs::create_dir(&backup).unwrap();
    std::fs::write(backup.join("notes.txt"), "a backup made by hand").unwrap();
    let giulia = sportello::domain::CustomerId::parse("telegram:501").unwrap();
    {
        // Erased in the store, but the process stops before rewriting its files.
        let store = sportello::store::Store::open(&data).unwrap();
        store.forget(&giulia).unwrap();
    }
    assert!(
        !found_in_files(&data, &["zanzibar"]).is_empty(),
        "still in old pages"
    );
    drop(sportello::store::Store::open(&data).unwrap());
    assert_eq!(
        found_in_files(&data, &["zanzibar", "Giulia"]),
        Vec::<String>::new()
    );
    let kept = std::fs::read_to_string(backup.join("notes.txt")).unwrap();
    assert_eq!(kept, "a backup made by hand");
}

/// A crash after a forget's rewrite moved the data directory aside and before it moved
/// the fresh copy in leaves no `data` at all: a command that reads the shop (and refuses
/// a missing store) finds the swap, finishes it and reads the fresh copy.
#[test]
fn a_reading_command_finishes_a_swap_that_left_the_data_directory_aside() {
    let place = Place::on_disk();
    replayed(&place);
    let data = place.data();
    // The state the rewrite leaves between its two renames: a complete fresh copy
    // beside (here: Giulia forgotten in it only), the old directory aside, marked as
    // sportello's (still holding her).
    let fresh = place.files().join("data.sportello-rewrite");
    let old = place.files().join("data.sportello-old");
    let copied = std::process::Command::new("cp")
        .arg("-r")
        .arg(&data)
        .arg(&fresh)
        .status()
        .unwrap();
    assert!(copied.success());
    let giulia = sportello::domain::CustomerId::parse("telegram:501").unwrap();
    drop(
        sportello::store::Store::open(&fresh)
            .unwrap()
            .forget(&giulia)
            .unwrap(),
    );
    assert!(!found_in_files(&data, &["Giulia"]).is_empty());
    std::fs::write(fresh.join("SPORTELLO_REWRITE"), "").unwrap();
    std::fs::write(fresh.join("COMPLETE"), "").unwrap();
    std::fs::write(data.join("SPORTELLO_OLD"), "").unwrap();
    std::fs::rename(&data, &old).unwrap();
    let marco = json_of(&data, &["customer", "show", "telegram:777", "--json"]);
    assert_eq!(marco["name"], "Marco", "{marco}");
    let gone = sportello(&data, &["customer", "show", "telegram:501"], "");
    assert_eq!(gone.status.code(), Some(1));
    assert!(data.join("db").is_file() && !fresh.exists() && !old.exists());
    for mark in ["SPORTELLO_REWRITE", "COMPLETE", "SPORTELLO_OLD"] {
        assert!(!data.join(mark).exists(), "{mark} left in the store");
    }
}

/// On PostgreSQL `forget` deletes her rows and keeps the anonymous counts: no row of
/// any table says her id, name, order number or words, and the report is unchanged.
#[test]
fn forget_on_postgresql_leaves_no_row_of_the_customer() {
    let dir = tempfile::tempdir().unwrap();
    let db = crate::support::postgres::TestDatabase::new();
    let script = dir.path().join("script.jsonl");
    std::fs::write(&script, SCRIPT).unwrap();
    sportello_ok(&db.data(), &["replay", script.to_str().unwrap()]);
    let hers = ["telegram:501", "Giulia", "4455667", "zanzibar", "Bergamo"];
    let period = [
        "report",
        "--from",
        "2026-03-01",
        "--to",
        "2026-03-31",
        "--json",
    ];
    let before = json_of(&db.data(), &period);
    for needle in hers {
        let stored = crate::support::postgres::rows_saying(&db, &[needle]);
        assert!(!stored.is_empty(), "{needle} is stored before forget");
    }
    let said = sportello_ok(&db.data(), &["customer", "forget", "telegram:501"]);
    assert!(said.contains("vacuumed"), "{said}");
    assert_eq!(
        crate::support::postgres::rows_saying(&db, &hers),
        Vec::<String>::new()
    );
    counts_kept_and_marco_untouched(&db.data(), &period, &before);
}

#[test]
fn a_forgotten_customer_s_ticket_takes_no_more_notes() {
    let mut app = TestApp::new();
    app.say("terminal:g", "voglio parlare con un operatore");
    let id = app.queue()[0].id;
    let now = app.now();
    app.service
        .note(id, "anna", "richiamare domani", now)
        .unwrap();
    let store = app.service.store().clone();
    let giulia = sportello::domain::CustomerId::parse("terminal:g").unwrap();
    store.forget(&giulia).unwrap();
    let err = app
        .service
        .note(id, "anna", "abita in via Roma 3", now)
        .unwrap_err();
    assert!(
        matches!(err, sportello::service::ServiceError::Forgotten(t) if t == id),
        "{err}"
    );
    assert!(err.to_string().contains("erased"), "{err}");
    let ticket = store.ticket(id).unwrap().unwrap();
    assert!(ticket.customer.is_forgotten(), "{:?}", ticket.customer);
    assert!(store.notes(&ticket.customer).unwrap().is_empty());
    assert!(store.notes(&giulia).unwrap().is_empty());
}
