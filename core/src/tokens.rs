//! Calls to the token endpoint (RFC 6749 §4.1.3 code exchange, §6 refresh) through oauth2-rs,
//! with the `resource` indicator (RFC 8707 §2.2) on every request, expiries made absolute at
//! once, and failures classified so callers can decide: re-authorize, or retry later.

use oauth2::basic::{BasicClient, BasicErrorResponseType};
use oauth2::{
    AuthType, AuthorizationCode, ClientId, PkceCodeVerifier, RedirectUrl, RefreshToken,
    RequestTokenError, TokenResponse, TokenUrl,
};

use crate::http::HttpClient;
use crate::record::TokenSet;
use crate::registration::{ClientRegistration, TokenAuthMethod, truncate};
use crate::time::UnixMillis;

/// What a token request needs to know about the connection.
#[derive(Debug, Clone)]
pub struct TokenEndpoint<'a> {
    pub token_endpoint: &'a str,
    pub client: &'a ClientRegistration,
    pub resource: &'a str,
}

/// A failed token request, classified.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum TokenError {
    /// The server refused the grant or the client (`invalid_grant`, `invalid_client`,
    /// `unauthorized_client`, ...): retrying cannot help; the user must authorize again.
    #[error("the authorization server rejected the request ({error}{})", description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Rejected {
        error: String,
        description: Option<String>,
    },
    /// Network failure, timeout, 5xx or `temporarily_unavailable`: keep the tokens, retry later.
    #[error("the authorization server is unavailable: {0}")]
    Transient(String),
    /// The server answered something that is not a usable token response.
    #[error("the token response is invalid: {0}")]
    InvalidResponse(String),
}

impl TokenError {
    /// Whether the grant is gone for good (the connection needs the user again).
    pub fn is_rejection(&self) -> bool {
        matches!(self, TokenError::Rejected { .. })
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
    let token_url = TokenUrl::new(endpoint.token_endpoint.to_owned())
        .map_err(|e| TokenError::InvalidResponse(e.to_string()))?;
    let redirect = RedirectUrl::new(redirect_uri.to_owned())
        .map_err(|e| TokenError::InvalidResponse(e.to_string()))?;
    let mut client = BasicClient::new(ClientId::new(endpoint.client.client_id.clone()))
        .set_token_uri(token_url)
        .set_redirect_uri(redirect)
        .set_auth_type(auth_type(endpoint.client.auth_method));
    if let Some(secret) = &endpoint.client.client_secret {
        client = client.set_client_secret(secret.clone());
    }
    let result = client
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
        .add_extra_param("resource", endpoint.resource.to_owned())
        .request_async(http)
        .await;
    match result {
        Ok(response) => Ok(token_set(&response, None, now)),
        Err(e) => Err(classify(e)),
    }
}

/// RFC 6749 §6 with `resource`. A response without `refresh_token` keeps `refresh_token`.
pub async fn refresh<C: HttpClient>(
    http: &C,
    endpoint: &TokenEndpoint<'_>,
    refresh_token: &RefreshToken,
    now: UnixMillis,
) -> Result<TokenSet, TokenError> {
    let token_url = TokenUrl::new(endpoint.token_endpoint.to_owned())
        .map_err(|e| TokenError::InvalidResponse(e.to_string()))?;
    let mut client = BasicClient::new(ClientId::new(endpoint.client.client_id.clone()))
        .set_token_uri(token_url)
        .set_auth_type(auth_type(endpoint.client.auth_method));
    if let Some(secret) = &endpoint.client.client_secret {
        client = client.set_client_secret(secret.clone());
    }
    let result = client
        .exchange_refresh_token(refresh_token)
        .add_extra_param("resource", endpoint.resource.to_owned())
        .request_async(http)
        .await;
    match result {
        Ok(response) => Ok(token_set(&response, Some(refresh_token), now)),
        Err(e) => Err(classify(e)),
    }
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
    client: &ClientRegistration,
    token: &str,
    hint: &str,
) -> Revocation {
    let Some(endpoint) = revocation_endpoint else {
        return Revocation::Unsupported;
    };
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.append_pair("token", token)
        .append_pair("token_type_hint", hint);
    let mut builder = ::http::Request::builder()
        .method(::http::Method::POST)
        .uri(endpoint)
        .header(
            ::http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .header(::http::header::ACCEPT, "application/json");
    match (&client.auth_method, &client.client_secret) {
        (TokenAuthMethod::ClientSecretBasic, Some(secret)) => {
            use base64::Engine;
            let pair = format!(
                "{}:{}",
                url::form_urlencoded::byte_serialize(client.client_id.as_bytes())
                    .collect::<String>(),
                url::form_urlencoded::byte_serialize(secret.secret().as_bytes())
                    .collect::<String>()
            );
            let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
            builder = builder.header(::http::header::AUTHORIZATION, format!("Basic {encoded}"));
        }
        (TokenAuthMethod::ClientSecretPost, Some(secret)) => {
            form.append_pair("client_id", &client.client_id)
                .append_pair("client_secret", secret.secret());
        }
        _ => {
            form.append_pair("client_id", &client.client_id);
        }
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

fn auth_type(method: TokenAuthMethod) -> AuthType {
    match method {
        TokenAuthMethod::ClientSecretBasic => AuthType::BasicAuth,
        TokenAuthMethod::None | TokenAuthMethod::ClientSecretPost => AuthType::RequestBody,
    }
}

fn token_set(
    response: &oauth2::basic::BasicTokenResponse,
    previous_refresh: Option<&RefreshToken>,
    now: UnixMillis,
) -> TokenSet {
    let expires_at = response.expires_in().map(|d| {
        let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX / 2);
        now.saturating_add(ms)
    });
    TokenSet {
        access_token: response.access_token().clone(),
        refresh_token: response
            .refresh_token()
            .cloned()
            .or_else(|| previous_refresh.cloned()),
        expires_at,
        scope: response.scopes().map(|scopes| {
            scopes
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" ")
        }),
        obtained_at: Some(now),
    }
}

/// Error codes after which retrying cannot help: the grant, the client or the resource is
/// wrong, so the user must authorize again.
/// - RFC 6749 §5.2: `invalid_grant`, `invalid_client`, `unauthorized_client`.
/// - RFC 8707 §2: `invalid_target`, the `resource` is not one the server accepts for this
///   grant (the same request will be refused again).
/// - GitHub, which answers errors with HTTP 200: `bad_refresh_token` (expired or revoked),
///   `bad_verification_code` (the code is expired or wrong), `incorrect_client_credentials`.
const REJECTION_CODES: [&str; 7] = [
    "invalid_grant",
    "invalid_client",
    "unauthorized_client",
    "invalid_target",
    "bad_refresh_token",
    "bad_verification_code",
    "incorrect_client_credentials",
];

/// An OAuth error body (RFC 6749 §5.2), wherever it turns up.
#[derive(serde::Deserialize)]
struct ErrorBody {
    error: String,
    error_description: Option<String>,
}

fn classify<E: std::error::Error>(
    error: RequestTokenError<E, oauth2::StandardErrorResponse<BasicErrorResponseType>>,
) -> TokenError {
    match error {
        RequestTokenError::ServerResponse(body) => {
            classify_code(body.error().as_ref(), body.error_description())
        }
        RequestTokenError::Request(e) => TokenError::Transient(truncate(&e.to_string(), 200)),
        RequestTokenError::Parse(e, body) => match serde_json::from_slice::<ErrorBody>(&body) {
            // An error body with a success status, as GitHub sends them.
            Ok(error) => classify_code(&error.error, error.error_description.as_ref()),
            // A body that is not an OAuth response: a gateway page, a 5xx, a truncated answer.
            Err(_) => TokenError::Transient(format!(
                "unreadable response: {}",
                truncate(&e.to_string(), 200)
            )),
        },
        RequestTokenError::Other(e) => TokenError::InvalidResponse(truncate(&e, 200)),
    }
}

fn classify_code(code: &str, description: Option<&String>) -> TokenError {
    let code = truncate(code, 64);
    if REJECTION_CODES.contains(&code.as_str()) {
        TokenError::Rejected {
            error: code,
            description: description.map(|d| truncate(d, 300)),
        }
    } else {
        // server_error, temporarily_unavailable, and codes a retry may outlive.
        TokenError::Transient(code)
    }
}

#[cfg(test)]
mod tests;
