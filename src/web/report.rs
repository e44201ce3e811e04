//! The KPI dashboard for signed-in operators: `GET /api/v1/report` (JSON, the same
//! keys as `sportello report --json`) and `GET /api/v1/report.html` (the same page as
//! `report --html`, linked from the console); and for the content editors, while the
//! bot runs, `GET /api/v1/faq/gaps` (what `sportello faq gaps --json` prints, over the
//! period). Default period: the last 30 days.

use super::{ApiError, ApiQuery, App, auth::Authed, blocking};
use crate::report::Kpis;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Deserialize;
use std::sync::Arc;

#[derive(Deserialize)]
pub struct Period {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    lang: Option<String>,
}

/// The longest period one request may ask for (each week is a pass over the events).
const MAX_DAYS: i64 = 2 * 366;

/// The page has only an inline style sheet and inline SVG: nothing else may load.
const REPORT_CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'";

/// The period's bounds (the last 30 days by default).
fn bounds(period: &Period) -> Result<(DateTime<Utc>, DateTime<Utc>), ApiError> {
    let to = period.to.unwrap_or_else(|| Utc::now().date_naive());
    let from = period.from.unwrap_or(to - Duration::days(29));
    if from > to || to - from > Duration::days(MAX_DAYS) {
        return Err(ApiError::bad_request(format!(
            "`from` must be before `to`, at most {MAX_DAYS} days apart"
        )));
    }
    crate::report::period(from, to).ok_or_else(|| ApiError::bad_request("`to` is too far"))
}

async fn compute(app: &Arc<App>, period: &Period) -> Result<Kpis, ApiError> {
    let (start, end) = bounds(period)?;
    let service = app.service.clone();
    blocking(move || {
        let input = crate::report::Input::read(service.store(), start, end)
            .map_err(|e| ApiError::internal(&e))?;
        Ok(crate::report::full_report(&input, service.config()))
    })
    .await
}

pub async fn json(
    State(app): State<Arc<App>>,
    _authed: Authed,
    ApiQuery(period): ApiQuery<Period>,
) -> Result<axum::Json<Kpis>, ApiError> {
    Ok(axum::Json(compute(&app, &period).await?))
}

pub async fn page(
    State(app): State<Arc<App>>,
    _authed: Authed,
    ApiQuery(period): ApiQuery<Period>,
) -> Result<Response, ApiError> {
    let report = compute(&app, &period).await?;
    let lang = match period.lang.as_deref() {
        Some(l) => l
            .parse()
            .map_err(|e: crate::domain::IdError| ApiError::bad_request(e.to_string()))?,
        None => crate::domain::Lang::It,
    };
    let html = crate::report::html_page(&report, lang);
    let mut response = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        html,
    )
        .into_response();
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(REPORT_CSP),
    );
    Ok(response)
}

/// `GET /api/v1/faq/gaps?from=&to=`: the questions of the period the FAQ does not
/// answer today, grouped, as `sportello faq gaps --json` (which needs the store to
/// itself: with `serve` running on sled, this is how an editor reads them).
pub async fn gaps(
    State(app): State<Arc<App>>,
    _authed: Authed,
    ApiQuery(period): ApiQuery<Period>,
) -> Result<axum::Json<Vec<crate::report::gaps::Gap>>, ApiError> {
    let (start, end) = bounds(&period)?;
    let service = app.service.clone();
    blocking(move || {
        let input = crate::report::Input::read(service.store(), start, end)
            .map_err(|e| ApiError::internal(&e))?;
        let events: Vec<_> = input
            .events
            .into_iter()
            .filter(|e| start <= e.at && e.at < end)
            .collect();
        let found = crate::report::gaps::gaps(service.store(), &events)
            .map_err(|e| ApiError::internal(&e))?;
        Ok(axum::Json(crate::report::gaps::judged(
            &service.brain(),
            found,
        )))
    })
    .await
}
