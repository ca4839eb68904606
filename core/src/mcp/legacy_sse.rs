//! Helpers for the legacy HTTP+SSE transport (MCP 2024-11-05 basic/transports "HTTP with SSE").
//!
//! The client opens an SSE stream with GET; the server's first event is `endpoint`, whose data
//! is the URI (relative or absolute) the client POSTs its messages to; the server's messages
//! arrive as `message` events whose data is the JSON-RPC message.
//!
//! Bindify sits in the middle twice: toward the upstream it reads the upstream's `endpoint`
//! event ([`resolve_endpoint`]), toward its own client it sends an `endpoint` event naming its
//! own URL ([`endpoint_event`]), so the upstream's URL never reaches the client and the client's
//! POSTs come back through Bindify.

use crate::mcp::sse::SseEvent;

/// The event type of the first event, carrying the POST URI (MCP 2024-11-05 "HTTP with SSE").
pub const ENDPOINT_EVENT: &str = "endpoint";

/// The event type of server messages (MCP 2024-11-05 "HTTP with SSE"); also the SSE default
/// type, so an event without `event:` is a message too.
pub const MESSAGE_EVENT: &str = "message";

/// Longest `endpoint` data accepted, in bytes.
pub const MAX_ENDPOINT_LEN: usize = 8 * 1024;

/// Why an upstream's `endpoint` event was refused. Messages quote no URL (the endpoint usually
/// carries a session id), so they are safe to log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    #[error("the endpoint event is empty")]
    Empty,
    #[error("the endpoint event is longer than {MAX_ENDPOINT_LEN} bytes")]
    TooLong,
    #[error("the endpoint event is not a valid URI reference: {0}")]
    Invalid(url::ParseError),
    #[error("the endpoint points to a different origin than the upstream's SSE stream")]
    CrossOrigin,
    #[error("the endpoint URL carries credentials")]
    Credentials,
}

/// Resolves the data of the upstream's `endpoint` event against the SSE stream's URL (RFC 3986
/// §5.2) and checks it stays on the upstream's origin (same scheme, host and port, RFC 6454
/// §5): Bindify attaches the upstream's bearer token to these POSTs, so an endpoint on another
/// origin, which could be a third party, is refused. The fragment is dropped (never sent).
///
/// Surrounding whitespace is trimmed. Relative references (`/messages?sessionId=…`,
/// `messages/?session_id=…`, `?sessionId=…`) and absolute URLs on the same origin are accepted.
pub fn resolve_endpoint(stream_url: &url::Url, data: &str) -> Result<url::Url, EndpointError> {
    let data = data.trim();
    if data.is_empty() {
        return Err(EndpointError::Empty);
    }
    if data.len() > MAX_ENDPOINT_LEN {
        return Err(EndpointError::TooLong);
    }
    let mut endpoint = stream_url.join(data).map_err(EndpointError::Invalid)?;
    let upstream = stream_url.origin();
    if !upstream.is_tuple() || endpoint.origin() != upstream {
        return Err(EndpointError::CrossOrigin);
    }
    if !endpoint.username().is_empty() || endpoint.password().is_some() {
        return Err(EndpointError::Credentials);
    }
    endpoint.set_fragment(None);
    Ok(endpoint)
}

/// The `endpoint` event Bindify sends first on its own legacy SSE stream, naming the URL its
/// client must POST to (MCP 2024-11-05 "HTTP with SSE"). Serialize with
/// [`SseEvent::to_bytes`].
pub fn endpoint_event(message_url: &str) -> SseEvent {
    SseEvent {
        event: Some(ENDPOINT_EVENT.to_owned()),
        data: message_url.to_owned(),
        ..SseEvent::default()
    }
}

/// A `message` event carrying one JSON-RPC message (MCP 2024-11-05 "HTTP with SSE": server
/// messages are `message` events with the JSON in the data).
pub fn message_event(json: impl Into<String>) -> SseEvent {
    SseEvent {
        event: Some(MESSAGE_EVENT.to_owned()),
        data: json.into(),
        ..SseEvent::default()
    }
}

/// Whether `event` is an `endpoint` event.
pub fn is_endpoint_event(event: &SseEvent) -> bool {
    event.event.as_deref() == Some(ENDPOINT_EVENT)
}

/// Whether `event` is a `message` event (explicitly, or by the SSE default type).
pub fn is_message_event(event: &SseEvent) -> bool {
    matches!(event.event.as_deref(), None | Some(MESSAGE_EVENT))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mcp::sse::{SseItem, SseParser};

    fn url(s: &str) -> url::Url {
        url::Url::parse(s).unwrap()
    }

    #[test]
    fn relative_endpoints_resolve_against_the_stream_url() {
        let stream = url("https://mcp.notion.com/sse");
        for (data, expected) in [
            (
                "/message?sessionId=abc",
                "https://mcp.notion.com/message?sessionId=abc",
            ),
            (
                "messages/?session_id=1",
                "https://mcp.notion.com/messages/?session_id=1",
            ),
            ("?sessionId=2", "https://mcp.notion.com/sse?sessionId=2"),
            (
                "  /message?sessionId=abc\n",
                "https://mcp.notion.com/message?sessionId=abc",
            ),
            (
                "https://mcp.notion.com/message?x=1#frag",
                "https://mcp.notion.com/message?x=1",
            ),
            (
                "HTTPS://MCP.NOTION.COM:443/message",
                "https://mcp.notion.com/message",
            ),
        ] {
            assert_eq!(
                resolve_endpoint(&stream, data).unwrap().as_str(),
                expected,
                "{data}"
            );
        }
        let nested = url("https://example.com/v1/sse");
        assert_eq!(
            resolve_endpoint(&nested, "messages?s=1").unwrap().as_str(),
            "https://example.com/v1/messages?s=1"
        );
    }

    #[test]
    fn other_origins_are_refused() {
        let stream = url("https://mcp.example.com/sse");
        for data in [
            "https://evil.example/message",
            "//evil.example/message",
            "http://mcp.example.com/message",
            "https://mcp.example.com:8443/message",
            "https://sub.mcp.example.com/message",
            "data:text/plain,hi",
            "javascript:alert(1)",
        ] {
            assert_eq!(
                resolve_endpoint(&stream, data),
                Err(EndpointError::CrossOrigin),
                "{data}"
            );
        }
    }

    #[test]
    fn credentials_empty_long_and_invalid_are_refused() {
        let stream = url("https://mcp.example.com/sse");
        assert_eq!(
            resolve_endpoint(&stream, "https://u:p@mcp.example.com/message"),
            Err(EndpointError::Credentials)
        );
        assert_eq!(resolve_endpoint(&stream, ""), Err(EndpointError::Empty));
        assert_eq!(resolve_endpoint(&stream, " \n"), Err(EndpointError::Empty));
        let long = format!("/m?{}", "a".repeat(MAX_ENDPOINT_LEN));
        assert_eq!(
            resolve_endpoint(&stream, &long),
            Err(EndpointError::TooLong)
        );
        assert!(matches!(
            resolve_endpoint(&stream, "http://[::1"),
            Err(EndpointError::Invalid(_))
        ));
    }

    #[test]
    fn local_upstream_keeps_its_port() {
        let stream = url("http://127.0.0.1:3001/sse");
        assert_eq!(
            resolve_endpoint(&stream, "/messages?sessionId=x")
                .unwrap()
                .as_str(),
            "http://127.0.0.1:3001/messages?sessionId=x"
        );
        assert_eq!(
            resolve_endpoint(&stream, "http://127.0.0.1:3002/messages"),
            Err(EndpointError::CrossOrigin)
        );
    }

    #[test]
    fn endpoint_event_wire_form_and_round_trip() {
        let event = endpoint_event("https://bindify.example/s/SECRET/message?session=abc");
        assert_eq!(
            event.to_bytes(),
            b"event: endpoint\ndata: https://bindify.example/s/SECRET/message?session=abc\n\n"
        );
        let mut parser = SseParser::new();
        let items = parser.push(&event.to_bytes());
        assert_eq!(items, vec![SseItem::Event(event.clone())]);
        assert!(is_endpoint_event(&event));
        assert!(!is_message_event(&event));
    }

    #[test]
    fn message_events() {
        let event = message_event(r#"{"jsonrpc":"2.0","id":1,"result":{}}"#);
        assert_eq!(
            event.to_bytes(),
            b"event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n\n"
        );
        assert!(is_message_event(&event));
        assert!(is_message_event(&SseEvent::message("{}")));
        assert!(!is_endpoint_event(&event));
    }
}
