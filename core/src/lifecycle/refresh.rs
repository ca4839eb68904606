//! The refresh state machine of one connection. Its Durable Object is the only caller, so
//! there is one refresh at a time per connection; this module decides when to refresh and
//! applies the outcome to the record. The caller persists the record before it hands the new
//! access token to anyone, so a rotated refresh token is never lost or spent twice.
//!
//! Two kinds of attempt reach the token endpoint. The background ones (the object's alarm, see
//! [`crate::lifecycle::schedule`], and the cron's sweep when an alarm slipped) follow the backoff:
//! after a transient failure the next one waits 30 s, doubling up to 30 minutes. A
//! client request that needs a token while the current one is unusable does not wait for the
//! backoff: it tries the token endpoint itself, at most once every
//! [`DEMAND_REFRESH_INTERVAL_MS`] (whoever made the last attempt), so the first request after
//! the authorization server is back gets a token. Every failed attempt counts towards the
//! backoff. `invalid_grant` ends all attempts until the owner authorizes again.

use crate::http::HttpClient;
use crate::lifecycle::renewal::{self, RenewError};
use crate::oauth::registration::truncate;
use crate::secret::{ct_eq_bytes, sha256};
use crate::time::UnixMillis;
use crate::vault::record::{ConnectionRecord, ConnectionState};

/// A token this close to its expiry is refreshed before use: time for the request to reach
/// the upstream, and for clock skew between Bindify and the authorization server. Short-lived
/// tokens use a quarter of their lifetime instead, so a 5-second token is not refreshed on
/// every request, but never less than [`MIN_REFRESH_BUFFER_MS`].
pub const REFRESH_BUFFER_MS: i64 = 60_000;

/// The smallest buffer: a JWT's `exp` counts whole seconds, so a token can expire up to a
/// second before `obtained_at + expires_in`.
pub const MIN_REFRESH_BUFFER_MS: i64 = 1_000;

/// First retry delay after a transient failure; doubles per failure in a row.
pub const BACKOFF_BASE_MS: i64 = 30_000;
/// Longest delay between retries.
pub const BACKOFF_MAX_MS: i64 = 30 * 60_000;

/// Shortest time between two attempts at the token endpoint while it is failing, when a
/// client request needs a token: a client retrying in a loop reaches the authorization server
/// at most once per interval, and a client that retries after it gets a token as soon as the
/// server is back.
pub const DEMAND_REFRESH_INTERVAL_MS: i64 = 5_000;

/// Shortest time between two refreshes made because the upstream refused a token that had not
/// expired. An upstream that refuses every token (hostile, or broken) would otherwise make
/// Bindify rotate the grant on every request, spending the authorization server's rate limit
/// and, at some providers, the grant itself. A minute is long next to a normal refusal, which
/// happens once when a token is revoked early, and short next to the hour a token usually
/// lives.
pub const REJECTION_REFRESH_INTERVAL_MS: i64 = 60_000;

/// Why the proxy cannot get a usable token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unavailable {
    /// The grant is gone: only the user can fix it, by reconnecting.
    #[error("the connection needs to be authorized again")]
    NeedsReauth,
    /// The authorization server is failing; tokens are kept and the refresh will be retried.
    /// `retry_at` is when a request may make Bindify try the token endpoint again.
    #[error("the authorization server {authorization_server} is unavailable")]
    Transient {
        authorization_server: String,
        retry_at: UnixMillis,
    },
}

/// What the caller should do for a request that needs a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The current access token is good.
    UseCurrent,
    /// Refresh first: the access token is expiring (or has no refresh buffer left).
    Refresh,
    /// Refresh because the upstream refused the current access token although it has not
    /// expired; subject to [`RejectionRefreshes`].
    RefreshRejected,
}

/// The refreshes one connection made because the upstream refused an unexpired token: at most
/// one per access token, and at most one per [`REJECTION_REFRESH_INTERVAL_MS`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct RejectionRefreshes {
    /// When the last one ran, and the SHA-256 of the token whose refusal caused it.
    last: Option<(UnixMillis, [u8; 32])>,
}

/// A refresh for a refused token that [`RejectionRefreshes`] does not allow now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshLimited {
    /// When a refusal may cause a refresh again; `None` when this very token already caused
    /// one (the authorization server handed the same token back), so only its expiry or a
    /// reconnect replaces it.
    pub retry_at: Option<UnixMillis>,
}

impl RejectionRefreshes {
    /// Whether a refresh for the refused token with SHA-256 `rejected` may run at `now`.
    pub fn check(&self, rejected: &[u8; 32], now: UnixMillis) -> Result<(), RefreshLimited> {
        let Some((at, hash)) = self.last else {
            return Ok(());
        };
        if ct_eq_bytes(&hash, rejected) {
            return Err(RefreshLimited { retry_at: None });
        }
        let allowed_at = at.saturating_add(REJECTION_REFRESH_INTERVAL_MS);
        if now < allowed_at {
            return Err(RefreshLimited {
                retry_at: Some(allowed_at),
            });
        }
        Ok(())
    }

    /// Notes a refresh for the refused token `rejected`, started at `now`.
    pub fn note(&mut self, rejected: &[u8; 32], now: UnixMillis) {
        self.last = Some((now, *rejected));
    }
}

/// Delay before retry number `failures` (1-based).
pub fn backoff(failures: u32) -> i64 {
    let shift = failures.saturating_sub(1).min(16);
    BACKOFF_BASE_MS
        .saturating_mul(1_i64 << shift)
        .min(BACKOFF_MAX_MS)
}

/// Whether the access token is usable for a request sent at `now`.
pub fn access_token_fresh(record: &ConnectionRecord, now: UnixMillis) -> bool {
    // No expiry given: usable until the upstream says otherwise (a 401).
    fresh_until(record).is_none_or(|until| until > now)
}

/// The instant from which the access token is no longer used for requests: its expiry less
/// the [`refresh_buffer`]. `None` when the token states no expiry. A Worker isolate that holds
/// the token (see [`crate::lifecycle::grant_cache`]) applies the same instant.
pub fn fresh_until(record: &ConnectionRecord) -> Option<UnixMillis> {
    record
        .tokens
        .expires_at
        .map(|expires_at| expires_at.saturating_sub(refresh_buffer(record)))
}

/// [`REFRESH_BUFFER_MS`], or a quarter of the token's lifetime when that is shorter, but at
/// least [`MIN_REFRESH_BUFFER_MS`].
pub fn refresh_buffer(record: &ConnectionRecord) -> i64 {
    match (record.tokens.obtained_at, record.tokens.expires_at) {
        (Some(obtained), Some(expires)) => {
            ((expires - obtained) / 4).clamp(MIN_REFRESH_BUFFER_MS, REFRESH_BUFFER_MS)
        }
        _ => REFRESH_BUFFER_MS,
    }
}

/// Whether `presented` (an access token a request was rejected with) is the current one, in
/// which case the upstream has rejected the current token and it must be refreshed.
pub fn is_current_token(record: &ConnectionRecord, presented_hash: &[u8; 32]) -> bool {
    ct_eq_bytes(
        &sha256(record.tokens.access_token.secret().as_bytes()),
        presented_hash,
    )
}

/// Decides for a request that needs a token. `rejected` is the hash of a token the upstream
/// just answered 401 to, if that is why the caller asks; `last_attempt` is when this
/// connection last reached for the token endpoint, if known.
pub fn decide(
    record: &ConnectionRecord,
    now: UnixMillis,
    rejected: Option<&[u8; 32]>,
    last_attempt: Option<UnixMillis>,
) -> Result<Decision, Unavailable> {
    if record.state == ConnectionState::NeedsReauth {
        return Err(Unavailable::NeedsReauth);
    }
    // A rejected token that is no longer current was already replaced by another request's
    // refresh: the current one is used without refreshing again.
    let rejected_current = rejected.is_some_and(|hash| is_current_token(record, hash));
    let fresh = access_token_fresh(record, now);
    if fresh && !rejected_current {
        return Ok(Decision::UseCurrent);
    }
    if record.next_attempt_at.is_some_and(|t| t > now) {
        // The background retries are backing off. A token that has not expired yet is still
        // worth a try; else this request tries the token endpoint itself, unless an attempt
        // was made a moment ago.
        let unexpired = record.tokens.expires_at.is_none_or(|e| e > now);
        if unexpired && !rejected_current {
            return Ok(Decision::UseCurrent);
        }
        if let Some(retry_at) = last_attempt
            .map(|at| at.saturating_add(DEMAND_REFRESH_INTERVAL_MS))
            .filter(|at| *at > now)
        {
            return Err(transient(record, retry_at));
        }
    }
    Ok(if fresh {
        Decision::RefreshRejected
    } else {
        Decision::Refresh
    })
}

fn transient(record: &ConnectionRecord, retry_at: UnixMillis) -> Unavailable {
    Unavailable::Transient {
        authorization_server: record
            .oauth
            .as_ref()
            .map_or_else(|| record.server_url.clone(), |o| o.issuer.clone()),
        retry_at,
    }
}

/// Refreshes and applies the outcome to `record`: new tokens and `active` on success;
/// `needs_reauth` when the grant is rejected; `error` with a backoff when the failure is
/// transient, keeping the tokens (the next background attempt waits for the backoff; a request
/// may try again after [`DEMAND_REFRESH_INTERVAL_MS`]). Returns the failure, if any, for the
/// caller to report.
pub async fn refresh<C: HttpClient>(
    http: &C,
    record: &mut ConnectionRecord,
    now: UnixMillis,
) -> Result<(), Unavailable> {
    match renewal::renew(http, record, now).await {
        Ok(tokens) => {
            record.tokens = tokens;
            record.state = ConnectionState::Active;
            record.last_refresh_at = Some(now);
            record.last_error = None;
            record.failures = 0;
            record.next_attempt_at = None;
            Ok(())
        }
        Err(RenewError::Impossible(why)) => {
            record.state = ConnectionState::NeedsReauth;
            record.last_error = Some(why);
            record.next_attempt_at = None;
            Err(Unavailable::NeedsReauth)
        }
        Err(RenewError::Token(error)) if error.is_rejection() => {
            record.state = ConnectionState::NeedsReauth;
            record.last_error = Some(truncate(&error.to_string(), 300));
            record.next_attempt_at = None;
            Err(Unavailable::NeedsReauth)
        }
        Err(RenewError::Token(error)) => {
            record.failures = record.failures.saturating_add(1);
            record.state = ConnectionState::Error;
            record.last_error = Some(truncate(&error.to_string(), 300));
            record.next_attempt_at = Some(now.saturating_add(backoff(record.failures)));
            Err(transient(
                record,
                now.saturating_add(DEMAND_REFRESH_INTERVAL_MS),
            ))
        }
    }
}

#[cfg(test)]
mod tests;
