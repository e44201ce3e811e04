//! What the bot says in its own words, per language. FAQ answers and intent replies
//! come from the content folders; these are the service's fixed lines.

use crate::domain::{HandoffReason, Lang};

/// Did you mean…: `entries` is how many FAQ entries the choices offer (besides "a
/// person").
pub fn clarify(lang: Lang, entries: usize) -> &'static str {
    match (lang, entries) {
        (Lang::It, 1) => "Non sono sicuro di aver capito bene. Intendevi questo?",
        (Lang::It, _) => "Non sono sicuro di aver capito bene. Intendevi una di queste?",
        (Lang::En, 1) => "I'm not sure I got that right. Did you mean this?",
        (Lang::En, _) => "I'm not sure I got that right. Did you mean one of these?",
    }
}

/// A number that named none of the `offered` choices: they follow again.
pub fn pick_a_number(lang: Lang, offered: usize) -> String {
    // Buttons on the web chat, Telegram and WhatsApp show no numbers: the options
    // first, the number as another way.
    match (lang, offered) {
        (Lang::It, 2) => "Scegli una delle due opzioni (o rispondi 1 o 2), oppure scrivi la domanda con altre parole:".to_owned(),
        (Lang::It, _) => format!(
            "Scegli una delle opzioni (o rispondi con il suo numero, da 1 a {offered}), oppure scrivi la domanda con altre parole:"
        ),
        (Lang::En, 2) => "Please pick one of the two options (or reply 1 or 2), or write your question in other words:".to_owned(),
        (Lang::En, _) => format!(
            "Please pick one of the options (or reply with its number, 1 to {offered}), or write your question in other words:"
        ),
    }
}

pub fn unreadable(lang: Lang) -> &'static str {
    match lang {
        Lang::It => {
            "Grazie! Non riesco a leggere foto, file o messaggi vocali: scrivimi la domanda a parole, oppure scrivi «operatore» e una persona del team li guarderà."
        }
        Lang::En => {
            "Thank you! I can't read photos, files or voice messages: please write your question in words, or type \"agent\" and a person from the team will look at them."
        }
    }
}

pub fn talk_to_person(lang: Lang) -> &'static str {
    match lang {
        Lang::It => "Parlare con una persona",
        Lang::En => "Talk to a person",
    }
}

/// Told once when a customer writes faster than the bot answers.
pub fn slow_down(lang: Lang) -> &'static str {
    match lang {
        Lang::It => {
            "Stai scrivendo molto in fretta: ho ricevuto tutti i tuoi messaggi. Per le domande nuove dammi qualche secondo, poi riscrivile una alla volta."
        }
        Lang::En => {
            "You are writing very fast: I have received all your messages. For new questions give me a few seconds, then send them one at a time."
        }
    }
}

/// "Please rephrase", with an example of the shop's own questions when it has one.
pub fn fallback(lang: Lang, example: Option<&str>) -> String {
    match (lang, example) {
        (Lang::It, Some(example)) => format!(
            "Non sono sicuro di aver capito. Puoi riformulare con altre parole? Per esempio: «{example}». Se preferisci, scrivi «operatore» e ti passo a una persona."
        ),
        (Lang::It, None) => "Non sono sicuro di aver capito. Puoi riformulare con altre parole? Se preferisci, scrivi «operatore» e ti passo a una persona.".to_owned(),
        (Lang::En, Some(example)) => format!(
            "I'm not sure I understood. Could you put it another way? For example: \"{example}\". If you prefer, type \"agent\" and I'll pass you to a person."
        ),
        (Lang::En, None) => "I'm not sure I understood. Could you put it another way? If you prefer, type \"agent\" and I'll pass you to a person.".to_owned(),
    }
}

/// Where a waiting customer stands.
pub struct Wait<'a> {
    pub position: usize,
    /// When people are in again, in words ("lunedì dalle 9:00"), if they are out now.
    pub back: Option<&'a str>,
    pub estimate: Option<crate::care::Estimate>,
    /// When the estimate falls due in words ("lunedì alle 9:15"), if people go out
    /// before it ends: the minutes alone would read as clock time.
    pub due: Option<&'a str>,
}

/// " Attesa stimata: 5–15 minuti." (from the opening, when people are out).
fn eta(lang: Lang, wait: &Wait<'_>) -> String {
    let Some(e) = wait.estimate else {
        return String::new();
    };
    let (low, high) = (e.low_minutes, e.high_minutes);
    let (range, within) = (span(lang, low, high), span(lang, high, high));
    if let Some(due) = wait.due {
        return match lang {
            Lang::It => format!(
                " Il team chiude prima che l'attesa stimata ({range}) finisca: ti rispondiamo entro {due}."
            ),
            Lang::En => format!(
                " The team closes before the estimated wait ({range}) is over: we'll reply by {due}."
            ),
        };
    }
    match (lang, wait.back.is_some()) {
        (Lang::It, false) => format!(" Attesa stimata: {range}."),
        (Lang::It, true) => format!(" Ti rispondiamo entro {within} dalla riapertura."),
        (Lang::En, false) => format!(" Estimated wait: {range}."),
        (Lang::En, true) => format!(" We'll reply within {within} of opening."),
    }
}

/// "5–15 minuti", or from two hours up in hours ("6–18 ore"): a wait said in hundreds
/// of minutes is a number nobody reads. The low end rounds down and the high end up:
/// the promise is the high end, never said shorter than it is.
fn span(lang: Lang, low: i64, high: i64) -> String {
    let (minutes, hours) = match lang {
        Lang::It => ("minuti", "ore"),
        Lang::En => ("minutes", "hours"),
    };
    let one = low == high;
    let (low, high, unit) = if high < 120 {
        (low, high, minutes)
    } else {
        ((low / 60).max(1), (high + 59) / 60, hours)
    };
    if one || low == high {
        format!("{high} {unit}")
    } else {
        format!("{low}–{high} {unit}")
    }
}

/// The estimate passed with nobody on the ticket: sorry, where the customer now is
/// (`passed`: the raised ticket went ahead of others), and the new estimate.
pub fn late(lang: Lang, wait: &Wait<'_>, passed: bool) -> String {
    let position = wait.position;
    let eta = eta(lang, wait);
    let place = match (lang, position, passed) {
        (Lang::It, 1, _) => "Sei il primo in coda: ti risponde la prima persona libera.".to_owned(),
        (Lang::It, _, true) => {
            format!("Ti ho fatto passare avanti: ora sei il numero {position} in coda.")
        }
        (Lang::It, _, false) => format!("Sei il numero {position} in coda."),
        (Lang::En, 1, _) => {
            "You are first in the queue: the first person who's free will answer you.".to_owned()
        }
        (Lang::En, _, true) => {
            format!("I've moved you up: you are now number {position} in the queue.")
        }
        (Lang::En, _, false) => format!("You are number {position} in the queue."),
    };
    match lang {
        Lang::It => format!("Scusa l'attesa: ci sta volendo più del previsto. {place}{eta}"),
        Lang::En => format!("Sorry for the wait: it is taking longer than we said. {place}{eta}"),
    }
}

/// `order`: the order number the customer already gave, so that we never ask again.
/// The queue moved a lot since the customer was last told their place.
pub fn moved_up(lang: Lang, wait: &Wait<'_>) -> String {
    let position = wait.position;
    let eta = eta(lang, wait);
    match lang {
        Lang::It => format!("Buone notizie: ora sei il numero {position} in coda.{eta}"),
        Lang::En => format!("Good news: you are now number {position} in the queue.{eta}"),
    }
}

/// `order`: the order number the customer already gave, so that we never ask again.
pub fn handoff(lang: Lang, reason: &HandoffReason, wait: &Wait<'_>, order: Option<&str>) -> String {
    let (position, back) = (wait.position, wait.back);
    let opening = match (lang, reason) {
        (Lang::It, HandoffReason::Complaint) => {
            "Mi dispiace davvero per il disagio. Passo subito la conversazione a una persona del nostro team."
        }
        (Lang::It, HandoffReason::LowConfidence) => {
            "Non voglio darti una risposta sbagliata: passo la conversazione a una persona del nostro team."
        }
        (Lang::It, _) => "Certo, passo la conversazione a una persona del nostro team.",
        (Lang::En, HandoffReason::Complaint) => {
            "I'm really sorry about this. I'm passing the conversation to a person on our team right away."
        }
        (Lang::En, HandoffReason::LowConfidence) => {
            "I don't want to give you a wrong answer, so I'm passing the conversation to a person on our team."
        }
        (Lang::En, _) => "Sure, I'm passing the conversation to a person on our team.",
    };
    let when = away(lang, back);
    let eta = eta(lang, wait);
    let details = match (lang, order) {
        (Lang::It, Some(o)) => format!(
            "Chi ti risponde vedrà già l'ordine {o} (se si tratta di un altro ordine, scrivi il numero)."
        ),
        (Lang::It, None) => {
            "Intanto puoi scrivere altri dettagli (per esempio il numero d'ordine).".into()
        }
        (Lang::En, Some(o)) => format!(
            "Whoever answers will already see order {o} (if it's about another order, type its number)."
        ),
        (Lang::En, None) => {
            "Meanwhile you can add details (your order number, for example).".into()
        }
    };
    match lang {
        Lang::It => format!(
            "{opening}{when} Sei il numero {position} in coda: ti risponderemo qui.{eta} {details} Se hai risolto, scrivi «annulla»."
        ),
        Lang::En => format!(
            "{opening}{when} You are number {position} in the queue: we'll reply right here.{eta} {details} If it's sorted, type \"cancel\"."
        ),
    }
}

/// A returning customer's first reply of a new conversation opens with their name.
pub fn welcome_back(lang: Lang, name: &str, text: &str) -> String {
    match lang {
        Lang::It => format!("Ciao {name}, che piacere risentirti! {text}"),
        Lang::En => format!("Hi {name}, good to hear from you again! {text}"),
    }
}

/// " Il team ora non c'è: torna lunedì dalle 9:00." when people are out, else "".
fn away(lang: Lang, back: Option<&str>) -> String {
    match (lang, back) {
        (_, None) => String::new(),
        (Lang::It, Some("")) => " In questo momento il team non è disponibile.".into(),
        (Lang::En, Some("")) => " Our team is away at the moment.".into(),
        (Lang::It, Some(when)) => {
            format!(" In questo momento il team non è disponibile: torna {when}.")
        }
        (Lang::En, Some(when)) => format!(" Our team is away right now: we're back {when}."),
    }
}

/// While queued: the message arrived, and where the customer stands.
pub fn still_queued(lang: Lang, position: usize, back: Option<&str>) -> String {
    let when = away(lang, back);
    match lang {
        Lang::It => format!(
            "Ho aggiunto il tuo messaggio alla richiesta: sei ancora il numero {position} in coda.{when}"
        ),
        Lang::En => format!(
            "I've added your message to your request: you are still number {position} in the queue.{when}"
        ),
    }
}

/// A message written while queued, when the longer "still number N" is not due.
pub fn noted(lang: Lang) -> &'static str {
    match lang {
        Lang::It => "Ricevuto: l'ho aggiunto alla tua richiesta per chi ti risponderà.",
        Lang::En => "Got it: I've added it to your request for the person who will answer.",
    }
}

/// After an FAQ answer given while queued: the place is kept.
pub fn still_in_line(lang: Lang, position: usize) -> String {
    match lang {
        Lang::It => format!(
            "_Resti comunque in coda per parlare con una persona: sei il numero {position}. Se non ti serve più, scrivi «annulla»._"
        ),
        Lang::En => format!(
            "_You keep your place in the queue to talk to a person: you are number {position}. If you no longer need it, write \"cancel\"._"
        ),
    }
}

/// Said to a rule that has no words of its own: "annulla", "ho risolto" with nothing
/// to take back.
pub fn all_right(lang: Lang) -> &'static str {
    match lang {
        Lang::It => "Va bene! Se ti serve altro, scrivimi pure.",
        Lang::En => "All right! If you need anything else, just write.",
    }
}

pub fn cancelled(lang: Lang) -> &'static str {
    match lang {
        Lang::It => {
            "Va bene, ho annullato la richiesta di parlare con una persona. Sono qui se ti serve altro."
        }
        Lang::En => {
            "All right, I've cancelled the request to talk to a person. I'm here if you need anything else."
        }
    }
}

/// Moved to another department's queue: why, where the customer stands now, and when
/// that department is back if it is out (`back`, as for a handoff).
pub fn transferred(lang: Lang, department: &str, position: usize, back: Option<&str>) -> String {
    let when = away(lang, back);
    match lang {
        Lang::It => format!(
            "Ho passato la tua richiesta al reparto {department}: sei in coda, numero {position}.{when} Ti rispondiamo qui."
        ),
        Lang::En => format!(
            "I've passed your request to our {department} team: you're in the queue, number {position}.{when} We'll answer here."
        ),
    }
}

/// The person who had the request put it back in the queue: where the customer stands
/// now (and when people are back).
pub fn released(lang: Lang, position: usize, back: Option<&str>) -> String {
    let when = away(lang, back);
    match lang {
        Lang::It => format!(
            "La persona che ti seguiva ha dovuto lasciare la tua richiesta: sei di nuovo in coda, numero {position}, e ti risponderà qui il primo operatore libero.{when}"
        ),
        Lang::En => format!(
            "The person who had your request had to hand it back: you're back in the queue, number {position}, and the next free agent will answer you here.{when}"
        ),
    }
}

/// The person who had the request is no longer there (an admin took it back, or the
/// account was removed): where the customer stands now (and when people are back).
pub fn taken_back(lang: Lang, position: usize, back: Option<&str>) -> String {
    let when = away(lang, back);
    match lang {
        Lang::It => format!(
            "La persona che seguiva la tua richiesta non è più disponibile: sei di nuovo in coda, numero {position}, e ti risponderà qui il primo operatore libero.{when}"
        ),
        Lang::En => format!(
            "The person who had your request is no longer available: you're back in the queue, number {position}, and the next free agent will answer you here.{when}"
        ),
    }
}

/// A complaint while waiting: sorry, the place now (`moved`: the complaint raised the
/// request ahead of others), and when people are back if they are out.
pub fn sorry_while_queued(lang: Lang, position: usize, moved: bool, back: Option<&str>) -> String {
    let when = away(lang, back);
    let place = match (lang, position, moved) {
        (Lang::It, 1, _) => "Sei il primo in coda: ti risponde la prima persona libera.".to_owned(),
        (Lang::It, _, true) => format!(
            "Ho dato la precedenza alla tua richiesta: ora sei il numero {position} in coda."
        ),
        (Lang::It, _, false) => format!(
            "Sei il numero {position} in coda, e chi ti risponde leggerà anche questo messaggio."
        ),
        (Lang::En, 1, _) => {
            "You're first in the queue: the first person who's free will answer you.".to_owned()
        }
        (Lang::En, _, true) => {
            format!("I've moved your request up: you're now number {position} in the queue.")
        }
        (Lang::En, _, false) => format!(
            "You're number {position} in the queue, and whoever answers will read this message too."
        ),
    };
    match lang {
        Lang::It => format!("Mi dispiace per l'attesa. {place}{when}"),
        Lang::En => format!("I'm sorry about the wait. {place}{when}"),
    }
}

/// The operator on the request handed it to a colleague, who answers from now on.
pub fn handed_to_colleague(lang: Lang) -> &'static str {
    match lang {
        Lang::It => {
            "Ho passato la tua richiesta a un collega, che la segue da qui: ti risponde in questa chat."
        }
        Lang::En => {
            "I've passed your request to a colleague, who takes it from here: they'll answer you in this chat."
        }
    }
}

pub fn closed(lang: Lang) -> &'static str {
    match lang {
        Lang::It => {
            "La conversazione con il nostro operatore è chiusa. Se ti serve altro, scrivimi pure: ti risponde di nuovo l'assistente virtuale."
        }
        Lang::En => {
            "Your conversation with our operator is closed. If you need anything else, just write: the virtual assistant will answer again."
        }
    }
}

/// A request closed before an operator wrote to the customer (a duplicate, settled on
/// another channel): no "conversation with our operator" to speak of.
pub fn closed_unanswered(lang: Lang) -> &'static str {
    match lang {
        Lang::It => {
            "Il nostro staff ha chiuso la tua richiesta di parlare con un operatore. Se ti serve ancora aiuto, scrivimi pure: ti risponde l'assistente virtuale, e puoi chiedere di nuovo un operatore."
        }
        Lang::En => {
            "Our staff closed your request to talk to an operator. If you still need help, just write: the virtual assistant will answer, and you can ask for an operator again."
        }
    }
}

/// A request closed before an operator wrote, with the FAQ entry that answers it: the
/// customer gets that answer, not only the news that the request is closed.
pub fn closed_with_answer(lang: Lang, answer: &str) -> String {
    match lang {
        Lang::It => format!(
            "Ecco la risposta del nostro staff alla tua domanda:\n\n{answer}\n\nLa tua richiesta è chiusa. Se ti serve altro, scrivimi pure: ti risponde l'assistente virtuale, e puoi chiedere di nuovo un operatore."
        ),
        Lang::En => format!(
            "Here is our staff's answer to your question:\n\n{answer}\n\nYour request is closed. If you need anything else, just write: the virtual assistant will answer, and you can ask for an operator again."
        ),
    }
}

pub fn csat_question(lang: Lang) -> &'static str {
    match lang {
        Lang::It => {
            "Come valuti l'aiuto che hai ricevuto? Rispondi da 1 (male) a 5 (benissimo): se vuoi, aggiungi un commento dopo il numero."
        }
        Lang::En => {
            "How would you rate the help you got? Answer from 1 (poor) to 5 (excellent): add a comment after the number if you like."
        }
    }
}

/// The NPS question, after thanks for the CSAT score just read (said back, so a
/// worded answer shows how it was taken: "benissimo" is a 5).
pub fn nps_question(lang: Lang, csat: u8) -> String {
    match lang {
        Lang::It => format!(
            "Grazie, ho registrato il tuo voto: {csat} su 5. Un'ultima domanda: da 0 a 10, quanto consiglieresti il nostro negozio a un amico?"
        ),
        Lang::En => format!(
            "Thank you, your rating is recorded: {csat} out of 5. One last question: from 0 to 10, how likely are you to recommend our shop to a friend?"
        ),
    }
}

/// A survey still standing after a thanks or an "ok": the question, briefly.
pub fn survey_still(survey: crate::domain::SurveyKind, lang: Lang) -> &'static str {
    use crate::domain::SurveyKind::{Csat, Nps};
    match (survey, lang) {
        (Csat, Lang::It) => "Se ti va, lasciaci un voto da 1 (male) a 5 (benissimo).",
        (Csat, Lang::En) => "If you like, leave us a rating from 1 (poor) to 5 (excellent).",
        (Nps, Lang::It) => "Se ti va, dicci da 0 a 10 quanto ci consiglieresti a un amico.",
        (Nps, Lang::En) => {
            "If you like, tell us from 0 to 10 how likely you are to recommend us to a friend."
        }
    }
}

/// A score outside the survey's range: the question again, with the range.
pub fn survey_range(survey: crate::domain::SurveyKind, lang: Lang) -> &'static str {
    use crate::domain::SurveyKind::{Csat, Nps};
    match (survey, lang) {
        (Csat, Lang::It) => {
            "Per il voto scrivi un numero da 1 (male) a 5 (benissimo), se vuoi con un commento dopo."
        }
        (Csat, Lang::En) => {
            "For your rating, write a number from 1 (poor) to 5 (excellent), with a comment after it if you like."
        }
        (Nps, Lang::It) => {
            "Scrivi un numero da 0 (per niente) a 10 (sicuramente): quanto ci consiglieresti a un amico?"
        }
        (Nps, Lang::En) => {
            "Write a number from 0 (not at all) to 10 (certainly): how likely are you to recommend us to a friend?"
        }
    }
}

/// Thanks for a survey's answer, with the score as it was read.
pub fn survey_thanks(lang: Lang, survey: crate::domain::SurveyKind, score: u8) -> String {
    let high = survey.range().end().to_owned();
    match lang {
        Lang::It => format!(
            "Grazie per il tuo giudizio ({score} su {high}): ci aiuta a migliorare. Se ti serve altro, scrivimi pure."
        ),
        Lang::En => format!(
            "Thanks for your feedback ({score} out of {high}): it helps us improve. If you need anything else, just write."
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_late_update_says_moved_up_only_when_it_did() {
        let wait = |position| Wait {
            position,
            back: None,
            estimate: None,
            due: None,
        };
        assert!(late(Lang::It, &wait(3), true).contains("passare avanti: ora sei il numero 3"));
        assert!(late(Lang::It, &wait(3), false).ends_with("Sei il numero 3 in coda."));
        assert!(late(Lang::En, &wait(1), true).contains("You are first in the queue"));
    }

    #[test]
    fn a_long_wait_is_said_in_hours() {
        assert_eq!(span(Lang::It, 5, 15), "5–15 minuti");
        assert_eq!(span(Lang::En, 60, 115), "60–115 minutes");
        assert_eq!(span(Lang::It, 360, 1080), "6–18 ore");
        assert_eq!(span(Lang::En, 990, 990), "17 hours");
        assert_eq!(span(Lang::It, 20, 180), "1–3 ore");
        // 45-135 minutes is not "1-2 hours": the promise falls due at 135.
        assert_eq!(span(Lang::It, 45, 135), "1–3 ore");
        assert_eq!(span(Lang::En, 150, 150), "3 hours");
    }
}
