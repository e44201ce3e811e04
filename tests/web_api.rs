//! The HTTP API as scripts and attackers meet it: `sportello serve` as a child
//! process, plain HTTP requests, exact statuses.

use crate::support::browser::{PASSWORD, Server};
use crate::support::http::{Response, api_login, request};
use serde_json::json;

fn post_as(addr: &str, session: &(String, String), path: &str, body: Option<&str>) -> Response {
    let headers = [
        ("Cookie", session.0.as_str()),
        ("X-CSRF-Token", session.1.as_str()),
    ];
    request(addr, "POST", path, &headers, body)
}

/// A web chat visitor's token, and a message from them.
fn visitor(addr: &str) -> String {
    let r = request(addr, "POST", "/api/v1/chat/start", &[], None);
    r.json()["visitor"].as_str().unwrap().to_owned()
}

fn chat_send(addr: &str, visitor: &str, id: &str, text: &str) -> Response {
    let body = json!({"id": id, "text": text, "locale": "it-IT"}).to_string();
    let headers = [("X-Sportello-Visitor", visitor)];
    request(addr, "POST", "/api/v1/chat/messages", &headers, Some(&body))
}

#[test]
fn two_operators_claiming_at_once_exactly_one_wins_every_time() {
    let server = Server::start(&[("anna", "assistenza"), ("bruno", "assistenza")]);
    let addr = server.addr();
    let sessions = [api_login(&addr, "anna"), api_login(&addr, "bruno")];
    for round in 1..=8 {
        let v = visitor(&addr);
        let r = chat_send(&addr, &v, "h1", "voglio parlare con un operatore");
        assert_eq!(r.status, 200, "{}", r.body);
        let path = format!("/api/v1/tickets/{round}/claim");
        let results: Vec<Response> = std::thread::scope(|s| {
            let claims: Vec<_> = sessions
                .iter()
                .map(|session| s.spawn(|| post_as(&addr, session, &path, None)))
                .collect();
            claims.into_iter().map(|c| c.join().unwrap()).collect()
        });
        crate::support::http::assert_one_claim_won(&results, round);
    }
}

#[test]
fn the_api_refuses_anonymous_and_cross_site_requests() {
    let server = Server::start(&[("anna", "assistenza")]);
    let addr = server.addr();
    for (method, path) in [
        ("GET", "/api/v1/queue"),
        ("GET", "/api/v1/tickets/1"),
        ("POST", "/api/v1/tickets/1/claim"),
        ("GET", "/api/v1/events"),
        ("GET", "/api/v1/operators"),
        ("GET", "/api/v1/me"),
        ("GET", "/api/v1/departments"),
        ("GET", "/api/v1/faq/gaps"),
    ] {
        let r = request(&addr, method, path, &[], None);
        assert_eq!(r.status, 401, "{method} {path}: {}", r.body);
        assert!(r.json()["error"].as_str().unwrap().contains("log in"));
    }
    let wrong = json!({"name": "anna", "password": "not it"}).to_string();
    let r = request(&addr, "POST", "/api/v1/login", &[], Some(&wrong));
    assert_eq!(r.status, 401);
    // With the cookie but without the CSRF token (what a forged cross-site form sends).
    let session = api_login(&addr, "anna");
    let r = request(
        &addr,
        "POST",
        "/api/v1/tokens",
        &[("Cookie", &session.0)],
        Some("{}"),
    );
    assert_eq!(r.status, 403, "{}", r.body);
    // An API token works without a cookie, and needs no CSRF token.
    let r = post_as(
        &addr,
        &session,
        "/api/v1/tokens",
        Some(r#"{"label":"script"}"#),
    );
    let token = r.json()["token"].as_str().unwrap().to_owned();
    let bearer = format!("Bearer {token}");
    let r = request(
        &addr,
        "GET",
        "/api/v1/queue",
        &[("Authorization", &bearer)],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let forged = "Bearer 0000000000000000000000000000000000000000000000000000000000000000";
    let r = request(
        &addr,
        "GET",
        "/api/v1/queue",
        &[("Authorization", forged)],
        None,
    );
    assert_eq!(r.status, 401);
}

#[test]
fn repeated_wrong_passwords_lock_the_login_for_a_while() {
    let server = Server::start(&[("anna", "assistenza")]);
    let addr = server.addr();
    let wrong = json!({"name": "anna", "password": "guess"}).to_string();
    for _ in 0..5 {
        let r = request(&addr, "POST", "/api/v1/login", &[], Some(&wrong));
        assert_eq!(r.status, 401);
    }
    let right = json!({"name": "anna", "password": PASSWORD}).to_string();
    let r = request(&addr, "POST", "/api/v1/login", &[], Some(&right));
    assert_eq!(r.status, 429, "even the right password waits: {}", r.body);
    assert!(r.header("retry-after").is_some());
    assert!(r.json()["error"].as_str().unwrap().contains("try again"));
}

#[test]
fn the_web_chat_limits_size_and_rate_with_a_clear_message() {
    let server = Server::start(&[]);
    let addr = server.addr();
    let v = visitor(&addr);
    let r = chat_send(&addr, &v, "big", &"a".repeat(2_001));
    assert_eq!(r.status, 413);
    assert!(r.json()["error"].as_str().unwrap().contains("at most 2000"));
    let r = chat_send(&addr, &v, "empty", "   ");
    assert_eq!(r.status, 400);
    let statuses: Vec<u16> = (0..9)
        .map(|i| chat_send(&addr, &v, &format!("r{i}"), "ciao").status)
        .collect();
    assert_eq!(statuses[..8], [200; 8]);
    assert_eq!(statuses[8], 429);
    // A resent message (same id) is stored once.
    let other = visitor(&addr);
    assert_eq!(
        chat_send(&addr, &other, "same", "ciao").json()["stored"],
        true
    );
    assert_eq!(
        chat_send(&addr, &other, "same", "ciao").json()["stored"],
        false
    );
    let r = request(
        &addr,
        "GET",
        "/api/v1/chat/messages?after=0",
        &[("X-Sportello-Visitor", &other)],
        None,
    );
    let customer_lines = r.json()["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["author"] == "customer")
        .count();
    assert_eq!(customer_lines, 1);
    let r = request(
        &addr,
        "GET",
        "/api/v1/chat/messages",
        &[("X-Sportello-Visitor", "forged")],
        None,
    );
    assert_eq!(r.status, 401);
}

#[test]
fn the_first_run_prints_a_setup_link_that_creates_one_admin_once() {
    let server = Server::start(&[]);
    let addr = server.addr();
    let mut log = String::new();
    for _ in 0..100 {
        log = server.stderr.lock().unwrap().clone();
        if log.contains("operator add") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let token = log
        .split("setup=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("serve explains how to create the first account: {log}"))
        .to_owned();
    assert!(log.contains("sportello operator add"), "{log}");
    let r = request(&addr, "GET", "/api/v1/setup", &[], None);
    assert_eq!(r.json()["needed"], true);
    let body = |token: &str| {
        json!({"token": token, "name": "capo", "password": PASSWORD, "departments": ["vendite"]})
            .to_string()
    };
    let r = request(&addr, "POST", "/api/v1/setup", &[], Some(&body("forged")));
    assert_eq!(r.status, 403);
    let r = request(&addr, "POST", "/api/v1/setup", &[], Some(&body(&token)));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["role"], "admin");
    let r = request(&addr, "POST", "/api/v1/setup", &[], Some(&body(&token)));
    assert_eq!(r.status, 409, "the link works once: {}", r.body);
    assert_eq!(r.json()["code"], "setup_done");
    assert!(r.body.contains("log in at /console"), "{}", r.body);
    assert_eq!(
        request(&addr, "GET", "/api/v1/setup", &[], None).json()["needed"],
        false
    );
}

#[test]
fn pages_forbid_inline_scripts_and_the_console_cannot_be_framed() {
    let server = Server::start(&[]);
    let addr = server.addr();
    let chat = request(&addr, "GET", "/", &[], None);
    let console = request(&addr, "GET", "/console", &[], None);
    for page in [&chat, &console] {
        assert_eq!(page.status, 200);
        let csp = page.header("content-security-policy").unwrap();
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert!(!page.body.contains("onclick="), "no inline handlers");
    }
    assert!(
        console
            .header("content-security-policy")
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    let widget = request(&addr, "GET", "/widget.js", &[], None);
    assert_eq!(widget.status, 200);
    assert!(
        widget
            .header("content-type")
            .unwrap()
            .contains("javascript")
    );
}

#[test]
fn an_operator_notes_transfers_releases_replies_and_closes_through_the_api() {
    let server = Server::start(&[("anna", "assistenza"), ("bruno", "vendite")]);
    let addr = server.addr();
    let (anna, bruno) = (api_login(&addr, "anna"), api_login(&addr, "bruno"));
    let v = visitor(&addr);
    chat_send(&addr, &v, "m1", "voglio parlare con un operatore");
    let seen = chat_messages(&addr, &v, 0);
    let last = seen["messages"].as_array().unwrap().last().unwrap()["seq"]
        .as_u64()
        .unwrap();
    assert_eq!(seen["state"], "queued");
    assert_eq!(seen["position"], 1);

    let ok = |r: Response| {
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()
    };
    ok(post_as(&addr, &anna, "/api/v1/tickets/1/claim", None));
    let note = json!({"text": "cliente VIP"}).to_string();
    ok(post_as(
        &addr,
        &anna,
        "/api/v1/tickets/1/notes",
        Some(&note),
    ));
    let to_sales = json!({"department": "vendite"}).to_string();
    let moved = ok(post_as(
        &addr,
        &anna,
        "/api/v1/tickets/1/transfer",
        Some(&to_sales),
    ));
    assert_eq!(moved["ticket"]["department"], "vendite");
    assert_eq!(moved["ticket"]["status"], "queued");
    ok(post_as(&addr, &bruno, "/api/v1/tickets/1/claim", None));
    let to_anna = json!({"operator": "anna"}).to_string();
    let handed = ok(post_as(
        &addr,
        &bruno,
        "/api/v1/tickets/1/transfer",
        Some(&to_anna),
    ));
    assert_eq!(handed["ticket"]["operator"], "anna");
    let released = ok(post_as(&addr, &anna, "/api/v1/tickets/1/release", None));
    assert_eq!(released["ticket"]["status"], "queued");
    ok(post_as(&addr, &anna, "/api/v1/tickets/1/claim", None));
    let reply = json!({"text": "Ciao, ci sono io."}).to_string();
    ok(post_as(
        &addr,
        &anna,
        "/api/v1/tickets/1/reply",
        Some(&reply),
    ));

    // The customer hears each move (another department's queue, a colleague, back in
    // the queue), then the reply; never the note.
    let new = chat_messages(&addr, &v, last);
    let texts: Vec<&str> = new["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts.len(), 4, "{texts:?}");
    assert!(
        texts[0].contains("reparto Vendite") && texts[0].contains("in coda, numero 1"),
        "{texts:?}"
    );
    assert!(texts[1].contains("a un collega"), "{texts:?}");
    assert!(
        texts[2].contains("sei di nuovo in coda, numero 1"),
        "{texts:?}"
    );
    assert_eq!(texts[3], "Ciao, ci sono io.");
    assert!(texts.iter().all(|t| !t.contains("VIP")), "{texts:?}");
    assert_eq!(new["state"], "with_operator");
    let detail = request(
        &addr,
        "GET",
        "/api/v1/tickets/1",
        &[("Cookie", &anna.0)],
        None,
    )
    .json();
    assert_eq!(detail["notes"][0]["text"], "cliente VIP");
    assert_eq!(detail["transcript"][0]["decision"]["decision"], "handoff");

    ok(post_as(&addr, &anna, "/api/v1/tickets/1/close", None));
    // The rating question, and again after a score out of its range: with its buttons.
    let seen = chat_messages(&addr, &v, 0);
    let buttons = |m: &serde_json::Value| m["choices"].as_array().map_or(0, Vec::len);
    let asked = seen["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(buttons(&asked), 5, "{asked}");
    let last = asked["seq"].as_u64().unwrap();
    chat_send(&addr, &v, "m2", "10 su 10");
    let again = chat_messages(&addr, &v, last);
    let again = again["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert!(again["text"].as_str().unwrap().contains("da 1"), "{again}");
    assert_eq!(buttons(&again), 5, "{again}");
    let metrics = request(&addr, "GET", "/metrics", &[], None).body;
    for line in [
        "sportello_queue_length 0",
        "sportello_decisions_total{decision=\"handoff\"} 1",
        "sportello_messages_total{author=\"operator\"} 1",
        "sportello_claim_wait_seconds_count 1",
        "sportello_sla_open_tickets{state=\"breached\"} 0",
    ] {
        assert!(metrics.contains(line), "{line} in {metrics}");
    }
}

fn chat_messages(addr: &str, visitor: &str, after: u64) -> serde_json::Value {
    let path = format!("/api/v1/chat/messages?after={after}");
    let r = request(
        addr,
        "GET",
        &path,
        &[("X-Sportello-Visitor", visitor)],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

#[test]
fn every_bad_request_is_answered_400_in_the_apis_own_json() {
    let server = Server::start(&[("anna", "assistenza")]);
    let addr = server.addr();
    let anna = api_login(&addr, "anna");
    let v = visitor(&addr);
    chat_send(&addr, &v, "m1", "voglio parlare con un operatore");
    // A client that always sends `Content-Type: application/json`, with no body.
    let claimed = post_as(&addr, &anna, "/api/v1/tickets/1/claim", Some(""));
    assert_eq!(claimed.status, 200, "{}", claimed.body);

    let refused = |r: Response, says: &str| {
        assert_eq!(r.status, 400, "{}", r.body);
        assert!(
            r.header("content-type")
                .is_some_and(|t| t.starts_with("application/json")),
            "{:?}",
            r.headers
        );
        let body = r.json();
        assert_eq!(body["code"], "bad_request", "{body}");
        let error = body["error"].as_str().unwrap();
        assert!(error.contains(says), "{says:?} in {error:?}");
        assert!(!error.contains("Failed to"), "said plainly: {error:?}");
    };
    refused(
        post_as(
            &addr,
            &anna,
            "/api/v1/tickets/1/reply",
            Some(r#"{"txt": "ciao"}"#),
        ),
        "unknown field `txt`",
    );
    refused(
        post_as(&addr, &anna, "/api/v1/tickets/1/reply", Some("{\"text\": ")),
        "not the JSON expected",
    );
    // Another action's field is refused, not dropped: a close with a goodbye in it
    // would close without saying it.
    refused(
        post_as(
            &addr,
            &anna,
            "/api/v1/tickets/1/close",
            Some(r#"{"text": "arrivederci"}"#),
        ),
        "`close` takes `faq`, not `text` (to write to the customer, `reply` first)",
    );
    refused(
        post_as(
            &addr,
            &anna,
            "/api/v1/tickets/1/reply",
            Some(r#"{"text": "ciao", "department": "vendite"}"#),
        ),
        "`reply` takes `text`, not `department`",
    );
    let still = post_as(
        &addr,
        &anna,
        "/api/v1/tickets/1/reply",
        Some(r#"{"text": "Eccomi"}"#),
    );
    assert_eq!(
        still.status, 200,
        "refused bodies changed nothing: {}",
        still.body
    );
    assert_eq!(
        still.json()["ticket"]["status"],
        "claimed",
        "{}",
        still.body
    );
    refused(
        post_as(
            &addr,
            &anna,
            "/api/v1/tickets/1/notes",
            Some(r#"{"text": "  "}"#),
        ),
        "the note is empty",
    );
    refused(
        request(
            &addr,
            "GET",
            "/api/v1/chat/messages?after=abc",
            &[("X-Sportello-Visitor", v.as_str())],
            None,
        ),
        "after",
    );
    refused(
        request(
            &addr,
            "GET",
            "/api/v1/report?from=bad",
            &[("Cookie", anna.0.as_str())],
            None,
        ),
        "from",
    );
    // Well-formed JSON of the wrong shape: 400 as the documentation says, not 422.
    refused(
        request(
            &addr,
            "POST",
            "/api/v1/chat/messages",
            &[("X-Sportello-Visitor", v.as_str())],
            Some(r#"{"id": 5}"#),
        ),
        "id",
    );
    refused(
        post_as(
            &addr,
            &anna,
            "/api/v1/operators",
            Some(r#"{"name": "luca", "password": "una password lunga", "departments": []}"#),
        ),
        "\"departments\": [\"NAME\"",
    );
}

/// While `serve` holds the store, an editor reads what the FAQ does not answer from the
/// API: the same groups as `sportello faq gaps --json`, for a period.
#[test]
fn the_faq_gaps_are_read_from_the_running_bot() {
    let server = Server::start(&[("anna", "assistenza")]);
    let addr = server.addr();
    for (n, text) in [
        "fate la confezione regalo?",
        "si può avere la confezione regalo?",
        "quanto costa la spedizione?",
    ]
    .iter()
    .enumerate()
    {
        let r = chat_send(&addr, &visitor(&addr), &format!("g{n}"), text);
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let (cookie, csrf) = api_login(&addr, "anna");
    let auth = [("Cookie", cookie.as_str()), ("X-CSRF-Token", csrf.as_str())];
    let r = request(&addr, "GET", "/api/v1/faq/gaps", &auth, None);
    assert_eq!(r.status, 200, "{}", r.body);
    let gaps = r.json();
    let wrap = crate::support::gap_with(&gaps, |w| w == "confezione")
        .unwrap_or_else(|| panic!("{gaps:#}"));
    assert_eq!(wrap["count"], 2, "both left the choices: {wrap:#}");
    assert!(
        crate::support::gap_with(&gaps, |w| w == "spedizione").is_none(),
        "answered: no gap: {gaps:#}"
    );
    // An old period holds none; a bad one is a 400.
    let old = request(
        &addr,
        "GET",
        "/api/v1/faq/gaps?from=2020-01-01&to=2020-01-31",
        &auth,
        None,
    );
    assert_eq!(old.json(), json!([]));
    let bad = request(
        &addr,
        "GET",
        "/api/v1/faq/gaps?from=2026-02-01&to=2026-01-01",
        &auth,
        None,
    );
    assert_eq!(bad.status, 400, "{}", bad.body);
}
