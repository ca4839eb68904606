//! Servers of the 2025-03-26 revision, which publish no protected resource metadata. That
//! revision ("Authorization Server Discovery" and "Fallbacks for Servers without Metadata
//! Discovery") puts the authorization server at the MCP server's origin: its metadata at the
//! origin's well-known URL, else the default endpoints `/authorize`, `/token` and `/register`
//! there. [`super::discover`] comes here only when no protected resource metadata exists, and
//! allows the default endpoints only for a server that answered the probe with a 401.

use url::Url;

use super::{AuthServerMetadata, Discovered, DiscoveryError, Fetched, fetch_json, unreadable};
use crate::http::HttpClient;
use crate::oauth::upstream::{UpstreamPolicy, canonical_resource, validate_server_url};
use crate::oauth::wellknown::authorization_server_metadata_urls;

pub(super) async fn discover<C: HttpClient>(
    http: &C,
    server: &Url,
    policy: UpstreamPolicy,
    scopes: Vec<String>,
    allow_defaults: bool,
) -> Result<Discovered, DiscoveryError> {
    let origin = origin_of(server);
    let mut found = None;
    for url in authorization_server_metadata_urls(&origin) {
        match fetch_json::<C, AuthServerMetadata>(http, &url).await {
            Fetched::Found(metadata) => {
                found = Some(metadata);
                break;
            }
            Fetched::Absent => {}
            Fetched::Unreadable(reason) => return Err(unreadable(&url, reason)),
        }
    }
    let (issuer, metadata) = match found {
        // The metadata sits at the origin, but its issuer may carry a path (an authorization
        // server mounted under `/oauth`, say). It must stay on the MCP server's origin.
        Some(metadata) => {
            let issuer = validate_server_url(&metadata.issuer, policy)
                .map_err(|e| DiscoveryError::DisallowedUrl(e.to_string()))?;
            if issuer.origin() != server.origin() {
                return Err(DiscoveryError::InvalidMetadata(format!(
                    "the authorization server metadata at the MCP server's origin names the issuer {:?}, on another origin",
                    metadata.issuer
                )));
            }
            (issuer, metadata)
        }
        None if allow_defaults => (origin.clone(), AuthServerMetadata::defaults_at(&origin)),
        None => return Err(DiscoveryError::NoAuthServerMetadata(origin.to_string())),
    };
    metadata.validate(&issuer, policy)?;
    Ok(Discovered {
        server: server.clone(),
        resource: canonical_resource(server),
        issuer,
        metadata,
        scopes,
    })
}

/// The server URL with no path, query or fragment.
fn origin_of(server: &Url) -> Url {
    let mut origin = server.clone();
    origin.set_path("");
    origin.set_query(None);
    origin.set_fragment(None);
    origin
}
