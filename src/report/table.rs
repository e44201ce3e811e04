//! `report --csv`: the KPIs as one table a spreadsheet opens, one row per scope —
//! the whole period, each week, each channel, each department.

use super::breakdown::Slice;
use super::figures::{Kpis, Percentiles, TicketTimes};
use std::fmt::{Display, Write};

const HEADER: &str = "scope,key,conversations,messages,containment_rate,tickets,first_response_operator_p50_s,first_response_operator_p90_s,resolution_p50_s,csat_average,csat_responses,nps_score,nps_responses,sla_breaches";

/// A row's cells after `scope,key`, in the order of [`HEADER`].
type Cells = [String; 12];

pub fn csv(report: &Kpis) -> String {
    let mut out = String::from(HEADER);
    out.push('\n');
    let tickets: usize = report.by_department.values().map(|d| d.tickets).sum();
    let total = Slice {
        containment_rate: report.containment_rate,
        conversations: report.conversations,
        csat: report.csat,
        first_response_operator: report.first_response_seconds.operator,
        messages: report.messages,
        nps: report.nps,
        resolution: report.resolution_seconds,
        tickets,
    };
    let mut cells = slice_cells(&total);
    cells[11] = count(report.sla_breaches);
    row(&mut out, "total", "", &cells);
    for week in &report.by_week {
        let start = week.start.to_string();
        row(&mut out, "week", &start, &slice_cells(&week.figures()));
    }
    for (name, slice) in &report.by_channel {
        row(&mut out, "channel", name, &slice_cells(slice));
    }
    for (name, department) in &report.by_department {
        row(&mut out, "department", name, &department_cells(department));
    }
    out
}

/// A week's or a channel's cells; they have no SLA breaches of their own.
fn slice_cells(s: &Slice) -> Cells {
    let Percentiles { p50, p90 } = s.first_response_operator;
    [
        count(s.conversations),
        count(s.messages),
        float(s.containment_rate),
        count(s.tickets),
        seconds(p50),
        seconds(p90),
        seconds(s.resolution.p50),
        float(s.csat.average),
        count(s.csat.responses),
        float(s.nps.score),
        count(s.nps.responses),
        String::new(),
    ]
}

/// A department's cells: tickets and their times, no conversations or surveys.
fn department_cells(d: &TicketTimes) -> Cells {
    let Percentiles { p50, p90 } = d.first_response_business;
    let mut cells = Cells::default();
    cells[3] = count(d.tickets);
    cells[4] = seconds(p50);
    cells[5] = seconds(p90);
    cells[6] = seconds(d.resolution.p50);
    cells[11] = count(d.sla_breaches);
    cells
}

fn count(n: impl Display) -> String {
    n.to_string()
}

/// Seconds, or an empty cell when there is no value.
fn seconds(s: Option<i64>) -> String {
    s.map(|s| s.to_string()).unwrap_or_default()
}

/// A share or a score written as in the JSON report (`0.5`, `3.0`), rounded to four
/// decimals (a spreadsheet shows `0.739`, not `0.7390476190476191`), or an empty cell.
fn float(x: Option<f64>) -> String {
    x.map(|x| (x * 10_000.0).round() / 10_000.0)
        .and_then(serde_json::Number::from_f64)
        .map(|n| n.to_string())
        .unwrap_or_default()
}

fn row(out: &mut String, scope: &str, key: &str, cells: &Cells) {
    let _ = write!(out, "{scope},{}", field(key));
    for cell in cells {
        let _ = write!(out, ",{cell}");
    }
    out.push('\n');
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
fn field(raw: &str) -> String {
    if raw.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", raw.replace('"', "\"\""))
    } else {
        raw.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn names_with_commas_are_quoted_and_missing_figures_left_empty() {
        let department = TicketTimes {
            tickets: 2,
            sla_breaches: 1,
            ..TicketTimes::default()
        };
        let report = Kpis {
            conversations: 3,
            by_department: BTreeMap::from([("vendite, online".to_owned(), department)]),
            ..Kpis::default()
        };
        let text = csv(&report);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], HEADER);
        assert_eq!(lines[1], "total,,3,0,,2,,,,,0,,0,0");
        assert_eq!(lines[2], "department,\"vendite, online\",,,,2,,,,,,,,1");
        assert_eq!(float(Some(0.739_047_619_047_619_1)), "0.739");
        assert_eq!(float(Some(3.0)), "3.0");
        assert_eq!(float(Some(-33.333_333)), "-33.3333");
    }
}
