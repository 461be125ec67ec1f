//! `/schedules`: the workspace's scheduled changes — those still to come by time (with a month calendar of
//! them), and those past, newest first, with how they ended. Operators cancel one or move it to another
//! time here (and a pause window's end with it); they schedule from a program's edit page or the programs
//! page's toolbar. Times are the workspace's: a `datetime-local` value is a wall-clock time of its time
//! zone, times are shown in it with its abbreviation, and the calendar's days are its days. They are
//! stored in UTC.

use std::collections::HashSet;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{Datelike, Duration, NaiveDate};

use super::filters::iso;
use super::{Layout, Page, PageForm, PageUser, refusal, see_other};
use crate::change_sets::{Schedule, TimeTextError, schedule_time};
use crate::store::{ChangeSetState, ScheduleState, WorkspaceZone, now_ms};
use crate::web::AppState;
use crate::web::error::{ApiError, PageResult};
use crate::web::extract::{Params, PathParam};

/// Scheduled changes the page reads (upcoming and past together).
const LISTED: u32 = 500;

/// A late firing worth saying (ms): under a minute is on time.
const LATE_ENOUGH_MS: i64 = 60_000;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/schedules", get(page))
        .route("/schedules/{id}/cancel", post(cancel))
        .route("/schedules/{id}/move", post(move_to))
}

/// Where the scheduling forms send their author once a change is scheduled.
pub(super) fn to_schedules() -> Response {
    see_other("/schedules")
}

/// A `datetime-local` value (`2030-01-31T09:00`, seconds optional) read in the workspace's time zone
/// `zone`, in unix ms; a 400 naming `field` when it is empty, not a time, or a time the zone skips (the
/// hour the clocks go forward). One the zone shows twice is its earlier instant.
pub(super) fn form_time(field: &str, text: &str, zone: WorkspaceZone) -> Result<i64, ApiError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ApiError::field(
            field,
            format!("Choose a date and time ({zone})."),
        ));
    }
    schedule_time(zone, text).map_err(|e| match e {
        TimeTextError::NotATime => ApiError::field(
            field,
            format!("Give a date and time, such as 2030-01-31 09:00 ({zone})."),
        ),
        TimeTextError::Skipped(gap) => ApiError::field(field, gap.to_string()),
    })
}

/// How late, in words: `10 min`, `3 h`.
fn late_words(ms: i64) -> String {
    let minutes = ms / 60_000;
    if minutes >= 120 {
        format!("{} h", minutes / 60)
    } else {
        format!("{minutes} min")
    }
}

/// A scheduled change's state for people.
fn state_label(state: ScheduleState) -> &'static str {
    match state {
        ScheduleState::Scheduled => "Scheduled",
        ScheduleState::Firing => "Firing now",
        ScheduleState::Fired => "Fired",
        ScheduleState::Skipped => "Skipped",
        ScheduleState::Missed => "Missed",
        ScheduleState::Cancelled => "Cancelled",
    }
}

fn upcoming(state: ScheduleState) -> bool {
    matches!(state, ScheduleState::Scheduled | ScheduleState::Firing)
}

/// The programs a schedule changes, as a row shows them.
struct Programs {
    /// `1 program`, `30 programs`.
    count: String,
    /// The first, linked to its status page.
    first: Option<String>,
    /// How many besides the first.
    more: usize,
    change_set_id: String,
}

impl Programs {
    fn of(s: &Schedule) -> Self {
        let n = s.program_ids.len();
        Self {
            count: format!("{n} {}", if n == 1 { "program" } else { "programs" }),
            first: s.program_ids.first().cloned(),
            more: n.saturating_sub(1),
            change_set_id: s.record.change_set_id.clone(),
        }
    }
}

/// A scheduled change still to come.
struct UpcomingRow {
    id: String,
    when: String,
    when_iso: String,
    /// The time as the move form's field shows it.
    when_value: String,
    what: String,
    /// The end of its pause window, when it has one.
    resume_at: Option<String>,
    /// That end as the move form's second field shows it.
    resume_value: Option<String>,
    programs: Programs,
    author: String,
    state_label: &'static str,
    /// Cancel and move are offered while it waits: not once an instance is firing it, nor when its change
    /// went to Yelp ahead (a future budget), which cancelling here would not take back.
    waiting: bool,
    /// Its change went to Yelp when it was scheduled.
    sent_ahead: bool,
    /// Why the last cancel or move of this one was refused.
    error: Option<String>,
}

/// A scheduled change that fired, was skipped, missed or cancelled.
struct PastRow {
    id: String,
    when: String,
    when_iso: String,
    what: String,
    /// As stored, for styles and tests.
    state: &'static str,
    state_label: &'static str,
    /// How late it fired ("10 min late"), or why it was skipped or missed.
    detail: Option<String>,
    /// What came of one that fired, when the firing says (a future budget Yelp applied or not).
    note: Option<String>,
    programs: Programs,
    /// Its change set's page (which lists the jobs), once fired.
    fired: bool,
    author: String,
}

/// A schedule in a calendar day.
struct DayEntry {
    id: String,
    time: String,
    what: String,
}

/// A calendar day: its date and what is scheduled on it; `None` pads the weeks.
struct Day {
    number: u32,
    iso: String,
    is_today: bool,
    entries: Vec<DayEntry>,
}

/// The month calendar of the upcoming schedules.
struct Calendar {
    /// `December 2026`.
    title: String,
    /// Monday-first weeks of the month's days.
    weeks: Vec<Vec<Option<Day>>>,
    prev_url: String,
    next_url: String,
    /// How many upcoming schedules fall in the month.
    in_month: usize,
}

#[derive(Template)]
#[template(path = "schedules.html")]
struct SchedulesPage {
    layout: Layout,
    upcoming: Vec<UpcomingRow>,
    past: Vec<PastRow>,
    calendar: Calendar,
    /// Why the last action was refused, when it was not about one row.
    action_error: Option<String>,
}

/// The month of `?month=YYYY-MM`, or the one `today` is in.
fn month_of(params: &Params, today: NaiveDate) -> Result<NaiveDate, ApiError> {
    match params.get("month").map(str::trim).filter(|m| !m.is_empty()) {
        None => Ok(today.with_day(1).unwrap_or(today)),
        Some(text) => NaiveDate::parse_from_str(&format!("{text}-01"), "%Y-%m-%d")
            .ok()
            .filter(|d| (2000..=2100).contains(&d.year()))
            .ok_or_else(|| ApiError::field("month", "The month must be like 2026-12.")),
    }
}

/// The first day of the month after `first`.
fn next_month(first: NaiveDate) -> NaiveDate {
    let (y, m) = if first.month() == 12 {
        (first.year() + 1, 1)
    } else {
        (first.year(), first.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(first)
}

/// The first day of the month before `first`.
fn prev_month(first: NaiveDate) -> NaiveDate {
    (first - Duration::days(1)).with_day(1).unwrap_or(first)
}

/// The month from `first` with `schedules` on their days: the days of the workspace's time zone `zone`,
/// in which `today` is the date now.
fn calendar(
    first: NaiveDate,
    schedules: &[&Schedule],
    zone: WorkspaceZone,
    today: NaiveDate,
) -> Calendar {
    let next = next_month(first);
    let mut days: Vec<Day> = first
        .iter_days()
        .take_while(|d| *d < next)
        .map(|d| Day {
            number: d.day(),
            iso: d.to_string(),
            is_today: d == today,
            entries: Vec::new(),
        })
        .collect();
    let mut in_month = 0;
    for s in schedules {
        let due = s.record.due_at;
        let Some(at) = zone.local(due) else {
            continue;
        };
        let date = at.date_naive();
        if date < first || date >= next {
            continue;
        }
        in_month += 1;
        if let Some(day) = days.get_mut(date.day0() as usize) {
            day.entries.push(DayEntry {
                id: s.record.id.clone(),
                time: format!("{} {}", at.format("%H:%M"), zone.abbreviation(due)),
                what: s.record.description.clone(),
            });
        }
    }
    let lead = first.weekday().num_days_from_monday() as usize;
    let mut cells: Vec<Option<Day>> = (0..lead).map(|_| None).collect();
    cells.extend(days.into_iter().map(Some));
    while cells.len() % 7 != 0 {
        cells.push(None);
    }
    let mut weeks: Vec<Vec<Option<Day>>> = Vec::new();
    let mut cells = cells.into_iter().peekable();
    while cells.peek().is_some() {
        weeks.push(cells.by_ref().take(7).collect());
    }
    let url = |d: NaiveDate| format!("/schedules?month={}", d.format("%Y-%m"));
    Calendar {
        title: first.format("%B %Y").to_string(),
        weeks,
        prev_url: url(prev_month(first)),
        next_url: url(next),
        in_month,
    }
}

/// The page, with `error` (for one schedule, or the page when `None`) when an action was refused.
async fn render(
    state: &AppState,
    user: &PageUser,
    params: &Params,
    status: StatusCode,
    error: Option<(Option<String>, String)>,
) -> PageResult<Response> {
    params.only(&["month"])?;
    let layout = user.layout(state, "schedules").await?;
    let zone = layout.time_zone();
    let today = zone.date(now_ms()).unwrap_or_default();
    let first = month_of(params, today)?;
    let datetime = |ms: i64| zone.datetime(ms);
    let schedules = state
        .change_sets
        .schedules(user.workspace_id(), LISTED)
        .await?;
    let upcoming_ids: HashSet<&str> = schedules
        .iter()
        .filter(|s| upcoming(s.record.state))
        .map(|s| s.record.id.as_str())
        .collect();
    let (row_error, mut action_error) = match error {
        Some((Some(id), message)) => (Some((id, message)), None),
        Some((None, message)) => (None, Some(message)),
        None => (None, None),
    };
    let mut upcoming_rows = Vec::new();
    let mut past_rows = Vec::new();
    let mut in_calendar = Vec::new();
    for s in &schedules {
        let r = &s.record;
        // The end of a pause window shows on its pause's row while the pause is to come, and goes with
        // a cancelled pause.
        let pause_of = r.window_of.as_deref();
        let pause_listed = pause_of.is_some_and(|p| upcoming_ids.contains(p));
        if upcoming(r.state) {
            in_calendar.push(s);
            if pause_listed {
                continue;
            }
            // Posted when scheduled (a future budget): its jobs may not be asked for yet.
            let sent_ahead = !s.job_ids.is_empty()
                || matches!(
                    state
                        .change_sets
                        .get(user.workspace_id(), &r.change_set_id)
                        .await?
                        .record
                        .state,
                    ChangeSetState::Posting | ChangeSetState::Done
                );
            upcoming_rows.push(UpcomingRow {
                id: r.id.clone(),
                when: datetime(r.due_at),
                when_iso: iso(r.due_at),
                when_value: zone.datetime_local(r.due_at),
                what: r.description.clone(),
                resume_at: s.window_end.as_ref().map(|e| datetime(e.due_at)),
                resume_value: s.window_end.as_ref().map(|e| zone.datetime_local(e.due_at)),
                programs: Programs::of(s),
                author: r.username.clone().unwrap_or_default(),
                state_label: state_label(r.state),
                waiting: r.state == ScheduleState::Scheduled && !sent_ahead,
                sent_ahead,
                error: row_error
                    .as_ref()
                    .filter(|(id, _)| *id == r.id)
                    .map(|(_, m)| m.clone()),
            });
        } else {
            if pause_of.is_some() && r.state == ScheduleState::Cancelled {
                continue;
            }
            let detail = match r.state {
                ScheduleState::Fired => r
                    .late_ms
                    .filter(|ms| *ms > LATE_ENOUGH_MS)
                    .map(|ms| format!("{} late", late_words(ms))),
                // The outcome starts with the state the row already says.
                state => r.outcome.as_deref().map(|o| {
                    o.strip_prefix(state_label(state))
                        .and_then(|rest| rest.strip_prefix(": "))
                        .unwrap_or(o)
                        .to_owned()
                }),
            };
            let note = (r.state == ScheduleState::Fired)
                .then(|| r.outcome.clone())
                .flatten();
            past_rows.push(PastRow {
                id: r.id.clone(),
                when: datetime(r.due_at),
                when_iso: iso(r.due_at),
                what: match &s.window_end {
                    Some(end) => {
                        format!("{}, then resume at {}", r.description, datetime(end.due_at))
                    }
                    None => r.description.clone(),
                },
                state: r.state.as_str(),
                state_label: state_label(r.state),
                detail,
                note,
                programs: Programs::of(s),
                fired: r.state == ScheduleState::Fired,
                author: r.username.clone().unwrap_or_default(),
            });
        }
    }
    if let Some((_, message)) =
        row_error.filter(|(id, _)| !upcoming_rows.iter().any(|r| r.id == *id))
    {
        // Refused for one that is not to come any more: said above the lists.
        action_error = Some(message);
    }
    // The store lists the upcoming by time and the rest newest first; the page keeps that order.
    let page = SchedulesPage {
        layout,
        upcoming: upcoming_rows,
        past: past_rows,
        calendar: calendar(first, &in_calendar, zone, today),
        action_error,
    };
    Ok((status, Page(page)).into_response())
}

/// `GET /schedules[?month=YYYY-MM]`.
async fn page(
    State(state): State<AppState>,
    user: PageUser,
    params: Params,
) -> PageResult<Response> {
    render(&state, &user, &params, StatusCode::OK, None).await
}

/// The outcome of a cancel or move of `id`: the page; refused, the page again with why beside the row.
async fn after(
    state: &AppState,
    form: &PageForm,
    id: &str,
    done: Result<Schedule, crate::error::Error>,
) -> PageResult<Response> {
    match done {
        Ok(_) => Ok(to_schedules()),
        Err(e) => {
            let e = refusal(e)?;
            let target = match &e {
                ApiError::NotFound(_) => None,
                _ => Some(id.to_owned()),
            };
            let status = e.status();
            render(
                state,
                &form.user,
                &Params::default(),
                status,
                Some((target, e.message())),
            )
            .await
        }
    }
}

/// `POST /schedules/{id}/cancel`.
async fn cancel(
    State(state): State<AppState>,
    PathParam(id): PathParam,
    form: PageForm,
) -> PageResult<Response> {
    form.user.require_operator()?;
    let done = state
        .change_sets
        .cancel_schedule(&form.user.user, &id)
        .await;
    after(&state, &form, &id, done).await
}

/// `POST /schedules/{id}/move` (`at`, and for a pause window `until`: `datetime-local` values of the
/// workspace's time zone). A field left as the row showed it does not move, so that moving one end of a
/// window leaves the other where it was (to the second).
async fn move_to(
    State(state): State<AppState>,
    PathParam(id): PathParam,
    form: PageForm,
) -> PageResult<Response> {
    form.user.require_operator()?;
    let ws = form.user.workspace_id();
    let zone = state.store.workspace_zone(ws).await?;
    let current = match state.change_sets.schedule_view(ws, &id).await {
        Ok(current) => current,
        Err(e) => return after(&state, &form, &id, Err(e)).await,
    };
    let at_text = form.fields.text("at").trim();
    let until_text = form.fields.text("until").trim();
    let until_moves = !until_text.is_empty()
        && current
            .window_end
            .as_ref()
            .is_none_or(|end| zone.datetime_local(end.due_at) != until_text);
    let at_stays = until_moves && zone.datetime_local(current.record.due_at) == at_text;
    let times = (|| {
        let at = if at_stays {
            None
        } else {
            Some(form_time("at", at_text, zone)?)
        };
        let until = if until_moves {
            Some(form_time("until", until_text, zone)?)
        } else {
            None
        };
        Ok::<_, ApiError>((at, until))
    })();
    let done = match times {
        Ok((at, until)) => {
            state
                .change_sets
                .reschedule(&form.user.user, &id, at, until)
                .await
        }
        Err(e) => {
            let status = e.status();
            return render(
                &state,
                &form.user,
                &Params::default(),
                status,
                Some((Some(id), e.message())),
            )
            .await;
        }
    };
    after(&state, &form, &id, done).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_datetime_local_value_is_read_in_the_workspaces_zone() {
        let at = form_time("at", "2030-01-31T09:00", WorkspaceZone::UTC).unwrap_or_default();
        assert_eq!(WorkspaceZone::UTC.datetime(at), "2030-01-31 09:00 UTC");
        assert_eq!(WorkspaceZone::UTC.datetime_local(at), "2030-01-31T09:00");
        let la = WorkspaceZone::parse("America/Los_Angeles").unwrap_or_default();
        let there = form_time("at", "2030-01-31T09:00", la).unwrap_or_default();
        assert_eq!(there - at, 8 * 3_600_000);
        assert_eq!(la.datetime(there), "2030-01-31 09:00 PST");
        assert!(form_time("at", "", la).is_err());
        assert!(form_time("at", "tomorrow", la).is_err());
        let gap = form_time("at", "2030-03-10T02:30", la).map_err(|e| e.message());
        assert!(
            gap.as_ref()
                .is_err_and(|m| m.contains("does not exist in America/Los_Angeles")),
            "{gap:?}"
        );
    }

    #[test]
    fn a_month_has_monday_first_weeks_and_links_to_its_neighbours() {
        let first = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap_or_default();
        let c = calendar(first, &[], WorkspaceZone::UTC, first);
        assert_eq!(c.title, "December 2026");
        assert_eq!(c.prev_url, "/schedules?month=2026-11");
        assert_eq!(c.next_url, "/schedules?month=2027-01");
        // 1 December 2026 is a Tuesday.
        assert!(c.weeks[0][0].is_none());
        assert_eq!(c.weeks[0][1].as_ref().map(|d| d.number), Some(1));
        assert!(c.weeks.iter().all(|w| w.len() == 7));
        assert_eq!(late_words(600_000), "10 min");
        assert_eq!(late_words(3 * 3_600_000), "3 h");
    }
}
