use super::*;
use crate::registration::{ClientSource, TokenAuthMethod};
use crate::testing::{ScriptedPeer, block_on};

const TOKEN: &str = "https://auth.example.com/token";

fn client() -> ClientRegistration {
    ClientRegistration {
        client_id: "c1".into(),
        client_secret: None,
        auth_method: TokenAuthMethod::None,
        source: ClientSource::Dynamic,
        registered_at: 0,
    }
}

fn refresh_with(peer: &ScriptedPeer) -> Result<TokenSet, TokenError> {
    let client = client();
    let endpoint = TokenEndpoint {
        token_endpoint: TOKEN,
        client: &client,
        resource: "https://mcp.example.com/mcp",
    };
    block_on(refresh(
        &peer.client(),
        &endpoint,
        &RefreshToken::new("RT-old".into()),
        1_000,
    ))
}

#[test]
fn refresh_sends_resource_and_rotates() {
    let peer = ScriptedPeer::new();
    peer.on(
        "POST",
        TOKEN,
        200,
        r#"{"access_token":"AT2","token_type":"Bearer","expires_in":60,"refresh_token":"RT-new"}"#,
    );
    let tokens = refresh_with(&peer).expect("refreshed");
    assert_eq!(
        tokens.refresh_token.map(|t| t.secret().clone()).as_deref(),
        Some("RT-new")
    );
    assert_eq!(tokens.expires_at, Some(61_000));
    let sent = &peer.requests()[0];
    assert_eq!(sent.form("grant_type").as_deref(), Some("refresh_token"));
    assert_eq!(sent.form("refresh_token").as_deref(), Some("RT-old"));
    assert_eq!(
        sent.form("resource").as_deref(),
        Some("https://mcp.example.com/mcp")
    );
}

#[test]
fn a_response_without_refresh_token_keeps_the_old_one() {
    let peer = ScriptedPeer::new();
    peer.on(
        "POST",
        TOKEN,
        200,
        r#"{"access_token":"AT2","token_type":"Bearer"}"#,
    );
    let tokens = refresh_with(&peer).expect("refreshed");
    assert_eq!(
        tokens.refresh_token.map(|t| t.secret().clone()).as_deref(),
        Some("RT-old")
    );
    assert_eq!(tokens.expires_at, None);
}

#[test]
fn revocation_posts_the_token_with_its_hint() {
    let peer = ScriptedPeer::new();
    peer.on("POST", "https://auth.example.com/revoke", 200, "");
    let outcome = block_on(revoke(
        &peer.client(),
        Some("https://auth.example.com/revoke"),
        &client(),
        "RT-1",
        "refresh_token",
    ));
    assert_eq!(outcome, Revocation::Revoked);
    let sent = &peer.requests()[0];
    assert_eq!(sent.form("token").as_deref(), Some("RT-1"));
    assert_eq!(
        sent.form("token_type_hint").as_deref(),
        Some("refresh_token")
    );
    assert_eq!(sent.form("client_id").as_deref(), Some("c1"));
    assert_eq!(
        block_on(revoke(
            &peer.client(),
            None,
            &client(),
            "x",
            "refresh_token"
        )),
        Revocation::Unsupported
    );
    peer.on("POST", "https://auth.example.com/revoke", 503, "");
    assert_eq!(
        block_on(revoke(
            &peer.client(),
            Some("https://auth.example.com/revoke"),
            &client(),
            "x",
            "refresh_token"
        )),
        Revocation::Failed
    );
}

#[test]
fn failures_are_classified() {
    let peer = ScriptedPeer::new();
    peer.on(
        "POST",
        TOKEN,
        400,
        r#"{"error":"invalid_grant","error_description":"grant revoked"}"#,
    );
    let err = refresh_with(&peer).expect_err("rejected");
    assert!(err.is_rejection());
    assert!(err.to_string().contains("grant revoked"));

    peer.on("POST", TOKEN, 503, r#"{"error":"temporarily_unavailable"}"#);
    assert!(matches!(refresh_with(&peer), Err(TokenError::Transient(_))));
    peer.on("POST", TOKEN, 502, "<html>Bad gateway</html>");
    assert!(matches!(refresh_with(&peer), Err(TokenError::Transient(_))));
    peer.fail("POST", TOKEN);
    assert!(matches!(refresh_with(&peer), Err(TokenError::Transient(_))));
    // An error never echoes the refresh token.
    assert!(!format!("{:?}", refresh_with(&peer)).contains("RT-old"));
}

#[test]
fn a_resource_the_server_will_not_accept_needs_the_user() {
    let peer = ScriptedPeer::new();
    peer.on(
        "POST",
        TOKEN,
        400,
        r#"{"error":"invalid_target","error_description":"resource mismatch"}"#,
    );
    assert_eq!(
        refresh_with(&peer).err(),
        Some(TokenError::Rejected {
            error: "invalid_target".into(),
            description: Some("resource mismatch".into()),
        })
    );
}

#[test]
fn error_bodies_with_a_success_status_are_classified_by_their_code() {
    // GitHub answers a spent or expired refresh token with HTTP 200.
    let peer = ScriptedPeer::new();
    peer.on(
        "POST",
        TOKEN,
        200,
        r#"{"error":"bad_refresh_token","error_description":"The refresh token passed is incorrect or expired.","error_uri":"https://docs.github.com"}"#,
    );
    let err = refresh_with(&peer).expect_err("rejected");
    assert_eq!(
        err,
        TokenError::Rejected {
            error: "bad_refresh_token".into(),
            description: Some("The refresh token passed is incorrect or expired.".into()),
        }
    );
    assert!(err.is_rejection());

    // A code that a retry may outlive stays transient, whatever the status.
    peer.on("POST", TOKEN, 200, r#"{"error":"temporarily_unavailable"}"#);
    assert_eq!(
        refresh_with(&peer).err(),
        Some(TokenError::Transient("temporarily_unavailable".into()))
    );
    // A 200 that is neither a token nor an error is still unreadable, and transient.
    peer.on("POST", TOKEN, 200, r#"{"unexpected":true}"#);
    assert!(matches!(
        refresh_with(&peer),
        Err(TokenError::Transient(m)) if m.starts_with("unreadable response")
    ));
}

#[test]
fn a_code_github_refuses_with_http_200_is_a_rejection() {
    let peer = ScriptedPeer::new();
    peer.on(
        "POST",
        TOKEN,
        200,
        r#"{"error":"bad_verification_code","error_description":"The code passed is incorrect or expired."}"#,
    );
    let client = client();
    let endpoint = TokenEndpoint {
        token_endpoint: TOKEN,
        client: &client,
        resource: "https://mcp.example.com/mcp",
    };
    let result = block_on(exchange_code(
        &peer.client(),
        &endpoint,
        "CODE",
        "verifier",
        "https://bindify.example.com/oauth/callback",
        1_000,
    ));
    assert!(matches!(
        result,
        Err(TokenError::Rejected { ref error, .. }) if error == "bad_verification_code"
    ));
}
