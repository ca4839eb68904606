//! Every header field name Bindify reads or writes, spelled once, lowercase (field names
//! compare case-insensitively, RFC 9110 §5.1). The standard ones are checked against
//! `http::header`; the MCP transport's live with the rules that forward them
//! ([`crate::mcp::proxy_headers`]) and are re-exported here.

pub use crate::mcp::proxy_headers::{LAST_EVENT_ID, MCP_PROTOCOL_VERSION, MCP_SESSION_ID};

pub const ACCEPT: &str = "accept";
pub const ALLOW: &str = "allow";
pub const AUTHORIZATION: &str = "authorization";
pub const CACHE_CONTROL: &str = "cache-control";
pub const CONTENT_LENGTH: &str = "content-length";
pub const CONTENT_SECURITY_POLICY: &str = "content-security-policy";
pub const CONTENT_TYPE: &str = "content-type";
pub const COOKIE: &str = "cookie";
pub const LOCATION: &str = "location";
pub const ORIGIN: &str = "origin";
pub const REFERRER_POLICY: &str = "referrer-policy";
pub const RETRY_AFTER: &str = "retry-after";
pub const SET_COOKIE: &str = "set-cookie";
pub const X_CONTENT_TYPE_OPTIONS: &str = "x-content-type-options";
pub const X_FRAME_OPTIONS: &str = "x-frame-options";

/// `CF-Connecting-IP`: the client's address as Cloudflare's edge saw it.
pub const CF_CONNECTING_IP: &str = "cf-connecting-ip";
/// `X-Accel-Buffering: no` asks proxies in front of a stream not to buffer it.
pub const X_ACCEL_BUFFERING: &str = "x-accel-buffering";

#[cfg(test)]
mod tests {
    use super::*;
    use http::header;

    #[test]
    fn standard_names_are_spelled_as_http_spells_them() {
        let pairs = [
            (ACCEPT, header::ACCEPT),
            (ALLOW, header::ALLOW),
            (AUTHORIZATION, header::AUTHORIZATION),
            (CACHE_CONTROL, header::CACHE_CONTROL),
            (CONTENT_LENGTH, header::CONTENT_LENGTH),
            (CONTENT_SECURITY_POLICY, header::CONTENT_SECURITY_POLICY),
            (CONTENT_TYPE, header::CONTENT_TYPE),
            (COOKIE, header::COOKIE),
            (LOCATION, header::LOCATION),
            (ORIGIN, header::ORIGIN),
            (REFERRER_POLICY, header::REFERRER_POLICY),
            (RETRY_AFTER, header::RETRY_AFTER),
            (SET_COOKIE, header::SET_COOKIE),
            (X_CONTENT_TYPE_OPTIONS, header::X_CONTENT_TYPE_OPTIONS),
            (X_FRAME_OPTIONS, header::X_FRAME_OPTIONS),
        ];
        for (ours, theirs) in pairs {
            assert_eq!(ours, theirs.as_str());
        }
        for name in [
            MCP_SESSION_ID,
            MCP_PROTOCOL_VERSION,
            LAST_EVENT_ID,
            CF_CONNECTING_IP,
            X_ACCEL_BUFFERING,
        ] {
            assert_eq!(
                http::HeaderName::from_bytes(name.as_bytes())
                    .expect("a valid field name")
                    .as_str(),
                name
            );
        }
    }
}
