//! MCP server URLs and the URLs derived from them (core/src/oauth/upstream.rs
//! `validate_server_url`, `canonical_resource`; core/src/oauth/wellknown.rs;
//! core/src/connect/presets.rs `default_label`): a URL a user pastes, or one that metadata names,
//! the well-known metadata URLs and the connection label built from it.
//!
//! Properties: an accepted URL is https (or loopback http when allowed), with a host and
//! without credentials or fragment; its canonical resource is stable when parsed again; the
//! well-known URLs stay on its origin, without query, fragment or credentials.
#![no_main]

use bindify_core::connect::presets::default_label;
use bindify_core::oauth::upstream::{UpstreamPolicy, canonical_resource, validate_server_url};
use bindify_core::oauth::wellknown::{
    authorization_server_metadata_urls, protected_resource_metadata_urls,
};
use libfuzzer_sys::fuzz_target;
use url::{Host, Url};

fn loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip == std::net::Ipv6Addr::LOCALHOST,
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

fuzz_target!(|raw: &str| {
    // The label a new connection gets from its server URL.
    let label = default_label(raw);
    if Url::parse(raw).is_ok_and(|url| url.host().is_some()) {
        // A host (or a preset's name), never the path or query, which may carry a secret.
        assert!(!label.contains(['/', '?', '#']), "{label:?} from {raw:?}");
    }

    for allow_loopback_http in [false, true] {
        let policy = UpstreamPolicy {
            allow_loopback_http,
        };
        let Ok(url) = validate_server_url(raw, policy) else {
            continue;
        };
        match url.scheme() {
            "https" => {}
            "http" => assert!(allow_loopback_http && loopback(&url), "{url}"),
            other => panic!("scheme {other}"),
        }
        assert!(url.host().is_some());
        assert!(url.username().is_empty() && url.password().is_none());
        assert!(url.fragment().is_none());

        let canonical = canonical_resource(&url);
        let again = Url::parse(&canonical).expect("the canonical resource parses");
        assert_eq!(canonical_resource(&again), canonical, "{url}");
        assert_eq!(again.origin(), url.origin());

        let derived = protected_resource_metadata_urls(&url)
            .into_iter()
            .chain(authorization_server_metadata_urls(&url));
        for derived in derived {
            assert_eq!(derived.origin(), url.origin(), "{derived}");
            assert!(derived.query().is_none() && derived.fragment().is_none());
            assert!(derived.username().is_empty() && derived.password().is_none());
            assert!(
                validate_server_url(derived.as_str(), policy).is_ok(),
                "{derived}"
            );
        }
    }
});
