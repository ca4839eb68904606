//! The two metadata documents discovery reads, with the checks the specs require of clients.

use serde::Deserialize;
use url::Url;

use super::DiscoveryError;
use super::grants::{MachineGrants, SignIn};
use crate::oauth::upstream::{UpstreamPolicy, validate_server_url};

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

    /// RFC 8414 §3.3: `issuer` must equal the issuer the metadata was fetched for. Every
    /// endpoint must pass the same URL policy as the MCP server itself. Which grants the server
    /// offers is [`AuthServerMetadata::sign_in`]'s question.
    pub fn validate(&self, issuer: &Url, policy: UpstreamPolicy) -> Result<(), DiscoveryError> {
        let expected = issuer.as_str().trim_end_matches('/');
        if self.issuer.trim_end_matches('/') != expected {
            return Err(DiscoveryError::InvalidMetadata(format!(
                "issuer {:?} does not match {:?}",
                self.issuer, expected
            )));
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

impl AuthServerMetadata {
    /// Whether the server lists `grant` in `grant_types_supported`; without that list, RFC 8414
    /// §2 makes `authorization_code` (and `implicit`) the default.
    pub fn offers(&self, grant: &str) -> bool {
        match &self.grant_types_supported {
            Some(grants) => grants.iter().any(|g| g == grant),
            None => grant == "authorization_code",
        }
    }

    /// How the owner can authorize Bindify here: the authorization code grant with PKCE S256 in
    /// the browser, else a client's own credentials (the client credentials grant, or an
    /// identity assertion from the organization's identity provider). A server with the
    /// authorization code grant but without S256 is refused (the MCP authorization spec), as is
    /// one that offers none of these.
    pub fn sign_in(&self) -> Result<SignIn, DiscoveryError> {
        let s256 = self
            .code_challenge_methods_supported
            .iter()
            .any(|m| m == "S256");
        if self.offers("authorization_code") && s256 {
            return Ok(SignIn::Browser);
        }
        let machine = MachineGrants {
            client_credentials: self.offers("client_credentials"),
            identity_assertion: self.offers(crate::oauth::tokens::JWT_BEARER_GRANT),
        };
        if machine.client_credentials || machine.identity_assertion {
            return Ok(SignIn::Machine(machine));
        }
        if self.offers("authorization_code") {
            return Err(DiscoveryError::NoPkceS256);
        }
        Err(DiscoveryError::NoAuthorizationCodeGrant)
    }
}
