//! One customer's record, read from the store: who they are (channels, name,
//! language, first seen), what they asked (conversations, tickets, order numbers) and
//! what they thought of it (CSAT/NPS). Also the GDPR access copy (`customer export`).

use crate::domain::{CustomerId, Event, EventKind, Lang, SurveyKind, Ticket, TicketId};
use crate::store::{Note, Store, StoredMessage};
use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct Record {
    pub id: CustomerId,
    /// The channels they wrote from (one id per channel until accounts are linked).
    pub channels: Vec<String>,
    pub name: Option<String>,
    pub lang: Option<Lang>,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub conversations: usize,
    pub messages: usize,
    pub tickets: Vec<TicketLine>,
    pub order_numbers: Vec<String>,
    pub surveys: Vec<SurveyGiven>,
}

#[derive(Debug, Serialize)]
pub struct TicketLine {
    pub id: TicketId,
    pub department: String,
    pub status: crate::domain::TicketStatus,
    pub reason: String,
    pub operator: Option<String>,
    pub opened_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize)]
pub struct SurveyGiven {
    pub at: DateTime<Utc>,
    pub survey: SurveyKind,
    pub score: u8,
    pub comment: Option<String>,
}

/// Everything stored about a customer: the record, the whole transcript, the
/// operators' notes, the tickets and the events, as `customer export` prints it.
#[derive(Debug, Serialize)]
pub struct AccessCopy {
    pub record: Record,
    pub transcript: Vec<StoredMessage>,
    pub notes: Vec<Note>,
    pub tickets: Vec<Ticket>,
    pub events: Vec<Event>,
}

/// The record of `id`, or None when nothing is stored about them.
pub fn record(store: &Store, id: &CustomerId) -> crate::store::Result<Option<Record>> {
    Ok(gather(store, id)?.map(|(record, ..)| record))
}

pub fn access_copy(store: &Store, id: &CustomerId) -> crate::store::Result<Option<AccessCopy>> {
    let Some((record, tickets, events)) = gather(store, id)? else {
        return Ok(None);
    };
    Ok(Some(AccessCopy {
        record,
        transcript: store.transcript(id)?,
        notes: store.notes(id)?,
        tickets,
        events,
    }))
}

type Gathered = (Record, Vec<Ticket>, Vec<Event>);

fn gather(store: &Store, id: &CustomerId) -> crate::store::Result<Option<Gathered>> {
    let conversation = store.conversation(id)?;
    let events: Vec<Event> = store.events_of(id)?;
    let Some(conv) = conversation else {
        return Ok(None);
    };
    let tickets = store.tickets_of(id)?;
    let first_event = events.first().map(|e| e.at);
    let record = Record {
        id: id.clone(),
        channels: vec![id.channel().to_owned()],
        name: conv.name.clone(),
        lang: conv.lang,
        first_seen: first_event.map_or(conv.started_at, |t| t.min(conv.started_at)),
        last_seen: conv.updated_at,
        conversations: super::kpi::conversation_count(&events),
        messages: events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Decided { .. }))
            .count(),
        tickets: tickets.iter().map(ticket_line).collect(),
        order_numbers: conv.order_numbers.clone(),
        surveys: events.iter().filter_map(survey_given).collect(),
    };
    Ok(Some((record, tickets, events)))
}

fn ticket_line(t: &Ticket) -> TicketLine {
    TicketLine {
        id: t.id,
        department: t.department.clone(),
        status: t.status,
        reason: t.reason.to_string(),
        operator: t.operator.clone(),
        opened_at: t.opened_at,
        closed_at: t.closed_at,
    }
}

fn survey_given(e: &Event) -> Option<SurveyGiven> {
    match &e.kind {
        EventKind::SurveyAnswered {
            survey,
            score,
            comment,
            ..
        } => Some(SurveyGiven {
            at: e.at,
            survey: *survey,
            score: *score,
            comment: comment.clone(),
        }),
        _ => None,
    }
}
