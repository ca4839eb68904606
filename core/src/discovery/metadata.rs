//! The two metadata documents discovery reads, with the checks the specs require of clients.

use serde::Deserialize;
use url::Url;

use super::DiscoveryError;
use crate::upstream::{UpstreamPolicy, validate_server_url};

/// RFC 9728 §2 protected resource metadata (the fields Bindify uses).
#[derive(Debug, Clone, Deserialize)]
pub struct ProtectedResourceMetadata {
    pub resource: Option<String>,
    #[serde(default)]
    pub authorization_servers: Vec<String>,
    #[serde(default)]
    pub scopes_supported: Vec<String>,
}

/// RFC 8414 §2 authorization server metadata (the fields Bindify uses).
#[derive(Debug, Clone, Deserialize)]
pub struct AuthServerMetadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub registration_endpoint: Option<String>,
    pub revocation_endpoint: Option<String>,
    #[serde(default)]
    pub code_challenge_methods_supported: Vec<String>,
    #[serde(default)]
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
    pub scopes_supported: Option<Vec<String>>,
    /// RFC 9207 §3: the server names itself (`iss`) in every authorization response.
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
    /// RFC 8414 §2; when absent, `authorization_code` and `implicit` are the default.
    pub grant_types_supported: Option<Vec<String>>,
    /// Client ID Metadata Documents (MCP authorization 2025-11-25, "Client ID Metadata
    /// Documents"): the server accepts an https URL as `client_id` and reads the client's
    /// metadata from it.
    #[serde(default)]
    pub client_id_metadata_document_supported: bool,
}

impl AuthServerMetadata {
    /// The default endpoints of a 2025-03-26 server without metadata: `/authorize`, `/token`
    /// and `/register` on its origin. That revision requires PKCE of every client, so S256 is
    /// taken as supported.
    pub fn defaults_at(origin: &Url) -> Self {
        let at = |path: &str| {
            let mut url = origin.clone();
            url.set_path(path);
            url.set_query(None);
            url.to_string()
        };
        AuthServerMetadata {
            issuer: origin.as_str().trim_end_matches('/').to_owned(),
            authorization_endpoint: at("/authorize"),
            token_endpoint: at("/token"),
            registration_endpoint: Some(at("/register")),
            revocation_endpoint: None,
            code_challenge_methods_supported: vec!["S256".to_owned()],
            token_endpoint_auth_methods_supported: None,
            scopes_supported: None,
            grant_types_supported: None,
            client_id_metadata_document_supported: false,
            authorization_response_iss_parameter_supported: false,
        }
    }

    /// RFC 8414 §3.3: `issuer` must equal the issuer the metadata was fetched for. A server
    /// must offer the authorization code grant, which is how the owner authorizes Bindify.
    /// The MCP spec: refuse servers that do not advertise PKCE S256. Every endpoint must pass the same
    /// URL policy as the MCP server itself.
    pub fn validate(&self, issuer: &Url, policy: UpstreamPolicy) -> Result<(), DiscoveryError> {
        let expected = issuer.as_str().trim_end_matches('/');
        if self.issuer.trim_end_matches('/') != expected {
            return Err(DiscoveryError::InvalidMetadata(format!(
                "issuer {:?} does not match {:?}",
                self.issuer, expected
            )));
        }
        if self
            .grant_types_supported
            .as_ref()
            .is_some_and(|grants| !grants.iter().any(|g| g == "authorization_code"))
        {
            return Err(DiscoveryError::NoAuthorizationCodeGrant);
        }
        if !self
            .code_challenge_methods_supported
            .iter()
            .any(|m| m == "S256")
        {
            return Err(DiscoveryError::NoPkceS256);
        }
        let endpoints = [
            Some(&self.authorization_endpoint),
            Some(&self.token_endpoint),
            self.registration_endpoint.as_ref(),
            self.revocation_endpoint.as_ref(),
        ];
        for endpoint in endpoints.into_iter().flatten() {
            validate_server_url(endpoint, policy)
                .map_err(|e| DiscoveryError::DisallowedUrl(e.to_string()))?;
        }
        Ok(())
    }
}
