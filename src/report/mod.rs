//! What the bot did over a period, computed from stored events: the summary of
//! messages and decisions, the shop's KPIs ([`kpi`]) with their CSV and HTML forms, a
//! customer's record, the FAQ gaps. Printing them is the command line's
//! (`cli::report`) and the console's business.

mod breakdown;
mod charts;
pub mod customer;
mod figures;
pub mod gaps;
mod html;
mod kpi;
mod table;

pub use breakdown::{Slice, Week};
pub use figures::{
    Csat, FirstResponse, Kpis, Nps, Percentiles, Promises, RetentionBase, TicketTimes,
};
pub use html::page as html_page;
pub use kpi::kpis;
pub use table::csv;

use crate::domain::triage::DecisionKind;
use crate::domain::{Event, EventKind};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

#[derive(Debug, Default, Serialize)]
pub struct Summary {
    pub messages: usize,
    pub answered: usize,
    pub clarified: usize,
    pub handed_off: usize,
    pub fallbacks: usize,
    pub to_operator: usize,
    pub tickets_opened: usize,
    pub tickets_closed: usize,
    pub by_decision: BTreeMap<String, usize>,
    /// Customer messages the bot could not answer, most frequent first.
    pub top_unanswered: Vec<Unanswered>,
}

/// A question the bot could not answer: its first wording, and how many messages
/// said the same (once normalised).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unanswered {
    pub text: String,
    pub count: usize,
}

/// The summary of `events` from `since` (and before `until`).
pub fn summarise(
    events: &[Event],
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
) -> Summary {
    let mut s = Summary::default();
    let mut unanswered: BTreeMap<String, (String, usize)> = BTreeMap::new();
    for event in events {
        if since.is_some_and(|t| event.at < t) || until.is_some_and(|t| event.at >= t) {
            continue;
        }
        match &event.kind {
            EventKind::Decided {
                text,
                decision,
                cause,
                ..
            } => {
                s.messages += 1;
                *s.by_decision.entry(decision.to_string()).or_default() += 1;
                match decision {
                    DecisionKind::Answer | DecisionKind::Reply => s.answered += 1,
                    DecisionKind::Clarify => s.clarified += 1,
                    DecisionKind::Handoff => s.handed_off += 1,
                    DecisionKind::Fallback => s.fallbacks += 1,
                    DecisionKind::ToOperator => s.to_operator += 1,
                    _ => {}
                }
                // «5», «?», an emoji: nothing an editor could add to the FAQ (as `faq gaps`).
                // The question as anyone could ask it: no introduction, email, phone or
                // order number (the page is shared; the same question groups).
                let asked = crate::text::personal::scrub(text, None);
                if cause.missed(*decision) && crate::text::has_letters(&asked) {
                    let key = crate::text::normalise(&asked);
                    unanswered.entry(key).or_insert_with(|| (asked, 0)).1 += 1;
                }
            }
            EventKind::TicketOpened { .. } => s.tickets_opened += 1,
            EventKind::Closed { .. } => s.tickets_closed += 1,
            _ => {}
        }
    }
    let mut top: Vec<Unanswered> = unanswered
        .into_values()
        .map(|(text, count)| Unanswered { text, count })
        .collect();
    top.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.text.cmp(&b.text)));
    top.truncate(20);
    s.top_unanswered = top;
    s
}

/// The days `from` to `to` (UTC, both included) as `[start, end)`; None past the
/// last date there is.
pub fn period(
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let midnight = |d: chrono::NaiveDate| d.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
    Some((midnight(from)?, midnight(to.succ_opt()?)?))
}

/// What the KPIs of `[from, to)` are computed from.
#[derive(Debug)]
pub struct Input {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Every stored event, or those of the period that the figures depend on
    /// ([`crate::store::Store::report_events`]), in time order (write order among
    /// equal times: a message a provider delivered late counts when it was written).
    pub events: Vec<Event>,
    /// Who wrote in the equally long period before `from` (retention's base).
    pub wrote_before: HashSet<String>,
    /// When the report is made: a ticket still waiting has waited until then.
    pub as_of: DateTime<Utc>,
}

impl Input {
    /// From the store, through its history index: what a period costs does not grow
    /// with the store's age.
    pub fn read(
        store: &crate::store::Store,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> crate::store::Result<Input> {
        let mut events = store.report_events(from, to)?;
        events.sort_by_key(|e| e.at);
        Ok(Input {
            from,
            to,
            events,
            wrote_before: store.writers_between(before(from, to), from)?,
            as_of: Utc::now(),
        })
    }

    /// From every event there is (in write order).
    pub fn of_all(mut events: Vec<Event>, from: DateTime<Utc>, to: DateTime<Utc>) -> Input {
        events.sort_by_key(|e| e.at);
        let before = before(from, to);
        let wrote_before = events
            .iter()
            .filter(|e| before <= e.at && e.at < from)
            .filter(|e| matches!(e.kind, EventKind::Decided { .. }))
            .map(|e| e.customer.as_str().to_owned())
            .collect();
        Input {
            from,
            to,
            events,
            wrote_before,
            as_of: Utc::now(),
        }
    }
}

/// The start of the equally long period before `[from, to)`.
fn before(from: DateTime<Utc>, to: DateTime<Utc>) -> DateTime<Utc> {
    from.checked_sub_signed(to - from)
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// The KPIs of the input's period with the questions the bot could not answer.
pub fn full_report(input: &Input, config: &crate::config::Config) -> Kpis {
    let mut report = kpis(input, config);
    report.top_unanswered =
        summarise(&input.events, Some(input.from), Some(input.to)).top_unanswered;
    report
}

#[cfg(test)]
mod tests {
    use crate::domain::triage::{Cause, DecisionKind};
    use crate::domain::{CustomerId, Event, EventKind, Lang};

    fn missed(customer: &str, text: &str) -> Event {
        Event {
            at: chrono::DateTime::UNIX_EPOCH,
            customer: CustomerId::parse(customer).unwrap(),
            kind: EventKind::Decided {
                text: text.into(),
                lang: Lang::It,
                decision: DecisionKind::Fallback,
                cause: Cause::NoCandidate,
                target: None,
                intent: None,
                reason: String::new(),
                candidates: vec![],
            },
        }
    }

    /// The report's unanswered questions are shared with whoever reads the page: who
    /// asked stays out, and the same question asked by two people is one, counted twice.
    #[test]
    fn unanswered_questions_lose_who_asked_and_group() {
        let events = [
            missed("web:a", "sono Luigi Bianchi, vendete biciclette?"),
            missed("web:b", "vendete biciclette?"),
            missed("web:c", "scrivetemi a giulia@example.it"),
        ];
        let top = super::summarise(&events, None, None).top_unanswered;
        let shown: Vec<(&str, usize)> = top.iter().map(|u| (u.text.as_str(), u.count)).collect();
        assert_eq!(shown, [("vendete biciclette?", 2), ("scrivetemi a", 1)]);
    }
}
