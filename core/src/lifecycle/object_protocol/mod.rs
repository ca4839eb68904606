//! The calls between the Worker and its Durable Objects, spelled once: each object's calls as
//! an enum ([`connection::ConnectionCall`], [`sse_session::SseCall`],
//! [`throttle::ThrottleCall`], [`cli_code::CliCodeCall`]), the internal header names, and the
//! kinds of reply mapped to and from HTTP status codes and JSON bodies. The Worker's client
//! side turns a call into a [`Wire`] request and a response back into a reply; the object
//! reads the call from what it [`Received`] and answers with a [`Reply`]. Neither side spells
//! a path, a header name or a status code itself.
//!
//! These requests never leave the runtime: a Durable Object stub's `fetch` goes to the object,
//! and the URL's host is a placeholder. The URL secret never crosses, only its hash, which the
//! object compares in constant time against its record's.

pub mod cli_code;
pub mod connection;
pub mod sse_session;
pub mod throttle;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// The internal header names.
pub mod header {
    /// The connection a call is for (`Connection` calls, and `SseSession` calls that open a
    /// session).
    pub const CONNECTION_ID: &str = "x-bindify-connection-id";
    /// SHA-256 (hex) of the URL secret a request came with.
    pub const SECRET_HASH: &str = "x-bindify-secret-hash";
    /// An `SseSession`'s id.
    pub const SESSION: &str = "x-bindify-session";
    /// The `endpoint` a legacy session names to its client.
    pub const ENDPOINT: &str = "x-bindify-endpoint";
    /// The dashboard page where the owner authorizes the connection again.
    pub const RECONNECT: &str = "x-bindify-reconnect";
    /// The last event a resuming client has seen.
    pub const AFTER: &str = "x-bindify-after";
    /// A client's bucket for counting wrong admin tokens.
    pub const CLIENT_BUCKET: &str = "x-bindify-client-bucket";
    /// The hash of a `bindify connect` code.
    pub const CLI_HASH: &str = "x-bindify-cli-hash";
}

/// The method of an internal call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Delete,
}

/// A call as it crosses to an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wire {
    pub method: Method,
    pub path: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<Vec<u8>>,
}

/// A call as an object received it. Header names are compared case-insensitively.
#[derive(Debug, Clone, Copy)]
pub struct Received<'a> {
    pub method: Method,
    pub path: &'a str,
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

impl Received<'_> {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn required(&self, name: &'static str) -> Result<&str, ProtocolError> {
        self.header(name).ok_or(ProtocolError::MissingHeader(name))
    }

    fn json<T: DeserializeOwned>(&self) -> Result<T, ProtocolError> {
        crate::json::from_slice(self.body).map_err(|_| ProtocolError::BadBody)
    }
}

/// An object's answer: an HTTP status and a JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub body: String,
}

/// A call or a reply that does not follow the protocol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("no such call")]
    UnknownCall,
    #[error("the {0} header is missing")]
    MissingHeader(&'static str),
    #[error("the {0} header is malformed")]
    BadHeader(&'static str),
    #[error("the body is malformed")]
    BadBody,
    #[error("the object answered HTTP {status} with a body that is not a reply of that status")]
    BadReply { status: u16 },
}

fn json_body<T: Serialize>(value: &T) -> Option<Vec<u8>> {
    // Serializing the protocol's own types (plain structs and strings) cannot fail.
    Some(serde_json::to_vec(value).unwrap_or_default())
}

/// A reply whose body names its kind (`"created"`, `{"token":{...}}`), and whose status follows
/// from it.
fn encode_reply<T: Serialize>(status: u16, reply: &T) -> Reply {
    Reply {
        status,
        body: serde_json::to_string(reply).unwrap_or_default(),
    }
}

/// Reads a reply, which must carry the status its kind has.
fn decode_reply<T: DeserializeOwned>(
    status: u16,
    body: &str,
    status_of: impl Fn(&T) -> u16,
) -> Result<T, ProtocolError> {
    let reply: T =
        crate::json::from_slice(body.as_bytes()).map_err(|_| ProtocolError::BadReply { status })?;
    if status_of(&reply) != status {
        return Err(ProtocolError::BadReply { status });
    }
    Ok(reply)
}

#[cfg(test)]
mod tests;
