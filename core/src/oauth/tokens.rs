//! Calls to the token endpoint: the authorization code exchange (RFC 6749 §4.1.3, with PKCE),
//! refresh (§6), the client credentials grant (§4.4), and the two steps of an identity assertion
//! authorization grant ([`assertion`]). The `resource` indicator (RFC 8707 §2.2) goes on every
//! request, expiries are made absolute at once, and failures are classified so callers can
//! decide: re-authorize, ask the owner, or retry later.

mod assertion;
mod response;

pub use assertion::{
    ID_JAG_TOKEN_TYPE, ID_TOKEN_TYPE, IdJag, JWT_BEARER_GRANT, TOKEN_EXCHANGE_GRANT,
    exchange_identity_token, jwt_bearer,
};
pub use response::{Call, TokenResponse, classify};

use oauth2::RefreshToken;

use crate::http::HttpClient;
use crate::oauth::registration::ClientRegistration;
use crate::time::UnixMillis;
use crate::vault::record::TokenSet;

/// What a token request needs to know about the connection.
#[derive(Debug, Clone)]
pub struct TokenEndpoint<'a> {
    pub token_endpoint: &'a str,
    pub client: &'a ClientRegistration,
    pub resource: &'a str,
    /// The authorization server's issuer (the audience of a client assertion).
    pub issuer: &'a str,
}

impl TokenEndpoint<'_> {
    fn call(&self) -> Call<'_> {
        Call {
            token_endpoint: self.token_endpoint,
            client: self.client,
            issuer: self.issuer,
        }
    }
}

/// A failed token request, classified.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum TokenError {
    /// The grant is gone (`invalid_grant`, `invalid_target`, GitHub's `bad_refresh_token`):
    /// retrying cannot help; the user must authorize again.
    #[error(
        "the authorization server rejected the grant ({error}{})",
        detail(description)
    )]
    Rejected {
        error: String,
        description: Option<String>,
    },
    /// The server refused Bindify's client or request (`invalid_client`, `unauthorized_client`,
    /// `unsupported_grant_type`, `invalid_request`, `invalid_scope`): not an outage, and not
    /// retried; the owner must act (reconnect, or enter the client anew).
    #[error(
        "the authorization server refused Bindify's request ({error}{}); {}",
        detail(description),
        remedy(error)
    )]
    Refused {
        error: String,
        description: Option<String>,
    },
    /// Network failure, timeout, 5xx or `temporarily_unavailable`: keep the tokens, retry later.
    #[error("the authorization server is unavailable: {0}")]
    Transient(String),
    /// The server answered something that is not a usable token response.
    #[error("the token response is invalid: {0}")]
    InvalidResponse(String),
    /// Bindify could not authenticate as its client (a key that no longer reads, a missing
    /// secret): the owner must enter the client's credentials again.
    #[error("Bindify could not authenticate as its client: {0}")]
    Client(String),
}

fn detail(description: &Option<String>) -> String {
    description
        .as_deref()
        .map(|d| format!(": {d}"))
        .unwrap_or_default()
}

/// What the owner can do about a refused request, by error code.
fn remedy(code: &str) -> &'static str {
    match code {
        "invalid_client" | "unauthorized_client" | "incorrect_client_credentials" => {
            "the server no longer accepts Bindify's client there (expired, deleted, or its secret changed): reconnect, or enter the client's credentials again"
        }
        "unsupported_grant_type" => {
            "the server does not allow this grant for Bindify's client: reconnect, or check the client's settings at the service"
        }
        "invalid_scope" => {
            "the server refused the requested scopes: reconnect, or check the scopes the client may ask for"
        }
        _ => "the server refused the request as malformed: reconnect, and report it if it persists",
    }
}

impl TokenError {
    /// Whether retrying cannot help: the grant is gone, or the owner must act.
    pub fn is_rejection(&self) -> bool {
        matches!(
            self,
            TokenError::Rejected { .. } | TokenError::Refused { .. } | TokenError::Client(_)
        )
    }

    /// Whether the server refused the client itself (`invalid_client`, `unauthorized_client`,
    /// `incorrect_client_credentials`): a dynamically registered client is then registered
    /// afresh on the next authorization.
    pub fn refuses_the_client(&self) -> bool {
        matches!(self, TokenError::Refused { error, .. }
            if matches!(error.as_str(), "invalid_client" | "unauthorized_client" | "incorrect_client_credentials"))
    }
}

/// RFC 6749 §4.1.3 with PKCE (RFC 7636 §4.5) and `resource`.
pub async fn exchange_code<C: HttpClient>(
    http: &C,
    endpoint: &TokenEndpoint<'_>,
    code: &str,
    pkce_verifier: &str,
    redirect_uri: &str,
    now: UnixMillis,
) -> Result<TokenSet, TokenError> {
    let params = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
        ("code_verifier", pkce_verifier),
        ("resource", endpoint.resource),
    ];
    let response = response::post(http, &endpoint.call(), &params, now).await?;
    Ok(token_set(response, None, now))
}

/// RFC 6749 §6 with `resource`. A response without `refresh_token` keeps `refresh_token`.
pub async fn refresh<C: HttpClient>(
    http: &C,
    endpoint: &TokenEndpoint<'_>,
    refresh_token: &RefreshToken,
    previous_expiry: Option<UnixMillis>,
    now: UnixMillis,
) -> Result<TokenSet, TokenError> {
    let params = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token.secret().as_str()),
        ("resource", endpoint.resource),
    ];
    let response = response::post(http, &endpoint.call(), &params, now).await?;
    Ok(token_set(
        response,
        Some((refresh_token, previous_expiry)),
        now,
    ))
}

/// RFC 6749 §4.4: a token for the client itself, with `scope` when there are scopes to ask for,
/// and `resource`.
pub async fn client_credentials<C: HttpClient>(
    http: &C,
    endpoint: &TokenEndpoint<'_>,
    scopes: &[String],
    now: UnixMillis,
) -> Result<TokenSet, TokenError> {
    let scope = scopes.join(" ");
    let mut params = vec![("grant_type", "client_credentials")];
    if !scope.is_empty() {
        params.push(("scope", scope.as_str()));
    }
    params.push(("resource", endpoint.resource));
    let response = response::post(http, &endpoint.call(), &params, now).await?;
    Ok(token_set(response, None, now))
}

/// How a revocation went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Revocation {
    Revoked,
    /// The server advertises no revocation endpoint.
    Unsupported,
    Failed,
}

/// RFC 7009 §2.1: revokes `token` (with its type hint) at `revocation_endpoint`. Revoking a
/// refresh token ends the grant at servers that implement it.
pub async fn revoke<C: HttpClient>(
    http: &C,
    revocation_endpoint: Option<&str>,
    call_as: &Call<'_>,
    token: &str,
    hint: &str,
    now: UnixMillis,
) -> Revocation {
    let Some(endpoint) = revocation_endpoint else {
        return Revocation::Unsupported;
    };
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.append_pair("token", token)
        .append_pair("token_type_hint", hint);
    let Ok(authorization) =
        crate::oauth::client_auth::authenticate(call_as.client, call_as.issuer, now, &mut form)
    else {
        return Revocation::Failed;
    };
    let mut builder = ::http::Request::builder()
        .method(::http::Method::POST)
        .uri(endpoint)
        .header(
            ::http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .header(::http::header::ACCEPT, "application/json");
    if let Some(value) = authorization {
        builder = builder.header(::http::header::AUTHORIZATION, value);
    }
    let Ok(request) = builder.body(form.finish().into_bytes()) else {
        return Revocation::Failed;
    };
    match http.call(request).await {
        // RFC 7009 §2.2: 200 whether or not the token was valid.
        Ok(response) if response.status().is_success() => Revocation::Revoked,
        _ => Revocation::Failed,
    }
}

/// A token response as Bindify keeps it. `previous` is the refresh token just spent and its
/// expiry: a response without a refresh token keeps both.
pub(crate) fn token_set(
    response: TokenResponse,
    previous: Option<(&RefreshToken, Option<UnixMillis>)>,
    now: UnixMillis,
) -> TokenSet {
    let at = |seconds: u64| {
        let ms = i64::try_from(seconds)
            .unwrap_or(i64::MAX / 2_000)
            .saturating_mul(1000);
        now.saturating_add(ms)
    };
    let (refresh_token, refresh_token_expires_at) = match (response.refresh_token, previous) {
        (Some(new), _) => (Some(new), response.refresh_token_expires_in.map(at)),
        (None, Some((old, expiry))) => (Some(old.clone()), expiry),
        (None, None) => (None, None),
    };
    TokenSet {
        access_token: response.access_token,
        refresh_token,
        expires_at: response.expires_in.map(at),
        scope: response.scope,
        obtained_at: Some(now),
        refresh_token_expires_at,
    }
}

#[cfg(test)]
mod tests;
