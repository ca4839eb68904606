//! The decisions of the MCP proxy that do not need the runtime: what to refuse before a token
//! is ever attached, what the client gets when no token can be had, and what it gets when the
//! upstream's answer cannot be relayed. Every refusal is a JSON-RPC error body, so MCP clients
//! show its message instead of failing obscurely, and none is a 401 (which would send the
//! client into an OAuth flow of its own).
//!
//! A request to `/s/<secret>/mcp` goes through five steps, named alike in the Worker:
//! **resolve** the secret to its connection, **admit** the request (Origin, method, size,
//! JSON-RPC shape: all before any token is attached), **load a token** from the connection's
//! object, **forward** it upstream (refreshing and replaying once on a 401), and **relay** the
//! answer through [`crate::relay`].
//!
//! No message carries the URL secret: MCP clients show errors to the model and write them to
//! logs. The way back after a revoked grant is [`reconnect_url`], a dashboard page that needs
//! the owner's session.

use serde_json::{Value, json};

use crate::jsonrpc::{self, Inbound, MAX_BODY_BYTES};
use crate::origin::origin_allowed;
use crate::refresh::Unavailable;
use crate::relay::Foreign;
use crate::time::{UnixMillis, rfc3339};

/// JSON-RPC server error codes Bindify uses (the -32000 to -32099 range is for servers).
pub const NEEDS_REAUTH: i64 = -32001;
pub const AUTH_SERVER_UNAVAILABLE: i64 = -32002;
pub const UPSTREAM_UNREACHABLE: i64 = -32003;
pub const FORBIDDEN_ORIGIN: i64 = -32004;
/// The upstream answered with something Bindify does not relay (see [`crate::relay`]).
pub const UPSTREAM_BAD_ANSWER: i64 = -32005;
/// The upstream refused Bindify's access token, and a refresh did not help or is not allowed
/// yet (see [`crate::refresh::RejectionRefreshes`]).
pub const UPSTREAM_REFUSED_TOKEN: i64 = -32006;

/// How long Bindify waits for the upstream MCP server's response headers, in milliseconds.
/// An MCP server that answers a request with JSON sends its headers only when the tool is
/// done, so this must exceed the longest tool call a client waits for: the MCP SDKs' default
/// request timeout is 60 s, and 100 s is what Cloudflare's own proxy gives an origin before its
/// 524. Once the headers are in, the body (an event stream may stay open for hours) streams
/// with no deadline of Bindify's; the client ends it when it goes away.
pub const UPSTREAM_HEADERS_TIMEOUT_MS: u64 = 100_000;

/// `Retry-After` of an unreachable upstream, in seconds.
const UNREACHABLE_RETRY_AFTER: u64 = 10;
/// `Retry-After` while the authorization server is unavailable, in seconds.
const TRANSIENT_RETRY_AFTER: u64 = 30;

/// The page where the owner authorizes connection `id` again, keeping its URL: on the
/// dashboard, behind the owner's session. The permanent URL's secret is never part of it.
pub fn reconnect_url(origin: &str, connection_id: &str) -> String {
    let id: String = url::form_urlencoded::byte_serialize(connection_id.as_bytes()).collect();
    format!("{}/manage/{id}/reconnect", origin.trim_end_matches('/'))
}

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
            Some(TRANSIENT_RETRY_AFTER),
        ),
    };
    error_for(inbound, 503, code, &message, data, retry_after)
}

/// The upstream MCP server could not be reached or answered with a gateway failure.
pub fn upstream_unreachable(inbound: Option<&Inbound>, upstream: &str, detail: &str) -> Refusal {
    error_for(
        inbound,
        503,
        UPSTREAM_UNREACHABLE,
        &format!("Bindify could not reach the MCP server {upstream}: {detail}"),
        json!({ "upstream": upstream }),
        Some(UNREACHABLE_RETRY_AFTER),
    )
}

/// The upstream answered with something that must not reach the client on Bindify's origin:
/// another media type (an HTML page), a body without a type, or a redirect. Requests get the
/// error with their ids; anything else (a GET stream, a DELETE, notifications) gets 502.
pub fn bad_answer(inbound: Option<&Inbound>, upstream: &str, foreign: &Foreign) -> Refusal {
    error_for(
        inbound,
        502,
        UPSTREAM_BAD_ANSWER,
        &format!(
            "Bindify did not relay the answer of the MCP server {upstream}: it answered {}, and only application/json and text/event-stream answers are relayed.",
            foreign.describe()
        ),
        json!({ "upstream": upstream, "status": foreign.status() }),
        None,
    )
}

/// The upstream refused Bindify's access token with a 401. `retry_at` is when a refusal may
/// make Bindify refresh again (`None`: Bindify just refreshed and the new token was refused
/// too, or this token was already refreshed once). The connection is not marked as needing
/// authorization: the grant may be fine and the upstream wrong, so the owner decides.
pub fn token_refused(
    inbound: Option<&Inbound>,
    upstream: &str,
    reconnect_url: &str,
    retry_at: Option<UnixMillis>,
    now: UnixMillis,
) -> Refusal {
    let (when, retry_after) = match retry_at {
        Some(at) => (
            format!(
                " Bindify renews a refused token at most once a minute; the next renewal may happen after {}.",
                rfc3339(at)
            ),
            Some(seconds_until(at, now)),
        ),
        None => (String::new(), None),
    };
    error_for(
        inbound,
        503,
        UPSTREAM_REFUSED_TOKEN,
        &format!(
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

/// Whole seconds from `now` to `at`, at least 1.
fn seconds_until(at: UnixMillis, now: UnixMillis) -> u64 {
    let millis = at.saturating_sub(now).max(1);
    u64::try_from(millis.saturating_add(999) / 1000).unwrap_or(1)
}

/// The refusal for `inbound`: its requests get errors with their ids and HTTP 200, so MCP
/// clients surface the message; anything else gets `status_without_ids`.
fn error_for(
    inbound: Option<&Inbound>,
    status_without_ids: u16,
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
            status_without_ids,
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
    fn needs_reauth_answers_a_request_with_its_id_and_the_reconnect_link() {
        let inbound =
            check_body(br#"{"jsonrpc":"2.0","id":7,"method":"tools/list"}"#).expect("valid");
        let link = reconnect_url("https://b.example", "conn-1");
        let r = unavailable(Some(&inbound), &Unavailable::NeedsReauth, &link);
        assert_eq!(r.status, 200);
        let body = parsed(&r);
        assert_eq!(body["id"], 7);
        assert_eq!(body["error"]["code"], NEEDS_REAUTH);
        assert_eq!(
            body["error"]["message"],
            "Bindify: this connection's authorization has expired or was revoked. Open https://b.example/manage/conn-1/reconnect in a browser to authorize it again; this URL keeps working afterwards."
        );
        assert_eq!(
            body["error"]["data"]["reconnect_url"],
            "https://b.example/manage/conn-1/reconnect"
        );
    }

    #[test]
    fn a_foreign_answer_names_the_upstream_and_what_it_sent() {
        let html = Foreign::ContentType {
            status: 200,
            quoted: "text/html".into(),
        };
        let get = bad_answer(None, "https://mcp.example.com/mcp", &html);
        assert_eq!(get.status, 502);
        assert_eq!(get.retry_after, None);
        let body = parsed(&get);
        assert_eq!(body["id"], Value::Null);
        assert_eq!(body["error"]["code"], UPSTREAM_BAD_ANSWER);
        assert_eq!(
            body["error"]["message"],
            "Bindify did not relay the answer of the MCP server https://mcp.example.com/mcp: it answered HTTP 200 with content type \"text/html\", and only application/json and text/event-stream answers are relayed."
        );
        assert_eq!(
            body["error"]["data"],
            json!({ "upstream": "https://mcp.example.com/mcp", "status": 200 })
        );

        let call =
            check_body(br#"{"jsonrpc":"2.0","id":"c","method":"tools/call"}"#).expect("valid");
        let redirect = bad_answer(
            Some(&call),
            "https://mcp.example.com/mcp",
            &Foreign::Redirect { status: 307 },
        );
        assert_eq!(redirect.status, 200);
        let body = parsed(&redirect);
        assert_eq!(body["id"], "c");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("it answered a redirect (HTTP 307)"))
        );
        let note = check_body(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
            .expect("valid");
        assert_eq!(
            bad_answer(Some(&note), "u", &Foreign::NoContentType { status: 202 }).status,
            502
        );
    }

    #[test]
    fn a_refused_token_says_when_bindify_renews_again() {
        let call = check_body(br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#).expect("valid");
        let link = reconnect_url("https://b.example", "conn-1");
        let now = 1_795_690_200_000;
        let limited = token_refused(
            Some(&call),
            "https://mcp.example.com/mcp",
            &link,
            Some(now + 59_500),
            now,
        );
        assert_eq!(limited.status, 200);
        assert_eq!(limited.retry_after, Some(60));
        let body = parsed(&limited);
        assert_eq!(body["error"]["code"], UPSTREAM_REFUSED_TOKEN);
        assert_eq!(
            body["error"]["message"],
            "Bindify: the MCP server https://mcp.example.com/mcp refused the access token, and a renewed token did not help. Bindify renews a refused token at most once a minute; the next renewal may happen after 2026-11-26T10:50:59Z. If this persists, the owner can authorize the connection again at https://b.example/manage/conn-1/reconnect."
        );
        assert_eq!(body["error"]["data"]["retry_at"], "2026-11-26T10:50:59Z");

        let replayed = token_refused(None, "u", &link, None, now);
        assert_eq!(replayed.status, 503);
        assert_eq!(replayed.retry_after, None);
        assert_eq!(parsed(&replayed)["error"]["data"]["retry_at"], Value::Null);
        assert_eq!(seconds_until(now - 5, now), 1);
    }

    #[test]
    fn batches_get_one_error_per_request_and_streams_get_503() {
        let inbound = check_body(
            br#"[{"jsonrpc":"2.0","id":1,"method":"a"},{"jsonrpc":"2.0","id":"x","method":"b"}]"#,
        )
        .expect("valid");
        let r = unavailable(Some(&inbound), &Unavailable::Transient { retry_at: 0 }, "u");
        assert_eq!(r.status, 200);
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
