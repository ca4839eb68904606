//! Dynamic client registration responses (core/src/oauth/registration.rs `register`): the JSON an
//! authorization server answers, success or error, from a scripted peer (fuzz/src/lib.rs).
//!
//! Properties: one POST to the registration endpoint; a registration has a client id and a
//! secret whenever its method needs one; a refusal's text is cut and free of control
//! characters.
#![no_main]

use bindify_core::oauth::discovery::AuthServerMetadata;
use bindify_core::oauth::registration::{RegistrationError, TokenAuthMethod, register};
use bindify_fuzz::{Peer, block_on, has_control};
use libfuzzer_sys::fuzz_target;
use url::Url;

fn metadata() -> AuthServerMetadata {
    serde_json::from_value(serde_json::json!({
        "issuer": "https://auth.example.com",
        "authorization_endpoint": "https://auth.example.com/authorize",
        "token_endpoint": "https://auth.example.com/token",
        "registration_endpoint": "https://auth.example.com/register",
        "code_challenge_methods_supported": ["S256"],
    }))
    .expect("metadata")
}

fuzz_target!(|script: &[u8]| {
    let peer = Peer::new("content-type", script);
    let redirect = Url::parse("https://bindify.example/oauth/callback").expect("redirect");
    let scopes = ["read".to_owned(), "write".to_owned()];
    let result = block_on(register(
        &peer.client(),
        &metadata(),
        &redirect,
        &scopes,
        "Bindify",
        1_700_000_000_000,
    ));
    let seen = peer.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].uri, "https://auth.example.com/register");
    assert!(!seen[0].has_authorization);
    match result {
        Ok(client) => {
            assert!(!client.client_id.is_empty());
            if client.auth_method != TokenAuthMethod::None {
                assert!(client.client_secret.is_some());
            }
        }
        Err(RegistrationError::Refused(text)) => {
            assert!(
                text.chars().count() <= 301,
                "{} characters",
                text.chars().count()
            );
            assert!(!has_control(&text), "{text:?}");
        }
        Err(_) => {}
    }
});
