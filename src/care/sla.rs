//! First-response SLA of a ticket: due after the department's target in open time;
//! "near" once four fifths of it are used, "breached" past it without a reply.

use super::Hours;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SlaState {
    Ok,
    Near,
    Breached,
    /// Answered within the target.
    Met,
}

/// The state at `now` of a ticket opened at `opened` and first answered at
/// `first_response` (if yet), for a `target` in open time.
pub fn sla_state(
    hours: &Hours,
    target: Duration,
    opened: DateTime<Utc>,
    first_response: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> SlaState {
    let used = hours.business_time(opened, first_response.unwrap_or(now));
    match (first_response.is_some(), used > target) {
        (_, true) => SlaState::Breached,
        (true, false) => SlaState::Met,
        (false, false) if used * 5 >= target * 4 => SlaState::Near,
        (false, false) => SlaState::Ok,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_goes_ok_near_breached_or_met() {
        let h = Hours::always();
        let t0 = Utc::now();
        let ten = Duration::minutes(10);
        let at = |m| t0 + Duration::minutes(m);
        assert_eq!(sla_state(&h, ten, t0, None, at(5)), SlaState::Ok);
        assert_eq!(sla_state(&h, ten, t0, None, at(8)), SlaState::Near);
        assert_eq!(sla_state(&h, ten, t0, None, at(11)), SlaState::Breached);
        assert_eq!(sla_state(&h, ten, t0, Some(at(9)), at(60)), SlaState::Met);
        assert_eq!(
            sla_state(&h, ten, t0, Some(at(12)), at(60)),
            SlaState::Breached
        );
    }
}
