//! The decisions of the MCP proxy that do not need the runtime: what to refuse before a token
//! is ever attached, and where the owner authorizes a connection again. What the client is
//! told when something fails on the way (no token, an unreachable upstream, Bindify's own
//! storage) is [`crate::failure`]'s: every refusal is a JSON-RPC error body, so MCP clients
//! show its message instead of failing obscurely, and none is a 401 (which would send the
//! client into an OAuth flow of its own).
//!
//! A request to `/s/<secret>/mcp` goes through five steps, named alike in the Worker:
//! **resolve** the secret to its connection, **admit** the request (Origin, method, size,
//! JSON-RPC shape: all before any token is attached), **load a token** from the connection's
//! object, **forward** it upstream (refreshing and replaying once on a 401), and **relay** the
//! answer through [`crate::mcp::relay`].
//!
//! No message carries the URL secret: MCP clients show errors to the model and write them to
//! logs. The way back after a revoked grant is [`reconnect_url`], a dashboard page that needs
//! the owner's session.

use crate::failure::Failure;
pub use crate::failure::Refusal;
use crate::mcp::jsonrpc::{self, Inbound, JsonRpcReject, MAX_BODY_BYTES};
use crate::mcp::origin::origin_allowed;

/// How long Bindify waits for the upstream MCP server's response headers, in milliseconds.
/// An MCP server that answers a request with JSON sends its headers only when the tool is
/// done, so this must exceed the longest tool call a client waits for: the MCP SDKs' default
/// request timeout is 60 s, and 100 s is what Cloudflare's own proxy gives an origin before its
/// 524. Once the headers are in, the body (an event stream may stay open for hours) streams
/// with no deadline of Bindify's; the client ends it when it goes away.
pub const UPSTREAM_HEADERS_TIMEOUT_MS: u64 = 100_000;

/// The page where the owner authorizes connection `id` again, keeping its URL: on the
/// dashboard, behind the owner's session. The permanent URL's secret is never part of it.
pub fn reconnect_url(origin: &str, connection_id: &str) -> String {
    let id: String = url::form_urlencoded::byte_serialize(connection_id.as_bytes()).collect();
    format!("{}/manage/{id}/reconnect", origin.trim_end_matches('/'))
}

/// A refusal of the client's request itself (it never needs a reconnect link or a clock).
fn refused(failure: Failure) -> Refusal {
    failure.refusal(None, "", 0)
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
    Err(refused(Failure::ForbiddenOrigin))
}

/// A declared `Content-Length` over the limit is refused before the body is read; one within
/// it is the length the body is read to (`None`: none declared, or not a number).
pub fn check_declared_length(content_length: Option<&str>) -> Result<Option<usize>, Refusal> {
    match content_length.and_then(|v| v.trim().parse::<u64>().ok()) {
        Some(length) if length > MAX_BODY_BYTES as u64 => Err(too_large()),
        Some(length) => Ok(usize::try_from(length).ok()),
        None => Ok(None),
    }
}

/// The answer to a body over [`MAX_BODY_BYTES`].
pub fn too_large() -> Refusal {
    refused(Failure::Rejected(JsonRpcReject::too_large()))
}

/// The answer to a method other than POST, GET and DELETE.
pub fn method_not_allowed() -> Refusal {
    refused(Failure::MethodNotAllowed)
}

/// Inspects a POST body; a malformed one is answered as a conforming MCP server would.
pub fn check_body(body: &[u8]) -> Result<Inbound, Refusal> {
    jsonrpc::inspect(body).map_err(|reject| refused(Failure::Rejected(reject)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn parsed(refusal: &Refusal) -> Value {
        serde_json::from_str(&refusal.body).expect("json body")
    }

    #[test]
    fn the_reconnect_link_is_the_dashboard_page_of_the_connection() {
        assert_eq!(
            reconnect_url("https://b.example", "conn-1"),
            "https://b.example/manage/conn-1/reconnect"
        );
        assert_eq!(
            reconnect_url("http://127.0.0.1:8787/", "a/b?c"),
            "http://127.0.0.1:8787/manage/a%2Fb%3Fc/reconnect"
        );
    }

    #[test]
    fn oversized_malformed_and_foreign_requests_are_refused() {
        assert_eq!(
            check_declared_length(Some("4194305")).map_err(|r| r.status),
            Err(413)
        );
        assert_eq!(
            check_declared_length(Some("10")).map_err(|r| r.status),
            Ok(Some(10))
        );
        assert_eq!(
            check_declared_length(Some("ten")).map_err(|r| r.status),
            Ok(None)
        );
        assert_eq!(check_declared_length(None).map_err(|r| r.status), Ok(None));
        assert_eq!(too_large().status, 413);
        assert_eq!(parsed(&too_large())["error"]["code"], -32600);

        let bad = check_body(b"{not json").expect_err("parse error");
        assert_eq!(
            (bad.status, parsed(&bad)["error"]["code"].as_i64()),
            (400, Some(-32700))
        );
        let invalid = check_body(br#"{"jsonrpc":"2.0","id":5,"method":7}"#).expect_err("invalid");
        assert_eq!(parsed(&invalid)["id"], 5);

        let denied = check_origin(Some("https://evil.example"), "https://b.example", &[])
            .expect_err("denied");
        assert_eq!(denied.status, 403);
        assert_eq!(parsed(&denied)["error"]["code"], -32004);
        assert!(check_origin(None, "https://b.example", &[]).is_ok());
        assert!(check_origin(Some("https://b.example"), "https://b.example/s/x/mcp", &[]).is_ok());
        assert_eq!(method_not_allowed().status, 405);
    }
}
