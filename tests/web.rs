//! The web chat and the operator console, as people use them: `sportello serve` as a
//! child process and pages in headless Chromium (the API alone: `web_api.rs`).

use crate::support::browser::{
    Chromium, PASSWORD, PATIENCE, Server, screenshot, wait_for, wait_for_text,
};
use fantoccini::{Client, Locator};

/// An FAQ answer's first line as a page shows it (Markdown marks rendered away).
fn answer_start(faq_id: &str) -> String {
    let (brain, _) = crate::support::sample_brain();
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

/// Wait until `check` gives `expected` (shown with the last value if it never does).
async fn until<T, F, Fut>(what: &str, expected: T, mut check: F)
where
    T: PartialEq + std::fmt::Debug,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, fantoccini::error::CmdError>>,
{
    retry(what, || {
        let seen = check();
        let expected = &expected;
        async move {
            let seen = seen.await?;
            if seen == *expected {
                Ok(())
            } else {
                Err(fantoccini::error::CmdError::InvalidArgument(
                    "seen".into(),
                    format!("{seen:?}"),
                ))
            }
        }
    })
    .await;
}

/// Wait until the page's `script` returns `expected`.
async fn until_js(client: &Client, what: &str, script: &str, expected: serde_json::Value) {
    until(what, expected, || client.execute(script, vec![])).await;
}

/// The ids of the tickets the queue shows, in order.
async fn ticket_ids(client: &Client) -> Result<Vec<String>, fantoccini::error::CmdError> {
    let mut ids = Vec::new();
    for t in client.find_all(Locator::Css(".ticket")).await? {
        ids.extend(t.attr("data-id").await?);
    }
    Ok(ids)
}

/// Wait until `css` matches `n` elements.
async fn until_count(client: &Client, css: &str, n: usize) {
    until(css, n, || async {
        Ok(client.find_all(Locator::Css(css)).await?.len())
    })
    .await;
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
    // The bot's decision, once, in words: on the message that handed over.
    let why = wait_for_text(
        &console,
        "#transcript .why",
        "chiesto di parlare con una persona",
    )
    .await;
    assert!(why.starts_with("Decisione"), "{why}");
    assert_eq!(count(&console, "#transcript .why").await, 1);
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

    // Close asks first (with an optional FAQ that answered it).
    click(&console, "#close").await;
    click(&console, "#close-confirm").await;
    wait_for_text(&chat, ".msg.bot .text", "è chiusa").await;
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

/// The value of a form field now.
async fn value_of(client: &Client, css: &str) -> String {
    let field = client.find(Locator::Css(css)).await.unwrap();
    field.prop("value").await.unwrap().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_message_stays_in_the_box_with_a_countdown_in_italian() {
    let server = Server::start(&[]);
    let chromium = Chromium::start().await;
    let chat = chromium.window(420, 760, "it-IT").await;
    chat.goto(&server.url("/")).await.unwrap();
    // Eight messages in a few seconds are the most a visitor may send in 10 s.
    for i in 1..=8 {
        customer_says(&chat, &format!("domanda numero {i}")).await;
        let start = std::time::Instant::now();
        while !value_of(&chat, "#input").await.is_empty() {
            assert!(start.elapsed() < PATIENCE, "message {i} was not sent");
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }
    customer_says(&chat, "la nona domanda").await;
    let shown = wait_for_text(&chat, "#countdown", "Attendi").await;
    assert!(shown.contains("prima di inviare"), "{shown}");
    assert_eq!(value_of(&chat, "#input").await, "la nona domanda");
    let send = chat.find(Locator::Css("#send")).await.unwrap();
    assert!(
        !send.is_enabled().await.unwrap(),
        "send waits for the countdown"
    );
    // When the countdown ends the same text goes, once, unglued to anything else.
    let start = std::time::Instant::now();
    while !send.is_enabled().await.unwrap() {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(15),
            "the countdown never ends"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    click(&chat, "#send").await;
    wait_for_text(&chat, ".msg.customer .text", "la nona domanda").await;
    let mine: Vec<String> = {
        let mut texts = Vec::new();
        for m in chat
            .find_all(Locator::Css(".msg.customer .text"))
            .await
            .unwrap()
        {
            texts.push(m.text().await.unwrap());
        }
        texts
    };
    assert_eq!(
        mine.iter().filter(|t| t.contains("nona")).count(),
        1,
        "{mine:?}"
    );
    assert!(
        mine.iter().all(|t| !t.contains("numero 8la nona")),
        "{mine:?}"
    );
    chat.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_italian_console_says_login_errors_in_italian() {
    let server = Server::start(&[("anna", "assistenza")]);
    let chromium = Chromium::start().await;
    let console = chromium.window(1100, 800, "it-IT").await;
    console.goto(&server.url("/console")).await.unwrap();
    let attempt = |password: &'static str| {
        let console = console.clone();
        async move {
            type_into(&console, "#login-name", "anna").await;
            type_into(&console, "#login-password", password).await;
            click(&console, "#login-submit").await;
        }
    };
    attempt("non è questa").await;
    let shown = wait_for_text(&console, "#login-error", "Nome o password errati").await;
    assert!(!shown.contains("wrong"), "{shown}");
    for _ in 0..5 {
        attempt("non è questa").await;
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    let shown = wait_for_text(&console, "#login-error", "Troppi accessi non riusciti").await;
    assert!(!shown.contains("try again"), "{shown}");
    console.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_italian_console_says_who_took_the_ticket_in_italian() {
    use crate::support::http::request;
    let server = Server::start(&[("anna", "assistenza"), ("bruno", "assistenza")]);
    let chromium = Chromium::start().await;
    let bruno = chromium.window(1100, 800, "it-IT").await;
    let addr = server.addr();
    let visitor = request(&addr, "POST", "/api/v1/chat/start", &[], None).json()["visitor"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = serde_json::json!({"id": "h1", "text": "voglio parlare con un operatore"});
    let headers = [("X-Sportello-Visitor", visitor.as_str())];
    let r = request(
        &addr,
        "POST",
        "/api/v1/chat/messages",
        &headers,
        Some(&body.to_string()),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    log_in(&bruno, &server, "bruno").await;
    click(&bruno, ".ticket[data-id='1']").await;
    wait_for(&bruno, "#claim").await;
    // Anna takes it first, from her script.
    let (cookie, csrf) = crate::support::http::api_login(&addr, "anna");
    let auth = [("Cookie", cookie.as_str()), ("X-CSRF-Token", csrf.as_str())];
    let r = request(&addr, "POST", "/api/v1/tickets/1/claim", &auth, None);
    assert_eq!(r.status, 200, "{}", r.body);
    // Bruno's press comes second: he is told, in Italian, who has it.
    let press = "document.querySelector('#claim').click()";
    bruno.execute(press, vec![]).await.unwrap();
    let said = wait_for_text(&bruno, "#action-error", "già stato preso da anna").await;
    assert!(!said.contains("taken"), "{said}");
    bruno.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_italian_setup_page_says_the_password_rule_in_italian() {
    let server = Server::start(&[]);
    // The link comes right after "serving on", which is what `Server` waits for.
    let start = std::time::Instant::now();
    let token = loop {
        let log = server.stderr.lock().unwrap().clone();
        if let Some(at) = log.find("console?setup=").map(|i| i + 14)
            && log.len() >= at + 64
        {
            break log[at..at + 64].to_owned();
        }
        assert!(
            start.elapsed() < PATIENCE,
            "serve prints the setup link: {log}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let chromium = Chromium::start().await;
    let page = chromium.window(1100, 800, "it-IT").await;
    page.goto(&server.url(&format!("/console?setup={token}")))
        .await
        .unwrap();
    type_into(&page, "#setup-name", "anna").await;
    type_into(&page, "#setup-password", "corta").await;
    click(&page, "#setup-departments input").await;
    click(&page, "#setup-submit").await;
    let said = wait_for_text(&page, "#setup-error", "password è troppo corta").await;
    assert!(said.contains('8'), "{said}");
    page.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_shows_a_tickets_order_card_when_asked() {
    use crate::support::orders::{FakeShop, WOO_KEY, WOO_SECRET};
    let shop = FakeShop::start();
    let config = format!(
        "[orders]\nprovider = \"woocommerce\"\nurl = \"{}\"\n",
        shop.url
    );
    let keys = [
        ("SPORTELLO_ORDERS_KEY", WOO_KEY),
        ("SPORTELLO_ORDERS_SECRET", WOO_SECRET),
    ];
    let server = Server::start_with(&[("anna", "assistenza")], Some(&config), &keys);
    let chromium = Chromium::start().await;
    let chat = chromium.window(420, 760, "it-IT").await;
    let console = chromium.window(1280, 860, "it-IT").await;
    chat.goto(&server.url("/")).await.unwrap();
    customer_says(&chat, "Voglio parlare con un operatore per l'ordine 552211").await;
    wait_for_text(&chat, "#status", "coda").await;
    log_in(&console, &server, "anna").await;
    click(&console, ".ticket[data-id='1']").await;
    assert!(shop.with(|s| s.calls.is_empty()), "fetched only when asked");
    click(&console, "#order-show").await;
    let card = wait_for_text(&console, "#order-card", "Lampada da tavolo Arco").await;
    assert!(card.contains("spedito"), "{card}");
    assert!(card.contains("0611223344"), "{card}");
    assert!(card.contains("79.80 EUR"), "{card}");
    // The customer only wrote the number: the card says so before the operator talks.
    assert!(
        card.contains("Non verificato: il cliente ha solo scritto il numero"),
        "{card}"
    );
    let link = console
        .find(Locator::Css("#order-card a"))
        .await
        .unwrap()
        .attr("href")
        .await
        .unwrap();
    assert_eq!(
        link.as_deref(),
        Some("https://vas.brt.it/vas/sped_det_show.hsm?Nspediz=0611223344")
    );
    chat.close().await.unwrap();
    console.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_searches_switches_views_and_shows_content_errors() {
    let server = Server::with_broken_faq();
    let chromium = Chromium::start().await;
    let chat = chromium.window(420, 760, "it-IT").await;
    let console = chromium.window(1280, 860, "it-IT").await;
    chat.goto(&server.url("/")).await.unwrap();
    customer_says(
        &chat,
        "Voglio parlare con un operatore per il reso della lampada",
    )
    .await;
    wait_for_text(&chat, "#status", "coda").await;
    let second = chromium.window(420, 760, "it-IT").await;
    second.goto(&server.url("/")).await.unwrap();
    customer_says(
        &second,
        "Voglio parlare con una persona per la fattura aziendale",
    )
    .await;
    wait_for_text(&second, "#status", "coda").await;

    log_in(&console, &server, "anna").await;
    let banner = wait_for_text(&console, "#content-banner", "rotto.md").await;
    assert!(banner.contains("1 file"), "{banner}");
    // The invoice question went to another department: show them all.
    let filter = wait_for(&console, "#department-filter").await;
    filter.select_by_value("all").await.unwrap();
    wait_for(&console, ".ticket[data-id='2']").await;
    type_into(&console, "#ticket-search", "fattura").await;
    until("only the matching ticket", vec!["2".to_owned()], || {
        ticket_ids(&console)
    })
    .await;
    // An empty search (a space typed: clearing alone fires no input event).
    type_into(&console, "#ticket-search", " ").await;
    click(&console, ".ticket[data-id='1']").await;
    click(&console, "#claim").await;
    click(&console, "#views button[data-view='mine']").await;
    until("my view", vec!["1".to_owned()], || ticket_ids(&console)).await;
    chat.close().await.unwrap();
    second.close().await.unwrap();
    console.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_side_sees_the_other_typing() {
    let server = Server::start(&[("anna", "assistenza")]);
    let chromium = Chromium::start().await;
    let chat = chromium.window(420, 760, "it-IT").await;
    let console = chromium.window(1280, 860, "it-IT").await;
    chat.goto(&server.url("/")).await.unwrap();
    customer_says(&chat, "Voglio parlare con un operatore").await;
    wait_for_text(&chat, "#status", "coda").await;
    log_in(&console, &server, "anna").await;
    click(&console, ".ticket[data-id='1']").await;
    click(&console, "#claim").await;
    wait_for_text(&console, "#transcript .line.customer .text", "operatore").await;
    let field = wait_for(&chat, "#input").await;
    // The chat says "typing" at most every 3 s: its last hint went with the question.
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    field.send_keys("il mio ordine").await.unwrap();
    wait_for_text(&console, "#typing", "Il cliente sta scrivendo").await;
    let reply = wait_for(&console, "#reply-text").await;
    reply.send_keys("Ciao, controllo").await.unwrap();
    wait_for_text(&chat, "#typing", "L’operatore sta scrivendo").await;
    chat.close().await.unwrap();
    console.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_sent_in_the_chat_opens_from_the_console() {
    let server = Server::start(&[("anna", "assistenza")]);
    let chromium = Chromium::start().await;
    let chat = chromium.window(420, 760, "it-IT").await;
    let console = chromium.window(1280, 860, "it-IT").await;
    chat.goto(&server.url("/")).await.unwrap();
    customer_says(&chat, "Voglio parlare con un operatore").await;
    wait_for_text(&chat, "#status", "coda").await;
    let dir = tempfile::tempdir().unwrap();
    let photo = dir.path().join("lampada.gif");
    std::fs::write(&photo, b"GIF89a\x01\x00\x01\x00\x00\x00\x00;").unwrap();
    let input = wait_for(&chat, "#attach").await;
    input.send_keys(photo.to_str().unwrap()).await.unwrap();
    wait_for_text(&chat, ".msg.customer .text", "lampada.gif").await;

    log_in(&console, &server, "anna").await;
    click(&console, ".ticket[data-id='1']").await;
    // (Read through the page: the transcript is redrawn as events arrive.)
    wait_for_text(&console, "#transcript a.attachment-link", "Apri").await;
    let href = console
        .execute(
            "return document.querySelector('#transcript a.attachment-link').getAttribute('href')",
            vec![],
        )
        .await
        .unwrap();
    let href = href.as_str().unwrap().to_owned();
    assert!(href.starts_with("/api/v1/attachments/"), "{href}");
    let fetched = console
        .execute(
            "return fetch(arguments[0]).then(r => r.status + ' ' + r.headers.get('content-type'))",
            vec![serde_json::json!(href)],
        )
        .await
        .unwrap();
    assert_eq!(fetched, serde_json::json!("200 image/gif"));
    chat.close().await.unwrap();
    console.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_ticket_alerts_with_a_notification_and_a_badge_on_the_tab() {
    let server = Server::start(&[("anna", "assistenza")]);
    let chromium = Chromium::start().await;
    let console = chromium.window(1280, 860, "it-IT").await;
    log_in(&console, &server, "anna").await;
    // Notifications as granted, recorded by the page (headless Chromium shows none).
    console
        .execute(
            "window.__shown = []; \
             window.Notification = function (title, options) { window.__shown.push(options.body); }; \
             window.Notification.permission = 'granted';",
            vec![],
        )
        .await
        .unwrap();
    let chat = chromium.window(420, 760, "it-IT").await;
    chat.goto(&server.url("/")).await.unwrap();
    customer_says(&chat, "Voglio parlare con un operatore").await;
    wait_for(&console, ".ticket[data-id='1']").await;
    until_js(
        &console,
        "the alert",
        "return window.__shown",
        serde_json::json!(["Nuova richiesta #1"]),
    )
    .await;
    let badge = console
        .execute(
            "return document.querySelector('link[rel=\"icon\"]').getAttribute('data-unread')",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(badge, serde_json::json!("1"));
    assert!(console.title().await.unwrap().starts_with('●'));
    chat.close().await.unwrap();
    console.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyboard_claim_and_a_confirmed_close_with_its_faq_open_the_next_ticket() {
    let server = Server::start(&[("anna", "assistenza")]);
    let chromium = Chromium::start().await;
    let first = chromium.window(420, 760, "it-IT").await;
    first.goto(&server.url("/")).await.unwrap();
    customer_says(&first, "ma la spedizione in sardegna quanto viene?").await;
    wait_for(&first, ".msg.bot").await;
    customer_says(&first, "Voglio parlare con un operatore").await;
    wait_for_text(&first, "#status", "coda").await;
    let second = chromium.window(420, 760, "it-IT").await;
    second.goto(&server.url("/")).await.unwrap();
    customer_says(&second, "Voglio parlare con una persona").await;
    wait_for_text(&second, "#status", "coda").await;

    let console = chromium.window(1280, 860, "it-IT").await;
    log_in(&console, &server, "anna").await;
    wait_for(&console, ".ticket[data-id='2']").await;
    let body = console.find(Locator::Css("body")).await.unwrap();
    // An operator's "next, claim" in one breath: the claim waits for the ticket that
    // is still loading (it was dropped, a flaky test showed, when typed that fast).
    body.send_keys("jc").await.unwrap();
    wait_for(&console, ".ticket.selected[data-id='1']").await;
    wait_for_text(&console, ".ticket[data-id='1'] .holder", "a te").await;
    body.send_keys("?").await.unwrap();
    wait_for_text(&console, "#shortcuts", "prendi in carico").await;
    body.send_keys("x").await.unwrap();
    let picker = wait_for(&console, "#close-faq").await;
    until("the FAQ picker", true, || async {
        Ok(console
            .find_all(Locator::Css("#close-faq option"))
            .await?
            .len()
            > 10)
    })
    .await;
    picker.select_by_value("costi-di-spedizione").await.unwrap();
    click(&console, "#close-confirm").await;
    // Nobody wrote to this customer: they get the FAQ's answer the operator named, with
    // the news that the request is closed (not of a conversation with an operator).
    let said = wait_for_text(
        &first,
        ".msg.bot .text",
        "Ecco la risposta del nostro staff",
    )
    .await;
    assert!(said.contains("La tua richiesta è chiusa"), "{said}");
    // The next request opens by itself.
    wait_for(&console, ".ticket.selected[data-id='2']").await;
    first.close().await.unwrap();
    second.close().await.unwrap();
    console.close().await.unwrap();
    // The close said which FAQ answered: the customer's wording is offered to it.
    let data = server.stop();
    let suggested = crate::support::sportello(&data.data(), &["faq", "suggest"], "");
    let text = String::from_utf8_lossy(&suggested.stdout);
    assert!(
        text.contains("costi-di-spedizione") && text.contains("sardegna"),
        "{text}"
    );
}

/// A shop's page on another origin with the widget's tag.
fn shop_page(server: &Server) -> String {
    let html = format!(
        "<!doctype html><html lang=\"it\"><head><title>Negozio</title>\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"></head><body>\
         <h1>Lume &amp; Casa</h1>\
         <script src=\"{}\" data-color=\"#aa0000\" data-position=\"left\" \
         data-greeting=\"Ciao! Sono l'assistente di Lume &amp; Casa.\" async></script>\
         </body></html>",
        server.url("/widget.js")
    );
    let router = axum::Router::new().route(
        "/",
        axum::routing::get(move || {
            let html = html.clone();
            async move { axum::response::Html(html) }
        }),
    );
    format!("http://{}/", crate::support::serve_in_background(router))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_widget_takes_the_focus_closes_on_escape_and_counts_unread_answers() {
    let server = Server::start(&[("anna", "assistenza")]);
    let page = shop_page(&server);
    let chromium = Chromium::start().await;
    let shop = chromium.window(1280, 860, "it-IT").await;
    shop.goto(&page).await.unwrap();
    let button = wait_for(&shop, "#sportello-widget-button").await;
    let look = shop
        .execute(
            "const b = document.getElementById('sportello-widget-button'); \
             return getComputedStyle(b).backgroundColor + ' ' + b.style.left",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        look,
        serde_json::json!("rgb(170, 0, 0) 20px"),
        "colour and side from the tag"
    );
    button.click().await.unwrap();
    wait_for(&shop, "#sportello-widget-frame").await;
    until_js(
        &shop,
        "focus in the chat",
        "return document.activeElement.id",
        serde_json::json!("sportello-widget-frame"),
    )
    .await;
    shop.enter_frame(0).await.unwrap();
    wait_for_text(&shop, ".welcome", "assistente di Lume & Casa").await;
    customer_says(&shop, "Voglio parlare con un operatore").await;
    wait_for_text(&shop, "#status", "coda").await;
    let input = wait_for(&shop, "#input").await;
    input.send_keys("\u{e00c}").await.unwrap(); // Escape, inside the chat
    shop.enter_parent_frame().await.unwrap();
    until_js(
        &shop,
        "closed, focus back on the button",
        "return document.getElementById('sportello-widget-frame').style.display + ' ' + document.activeElement.id",
        serde_json::json!("none sportello-widget-button"),
    )
    .await;
    // An operator answers while the panel is closed: a badge on the button.
    let addr = server.addr();
    let anna = crate::support::http::api_login(&addr, "anna");
    let post = |path: &str, body: Option<&str>| {
        let headers = [
            ("Cookie", anna.0.as_str()),
            ("X-CSRF-Token", anna.1.as_str()),
        ];
        crate::support::http::request(&addr, "POST", path, &headers, body)
    };
    assert_eq!(post("/api/v1/tickets/1/claim", None).status, 200);
    let reply = serde_json::json!({"text": "Ciao, sono Anna."}).to_string();
    assert_eq!(post("/api/v1/tickets/1/reply", Some(&reply)).status, 200);
    until_js(
        &shop,
        "the unread badge",
        "return document.querySelector('[data-sportello-unread]').getAttribute('data-sportello-unread')",
        serde_json::json!("1"),
    )
    .await;
    shop.close().await.unwrap();
    // On a phone the chat fills the screen.
    let phone = chromium.phone(390, 800, "it-IT").await;
    phone.goto(&page).await.unwrap();
    wait_for(&phone, "#sportello-widget-button")
        .await
        .click()
        .await
        .unwrap();
    wait_for(&phone, "#sportello-widget-frame").await;
    let fills = phone
        .execute(
            "const f = document.getElementById('sportello-widget-frame').getBoundingClientRect(); \
             return f.width === window.innerWidth && f.top === 0",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(fills, serde_json::json!(true));
    phone.close().await.unwrap();
    // The frame's address opened as a page of its own (a link anyone can write, on
    // the shop's domain): the chat's own welcome, not the link's words.
    let spoof = chromium.window(1280, 860, "it-IT").await;
    let lure = "Per sicurezza scrivi qui il numero della carta";
    let url = format!("/?embed=1&greeting={}", lure.replace(' ', "%20"));
    spoof.goto(&server.url(&url)).await.unwrap();
    let welcome = wait_for_text(&spoof, ".welcome", "Ciao").await;
    assert!(!welcome.contains("carta"), "{welcome}");
    spoof.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_runs_operators_and_tokens_from_the_console() {
    let server = Server::start(&[("anna", "assistenza")]);
    let chromium = Chromium::start().await;
    let console = chromium.window(1280, 860, "it-IT").await;
    log_in(&console, &server, "anna").await;
    click(&console, "#admin-open").await;
    wait_for_text(&console, "#admin-operators", "anna · admin").await;
    type_into(&console, "#admin-name", "bruno").await;
    type_into(&console, "#admin-password", PASSWORD).await;
    click(&console, "#admin-add button[type='submit']").await;
    wait_for(&console, ".admin-operator[data-name='bruno']").await;
    // Departments and hours as configured (none: open around the clock).
    let row = wait_for_text(
        &console,
        ".hours-row[data-department='assistenza']",
        "lun–dom 00:00-24:00",
    )
    .await;
    assert!(row.contains("aperto"), "{row}");
    assert!(row.contains("anna"), "{row}");
    // Bruno was added to the first department of the list.
    wait_for_text(
        &console,
        ".hours-row[data-department='amministrazione']",
        "bruno",
    )
    .await;
    // Bruno also takes logistica, and becomes an admin.
    click(&console, ".admin-operator[data-name='bruno'] .admin-edit").await;
    wait_for(&console, ".admin-access").await;
    console
        .find(Locator::Css(".admin-access-role"))
        .await
        .unwrap()
        .select_by_value("admin")
        .await
        .unwrap();
    click(&console, ".admin-access input[value='logistica']").await;
    click(&console, ".admin-access-save").await;
    wait_for_text(
        &console,
        "#admin-token-shown",
        "Accesso di bruno aggiornato",
    )
    .await;
    wait_for_text(
        &console,
        ".admin-operator[data-name='bruno']",
        "bruno · admin · amministrazione, logistica",
    )
    .await;
    wait_for_text(&console, ".hours-row[data-department='logistica']", "bruno").await;
    console
        .execute(
            "document.getElementById('admin-hours').scrollIntoView();",
            vec![],
        )
        .await
        .unwrap();
    screenshot(&console, "admin").await;
    // A new password for bruno (asked in a prompt).
    click(&console, ".admin-operator[data-name='bruno'] .admin-reset").await;
    retry("the prompt", || async {
        console.send_alert_text("una nuova password lunga").await
    })
    .await;
    console.accept_alert().await.unwrap();
    wait_for_text(&console, "#admin-token-shown", "Password di bruno cambiata").await;
    let login =
        serde_json::json!({"name": "bruno", "password": "una nuova password lunga"}).to_string();
    let addr = server.addr();
    let r = crate::support::http::request(&addr, "POST", "/api/v1/login", &[], Some(&login));
    assert_eq!(r.status, 200, "{}", r.body);
    // A token, shown once, listed, revoked.
    type_into(&console, "#admin-token-label", "report notturno").await;
    click(&console, "#admin-token-form button[type='submit']").await;
    let shown = wait_for_text(&console, "#admin-token-shown", "mostrato solo ora").await;
    let token = shown.rsplit(' ').next().unwrap().to_owned();
    let bearer = format!("Bearer {token}");
    let me = crate::support::http::request(
        &addr,
        "GET",
        "/api/v1/me",
        &[("Authorization", bearer.as_str())],
        None,
    );
    assert_eq!(me.status, 200);
    wait_for_text(&console, "#admin-tokens", "report notturno").await;
    click(&console, ".admin-token .admin-revoke").await;
    until_count(&console, ".admin-token", 0).await;
    let me = crate::support::http::request(
        &addr,
        "GET",
        "/api/v1/me",
        &[("Authorization", bearer.as_str())],
        None,
    );
    assert_eq!(me.status, 401, "revoked at once");
    // Ready replies, edited here and kept in the store.
    wait_for(&console, "#admin-canned-list .canned-row").await;
    let before = count(&console, "#admin-canned-list .canned-row").await;
    click(&console, "#admin-canned-add").await;
    let rows = console
        .find_all(Locator::Css("#admin-canned-list .canned-row"))
        .await
        .unwrap();
    assert_eq!(rows.len(), before + 1);
    let last = rows.last().unwrap();
    last.find(Locator::Css(".canned-title"))
        .await
        .unwrap()
        .send_keys("Spedito oggi")
        .await
        .unwrap();
    last.find(Locator::Css(".canned-lang"))
        .await
        .unwrap()
        .select_by_value("it")
        .await
        .unwrap();
    last.find(Locator::Css(".canned-text"))
        .await
        .unwrap()
        .send_keys("Ciao {name}, il pacco parte oggi.")
        .await
        .unwrap();
    click(&console, "#admin-canned-save").await;
    wait_for_text(&console, "#admin-token-shown", "Risposte pronte salvate").await;
    let (cookie, _) = crate::support::http::api_login(&addr, "anna");
    let saved = crate::support::http::request(
        &addr,
        "GET",
        "/api/v1/canned",
        &[("Cookie", cookie.as_str())],
        None,
    )
    .json();
    let saved = saved.as_array().unwrap();
    assert_eq!(saved.len(), before + 1);
    assert_eq!(saved[before]["title"], "Spedito oggi");
    assert_eq!(saved[before]["lang"], "it");
    // Bruno goes.
    click(&console, ".admin-operator[data-name='bruno'] .admin-remove").await;
    until_count(&console, ".admin-operator[data-name='bruno']", 0).await;
    console.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_customer_leaves_an_address_and_the_header_says_people_are_in() {
    use crate::support::mail::{Dovecot, Smtp, env};
    let (imap, smtp) = (Dovecot::start(), Smtp::start());
    let vars = env(&imap, &smtp);
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = Server::start_with(&[], None, &vars);
    let chromium = Chromium::start().await;
    let chat = chromium.window(420, 760, "it-IT").await;
    chat.goto(&server.url("/")).await.unwrap();
    wait_for_text(&chat, "#subtitle", "le persone sono in linea ora").await;
    let follow = chat.find(Locator::Css("#follow")).await.unwrap();
    assert!(
        !follow.is_displayed().await.unwrap(),
        "no field before a handoff"
    );
    customer_says(&chat, "Voglio parlare con un operatore").await;
    wait_for_text(&chat, "#follow", "ti mandiamo la risposta per email").await;
    type_into(&chat, "#follow-email", "non-un-indirizzo").await;
    click(&chat, "#follow-form button").await;
    // The browser's own check (type=email) or the server's: nothing saved.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let saved = chat.find(Locator::Css("#follow-saved")).await.unwrap();
    assert!(!saved.is_displayed().await.unwrap());
    type_into(&chat, "#follow-email", "Giulia@Example.it").await;
    click(&chat, "#follow-form button").await;
    wait_for_text(&chat, "#follow-saved", "ti scriviamo a giulia@example.it").await;
    // A reload remembers it.
    chat.refresh().await.unwrap();
    wait_for_text(&chat, "#follow-saved", "giulia@example.it").await;
    chat.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_says_when_a_customers_address_refuses_the_replies() {
    use crate::support::mail::{Dovecot, Smtp, env};
    let (imap, smtp) = (Dovecot::start(), Smtp::start());
    std::fs::write(smtp.dir().join("refuse"), "sparito@example.it\n").unwrap();
    let vars = env(&imap, &smtp);
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = Server::start_with(&[("anna", "assistenza")], None, &vars);
    // (IMAP APPEND from its own thread: the test's runtime is not the client's.)
    std::thread::scope(|s| {
        s.spawn(|| {
            imap.deliver(
                "From: sparito@example.it\nTo: shop@negozio.test\nSubject: Reso\nMessage-ID: <u1@example.it>\n\nVoglio parlare con un operatore\n",
            )
        });
    });
    let chromium = Chromium::start().await;
    let console = chromium.window(1280, 860, "it-IT").await;
    log_in(&console, &server, "anna").await;
    click(&console, ".ticket[data-id='1']").await;
    // The handoff's reply is refused (550): the ticket says so, once it happened.
    let start = std::time::Instant::now();
    loop {
        // The view re-renders on live events: a notice found just before that is stale
        // by the time its text is read, and is looked for again.
        if let Ok(notice) = console.find(Locator::Css("#unreachable")).await
            && let Ok(text) = notice.text().await
        {
            assert!(text.contains("non è raggiungibile"), "{text}");
            assert!(text.contains("550"), "{text}");
            break;
        }
        assert!(start.elapsed() < PATIENCE, "no notice");
        // The ticket view refreshes on live events; a new click reloads it too.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        click(&console, ".ticket[data-id='1']").await;
    }
    console.close().await.unwrap();
}
