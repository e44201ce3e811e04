//! An honest wait estimate for a customer handed to a person: from how long the
//! department's recent tickets waited to be claimed (a sensible default without
//! history), scaled by the place in the queue, said as a range, and counted in open
//! time so that a promise made at night is due after the opening.

use super::Hours;
use chrono::{DateTime, Duration, Utc};

/// The wait assumed for one ticket when the department has no history yet.
pub const DEFAULT_WAIT: Duration = Duration::minutes(10);
/// How many recent claims the estimate looks at.
pub const HISTORY: usize = 20;

/// A range of open time, in whole minutes (rounded to 5 above 10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Estimate {
    pub low_minutes: i64,
    pub high_minutes: i64,
}

impl Estimate {
    /// From recent waits (open time from handoff to claim, newest last) and the
    /// 1-based place in the queue: the median wait per place, from half to one and a
    /// half times that.
    pub fn new(recent: &[Duration], position: usize) -> Estimate {
        let mut waits: Vec<i64> = recent
            .iter()
            .rev()
            .take(HISTORY)
            .map(Duration::num_seconds)
            .collect();
        waits.sort_unstable();
        let median = waits
            .get(waits.len() / 2)
            .copied()
            .unwrap_or(DEFAULT_WAIT.num_seconds());
        let per_place = median.max(60) as f64 / 60.0;
        let centre = per_place * position.max(1) as f64;
        Estimate {
            low_minutes: round(centre * 0.5).max(1),
            high_minutes: round(centre * 1.5).max(2),
        }
    }

    /// The estimate after a promise of up to `broken_high` minutes was not kept: never
    /// the same range again, but from at least that end to at least twice it.
    pub fn after_broken(self, broken_high: i64) -> Estimate {
        Estimate {
            low_minutes: self.low_minutes.max(broken_high).max(1),
            high_minutes: self
                .high_minutes
                .max(round(broken_high as f64 * 2.0))
                .max(2),
        }
    }

    /// When the promise falls due: the high end, counted in open time from `now`.
    pub fn due(&self, hours: &Hours, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        hours.add_business(now, Duration::minutes(self.high_minutes))
    }
}

fn round(minutes: f64) -> i64 {
    let m = minutes.round() as i64;
    if m > 10 { (m + 4) / 5 * 5 } else { m }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_history_the_default_wait_is_used_and_scaled_by_position() {
        assert_eq!(
            Estimate::new(&[], 1),
            Estimate {
                low_minutes: 5,
                high_minutes: 15
            }
        );
        assert_eq!(
            Estimate::new(&[], 3),
            Estimate {
                low_minutes: 15,
                high_minutes: 45
            }
        );
    }

    #[test]
    fn recent_waits_set_the_pace() {
        let quick: Vec<Duration> = [2, 3, 2, 40]
            .iter()
            .map(|&m| Duration::minutes(m))
            .collect();
        let e = Estimate::new(&quick, 1);
        assert_eq!(
            e,
            Estimate {
                low_minutes: 2,
                high_minutes: 5
            },
            "median 3 min, outlier ignored"
        );
        assert!(e.low_minutes < e.high_minutes);
    }

    #[test]
    fn after_a_broken_promise_the_range_starts_where_it_ended() {
        let first = Estimate::new(&[], 1);
        let second = first.after_broken(first.high_minutes);
        assert_eq!(
            second,
            Estimate {
                low_minutes: 15,
                high_minutes: 30
            }
        );
        let slow = Estimate {
            low_minutes: 60,
            high_minutes: 180,
        };
        assert_eq!(slow.after_broken(15), slow, "a longer fresh one stands");
        // A fresh 10-30 (a place lower) after 5-15 broken starts at 15, not 10.
        let fresh = Estimate {
            low_minutes: 10,
            high_minutes: 30,
        };
        assert_eq!(
            fresh.after_broken(15),
            Estimate {
                low_minutes: 15,
                high_minutes: 30
            }
        );
    }

    #[test]
    fn a_promise_made_when_closed_falls_due_after_the_opening() {
        let h = Hours::always();
        let now = Utc::now();
        let e = Estimate::new(&[], 1);
        assert_eq!(e.due(&h, now), Some(now + Duration::minutes(15)));
    }
}
