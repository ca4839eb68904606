//! Every failure a client of a permanent URL can meet, where it comes from, and the one
//! mapping from each to what the client is told: a JSON-RPC error code, an HTTP status, a
//! message, `data` and `Retry-After`. docs/errors.md lists the same table for people.
//!
//! A failure knows its [`Source`]: Bindify's own storage, Bindify's configuration, Bindify
//! itself, the authorization server, the upstream MCP server, or the client's request. Bindify's
//! own failures are never reported as the upstream's or its authorization server's, and every
//! error Bindify answers carries its source in `data.source`.
//!
//! Requests get their error with their own ids and HTTP 200, so MCP clients show the message;
//! anything without a request id (a GET stream, a DELETE, notifications) gets the failure's
//! HTTP status. None is a 401, which would send the client into an OAuth flow of its own. No
//! message carries the URL secret, a token or a key.

mod own;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::mcp::jsonrpc::{self, Inbound, JsonRpcReject};
use crate::mcp::relay::Foreign;
use crate::settings::Variable;
use crate::time::{UnixMillis, rfc3339};
pub use own::{ConfigProblem, OwnFailure, StorageFailure};

/// JSON-RPC server error codes Bindify uses (the -32000 to -32099 range is for servers).
/// The grant is gone at the authorization server: the owner must authorize again.
pub const NEEDS_REAUTH: i64 = -32001;
/// The authorization server's token endpoint is failing.
pub const AUTH_SERVER_UNAVAILABLE: i64 = -32002;
/// The upstream MCP server gave no HTTP answer.
pub const UPSTREAM_UNREACHABLE: i64 = -32003;
/// A browser page on another origin tried to use the connection.
pub const FORBIDDEN_ORIGIN: i64 = -32004;
/// The upstream answered with something Bindify does not relay (see [`crate::mcp::relay`]).
pub const UPSTREAM_BAD_ANSWER: i64 = -32005;
/// The upstream refused Bindify's access token, and a refresh did not help or is not allowed
/// yet (see [`crate::lifecycle::refresh::RejectionRefreshes`]).
pub const UPSTREAM_REFUSED_TOKEN: i64 = -32006;
/// Bindify's own storage failed.
pub const STORAGE_FAILED: i64 = -32007;
/// Bindify's configuration is missing or wrong.
pub const MISCONFIGURED: i64 = -32008;
/// The upstream needs a token with more scopes (`403 insufficient_scope`): the owner authorizes
/// again, asking for them (see [`crate::oauth::step_up`]).
pub const INSUFFICIENT_SCOPE: i64 = -32009;

/// `Retry-After` of an unreachable upstream, in seconds.
const UNREACHABLE_RETRY_AFTER: u64 = 10;

/// Where a failure comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    BindifyStorage,
    BindifyConfiguration,
    /// Bindify itself (a bug, or the platform's random number generator failing).
    Bindify,
    AuthorizationServer,
    UpstreamServer,
    ClientRequest,
}

/// Why a request on a permanent URL got no answer from its upstream.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// Bindify's own storage, configuration, or Bindify itself.
    Own(OwnFailure),
    /// The authorization server revoked the grant (`invalid_grant`), or never issued a refresh
    /// token: only the owner can fix it, by authorizing again.
    NeedsReauth,
    /// The authorization server's token endpoint is failing. `retry_at` is when the next
    /// request makes Bindify try it again.
    AuthServerUnavailable {
        authorization_server: String,
        retry_at: UnixMillis,
    },
    /// The upstream refused the token with a 401, and a renewed token did not help or is not
    /// allowed yet (`retry_at`: when a refusal may renew it again).
    TokenRefused {
        upstream: String,
        retry_at: Option<UnixMillis>,
    },
    /// The upstream refused the owner's API key with a 401 (a static credential: nothing to
    /// renew).
    KeyRefused { upstream: String },
    /// The upstream answered `403 insufficient_scope`: a token with `scopes` is needed.
    /// `exhausted`: those scopes were authorized as often as the step-up limit allows, and
    /// another authorization would not help.
    InsufficientScope {
        upstream: String,
        scopes: Vec<String>,
        exhausted: bool,
    },
    /// The upstream gave no HTTP answer. `detail` is safe to show: no URL, header or body.
    UpstreamUnreachable { upstream: String, detail: String },
    /// The upstream answered with something Bindify does not relay.
    UpstreamBadAnswer { upstream: String, foreign: Foreign },
    /// A browser page on an origin that may not use the connection.
    ForbiddenOrigin,
    /// A method other than POST, GET and DELETE.
    MethodNotAllowed,
    /// A body that is not JSON-RPC 2.0, or too large.
    Rejected(JsonRpcReject),
}

impl From<OwnFailure> for Failure {
    fn from(own: OwnFailure) -> Self {
        Failure::Own(own)
    }
}

/// What the client is told about a failure.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub source: Source,
    /// The JSON-RPC error code.
    pub code: i64,
    /// The HTTP status without request ids (with them, requests get 200 and their ids, unless
    /// `per_request` is false).
    pub status: u16,
    /// Whether each request gets the error with its own id (and HTTP 200). A request refused
    /// before it was understood (a malformed body, a foreign origin) is answered once.
    pub per_request: bool,
    pub message: String,
    pub data: Option<Value>,
    /// Seconds, for `Retry-After`.
    pub retry_after: Option<u64>,
}

/// An answer Bindify gives itself instead of forwarding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub body: String,
    /// Seconds, for `Retry-After`.
    pub retry_after: Option<u64>,
}

impl Failure {
    pub fn source(&self) -> Source {
        match self {
            Failure::Own(own) => own.source(),
            Failure::NeedsReauth | Failure::AuthServerUnavailable { .. } => {
                Source::AuthorizationServer
            }
            Failure::TokenRefused { .. }
            | Failure::KeyRefused { .. }
            | Failure::InsufficientScope { .. }
            | Failure::UpstreamUnreachable { .. }
            | Failure::UpstreamBadAnswer { .. } => Source::UpstreamServer,
            Failure::ForbiddenOrigin | Failure::MethodNotAllowed | Failure::Rejected(_) => {
                Source::ClientRequest
            }
        }
    }

    /// The one mapping from a failure to what the client is told. `reconnect_url` is the
    /// dashboard page where the owner authorizes the connection again (never the URL secret).
    pub fn answer(&self, reconnect_url: &str, now: UnixMillis) -> Answer {
        let source = self.source();
        let answer = |code, status, message: String, data: Value, retry_after| Answer {
            source,
            code,
            status,
            per_request: true,
            message,
            data: Some(with_source(data, source)),
            retry_after,
        };
        match self {
            Failure::Own(own) => Answer {
                source,
                code: match own {
                    OwnFailure::Storage { .. } => STORAGE_FAILED,
                    OwnFailure::Misconfigured { .. } => MISCONFIGURED,
                    OwnFailure::Internal => jsonrpc::INTERNAL_ERROR,
                },
                status: own.status(),
                per_request: true,
                message: own.message(),
                data: Some(own.data()),
                retry_after: own.retry_after(),
            },
            Failure::NeedsReauth => answer(
                NEEDS_REAUTH,
                503,
                format!(
                    "Bindify: this connection's authorization has expired or was revoked. Open {reconnect_url} in a browser to authorize it again; this URL keeps working afterwards."
                ),
                json!({ "reconnect_url": reconnect_url, "state": "needs_reauth" }),
                None,
            ),
            Failure::AuthServerUnavailable {
                authorization_server,
                retry_at,
            } => {
                let wait = seconds_until(*retry_at, now);
                // An attempt that took longer than the interval leaves nothing to wait for.
                let when = if *retry_at > now {
                    format!(
                        "The next request after {} tries again (in {wait} s).",
                        rfc3339(*retry_at)
                    )
                } else {
                    "The next request tries again.".to_owned()
                };
                answer(
                    AUTH_SERVER_UNAVAILABLE,
                    503,
                    format!(
                        "Bindify: the authorization server {authorization_server} is unavailable, so the access token could not be renewed. {when}"
                    ),
                    json!({
                        "authorization_server": authorization_server,
                        "retry_at": rfc3339(*retry_at),
                        "state": "error",
                    }),
                    Some(wait),
                )
            }
            Failure::TokenRefused { upstream, retry_at } => {
                let (when, retry_after) = match retry_at {
                    Some(at) => (
                        format!(
                            " Bindify renews a refused token at most once a minute; the next renewal may happen after {}.",
                            rfc3339(*at)
                        ),
                        Some(seconds_until(*at, now)),
                    ),
                    None => (String::new(), None),
                };
                answer(
                    UPSTREAM_REFUSED_TOKEN,
                    503,
                    format!(
                        "Bindify: the MCP server {upstream} refused the access token, and a renewed token did not help.{when} If this persists, the owner can authorize the connection again at {reconnect_url}."
                    ),
                    json!({
                        "upstream": upstream,
                        "reconnect_url": reconnect_url,
                        "retry_at": retry_at.map(rfc3339),
                    }),
                    retry_after,
                )
            }
            Failure::KeyRefused { upstream } => answer(
                UPSTREAM_REFUSED_TOKEN,
                503,
                format!(
                    "Bindify: the MCP server {upstream} refused the API key. If it was revoked or replaced, the owner can enter the new one at {reconnect_url}; this URL keeps working afterwards."
                ),
                json!({ "upstream": upstream, "reconnect_url": reconnect_url }),
                None,
            ),
            Failure::InsufficientScope {
                upstream,
                scopes,
                exhausted: false,
            } => answer(
                INSUFFICIENT_SCOPE,
                403,
                format!(
                    "Bindify: the MCP server {upstream} needs more access for this request (scopes: {}). The owner can authorize the connection again with these scopes at {reconnect_url}; this URL keeps working afterwards.",
                    scopes.join(" ")
                ),
                json!({
                    "upstream": upstream,
                    "scopes": scopes,
                    "reconnect_url": reconnect_url,
                    "state": "insufficient_scope",
                }),
                None,
            ),
            Failure::InsufficientScope {
                upstream,
                scopes,
                exhausted: true,
            } => answer(
                INSUFFICIENT_SCOPE,
                403,
                format!(
                    "Bindify: the MCP server {upstream} keeps refusing this request for lack of the scopes {}, although they were authorized {} times in a row. Authorizing again will not help: the server's operator must grant them.",
                    scopes.join(" "),
                    crate::oauth::step_up::MAX_AUTHORIZATIONS_PER_SCOPES
                ),
                json!({
                    "upstream": upstream,
                    "scopes": scopes,
                    "state": "insufficient_scope_exhausted",
                }),
                None,
            ),
            Failure::UpstreamUnreachable { upstream, detail } => answer(
                UPSTREAM_UNREACHABLE,
                503,
                format!("Bindify could not reach the MCP server {upstream}: {detail}"),
                json!({ "upstream": upstream }),
                Some(UNREACHABLE_RETRY_AFTER),
            ),
            Failure::UpstreamBadAnswer { upstream, foreign } => answer(
                UPSTREAM_BAD_ANSWER,
                502,
                format!(
                    "Bindify did not relay the answer of the MCP server {upstream}: it answered {}, and only application/json and text/event-stream answers are relayed.",
                    foreign.describe()
                ),
                json!({ "upstream": upstream, "status": foreign.status() }),
                None,
            ),
            Failure::ForbiddenOrigin => Answer {
                per_request: false,
                ..answer(
                    FORBIDDEN_ORIGIN,
                    403,
                    format!(
                        "Forbidden: this Origin may not use the connection (set {} to allow it)",
                        Variable::AllowedOrigins
                    ),
                    Value::Null,
                    None,
                )
            },
            Failure::MethodNotAllowed => Answer {
                per_request: false,
                ..answer(
                    jsonrpc::INVALID_REQUEST,
                    405,
                    "Method not allowed: use POST, GET or DELETE".to_owned(),
                    Value::Null,
                    None,
                )
            },
            // JSON-RPC 2.0 §5.1 errors carry no data: the message says it all.
            Failure::Rejected(reject) => Answer {
                source,
                code: reject.code,
                status: reject.http_status(),
                per_request: false,
                message: reject.message.to_owned(),
                data: None,
                retry_after: None,
            },
        }
    }

    /// The failure as an answer to `inbound` (`None` for a GET or DELETE): its requests get
    /// errors with their ids and HTTP 200, so MCP clients surface the message; anything else
    /// gets the failure's status.
    pub fn refusal(
        &self,
        inbound: Option<&Inbound>,
        reconnect_url: &str,
        now: UnixMillis,
    ) -> Refusal {
        let answer = self.answer(reconnect_url, now);
        let once_id = match self {
            Failure::Rejected(reject) => reject.id.clone(),
            _ => Value::Null,
        };
        let body = match inbound {
            Some(Inbound::Requests { ids, batch, .. }) if answer.per_request => {
                let errors: Vec<String> = ids
                    .iter()
                    .map(|id| {
                        jsonrpc::error_response(
                            id.clone(),
                            answer.code,
                            &answer.message,
                            answer.data.clone(),
                        )
                    })
                    .collect();
                let body = if *batch {
                    format!("[{}]", errors.join(","))
                } else {
                    errors.into_iter().next().unwrap_or_default()
                };
                return Refusal {
                    status: 200,
                    body,
                    retry_after: answer.retry_after,
                };
            }
            _ => jsonrpc::error_response(once_id, answer.code, &answer.message, answer.data),
        };
        Refusal {
            status: answer.status,
            body,
            retry_after: answer.retry_after,
        }
    }
}

fn with_source(data: Value, source: Source) -> Value {
    match data {
        Value::Object(mut map) => {
            map.insert("source".into(), json!(source));
            Value::Object(map)
        }
        _ => json!({ "source": source }),
    }
}

/// Whole seconds from `now` to `at`, at least 1.
pub fn seconds_until(at: UnixMillis, now: UnixMillis) -> u64 {
    let millis = at.saturating_sub(now).max(1);
    u64::try_from(millis.saturating_add(999) / 1000).unwrap_or(1)
}

#[cfg(test)]
mod tests;
