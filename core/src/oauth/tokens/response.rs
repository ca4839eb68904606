//! One request to a token endpoint and how its answer is read: a form POST with the client's
//! authentication, a JSON token response (RFC 6749 §5.1, with GitHub's
//! `refresh_token_expires_in` and RFC 8693's `issued_token_type`), or an error (RFC 6749 §5.2),
//! classified so callers know whether to retry, re-authorize, or ask the owner.

use oauth2::{AccessToken, RefreshToken};
use serde::Deserialize;

use super::TokenError;
use crate::http::{self, HttpClient};
use crate::oauth::client_auth;
use crate::oauth::registration::{ClientRegistration, truncate};
use crate::time::UnixMillis;

/// A successful token response, the fields Bindify reads. `Debug` is redacted by the token
/// types.
#[derive(Debug, Deserialize)]
pub struct TokenResponse {
    pub access_token: AccessToken,
    pub expires_in: Option<u64>,
    pub refresh_token: Option<RefreshToken>,
    pub scope: Option<String>,
    /// Seconds until the refresh token expires (GitHub Apps; not in RFC 6749).
    pub refresh_token_expires_in: Option<u64>,
    /// RFC 8693 §2.2.1: what a token exchange issued.
    pub issued_token_type: Option<String>,
}

/// An OAuth error body (RFC 6749 §5.2), wherever it turns up.
#[derive(Deserialize)]
struct ErrorBody {
    error: String,
    error_description: Option<String>,
}

/// Where a token request goes and who sends it.
pub struct Call<'a> {
    pub token_endpoint: &'a str,
    pub client: &'a ClientRegistration,
    /// The authorization server's issuer: the audience of a client assertion.
    pub issuer: &'a str,
}

/// POSTs `params` (the grant's) with the client's authentication and reads the answer.
pub async fn post<C: HttpClient>(
    http: &C,
    call: &Call<'_>,
    params: &[(&str, &str)],
    now: UnixMillis,
) -> Result<TokenResponse, TokenError> {
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in params {
        form.append_pair(name, value);
    }
    let authorization = client_auth::authenticate(call.client, call.issuer, now, &mut form)
        .map_err(|e| TokenError::Client(e.to_string()))?;
    let mut builder = ::http::Request::builder()
        .method(::http::Method::POST)
        .uri(call.token_endpoint)
        .header(
            ::http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .header(::http::header::ACCEPT, "application/json");
    if let Some(value) = authorization {
        builder = builder.header(::http::header::AUTHORIZATION, value);
    }
    let request = builder
        .body(form.finish().into_bytes())
        .map_err(|e| TokenError::InvalidResponse(truncate(&e.to_string(), 200)))?;
    let response = http::send(http, request)
        .await
        .map_err(|e| TokenError::Transient(truncate(&e, 200)))?;
    read(response.status().as_u16(), response.body())
}

/// Reads a token endpoint's answer: a token response, or a classified error. Error bodies count
/// whatever the status (GitHub sends them with 200); a body that is neither is a transient
/// failure (a gateway page, a truncated answer).
pub fn read(status: u16, body: &[u8]) -> Result<TokenResponse, TokenError> {
    if let Ok(error) = crate::json::from_slice::<ErrorBody>(body) {
        return Err(classify(&error.error, error.error_description.as_deref()));
    }
    if (200..300).contains(&status)
        && let Ok(response) = crate::json::from_slice::<TokenResponse>(body)
    {
        if response.access_token.secret().is_empty() {
            return Err(TokenError::InvalidResponse("empty access_token".into()));
        }
        return Ok(response);
    }
    Err(TokenError::Transient(format!(
        "unreadable response (HTTP {status})"
    )))
}

/// Error codes after which the grant is gone and the user must authorize again.
/// - RFC 6749 §5.2 `invalid_grant`; RFC 8707 §2 `invalid_target` (the `resource` is not one
///   the server accepts for this grant: the same request is refused again).
/// - GitHub (errors with HTTP 200): `bad_refresh_token` (expired or revoked),
///   `bad_verification_code` (the code is expired or wrong).
const GRANT_GONE: [&str; 4] = [
    "invalid_grant",
    "invalid_target",
    "bad_refresh_token",
    "bad_verification_code",
];

/// Error codes about Bindify's client or request rather than the grant: retrying cannot help
/// and the authorization server is not down, so the owner (or the operator) must act.
/// RFC 6749 §5.2 `invalid_client`, `unauthorized_client`, `unsupported_grant_type`,
/// `invalid_request`, `invalid_scope`; GitHub's `incorrect_client_credentials`.
const CLIENT_REFUSED: [&str; 6] = [
    "invalid_client",
    "unauthorized_client",
    "incorrect_client_credentials",
    "unsupported_grant_type",
    "invalid_request",
    "invalid_scope",
];

/// The [`TokenError`] for error `code`.
pub fn classify(code: &str, description: Option<&str>) -> TokenError {
    let error = truncate(code, 64);
    let description = description.map(|d| truncate(d, 300));
    if GRANT_GONE.contains(&error.as_str()) {
        TokenError::Rejected { error, description }
    } else if CLIENT_REFUSED.contains(&error.as_str()) {
        TokenError::Refused { error, description }
    } else {
        // server_error, temporarily_unavailable, and codes a retry may outlive.
        TokenError::Transient(error)
    }
}
