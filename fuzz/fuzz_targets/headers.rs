//! Header filtering at the proxy (core/src/mcp/proxy_headers.rs): the header fields a client sends
//! and an upstream answers, including the `Connection` field that names more fields to drop.
//!
//! Properties: what passes is a subset of the input in order, names lowercased; no field named
//! by a `Connection` field passes; credentials, cookies and hop-by-hop fields never pass.
#![no_main]

use bindify_core::mcp::proxy_headers::{
    connection_listed, filter_request_headers, filter_response_headers,
};
use libfuzzer_sys::fuzz_target;

const NEVER_UPSTREAM: [&str; 9] = [
    "authorization",
    "cookie",
    "host",
    "origin",
    "referer",
    "connection",
    "transfer-encoding",
    "content-length",
    "x-forwarded-for",
];
const NEVER_DOWNSTREAM: [&str; 6] = [
    "set-cookie",
    "www-authenticate",
    "connection",
    "transfer-encoding",
    "content-length",
    "keep-alive",
];

fn check(input: &[(String, String)], output: &[(String, String)], never: &[&str]) {
    let listed: Vec<String> = input
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("connection"))
        .flat_map(|(_, v)| connection_listed(v))
        .collect();
    let mut rest = input.iter();
    for (name, value) in output {
        assert_eq!(name, &name.to_ascii_lowercase());
        assert!(!never.contains(&name.as_str()), "{name} passed");
        assert!(!listed.contains(name), "{name} is listed in Connection");
        // A subset, in order.
        assert!(
            rest.any(|(k, v)| k.to_ascii_lowercase() == *name && v == value),
            "{name} is not from the input"
        );
    }
}

fuzz_target!(|headers: Vec<(String, String)>| {
    for (_, value) in &headers {
        for listed in connection_listed(value) {
            assert!(!listed.is_empty() && !listed.contains(','));
            assert_eq!(listed, listed.to_ascii_lowercase());
        }
    }
    check(
        &headers,
        &filter_request_headers(headers.iter().cloned()),
        &NEVER_UPSTREAM,
    );
    check(
        &headers,
        &filter_response_headers(headers.iter().cloned()),
        &NEVER_DOWNSTREAM,
    );
});
