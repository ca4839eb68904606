//! A connection's activity: when and from where its URL was last used, how many requests and
//! errors it answered over the last 24 hours and 7 days, the last refreshes and their outcomes,
//! and the places it was first used from (a new country or colo is a notice for the owner).
//!
//! Two halves. An isolate counts the requests it answers per connection in a [`Batch`] (see
//! [`pending`]) and delivers it to the connection's Durable Object after the response, never
//! on the request's path and never to KV. The object merges batches into its [`Activity`],
//! kept in its own storage under [`crate::vault::keys::OBJECT_ACTIVITY`].
//!
//! What counts:
//! - a *request* is any request to the connection's URL (`/s/<secret>/mcp`, `/sse`,
//!   `/message`) whose secret named the connection, whatever came of it;
//! - an *error* is such a request answered with an HTTP status of 400 or more, whether Bindify
//!   answered it (a refused request, a grant that needs re-authorization, an upstream Bindify
//!   could not reach) or the upstream did. A JSON-RPC error inside a successful HTTP answer
//!   is not an error here: Bindify relays those bodies without reading them.
//!
//! Counts are kept per clock hour (UTC) for [`KEPT_HOURS`] hours: "24 hours" is the current
//! hour and the 23 before it, "7 days" the current hour and the 167 before it.

pub mod pending;
pub mod view;

use serde::{Deserialize, Serialize};

use crate::time::UnixMillis;

#[cfg(test)]
mod tests;

pub const HOUR_MS: i64 = 3_600_000;
/// Hourly counters kept: 7 days.
pub const KEPT_HOURS: i64 = 7 * 24;
/// Refreshes kept, the newest last.
pub const KEPT_REFRESHES: usize = 5;
/// Places remembered to tell a new one; past this the oldest is forgotten (and would be new
/// again).
pub const KEPT_PLACES: usize = 64;
/// New-place notices kept until the owner dismisses them.
pub const KEPT_NOTICES: usize = 5;
/// Distinct places one batch carries (each with its first time).
pub const BATCH_PLACES: usize = 8;
/// Longest colo or country code accepted from the platform.
const MAX_CODE_CHARS: usize = 8;

/// Where a request came in: the Cloudflare data center (IATA code, `AMS`) and the client's
/// country (ISO 3166-1 alpha-2, `NL`), as the platform reports them in `request.cf`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Place {
    #[serde(default)]
    pub colo: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
}

impl Place {
    /// The place the platform reported; `None` when it reported neither (a local runtime
    /// without `request.cf`). A code that is not short uppercase ASCII is left out.
    pub fn reported(colo: Option<String>, country: Option<String>) -> Option<Place> {
        let code = |c: Option<String>| {
            c.map(|c| c.trim().to_ascii_uppercase()).filter(|c| {
                !c.is_empty()
                    && c.len() <= MAX_CODE_CHARS
                    && c.chars().all(|ch| ch.is_ascii_alphanumeric())
            })
        };
        let place = Place {
            colo: code(colo),
            country: code(country),
        };
        (place.colo.is_some() || place.country.is_some()).then_some(place)
    }
}

/// Requests and errors in one clock hour (`hour` is Unix milliseconds / [`HOUR_MS`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct HourCount {
    pub hour: i64,
    pub requests: u32,
    pub errors: u32,
}

/// A place and the first time it was seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaceSeen {
    pub place: Place,
    pub at: UnixMillis,
}

/// The last use: when, and from where if the platform said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastUse {
    pub at: UnixMillis,
    pub place: Option<Place>,
}

/// Uses an isolate answered for one connection, not yet delivered to its object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Batch {
    pub hours: Vec<HourCount>,
    pub last: Option<LastUse>,
    /// Each distinct place of the batch with its first time, at most [`BATCH_PLACES`].
    pub places: Vec<PlaceSeen>,
}

impl Batch {
    /// Counts one request answered at `at` from `place`; `error` as the module defines it.
    pub fn note(&mut self, at: UnixMillis, place: Option<&Place>, error: bool) {
        add_hour(
            &mut self.hours,
            HourCount {
                hour: at.div_euclid(HOUR_MS),
                requests: 1,
                errors: u32::from(error),
            },
        );
        if self.last.as_ref().is_none_or(|last| last.at <= at) {
            self.last = Some(LastUse {
                at,
                place: place.cloned(),
            });
        }
        if let Some(place) = place
            && self.places.len() < BATCH_PLACES
            && !self.places.iter().any(|seen| &seen.place == place)
        {
            self.places.push(PlaceSeen {
                place: place.clone(),
                at,
            });
        }
    }

    pub fn is_empty(&self) -> bool {
        self.hours.is_empty()
    }

    /// Requests counted in this batch.
    pub fn requests(&self) -> u64 {
        self.hours.iter().map(|h| u64::from(h.requests)).sum()
    }
}

fn add_hour(hours: &mut Vec<HourCount>, count: HourCount) {
    match hours.iter_mut().find(|h| h.hour == count.hour) {
        Some(h) => {
            h.requests = h.requests.saturating_add(count.requests);
            h.errors = h.errors.saturating_add(count.errors);
        }
        None => {
            hours.push(count);
            hours.sort_by_key(|h| h.hour);
        }
    }
}

/// What asked for a refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RefreshTrigger {
    /// The object's alarm, ahead of the token's expiry.
    #[serde(rename = "alarm")]
    Alarm,
    /// The cron's visit.
    #[serde(rename = "cron")]
    Cron,
    /// A request found the token expired.
    #[serde(rename = "request")]
    Request,
    /// The upstream answered 401 to the current token.
    #[serde(rename = "401")]
    Rejected,
}

/// How a refresh ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefreshResult {
    Refreshed,
    /// The grant is gone (`invalid_grant`): only the owner can authorize again.
    NeedsReauth,
    /// The authorization server failed; a later attempt may succeed.
    Failed,
}

/// One refresh attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshNote {
    pub at: UnixMillis,
    pub trigger: RefreshTrigger,
    pub outcome: RefreshResult,
}

/// Whether a place was new by its country or, in a known country, by its colo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Novelty {
    Country,
    Colo,
}

/// A first use from a new place, until the owner dismisses it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewPlace {
    pub place: Place,
    pub at: UnixMillis,
    pub novelty: Novelty,
}

/// A connection's activity as its object keeps it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    #[serde(default)]
    pub last: Option<LastUse>,
    /// Oldest first, at most [`KEPT_HOURS`] hours back.
    #[serde(default)]
    pub hours: Vec<HourCount>,
    /// Oldest first, at most [`KEPT_PLACES`].
    #[serde(default)]
    pub places: Vec<PlaceSeen>,
    /// Oldest first, at most [`KEPT_NOTICES`].
    #[serde(default)]
    pub notices: Vec<NewPlace>,
    /// Oldest first, at most [`KEPT_REFRESHES`].
    #[serde(default)]
    pub refreshes: Vec<RefreshNote>,
}

impl Activity {
    /// Adds a batch an isolate delivered at `now`. Counts older than the kept window are
    /// dropped, and so are counts more than an hour ahead of `now` (a clock that is wrong).
    pub fn merge(&mut self, batch: &Batch, now: UnixMillis) {
        let current = now.div_euclid(HOUR_MS);
        for count in &batch.hours {
            if count.hour > current - KEPT_HOURS && count.hour <= current + 1 {
                add_hour(&mut self.hours, *count);
            }
        }
        self.roll(now);
        if let Some(last) = &batch.last
            && self.last.as_ref().is_none_or(|known| known.at <= last.at)
        {
            self.last = Some(last.clone());
        }
        let mut arrived: Vec<&PlaceSeen> = batch.places.iter().collect();
        arrived.sort_by_key(|seen| seen.at);
        for seen in arrived {
            self.place_used(seen);
        }
    }

    /// Drops hourly counts older than the kept window.
    pub fn roll(&mut self, now: UnixMillis) {
        let current = now.div_euclid(HOUR_MS);
        self.hours.retain(|h| h.hour > current - KEPT_HOURS);
    }

    /// The new-place rule. The first place a connection is used from is where it starts, not
    /// news. After that, a place is new if no earlier use came from its country, or, in a
    /// known country (or with no country reported), from its colo.
    fn place_used(&mut self, seen: &PlaceSeen) {
        let place = &seen.place;
        let novelty = if self.places.is_empty() {
            None
        } else if place.country.as_ref().is_some_and(|c| {
            !self
                .places
                .iter()
                .any(|p| p.place.country.as_ref() == Some(c))
        }) {
            Some(Novelty::Country)
        } else if place
            .colo
            .as_ref()
            .is_some_and(|c| !self.places.iter().any(|p| p.place.colo.as_ref() == Some(c)))
        {
            Some(Novelty::Colo)
        } else {
            None
        };
        if !self.places.iter().any(|p| &p.place == place) {
            self.places.push(seen.clone());
            if self.places.len() > KEPT_PLACES {
                self.places.remove(0);
            }
        }
        if let Some(novelty) = novelty {
            self.notices.push(NewPlace {
                place: place.clone(),
                at: seen.at,
                novelty,
            });
            if self.notices.len() > KEPT_NOTICES {
                self.notices.remove(0);
            }
        }
    }

    /// Records a refresh attempt, keeping the last [`KEPT_REFRESHES`].
    pub fn note_refresh(&mut self, note: RefreshNote) {
        self.refreshes.push(note);
        self.refreshes.sort_by_key(|n| n.at);
        if self.refreshes.len() > KEPT_REFRESHES {
            let extra = self.refreshes.len() - KEPT_REFRESHES;
            self.refreshes.drain(..extra);
        }
    }

    /// The owner dismissed the notices shown to them: those of uses at or before `until`, to
    /// the second (the API and the page give times in whole seconds). A notice that arrived
    /// since stays. Returns whether any went.
    pub fn dismiss(&mut self, until: UnixMillis) -> bool {
        let before = self.notices.len();
        let second = until.div_euclid(1000);
        self.notices.retain(|n| n.at.div_euclid(1000) > second);
        self.notices.len() != before
    }

    /// Requests and errors over the last `hours` clock hours (the current one included).
    pub fn counts(&self, now: UnixMillis, hours: i64) -> (u64, u64) {
        let current = now.div_euclid(HOUR_MS);
        self.hours
            .iter()
            .filter(|h| h.hour > current - hours && h.hour <= current + 1)
            .fold((0, 0), |(r, e), h| {
                (r + u64::from(h.requests), e + u64::from(h.errors))
            })
    }
}
