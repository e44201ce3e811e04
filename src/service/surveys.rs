//! Satisfaction surveys in the chat: CSAT (1–5, as buttons) when an operator closes a
//! ticket, then NPS (0–10) at most once per `[surveys] nps_every`. Answers become
//! events for the report; anything else the customer writes drops the survey.

use super::effects::Said;
use super::{Service, texts};
use crate::domain::{
    Choice, ChoiceTarget, Conversation, Event, EventKind, HandoffReason, Inbound, Lang,
    OutboundKind, PendingSurvey, SURVEY_TTL, SurveyKind, Ticket, TicketId, read_answer,
};
use crate::store::Turn;
use chrono::{DateTime, Utc};

/// Score buttons, labelled with the score itself.
pub(super) fn score_choices(kind: SurveyKind) -> Vec<Choice> {
    kind.range()
        .map(|n| Choice {
            label: n.to_string(),
            target: ChoiceTarget::Score(n),
        })
        .collect()
}

impl Service {
    /// The CSAT question for a closed ticket, if surveys are on and an operator
    /// answered it (a ticket closed unanswered asks nothing); marks it pending.
    pub(super) fn ask_csat(
        &self,
        conv: &mut Conversation,
        ticket: &Ticket,
        now: DateTime<Utc>,
    ) -> Option<(String, Vec<Choice>)> {
        if !self.config.surveys.csat || ticket.first_response_at.is_none() {
            return None;
        }
        let ticket = ticket.id;
        conv.survey = Some(PendingSurvey {
            kind: SurveyKind::Csat,
            ticket: Some(ticket),
            asked_at: now,
        });
        let lang = conv.lang.unwrap_or(Lang::It);
        Some((
            texts::csat_question(lang).to_owned(),
            score_choices(SurveyKind::Csat),
        ))
    }

    /// A score outside the range: the range again, with its buttons (the survey is
    /// still pending: the plan kept it).
    pub(super) fn survey_again(kind: SurveyKind, lang: Lang) -> Said {
        Said {
            choices: score_choices(kind),
            ..Said::new(
                OutboundKind::Survey,
                Some(texts::survey_range(kind, lang).into()),
            )
        }
    }

    /// A low score to the survey just asked that complains ("2, servizio pessimo"): it
    /// still counts (the worst scores are the ones that complain), and the complaint
    /// goes to a person. A number that starts a question, a quantity or a high one
    /// ("2 paia non arrivate?", "5 giorni che aspetto, vergogna") is no score.
    pub(super) fn score_in_complaint(
        turn: &mut Turn,
        inbound: &Inbound,
        survey: Option<&PendingSurvey>,
        reason: &HandoffReason,
    ) {
        if *reason != HandoffReason::Complaint {
            return;
        }
        let Some(survey) = survey.filter(|s| inbound.at - s.asked_at < SURVEY_TTL) else {
            return;
        };
        let Some((score, comment)) = read_answer(&inbound.text, survey.kind) else {
            return;
        };
        // A low score only (a quantity, "5 giorni che aspetto, vergogna", is no
        // score: `read_answer` says so).
        let low = match survey.kind {
            SurveyKind::Csat => score <= 2,
            SurveyKind::Nps => score <= 6,
        };
        if !low || comment.as_deref().is_some_and(|c| c.contains('?')) {
            return;
        }
        turn.events.push(Event {
            at: inbound.at,
            customer: inbound.customer.clone(),
            kind: EventKind::SurveyAnswered {
                survey: survey.kind,
                score,
                comment,
                ticket: survey.ticket,
            },
        });
    }

    /// Record an answer; thank, and ask NPS if it is due.
    pub(super) fn survey_answered(
        &self,
        turn: &mut Turn,
        inbound: &Inbound,
        (kind, score, comment): (SurveyKind, u8, Option<String>),
        ticket: Option<TicketId>,
    ) -> Said {
        let lang = turn.conversation.lang.unwrap_or(Lang::It);
        turn.events.push(Event {
            at: inbound.at,
            customer: inbound.customer.clone(),
            kind: EventKind::SurveyAnswered {
                survey: kind,
                score,
                comment,
                ticket,
            },
        });
        let conv = &mut turn.conversation;
        let every = self.config.surveys.nps_every;
        let nps_due =
            kind == SurveyKind::Csat && conv.nps_asked_at.is_none_or(|t| inbound.at - t >= every);
        if !nps_due {
            return Said::new(
                OutboundKind::Survey,
                Some(texts::survey_thanks(lang, kind, score)),
            );
        }
        conv.nps_asked_at = Some(inbound.at);
        conv.survey = Some(PendingSurvey {
            kind: SurveyKind::Nps,
            ticket,
            asked_at: inbound.at,
        });
        Said {
            choices: score_choices(SurveyKind::Nps),
            ..Said::new(OutboundKind::Survey, Some(texts::nps_question(lang, score)))
        }
    }
}
