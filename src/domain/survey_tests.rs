//! Reading survey answers: digits, stars, words, scales, quantities, thanks.

use super::*;

#[test]
fn scores_are_read_with_their_comment() {
    let csat = |t| read_answer(t, SurveyKind::Csat);
    assert_eq!(csat("5"), Some((5, None)));
    assert_eq!(csat(" 4/5 "), Some((4, None)));
    assert_eq!(csat("voto 3"), Some((3, None)));
    assert_eq!(
        csat("2 - troppo lenti"),
        Some((2, Some("troppo lenti".into())))
    );
    assert_eq!(csat("⭐⭐⭐⭐"), Some((4, None)));
    assert_eq!(read_answer("10!", SurveyKind::Nps), Some((10, None)));
    assert_eq!(read_answer("0", SurveyKind::Nps), Some((0, None)));
}

#[test]
fn questions_and_out_of_range_numbers_are_not_answers() {
    let csat = |t| read_answer(t, SurveyKind::Csat);
    assert_eq!(csat("quanto costa la spedizione?"), None);
    assert_eq!(csat("6"), None);
    assert_eq!(csat("0"), None);
    assert_eq!(csat("3x2 sulle magliette?"), None);
    assert_eq!(csat("123456"), None);
    assert_eq!(read_answer("11", SurveyKind::Nps), None);
    assert_eq!(csat("⭐⭐⭐⭐⭐⭐"), None);
}

#[test]
fn a_bare_score_out_of_range_is_told_from_a_question() {
    let csat = |t| out_of_range(t, SurveyKind::Csat);
    for meant in ["6", "0", " 7/10 ", "voto 9", "10!", "⭐⭐⭐⭐⭐⭐"] {
        assert!(csat(meant), "{meant:?} is a score out of range");
    }
    for other in [
        "5",
        "3/5",
        "6 euro di spedizione?",
        "6 taglie?",
        "quanto costa?",
        "123",
    ] {
        assert!(!csat(other), "{other:?} is no score out of range");
    }
    assert!(out_of_range("11", SurveyKind::Nps));
    assert!(!out_of_range("10", SurveyKind::Nps));
    assert!(
        !out_of_range("⭐⭐⭐⭐⭐⭐", SurveyKind::Nps),
        "stars are a CSAT's"
    );
}

#[test]
fn worded_scores_are_read_on_the_question_s_scale() {
    let csat = |t| read_answer(t, SurveyKind::Csat);
    let nps = |t| read_answer(t, SurveyKind::Nps);
    assert_eq!(csat("Cinque"), Some((5, None)));
    assert_eq!(csat("quattro su cinque"), Some((4, None)));
    assert_eq!(csat("voto tre"), Some((3, None)));
    assert_eq!(csat("benissimo!"), Some((5, None)));
    assert_eq!(csat("Male"), Some((1, None)));
    assert_eq!(csat("molto bene"), Some((5, None)));
    assert_eq!(csat("così così"), Some((3, None)));
    assert_eq!(csat("so-so"), Some((3, None)));
    assert_eq!(csat("very bad"), Some((1, None)));
    assert_eq!(
        csat("Ottimo servizio, grazie"),
        Some((5, Some("servizio, grazie".into())))
    );
    assert_eq!(csat("excellent"), Some((5, None)));
    assert_eq!(
        csat("scarso - ho aspettato troppo"),
        Some((2, Some("ho aspettato troppo".into())))
    );
    assert_eq!(nps("dieci"), Some((10, None)));
    assert_eq!(nps("otto su dieci, bravi"), Some((8, Some("bravi".into()))));
    assert_eq!(nps("eight out of ten"), Some((8, None)));
    assert_eq!(nps("zero"), Some((0, None)));
    assert_eq!(nps("8 su 10"), Some((8, None)));
    assert_eq!(csat("non male"), Some((3, None)));
    assert_eq!(csat("not great"), Some((2, None)));
    assert_eq!(csat("not very good"), Some((2, None)));
    assert_eq!(csat("meh"), Some((2, None)));
    assert_eq!(csat("cinque stelle"), Some((5, Some("stelle".into()))));
}

#[test]
fn thanks_and_acknowledgements_are_told_from_other_messages() {
    for ack in [
        "ok",
        "Grazie mille!",
        "perfetto, grazie",
        "👍",
        "ok thank you",
        "va bene",
    ] {
        assert!(acknowledges(ack), "{ack:?}");
    }
    for other in [
        "ciao",
        "ok?",
        "no, lascia perdere",
        "grazie ma il pacco?",
        "😡",
        "",
        "ok ma dov'è il pacco",
    ] {
        assert!(!acknowledges(other), "{other:?}");
    }
}

#[test]
fn a_score_on_another_scale_or_a_quantity_is_no_answer() {
    let csat = |t| read_answer(t, SurveyKind::Csat);
    // "5 su 10" to a 1-5 question is a middling score, not a top one: asked again.
    for other_scale in ["5 su 10", "3 out of ten", "2/10"] {
        assert_eq!(csat(other_scale), None, "{other_scale}");
        assert!(out_of_range(other_scale, SurveyKind::Csat), "{other_scale}");
    }
    assert_eq!(read_answer("quattro su cinque", SurveyKind::Nps), None);
    assert!(out_of_range("quattro su cinque", SurveyKind::Nps));
    assert_eq!(csat("4 su 5"), Some((4, None)));
    // A number that counts something starts a message, not a score.
    assert_eq!(csat("3 giorni fa ho ordinato delle scarpe"), None);
    assert_eq!(csat("2 paia non arrivate"), None);
    // A thanks is no top score.
    assert_eq!(csat("perfetto, grazie"), None);
    assert_eq!(csat("great, thanks"), None);
}

#[test]
fn words_that_only_start_a_message_are_no_score() {
    let csat = |t| read_answer(t, SurveyKind::Csat);
    for other in [
        "due magliette sono arrivate rotte",
        "bene ma il pacco dov'è",
        "una domanda sui resi",
        "ok",
        "grazie",
        "sei un bot?",
        "molto cinque",
        "cinque giorni che aspetto",
    ] {
        assert_eq!(csat(other), None, "{other:?} is no score");
    }
    // The NPS asks how likely, not how good: its words are numbers only.
    assert_eq!(read_answer("ottimo", SurveyKind::Nps), None);
    // A worded number out of range is meant as a score: the range is asked again.
    assert!(out_of_range("sei", SurveyKind::Csat));
    assert!(out_of_range("undici", SurveyKind::Nps));
    // The 0-10 scale written to the 1-5 question: asked again, not dropped.
    assert!(out_of_range("10 out of 10", SurveyKind::Csat));
    assert!(out_of_range("8 su 10", SurveyKind::Csat));
    assert!(!out_of_range("sei un bot?", SurveyKind::Csat));
}
