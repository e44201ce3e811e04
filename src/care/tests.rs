//! Opening hours on a real calendar (Europe/Rome, 2026: clocks change on 29 March and
//! 25 October).

use super::*;
use crate::domain::Lang;
use chrono::{DateTime, Duration, TimeZone, Utc};

fn shop() -> Hours {
    let settings: HoursSettings = toml::from_str(
        r#"
        timezone = "Europe/Rome"
        holidays = "it"
        extra_closed = ["2026-12-24"]
        mon = "09:00-13:00,14:00-18:00"
        tue = "09:00-13:00,14:00-18:00"
        wed = "09:00-13:00,14:00-18:00"
        thu = "09:00-13:00,14:00-18:00"
        fri = "09:00-13:00,14:00-18:00"
        sat = "09:00-12:00"
        "#,
    )
    .unwrap();
    Hours::parse(&settings).unwrap()
}

/// A local time in Rome as an instant.
fn rome(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    chrono_tz::Europe::Rome
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .unwrap()
        .with_timezone(&Utc)
}

#[test]
fn a_saturday_evening_is_told_monday_morning() {
    let h = shop();
    let now = rome(2026, 11, 28, 20, 0);
    assert!(!h.is_open(now));
    let back = h.next_opening(now).unwrap();
    assert_eq!(back, rome(2026, 11, 30, 9, 0));
    assert_eq!(h.describe(back, now, Lang::It), "lunedì dalle 9:00");
    assert_eq!(h.describe(back, now, Lang::En), "Monday from 9:00");
}

#[test]
fn easter_monday_and_listed_days_are_closed() {
    let h = shop();
    let pasquetta = rome(2026, 4, 6, 10, 0);
    assert!(!h.is_open(pasquetta));
    let back = h.next_opening(pasquetta).unwrap();
    assert_eq!(back, rome(2026, 4, 7, 9, 0));
    assert_eq!(h.describe(back, pasquetta, Lang::It), "domani dalle 9:00");
    assert!(!h.is_open(rome(2026, 12, 24, 10, 0)), "extra_closed");
    // 24 Dec (extra), 25 and 26 (holidays), 27 (Sunday): back on Monday 28.
    assert_eq!(
        h.next_opening(rome(2026, 12, 23, 19, 0)).unwrap(),
        rome(2026, 12, 28, 9, 0)
    );
}

#[test]
fn the_lunch_break_is_closed_and_back_today() {
    let h = shop();
    let lunch = rome(2026, 3, 10, 13, 30);
    assert!(!h.is_open(lunch));
    assert!(h.is_open(rome(2026, 3, 10, 12, 59)));
    let back = h.next_opening(lunch).unwrap();
    assert_eq!(h.describe(back, lunch, Lang::It), "oggi dalle 14:00");
    assert_eq!(
        h.next_opening(rome(2026, 3, 10, 10, 0)),
        Some(rome(2026, 3, 10, 10, 0))
    );
}

#[test]
fn business_time_skips_lunch_nights_weekends_and_clock_changes() {
    let h = shop();
    let lunch = h.business_time(rome(2026, 3, 10, 12, 30), rome(2026, 3, 10, 14, 30));
    assert_eq!(lunch, Duration::hours(1));
    // Friday 17:30 to Monday 9:30: 30 min + Saturday's 3 h + 30 min.
    let weekend = h.business_time(rome(2026, 3, 27, 17, 30), rome(2026, 3, 30, 9, 30));
    assert_eq!(weekend, Duration::hours(4));
    assert_eq!(
        h.business_time(rome(2026, 3, 10, 20, 0), rome(2026, 3, 10, 21, 0)),
        Duration::zero()
    );
}

#[test]
fn an_sla_due_time_is_counted_in_open_time() {
    let h = shop();
    let d = Duration::minutes(10);
    assert_eq!(
        h.add_business(rome(2026, 3, 13, 17, 50), d),
        Some(rome(2026, 3, 13, 18, 0))
    );
    assert_eq!(
        h.add_business(rome(2026, 3, 13, 17, 55), d),
        Some(rome(2026, 3, 14, 9, 5))
    );
    assert_eq!(
        h.add_business(rome(2026, 3, 10, 12, 55), d),
        Some(rome(2026, 3, 10, 14, 5))
    );
}

#[test]
fn bad_hours_are_refused_with_a_hint() {
    let parse = |extra: &str| {
        toml::from_str::<HoursSettings>(extra)
            .map_err(|e| e.to_string())
            .and_then(|s| Hours::parse(&s).map(|_| ()).map_err(|e| e.to_string()))
    };
    assert!(parse("mon = \"9-13\"").unwrap_err().contains("09:00-13:00"));
    assert!(parse("mon = \"13:00-09:00\"").is_err());
    assert!(
        parse("mon = \"09:00-12:00,11:00-13:00\"").is_err(),
        "overlap"
    );
    assert!(
        parse("timezone = \"Mars/Olympus\"")
            .unwrap_err()
            .contains("Europe/Rome")
    );
    assert!(parse("holidays = \"fr\"").unwrap_err().contains("\"it\""));
    assert!(
        parse("extra_closed = [\"24/12/2026\"]")
            .unwrap_err()
            .contains("2026-12-24")
    );
    assert!(parse("sun = \"closed\"").is_ok());
}

#[test]
fn no_hours_means_always_open() {
    let h = Hours::always();
    let t = rome(2026, 12, 25, 3, 0);
    assert!(h.is_open(t));
    assert_eq!(h.next_opening(t), Some(t));
}

#[test]
fn the_documented_config_shape_is_read_and_a_bad_span_is_reported_at_its_line() {
    let text = r#"
[hours]
timezone = "Europe/Rome"
holidays = "it"
extra_closed = ["2026-12-24"]
mon = "09:00-13:00,14:00-18:00"
tue = "09:00-18:00"

[departments.logistica]
sla_first_response = "10m"
"#;
    let config = crate::config::Config::parse(text).unwrap();
    assert!(
        config.hours.is_open(rome(2026, 3, 10, 17, 0)),
        "Tuesday afternoon"
    );
    assert!(
        !config.hours.is_open(rome(2026, 3, 11, 10, 0)),
        "Wednesday is not listed"
    );
    let logistica = &config.departments["logistica"];
    assert_eq!(logistica.sla_first_response, Some(Duration::minutes(10)));
    assert_eq!(config.hours_of("logistica"), &config.hours);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sportello.toml");
    std::fs::write(&path, text.replace("09:00-18:00", "9 to 18")).unwrap();
    let err = crate::config::Config::load(Some(&path))
        .unwrap_err()
        .to_string();
    assert!(err.contains("sportello.toml:7:"), "{err}");
    assert!(err.contains("09:00-13:00,14:00-18:00"), "{err}");
}

#[test]
fn durations_refuse_odd_units_negative_and_huge_values() {
    use crate::config::parse_duration;
    assert_eq!(parse_duration("90d"), Ok(Duration::days(90)));
    assert!(parse_duration("10é").is_err());
    assert!(parse_duration("-1d").is_err());
    assert!(parse_duration("999999999999d").is_err());
    assert!(parse_duration("").is_err());
}

#[test]
fn an_hour_past_24_is_refused_not_wrapped() {
    let settings: Result<HoursSettings, _> = toml::from_str("mon = \"71582789:00-71582790:00\"");
    assert!(settings.is_err());
}

#[test]
fn the_week_and_the_coming_closures_read_back_as_written() {
    let h = shop();
    let week = h.week_text();
    assert_eq!(week[0], vec!["09:00-13:00", "14:00-18:00"]);
    assert_eq!(week[5], vec!["09:00-12:00"]);
    assert!(week[6].is_empty(), "Sunday has no hours");
    assert_eq!(Hours::always().week_text()[3], vec!["00:00-24:00"]);
    // From 20 December: the extra closure, Christmas and Santo Stefano, New Year's
    // Day; Sundays without hours are not closures.
    let closed = h.closed_days(rome(2026, 12, 20, 12, 0), 14);
    let dates: Vec<String> = closed.iter().map(|d| d.to_string()).collect();
    assert_eq!(
        dates,
        ["2026-12-24", "2026-12-25", "2026-12-26", "2027-01-01"]
    );
}

#[test]
fn the_week_in_words_groups_days_and_names_the_coming_closures() {
    let h = shop();
    let now = rome(2026, 12, 1, 10, 0);
    assert_eq!(
        h.week_words(now, Lang::It),
        "lunedì–venerdì 9:00–13:00 e 14:00–18:00; sabato 9:00–12:00; chiuso domenica e nei \
         giorni festivi nazionali. Prossime chiusure: 8/12, 24/12, 25/12, 26/12."
    );
    assert_eq!(
        h.week_words(rome(2026, 6, 3, 10, 0), Lang::En),
        "Monday–Friday 9:00–13:00 and 14:00–18:00; Saturday 9:00–12:00; closed Sunday and \
         on Italian national holidays."
    );
    assert_eq!(
        Hours::always().week_words(now, Lang::It),
        "tutti i giorni, 24 ore su 24."
    );
    let odd = |toml: &str, lang| {
        let settings: HoursSettings = toml::from_str(toml).unwrap();
        Hours::parse(&settings).unwrap().week_words(now, lang)
    };
    assert_eq!(odd("holidays = \"it\"", Lang::It), "chiuso tutti i giorni.");
    assert_eq!(
        odd(
            "mon = \"00:00-24:00\"\ntue = \"00:00-24:00\"\nwed = \"00:00-24:00\"\nthu = \"00:00-24:00\"\nfri = \"00:00-24:00\"\nsat = \"00:00-24:00\"\nsun = \"00:00-24:00\"\nholidays = \"it\"",
            Lang::En
        ),
        "every day, around the clock; closed on Italian national holidays. Coming closures: \
         8 December, 25 December, 26 December."
    );
    assert_eq!(
        odd(
            "tue = \"09:00-18:00\"\nwed = \"09:00-18:00\"\nthu = \"09:00-18:00\"\nfri = \"09:00-18:00\"\nsat = \"09:00-18:00\"\nholidays = \"it\"",
            Lang::It
        ),
        "martedì–sabato 9:00–18:00; chiuso lunedì, domenica e nei giorni festivi nazionali. \
         Prossime chiusure: 8/12, 25/12, 26/12."
    );
    let weekend: HoursSettings =
        toml::from_str("sat = \"10:00-14:00\"\nsun = \"10:00-14:00\"").unwrap();
    assert_eq!(
        Hours::parse(&weekend).unwrap().week_words(now, Lang::En),
        "Saturday and Sunday 10:00–14:00; closed Monday–Friday."
    );
}
