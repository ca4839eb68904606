//! Finding a server's authorization server, as the MCP authorization spec orders it:
//! probe without a token, follow the `resource_metadata` challenge (RFC 9728 §5.1) or the
//! well-known protected-resource URLs (RFC 9728 §3.1), then read authorization server metadata
//! (RFC 8414 §3.1, then OpenID Connect Discovery 1.0 §4).
//!
//! A server that answers the probe without a challenge is still looked up at the well-known
//! URLs: some protect only their tools. A server with no protected resource metadata at all is
//! taken for a 2025-03-26 server ([`legacy`]).

mod grants;
mod legacy;
mod metadata;
#[cfg(test)]
mod tests;

pub use grants::{MachineGrants, SignIn};
pub use metadata::{AuthServerMetadata, ProtectedResourceMetadata};

use url::Url;

use crate::http::{self, HttpClient, MAX_METADATA_BYTES};
use crate::oauth::upstream::{UpstreamPolicy, canonical_resource, validate_server_url};
use crate::oauth::wellknown::{
    authorization_server_metadata_urls, protected_resource_metadata_urls,
};
use crate::oauth::www_authenticate::{BearerChallenge, parse_bearer_challenge};

/// What discovery learned about one MCP server.
#[derive(Debug, Clone)]
pub struct Discovered {
    pub server: Url,
    /// The RFC 8707 resource indicator to send: the metadata's `resource`, as written, when
    /// it covers this server (see [`resource_covers`]), else the canonical server URI.
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
    #[error(
        "the authorization server offers neither the authorization code grant nor client credentials (grant_types_supported), so Bindify has no way to be authorized there"
    )]
    NoAuthorizationCodeGrant,
    #[error("a discovered URL is not allowed: {0}")]
    DisallowedUrl(String),
    #[error("the metadata at {url} could not be read: {reason}")]
    MetadataUnreadable { url: String, reason: String },
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

/// How the server answered the unauthenticated probe.
enum Probe {
    /// 401, with the Bearer challenge if it carried one.
    Challenged(Option<BearerChallenge>),
    /// 2xx: the server answers `initialize` without a token. It may still protect its tools
    /// (and publish protected resource metadata saying so), or need no authorization at all.
    Open(u16),
    /// Anything else: no challenge to follow.
    Other,
}

/// Runs the whole discovery for `server`.
pub async fn discover<C: HttpClient>(
    http: &C,
    server: &Url,
    policy: UpstreamPolicy,
) -> Result<Discovered, DiscoveryError> {
    let probe = probe(http, server).await?;
    let challenge = match &probe {
        Probe::Challenged(challenge) => challenge.clone(),
        Probe::Open(_) | Probe::Other => None,
    };
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

    let challenge_scopes = challenge.and_then(|c| c.scope).map(|s| split_scopes(&s));
    let Some(prm) = fetch_first_resource_metadata(http, &candidates).await? else {
        if let Probe::Open(status) = probe {
            // No challenge and no metadata: nothing here asks for authorization.
            return Err(DiscoveryError::NoAuthRequired(status));
        }
        // The default endpoints are for a server that asked for a token: any other answer (a
        // 404 from a mistyped URL, say) is not taken for an authorization server.
        let challenged = matches!(probe, Probe::Challenged(_));
        let scopes = challenge_scopes.unwrap_or_default();
        return legacy::discover(http, server, policy, scopes, challenged).await;
    };
    let resource = match prm.resource.as_deref().map(str::trim) {
        // RFC 9728 §3.3: the metadata must be about the server we asked for. As the MCP SDKs
        // do, that means the same origin and a path that is a prefix of the server's; the
        // metadata's identifier is then sent as it is written.
        Some(r) if resource_covers(r, server) => r.to_owned(),
        Some(_) => {
            return Err(DiscoveryError::InvalidMetadata(
                "the protected resource metadata names a different resource".into(),
            ));
        }
        None => canonical_resource(server),
    };
    let first = prm
        .authorization_servers
        .first()
        .ok_or_else(|| DiscoveryError::InvalidMetadata("authorization_servers is empty".into()))?;
    let issuer = validate_server_url(first, policy)
        .map_err(|e| DiscoveryError::DisallowedUrl(e.to_string()))?;
    let scopes = challenge_scopes.unwrap_or(prm.scopes_supported);

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

/// Whether the resource identifier `advertised` covers `server`: same scheme, host and port,
/// and its path is a prefix of the server's path at a segment boundary (`/api` covers
/// `/api/mcp` but not `/api2`). A trailing `/` on either side does not matter.
fn resource_covers(advertised: &str, server: &Url) -> bool {
    let Ok(resource) = Url::parse(advertised) else {
        return false;
    };
    if resource.origin() != server.origin() || resource.fragment().is_some() {
        return false;
    }
    let with_slash = |path: &str| format!("{}/", path.trim_end_matches('/'));
    with_slash(server.path()).starts_with(&with_slash(resource.path()))
}

/// Step 1: an unauthenticated `initialize`.
async fn probe<C: HttpClient>(http: &C, server: &Url) -> Result<Probe, DiscoveryError> {
    let request =
        http::post_json_request(server, &probe_body(), "application/json, text/event-stream")
            .map_err(DiscoveryError::Unreachable)?;
    let response = http::send(http, request)
        .await
        .map_err(DiscoveryError::Unreachable)?;
    let status = response.status().as_u16();
    if (200..300).contains(&status) {
        return Ok(Probe::Open(status));
    }
    if status != 401 {
        // Not a challenge; fall back to the well-known URLs.
        return Ok(Probe::Other);
    }
    Ok(Probe::Challenged(
        response
            .headers()
            .get_all(::http::header::WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(parse_bearer_challenge),
    ))
}

/// What a GET for metadata found.
enum Fetched<T> {
    Found(T),
    /// Not there: an error status, or a body that is not this metadata (some sites answer
    /// every path with an HTML page). The next candidate, or a fallback, applies.
    Absent,
    /// There, but unreadable: the exchange failed or the body passed its cap. A server whose
    /// metadata cannot be read is not taken for one that has none, so no fallback applies.
    Unreadable(String),
}

async fn fetch_json<C: HttpClient, T>(http: &C, url: &Url) -> Fetched<T>
where
    T: serde::de::DeserializeOwned,
{
    let request = match http::get_json_request(url) {
        Ok(request) => request,
        Err(reason) => return Fetched::Unreadable(reason),
    };
    let response = match http::send(http, request).await {
        Ok(response) => response,
        Err(reason) => return Fetched::Unreadable(reason),
    };
    if !response.status().is_success() {
        return Fetched::Absent;
    }
    if response.body().len() > MAX_METADATA_BYTES {
        return Fetched::Unreadable(format!(
            "the response was larger than {MAX_METADATA_BYTES} bytes"
        ));
    }
    match crate::json::from_slice(response.body()) {
        Ok(value) => Fetched::Found(value),
        Err(_) => Fetched::Absent,
    }
}

fn unreadable(url: &Url, reason: String) -> DiscoveryError {
    // Only where the metadata was asked for, never a query (metadata URLs carry none).
    let mut shown = url.clone();
    shown.set_query(None);
    DiscoveryError::MetadataUnreadable {
        url: shown.to_string(),
        reason,
    }
}

async fn fetch_first_resource_metadata<C: HttpClient>(
    http: &C,
    candidates: &[Url],
) -> Result<Option<ProtectedResourceMetadata>, DiscoveryError> {
    for url in candidates {
        match fetch_json::<C, ProtectedResourceMetadata>(http, url).await {
            Fetched::Found(prm) => return Ok(Some(prm)),
            Fetched::Absent => {}
            Fetched::Unreadable(reason) => return Err(unreadable(url, reason)),
        }
    }
    Ok(None)
}

async fn fetch_auth_server_metadata<C: HttpClient>(
    http: &C,
    issuer: &Url,
) -> Result<AuthServerMetadata, DiscoveryError> {
    for url in authorization_server_metadata_urls(issuer) {
        match fetch_json::<C, AuthServerMetadata>(http, &url).await {
            Fetched::Found(meta) => return Ok(meta),
            Fetched::Absent => {}
            Fetched::Unreadable(reason) => return Err(unreadable(&url, reason)),
        }
    }
    Err(DiscoveryError::NoAuthServerMetadata(issuer.to_string()))
}
