//! Bad input from outside: property tests over every parser that reads it (FAQ files,
//! intent files, the config, Telegram updates, replay scripts) and over what customers
//! type. Nothing may panic; a rejected file is an error naming `path:line`; a strange
//! message still gets an answer and is stored whole.

use crate::support::{TestApp, sportello};
use proptest::prelude::*;
use sportello::config::Config;
use sportello::faq;
use sportello::intents::Intents;

/// Text with what breaks naive code: emoji, zero-width and control characters,
/// right-to-left marks and scripts, quotes, TOML and Markdown syntax, NUL.
fn nasty() -> impl Strategy<Value = String> {
    let pieces = proptest::sample::select(vec![
        "+++",
        "\n",
        "\r\n",
        "=",
        "\"",
        "'''",
        "[",
        "]",
        "{",
        "}",
        "#",
        "questions",
        "id",
        "lang",
        "threshold",
        "department",
        "draft",
        "true",
        "0.5",
        "-1e99",
        "it",
        "en",
        "😀",
        "👩‍👩‍👧",
        "\u{200b}",
        "\u{200d}",
        "\u{202e}",
        "\u{feff}",
        "مرحبا",
        "שלום",
        "\u{0}",
        "\u{7}",
        "\t",
        "\\",
        "\\u",
        "ciao",
        "**",
        "[link](",
        "<script>",
        "spedizione",
    ]);
    prop::collection::vec(pieces, 0..40).prop_map(|p| p.concat())
}

/// Something shaped like an FAQ file, with values that may be wrong.
fn faq_file() -> impl Strategy<Value = String> {
    (nasty(), nasty(), nasty(), any::<f64>(), nasty()).prop_map(|(id, q, dep, t, body)| {
        format!(
            "+++\nid = {id:?}\nquestions = [{q:?}, \"{q}\"]\ndepartment = \"{dep}\"\nthreshold = {t}\n+++\n{body}"
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn any_faq_file_loads_or_is_reported_with_its_path_and_line(
        text in prop_oneof![nasty(), faq_file()],
        bytes in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let it = dir.path().join("it");
        std::fs::create_dir_all(&it).unwrap();
        std::fs::write(it.join("a.md"), &text).unwrap();
        std::fs::write(it.join("b.md"), &bytes).unwrap();
        let (set, diagnostics) = faq::load_dir(dir.path(), None);
        for d in &diagnostics {
            let shown = d.to_string();
            prop_assert!(shown.contains(".md:"), "{shown}");
        }
        prop_assert!(set.entries.len() + diagnostics.len() >= 2 || set.entries.len() == 2);
    }

    #[test]
    fn any_intent_file_loads_or_is_reported_with_its_path_and_line(
        text in nasty(),
        regex in nasty(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.toml"), &text).unwrap();
        let shaped = format!("kind = \"reply\"\npatterns = [{regex:?}]\nexamples = [{text:?}]\n[reply]\nit = \"ok\"\n");
        std::fs::write(dir.path().join("b.toml"), shaped).unwrap();
        let (intents, diagnostics) = Intents::load_dir(dir.path());
        for d in &diagnostics {
            prop_assert!(d.to_string().contains(".toml:"), "{d}");
        }
        prop_assert!(intents.rules().len() <= 2);
    }

    #[test]
    fn any_config_parses_or_is_an_error(text in nasty()) {
        let _ = Config::parse(&text);
        let shaped = format!("[departments.{text:?}]\nkeywords = [{text:?}]\n[hours]\nmonday = \"{text}\"\n");
        let _ = Config::parse(&shaped);
    }

    #[test]
    fn any_telegram_update_is_read_or_ignored(text in nasty(), id in any::<i64>(), date in any::<i64>()) {
        let raw = serde_json::json!({
            "update_id": 7,
            "message": {"message_id": id, "date": date,
                "chat": {"id": id, "type": "private", "first_name": text},
                "from": {"id": id, "is_bot": false, "first_name": text}, "text": text}
        });
        if let Ok(update) = serde_json::from_value::<teloxide::types::Update>(raw) {
            let _ = sportello::channels::telegram::updates::read(&update, "bot", chrono::Utc::now());
        }
    }

}

#[test]
fn any_message_a_customer_types_gets_a_reply_and_is_stored_whole() {
    // One service for all the cases (loading the content is the slow part): each case
    // is a new customer.
    let app = std::cell::RefCell::new(TestApp::new());
    let next = std::cell::Cell::new(0);
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 96,
        ..ProptestConfig::default()
    });
    runner
        .run(&nasty(), |text| {
            next.set(next.get() + 1);
            let customer = format!("telegram:{}", 9000 + next.get());
            let mut app = app.borrow_mut();
            let replies = app.say(&customer, &text);
            prop_assert!(!replies.is_empty(), "{text:?}");
            let id = customer.parse().unwrap();
            let transcript = app.service.store().transcript(&id).unwrap();
            prop_assert_eq!(&transcript[0].text, &text);
            Ok(())
        })
        .unwrap();
}

#[test]
fn a_huge_an_empty_and_an_all_emoji_message_are_answered() {
    let mut app = TestApp::new();
    let huge = "spedizione ".repeat(100_000);
    assert!(huge.len() > 1_000_000);
    for (n, text) in [
        huge.as_str(),
        "",
        "   ",
        "😀😀😀🎉",
        "\u{200b}\u{200b}",
        "\u{202e}انتظر",
    ]
    .iter()
    .enumerate()
    {
        let customer = format!("telegram:{}", 500 + n);
        let replies = app.say(&customer, text);
        assert!(!replies.is_empty(), "{n}: no reply");
        assert!(
            replies.iter().all(|r| r.text.len() < 5_000),
            "{n}: a sane reply"
        );
    }
}

#[test]
fn replay_scripts_with_garbage_lines_report_them_and_play_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("script.jsonl");
    let mut lines: Vec<Vec<u8>> = vec![
        br#"{"at":"2026-11-24T10:00:00Z","customer":"telegram:1","text":"quanto costa la spedizione?"}"#.to_vec(),
        b"{not json".to_vec(),
        br#"{"at":"yesterday","customer":"telegram:1","text":"x"}"#.to_vec(),
        br#"{"at":"2026-11-24T10:00:00Z","customer":"no colon","text":"x"}"#.to_vec(),
        br#"{"at":"2026-11-24T10:01:00Z","operator":"anna","claim":"telegram:404"}"#.to_vec(),
        br#"{"at":"2026-11-24T10:02:00Z","customer":"telegram:2","text":"\u0000\u202e"}"#.to_vec(),
    ];
    lines.push(vec![0xff, 0xfe, b'{']);
    // After the broken line, one more good one: it is played too.
    lines.push(
        br#"{"at":"2026-11-24T10:03:00Z","customer":"telegram:3","text":"quanto costa la spedizione?"}"#
            .to_vec(),
    );
    std::fs::write(&script, lines.join(&b'\n')).unwrap();
    let out = sportello(
        &dir.path().join("data"),
        &["replay", script.to_str().unwrap()],
        "",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(101), "no panic: {stderr}");
    assert!(stderr.contains("script.jsonl:2"), "{stderr}");
    assert!(
        stderr.contains("script.jsonl:7: not UTF-8 text"),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("telegram:1") && stdout.contains("telegram:3"),
        "the good lines played, also after the broken one: {stdout}"
    );
    // A folder is no script: said as such.
    let out = sportello(
        &dir.path().join("data"),
        &["replay", dir.path().to_str().unwrap()],
        "",
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("cannot read") && stderr.contains("Is a directory"),
        "{stderr}"
    );
    assert!(!stderr.contains("UTF-8"), "{stderr}");
}
