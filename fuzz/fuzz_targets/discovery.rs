//! Discovery (core/src/oauth/discovery/mod.rs `discover`), driven end to end by a scripted peer
//! that answers every request with fuzzer-chosen responses: the probe's status and
//! `WWW-Authenticate`, then the metadata documents (see fuzz/src/lib.rs for the format).
//!
//! Properties: discovery makes a bounded number of requests, sends no credentials, and only
//! ever fetches URLs the upstream policy allows; what it returns passes the metadata checks and
//! names a resource that covers the server: the server itself, or a URL on its origin, without
//! a fragment, whose path is a prefix of the server's at a segment boundary.
#![no_main]

use bindify_core::oauth::discovery::discover;
use bindify_core::oauth::upstream::{UpstreamPolicy, canonical_resource, validate_server_url};
use bindify_fuzz::{Peer, block_on};
use libfuzzer_sys::fuzz_target;
use url::Url;

const SERVERS: [(&str, bool); 2] = [
    ("https://mcp.example.com/mcp", false),
    ("http://127.0.0.1:3001/mcp", true),
];

fuzz_target!(|script: &[u8]| {
    for (server, allow_loopback_http) in SERVERS {
        let server = Url::parse(server).expect("server URL");
        let policy = UpstreamPolicy {
            allow_loopback_http,
        };
        let peer = Peer::new("www-authenticate", script);
        let result = block_on(discover(&peer.client(), &server, policy));

        let seen = peer.seen();
        // The probe, up to three protected resource metadata URLs, up to three authorization
        // server metadata URLs.
        assert!(seen.len() <= 7, "{} requests", seen.len());
        for (i, request) in seen.iter().enumerate() {
            assert!(!request.has_authorization);
            assert_eq!(request.method, if i == 0 { "POST" } else { "GET" });
            assert!(
                validate_server_url(&request.uri, policy).is_ok(),
                "fetched a disallowed URL {}",
                request.uri
            );
        }

        let Ok(found) = result else { continue };
        assert_eq!(found.server, server);
        assert!(validate_server_url(found.issuer.as_str(), policy).is_ok());
        found
            .metadata
            .validate(&found.issuer, policy)
            .expect("returned metadata is valid");
        let resource = Url::parse(&found.resource).expect("the resource is a URL");
        if found.resource != canonical_resource(&server) {
            assert_eq!(resource.origin(), server.origin());
            assert!(resource.fragment().is_none());
            let with_slash = |path: &str| format!("{}/", path.trim_end_matches('/'));
            assert!(
                with_slash(server.path()).starts_with(&with_slash(resource.path())),
                "{resource} does not cover {server}"
            );
        }
    }
});
