//! Finding a server's authorization server, as the MCP authorization spec orders it:
//! probe without a token, follow the `resource_metadata` challenge (RFC 9728 §5.1) or the
//! well-known protected-resource URLs (RFC 9728 §3.1), then read authorization server metadata
//! (RFC 8414 §3.1, then OpenID Connect Discovery 1.0 §4).

mod metadata;
#[cfg(test)]
mod tests;

pub use metadata::{AuthServerMetadata, ProtectedResourceMetadata};

use url::Url;

use crate::http::{self, HttpClient, MAX_METADATA_BYTES};
use crate::upstream::{UpstreamPolicy, canonical_resource, validate_server_url};
use crate::wellknown::{authorization_server_metadata_urls, protected_resource_metadata_urls};
use crate::www_authenticate::{BearerChallenge, parse_bearer_challenge};

/// What discovery learned about one MCP server.
#[derive(Debug, Clone)]
pub struct Discovered {
    pub server: Url,
    /// The RFC 8707 resource indicator to send: the metadata's `resource` when it names this
    /// server, else the canonical server URI.
    pub resource: String,
    pub issuer: Url,
    pub metadata: AuthServerMetadata,
    /// Scopes to request: the challenge's `scope`, else the resource's `scopes_supported`
    /// (the MCP authorization spec's scope selection order), else none.
    pub scopes: Vec<String>,
}

/// Why discovery failed. Each variant is one thing the user can be told.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum DiscoveryError {
    #[error("the MCP server could not be reached: {0}")]
    Unreachable(String),
    #[error("the MCP server answered without asking for authorization (HTTP {0})")]
    NoAuthRequired(u16),
    #[error("no authorization server metadata was found for {0}")]
    NoAuthServerMetadata(String),
    #[error("the authorization server metadata is invalid: {0}")]
    InvalidMetadata(String),
    #[error("the authorization server does not support PKCE with S256")]
    NoPkceS256,
    #[error("a discovered URL is not allowed: {0}")]
    DisallowedUrl(String),
}

/// A minimal `initialize` request: what a real MCP client sends first, so servers that only
/// challenge MCP traffic still answer 401.
fn probe_body() -> serde_json::Value {
    serde_json::json!({
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": { "name": "bindify", "version": env!("CARGO_PKG_VERSION") }
        }
    })
}

/// Runs the whole discovery for `server`.
pub async fn discover<C: HttpClient>(
    http: &C,
    server: &Url,
    policy: UpstreamPolicy,
) -> Result<Discovered, DiscoveryError> {
    let challenge = probe(http, server).await?;
    let mut candidates = Vec::new();
    if let Some(raw) = challenge
        .as_ref()
        .and_then(|c| c.resource_metadata.as_ref())
    {
        candidates.push(
            validate_server_url(raw, policy)
                .map_err(|e| DiscoveryError::DisallowedUrl(e.to_string()))?,
        );
    }
    for url in protected_resource_metadata_urls(server) {
        if !candidates.contains(&url) {
            candidates.push(url);
        }
    }

    let canonical = canonical_resource(server);
    let challenge_scopes = challenge.and_then(|c| c.scope).map(|s| split_scopes(&s));
    let (issuer, resource, scopes) = match fetch_first_resource_metadata(http, &candidates).await {
        Some(prm) => {
            let resource = match prm.resource.as_deref() {
                // RFC 9728 §3.3: the metadata must be about the resource we asked for.
                Some(r) if resource_matches(r, &canonical) => r.trim_end_matches('/').to_owned(),
                Some(_) => {
                    return Err(DiscoveryError::InvalidMetadata(
                        "the protected resource metadata names a different resource".into(),
                    ));
                }
                None => canonical.clone(),
            };
            let first = prm.authorization_servers.first().ok_or_else(|| {
                DiscoveryError::InvalidMetadata("authorization_servers is empty".into())
            })?;
            let issuer = validate_server_url(first, policy)
                .map_err(|e| DiscoveryError::DisallowedUrl(e.to_string()))?;
            let scopes = challenge_scopes.unwrap_or(prm.scopes_supported);
            (issuer, resource, scopes)
        }
        // MCP 2025-03-26 servers without RFC 9728 metadata: the authorization server is the
        // MCP server's origin.
        None => {
            let mut origin = server.clone();
            origin.set_path("");
            origin.set_query(None);
            (origin, canonical, challenge_scopes.unwrap_or_default())
        }
    };

    let metadata = fetch_auth_server_metadata(http, &issuer).await?;
    metadata.validate(&issuer, policy)?;
    Ok(Discovered {
        server: server.clone(),
        resource,
        issuer,
        metadata,
        scopes,
    })
}

fn split_scopes(scope: &str) -> Vec<String> {
    scope.split_ascii_whitespace().map(str::to_owned).collect()
}

/// Compares resource identifiers the way servers in the wild differ: by canonical form.
fn resource_matches(advertised: &str, canonical: &str) -> bool {
    match Url::parse(advertised) {
        Ok(url) => canonical_resource(&url) == canonical,
        Err(_) => false,
    }
}

/// Step 1: an unauthenticated request. Returns the Bearer challenge, if the 401 carried one.
async fn probe<C: HttpClient>(
    http: &C,
    server: &Url,
) -> Result<Option<BearerChallenge>, DiscoveryError> {
    let request =
        http::post_json_request(server, &probe_body(), "application/json, text/event-stream")
            .map_err(DiscoveryError::Unreachable)?;
    let response = http::send(http, request)
        .await
        .map_err(DiscoveryError::Unreachable)?;
    let status = response.status().as_u16();
    if (200..300).contains(&status) {
        return Err(DiscoveryError::NoAuthRequired(status));
    }
    if status != 401 {
        // Not a challenge; fall back to the well-known URLs.
        return Ok(None);
    }
    Ok(response
        .headers()
        .get_all(::http::header::WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(parse_bearer_challenge))
}

async fn fetch_json<C: HttpClient, T>(http: &C, url: &Url) -> Option<T>
where
    T: serde::de::DeserializeOwned,
{
    let request = http::get_json_request(url).ok()?;
    let response = http::send(http, request).await.ok()?;
    if !response.status().is_success() || response.body().len() > MAX_METADATA_BYTES {
        return None;
    }
    serde_json::from_slice(response.body()).ok()
}

async fn fetch_first_resource_metadata<C: HttpClient>(
    http: &C,
    candidates: &[Url],
) -> Option<ProtectedResourceMetadata> {
    for url in candidates {
        if let Some(prm) = fetch_json::<C, ProtectedResourceMetadata>(http, url).await {
            return Some(prm);
        }
    }
    None
}

async fn fetch_auth_server_metadata<C: HttpClient>(
    http: &C,
    issuer: &Url,
) -> Result<AuthServerMetadata, DiscoveryError> {
    for url in authorization_server_metadata_urls(issuer) {
        if let Some(meta) = fetch_json::<C, AuthServerMetadata>(http, &url).await {
            return Ok(meta);
        }
    }
    Err(DiscoveryError::NoAuthServerMetadata(issuer.to_string()))
}
