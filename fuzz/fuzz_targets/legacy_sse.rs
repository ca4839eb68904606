//! The legacy HTTP+SSE transport's `endpoint` event (core/src/mcp/legacy_sse.rs): an upstream's
//! stream parsed as SSE, then the data of each `endpoint` event resolved against the stream's
//! URL, and the whole input resolved directly as well, against each of a few stream URLs.
//!
//! Property: an accepted endpoint is on the stream's origin (Bindify sends the upstream's bearer
//! token there), carries no credentials and no fragment.
#![no_main]

use bindify_core::mcp::legacy_sse::{
    EndpointError, MAX_ENDPOINT_LEN, is_endpoint_event, is_message_event, resolve_endpoint,
};
use bindify_core::mcp::sse::{SseItem, SseParser};
use libfuzzer_sys::fuzz_target;
use url::Url;

const STREAMS: [&str; 4] = [
    "https://mcp.example.com/sse",
    "https://mcp.example.com/v1/sse?token=x",
    "http://127.0.0.1:3001/sse",
    "https://[2001:db8::1]:8443/a/b/sse",
];

fn check(stream: &Url, data: &str) {
    match resolve_endpoint(stream, data) {
        Ok(endpoint) => {
            assert_eq!(endpoint.origin(), stream.origin(), "{data:?} -> {endpoint}");
            assert_eq!(endpoint.scheme(), stream.scheme());
            assert!(endpoint.username().is_empty() && endpoint.password().is_none());
            assert_eq!(endpoint.fragment(), None);
            assert!(data.trim().len() <= MAX_ENDPOINT_LEN);
        }
        Err(EndpointError::Empty) => assert!(data.trim().is_empty()),
        Err(EndpointError::TooLong) => assert!(data.trim().len() > MAX_ENDPOINT_LEN),
        Err(_) => {}
    }
}

fuzz_target!(|stream_bytes: &[u8]| {
    for stream in STREAMS {
        let stream = Url::parse(stream).expect("stream URL");
        check_stream(&stream, stream_bytes);
    }
});

fn check_stream(stream: &Url, stream_bytes: &[u8]) {
    let mut parser = SseParser::new();
    let mut items = parser.push(stream_bytes);
    items.extend(parser.finish());
    for item in items {
        if let SseItem::Event(event) = item {
            assert!(!(is_endpoint_event(&event) && is_message_event(&event)));
            if is_endpoint_event(&event) {
                check(stream, &event.data);
            }
        }
    }
    check(stream, &String::from_utf8_lossy(stream_bytes));
}
