//! The KPI report as one self-contained HTML page (`sportello report --html`): headline
//! tiles, inline SVG charts and tables, in Italian or English. No JavaScript and no
//! external resources; every text taken from the report is escaped.

use super::Unanswered;
use super::breakdown::Slice;
use super::charts::{charts, no_data};
use super::figures::{Kpis, TicketTimes};
use crate::domain::Lang;
use chrono::{DateTime, Utc};
use std::fmt::Write;

pub(super) const ACCENT: &str = "#2563eb";
pub(super) const SECOND: &str = "#f59e0b";
const NONE: &str = "—";
const CSS: &str = r#"*{box-sizing:border-box}
body{margin:0;background:#f6f7f9;color:#111827;font:15px/1.45 system-ui,-apple-system,
"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1100px;margin:0 auto;padding:16px}h1{margin:.2em 0;font-size:1.5rem}
h2{font-size:1.1rem;margin:0 0 8px}.period,.note,.empty,footer{color:#6b7280}
#kpis,.charts{display:grid;gap:12px;margin:16px 0}
#kpis{grid-template-columns:repeat(auto-fit,minmax(160px,1fr))}
.charts{grid-template-columns:repeat(auto-fit,minmax(min(320px,100%),1fr))}
.tile,.card,.chart{background:#fff;border:1px solid #e5e7eb;border-radius:10px;padding:12px 14px}
.label{font-size:.78rem;text-transform:uppercase;letter-spacing:.03em;color:#4b5563}
.value{font-size:1.6rem;font-weight:600;color:#2563eb}.tile .note{font-size:.8rem}
.tile small{display:block}.chart{margin:0}figcaption{font-weight:600;margin-bottom:6px}
svg{width:100%;height:auto;display:block}svg text{font-size:12px;fill:#4b5563}
.card{margin-bottom:16px;overflow-x:auto}table{width:100%;border-collapse:collapse;font-size:.9rem}
th,td{padding:6px 8px;border-bottom:1px solid #e5e7eb;text-align:left}td+td,th+th{text-align:right}
code{background:#eef2ff;padding:1px 4px;border-radius:4px}
footer{font-size:.85rem;padding:8px 0 24px}
@media print{body{background:#fff}main{max-width:none}.tile,.card,.chart{break-inside:avoid}}"#;

/// A figure of the report as the page shows it: counts, and shares or scores that
/// are `None` when there was nothing to compute them from.
pub(super) trait Figure {
    fn figure(self) -> Option<f64>;
}

impl Figure for usize {
    fn figure(self) -> Option<f64> {
        Some(self as f64)
    }
}

impl Figure for Option<f64> {
    fn figure(self) -> Option<f64> {
        self
    }
}

/// Words and numbers in the page's language.
#[derive(Clone, Copy)]
pub(super) struct Tr(Lang);

impl Tr {
    pub(super) fn t<'a>(self, it: &'a str, en: &'a str) -> &'a str {
        match self.0 {
            Lang::It => it,
            Lang::En => en,
        }
    }

    /// At most one decimal, with a decimal comma in Italian.
    pub(super) fn num(self, v: f64) -> String {
        let s = format!("{:.1}", v + 0.0);
        s.strip_suffix(".0")
            .unwrap_or(&s)
            .replace('.', self.t(",", "."))
    }

    /// A number from the report, or "—".
    pub(super) fn n(self, v: impl Figure) -> String {
        or_none(v.figure().map(|x| self.num(x)))
    }

    pub(super) fn share(self, x: f64) -> String {
        format!("{}%", self.num(x * 100.0))
    }

    /// A share (0..1) from the report as a percentage, or "—".
    pub(super) fn pct(self, v: Option<f64>) -> String {
        or_none(v.map(|x| self.share(x)))
    }

    /// A number and what it counts: "12 messaggi".
    pub(super) fn of(self, v: impl Figure, it: &str, en: &str) -> String {
        format!("{} {}", self.n(v), self.t(it, en))
    }

    /// Seconds as "45 s", "12 min", "2 h 5 min", "1 g 3 h", or "—".
    pub(super) fn dur(self, v: Option<i64>) -> String {
        let Some(secs) = v else {
            return NONE.to_string();
        };
        let s = secs.max(0).unsigned_abs();
        let (m, h, d, days) = (s / 60 % 60, s / 3600 % 24, s / 86_400, self.t("g", "d"));
        match s {
            0..60 => format!("{s} s"),
            60..3600 => format!("{m} min"),
            3600..86_400 if m == 0 => format!("{h} h"),
            3600..86_400 => format!("{h} h {m} min"),
            _ if h == 0 => format!("{d} {days}"),
            _ => format!("{d} {days} {h} h"),
        }
    }
}

fn or_none(v: Option<String>) -> String {
    v.unwrap_or_else(|| NONE.to_string())
}

pub(super) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The page for a report built by `full_report` (or `kpis`: no unanswered questions);
/// any figure may be null.
pub fn page(report: &Kpis, lang: Lang) -> String {
    let tr = Tr(lang);
    let (from, to) = (day(report.from, false), day(report.to, true));
    let mut out = String::with_capacity(32 * 1024);
    let _ = writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"{code}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Sportello — report {from} → {to}</title>\n<style>\n{CSS}\n</style>\n</head>\n\
         <body>\n<main>\n<header><h1>{title}</h1>\
         <p class=\"period\">{period}: {from} → {to}</p></header>\n<section id=\"kpis\">",
        code = lang.code(),
        title = tr.t("Il servizio clienti in numeri", "Customer service report"),
        period = tr.t("Periodo", "Period"),
    );
    tiles_activity(&mut out, report, tr);
    tiles_quality(&mut out, report, tr);
    out.push_str("</section>\n<section class=\"charts\">\n");
    charts(&mut out, report, tr);
    out.push_str("</section>\n");
    department_table(&mut out, report, tr);
    channel_table(&mut out, report, tr);
    unanswered_table(&mut out, report, tr);
    let _ = writeln!(
        out,
        "<footer>{} · {} <code>sportello report --from {from} --to {to} --html FILE</code>\
         </footer>\n</main>\n</body>\n</html>",
        tr.t("Generato da Sportello", "Generated by Sportello"),
        tr.t("Per rigenerarlo:", "To generate it again:"),
    );
    out
}

/// The day of an instant; for the (exclusive) end of the period, its last day.
fn day(t: DateTime<Utc>, end: bool) -> String {
    let day = if end {
        t.checked_sub_signed(chrono::Duration::seconds(1))
            .unwrap_or(t)
    } else {
        t
    };
    day.date_naive().to_string()
}

fn tile(out: &mut String, tr: Tr, kpi: &str, value: &str, note: &str) {
    let label = match kpi {
        "conversations" => tr.t("Conversazioni", "Conversations"),
        "containment" => tr.t("Risolte dal bot", "Settled by the bot"),
        "frt" => tr.t("Prima risposta (operatori)", "First response (operators)"),
        "resolution" => tr.t("Risoluzione", "Resolution"),
        "csat" => tr.t("CSAT medio", "Average CSAT"),
        "retention" => tr.t("Clienti tornati", "Retention"),
        "promises" => tr.t("Promesse mantenute", "Promises kept"),
        "sla" => tr.t("SLA superati", "SLA breaches"),
        "nps" => "NPS",
        _ => kpi,
    };
    let _ = writeln!(
        out,
        "<div class=\"tile\" data-kpi=\"{kpi}\"><div class=\"label\">{label}</div>\
         <div class=\"value\">{value}</div><div class=\"note\">{note}</div></div>"
    );
}

fn tiles_activity(out: &mut String, r: &Kpis, tr: Tr) {
    let (frt, res) = (&r.first_response_seconds, &r.resolution_seconds);
    let note = tr.of(r.messages, "messaggi", "messages");
    tile(out, tr, "conversations", &tr.n(r.conversations), &note);
    let handed = tr.t("passate a un operatore", "handed to an operator");
    let unanswered = tr.t("senza risposta", "without an answer");
    let note = format!(
        "{} {unanswered} · {} {handed}",
        tr.pct(r.unanswered_rate),
        tr.pct(r.handoff_rate)
    );
    let value = tr.pct(r.settled_rate());
    tile(out, tr, "containment", &value, &note);
    let hours = tr.t("orario di lavoro", "business hours");
    let calendar = tr.t("calendario", "calendar");
    let p90 = tr.dur(frt.operator.p90);
    let p50_calendar = tr.dur(frt.operator_calendar.p50);
    let note = format!("p50 {hours} · p90 {p90}<small>p50 {calendar}: {p50_calendar}</small>");
    tile(out, tr, "frt", &tr.dur(frt.operator.p50), &note);
    let note = format!("p50 · p90 {}", tr.dur(res.p90));
    tile(out, tr, "resolution", &tr.dur(res.p50), &note);
}

fn tiles_quality(out: &mut String, r: &Kpis, tr: Tr) {
    let (csat, nps, base, pr) = (&r.csat, &r.nps, &r.retention_base, &r.promises);
    let value = or_none(csat.average.map(|a| format!("{}/5", tr.num(a))));
    let answers = tr.of(csat.responses, "risposte", "responses");
    let satisfied = tr.t("soddisfatti", "satisfied");
    let share = tr.pct(csat.satisfied_share);
    let note = format!("{answers} · {share} {satisfied}");
    tile(out, tr, "csat", &value, &note);
    let promoters = tr.of(nps.promoters, "promotori", "promoters");
    let passives = tr.of(nps.passives, "passivi", "passives");
    let detractors = tr.of(nps.detractors, "detrattori", "detractors");
    let note = format!("{promoters} · {passives} · {detractors}");
    tile(out, tr, "nps", &tr.n(nps.score), &note);
    let rate = r.retention_rate.map(|percent| percent / 100.0);
    let value = or_none(rate.map(|x| tr.share(x)));
    let start = tr.of(base.start, "clienti", "customers");
    let end = tr.n(base.end);
    let note = format!("{start} → {end} · {}", tr.of(base.new, "nuovi", "new"));
    tile(out, tr, "retention", &value, &note);
    let value = format!("{}/{}", tr.n(pr.kept), tr.n(pr.made));
    let note = tr.of(pr.broken, "non mantenute", "broken");
    tile(out, tr, "promises", &value, &note);
    let note = tr.t("ticket fuori dai tempi", "tickets past the SLA");
    tile(out, tr, "sla", &tr.n(r.sla_breaches), note);
}

fn table(out: &mut String, tr: Tr, id: &str, title: &str, head: &[&str], rows: &[Vec<String>]) {
    let _ = write!(
        out,
        r#"<section class="card"><h2>{title}</h2><table id="{id}"><thead><tr>"#
    );
    for h in head {
        let _ = write!(out, "<th>{h}</th>");
    }
    out.push_str("</tr></thead><tbody>");
    if rows.is_empty() {
        let span = head.len();
        let _ = write!(
            out,
            r#"<tr><td colspan="{span}" class="empty">{}</td></tr>"#,
            no_data(tr)
        );
    }
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{cell}</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
}

fn department_table(out: &mut String, r: &Kpis, tr: Tr) {
    let department = |(name, d): (&String, &TicketTimes)| {
        let frt = &d.first_response_business;
        let (p50, p90) = (tr.dur(frt.p50), tr.dur(frt.p90));
        let resolution = tr.dur(d.resolution.p50);
        let (tickets, breaches) = (tr.n(d.tickets), tr.n(d.sla_breaches));
        vec![escape(name), tickets, p50, p90, resolution, breaches]
    };
    let rows: Vec<_> = r.by_department.iter().map(department).collect();
    let head = [
        tr.t("Reparto", "Department"),
        tr.t("Ticket", "Tickets"),
        "FRT p50",
        "FRT p90",
        tr.t("Risoluzione p50", "Resolution p50"),
        tr.t("SLA superati", "SLA breaches"),
    ];
    let title = tr.t("Per reparto", "By department");
    table(out, tr, "by-department", title, &head, &rows);
    let note = tr.t(
        "FRT: prima risposta, orario di lavoro",
        "FRT: first response, business hours",
    );
    let _ = writeln!(out, r#"<p class="note">{note}.</p></section>"#);
}

fn channel_table(out: &mut String, r: &Kpis, tr: Tr) {
    let channel = |(name, c): (&String, &Slice)| {
        let (conversations, messages) = (tr.n(c.conversations), tr.n(c.messages));
        let (contained, tickets) = (tr.pct(c.containment_rate), tr.n(c.tickets));
        let (frt, csat) = (c.first_response_operator.p50, c.csat.average);
        let (frt, csat) = (tr.dur(frt), tr.n(csat));
        vec![
            escape(name),
            conversations,
            messages,
            contained,
            tickets,
            frt,
            csat,
        ]
    };
    let rows: Vec<_> = r.by_channel.iter().map(channel).collect();
    let head = [
        tr.t("Canale", "Channel"),
        tr.t("Conversazioni", "Conversations"),
        tr.t("Messaggi", "Messages"),
        tr.t("Senza operatore", "No operator"),
        tr.t("Ticket", "Tickets"),
        "FRT p50",
        "CSAT",
    ];
    let title = tr.t("Per canale", "By channel");
    table(out, tr, "by-channel", title, &head, &rows);
    let _ = writeln!(out, "</section>");
}

fn unanswered_table(out: &mut String, r: &Kpis, tr: Tr) {
    let question = |q: &Unanswered| vec![escape(&q.text), tr.n(q.count)];
    let rows: Vec<_> = r.top_unanswered.iter().map(question).collect();
    let head = [tr.t("Domanda", "Question"), tr.t("Volte", "Times")];
    let title = tr.t("Domande senza risposta", "Top unanswered questions");
    table(out, tr, "unanswered", title, &head, &rows);
    let feed = tr.t("Queste domande alimentano", "These questions feed");
    let _ = writeln!(
        out,
        r#"<p class="note">{feed} <code>sportello faq gaps</code>.</p></section>"#
    );
}

#[cfg(test)]
#[path = "html_tests.rs"]
mod tests;
