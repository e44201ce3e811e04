//! The report's types. They serialise to the keys of `sportello report --json` and
//! `/api/v1/report`. Their fields are in alphabetical order, each struct and each
//! nesting: the report used to be built as a `serde_json::Value`, whose maps sort
//! their keys, and scripts and the v1 store fixture hold that exact text. A figure
//! that cannot be computed (no answers, no tickets) is `None`, written `null`.

use super::Unanswered;
use super::breakdown::{Slice, Week};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize, Serializer};
use std::collections::BTreeMap;

/// The KPIs of a period: what `--json`, `--csv`, `--html`, the terminal and the
/// console's dashboard all show.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Kpis {
    /// Per channel that wrote in the period (`telegram`, `web`, ...).
    pub by_channel: BTreeMap<String, Slice>,
    /// Per configured department, tickets or not.
    pub by_department: BTreeMap<String, TicketTimes>,
    /// Per week (Monday to Sunday, UTC), the first and last clipped to the period.
    pub by_week: Vec<Week>,
    /// Share (0..1) of conversations that opened no ticket (settled by the bot, or left
    /// without an answer: `unanswered_rate`).
    pub containment_rate: Option<f64>,
    /// Conversations started in the period: a customer's message after 24 h of silence
    /// or after their ticket ended starts one.
    pub conversations: usize,
    pub csat: Csat,
    pub first_response_seconds: FirstResponse,
    /// Start of the period, included.
    pub from: DateTime<Utc>,
    /// Share (0..1) of conversations that opened a ticket.
    pub handoff_rate: Option<f64>,
    /// Share (0..1) of conversations that opened no ticket and ended on a message the
    /// bot could not answer (not understood, choices not picked): kept by the bot, not
    /// settled. Settled by the bot: `containment_rate` minus this.
    #[serde(default)]
    pub unanswered_rate: Option<f64>,
    /// Tickets opened in the period, by why the bot handed over.
    pub handoff_reasons: BTreeMap<String, usize>,
    /// Customer messages the bot decided on.
    pub messages: usize,
    pub nps: Nps,
    /// Orders looked up on the shop's platform; left out of the JSON when none were.
    #[serde(default, skip_serializing_if = "OrderLookups::is_empty")]
    pub orders: OrderLookups,
    pub promises: Promises,
    /// From a ticket opening to its close or cancellation.
    pub resolution_seconds: Percentiles,
    pub retention_base: RetentionBase,
    /// CRR in percent (0..100); null when nobody wrote in the period before.
    pub retention_rate: Option<f64>,
    /// Tickets whose first response came later than their department's target, in
    /// business time (or has not come by the end of the period).
    pub sla_breaches: usize,
    /// End of the period, excluded.
    pub to: DateTime<Utc>,
    /// The questions the bot could not answer, most frequent first: filled by
    /// [`super::full_report`], empty from [`kpis`] alone.
    #[serde(serialize_with = "count_first")]
    pub top_unanswered: Vec<Unanswered>,
}

impl Kpis {
    /// Share (0..1) of conversations the bot settled: no ticket, and not ended on a
    /// message it could not answer.
    pub fn settled_rate(&self) -> Option<f64> {
        let kept = self.containment_rate?;
        Some((kept - self.unanswered_rate.unwrap_or(0.0)).max(0.0))
    }
}

/// Nearest-rank percentiles of seconds; null when there is no value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Percentiles {
    pub p50: Option<i64>,
    pub p90: Option<i64>,
}

/// First responses: the bot's, and operators' in business and in calendar time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirstResponse {
    /// 0 but for turns retried late: the reply is stored with the message.
    pub bot: Percentiles,
    /// In the department's business hours: what the SLA counts.
    pub operator: Percentiles,
    pub operator_calendar: Percentiles,
}

/// CSAT answers (1–5); satisfied means 4 or 5.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Csat {
    pub average: Option<f64>,
    pub responses: usize,
    /// Share (0..1) of answers of 4 or 5.
    pub satisfied_share: Option<f64>,
}

/// NPS answers (0–10): promoters 9–10, passives 7–8, detractors 0–6.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Nps {
    pub detractors: usize,
    pub passives: usize,
    pub promoters: usize,
    pub responses: usize,
    /// Promoters minus detractors, in percent of the answers (−100..100).
    pub score: Option<f64>,
}

/// "Where is my order?" on the shop's platform: lookups made, and those that told the
/// customer the status (answered without a person).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLookups {
    pub answered: usize,
    pub looked_up: usize,
}

impl OrderLookups {
    pub fn is_empty(&self) -> bool {
        self.looked_up == 0
    }
}

/// Waits told to customers in the period, and how they ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Promises {
    pub broken: usize,
    pub kept: usize,
    pub made: usize,
}

/// The counts behind `retention_rate`, so a reader can check it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionBase {
    /// Who is counted: always "who wrote" (customers who sent a message).
    pub customers: String,
    /// CE: customers who wrote in the period.
    pub end: usize,
    /// CN: those of CE who had not written in the period before.
    pub new: usize,
    /// CS: customers who wrote in the equally long period before.
    pub start: usize,
}

/// Tickets opened in the period and their times: a department's row, and the whole
/// shop's figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketTimes {
    pub first_response_business: Percentiles,
    pub first_response_calendar: Percentiles,
    pub resolution: Percentiles,
    pub sla_breaches: usize,
    pub tickets: usize,
}

/// `top_unanswered` as the KPI report has always written it, `count` before `text`
/// (the plain summary writes `text` first).
fn count_first<S: Serializer>(list: &[Unanswered], serializer: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Question<'a> {
        count: usize,
        text: &'a str,
    }
    serializer.collect_seq(list.iter().map(|u| Question {
        count: u.count,
        text: &u.text,
    }))
}
