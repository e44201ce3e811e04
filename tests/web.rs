//! The web chat and the operator console, as people use them: `sportello serve` as a
//! child process, pages in headless Chromium, and the API over plain HTTP.

use crate::support::browser::{
    Chromium, PASSWORD, PATIENCE, Server, screenshot, wait_for, wait_for_text,
};
use crate::support::http::{Response, request};
use fantoccini::{Client, Locator};
use serde_json::json;

/// An FAQ answer's first line as a page shows it (Markdown marks rendered away).
fn answer_start(faq_id: &str) -> String {
    let (brain, _) = sportello::matcher::Brain::load(
        &crate::support::repo().join("faq"),
        &crate::support::repo().join("intents"),
        sportello::config::Config::default().matching,
        None,
    );
    let answer = &brain.faq.entry(faq_id).unwrap().answer;
    answer.lines().next().unwrap().replace(['*', '_', '`'], "")
}

async fn type_into(client: &Client, css: &str, text: &str) {
    retry(css, || async {
        let field = client.find(Locator::Css(css)).await?;
        field.clear().await?;
        field.send_keys(text).await
    })
    .await;
}

async fn click(client: &Client, css: &str) {
    retry(css, || async {
        client.find(Locator::Css(css)).await?.click().await
    })
    .await;
}

/// Click the first element matching `css` whose text contains `needle`.
async fn click_text(client: &Client, css: &str, needle: &str) {
    retry(css, || async {
        for element in client.find_all(Locator::Css(css)).await? {
            if element.text().await?.contains(needle) {
                return element.click().await;
            }
        }
        Err(fantoccini::error::CmdError::InvalidArgument(
            css.to_owned(),
            format!("none contains {needle:?}"),
        ))
    })
    .await;
}

/// Pages re-render as live updates arrive: an element found a moment ago may be gone
/// or covered. Try again until [`PATIENCE`] runs out.
async fn retry<F, Fut>(what: &str, mut attempt: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), fantoccini::error::CmdError>>,
{
    let start = std::time::Instant::now();
    loop {
        match attempt().await {
            Ok(()) => return,
            Err(e) if start.elapsed() > PATIENCE => panic!("`{what}`: {e}"),
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    }
}

/// The customer writes in the web chat.
async fn customer_says(chat: &Client, text: &str) {
    type_into(chat, "#input", text).await;
    click(chat, "#send").await;
}

async fn log_in(console: &Client, server: &Server, name: &str) {
    console.goto(&server.url("/console")).await.unwrap();
    type_into(console, "#login-name", name).await;
    type_into(console, "#login-password", PASSWORD).await;
    click(console, "#login-submit").await;
    wait_for(console, "#queue").await;
}

async fn count(client: &Client, css: &str) -> usize {
    client.find_all(Locator::Css(css)).await.unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_is_answered_handed_to_an_operator_who_replies_live_then_the_bot_answers_again()
{
    let server = Server::start(&[("anna", "assistenza")]);
    let chromium = Chromium::start().await;
    let chat = chromium.window(420, 760, "it-IT").await;
    let console = chromium.window(1280, 860, "it-IT").await;

    chat.goto(&server.url("/")).await.unwrap();
    customer_says(&chat, "Quanto costa la spedizione?").await;
    wait_for_text(
        &chat,
        ".msg.bot .text",
        &answer_start("costi-di-spedizione"),
    )
    .await;

    // Clarify choices are buttons; pressing one sends its label.
    customer_says(&chat, "pagamento").await;
    click_text(&chat, "button.choice", "contrassegno").await;
    wait_for_text(&chat, ".msg.bot .text", &answer_start("contrassegno")).await;

    log_in(&console, &server, "anna").await;
    assert_eq!(
        count(&console, ".ticket").await,
        0,
        "the queue starts empty"
    );

    customer_says(&chat, "Voglio parlare con un operatore").await;
    wait_for_text(&chat, "#status", "coda").await;
    // The ticket appears in the console without a reload.
    click(&console, ".ticket[data-id='1']").await;
    click(&console, "#claim").await;
    wait_for_text(&console, "#transcript .line.customer .text", "operatore").await;
    type_into(
        &console,
        "#reply-text",
        "Ciao, sono Anna: controllo subito.",
    )
    .await;
    click(&console, "#reply-send").await;
    wait_for_text(&chat, ".msg.operator .text", "sono Anna").await;

    // A hostile message is shown as text, never run.
    let hostile = "<img src=x onerror=alert(1)><script>alert(2)</script>";
    customer_says(&chat, hostile).await;
    let shown = wait_for_text(&console, "#transcript .line.customer .text", "<script>").await;
    assert_eq!(shown, hostile);
    assert_eq!(
        count(&console, "#transcript img, #transcript script").await,
        0
    );
    assert_eq!(count(&chat, "#messages img, #messages script").await, 0);
    assert!(console.get_alert_text().await.is_err(), "no alert ran");
    screenshot(&console, "console").await;

    // The web chat survives a reload: same conversation.
    chat.refresh().await.unwrap();
    wait_for_text(&chat, ".msg.operator .text", "sono Anna").await;

    click(&console, "#close").await;
    wait_for_text(&chat, ".msg.bot .text", "").await;
    let bot_before = count(&chat, ".msg.bot").await;
    customer_says(&chat, "Quali sono i tempi di consegna?").await;
    wait_for_text(&chat, ".msg.bot .text", &answer_start("tempi-di-consegna")).await;
    assert!(count(&chat, ".msg.bot").await > bot_before);
    screenshot(&chat, "webchat").await;

    chat.close().await.unwrap();
    console.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_second_operator_to_claim_a_ticket_is_told_who_has_it() {
    let server = Server::start(&[("anna", "assistenza"), ("bruno", "assistenza")]);
    let chromium = Chromium::start().await;
    let chat = chromium.window(420, 760, "en-US").await;
    let anna = chromium.window(1100, 800, "en-US").await;
    let bruno = chromium.window(390, 800, "en-US").await;

    chat.goto(&server.url("/")).await.unwrap();
    customer_says(&chat, "I want to talk to a human").await;
    wait_for_text(&chat, "#status", "position 1").await;

    log_in(&anna, &server, "anna").await;
    log_in(&bruno, &server, "bruno").await;
    click(&anna, ".ticket[data-id='1']").await;
    click(&bruno, ".ticket[data-id='1']").await;
    wait_for(&anna, "#claim").await;
    wait_for(&bruno, "#claim").await;
    // Both press "claim" at the same moment.
    let press = "document.querySelector('#claim').click()";
    let (a, b) = tokio::join!(anna.execute(press, vec![]), bruno.execute(press, vec![]));
    a.unwrap();
    b.unwrap();
    let mut mine = Vec::new();
    for (name, window) in [("anna", &anna), ("bruno", &bruno)] {
        let text = wait_for_text(window, "#ticket", "taken by").await;
        if text.contains("taken by you") {
            mine.push(name);
        }
    }
    assert_eq!(
        mine.len(),
        1,
        "exactly one operator has the ticket: {mine:?}"
    );
    // The other is told who: by the refused claim, or live if that came first.
    let (loser, winner) = if mine[0] == "anna" {
        (&bruno, "anna")
    } else {
        (&anna, "bruno")
    };
    wait_for_text(loser, "#ticket", &format!("taken by {winner}")).await;
    let refused = loser.find(Locator::Css("#action-error")).await.ok();
    if let Some(error) = refused {
        let text = error.text().await.unwrap_or_default();
        assert!(
            text.is_empty() || text.contains(&format!("already taken by {winner}")),
            "{text}"
        );
    }
    chat.close().await.unwrap();
    anna.close().await.unwrap();
    bruno.close().await.unwrap();
}

/// Log in over the API: the session cookie and the CSRF token.
fn api_login(addr: &str, name: &str) -> (String, String) {
    let body = json!({"name": name, "password": PASSWORD}).to_string();
    let r = request(addr, "POST", "/api/v1/login", &[], Some(&body));
    assert_eq!(r.status, 200, "{}", r.body);
    let cookie = r.header("set-cookie").unwrap().to_owned();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
    let cookie = cookie.split(';').next().unwrap().to_owned();
    (cookie, r.json()["csrf"].as_str().unwrap().to_owned())
}

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
        let statuses: Vec<u16> = results.iter().map(|r| r.status).collect();
        assert!(
            statuses == [200, 409] || statuses == [409, 200],
            "round {round}: {statuses:?}"
        );
        let loser = results.iter().find(|r| r.status == 409).unwrap();
        let winner = results.iter().find(|r| r.status == 200).unwrap();
        let by = winner.json()["ticket"]["operator"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            loser.json()["error"]
                .as_str()
                .unwrap()
                .contains(&format!("already taken by {by}"))
        );
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
    assert_eq!(r.status, 403, "the link works once");
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
