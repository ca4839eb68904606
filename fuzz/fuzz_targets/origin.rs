//! `Origin` checks (core/src/mcp/origin.rs, core/src/mcp/proxy.rs `check_origin`): the header any
//! browser page sends, and the allow-list from configuration.
//!
//! Properties: normalising is idempotent and yields a bare origin; with an empty allow-list only
//! the Worker's own origin passes; with a list, only its entries (or everything with `*`).
#![no_main]

use bindify_core::mcp::origin::{
    ANY_ORIGIN, normalize_origin, origin_allowed, parse_allowed_origins,
};
use bindify_core::mcp::proxy::check_origin;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use url::Url;

const OWN: &str = "https://bindify.example.workers.dev/s/secret/mcp";
const OWN_ORIGIN: &str = "https://bindify.example.workers.dev";

#[derive(Debug, Arbitrary)]
struct Input {
    origin: String,
    config: String,
}

fn check_normalized(n: &str) {
    assert_eq!(normalize_origin(n).as_deref(), Some(n), "not idempotent");
    let url = Url::parse(n).expect("a normalized origin parses");
    assert!(matches!(url.path(), "" | "/"));
    assert!(url.query().is_none() && url.fragment().is_none());
    assert!(url.username().is_empty() && url.password().is_none());
    assert!(n.contains("://") && !n.ends_with('/'));
}

fuzz_target!(|input: Input| {
    let normalized = normalize_origin(&input.origin);
    if let Some(n) = &normalized {
        check_normalized(n);
    }

    let alone = origin_allowed(Some(&input.origin), OWN, &[]);
    assert_eq!(
        alone,
        normalized.as_deref() == Some(OWN_ORIGIN),
        "{:?}",
        input.origin
    );
    assert_eq!(check_origin(Some(&input.origin), OWN, &[]).is_ok(), alone);

    let list = parse_allowed_origins(&input.config);
    for entry in &list {
        if entry != ANY_ORIGIN {
            check_normalized(entry);
        }
    }
    let listed = origin_allowed(Some(&input.origin), OWN, &list);
    let expected = list.iter().any(|e| e == ANY_ORIGIN)
        || normalized
            .as_deref()
            .is_some_and(|n| n == OWN_ORIGIN || list.iter().any(|e| e == n));
    assert_eq!(listed, expected, "{:?} with {list:?}", input.origin);
    assert!(origin_allowed(None, OWN, &list));
});
