//! The care workflow on a simulated clock: opening hours in what the customer hears,
//! and acknowledgements while they wait in the queue.

use crate::support::{TestApp, sample_dirs};
use chrono::{DateTime, Duration, TimeZone, Utc};
use sportello::config::Config;
use sportello::domain::{EventKind, OutboundKind, Priority};

/// Monday to Friday with a lunch break, Saturday morning, Italian holidays.
fn shop_hours() -> Config {
    Config::parse(
        r#"
[hours]
timezone = "Europe/Rome"
holidays = "it"
mon = "09:00-13:00,14:00-18:00"
tue = "09:00-13:00,14:00-18:00"
wed = "09:00-13:00,14:00-18:00"
thu = "09:00-13:00,14:00-18:00"
fri = "09:00-13:00,14:00-18:00"
sat = "09:00-12:00"
"#,
    )
    .unwrap()
}

fn rome(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    chrono_tz::Europe::Rome
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .unwrap()
        .with_timezone(&Utc)
}

/// Ask for a person at a local time in Rome; what the customer is told.
fn handoff_at(app: &mut TestApp, customer: &str, at: DateTime<Utc>, text: &str) -> String {
    app.set_clock(at - Duration::seconds(30));
    let out = app.say(customer, text);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].kind, OutboundKind::Handoff);
    out[0].text.clone()
}

#[test]
fn an_answer_s_hours_are_the_hours_the_bot_keeps() {
    let mut app = TestApp::with_config(sample_dirs(), shop_hours());
    app.set_clock(rome(2026, 12, 1, 10, 0));
    let it = app.say("terminal:h", "Quali sono gli orari del servizio clienti?");
    assert_eq!(it[0].kind, OutboundKind::Answer, "{it:?}");
    assert!(
        it[0].text.contains(
            "risponde: lunedì–venerdì 9:00–13:00 e 14:00–18:00; sabato 9:00–12:00; chiuso \
             domenica e nei giorni festivi nazionali. Prossime chiusure: 8/12, 25/12, 26/12."
        ),
        "{it:?}"
    );
    let en = app.say("terminal:e", "What are your customer service hours?");
    assert!(
        en[0].text.contains(
            "answers by chat, email and phone: Monday–Friday 9:00–13:00 and 14:00–18:00; \
             Saturday 9:00–12:00; closed Sunday and on Italian national holidays. Coming \
             closures: 8 December, 25 December, 26 December."
        ),
        "{en:?}"
    );
    assert!(!en[0].text.contains('{'), "{en:?}");
    // A shop that set no hours: people are always in, and the answer says so.
    let mut always = TestApp::new();
    let out = always.say("terminal:a", "Quali sono gli orari del servizio clienti?");
    assert!(
        out[0]
            .text
            .contains("risponde: tutti i giorni, 24 ore su 24."),
        "{out:?}"
    );
}

#[test]
fn a_request_for_a_person_out_of_hours_is_told_when_people_are_back() {
    let mut app = TestApp::with_config(sample_dirs(), shop_hours());
    let saturday_evening = rome(2026, 11, 28, 20, 0);
    let it = handoff_at(
        &mut app,
        "terminal:sab",
        saturday_evening,
        "voglio parlare con un operatore",
    );
    assert!(it.contains("torna lunedì dalle 9:00"), "{it}");
    assert!(it.contains("numero 1 in coda"), "{it}");
    let pasquetta = rome(2026, 4, 6, 11, 0);
    let en = handoff_at(
        &mut app,
        "terminal:easter",
        pasquetta,
        "I want to talk to a human",
    );
    assert!(en.contains("we're back tomorrow from 9:00"), "{en}");
    // In hours: no word about being away.
    let tuesday = rome(2026, 3, 10, 10, 0);
    let open = handoff_at(
        &mut app,
        "terminal:open",
        tuesday,
        "voglio parlare con un operatore",
    );
    assert!(!open.contains("non è disponibile"), "{open}");
}

#[test]
fn a_wait_that_runs_past_closing_is_said_as_a_time_not_as_minutes() {
    let mut app = TestApp::with_config(sample_dirs(), shop_hours());
    // Friday, four minutes before closing: 5-15 minutes of open time end on Saturday.
    let friday = rome(2026, 11, 27, 17, 56);
    let it = handoff_at(
        &mut app,
        "terminal:late",
        friday,
        "voglio parlare con un operatore",
    );
    assert!(
        it.contains("Il team chiude prima che l'attesa stimata (5–15 minuti) finisca: ti rispondiamo entro domani alle 9:1"),
        "{it}"
    );
    // Before lunch: the same, today after the break.
    let noon = rome(2026, 12, 1, 12, 58);
    let it = handoff_at(
        &mut app,
        "terminal:noon",
        noon,
        "voglio parlare con un operatore",
    );
    assert!(it.contains("ti rispondiamo entro oggi alle 14:"), "{it}");
    // Well before closing: minutes, as always.
    let morning = rome(2026, 12, 2, 10, 0);
    let it = handoff_at(
        &mut app,
        "terminal:am",
        morning,
        "voglio parlare con un operatore",
    );
    assert!(it.contains("Attesa stimata:"), "{it}");
    assert!(!it.contains("chiude prima"), "{it}");
}

#[test]
fn a_transfer_out_of_hours_says_when_the_new_department_is_back() {
    let mut app = TestApp::with_config(sample_dirs(), shop_hours());
    let friday_evening = rome(2026, 11, 27, 17, 50);
    handoff_at(
        &mut app,
        "terminal:tr",
        friday_evening,
        "voglio parlare con un operatore",
    );
    let id = app.queue()[0].id;
    let late = rome(2026, 11, 27, 19, 30);
    app.service.claim(id, "anna", late).unwrap();
    let to = sportello::service::Transfer::Department("logistica".into());
    app.service.transfer(id, "anna", &to, late).unwrap();
    let told = app.delivered("terminal:tr");
    let moved = told.last().unwrap();
    assert!(
        moved
            .text
            .starts_with("Ho passato la tua richiesta al reparto Logistica"),
        "{told:?}"
    );
    assert!(
        moved
            .text
            .contains("non è disponibile: torna domani dalle 9:00"),
        "{told:?}"
    );
}

#[test]
fn a_transfer_names_the_department_in_the_customer_s_language() {
    // An English customer moved to a department: its English name, the configured
    // label first, never the Italian key.
    let config = Config::parse(
        r#"
[departments.logistica]
[departments.resi]
label = { it = "Resi e rimborsi", en = "Returns" }
[departments.magazzino]
"#,
    )
    .unwrap();
    let mut app = TestApp::with_config(sample_dirs(), config);
    app.say("terminal:en", "I want to talk to a human");
    let id = app.queue()[0].id;
    let now = app.now();
    app.service.claim(id, "anna", now).unwrap();
    let moves = [
        ("logistica", "our Shipping team"),
        ("resi", "our Returns team"),
        ("magazzino", "our magazzino team"),
    ];
    for (department, said) in moves {
        let to = sportello::service::Transfer::Department(department.into());
        app.service.transfer(id, "anna", &to, now).unwrap();
        let told = app.delivered("terminal:en");
        let moved = told.last().unwrap();
        assert!(moved.text.contains(said), "{department}: {told:?}");
        app.service.claim(id, "anna", now).unwrap();
    }
    app.say("terminal:it", "voglio parlare con un operatore");
    let queue = app.queue();
    let id = queue
        .iter()
        .find(|t| t.customer.as_str() == "terminal:it")
        .unwrap()
        .id;
    app.service.claim(id, "anna", now).unwrap();
    let to = sportello::service::Transfer::Department("resi".into());
    app.service.transfer(id, "anna", &to, now).unwrap();
    let told = app.delivered("terminal:it");
    assert!(
        told.last()
            .unwrap()
            .text
            .contains("al reparto Resi e rimborsi"),
        "{told:?}"
    );
}

#[test]
fn a_customer_hears_when_their_operator_puts_them_back_or_hands_them_on() {
    let mut app = TestApp::new();
    app.say("terminal:r", "voglio parlare con un operatore");
    let id = app.queue()[0].id;
    let now = app.now();
    app.service.claim(id, "anna", now).unwrap();
    app.delivered("terminal:r");
    // Released: back in the queue, and told so with the place.
    app.service.release(id, "anna", now).unwrap();
    let told = app.delivered("terminal:r");
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(
        told[0].text.contains("sei di nuovo in coda, numero 1"),
        "{told:?}"
    );
    // Handed by its operator to a colleague: a person still has it, and says so.
    let luca = sportello::accounts::Operator {
        name: "luca".into(),
        role: sportello::accounts::Role::Operator,
        departments: vec![],
        password_hash: "not a real hash".into(),
        created_at: now,
        account: "account-luca".into(),
    };
    app.service.store().add_operator(&luca).unwrap();
    app.service.claim(id, "anna", now).unwrap();
    let to = sportello::service::Transfer::Operator("luca".into());
    app.service.transfer(id, "anna", &to, now).unwrap();
    let told = app.delivered("terminal:r");
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(told[0].text.contains("a un collega"), "{told:?}");
    // Given from the queue to someone: as a claim, nothing to tell yet.
    app.service.release(id, "luca", now).unwrap();
    app.delivered("terminal:r");
    app.service.transfer(id, "anna", &to, now).unwrap();
    assert!(app.delivered("terminal:r").is_empty());
}

#[test]
fn a_complaint_written_while_queued_raises_the_request_and_is_answered() {
    let mut app = TestApp::new();
    for c in ["terminal:c1", "terminal:c2", "terminal:c3"] {
        app.say(c, "voglio parlare con un operatore");
    }
    let mine = |app: &TestApp, who: &str| {
        app.queue()
            .into_iter()
            .find(|t| t.customer.as_str() == who)
            .unwrap()
    };
    let out = app.say("terminal:c1", "è una vergogna, nessuno risponde");
    assert_eq!(out.len(), 1, "{out:?}");
    assert!(
        out[0]
            .text
            .starts_with("Mi dispiace per l'attesa. Sei il primo in coda"),
        "{out:?}"
    );
    assert_eq!(mine(&app, "terminal:c1").priority, Priority::High);
    // Raised past the request that is not a complaint, behind the one raised before.
    let out = app.say("terminal:c3", "sono stufo di aspettare, è inaccettabile");
    assert!(
        out[0]
            .text
            .contains("Ho dato la precedenza alla tua richiesta: ora sei il numero 2 in coda"),
        "{out:?}"
    );
    // Already raised: no second raise, the place as it is.
    let out = app.say("terminal:c3", "vergogna, nessuno risponde");
    assert!(
        out[0]
            .text
            .contains("Sei il numero 2 in coda, e chi ti risponde leggerà anche questo"),
        "{out:?}"
    );
    assert_eq!(mine(&app, "terminal:c2").priority, Priority::Normal);
}

#[test]
fn a_queued_customer_writing_often_is_acknowledged_but_never_flooded() {
    let mut app = TestApp::new();
    let start = app.now();
    app.say("terminal:w", "voglio parlare con un operatore");
    let mut acks = Vec::new();
    // Six messages over eight minutes: at 0:30, 0:35, 1:00, 3:40, 4:10, 8:00.
    for (i, after) in [30, 35, 60, 220, 250, 480].into_iter().enumerate() {
        app.set_clock(start + Duration::seconds(after));
        let out = app.say("terminal:w", &format!("ci siete? messaggio {i}"));
        assert!(
            out.iter().all(|o| o.kind == OutboundKind::Waiting),
            "{out:?}"
        );
        acks.push(
            out.into_iter()
                .map(|o| o.text)
                .collect::<Vec<_>>()
                .join(" "),
        );
    }
    // Never silent: a short "noted", the place in the queue at most every three minutes
    // (3:40 and 8:00); 0:35 and 1:00, in one burst with 0:30, do not hear it again.
    let long: Vec<usize> = (0..acks.len())
        .filter(|i| acks[*i].contains("ancora il numero 1"))
        .collect();
    assert_eq!(long, [3, 5], "{acks:?}");
    assert_eq!(acks[1..3], ["", ""], "a burst hears it once: {acks:?}");
    for i in [0, 4] {
        assert!(acks[i].starts_with("Ricevuto"), "{acks:?}");
    }
    // Every message reached the operator's side.
    let ticket = &app.queue()[0];
    let transcript = app.service.store().transcript(&ticket.customer).unwrap();
    let from_customer = transcript
        .iter()
        .filter(|m| m.author == sportello::domain::Author::Customer)
        .count();
    assert_eq!(from_customer, 7);
}

#[test]
fn a_queued_customer_s_faq_question_is_answered_at_once_and_the_place_is_kept() {
    let mut app = TestApp::new();
    app.say("terminal:q", "voglio parlare con un operatore");
    app.say("terminal:r", "voglio parlare con un operatore");
    let before: Vec<_> = app.queue().iter().map(|t| t.id).collect();
    let out = app.say("terminal:r", "quanto costa la spedizione?");
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].kind, OutboundKind::Answer);
    let answer = app.answer_of("costi-di-spedizione");
    assert!(out[0].text.starts_with(&answer), "{out:?}");
    assert!(out[0].text.contains("sei il numero 2"), "{out:?}");
    let after: Vec<_> = app.queue().iter().map(|t| t.id).collect();
    assert_eq!(before, after, "same tickets, same order");
    // With an operator on it, the bot stays out of the way.
    let first = before[0];
    app.service.claim(first, "anna", app.now()).unwrap();
    assert!(
        app.say("terminal:q", "quanto costa la spedizione?")
            .is_empty()
    );
}

#[test]
fn a_burst_of_the_same_message_gets_one_answer() {
    let mut app = TestApp::new();
    let start = app.now();
    let mut replies = 0;
    for i in 0..8 {
        app.set_clock(start + Duration::seconds(i * 2));
        replies += app.say("terminal:b", "quanto costa la spedizione?").len();
    }
    assert_eq!(replies, 1);
    // Later, the same question is answered again.
    app.set_clock(start + Duration::minutes(5));
    assert_eq!(
        app.say("terminal:b", "quanto costa la spedizione?").len(),
        1
    );
}

#[test]
fn a_question_put_another_way_is_answered_even_with_the_same_choices() {
    let mut app = TestApp::new();
    let start = app.now();
    let first = app.say("terminal:p", "pagamento");
    app.set_clock(start + Duration::seconds(3));
    let again = app.say("terminal:p", "info sul pagamento");
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(again.len(), 1, "never silent: {again:?}");
    assert_eq!(
        (first[0].kind, &first[0].text),
        (again[0].kind, &again[0].text),
        "the same choices, said again"
    );
}

#[test]
fn the_position_said_while_waiting_counts_only_the_department_s_waiting_tickets() {
    let mut app = TestApp::new();
    let start = app.now();
    app.say("terminal:a", "voglio parlare con un operatore");
    app.say("terminal:b", "voglio parlare con un operatore");
    let first = app.queue()[0].id;
    app.service.claim(first, "anna", app.now()).unwrap();
    app.set_clock(start + Duration::minutes(5));
    let out = app.say("terminal:b", "ci siete?");
    assert!(out[0].text.contains("ancora il numero 1"), "{out:?}");
}

/// Hand off, claim and close a ticket for `customer`; what the customer got at close.
fn served_and_closed(app: &mut TestApp, customer: &str) -> Vec<sportello::domain::Outbound> {
    app.say(customer, "voglio parlare con un operatore");
    let id = app.queue()[0].id;
    let now = app.now();
    app.service.claim(id, "anna", now).unwrap();
    app.service
        .reply(id, "anna", "Fatto, il rimborso è partito.", now)
        .unwrap();
    app.delivered(customer);
    app.service.close(id, "anna", now).unwrap();
    app.delivered(customer)
}

fn survey_answers(app: &TestApp) -> Vec<(String, u8, Option<String>)> {
    app.service
        .store()
        .events()
        .filter_map(|e| match e.unwrap().kind {
            EventKind::SurveyAnswered {
                survey,
                score,
                comment,
                ..
            } => Some((format!("{survey:?}"), score, comment)),
            _ => None,
        })
        .collect()
}

#[test]
fn after_a_close_csat_then_nps_are_asked_and_the_answers_are_recorded_not_matched() {
    let mut app = TestApp::new();
    let closed = served_and_closed(&mut app, "terminal:s");
    let question = closed.last().unwrap();
    assert_eq!(question.kind, OutboundKind::Survey);
    let labels: Vec<&str> = question.choices.iter().map(|c| c.label.as_str()).collect();
    assert_eq!(labels, ["1", "2", "3", "4", "5"]);
    let nps = app.say("terminal:s", "5 gentilissimi");
    assert_eq!(nps.len(), 1);
    assert_eq!(nps[0].kind, OutboundKind::Survey);
    assert_eq!(nps[0].choices.len(), 11, "0 to 10");
    let thanks = app.say("terminal:s", "9");
    assert_eq!(thanks[0].kind, OutboundKind::Survey);
    assert_eq!(
        survey_answers(&app),
        [
            ("Csat".into(), 5, Some("gentilissimi".into())),
            ("Nps".into(), 9, None)
        ]
    );
    // After the survey a number is an ordinary message again.
    let after = app.say("terminal:s", "quanto costa la spedizione?");
    assert_eq!(after[0].kind, OutboundKind::Answer);
}

#[test]
fn a_worded_answer_is_a_score_said_back_to_the_customer() {
    let mut app = TestApp::new();
    served_and_closed(&mut app, "terminal:w");
    // The question's own end of the scale, in words.
    let nps = app.say("terminal:w", "Benissimo, grazie!");
    assert_eq!(nps.len(), 1, "{nps:?}");
    assert!(
        nps[0].text.contains("5 su 5") && nps[0].choices.len() == 11,
        "how it was read, then the NPS: {nps:?}"
    );
    let thanks = app.say("terminal:w", "otto su dieci");
    assert!(thanks[0].text.contains("8 su 10"), "{thanks:?}");
    assert_eq!(
        survey_answers(&app),
        [
            ("Csat".into(), 5, Some("grazie".into())),
            ("Nps".into(), 8, None)
        ]
    );
    // An acknowledgement, or a message the bot does not understand, leaves the question
    // standing: the score after it still counts, and nobody is handed to a person.
    served_and_closed(&mut app, "terminal:k");
    let ok = app.say("terminal:k", "ok");
    assert_eq!(ok[0].kind, OutboundKind::Reply, "{ok:?}");
    assert!(
        ok[0]
            .text
            .ends_with("Se ti va, lasciaci un voto da 1 (male) a 5 (benissimo).")
            && ok[0].choices.len() == 5,
        "the question still stands, with its buttons: {ok:?}"
    );
    let puzzled = app.say("terminal:k", "mah boh");
    assert_eq!(puzzled[0].kind, OutboundKind::Fallback, "{puzzled:?}");
    let scored = app.say("terminal:k", "4");
    assert!(scored[0].text.contains("4 su 5"), "{scored:?}");
    assert!(
        app.queue()
            .iter()
            .all(|t| t.customer.as_str() != "terminal:k")
    );
    assert_eq!(survey_answers(&app).len(), 3);
    // A thanks to the operator is no top score, and leaves the question standing; a
    // greeting ends it, and a number that counts days is no score.
    served_and_closed(&mut app, "terminal:g");
    let thanks = app.say("terminal:g", "perfetto, grazie");
    assert_eq!(thanks[0].kind, OutboundKind::Reply, "{thanks:?}");
    app.say("terminal:g", "ciao");
    let later = app.say(
        "terminal:g",
        "3 giorni fa ho ordinato delle scarpe ma non è arrivato niente",
    );
    assert_ne!(later[0].kind, OutboundKind::Survey, "{later:?}");
    assert_eq!(survey_answers(&app).len(), 3);
    // A sentence that starts with a number word is a message, not a score.
    served_and_closed(&mut app, "terminal:w");
    let out = app.say("terminal:w", "due magliette sono arrivate rotte");
    assert_ne!(out[0].kind, OutboundKind::Survey, "{out:?}");
    assert_eq!(survey_answers(&app).len(), 3);
}

#[test]
fn a_score_out_of_range_is_asked_again_and_the_survey_goes_on() {
    let mut app = TestApp::new();
    served_and_closed(&mut app, "terminal:o");
    let again = app.say("terminal:o", "6");
    assert_eq!(again.len(), 1, "{again:?}");
    assert_eq!(again[0].kind, OutboundKind::Survey, "{again:?}");
    assert!(again[0].text.contains("da 1"), "{again:?}");
    assert_eq!(again[0].choices.len(), 5, "the buttons again");
    let nps = app.say("terminal:o", "4");
    assert_eq!(
        nps[0].choices.len(),
        11,
        "CSAT recorded, NPS asked: {nps:?}"
    );
    let again = app.say("terminal:o", "11");
    assert!(again[0].text.contains("da 0"), "{again:?}");
    app.say("terminal:o", "10");
    assert_eq!(
        survey_answers(&app),
        [("Csat".into(), 4, None), ("Nps".into(), 10, None)]
    );
    // A day after it was asked, the survey is over even if it was asked again.
    served_and_closed(&mut app, "terminal:o");
    app.set_clock(app.now() + Duration::hours(23));
    let zero = app.say("terminal:o", "0");
    assert!(zero[0].text.contains("da 1"), "0 is asked again: {zero:?}");
    app.set_clock(app.now() + Duration::hours(2));
    let late = app.say("terminal:o", "5");
    assert_ne!(late[0].kind, OutboundKind::Survey, "{late:?}");
    assert_eq!(survey_answers(&app).len(), 2);
}

#[test]
fn an_ignored_survey_never_blocks_the_next_question() {
    let mut app = TestApp::new();
    served_and_closed(&mut app, "terminal:i");
    let out = app.say("terminal:i", "quanto costa la spedizione?");
    assert_eq!(out[0].kind, OutboundKind::Answer, "{out:?}");
    assert!(survey_answers(&app).is_empty());
    // The survey is gone: a lone number later is not taken as a score.
    app.say("terminal:i", "4");
    assert!(survey_answers(&app).is_empty());
}

#[test]
fn nps_is_asked_at_most_once_in_ninety_days() {
    let mut app = TestApp::new();
    served_and_closed(&mut app, "terminal:n");
    app.say("terminal:n", "4");
    app.say("terminal:n", "8");
    app.set_clock(app.now() + Duration::days(30));
    served_and_closed(&mut app, "terminal:n");
    let thanks = app.say("terminal:n", "5");
    assert!(
        thanks[0].choices.is_empty(),
        "no NPS again within 90 days: {thanks:?}"
    );
    app.set_clock(app.now() + Duration::days(61));
    served_and_closed(&mut app, "terminal:n");
    let nps = app.say("terminal:n", "5");
    assert_eq!(nps[0].choices.len(), 11, "NPS is due again after 90 days");
    let kinds: Vec<String> = survey_answers(&app).into_iter().map(|a| a.0).collect();
    assert_eq!(kinds, ["Csat", "Nps", "Csat", "Csat"]);
}

#[test]
fn a_request_that_starts_with_a_number_is_not_taken_for_a_score() {
    let mut app = TestApp::new();
    served_and_closed(&mut app, "terminal:r");
    let out = app.say("terminal:r", "1, voglio parlare con un operatore");
    assert_eq!(out[0].kind, OutboundKind::Handoff, "{out:?}");
    assert!(survey_answers(&app).is_empty());
    let mut app = TestApp::new();
    served_and_closed(&mut app, "terminal:q");
    app.say("terminal:q", "2 paia di scarpe non arrivate, dove sono?");
    assert!(survey_answers(&app).is_empty());
}

/// The worst scores are the ones that complain: "2 servizio pessimo" is a score that
/// counts and a complaint that reaches a person, at once.
#[test]
fn a_score_that_complains_counts_and_goes_to_a_person() {
    let mut app = TestApp::new();
    served_and_closed(&mut app, "terminal:c");
    let out = app.say("terminal:c", "2 servizio pessimo");
    assert_eq!(out[0].kind, OutboundKind::Handoff, "{out:?}");
    let answers = survey_answers(&app);
    assert_eq!(answers.len(), 1, "{answers:?}");
    assert_eq!((answers[0].0.as_str(), answers[0].1), ("Csat", 2));
    assert!(
        answers[0]
            .2
            .as_deref()
            .is_some_and(|c| c.contains("pessimo")),
        "{answers:?}"
    );
    let queued = app.queue();
    assert_eq!(queued.len(), 1, "{queued:?}");
    assert_eq!(
        queued[0].reason,
        sportello::domain::HandoffReason::Complaint
    );
    // A quantity in a complaint is no score; a low score before a request is one.
    for (customer, text, scores) in [
        ("terminal:d", "5 giorni che aspetto, vergogna", vec![]),
        (
            "terminal:e",
            "1 pessimo, voglio parlare con un operatore",
            vec![1u8],
        ),
    ] {
        let mut app = TestApp::new();
        served_and_closed(&mut app, customer);
        let out = app.say(customer, text);
        assert_eq!(out[0].kind, OutboundKind::Handoff, "{text}: {out:?}");
        let given: Vec<u8> = survey_answers(&app).iter().map(|a| a.1).collect();
        assert_eq!(given, scores, "{text}");
    }
}

#[test]
fn a_survey_expires_after_a_day_and_unanswered_tickets_ask_none() {
    let mut app = TestApp::new();
    served_and_closed(&mut app, "terminal:e");
    app.set_clock(app.now() + Duration::hours(25));
    app.say("terminal:e", "4");
    assert!(
        survey_answers(&app).is_empty(),
        "a day later, 4 is not a score"
    );

    app.say("terminal:u", "voglio parlare con un operatore");
    let id = app.queue()[0].id;
    app.service.close(id, "anna", app.now()).unwrap();
    let closed = app.delivered("terminal:u");
    assert!(
        closed.iter().all(|o| o.kind != OutboundKind::Survey),
        "{closed:?}"
    );
}

fn promise_events(app: &TestApp) -> Vec<&'static str> {
    app.service
        .store()
        .events()
        .filter_map(|e| match e.unwrap().kind {
            EventKind::PromiseMade { .. } => Some("made"),
            EventKind::PromiseKept { .. } => Some("kept"),
            EventKind::PromiseBroken { .. } => Some("broken"),
            _ => None,
        })
        .collect()
}

#[test]
fn a_broken_estimate_gets_exactly_one_update_and_counts_as_broken() {
    let mut app = TestApp::new();
    let handoff = app.say("terminal:p", "voglio parlare con un operatore");
    let start = app.now();
    assert!(
        handoff[0].text.contains("Attesa stimata: 5–15 minuti"),
        "{handoff:?}"
    );
    assert!(
        app.service
            .fire_due(start + Duration::minutes(10))
            .unwrap()
            .is_empty()
    );
    let late = start + Duration::minutes(16);
    assert_eq!(app.service.fire_due(late).unwrap().len(), 1);
    assert!(app.service.fire_due(late).unwrap().is_empty(), "fires once");
    let update = app.delivered("terminal:p");
    assert_eq!(update.len(), 1, "{update:?}");
    assert_eq!(update[0].kind, OutboundKind::Waiting);
    assert!(update[0].text.starts_with("Scusa l'attesa"), "{update:?}");
    // Not the range just broken again: from where it ended.
    assert!(
        update[0].text.contains("Attesa stimata: 15–30 minuti"),
        "{update:?}"
    );
    let ticket = &app.queue()[0];
    assert_eq!(
        ticket.priority,
        sportello::domain::Priority::High,
        "moved up"
    );
    app.service
        .claim(ticket.id, "anna", start + Duration::minutes(20))
        .unwrap();
    assert_eq!(promise_events(&app), ["made", "broken", "made", "kept"]);
}

#[test]
fn a_late_update_says_the_place_after_the_raise_and_never_promises_first_place() {
    let mut app = TestApp::new();
    let start = app.now();
    app.say("terminal:x", "è una vergogna, voglio parlare con qualcuno");
    app.say("terminal:y", "voglio parlare con un operatore");
    let queue = app.queue();
    assert_eq!(queue.len(), 2);
    assert_eq!(queue[0].department, queue[1].department, "{queue:?}");
    app.delivered("terminal:x");
    app.delivered("terminal:y");
    // Every promise falls due within a few hours: each customer hears once when.
    let mut heard: std::collections::BTreeMap<&str, String> = Default::default();
    for minute in 1..=240 {
        app.service
            .fire_due(start + Duration::minutes(minute))
            .unwrap();
        for customer in ["terminal:x", "terminal:y"] {
            for update in app.delivered(customer) {
                heard.entry(customer).or_insert(update.text);
            }
        }
    }
    let first = &heard["terminal:x"];
    assert!(
        first.contains("Sei il primo in coda"),
        "the complaint is first: {first}"
    );
    // The second is raised too, but stays behind the complaint raised before it:
    // its place is 2, and it is not told it moved up or comes first.
    let second = &heard["terminal:y"];
    assert!(second.contains("Sei il numero 2 in coda."), "{second}");
    assert!(
        !second.contains("avanti") && !second.contains("precedenza"),
        "{second}"
    );
}

#[test]
fn a_queue_that_moves_a_lot_gets_each_waiting_customer_one_update() {
    let mut app = TestApp::new();
    let customers: Vec<String> = (1..=6).map(|i| format!("terminal:q{i}")).collect();
    for c in &customers {
        app.say(c, "voglio parlare con un operatore");
    }
    let mut queue = app.queue();
    queue.sort_by_key(|t| t.id);
    let now = app.now() + Duration::minutes(1);
    let updates_after_claim = |app: &TestApp, n: usize| {
        app.service.claim(queue[n].id, "anna", now).unwrap();
        let told = app.service.fire_due(now).unwrap();
        told.iter().map(|c| c.to_string()).collect::<Vec<_>>()
    };
    assert!(
        updates_after_claim(&app, 0).is_empty(),
        "one place is not news"
    );
    assert!(updates_after_claim(&app, 1).is_empty());
    // Third claim: 4, 5 and 6 went from 4, 5, 6 to 1, 2, 3.
    assert_eq!(updates_after_claim(&app, 2), &customers[3..]);
    let update = app.delivered("terminal:q6");
    assert_eq!(update.len(), 1, "{update:?}");
    assert!(
        update[0]
            .text
            .starts_with("Buone notizie: ora sei il numero 3 in coda."),
        "{update:?}"
    );
    assert!(
        updates_after_claim(&app, 3).is_empty(),
        "told once, not again"
    );
}

#[test]
fn a_promise_is_a_timer_in_the_store_that_fires_after_a_restart() {
    let mut app = TestApp::new();
    app.say("terminal:t", "voglio parlare con un operatore");
    let due = app.queue()[0].promise.clone().unwrap().due;
    let app = app.restart();
    assert_eq!(app.service.next_due().unwrap(), Some(due));
    assert_eq!(app.service.fire_due(due).unwrap().len(), 1);
    assert_eq!(promise_events(&app), ["made", "broken", "made"]);
}

#[test]
fn a_ticket_near_or_past_its_first_response_target_is_flagged() {
    let config = Config::parse("[departments.assistenza]\nsla_first_response = \"10m\"\n").unwrap();
    let mut app = TestApp::with_config(sample_dirs(), config);
    app.say("terminal:sla", "voglio parlare con un operatore");
    let ticket = app.queue()[0].clone();
    assert_eq!(ticket.department, "assistenza");
    let at = |m| ticket.opened_at + Duration::minutes(m);
    let config = app.service.config();
    use sportello::care::SlaState;
    assert_eq!(config.sla_of(&ticket, at(5)), Some(SlaState::Ok));
    assert_eq!(config.sla_of(&ticket, at(9)), Some(SlaState::Near));
    assert_eq!(config.sla_of(&ticket, at(11)), Some(SlaState::Breached));
    app.service.claim(ticket.id, "anna", at(3)).unwrap();
    let answered = app
        .service
        .reply(ticket.id, "anna", "Eccomi", at(4))
        .unwrap();
    assert_eq!(config.sla_of(&answered, at(60)), Some(SlaState::Met));
}
