//! API keys as the owner enters them (core/src/connect/api_key.rs `header_name`, `header_value`):
//! the header's name and the key, typed or pasted on a page or given to the CLI.
//!
//! Properties: an accepted name is a valid HTTP field name of at most 64 characters, the typed
//! text trimmed (or `Authorization` when blank), accepted again as itself, and never one HTTP,
//! the MCP transport, a proxy or the browser sets (checked case-insensitively against an
//! independent list); whether a name is accepted does not depend on its case. An accepted key is
//! a valid HTTP field value that cannot end the header or start another (no CR, LF or NUL), the
//! typed text trimmed, at most 4096 bytes, accepted again as itself; its `Debug` never shows it.
#![no_main]

use bindify_core::connect::api_key::{
    ApiKeyError, DEFAULT_HEADER, MAX_NAME_CHARS, MAX_VALUE_BYTES, header_name, header_value,
};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use oauth2::AccessToken;

/// Names Bindify must never send on the owner's behalf, whatever their case.
const FRAMING: [&str; 14] = [
    "host",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "upgrade",
    "content-length",
    "content-type",
    "cookie",
    "set-cookie",
    "origin",
    "forwarded",
    "mcp-session-id",
    "mcp-protocol-version",
    "last-event-id",
];
const PREFIXES: [&str; 4] = ["sec-", "cf-", "x-forwarded-", "proxy-"];

#[derive(Debug, Arbitrary)]
struct Input {
    name: String,
    value: String,
}

fuzz_target!(|input: Input| {
    match header_name(&input.name) {
        Ok(name) => {
            let expected = match input.name.trim() {
                "" => DEFAULT_HEADER,
                typed => typed,
            };
            assert_eq!(name, expected);
            assert!(!name.is_empty() && name.chars().count() <= MAX_NAME_CHARS);
            assert!(http::HeaderName::from_bytes(name.as_bytes()).is_ok());
            let lower = name.to_ascii_lowercase();
            assert!(!FRAMING.contains(&lower.as_str()), "{name:?} accepted");
            assert!(
                !PREFIXES.iter().any(|p| lower.starts_with(p)),
                "{name:?} accepted"
            );
            assert_eq!(header_name(&name).as_deref(), Ok(name.as_str()));
            assert!(header_name(&name.to_ascii_uppercase()).is_ok());
            assert!(header_name(&lower).is_ok());
        }
        Err(ApiKeyError::DeniedName(name)) => {
            assert_eq!(name, input.name.trim());
            assert!(matches!(
                header_name(&name.to_ascii_uppercase()),
                Err(ApiKeyError::DeniedName(_))
            ));
        }
        Err(ApiKeyError::BadName) => {
            let typed = input.name.trim();
            assert!(
                typed.len() > MAX_NAME_CHARS
                    || http::HeaderName::from_bytes(typed.as_bytes()).is_err(),
                "{typed:?} refused"
            );
        }
        Err(other) => panic!("a name refused as {other:?}"),
    }

    let typed = input.value.trim();
    match header_value(&input.value) {
        Ok(key) => {
            assert_eq!(key.secret(), typed);
            assert!(!typed.is_empty() && typed.len() <= MAX_VALUE_BYTES);
            let value = http::HeaderValue::from_str(key.secret()).expect("a valid field value");
            assert!(
                !value
                    .as_bytes()
                    .iter()
                    .any(|b| matches!(b, b'\r' | b'\n' | 0))
            );
            assert_eq!(
                format!("{key:?}"),
                format!("{:?}", AccessToken::new("another key".into())),
                "Debug shows the key"
            );
            assert_eq!(
                header_value(key.secret()).map(|k| k.secret().clone()),
                Ok(typed.to_owned())
            );
        }
        Err(ApiKeyError::MissingValue) => assert!(typed.is_empty()),
        Err(ApiKeyError::BadValue) => {
            assert!(
                typed.len() > MAX_VALUE_BYTES
                    || typed
                        .bytes()
                        .any(|b| !(b.is_ascii_graphic() || b == b' ' || b == b'\t'))
            );
        }
        Err(other) => panic!("a key refused as {other:?}"),
    }
});
