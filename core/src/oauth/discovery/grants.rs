//! How an owner can authorize Bindify at an authorization server, read from its metadata by
//! [`super::AuthServerMetadata::sign_in`].

/// The way to authorize Bindify at one authorization server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignIn {
    /// The authorization code grant with PKCE S256: the owner signs in in the browser.
    Browser,
    /// No browser sign-in is offered: the owner gives Bindify a client's own credentials.
    Machine(MachineGrants),
}

/// The grants without a browser that a server offers, as the credentials form asks for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MachineGrants {
    /// RFC 6749 §4.4 `client_credentials` (MCP's client credentials extension, SEP-1046).
    pub client_credentials: bool,
    /// RFC 7523 §2.1 `urn:ietf:params:oauth:grant-type:jwt-bearer`, for an Identity Assertion
    /// JWT Authorization Grant (MCP's enterprise-managed authorization, SEP-990).
    pub identity_assertion: bool,
}
