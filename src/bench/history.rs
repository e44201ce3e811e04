//! Reports on an old store: a year of a busy shop's events (2 million in the full run)
//! written into a fresh store, then the time of what an operator or the owner asks of
//! it: the last week's KPI report (`report --from --to`, the console's report page) and
//! one loyal customer's record (`customer show`), who wrote all year.
//!
//! The year: every day about 1,500 conversations of one to five messages from a pool
//! of 200,000 customers, one in six handed to a person (opened, a wait promised,
//! claimed, answered, closed, sometimes rated); the loyal customer writes most days
//! and has a ticket every week. Events go in through [`Store::append_events`], a day
//! per transaction, the loyal customer's tickets through a turn.

use crate::config::Config;
use crate::domain::triage::{Cause, DecisionKind};
use crate::domain::{
    Conversation, CustomerId, Event, EventKind, HandoffReason, Lang, Priority, Scored, SurveyKind,
    Ticket, TicketId, TicketStatus,
};
use crate::store::{Store, Turn};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use std::path::Path;
use std::time::Instant;

/// What the run measured.
#[derive(Debug, Serialize)]
pub struct Aged {
    /// Events stored (2,000,000 in the full run).
    pub events: usize,
    pub days: i64,
    /// Milliseconds for the KPIs of the last full week (median of 5).
    pub report_week_ms: f64,
    /// Events the week's report read through the index.
    pub report_week_events_read: usize,
    /// Milliseconds for the loyal customer's record (median of 5).
    pub customer_show_ms: f64,
    /// Events of the loyal customer.
    pub customer_events: usize,
    /// Seconds spent writing the year (not a figure to meet).
    pub fill_s: f64,
}

/// The shop's last day: the year ends here.
fn year_end() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-30T00:00:00Z")
        .expect("a valid instant")
        .to_utc()
}

pub fn loyal() -> CustomerId {
    CustomerId::parse("telegram:4242").expect("a valid id")
}

/// Write about `events` events over a year into a fresh store in `dir`, then time the
/// week's report and the loyal customer's record.
pub fn measure(dir: &Path, config: &Config, events: usize) -> anyhow::Result<Aged> {
    let store = Store::open(dir)?;
    let days = 365;
    let per_day = events / days as usize;
    let start = year_end() - Duration::days(days);
    let filling = Instant::now();
    let mut year = Year::new(start);
    let mut written = 0;
    for day in 0..days {
        let today = year.day(start + Duration::days(day), per_day);
        written += today.len();
        store.append_events(&today)?;
    }
    let mut conv = Conversation::new(loyal(), start);
    conv.name = Some("Giulia".into());
    conv.updated_at = year_end();
    let mut turn = Turn::new(conv);
    turn.tickets = year.loyal_tickets;
    store.commit(&turn)?;
    store.flush()?;
    let fill_s = filling.elapsed().as_secs_f64();

    let (from, to) = (year_end() - Duration::days(7), year_end());
    let mut read = 0;
    let report_week_ms = median_ms(|| {
        let input = crate::report::Input::read(&store, from, to)?;
        read = input.events.len();
        let kpis = crate::report::full_report(&input, config);
        std::hint::black_box(kpis);
        Ok(())
    })?;
    let mut customer_events = 0;
    let customer_show_ms = median_ms(|| {
        let record = crate::report::customer::record(&store, &loyal())?
            .ok_or_else(|| anyhow::anyhow!("the loyal customer has a record"))?;
        customer_events = store.events_of(&loyal())?.len();
        std::hint::black_box(record);
        Ok(())
    })?;
    Ok(Aged {
        events: written,
        days,
        report_week_ms,
        report_week_events_read: read,
        customer_show_ms,
        customer_events,
        fill_s,
    })
}

fn median_ms(mut f: impl FnMut() -> anyhow::Result<()>) -> anyhow::Result<f64> {
    let mut times = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        f()?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    Ok(times[times.len() / 2])
}

/// The generator: a small xorshift, so every run writes the same year.
struct Year {
    dice: u64,
    next_ticket: u64,
    loyal_tickets: Vec<Ticket>,
    start: DateTime<Utc>,
}

const QUESTIONS: &[&str] = &[
    "quanto costa la spedizione in Sicilia?",
    "posso restituire le scarpe se sono troppo strette?",
    "dov'è il mio ordine 100234?",
    "accettate PayPal?",
    "voglio parlare con una persona",
    "do you ship to Germany?",
    "il codice sconto non funziona",
    "grazie mille!",
];

impl Year {
    fn new(start: DateTime<Utc>) -> Year {
        Year {
            dice: 0x5eed_cafe,
            next_ticket: 1,
            loyal_tickets: Vec::new(),
            start,
        }
    }

    fn below(&mut self, n: u64) -> u64 {
        self.dice ^= self.dice << 13;
        self.dice ^= self.dice >> 7;
        self.dice ^= self.dice << 17;
        self.dice % n.max(1)
    }

    /// About `target` events stamped within the day starting at `day`, in time order.
    fn day(&mut self, day: DateTime<Utc>, target: usize) -> Vec<Event> {
        let mut events = Vec::with_capacity(target + 64);
        let loyal_today = self.below(10) < 7;
        if loyal_today {
            let weekly = (day - self.start).num_days() % 7 == 0;
            let at = day + Duration::minutes(9 * 60 + self.below(8 * 60) as i64);
            self.conversation(&mut events, loyal(), at, weekly);
        }
        while events.len() < target {
            let customer =
                CustomerId::parse(&format!("web:v{}", self.below(200_000))).expect("a valid id");
            let at = day + Duration::seconds(self.below(86_400 - 7_200) as i64);
            let handed = self.below(6) == 0;
            self.conversation(&mut events, customer, at, handed);
        }
        events.sort_by_key(|e| e.at);
        events
    }

    fn conversation(
        &mut self,
        events: &mut Vec<Event>,
        customer: CustomerId,
        mut at: DateTime<Utc>,
        handed: bool,
    ) {
        let event = |at, kind| Event {
            at,
            customer: customer.clone(),
            kind,
        };
        for _ in 0..=self.below(4) {
            let text = QUESTIONS[self.below(QUESTIONS.len() as u64) as usize];
            events.push(event(at, self.decided(text, DecisionKind::Answer)));
            at += Duration::seconds(20 + self.below(300) as i64);
        }
        if !handed {
            return;
        }
        let ticket = TicketId(self.next_ticket);
        self.next_ticket += 1;
        events.push(event(
            at,
            self.decided("voglio parlare con una persona", DecisionKind::Handoff),
        ));
        let department = "assistenza".to_owned();
        events.push(event(
            at,
            EventKind::TicketOpened {
                ticket,
                department: department.clone(),
                priority: Priority::Normal,
                reason: "the customer asked for a person".into(),
            },
        ));
        let due = at + Duration::minutes(15);
        events.push(event(
            at,
            EventKind::PromiseMade {
                ticket,
                due,
                low_minutes: 5,
                high_minutes: 15,
            },
        ));
        let operator = ["anna", "bruno", "carla"][self.below(3) as usize].to_owned();
        let claimed = at + Duration::minutes(1 + self.below(30) as i64);
        events.push(event(
            claimed,
            EventKind::Claimed {
                ticket,
                operator: operator.clone(),
            },
        ));
        if claimed <= due {
            events.push(event(claimed, EventKind::PromiseKept { ticket }));
        } else {
            events.push(event(due, EventKind::PromiseBroken { ticket }));
        }
        let replied = claimed + Duration::minutes(1 + self.below(10) as i64);
        events.push(event(
            replied,
            EventKind::OperatorReplied {
                ticket,
                operator: operator.clone(),
            },
        ));
        let closed = replied + Duration::minutes(2 + self.below(40) as i64);
        events.push(event(
            closed,
            EventKind::Closed {
                ticket,
                operator: operator.clone(),
            },
        ));
        if self.below(3) == 0 {
            events.push(event(
                closed,
                EventKind::SurveyAnswered {
                    survey: SurveyKind::Csat,
                    score: 1 + self.below(5) as u8,
                    comment: None,
                    ticket: Some(ticket),
                },
            ));
        }
        if customer == loyal() {
            self.loyal_tickets.push(Ticket {
                id: ticket,
                customer: customer.clone(),
                department,
                priority: Priority::Normal,
                reason: HandoffReason::Asked,
                lang: Lang::It,
                order_number: None,
                summary: "voglio parlare con una persona".into(),
                status: TicketStatus::Closed,
                operator: Some(operator),
                opened_at: at,
                claimed_at: Some(claimed),
                first_response_at: Some(replied),
                closed_at: Some(closed),
                promise: None,
                broken_promises: u32::from(claimed > due),
                told_position: Some(1),
                version: 0,
            });
        }
    }

    fn decided(&mut self, text: &str, decision: DecisionKind) -> EventKind {
        let candidates = ["spedizione", "resi", "pagamenti"]
            .iter()
            .map(|id| Scored {
                id: (*id).to_owned(),
                confidence: self.below(100) as f32 / 100.0,
            })
            .collect();
        EventKind::Decided {
            text: text.to_owned(),
            lang: Lang::It,
            decision,
            cause: if decision == DecisionKind::Handoff {
                Cause::Intent
            } else {
                Cause::Confident
            },
            target: Some("spedizione".into()),
            intent: None,
            reason: "matched the FAQ with confidence".into(),
            candidates,
        }
    }
}
