//! A connection's activity as the owner sees it: the management API's `activity` object, and
//! the words the dashboard and the CLI use for it.

use serde::{Deserialize, Serialize};

use super::{Activity, NewPlace, Novelty, Place, RefreshResult, RefreshTrigger};
use crate::time::{UnixMillis, parse_rfc3339, relative, rfc3339};

/// The management API's `activity` of a connection (docs/api.md).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityView {
    #[serde(default)]
    pub last_used_at: Option<String>,
    /// Where the last use came in, when the platform said.
    #[serde(default)]
    pub last_used_from: Option<Place>,
    #[serde(default)]
    pub requests_24h: u64,
    #[serde(default)]
    pub errors_24h: u64,
    #[serde(default)]
    pub requests_7d: u64,
    #[serde(default)]
    pub errors_7d: u64,
    /// The last refreshes, newest first.
    #[serde(default)]
    pub refreshes: Vec<RefreshView>,
    /// First uses from a new place not yet dismissed, newest first.
    #[serde(default)]
    pub new_places: Vec<NewPlaceView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshView {
    pub at: String,
    pub trigger: RefreshTrigger,
    pub outcome: RefreshResult,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPlaceView {
    pub at: String,
    #[serde(flatten)]
    pub place: Place,
    /// `country` (a country never seen before) or `colo` (a data center never seen before).
    pub novelty: Novelty,
}

impl Activity {
    /// The owner's view at `now`.
    pub fn view(&self, now: UnixMillis) -> ActivityView {
        let (requests_24h, errors_24h) = self.counts(now, 24);
        let (requests_7d, errors_7d) = self.counts(now, super::KEPT_HOURS);
        ActivityView {
            last_used_at: self.last.as_ref().map(|l| rfc3339(l.at)),
            last_used_from: self.last.as_ref().and_then(|l| l.place.clone()),
            requests_24h,
            errors_24h,
            requests_7d,
            errors_7d,
            refreshes: self
                .refreshes
                .iter()
                .rev()
                .map(|r| RefreshView {
                    at: rfc3339(r.at),
                    trigger: r.trigger,
                    outcome: r.outcome,
                })
                .collect(),
            new_places: self
                .notices
                .iter()
                .rev()
                .map(|n: &NewPlace| NewPlaceView {
                    at: rfc3339(n.at),
                    place: n.place.clone(),
                    novelty: n.novelty,
                })
                .collect(),
        }
    }
}

/// `AMS (NL)`, `AMS` or `NL`.
pub fn place_text(place: &Place) -> String {
    match (&place.colo, &place.country) {
        (Some(colo), Some(country)) => format!("{colo} ({country})"),
        (Some(code), None) | (None, Some(code)) => code.clone(),
        (None, None) => String::new(),
    }
}

/// A new place with what is new first: `BR (GRU)` for a new country, `GRU (BR)` for a new
/// colo in a known country.
pub fn new_place_text(notice: &NewPlaceView) -> String {
    match (notice.novelty, &notice.place.colo, &notice.place.country) {
        (Novelty::Country, Some(colo), Some(country)) => format!("{country} ({colo})"),
        _ => place_text(&notice.place),
    }
}

/// `3 min ago from AMS (NL)`, `3 min ago` without a place, `never` before the first use.
pub fn last_used_text(view: &ActivityView, now: UnixMillis) -> String {
    let Some(at) = view.last_used_at.as_deref().and_then(parse_rfc3339) else {
        return "never".to_owned();
    };
    match &view.last_used_from {
        Some(place) => format!("{} from {}", relative(at, now), place_text(place)),
        None => relative(at, now),
    }
}

/// `First use from BR (GRU) 2 h ago — if that was not you, rotate the URL.`
pub fn notice_text(notice: &NewPlaceView, now: UnixMillis) -> String {
    let when = parse_rfc3339(&notice.at)
        .map(|at| format!(" {}", relative(at, now)))
        .unwrap_or_default();
    format!(
        "First use from {}{when} — if that was not you, rotate the URL.",
        new_place_text(notice)
    )
}

/// `12 requests, 1 error`.
pub fn counts_text(requests: u64, errors: u64) -> String {
    let plural = |n: u64, one: &str, many: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {many}")
        }
    };
    format!(
        "{}, {}",
        plural(requests, "request", "requests"),
        plural(errors, "error", "errors")
    )
}

pub fn trigger_text(trigger: RefreshTrigger) -> &'static str {
    match trigger {
        RefreshTrigger::Alarm => "alarm",
        RefreshTrigger::Cron => "cron",
        RefreshTrigger::Request => "request",
        RefreshTrigger::Rejected => "upstream 401",
    }
}

pub fn outcome_text(outcome: RefreshResult) -> &'static str {
    match outcome {
        RefreshResult::Refreshed => "refreshed",
        RefreshResult::NeedsReauth => "needs re-authorization",
        RefreshResult::Failed => "failed (authorization server)",
    }
}
