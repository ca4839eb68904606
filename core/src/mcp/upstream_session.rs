//! Bindify as the client of an upstream MCP server, for a session it holds itself: a legacy
//! HTTP+SSE session of its own client, or a bridge from a Streamable HTTP client to an
//! upstream that only speaks HTTP+SSE. The Worker's `SseSession` object does the I/O; the
//! rules are here:
//!
//! - which transport the upstream speaks ([`UpstreamState`]), found on the first
//!   `initialize`: a 4xx to a POST `initialize` means HTTP+SSE ([`means_legacy_upstream`],
//!   MCP 2025-03-26 basic/transports "Backwards Compatibility");
//! - what a Streamable HTTP request of the session carries ([`UpstreamState::post_headers`]);
//! - when the upstream lost the session ([`lost_session`]) and the `initialize` Bindify then
//!   replays with its own id ([`reinitialize_body`]), whose answer the client never sees
//!   ([`is_reinitialize_answer`]);
//! - how much Bindify reads while it waits for a legacy upstream's `endpoint` event
//!   ([`EndpointWait`]);
//! - how reconnects to a legacy upstream whose stream dropped back off
//!   ([`legacy_reconnect_delay_ms`]).

use std::fmt;

use serde_json::Value;

use crate::mcp::legacy_sse::{self, EndpointError, resolve_endpoint};
use crate::mcp::proxy_headers::{MCP_PROTOCOL_VERSION, MCP_SESSION_ID};
use crate::mcp::sse::{SseItem, SseParser};

/// The JSON-RPC id of the `initialize` Bindify replays itself; its answer is not relayed.
pub const REINITIALIZE_ID: &str = "bindify-reinitialize";

/// The notification that completes Bindify's own re-initialization.
pub const INITIALIZED: &[u8] = br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;

/// Bytes Bindify reads from a legacy upstream's stream while waiting for its `endpoint`
/// event. The event comes first and is a few hundred bytes; the budget leaves room for the
/// padding comments some servers send first to get past buffering proxies (2 KiB is common),
/// and stops an upstream that streams anything else instead.
pub const ENDPOINT_WAIT_BYTES: usize = 64 * 1024;

/// How long Bindify waits for a legacy upstream's `endpoint` event once its stream is open, in
/// milliseconds. Servers send it at once; ten seconds allows for a slow start without letting
/// a silent stream hold the client's `initialize`.
pub const ENDPOINT_WAIT_MS: u64 = 10_000;

/// First delay before reconnecting to a legacy upstream whose stream dropped, in
/// milliseconds; it doubles with each failure in a row.
pub const LEGACY_RECONNECT_BASE_MS: u64 = 1_000;

/// Reconnect attempts in a row before Bindify gives up and ends its client's stream (the
/// client then starts a new session): 1 + 2 + 4 + 8 + 16 + 32 s, about a minute of trying.
pub const LEGACY_RECONNECT_ATTEMPTS: u32 = 6;

/// A legacy stream that stayed open this long counts as healthy: its next drop starts the
/// backoff from the beginning again, in milliseconds.
pub const LEGACY_STREAM_STABLE_MS: i64 = 60_000;

/// How Bindify speaks to the upstream in one session.
#[derive(Clone, PartialEq, Eq)]
pub enum UpstreamState {
    /// Not known until the client's first message.
    Unknown,
    /// Streamable HTTP (revision 2025-03-26 and later): POSTs, with the session id the
    /// upstream assigned, and an optional GET stream for server-initiated messages.
    Streamable {
        session_id: Option<String>,
        version: Option<String>,
        listening: bool,
    },
    /// HTTP+SSE (2024-11-05): a stream from the upstream, and the URL its `endpoint` event
    /// named.
    Legacy { post_url: String },
}

/// The upstream's session id and endpoint URL are credentials at the upstream: not shown.
impl fmt::Debug for UpstreamState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UpstreamState::Unknown => f.write_str("Unknown"),
            UpstreamState::Streamable {
                session_id,
                version,
                listening,
            } => f
                .debug_struct("Streamable")
                .field("session_id", &session_id.as_ref().map(|_| "[redacted]"))
                .field("version", version)
                .field("listening", listening)
                .finish(),
            UpstreamState::Legacy { .. } => f
                .debug_struct("Legacy")
                .field("post_url", &"[redacted]")
                .finish(),
        }
    }
}

impl UpstreamState {
    /// Whether the upstream assigned a Streamable HTTP session.
    pub fn has_session(&self) -> bool {
        matches!(
            self,
            UpstreamState::Streamable {
                session_id: Some(_),
                ..
            }
        )
    }

    /// Takes in an answer to a Streamable HTTP POST: the first one settles the transport, and
    /// an `Mcp-Session-Id` it carries becomes the session's.
    pub fn after_post(&mut self, session_id: Option<String>) {
        match self {
            UpstreamState::Streamable {
                session_id: current,
                ..
            } => {
                if session_id.is_some() {
                    *current = session_id;
                }
            }
            UpstreamState::Unknown => {
                *self = UpstreamState::Streamable {
                    session_id,
                    version: None,
                    listening: false,
                };
            }
            UpstreamState::Legacy { .. } => {}
        }
    }

    /// Notes the protocol revision the upstream's `initialize` answer names.
    pub fn negotiated(&mut self, version: String) {
        if let UpstreamState::Streamable { version: v, .. } = self {
            *v = Some(version);
        }
    }

    /// Marks the upstream's GET stream as opened; `false` when there is no session to listen
    /// on or it is open already.
    pub fn start_listening(&mut self) -> bool {
        match self {
            UpstreamState::Streamable {
                session_id: Some(_),
                listening,
                ..
            } if !*listening => {
                *listening = true;
                true
            }
            _ => false,
        }
    }

    /// Forgets the upstream's session, before Bindify initializes a new one.
    pub fn forget(&mut self) {
        *self = UpstreamState::Unknown;
    }

    /// The header fields of a Streamable HTTP POST in this session (MCP basic/transports
    /// "Sending Messages to the Server", "Session Management", "Protocol Version Header").
    pub fn post_headers(&self) -> Vec<(&'static str, String)> {
        let mut headers = vec![
            (crate::headers::CONTENT_TYPE, "application/json".to_owned()),
            (
                crate::headers::ACCEPT,
                "application/json, text/event-stream".to_owned(),
            ),
        ];
        headers.extend(self.session_headers());
        headers
    }

    /// The header fields of the GET that opens the upstream's stream for server-initiated
    /// messages (MCP basic/transports "Listening for Messages from the Server").
    pub fn listen_headers(&self) -> Vec<(&'static str, String)> {
        let mut headers = vec![(crate::headers::ACCEPT, "text/event-stream".to_owned())];
        headers.extend(self.session_headers());
        headers
    }

    fn session_headers(&self) -> Vec<(&'static str, String)> {
        let mut headers = Vec::new();
        if let UpstreamState::Streamable {
            session_id,
            version,
            ..
        } = self
        {
            if let Some(id) = session_id {
                headers.push((MCP_SESSION_ID, id.clone()));
            }
            if let Some(version) = version {
                headers.push((MCP_PROTOCOL_VERSION, version.clone()));
            }
        }
        headers
    }
}

/// Whether the answer `status` to a client's POST `initialize`, sent as Streamable HTTP
/// outside any upstream session, means the upstream only speaks HTTP+SSE (MCP 2025-03-26
/// basic/transports "Backwards Compatibility": a 4xx such as 404 or 405; 400 too, which some
/// legacy servers answer to a POST on their SSE URL).
pub fn means_legacy_upstream(initialize: bool, in_upstream_session: bool, status: u16) -> bool {
    initialize && !in_upstream_session && matches!(status, 400 | 404 | 405)
}

/// Whether a Streamable HTTP answer `status` means the upstream lost the session it assigned
/// (MCP basic/transports "Session Management": a 404 to a request carrying the session id).
pub fn lost_session(had_session: bool, status: u16) -> bool {
    had_session && status == 404
}

/// The client's `initialize` request, with Bindify's own id, to start a new upstream session
/// when the upstream lost the old one. `None` when `original` is not a JSON object.
pub fn reinitialize_body(original: &[u8]) -> Option<Vec<u8>> {
    let mut value: Value = crate::json::parse(original).ok()?;
    value
        .as_object_mut()?
        .insert("id".into(), Value::String(REINITIALIZE_ID.into()));
    serde_json::to_vec(&value).ok()
}

/// Whether `message` answers Bindify's own re-initialization (and must not reach the client).
pub fn is_reinitialize_answer(message: &str) -> bool {
    let Ok(value) = crate::json::parse(message.as_bytes()) else {
        return false;
    };
    let answers = value.get("result").is_some() || value.get("error").is_some();
    answers && value.get("id").and_then(Value::as_str) == Some(REINITIALIZE_ID)
}

/// The delay before reconnect attempt `attempt` (1-based) to a legacy upstream, or `None`
/// once [`LEGACY_RECONNECT_ATTEMPTS`] have failed in a row.
pub fn legacy_reconnect_delay_ms(attempt: u32) -> Option<u64> {
    if attempt == 0 || attempt > LEGACY_RECONNECT_ATTEMPTS {
        return None;
    }
    Some(LEGACY_RECONNECT_BASE_MS.saturating_mul(1_u64 << (attempt - 1).min(16)))
}

/// Why waiting for a legacy upstream's `endpoint` event failed. Messages quote no URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointWaitError {
    #[error("the server sent more than {ENDPOINT_WAIT_BYTES} bytes without naming an endpoint")]
    OverBudget,
    #[error("{0}")]
    Endpoint(#[from] EndpointError),
}

/// What a legacy upstream's stream said so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Waited {
    /// Not yet an `endpoint` event.
    More,
    /// The URL to POST to, and the messages the stream carried so far (before the endpoint or
    /// after it in the same chunk), in order.
    Endpoint {
        post_url: url::Url,
        messages: Vec<String>,
    },
}

/// Reads the start of a legacy upstream's stream up to its `endpoint` event, within
/// [`ENDPOINT_WAIT_BYTES`].
#[derive(Debug)]
pub struct EndpointWait {
    stream_url: url::Url,
    parser: SseParser,
    read: usize,
    messages: Vec<String>,
}

impl EndpointWait {
    /// Waits for the endpoint of the stream opened at `stream_url` (relative endpoints
    /// resolve against it, and it must stay on its origin).
    pub fn new(stream_url: url::Url) -> Self {
        EndpointWait {
            stream_url,
            parser: SseParser::new(),
            read: 0,
            messages: Vec::new(),
        }
    }

    /// Takes the next chunk of the stream.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Waited, EndpointWaitError> {
        self.read = self.read.saturating_add(chunk.len());
        let mut post_url = None;
        for item in self.parser.push(chunk) {
            match item {
                // A second `endpoint` event is ignored: the first one decides.
                SseItem::Event(event)
                    if legacy_sse::is_endpoint_event(&event) && post_url.is_none() =>
                {
                    post_url = Some(resolve_endpoint(&self.stream_url, &event.data)?);
                }
                SseItem::Event(event)
                    if legacy_sse::is_message_event(&event) && !event.data.is_empty() =>
                {
                    self.messages.push(event.data);
                }
                _ => {}
            }
        }
        match post_url {
            Some(post_url) => Ok(Waited::Endpoint {
                post_url,
                messages: std::mem::take(&mut self.messages),
            }),
            None if self.read > ENDPOINT_WAIT_BYTES => Err(EndpointWaitError::OverBudget),
            None => Ok(Waited::More),
        }
    }

    /// The parser, to read the rest of the stream where the wait left it.
    pub fn into_parser(self) -> SseParser {
        self.parser
    }
}

#[cfg(test)]
mod tests;
