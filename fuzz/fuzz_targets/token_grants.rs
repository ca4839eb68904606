//! The grants without a browser (core/src/oauth/tokens.rs `client_credentials`,
//! core/src/oauth/tokens/assertion.rs `exchange_identity_token` and `jwt_bearer`): what an
//! authorization server answers to a client credentials request, and what an identity provider
//! and then the authorization server answer to the two steps of an identity assertion grant,
//! from a scripted peer (fuzz/src/lib.rs; the sections answer the requests in that order).
//!
//! Properties: an ID-JAG is taken only when the identity provider says it issued one
//! (`issued_token_type`); expiries are absolute and never before `now`, and a refresh token's
//! expiry comes only with a refresh token; an error carries at most a few hundred characters of the
//! server's text, without control characters, and never the client secret or the identity token
//! Bindify sent (unless the server's answer quotes them).
#![no_main]

use bindify_core::oauth::registration::{ClientRegistration, ClientSource, TokenAuthMethod};
use bindify_core::oauth::tokens::{
    Call, ID_JAG_TOKEN_TYPE, TokenEndpoint, TokenError, client_credentials,
    exchange_identity_token, jwt_bearer,
};
use bindify_core::vault::record::TokenSet;
use bindify_fuzz::{Peer, block_on, has_control};
use libfuzzer_sys::fuzz_target;
use oauth2::ClientSecret;

const NOW: i64 = 1_700_000_000_000;
const CLIENT_SECRET: &str = "the-client-secret-9f8e7d6c5b4a";
const ID_TOKEN: &str = "the-identity-token-1a2b3c4d5e6f";

/// The longest error text: the fixed words around the server's text (cut to 300 characters,
/// or 64 for an error code) stay well below this.
const MAX_ERROR_CHARS: usize = 500;

fn check_error(error: &TokenError, script: &str) {
    let text = error.to_string();
    assert!(
        text.chars().count() <= MAX_ERROR_CHARS,
        "{} characters in {:?}",
        text.chars().count(),
        error
    );
    assert!(!has_control(&text), "{text:?}");
    for secret in [CLIENT_SECRET, ID_TOKEN] {
        assert!(
            script.contains(secret) || !text.contains(secret),
            "the error quotes what Bindify sent: {text:?}"
        );
    }
    assert!(
        !matches!(error, TokenError::Client(_)),
        "the client's credentials are complete: {error:?}"
    );
}

fn check_tokens(tokens: &TokenSet) {
    assert_eq!(tokens.obtained_at, Some(NOW));
    if let Some(expires_at) = tokens.expires_at {
        assert!(expires_at >= NOW);
    }
    if let Some(expires_at) = tokens.refresh_token_expires_at {
        assert!(tokens.refresh_token.is_some() && expires_at >= NOW);
    }
    assert!(!tokens.access_token.secret().is_empty());
}

fuzz_target!(|script: &[u8]| {
    let text = String::from_utf8_lossy(script);
    let peer = Peer::new("content-type", script);
    let client = ClientRegistration {
        client_id: "c1".into(),
        client_secret: Some(ClientSecret::new(CLIENT_SECRET.into())),
        auth_method: TokenAuthMethod::ClientSecretPost,
        source: ClientSource::Owner,
        registered_at: 0,
        private_key: None,
    };
    let endpoint = TokenEndpoint {
        token_endpoint: "https://auth.example.com/token",
        client: &client,
        resource: "https://mcp.example.com/mcp",
        issuer: "https://auth.example.com/",
    };
    let scopes = vec!["read".to_owned(), "write".to_owned()];

    match block_on(client_credentials(&peer.client(), &endpoint, &scopes, NOW)) {
        Ok(tokens) => check_tokens(&tokens),
        Err(error) => check_error(&error, &text),
    }

    let idp = Call {
        token_endpoint: "https://idp.example.com/token",
        client: &client,
        issuer: "https://idp.example.com/",
    };
    let exchanged = block_on(exchange_identity_token(
        &peer.client(),
        &idp,
        ID_TOKEN,
        "https://auth.example.com/",
        "https://mcp.example.com/mcp",
        &scopes,
        NOW,
    ));
    let grant = match exchanged {
        Ok(grant) => grant,
        Err(error) => {
            check_error(&error, &text);
            assert_eq!(peer.seen().len(), 2);
            return;
        }
    };
    assert!(text.contains(ID_JAG_TOKEN_TYPE), "an ID-JAG nobody issued");
    assert!(!grant.0.secret().is_empty());
    match block_on(jwt_bearer(&peer.client(), &endpoint, &grant, &scopes, NOW)) {
        Ok(tokens) => {
            check_tokens(&tokens);
            assert!(tokens.refresh_token.is_some() || tokens.refresh_token_expires_at.is_none());
        }
        Err(error) => check_error(&error, &text),
    }
    let seen = peer.seen();
    assert_eq!(seen.len(), 3);
    assert!(seen[1].uri.starts_with("https://idp.example.com/"));
    assert!(seen[2].uri.starts_with("https://auth.example.com/"));
});
