//! The console's daily running over the API, as `serve` answers it: views and search of
//! tickets, API tokens (list, issue, revoke), operators (remove, reset a password), and
//! the content's load errors.

use crate::support::browser::{PASSWORD, Server};
use crate::support::http::{Response, api_login, request};
use serde_json::{Value, json};

type Session = (String, String);

fn call(addr: &str, session: &Session, method: &str, path: &str, body: Option<&str>) -> Response {
    let headers = [
        ("Cookie", session.0.as_str()),
        ("X-CSRF-Token", session.1.as_str()),
    ];
    request(addr, method, path, &headers, body)
}

fn with_token(addr: &str, token: &str, path: &str) -> Response {
    let bearer = format!("Bearer {token}");
    request(
        addr,
        "GET",
        path,
        &[("Authorization", bearer.as_str())],
        None,
    )
}

/// `POST path` with `body`, signed in by an API token; the JSON answer (must be 200).
fn with_token_post(addr: &str, token: &str, path: &str, body: &str) -> serde_json::Value {
    let bearer = format!("Bearer {token}");
    let r = request(
        addr,
        "POST",
        path,
        &[("Authorization", bearer.as_str())],
        Some(body),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

/// A web chat visitor hands off with `text`.
fn hand_off(addr: &str, text: &str) {
    let visitor = request(addr, "POST", "/api/v1/chat/start", &[], None).json()["visitor"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = json!({"id": "m1", "text": text, "locale": "it-IT"}).to_string();
    let headers = [("X-Sportello-Visitor", visitor.as_str())];
    let r = request(addr, "POST", "/api/v1/chat/messages", &headers, Some(&body));
    assert_eq!(r.status, 200, "{}", r.body);
}

fn ids(r: &Response) -> Vec<u64> {
    assert_eq!(r.status, 200, "{}", r.body);
    let mut ids: Vec<u64> = r.json()["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_u64().unwrap())
        .collect();
    ids.sort_unstable();
    ids
}

#[test]
fn views_and_search_find_tickets_by_number_customer_and_what_was_said() {
    let server = Server::start(&[("anna", "assistenza"), ("bruno", "assistenza")]);
    let addr = server.addr();
    hand_off(
        &addr,
        "voglio parlare con un operatore per il reso della lampada",
    );
    hand_off(&addr, "voglio un operatore, il pacco 552211 è in ritardo");
    hand_off(
        &addr,
        "voglio parlare con una persona per la fattura aziendale",
    );
    let anna = api_login(&addr, "anna");
    let get = |path: &str| call(&addr, &anna, "GET", path, None);
    assert_eq!(
        call(&addr, &anna, "POST", "/api/v1/tickets/2/claim", None).status,
        200
    );
    assert_eq!(ids(&get("/api/v1/tickets?view=mine")), [2]);
    assert_eq!(ids(&get("/api/v1/tickets?view=unassigned")), [1, 3]);
    assert_eq!(
        ids(&get("/api/v1/tickets")),
        [1, 2, 3],
        "all open by default"
    );
    assert_eq!(
        ids(&get("/api/v1/tickets?q=FATTURA")),
        [3],
        "what the customer said"
    );
    assert_eq!(ids(&get("/api/v1/tickets?q=%232")), [2], "the number");
    assert_eq!(ids(&get("/api/v1/tickets?view=all&q=lampada")), [1]);
    assert_eq!(
        call(&addr, &anna, "POST", "/api/v1/tickets/1/close", None).status,
        200
    );
    assert_eq!(ids(&get("/api/v1/tickets?view=closed")), [1]);
    assert_eq!(ids(&get("/api/v1/tickets?view=closed&q=reso")), [1]);
    assert_eq!(ids(&get("/api/v1/tickets?view=all")), [2, 3]);
    let ticket = &get("/api/v1/tickets?view=mine").json()["tickets"][0];
    assert_eq!(ticket["escalated"], false, "{ticket}");
    assert_eq!(get("/api/v1/tickets?view=everything").status, 400);
    assert_eq!(
        request(&addr, "GET", "/api/v1/tickets", &[], None).status,
        401
    );
}

#[test]
fn an_operator_lists_issues_and_revokes_their_own_api_tokens() {
    let server = Server::start(&[("anna", "assistenza"), ("bruno", "assistenza")]);
    let addr = server.addr();
    let anna = api_login(&addr, "anna");
    // Out of range: refused with what is allowed, never quietly changed.
    for (body, status, says) in [
        (r#"{"expires_in_days": 0}"#, 400, "give 1 to 3650"),
        (r#"{"expires_in_days": 100000}"#, 400, "give 1 to 3650"),
        (
            &*format!(r#"{{"label": "{}"}}"#, "x".repeat(101)),
            413,
            "at most 100",
        ),
    ] {
        let r = call(&addr, &anna, "POST", "/api/v1/tokens", Some(body));
        assert_eq!(r.status, status, "{body}: {}", r.body);
        assert!(
            r.json()["error"].as_str().unwrap().contains(says),
            "{}",
            r.body
        );
    }
    let none = call(&addr, &anna, "GET", "/api/v1/tokens", None).json();
    assert_eq!(none["tokens"], json!([]), "nothing issued");
    // Both fields are optional: no body at all is a token without label or end.
    let bare = call(&addr, &anna, "POST", "/api/v1/tokens", None);
    assert_eq!(bare.status, 200, "{}", bare.body);
    let bare_id = bare.json()["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/tokens/{bare_id}");
    assert_eq!(call(&addr, &anna, "DELETE", &path, None).status, 204);
    let body = r#"{"label": "report notturno", "expires_in_days": 30}"#;
    let issued = call(&addr, &anna, "POST", "/api/v1/tokens", Some(body)).json();
    let (id, token) = (
        issued["id"].as_str().unwrap().to_owned(),
        issued["token"].as_str().unwrap().to_owned(),
    );
    let listed = call(&addr, &anna, "GET", "/api/v1/tokens", None).json();
    let mine = &listed["tokens"][0];
    assert_eq!(mine["id"], id.as_str());
    assert_eq!(mine["label"], "report notturno");
    assert!(mine["last_used_at"].is_null());
    assert!(mine["expires_at"].is_string());
    assert!(
        !listed.to_string().contains(&token),
        "the secret is shown once"
    );
    assert_eq!(with_token(&addr, &token, "/api/v1/queue").status, 200);
    // The scheme's case does not matter (RFC 9110), as for `/metrics`.
    let lower = format!("bearer {token}");
    let r = request(
        &addr,
        "GET",
        "/api/v1/queue",
        &[("Authorization", &lower)],
        None,
    );
    assert_eq!(r.status, 200);
    let listed = call(&addr, &anna, "GET", "/api/v1/tokens", None).json();
    assert!(listed["tokens"][0]["last_used_at"].is_string(), "{listed}");
    // Another operator sees none of them and cannot revoke them.
    let bruno = api_login(&addr, "bruno");
    let theirs = call(&addr, &bruno, "GET", "/api/v1/tokens", None).json();
    assert_eq!(theirs["tokens"], json!([]));
    let path = format!("/api/v1/tokens/{id}");
    assert_eq!(call(&addr, &bruno, "DELETE", &path, None).status, 404);
    assert_eq!(call(&addr, &anna, "DELETE", &path, None).status, 204);
    let revoked = with_token(&addr, &token, "/api/v1/queue");
    assert_eq!(revoked.status, 401, "revoked at once");
    assert!(
        revoked.body.contains("this API token is not valid")
            && revoked.body.contains("make a new one"),
        "{}",
        revoked.body
    );
}

/// A session left open (or stolen) cannot take the account over: one's own password
/// changes only with the current one, and wrong ones count as failed logins.
#[test]
fn an_operator_changes_their_own_password_only_with_the_current_one() {
    let server = Server::start(&[("anna", "assistenza"), ("bruno", "assistenza")]);
    let addr = server.addr();
    let path = "/api/v1/operators/bruno/password";
    let change = |session: &Session, body: Value| {
        let r = call(&addr, session, "POST", path, Some(&body.to_string()));
        (r.status, r.json()["code"].clone())
    };
    let bruno = api_login(&addr, "bruno");
    let new = "una password nuova e lunga";
    // The right current password with a new one too short: not a failed login.
    for _ in 0..5 {
        assert_eq!(
            change(&bruno, json!({"password": "corta", "current": PASSWORD})),
            (400, json!("password_short"))
        );
    }
    // Left out: asked for, not counted as a wrong one.
    assert_eq!(
        change(&bruno, json!({"password": new})),
        (400, json!("current_password"))
    );
    assert_eq!(
        change(&bruno, json!({"password": new, "current": "non è questa"})),
        (403, json!("current_password"))
    );
    assert_eq!(call(&addr, &bruno, "GET", "/api/v1/me", None).status, 200);
    let r = call(
        &addr,
        &bruno,
        "POST",
        path,
        Some(&json!({"password": new, "current": PASSWORD}).to_string()),
    );
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(call(&addr, &bruno, "GET", "/api/v1/me", None).status, 401);
    let login = json!({"name": "bruno", "password": new}).to_string();
    assert_eq!(
        request(&addr, "POST", "/api/v1/login", &[], Some(&login)).status,
        200
    );
    // An admin resets someone else's without it.
    let anna = api_login(&addr, "anna");
    let reset = json!({"password": PASSWORD}).to_string();
    assert_eq!(call(&addr, &anna, "POST", path, Some(&reset)).status, 204);
    // Guessing the current one is guessing a login: five wrong, then locked.
    let bruno = api_login(&addr, "bruno");
    for _ in 0..5 {
        let wrong = json!({"password": new, "current": "indovino"});
        assert_eq!(change(&bruno, wrong).0, 403);
    }
    assert_eq!(
        change(&bruno, json!({"password": new, "current": PASSWORD})),
        (429, json!("login_locked"))
    );
    // The same lock as the login's, from this address.
    let login = json!({"name": "bruno", "password": PASSWORD}).to_string();
    assert_eq!(
        request(&addr, "POST", "/api/v1/login", &[], Some(&login)).status,
        429
    );
}

#[test]
fn an_admin_resets_a_password_and_removes_an_operator_but_never_the_last_admin() {
    let server = Server::start(&[("anna", "assistenza"), ("bruno", "assistenza")]);
    let addr = server.addr();
    let anna = api_login(&addr, "anna");
    let bruno = api_login(&addr, "bruno");
    let token = call(&addr, &bruno, "POST", "/api/v1/tokens", Some("{}")).json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        call(&addr, &bruno, "DELETE", "/api/v1/operators/anna", None).status,
        403,
        "operators cannot"
    );
    let last = call(&addr, &anna, "DELETE", "/api/v1/operators/anna", None);
    assert_eq!(
        (last.status, last.json()["code"].clone()),
        (409, json!("last_admin"))
    );
    let short = call(
        &addr,
        &anna,
        "POST",
        "/api/v1/operators/bruno/password",
        Some(r#"{"password": "corta"}"#),
    );
    assert_eq!(short.json()["code"], "password_short");
    let reset = r#"{"password": "una nuova password lunga"}"#;
    let r = call(
        &addr,
        &anna,
        "POST",
        "/api/v1/operators/bruno/password",
        Some(reset),
    );
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(
        call(&addr, &bruno, "GET", "/api/v1/me", None).status,
        401,
        "bruno's sessions end with the old password"
    );
    let login = json!({"name": "bruno", "password": "una nuova password lunga"}).to_string();
    assert_eq!(
        request(&addr, "POST", "/api/v1/login", &[], Some(&login)).status,
        200
    );
    let old = json!({"name": "bruno", "password": PASSWORD}).to_string();
    assert_eq!(
        request(&addr, "POST", "/api/v1/login", &[], Some(&old)).status,
        401
    );
    assert_eq!(
        with_token(&addr, &token, "/api/v1/me").status,
        200,
        "tokens stay"
    );
    // An account taken over may have issued a token: the admin sees bruno's tokens
    // (never their secrets) and revokes the one bruno did not make; bruno cannot
    // see or revoke anna's.
    let taken = with_token_post(&addr, &token, "/api/v1/tokens", r#"{"label": "intruso"}"#);
    let intruder = taken["token"].as_str().unwrap().to_owned();
    let listed = call(&addr, &anna, "GET", "/api/v1/operators/bruno/tokens", None).json();
    let tokens = listed["tokens"].as_array().unwrap();
    assert_eq!(tokens.len(), 2, "{listed}");
    assert!(!listed.to_string().contains(&intruder) && !listed.to_string().contains(&token));
    let theirs = tokens.iter().find(|t| t["label"] == "intruso").unwrap();
    let path = format!(
        "/api/v1/operators/bruno/tokens/{}",
        theirs["id"].as_str().unwrap()
    );
    let anna_s = with_token(&addr, &token, "/api/v1/operators/anna/tokens");
    assert_eq!(anna_s.status, 403, "{}", anna_s.body);
    assert_eq!(call(&addr, &anna, "DELETE", &path, None).status, 204);
    assert_eq!(call(&addr, &anna, "DELETE", &path, None).status, 404);
    assert_eq!(
        with_token(&addr, &intruder, "/api/v1/me").status,
        401,
        "revoked"
    );
    assert_eq!(
        with_token(&addr, &token, "/api/v1/me").status,
        200,
        "the other stays"
    );
    let missing = call(
        &addr,
        &anna,
        "GET",
        "/api/v1/operators/nessuno/tokens",
        None,
    );
    assert_eq!(
        (missing.status, missing.json()["code"].clone()),
        (404, json!("not_found"))
    );
    assert_eq!(
        call(&addr, &anna, "DELETE", "/api/v1/operators/bruno", None).status,
        204
    );
    assert_eq!(
        with_token(&addr, &token, "/api/v1/me").status,
        401,
        "gone with him"
    );
    let operators = call(&addr, &anna, "GET", "/api/v1/operators", None).json();
    let names: Vec<&str> = operators["operators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["anna"]);
}

#[test]
fn the_contents_load_errors_are_shown_to_signed_in_operators() {
    let server = Server::with_broken_faq();
    let addr = server.addr();
    assert_eq!(
        request(&addr, "GET", "/api/v1/content", &[], None).status,
        401
    );
    let anna = api_login(&addr, "anna");
    let content: Value = call(&addr, &anna, "GET", "/api/v1/content", None).json();
    let errors = content["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{content:#}");
    assert!(errors[0]["path"].as_str().unwrap().ends_with("rotto.md"));
    assert!(errors[0]["line"].as_u64().unwrap() >= 1);
    assert!(!errors[0]["message"].as_str().unwrap().is_empty());
}

#[test]
fn ready_replies_are_seeded_from_the_config_kept_in_the_store_and_written_by_admins() {
    let server = Server::start(&[("anna", "assistenza"), ("bruno", "assistenza")]);
    let addr = server.addr();
    let anna = api_login(&addr, "anna");
    let bruno = api_login(&addr, "bruno");
    let seeded = call(&addr, &bruno, "GET", "/api/v1/canned", None).json();
    assert_eq!(
        seeded.as_array().unwrap().len(),
        8,
        "the config's defaults: {seeded}"
    );
    let list = json!([
        {"title": "Saluto", "text": "Ciao {name}, sono qui per aiutarti.", "lang": "it"},
        {"title": "Order", "text": "Order {order} is on its way.", "lang": "en"}
    ])
    .to_string();
    let refused = call(&addr, &bruno, "PUT", "/api/v1/canned", Some(&list));
    assert_eq!(refused.status, 403, "operators read, admins write");
    let bad = json!([{"title": "", "text": "x", "lang": null}]).to_string();
    assert_eq!(
        call(&addr, &anna, "PUT", "/api/v1/canned", Some(&bad)).status,
        400
    );
    let saved = call(&addr, &anna, "PUT", "/api/v1/canned", Some(&list));
    assert_eq!(saved.status, 200, "{}", saved.body);
    let now = call(&addr, &bruno, "GET", "/api/v1/canned", None).json();
    assert_eq!(now[0]["title"], "Saluto");
    assert_eq!(now.as_array().unwrap().len(), 2);
    // A ticket offers the saved ones in its language, filled in.
    hand_off(&addr, "voglio parlare con un operatore");
    let detail = call(&addr, &bruno, "GET", "/api/v1/tickets/1", None).json();
    assert_eq!(
        detail["canned"],
        json!([{"title": "Saluto", "text": "Ciao, sono qui per aiutarti."}])
    );
    // They survive a restart: the store keeps them.
    let data = server.stop();
    let server = Server::spawn(data);
    let addr = server.addr();
    let anna = api_login(&addr, "anna");
    let kept = call(&addr, &anna, "GET", "/api/v1/canned", None).json();
    assert_eq!(kept.as_array().unwrap().len(), 2);
}

/// A multipart body with one `file` field.
fn multipart(filename: &str, content: &str) -> (String, String) {
    let boundary = "----sportelloTestBoundary7MA4YWxk";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n{content}\r\n--{boundary}--\r\n"
    );
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[test]
fn a_customer_sends_a_photo_an_operator_opens_it_and_forget_erases_it() {
    let server = Server::start(&[("anna", "assistenza")]);
    let addr = server.addr();
    let start = request(&addr, "POST", "/api/v1/chat/start", &[], None).json();
    let visitor = start["visitor"].as_str().unwrap().to_owned();
    let gif = "GIF89a\u{1}\u{0}\u{1}\u{0}fake picture of a broken lamp";
    let (content_type, body) = multipart("../../etc/lampada rotta.gif", gif);
    let headers = [
        ("X-Sportello-Visitor", visitor.as_str()),
        ("Content-Type", content_type.as_str()),
    ];
    let sent = request(
        &addr,
        "POST",
        "/api/v1/chat/attachments",
        &headers,
        Some(&body),
    );
    assert_eq!(sent.status, 200, "{}", sent.body);
    let id = sent.json()["id"].as_str().unwrap().to_owned();
    // The bot says it cannot read photos; the message is in the transcript.
    let mine = [("X-Sportello-Visitor", visitor.as_str())];
    let messages = request(&addr, "GET", "/api/v1/chat/messages?after=0", &mine, None).json();
    let texts: Vec<&str> = messages["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert!(
        texts[0].starts_with(&format!("[photo {id}] lampada rotta.gif")),
        "{texts:?}"
    );
    assert!(texts[1].contains("foto"), "{texts:?}");
    let path = format!("/api/v1/attachments/{id}");
    assert_eq!(
        request(&addr, "GET", &path, &[], None).status,
        401,
        "operators only"
    );
    let anna = api_login(&addr, "anna");
    let file = call(&addr, &anna, "GET", &path, None);
    assert_eq!(file.status, 200);
    assert_eq!(file.header("content-type"), Some("image/gif"));
    assert_eq!(file.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(
        file.header("content-disposition"),
        Some("inline; filename=\"lampada rotta.gif\"")
    );
    assert!(
        file.header("content-security-policy")
            .unwrap()
            .contains("sandbox")
    );
    assert_eq!(file.body, gif);
    // Not a photo or a PDF: refused, whatever the name says.
    let (content_type, body) = multipart("foto.jpg", "<script>alert(1)</script>");
    let headers = [
        ("X-Sportello-Visitor", visitor.as_str()),
        ("Content-Type", content_type.as_str()),
    ];
    let refused = request(
        &addr,
        "POST",
        "/api/v1/chat/attachments",
        &headers,
        Some(&body),
    );
    assert_eq!(
        (refused.status, refused.json()["code"].clone()),
        (415, json!("file_type"))
    );
    let big = format!("%PDF-1.4\n{}", "x".repeat(10 * 1024 * 1024));
    let (content_type, body) = multipart("manuale.pdf", &big);
    let headers = [
        ("X-Sportello-Visitor", visitor.as_str()),
        ("Content-Type", content_type.as_str()),
    ];
    let too_big = request(
        &addr,
        "POST",
        "/api/v1/chat/attachments",
        &headers,
        Some(&body),
    );
    assert_eq!(too_big.status, 413, "{}", too_big.body);
    // Forget erases the file with the rest (the customer's id, from their ticket).
    let body = json!({"id": "h1", "text": "voglio parlare con un operatore"}).to_string();
    let asked = request(&addr, "POST", "/api/v1/chat/messages", &mine, Some(&body));
    assert_eq!(asked.status, 200, "{}", asked.body);
    let queue = call(&addr, &anna, "GET", "/api/v1/queue", None).json();
    let customer = queue["tickets"][0]["customer"].as_str().unwrap().to_owned();
    let data = server.stop();
    let forgot = crate::support::sportello(&data.data(), &["customer", "forget", &customer], "");
    assert!(forgot.status.success(), "{forgot:?}");
    let server = Server::spawn(data);
    let addr = server.addr();
    let anna = api_login(&addr, "anna");
    assert_eq!(call(&addr, &anna, "GET", &path, None).status, 404);
}

/// A visitor token costs nothing, so what a visitor may do is capped per address too:
/// files (20 a minute, whatever the visitors) and "typing" signals (each reaches every
/// open console; 5 per visitor and 40 per address in ten seconds).
#[test]
fn files_and_typing_signals_are_capped_per_address_as_well_as_per_visitor() {
    let server = Server::start(&[("anna", "assistenza")]);
    let addr = server.addr();
    let gif = "GIF89a\u{1}\u{0}\u{1}\u{0}a picture";
    let (content_type, body) = multipart("foto.gif", gif);
    let mut sent = Vec::new();
    for _ in 0..5 {
        let start = request(&addr, "POST", "/api/v1/chat/start", &[], None).json();
        let visitor = start["visitor"].as_str().unwrap().to_owned();
        for _ in 0..5 {
            let headers = [
                ("X-Sportello-Visitor", visitor.as_str()),
                ("Content-Type", content_type.as_str()),
            ];
            let r = request(
                &addr,
                "POST",
                "/api/v1/chat/attachments",
                &headers,
                Some(&body),
            );
            sent.push((r.status, r.json()["code"].clone()));
        }
    }
    let taken = sent.iter().filter(|(status, _)| *status == 200).count();
    assert_eq!(taken, 20, "{sent:?}");
    assert_eq!(sent[20], (429, json!("rate_limited")), "{sent:?}");
    // Typing: five signals pass, the sixth within the window is refused.
    let start = request(&addr, "POST", "/api/v1/chat/start", &[], None).json();
    let visitor = start["visitor"].as_str().unwrap().to_owned();
    let mine = [("X-Sportello-Visitor", visitor.as_str())];
    let typed: Vec<u16> = (0..6)
        .map(|_| request(&addr, "POST", "/api/v1/chat/typing", &mine, None).status)
        .collect();
    assert_eq!(typed, [204, 204, 204, 204, 204, 429]);
    // Eight more visitors from the same address: 40 signals in all, then refused
    // for a new visitor too.
    let mut from_here = Vec::new();
    for _ in 0..8 {
        let start = request(&addr, "POST", "/api/v1/chat/start", &[], None).json();
        let visitor = start["visitor"].as_str().unwrap().to_owned();
        let theirs = [("X-Sportello-Visitor", visitor.as_str())];
        for _ in 0..5 {
            from_here.push(request(&addr, "POST", "/api/v1/chat/typing", &theirs, None).status);
        }
    }
    let passed = from_here.iter().filter(|s| **s == 204).count();
    assert_eq!(passed, 35, "{from_here:?}");
    assert!(from_here[35..].iter().all(|s| *s == 429), "{from_here:?}");
}

/// A shop open around the clock except one day three days from now, with a department
/// that has its own hours and none of them open.
fn hours_config() -> (String, String) {
    let closed = (chrono::Utc::now() + chrono::Duration::days(3))
        .date_naive()
        .to_string();
    let week: String = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .map(|d| format!("{d} = \"00:00-24:00\"\n"))
        .collect();
    let config = format!(
        r#"default_department = "assistenza"
[hours]
timezone = "Europe/Rome"
extra_closed = ["{closed}"]
{week}
[departments.assistenza]
label = {{ it = "Assistenza clienti", en = "Customer care" }}
sla_first_response = "10m"
keywords = ["reso", "rimborso"]

[departments.notte]
[departments.notte.hours]
timezone = "Europe/Rome"
"#
    );
    (config, closed)
}

#[test]
fn departments_and_hours_are_shown_and_admins_change_roles_and_departments() {
    let (config, closed) = hours_config();
    let server = Server::start_with(&[("anna", "assistenza")], Some(&config), &[]);
    let addr = server.addr();
    assert_eq!(
        request(&addr, "GET", "/api/v1/hours", &[], None).status,
        401
    );
    let anna = api_login(&addr, "anna");
    let bruno = json!({"name": "bruno", "password": PASSWORD, "departments": ["notte"]});
    let r = call(
        &addr,
        &anna,
        "POST",
        "/api/v1/operators",
        Some(&bruno.to_string()),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let bruno = api_login(&addr, "bruno");

    let hours = call(&addr, &bruno, "GET", "/api/v1/hours", None).json();
    let departments = hours["departments"].as_array().unwrap();
    let names: Vec<&str> = departments
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["assistenza", "notte"]);
    let care = &departments[0];
    assert_eq!(care["default"], true);
    assert_eq!(care["own_hours"], false);
    assert_eq!(care["label"]["en"], "Customer care");
    assert_eq!(care["sla_first_response_minutes"], 10);
    assert_eq!(care["keywords"], json!(["reso", "rimborso"]));
    assert_eq!(care["operators"], json!(["anna"]));
    assert_eq!(care["hours"]["timezone"], "Europe/Rome");
    assert_eq!(care["hours"]["week"]["sun"], json!(["00:00-24:00"]));
    assert_eq!(care["hours"]["open_now"], true);
    assert!(care["hours"]["next_opening"].is_string());
    assert_eq!(care["hours"]["closed_days"], json!([closed]));
    let night = &departments[1];
    assert_eq!(night["own_hours"], true);
    assert_eq!(night["hours"]["week"]["mon"], json!([]));
    assert_eq!(night["hours"]["open_now"], false);
    assert_eq!(night["hours"]["next_opening"], Value::Null);
    assert_eq!(night["sla_first_response_minutes"], Value::Null);
    assert_eq!(night["operators"], json!(["bruno"]));
    assert_eq!(hours["shop"]["closed_days"], json!([closed]));

    // Roles and departments: admins only, checked, the last admin stays one.
    let both = r#"{"departments": ["assistenza", "notte"]}"#;
    assert_eq!(
        call(&addr, &bruno, "PUT", "/api/v1/operators/bruno", Some(both)).status,
        403,
        "an operator cannot widen their own access"
    );
    let unknown = r#"{"departments": ["magazzino"]}"#;
    let r = call(
        &addr,
        &anna,
        "PUT",
        "/api/v1/operators/bruno",
        Some(unknown),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("magazzino"), "{}", r.body);
    let r = call(
        &addr,
        &anna,
        "PUT",
        "/api/v1/operators/bruno",
        Some(r#"{"departments": []}"#),
    );
    assert_eq!(r.status, 400, "{}", r.body);
    let r = call(&addr, &anna, "PUT", "/api/v1/operators/nessuno", Some(both));
    assert_eq!(r.status, 404, "{}", r.body);
    let demote = r#"{"role": "operator"}"#;
    let r = call(&addr, &anna, "PUT", "/api/v1/operators/anna", Some(demote));
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (409, json!("last_admin"))
    );
    let promote = r#"{"role": "admin", "departments": ["assistenza", "notte"]}"#;
    let r = call(
        &addr,
        &anna,
        "PUT",
        "/api/v1/operators/bruno",
        Some(promote),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.json(),
        json!({"name": "bruno", "role": "admin", "departments": ["assistenza", "notte"]})
    );
    // At bruno's next request, with the session he already had.
    let me = call(&addr, &bruno, "GET", "/api/v1/me", None).json();
    assert_eq!(me["role"], "admin");
    assert_eq!(me["departments"], json!(["assistenza", "notte"]));
    let r = call(&addr, &bruno, "PUT", "/api/v1/operators/anna", Some(demote));
    assert_eq!(r.status, 200, "now there is another admin: {}", r.body);
    let anna_me = call(&addr, &anna, "GET", "/api/v1/me", None).json();
    assert_eq!(anna_me["role"], "operator");
    let hours = call(&addr, &anna, "GET", "/api/v1/hours", None).json();
    assert_eq!(
        hours["departments"][1]["operators"],
        json!(["bruno"]),
        "anna is still only in assistenza"
    );
    assert_eq!(
        hours["departments"][0]["operators"],
        json!(["anna", "bruno"])
    );
}

#[test]
fn a_removed_operators_tickets_return_to_the_queue_and_an_admin_takes_one_back() {
    let server = Server::start(&[
        ("anna", "assistenza"),
        ("carla", "assistenza"),
        ("luca", "assistenza"),
    ]);
    let addr = server.addr();
    let (anna, carla, luca) = (
        api_login(&addr, "anna"),
        api_login(&addr, "carla"),
        api_login(&addr, "luca"),
    );
    hand_off(&addr, "voglio parlare con un operatore");
    hand_off(&addr, "voglio parlare con una persona");
    for ticket in [1, 2] {
        let path = format!("/api/v1/tickets/{ticket}/claim");
        assert_eq!(call(&addr, &carla, "POST", &path, None).status, 200);
    }

    // Not yours: the error names who has it, not who asked.
    let refused = call(&addr, &luca, "POST", "/api/v1/tickets/1/release", None);
    let body = refused.json();
    assert_eq!(refused.status, 409, "{body}");
    assert_eq!(body["code"], "not_yours");
    assert_eq!(body["operator"], "carla");
    assert_eq!(body["error"], "ticket #1 is claimed by carla, not by luca");

    // An admin takes back only from the holder their screen showed.
    let seen = json!({"operator": "luca"}).to_string();
    let stale = call(
        &addr,
        &anna,
        "POST",
        "/api/v1/tickets/1/release",
        Some(&seen),
    );
    assert_eq!(stale.status, 409, "{}", stale.body);
    assert_eq!(stale.json()["operator"], "carla", "{}", stale.body);
    // An admin takes one back: queued again, and the customer is told.
    let seen = json!({"operator": "carla"}).to_string();
    let back = call(
        &addr,
        &anna,
        "POST",
        "/api/v1/tickets/1/release",
        Some(&seen),
    );
    assert_eq!(back.status, 200, "{}", back.body);
    assert_eq!(back.json()["ticket"]["status"], "queued");
    // Removing carla puts back the other.
    assert_eq!(
        call(&addr, &anna, "DELETE", "/api/v1/operators/carla", None).status,
        204
    );
    let again = call(&addr, &anna, "DELETE", "/api/v1/operators/carla", None);
    assert_eq!(
        (again.status, again.json()["code"].clone()),
        (404, json!("not_found"))
    );
    let queue = call(&addr, &anna, "GET", "/api/v1/queue", None).json();
    let open: Vec<(u64, &str, bool)> = queue["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["id"].as_u64().unwrap(),
                t["status"].as_str().unwrap(),
                t["operator"].is_null(),
            )
        })
        .collect();
    assert_eq!(open, [(1, "queued", true), (2, "queued", true)]);
    for ticket in [1, 2] {
        let detail = call(
            &addr,
            &luca,
            "GET",
            &format!("/api/v1/tickets/{ticket}"),
            None,
        )
        .json();
        let told = detail["transcript"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| {
                m["text"]
                    .as_str()
                    .is_some_and(|t| t.contains("non è più disponibile: sei di nuovo in coda"))
            })
            .count();
        assert_eq!(told, 1, "ticket {ticket}: {detail}");
        let path = format!("/api/v1/tickets/{ticket}/claim");
        assert_eq!(call(&addr, &luca, "POST", &path, None).status, 200);
    }
    // A queued ticket has nothing to take back; the error says so.
    let luca_releases = call(&addr, &luca, "POST", "/api/v1/tickets/2/release", None);
    assert_eq!(luca_releases.status, 200);
    let nothing = call(&addr, &anna, "POST", "/api/v1/tickets/2/release", None).json();
    assert_eq!(nothing["code"], "not_yours");
    assert!(nothing.get("operator").is_none(), "{nothing}");
    assert_eq!(
        nothing["error"],
        "ticket #2 is waiting in the queue, not claimed by anna"
    );
}

/// A console's live stream outlives the request that opened it: once the account is
/// removed, neither its session's stream nor its API token's tells it anything more
/// (the first change after the removal ends both), while a colleague's goes on.
#[test]
fn a_removed_operators_live_streams_end_before_telling_them_anything() {
    use std::io::{BufRead, BufReader, Write};
    let server = Server::start(&[("anna", "assistenza"), ("carla", "assistenza")]);
    let addr = server.addr();
    let (anna, carla) = (api_login(&addr, "anna"), api_login(&addr, "carla"));
    let token = call(&addr, &carla, "POST", "/api/v1/tokens", Some("{}")).json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let open = |credential: String| {
        let mut stream = std::net::TcpStream::connect(&addr).unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(20)))
            .unwrap();
        write!(
            stream,
            "GET /api/v1/events HTTP/1.1\r\nHost: {addr}\r\n{credential}\r\nAccept: text/event-stream\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut lines = BufReader::new(stream).lines();
        // Each `data:` line, until the stream ends (None).
        let first = loop {
            let line = lines.next().unwrap().unwrap();
            if let Some(data) = line.strip_prefix("data:") {
                break data.trim().to_owned();
            }
        };
        assert_eq!(first, "{}", "the stream is live");
        lines
    };
    // What a stream says until it ends; a read that times out means it stayed open.
    let data_lines = |lines: std::io::Lines<BufReader<std::net::TcpStream>>| -> Vec<String> {
        lines
            .map(|l| l.expect("the stream ends instead of staying open"))
            .filter_map(|l| l.strip_prefix("data:").map(|d| d.trim().to_owned()))
            .collect()
    };
    let by_session = open(format!("Cookie: {}", carla.0));
    let by_token = open(format!("Authorization: Bearer {token}"));
    let mut colleague = open(format!("Cookie: {}", anna.0));
    assert_eq!(
        call(&addr, &anna, "DELETE", "/api/v1/operators/carla", None).status,
        204
    );
    hand_off(&addr, "voglio parlare con un operatore");
    // Anna's stream tells her of the new ticket.
    let told = loop {
        let line = colleague.next().unwrap().unwrap();
        if let Some(data) = line.strip_prefix("data:") {
            let data: Value = serde_json::from_str(data.trim()).unwrap();
            if data["from_customer"] == true {
                break data;
            }
        }
    };
    assert!(told["ticket"].is_u64(), "{told}");
    // Carla's end (the read would time out, and fail, if they stayed open) with
    // nothing more said.
    assert_eq!(data_lines(by_session), Vec::<String>::new());
    assert_eq!(data_lines(by_token), Vec::<String>::new());
}
