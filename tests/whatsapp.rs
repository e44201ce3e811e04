//! The WhatsApp channel as Meta drives it: `sportello serve` as a child process, signed
//! webhooks posted to `/whatsapp`, and a fake Graph API that records what the bot
//! sends and answers with real shapes and faults.

use crate::support::browser::PASSWORD;
use crate::support::http::{api_login, request};
use crate::support::whatsapp::{
    APP_SECRET, FakeGraph, Fault, VERIFY_TOKEN, deliver, free_addr, message_of, spawn_serve_on,
    text, wait_up,
};
use crate::support::{Place, sportello};
use serde_json::{Value, json};
use sportello::channels::format::to_whatsapp;
use sportello::store::Store;
use std::process::Child;
use std::time::Duration;

const CONFIG: &str =
    "[whatsapp]\nreopen_template = \"riprendi_conversazione\"\ntemplate_language = \"it\"\n";

/// A running serve with its place (store, config and log) and address.
struct Serve {
    place: Option<Place>,
    data: std::path::PathBuf,
    /// Its config and log: `files.toml`, `files.log`.
    files: std::path::PathBuf,
    addr: String,
    child: Child,
}

impl Serve {
    fn start(fake: &FakeGraph, operators: &[&str]) -> Serve {
        let place = Place::new();
        let (data, files) = (place.data(), place.files().join("serve"));
        for name in operators {
            let out = sportello(
                &data,
                &["operator", "add", name, "--department", "assistenza"],
                &format!("{PASSWORD}\n"),
            );
            assert!(out.status.success(), "operator add: {out:?}");
        }
        let addr = free_addr();
        let mut child = spawn_serve_on(fake, &data, &files, &addr, CONFIG);
        wait_up(&mut child, &addr, &files);
        Serve {
            place: Some(place),
            data,
            files,
            addr,
            child,
        }
    }

    fn post(&self, body: &str) -> u16 {
        deliver(&self.addr, body, Some(APP_SECRET)).expect("serve answers")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.files.with_extension("log")).unwrap_or_default()
    }

    /// Stop with SIGTERM (it must stop cleanly) and open the store.
    fn stop(self) -> (Store, Place) {
        let data = self.data.clone();
        let place = self.terminate();
        (Store::open(&data).unwrap(), place)
    }

    /// Stop with SIGTERM (it must stop cleanly); its place, the store unopened.
    fn terminate(mut self) -> Place {
        crate::support::sigterm(&self.child);
        let ended = self.child.wait().unwrap();
        assert!(
            ended.success(),
            "serve stops cleanly ({ended}):\n{}",
            self.log()
        );
        self.place.take().unwrap()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn answer(faq_id: &str) -> String {
    let (brain, _) = crate::support::sample_brain();
    to_whatsapp(&brain.faq.entry(faq_id).unwrap().answer)
}

fn body_of(message: &Value) -> &str {
    message["text"]["body"]
        .as_str()
        .or_else(|| message["interactive"]["body"]["text"].as_str())
        .unwrap_or_default()
}

#[test]
fn the_handshake_and_signatures_guard_the_webhook_and_a_redelivery_is_answered_once() {
    let fake = FakeGraph::start();
    let serve = Serve::start(&fake, &[]);
    let path = |token: &str| {
        format!("/whatsapp?hub.mode=subscribe&hub.verify_token={token}&hub.challenge=1158201444")
    };
    let ok = request(&serve.addr, "GET", &path(VERIFY_TOKEN), &[], None);
    assert_eq!((ok.status, ok.body.as_str()), (200, "1158201444"));
    let wrong = request(&serve.addr, "GET", &path("guess"), &[], None);
    assert_eq!(wrong.status, 403);

    let question = text(
        "393331234567",
        "wamid.A1",
        "quanto costa la spedizione in italia?",
        0,
    );
    assert_eq!(deliver(&serve.addr, &question, None), Some(401), "unsigned");
    assert_eq!(
        deliver(&serve.addr, &question, Some("not-the-app-secret")),
        Some(401),
        "signed with another secret"
    );
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        fake.sent_to("393331234567").is_empty(),
        "nothing stored, nothing answered"
    );

    assert_eq!(serve.post(&question), 200);
    let sent = fake.wait_sent("393331234567", 1);
    assert_eq!(sent[0]["type"], "text");
    assert_eq!(sent[0]["messaging_product"], "whatsapp");
    assert_eq!(body_of(&sent[0]), answer("costi-di-spedizione"));
    assert!(
        !body_of(&sent[0]).contains("**"),
        "WhatsApp marks, not Markdown"
    );
    // Meta redelivers the same message (same wamid): stored once, answered once.
    assert_eq!(serve.post(&question), 200);
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(fake.sent_to("393331234567").len(), 1);
    let (store, _dir) = serve.stop();
    let customer = "whatsapp:393331234567".parse().unwrap();
    let transcript = store.transcript(&customer).unwrap();
    assert_eq!(transcript.len(), 2, "the question once, the answer once");
    let conv = store.conversation(&customer).unwrap().unwrap();
    assert_eq!(conv.name.as_deref(), Some("Giulia"));
    assert!(conv.last_inbound_at.is_some());
}

#[test]
fn did_you_mean_is_an_interactive_list_and_the_pick_is_answered() {
    let fake = FakeGraph::start();
    let serve = Serve::start(&fake, &[]);
    assert_eq!(
        serve.post(&text("393330000001", "wamid.B1", "spedizione", 0)),
        200
    );
    let sent = fake.wait_sent("393330000001", 1);
    let interactive = &sent[0]["interactive"];
    assert_eq!(sent[0]["type"], "interactive");
    assert_eq!(
        interactive["type"], "list",
        "titles over 20 characters: a list"
    );
    let rows = interactive["action"]["sections"][0]["rows"]
        .as_array()
        .unwrap();
    assert_eq!(rows.len(), 3, "two entries and a person: {rows:#?}");
    for row in rows {
        assert!(row["title"].as_str().unwrap().chars().count() <= 24);
    }
    let pick = &rows[1];
    let reply = message_of(
        "393330000001",
        "wamid.B2",
        "interactive",
        json!({"type": "list_reply", "list_reply": {"id": pick["id"], "title": pick["title"],
                                                    "description": pick["description"]}}),
    );
    assert_eq!(serve.post(&reply), 200);
    let sent = fake.wait_sent("393330000001", 2);
    assert_eq!(body_of(&sent[1]), answer("spedizione-gratuita"));
}

#[test]
fn media_is_said_unreadable_and_statuses_are_recorded_never_answered() {
    let fake = FakeGraph::start();
    let serve = Serve::start(&fake, &[]);
    let photo = message_of(
        "393330000002",
        "wamid.C1",
        "image",
        json!({"id": "1479537139650973", "mime_type": "image/jpeg", "sha256": "abc",
               "caption": "lo scontrino"}),
    );
    assert_eq!(serve.post(&photo), 200);
    let sent = fake.wait_sent("393330000002", 1);
    assert!(body_of(&sent[0]).contains("foto"), "{}", body_of(&sent[0]));
    // More of a burst, each unreadable in its own way: "cannot read" is said once
    // (counted below, with the statuses).
    for (id, kind, object) in [
        (
            "wamid.C2",
            "location",
            json!({"latitude": 45.46, "longitude": 9.19, "name": "Casa"}),
        ),
        (
            "wamid.C3",
            "sticker",
            json!({"id": "2345", "mime_type": "image/webp", "animated": false}),
        ),
    ] {
        assert_eq!(
            serve.post(&message_of("393330000002", id, kind, object)),
            200
        );
    }
    let statuses = crate::support::whatsapp::webhook(json!({
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "390212345678", "phone_number_id": "106540352242922"},
        "statuses": [
            {"id": "wamid.HBgM00000001", "status": "delivered", "timestamp": "1764582000",
             "recipient_id": "393330000002"},
            {"id": "wamid.HBgM00000001", "status": "read", "timestamp": "1764582005",
             "recipient_id": "393330000002"}
        ]
    }));
    assert_eq!(serve.post(&statuses), 200);
    let metrics = request(&serve.addr, "GET", "/metrics", &[], None).body;
    assert!(
        metrics.contains("sportello_whatsapp_statuses_total{status=\"read\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("sportello_whatsapp_replies_total{outcome=\"sent\"} 1"),
        "{metrics}"
    );
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(
        fake.sent_to("393330000002").len(),
        1,
        "a status is never answered"
    );
    let (store, _dir) = serve.stop();
    let customer = "whatsapp:393330000002".parse().unwrap();
    let recorded: Vec<String> = store
        .statuses(&customer)
        .unwrap()
        .into_iter()
        .map(|s| s.status)
        .collect();
    assert_eq!(recorded, ["delivered", "read"]);
    let transcript = store.transcript(&customer).unwrap();
    assert!(
        transcript[0]
            .text
            .starts_with("[photo 1479537139650973] lo scontrino")
    );
    assert_eq!(
        transcript
            .iter()
            .filter(|m| m.text.starts_with('['))
            .count(),
        3,
        "every message stored: {transcript:#?}"
    );
}

#[test]
fn rate_limits_and_server_errors_delay_but_lose_nothing_and_keep_each_customers_order() {
    let fake = FakeGraph::start();
    fake.with(|s| {
        s.faults.extend([
            Fault::TooManyRequests,
            Fault::Code(130429),
            Fault::ServerError,
            Fault::Code(131056),
            Fault::ServerError,
        ]);
    });
    let serve = Serve::start(&fake, &[]);
    let questions = [
        ("quanto costa la spedizione?", "costi-di-spedizione"),
        ("come faccio un reso?", "come-fare-un-reso"),
        ("posso pagare con paypal?", "metodi-di-pagamento"),
    ];
    let customers = ["393331000001", "393331000002", "393331000003"];
    for (n, (question, _)) in questions.iter().enumerate() {
        for customer in customers {
            let id = format!("wamid.{customer}.{n}");
            assert_eq!(serve.post(&text(customer, &id, question, 0)), 200);
        }
    }
    for customer in customers {
        let sent = fake.wait_sent(customer, questions.len());
        let bodies: Vec<&str> = sent.iter().map(body_of).collect();
        let expected: Vec<String> = questions.iter().map(|(_, id)| answer(id)).collect();
        assert_eq!(bodies, expected, "{customer}: every answer once, in order");
    }
    assert!(fake.with(|s| s.faults.is_empty()), "every fault was met");
    let metrics = request(&serve.addr, "GET", "/metrics", &[], None).body;
    let count = |outcome: &str| -> u64 {
        let key = format!("sportello_whatsapp_replies_total{{outcome=\"{outcome}\"}} ");
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(key.as_str()))
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {key} in {metrics}"))
    };
    assert_eq!(count("rate_limited"), 3, "429 and both rate-limit codes");
    assert_eq!(count("retries"), 2, "the two 5xx");
    assert_eq!(count("sent"), 9);
}

#[test]
fn outside_the_24_hours_a_template_goes_and_replies_wait_for_the_customer() {
    let fake = FakeGraph::start();
    let serve = Serve::start(&fake, &["anna"]);
    let wa = "393332000001";
    // Written 25 hours ago (Meta's timestamp): the window has closed since.
    let late = text(wa, "wamid.D1", "voglio parlare con un operatore", 25 * 3600);
    assert_eq!(serve.post(&late), 200);
    let sent = fake.wait_sent(wa, 1);
    assert_eq!(sent[0]["type"], "template", "{sent:#?}");
    assert_eq!(sent[0]["template"]["name"], "riprendi_conversazione");
    assert_eq!(sent[0]["template"]["language"]["code"], "it");

    let (cookie, csrf) = api_login(&serve.addr, "anna");
    let auth = [("Cookie", cookie.as_str()), ("X-CSRF-Token", csrf.as_str())];
    let get = |path: &str| request(&serve.addr, "GET", path, &auth, None).json();
    let id = get("/api/v1/queue")["tickets"][0]["id"].as_u64().unwrap();
    let detail = get(&format!("/api/v1/tickets/{id}"));
    assert_eq!(detail["delivery"]["window_closed"], true, "{detail:#}");
    assert_eq!(detail["delivery"]["template_sent"], true);
    let act = |action: &str, body: Option<&str>| {
        let path = format!("/api/v1/tickets/{id}/{action}");
        let r = request(&serve.addr, "POST", &path, &auth, body);
        assert_eq!(r.status, 200, "{action}: {}", r.body);
    };
    // Two transfers while the window is closed: two queue updates held.
    act("transfer", Some(r#"{"department": "logistica"}"#));
    act("transfer", Some(r#"{"department": "vendite"}"#));
    act("claim", None);
    act(
        "reply",
        Some(r#"{"text": "Ciao Giulia, sono Anna: eccomi."}"#),
    );
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(
        fake.sent_to(wa).len(),
        1,
        "held: nothing sent outside the window"
    );

    // The customer writes again: the window opens and the waiting replies go, in order;
    // of the two queue updates only the newer (the first named another place in a
    // queue the customer has left since).
    assert_eq!(serve.post(&text(wa, "wamid.D2", "ci sono", 0)), 200);
    let sent = fake.wait_sent(wa, 4);
    assert!(
        body_of(&sent[1]).contains("numero 1") || body_of(&sent[1]).contains("operat"),
        "{sent:#?}"
    );
    assert!(body_of(&sent[2]).contains("Vendite"), "{sent:#?}");
    assert_eq!(body_of(&sent[3]), "Ciao Giulia, sono Anna: eccomi.");
    assert!(sent.iter().skip(1).all(|m| m["type"] != "template"));
    assert!(
        sent.iter().all(|m| !body_of(m).contains("Logistica")),
        "{sent:#?}"
    );
    let metrics = request(&serve.addr, "GET", "/metrics", &[], None).body;
    assert!(
        metrics.contains("sportello_whatsapp_replies_total{outcome=\"superseded\"} 1"),
        "{metrics}"
    );
    let detail = get(&format!("/api/v1/tickets/{id}"));
    assert_eq!(detail["delivery"]["window_closed"], false, "{detail:#}");

    // WhatsApp itself says the window is closed (131047): the same, never dropped.
    fake.with(|s| s.faults.push_back(Fault::Code(131047)));
    act("reply", Some(r#"{"text": "Il pacco parte oggi."}"#));
    let sent = fake.wait_sent(wa, 5);
    assert_eq!(sent[4]["type"], "template");
    assert_eq!(serve.post(&text(wa, "wamid.D3", "grazie", 0)), 200);
    let sent = fake.wait_sent(wa, 6);
    assert_eq!(body_of(&sent[5]), "Il pacco parte oggi.");
}

#[test]
fn a_message_delivered_late_is_cared_for_from_its_arrival() {
    let fake = FakeGraph::start();
    let serve = Serve::start(&fake, &["anna"]);
    let wa = "393332000002";
    // Written two hours ago, delivered now (the shop's server was down, Meta retried).
    let late = text(wa, "wamid.L1", "voglio parlare con un operatore", 2 * 3600);
    let written = chrono::Utc::now() - chrono::Duration::hours(2);
    assert_eq!(serve.post(&late), 200);
    let sent = fake.wait_sent(wa, 1);
    assert_ne!(
        sent[0]["type"], "template",
        "inside the 24 hours: {sent:#?}"
    );

    let (cookie, csrf) = api_login(&serve.addr, "anna");
    let auth = [("Cookie", cookie.as_str()), ("X-CSRF-Token", csrf.as_str())];
    let get = |path: &str| request(&serve.addr, "GET", path, &auth, None).json();
    let id = get("/api/v1/queue")["tickets"][0]["id"].as_u64().unwrap();
    let detail = get(&format!("/api/v1/tickets/{id}"));
    // The ticket, its wait and its promise run from now: not opened two hours ago
    // (which broke its promise before it was made).
    let opened: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(detail["ticket"]["opened_at"].clone()).unwrap();
    assert!(
        chrono::Utc::now() - opened < chrono::Duration::minutes(1),
        "{detail:#}"
    );
    assert!(
        detail["ticket"]["waiting_s"].as_i64().unwrap() < 60,
        "{detail:#}"
    );
    // The transcript says when the customer wrote it; the window counts from then.
    let line: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(detail["transcript"][0]["at"].clone()).unwrap();
    assert!(
        (line - written).num_seconds().abs() <= 5,
        "written {written}, shown {line}: {detail:#}"
    );
    assert_eq!(detail["delivery"]["window_closed"], false, "{detail:#}");
}

#[test]
fn an_undeliverable_number_is_marked_and_its_replies_kept_as_failed() {
    let fake = FakeGraph::start();
    fake.with(|s| s.faults.push_back(Fault::Code(131026)));
    let serve = Serve::start(&fake, &[]);
    let wa = "393333000001";
    assert_eq!(
        serve.post(&text(wa, "wamid.E1", "come faccio un reso?", 0)),
        200
    );
    assert!(
        fake.wait_for(|s| s.faults.is_empty()),
        "the send was tried and refused"
    );
    std::thread::sleep(Duration::from_millis(500));
    let (store, _dir) = serve.stop();
    let customer = format!("whatsapp:{wa}").parse().unwrap();
    let why = store
        .unreachable(&customer)
        .unwrap()
        .expect("marked unreachable");
    assert!(why.reason.contains("131026"), "{why:?}");
    assert!(store.pending_outbox(&customer).unwrap().is_empty());
    let failed = store.failed_outbox(&customer).unwrap();
    assert_eq!(failed.len(), 1, "kept for the operators: {failed:?}");
    assert_eq!(
        failed[0].outbound.text,
        answer_markdown("come-fare-un-reso")
    );
}

fn answer_markdown(faq_id: &str) -> String {
    let (brain, _) = crate::support::sample_brain();
    brain.faq.entry(faq_id).unwrap().answer.clone()
}

#[test]
fn a_refused_token_stops_the_channel_and_healthz_says_why_while_messages_are_kept() {
    let fake = FakeGraph::start();
    fake.with(|s| s.revoked = true);
    let serve = Serve::start(&fake, &[]);
    let health = request(&serve.addr, "GET", "/healthz", &[], None);
    assert_eq!(health.status, 503, "{}", health.body);
    assert!(
        health.body.contains("whatsapp") && health.body.contains("token"),
        "{}",
        health.body
    );
    assert!(
        serve.log().contains("SPORTELLO_WHATSAPP_TOKEN"),
        "{}",
        serve.log()
    );
    // Customers' messages are still stored; their replies wait for a good token.
    assert_eq!(
        serve.post(&text("393334000001", "wamid.F1", "ciao", 0)),
        200
    );
    std::thread::sleep(Duration::from_millis(500));
    assert!(fake.with(|s| s.sent.is_empty()));
    let (store, _dir) = serve.stop();
    let customer = "whatsapp:393334000001".parse().unwrap();
    assert_eq!(store.pending_outbox(&customer).unwrap().len(), 1, "kept");
}

/// Every question a customer asks in the kill run, and the entry that answers it.
const QUESTIONS: [(&str, &str); 4] = [
    ("quanto costa la spedizione?", "costi-di-spedizione"),
    ("come faccio un reso?", "come-fare-un-reso"),
    ("posso pagare con paypal?", "metodi-di-pagamento"),
    ("come traccio il mio ordine?", "tracciamento-ordine"),
];

#[test]
fn kill_9_mid_load_loses_no_acknowledged_message_and_keeps_each_customers_order() {
    let fake = FakeGraph::start();
    let place = Place::new();
    let (data, files) = (place.data(), place.files().join("serve"));
    let addr = free_addr();
    let start = || {
        let mut child = spawn_serve_on(&fake, &data, &files, &addr, CONFIG);
        wait_up(&mut child, &addr, &files);
        child
    };
    let customers: Vec<String> = (1..=12).map(|n| format!("39335{n:07}")).collect();
    let mut child = start();
    let kills = 3;
    for round in 0..kills {
        // Meta delivers until it hears 200: whatever is not acknowledged comes again.
        let posting = {
            let (addr, customers) = (addr.clone(), customers.clone());
            std::thread::spawn(move || {
                let mut acknowledged = Vec::new();
                for (c, customer) in customers.iter().enumerate() {
                    let (question, _) = QUESTIONS[(c + round) % QUESTIONS.len()];
                    let id = format!("wamid.{customer}.{round}");
                    let body = text(customer, &id, question, 0);
                    if deliver(&addr, &body, Some(APP_SECRET)) == Some(200) {
                        acknowledged.push(c);
                    }
                }
                acknowledged
            })
        };
        std::thread::sleep(Duration::from_millis(30 + 70 * round as u64));
        child.kill().unwrap(); // SIGKILL, mid-load
        child.wait().unwrap();
        let acknowledged = posting.join().unwrap();
        child = start();
        for (c, customer) in customers.iter().enumerate() {
            if !acknowledged.contains(&c) {
                let (question, _) = QUESTIONS[(c + round) % QUESTIONS.len()];
                let body = text(customer, &format!("wamid.{customer}.{round}"), question, 0);
                assert_eq!(deliver(&addr, &body, Some(APP_SECRET)), Some(200));
            }
        }
    }
    for (c, customer) in customers.iter().enumerate() {
        let expected: Vec<String> = (0..kills)
            .map(|round| answer(QUESTIONS[(c + round) % QUESTIONS.len()].1))
            .collect();
        let sent = fake.wait_sent(customer, kills);
        let mut bodies: Vec<String> = sent.iter().map(|m| body_of(m).to_owned()).collect();
        let total = bodies.len();
        bodies.dedup();
        assert_eq!(bodies, expected, "{customer}: every answer, in order");
        assert!(
            total - bodies.len() <= kills,
            "{customer}: at most one repeat per kill"
        );
    }
    crate::support::sigterm(&child);
    let ended = child.wait().unwrap();
    let log = std::fs::read_to_string(files.with_extension("log")).unwrap_or_default();
    assert!(
        ended.success(),
        "serve stops cleanly on SIGTERM ({ended}):\n{log}"
    );
    let store = Store::open(&data).unwrap();
    assert!(store.verify().unwrap().is_empty());
    assert_store_holds_each_message_once(&store, &customers, kills);
}

fn assert_store_holds_each_message_once(store: &Store, customers: &[String], kills: usize) {
    for customer in customers {
        let id = format!("whatsapp:{customer}").parse().unwrap();
        let asked = store
            .transcript(&id)
            .unwrap()
            .into_iter()
            .filter(|m| m.author == sportello::domain::Author::Customer)
            .count();
        assert_eq!(asked, kills, "{customer}: each message stored once");
    }
}

#[test]
fn an_operator_hands_over_on_whatsapp_and_the_csat_list_records_the_score() {
    let fake = FakeGraph::start();
    let serve = Serve::start(&fake, &["anna"]);
    let wa = "393336000001";
    assert_eq!(
        serve.post(&text(wa, "wamid.G1", "voglio parlare con un operatore", 0)),
        200
    );
    let sent = fake.wait_sent(wa, 1);
    assert!(
        body_of(&sent[0]).contains("numero 1"),
        "{}",
        body_of(&sent[0])
    );
    let (cookie, csrf) = api_login(&serve.addr, "anna");
    let auth = [("Cookie", cookie.as_str()), ("X-CSRF-Token", csrf.as_str())];
    let act = |action: &str, body: Option<&str>| {
        let r = request(
            &serve.addr,
            "POST",
            &format!("/api/v1/tickets/1/{action}"),
            &auth,
            body,
        );
        assert_eq!(r.status, 200, "{action}: {}", r.body);
    };
    act("claim", None);
    act(
        "reply",
        Some(r#"{"text": "Ciao, sono **Anna**: il reso è approvato."}"#),
    );
    act("close", None);
    let sent = fake.wait_sent(wa, 4);
    assert_eq!(body_of(&sent[1]), "Ciao, sono *Anna*: il reso è approvato.");
    let survey = &sent[3];
    assert_eq!(survey["interactive"]["type"], "list", "five scores: a list");
    let rows = survey["interactive"]["action"]["sections"][0]["rows"]
        .as_array()
        .unwrap();
    let titles: Vec<&str> = rows.iter().map(|r| r["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["1", "2", "3", "4", "5"]);
    let pick = message_of(
        wa,
        "wamid.G2",
        "interactive",
        json!({"type": "list_reply", "list_reply": {"id": rows[4]["id"], "title": "5"}}),
    );
    assert_eq!(serve.post(&pick), 200);
    // NPS next: eleven scores fit no list, so they are written out to reply with.
    let sent = fake.wait_sent(wa, 5);
    assert_eq!(sent[4]["type"], "text");
    assert!(
        body_of(&sent[4]).ends_with("(0 · 1 · 2 · 3 · 4 · 5 · 6 · 7 · 8 · 9 · 10)"),
        "{sent:#?}"
    );
    assert_eq!(serve.post(&text(wa, "wamid.G3", "9", 0)), 200);
    let sent = fake.wait_sent(wa, 6);
    assert!(
        body_of(&sent[5]).starts_with("Grazie per il tuo giudizio"),
        "{sent:#?}"
    );
    let report = sportello_report(serve);
    assert_eq!(report["csat"]["responses"], 1, "{report:#}");
    assert_eq!(report["csat"]["average"], 5.0);
    assert_eq!(report["nps"]["promoters"], 1);
}

/// Stop serve and read today's KPIs from its store.
fn sportello_report(serve: Serve) -> Value {
    let data = serve.data.clone();
    let place = serve.terminate();
    let today = chrono::Utc::now().date_naive().to_string();
    let out = sportello(
        &data,
        &["report", "--from", &today, "--to", &today, "--json"],
        "",
    );
    assert!(out.status.success(), "{out:?}");
    drop(place);
    serde_json::from_slice(&out.stdout).unwrap()
}
