//! KPI reports.
