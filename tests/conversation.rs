//! What customers experience talking to the bot.

use crate::support::TestApp;
use sportello::domain::triage::Decision;
use sportello::domain::{ChoiceTarget, HandoffReason, Lang, Mode, OutboundKind, Priority};

#[test]
fn a_greeting_is_answered() {
    let mut app = TestApp::new();
    let out = app.say("terminal:anna", "Ciao!");
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].kind, OutboundKind::Reply);
    assert!(out[0].text.contains("Passo & Filo"), "{}", out[0].text);
}

#[test]
fn a_shipping_question_gets_the_shipping_entry_in_both_languages() {
    let mut app = TestApp::new();
    let it = app.say("terminal:it", "quanto costa la spedizione?");
    assert_eq!(it[0].kind, OutboundKind::Answer);
    assert_eq!(it[0].text, app.answer_of("costi-di-spedizione"));
    let en = app.say("terminal:en", "how much does shipping cost?");
    assert_eq!(en[0].text, app.answer_of("shipping-costs"));
    assert_eq!(app.lang_of("terminal:en"), Some(Lang::En));
}

#[test]
fn a_redelivered_message_is_dropped() {
    let mut app = TestApp::new();
    let inbound = app.inbound("telegram:1", "quanto costa la spedizione?");
    assert!(!app.service.handle_inbound(&inbound).unwrap().duplicate);
    assert!(app.service.handle_inbound(&inbound).unwrap().duplicate);
    assert_eq!(app.delivered("telegram:1").len(), 1);
}

#[test]
fn a_one_word_message_does_not_flip_the_language() {
    let mut app = TestApp::new();
    app.say("terminal:g", "buongiorno, quanto costa la spedizione?");
    app.say("terminal:g", "ok");
    app.say("terminal:g", "newsletter");
    assert_eq!(app.lang_of("terminal:g"), Some(Lang::It));
    app.say("terminal:g", "sorry, how do I return my shoes?");
    assert_eq!(app.lang_of("terminal:g"), Some(Lang::En));
}

#[test]
fn an_ambiguous_question_offers_choices_that_can_be_picked_by_number() {
    let mut app = TestApp::new();
    let out = app.say("terminal:c", "spedizione");
    assert_eq!(out[0].kind, OutboundKind::Clarify, "{out:?}");
    let choices = &out[0].choices;
    assert!((3..=4).contains(&choices.len()), "{choices:?}");
    assert_eq!(choices.last().unwrap().target, ChoiceTarget::Human);
    let ChoiceTarget::Faq(first) = &choices[0].target else {
        panic!("{choices:?}")
    };
    let picked = app.say("terminal:c", "1");
    assert_eq!(picked[0].text, app.answer_of(first));
}

#[test]
fn picking_the_person_choice_hands_off() {
    let mut app = TestApp::new();
    let out = app.say("terminal:p", "spedizione");
    let n = out[0].choices.len();
    let handled = app.send("terminal:p", &n.to_string());
    assert!(
        matches!(
            handled.decision,
            Some(Decision::HandOff {
                reason: HandoffReason::Asked,
                ..
            })
        ),
        "{handled:?}"
    );
}

#[test]
fn two_messages_in_a_row_without_a_match_hand_off() {
    let mut app = TestApp::new();
    let first = app.say("terminal:x", "vorrei comprare un trattore agricolo usato");
    assert_eq!(first[0].kind, OutboundKind::Fallback);
    let second = app.send("terminal:x", "mi serve un preventivo per un trattore");
    let Some(Decision::HandOff { reason, .. }) = second.decision else {
        panic!("{second:?}")
    };
    assert_eq!(reason, HandoffReason::LowConfidence);
    assert_eq!(app.queue().len(), 1);
}

#[test]
fn an_answer_between_two_misses_resets_the_count() {
    let mut app = TestApp::new();
    app.say("terminal:r", "vorrei comprare un trattore agricolo usato");
    app.say("terminal:r", "quanto costa la spedizione?");
    let third = app.say("terminal:r", "mi serve un preventivo per un trattore");
    assert_eq!(third[0].kind, OutboundKind::Fallback);
    assert!(app.queue().is_empty());
}

#[test]
fn a_complaint_hands_off_with_high_priority_ahead_of_earlier_requests() {
    let mut app = TestApp::new();
    app.say("terminal:calm", "voglio parlare con un operatore");
    let out = app.say(
        "terminal:angry",
        "è una vergogna, il pacco non arriva e nessuno risponde",
    );
    assert_eq!(out[0].kind, OutboundKind::Handoff);
    let queue = app.queue();
    assert_eq!(queue[0].customer.as_str(), "terminal:angry");
    assert_eq!(queue[0].priority, Priority::High);
    assert_eq!(queue[0].reason, HandoffReason::Complaint);
    assert_eq!(queue[1].customer.as_str(), "terminal:calm");
}

#[test]
fn an_order_number_is_captured_into_the_ticket() {
    let mut app = TestApp::new();
    app.say(
        "terminal:o",
        "ciao, il mio ordine n. 4521178 non è ancora arrivato",
    );
    app.say("terminal:o", "voglio parlare con un operatore");
    assert_eq!(app.queue()[0].order_number.as_deref(), Some("4521178"));
}

#[test]
fn an_order_number_given_while_waiting_goes_on_the_ticket() {
    let mut app = TestApp::new();
    app.say("terminal:w", "voglio parlare con un operatore");
    assert_eq!(app.queue()[0].order_number, None);
    app.say("terminal:w", "il mio ordine 1234567 non è arrivato");
    assert_eq!(app.queue()[0].order_number.as_deref(), Some("1234567"));
    // The ticket keeps the first one; the conversation remembers them all.
    app.say("terminal:w", "anche l'ordine 7654321");
    assert_eq!(app.queue()[0].order_number.as_deref(), Some("1234567"));
}

#[test]
fn the_customer_can_take_back_a_request_while_queued() {
    let mut app = TestApp::new();
    app.say("terminal:t", "voglio parlare con un operatore");
    let out = app.say("terminal:t", "lascia stare, ho risolto");
    assert_eq!(out[0].kind, OutboundKind::Cancelled);
    assert!(app.queue().is_empty());
    let id = sportello::domain::CustomerId::parse("terminal:t").unwrap();
    assert_eq!(
        app.service.store().conversation(&id).unwrap().unwrap().mode,
        Mode::Bot
    );
    let again = app.say("terminal:t", "quanto costa la spedizione?");
    assert_eq!(again[0].kind, OutboundKind::Answer);
}

#[test]
fn the_word_the_handoff_names_cancels_with_a_word_around_it() {
    let mut app = TestApp::new();
    for (n, text) in [
        "annulla grazie",
        "ok annulla",
        "no, lascia perdere",
        "Annulla!",
        "cancel please",
    ]
    .into_iter()
    .enumerate()
    {
        let who = format!("terminal:c{n}");
        app.say(&who, "voglio parlare con un operatore");
        let out = app.say(&who, text);
        assert_eq!(out[0].kind, OutboundKind::Cancelled, "{text}: {out:?}");
    }
    assert!(app.queue().is_empty());
    // Cancelling an order is still the FAQ's, not a request taken back.
    app.say("terminal:o", "voglio parlare con un operatore");
    let out = app.say("terminal:o", "voglio annullare l'ordine");
    assert_ne!(out[0].kind, OutboundKind::Cancelled, "{out:?}");
    assert_eq!(app.queue().len(), 1);
}

#[test]
fn a_message_of_two_questions_gets_both_answers() {
    let mut app = TestApp::new();
    let out = app.say(
        "terminal:due",
        "posso pagare con paypal? quanto ci mette ad arrivare?",
    );
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].kind, OutboundKind::Answer);
    let payment = app.answer_of("metodi-di-pagamento");
    let delivery = app.answer_of("tempi-di-consegna");
    assert_eq!(out[0].text, format!("{payment}\n\n{delivery}"));
    let en = app.say(
        "terminal:two",
        "how much is shipping? can I pay with paypal?",
    );
    assert_eq!(en[0].kind, OutboundKind::Answer, "{en:?}");
    assert!(
        en[0].text.contains(&app.answer_of("shipping-costs"))
            && en[0].text.contains(&app.answer_of("payment-methods")),
        "{en:?}"
    );
    // A question and a thanks: one question, answered as one.
    let one = app.say("terminal:uno", "quanto costa la spedizione? grazie?");
    assert_eq!(one[0].text, app.answer_of("costi-di-spedizione"));
}
