//! The index's tests: calibration per folder, the untrained index, the shared
//! `entry` helper the folds' tests use too.

use super::*;

/// An Italian entry parsed as from its file (also the folds' tests).
pub(super) fn entry(id: &str, questions: &[&str], answer: &str) -> Entry {
    let text = format!(
        "+++\nid = \"{id}\"\nlang = \"it\"\nquestions = {}\n+++\n{answer}\n",
        serde_json::to_string(questions).unwrap()
    );
    super::super::entry::parse(std::path::Path::new(&format!("{id}.md")), &text, None).unwrap()
}

#[test]
fn each_folder_is_calibrated_on_its_own_held_out_questions() {
    let topics = [
        (
            "spedizione",
            [
                "Quanto costa la spedizione?",
                "Costi di spedizione?",
                "Spese di consegna?",
            ],
            "La spedizione costa 4,90 euro.",
        ),
        (
            "reso",
            [
                "Come faccio un reso?",
                "Posso restituire un articolo?",
                "Voglio rendere un ordine",
            ],
            "Il reso è gratuito entro 30 giorni.",
        ),
        (
            "pagamenti",
            [
                "Come posso pagare?",
                "Accettate PayPal?",
                "Metodi di pagamento?",
            ],
            "Carta, PayPal e bonifico.",
        ),
        (
            "taglie",
            [
                "Che taglia devo prendere?",
                "Guida alle taglie",
                "Le taglie sono regolari?",
            ],
            "Le taglie sono regolari.",
        ),
    ];
    let set = FaqSet {
        entries: topics.iter().map(|(id, q, a)| entry(id, q, a)).collect(),
        ..FaqSet::default()
    };
    let index = FaqIndex::build(&set).unwrap();
    let learnt = index.calibration(Lang::It);
    // Five folds, one question held out of each kept entry (three or four kept).
    assert!(learnt.questions >= 15, "{learnt:?}");
    assert!(learnt.found <= learnt.questions);
    assert_ne!(learnt, calibration::PRIOR);
    let exact = index.search(&crate::text::normalise("Accettate PayPal?"), Lang::It, 3);
    let vague = index.search(&crate::text::normalise("una domanda"), Lang::It, 3);
    assert_eq!(set.entries[exact[0].entry].id, "pagamenti");
    assert!(
        vague
            .first()
            .is_none_or(|v| v.confidence < exact[0].confidence)
    );
    // Confidences fall with the rank, and each keeps its evidence.
    assert!(exact.windows(2).all(|w| w[0].confidence >= w[1].confidence));
    assert!(exact[0].raw > 0.5, "{exact:?}");
    // Two entries are too few to learn from: the built-in prior.
    let small = FaqSet {
        entries: set.entries[..2].to_vec(),
        ..FaqSet::default()
    };
    let small = FaqIndex::build(&small).unwrap();
    assert_eq!(small.calibration(Lang::It), calibration::PRIOR);
}

#[test]
fn an_untrained_index_answers_from_the_words_then_the_classifier_joins() {
    let set = FaqSet {
        entries: vec![
            entry(
                "spedizione",
                &["Quanto costa la spedizione?", "Costi di spedizione?"],
                "La spedizione costa 4,90 euro.",
            ),
            entry(
                "reso",
                &["Come faccio un reso?", "Posso restituire un articolo?"],
                "Il reso è gratuito entro 30 giorni.",
            ),
        ],
        ..FaqSet::default()
    };
    let index = FaqIndex::build_untrained(&set).unwrap();
    assert!(!index.trained());
    let text = crate::text::normalise("quanto costa spedire?");
    let before = index.search(&text, Lang::It, 3);
    assert_eq!(before[0].entry, 0, "the words alone find it");
    assert_eq!(before[0].model, 0.0, "no classifier yet");
    index.train();
    assert!(index.trained());
    let after = index.search(&text, Lang::It, 3);
    assert_eq!(after[0].entry, 0);
    assert!(after[0].model > 0.5, "{after:?}");
    assert!(after[0].confidence > before[0].confidence);
}
