//! Today's figures for the supervisor's dashboard: cheap enough to refresh every few seconds
//! while the day goes on. It is today's report, narrowed to what the screen shows, plus who is
//! waiting right now.

use chrono::{DateTime, NaiveDate, Utc};
use guichet_domain::money::Currency;
use guichet_domain::request::RequestStatus;
use guichet_workstation::Workstation;
use serde::Serialize;

use crate::compute::{ReportOptions, build, status_name};
use crate::error::Result;
use crate::locale::Locale;
use crate::model::{FeedbackSection, HourLine, MethodLine, OverdueLine, StatusCount, SyncHealth};

/// Lines of the overdue list on the dashboard.
pub const DASHBOARD_OVERDUE: usize = 20;

#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Dashboard {
    pub day: NaiveDate,
    pub made_at: DateTime<Utc>,
    pub center_name: String,
    pub waiting_target_min: u32,
    /// Tickets waiting or called now.
    pub waiting_now: u64,
    /// The longest wait of those, so far, in seconds.
    pub longest_wait_now_s: Option<u64>,
    /// Today's waiting times by hour of arrival; compare with `waiting_target_min`.
    pub waiting_by_hour: Vec<HourLine>,
    /// Every request on this device by its current status.
    pub requests_by_status: Vec<StatusCount>,
    pub overdue_count: u64,
    /// The most overdue first, at most `DASHBOARD_OVERDUE`.
    pub overdue: Vec<OverdueLine>,
    pub currency: Currency,
    /// Payments taken today.
    pub collected_minor: i64,
    /// Refunds given today (of payments of any day).
    pub refunded_minor: i64,
    /// Collected minus refunded: the money the centre kept today.
    pub net_collected_minor: i64,
    pub collected_by_method: Vec<MethodLine>,
    pub feedback: FeedbackSection,
    pub sync: SyncHealth,
}

/// Today's figures (the device's day), names in `locale`.
pub fn dashboard(ws: &Workstation, locale: Locale) -> Result<Dashboard> {
    let day = ws.today();
    let report = build(
        ws,
        &ReportOptions {
            locale,
            ..ReportOptions::day(day)
        },
    )?;
    let waiting = ws.waiting_list()?;
    let mut requests_by_status = Vec::new();
    for (status, count) in ws.report_read(|conn| conn.requests_by_status())? {
        let status = RequestStatus::parse(&status)?;
        requests_by_status.push(StatusCount {
            status,
            name: status_name(status, locale).to_owned(),
            count,
        });
    }
    requests_by_status.sort_by_key(|c| RequestStatus::ALL.iter().position(|s| *s == c.status));
    let mut overdue = report.requests.overdue;
    overdue.truncate(DASHBOARD_OVERDUE);
    Ok(Dashboard {
        day,
        made_at: report.header.made_at,
        center_name: report.header.center_name,
        waiting_target_min: report.header.waiting_target_min,
        waiting_now: waiting.len() as u64,
        longest_wait_now_s: waiting.iter().map(|w| w.waited_ms / 1000).max(),
        waiting_by_hour: report.queue.by_hour,
        requests_by_status,
        overdue_count: report.requests.overdue_count,
        overdue,
        currency: report.money.currency,
        collected_minor: report.money.collected_minor,
        refunded_minor: report.money.refunded_minor,
        net_collected_minor: report.money.net_collected_minor,
        collected_by_method: report.money.by_method,
        feedback: report.feedback,
        sync: report.sync,
    })
}
