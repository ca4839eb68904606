//! Every way connecting can fail, and the one function that turns each into what the user
//! sees: an HTTP status, a stable code, a title, what happened and what to do next.

use crate::connect::api_key::ApiKeyError;
use crate::failure::OwnFailure;
use crate::oauth::discovery::{DiscoveryError, MachineGrants};
use crate::oauth::registration::RegistrationError;
use crate::oauth::tokens::TokenError;
use crate::oauth::upstream::UpstreamUrlError;
use crate::vault::envelope::{EnvelopeError, KeyError};
use crate::vault::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("no MCP server URL was given")]
    ServerMissing,
    #[error("the confirmation of this server is missing, expired or was made elsewhere")]
    ConfirmationInvalid,
    #[error("unknown preset {0:?}")]
    UnknownPreset(String),
    #[error("MCP server URL rejected: {0}")]
    ServerUrl(#[from] UpstreamUrlError),
    #[error("discovery failed: {0}")]
    Discovery(#[from] DiscoveryError),
    #[error("registration failed: {0}")]
    Registration(#[from] RegistrationError),
    #[error("TOKEN_ENCRYPTION_KEY is not set")]
    KeyMissing,
    #[error("TOKEN_ENCRYPTION_KEY is malformed: {0}")]
    KeyMalformed(KeyError),
    #[error("the state parameter is missing")]
    StateMissing,
    #[error("the state parameter is not valid")]
    StateInvalid,
    #[error("the state parameter has expired")]
    StateExpired,
    #[error("the state parameter was already used")]
    StateUsed,
    #[error("the state parameter belongs to another browser")]
    StateForeign,
    #[error("the authorization was declined")]
    AccessDenied { description: Option<String> },
    #[error("the authorization server returned an error: {error}")]
    AuthorizationError {
        error: String,
        description: Option<String>,
    },
    #[error("the callback came from a different authorization server")]
    IssuerMismatch,
    #[error("the callback does not name its authorization server, which promised to")]
    IssuerMissing,
    #[error("the callback carries no authorization code")]
    CodeMissing,
    #[error("the code exchange failed: {0}")]
    TokenExchange(#[from] TokenError),
    #[error("storage failed: {0}")]
    Store(#[from] StoreError),
    #[error("sealing failed: {0}")]
    Seal(#[from] EnvelopeError),
    #[error("random number generation failed")]
    Random,
    #[error(
        "this server's authorization server offers no sign-in in the browser; it takes a client's own credentials"
    )]
    MachineCredentials(MachineGrants),
    #[error("{0}")]
    Credentials(String),
    #[error("the authorization server does not offer the {0} grant")]
    GrantNotOffered(&'static str),
    #[error("{0}")]
    ApiKey(#[from] ApiKeyError),
    #[error("the MCP server refused the API key (HTTP {0})")]
    KeyRefused(u16),
    #[error("the MCP server asks for authorization (HTTP {0})")]
    NotOpen(u16),
    /// Bindify's own storage, configuration or code failed in a connection's object.
    #[error("{0}")]
    Own(OwnFailure),
}

impl From<crate::connect::owner_client::OwnerClientError> for ConnectError {
    fn from(e: crate::connect::owner_client::OwnerClientError) -> Self {
        match e {
            crate::connect::owner_client::OwnerClientError::Store(e) => ConnectError::Store(e),
            crate::connect::owner_client::OwnerClientError::Seal(e) => ConnectError::Seal(e),
        }
    }
}

/// What the user is shown for an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub status: u16,
    /// Stable machine-readable code, also put on the page for tests and support.
    pub code: &'static str,
    pub title: &'static str,
    pub detail: String,
    pub next_step: &'static str,
}

impl Problem {
    /// What happened and what to do, as one message for a terminal or a JSON body.
    pub fn message(&self) -> String {
        let detail = self.detail.trim_end_matches('.');
        format!("{detail}. {}", self.next_step)
    }
}

const START_AGAIN: &str = "Start again from the Bindify home page.";

impl ConnectError {
    /// The single mapping from internal failure to what the browser gets.
    pub fn problem(&self) -> Problem {
        use ConnectError as E;
        let (status, code, title, next_step) = match self {
            E::ServerMissing => (
                400,
                "server_missing",
                "No MCP server given",
                "Pick a preset or paste the URL of an MCP server.",
            ),
            E::ConfirmationInvalid => (
                403,
                "confirmation_invalid",
                "This connection was not confirmed",
                "Paste the server URL on the Bindify home page again and confirm it there.",
            ),
            E::UnknownPreset(_) => (
                404,
                "unknown_preset",
                "Unknown service",
                "Pick one of the listed services, or paste the MCP server URL yourself.",
            ),
            E::ServerUrl(UpstreamUrlError::NotHttps) => (
                400,
                "insecure_upstream",
                "Only https servers can be connected",
                "Use the https:// URL of the MCP server.",
            ),
            E::ServerUrl(UpstreamUrlError::NonAsciiHost) => (
                400,
                "invalid_server_url",
                "The server's host name is not ASCII",
                "Paste the URL with its host name in the xn-- form, as the service's documentation or your browser's address bar shows it.",
            ),
            E::ServerUrl(_) => (
                400,
                "invalid_server_url",
                "That is not a usable MCP server URL",
                "Paste the full https:// URL of the MCP server, as its documentation gives it.",
            ),
            E::Discovery(DiscoveryError::NoAuthRequired(_)) => (
                400,
                "no_auth_required",
                "This server does not ask for authorization",
                "Use the server's URL directly in your MCP client; it needs no Bindify connection.",
            ),
            E::Discovery(DiscoveryError::NoPkceS256) => (
                502,
                "pkce_unsupported",
                "The server's authorization is not secure enough",
                "Its authorization server does not offer PKCE with S256, which Bindify requires. Ask the service to enable it.",
            ),
            E::Discovery(_) => (
                502,
                "discovery_failed",
                "Could not find how to authorize with this server",
                "Check the MCP server URL. If it is right, the service may be down; try again in a few minutes.",
            ),
            E::Registration(RegistrationError::Unsupported) => (
                502,
                "registration_unsupported",
                "This service needs a client you register",
                "Register an OAuth app with the service, with Bindify's callback URL as its redirect URL, then enter its client ID and secret here (or add it to OAUTH_CLIENTS, see docs/configuration.md).",
            ),
            E::Registration(_) => (
                502,
                "registration_refused",
                "The service refused to register Bindify",
                "Try again later. If it keeps failing, register an app with the service by hand and enter its client ID and secret.",
            ),
            E::KeyMissing => (
                500,
                "encryption_key_missing",
                "Bindify is not configured: the encryption key is missing",
                "The operator must set the TOKEN_ENCRYPTION_KEY secret: `openssl rand -base64 32 | npx wrangler secret put TOKEN_ENCRYPTION_KEY`.",
            ),
            E::KeyMalformed(KeyError::PreviousMalformed { .. }) => (
                500,
                "encryption_key_malformed",
                "Bindify is not configured: the previous encryption key is malformed",
                "TOKEN_ENCRYPTION_KEY_PREVIOUS must be the key the older connections were stored with, 32 bytes in base64. Set it again, or delete it if no connection was stored with it.",
            ),
            E::KeyMalformed(_) => (
                500,
                "encryption_key_malformed",
                "Bindify is not configured: the encryption key is malformed",
                "TOKEN_ENCRYPTION_KEY must be 32 random bytes in base64. Generate one with `openssl rand -base64 32` and set it again.",
            ),
            E::StateMissing => (
                400,
                "state_missing",
                "This sign-in link is incomplete",
                START_AGAIN,
            ),
            E::StateInvalid => (
                400,
                "state_invalid",
                "This sign-in link is not valid",
                START_AGAIN,
            ),
            E::StateExpired => (
                400,
                "state_expired",
                "This sign-in took too long and expired",
                START_AGAIN,
            ),
            E::StateUsed => (
                400,
                "state_used",
                "This sign-in was already completed or abandoned",
                "Each sign-in link works once. If you did not finish connecting, start again from the Bindify home page.",
            ),
            E::StateForeign => (
                403,
                "state_foreign",
                "This sign-in was started in another browser",
                "Finish connecting in the browser where you started, or start again here.",
            ),
            E::AccessDenied { .. } => (
                403,
                "access_denied",
                "Authorization was declined",
                "Nothing was stored. Start again if you want to connect, and choose Allow on the service's consent screen.",
            ),
            E::AuthorizationError { .. } => (
                502,
                "authorization_error",
                "The service reported an error",
                "Nothing was stored. Try again; if it keeps failing, the service may be having trouble.",
            ),
            E::IssuerMismatch => (
                400,
                "issuer_mismatch",
                "The answer came from the wrong authorization server",
                START_AGAIN,
            ),
            E::IssuerMissing => (
                400,
                "issuer_missing",
                "The answer did not say which authorization server sent it",
                START_AGAIN,
            ),
            E::CodeMissing => (
                400,
                "code_missing",
                "The service sent no authorization code",
                START_AGAIN,
            ),
            E::TokenExchange(_) => (
                502,
                "token_exchange_failed",
                "The service did not issue tokens",
                "Nothing was stored. Start again; if it keeps failing, the service may be having trouble.",
            ),
            E::Store(_) => (
                503,
                "storage_unavailable",
                "Bindify could not reach its storage",
                "Try again in a moment.",
            ),
            E::Seal(_) | E::Random => (
                500,
                "internal_error",
                "Bindify hit an internal error",
                "Try again. If it keeps happening, check the Worker's logs.",
            ),
            E::MachineCredentials(_) => (
                200,
                "credentials_needed",
                "This server authorizes programs, not people",
                "Enter the client ID and the secret or private key its operator gave you.",
            ),
            E::Credentials(_) | E::ApiKey(_) => (
                400,
                "credentials_invalid",
                "These credentials cannot be used",
                "Correct them and try again; nothing was stored.",
            ),
            E::GrantNotOffered(_) => (
                400,
                "grant_not_offered",
                "The server does not take these credentials",
                "Nothing was stored. Use the kind of credentials the server's operator gave you.",
            ),
            E::KeyRefused(_) => (
                400,
                "api_key_refused",
                "The server refused the API key",
                "Nothing was stored. Check the key and the header it goes in, then try again.",
            ),
            E::NotOpen(_) => (
                400,
                "authorization_required",
                "This server is not open",
                "Nothing was stored. Connect it with OAuth (paste its URL on the home page) or with an API key.",
            ),
            E::Own(own) => (
                own.status(),
                own.code(),
                match own {
                    OwnFailure::Storage { .. } => "Bindify could not reach its storage",
                    OwnFailure::Misconfigured { .. } => "Bindify is misconfigured",
                    OwnFailure::Internal => "Bindify hit an internal error",
                },
                "See docs/configuration.md and the Worker's log.",
            ),
        };
        Problem {
            status,
            code,
            title,
            detail: self.detail(),
            next_step,
        }
    }

    /// The user-facing explanation. Never contains a token, a code, a state or a key.
    fn detail(&self) -> String {
        match self {
            ConnectError::AccessDenied { description }
            | ConnectError::AuthorizationError { description, .. } => {
                let base = self.to_string();
                match description {
                    Some(d) => format!("{base}: {d}"),
                    None => base,
                }
            }
            ConnectError::KeyMalformed(e) => e.to_string(),
            ConnectError::Own(own) => own.message(),
            ConnectError::Store(_) | ConnectError::Seal(_) | ConnectError::Random => {
                "The request could not be completed.".into()
            }
            other => other.to_string(),
        }
    }
}
