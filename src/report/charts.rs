//! The report's charts as inline SVG: weekly bars, weekly lines with gaps for weeks
//! without data, horizontal bars of handoff reasons, the bot/operators split.

use super::breakdown::Week;
use super::figures::Kpis;
use super::html::{ACCENT, SECOND, Tr, escape};
use std::fmt::Write;

/// Chart geometry in viewBox units: the plot area goes from (X0, Y0) to (X1, Y1).
const W: f64 = 600.0;
const H: f64 = 220.0;
const X0: f64 = 48.0;
const X1: f64 = 590.0;
const Y0: f64 = 26.0;
const Y1: f64 = 184.0;

/// One chart: the svg body and its viewBox height, or a short text when there is no data.
fn figure(out: &mut String, tr: Tr, chart: &str, caption: &str, svg: Option<(f64, String)>) {
    let _ = write!(
        out,
        "<figure class=\"chart\" data-chart=\"{chart}\"><figcaption>{caption}</figcaption>"
    );
    let _ = match svg {
        Some((h, body)) => write!(
            out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {h}\" role=\"img\" \
             aria-label=\"{caption}\"><title>{caption}</title>{body}</svg>"
        ),
        None => write!(out, "<p class=\"empty\">{}</p>", no_data(tr)),
    };
    let _ = writeln!(out, "</figure>");
}

pub(super) fn no_data(tr: Tr) -> &'static str {
    tr.t("Nessun dato in questo periodo.", "No data in this period.")
}

pub(super) fn charts(out: &mut String, r: &Kpis, tr: Tr) {
    let weeks = r.by_week.as_slice();
    let caption = tr.t("Conversazioni e ticket", "Conversations and tickets");
    figure(out, tr, "volume", caption, volume(weeks, tr));
    let minutes = |w: &Week| w.first_response_operator.p50.map(|s| s as f64 / 60.0);
    let mins = series(weeks, minutes);
    let top = nice(mins.iter().flatten().copied().fold(1.0, f64::max));
    let svg = line(weeks, &mins, &ticks(0.0, top, 2, tr), ACCENT);
    let caption = tr.t("Prima risposta (min, p50)", "First response (min, p50)");
    figure(out, tr, "frt", caption, svg);
    let csat = series(weeks, |w| w.csat.average);
    let svg = line(weeks, &csat, &ticks(1.0, 5.0, 4, tr), ACCENT);
    let caption = tr.t("CSAT medio (1–5)", "Average CSAT (1–5)");
    figure(out, tr, "csat", caption, svg);
    let nps = series(weeks, |w| w.nps.score);
    let svg = line(weeks, &nps, &ticks(-100.0, 100.0, 4, tr), SECOND);
    figure(out, tr, "nps", "NPS (−100…100)", svg);
    let caption = tr.t("Perché a un operatore", "Why handed to an operator");
    figure(out, tr, "reasons", caption, reasons(r, tr));
    let caption = tr.t("Bot e operatori", "Bot and operators");
    figure(out, tr, "containment", caption, containment(r, tr));
}

/// A figure of each week, `None` where the week has none.
fn series(weeks: &[Week], value: impl Fn(&Week) -> Option<f64>) -> Vec<Option<f64>> {
    weeks.iter().map(value).collect()
}

/// 1, 2 or 5 times a power of ten, at least `max`.
/// A titled card holding a table; the cells are already escaped. The caller closes it.
fn nice(max: f64) -> f64 {
    let mag = 10f64.powf(max.max(1.0).log10().floor());
    let candidates = [1.0, 2.0, 5.0, 10.0].map(|m: f64| m * mag);
    candidates.into_iter().find(|v| *v >= max).unwrap_or(max)
}

/// `steps + 1` evenly spaced y-axis values from `lo` to `hi`, with their labels.
fn ticks(lo: f64, hi: f64, steps: u32, tr: Tr) -> Vec<(f64, String)> {
    let at = |i: u32| lo + (hi - lo) * f64::from(i) / f64::from(steps.max(1));
    (0..=steps).map(|i| (at(i), tr.num(at(i)))).collect()
}

fn scale(v: f64, lo: f64, hi: f64) -> f64 {
    Y1 - (v - lo) / (hi - lo) * (Y1 - Y0)
}

fn rect(svg: &mut String, x: f64, y: f64, w: f64, h: f64, fill: &str) {
    let (w, h) = (w.max(0.0), h.max(0.0));
    let _ = write!(
        svg,
        r#"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" fill="{fill}"/>"#
    );
}

fn text(svg: &mut String, x: f64, y: f64, anchor: &str, body: &str) {
    let _ = write!(
        svg,
        r#"<text x="{x:.1}" y="{y:.1}" text-anchor="{anchor}">{body}</text>"#
    );
}

fn y_axis(svg: &mut String, ticks: &[(f64, String)], lo: f64, hi: f64) {
    for (v, label) in ticks {
        let y = scale(*v, lo, hi);
        let _ = write!(svg, r##"<path d="M{X0} {y:.1}H{X1}" stroke="#e5e7eb"/>"##);
        text(svg, X0 - 6.0, y + 4.0, "end", label);
    }
}

/// The "week" labels under the plot, thinned out when there are many weeks.
fn week_labels(svg: &mut String, weeks: &[Week]) {
    let slot = (X1 - X0) / weeks.len().max(1) as f64;
    let step = weeks.len().div_ceil(8).max(1);
    for (i, w) in weeks.iter().enumerate().step_by(step) {
        let label = escape(&w.week);
        let x = X0 + slot * (i as f64 + 0.5);
        text(svg, x, Y1 + 18.0, "middle", &label);
    }
}

/// A colour key: a small square and its label.
fn key(svg: &mut String, x: f64, y: f64, label: &str, color: &str) {
    rect(svg, x, y, 12.0, 12.0, color);
    text(svg, x + 18.0, y + 11.0, "start", label);
}

pub(super) fn volume(weeks: &[Week], tr: Tr) -> Option<(f64, String)> {
    if weeks.is_empty() {
        return None;
    }
    let peaks = weeks
        .iter()
        .map(|w| (w.conversations as f64).max(w.tickets as f64));
    let top = nice(peaks.fold(1.0, f64::max));
    let mut svg = String::new();
    y_axis(&mut svg, &ticks(0.0, top, 2, tr), 0.0, top);
    let slot = (X1 - X0) / weeks.len() as f64;
    let bar = slot * 0.36;
    svg.push_str(r#"<g class="bars">"#);
    for (i, w) in weeks.iter().enumerate() {
        let x = X0 + slot * (i as f64 + 0.14);
        let y = scale(w.conversations as f64, 0.0, top);
        rect(&mut svg, x, y, bar, Y1 - y, ACCENT);
        let y = scale(w.tickets as f64, 0.0, top);
        rect(&mut svg, x + bar, y, bar, Y1 - y, SECOND);
    }
    svg.push_str("</g>");
    week_labels(&mut svg, weeks);
    let conversations = tr.t("Conversazioni", "Conversations");
    key(&mut svg, X0, 4.0, conversations, ACCENT);
    key(&mut svg, X0 + 150.0, 4.0, tr.t("Ticket", "Tickets"), SECOND);
    Some((H, svg))
}

/// A line over the weeks, broken where a value is missing; `ticks` set the y scale.
pub(super) fn line(
    weeks: &[Week],
    values: &[Option<f64>],
    ticks: &[(f64, String)],
    color: &str,
) -> Option<(f64, String)> {
    if values.iter().all(Option::is_none) {
        return None;
    }
    let lo = ticks.first().map_or(0.0, |k| k.0);
    let hi = ticks.last().map_or(1.0, |k| k.0).max(lo + 1.0);
    let slot = (X1 - X0) / values.len() as f64;
    let (mut svg, mut dots, mut run) = (String::new(), String::new(), String::new());
    y_axis(&mut svg, ticks, lo, hi);
    for (i, v) in values.iter().copied().enumerate() {
        let Some(v) = v else {
            polyline(&mut svg, &mut run, color);
            continue;
        };
        let (x, y) = (X0 + slot * (i as f64 + 0.5), scale(v.clamp(lo, hi), lo, hi));
        let _ = write!(run, "{x:.1},{y:.1} ");
        let _ = write!(
            dots,
            r#"<circle cx="{x:.1}" cy="{y:.1}" r="3.5" fill="{color}"/>"#
        );
    }
    polyline(&mut svg, &mut run, color);
    svg.push_str(&dots);
    week_labels(&mut svg, weeks);
    Some((H, svg))
}

fn polyline(svg: &mut String, run: &mut String, color: &str) {
    if !run.is_empty() {
        let points = run.trim_end();
        let _ = write!(
            svg,
            r#"<polyline points="{points}" fill="none" stroke="{color}" stroke-width="2"/>"#
        );
        run.clear();
    }
}

fn reason(key: &str, tr: Tr) -> String {
    let known = match key {
        "asked" => tr.t("chiesto dal cliente", "asked by the customer"),
        "low_confidence" => tr.t("domanda non capita", "question not understood"),
        "complaint" => tr.t("reclamo", "complaint"),
        other => return escape(&other.chars().take(32).collect::<String>()),
    };
    known.to_string()
}

pub(super) fn reasons(r: &Kpis, tr: Tr) -> Option<(f64, String)> {
    let mut rows: Vec<(&String, f64)> = r
        .handoff_reasons
        .iter()
        .map(|(k, &v)| (k, v as f64))
        .collect();
    if rows.is_empty() {
        return None;
    }
    rows.sort_by(|a, b| b.1.total_cmp(&a.1));
    let max = rows.iter().map(|row| row.1).fold(1.0, f64::max);
    let mut svg = String::new();
    for (i, &(name, count)) in rows.iter().enumerate() {
        let (y, w) = (8.0 + 28.0 * i as f64, (W - 280.0) * count / max);
        text(&mut svg, 200.0, y + 13.0, "end", &reason(name, tr));
        rect(&mut svg, 210.0, y, w, 18.0, ACCENT);
        text(&mut svg, 216.0 + w, y + 13.0, "start", &tr.num(count));
    }
    Some((16.0 + 28.0 * rows.len() as f64, svg))
}

pub(super) fn containment(r: &Kpis, tr: Tr) -> Option<(f64, String)> {
    let kept = r.containment_rate?.clamp(0.0, 1.0);
    let settled = r.settled_rate().unwrap_or(kept).clamp(0.0, kept);
    let width = W - 20.0;
    let mut svg = String::new();
    rect(&mut svg, 10.0, 8.0, width * settled, 36.0, ACCENT);
    rect(
        &mut svg,
        10.0 + width * settled,
        8.0,
        width * (kept - settled),
        36.0,
        UNANSWERED,
    );
    rect(
        &mut svg,
        10.0 + width * kept,
        8.0,
        width * (1.0 - kept),
        36.0,
        SECOND,
    );
    let label = tr.t("Risolte dal bot", "Settled by the bot");
    key(
        &mut svg,
        10.0,
        58.0,
        &format!("{label} {}", tr.share(settled)),
        ACCENT,
    );
    let label = tr.t("Senza risposta", "Without an answer");
    let unanswered = format!("{label} {}", tr.share(kept - settled));
    key(&mut svg, 200.0, 58.0, &unanswered, UNANSWERED);
    let label = tr.t("Passate a un operatore", "Handed to an operator");
    key(
        &mut svg,
        390.0,
        58.0,
        &format!("{label} {}", tr.share(1.0 - kept)),
        SECOND,
    );
    Some((80.0, svg))
}

/// Conversations the bot kept without settling them: grey, neither success nor handoff.
const UNANSWERED: &str = "#9ca3af";
