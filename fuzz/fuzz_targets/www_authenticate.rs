//! `WWW-Authenticate` (core/src/oauth/www_authenticate.rs): the Bearer challenge of an upstream's
//! 401.
//!
//! Properties: input over the limit is refused; every kept value is printable ASCII (plus space
//! and tab); writing the kept parameters back as a challenge and parsing it gives the same
//! challenge.
#![no_main]

use bindify_core::oauth::www_authenticate::{
    BearerChallenge, MAX_HEADER_LEN, parse_bearer_challenge,
};
use libfuzzer_sys::fuzz_target;

fn quoted(value: &str) -> String {
    let mut out = String::from("\"");
    for c in value.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

fn write(challenge: &BearerChallenge) -> String {
    let params = [
        ("realm", &challenge.realm),
        ("scope", &challenge.scope),
        ("error", &challenge.error),
        ("error_description", &challenge.error_description),
        ("resource_metadata", &challenge.resource_metadata),
    ];
    let written: Vec<String> = params
        .iter()
        .filter_map(|(name, value)| value.as_ref().map(|v| format!("{name}={}", quoted(v))))
        .collect();
    if written.is_empty() {
        "Bearer".to_owned()
    } else {
        format!("Bearer {}", written.join(", "))
    }
}

fuzz_target!(|header: &str| {
    let Some(challenge) = parse_bearer_challenge(header) else {
        return;
    };
    assert!(header.len() <= MAX_HEADER_LEN);
    for value in [
        &challenge.realm,
        &challenge.scope,
        &challenge.error,
        &challenge.error_description,
        &challenge.resource_metadata,
    ]
    .into_iter()
    .flatten()
    {
        assert!(
            value
                .bytes()
                .all(|b| b == b'\t' || (0x20..=0x7e).contains(&b)),
            "{value:?}"
        );
    }
    let rewritten = write(&challenge);
    if rewritten.len() + 20 > MAX_HEADER_LEN {
        // Quoting may push the rewritten header over the limit.
        return;
    }
    assert_eq!(
        parse_bearer_challenge(&rewritten).as_ref(),
        Some(&challenge),
        "{rewritten:?}"
    );
    // The same challenge after another scheme's challenge.
    assert_eq!(
        parse_bearer_challenge(&format!("Basic realm=\"x\", {rewritten}")),
        Some(challenge)
    );
});
