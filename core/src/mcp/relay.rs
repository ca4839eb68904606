//! What of an upstream MCP server's answer may reach the client through Bindify's origin.
//!
//! Bindify relays the upstream's answers on its own origin, next to its dashboard and API. A
//! compromised or hostile upstream must never get a page to render there: a script on that
//! origin could call the API with the owner's session. So:
//!
//! - only the two bodies MCP uses pass: `application/json` and `text/event-stream` (MCP
//!   basic/transports, Streamable HTTP "Sending Messages to the Server" and HTTP+SSE); the
//!   media type is parsed as RFC 9110 §8.3.1 says (`type "/" subtype *( OWS ";" OWS parameter
//!   )`, type and subtype case-insensitive, parameters ignored);
//! - an answer without a body passes without a content type: 204, 205 and 304 have none by
//!   definition (RFC 9110 §15.3.5, §15.3.6, §15.4.5); any other status passes without a
//!   content type only when its body is empty, known from `Content-Length: 0` or, for a body of
//!   unknown length, by reading it (a `202 Accepted` to a notification, which Node sends
//!   chunked and empty);
//! - a redirect never passes: its target is relative to the upstream's URL, and following it
//!   would send the client somewhere Bindify never vetted;
//! - everything else becomes a JSON-RPC error naming the upstream (see
//!   [`crate::failure::Failure::UpstreamBadAnswer`]);
//! - every relayed answer, and every answer Bindify gives on a permanent URL, carries
//!   [`RELAY_CSP`] and `X-Content-Type-Options: nosniff`, so even a body a browser would
//!   otherwise render runs no script and loads nothing.
//!
//! Which header fields cross is decided by [`crate::mcp::proxy_headers`].

/// `Content-Security-Policy` of every answer on a permanent URL: a sandboxed document with
/// no script, no plugin, a unique opaque origin (so no access to Bindify's cookies or API),
/// and no resource of any kind (CSP Level 3 §6.3.2 `sandbox`, §6.1.1 `default-src`).
pub const RELAY_CSP: &str = "sandbox; default-src 'none'";

/// `X-Content-Type-Options` of every answer on a permanent URL: the browser takes the
/// content type as given and never sniffs one (WHATWG Fetch §3.5.2).
pub const NOSNIFF: &str = "nosniff";

/// Longest content type quoted back in an error message, in characters.
const MAX_QUOTED_CONTENT_TYPE: usize = 100;

/// The bodies MCP uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// `application/json`: one JSON-RPC message or a batch.
    Json,
    /// `text/event-stream`: JSON-RPC messages as SSE events.
    EventStream,
}

/// Why an upstream answer was not relayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Foreign {
    /// A 3xx other than 304.
    Redirect { status: u16 },
    /// A body without a `Content-Type`.
    NoContentType { status: u16 },
    /// A body of another media type (or an unreadable `Content-Type`), quoted for the message:
    /// printable ASCII only, at most 100 characters.
    ContentType { status: u16, quoted: String },
}

impl Foreign {
    /// The upstream's HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            Foreign::Redirect { status }
            | Foreign::NoContentType { status }
            | Foreign::ContentType { status, .. } => *status,
        }
    }

    /// What the upstream sent, in words, for an error message.
    pub fn describe(&self) -> String {
        match self {
            Foreign::Redirect { status } => format!("a redirect (HTTP {status})"),
            Foreign::NoContentType { status } => {
                format!("HTTP {status} with a body but no content type")
            }
            Foreign::ContentType { status, quoted } => {
                format!("HTTP {status} with content type \"{quoted}\"")
            }
        }
    }
}

/// What to do with an upstream answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Relay the status, the allowed header fields and the body.
    Relay(Body),
    /// Relay the status and the allowed header fields, with no body.
    RelayWithoutBody,
    /// A body of unknown length without a content type: relay as [`Verdict::RelayWithoutBody`]
    /// if it turns out empty, else refuse it as [`Foreign::NoContentType`].
    RelayIfEmpty,
    /// Answer the client with a JSON-RPC error instead.
    Refuse(Foreign),
}

/// A media type's `type/subtype`, lowercased, or `None` when `value` is not a valid
/// `Content-Type` (RFC 9110 §8.3.1, §5.6.2 `token`; a parameter is `token "=" ( token /
/// quoted-string )`).
pub fn media_type(value: &str) -> Option<String> {
    let mut parts = value.split(';');
    let essence = parts.next()?.trim_matches([' ', '\t']);
    let (kind, subtype) = essence.split_once('/')?;
    if !is_token(kind) || !is_token(subtype) {
        return None;
    }
    for parameter in parts {
        let parameter = parameter.trim_matches([' ', '\t']);
        if parameter.is_empty() {
            // `text/event-stream;` or `a/b; ;c=d`: an empty parameter is tolerated, as
            // browsers do (WHATWG MIME Sniffing §4.4).
            continue;
        }
        let (name, value) = parameter.split_once('=')?;
        if !is_token(name) || !(is_token(value) || is_quoted_string(value)) {
            return None;
        }
    }
    Some(format!(
        "{}/{}",
        kind.to_ascii_lowercase(),
        subtype.to_ascii_lowercase()
    ))
}

/// `tchar` (RFC 9110 §5.6.2).
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_tchar)
}

/// `quoted-string` (RFC 9110 §5.6.4): `"` ( qdtext / quoted-pair )* `"`.
fn is_quoted_string(s: &str) -> bool {
    let Some(inner) = s.strip_prefix('"').and_then(|rest| rest.strip_suffix('"')) else {
        return false;
    };
    let mut escaped = false;
    for b in inner.bytes() {
        let visible = b == b'\t' || (b' '..=b'~').contains(&b) || b >= 0x80;
        if !visible {
            return false;
        }
        if escaped {
            escaped = false;
        } else if b == b'\\' {
            escaped = true;
        } else if b == b'"' {
            return false;
        }
    }
    !escaped
}

/// Decides what to do with an upstream answer from its status and its `Content-Type` and
/// `Content-Length` field values (each `None` when absent).
pub fn verdict(status: u16, content_type: Option<&str>, content_length: Option<&str>) -> Verdict {
    if matches!(status, 204 | 205 | 304) {
        return Verdict::RelayWithoutBody;
    }
    if (300..400).contains(&status) {
        return Verdict::Refuse(Foreign::Redirect { status });
    }
    let Some(content_type) = content_type else {
        return match content_length.map(str::trim) {
            Some("0") => Verdict::RelayWithoutBody,
            None => Verdict::RelayIfEmpty,
            Some(_) => Verdict::Refuse(Foreign::NoContentType { status }),
        };
    };
    match media_type(content_type).as_deref() {
        Some("application/json") => Verdict::Relay(Body::Json),
        Some("text/event-stream") => Verdict::Relay(Body::EventStream),
        _ => Verdict::Refuse(Foreign::ContentType {
            status,
            quoted: quote(content_type),
        }),
    }
}

/// `value` made safe to quote in a message: printable ASCII only, at most 100 characters.
fn quote(value: &str) -> String {
    value
        .chars()
        .map(|c| if (' '..='~').contains(&c) { c } else { '?' })
        .take(MAX_QUOTED_CONTENT_TYPE)
        .collect()
}

#[cfg(test)]
mod tests;
