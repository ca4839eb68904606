//! The owner's credential: the Worker secret `ADMIN_TOKEN`, presented as a bearer token (the
//! CLI, the API) or traded once for a sealed session cookie (the dashboard). Comparisons are
//! constant time, sessions die when the token changes, and repeated wrong attempts from one
//! client are slowed down.

use serde::{Deserialize, Serialize};

use crate::envelope::Keyring;
use crate::secret::{b64url, ct_eq_bytes, sha256};
use crate::time::UnixMillis;

/// Name of the dashboard session cookie.
pub const SESSION_COOKIE: &str = "bindify_admin";
/// How long a dashboard session lasts.
pub const SESSION_TTL_MS: i64 = 12 * 3_600_000;
/// Wrong attempts allowed in a window before the client must wait.
pub const FREE_ATTEMPTS: u32 = 5;
/// How long wrong attempts are remembered.
pub const THROTTLE_WINDOW_SECONDS: u64 = 15 * 60;

const SESSION_AAD: &[u8] = b"bindify/admin-session/v1";

/// The configured admin token. `Debug` is redacted; there is no `PartialEq`.
pub struct AdminToken(zeroize::Zeroizing<String>);

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(<redacted>)")
    }
}

impl AdminToken {
    pub fn new(token: String) -> Option<Self> {
        let token = token.trim().to_owned();
        (!token.is_empty()).then(|| AdminToken(zeroize::Zeroizing::new(token)))
    }

    /// Whether `presented` is the token. Hashing first makes the comparison independent of
    /// the presented value's length.
    pub fn verify(&self, presented: &str) -> bool {
        ct_eq_bytes(
            &sha256(self.0.as_bytes()),
            &sha256(presented.trim().as_bytes()),
        )
    }

    /// A short fingerprint bound into sessions, so changing the token ends every session.
    fn fingerprint(&self) -> String {
        b64url(&sha256(self.0.as_bytes())[..12])
    }
}

#[derive(Serialize, Deserialize)]
struct SessionClaims {
    exp: UnixMillis,
    tok: String,
}

/// A sealed session value for the cookie.
pub fn issue_session(keyring: &Keyring, token: &AdminToken, now: UnixMillis) -> Option<String> {
    let claims = SessionClaims {
        exp: now.saturating_add(SESSION_TTL_MS),
        tok: token.fingerprint(),
    };
    keyring.seal_json(SESSION_AAD, &claims).ok()
}

/// Whether a cookie value is a live session for the current token.
pub fn session_valid(keyring: &Keyring, token: &AdminToken, value: &str, now: UnixMillis) -> bool {
    if value.len() > 512 {
        return false;
    }
    match keyring.open_json::<SessionClaims>(SESSION_AAD, value) {
        Ok(claims) => {
            now < claims.exp && ct_eq_bytes(claims.tok.as_bytes(), token.fingerprint().as_bytes())
        }
        Err(_) => false,
    }
}

/// How the Worker is set up to protect management.
pub enum Guard<'a> {
    /// `ADMIN_TOKEN` is set: it is required.
    Token(&'a AdminToken),
    /// Local development without a token: open, and the pages say so.
    OpenForLocalDevelopment,
    /// Deployed without `ADMIN_TOKEN`: management and connecting are refused.
    Unconfigured,
}

impl<'a> Guard<'a> {
    pub fn new(token: Option<&'a AdminToken>, local_development: bool) -> Self {
        match (token, local_development) {
            (Some(token), _) => Guard::Token(token),
            (None, true) => Guard::OpenForLocalDevelopment,
            (None, false) => Guard::Unconfigured,
        }
    }
}

/// Why a management request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    Unconfigured,
    Unauthorized,
    ForbiddenOrigin,
}

/// What a request presents.
pub struct Presented<'a> {
    pub bearer: Option<&'a str>,
    pub session: Option<&'a str>,
    /// The request's `Origin`, and whether the method changes state.
    pub origin: Option<&'a str>,
    pub own_origin: &'a str,
    pub unsafe_method: bool,
}

/// Decides a management API request. A bearer token is checked as is; a session cookie also
/// needs the request to come from the Worker's own origin when it changes state.
pub fn authorize(
    guard: &Guard<'_>,
    keyring: Option<&Keyring>,
    presented: &Presented<'_>,
    now: UnixMillis,
) -> Result<(), Denied> {
    let token = match guard {
        Guard::Unconfigured => return Err(Denied::Unconfigured),
        Guard::OpenForLocalDevelopment => return Ok(()),
        Guard::Token(token) => token,
    };
    if let Some(bearer) = presented.bearer {
        return if token.verify(bearer) {
            Ok(())
        } else {
            Err(Denied::Unauthorized)
        };
    }
    let Some(value) = presented.session else {
        return Err(Denied::Unauthorized);
    };
    let valid = keyring.is_some_and(|k| session_valid(k, token, value, now));
    if !valid {
        return Err(Denied::Unauthorized);
    }
    let same_origin = presented
        .origin
        .is_some_and(|o| crate::origin::origin_allowed(Some(o), presented.own_origin, &[]));
    if presented.unsafe_method && !same_origin {
        return Err(Denied::ForbiddenOrigin);
    }
    Ok(())
}

/// Seconds a client must wait after `failures` wrong attempts in the window: nothing for the
/// first few, then doubling from one second up to the window's length.
pub fn retry_after(failures: u32) -> Option<u64> {
    if failures < FREE_ATTEMPTS {
        return None;
    }
    let shift = (failures - FREE_ATTEMPTS).min(20);
    Some((1_u64 << shift).min(THROTTLE_WINDOW_SECONDS))
}

/// The wrong attempts of one client, as the throttle stores them: `<count>:<last unix ms>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Attempts {
    pub failures: u32,
    pub last_failure: UnixMillis,
}

impl Attempts {
    pub fn parse(text: &str) -> Self {
        let mut parts = text.split(':');
        let failures = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        let last_failure = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        Attempts {
            failures,
            last_failure,
        }
    }

    pub fn to_text(self) -> String {
        format!("{}:{}", self.failures, self.last_failure)
    }

    /// One more wrong attempt at `now`.
    pub fn failed(self, now: UnixMillis) -> Self {
        Attempts {
            failures: self.failures.saturating_add(1),
            last_failure: now,
        }
    }

    /// Seconds left to wait at `now`, if any: the wait runs from the last wrong attempt, so a
    /// client that waits as told may try again (and each further failure doubles the wait).
    pub fn wait_seconds(self, now: UnixMillis) -> Option<u64> {
        let wait_ms = i64::try_from(retry_after(self.failures)?)
            .ok()?
            .saturating_mul(1000);
        let until = self.last_failure.saturating_add(wait_ms);
        (now < until).then(|| u64::try_from((until - now + 999) / 1000).unwrap_or(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{keyring, keyring_with};

    fn token() -> AdminToken {
        AdminToken::new("correct horse battery staple".into()).expect("token")
    }

    fn presented<'a>(
        bearer: Option<&'a str>,
        session: Option<&'a str>,
        origin: Option<&'a str>,
        unsafe_method: bool,
    ) -> Presented<'a> {
        Presented {
            bearer,
            session,
            origin,
            own_origin: "https://b.example",
            unsafe_method,
        }
    }

    #[test]
    fn verifies_in_constant_time_and_redacts() {
        let t = token();
        assert!(t.verify("correct horse battery staple"));
        assert!(!t.verify("correct horse battery stapl"));
        assert!(!t.verify(""));
        assert_eq!(format!("{t:?}"), "AdminToken(<redacted>)");
        assert!(AdminToken::new("  ".into()).is_none());
    }

    #[test]
    fn bearer_and_session_rules() {
        let t = token();
        let k = keyring();
        let guard = Guard::Token(&t);
        let good = "correct horse battery staple";
        assert_eq!(
            authorize(
                &guard,
                Some(&k),
                &presented(Some(good), None, None, true),
                0
            ),
            Ok(())
        );
        assert_eq!(
            authorize(
                &guard,
                Some(&k),
                &presented(Some("nope"), None, None, false),
                0
            ),
            Err(Denied::Unauthorized)
        );
        assert_eq!(
            authorize(&guard, Some(&k), &presented(None, None, None, false), 0),
            Err(Denied::Unauthorized)
        );

        let session = issue_session(&k, &t, 0).expect("session");
        assert_eq!(
            authorize(
                &guard,
                Some(&k),
                &presented(None, Some(&session), None, false),
                1
            ),
            Ok(())
        );
        assert_eq!(
            authorize(
                &guard,
                Some(&k),
                &presented(None, Some(&session), Some("https://b.example"), true),
                1
            ),
            Ok(())
        );
        assert_eq!(
            authorize(
                &guard,
                Some(&k),
                &presented(None, Some(&session), Some("https://evil.example"), true),
                1
            ),
            Err(Denied::ForbiddenOrigin)
        );
        assert_eq!(
            authorize(
                &guard,
                Some(&k),
                &presented(None, Some(&session), None, true),
                1
            ),
            Err(Denied::ForbiddenOrigin)
        );
        // Expired, forged, another deployment's, or minted for a previous token.
        assert!(!session_valid(&k, &t, &session, SESSION_TTL_MS));
        assert!(!session_valid(&k, &t, "forged", 1));
        assert!(!session_valid(&keyring_with(1, [3; 32]), &t, &session, 1));
        let rotated = AdminToken::new("a new token".into()).expect("token");
        assert!(!session_valid(&k, &rotated, &session, 1));
    }

    #[test]
    fn unconfigured_and_local_development() {
        let p = presented(None, None, None, true);
        assert_eq!(
            authorize(&Guard::new(None, false), None, &p, 0),
            Err(Denied::Unconfigured)
        );
        assert_eq!(authorize(&Guard::new(None, true), None, &p, 0), Ok(()));
    }

    #[test]
    fn the_wait_runs_from_the_last_failure_and_then_lets_the_client_try() {
        let mut attempts = Attempts::default();
        for i in 0..FREE_ATTEMPTS {
            assert_eq!(attempts.wait_seconds(i64::from(i)), None);
            attempts = attempts.failed(1_000);
        }
        assert_eq!(attempts.wait_seconds(1_000), Some(1));
        assert_eq!(attempts.wait_seconds(1_999), Some(1));
        assert_eq!(
            attempts.wait_seconds(2_000),
            None,
            "waiting as told allows a new try"
        );
        attempts = attempts.failed(2_000);
        assert_eq!(attempts.wait_seconds(2_000), Some(2));
        assert_eq!(Attempts::parse(&attempts.to_text()), attempts);
        assert_eq!(Attempts::parse("garbage"), Attempts::default());
    }

    #[test]
    fn throttle_grows_after_free_attempts() {
        assert_eq!(retry_after(0), None);
        assert_eq!(retry_after(FREE_ATTEMPTS - 1), None);
        assert_eq!(retry_after(FREE_ATTEMPTS), Some(1));
        assert_eq!(retry_after(FREE_ATTEMPTS + 3), Some(8));
        assert_eq!(
            retry_after(FREE_ATTEMPTS + 40),
            Some(THROTTLE_WINDOW_SECONDS)
        );
    }
}
