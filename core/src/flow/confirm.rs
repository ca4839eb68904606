//! Connecting a server by URL needs the owner's confirmation. `GET /connect?server=<url>` only
//! shows the server's host; the flow starts from the page's `POST /connect`, which carries a
//! sealed token that ties the confirmation to that server, the owner's session and a short
//! time. A link or a redirect after signing in can therefore never start a flow by itself to a
//! server someone else chose. Presets keep their one-click `GET`: their servers are fixed.

use serde::{Deserialize, Serialize};
use url::Url;

use crate::admin::SessionCookie;
use crate::envelope::{EnvelopeError, Keyring};
use crate::secret::{b64url, ct_eq_bytes, sha256};
use crate::time::UnixMillis;

const CONFIRM_AAD: &[u8] = b"bindify/connect-confirm/v1";

/// How long a confirmation page may wait for its button.
pub const CONFIRM_TTL_MS: i64 = 10 * 60_000;
/// The largest confirmation form read, in bytes.
pub const MAX_CONFIRM_FORM_BYTES: usize = 8192;

#[derive(Serialize, Deserialize)]
struct ConfirmClaims {
    exp: UnixMillis,
    /// base64url SHA-256 of the server URL.
    server: String,
    /// base64url SHA-256 of the session cookie value (of "" in open local development).
    session: String,
}

crate::secret_type! {
    /// The sealed token of a confirmation page: it confirms one server for one session.
    pub struct ConfirmToken(String);
}

fn digest(text: &str) -> String {
    b64url(&sha256(text.as_bytes()))
}

/// The session's part of a confirmation ("" in open local development, which has none).
fn session_digest(session: Option<&SessionCookie>) -> String {
    digest(session.map(SessionCookie::expose).unwrap_or_default())
}

/// The token the confirmation page's form carries.
pub fn confirm_token(
    keyring: &Keyring,
    server: &Url,
    session: Option<&SessionCookie>,
    now: UnixMillis,
) -> Result<ConfirmToken, EnvelopeError> {
    let claims = ConfirmClaims {
        exp: now.saturating_add(CONFIRM_TTL_MS),
        server: digest(server.as_str()),
        session: session_digest(session),
    };
    keyring
        .seal_json(CONFIRM_AAD, &claims)
        .map(ConfirmToken::new)
}

/// Whether `token` confirms connecting `server` for this session, now.
pub fn confirmed(
    keyring: &Keyring,
    token: &ConfirmToken,
    server: &Url,
    session: Option<&SessionCookie>,
    now: UnixMillis,
) -> bool {
    let token = token.expose();
    if token.len() > 1024 {
        return false;
    }
    let Ok(claims) = keyring.open_json::<ConfirmClaims>(CONFIRM_AAD, token) else {
        return false;
    };
    now < claims.exp
        && ct_eq_bytes(claims.server.as_bytes(), digest(server.as_str()).as_bytes())
        && ct_eq_bytes(
            claims.session.as_bytes(),
            session_digest(session).as_bytes(),
        )
}

/// The confirmation form: the server URL and the token.
#[derive(Debug, Default)]
pub struct ConfirmForm {
    pub server: Option<String>,
    pub token: Option<ConfirmToken>,
}

impl ConfirmForm {
    pub fn parse(body: &[u8]) -> Self {
        let mut form = ConfirmForm::default();
        for (name, value) in url::form_urlencoded::parse(body) {
            match name.as_ref() {
                "server" => form.server = Some(value.into_owned()),
                "confirm" => form.token = Some(ConfirmToken::new(value.into_owned())),
                _ => {}
            }
        }
        form
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{keyring, keyring_with};

    #[test]
    fn a_confirmation_holds_for_its_server_session_and_time_only() {
        let k = keyring();
        let server = Url::parse("https://mcp.example.com/mcp").expect("url");
        let other = Url::parse("https://attacker.example/mcp").expect("url");
        let a = SessionCookie::new("session-a".into());
        let b = SessionCookie::new("session-b".into());
        let token = confirm_token(&k, &server, Some(&a), 0).expect("sealed");
        assert!(confirmed(&k, &token, &server, Some(&a), 1));
        assert!(!confirmed(&k, &token, &other, Some(&a), 1));
        assert!(!confirmed(&k, &token, &server, Some(&b), 1));
        assert!(!confirmed(&k, &token, &server, None, 1));
        assert!(!confirmed(&k, &token, &server, Some(&a), CONFIRM_TTL_MS));
        assert!(!confirmed(
            &keyring_with(1, [9; 32]),
            &token,
            &server,
            Some(&a),
            1
        ));
        let forged = ConfirmToken::new("forged".into());
        assert!(!confirmed(&k, &forged, &server, Some(&a), 1));
        // Open local development: no session on either side.
        let open = confirm_token(&k, &server, None, 0).expect("sealed");
        assert!(confirmed(&k, &open, &server, None, 1));
        assert!(!confirmed(&k, &open, &server, Some(&a), 1));
        assert_eq!(format!("{open:?}"), "ConfirmToken(<redacted>)");
    }

    #[test]
    fn reads_the_form() {
        let form = ConfirmForm::parse(b"server=https%3A%2F%2Fa.example%2Fmcp&confirm=t0k&x=1");
        assert_eq!(form.server.as_deref(), Some("https://a.example/mcp"));
        assert_eq!(form.token.as_ref().map(ConfirmToken::expose), Some("t0k"));
        assert!(ConfirmForm::parse(b"").server.is_none());
        assert!(!format!("{form:?}").contains("t0k"));
    }
}
