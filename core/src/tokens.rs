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
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
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

/// Error codes after which retrying cannot help (RFC 6749 §5.2): the grant or the client is
/// gone, so the user must authorize again.
const REJECTION_CODES: [&str; 3] = ["invalid_grant", "invalid_client", "unauthorized_client"];

fn classify<E: std::error::Error>(
    error: RequestTokenError<E, oauth2::StandardErrorResponse<BasicErrorResponseType>>,
) -> TokenError {
    match error {
        RequestTokenError::ServerResponse(body) => {
            let code = body.error().as_ref().to_owned();
            if REJECTION_CODES.contains(&code.as_str()) {
                TokenError::Rejected {
                    error: code,
                    description: body.error_description().map(|d| truncate(d, 300)),
                }
            } else {
                // server_error, temporarily_unavailable, and codes a retry may outlive. A code
                // outside RFC 6749 §5.2 is any text the server chose: cut and cleaned.
                TokenError::Transient(truncate(&code, 64))
            }
        }
        RequestTokenError::Request(e) => TokenError::Transient(truncate(&e.to_string(), 200)),
        // A body that is not an OAuth response: a gateway page, a 5xx, a truncated answer.
        RequestTokenError::Parse(e, _) => TokenError::Transient(format!(
            "unreadable response: {}",
            truncate(&e.to_string(), 200)
        )),
        RequestTokenError::Other(e) => TokenError::InvalidResponse(truncate(&e, 200)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registration::{ClientSource, TokenAuthMethod};
    use crate::testing::{ScriptedPeer, block_on};

    const TOKEN: &str = "https://auth.example.com/token";

    fn client() -> ClientRegistration {
        ClientRegistration {
            client_id: "c1".into(),
            client_secret: None,
            auth_method: TokenAuthMethod::None,
            source: ClientSource::Dynamic,
            registered_at: 0,
        }
    }

    fn refresh_with(peer: &ScriptedPeer) -> Result<TokenSet, TokenError> {
        let client = client();
        let endpoint = TokenEndpoint {
            token_endpoint: TOKEN,
            client: &client,
            resource: "https://mcp.example.com/mcp",
        };
        block_on(refresh(
            &peer.client(),
            &endpoint,
            &RefreshToken::new("RT-old".into()),
            1_000,
        ))
    }

    #[test]
    fn refresh_sends_resource_and_rotates() {
        let peer = ScriptedPeer::new();
        peer.on("POST", TOKEN, 200, r#"{"access_token":"AT2","token_type":"Bearer","expires_in":60,"refresh_token":"RT-new"}"#);
        let tokens = refresh_with(&peer).expect("refreshed");
        assert_eq!(
            tokens.refresh_token.map(|t| t.secret().clone()).as_deref(),
            Some("RT-new")
        );
        assert_eq!(tokens.expires_at, Some(61_000));
        let sent = &peer.requests()[0];
        assert_eq!(sent.form("grant_type").as_deref(), Some("refresh_token"));
        assert_eq!(sent.form("refresh_token").as_deref(), Some("RT-old"));
        assert_eq!(
            sent.form("resource").as_deref(),
            Some("https://mcp.example.com/mcp")
        );
    }

    #[test]
    fn a_response_without_refresh_token_keeps_the_old_one() {
        let peer = ScriptedPeer::new();
        peer.on(
            "POST",
            TOKEN,
            200,
            r#"{"access_token":"AT2","token_type":"Bearer"}"#,
        );
        let tokens = refresh_with(&peer).expect("refreshed");
        assert_eq!(
            tokens.refresh_token.map(|t| t.secret().clone()).as_deref(),
            Some("RT-old")
        );
        assert_eq!(tokens.expires_at, None);
    }

    #[test]
    fn revocation_posts_the_token_with_its_hint() {
        let peer = ScriptedPeer::new();
        peer.on("POST", "https://auth.example.com/revoke", 200, "");
        let outcome = block_on(revoke(
            &peer.client(),
            Some("https://auth.example.com/revoke"),
            &client(),
            "RT-1",
            "refresh_token",
        ));
        assert_eq!(outcome, Revocation::Revoked);
        let sent = &peer.requests()[0];
        assert_eq!(sent.form("token").as_deref(), Some("RT-1"));
        assert_eq!(
            sent.form("token_type_hint").as_deref(),
            Some("refresh_token")
        );
        assert_eq!(sent.form("client_id").as_deref(), Some("c1"));
        assert_eq!(
            block_on(revoke(
                &peer.client(),
                None,
                &client(),
                "x",
                "refresh_token"
            )),
            Revocation::Unsupported
        );
        peer.on("POST", "https://auth.example.com/revoke", 503, "");
        assert_eq!(
            block_on(revoke(
                &peer.client(),
                Some("https://auth.example.com/revoke"),
                &client(),
                "x",
                "refresh_token"
            )),
            Revocation::Failed
        );
    }

    #[test]
    fn failures_are_classified() {
        let peer = ScriptedPeer::new();
        peer.on(
            "POST",
            TOKEN,
            400,
            r#"{"error":"invalid_grant","error_description":"grant revoked"}"#,
        );
        let err = refresh_with(&peer).expect_err("rejected");
        assert!(err.is_rejection());
        assert!(err.to_string().contains("grant revoked"));

        peer.on("POST", TOKEN, 503, r#"{"error":"temporarily_unavailable"}"#);
        assert!(matches!(refresh_with(&peer), Err(TokenError::Transient(_))));
        peer.on("POST", TOKEN, 502, "<html>Bad gateway</html>");
        assert!(matches!(refresh_with(&peer), Err(TokenError::Transient(_))));
        peer.fail("POST", TOKEN);
        assert!(matches!(refresh_with(&peer), Err(TokenError::Transient(_))));
        // An error never echoes the refresh token.
        assert!(!format!("{:?}", refresh_with(&peer)).contains("RT-old"));
    }

    #[test]
    fn an_unknown_error_code_is_cut_and_cleaned() {
        // Found by fuzzing (fuzz/fuzz_targets/token_response.rs): a code outside RFC 6749 §5.2
        // reached the error whole, line breaks included.
        let peer = ScriptedPeer::new();
        let code = format!("vendor_code\nforged log line {}", "x".repeat(500));
        peer.on(
            "POST",
            TOKEN,
            400,
            &serde_json::json!({ "error": code }).to_string(),
        );
        assert_eq!(
            refresh_with(&peer).expect_err("refused"),
            TokenError::Transient(format!("vendor_codeforged log line {}…", "x".repeat(37)))
        );
    }
}
