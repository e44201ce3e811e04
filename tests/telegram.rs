//! The Telegram channel: real teloxide against the fake Bot API on 127.0.0.1, the real
//! service on sled in a temp dir (or on a database of its own when the run selects
//! PostgreSQL).

use crate::support::telegram::{FakeTelegram, Fault, TOKEN, spawn_serve_on, terminate};
use crate::support::{Place, TestData, open_service, sample_dirs};
use chrono::Utc;
use sportello::channels::telegram::{Telegram, TelegramConfig, WebhookResult, to_html};
use sportello::config::TelegramSecrets;
use sportello::domain::CustomerId;
use sportello::service::Service;
use std::sync::Arc;
use tokio::sync::watch;

struct Harness {
    fake: FakeTelegram,
    service: Arc<Service>,
    telegram: Telegram,
    _stop: watch::Sender<bool>,
    _data: TestData,
}

async fn start(webhook: Option<&str>) -> Harness {
    start_with(webhook, chrono::Duration::minutes(5)).await
}

async fn start_with(webhook: Option<&str>, give_up_after: chrono::Duration) -> Harness {
    let fake = FakeTelegram::start().await;
    let data = TestData::new();
    let service = Arc::new(open_service(&data.location(), &sample_dirs()));
    let config = TelegramConfig {
        secrets: TelegramSecrets {
            token: TOKEN.into(),
            api_url: Some(fake.url.parse().unwrap()),
            webhook: webhook.map(|s| ("https://shop.example/telegram".parse().unwrap(), s.into())),
        },
        poll_timeout: 1,
        give_up_after,
    };
    let (stop, rx) = watch::channel(false);
    let telegram = Telegram::start(service.clone(), config, rx).await.unwrap();
    Harness {
        fake,
        service,
        telegram,
        _stop: stop,
        _data: data,
    }
}

impl Harness {
    fn answer(&self, faq_id: &str) -> String {
        let brain = self.service.brain();
        to_html(&brain.faq.entry(faq_id).unwrap().answer)
    }

    /// Wait until the service has stored the update (Telegram saw it acknowledged).
    async fn acknowledged(&self, update: u32) {
        let ok = self.fake.wait_for(|s| s.confirmed >= Some(update)).await;
        assert!(ok, "update {update} was never acknowledged");
    }
}

fn customer(chat: i64) -> CustomerId {
    CustomerId::parse(&format!("telegram:{chat}")).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_telegram_question_is_answered_in_html() {
    let h = start(None).await;
    let update = h.fake.text(501, "quanto costa la spedizione?");
    let sent = h.fake.wait_sent(501, 1).await;
    assert_eq!(sent[0].text, h.answer("costi-di-spedizione"));
    assert_eq!(sent[0].parse_mode.as_deref(), Some("HTML"));
    h.acknowledged(update).await;
    let transcript = h.service.store().transcript(&customer(501)).unwrap();
    assert_eq!(transcript[0].text, "quanto costa la spedizione?");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clarify_button_press_is_answered_and_the_buttons_go() {
    let h = start(None).await;
    h.fake.text(502, "spedizione");
    let sent = h.fake.wait_sent(502, 1).await;
    assert!(sent[0].buttons.len() >= 3, "{sent:?}");
    let label = sent[0].buttons[0].0.clone();
    let chosen = h
        .service
        .brain()
        .faq
        .entries()
        .iter()
        .find(|e| e.questions[0] == label)
        .map(|e| e.id.clone())
        .expect("a button is labelled with an entry's first question");
    h.fake.press(&sent[0], 1);
    let sent = h.fake.wait_sent(502, 2).await;
    assert_eq!(sent[1].text, h.answer(&chosen));
    let chores = h
        .fake
        .wait_for(|s| {
            s.calls.iter().any(|c| c == "answercallbackquery")
                && s.calls.iter().any(|c| c == "editmessagereplymarkup")
        })
        .await;
    assert!(chores, "the press is answered and the buttons taken away");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_button_data_is_harmless() {
    let h = start(None).await;
    h.fake.text(509, "spedizione");
    let sent = h.fake.wait_sent(509, 1).await;
    for data in ["choice:0", "choice:99", "choice:-1", "nonsense"] {
        let update = h.fake.press_with(&sent[0], data);
        h.acknowledged(update).await;
    }
    let update = h.fake.text(509, "quanto costa la spedizione?");
    h.acknowledged(update).await;
    let sent = h.fake.wait_sent(509, 2).await;
    assert_eq!(sent.last().unwrap().text, h.answer("costi-di-spedizione"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_for_a_person_opens_one_ticket_and_the_bot_then_stays_silent() {
    let h = start(None).await;
    h.fake.text(503, "/operatore");
    let sent = h.fake.wait_sent(503, 1).await;
    assert!(sent[0].text.contains("persona"), "{sent:?}");
    // Once an operator has it, the bot stays silent (while only queued, an FAQ question
    // would be answered: see care.rs).
    let ticket = h.service.store().queue().unwrap()[0].id;
    h.service.claim(ticket, "anna", chrono::Utc::now()).unwrap();
    let update = h.fake.text(503, "ci siete? vorrei cambiare indirizzo");
    h.acknowledged(update).await;
    assert_eq!(h.service.store().queue().unwrap().len(), 1);
    let pending = h.service.store().pending_outbox(&customer(503)).unwrap();
    assert!(pending.is_empty(), "the bot said something: {pending:?}");
    let transcript = h.service.store().transcript(&customer(503)).unwrap();
    assert_eq!(
        transcript.len(),
        3,
        "question, handoff, the message for the operator"
    );
    assert_eq!(h.fake.sent_to(503).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_reply_reaches_the_chat_escaped() {
    let h = start(None).await;
    h.fake.text(504, "voglio parlare con un operatore");
    h.fake.wait_sent(504, 1).await;
    let ticket = h.service.store().queue().unwrap()[0].id;
    h.service.claim(ticket, "anna", Utc::now()).unwrap();
    h.service
        .reply(
            ticket,
            "anna",
            "Ciao, sono Anna: il <b>pacco</b> parte oggi & arriva domani.",
            Utc::now(),
        )
        .unwrap();
    h.telegram.shared.delivery.wake.notify_one();
    let sent = h.fake.wait_sent(504, 2).await;
    assert_eq!(
        sent[1].text,
        "Ciao, sono Anna: il &lt;b&gt;pacco&lt;/b&gt; parte oggi &amp; arriva domani."
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_storm_and_server_errors_delay_but_lose_nothing_and_keep_each_chats_order() {
    let h = start(None).await;
    h.fake.with(|s| {
        s.faults.extend([
            Fault::RetryAfter(1),
            Fault::ServerError,
            Fault::RetryAfter(1),
            Fault::Drop,
            Fault::ServerError,
            Fault::Slow(std::time::Duration::from_millis(300)),
            Fault::RetryAfter(1),
        ])
    });
    let questions = [
        ("quanto costa la spedizione?", "costi-di-spedizione"),
        ("come faccio un reso?", "come-fare-un-reso"),
        ("posso pagare con paypal?", "metodi-di-pagamento"),
    ];
    for (q, _) in questions {
        for chat in [601, 602, 603] {
            h.fake.text(chat, q);
        }
    }
    for chat in [601, 602, 603] {
        let sent = h.fake.wait_sent(chat, 3).await;
        let texts: Vec<&str> = sent.iter().map(|m| m.text.as_str()).collect();
        let expected: Vec<String> = questions.iter().map(|(_, id)| h.answer(id)).collect();
        assert_eq!(texts, expected, "chat {chat}: every reply once, in order");
    }
    assert!(h.fake.with(|s| s.faults.is_empty()), "every fault was met");
    let stats = h.telegram.shared.delivery.stats.snapshot();
    assert!(
        stats[2].1 >= 3 && stats[1].1 >= 3,
        "rate limits and retries counted: {stats:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_telegram_keeps_refusing_is_given_up_and_kept_as_failed() {
    let h = start_with(None, chrono::Duration::seconds(2)).await;
    h.fake
        .with(|s| s.faults.extend(std::iter::repeat_n(Fault::ServerError, 50)));
    h.fake.text(508, "quanto costa la spedizione?");
    let store = h.service.store().clone();
    let given_up = h
        .fake
        .wait_for(|_| !store.failed_outbox(&customer(508)).unwrap().is_empty())
        .await;
    assert!(given_up);
    let failed = store.failed_outbox(&customer(508)).unwrap();
    assert!(
        failed[0].reason.contains("not delivered within"),
        "{failed:?}"
    );
    assert_eq!(
        failed[0].outbound.text,
        h.service
            .brain()
            .faq
            .entry("costi-di-spedizione")
            .unwrap()
            .answer
    );
    assert!(store.pending_outbox(&customer(508)).unwrap().is_empty());
    assert!(h.fake.sent_to(508).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_photo_is_acknowledged_and_kept_for_the_operator() {
    let h = start(None).await;
    h.fake.photo(505, "la scatola era rotta");
    let sent = h.fake.wait_sent(505, 1).await;
    assert!(sent[0].text.contains("foto"), "{sent:?}");
    let transcript = h.service.store().transcript(&customer(505)).unwrap();
    assert_eq!(transcript[0].text, "[photo AgADphoto] la scatola era rotta");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_who_blocked_the_bot_is_marked_unreachable() {
    let h = start(None).await;
    h.fake.with(|s| s.blocked.insert(506));
    h.fake.text(506, "quanto costa la spedizione?");
    let store = h.service.store().clone();
    let marked = h
        .fake
        .wait_for(|_| store.unreachable(&customer(506)).unwrap().is_some())
        .await;
    assert!(marked);
    let failed = store.failed_outbox(&customer(506)).unwrap();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(failed[0].reason.contains("blocked"), "{failed:?}");
    assert!(store.pending_outbox(&customer(506)).unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_chatter_is_ignored_and_a_command_in_a_group_points_to_the_private_chat() {
    let h = start(None).await;
    let chatter = h.fake.group_text(-100, 7, "quanto costa la spedizione?");
    h.acknowledged(chatter).await;
    assert!(h.fake.sent_to(-100).is_empty());
    h.fake.group_text(-100, 7, "/start");
    let sent = h.fake.wait_sent(-100, 1).await;
    assert!(sent[0].text.contains("t.me/sportello_test_bot"), "{sent:?}");
    assert!(
        h.service.store().conversations().next().is_none(),
        "groups are not customers"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_update_needs_the_secret_and_is_stored_before_the_200() {
    let h = start(Some("s3cret")).await;
    let update = serde_json::json!({"update_id": 9, "message": {
        "message_id": 1, "date": Utc::now().timestamp(),
        "chat": {"id": 507, "type": "private", "first_name": "Luca"},
        "from": {"id": 507, "is_bot": false, "first_name": "Luca", "language_code": "en"},
        "text": "how long does delivery take?"}});
    let body = serde_json::to_vec(&update).unwrap();
    assert_eq!(
        h.telegram.webhook(None, &body).await,
        WebhookResult::Forbidden
    );
    assert_eq!(
        h.telegram.webhook(Some("wrong"), &body).await,
        WebhookResult::Forbidden
    );
    assert!(
        h.service
            .store()
            .transcript(&customer(507))
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        h.telegram.webhook(Some("s3cret"), &body).await,
        WebhookResult::Stored
    );
    assert_eq!(
        h.service.store().transcript(&customer(507)).unwrap().len(),
        2
    );
    let sent = h.fake.wait_sent(507, 1).await;
    assert_eq!(sent[0].text, h.answer("delivery-times"));
    assert!(h.fake.with(|s| s.calls.contains(&"setwebhook".to_owned())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_killed_or_stopped_midway_loses_no_reply_and_keeps_each_chats_order() {
    let fake = FakeTelegram::start().await;
    let place = Place::new();
    let (data, files) = (place.data(), place.files().join("serve"));
    let faq = crate::support::repo().join("faq");
    let spawn_serve =
        |fake: &FakeTelegram, data| spawn_serve_on(fake, data, &files, &faq, "127.0.0.1:0");
    let chats: Vec<i64> = (701..=710).collect();
    let questions = [
        ("quanto costa la spedizione?", "costi-di-spedizione"),
        ("come faccio un reso?", "come-fare-un-reso"),
        ("posso pagare con paypal?", "metodi-di-pagamento"),
    ];
    let total = |f: &FakeTelegram| f.with(|s| s.sent.len());
    let mut serve = spawn_serve(&fake, &data);
    for chat in &chats {
        fake.text(*chat, questions[0].0);
    }
    assert!(fake.wait_for(|s| s.sent.len() >= 4).await);
    serve.kill().unwrap(); // SIGKILL, wherever it was
    serve.wait().unwrap();
    for chat in &chats {
        fake.text(*chat, questions[1].0);
    }
    let mut serve = spawn_serve(&fake, &data);
    assert!(
        fake.wait_for(|s| s.sent.len() >= 14).await,
        "{}",
        total(&fake)
    );
    terminate(&mut serve);
    for chat in &chats {
        fake.text(*chat, questions[2].0);
    }
    let brain = &crate::support::sample_brain().0;
    let expected: Vec<String> = questions
        .iter()
        .map(|(_, id)| to_html(&brain.faq.entry(id).unwrap().answer))
        .collect();
    let mut serve = spawn_serve(&fake, &data);
    let last = expected[2].clone();
    let all_answered = fake
        .wait_for(|s| {
            chats
                .iter()
                .all(|c| s.sent.iter().any(|m| m.chat == *c && m.text == last))
        })
        .await;
    assert!(all_answered, "{} replies", total(&fake));
    for chat in &chats {
        let mut texts: Vec<String> = fake.sent_to(*chat).into_iter().map(|m| m.text).collect();
        let before = texts.len();
        texts.dedup();
        assert_eq!(texts, expected, "chat {chat}: nothing lost, in order");
        // At-least-once: only the reply in flight in this chat at the SIGKILL can be
        // sent twice; the clean stop (SIGTERM) repeats nothing.
        assert!(
            before - texts.len() <= 1,
            "chat {chat}: {before} replies for 3"
        );
    }
    terminate(&mut serve);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_flooding_a_thousand_messages_is_told_once_and_does_not_hold_up_the_others() {
    let h = start(None).await;
    let questions = ["come faccio un reso?", "posso pagare con paypal?"];
    for n in 0..1000 {
        h.fake.text(801, questions[n % 2]);
    }
    h.fake.text(802, "quanto costa la spedizione?");
    let sent = h.fake.wait_sent(802, 1).await;
    assert_eq!(sent[0].text, h.answer("costi-di-spedizione"));
    let flooder = customer(801);
    let stored = h.service.store().transcript(&flooder).unwrap();
    let inbound = stored
        .iter()
        .filter(|m| m.author == sportello::domain::Author::Customer)
        .count();
    assert_eq!(inbound, 1000, "every message kept for the transcript");
    let replies = h.fake.sent_to(801);
    let notices = replies
        .iter()
        .filter(|m| m.text.contains("molto in fretta"))
        .count();
    assert_eq!(notices, 1, "told once: {replies:?}");
    // The burst, the notice, and what the bucket refilled while the flood was read.
    assert!(
        replies.len() <= sportello::service::BURST as usize + 8,
        "{} replies to a flood",
        replies.len()
    );
}
