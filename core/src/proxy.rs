//! The decisions of the MCP proxy that do not need the runtime: what to refuse before a token
//! is ever attached, and what the client gets when no token can be had. Every refusal is a
//! JSON-RPC error body, so MCP clients show its message instead of failing obscurely, and none
//! is a 401 (which would send the client into an OAuth flow of its own).

use serde_json::{Value, json};

use crate::jsonrpc::{self, Inbound, MAX_BODY_BYTES};
use crate::origin::origin_allowed;
use crate::refresh::Unavailable;
use crate::time::rfc3339;

/// JSON-RPC server error codes Bindify uses (the -32000 to -32099 range is for servers).
pub const NEEDS_REAUTH: i64 = -32001;
pub const AUTH_SERVER_UNAVAILABLE: i64 = -32002;
pub const UPSTREAM_UNREACHABLE: i64 = -32003;
pub const FORBIDDEN_ORIGIN: i64 = -32004;

/// An answer Bindify gives itself instead of forwarding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub body: String,
    /// Seconds, for `Retry-After`.
    pub retry_after: Option<u64>,
}

impl Refusal {
    fn new(status: u16, body: String) -> Self {
        Refusal {
            status,
            body,
            retry_after: None,
        }
    }
}

/// DNS-rebinding defense: a browser page on another origin may not drive the connection.
pub fn check_origin(
    origin: Option<&str>,
    own_origin: &str,
    allowed: &[String],
) -> Result<(), Refusal> {
    if origin_allowed(origin, own_origin, allowed) {
        return Ok(());
    }
    Err(Refusal::new(
        403,
        jsonrpc::error_response(
            Value::Null,
            FORBIDDEN_ORIGIN,
            "Forbidden: this Origin may not use the connection (set ALLOWED_ORIGINS to allow it)",
            None,
        ),
    ))
}

/// A declared `Content-Length` over the limit is refused before the body is read.
pub fn check_declared_length(content_length: Option<&str>) -> Result<(), Refusal> {
    match content_length.and_then(|v| v.trim().parse::<u64>().ok()) {
        Some(length) if length > MAX_BODY_BYTES as u64 => Err(too_large()),
        _ => Ok(()),
    }
}

/// The answer to a body over [`MAX_BODY_BYTES`].
pub fn too_large() -> Refusal {
    let reject = jsonrpc::JsonRpcReject::too_large();
    Refusal::new(reject.http_status(), reject.to_response_body())
}

/// Inspects a POST body; a malformed one is answered as a conforming MCP server would.
pub fn check_body(body: &[u8]) -> Result<Inbound, Refusal> {
    jsonrpc::inspect(body)
        .map_err(|reject| Refusal::new(reject.http_status(), reject.to_response_body()))
}

/// What the client gets when Bindify has no usable token (or the upstream cannot be reached).
/// Requests get a JSON-RPC error with their own id and HTTP 200, so MCP clients surface the
/// message; anything else (notifications, GET streams, DELETE) gets 503 with the same body.
pub fn unavailable(inbound: Option<&Inbound>, why: &Unavailable, reconnect_url: &str) -> Refusal {
    let (code, message, data, retry_after) = match why {
        Unavailable::NeedsReauth => (
            NEEDS_REAUTH,
            format!(
                "Bindify: this connection's authorization has expired or was revoked. Open {reconnect_url} in a browser to authorize it again; this URL keeps working afterwards."
            ),
            json!({ "reconnect_url": reconnect_url, "state": "needs_reauth" }),
            None,
        ),
        Unavailable::Transient { retry_at } => (
            AUTH_SERVER_UNAVAILABLE,
            format!(
                "Bindify: the service's authorization server is unavailable, so the token could not be renewed. Bindify retries at {}; try again shortly.",
                rfc3339(*retry_at)
            ),
            json!({ "retry_at": rfc3339(*retry_at), "state": "error" }),
            Some(30),
        ),
    };
    error_for(inbound, code, &message, data, retry_after)
}

/// The upstream MCP server could not be reached or answered with a gateway failure.
pub fn upstream_unreachable(inbound: Option<&Inbound>, upstream: &str, detail: &str) -> Refusal {
    error_for(
        inbound,
        UPSTREAM_UNREACHABLE,
        &format!("Bindify could not reach the MCP server {upstream}: {detail}"),
        json!({ "upstream": upstream }),
        Some(10),
    )
}

fn error_for(
    inbound: Option<&Inbound>,
    code: i64,
    message: &str,
    data: Value,
    retry_after: Option<u64>,
) -> Refusal {
    let mut refusal = match inbound {
        Some(Inbound::Requests { ids, batch, .. }) => {
            let errors: Vec<String> = ids
                .iter()
                .map(|id| jsonrpc::error_response(id.clone(), code, message, Some(data.clone())))
                .collect();
            let body = if *batch {
                format!("[{}]", errors.join(","))
            } else {
                errors.into_iter().next().unwrap_or_default()
            };
            Refusal::new(200, body)
        }
        _ => Refusal::new(
            503,
            jsonrpc::error_response(Value::Null, code, message, Some(data)),
        ),
    };
    refusal.retry_after = retry_after;
    refusal
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(refusal: &Refusal) -> Value {
        serde_json::from_str(&refusal.body).expect("json body")
    }

    #[test]
    fn needs_reauth_answers_a_request_with_its_id_and_the_reconnect_link() {
        let inbound =
            check_body(br#"{"jsonrpc":"2.0","id":7,"method":"tools/list"}"#).expect("valid");
        let r = unavailable(
            Some(&inbound),
            &Unavailable::NeedsReauth,
            "https://b.example/s/S/reconnect",
        );
        assert_eq!(r.status, 200);
        let body = parsed(&r);
        assert_eq!(body["id"], 7);
        assert_eq!(body["error"]["code"], NEEDS_REAUTH);
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("https://b.example/s/S/reconnect"))
        );
        assert_eq!(
            body["error"]["data"]["reconnect_url"],
            "https://b.example/s/S/reconnect"
        );
    }

    #[test]
    fn batches_get_one_error_per_request_and_streams_get_503() {
        let inbound = check_body(
            br#"[{"jsonrpc":"2.0","id":1,"method":"a"},{"jsonrpc":"2.0","id":"x","method":"b"}]"#,
        )
        .expect("valid");
        let r = unavailable(Some(&inbound), &Unavailable::Transient { retry_at: 0 }, "u");
        let body = parsed(&r);
        assert_eq!(body.as_array().map(Vec::len), Some(2));
        assert_eq!(body[1]["id"], "x");
        assert_eq!(r.retry_after, Some(30));

        let get = unavailable(None, &Unavailable::NeedsReauth, "u");
        assert_eq!(get.status, 503);
        assert_eq!(parsed(&get)["id"], Value::Null);
        let note = check_body(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
            .expect("valid");
        assert_eq!(
            unavailable(Some(&note), &Unavailable::NeedsReauth, "u").status,
            503
        );
    }

    #[test]
    fn oversized_malformed_and_foreign_requests_are_refused() {
        assert_eq!(
            check_declared_length(Some("4194305")).map_err(|r| r.status),
            Err(413)
        );
        assert!(check_declared_length(Some("10")).is_ok());
        assert!(check_declared_length(None).is_ok());
        assert_eq!(too_large().status, 413);
        assert_eq!(parsed(&too_large())["error"]["code"], -32600);

        let bad = check_body(b"{not json").expect_err("parse error");
        assert_eq!(
            (bad.status, parsed(&bad)["error"]["code"].as_i64()),
            (400, Some(-32700))
        );

        let denied = check_origin(Some("https://evil.example"), "https://b.example", &[])
            .expect_err("denied");
        assert_eq!(denied.status, 403);
        assert!(check_origin(None, "https://b.example", &[]).is_ok());
        assert!(check_origin(Some("https://b.example"), "https://b.example/s/x/mcp", &[]).is_ok());
    }

    #[test]
    fn unreachable_upstream_names_it() {
        let inbound = check_body(br#"{"jsonrpc":"2.0","id":"a","method":"ping"}"#).expect("valid");
        let r = upstream_unreachable(
            Some(&inbound),
            "https://mcp.example.com/mcp",
            "connection refused",
        );
        assert_eq!(r.status, 200);
        assert!(
            parsed(&r)["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("https://mcp.example.com/mcp"))
        );
    }
}
