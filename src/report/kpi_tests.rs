//! The KPI figures' pieces on hand-made tickets.
use super::{TicketLife, ticket_times};
use chrono::{DateTime, Duration, Utc};

/// A 10-minute target, the shop open around the clock: a ticket waiting 5 minutes
/// so far is no breach yet, whatever the period's end; one taken back after a
/// second never breached; one still waiting after 20 minutes has.
#[test]
fn a_ticket_waits_until_its_reply_its_end_or_now_never_into_the_future() {
    let config = crate::config::Config::parse(
        "[hours]\ntimezone = \"UTC\"\nmon = \"00:00-24:00\"\ntue = \"00:00-24:00\"\n[departments.assistenza]\nsla_first_response = \"10m\"\n",
    )
    .unwrap();
    let opened: DateTime<Utc> = "2026-03-10T10:00:00Z".parse().unwrap();
    let life = |first_reply: Option<i64>, ended: Option<i64>| TicketLife {
        customer: "web:1".into(),
        department: "assistenza".into(),
        opened: Some(opened),
        first_reply: first_reply.map(|m| opened + Duration::minutes(m)),
        ended: ended.map(|s| opened + Duration::seconds(s)),
    };
    let breaches = |t: &TicketLife, until_minutes: i64| {
        ticket_times(&[t], &config, opened + Duration::minutes(until_minutes)).sla_breaches
    };
    let waiting = life(None, None);
    assert_eq!(breaches(&waiting, 5), 0);
    assert_eq!(breaches(&waiting, 20), 1);
    let taken_back = life(None, Some(1));
    assert_eq!(breaches(&taken_back, 24 * 60), 0);
    let answered_late = life(Some(15), Some(20 * 60));
    assert_eq!(breaches(&answered_late, 24 * 60), 1);
    let answered = life(Some(3), Some(20 * 60));
    assert_eq!(breaches(&answered, 24 * 60), 0);
}
