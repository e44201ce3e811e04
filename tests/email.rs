//! Email as a channel, against a real Dovecot (IMAP, IDLE) and a real local SMTP server
//! (aiosmtpd): mail is delivered by IMAP APPEND, as a customer's would arrive, and the
//! replies are read as the SMTP server received them.

use crate::support::browser::Server;
use crate::support::http::{api_login, request};
use crate::support::mail::{Dovecot, Smtp, env, header};
use serde_json::json;
use std::time::Duration;

fn serve(imap: &Dovecot, smtp: &Smtp) -> Server {
    let vars = env(imap, smtp);
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Server::start_with(&[("anna", "assistenza")], None, &vars)
}

fn mail(from: &str, id: &str, subject: &str, extra: &str, body: &str) -> String {
    format!(
        "From: {from}\nTo: shop@negozio.test\nSubject: {subject}\nMessage-ID: <{id}>\nDate: Tue, 1 Dec 2026 10:00:00 +0100\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n{extra}\n{body}\n"
    )
}

/// The text part of a sent mail (quoted-printable or base64 decoded).
fn text_of(raw: &str) -> String {
    let msg = mail_parser::MessageParser::default()
        .parse(raw.as_bytes())
        .unwrap();
    msg.body_text(0).unwrap_or_default().replace("\r\n", "\n")
}

fn html_of(raw: &str) -> String {
    let msg = mail_parser::MessageParser::default()
        .parse(raw.as_bytes())
        .unwrap();
    msg.body_html(0).unwrap_or_default().into_owned()
}

/// Why ticket 1's customer cannot be reached, once the console says so.
fn unreachable(addr: &str, headers: &[(&str, &str)]) -> String {
    let start = std::time::Instant::now();
    loop {
        let detail = request(addr, "GET", "/api/v1/tickets/1", headers, None).json();
        if let Some(why) = detail["delivery"]["unreachable"].as_str() {
            return why.to_owned();
        }
        assert!(
            start.elapsed() < crate::support::browser::PATIENCE,
            "{detail:#}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Nothing more arrives for `ms` (the absence of a reply is the behaviour; each call
/// follows a step that shows the mails before it were read).
fn stays_at(smtp: &Smtp, n: usize, ms: u64) {
    std::thread::sleep(Duration::from_millis(ms));
    assert_eq!(smtp.mails().len(), n, "no more mail: {:#?}", smtp.mails());
}

#[test]
fn a_customers_mail_is_answered_in_its_thread_and_a_reply_below_a_quote_is_read() {
    let (imap, smtp) = (Dovecot::start(), Smtp::start());
    let server = serve(&imap, &smtp);
    imap.deliver(&mail(
        "Maria Rossi <Maria.Rossi@Example.it>",
        "q1@example.it",
        "Spedizione",
        "",
        "Buongiorno, quanto costa la spedizione?\n\nGrazie\nMaria\n-- \nMaria Rossi\nTel. 333 1234567",
    ));
    let sent = smtp.wait_for(1);
    let reply = &sent[0];
    assert_eq!(header(reply, "To").unwrap(), "maria.rossi@example.it");
    assert_eq!(
        header(reply, "From").unwrap(),
        "\"Negozio Lume\" <shop@negozio.test>"
    );
    assert_eq!(header(reply, "Subject").unwrap(), "Re: Spedizione");
    assert_eq!(header(reply, "In-Reply-To").unwrap(), "<q1@example.it>");
    assert!(
        header(reply, "References")
            .unwrap()
            .contains("<q1@example.it>")
    );
    assert_eq!(header(reply, "Auto-Submitted").unwrap(), "auto-replied");
    let text = text_of(reply);
    assert!(text.contains("4,90"), "the FAQ's answer: {text}");
    assert!(
        html_of(reply).contains("<b>Standard</b>"),
        "an HTML part from the Markdown"
    );
    let ours = header(reply, "Message-ID").unwrap();
    assert_eq!(imap.wait_seen(1), (1, 1), "flagged \\Seen once stored");

    // Her answer: a new question above the quote of ours, in the same thread, with a
    // subject that already says "Re:".
    let quoted = text
        .lines()
        .map(|l| format!("> {l}"))
        .collect::<Vec<_>>()
        .join("\n");
    imap.deliver(&mail(
        "Maria Rossi <maria.rossi@example.it>",
        "q2@example.it",
        "Re: Spedizione",
        &format!("In-Reply-To: {ours}\nReferences: <q1@example.it> {ours}\n"),
        &format!(
            "Voglio parlare con un operatore\n\nIl giorno mar 1 dic 2026 alle ore 10:00 Negozio Lume <shop@negozio.test> ha scritto:\n\n{quoted}"
        ),
    ));
    let sent = smtp.wait_for(2);
    let second = &sent[1];
    assert_eq!(
        header(second, "Subject").unwrap(),
        "Re: Spedizione",
        "never Re: Re:"
    );
    assert_eq!(header(second, "In-Reply-To").unwrap(), "<q2@example.it>");
    let refs = header(second, "References").unwrap();
    for id in ["<q1@example.it>", ours.as_str(), "<q2@example.it>"] {
        assert!(refs.contains(id), "{id} in {refs}");
    }
    // The quote did not make the bot answer shipping again: it handed off.
    let anna = api_login(&server.addr(), "anna");
    let headers = [("Cookie", anna.0.as_str())];
    let queue = request(&server.addr(), "GET", "/api/v1/queue", &headers, None).json();
    let ticket = &queue["tickets"][0];
    assert_eq!(ticket["customer"], "email:maria.rossi@example.it");
    assert_eq!(ticket["channel"], "email");
    let detail = request(&server.addr(), "GET", "/api/v1/tickets/1", &headers, None).json();
    let said: Vec<String> = detail["transcript"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(
        said.iter().any(|t| t == "Voglio parlare con un operatore"),
        "the new text, without the quote: {said:#?}"
    );
    let whole = detail["transcript"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|m| m["original"].as_str().filter(|o| o.contains("ha scritto:")))
        .unwrap_or_else(|| panic!("the whole mail for the operator: {detail:#}"));
    assert!(whole.contains("Subject: Re: Spedizione"), "{whole}");
    assert_eq!(imap.wait_seen(2), (2, 2));
}

#[test]
fn auto_replies_and_lists_are_kept_but_never_answered_and_a_miss_goes_to_a_person() {
    let (imap, smtp) = (Dovecot::start(), Smtp::start());
    let server = serve(&imap, &smtp);
    imap.deliver(&mail(
        "luca@example.com",
        "ooo@example.com",
        "Fuori sede",
        "Auto-Submitted: auto-replied\n",
        "Sono fuori sede fino al 7 dicembre.",
    ));
    imap.deliver(&mail(
        "offerte@example.com",
        "news@example.com",
        "Le offerte",
        "Precedence: bulk\n",
        "Sconti!",
    ));
    imap.deliver(&mail(
        "no-reply@corriere.example",
        "track@corriere.example",
        "Il tuo pacco",
        "",
        "Il pacco è in consegna.",
    ));
    // Then a person with words the FAQ does not know: a person at once, not "rephrase".
    imap.deliver(&mail(
        "gianni@example.it",
        "g1@example.it",
        "Domanda",
        "",
        "Il mio gatto ha mangiato la ricevuta del commesso?",
    ));
    let sent = smtp.wait_for(1);
    assert_eq!(header(&sent[0], "To").unwrap(), "gianni@example.it");
    stays_at(&smtp, 1, 800);
    assert_eq!(imap.wait_seen(4), (4, 4), "every mail stored and flagged");
    let anna = api_login(&server.addr(), "anna");
    let headers = [("Cookie", anna.0.as_str())];
    let queue = request(&server.addr(), "GET", "/api/v1/queue", &headers, None).json();
    let customers: Vec<&str> = queue["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["customer"].as_str().unwrap())
        .collect();
    assert_eq!(
        customers,
        ["email:gianni@example.it"],
        "the miss is with a person"
    );
    let metrics = request(&server.addr(), "GET", "/metrics", &[], None).body;
    assert!(
        metrics.contains("sportello_email_received_total{outcome=\"automated\"} 3"),
        "{metrics}"
    );
    // Kept on the sender's record, whole.
    let data = server.terminate();
    let copy = crate::support::sportello_ok(
        &data.data(),
        &["customer", "export", "email:luca@example.com"],
    );
    assert!(
        copy.contains("Sono fuori sede fino al 7 dicembre."),
        "{copy}"
    );
    assert!(
        copy.contains("Subject: Fuori sede"),
        "the whole mail: {copy}"
    );
}

#[test]
fn an_operators_reply_is_signed_and_a_bounce_marks_the_customer_unreachable() {
    let (imap, smtp) = (Dovecot::start(), Smtp::start());
    let server = serve(&imap, &smtp);
    let addr = server.addr();
    imap.deliver(&mail(
        "paolo@example.it",
        "p1@example.it",
        "Reso",
        "",
        "Voglio parlare con un operatore per un reso",
    ));
    smtp.wait_for(1);
    let anna = api_login(&addr, "anna");
    let headers = [
        ("Cookie", anna.0.as_str()),
        ("X-CSRF-Token", anna.1.as_str()),
    ];
    let r = request(&addr, "POST", "/api/v1/tickets/1/claim", &headers, None);
    assert_eq!(r.status, 200, "{}", r.body);
    let body = json!({"text": "Ciao Paolo, ti mando l'etichetta per il reso."}).to_string();
    let r = request(
        &addr,
        "POST",
        "/api/v1/tickets/1/reply",
        &headers,
        Some(&body),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let sent = smtp.wait_for(2);
    let reply = &sent[1];
    assert_eq!(header(reply, "Subject").unwrap(), "Re: Reso");
    assert_eq!(header(reply, "In-Reply-To").unwrap(), "<p1@example.it>");
    assert!(
        header(reply, "Auto-Submitted").is_none(),
        "a person wrote it"
    );
    let text = text_of(reply);
    assert!(text.contains("ti mando l'etichetta"), "{text}");
    assert!(text.contains("-- \nanna\nNegozio Lume"), "signed: {text}");
    let ours = header(reply, "Message-ID").unwrap();
    // A report for a mail Sportello did not send marks nobody.
    let forged = "From: MAILER-DAEMON@mx.example.it\nSubject: Undelivered\nMessage-ID: <f1@mx.example.it>\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n--B\nContent-Type: message/delivery-status\n\nFinal-Recipient: rfc822; paolo@example.it\nAction: failed\nStatus: 5.1.1\n\n--B--\n";
    imap.deliver(forged);
    imap.wait_seen(2);
    let detail = request(&addr, "GET", "/api/v1/tickets/1", &headers, None).json();
    assert_eq!(detail["delivery"]["unreachable"], serde_json::Value::Null);

    // His mailbox is gone: the bounce comes back to the shop's mailbox.
    let bounce = "From: Mail Delivery System <MAILER-DAEMON@mx.example.it>\nTo: shop@negozio.test\nSubject: Undelivered Mail Returned to Sender\nMessage-ID: <b1@mx.example.it>\nAuto-Submitted: auto-replied\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n--B\nContent-Type: text/plain\n\nYour message could not be delivered.\n\n--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.it\n\nFinal-Recipient: rfc822; paolo@example.it\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 user unknown\n\n--B\nContent-Type: text/rfc822-headers\n\nFrom: shop@negozio.test\nTo: paolo@example.it\nMessage-ID: OURS\n\n--B--\n".replace("OURS", &ours);
    imap.deliver(&bounce);
    let why = unreachable(&addr, &headers);
    assert!(why.contains("550 5.1.1"), "{why}");
    stays_at(&smtp, 2, 800);
}

#[test]
fn a_restart_and_a_kill_answer_every_mail_once_at_most_one_repeat_per_crash() {
    let (imap, smtp) = (Dovecot::start(), Smtp::start());
    let server = serve(&imap, &smtp);
    let question = |n: usize| {
        mail(
            &format!("cliente{n}@example.it"),
            &format!("k{n}@example.it"),
            "Spedizione",
            "",
            "Quanto costa la spedizione?",
        )
    };
    imap.deliver(&question(0));
    smtp.wait_for(1);
    // A clean stop, mail arriving meanwhile, a start: answered once.
    let data = server.terminate();
    imap.deliver(&question(1));
    let vars = env(&imap, &smtp);
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = Server::spawn_env(data, None, &vars);
    smtp.wait_for(2);
    stays_at(&smtp, 2, 800);
    // kill -9 while five mails are being read and answered.
    for n in 2..7 {
        imap.deliver(&question(n));
    }
    smtp.wait_for(3);
    let pid = server.pid();
    std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    let data = server.stop();
    let server = Server::spawn_env(data, None, &vars);
    let answered = |mails: &[String], n: usize| {
        let to = format!("cliente{n}@example.it");
        mails
            .iter()
            .filter(|m| header(m, "To").as_deref() == Some(to.as_str()))
            .count()
    };
    let start = std::time::Instant::now();
    while (0..7).any(|n| answered(&smtp.mails(), n) == 0) {
        assert!(
            start.elapsed() < crate::support::browser::PATIENCE,
            "{:#?}",
            smtp.mails()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(1500));
    let sent_after = smtp.mails();
    assert!(
        sent_after.len() <= 8,
        "at most one repeat per crash: {}",
        sent_after.len()
    );
    for n in 0..7 {
        let count = answered(&sent_after, n);
        assert!((1..=2).contains(&count), "cliente{n}: {count} replies");
    }
    assert_eq!(imap.wait_seen(7), (7, 7));
    drop(server);
}

#[test]
fn a_busy_smtp_server_is_tried_again_and_a_refused_address_marks_the_customer_unreachable() {
    let (imap, smtp) = (Dovecot::start(), Smtp::start());
    std::fs::write(smtp.dir().join("busy"), "").unwrap();
    std::fs::write(smtp.dir().join("refuse"), "sparito@example.it\n").unwrap();
    let server = serve(&imap, &smtp);
    let addr = server.addr();
    imap.deliver(&mail(
        "sparito@example.it",
        "s1@example.it",
        "Reso",
        "",
        "Voglio parlare con un operatore",
    ));
    imap.deliver(&mail(
        "attesa@example.it",
        "a1@example.it",
        "Spedizione",
        "",
        "Quanto costa la spedizione?",
    ));
    // 451 while busy: nothing lost, retried.
    let start = std::time::Instant::now();
    let metric = "sportello_email_replies_total{outcome=\"retries\"}";
    loop {
        let metrics = request(&addr, "GET", "/metrics", &[], None).body;
        let retries = metrics
            .lines()
            .find_map(|l| l.strip_prefix(metric))
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(0);
        if retries >= 1 {
            break;
        }
        assert!(
            start.elapsed() < crate::support::browser::PATIENCE,
            "{metrics}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(smtp.mails().is_empty());
    std::fs::remove_file(smtp.dir().join("busy")).unwrap();
    let sent = smtp.wait_for(1);
    assert_eq!(header(&sent[0], "To").unwrap(), "attesa@example.it");
    // 550 for the other: the console says why the replies do not arrive.
    let anna = api_login(&addr, "anna");
    let headers = [("Cookie", anna.0.as_str())];
    let why = unreachable(&addr, &headers);
    assert!(why.contains("550"), "{why}");
}

/// A web-chat visitor: their token, and a message sent.
fn visitor_says(addr: &str, token: Option<String>, id: &str, text: &str) -> String {
    let token = token.unwrap_or_else(|| {
        request(addr, "POST", "/api/v1/chat/start", &[], None).json()["visitor"]
            .as_str()
            .unwrap()
            .to_owned()
    });
    let body = json!({"id": id, "text": text, "locale": "it-IT"}).to_string();
    let headers = [("X-Sportello-Visitor", token.as_str())];
    let r = request(addr, "POST", "/api/v1/chat/messages", &headers, Some(&body));
    assert_eq!(r.status, 200, "{}", r.body);
    token
}

#[test]
fn a_web_chat_customer_who_left_an_address_gets_the_reply_they_missed_by_email() {
    let (imap, smtp) = (Dovecot::start(), Smtp::start());
    let vars = env(&imap, &smtp);
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let config =
        "[email]\nfollow_up_after = \"2s\"\nchat_url = \"https://negozio.test/assistenza\"\n";
    let server = Server::start_with(&[("anna", "assistenza")], Some(config), &vars);
    let addr = server.addr();
    let status = request(&addr, "GET", "/api/v1/chat/status?lang=it", &[], None).json();
    assert_eq!(status["people_online"], true, "no [hours]: always in");
    assert_eq!(status["email"], true);
    let token = visitor_says(&addr, None, "w1", "Voglio parlare con un operatore");
    let me = [("X-Sportello-Visitor", token.as_str())];
    let bad = request(
        &addr,
        "POST",
        "/api/v1/chat/email",
        &me,
        Some(r#"{"email": "giulia"}"#),
    );
    assert_eq!(
        (bad.status, bad.json()["code"].clone()),
        (400, json!("email_invalid"))
    );
    let other = visitor_says(&addr, None, "o1", "Quanto costa la spedizione?");
    let them = [("X-Sportello-Visitor", other.as_str())];
    let early = request(
        &addr,
        "POST",
        "/api/v1/chat/email",
        &them,
        Some(r#"{"email": "a@b.it"}"#),
    );
    assert_eq!(
        (early.status, early.json()["code"].clone()),
        (409, json!("not_waiting"))
    );
    let body = json!({"email": " Giulia@Example.it "});
    let r = request(
        &addr,
        "POST",
        "/api/v1/chat/email",
        &me,
        Some(&body.to_string()),
    );
    assert_eq!(r.json()["email"], "giulia@example.it", "{}", r.body);
    let status = request(&addr, "GET", "/api/v1/chat/status", &me, None).json();
    assert_eq!(status["contact"], "giulia@example.it");
    // She closed the tab: the operator's reply is not read in the chat.
    let anna = api_login(&addr, "anna");
    let op = [
        ("Cookie", anna.0.as_str()),
        ("X-CSRF-Token", anna.1.as_str()),
    ];
    request(&addr, "POST", "/api/v1/tickets/1/claim", &op, None);
    let reply = json!({"text": "Ciao Giulia, ecco il codice del reso: **R-1234**."}).to_string();
    let r = request(&addr, "POST", "/api/v1/tickets/1/reply", &op, Some(&reply));
    assert_eq!(r.status, 200, "{}", r.body);
    let sent = smtp.wait_for(1);
    let mail = &sent[0];
    assert_eq!(header(mail, "To").unwrap(), "giulia@example.it");
    assert_eq!(header(mail, "Auto-Submitted").unwrap(), "auto-generated");
    assert_eq!(
        header(mail, "Subject").unwrap(),
        "Ti abbiamo risposto in chat"
    );
    let text = text_of(mail);
    assert!(text.contains("ecco il codice del reso"), "{text}");
    assert!(
        text.contains("https://negozio.test/assistenza"),
        "the link back: {text}"
    );
    // Back in the chat she reads it there too; a reply she reads at once is not mailed.
    let seen = request(&addr, "GET", "/api/v1/chat/messages", &me, None).json();
    assert!(seen.to_string().contains("R-1234"), "{seen}");
    let again = json!({"text": "Fammi sapere se serve altro."}).to_string();
    request(&addr, "POST", "/api/v1/tickets/1/reply", &op, Some(&again));
    request(&addr, "GET", "/api/v1/chat/messages", &me, None);
    // Past follow_up_after (2 s) and a scan (1 s): read in time, so never mailed.
    stays_at(&smtp, 1, 3500);
}

#[test]
fn without_a_mailbox_the_chat_offers_no_email_field() {
    let server = Server::start(&[]);
    let addr = server.addr();
    let status = request(&addr, "GET", "/api/v1/chat/status", &[], None).json();
    assert_eq!(status["email"], false);
    let token = visitor_says(&addr, None, "w1", "ciao");
    let me = [("X-Sportello-Visitor", token.as_str())];
    let r = request(
        &addr,
        "POST",
        "/api/v1/chat/email",
        &me,
        Some(r#"{"email": "a@b.it"}"#),
    );
    assert_eq!(
        (r.status, r.json()["code"].clone()),
        (404, json!("email_off"))
    );
}

#[test]
fn without_idle_the_mailbox_is_polled_and_did_you_mean_is_answered_with_a_number() {
    let (imap, smtp) = (Dovecot::without_idle(), Smtp::start());
    let vars = env(&imap, &smtp);
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let config = "[email]\npoll_every = \"1s\"\n";
    let server = Server::start_with(&[], Some(config), &vars);
    imap.deliver(&mail(
        "sara@example.it",
        "t1@example.it",
        "Taglia",
        "",
        "taglia",
    ));
    let sent = smtp.wait_for(1);
    let text = text_of(&sent[0]);
    let second = text
        .lines()
        .find_map(|l| l.strip_prefix("2. "))
        .unwrap_or_else(|| panic!("a numbered list: {text}"))
        .to_owned();
    let ours = header(&sent[0], "Message-ID").unwrap();
    let quoted: String = text.lines().map(|l| format!("> {l}\n")).collect();
    imap.deliver(&mail(
        "sara@example.it",
        "t2@example.it",
        "Re: Taglia",
        &format!("In-Reply-To: {ours}\nReferences: <t1@example.it> {ours}\n"),
        &format!("2\n\nOn Tue, 1 Dec 2026 at 10:00, Negozio Lume wrote:\n{quoted}"),
    ));
    let sent = smtp.wait_for(2);
    let (brain, _) = crate::support::sample_brain();
    let entry = brain
        .faq
        .entries()
        .iter()
        .find(|e| e.questions.contains(&second))
        .unwrap_or_else(|| panic!("an entry asks `{second}`"));
    // The text part is the answer without its Markdown marks.
    let first_line = sportello::channels::format::to_plain(entry.answer.lines().next().unwrap());
    let answer = text_of(&sent[1]);
    assert!(!answer.contains("**"), "{answer}");
    assert!(
        answer.contains(&first_line),
        "`{second}` answered: {answer}"
    );
    // Forgetting her erases the thread too; her next mail starts a new one.
    let data = server.terminate();
    let out = crate::support::sportello(
        &data.data(),
        &["customer", "forget", "email:sara@example.it"],
        "",
    );
    assert!(out.status.success(), "{out:?}");
    let copy = crate::support::sportello(
        &data.data(),
        &["customer", "export", "email:sara@example.it"],
        "",
    );
    assert!(
        !String::from_utf8_lossy(&copy.stdout).contains("Taglia"),
        "{copy:?}"
    );
}

#[test]
fn over_tls_the_servers_certificates_are_checked_against_the_shops_own_authority() {
    use crate::support::mail::Pki;
    let pki = Pki::new();
    let (imap, smtp) = (Dovecot::with_tls(&pki), Smtp::with_starttls(&pki));
    let ca = pki.path("ca.pem").display().to_string();
    // IMAPS, and SMTP with STARTTLS required before the password.
    let mut vars = env(&imap, &smtp);
    vars[0].1 = imap.tls_url();
    let mut trusted: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    trusted.push(("SPORTELLO_EMAIL_CA_FILE", ca.as_str()));
    let server = Server::start_with(&[], None, &trusted);
    imap.deliver(&mail(
        "tls@example.it",
        "s1@example.it",
        "Reso",
        "",
        "Come faccio un reso?",
    ));
    let sent = smtp.wait_for(1);
    assert_eq!(header(&sent[0], "To").unwrap(), "tls@example.it");
    drop(server);
    // Without the authority the certificate is refused: no login, nothing read.
    let untrusted: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = Server::start_with(&[], None, &untrusted);
    imap.deliver(&mail(
        "tls@example.it",
        "s2@example.it",
        "Reso",
        "",
        "E il rimborso?",
    ));
    let start = std::time::Instant::now();
    while !server
        .stderr
        .lock()
        .unwrap()
        .contains("TLS with 127.0.0.1 failed")
    {
        assert!(
            start.elapsed() < crate::support::browser::PATIENCE,
            "{}",
            server.stderr.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let metrics = request(&server.addr(), "GET", "/metrics", &[], None).body;
    assert!(metrics.contains("sportello_email_connected 0"), "{metrics}");
    assert_eq!(imap.seen(), (1, 2), "the second mail waits, unread");
}

#[test]
fn an_email_customer_rates_the_help_by_answering_the_survey_with_a_number() {
    let (imap, smtp) = (Dovecot::start(), Smtp::start());
    let server = serve(&imap, &smtp);
    let addr = server.addr();
    imap.deliver(&mail(
        "voto@example.it",
        "v1@example.it",
        "Reso",
        "",
        "Voglio parlare con un operatore",
    ));
    // The handoff says where they stand, as in every channel.
    let handoff = text_of(&smtp.wait_for(1)[0]);
    assert!(handoff.contains("in coda"), "{handoff}");
    let anna = api_login(&addr, "anna");
    let op = [
        ("Cookie", anna.0.as_str()),
        ("X-CSRF-Token", anna.1.as_str()),
    ];
    request(&addr, "POST", "/api/v1/tickets/1/claim", &op, None);
    let body = json!({"text": "Fatto: il reso è registrato."}).to_string();
    request(&addr, "POST", "/api/v1/tickets/1/reply", &op, Some(&body));
    let r = request(&addr, "POST", "/api/v1/tickets/1/close", &op, None);
    assert_eq!(r.status, 200, "{}", r.body);
    // The reply, then the close: one mail, the farewell and the survey with its
    // scores written out, to answer with one (not two mails a second apart).
    let sent = smtp.wait_for(3);
    let asked = &sent[2];
    let survey = text_of(asked);
    assert!(survey.contains("(1 · 2 · 3 · 4 · 5)"), "{survey}");
    assert!(survey.contains("è chiusa"), "{survey}");
    let ours = header(asked, "Message-ID").unwrap();
    let quoted: String = survey.lines().map(|l| format!("> {l}\n")).collect();
    imap.deliver(&mail(
        "voto@example.it",
        "v2@example.it",
        "Re: Reso",
        &format!("In-Reply-To: {ours}\n"),
        &format!("5\n\nIl giorno mar 1 dic 2026 Negozio Lume ha scritto:\n{quoted}"),
    ));
    // The score is answered (the NPS question, first time): one mail, the fourth.
    let next = text_of(&smtp.wait_for(4)[3]);
    let report = request(&addr, "GET", "/api/v1/report", &op, None).json();
    assert_eq!(report["csat"]["responses"], 1, "{:#}", report["csat"]);
    assert_eq!(smtp.mails().len(), 4, "{next}");
}

#[test]
fn a_mail_a_person_opened_first_is_still_answered_and_mail_read_before_the_start_is_left() {
    let (imap, smtp) = (Dovecot::start(), Smtp::start());
    let question = |n: &str, who: &str| {
        mail(
            &format!("{who}@example.it"),
            &format!("{n}@example.it"),
            "Spedizione",
            "",
            "Quanto costa la spedizione?",
        )
    };
    // Before Sportello: one mail the shop already handled by hand, one unread.
    imap.deliver_seen(&question("old", "vecchio"));
    imap.deliver(&question("new", "nuovo"));
    let server = serve(&imap, &smtp);
    let sent = smtp.wait_for(1);
    assert_eq!(header(&sent[0], "To").unwrap(), "nuovo@example.it");
    // A colleague opens the next mail in their mail client before Sportello reads it.
    imap.deliver_seen(&question("opened", "aperta"));
    let sent = smtp.wait_for(2);
    assert_eq!(header(&sent[1], "To").unwrap(), "aperta@example.it");
    // After a restart it goes on from the last mail it read.
    let data = server.terminate();
    imap.deliver_seen(&question("later", "dopo"));
    let vars = env(&imap, &smtp);
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let _server = Server::spawn_env(data, None, &vars);
    let sent = smtp.wait_for(3);
    assert_eq!(header(&sent[2], "To").unwrap(), "dopo@example.it");
    stays_at(&smtp, 3, 800);
    let to: Vec<String> = smtp
        .mails()
        .iter()
        .filter_map(|m| header(m, "To"))
        .collect();
    assert!(!to.contains(&"vecchio@example.it".to_owned()), "{to:?}");
}
