//! The report through the index equals the report over every event.
use super::*;
use crate::config::Config;
use crate::domain::triage::Cause;
use crate::domain::triage::DecisionKind;
use crate::domain::{Lang, Priority, SurveyKind};
use chrono::Duration;

/// A small xorshift: the histories are random but the same on every run.
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn decided(at: DateTime<Utc>, customer: &CustomerId, decision: DecisionKind) -> Event {
    Event {
        at,
        customer: customer.clone(),
        kind: EventKind::Decided {
            text: format!("domanda {}", at.timestamp() % 7),
            lang: Lang::It,
            decision,
            cause: Cause::Unknown,
            target: None,
            intent: None,
            reason: String::new(),
            candidates: Vec::new(),
        },
    }
}

/// Forty days of twelve customers: conversations of a few messages, some handed to
/// a person whose reply and closing come hours or days later, surveys, transfers,
/// silences shorter and longer than a session gap.
fn history(seed: u64, start: DateTime<Utc>) -> Vec<Event> {
    let mut dice = Dice(seed);
    let mut events = Vec::new();
    let mut next_ticket = 1;
    for c in 0..12 {
        let customer = CustomerId::parse(&format!("web:c{c}")).unwrap();
        let mut at = start + Duration::minutes(dice.below(3 * 24 * 60) as i64);
        while at < start + Duration::days(40) {
            for _ in 0..=dice.below(4) {
                events.push(decided(at, &customer, DecisionKind::Answer));
                at += Duration::minutes(1 + dice.below(20 * 60) as i64);
            }
            if dice.below(3) == 0 {
                let ticket = TicketId(next_ticket);
                next_ticket += 1;
                events.push(decided(at, &customer, DecisionKind::Handoff));
                let ev = |at, kind| Event {
                    at,
                    customer: customer.clone(),
                    kind,
                };
                events.push(ev(
                    at,
                    EventKind::TicketOpened {
                        ticket,
                        department: "assistenza".into(),
                        priority: Priority::Normal,
                        reason: "chiesto".into(),
                    },
                ));
                let mut later = at + Duration::minutes(dice.below(6 * 24 * 60) as i64);
                if dice.below(4) == 0 {
                    events.push(ev(
                        later,
                        EventKind::Transferred {
                            ticket,
                            operator: "anna".into(),
                            department: Some("ordini".into()),
                            to_operator: None,
                        },
                    ));
                }
                if dice.below(5) > 0 {
                    later += Duration::minutes(dice.below(600) as i64);
                    let operator = "anna".to_owned();
                    events.push(ev(later, EventKind::OperatorReplied { ticket, operator }));
                    if dice.below(4) > 0 {
                        later += Duration::minutes(dice.below(600) as i64);
                        let operator = "anna".to_owned();
                        events.push(ev(later, EventKind::Closed { ticket, operator }));
                        if dice.below(2) == 0 {
                            events.push(decided(later, &customer, DecisionKind::SurveyAnswer));
                            events.push(ev(
                                later,
                                EventKind::SurveyAnswered {
                                    survey: SurveyKind::Csat,
                                    score: 1 + dice.below(5) as u8,
                                    comment: None,
                                    ticket: Some(ticket),
                                },
                            ));
                        }
                    }
                }
                // Sometimes the customer writes again while the ticket waits.
                if dice.below(3) > 0 {
                    at = at.max(later);
                }
            }
            at += Duration::minutes(dice.below(4 * 24 * 60) as i64);
        }
    }
    events.sort_by_key(|e| e.at);
    // A few messages written late, stamped earlier (a provider's retried webhook
    // keeps the time the customer wrote): last in write order.
    let late: Vec<usize> = (0..events.len()).filter(|i| i % 53 == 7).collect();
    for (moved, i) in late.into_iter().enumerate() {
        let event = events.remove(i - moved);
        events.push(event);
    }
    events
}

#[test]
fn a_period_read_through_the_index_gives_the_report_of_every_event() {
    let start = DateTime::parse_from_rfc3339("2026-09-01T00:00:00Z")
        .unwrap()
        .to_utc();
    let config = Config::default();
    for seed in 1..=4u64 {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        let all = history(seed * 7919, start);
        assert!(all.len() > 300, "{}", all.len());
        for chunk in all.chunks(97) {
            store.append_events(chunk).unwrap();
        }
        let day = |d: i64| start + Duration::days(d);
        for (from, to) in [
            (day(10), day(17)),
            (day(3), day(4)),
            (day(20), day(23)),
            (day(0), day(30)),
            (day(33), day(45)),
        ] {
            let read = crate::report::Input::read(
                &crate::store::Store::Sled(std::sync::Arc::new(store.clone())),
                from,
                to,
            )
            .unwrap();
            assert!(
                read.events.len() < all.len(),
                "the period reads less than all"
            );
            let every = crate::report::Input::of_all(all.clone(), from, to);
            let whole = serde_json::to_value(crate::report::full_report(&every, &config));
            let part = serde_json::to_value(crate::report::full_report(&read, &config));
            assert_eq!(part.unwrap(), whole.unwrap(), "seed {seed}, {from} to {to}");
        }
        assert!(store.verify().unwrap().is_empty());
        let c3 = CustomerId::parse("web:c3").unwrap();
        let mine: Vec<Event> = all.iter().filter(|e| e.customer == c3).cloned().collect();
        let mut mine = mine;
        mine.sort_by_key(|e| e.at);
        assert_eq!(store.events_of(&c3).unwrap(), mine);
    }
}
