//! Holidays: the Italian national ones, with Easter Monday computed for each year.

use chrono::{Datelike, Duration, NaiveDate};

/// Easter Sunday in the Gregorian calendar (the anonymous algorithm of Meeus, Jones
/// and Butcher).
pub fn easter_sunday(year: i32) -> NaiveDate {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, month as u32, day as u32).expect("Easter is a real date")
}

/// The Italian national holidays of `year`: the fixed ones, Easter Sunday and Monday,
/// and 4 October (San Francesco, a national holiday again from 2026, law 151/2025).
pub fn italian_holidays(year: i32) -> Vec<NaiveDate> {
    let fixed: &[(u32, u32)] = &[
        (1, 1),   // Capodanno
        (1, 6),   // Epifania
        (4, 25),  // Liberazione
        (5, 1),   // Festa del lavoro
        (6, 2),   // Festa della Repubblica
        (8, 15),  // Ferragosto
        (11, 1),  // Ognissanti
        (12, 8),  // Immacolata
        (12, 25), // Natale
        (12, 26), // Santo Stefano
    ];
    let mut days: Vec<NaiveDate> = fixed
        .iter()
        .filter_map(|&(m, d)| NaiveDate::from_ymd_opt(year, m, d))
        .collect();
    if year >= 2026 {
        days.extend(NaiveDate::from_ymd_opt(year, 10, 4));
    }
    let easter = easter_sunday(year);
    days.push(easter);
    days.push(easter + Duration::days(1));
    days.sort();
    days.retain(|d| d.year() == year);
    days
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn easter_falls_on_the_published_dates() {
        // Dates as published in the liturgical calendars.
        for (y, m, d) in [
            (2024, 3, 31),
            (2025, 4, 20),
            (2026, 4, 5),
            (2027, 3, 28),
            (2038, 4, 25),
            (2285, 3, 22),
        ] {
            assert_eq!(easter_sunday(y), date(y, m, d), "{y}");
        }
    }

    #[test]
    fn italian_holidays_include_easter_monday_and_the_fixed_days() {
        let h = italian_holidays(2026);
        assert!(h.contains(&date(2026, 4, 6)), "Pasquetta 2026");
        assert!(h.contains(&date(2026, 12, 8)));
        assert!(h.contains(&date(2026, 10, 4)));
        assert!(!italian_holidays(2025).contains(&date(2025, 10, 4)));
        assert!(
            italian_holidays(2027).contains(&date(2027, 3, 29)),
            "Pasquetta 2027"
        );
        assert_eq!(h.len(), 13);
    }
}
