//! Checking what a client POSTs to the MCP endpoint before it goes upstream.
//!
//! MCP messages are JSON-RPC 2.0 (MCP basic/index "Messages"; JSON-RPC 2.0 §4 Request object,
//! §4.1 Notification, §5 Response object, §5.1 Error object, §6 Batch). A Streamable HTTP POST
//! body is one request, notification or response (MCP basic/transports "Sending Messages to
//! the Server"); revision 2025-03-26 also allowed a batch array, later revisions removed it. A
//! batch is accepted here (for 2025-03-26 clients) and each element checked.
//!
//! [`inspect`] tells the proxy what the upstream will answer: a POST with at least one request
//! gets JSON or an SSE stream; a POST of notifications and responses only gets `202 Accepted`.
//! It refuses what is not JSON-RPC 2.0 with the JSON-RPC error the spec prescribes:
//!
//! | input | code | `id` | HTTP status |
//! |---|---|---|---|
//! | over [`MAX_BODY_BYTES`] | -32600 Invalid Request | `null` | 413 |
//! | empty, not UTF-8, not JSON, nested deeper than 128 | -32700 Parse error | `null` | 400 |
//! | an empty batch | -32600 Invalid Request | `null` | 400 |
//! | valid JSON that is not a JSON-RPC 2.0 message | -32600 Invalid Request | the message's `id` when it is a valid id (string or number), else `null` | 400 |
//!
//! In a batch, the first invalid element decides, and the answer is one error object, not an
//! array.
//!
//! MCP narrows JSON-RPC: a request id is a string or a number and never `null` (MCP basic/index
//! "Requests"), and `params` is structured (JSON-RPC §4.2: object or array).

use serde_json::{Map, Value};

#[cfg(test)]
mod tests;

/// Largest POST body the proxy reads from a client, in bytes.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// Invalid JSON was received (JSON-RPC 2.0 §5.1).
pub const PARSE_ERROR: i64 = -32700;
/// The JSON sent is not a valid Request object (JSON-RPC 2.0 §5.1).
pub const INVALID_REQUEST: i64 = -32600;
/// The method does not exist or is not available (JSON-RPC 2.0 §5.1).
pub const METHOD_NOT_FOUND: i64 = -32601;
/// Invalid method parameters (JSON-RPC 2.0 §5.1).
pub const INVALID_PARAMS: i64 = -32602;
/// Internal JSON-RPC error (JSON-RPC 2.0 §5.1).
pub const INTERNAL_ERROR: i64 = -32603;

/// What a valid POST body holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Inbound {
    /// At least one request: the upstream answers with a JSON body or an SSE stream.
    Requests {
        /// The request ids, in body order.
        ids: Vec<Value>,
        /// The request methods, in body order (`methods[i]` belongs to `ids[i]`).
        methods: Vec<String>,
        /// The body was a batch array (revision 2025-03-26 only).
        batch: bool,
    },
    /// Only notifications and/or responses: the upstream answers `202 Accepted` with no body.
    NotificationsOrResponses {
        /// The notification methods, in body order (empty when there were only responses).
        methods: Vec<String>,
        /// The body was a batch array (revision 2025-03-26 only).
        batch: bool,
    },
}

impl Inbound {
    /// Whether the body holds at least one request, so the answer is JSON or SSE, not 202.
    pub fn has_requests(&self) -> bool {
        matches!(self, Self::Requests { .. })
    }

    /// Whether the body was a batch array.
    pub fn is_batch(&self) -> bool {
        match self {
            Self::Requests { batch, .. } | Self::NotificationsOrResponses { batch, .. } => *batch,
        }
    }

    /// The first request's method, else the first notification's; `None` for responses only.
    /// For logs and the `Mcp-Method` header (MCP 2026-07-28 streamable-http "Standard Request
    /// Headers").
    pub fn first_method(&self) -> Option<&str> {
        match self {
            Self::Requests { methods, .. } | Self::NotificationsOrResponses { methods, .. } => {
                methods.first().map(String::as_str)
            }
        }
    }
}

/// Which kind of refusal, for choosing the HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RejectKind {
    /// The body is longer than [`MAX_BODY_BYTES`].
    TooLarge,
    /// Empty, not UTF-8, or not JSON.
    Parse,
    /// JSON, but not a JSON-RPC 2.0 message.
    Invalid,
}

/// A POST body refused before it reached the upstream, with the JSON-RPC error to answer.
/// The `message` never quotes the body, so it is safe to log.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message} ({code})")]
pub struct JsonRpcReject {
    /// [`PARSE_ERROR`] or [`INVALID_REQUEST`].
    pub code: i64,
    /// Human-readable reason, starting with the JSON-RPC 2.0 §5.1 message.
    pub message: &'static str,
    /// The offending message's id when it had a valid one, else `null`.
    pub id: Value,
    /// Which kind of refusal.
    pub kind: RejectKind,
}

impl JsonRpcReject {
    /// The rejection of a body over [`MAX_BODY_BYTES`].
    pub fn too_large() -> Self {
        JsonRpcReject {
            code: INVALID_REQUEST,
            message: "Invalid Request: body larger than 4 MiB",
            id: Value::Null,
            kind: RejectKind::TooLarge,
        }
    }

    fn parse(message: &'static str) -> Self {
        Self {
            code: PARSE_ERROR,
            message,
            id: Value::Null,
            kind: RejectKind::Parse,
        }
    }

    fn invalid(message: &'static str, id: Value) -> Self {
        Self {
            code: INVALID_REQUEST,
            message,
            id,
            kind: RejectKind::Invalid,
        }
    }

    /// `{"jsonrpc":"2.0","id":<id>,"error":{"code":<code>,"message":<message>}}`.
    pub fn to_response_body(&self) -> String {
        error_response(self.id.clone(), self.code, self.message, None)
    }

    /// The HTTP status to answer with: 413 for an oversized body, else 400 (MCP
    /// basic/transports: a POST the server cannot accept gets an HTTP error status, e.g. 400).
    pub fn http_status(&self) -> u16 {
        match self.kind {
            RejectKind::TooLarge => 413,
            RejectKind::Parse | RejectKind::Invalid => 400,
        }
    }
}

/// A JSON-RPC 2.0 error response (§5, §5.1) as a JSON string, for errors the proxy answers
/// itself (for instance "this connection needs re-authorization, open <link>").
pub fn error_response(id: Value, code: i64, message: &str, data: Option<Value>) -> String {
    let mut error = Map::new();
    error.insert("code".into(), Value::from(code));
    error.insert("message".into(), Value::from(message));
    if let Some(data) = data {
        error.insert("data".into(), data);
    }
    let mut response = Map::new();
    response.insert("jsonrpc".into(), Value::from("2.0"));
    response.insert("id".into(), id);
    response.insert("error".into(), Value::Object(error));
    Value::Object(response).to_string()
}

/// Checks a client's POST body (see the module docs for the rules and the error table).
pub fn inspect(body: &[u8]) -> Result<Inbound, JsonRpcReject> {
    if body.len() > MAX_BODY_BYTES {
        return Err(JsonRpcReject::too_large());
    }
    if body.is_empty() {
        return Err(JsonRpcReject::parse("Parse error: empty body"));
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| JsonRpcReject::parse("Parse error: body is not UTF-8"))?;
    // serde_json stops at 128 levels of nesting with an error, so deep input cannot overflow
    // the stack.
    let value: Value = crate::json::parse(text.as_bytes())
        .map_err(|_| JsonRpcReject::parse("Parse error: body is not valid JSON"))?;

    let (messages, batch) = match value {
        Value::Array(items) if items.is_empty() => {
            return Err(JsonRpcReject::invalid(
                "Invalid Request: empty batch",
                Value::Null,
            ));
        }
        Value::Array(items) => (items, true),
        single => (vec![single], false),
    };

    let mut ids = Vec::new();
    let mut request_methods = Vec::new();
    let mut notification_methods = Vec::new();
    for message in messages {
        match classify(message)? {
            Message::Request { id, method } => {
                ids.push(id);
                request_methods.push(method);
            }
            Message::Notification { method } => notification_methods.push(method),
            Message::Response => {}
        }
    }
    Ok(if ids.is_empty() {
        Inbound::NotificationsOrResponses {
            methods: notification_methods,
            batch,
        }
    } else {
        Inbound::Requests {
            ids,
            methods: request_methods,
            batch,
        }
    })
}

enum Message {
    Request { id: Value, method: String },
    Notification { method: String },
    Response,
}

/// A valid id to echo back: a string or a number (MCP basic/index "Requests").
fn valid_id(id: Option<&Value>) -> Value {
    match id {
        Some(id @ (Value::String(_) | Value::Number(_))) => id.clone(),
        _ => Value::Null,
    }
}

/// Classifies one message object (JSON-RPC 2.0 §4, §4.1, §5).
fn classify(message: Value) -> Result<Message, JsonRpcReject> {
    let Value::Object(mut object) = message else {
        return Err(JsonRpcReject::invalid(
            "Invalid Request: a message must be a JSON object",
            Value::Null,
        ));
    };
    let echo_id = valid_id(object.get("id"));
    let invalid = |message| JsonRpcReject::invalid(message, echo_id.clone());

    if object.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Err(invalid("Invalid Request: \"jsonrpc\" must be \"2.0\""));
    }
    let has_result = object.contains_key("result");
    let has_error = object.contains_key("error");

    if let Some(method) = object.remove("method") {
        if has_result || has_error {
            return Err(invalid(
                "Invalid Request: a message cannot be both a request and a response",
            ));
        }
        let Value::String(method) = method else {
            return Err(invalid("Invalid Request: \"method\" must be a string"));
        };
        match object.get("params") {
            None | Some(Value::Object(_) | Value::Array(_)) => {}
            Some(_) => {
                return Err(invalid(
                    "Invalid Request: \"params\" must be an object or an array",
                ));
            }
        }
        return match object.remove("id") {
            None => Ok(Message::Notification { method }),
            Some(id @ (Value::String(_) | Value::Number(_))) => Ok(Message::Request { id, method }),
            Some(_) => Err(invalid(
                "Invalid Request: a request \"id\" must be a string or a number",
            )),
        };
    }

    match (has_result, has_error) {
        (false, false) => Err(invalid(
            "Invalid Request: a message needs \"method\", \"result\" or \"error\"",
        )),
        (true, true) => Err(invalid(
            "Invalid Request: a response cannot have both \"result\" and \"error\"",
        )),
        (true, false) => match object.get("id") {
            Some(Value::String(_) | Value::Number(_)) => Ok(Message::Response),
            _ => Err(invalid(
                "Invalid Request: a result's \"id\" must be a string or a number",
            )),
        },
        (false, true) => {
            // JSON-RPC 2.0 §5: `null` when the request's id could not be determined.
            match object.get("id") {
                Some(Value::String(_) | Value::Number(_) | Value::Null) => {}
                _ => {
                    return Err(invalid(
                        "Invalid Request: an error's \"id\" must be a string, a number or null",
                    ));
                }
            }
            let well_formed = object.get("error").is_some_and(|e| {
                e.get("code").is_some_and(Value::is_i64)
                    && e.get("message").is_some_and(Value::is_string)
            });
            if well_formed {
                Ok(Message::Response)
            } else {
                Err(invalid(
                    "Invalid Request: \"error\" must be an object with an integer \"code\" and a string \"message\"",
                ))
            }
        }
    }
}
