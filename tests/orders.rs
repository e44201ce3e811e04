//! "Where is my order?" through the real binary (`sportello replay`, and `serve` for
//! the console's order card) against fake WooCommerce, Shopify, PrestaShop and "http"
//! platforms with their real response shapes.

use crate::support::browser::PASSWORD;
use crate::support::http::{api_login, request};
use crate::support::orders::{
    FakeShop, HTTP_TOKEN, Mode, PRESTA_KEY, SHOPIFY_TOKEN, WOO_KEY, WOO_SECRET,
};
use crate::support::{Place, sportello};
use serde_json::{Value, json};
use std::process::{Command, Stdio};
use std::time::Duration;

/// `sportello replay` of `messages` (customer, text), one a minute from 10:00, in a
/// fresh store with `[orders]` pointed at `shop`; what the customers were told, in
/// order: (customer, kind, text). The store's directory is returned too.
fn replay(
    shop: &FakeShop,
    provider: &str,
    env: &[(&str, &str)],
    messages: &[(&str, &str)],
) -> (Vec<(String, String, String)>, Place) {
    let place = Place::new();
    let config = place.files().join("sportello.toml");
    std::fs::write(
        &config,
        format!(
            "[orders]\nprovider = \"{provider}\"\nurl = \"{}\"\ntimeout = \"1s\"\n",
            shop.url
        ),
    )
    .unwrap();
    let script: String = messages
        .iter()
        .enumerate()
        .map(|(n, (customer, text))| {
            let at = format!("2026-12-01T10:{n:02}:00Z");
            json!({"at": at, "customer": customer, "text": text}).to_string() + "\n"
        })
        .collect();
    let file = place.files().join("script.jsonl");
    std::fs::write(&file, script).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_sportello"));
    command
        .current_dir(crate::support::repo())
        .arg("--data")
        .arg(place.data())
        .arg("--config")
        .arg(&config)
        .args(["replay", file.to_str().unwrap()])
        .env_remove("SPORTELLO_ORDERS_KEY")
        .env_remove("SPORTELLO_ORDERS_SECRET")
        .env_remove("SPORTELLO_ORDERS_TOKEN")
        .stdin(Stdio::null());
    for (k, v) in env {
        command.env(k, v);
    }
    let out = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "replay failed: {stderr}");
    let said = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
            (s("customer"), s("kind"), s("text"))
        })
        .collect();
    (said, place)
}

fn texts(said: &[(String, String, String)]) -> Vec<&str> {
    said.iter().map(|(_, _, t)| t.as_str()).collect()
}

const WOO: [(&str, &str); 2] = [
    ("SPORTELLO_ORDERS_KEY", WOO_KEY),
    ("SPORTELLO_ORDERS_SECRET", WOO_SECRET),
];

#[test]
fn woocommerce_the_status_comes_only_after_the_email_on_the_order() {
    let shop = FakeShop::start();
    let c = "telegram:801";
    let (said, place) = replay(
        &shop,
        "woocommerce",
        &WOO,
        &[
            (c, "ciao, dov'è il mio ordine?"),
            (c, "è il 552211"),
            (c, "Giulia.Rossi@example.it"),
        ],
    );
    let t = texts(&said);
    assert!(t[0].contains("qual è il numero"), "{t:?}");
    assert!(t[1].contains("email") && t[1].contains("552211"), "{t:?}");
    assert_eq!(
        t[2],
        "L'ordine 552211 è stato spedito il 25/11/2026 con BRT. Puoi seguirlo qui: https://vas.brt.it/vas/sped_det_show.hsm?Nspediz=0611223344"
    );
    // The report counts the lookup as answered without a person.
    assert_eq!(
        order_counts(&place.data()),
        json!({"answered": 1, "looked_up": 1})
    );
    assert_eq!(shop.with(|s| s.calls.clone()), ["woocommerce 552211"]);
}

#[test]
fn a_wrong_email_and_an_unknown_number_get_the_same_words_and_three_tries_reach_a_person() {
    let shop = FakeShop::start();
    let c = "telegram:802";
    let (said, place) = replay(
        &shop,
        "woocommerce",
        &WOO,
        &[
            (c, "dov'è il mio ordine 552211?"),
            (c, "intruso@example.com"),
            (c, "ordine 999999"),
            (c, "giulia.rossi@example.it"),
            (c, "552211"),
            (c, "20100"),
        ],
    );
    let t = texts(&said);
    assert!(
        t[0].contains("email") && t[0].contains("552211"),
        "the number was in the question: {t:?}"
    );
    let wrong_email = t[1];
    assert!(
        !wrong_email.contains("Giulia") && !wrong_email.contains("spedito"),
        "{t:?}"
    );
    assert!(
        t[2].contains("email"),
        "asks the proof for the new number: {t:?}"
    );
    assert_eq!(t[3], wrong_email, "an unknown number: the very same words");
    assert!(t[4].contains("CAP") || t[4].contains("email"), "{t:?}");
    let last = &said[5];
    assert_eq!(
        last.1, "handoff",
        "third miss: a person takes over: {said:?}"
    );
    assert!(
        last.2.starts_with("Non riesco a verificare l'ordine"),
        "{}",
        last.2
    );
    assert!(
        !said.iter().any(|(_, _, t)| t.contains("spedito")),
        "nothing revealed"
    );
    // The person who takes over sees the number last given (999999 came between).
    let listed = crate::support::sportello_ok(&place.data(), &["queue", "list", "--json"]);
    let queue: Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(queue[0]["order_number"], "552211", "{queue}");
}

#[test]
fn shopify_prestashop_and_http_orders_are_read_from_their_own_shapes() {
    let shop = FakeShop::start();
    // (provider, its secret, the customer's two messages, what they hear last)
    let cases = [
        (
            "shopify",
            ("SPORTELLO_ORDERS_TOKEN", SHOPIFY_TOKEN),
            ["where is my order #1001?", "sw1a 1aa"],
            "Order 1001 has been delivered.",
        ),
        (
            "prestashop",
            ("SPORTELLO_ORDERS_KEY", PRESTA_KEY),
            ["stato ordine 1245", "marco.bianchi@example.it"],
            "L'ordine 1245 è stato spedito con BRT. Puoi seguirlo qui: https://vas.brt.it/vas/sped_det_show.hsm?Nspediz=0611998877",
        ),
        (
            "http",
            ("SPORTELLO_ORDERS_TOKEN", HTTP_TOKEN),
            ["a che punto è il mio ordine n. 7788", "00184"],
            "L'ordine 7788 è in preparazione: ti avvisiamo appena parte.",
        ),
    ];
    for (provider, secret, [asked, proof], expected) in cases {
        let customer = format!("web:{provider}");
        let messages = [(customer.as_str(), asked), (customer.as_str(), proof)];
        let (said, _dir) = replay(&shop, provider, &[secret], &messages);
        assert_eq!(texts(&said)[1], expected, "{provider}");
    }
}

#[test]
fn a_platform_down_slow_or_refusing_the_keys_is_said_plainly_with_a_person_offered() {
    let shop = FakeShop::start();
    let ask = [
        ("telegram:803", "dov'è il mio ordine 552211?"),
        ("telegram:803", "giulia.rossi@example.it"),
    ];
    let cant =
        "In questo momento non riesco a controllare gli ordini. Vuoi parlare con una persona?";
    shop.with(|s| s.mode = Mode::Down);
    let (said, _d) = replay(&shop, "woocommerce", &WOO, &ask);
    assert_eq!((said[1].1.as_str(), said[1].2.as_str()), ("clarify", cant));
    shop.with(|s| s.mode = Mode::Slow(Duration::from_secs(3)));
    let (said, _d) = replay(&shop, "woocommerce", &WOO, &ask);
    assert_eq!(said[1].2, cant, "a lookup past the 1 s timeout");
    shop.with(|s| s.mode = Mode::Normal);
    let wrong = [
        ("SPORTELLO_ORDERS_KEY", WOO_KEY),
        ("SPORTELLO_ORDERS_SECRET", "cs_wrong"),
    ];
    let (said, _d) = replay(&shop, "woocommerce", &wrong, &ask);
    assert_eq!(said[1].2, cant, "refused keys: never a guess");
    // The person offered is one tap away.
    let mut picked = ask.to_vec();
    picked.push(("telegram:803", "1"));
    shop.with(|s| s.mode = Mode::Down);
    let (said, _d) = replay(&shop, "woocommerce", &WOO, &picked);
    assert_eq!(said[2].1, "handoff", "{said:?}");
}

#[test]
fn without_a_platform_the_faq_answers_and_a_missing_secret_is_a_clear_error() {
    let shop = FakeShop::start();
    let place = Place::new();
    let plain = place.data();
    let out = sportello(&plain, &["ask", "dov'è il mio ordine?", "--json"], "");
    let asked: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(asked["decision"]["decision"], "answer", "{asked:#}");
    let config = place.files().join("orders.toml");
    std::fs::write(
        &config,
        format!(
            "[orders]\nprovider = \"woocommerce\"\nurl = \"{}\"\n",
            shop.url
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sportello"))
        .current_dir(crate::support::repo())
        .args([
            "--data",
            plain.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
        ])
        .args(["chat", "--customer", "terminal:x"])
        .env_remove("SPORTELLO_ORDERS_KEY")
        .env_remove("SPORTELLO_ORDERS_SECRET")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("SPORTELLO_ORDERS_KEY") && stderr.contains("REST API"),
        "{stderr}"
    );
}

#[test]
fn the_console_shows_the_order_card_of_a_ticket_on_demand() {
    let shop = FakeShop::start();
    let place = Place::new();
    let (data, files) = (place.data(), place.files().join("serve"));
    let out = sportello(
        &data,
        &["operator", "add", "anna", "--department", "assistenza"],
        &format!("{PASSWORD}\n"),
    );
    assert!(out.status.success(), "{out:?}");
    let config = place.files().join("sportello.toml");
    std::fs::write(
        &config,
        format!(
            "[orders]\nprovider = \"woocommerce\"\nurl = \"{}\"\n",
            shop.url
        ),
    )
    .unwrap();
    let addr = crate::support::whatsapp::free_addr();
    let mut serve = Command::new(env!("CARGO_BIN_EXE_sportello"))
        .current_dir(crate::support::repo())
        .args([
            "--data",
            data.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
            "serve",
        ])
        .env("SPORTELLO_HTTP_ADDR", &addr)
        .env_remove("SPORTELLO_TELEGRAM_TOKEN")
        .env_remove("SPORTELLO_WHATSAPP_TOKEN")
        .env("SPORTELLO_ORDERS_KEY", WOO_KEY)
        .env("SPORTELLO_ORDERS_SECRET", WOO_SECRET)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    crate::support::whatsapp::wait_up(&mut serve, &addr, &files);
    // Customers on the web chat, each ending with a person.
    let customer = |lines: &[&str]| {
        let start = request(&addr, "POST", "/api/v1/chat/start", &[], None).json();
        let visitor = start["visitor"].as_str().unwrap().to_owned();
        let chat = [("X-Sportello-Visitor", visitor.as_str())];
        for (n, text) in lines.iter().enumerate() {
            let body = json!({"id": format!("m{n}"), "text": text, "locale": "it-IT"});
            let body = body.to_string();
            let sent = request(&addr, "POST", "/api/v1/chat/messages", &chat, Some(&body));
            assert_eq!(sent.status, 200, "{}", sent.body);
        }
    };
    // 1: names the order and asks for a person.
    customer(&["voglio parlare con un operatore per l'ordine 552211"]);
    // 2: proves it with the email on the order, then asks for a person.
    customer(&[
        "dov'è il mio ordine 552211?",
        "giulia.rossi@example.it",
        "voglio parlare con un operatore",
    ]);
    // 3: three wrong proofs, and the bot hands over.
    customer(&[
        "dov'è il mio ordine 552211?",
        "intruso@example.com",
        "552211",
        "altro@example.com",
        "552211",
        "20100",
    ]);
    let (cookie, csrf) = api_login(&addr, "anna");
    let auth = [("Cookie", cookie.as_str()), ("X-CSRF-Token", csrf.as_str())];
    let card = request(&addr, "GET", "/api/v1/tickets/1/order", &auth, None);
    assert_eq!(card.status, 200, "{}", card.body);
    let order = &card.json()["order"];
    assert_eq!(order["status"], "shipped");
    assert_eq!(order["items"][0]["name"], "Lampada da tavolo Arco");
    assert_eq!(order["shipment"]["tracking_number"], "0611223344");
    // Whether the customer proved the order theirs: the operator asks before
    // discussing it with someone who only wrote its number.
    for (ticket, verification) in [(1, "named"), (2, "proven"), (3, "failed")] {
        let path = format!("/api/v1/tickets/{ticket}/order");
        let card = request(&addr, "GET", &path, &auth, None).json();
        assert_eq!(
            card["verification"], verification,
            "ticket {ticket}: {card}"
        );
        assert_eq!(card["order"]["number"], "552211", "ticket {ticket}: {card}");
    }
    let anonymous = request(&addr, "GET", "/api/v1/tickets/1/order", &[], None);
    assert_eq!(anonymous.status, 401, "operators only");
    shop.with(|s| s.mode = Mode::Down);
    let down = request(&addr, "GET", "/api/v1/tickets/1/order", &auth, None);
    assert_eq!(down.status, 503);
    assert_eq!(down.json()["code"], "orders_unavailable");
    let _ = serve.kill();
    let _ = serve.wait();
}

#[test]
fn a_sixth_lookup_within_ten_minutes_is_refused_with_a_person_offered() {
    let shop = FakeShop::start();
    let c = "telegram:804";
    // Number and email in one message: one lookup a minute.
    let messages = vec![(c, "dov'è il mio ordine 552211? giulia.rossi@example.it"); 6];
    let (said, place) = replay(&shop, "woocommerce", &WOO, &messages);
    let answers = texts(&said);
    assert!(
        answers[..5].iter().all(|t| t.contains("spedito")),
        "{answers:?}"
    );
    assert!(
        answers[5].starts_with("Hai chiesto molte verifiche"),
        "{answers:?}"
    );
    assert_eq!(
        shop.with(|s| s.calls.len()),
        5,
        "the sixth never reached the shop"
    );
    assert_eq!(
        order_counts(&place.data()),
        json!({"answered": 5, "looked_up": 6})
    );
}

/// The report's order lookups on the replay's day.
fn order_counts(data: &std::path::Path) -> Value {
    let args = [
        "report",
        "--from",
        "2026-12-01",
        "--to",
        "2026-12-01",
        "--json",
    ];
    let out = sportello(data, &args, "");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    report["orders"].clone()
}
