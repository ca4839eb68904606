//! The owner's side of the Worker: the credential below, and [`throttle`], which counts wrong
//! ones without spending storage writes.
//!
//! The owner's credential: the Worker secret `ADMIN_TOKEN`, presented as a bearer token (the
//! CLI, the API) or traded once for a sealed session cookie (the dashboard). Comparisons are
//! constant time, sessions die when the token changes, and a token too short to resist
//! guessing is refused. Wrong tokens are counted by [`self::throttle`].

pub mod throttle;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::secret::{Zeroizing, b64url, ct_eq_bytes, ct_eq_digest, sha256};
use crate::time::UnixMillis;
use crate::vault::envelope::Keyring;

/// Name of the dashboard session cookie.
pub const SESSION_COOKIE: &str = "bindify_admin";
/// How long a dashboard session lasts.
pub const SESSION_TTL_MS: i64 = 12 * 3_600_000;
/// The shortest `ADMIN_TOKEN` accepted, in bytes: `openssl rand -base64 32` makes 44.
pub const MIN_TOKEN_BYTES: usize = 32;

const SESSION_AAD: &[u8] = b"bindify/admin-session/v1";

crate::secret_type! {
    /// An admin token: the Worker's `ADMIN_TOKEN`, one presented to it, or the one the CLI
    /// holds. Serialized as its text (the CLI's config file).
    #[derive(Clone)]
    pub struct AdminToken(String);
}

crate::secret_type! {
    /// The value of the dashboard session cookie: a sealed session ([`issue_session`]).
    pub struct SessionCookie(String);
}

/// Why the configured `ADMIN_TOKEN` cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    Missing,
    /// Shorter than [`MIN_TOKEN_BYTES`]; the length is the only thing said about it.
    TooShort {
        bytes: usize,
    },
}

impl AdminToken {
    /// A token as typed or pasted: surrounding whitespace (a pasted newline) is dropped, and
    /// an empty token is none. No length rule: that is the Worker's ([`AdminToken::from_config`]).
    pub fn parse(text: &str) -> Option<Self> {
        let token = text.trim();
        (!token.is_empty()).then(|| AdminToken::new(token.to_owned()))
    }

    /// The token configured as `text` (surrounding whitespace ignored), if it is long enough.
    pub fn from_config(text: Option<&str>) -> Result<Self, TokenProblem> {
        let token = text.map(str::trim).unwrap_or_default();
        match token.len() {
            0 => Err(TokenProblem::Missing),
            bytes if bytes < MIN_TOKEN_BYTES => Err(TokenProblem::TooShort { bytes }),
            _ => Ok(AdminToken::new(token.to_owned())),
        }
    }

    /// Whether `presented` (surrounding whitespace ignored) is the token, compared in constant
    /// time independent of the presented value's length.
    pub fn verify(&self, presented: &str) -> bool {
        ct_eq_digest(self.expose().as_bytes(), presented.trim().as_bytes())
    }

    /// A short fingerprint bound into sessions, so changing the token ends every session.
    fn fingerprint(&self) -> String {
        b64url(&sha256(self.expose().as_bytes())[..12])
    }
}

impl Serialize for AdminToken {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.expose())
    }
}

impl<'de> Deserialize<'de> for AdminToken {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = Zeroizing::new(String::deserialize(deserializer)?);
        AdminToken::parse(&text).ok_or_else(|| serde::de::Error::custom("the admin token is empty"))
    }
}

/// The largest sign-in form read, in bytes: a token and a return path fit many times over.
pub const MAX_LOGIN_FORM_BYTES: usize = 4096;

/// The sign-in form (`application/x-www-form-urlencoded`).
#[derive(Debug)]
pub struct LoginForm {
    /// `None` when the field is missing or blank.
    pub token: Option<AdminToken>,
    pub next: Option<String>,
}

impl LoginForm {
    /// Reads the form's `token` and `next` fields; anything else is ignored.
    pub fn parse(body: &[u8]) -> Self {
        let mut form = LoginForm {
            token: None,
            next: None,
        };
        for (name, value) in url::form_urlencoded::parse(body) {
            match name.as_ref() {
                "token" => form.token = AdminToken::parse(&Zeroizing::new(value.into_owned())),
                "next" => form.next = Some(value.into_owned()),
                _ => {}
            }
        }
        form
    }
}

#[derive(Serialize, Deserialize)]
struct SessionClaims {
    exp: UnixMillis,
    tok: String,
}

/// A sealed session value for the cookie.
pub fn issue_session(
    keyring: &Keyring,
    token: &AdminToken,
    now: UnixMillis,
) -> Option<SessionCookie> {
    let claims = SessionClaims {
        exp: now.saturating_add(SESSION_TTL_MS),
        tok: token.fingerprint(),
    };
    keyring
        .seal_json(SESSION_AAD, &claims)
        .ok()
        .map(SessionCookie::new)
}

/// Whether a cookie value is a live session for the current token.
pub fn session_valid(
    keyring: &Keyring,
    token: &AdminToken,
    cookie: &SessionCookie,
    now: UnixMillis,
) -> bool {
    let value = cookie.expose();
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
    /// `ADMIN_TOKEN` is too short: management and connecting are refused until it is replaced.
    WeakToken { bytes: usize },
}

impl<'a> Guard<'a> {
    /// `local_development` is the Worker's setting and the request's host together (see
    /// [`is_loopback_host`]): open mode is never offered to a public host.
    pub fn new(token: &'a Result<AdminToken, TokenProblem>, local_development: bool) -> Self {
        match (token, local_development) {
            (Ok(token), _) => Guard::Token(token),
            (Err(TokenProblem::TooShort { bytes }), _) => Guard::WeakToken { bytes: *bytes },
            (Err(TokenProblem::Missing), true) => Guard::OpenForLocalDevelopment,
            (Err(TokenProblem::Missing), false) => Guard::Unconfigured,
        }
    }
}

/// Whether a request's `Origin` header names the Worker's own origin. A missing header does
/// not: browsers send it on every state-changing request.
pub fn from_own_origin(origin: Option<&str>, own_origin: &str) -> bool {
    origin.is_some_and(|o| crate::mcp::origin::origin_allowed(Some(o), own_origin, &[]))
}

/// Whether `host` (the host of the request's URL, without the port) names this machine:
/// `localhost` or a name under it, `127.0.0.0/8`, or `::1`. Local development's open mode
/// applies only to such requests, so a Worker deployed with `ALLOW_LOOPBACK_HTTP` by mistake
/// still refuses strangers.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    if host == "localhost" || host.ends_with(".localhost") {
        return true;
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

/// Why a management request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    Unconfigured,
    WeakToken { bytes: usize },
    Unauthorized,
    ForbiddenOrigin,
}

/// What a request presents.
pub struct Presented<'a> {
    pub bearer: Option<&'a AdminToken>,
    pub session: Option<&'a SessionCookie>,
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
        Guard::WeakToken { bytes } => return Err(Denied::WeakToken { bytes: *bytes }),
        Guard::OpenForLocalDevelopment => return Ok(()),
        Guard::Token(token) => token,
    };
    if let Some(bearer) = presented.bearer {
        return if token.ct_eq(bearer) {
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
    if presented.unsafe_method && !from_own_origin(presented.origin, presented.own_origin) {
        return Err(Denied::ForbiddenOrigin);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{keyring, keyring_with};

    const GOOD: &str = "correct horse battery staple, 32+";

    fn token() -> AdminToken {
        AdminToken::from_config(Some(GOOD)).expect("token")
    }

    /// What a request presents; the values are leaked, as tests may.
    fn presented(
        bearer: Option<&str>,
        session: Option<&SessionCookie>,
        origin: Option<&'static str>,
        unsafe_method: bool,
    ) -> Presented<'static> {
        Presented {
            bearer: bearer.map(|b| &*Box::leak(Box::new(AdminToken::new(b.to_owned())))),
            session: session
                .map(|c| &*Box::leak(Box::new(SessionCookie::new(c.expose().to_owned())))),
            origin,
            own_origin: "https://b.example",
            unsafe_method,
        }
    }

    #[test]
    fn verifies_in_constant_time_and_redacts() {
        let t = token();
        assert!(t.verify(GOOD));
        assert!(t.verify(&format!(" {GOOD}\n")));
        assert!(!t.verify(&GOOD[..GOOD.len() - 1]));
        assert!(!t.verify(""));
        assert!(t.ct_eq(&AdminToken::new(GOOD.into())));
        assert!(!t.ct_eq(&AdminToken::new("nope".into())));
        assert_eq!(format!("{t:?}"), "AdminToken(<redacted>)");
        let session = issue_session(&keyring(), &t, 0).expect("session");
        assert_eq!(format!("{session:?}"), "SessionCookie(<redacted>)");
    }

    #[test]
    fn a_token_as_the_cli_holds_it() {
        let token = AdminToken::parse("  s3cr3t-token-value\n").expect("token");
        assert_eq!(token.expose(), "s3cr3t-token-value");
        assert!(AdminToken::parse(" \n").is_none());
        let json = serde_json::to_string(&token).expect("json");
        assert_eq!(json, "\"s3cr3t-token-value\"");
        let back: AdminToken = serde_json::from_str(&json).expect("parse");
        assert!(back.ct_eq(&token));
        assert!(serde_json::from_str::<AdminToken>("\"  \"").is_err());
        let debug = format!("{token:?} {:?}", Some(token.clone()));
        assert!(!debug.contains("s3cr3t"), "{debug}");
    }

    #[test]
    fn a_token_shorter_than_32_bytes_is_refused_everywhere() {
        assert_eq!(
            AdminToken::from_config(Some("  ")).err(),
            Some(TokenProblem::Missing)
        );
        assert_eq!(
            AdminToken::from_config(None).err(),
            Some(TokenProblem::Missing)
        );
        let short = "x".repeat(MIN_TOKEN_BYTES - 1);
        assert_eq!(
            AdminToken::from_config(Some(&format!(" {short}\n"))).err(),
            Some(TokenProblem::TooShort { bytes: 31 })
        );
        assert!(AdminToken::from_config(Some(&"x".repeat(MIN_TOKEN_BYTES))).is_ok());
        // Even local development does not open up around a weak token, and the token itself
        // (right or wrong) gets no further.
        let weak = AdminToken::from_config(Some(&short));
        for local in [false, true] {
            let guard = Guard::new(&weak, local);
            let p = presented(Some(&short), None, None, false);
            assert_eq!(
                authorize(&guard, Some(&keyring()), &p, 0),
                Err(Denied::WeakToken { bytes: 31 })
            );
        }
    }

    #[test]
    fn bearer_and_session_rules() {
        let t = token();
        let k = keyring();
        let guard = Guard::Token(&t);
        let good = GOOD;
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
        assert!(!session_valid(
            &k,
            &t,
            &SessionCookie::new("forged".into()),
            1
        ));
        assert!(!session_valid(&keyring_with(1, [3; 32]), &t, &session, 1));
        let rotated =
            AdminToken::from_config(Some("a new token, at least 32 bytes long")).expect("token");
        assert!(!session_valid(&k, &rotated, &session, 1));
    }

    #[test]
    fn the_login_form_is_read_and_redacted() {
        let form = LoginForm::parse(b"token=a%2Bb%3D&next=%2Fmanage&other=1");
        assert_eq!(form.token.as_ref().map(AdminToken::expose), Some("a+b="));
        assert_eq!(form.next.as_deref(), Some("/manage"));
        assert!(!format!("{form:?}").contains("a+b="));
        assert!(LoginForm::parse(b"").token.is_none());
        assert!(LoginForm::parse(b"token=%20%0A").token.is_none());
    }

    #[test]
    fn only_loopback_hosts_count_as_local() {
        for host in [
            "localhost",
            "LOCALHOST",
            "app.localhost",
            "127.0.0.1",
            "127.8.9.10",
            "[::1]",
            "::1",
            "localhost.",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "bindify.example.workers.dev",
            "localhost.evil.example",
            "10.0.0.1",
            "[::2]",
            "0.0.0.0",
            "",
            "[::ffff:127.0.0.1]",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }

    #[test]
    fn unconfigured_and_local_development() {
        let p = presented(None, None, None, true);
        assert_eq!(
            authorize(&Guard::new(&Err(TokenProblem::Missing), false), None, &p, 0),
            Err(Denied::Unconfigured)
        );
        assert_eq!(
            authorize(&Guard::new(&Err(TokenProblem::Missing), true), None, &p, 0),
            Ok(())
        );
    }
}
