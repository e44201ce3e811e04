//! `report --csv`: the KPIs as one table a spreadsheet opens, one row per scope —
//! the whole period, each week, each channel, each department.

use serde_json::Value;
use std::fmt::Write;

const HEADER: &str = "scope,key,conversations,messages,containment_rate,tickets,first_response_operator_p50_s,first_response_operator_p90_s,resolution_p50_s,csat_average,csat_responses,nps_score,nps_responses,sla_breaches";

pub fn csv(report: &Value) -> String {
    let mut out = String::from(HEADER);
    out.push('\n');
    let total = Value::from(serde_json::Map::from_iter([
        ("conversations".into(), report["conversations"].clone()),
        ("messages".into(), report["messages"].clone()),
        (
            "containment_rate".into(),
            report["containment_rate"].clone(),
        ),
        (
            "tickets".into(),
            report["by_department"]
                .as_object()
                .map(|d| {
                    d.values()
                        .filter_map(|v| v["tickets"].as_u64())
                        .sum::<u64>()
                })
                .into(),
        ),
        (
            "first_response_operator".into(),
            report["first_response_seconds"]["operator"].clone(),
        ),
        ("resolution".into(), report["resolution_seconds"].clone()),
        ("csat".into(), report["csat"].clone()),
        ("nps".into(), report["nps"].clone()),
        ("sla_breaches".into(), report["sla_breaches"].clone()),
    ]));
    row(&mut out, "total", "", &total);
    for week in report["by_week"].as_array().into_iter().flatten() {
        row(&mut out, "week", week["start"].as_str().unwrap_or(""), week);
    }
    for (scope, key) in [("channel", "by_channel"), ("department", "by_department")] {
        for (name, slice) in report[key].as_object().into_iter().flatten() {
            row(&mut out, scope, name, slice);
        }
    }
    out
}

/// One row; a department's figures use its own key names.
fn row(out: &mut String, scope: &str, key: &str, s: &Value) {
    let frt = match &s["first_response_operator"] {
        Value::Null => &s["first_response_business"],
        v => v,
    };
    let cells = [
        &s["conversations"],
        &s["messages"],
        &s["containment_rate"],
        &s["tickets"],
        &frt["p50"],
        &frt["p90"],
        &s["resolution"]["p50"],
        &s["csat"]["average"],
        &s["csat"]["responses"],
        &s["nps"]["score"],
        &s["nps"]["responses"],
        &s["sla_breaches"],
    ];
    let _ = write!(out, "{scope},{}", field(key));
    for cell in cells {
        let _ = match cell {
            Value::Null => write!(out, ","),
            Value::Number(n) => write!(out, ",{n}"),
            other => write!(out, ",{}", field(&other.to_string())),
        };
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

    #[test]
    fn names_with_commas_are_quoted_and_missing_figures_left_empty() {
        let report = serde_json::json!({
            "conversations": 3,
            "by_department": {"vendite, online": {"tickets": 2, "sla_breaches": 1}},
        });
        let text = csv(&report);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], HEADER);
        assert_eq!(lines[1], "total,,3,,,2,,,,,,,,");
        assert_eq!(lines[2], "department,\"vendite, online\",,,,2,,,,,,,,1");
    }
}
