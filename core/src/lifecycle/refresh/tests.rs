use super::*;
use crate::secret::UrlSecret;
use crate::testing::{ScriptedPeer, block_on, sample_record};

const TOKEN: &str = "https://auth.example.com/token";
const T0: UnixMillis = 1_795_690_200_000;
const HOUR: i64 = 3_600_000;

fn record(expires_at: Option<UnixMillis>) -> ConnectionRecord {
    sample_record(
        "c",
        UrlSecret::generate().expect("random").hash(),
        expires_at,
    )
}

fn hash(token: &str) -> [u8; 32] {
    sha256(token.as_bytes())
}

fn answer(peer: &ScriptedPeer, status: u16, body: &str) {
    peer.on("POST", TOKEN, status, body);
}

#[test]
fn a_fresh_token_is_used_and_an_expiring_one_refreshed() {
    let r = record(Some(T0 + HOUR));
    assert_eq!(decide(&r, T0, None, None), Ok(Decision::UseCurrent));
    assert_eq!(
        decide(&r, T0 + HOUR - REFRESH_BUFFER_MS, None, None),
        Ok(Decision::Refresh)
    );
    assert_eq!(
        decide(&record(None), T0, None, None),
        Ok(Decision::UseCurrent)
    );
}

#[test]
fn a_401_on_the_current_token_refreshes_but_a_stale_401_does_not() {
    let r = record(Some(T0 + HOUR));
    assert_eq!(
        decide(&r, T0, Some(&hash("AT-1")), None),
        Ok(Decision::RefreshRejected)
    );
    // Another request already refreshed: the rejected token is not the current one.
    assert_eq!(
        decide(&r, T0, Some(&hash("AT-0")), None),
        Ok(Decision::UseCurrent)
    );
    // Refused and expiring anyway: an ordinary refresh, which no refusal limit holds back.
    assert_eq!(
        decide(&r, T0 + HOUR - 1, Some(&hash("AT-1")), None),
        Ok(Decision::Refresh)
    );
}

#[test]
fn refusals_refresh_once_per_token_and_once_a_minute() {
    let mut limit = RejectionRefreshes::default();
    assert_eq!(limit.check(&hash("AT-1"), T0), Ok(()));
    limit.note(&hash("AT-1"), T0);
    // The same token again (the authorization server handed it back): never again.
    assert_eq!(
        limit.check(&hash("AT-1"), T0 + 10 * HOUR),
        Err(RefreshLimited { retry_at: None })
    );
    // The next token, refused too soon after.
    assert_eq!(
        limit.check(&hash("AT-2"), T0 + 1),
        Err(RefreshLimited {
            retry_at: Some(T0 + REJECTION_REFRESH_INTERVAL_MS)
        })
    );
    assert_eq!(
        limit.check(&hash("AT-2"), T0 + REJECTION_REFRESH_INTERVAL_MS - 1),
        Err(RefreshLimited {
            retry_at: Some(T0 + REJECTION_REFRESH_INTERVAL_MS)
        })
    );
    assert_eq!(
        limit.check(&hash("AT-2"), T0 + REJECTION_REFRESH_INTERVAL_MS),
        Ok(())
    );
    // A clock at the end of time does not overflow.
    let mut late = RejectionRefreshes::default();
    late.note(&hash("AT-1"), i64::MAX - 1);
    assert_eq!(
        late.check(&hash("AT-2"), i64::MAX - 1),
        Err(RefreshLimited {
            retry_at: Some(i64::MAX)
        })
    );
}

#[test]
fn needs_reauth_never_refreshes() {
    let mut r = record(Some(T0 - 1));
    r.state = ConnectionState::NeedsReauth;
    assert_eq!(decide(&r, T0, None, None), Err(Unavailable::NeedsReauth));
    assert!(!crate::lifecycle::schedule::due(&r, T0));
}

#[test]
fn success_rotates_and_records_absolute_expiry() {
    let peer = ScriptedPeer::new();
    answer(
        &peer,
        200,
        r#"{"access_token":"AT-2","token_type":"Bearer","expires_in":3600,"refresh_token":"RT-2"}"#,
    );
    let mut r = record(Some(T0));
    r.failures = 3;
    r.state = ConnectionState::Error;
    block_on(refresh(&peer.client(), &mut r, T0)).expect("refreshed");
    assert_eq!(r.tokens.access_token.secret(), "AT-2");
    assert_eq!(
        r.tokens.refresh_token.as_ref().map(|t| t.secret().as_str()),
        Some("RT-2")
    );
    assert_eq!(r.tokens.expires_at, Some(T0 + HOUR));
    assert_eq!(
        (r.state, r.failures, r.last_refresh_at),
        (ConnectionState::Active, 0, Some(T0))
    );
    let sent = &peer.requests()[0];
    assert_eq!(sent.form("refresh_token").as_deref(), Some("RT-1"));
    assert_eq!(
        sent.form("resource").as_deref(),
        Some("https://mcp.example.com/mcp")
    );
}

#[test]
fn no_refresh_token_in_the_response_keeps_the_old_one() {
    let peer = ScriptedPeer::new();
    answer(
        &peer,
        200,
        r#"{"access_token":"AT-2","token_type":"Bearer","expires_in":60}"#,
    );
    let mut r = record(Some(T0));
    block_on(refresh(&peer.client(), &mut r, T0)).expect("refreshed");
    assert_eq!(
        r.tokens.refresh_token.as_ref().map(|t| t.secret().as_str()),
        Some("RT-1")
    );
}

#[test]
fn invalid_grant_needs_reauth_and_stops_refreshing() {
    let peer = ScriptedPeer::new();
    answer(
        &peer,
        400,
        r#"{"error":"invalid_grant","error_description":"grant request is invalid"}"#,
    );
    let mut r = record(Some(T0));
    assert_eq!(
        block_on(refresh(&peer.client(), &mut r, T0)),
        Err(Unavailable::NeedsReauth)
    );
    assert_eq!(r.state, ConnectionState::NeedsReauth);
    assert!(
        r.last_error
            .as_deref()
            .is_some_and(|e| e.contains("invalid_grant"))
    );
    assert_eq!(
        r.tokens.refresh_token.as_ref().map(|t| t.secret().as_str()),
        Some("RT-1")
    );
    assert_eq!(
        decide(&r, T0 + HOUR, None, None),
        Err(Unavailable::NeedsReauth)
    );
    assert!(!crate::lifecycle::schedule::due(&r, T0 + HOUR));
}

#[test]
fn transient_failures_keep_tokens_and_back_off() {
    let peer = ScriptedPeer::new();
    answer(&peer, 503, r#"{"error":"temporarily_unavailable"}"#);
    let mut r = record(Some(T0 + 5 * 60_000));
    let err = block_on(refresh(&peer.client(), &mut r, T0)).expect_err("transient");
    assert_eq!(
        err,
        Unavailable::Transient {
            authorization_server: "https://auth.example.com".into(),
            retry_at: T0 + DEMAND_REFRESH_INTERVAL_MS
        }
    );
    assert_eq!((r.state, r.failures), (ConnectionState::Error, 1));
    assert_eq!(r.next_attempt_at, Some(T0 + BACKOFF_BASE_MS));
    assert_eq!(r.tokens.access_token.secret(), "AT-1");
    assert_eq!(
        r.tokens.refresh_token.as_ref().map(|t| t.secret().as_str()),
        Some("RT-1")
    );
    assert!(r.last_error.is_some());

    // While backing off, an unexpired token is still used; the alarm waits for the backoff,
    // and for its usual time when that comes later.
    assert_eq!(decide(&r, T0 + 1, None, Some(T0)), Ok(Decision::UseCurrent));
    assert!(!crate::lifecycle::schedule::due(&r, T0 + 1));
    assert_eq!(
        crate::lifecycle::schedule::alarm_at(&r),
        Some(T0 + 3 * 60_000)
    );
    r.tokens.expires_at = Some(T0 + 60_000);
    assert!(!crate::lifecycle::schedule::due(
        &r,
        T0 + BACKOFF_BASE_MS - 1
    ));
    assert!(crate::lifecycle::schedule::due(&r, T0 + BACKOFF_BASE_MS));

    peer.fail("POST", TOKEN);
    let _ = block_on(refresh(&peer.client(), &mut r, T0 + BACKOFF_BASE_MS));
    assert_eq!(r.failures, 2);
    assert_eq!(r.next_attempt_at, Some(T0 + 3 * BACKOFF_BASE_MS));
    assert_ne!(r.state, ConnectionState::NeedsReauth);
}

/// The backoff spaces the cron's attempts only: a request that needs a token tries the token
/// endpoint itself, at most once per [`DEMAND_REFRESH_INTERVAL_MS`] after the last attempt.
#[test]
fn a_request_tries_again_after_a_few_seconds_whatever_the_backoff() {
    let mut r = record(Some(T0));
    r.state = ConnectionState::Error;
    r.failures = 6;
    r.next_attempt_at = Some(T0 + BACKOFF_MAX_MS);
    let transient = |retry_at| {
        Err(Unavailable::Transient {
            authorization_server: "https://auth.example.com".into(),
            retry_at,
        })
    };
    // Right after an attempt: no new one, and the answer says when the next may be.
    assert_eq!(decide(&r, T0 + 1, None, Some(T0)), transient(T0 + 5_000));
    assert_eq!(
        decide(&r, T0 + 4_999, None, Some(T0)),
        transient(T0 + 5_000)
    );
    // A few seconds later, or with no attempt known (a fresh object), the request tries.
    assert_eq!(
        decide(&r, T0 + 5_000, None, Some(T0)),
        Ok(Decision::Refresh)
    );
    assert_eq!(decide(&r, T0 + 1, None, None), Ok(Decision::Refresh));
    // Long before the background retry, which stays where the backoff put it.
    assert!(!crate::lifecycle::schedule::due(&r, T0 + 5_000));
    // A refused token that has not expired may be refreshed too (the refusal limits apply).
    r.tokens.expires_at = Some(T0 + HOUR);
    assert_eq!(
        decide(&r, T0 + 5_000, Some(&hash("AT-1")), Some(T0)),
        Ok(Decision::RefreshRejected)
    );
    // A revoked grant is never retried.
    r.state = ConnectionState::NeedsReauth;
    assert_eq!(
        decide(&r, T0 + 5_000, None, None),
        Err(Unavailable::NeedsReauth)
    );
    assert_eq!(DEMAND_REFRESH_INTERVAL_MS, 5_000);
}

#[test]
fn backoff_doubles_and_caps() {
    assert_eq!(backoff(1), BACKOFF_BASE_MS);
    assert_eq!(backoff(2), 2 * BACKOFF_BASE_MS);
    assert_eq!(backoff(3), 4 * BACKOFF_BASE_MS);
    assert_eq!(backoff(50), BACKOFF_MAX_MS);
}

#[test]
fn without_a_refresh_token_an_expired_connection_needs_reauth() {
    let peer = ScriptedPeer::new();
    let mut r = record(Some(T0));
    r.tokens.refresh_token = None;
    assert_eq!(
        block_on(refresh(&peer.client(), &mut r, T0)),
        Err(Unavailable::NeedsReauth)
    );
    assert!(peer.requests().is_empty());
}

#[test]
fn short_lived_tokens_use_a_quarter_of_their_lifetime_as_buffer() {
    let mut r = record(Some(T0 + 4_000));
    r.tokens.obtained_at = Some(T0);
    assert_eq!(refresh_buffer(&r), 1_000);
    assert_eq!(decide(&r, T0 + 2_999, None, None), Ok(Decision::UseCurrent));
    assert_eq!(decide(&r, T0 + 3_000, None, None), Ok(Decision::Refresh));
    r.tokens.expires_at = Some(T0 + 8 * HOUR);
    assert_eq!(refresh_buffer(&r), REFRESH_BUFFER_MS);
    // A 3-second token: `exp` is rounded down to the second, so the buffer is at least 1 s.
    r.tokens.expires_at = Some(T0 + 3_000);
    assert_eq!(refresh_buffer(&r), MIN_REFRESH_BUFFER_MS);
}
