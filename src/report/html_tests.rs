//! The KPI page: its figures, its languages, and nothing of a customer's text unescaped.

use super::*;
use crate::report::{Csat, Nps, Percentiles, Week};
use std::collections::BTreeMap;

fn full() -> Kpis {
    let week = Week {
        week: "2026-W10".to_owned(),
        conversations: 4,
        tickets: 2,
        first_response_operator: Percentiles {
            p50: Some(600),
            p90: None,
        },
        csat: Csat {
            average: Some(3.5),
            ..Csat::default()
        },
        nps: Nps {
            score: Some(0.0),
            ..Nps::default()
        },
        ..Week::default()
    };
    let script = "<script>alert(1)</script>";
    Kpis {
        from: "2026-03-01T00:00:00Z".parse().unwrap(),
        to: "2026-04-01T00:00:00Z".parse().unwrap(),
        conversations: 4,
        containment_rate: Some(0.5),
        csat: Csat {
            average: Some(3.5),
            responses: 2,
            satisfied_share: None,
        },
        by_department: BTreeMap::from([(
            script.to_owned(),
            TicketTimes {
                tickets: 1,
                ..TicketTimes::default()
            },
        )]),
        by_channel: BTreeMap::from([(
            "web".to_owned(),
            Slice {
                conversations: 4,
                ..Slice::default()
            },
        )]),
        by_week: vec![week.clone(), Week::default(), week],
        handoff_reasons: BTreeMap::from([("asked".to_owned(), 1), ("intent:refund".to_owned(), 1)]),
        top_unanswered: vec![Unanswered {
            text: script.to_owned(),
            count: 3,
        }],
        ..Kpis::default()
    }
}

#[test]
fn report_text_is_escaped() {
    let html = page(&full(), Lang::It);
    assert!(!html.to_lowercase().contains("<script"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("2026-03-01 → 2026-03-31"));
}

#[test]
fn every_chart_is_there_and_an_empty_report_renders() {
    let html = page(&full(), Lang::En);
    for chart in ["volume", "frt", "csat", "nps", "reasons", "containment"] {
        assert!(html.contains(&format!("data-chart=\"{chart}\"")), "{chart}");
    }
    assert!(!html.contains("No data in this period"));
    let empty = page(&Kpis::default(), Lang::En);
    assert!(empty.contains("No data in this period") && empty.contains("id=\"unanswered\""));
}

#[test]
fn numbers_follow_the_language() {
    assert!(page(&full(), Lang::It).contains("3,5/5"));
    assert!(page(&full(), Lang::En).contains("3.5/5"));
    assert_eq!(Tr(Lang::It).dur(Some(7500)), "2 h 5 min");
    assert_eq!(Tr(Lang::En).dur(Some(97_200)), "1 d 3 h");
    assert_eq!(Tr(Lang::It).dur(Some(45)), "45 s");
}
