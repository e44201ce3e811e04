//! `sportello demo`: a realistic month of customer care replayed into the store, for
//! the console and the KPI report: questions the FAQ answers, questions it cannot,
//! requests for a person and complaints, operators who claim, reply and close,
//! surveys answered, and customers who come back. Deterministic for a given seed.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use serde_json::{Value, json};
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct DemoArgs {
    /// How many days, ending with --until (1 to 366).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=366))]
    days: u32,
    /// The last day, YYYY-MM-DD (default: yesterday).
    #[arg(long, value_parser = super::day)]
    until: Option<NaiveDate>,
    #[arg(long, default_value_t = 7)]
    seed: u64,
}

/// A small xorshift generator: the same seed, the same month.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const NAMES: &[&str] = &[
    "Giulia",
    "Marco",
    "Francesca",
    "Luca",
    "Chiara",
    "Alessandro",
    "Sara",
    "Matteo",
    "Elena",
    "Davide",
    "Martina",
    "Simone",
    "Valentina",
    "Andrea",
    "Federica",
    "Paolo",
];
/// Not the names the README's quick start adds (`anna`, `bruno`): after a demo those
/// still work as written.
const OPERATORS: &[&str] = &["demo.giulia", "demo.marco", "demo.sara"];
const UNKNOWN: &[&str] = &[
    "vendete anche biciclette elettriche?",
    "avete biciclette elettriche?",
    "posso ritirare in negozio a Bologna?",
    "avete un negozio fisico a Milano?",
    "fate sconti per studenti universitari?",
    "il commercialista vuole il documento per la ditta",
    "ho bisogno della ricevuta intestata alla mia ditta",
];
const HUMAN: &[&str] = &[
    "voglio parlare con un operatore",
    "posso parlare con una persona?",
    "il mio ordine 4481{n} non è arrivato, voglio parlare con un operatore",
    "sono molto arrabbiato, il pacco è arrivato rotto",
];
const REPLIES: &[&str] = &[
    "Ciao {name}, ho controllato: il pacco è in consegna oggi.",
    "Ciao {name}, ti ho appena inviato l'etichetta per il reso via email.",
    "Ciao {name}, mi dispiace: ti rimborsiamo la spedizione.",
    "Ciao {name}, purtroppo non lo vendiamo, ma lo segnalo al team acquisti.",
];

/// Fill the store `service` opened (`--data data`, named in the closing hint).
pub fn run(
    service: &crate::service::Service,
    args: &DemoArgs,
    data: &std::path::Path,
) -> anyhow::Result<ExitCode> {
    let until = args
        .until
        .unwrap_or_else(|| (Utc::now() - Duration::days(1)).date_naive());
    anyhow::ensure!(
        service.store().events().next().is_none(),
        "demo fills an empty store with made-up customers, and this one is not empty\n  hint: pass --data DEMO_DIR"
    );
    let first = until - Duration::days(i64::from(args.days) - 1);
    // Questions the bot answers (some FAQ questions are requests for a person).
    let brain = service.brain();
    let answered = |q: &String| {
        let (_, decision, _) = brain.first_message(q, Some(crate::domain::Lang::It));
        matches!(decision, crate::domain::triage::Decision::Answer { .. })
    };
    let questions: Vec<String> = brain
        .faq
        .entries()
        .iter()
        .filter(|e| e.lang == crate::domain::Lang::It)
        .flat_map(|e| e.questions.clone())
        .filter(answered)
        .collect();
    let unknown: Vec<String> = UNKNOWN
        .iter()
        .map(|q| q.to_string())
        .filter(|q| !answered(q))
        .collect();
    anyhow::ensure!(
        !questions.is_empty() && !unknown.is_empty(),
        "no Italian FAQ questions to ask, or all of the demo's odd ones answered: check --faq"
    );
    let mut dice = Dice(args.seed.max(1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut lines: Vec<(DateTime<Utc>, Value)> = Vec::new();
    let mut known: Vec<(String, String)> = Vec::new();
    let mut rated: std::collections::BTreeSet<String> = Default::default();
    let mut day = first;
    while day <= until {
        let weekend = day.format("%u").to_string().parse::<u32>().unwrap_or(1) >= 6;
        let visitors = if weekend { 8 } else { 18 } + dice.below(8);
        let mut today = std::collections::BTreeSet::new();
        for _ in 0..visitors {
            let who = customer(&mut dice, &mut known, &today);
            today.insert(who.0.clone());
            let first_rating = !rated.contains(&who.0);
            let pools = (&questions[..], &unknown[..]);
            if visit(&mut dice, &mut lines, pools, day, &who, first_rating) {
                rated.insert(who.0.clone());
            }
        }
        day += Duration::days(1);
    }
    lines.sort_by_key(|(at, _)| *at);
    let script = lines.into_iter().map(|(_, l)| Ok(l.to_string()));
    let skipped = super::replay::play(service, script, "demo", &mut std::io::sink(), false)?;
    let events = service.store().events().count();
    println!(
        "demo: {} days from {first} to {until}, {} customers, {events} events stored ({skipped} operator steps skipped where the bot did not hand over)",
        args.days,
        known.len()
    );
    // Quoted for the shell when the path has anything but plain characters; a
    // database URL's password shown as *** (put it back to run the command).
    let data = crate::store::shown(data);
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-:@=+,".contains(c);
    let data = if data.chars().all(plain) {
        data
    } else {
        format!("'{}'", data.replace('\'', r"'\''"))
    };
    println!(
        "see it: sportello --data {data} report --from {first} --to {until} --html report.html, or the console"
    );
    Ok(ExitCode::SUCCESS)
}

/// A returning customer (not one seen today: visits never overlap) a quarter of the
/// time, else a new one.
fn customer(
    dice: &mut Dice,
    known: &mut Vec<(String, String)>,
    today: &std::collections::BTreeSet<String>,
) -> (String, String) {
    if !known.is_empty() && dice.chance(25) {
        let back = dice.pick(known).clone();
        if !today.contains(&back.0) {
            return back;
        }
    }
    let channel = if dice.chance(60) { "telegram" } else { "web" };
    let id = format!("{channel}:demo{}", known.len() + 1);
    let who = (id, dice.pick(NAMES).to_string());
    known.push(who.clone());
    who
}

/// One customer's visit on `day`: a question the FAQ answers, one it cannot, or a
/// request for a person that an operator takes, answers and closes, then a survey
/// (NPS only on `first_rating`: it is asked once in 90 days). True if they rated.
fn visit(
    dice: &mut Dice,
    lines: &mut Vec<(DateTime<Utc>, Value)>,
    (questions, unknown): (&[String], &[String]),
    day: NaiveDate,
    (id, name): &(String, String),
    first_rating: bool,
) -> bool {
    let local = day.and_hms_opt(8, 0, 0).expect("8:00 exists")
        + Duration::minutes(dice.below(13 * 60) as i64);
    let mut at = chrono_tz::Europe::Rome
        .from_local_datetime(&local)
        .earliest()
        .map_or_else(|| local.and_utc(), |t| t.with_timezone(&Utc));
    let say = |lines: &mut Vec<_>, at: DateTime<Utc>, text: &str| {
        lines.push((
            at,
            json!({"at": at, "customer": id, "name": name, "lang": "it", "text": text}),
        ));
    };
    let roll = dice.below(100);
    if roll < 65 {
        let question = dice.pick(questions).clone();
        say(lines, at, &question);
        if dice.chance(30) {
            say(lines, at + Duration::minutes(1), "grazie mille!");
        }
        return false;
    }
    if roll < 80 {
        let first = dice.pick(unknown).clone();
        say(lines, at, &first);
        if !dice.chance(60) {
            return false;
        }
        at += Duration::minutes(1);
        let second = dice.pick(unknown).clone();
        say(lines, at, &second);
    } else {
        let order = format!("{:02}", dice.below(100));
        let request = dice.pick(HUMAN).replace("{n}", &order);
        say(lines, at, &request);
    }
    let operator = dice.pick(OPERATORS);
    let act = |at: DateTime<Utc>, verb: &str, text: Option<String>| {
        let mut line = json!({"at": at, "operator": operator, verb: id});
        if let Some(text) = text {
            line["text"] = json!(text);
        }
        (at, line)
    };
    let claimed = at + Duration::minutes(2 + dice.below(40) as i64);
    lines.push(act(claimed, "claim", None));
    let reply = dice.pick(REPLIES).replace("{name}", name);
    lines.push(act(claimed + Duration::minutes(2), "reply", Some(reply)));
    let closed = claimed + Duration::minutes(5 + dice.below(20) as i64);
    lines.push(act(closed, "close", None));
    if !dice.chance(70) {
        return false;
    }
    let csat = *dice.pick(&[5, 5, 5, 5, 4, 4, 4, 3, 3, 2, 1]);
    say(lines, closed + Duration::minutes(1), &csat.to_string());
    if first_rating {
        let nps = *dice.pick(&[10, 10, 9, 9, 9, 8, 8, 7, 6, 4, 2]);
        say(lines, closed + Duration::minutes(2), &nps.to_string());
    }
    true
}
