//! Getting a client id at an authorization server: a client registered there by hand (for
//! servers without dynamic registration; configured in `OAUTH_CLIENTS` or entered by the
//! owner, see [`crate::connect::owner_client`]), Bindify's own Client ID Metadata Document when the
//! server accepts those, or an RFC 7591 dynamic client registration, made for one authorization
//! and kept only in the connection's record (the order is [`crate::connect::flow`]'s).

use oauth2::ClientSecret;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::http::{self, HttpClient, MAX_METADATA_BYTES};
use crate::oauth::discovery::AuthServerMetadata;
use crate::oauth::jwt::SigningAlgorithm;
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
    /// A JWT signed with the client's private key (RFC 7523 §2.2).
    PrivateKeyJwt,
}

impl TokenAuthMethod {
    /// The method for a client with a secret at a server that lists `supported`
    /// (`token_endpoint_auth_methods_supported`): the secret in the body where the server lists
    /// that (GitHub's and Asana's documented way), else HTTP Basic where it lists that; a server
    /// that lists neither, or nothing, gets the secret in the body.
    pub fn for_secret(supported: Option<&[String]>) -> Self {
        let lists = |name: &str| supported.is_some_and(|s| s.iter().any(|m| m == name));
        if !lists("client_secret_post") && lists("client_secret_basic") {
            TokenAuthMethod::ClientSecretBasic
        } else {
            TokenAuthMethod::ClientSecretPost
        }
    }
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
    /// The key of a `private_key_jwt` client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key: Option<ClientKey>,
}

/// The private key of a `private_key_jwt` client, as the owner gave it (PKCS#8 PEM), with the
/// algorithm to sign with. Stored only sealed; `Debug` shows the algorithm only.
#[derive(Clone, Serialize, Deserialize)]
pub struct ClientKey {
    pem: zeroize::Zeroizing<String>,
    pub algorithm: SigningAlgorithm,
}

impl ClientKey {
    pub fn new(pem: String, algorithm: SigningAlgorithm) -> Self {
        ClientKey {
            pem: zeroize::Zeroizing::new(pem),
            algorithm,
        }
    }

    /// The PEM text, for signing.
    pub fn pem(&self) -> &str {
        &self.pem
    }
}

impl std::fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientKey")
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientSource {
    /// From `OAUTH_CLIENTS`.
    Configured,
    /// Entered by the owner on a page, or with `bindify connect --client-id`.
    Owner,
    /// The client id is the URL of Bindify's Client ID Metadata Document.
    MetadataDocument,
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
    /// The client as registered at a server whose metadata lists `supported` token endpoint
    /// authentication methods (see [`TokenAuthMethod::for_secret`]).
    pub fn into_registration(
        self,
        supported: Option<&[String]>,
        now: UnixMillis,
    ) -> ClientRegistration {
        let auth_method = if self.client_secret.is_some() {
            TokenAuthMethod::for_secret(supported)
        } else {
            TokenAuthMethod::None
        };
        ClientRegistration {
            client_id: self.client_id,
            client_secret: self.client_secret,
            auth_method,
            source: ClientSource::Configured,
            registered_at: now,
            private_key: None,
        }
    }
}

/// Where Bindify serves its Client ID Metadata Document, on its own origin.
pub const CLIENT_METADATA_PATH: &str = "/oauth/client-metadata.json";

/// The URL of Bindify's Client ID Metadata Document: `configured` (`CLIENT_METADATA_URL`)
/// when set, else [`CLIENT_METADATA_PATH`] on `origin`. A client id URL must be https and
/// have a path (MCP authorization 2025-11-25, "Client ID Metadata Documents"), so a Worker
/// served over plain http has none unless one is configured.
pub fn client_metadata_url(origin: &Url, configured: Option<&str>) -> Option<Url> {
    let url = match configured {
        Some(raw) => Url::parse(raw.trim()).ok()?,
        None => origin.join(CLIENT_METADATA_PATH).ok()?,
    };
    let usable = url.scheme() == "https"
        && url.host().is_some()
        && url.path() != "/"
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none();
    usable.then_some(url)
}

/// Bindify's Client ID Metadata Document (RFC 7591 §2 client metadata, with `client_id` equal
/// to the URL it is served at): a public client using PKCE, the authorization code and refresh
/// token grants, and this deployment's callback.
pub fn client_metadata_document(
    client_id: &Url,
    redirect_uri: &Url,
    client_name: &str,
) -> serde_json::Value {
    let mut client_uri = redirect_uri.clone();
    client_uri.set_path("/");
    client_uri.set_query(None);
    serde_json::json!({
        "client_id": client_id.as_str(),
        "client_name": client_name,
        "client_uri": client_uri.as_str(),
        "redirect_uris": [redirect_uri.as_str()],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        "application_type": "web",
    })
}

/// The client to use without registering, in order: the one the owner registered at this
/// server, else Bindify's metadata document URL when the server accepts those
/// (`client_id_metadata_document_supported`). `None`: register dynamically.
pub fn without_registration(
    configured: Option<&ConfiguredClient>,
    metadata_url: Option<&Url>,
    metadata: &AuthServerMetadata,
    now: UnixMillis,
) -> Option<ClientRegistration> {
    if let Some(configured) = configured {
        return Some(configured.clone().into_registration(
            metadata.token_endpoint_auth_methods_supported.as_deref(),
            now,
        ));
    }
    let url = metadata_url.filter(|_| metadata.client_id_metadata_document_supported)?;
    Some(ClientRegistration {
        client_id: url.to_string(),
        client_secret: None,
        auth_method: TokenAuthMethod::None,
        source: ClientSource::MetadataDocument,
        registered_at: now,
        private_key: None,
    })
}

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum RegistrationError {
    #[error(
        "the authorization server offers no dynamic client registration; register an app there and enter its client ID and secret"
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
        let detail = crate::json::from_slice::<RegistrationErrorBody>(response.body())
            .ok()
            .and_then(|b| match (b.error, b.error_description) {
                (Some(e), Some(d)) => Some(format!("{e}: {d}")),
                (Some(e), None) => Some(e),
                (None, d) => d,
            })
            .unwrap_or_else(|| format!("HTTP {}", status.as_u16()));
        return Err(RegistrationError::Refused(truncate(&detail, 300)));
    }
    let parsed: RegistrationResponse = crate::json::from_slice(response.body())
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
        private_key: None,
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

#[cfg(test)]
mod tests;
