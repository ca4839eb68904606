//! When a connection's object wakes itself to refresh its token. Each `Connection` object keeps
//! one Durable Object alarm, set from its record after every change
//! ([`crate::lifecycle::connection_service`]): the alarm refreshes the token ahead of its expiry,
//! with no client request and no cron run, and sets the next one.
//!
//! The alarm fires when half the token's lifetime is left, but at most [`MAX_LEAD_MS`] before
//! its expiry: a 1-hour token is refreshed 2 minutes before it expires (every 58 minutes), a
//! 5-second token 2.5 seconds before (every 2.5 seconds). Requests stop using a token only
//! one refresh buffer before its expiry ([`crate::lifecycle::refresh::refresh_buffer`]: a quarter
//! of its lifetime, at most a minute), so the alarm's refresh, and for a 1-hour token one retry
//! after a transient failure, come before any request needs a new token. After a transient failure
//! the alarm follows the backoff ([`crate::lifecycle::refresh::backoff`]); a record whose grant is
//! gone, that nothing renews (an OAuth grant without a refresh token, an API key, an open server),
//! or whose token states no expiry needs no alarm. Client credentials and identity assertions are
//! renewed by asking again, so they get one like a refreshable grant. Two alarms are
//! never closer than [`MIN_GAP_MS`] after a refresh, whatever lifetime a server states.

use crate::lifecycle::refresh::REFRESH_BUFFER_MS;
use crate::time::UnixMillis;
use crate::vault::record::{ConnectionRecord, ConnectionState};

/// The longest lead of an alarm before the token's expiry: two refresh buffers, so that a
/// transient failure at the alarm is retried (after the first backoff step) before requests
/// would have to refresh on their own.
pub const MAX_LEAD_MS: i64 = 2 * REFRESH_BUFFER_MS;

/// The shortest time from a refresh to the next alarm: a server that issues tokens of a second
/// or less is refreshed at most once a second.
pub const MIN_GAP_MS: i64 = 1_000;

/// How long before the access token's expiry the alarm refreshes it: half its lifetime, at most
/// [`MAX_LEAD_MS`]. A record that does not say when its token arrived gets [`MAX_LEAD_MS`].
pub fn lead(record: &ConnectionRecord) -> i64 {
    match (record.tokens.obtained_at, record.tokens.expires_at) {
        (Some(obtained), Some(expires)) => {
            (expires.saturating_sub(obtained) / 2).clamp(0, MAX_LEAD_MS)
        }
        _ => MAX_LEAD_MS,
    }
}

/// When the object's alarm should fire for `record`; `None` when it needs none.
pub fn alarm_at(record: &ConnectionRecord) -> Option<UnixMillis> {
    if record.state == ConnectionState::NeedsReauth || !record.renewable() {
        return None;
    }
    let expires_at = record.tokens.expires_at?;
    let mut at = expires_at.saturating_sub(lead(record));
    if let Some(refreshed) = record.last_refresh_at {
        at = at.max(refreshed.saturating_add(MIN_GAP_MS));
    }
    if let Some(retry) = record.next_attempt_at {
        at = at.max(retry);
    }
    Some(at)
}

/// Whether the token should be refreshed at `now` (the alarm's time has come): what the alarm
/// handler and the cron's visit check under the object's refresh lock.
pub fn due(record: &ConnectionRecord, now: UnixMillis) -> bool {
    alarm_at(record).is_some_and(|at| at <= now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::UrlSecret;
    use crate::testing::sample_record;

    const T0: UnixMillis = 1_795_690_200_000;
    const HOUR: i64 = 3_600_000;

    fn record(lifetime_ms: i64) -> ConnectionRecord {
        let mut r = sample_record(
            "c1",
            UrlSecret::generate().expect("random").hash(),
            Some(T0 + lifetime_ms),
        );
        r.tokens.obtained_at = Some(T0);
        r.last_refresh_at = Some(T0);
        r
    }

    #[test]
    fn an_alarm_fires_with_half_the_lifetime_left_at_most_two_minutes_before_expiry() {
        let cases = [
            (HOUR, T0 + HOUR - MAX_LEAD_MS),
            (8 * HOUR, T0 + 8 * HOUR - 120_000),
            (10 * 60_000, T0 + 8 * 60_000),
            (4 * 60_000, T0 + 2 * 60_000),
            (5_000, T0 + 2_500),
            (3_000, T0 + 1_500),
            // Tokens of a second or less: one refresh a second at most.
            (1_000, T0 + MIN_GAP_MS),
            (0, T0 + MIN_GAP_MS),
        ];
        for (lifetime, expected) in cases {
            let r = record(lifetime);
            assert_eq!(alarm_at(&r), Some(expected), "lifetime {lifetime} ms");
            // Before the alarm requests still use the token: it fires ahead of their buffer.
            if lifetime >= 4_000 {
                let buffer = crate::lifecycle::refresh::refresh_buffer(&r);
                assert!(expected < T0 + lifetime - buffer, "lifetime {lifetime} ms");
                assert!(crate::lifecycle::refresh::access_token_fresh(&r, expected));
            }
            assert!(!due(&r, expected - 1));
            assert!(due(&r, expected));
        }
    }

    #[test]
    fn a_record_without_its_arrival_gets_the_longest_lead() {
        let mut r = record(HOUR);
        r.tokens.obtained_at = None;
        r.last_refresh_at = None;
        assert_eq!(lead(&r), MAX_LEAD_MS);
        assert_eq!(alarm_at(&r), Some(T0 + HOUR - MAX_LEAD_MS));
    }

    #[test]
    fn after_a_transient_failure_the_alarm_follows_the_backoff() {
        let mut r = record(HOUR);
        r.state = ConnectionState::Error;
        r.next_attempt_at = Some(T0 + HOUR - 30_000);
        assert_eq!(alarm_at(&r), Some(T0 + HOUR - 30_000));
        // A backoff already over: the alarm is the usual one (fires at once if past).
        r.next_attempt_at = Some(T0);
        assert_eq!(alarm_at(&r), Some(T0 + HOUR - MAX_LEAD_MS));
    }

    #[test]
    fn no_alarm_without_a_grant_to_refresh() {
        let mut r = record(HOUR);
        r.state = ConnectionState::NeedsReauth;
        assert_eq!(alarm_at(&r), None);
        assert!(!due(&r, T0 + 2 * HOUR));
        let mut r = record(HOUR);
        r.tokens.refresh_token = None;
        assert_eq!(alarm_at(&r), None);
        let mut r = record(HOUR);
        r.tokens.expires_at = None;
        assert_eq!(alarm_at(&r), None);
    }

    #[test]
    fn kinds_renewed_by_asking_again_get_an_alarm_static_credentials_none() {
        use crate::vault::record::{GrantType, UpstreamAuth};
        let mut r = record(HOUR);
        r.tokens.refresh_token = None;
        if let Some(oauth) = r.oauth.as_mut() {
            oauth.grant = GrantType::ClientCredentials;
        }
        assert_eq!(alarm_at(&r), Some(T0 + HOUR - MAX_LEAD_MS));
        for auth in [
            UpstreamAuth::None,
            UpstreamAuth::Header {
                name: "X-API-Key".into(),
            },
        ] {
            let mut r = record(HOUR);
            r.oauth = None;
            r.tokens.refresh_token = None;
            r.upstream_auth = auth;
            assert_eq!(alarm_at(&r), None);
        }
    }
}
