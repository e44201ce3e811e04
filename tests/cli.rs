//! The `sportello` binary as a shop would run it.

use crate::support::{Place, repo, sportello, sportello_bytes, sportello_ok};
use std::io::Write;
use std::process::{Command, Output, Stdio};

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn check_passes_on_the_sample_content_and_fails_on_a_broken_file() {
    let data = tempfile::tempdir().unwrap();
    let ok = sportello(data.path(), &["check"], "");
    assert!(ok.status.success(), "{}", stdout(&ok));
    assert!(stdout(&ok).contains("0 errors"));

    let faq = tempfile::tempdir().unwrap();
    std::fs::create_dir(faq.path().join("it")).unwrap();
    std::fs::write(
        faq.path().join("it/a.md"),
        "+++\nquestions = [\"a?\"]\n+++\nRisposta A.\n",
    )
    .unwrap();
    std::fs::write(
        faq.path().join("it/b.md"),
        "+++\nquestions = \"b?\"\n+++\nRisposta B.\n",
    )
    .unwrap();
    let faq_arg = faq.path().to_str().unwrap();
    let bad = sportello(data.path(), &["--faq", faq_arg, "check"], "");
    assert_eq!(bad.status.code(), Some(1));
    let expected = format!("{}:2: error:", faq.path().join("it/b.md").display());
    assert!(stdout(&bad).contains(&expected), "{}", stdout(&bad));
    assert!(
        !stdout(&ok).contains("no FAQ entry to serve"),
        "{}",
        stdout(&ok)
    );

    // A folder with nothing to serve passes, but not silently.
    let empty = tempfile::tempdir().unwrap();
    let none = sportello(
        data.path(),
        &["--faq", empty.path().to_str().unwrap(), "check"],
        "",
    );
    assert!(none.status.success(), "{}", stdout(&none));
    assert!(
        stdout(&none).contains("warning: no FAQ entry to serve here"),
        "{}",
        stdout(&none)
    );
    assert!(stdout(&none).contains("0 FAQ entries"), "{}", stdout(&none));

    // The same question in two entries: said as such, not "move it" where it already is.
    let twice = tempfile::tempdir().unwrap();
    std::fs::create_dir(twice.path().join("it")).unwrap();
    std::fs::write(
        twice.path().join("it/spedizione.md"),
        "+++\nquestions = [\"Quanto costa la spedizione?\", \"costi di spedizione\"]\n+++\nLa spedizione costa 5 euro.\n",
    )
    .unwrap();
    std::fs::write(
        twice.path().join("it/ritiro.md"),
        "+++\nquestions = [\"Posso ritirare in negozio?\", \"Quanto costa la spedizione?\"]\n+++\nSì, il ritiro è gratuito.\n",
    )
    .unwrap();
    let out = sportello(
        data.path(),
        &["--faq", twice.path().to_str().unwrap(), "check"],
        "",
    );
    let said = stdout(&out);
    assert!(
        said.contains("question \"Quanto costa la spedizione?\" is also a question of `"),
        "{said}"
    );
    assert!(
        said.contains("keep it in the one entry that answers it"),
        "{said}"
    );
    assert!(!said.contains("move it to"), "{said}");
}

#[test]
fn a_terminal_chat_answers_and_its_handoff_shows_in_the_queue_after_a_restart() {
    let place = Place::new();
    let data = place.data();
    let chat = sportello(
        &data,
        &["chat"],
        "quanto costa la spedizione?\nvoglio parlare con un operatore\n",
    );
    assert!(
        chat.status.success(),
        "{}",
        String::from_utf8_lossy(&chat.stderr)
    );
    let said = stdout(&chat);
    assert!(said.contains("4,90"), "{said}");
    assert!(said.contains("numero 1 in coda"), "{said}");

    let list = sportello(&data, &["queue", "list"], "");
    assert!(
        stdout(&list).contains("terminal:tester"),
        "{}",
        stdout(&list)
    );
    add_operator(&data, "anna");
    add_operator(&data, "marco");
    let claim = sportello(&data, &["queue", "claim", "1", "--as", "anna"], "");
    assert!(
        claim.status.success(),
        "{}",
        String::from_utf8_lossy(&claim.stderr)
    );
    let again = sportello(&data, &["queue", "claim", "1", "--as", "marco"], "");
    assert!(String::from_utf8_lossy(&again.stderr).contains("already taken by anna"));
    sportello(
        &data,
        &["queue", "reply", "1", "Ciao, sono Anna!", "--as", "anna"],
        "",
    );

    let back = sportello(&data, &["chat"], "");
    assert!(
        stdout(&back).contains("operatore> Ciao, sono Anna!"),
        "{}",
        stdout(&back)
    );
    let report = sportello(&data, &["report", "--json"], "");
    let report: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    assert_eq!(report["messages"], 2);
    assert_eq!(report["handed_off"], 1);
}

#[test]
fn an_english_terminal_customer_sees_the_operator_labelled_in_english() {
    let place = Place::new();
    let data = place.data();
    let args = ["chat", "--customer", "terminal:en"];
    sportello(&data, &args, "I want to talk to a human, please\n");
    add_operator(&data, "anna");
    sportello_ok(&data, &["queue", "claim", "1", "--as", "anna"]);
    sportello_ok(
        &data,
        &["queue", "reply", "1", "Hi, I'm Anna!", "--as", "anna"],
    );
    let back = stdout(&sportello(&data, &args, ""));
    assert!(back.contains("operator> Hi, I'm Anna!"), "{back}");
}

/// `operator add NAME --department assistenza`, with a password on standard input.
fn add_operator(data: &std::path::Path, name: &str) {
    let add = sportello(
        data,
        &["operator", "add", name, "--department", "assistenza"],
        "una password lunga\n",
    );
    assert!(
        add.status.success(),
        "{}",
        String::from_utf8_lossy(&add.stderr)
    );
}

/// A terminal customer asks for a person: ticket 1, queued.
fn handoff(data: &std::path::Path) {
    let chat = sportello(data, &["chat"], "voglio parlare con un operatore\n");
    assert!(
        stdout(&chat).contains("numero 1 in coda"),
        "{}",
        stdout(&chat)
    );
}

fn status_of_ticket_1(data: &std::path::Path) -> (String, Option<String>) {
    let list = sportello(data, &["queue", "list", "--json"], "");
    let queue: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let t = &queue[0];
    assert_eq!(t["id"], 1, "{queue}");
    (
        t["status"].as_str().unwrap().to_owned(),
        t["operator"].as_str().map(str::to_owned),
    )
}

#[test]
fn the_terminal_acts_only_as_an_existing_operator() {
    let place = Place::new();
    let data = place.data();
    handoff(&data);
    for args in [
        &["queue", "claim", "1", "--as", "ghostxyz"][..],
        // Without `--as`: $USER (here `tester`), which has no account either.
        &["queue", "claim", "1"][..],
    ] {
        let out = sportello(&data, args, "");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} was accepted");
        assert!(err.contains("no operator `"), "{err}");
        assert!(err.contains("--as NAME"), "{err}");
        assert!(err.contains("sportello operator add"), "{err}");
        let fell_back = args.len() == 3;
        assert_eq!(err.contains("your login name, $USER"), fell_back, "{err}");
    }
    // Neither `--as`, SPORTELLO_OPERATOR nor $USER: it says so, it does not guess a name.
    let out = Command::new(env!("CARGO_BIN_EXE_sportello"))
        .current_dir(repo())
        .args(["--data".as_ref(), data.as_os_str()])
        .args(["queue", "claim", "1"])
        .env_remove("USER")
        .env_remove("SPORTELLO_OPERATOR")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "claimed with no operator named");
    assert!(
        err.contains("no `--as NAME`, no SPORTELLO_OPERATOR, and $USER is not set"),
        "{err}"
    );
    assert_eq!(status_of_ticket_1(&data), ("queued".into(), None));
    add_operator(&data, "anna");
    let out = sportello(&data, &["queue", "release", "1", "--as", "anna"], "");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ticket #1 is waiting in the queue, not claimed by anna"),
        "{err}"
    );
    assert!(
        err.contains("sportello queue claim 1 --as anna"),
        "the hint names who: {err}"
    );
    // With an account for $USER, the command acts as it and says so.
    add_operator(&data, "tester");
    let claimed = sportello_ok(&data, &["queue", "claim", "1"]);
    assert!(
        claimed.starts_with("ticket #1 claimed by tester ("),
        "{claimed}"
    );
}

#[test]
fn a_removed_operators_tickets_go_back_to_the_queue_and_the_customer_is_answered() {
    let place = Place::new();
    let data = place.data();
    handoff(&data);
    add_operator(&data, "anna"); // the first account: an admin
    let out = sportello(&data, &["operator", "remove", "anna"], "");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("anna is the last admin"), "{err}");
    add_operator(&data, "carla");
    add_operator(&data, "luca");
    sportello_ok(&data, &["queue", "claim", "1", "--as", "carla"]);

    // Someone else's ticket: refused with who has it, and what to do.
    let out = sportello(&data, &["queue", "release", "1", "--as", "luca"], "");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("ticket #1 is claimed by carla, not by luca"),
        "{err}"
    );
    assert_eq!(
        status_of_ticket_1(&data),
        ("claimed".into(), Some("carla".into()))
    );

    let removed = sportello_ok(&data, &["operator", "remove", "carla"]);
    assert!(
        removed.contains("back in the queue: #1 (they were claimed by carla)"),
        "{removed}"
    );
    assert_eq!(status_of_ticket_1(&data), ("queued".into(), None));
    // The customer hears it at once (`chat` prints what is pending), with their place;
    // anyone may claim it now.
    let told = "non è più disponibile: sei di nuovo in coda, numero 1";
    let chat = stdout(&sportello(&data, &["chat"], ""));
    assert_eq!(chat.matches(told).count(), 1, "{chat}");
    sportello_ok(&data, &["queue", "claim", "1", "--as", "luca"]);

    // An admin puts back a ticket a colleague holds; the customer is told again.
    let back = sportello_ok(&data, &["queue", "release", "1", "--as", "anna"]);
    assert!(back.contains("ticket #1 released"), "{back}");
    assert_eq!(status_of_ticket_1(&data), ("queued".into(), None));
    let chat = stdout(&sportello(&data, &["chat"], ""));
    assert_eq!(chat.matches(told).count(), 1, "{chat}");
}

#[test]
fn output_to_a_reader_that_left_ends_quietly() {
    let place = Place::new();
    let data = place.data();
    handoff(&data);
    let script = place.files().join("script.jsonl");
    std::fs::write(
        &script,
        "{\"at\":\"2026-03-02T09:00:00Z\",\"customer\":\"web:c1\",\"lang\":\"it\",\"text\":\"ciao\"}\n",
    )
    .unwrap();
    for args in [
        &["queue", "list"][..],
        &["report", "--json"][..],
        &["customer", "show", "terminal:tester", "--json"][..],
        // Written with `?` rather than `println!`: an error, ended the same way.
        &["replay", script.to_str().unwrap()][..],
    ] {
        // `sportello ... | head -c 0`: the reader is gone before the first write.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = Command::new(env!("CARGO_BIN_EXE_sportello"))
            .current_dir(repo())
            .arg("--data")
            .arg(&data)
            .args(args)
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(141), "{args:?}: {err}");
        assert!(err.is_empty(), "{args:?} said: {err}");
    }
}

#[test]
fn ask_json_explains_the_decision_with_scores() {
    let place = Place::new();
    let out = sportello(
        &place.data(),
        &["ask", "quanto costa la spedizione?", "--json"],
        "",
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["decision"]["decision"], "answer");
    assert_eq!(v["decision"]["faq_id"], "costi-di-spedizione");
    let top = v["candidates"][0]["confidence"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&top));
    // The shipped threshold as written in the settings, not as a float32 widened.
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("\"threshold\": 0.85\n"), "{text}");
    assert!(
        v["reason"]
            .as_str()
            .unwrap()
            .contains("costi-di-spedizione")
    );
    // Nothing asked: said, with an example, and exit 1.
    let empty = sportello(&place.data(), &["ask", "  "], "");
    let said = String::from_utf8_lossy(&empty.stderr);
    assert_eq!(empty.status.code(), Some(1), "{said}");
    assert!(
        said.contains("nothing to ask about: the message is empty"),
        "{said}"
    );
}

#[test]
fn eval_json_has_the_documented_keys() {
    let place = Place::new();
    let out = sportello(
        &place.data(),
        &["eval", "tests/eval/en.jsonl", "--json"],
        "",
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for key in [
        "cases",
        "accuracy",
        "answered",
        "answered_precision",
        "handoff_recall",
        "coverage",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        !said.contains("warning"),
        "every expected id exists: {said}"
    );
    // A misspelt id is said, not counted silently as a miss.
    let cases = place.files().join("typo.jsonl");
    std::fs::write(
        &cases,
        "{\"text\": \"how much is shipping?\", \"expected\": \"shiping-costs\"}\n",
    )
    .unwrap();
    let out = sportello(&place.data(), &["eval", cases.to_str().unwrap()], "");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("typo.jsonl:1: warning: expected `shiping-costs` is no FAQ entry or intent"),
        "{said}"
    );
    // No handoff case: no recall figure (it read 100% before).
    let line = stdout(&out);
    assert!(line.contains("handoff_recall - (no cases)"), "{line}");
    assert!(line.contains("cases 1  accuracy 0.0%"), "{line}");
    assert!(
        line.contains("cases answered wrong or not answered"),
        "{line}"
    );
    assert!(
        line.contains("among the 1 cases that expect an entry or intent"),
        "{line}"
    );
    // A request for a person handed over, as its intent says: right, not listed.
    let human = place.files().join("human.jsonl");
    std::fs::write(
        &human,
        "{\"text\": \"voglio parlare con un operatore\", \"expected\": \"human\"}\n",
    )
    .unwrap();
    let line = stdout(&sportello(
        &place.data(),
        &["eval", human.to_str().unwrap()],
        "",
    ));
    assert!(line.contains("cases 1  accuracy 100.0%"), "{line}");
    assert!(!line.contains("cases answered wrong"), "{line}");
    // A file without cases is no 100% score.
    let empty = place.files().join("empty.jsonl");
    std::fs::write(&empty, "\n").unwrap();
    let out = sportello(&place.data(), &["eval", empty.to_str().unwrap()], "");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{said}");
    assert!(
        said.contains("holds no cases") && said.contains("hint:"),
        "{said}"
    );
}

/// A sled directory held by another process (PostgreSQL serves many: see
/// `instances.rs`).
#[test]
fn a_data_directory_in_use_is_reported_clearly() {
    let data = tempfile::tempdir().unwrap();
    let _held = sportello::store::Store::open(data.path()).unwrap();
    let out = sportello(data.path(), &["queue", "list"], "");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("in use by another running sportello"), "{err}");
    // A file where the data directory should be: said as such.
    let file = data.path().join("notes.txt");
    std::fs::write(&file, "x").unwrap();
    let out = sportello(&file, &["queue", "list"], "");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("is a file, not a data directory"), "{err}");
}

/// GET `path` from a local HTTP server; the whole response, or None if it is not up.
fn http_get(addr: &str, path: &str) -> Option<String> {
    use std::io::Read;
    let mut stream = std::net::TcpStream::connect(addr).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    Some(response)
}

/// `serve` on `place` at `addr` with no channel's secrets.
fn plain_serve(place: &Place, addr: &str, stderr: Stdio) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_sportello"))
        .current_dir(repo())
        .arg("--data")
        .arg(place.data())
        .arg("serve")
        .env("SPORTELLO_HTTP_ADDR", addr)
        .env_remove("SPORTELLO_TELEGRAM_TOKEN")
        .env_remove("SPORTELLO_WHATSAPP_TOKEN")
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .unwrap()
}

#[test]
fn serve_without_a_token_answers_health_and_metrics_and_stops_cleanly() {
    let place = Place::new();
    let addr = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().to_string()
    };
    let serve = plain_serve(&place, &addr, Stdio::piped());
    let mut health = None;
    for _ in 0..300 {
        health = http_get(&addr, "/healthz");
        if health.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let health = health.expect("serve listens");
    assert!(
        health.starts_with("HTTP/1.1 200") && health.ends_with("ok\n"),
        "{health}"
    );
    let metrics = http_get(&addr, "/metrics").unwrap();
    assert!(metrics.contains("sportello_queue_length 0"), "{metrics}");
    crate::support::sigterm(&serve);
    let out = serve.wait_with_output().unwrap();
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("SPORTELLO_TELEGRAM_TOKEN"),
        "says how to connect: {stderr}"
    );
}

/// A stop asked while serve is starting (its port just bound, a service manager or a
/// supervisor in a hurry) still stops it cleanly, not by the signal's default.
#[test]
fn serve_stopped_while_starting_stops_cleanly() {
    let place = Place::new();
    for round in 0..5 {
        let addr = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            probe.local_addr().unwrap().to_string()
        };
        let mut serve = plain_serve(&place, &addr, Stdio::null());
        while std::net::TcpStream::connect(&addr).is_err() {
            assert!(serve.try_wait().unwrap().is_none(), "serve exited");
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        crate::support::sigterm(&serve);
        let status = serve.wait().unwrap();
        assert!(status.success(), "round {round}: {status}");
    }
}

#[test]
fn replay_prints_every_message_to_customers_and_reports_bad_lines_at_their_number() {
    let place = Place::new();
    let script = place.files().join("script.jsonl");
    std::fs::write(
        &script,
        r#"{"at":"2026-11-28T19:00:00Z","customer":"telegram:501","name":"Giulia","lang":"it","text":"quanto costa la spedizione?"}
{"at":"2026-11-28T19:01:00Z","customer":"telegram:501","text":"voglio parlare con un operatore"}
{"at":"2026-11-28T19:02:00Z","operator":"anna","claim":"telegram:501"}
{"at":"2026-11-28T19:03:00Z","operator":"anna","reply":"telegram:501","text":"Ciao Giulia!"}
{"at":"2026-11-28T19:04:00Z","operator":"anna","close":"telegram:501"}
{"at":"2026-11-28T19:05:00Z","customer":"telegram:501","text":"5"}
this is not a script line
{"at":"2026-11-28T19:06:00Z","operator":"anna","close":"telegram:999"}
{"at":"2026-11-28T18:00:00Z","customer":"telegram:501","text":"ciao"}
"#,
    )
    .unwrap();
    let store = place.data();
    let out = sportello(&store, &["replay", script.to_str().unwrap()], "");
    assert_eq!(out.status.code(), Some(1), "bad lines make the exit code 1");
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<&str> = lines.iter().map(|l| l["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["answer", "handoff", "operator", "reply", "survey", "survey"]
    );
    assert_eq!(lines[2]["text"], "Ciao Giulia!");
    assert_eq!(lines[2]["at"], "2026-11-28T19:03:00Z", "the script's clock");
    assert!(lines.iter().all(|l| l["customer"] == "telegram:501"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("script.jsonl:7: not a script line"),
        "{stderr}"
    );
    assert!(
        stderr.contains("script.jsonl:8: cannot close: telegram:999 has no open ticket"),
        "{stderr}"
    );
    // Time does not go back: the line is skipped, said with the line it contradicts.
    assert!(
        stderr.contains(
            "script.jsonl:9: 2026-11-28 18:00:00 UTC is before line 8's 2026-11-28 19:06:00 UTC: skipped"
        ),
        "{stderr}"
    );
    // The operator was created on first use.
    let list = sportello(&store, &["operator", "list"], "");
    assert!(stdout(&list).starts_with("anna\t"), "{}", stdout(&list));
}

#[test]
fn after_a_demo_the_readme_quick_start_makes_anna_an_admin() {
    let place = Place::new();
    let data = place.data();
    for days in ["0", "100000"] {
        let out = sportello(&data, &["demo", "--days", days], "");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "--days {days} accepted");
        assert!(err.contains("1..=366"), "{err}");
    }
    let demo = sportello(&data, &["demo", "--days", "2", "--until", "2026-11-20"], "");
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    // The refused runs stored nothing (the demo fills only an empty store), and the
    // hint names the store it filled.
    assert!(
        stdout(&demo).contains(&format!(
            "see it: sportello --data {} report --from 2026-11-19 --to 2026-11-20",
            data.display()
        )),
        "{}",
        stdout(&demo)
    );
    let add = sportello(
        &data,
        &[
            "operator",
            "add",
            "anna",
            "--department",
            "assistenza",
            "--department",
            "logistica",
        ],
        "una password lunga\n",
    );
    assert!(
        add.status.success(),
        "{}",
        String::from_utf8_lossy(&add.stderr)
    );
    let list = stdout(&sportello(&data, &["operator", "list"], ""));
    let anna = list
        .lines()
        .find(|l| l.starts_with("anna\t"))
        .unwrap_or_else(|| panic!("{list}"));
    assert!(anna.contains("\tadmin\t"), "{list}");
    assert!(
        list.lines()
            .filter(|l| l.starts_with("demo."))
            .all(|l| l.contains("\toperator\t")),
        "{list}"
    );
}

#[test]
fn the_example_config_sets_every_section_and_sportello_accepts_it() {
    let text = std::fs::read_to_string(repo().join("sportello.example.toml")).unwrap();
    let config = sportello::config::Config::parse(&text).unwrap_or_else(|e| panic!("{e}"));
    let defaults = sportello::config::Config::default();
    assert_eq!(
        config.matching, defaults.matching,
        "the shown defaults are the defaults"
    );
    assert_eq!(config.telegram, defaults.telegram);
    assert_eq!(
        config.whatsapp.give_up_after,
        defaults.whatsapp.give_up_after
    );
    assert_eq!(config.orders.timeout, defaults.orders.timeout);
    assert_eq!(config.surveys, defaults.surveys);
    assert_eq!(config.web, defaults.web);
    assert_eq!(config.departments.len(), 4);
    assert!(config.departments["assistenza"].hours.is_some());
    assert_eq!(config.canned.len(), 2);
    // Every top-level table of the configuration appears in the example.
    for table in [
        "[matching]",
        "[hours]",
        "[departments.",
        "[telegram]",
        "[whatsapp]",
        "[orders]",
        "[embeddings]",
        "[surveys]",
        "[web]",
        "[[canned]]",
    ] {
        assert!(text.contains(table), "{table}");
    }
    let data = tempfile::tempdir().unwrap();
    // `check` with the configuration file `example`, which must pass.
    let check = |example: &std::path::Path| {
        let out = sportello(
            data.path(),
            &["--config", example.to_str().unwrap(), "check"],
            "",
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    let out = check(&repo().join("sportello.example.toml"));
    // Copied whole, it starts a shop: no order platform until one is uncommented.
    assert!(
        stdout(&out).contains(": 0 errors, 0 warnings"),
        "{}",
        stdout(&out)
    );
    assert!(config.orders.provider.is_none());
    // Uncommented, `[orders]` needs keys from the environment that `serve` refuses to
    // start without: `check` says so, as a warning (it may run where the secrets are not).
    let uncommented = text
        .replace("# provider = \"woocommerce\"", "provider = \"woocommerce\"")
        .replace("# url = \"https://negozio", "url = \"https://negozio");
    let elsewhere = tempfile::tempdir().unwrap();
    let example = elsewhere.path().join("sportello.example.toml");
    std::fs::write(&example, &uncommented).unwrap();
    let out = check(&example);
    let said = stdout(&out);
    let line = text.lines().position(|l| l == "[orders]").unwrap() + 1;
    assert!(
        said.contains(&format!(
            "sportello.example.toml:{line}: warning: [orders] provider = \"woocommerce\" needs \
             SPORTELLO_ORDERS_KEY (the consumer key); `serve` refuses to start this way\n  \
             hint: WooCommerce > Settings > Advanced > REST API"
        )),
        "{said}"
    );
}

#[test]
fn a_config_that_cannot_work_or_is_missing_is_refused_clearly() {
    let place = Place::new();
    let data = place.data();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sportello.toml");
    // `check` with `text` as the configuration: refused; what it said.
    let refused = |text: &str| {
        std::fs::write(&file, text).unwrap();
        let out = sportello(&data, &["--config", file.to_str().unwrap(), "check"], "");
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!out.status.success(), "{text}: {err}");
        err
    };
    // A value of the wrong kind is named in the editor's words, not Rust's types.
    for (text, says) in [
        (
            "[matching]\nthreshold = \"high\"\n",
            "expected a number (like 0.85)",
        ),
        (
            "[departments.x]\nhours = 5\n",
            "expected a table of settings",
        ),
        ("[web]\nmax_connections = 1.5\n", "expected a whole number"),
    ] {
        let err = refused(text);
        assert!(err.contains(says), "{text}: {err}");
        assert!(
            !err.contains("f32") && !err.contains("struct "),
            "{text}: {err}"
        );
    }
    let err = refused("# handoffs\ndefault_department = \"vendita\"\n\n[departments.vendite]\n");
    assert!(
        err.contains(
            ":2: default_department `vendita` is not a configured department (configured: vendite)"
        ),
        "{err}"
    );
    assert!(err.contains("[departments.vendita]"), "{err}");
    // A share written as a percentage would leave the bot never answering.
    let err = refused("[matching]\nthreshold = 85\n");
    assert!(
        err.contains(":2: [matching] threshold = 85 is outside 0..1"),
        "{err}"
    );
    let err = refused("[matching]\nmargin = -1\n");
    assert!(
        err.contains("[matching] margin = -1 is outside 0..1"),
        "{err}"
    );
    // Left at its default while the sections name other departments.
    let err = refused("[departments.logistica]\nsla_first_response = \"10m\"\n");
    assert!(
        err.contains(
            ":1: default_department is not set and its default, `assistenza`, is not a \
             configured department (configured: logistica;"
        ) && err.contains("add default_department = \"NAME\""),
        "{err}"
    );

    let missing = dir.path().join("nowhere.toml");
    let out = sportello(&data, &["--config", missing.to_str().unwrap(), "check"], "");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(
        err.matches("No such file").count(),
        1,
        "the cause once: {err}"
    );
    assert!(err.contains("cannot read "), "{err}");
}

#[test]
fn the_terminal_chat_never_speaks_for_another_channels_customer() {
    let place = Place::new();
    let data = place.data();
    for who in ["web:abc", "telegram:42"] {
        let out = sportello(&data, &["chat", "--customer", who], "ciao\n");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{who} accepted");
        assert!(
            err.contains(&format!("chat speaks as a terminal customer, not as {who}")),
            "{err}"
        );
        assert!(err.contains("--customer terminal:NAME"), "{err}");
    }
    // Nothing was stored for them.
    let report = sportello(&data, &["report", "--json"], "");
    let report: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
    assert_eq!(report["messages"], 0, "{report}");
}

#[test]
fn report_options_that_cannot_work_are_refused_with_the_form_expected() {
    let place = Place::new();
    let data = place.data();
    let out = sportello(
        &data,
        &["report", "--from", "11-30", "--to", "2026-11-30"],
        "",
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("`11-30` is not a day") && err.contains("YYYY-MM-DD"),
        "{err}"
    );
    // `--lang` is the HTML page's: without `--html` it would do nothing.
    let out = sportello(
        &data,
        &[
            "report",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "--lang",
            "en",
        ],
        "",
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "--lang without --html accepted");
    assert!(err.contains("--html"), "{err}");
    // The plain report reads as days, as given (on a store a chat made).
    assert!(sportello(&data, &["chat"], "ciao\n").status.success());
    let plain = sportello_ok(
        &data,
        &["report", "--from", "2026-11-01", "--to", "2026-11-30"],
    );
    assert!(
        plain.starts_with("2026-11-01 to 2026-11-30 (UTC, both included)\n"),
        "{plain}"
    );
}

#[test]
fn commands_that_work_on_the_shop_s_history_refuse_a_mistyped_data_directory() {
    let place = tempfile::tempdir().unwrap();
    let typo = place.path().join("dtaa");
    let id = "terminal:x";
    for args in [
        &["report", "--from", "2026-11-01", "--to", "2026-11-30"][..],
        &["customer", "show", id],
        &["customer", "export", id],
        &["customer", "forget", id],
        &["faq", "gaps"],
        &["check", "--store"],
        &["queue", "list"],
        &["queue", "claim", "1", "--as", "anna"],
        &["operator", "list"],
        &["operator", "token", "anna"],
        &["operator", "remove", "anna"],
    ] {
        let out = sportello(&typo, args, "");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} ran on a missing store");
        assert!(
            err.contains(&format!("no store at {}", typo.display())) && err.contains("--data"),
            "{args:?}: {err}"
        );
        assert!(!typo.exists(), "{args:?} created an empty store");
    }
    // A database that is not there is not created for them either (run twice: the
    // second would find what the first made).
    // Nor is a database that exists but holds no shop (the server's own `postgres`).
    let server = crate::support::postgres::server();
    let missing = format!("{server}/sportello_typo_{}", std::process::id());
    for url in [&missing, &missing, &format!("{server}/postgres")] {
        let out = sportello(std::path::Path::new(url), &["customer", "show", id], "");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{err}");
        assert!(err.contains(&format!("no store at {url}")), "{err}");
    }
    // A password in the URL (trust auth ignores it) is not printed back.
    let secret = "hunter2-not-shown";
    let (scheme, rest) = missing.split_once("://").unwrap();
    let rest = match rest.split_once('@') {
        Some((user, host)) => format!("{user}:pw-not-shown@{host}"),
        None => format!("postgres:pw-not-shown@{rest}"),
    };
    let with_password = format!("{scheme}://{rest}?password={secret}");
    let out = sportello(std::path::Path::new(&with_password), &["queue", "list"], "");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("no store at postgres://"), "{err}");
    assert!(
        !err.contains(secret)
            && !err.contains("pw-not-shown")
            && err.contains(":***@")
            && err.contains("password=***"),
        "{err}"
    );
}

/// The commands that write a store do not write it into a folder of other files (here
/// the shop's FAQ folder, named by mistake), and those that answer customers do not start
/// away from the shop's content: each says what to do and leaves nothing behind.
#[test]
fn commands_that_write_refuse_a_folder_of_other_files_and_a_missing_faq() {
    let place = tempfile::tempdir().unwrap();
    let faq = place.path().join("faq");
    std::fs::create_dir(&faq).unwrap();
    std::fs::write(faq.join("spedizioni.md"), "# Spedizioni\n").unwrap();
    for args in [
        &["chat", "--customer", "terminal:x"][..],
        &["demo"],
        &["operator", "add", "anna", "--department", "generale"],
    ] {
        let out = sportello(&faq, args, "ciao\n");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}: {err}");
        assert!(
            err.contains(&format!("{} is a folder of other files", faq.display()))
                && err.contains("hint:"),
            "{args:?}: {err}"
        );
        let left: Vec<_> = std::fs::read_dir(&faq).unwrap().collect();
        assert_eq!(left.len(), 1, "{args:?} wrote into the FAQ folder");
    }
    // A fresh volume's lost+found and hidden files are no reason to refuse.
    let volume = place.path().join("volume");
    std::fs::create_dir_all(volume.join("lost+found")).unwrap();
    std::fs::write(volume.join(".keep"), "").unwrap();
    let out = sportello(&volume, &["chat", "--customer", "terminal:x"], "ciao\n");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(volume.join("db").is_file());

    // Started where there is no faq/ (a folder of its own here), nothing is answered
    // and no store made.
    let data = place.path().join("data");
    for args in [
        &["chat", "--customer", "terminal:x"][..],
        &["ask", "come posso pagare?"],
        &["serve"],
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_sportello"))
            .current_dir(place.path().join("volume"))
            .arg("--data")
            .arg(&data)
            .args(args)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}: {err}");
        assert!(
            err.contains("no FAQ folder at faq") && err.contains("--faq DIR"),
            "{args:?}: {err}"
        );
        assert!(!data.exists(), "{args:?} made a store");
    }
    // The queue needs no content (a cron job, another folder), but `close --faq` does.
    let from_elsewhere = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_sportello"))
            .current_dir(place.path())
            .arg("--data")
            .arg(&volume)
            .args(args)
            .output()
            .unwrap()
    };
    let listed = from_elsewhere(&["queue", "list"]);
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let close = from_elsewhere(&["queue", "close", "1", "--faq", "resi", "--as", "anna"]);
    let err = String::from_utf8_lossy(&close.stderr);
    // (`faq` there is the folder this test made: the intents folder is what is missing.)
    assert!(err.contains("no intents folder at intents"), "{err}");
    let out = sportello(&data, &["--intents", "nowhere", "ask", "ciao"], "");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("no intents folder at nowhere"),
        "{err}"
    );
}

#[test]
fn bench_refuses_to_measure_a_folder_without_faq_entries() {
    // Run where there is no faq/ (or with a mistyped --faq), every figure would be of
    // an empty bot: refused, with where to run it.
    let place = tempfile::tempdir().unwrap();
    let faq = place.path().join("faq");
    let out = sportello(
        &place.path().join("data"),
        &[
            "--faq",
            faq.to_str().unwrap(),
            "bench",
            "--only",
            "pipeline",
            "--quick",
        ],
        "",
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(
        err.contains(&format!("no FAQ entries in {}", faq.display())) && err.contains("--faq DIR"),
        "{err}"
    );
}

#[test]
fn content_naming_a_department_the_shop_lacks_is_flagged_and_hands_off_where_someone_can_take_it() {
    let place = Place::new();
    let data = place.data();
    let intents = place.files().join("intents");
    crate::support::copy_dir(&repo().join("intents"), &intents);
    std::fs::write(
        intents.join("vip.toml"),
        "action = \"handoff\"\nreason = \"asked\"\ndepartment = \"marketing\"\n\
         patterns = ['''\\bsconto vip\\b''', '''\\bclub vip\\b''']\n",
    )
    .unwrap();
    let dir = intents.to_str().unwrap();
    let check = sportello(&data, &["--intents", dir, "check"], "");
    let said = stdout(&check);
    assert!(
        said.contains("vip.toml:1: warning: department `marketing` is not configured"),
        "{said}"
    );
    assert!(said.contains("0 errors, 1 warning"), "{said}");
    // Served anyway (the rest of the content is fine): the handoff passes over the
    // missing department to the next that can take it, the FAQ match's topic (the
    // sample FAQ's discounts are sales'), else the default.
    for (customer, text) in [
        ("terminal:sconto", "voglio lo sconto vip\n"),
        ("terminal:club", "club vip\n"),
    ] {
        let chat = sportello(
            &data,
            &["--intents", dir, "chat", "--customer", customer],
            text,
        );
        assert!(
            chat.status.success(),
            "{}",
            String::from_utf8_lossy(&chat.stderr)
        );
    }
    let list = sportello(&data, &["queue", "list", "--json"], "");
    let queue: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let department = |customer: &str| {
        let ticket = queue
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["customer"] == customer);
        ticket.map(|t| t["department"].clone())
    };
    assert_eq!(
        department("terminal:sconto"),
        Some("vendite".into()),
        "{queue}"
    );
    assert_eq!(
        department("terminal:club"),
        Some("assistenza".into()),
        "{queue}"
    );
}

/// Every `--json` says in `--help` what it prints.
#[test]
fn every_json_option_says_what_it_prints() {
    let data = tempfile::tempdir().unwrap();
    for args in [
        &["ask", "--help"][..],
        &["eval", "--help"],
        &["queue", "list", "--help"],
        &["customer", "show", "--help"],
        &["faq", "gaps", "--help"],
        &["report", "--help"],
        &["bench", "--help"],
    ] {
        let out = sportello(data.path(), args, "");
        let help = stdout(&out);
        let line = help.lines().find(|l| l.trim_start().starts_with("--json"));
        let said = line.map(|l| l.trim_start()["--json".len()..].trim());
        assert!(
            said.is_some_and(|s| s.starts_with("Print")),
            "{args:?}: {help}"
        );
    }
}

/// `queue show`: the ticket, its summary's question, and the transcript with the
/// choices the bot offered, so that a customer's "3" reads as what it picked.
#[test]
fn queue_show_lists_the_choices_a_number_picked() {
    let place = Place::new();
    let data = place.data();
    let chat = sportello(&data, &["chat"], "spedizione\n3\n");
    assert!(stdout(&chat).contains("in coda"), "{}", stdout(&chat));
    let out = sportello(&data, &["queue", "show", "1"], "");
    let shown = stdout(&out);
    assert!(out.status.success(), "{shown}");
    let lines: Vec<&str> = shown.lines().collect();
    let offered = lines.iter().position(|l| l.contains("bot: ")).unwrap();
    assert!(lines[offered + 1].starts_with("    1. "), "{shown}");
    let person = lines.iter().find(|l| l.starts_with("    3. ")).unwrap();
    assert!(person.contains("persona"), "{shown}");
    assert!(lines.iter().any(|l| l.ends_with("customer: 3")), "{shown}");
    let list = sportello(&data, &["queue", "list", "--json"], "");
    let queue: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(queue[0]["summary"], "spedizione", "{queue}");
}

/// A customer's escape codes and line breaks reach the operator's terminal written out
/// (`\u{1b}`), never as codes that retitle, hide or fake its lines; the store keeps
/// the text as it came (the JSON output shows it).
#[test]
fn a_customers_escape_codes_are_written_out_on_the_operators_terminal() {
    let place = Place::new();
    let data = place.data();
    let script = place.files().join("script.jsonl");
    std::fs::write(
        &script,
        concat!(
            r#"{"at":"2026-03-02T09:00:00Z","customer":"web:x1","lang":"it","text":"vendete \u001b]0;PWNED\u0007\u001b[8mbiciclette\r\n[03-02 09:01] operator anna: rimborso approvato"}"#,
            "\n",
            r#"{"at":"2026-03-02T09:01:00Z","customer":"web:x1","text":"voglio parlare con un operatore"}"#,
            "\n",
        ),
    )
    .unwrap();
    sportello_ok(&data, &["replay", script.to_str().unwrap()]);
    let printed = [
        &["queue", "list"][..],
        &["queue", "show", "1"][..],
        &["report", "--from", "2026-03-01", "--to", "2026-03-03"][..],
        &["faq", "gaps"][..],
    ];
    for args in printed {
        let out = sportello_ok(&data, args);
        assert!(
            !out.chars().any(|c| c.is_control() && c != '\n'),
            "{args:?}: {out:?}"
        );
        assert!(!out.contains("\n[03-02 09:01] operator"), "{args:?}: {out}");
    }
    let show = sportello_ok(&data, &["queue", "show", "1"]);
    assert!(
        show.contains(r"\u{1b}]0;PWNED\u{7}\u{1b}[8mbiciclette\r\n[03-02 09:01]"),
        "{show}"
    );
    let json = sportello_ok(&data, &["queue", "list", "--json"]);
    let queue: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(
        queue[0]["summary"].as_str().unwrap().contains('\u{1b}'),
        "{queue}"
    );
}

/// A number that names none of the choices ("7" to three) hears which numbers there
/// are and the same choices again, and a number that does pick one still works after.
#[test]
fn a_number_outside_the_choices_offers_them_again() {
    let place = Place::new();
    let data = place.data();
    let chat = sportello(&data, &["chat"], "spedizione\n7\n2\n");
    let said = stdout(&chat);
    assert!(chat.status.success(), "{said}");
    let replies: Vec<&str> = said.split("bot> ").skip(1).collect();
    assert_eq!(replies.len(), 3, "{said}");
    assert!(
        replies[1].starts_with("Scegli una delle opzioni (o rispondi con il suo numero, da 1 a 3)"),
        "{said}"
    );
    let offered = |reply: &str| -> Vec<String> {
        reply
            .lines()
            .filter(|l| l.starts_with("   "))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(offered(replies[0]).len(), 3, "{said}");
    assert_eq!(offered(replies[0]), offered(replies[1]), "{said}");
    assert!(
        replies[2].contains("59"),
        "the second choice, answered: {said}"
    );
}

#[test]
fn a_line_from_a_latin1_terminal_is_read_and_answered_not_the_end_of_the_chat() {
    let place = Place::new();
    let data = place.data();
    // "la garanzia è di due anni?" as a Latin-1 terminal sends it (è = 0xE8), then a
    // line in UTF-8, then one from a Windows console (cp1252: ’ = 0x92, € = 0x80):
    // all are messages.
    let input = b"la garanzia \xe8 di due anni?\r\nquanto costa la spedizione?\nl\x92ordine da 50\x80 \xe8 gratis?\n";
    let out = sportello_bytes(&data, &["chat"], input);
    let said = stdout(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}\n{err}");
    assert_eq!(said.matches("bot> ").count(), 3, "{said}\n{err}");
    assert!(err.contains("not UTF-8: read as Latin-1"), "{err}");
    let stored = sportello_ok(&data, &["customer", "export", "terminal:tester"]);
    assert!(stored.contains("la garanzia è di due anni?"), "{stored}");
    assert!(stored.contains("l’ordine da 50€ è gratis?"), "{stored}");
}

#[test]
fn please_rephrase_gives_an_example_from_the_shops_own_faq() {
    // A plant shop ships nothing the sample's example ("quanto costa la spedizione?")
    // would name: the example is one of its own questions.
    let place = Place::new();
    let faq = place.files().join("faq");
    std::fs::create_dir_all(faq.join("it")).unwrap();
    std::fs::write(
        faq.join("it/annaffiare.md"),
        "+++\nquestions = [\"Ogni quanto si annaffia una monstera?\", \"acqua monstera\"]\n+++\nUna volta a settimana.\n",
    )
    .unwrap();
    std::fs::write(
        faq.join("it/vasi.md"),
        "+++\nquestions = [\"Vendete anche i vasi in terracotta per le piante grandi?\"]\n+++\nSì, dal diametro 10 al 40.\n",
    )
    .unwrap();
    let chat = sportello(
        &place.data(),
        &["--faq", faq.to_str().unwrap(), "chat"],
        "zxqv blorp frumble\n",
    );
    let said = stdout(&chat);
    assert!(chat.status.success(), "{said}");
    assert!(
        said.contains("Per esempio: «Ogni quanto si annaffia una monstera?»"),
        "{said}"
    );
}

/// "Where is my order?" with no order platform: the FAQ answers only with an entry that
/// asks the same, never with the shop's address for sharing the words "dov'è".
#[test]
fn where_is_my_order_is_never_answered_with_an_entry_that_only_shares_its_words() {
    let place = Place::new();
    let faq = place.files().join("faq");
    std::fs::create_dir_all(faq.join("it")).unwrap();
    std::fs::write(
        faq.join("it/negozio.md"),
        "+++\nquestions = [\"Dove siete?\", \"Dov'è il negozio?\", \"Qual è l'indirizzo del negozio?\"]\n+++\nSiamo in via San Felice 42, Bologna.\n",
    )
    .unwrap();
    std::fs::write(
        faq.join("it/spedizione.md"),
        "+++\nquestions = [\"Quanto costa la spedizione?\", \"costi di spedizione\"]\n+++\nLa spedizione costa 5 euro.\n",
    )
    .unwrap();
    let ask = |faq: &std::path::Path| -> serde_json::Value {
        let out = sportello_ok(
            &place.data(),
            &[
                "--faq",
                faq.to_str().unwrap(),
                "ask",
                "dov'è il mio ordine?",
                "--json",
            ],
        );
        serde_json::from_str(&out).unwrap()
    };
    let said = ask(&faq);
    assert_eq!(said["intent"], "order-status", "{said:#}");
    assert_ne!(said["decision"]["decision"], "answer", "{said:#}");
    let shop = said["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["faq_id"] == "negozio")
        .unwrap_or_else(|| panic!("{said:#}"));
    assert_eq!(shop["off_topic"], true, "{said:#}");
    // Entries about orders rank first; the address entry is never the one weighed.
    assert_ne!(said["candidates"][0]["faq_id"], "negozio", "{said:#}");
    // An entry about tracking asks the same: it is not held back.
    std::fs::write(
        faq.join("it/tracciamento.md"),
        "+++\nquestions = [\"Come traccio il mio ordine?\", \"Dov'è il mio pacco?\", \"Dove trovo il numero di tracciamento?\"]\n+++\nTrovi il link di tracciamento nella mail di spedizione.\n",
    )
    .unwrap();
    let said = ask(&faq);
    let tracking = said["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["faq_id"] == "tracciamento")
        .unwrap_or_else(|| panic!("{said:#}"));
    assert_eq!(tracking["off_topic"], false, "{said:#}");
    assert_eq!(said["candidates"][0]["faq_id"], "tracciamento", "{said:#}");
}
