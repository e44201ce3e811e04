//! Opening hours in the shop's time zone: which instants people are in, when they are
//! back, and business time between two instants (for first-response times and SLA
//! due times, counted like Zendesk does: only while open).

use super::holidays::italian_holidays;
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use serde::Deserialize;
use std::collections::BTreeSet;

/// How far ahead an opening is looked for (a shop closed longer says "later").
const HORIZON_DAYS: i64 = 31;
const DAY_MINUTES: u32 = 24 * 60;

/// `[hours]` as written in `sportello.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoursSettings {
    #[serde(default = "rome")]
    pub timezone: Zone,
    /// `"it"` for the Italian national holidays, or a list of `"YYYY-MM-DD"`.
    #[serde(default)]
    pub holidays: Holidays,
    #[serde(default)]
    pub extra_closed: Vec<Day>,
    pub mon: Option<Spans>,
    pub tue: Option<Spans>,
    pub wed: Option<Spans>,
    pub thu: Option<Spans>,
    pub fri: Option<Spans>,
    pub sat: Option<Spans>,
    pub sun: Option<Spans>,
}

fn rome() -> Zone {
    Zone(chrono_tz::Europe::Rome)
}

/// Each value checked where it is written, so that an error names its own line.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "String")]
pub struct Zone(Tz);

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "String")]
pub struct Spans(Vec<(u32, u32)>);

#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(try_from = "String")]
pub struct Day(NaiveDate);

impl TryFrom<String> for Zone {
    type Error = HoursError;
    fn try_from(raw: String) -> Result<Self, HoursError> {
        raw.trim()
            .parse()
            .map(Zone)
            .map_err(|_| HoursError::Zone(raw))
    }
}

impl TryFrom<String> for Spans {
    type Error = HoursError;
    fn try_from(raw: String) -> Result<Self, HoursError> {
        parse_spans(&raw).map(Spans)
    }
}

impl TryFrom<String> for Day {
    type Error = HoursError;
    fn try_from(raw: String) -> Result<Self, HoursError> {
        NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
            .map(Day)
            .map_err(|_| HoursError::Date(raw))
    }
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(untagged)]
pub enum Holidays {
    #[default]
    None,
    Country(String),
    Dates(Vec<Day>),
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HoursError {
    #[error("unknown time zone `{0}` (hint: an IANA name such as \"Europe/Rome\")")]
    Zone(String),
    #[error("`{0}` is not a list of opening spans (hint: \"09:00-13:00,14:00-18:00\")")]
    Spans(String),
    #[error("`{0}` is not a date (hint: \"2026-12-24\")")]
    Date(String),
    #[error("holidays = \"{0}\" is not known (hint: \"it\", or a list of dates)")]
    Country(String),
}

/// Parsed opening hours (read from `[hours]` through [`HoursSettings`]).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "HoursSettings")]
pub struct Hours {
    tz: Tz,
    /// Per weekday from Monday: open spans in minutes of the day, `[start, end)`.
    week: [Vec<(u32, u32)>; 7],
    closed: BTreeSet<NaiveDate>,
    italian: bool,
}

impl Hours {
    pub fn parse(s: &HoursSettings) -> Result<Hours, HoursError> {
        let tz = s.timezone.0;
        let days = [&s.mon, &s.tue, &s.wed, &s.thu, &s.fri, &s.sat, &s.sun];
        let week = days.map(|d| d.as_ref().map(|spans| spans.0.clone()).unwrap_or_default());
        let mut closed = BTreeSet::new();
        let mut italian = false;
        let listed = match &s.holidays {
            Holidays::None => &[][..],
            Holidays::Country(c) if c == "it" => {
                italian = true;
                &[][..]
            }
            Holidays::Country(c) => return Err(HoursError::Country(c.clone())),
            Holidays::Dates(dates) => dates.as_slice(),
        };
        closed.extend(listed.iter().chain(&s.extra_closed).map(|d| d.0));
        Ok(Hours {
            tz,
            week,
            closed,
            italian,
        })
    }

    /// Open every minute of every day (a shop that set no hours).
    pub fn always() -> Hours {
        Hours {
            tz: chrono_tz::Europe::Rome,
            week: std::array::from_fn(|_| vec![(0, DAY_MINUTES)]),
            closed: BTreeSet::new(),
            italian: false,
        }
    }

    pub fn timezone(&self) -> Tz {
        self.tz
    }

    /// The week as written, from Monday: each day's spans as "09:00-13:00" (an empty
    /// list is a closed day; "00:00-24:00" a day open around the clock).
    pub fn week_text(&self) -> [Vec<String>; 7] {
        let hm = |m: u32| format!("{:02}:{:02}", m / 60, m % 60);
        std::array::from_fn(|day| {
            self.week[day]
                .iter()
                .map(|&(s, e)| format!("{}-{}", hm(s), hm(e)))
                .collect()
        })
    }

    /// The local dates among the next `days` from `at`'s that are closed as holidays
    /// or extra closures (weekdays without hours are not listed).
    pub fn closed_days(&self, at: DateTime<Utc>, days: i64) -> Vec<NaiveDate> {
        let first = self.local_date(at);
        (0..days)
            .map(|i| first + Duration::days(i))
            .filter(|&d| self.is_closed_day(d))
            .collect()
    }

    fn is_closed_day(&self, date: NaiveDate) -> bool {
        self.closed.contains(&date)
            || (self.italian && italian_holidays(date.year()).contains(&date))
    }

    /// The open spans of a local date, as UTC instants.
    fn spans(&self, date: NaiveDate) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        if self.is_closed_day(date) {
            return Vec::new();
        }
        let weekday = date.weekday().num_days_from_monday() as usize;
        self.week[weekday]
            .iter()
            .filter_map(|&(start, end)| {
                Some((self.instant(date, start)?, self.instant(date, end)?))
            })
            .collect()
    }

    /// A local date and minute of the day as an instant (a minute skipped by a clock
    /// change moves on to the next that exists).
    fn instant(&self, date: NaiveDate, minute: u32) -> Option<DateTime<Utc>> {
        let midnight = date.and_hms_opt(0, 0, 0)?;
        let local = midnight + Duration::minutes(i64::from(minute));
        (0..3)
            .find_map(|hour| {
                self.tz
                    .from_local_datetime(&(local + Duration::hours(hour)))
                    .earliest()
            })
            .map(|t| t.with_timezone(&Utc))
    }

    fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.tz).date_naive()
    }

    /// Spans from the local day of `at` on, for [`HORIZON_DAYS`] days (one more before,
    /// for a span that started yesterday).
    fn spans_from(
        &self,
        at: DateTime<Utc>,
        days: i64,
    ) -> impl Iterator<Item = (DateTime<Utc>, DateTime<Utc>)> + '_ {
        let first = self.local_date(at) - Duration::days(1);
        (0..=days).flat_map(move |i| self.spans(first + Duration::days(i)))
    }

    pub fn is_open(&self, at: DateTime<Utc>) -> bool {
        self.spans_from(at, 2).any(|(s, e)| s <= at && at < e)
    }

    /// When people are in next: `at` itself if open now; None if closed for a month.
    pub fn next_opening(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.spans_from(at, HORIZON_DAYS)
            .find(|&(_, e)| e > at)
            .map(|(s, _)| s.max(at))
    }

    /// Open time between two instants.
    pub fn business_time(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Duration {
        if to <= from {
            return Duration::zero();
        }
        let days = (self.local_date(to) - self.local_date(from)).num_days() + 1;
        self.spans_from(from, days)
            .map(|(s, e)| (s.max(from), e.min(to)))
            .filter(|(s, e)| s < e)
            .map(|(s, e)| e - s)
            .fold(Duration::zero(), |a, b| a + b)
    }

    /// The instant when `budget` of open time has passed since `from` (an SLA due
    /// time); None if that is beyond the horizon.
    pub fn add_business(&self, from: DateTime<Utc>, budget: Duration) -> Option<DateTime<Utc>> {
        let mut left = budget;
        for (s, e) in self.spans_from(from, HORIZON_DAYS * 4) {
            let (s, e) = (s.max(from), e);
            if s >= e {
                continue;
            }
            if e - s >= left {
                return Some(s + left);
            }
            left -= e - s;
        }
        None
    }

    /// The week in words for customers, days with the same hours together, then the
    /// closures of the next 30 days from `now`: "lunedì–venerdì 9:00–18:00; sabato
    /// 9:00–13:00; chiuso domenica e nei giorni festivi nazionali. Prossime chiusure:
    /// 8/12, 25/12." What an FAQ answer's `{hours}` says, so it never drifts from the
    /// hours the bot keeps.
    pub fn week_words(&self, now: DateTime<Utc>, lang: crate::domain::Lang) -> String {
        let it = lang == crate::domain::Lang::It;
        let and = if it { " e " } else { " and " };
        let hm = |m: u32| format!("{}:{:02}", m / 60, m % 60);
        let day = |i: usize| weekday_name(Weekday::try_from(i as u8).expect("0..7"), it);
        let mut parts = Vec::new();
        let mut closed = Vec::new();
        let mut i = 0;
        while i < 7 {
            let mut j = i;
            while j + 1 < 7 && self.week[j + 1] == self.week[i] {
                j += 1;
            }
            let days = match (i, j) {
                (0, 6) => (if it { "tutti i giorni" } else { "every day" }).to_owned(),
                _ if i == j => day(i).to_owned(),
                _ if j == i + 1 => format!("{}{and}{}", day(i), day(j)),
                _ => format!("{}–{}", day(i), day(j)),
            };
            if self.week[i].is_empty() {
                closed.push(days);
            } else if self.week[i] == [(0, DAY_MINUTES)] {
                let around = if it {
                    "24 ore su 24"
                } else {
                    "around the clock"
                };
                parts.push(format!("{days}, {around}"));
            } else {
                let spans: Vec<String> = self.week[i]
                    .iter()
                    .map(|&(s, e)| format!("{}–{}", hm(s), hm(e)))
                    .collect();
                parts.push(format!("{days} {}", spans.join(and)));
            }
            i = j + 1;
        }
        if parts.is_empty() {
            let never = if it {
                "chiuso tutti i giorni"
            } else {
                "closed every day"
            };
            return format!("{never}.{}", self.closures(now, it));
        }
        if self.italian {
            closed.push(
                (if it {
                    "nei giorni festivi nazionali"
                } else {
                    "on Italian national holidays"
                })
                .to_owned(),
            );
        }
        let mut words = parts.join("; ");
        if let Some((last, rest)) = closed.split_last() {
            words.push_str(if it { "; chiuso " } else { "; closed " });
            if !rest.is_empty() {
                words.push_str(&rest.join(", "));
                words.push_str(and);
            }
            words.push_str(last);
        }
        format!("{words}.{}", self.closures(now, it))
    }

    /// " Prossime chiusure: 8/12, 25/12." for the closed dates of the next 30 days
    /// that fall on days otherwise open; empty when none.
    fn closures(&self, now: DateTime<Utc>, it: bool) -> String {
        let dates: Vec<String> = self
            .closed_days(now, 30)
            .into_iter()
            .filter(|d| !self.week[d.weekday().num_days_from_monday() as usize].is_empty())
            .map(|d| {
                if it {
                    d.format("%-d/%-m").to_string()
                } else {
                    d.format("%-d %B").to_string()
                }
            })
            .collect();
        match (dates.is_empty(), it) {
            (true, _) => String::new(),
            (false, true) => format!(" Prossime chiusure: {}.", dates.join(", ")),
            (false, false) => format!(" Coming closures: {}.", dates.join(", ")),
        }
    }

    /// "lunedì alle 9:15", "oggi alle 14:10" (or "Monday at 9:15"): when a promise
    /// falls due, said at `now`.
    pub fn describe_due(
        &self,
        when: DateTime<Utc>,
        now: DateTime<Utc>,
        lang: crate::domain::Lang,
    ) -> String {
        let opening = self.describe(when, now, lang);
        if lang == crate::domain::Lang::It {
            opening.replacen(" dalle ", " alle ", 1)
        } else {
            opening.replacen(" from ", " at ", 1)
        }
    }

    /// "oggi dalle 14:00", "domani dalle 9:00", "lunedì dalle 9:00" (or English), for
    /// an opening at `when` said at `now`.
    pub fn describe(
        &self,
        when: DateTime<Utc>,
        now: DateTime<Utc>,
        lang: crate::domain::Lang,
    ) -> String {
        let local = when.with_timezone(&self.tz);
        let days = (local.date_naive() - self.local_date(now)).num_days();
        let time = local.format("%-H:%M").to_string();
        let it = lang == crate::domain::Lang::It;
        let day = match days {
            0 => (if it { "oggi" } else { "today" }).to_owned(),
            1 => (if it { "domani" } else { "tomorrow" }).to_owned(),
            2..=6 => weekday_name(local.weekday(), it).to_owned(),
            _ if it => format!(
                "{} {}",
                weekday_name(local.weekday(), true),
                local.format("%-d/%-m")
            ),
            _ => format!(
                "{} {}",
                weekday_name(local.weekday(), false),
                local.format("%-d %B")
            ),
        };
        if it {
            format!("{day} dalle {time}")
        } else {
            format!("{day} from {time}")
        }
    }
}

impl TryFrom<HoursSettings> for Hours {
    type Error = HoursError;
    fn try_from(s: HoursSettings) -> Result<Self, HoursError> {
        Hours::parse(&s)
    }
}

impl Default for Hours {
    fn default() -> Self {
        Hours::always()
    }
}

fn weekday_name(day: Weekday, it: bool) -> &'static str {
    const IT: [&str; 7] = [
        "lunedì",
        "martedì",
        "mercoledì",
        "giovedì",
        "venerdì",
        "sabato",
        "domenica",
    ];
    const EN: [&str; 7] = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    let i = day.num_days_from_monday() as usize;
    if it { IT[i] } else { EN[i] }
}

/// "09:00-13:00,14:00-18:00" (or "closed", or "") into minute spans.
fn parse_spans(raw: &str) -> Result<Vec<(u32, u32)>, HoursError> {
    let bad = || HoursError::Spans(raw.to_owned());
    let text = raw.trim();
    if text.is_empty() || text.eq_ignore_ascii_case("closed") || text.eq_ignore_ascii_case("chiuso")
    {
        return Ok(Vec::new());
    }
    let mut spans = Vec::new();
    for part in text.split(',') {
        let (a, b) = part.split_once('-').ok_or_else(bad)?;
        let (start, end) = (minute(a).ok_or_else(bad)?, minute(b).ok_or_else(bad)?);
        if start >= end || spans.last().is_some_and(|&(_, prev_end)| start < prev_end) {
            return Err(bad());
        }
        spans.push((start, end));
    }
    Ok(spans)
}

/// "9:30" or "09:30" (up to "24:00") as minutes of the day.
fn minute(raw: &str) -> Option<u32> {
    let (h, m) = raw.trim().split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    if h > 24 || m >= 60 {
        return None;
    }
    let total = h * 60 + m;
    (total <= DAY_MINUTES).then_some(total)
}
