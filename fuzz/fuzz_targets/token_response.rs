//! Token endpoint responses (core/src/oauth/tokens.rs `exchange_code`, `refresh`): what an
//! authorization server answers to a code exchange and to a refresh, from a scripted peer
//! (fuzz/src/lib.rs; the first section answers the exchange, the second the refresh).
//!
//! Properties: expiries are absolute and never before `now`; a refresh without a new refresh
//! token keeps the old one; only the codes that say the grant is gone
//! (`invalid_grant`, `invalid_target`, GitHub's `bad_refresh_token` and
//! `bad_verification_code`) end the grant, and only the codes about Bindify's client or request
//! ask the owner to act; text taken from the server is cut and free of control characters.
#![no_main]

use bindify_core::oauth::registration::{ClientRegistration, ClientSource, TokenAuthMethod};
use bindify_core::oauth::tokens::{TokenEndpoint, TokenError, exchange_code, refresh};
use bindify_core::vault::record::TokenSet;
use bindify_fuzz::{Peer, block_on, has_control};
use libfuzzer_sys::fuzz_target;
use oauth2::RefreshToken;

const NOW: i64 = 1_700_000_000_000;

fn check(result: &Result<TokenSet, TokenError>) {
    match result {
        Ok(tokens) => {
            assert_eq!(tokens.obtained_at, Some(NOW));
            if let Some(expires_at) = tokens.expires_at {
                assert!(expires_at >= NOW);
            }
        }
        Err(TokenError::Rejected { error, description }) => {
            assert!(
                [
                    "invalid_grant",
                    "invalid_target",
                    "bad_refresh_token",
                    "bad_verification_code"
                ]
                .contains(&error.as_str())
            );
            if let Some(d) = description {
                assert!(d.chars().count() <= 301 && !has_control(d), "{d:?}");
            }
        }
        Err(TokenError::Refused { error, description }) => {
            assert!(
                [
                    "invalid_client",
                    "unauthorized_client",
                    "incorrect_client_credentials",
                    "unsupported_grant_type",
                    "invalid_request",
                    "invalid_scope"
                ]
                .contains(&error.as_str())
            );
            if let Some(d) = description {
                assert!(d.chars().count() <= 301 && !has_control(d), "{d:?}");
            }
        }
        Err(TokenError::Client(text)) => panic!("a public client needs no credential: {text}"),
        Err(TokenError::Transient(text)) | Err(TokenError::InvalidResponse(text)) => {
            assert!(
                text.chars().count() <= 301,
                "{} characters",
                text.chars().count()
            );
            assert!(!has_control(text), "{text:?}");
        }
    }
}

fuzz_target!(|script: &[u8]| {
    let peer = Peer::new("content-type", script);
    let client = ClientRegistration {
        client_id: "c1".into(),
        client_secret: None,
        auth_method: TokenAuthMethod::None,
        source: ClientSource::Dynamic,
        registered_at: 0,
        private_key: None,
    };
    let endpoint = TokenEndpoint {
        token_endpoint: "https://auth.example.com/token",
        client: &client,
        resource: "https://mcp.example.com/mcp",
        issuer: "https://auth.example.com/",
    };
    let exchanged = block_on(exchange_code(
        &peer.client(),
        &endpoint,
        "the-code",
        "the-verifier-the-verifier-the-verifier-1234",
        "https://bindify.example/oauth/callback",
        NOW,
    ));
    check(&exchanged);

    let old = RefreshToken::new("old-refresh".into());
    let old_expiry = Some(NOW + 86_400_000);
    let refreshed = block_on(refresh(&peer.client(), &endpoint, &old, old_expiry, NOW));
    check(&refreshed);
    if let Ok(tokens) = &refreshed {
        assert!(
            tokens.refresh_token.is_some(),
            "the old refresh token is kept"
        );
        if let Some(e) = tokens.refresh_token_expires_at {
            assert!(e >= NOW);
        }
    }
    assert_eq!(peer.seen().len(), 2);
});
