//! The calls to an `SseSession` object, which holds one legacy HTTP+SSE session or one bridged
//! Streamable HTTP session. Every call carries the hash of the URL secret it came with; the
//! object serves it only to the URL that opened the session.
//!
//! The object's answers go to the MCP client as they are (an event stream, a JSON-RPC error,
//! `202`), except [`UNKNOWN_SESSION`], which says that the session does not exist or is not
//! this URL's.

use super::{Method, ProtocolError, Received, Wire, header};
use crate::secret::SecretHash;

/// The status of the answer for a session that does not exist or belongs to another URL (the
/// same 404 as any unknown path).
pub const UNKNOWN_SESSION: u16 = 404;

/// What starts a session: its id, its connection, and the dashboard page where the owner
/// authorizes the connection again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opening {
    pub session: String,
    pub connection_id: String,
    pub reconnect_url: String,
}

/// A call to a session's object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseCall {
    /// `GET /sse`: a new legacy session, whose `endpoint` event names `endpoint`.
    Open { opening: Opening, endpoint: String },
    /// `GET /sse` with `Last-Event-ID`: the events after number `after`.
    Resume { after: u64 },
    /// `POST /message`: one client message of a legacy session.
    Message { body: Vec<u8> },
    /// A Streamable HTTP client's POST to a bridged session; `opening` when it starts it (its
    /// `initialize`).
    BridgePost {
        opening: Option<Opening>,
        body: Vec<u8>,
    },
    /// A bridged session's GET stream.
    BridgeListen,
    /// A bridged session's DELETE.
    BridgeEnd,
}

const OPEN: &str = "/open";
const RESUME: &str = "/resume";
const MESSAGE: &str = "/message";
const BRIDGE: &str = "/bridge";

impl Opening {
    fn headers(&self, headers: &mut Vec<(&'static str, String)>) {
        headers.push((header::SESSION, self.session.clone()));
        headers.push((header::CONNECTION_ID, self.connection_id.clone()));
        headers.push((header::RECONNECT, self.reconnect_url.clone()));
    }

    fn received(received: &Received<'_>) -> Result<Self, ProtocolError> {
        Ok(Opening {
            session: received.required(header::SESSION)?.to_owned(),
            connection_id: received.required(header::CONNECTION_ID)?.to_owned(),
            reconnect_url: received.required(header::RECONNECT)?.to_owned(),
        })
    }
}

impl SseCall {
    /// The call, from the holder of the URL secret with hash `hash`.
    pub fn wire(&self, hash: &SecretHash) -> Wire {
        let mut headers = vec![(header::SECRET_HASH, hash.to_hex())];
        let (method, path, body) = match self {
            SseCall::Open { opening, endpoint } => {
                opening.headers(&mut headers);
                headers.push((header::ENDPOINT, endpoint.clone()));
                (Method::Post, OPEN, None)
            }
            SseCall::Resume { after } => {
                headers.push((header::AFTER, after.to_string()));
                (Method::Get, RESUME, None)
            }
            SseCall::Message { body } => (Method::Post, MESSAGE, Some(body.clone())),
            SseCall::BridgePost { opening, body } => {
                if let Some(opening) = opening {
                    opening.headers(&mut headers);
                }
                (Method::Post, BRIDGE, Some(body.clone()))
            }
            SseCall::BridgeListen => (Method::Get, BRIDGE, None),
            SseCall::BridgeEnd => (Method::Delete, BRIDGE, None),
        };
        Wire {
            method,
            path,
            headers,
            body,
        }
    }

    /// The call an object received, with the hash of the URL secret it came with.
    pub fn receive(received: &Received<'_>) -> Result<(SecretHash, SseCall), ProtocolError> {
        let hash = SecretHash::from_hex(received.required(header::SECRET_HASH)?)
            .ok_or(ProtocolError::BadHeader(header::SECRET_HASH))?;
        let call = match (received.method, received.path) {
            (Method::Post, OPEN) => SseCall::Open {
                opening: Opening::received(received)?,
                endpoint: received.required(header::ENDPOINT)?.to_owned(),
            },
            (Method::Get, RESUME) => SseCall::Resume {
                after: received
                    .required(header::AFTER)?
                    .parse()
                    .map_err(|_| ProtocolError::BadHeader(header::AFTER))?,
            },
            (Method::Post, MESSAGE) => SseCall::Message {
                body: received.body.to_vec(),
            },
            (Method::Post, BRIDGE) => SseCall::BridgePost {
                opening: received
                    .header(header::SESSION)
                    .is_some()
                    .then(|| Opening::received(received))
                    .transpose()?,
                body: received.body.to_vec(),
            },
            (Method::Get, BRIDGE) => SseCall::BridgeListen,
            (Method::Delete, BRIDGE) => SseCall::BridgeEnd,
            _ => return Err(ProtocolError::UnknownCall),
        };
        Ok((hash, call))
    }
}
