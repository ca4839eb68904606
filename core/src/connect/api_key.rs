//! API keys: many MCP servers take a static key in a request header, and clients such as
//! Claude.ai's custom connectors cannot send headers. The owner gives Bindify the header's name
//! and value; the permanent URL then sends it on every request in place of a bearer token.
//!
//! The name is checked against what must never come from the owner: fields that frame the
//! message or the connection (RFC 9110 §7.6.1 hop-by-hop fields, `Host`, `Content-Length`,
//! `Transfer-Encoding`), cookies, the MCP transport's own fields (`Mcp-Session-Id`,
//! `MCP-Protocol-Version`, `Last-Event-ID`), what proxies and Cloudflare set (`Forwarded`,
//! `X-Forwarded-*`, `CF-*`), and browser-controlled fields (`Sec-*`, `Origin`).

use oauth2::AccessToken;

/// Longest header name and value accepted.
pub const MAX_NAME_CHARS: usize = 64;
pub const MAX_VALUE_BYTES: usize = 4096;

/// The header a key goes in when the owner names none.
pub const DEFAULT_HEADER: &str = "Authorization";

/// Header names the owner may not set, compared case-insensitively.
const DENIED: [&str; 30] = [
    "host",
    "connection",
    "keep-alive",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
    "content-type",
    "content-encoding",
    "expect",
    "cookie",
    "cookie2",
    "set-cookie",
    "accept",
    "accept-encoding",
    "origin",
    "referer",
    "via",
    "forwarded",
    "date",
    "range",
    "mcp-session-id",
    "mcp-protocol-version",
    "last-event-id",
    "x-real-ip",
    "true-client-ip",
    "www-authenticate",
    "max-forwards",
    "user-agent",
];

/// Prefixes of header names the owner may not set.
const DENIED_PREFIXES: [&str; 5] = ["proxy-", "sec-", "cf-", "x-forwarded-", "if-"];

/// Why a header name or value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiKeyError {
    #[error("a header name is 1 to 64 letters, digits or !#$%&'*+-.^_`|~")]
    BadName,
    #[error(
        "Bindify cannot send the header {0:?}: it is set by HTTP, the MCP transport or a proxy"
    )]
    DeniedName(String),
    #[error("enter the API key")]
    MissingValue,
    #[error("an API key is at most 4096 visible characters, with no line breaks")]
    BadValue,
}

/// A header name the owner may set, as typed (trimmed), or [`DEFAULT_HEADER`] when empty.
pub fn header_name(typed: &str) -> Result<String, ApiKeyError> {
    let name = typed.trim();
    let name = if name.is_empty() {
        DEFAULT_HEADER
    } else {
        name
    };
    if name.len() > MAX_NAME_CHARS || !name.bytes().all(is_tchar) {
        return Err(ApiKeyError::BadName);
    }
    let lower = name.to_ascii_lowercase();
    if DENIED.contains(&lower.as_str()) || DENIED_PREFIXES.iter().any(|p| lower.starts_with(p)) {
        return Err(ApiKeyError::DeniedName(name.to_owned()));
    }
    Ok(name.to_owned())
}

/// The header value as typed (trimmed): visible ASCII, spaces and tabs inside (RFC 9110 §5.5,
/// without obsolete text), so it cannot end the header or start another.
pub fn header_value(typed: &str) -> Result<AccessToken, ApiKeyError> {
    let value = typed.trim();
    if value.is_empty() {
        return Err(ApiKeyError::MissingValue);
    }
    let visible = |b: u8| (0x21..=0x7e).contains(&b) || b == b' ' || b == b'\t';
    if value.len() > MAX_VALUE_BYTES || !value.bytes().all(visible) {
        return Err(ApiKeyError::BadValue);
    }
    Ok(AccessToken::new(value.to_owned()))
}

/// RFC 9110 §5.6.2 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_key_headers_pass_and_default_to_authorization() {
        for name in ["X-API-Key", "Authorization", "api-key", "X-Goog-Api-Key"] {
            assert_eq!(header_name(&format!(" {name} ")).as_deref(), Ok(name));
        }
        assert_eq!(header_name("").as_deref(), Ok("Authorization"));
    }

    #[test]
    fn names_that_frame_the_message_or_belong_to_others_are_refused() {
        for name in [
            "Host",
            "cookie",
            "Connection",
            "Transfer-Encoding",
            "Content-Length",
            "Mcp-Session-Id",
            "MCP-Protocol-Version",
            "Last-Event-ID",
            "Proxy-Authorization",
            "Sec-Fetch-Site",
            "CF-Connecting-IP",
            "X-Forwarded-For",
            "Origin",
            "If-None-Match",
        ] {
            assert_eq!(
                header_name(name),
                Err(ApiKeyError::DeniedName(name.into())),
                "{name}"
            );
        }
        for name in ["X Key", "X-Key:", "Kéy", "a\r\nb", &"x".repeat(65)] {
            assert_eq!(header_name(name), Err(ApiKeyError::BadName), "{name:?}");
        }
    }

    #[test]
    fn values_cannot_break_the_header() {
        assert_eq!(
            header_value("  Bearer sk-123 ").map(|v| v.secret().clone()),
            Ok("Bearer sk-123".into())
        );
        assert_eq!(header_value("  ").err(), Some(ApiKeyError::MissingValue));
        for bad in ["a\r\nX-Evil: 1", "a\nb", "ké", &"k".repeat(4097)] {
            assert_eq!(
                header_value(bad).err(),
                Some(ApiKeyError::BadValue),
                "{bad:?}"
            );
        }
        assert!(!format!("{:?}", header_value("sk-secret")).contains("sk-secret"));
    }
}
