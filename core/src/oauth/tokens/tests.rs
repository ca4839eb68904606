use super::*;
use crate::oauth::registration::{ClientSource, TokenAuthMethod};
use crate::testing::{ScriptedPeer, block_on};

const TOKEN: &str = "https://auth.example.com/token";

fn client() -> ClientRegistration {
    ClientRegistration {
        client_id: "c1".into(),
        client_secret: None,
        auth_method: TokenAuthMethod::None,
        source: ClientSource::Dynamic,
        registered_at: 0,
        private_key: None,
    }
}

fn refresh_with(peer: &ScriptedPeer) -> Result<TokenSet, TokenError> {
    let client = client();
    let endpoint = TokenEndpoint {
        token_endpoint: TOKEN,
        client: &client,
        resource: "https://mcp.example.com/mcp",
        issuer: "https://auth.example.com",
    };
    block_on(refresh(
        &peer.client(),
        &endpoint,
        &RefreshToken::new("RT-old".into()),
        Some(99_000),
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
    let client = client();
    let call = Call {
        token_endpoint: TOKEN,
        client: &client,
        issuer: "https://auth.example.com",
    };
    let outcome = block_on(revoke(
        &peer.client(),
        Some("https://auth.example.com/revoke"),
        &call,
        "RT-1",
        "refresh_token",
        0,
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
        block_on(revoke(&peer.client(), None, &call, "x", "refresh_token", 0)),
        Revocation::Unsupported
    );
    peer.on("POST", "https://auth.example.com/revoke", 503, "");
    assert_eq!(
        block_on(revoke(
            &peer.client(),
            Some("https://auth.example.com/revoke"),
            &call,
            "x",
            "refresh_token",
            0
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
        issuer: "https://auth.example.com",
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

#[test]
fn a_refresh_token_expiry_is_recorded_and_kept_with_the_refresh_token() {
    let peer = ScriptedPeer::new();
    peer.on(
        "POST",
        TOKEN,
        200,
        r#"{"access_token":"AT2","token_type":"bearer","expires_in":28800,"refresh_token":"RT-new","refresh_token_expires_in":15811200}"#,
    );
    let tokens = refresh_with(&peer).expect("refreshed");
    assert_eq!(tokens.expires_at, Some(1_000 + 28_800_000));
    assert_eq!(
        tokens.refresh_token_expires_at,
        Some(1_000 + 15_811_200_000)
    );

    // No new refresh token: the old one and its expiry stay.
    peer.on(
        "POST",
        TOKEN,
        200,
        r#"{"access_token":"AT3","token_type":"Bearer"}"#,
    );
    assert_eq!(
        refresh_with(&peer)
            .expect("refreshed")
            .refresh_token_expires_at,
        Some(99_000)
    );
    // A new refresh token without a stated expiry has none.
    peer.on(
        "POST",
        TOKEN,
        200,
        r#"{"access_token":"AT4","token_type":"Bearer","refresh_token":"RT-4"}"#,
    );
    assert_eq!(
        refresh_with(&peer)
            .expect("refreshed")
            .refresh_token_expires_at,
        None
    );
}

#[test]
fn refusals_of_the_client_or_the_request_need_the_owner_not_a_retry() {
    let peer = ScriptedPeer::new();
    for (code, remedy) in [
        (
            "invalid_client",
            "reconnect, or enter the client's credentials again",
        ),
        (
            "unauthorized_client",
            "reconnect, or enter the client's credentials again",
        ),
        ("unsupported_grant_type", "does not allow this grant"),
        ("invalid_scope", "refused the requested scopes"),
        ("invalid_request", "refused the request as malformed"),
    ] {
        peer.on(
            "POST",
            TOKEN,
            400,
            &format!(r#"{{"error":"{code}","error_description":"no"}}"#),
        );
        let err = refresh_with(&peer).expect_err(code);
        assert_eq!(
            err,
            TokenError::Refused {
                error: code.into(),
                description: Some("no".into())
            }
        );
        assert!(err.is_rejection(), "{code} is not retried");
        let message = err.to_string();
        assert!(
            message.starts_with(&format!(
                "the authorization server refused Bindify's request ({code}: no); "
            )),
            "{message}"
        );
        assert!(message.contains(remedy), "{message}");
        assert!(!message.contains("unavailable"), "{message}");
    }
    peer.on("POST", TOKEN, 401, r#"{"error":"invalid_client"}"#);
    assert!(
        refresh_with(&peer)
            .expect_err("refused")
            .refuses_the_client()
    );
    peer.on("POST", TOKEN, 400, r#"{"error":"invalid_scope"}"#);
    assert!(
        !refresh_with(&peer)
            .expect_err("refused")
            .refuses_the_client()
    );
    peer.on("POST", TOKEN, 400, r#"{"error":"invalid_grant"}"#);
    assert!(
        !refresh_with(&peer)
            .expect_err("rejected")
            .refuses_the_client()
    );
}

fn owner_client(method: TokenAuthMethod) -> ClientRegistration {
    ClientRegistration {
        client_id: "machine".into(),
        client_secret: Some(oauth2::ClientSecret::new("m-secret".into())),
        auth_method: method,
        source: ClientSource::Owner,
        registered_at: 0,
        private_key: None,
    }
}

#[test]
fn client_credentials_ask_for_a_token_as_the_client_itself() {
    let peer = ScriptedPeer::new();
    peer.on(
        "POST",
        TOKEN,
        200,
        r#"{"access_token":"cc-1","token_type":"Bearer","expires_in":3600,"scope":"read"}"#,
    );
    let client = owner_client(TokenAuthMethod::ClientSecretBasic);
    let endpoint = TokenEndpoint {
        token_endpoint: TOKEN,
        client: &client,
        resource: "https://mcp.example.com/mcp",
        issuer: "https://auth.example.com",
    };
    let tokens = block_on(client_credentials(
        &peer.client(),
        &endpoint,
        &["read".to_owned()],
        5_000,
    ))
    .expect("token");
    assert_eq!(tokens.access_token.secret(), "cc-1");
    assert_eq!(tokens.expires_at, Some(3_605_000));
    assert!(tokens.refresh_token.is_none());
    let sent = &peer.requests()[0];
    assert_eq!(
        sent.form("grant_type").as_deref(),
        Some("client_credentials")
    );
    assert_eq!(sent.form("scope").as_deref(), Some("read"));
    assert_eq!(
        sent.form("resource").as_deref(),
        Some("https://mcp.example.com/mcp")
    );
    assert_eq!(sent.form("client_secret"), None);
    assert!(
        sent.headers
            .iter()
            .any(|(k, v)| k == "authorization" && v == "Basic bWFjaGluZTptLXNlY3JldA==")
    );

    // No scopes: no scope parameter.
    let _ = block_on(client_credentials(&peer.client(), &endpoint, &[], 5_000));
    assert_eq!(peer.requests()[1].form("scope"), None);
}

#[test]
fn an_identity_token_becomes_an_id_jag_and_then_an_access_token() {
    let idp_token = "https://idp.example.com/token";
    let peer = ScriptedPeer::new();
    peer.on(
        "POST",
        idp_token,
        200,
        r#"{"access_token":"ID-JAG-1","issued_token_type":"urn:ietf:params:oauth:token-type:id-jag","token_type":"N_A","expires_in":300}"#,
    );
    peer.on(
        "POST",
        TOKEN,
        200,
        r#"{"access_token":"AT-X","token_type":"Bearer","expires_in":3600}"#,
    );
    let idp_client = ClientRegistration {
        client_secret: None,
        auth_method: TokenAuthMethod::None,
        ..owner_client(TokenAuthMethod::None)
    };
    let idp = Call {
        token_endpoint: idp_token,
        client: &idp_client,
        issuer: "https://idp.example.com",
    };
    let jag = block_on(exchange_identity_token(
        &peer.client(),
        &idp,
        "ID-TOKEN",
        "https://auth.example.com",
        "https://mcp.example.com/mcp",
        &[],
        1_000,
    ))
    .expect("exchanged");
    let sent = &peer.requests()[0];
    for (name, value) in [
        (
            "grant_type",
            "urn:ietf:params:oauth:grant-type:token-exchange",
        ),
        (
            "requested_token_type",
            "urn:ietf:params:oauth:token-type:id-jag",
        ),
        ("subject_token", "ID-TOKEN"),
        (
            "subject_token_type",
            "urn:ietf:params:oauth:token-type:id_token",
        ),
        ("audience", "https://auth.example.com"),
        ("resource", "https://mcp.example.com/mcp"),
        ("client_id", "machine"),
    ] {
        assert_eq!(sent.form(name).as_deref(), Some(value), "{name}");
    }

    let client = owner_client(TokenAuthMethod::ClientSecretBasic);
    let endpoint = TokenEndpoint {
        token_endpoint: TOKEN,
        client: &client,
        resource: "https://mcp.example.com/mcp",
        issuer: "https://auth.example.com",
    };
    let tokens = block_on(jwt_bearer(&peer.client(), &endpoint, &jag, &[], 1_000)).expect("token");
    assert_eq!(tokens.access_token.secret(), "AT-X");
    let sent = &peer.requests()[1];
    assert_eq!(
        sent.form("grant_type").as_deref(),
        Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
    );
    assert_eq!(sent.form("assertion").as_deref(), Some("ID-JAG-1"));

    // Anything but an ID-JAG from the identity provider is refused.
    peer.on(
        "POST",
        idp_token,
        200,
        r#"{"access_token":"other","issued_token_type":"urn:ietf:params:oauth:token-type:access_token"}"#,
    );
    let error = block_on(exchange_identity_token(
        &peer.client(),
        &idp,
        "ID-TOKEN",
        "https://auth.example.com",
        "https://mcp.example.com/mcp",
        &[],
        1_000,
    ))
    .expect_err("not an ID-JAG");
    assert_eq!(
        error.to_string(),
        "the token response is invalid: the identity provider issued \"urn:ietf:params:oauth:token-type:access_token\", not an ID-JAG"
    );
}

#[test]
fn an_unknown_error_code_is_cut_and_cleaned() {
    // Found by fuzzing (fuzz/fuzz_targets/token_response.rs): a code outside RFC 6749 §5.2 is
    // any text the server chose, line breaks included; it reaches the error cut and cleaned.
    let peer = ScriptedPeer::new();
    let code = format!("vendor_code\nforged log line {}", "x".repeat(500));
    peer.on(
        "POST",
        TOKEN,
        400,
        &serde_json::json!({ "error": code }).to_string(),
    );
    assert_eq!(
        refresh_with(&peer).expect_err("refused"),
        TokenError::Transient(format!("vendor_codeforged log line {}…", "x".repeat(37)))
    );
}

#[test]
fn an_unexpected_token_type_is_quoted_cut_and_cleaned() {
    // The identity provider chooses `issued_token_type`: an error quotes at most 100 characters
    // of it, without control characters (checked by fuzz/fuzz_targets/token_grants.rs).
    let peer = ScriptedPeer::new();
    let idp_token = "https://idp.example.com/token";
    let long = format!("urn:vendor\n{}", "t".repeat(5000));
    peer.on(
        "POST",
        idp_token,
        200,
        &serde_json::json!({ "access_token": "other", "issued_token_type": long }).to_string(),
    );
    let client = owner_client(TokenAuthMethod::ClientSecretPost);
    let idp = Call {
        token_endpoint: idp_token,
        client: &client,
        issuer: "https://idp.example.com",
    };
    let error = block_on(exchange_identity_token(
        &peer.client(),
        &idp,
        "ID-TOKEN",
        "https://auth.example.com",
        "https://mcp.example.com/mcp",
        &[],
        1_000,
    ))
    .expect_err("not an ID-JAG");
    assert_eq!(
        error.to_string(),
        format!(
            "the token response is invalid: the identity provider issued \"urn:vendor{}…\", not an ID-JAG",
            "t".repeat(90)
        )
    );
}
