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
}

impl AuthServerMetadata {
    /// RFC 8414 §3.3: `issuer` must equal the issuer the metadata was fetched for. The MCP
    /// spec: refuse servers that do not advertise PKCE S256. Every endpoint must pass the same
    /// URL policy as the MCP server itself.
    pub fn validate(&self, issuer: &Url, policy: UpstreamPolicy) -> Result<(), DiscoveryError> {
        let expected = issuer.as_str().trim_end_matches('/');
        if self.issuer.trim_end_matches('/') != expected {
            return Err(DiscoveryError::InvalidMetadata(format!(
                "issuer {:?} does not match {:?}",
                self.issuer, expected
            )));
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
