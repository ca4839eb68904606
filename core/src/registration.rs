//! Getting a client id at an authorization server: a pre-registered client from configuration
//! first (for servers without dynamic registration), then RFC 7591 dynamic client registration.
//! The result is cached per (issuer, redirect URI) by the caller, sealed, under
//! [`crate::keys::client`].

use oauth2::ClientSecret;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::discovery::AuthServerMetadata;
use crate::http::{self, HttpClient, MAX_METADATA_BYTES};
use crate::time::UnixMillis;

/// How the client authenticates at the token endpoint (RFC 7591 §2
/// `token_endpoint_auth_method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenAuthMethod {
    /// A public client: PKCE alone protects the code.
    None,
    ClientSecretBasic,
    ClientSecretPost,
}

/// A client registered at one authorization server. `Debug` is safe: `ClientSecret` redacts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClientRegistration {
    pub client_id: String,
    pub client_secret: Option<ClientSecret>,
    pub auth_method: TokenAuthMethod,
    /// Where it came from, for status and troubleshooting.
    pub source: ClientSource,
    pub registered_at: UnixMillis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientSource {
    Configured,
    Dynamic,
}

/// A client the operator registered by hand, from the `OAUTH_CLIENTS` secret (a JSON object
/// keyed by issuer URL). `Debug` is safe: `ClientSecret` redacts.
#[derive(Debug, Clone, Deserialize)]
pub struct ConfiguredClient {
    pub client_id: String,
    pub client_secret: Option<ClientSecret>,
}

impl ConfiguredClient {
    pub fn into_registration(self, now: UnixMillis) -> ClientRegistration {
        let auth_method = if self.client_secret.is_some() {
            TokenAuthMethod::ClientSecretPost
        } else {
            TokenAuthMethod::None
        };
        ClientRegistration {
            client_id: self.client_id,
            client_secret: self.client_secret,
            auth_method,
            source: ClientSource::Configured,
            registered_at: now,
        }
    }
}

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum RegistrationError {
    #[error(
        "the authorization server offers no dynamic client registration; register a client there and add it to OAUTH_CLIENTS"
    )]
    Unsupported,
    #[error("the authorization server refused the registration: {0}")]
    Refused(String),
    #[error("the registration endpoint could not be reached: {0}")]
    Unreachable(String),
    #[error("the registration response is invalid: {0}")]
    InvalidResponse(String),
}

#[derive(Deserialize)]
struct RegistrationResponse {
    client_id: String,
    client_secret: Option<String>,
    token_endpoint_auth_method: Option<String>,
}

#[derive(Deserialize)]
struct RegistrationErrorBody {
    error: Option<String>,
    error_description: Option<String>,
}

/// RFC 7591 §3.1: registers Bindify as a public client (PKCE, no secret) using the
/// authorization code and refresh token grants. If the server insists on issuing a secret,
/// the secret and the method it reports are kept.
pub async fn register<C: HttpClient>(
    http: &C,
    metadata: &AuthServerMetadata,
    redirect_uri: &Url,
    scopes: &[String],
    client_name: &str,
    now: UnixMillis,
) -> Result<ClientRegistration, RegistrationError> {
    let endpoint = metadata
        .registration_endpoint
        .as_deref()
        .ok_or(RegistrationError::Unsupported)?;
    let endpoint =
        Url::parse(endpoint).map_err(|e| RegistrationError::Unreachable(e.to_string()))?;
    let mut body = serde_json::json!({
        "client_name": client_name,
        "redirect_uris": [redirect_uri.as_str()],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        "application_type": "web",
    });
    if !scopes.is_empty()
        && let Some(obj) = body.as_object_mut()
    {
        obj.insert("scope".into(), serde_json::Value::String(scopes.join(" ")));
    }
    let request = http::post_json_request(&endpoint, &body, "application/json")
        .map_err(RegistrationError::Unreachable)?;
    let response = http::send(http, request)
        .await
        .map_err(RegistrationError::Unreachable)?;
    let status = response.status();
    if response.body().len() > MAX_METADATA_BYTES {
        return Err(RegistrationError::InvalidResponse(
            "response too large".into(),
        ));
    }
    if !status.is_success() {
        let detail = serde_json::from_slice::<RegistrationErrorBody>(response.body())
            .ok()
            .and_then(|b| match (b.error, b.error_description) {
                (Some(e), Some(d)) => Some(format!("{e}: {d}")),
                (Some(e), None) => Some(e),
                (None, d) => d,
            })
            .unwrap_or_else(|| format!("HTTP {}", status.as_u16()));
        return Err(RegistrationError::Refused(truncate(&detail, 300)));
    }
    let parsed: RegistrationResponse = serde_json::from_slice(response.body())
        .map_err(|e| RegistrationError::InvalidResponse(e.to_string()))?;
    if parsed.client_id.is_empty() {
        return Err(RegistrationError::InvalidResponse("empty client_id".into()));
    }
    let auth_method = match (
        parsed.token_endpoint_auth_method.as_deref(),
        &parsed.client_secret,
    ) {
        (Some("client_secret_basic"), Some(_)) => TokenAuthMethod::ClientSecretBasic,
        (Some("client_secret_post"), Some(_)) => TokenAuthMethod::ClientSecretPost,
        (None, Some(_)) => TokenAuthMethod::ClientSecretBasic,
        _ => TokenAuthMethod::None,
    };
    Ok(ClientRegistration {
        client_id: parsed.client_id,
        client_secret: parsed.client_secret.map(ClientSecret::new),
        auth_method,
        source: ClientSource::Dynamic,
        registered_at: now,
    })
}

/// Cuts text from a remote server to a length fit for a page or a log line.
pub(crate) fn truncate(text: &str, max_chars: usize) -> String {
    let cleaned: String = text
        .chars()
        .filter(|c| !c.is_control())
        .take(max_chars)
        .collect();
    if text.chars().count() > max_chars {
        format!("{cleaned}…")
    } else {
        cleaned
    }
}
