//! Authorization server and protected resource metadata (core/src/oauth/discovery/metadata.rs): the
//! JSON documents discovery fetches, parsed and checked.
//!
//! Properties: metadata that passes `validate` names the issuer it was fetched for and has only
//! endpoints the URL policy allows (https, or loopback http in local development), without
//! credentials or fragments. `sign_in` offers the browser only with the authorization code grant
//! and PKCE S256, a machine grant only when no browser sign-in is offered and the server lists
//! it, and refuses a server that offers none.
#![no_main]

use bindify_core::oauth::discovery::{
    AuthServerMetadata, DiscoveryError, ProtectedResourceMetadata, SignIn,
};
use bindify_core::oauth::upstream::{UpstreamPolicy, validate_server_url};
use libfuzzer_sys::fuzz_target;
use url::Url;

const ISSUERS: [&str; 4] = [
    "https://auth.example.com",
    "https://auth.example.com/",
    "https://auth.example.com/tenant1",
    "http://127.0.0.1:3000",
];

fn endpoint_allowed(endpoint: &str, policy: UpstreamPolicy) {
    let url = validate_server_url(endpoint, policy).expect("a validated endpoint");
    assert!(matches!(url.scheme(), "https" | "http"));
    if url.scheme() == "http" {
        assert!(policy.allow_loopback_http);
    }
    assert!(url.username().is_empty() && url.password().is_none() && url.fragment().is_none());
}

fuzz_target!(|body: &[u8]| {
    if let Ok(prm) = serde_json::from_slice::<ProtectedResourceMetadata>(body) {
        for server in &prm.authorization_servers {
            let _ = validate_server_url(
                server,
                UpstreamPolicy {
                    allow_loopback_http: false,
                },
            );
        }
    }
    let Ok(meta) = serde_json::from_slice::<AuthServerMetadata>(body) else {
        return;
    };
    let s256 = meta
        .code_challenge_methods_supported
        .iter()
        .any(|m| m == "S256");
    let listed = |grant: &str| match &meta.grant_types_supported {
        Some(grants) => grants.iter().any(|g| g == grant),
        None => grant == "authorization_code",
    };
    match meta.sign_in() {
        Ok(SignIn::Browser) => assert!(s256 && listed("authorization_code")),
        Ok(SignIn::Machine(grants)) => {
            assert!(!(s256 && listed("authorization_code")));
            assert_eq!(grants.client_credentials, listed("client_credentials"));
            assert_eq!(
                grants.identity_assertion,
                listed("urn:ietf:params:oauth:grant-type:jwt-bearer")
            );
            assert!(grants.client_credentials || grants.identity_assertion);
        }
        Err(DiscoveryError::NoPkceS256) => {
            assert!(listed("authorization_code") && !s256);
        }
        Err(DiscoveryError::NoAuthorizationCodeGrant) => {
            assert!(!listed("authorization_code") && !listed("client_credentials"));
        }
        Err(other) => panic!("sign_in failed with {other:?}"),
    }
    for issuer in ISSUERS {
        let issuer = Url::parse(issuer).expect("issuer");
        for allow_loopback_http in [false, true] {
            let policy = UpstreamPolicy {
                allow_loopback_http,
            };
            if meta.validate(&issuer, policy).is_err() {
                continue;
            }
            assert_eq!(
                meta.issuer.trim_end_matches('/'),
                issuer.as_str().trim_end_matches('/')
            );
            for endpoint in [
                Some(&meta.authorization_endpoint),
                Some(&meta.token_endpoint),
                meta.registration_endpoint.as_ref(),
                meta.revocation_endpoint.as_ref(),
            ]
            .into_iter()
            .flatten()
            {
                endpoint_allowed(endpoint, policy);
            }
        }
    }
});
