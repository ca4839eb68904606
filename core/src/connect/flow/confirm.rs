//! Connecting a server by URL needs the owner's confirmation. `GET /connect?server=<url>` only
//! shows the server's host; the flow starts from the page's `POST /connect`, which carries a
//! sealed token that ties the confirmation to that server, the owner's session and a short
//! time. A link or a redirect after signing in can therefore never start a flow by itself to a
//! server someone else chose. Presets keep their one-click `GET`: their servers are fixed.

use serde::{Deserialize, Serialize};
use url::Url;

use crate::admin::SessionCookie;
use crate::secret::{b64url, ct_eq_bytes, sha256};
use crate::time::UnixMillis;
use crate::vault::envelope::{EnvelopeError, Keyring};

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
    /// base64url SHA-256 of what the confirmation is for besides connecting (the id of the
    /// connection a form reconnects); absent for a new connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    purpose: Option<String>,
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
    confirm_token_for(keyring, server, None, session, now)
}

/// The token of a form that connects `server` for `purpose` (the id of a connection it
/// reconnects; `None` for a new connection). The forms that take credentials carry one, so a
/// post from elsewhere cannot store credentials or connect anything.
pub fn confirm_token_for(
    keyring: &Keyring,
    server: &Url,
    purpose: Option<&str>,
    session: Option<&SessionCookie>,
    now: UnixMillis,
) -> Result<ConfirmToken, EnvelopeError> {
    let claims = ConfirmClaims {
        exp: now.saturating_add(CONFIRM_TTL_MS),
        server: digest(server.as_str()),
        session: session_digest(session),
        purpose: purpose.map(digest),
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
    confirmed_for(keyring, token, server, None, session, now)
}

/// Whether `token` confirms connecting `server` for `purpose` for this session, now.
pub fn confirmed_for(
    keyring: &Keyring,
    token: &ConfirmToken,
    server: &Url,
    purpose: Option<&str>,
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
    let same_purpose = match (&claims.purpose, purpose) {
        (None, None) => true,
        (Some(sealed), Some(given)) => ct_eq_bytes(sealed.as_bytes(), digest(given).as_bytes()),
        _ => false,
    };
    now < claims.exp
        && same_purpose
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

/// The largest credentials form read, in bytes: room for a private key and an identity token.
pub const MAX_CREDENTIALS_FORM_BYTES: usize = 32 * 1024;

/// A posted form that may carry secrets (a client secret, a key, a token): its fields by name,
/// the first of each name, wiped from memory when dropped. `Debug` shows the names only. At
/// most 64 fields, looked up by a linear search (a map type of its own would add its code).
#[derive(Default)]
pub struct SecretForm {
    fields: Vec<(String, zeroize::Zeroizing<String>)>,
}

impl std::fmt::Debug for SecretForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set()
            .entries(self.fields.iter().map(|(name, _)| name))
            .finish()
    }
}

impl SecretForm {
    pub fn parse(body: &[u8]) -> Self {
        let mut fields: Vec<(String, zeroize::Zeroizing<String>)> = Vec::new();
        for (name, value) in url::form_urlencoded::parse(body).take(64) {
            if !fields.iter().any(|(known, _)| *known == name) {
                fields.push((
                    name.into_owned(),
                    zeroize::Zeroizing::new(value.into_owned()),
                ));
            }
        }
        SecretForm { fields }
    }

    /// The field `name`, if the form has it.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(known, _)| known == name)
            .map(|(_, value)| value.as_str())
    }

    /// The form's confirmation token.
    pub fn confirmation(&self) -> ConfirmToken {
        ConfirmToken::new(self.get("confirm").unwrap_or_default().to_owned())
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

    #[test]
    fn a_confirmation_for_a_reconnect_holds_for_that_connection_only() {
        let k = keyring();
        let server = Url::parse("https://mcp.example.com/mcp").expect("url");
        let s = SessionCookie::new("s".into());
        let token = confirm_token_for(&k, &server, Some("conn-1"), Some(&s), 0).expect("sealed");
        assert!(confirmed_for(
            &k,
            &token,
            &server,
            Some("conn-1"),
            Some(&s),
            1
        ));
        assert!(!confirmed_for(
            &k,
            &token,
            &server,
            Some("conn-2"),
            Some(&s),
            1
        ));
        assert!(!confirmed(&k, &token, &server, Some(&s), 1));
        let plain = confirm_token(&k, &server, Some(&s), 0).expect("sealed");
        assert!(!confirmed_for(
            &k,
            &plain,
            &server,
            Some("conn-1"),
            Some(&s),
            1
        ));
    }

    #[test]
    fn a_secret_form_keeps_the_first_of_each_field_and_shows_no_value() {
        let form = SecretForm::parse(b"client_id=a&client_secret=s%26cret&client_id=b&confirm=t");
        assert_eq!(form.get("client_id"), Some("a"));
        assert_eq!(form.get("client_secret"), Some("s&cret"));
        assert_eq!(form.get("missing"), None);
        assert_eq!(form.confirmation().expose(), "t");
        assert_eq!(
            format!("{form:?}"),
            r#"{"client_id", "client_secret", "confirm"}"#
        );
    }
}
