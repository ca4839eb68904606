//! Which HTTP header fields cross the proxy, in each direction, and the names of the MCP ones.
//!
//! Bindify is an intermediary (RFC 9110 §3.7) between the user's MCP client and the upstream MCP
//! server, so it:
//!
//! - removes hop-by-hop fields: `Connection` and every field it lists, plus `Keep-Alive`, `TE`,
//!   `Trailer`, `Transfer-Encoding`, `Upgrade`, `Proxy-Connection` (RFC 9110 §7.6.1, RFC 9112
//!   §6.1);
//! - never passes the client's credentials or the user's browser state upstream
//!   (`Authorization`, `Proxy-Authorization`, `Cookie`): the upstream gets Bindify's own bearer
//!   token instead (MCP authorization, "Token Passthrough" is forbidden);
//! - never passes `Referer` or `Origin` upstream: the client's URL contains the secret;
//! - does not reveal the client's address (`X-Forwarded-*`, `Forwarded`, `X-Real-IP`,
//!   `True-Client-IP`, `CF-*`);
//! - carries the MCP transport fields through untouched (MCP basic/transports: `Mcp-Session-Id`,
//!   `MCP-Protocol-Version`, `Last-Event-ID`; revision 2026-07-28 adds `Mcp-Method`,
//!   `Mcp-Name` and `Mcp-Param-*`).
//!
//! Toward the upstream, unknown request fields are end-to-end and pass unless listed below.
//! Toward the client, only the response fields MCP needs pass (see [`forward_response_header`]):
//! Bindify answers on its own origin, so an upstream must not set anything a browser acts on.
//! Field names compare case-insensitively (RFC 9110 §5.1); the filters return lowercase names.

/// `Mcp-Session-Id`: the session the server assigned at initialization (MCP 2025-03-26 to
/// 2025-11-25 basic/transports "Session Management").
pub const MCP_SESSION_ID: &str = "mcp-session-id";
/// `MCP-Protocol-Version`: the negotiated protocol revision, on every request after
/// initialization (MCP 2025-06-18 basic/transports "Protocol Version Header").
pub const MCP_PROTOCOL_VERSION: &str = "mcp-protocol-version";
/// `Last-Event-ID`: resumes an SSE stream (WHATWG HTML §9.2.4; MCP basic/transports
/// "Resumability and Redelivery").
pub const LAST_EVENT_ID: &str = "last-event-id";
/// `Mcp-Method`: the JSON-RPC method of the body (MCP 2026-07-28 streamable-http "Standard
/// Request Headers").
pub const MCP_METHOD: &str = "mcp-method";
/// `Mcp-Name`: `params.name` or `params.uri` of the body (MCP 2026-07-28 streamable-http
/// "Standard Request Headers").
pub const MCP_NAME: &str = "mcp-name";
/// Prefix of the `Mcp-Param-{name}` fields mirrored from tool arguments (MCP 2026-07-28
/// streamable-http "Custom Headers from Tool Parameters").
pub const MCP_PARAM_PREFIX: &str = "mcp-param-";

/// Hop-by-hop fields (RFC 9110 §7.6.1; `Proxy-Connection` is the pre-standard spelling still
/// sent by some clients). `Content-Length` is not hop-by-hop but is recomputed by the runtime
/// for the body actually sent, so it never crosses either.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "http2-settings",
    "content-length",
];

/// Request fields never forwarded upstream, beyond [`HOP_BY_HOP`].
const REQUEST_DROPPED: &[&str] = &[
    // Credentials: the client's are for Bindify (if any), the upstream gets Bindify's bearer.
    "authorization",
    "proxy-authorization",
    "cookie",
    // The runtime sets Host for the upstream URL.
    "host",
    // Browser context; Referer holds the secret URL.
    "origin",
    "referer",
    // Client address and edge metadata.
    "forwarded",
    "x-real-ip",
    "true-client-ip",
    "cdn-loop",
    // The runtime negotiates and decodes compression itself.
    "accept-encoding",
    // `Expect: 100-continue` is between the client and the edge.
    "expect",
];

/// Request field prefixes never forwarded upstream.
const REQUEST_DROPPED_PREFIXES: &[&str] = &["cf-", "x-forwarded-"];

/// The only upstream response fields passed back to the client. Responses cross on an
/// allowlist, not a denylist: Bindify relays on its own origin, next to its dashboard, so a
/// field it has never heard of must not reach a browser there. Fields a browser acts on
/// (`Set-Cookie`, `Refresh`, `Link` preloads, `Content-Disposition`, `Clear-Site-Data`,
/// `Service-Worker-Allowed`, `Accept-CH`, `Origin-Agent-Cluster`, a `Content-Security-Policy`
/// of the upstream's, CORS, HSTS, reporting endpoints, ...) and fields invented later never
/// cross. What MCP clients read is all here:
///
/// - `Content-Type`: JSON or an event stream (checked by [`crate::mcp::relay::verdict`]);
/// - `Mcp-Session-Id`, `MCP-Protocol-Version` (MCP basic/transports "Session Management",
///   "Protocol Version Header");
/// - `Cache-Control`: an SSE stream's `no-cache` keeps intermediaries from buffering it;
/// - `Retry-After`: how long a 429 or 503 asks the client to wait (RFC 9110 §10.2.3).
///
/// `WWW-Authenticate` is deliberately absent: Bindify answers the upstream's challenges itself,
/// and a challenge must never send the client into an OAuth flow of its own against the
/// upstream. `Content-Length` and `Content-Encoding` are absent because the runtime sets them
/// for the body it actually sends; `Location` because a redirect never passes.
const RESPONSE_ALLOWED: &[&str] = &[
    "content-type",
    MCP_SESSION_ID,
    MCP_PROTOCOL_VERSION,
    "cache-control",
    "retry-after",
];

fn is_listed(name: &str, exact: &[&str], prefixes: &[&str]) -> bool {
    exact.iter().any(|n| name.eq_ignore_ascii_case(n))
        || prefixes.iter().any(|p| starts_with_ignore_case(name, p))
}

fn starts_with_ignore_case(name: &str, prefix: &str) -> bool {
    name.as_bytes()
        .get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
}

/// Whether a client request field named `name` may be forwarded upstream, ignoring what the
/// request's `Connection` field lists (use [`filter_request_headers`] for the full rule).
///
/// Forwarded: the MCP fields, `Content-Type`, `Accept`, `Accept-Language`, `User-Agent` and any
/// other end-to-end field. Dropped: hop-by-hop fields and `Content-Length` (RFC 9110 §7.6.1),
/// `Authorization`, `Proxy-Authorization`, `Cookie`, `Host`, `Origin`, `Referer`, `Forwarded`,
/// `X-Forwarded-*`, `X-Real-IP`, `True-Client-IP`, `CF-*`, `CDN-Loop`, `Accept-Encoding`,
/// `Expect`.
pub fn forward_request_header(name: &str) -> bool {
    !is_listed(name, HOP_BY_HOP, &[]) && !is_listed(name, REQUEST_DROPPED, REQUEST_DROPPED_PREFIXES)
}

/// Whether an upstream response field named `name` may be passed back to the client, ignoring
/// what the response's `Connection` field lists (use [`filter_response_headers`]): only the
/// fields of [`RESPONSE_ALLOWED`] (`Content-Type`, `Mcp-Session-Id`, `MCP-Protocol-Version`,
/// `Cache-Control`, `Retry-After`).
pub fn forward_response_header(name: &str) -> bool {
    is_listed(name, RESPONSE_ALLOWED, &[])
}

/// The field names a `Connection` value lists, lowercased (RFC 9110 §7.6.1: `Connection =
/// #connection-option`). Empty list elements and surrounding whitespace are skipped.
pub fn connection_listed(connection_header_value: &str) -> Vec<String> {
    connection_header_value
        .split(',')
        .map(|t| t.trim_matches([' ', '\t']))
        .filter(|t| !t.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

fn filter<I, K, V>(headers: I, keep: fn(&str) -> bool) -> Vec<(String, String)>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let headers: Vec<(K, V)> = headers.into_iter().collect();
    let listed: Vec<String> = headers
        .iter()
        .filter(|(k, _)| k.as_ref().eq_ignore_ascii_case("connection"))
        .flat_map(|(_, v)| connection_listed(v.as_ref()))
        .collect();
    headers
        .into_iter()
        .filter(|(k, _)| {
            let name = k.as_ref();
            keep(name) && !listed.iter().any(|l| name.eq_ignore_ascii_case(l))
        })
        .map(|(k, v)| (k.as_ref().to_ascii_lowercase(), v.as_ref().to_owned()))
        .collect()
}

/// The client request fields to forward upstream, in order, names lowercased: those
/// [`forward_request_header`] allows minus every field named by any `Connection` field of the
/// same request (RFC 9110 §7.6.1). The proxy adds its own `Authorization` afterwards.
pub fn filter_request_headers<I, K, V>(headers: I) -> Vec<(String, String)>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    filter(headers, forward_request_header)
}

/// The upstream response fields to pass back to the client, in order, names lowercased: those
/// [`forward_response_header`] allows minus every field named by the response's `Connection`.
pub fn filter_response_headers<I, K, V>(headers: I) -> Vec<(String, String)>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    filter(headers, forward_response_header)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mcp_and_content_request_headers_are_forwarded() {
        for name in [
            "content-type",
            "Accept",
            MCP_SESSION_ID,
            "Mcp-Session-Id",
            MCP_PROTOCOL_VERSION,
            "MCP-Protocol-Version",
            LAST_EVENT_ID,
            "Last-Event-ID",
            MCP_METHOD,
            MCP_NAME,
            "Mcp-Param-Region",
            "user-agent",
            "accept-language",
            "x-custom-end-to-end",
            "if-none-match",
            "x-accel-buffering",
        ] {
            assert!(forward_request_header(name), "{name}");
        }
    }

    #[test]
    fn credentials_browser_context_and_client_address_are_not_forwarded() {
        for name in [
            "authorization",
            "Authorization",
            "proxy-authorization",
            "cookie",
            "Cookie",
            "host",
            "origin",
            "Referer",
            "forwarded",
            "x-forwarded-for",
            "X-Forwarded-Proto",
            "x-forwarded-host",
            "x-real-ip",
            "true-client-ip",
            "cf-connecting-ip",
            "CF-Ray",
            "cf-ipcountry",
            "cdn-loop",
            "accept-encoding",
            "expect",
        ] {
            assert!(!forward_request_header(name), "{name}");
        }
    }

    #[test]
    fn hop_by_hop_and_length_cross_in_neither_direction() {
        for name in [
            "connection",
            "Keep-Alive",
            "te",
            "trailer",
            "transfer-encoding",
            "upgrade",
            "proxy-connection",
            "http2-settings",
            "content-length",
        ] {
            assert!(!forward_request_header(name), "{name}");
            assert!(!forward_response_header(name), "{name}");
        }
    }

    #[test]
    fn prefixes_match_only_at_the_start() {
        assert!(forward_request_header("x-cf-thing"));
        assert!(forward_request_header("my-x-forwarded-for"));
        assert!(!forward_request_header("CF-"));
        assert!(forward_request_header("cf"));
    }

    #[test]
    fn connection_listed_tokens() {
        assert_eq!(
            connection_listed(" Keep-Alive , X-Foo,,\tx-BAR ,"),
            vec!["keep-alive", "x-foo", "x-bar"]
        );
        assert!(connection_listed("").is_empty());
    }

    #[test]
    fn request_filter_applies_connection_and_keeps_order() {
        let headers = [
            ("Content-Type", "application/json"),
            ("Connection", "X-Secret-Hop, keep-alive"),
            ("X-Secret-Hop", "1"),
            ("Accept", "application/json, text/event-stream"),
            ("Authorization", "Bearer client-token"),
            ("Mcp-Session-Id", "abc"),
            ("connection", "x-other"),
            ("X-Other", "2"),
            ("X-Kept", "3"),
            ("Cookie", "bindify=1"),
        ];
        assert_eq!(
            filter_request_headers(headers),
            vec![
                ("content-type".to_owned(), "application/json".to_owned()),
                (
                    "accept".to_owned(),
                    "application/json, text/event-stream".to_owned()
                ),
                ("mcp-session-id".to_owned(), "abc".to_owned()),
                ("x-kept".to_owned(), "3".to_owned()),
            ]
        );
    }

    #[test]
    fn filters_take_owned_pairs_too() {
        let owned = vec![
            ("Host".to_owned(), "bindify.example".to_owned()),
            ("MCP-Protocol-Version".to_owned(), "2025-06-18".to_owned()),
        ];
        assert_eq!(
            filter_request_headers(owned),
            vec![(MCP_PROTOCOL_VERSION.to_owned(), "2025-06-18".to_owned())]
        );
    }

    #[test]
    fn only_what_mcp_needs_comes_back() {
        for name in [
            "content-type",
            "Content-Type",
            "Mcp-Session-Id",
            "mcp-protocol-version",
            "cache-control",
            "retry-after",
        ] {
            assert!(forward_response_header(name), "{name}");
        }
    }

    #[test]
    fn everything_a_browser_acts_on_stays_behind() {
        for name in [
            "WWW-Authenticate",
            "proxy-authenticate",
            "authentication-info",
            "set-cookie",
            "Set-Cookie",
            "set-cookie2",
            "refresh",
            "Refresh",
            "link",
            "Link",
            "content-disposition",
            "clear-site-data",
            "content-security-policy",
            "content-security-policy-report-only",
            "service-worker-allowed",
            "accept-ch",
            "origin-agent-cluster",
            "permissions-policy",
            "cross-origin-opener-policy",
            "x-frame-options",
            "x-xss-protection",
            "content-encoding",
            "alt-svc",
            "strict-transport-security",
            "nel",
            "report-to",
            "reporting-endpoints",
            "access-control-allow-origin",
            "Access-Control-Allow-Credentials",
            "location",
            "content-location",
            "server",
            "x-powered-by",
            "cf-ray",
            "CF-Cache-Status",
            "vary",
            "etag",
            "x-request-id",
            "x-accel-buffering",
            "x-unheard-of",
        ] {
            assert!(!forward_response_header(name), "{name}");
        }
    }

    #[test]
    fn response_filter_applies_connection() {
        let headers = [
            ("Content-Type", "text/event-stream"),
            ("Connection", "x-upstream-hop"),
            ("X-Upstream-Hop", "1"),
            ("WWW-Authenticate", "Bearer resource_metadata=\"x\""),
            ("Mcp-Session-Id", "s1"),
            ("Set-Cookie", "a=b"),
            ("Refresh", "0; url=https://evil.example/"),
            (
                "Link",
                "<https://evil.example/x.js>; rel=preload; as=script",
            ),
            ("Connection", "cache-control"),
            ("Cache-Control", "no-cache"),
        ];
        assert_eq!(
            filter_response_headers(headers),
            vec![
                ("content-type".to_owned(), "text/event-stream".to_owned()),
                ("mcp-session-id".to_owned(), "s1".to_owned()),
            ]
        );
    }

    #[test]
    fn request_connection_cannot_resurrect_dropped_headers() {
        // Listing a field only ever removes it.
        let headers = [("Connection", "authorization"), ("Authorization", "x")];
        assert!(filter_request_headers(headers).is_empty());
    }
}
