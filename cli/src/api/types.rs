//! The management API's bodies (docs/api.md), as the CLI reads them. Tolerant on purpose: an
//! unknown field is ignored and `state` is free text, so a CLI works with a Worker a version
//! ahead of it.

use bindify_core::connect::cli_flow::ConnectCode;
use bindify_core::lifecycle::activity::view::ActivityView;
use serde::{Deserialize, Serialize};

/// A connection as `GET /api/connections` lists it. Holds no token and no URL secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connection {
    pub id: String,
    #[serde(default)]
    pub label: String,
    #[serde(default)]
    pub upstream: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub access_token_expires_at: Option<String>,
    #[serde(default)]
    pub last_refresh_at: Option<String>,
    #[serde(default)]
    pub last_error: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    /// `oauth`, `client_credentials`, `identity_assertion`, `api_key` or `open`; absent from
    /// older Workers.
    #[serde(default)]
    pub kind: Option<String>,
    /// When the grant ends whatever Bindify does, where that is known.
    #[serde(default)]
    pub grant_expires_at: Option<String>,
    /// Whether the Worker holds a refresh token for it.
    #[serde(default)]
    pub refreshable: bool,
    /// Whether its access token states an expiry. A listing leaves a refreshable grant's
    /// expiry out (its object refreshes it ahead of time); `GET /api/connections/<id>` has it.
    #[serde(default)]
    pub token_expires: bool,
    /// Uses, errors and refreshes; absent from older Workers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity: Option<ActivityView>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ConnectionList {
    pub connections: Vec<Connection>,
}

/// `DELETE /api/connections/<id>`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Revoked {
    pub revoked: bool,
    /// `revoked`, `unsupported` or `failed`.
    pub upstream_revocation: String,
    /// How long the old URL can still answer (`REVOCATION_BOUND_SECONDS`); absent from a
    /// Worker of an earlier version, whose old URLs stopped at once.
    #[serde(default)]
    pub old_url_answers_for_seconds: u64,
}

/// `POST /api/connections/<id>/rotate`, and the URLs of a new connection. `Debug` leaves them
/// out: they carry the URL secret.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermanentUrls {
    pub mcp_url: String,
    pub sse_url: String,
    /// After a rotation: how long the old URL can still answer (see [`Revoked`]).
    #[serde(default)]
    pub old_url_answers_for_seconds: u64,
}

impl std::fmt::Debug for PermanentUrls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PermanentUrls").finish_non_exhaustive()
    }
}

/// `POST /api/connections/<id>/reconnect`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reconnect {
    pub reconnect_url: String,
}

/// `POST /api/connect`. `Debug` leaves out the code and the link that carries it.
#[derive(Clone, Deserialize)]
pub struct ConnectStarted {
    pub code: ConnectCode,
    pub browser_url: String,
    #[serde(default)]
    pub expires_at: Option<String>,
}

impl std::fmt::Debug for ConnectStarted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectStarted")
            .field("code", &self.code)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// `GET /api/connect/<code>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ConnectStatus {
    Pending,
    Connected(Connected),
    Failed {
        error: String,
        #[serde(default)]
        message: String,
    },
}

/// A finished CLI connect flow: the only answer besides rotate that carries permanent URLs.
/// `Debug` leaves them out.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connected {
    pub id: String,
    #[serde(default)]
    pub label: String,
    #[serde(default)]
    pub upstream: String,
    pub mcp_url: String,
    pub sse_url: String,
}

impl std::fmt::Debug for Connected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connected")
            .field("id", &self.id)
            .field("label", &self.label)
            .field("upstream", &self.upstream)
            .finish_non_exhaustive()
    }
}

/// `PUT /api/clients`: the client as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnteredClient {
    pub issuer: String,
    pub client_id: String,
    #[serde(default)]
    pub redirect_uri: Option<String>,
}

/// `GET /api/health`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Health {
    #[serde(default)]
    pub version: Option<String>,
    /// `ok`, `missing` or `malformed`.
    pub encryption_key: String,
    /// `set` or `missing`.
    pub admin_token: String,
    /// `ok`, `unbound` (no VAULT KV namespace) or `unavailable`; absent from older Workers.
    #[serde(default)]
    pub storage: Option<String>,
    #[serde(default)]
    pub last_cron_run: Option<String>,
    #[serde(default)]
    pub connections: Option<u64>,
}

/// Every error body: `{"error": "<code>", "message": "…"}`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ApiErrorBody {
    #[serde(default)]
    pub error: String,
    #[serde(default)]
    pub message: String,
}
