use super::*;
use crate::testing::{ScriptedPeer, block_on, keyring, keyring_with};
use crate::vault::store::MemoryStore;

pub(super) const MCP: &str = "https://mcp.example.com/mcp";
pub(super) const ISSUER: &str = "https://auth.example.com";
pub(super) const NOW: UnixMillis = 1_795_690_200_000;

pub(super) fn settings() -> ConnectSettings {
    ConnectSettings {
        policy: UpstreamPolicy {
            allow_loopback_http: false,
        },
        state_ttl_ms: 600_000,
        redirect_uri: Url::parse("https://bindify.example.com/oauth/callback").expect("url"),
        configured_clients: BTreeMap::new(),
        client_metadata_url: None,
        secure_cookies: true,
    }
}

/// A peer that discovers, registers and exchanges codes like a real authorization server.
pub(super) fn peer() -> ScriptedPeer {
    let peer = ScriptedPeer::new();
    peer.on_with_headers(
        "POST",
        MCP,
        401,
        &[(
            "www-authenticate",
            r#"Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp""#,
        )],
        "",
    );
    peer.on(
        "GET",
        "https://mcp.example.com/.well-known/oauth-protected-resource/mcp",
        200,
        &serde_json::json!({ "resource": MCP, "authorization_servers": [ISSUER], "scopes_supported": ["mcp"] }).to_string(),
    );
    peer.on(
        "GET",
        "https://auth.example.com/.well-known/oauth-authorization-server",
        200,
        &serde_json::json!({
            "issuer": ISSUER,
            "authorization_endpoint": "https://auth.example.com/authorize",
            "token_endpoint": "https://auth.example.com/token",
            "registration_endpoint": "https://auth.example.com/register",
            "revocation_endpoint": "https://auth.example.com/revoke",
            "code_challenge_methods_supported": ["S256"],
        })
        .to_string(),
    );
    peer.on(
        "POST",
        "https://auth.example.com/register",
        201,
        r#"{"client_id":"client-123","token_endpoint_auth_method":"none"}"#,
    );
    peer.on(
        "POST",
        "https://auth.example.com/token",
        200,
        r#"{"access_token":"AT-secret-1","token_type":"Bearer","expires_in":3600,"refresh_token":"RT-secret-1","scope":"mcp"}"#,
    );
    peer
}

pub(super) struct Started {
    pub(super) begun: Begun,
    pub(super) state: String,
    pub(super) cookie_header: String,
}

pub(super) fn start(peer: &ScriptedPeer, store: &MemoryStore) -> Started {
    let server = Url::parse(MCP).expect("url");
    let begun = block_on(begin(
        &peer.client(),
        store,
        &keyring(),
        &settings(),
        &server,
        FlowExtras::default(),
        NOW,
    ))
    .expect("begin");
    let state = query(&begun.authorize_url, "state").expect("state");
    // The browser sends back the cookie it was given.
    let cookie_header = begun
        .set_cookie
        .split(';')
        .next()
        .expect("cookie pair")
        .to_owned();
    Started {
        begun,
        state,
        cookie_header,
    }
}

pub(super) fn query(url: &Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

pub(super) fn callback(code: &str, state: &str) -> CallbackParams {
    CallbackParams {
        code: Some(CallbackCode::new(code.into())),
        state: Some(sealed(state)),
        ..CallbackParams::default()
    }
}

fn sealed(state: &str) -> SealedState {
    SealedState::new(state.into())
}

pub(super) fn finish(
    peer: &ScriptedPeer,
    store: &MemoryStore,
    params: &CallbackParams,
    cookie: Option<&str>,
    now: UnixMillis,
) -> Result<Completed, ConnectError> {
    block_on(complete(
        &peer.client(),
        store,
        &keyring(),
        &settings(),
        params,
        cookie,
        now,
    ))
    .map_err(|failure| failure.error)
}

pub(super) fn flow_keys(store: &MemoryStore) -> Vec<String> {
    store
        .keys()
        .into_iter()
        .filter(|k| k.starts_with("flow:"))
        .collect()
}

#[test]
fn begin_builds_a_pkce_s256_authorization_request_with_resource() {
    let peer = peer();
    let store = MemoryStore::new();
    let started = start(&peer, &store);
    let url = &started.begun.authorize_url;
    assert!(
        url.as_str()
            .starts_with("https://auth.example.com/authorize?")
    );
    assert_eq!(query(url, "response_type").as_deref(), Some("code"));
    assert_eq!(query(url, "client_id").as_deref(), Some("client-123"));
    assert_eq!(query(url, "code_challenge_method").as_deref(), Some("S256"));
    assert_eq!(query(url, "code_challenge").map(|c| c.len()), Some(43));
    assert_eq!(query(url, "resource").as_deref(), Some(MCP));
    assert_eq!(query(url, "scope").as_deref(), Some("mcp"));
    assert_eq!(
        query(url, "redirect_uri").as_deref(),
        Some("https://bindify.example.com/oauth/callback")
    );
    let cookie = &started.begun.set_cookie;
    assert!(cookie.starts_with("bindify_flow_"));
    assert!(cookie.contains("HttpOnly") && cookie.contains("Secure"));

    // The pending flow is sealed, expires by itself, and holds no readable verifier.
    let keys = flow_keys(&store);
    assert_eq!(keys.len(), 1);
    let options = store.options(&keys[0]).expect("stored");
    assert_eq!(options.ttl_seconds, Some(600));
    assert!(!store.dump().contains("client-123"));
}

#[test]
fn each_authorization_registers_its_own_client_and_caches_none() {
    let peer = peer();
    let store = MemoryStore::new();
    start(&peer, &store);
    start(&peer, &store);
    assert_eq!(
        peer.requests_to("https://auth.example.com/register").len(),
        2
    );
    assert!(
        store.keys().iter().all(|k| k.starts_with("flow:")),
        "only the pending flows are stored: {:?}",
        store.keys()
    );
    let register = &peer.requests_to("https://auth.example.com/register")[0];
    let body: serde_json::Value = serde_json::from_str(&register.body).expect("json");
    assert_eq!(body["token_endpoint_auth_method"], "none");
    assert_eq!(
        body["redirect_uris"],
        serde_json::json!(["https://bindify.example.com/oauth/callback"])
    );
    assert_eq!(
        body["grant_types"],
        serde_json::json!(["authorization_code", "refresh_token"])
    );
}

#[test]
fn a_configured_client_is_used_without_registration() {
    let peer = peer();
    let store = MemoryStore::new();
    let mut settings = settings();
    settings.configured_clients.insert(
        ISSUER.into(),
        serde_json::from_str(r#"{"client_id":"preregistered","client_secret":"cs"}"#)
            .expect("json"),
    );
    let server = Url::parse(MCP).expect("url");
    let begun = block_on(begin(
        &peer.client(),
        &store,
        &keyring(),
        &settings,
        &server,
        FlowExtras::default(),
        NOW,
    ))
    .expect("begin");
    assert_eq!(
        query(&begun.authorize_url, "client_id").as_deref(),
        Some("preregistered")
    );
    assert!(
        peer.requests_to("https://auth.example.com/register")
            .is_empty()
    );
}

#[test]
fn refused_registration_stores_nothing() {
    let peer = peer();
    peer.on(
        "POST",
        "https://auth.example.com/register",
        400,
        r#"{"error":"invalid_client_metadata","error_description":"redirect_uris not allowed"}"#,
    );
    let store = MemoryStore::new();
    let server = Url::parse(MCP).expect("url");
    let err = block_on(begin(
        &peer.client(),
        &store,
        &keyring(),
        &settings(),
        &server,
        FlowExtras::default(),
        NOW,
    ))
    .expect_err("refused");
    assert!(
        matches!(err, ConnectError::Registration(RegistrationError::Refused(ref d)) if d.contains("redirect_uris not allowed"))
    );
    assert_eq!(err.problem().code, "registration_refused");
    assert!(store.keys().is_empty());
}

#[test]
fn complete_exchanges_the_code_with_verifier_and_resource() {
    let peer = peer();
    let store = MemoryStore::new();
    let s = start(&peer, &store);
    let done = finish(
        &peer,
        &store,
        &callback("the-code", &s.state),
        Some(&s.cookie_header),
        NOW + 5_000,
    )
    .expect("complete");

    let token = &peer.requests_to("https://auth.example.com/token")[0];
    assert_eq!(
        token.form("grant_type").as_deref(),
        Some("authorization_code")
    );
    assert_eq!(token.form("code").as_deref(), Some("the-code"));
    assert_eq!(token.form("resource").as_deref(), Some(MCP));
    assert_eq!(token.form("client_id").as_deref(), Some("client-123"));
    assert_eq!(
        token.form("redirect_uri").as_deref(),
        Some("https://bindify.example.com/oauth/callback")
    );
    // The verifier matches the challenge sent in the authorization request.
    let verifier = token.form("code_verifier").expect("verifier");
    let challenge = PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(verifier));
    assert_eq!(
        query(&s.begun.authorize_url, "code_challenge").as_deref(),
        Some(challenge.as_str())
    );

    let record = &done.record;
    assert_eq!(record.tokens.access_token.secret(), "AT-secret-1");
    assert_eq!(record.tokens.expires_at, Some(NOW + 5_000 + 3_600_000));
    assert_eq!(
        record.oauth.as_ref().map(|o| o.resource.as_str()),
        Some(MCP)
    );
    assert!(record.secret_hash.ct_eq(&done.secret.hash()));
    assert!(done.clear_cookie.contains("Max-Age=0"));
    assert!(flow_keys(&store).is_empty(), "the flow is consumed");
    assert!(!format!("{record:?}").contains("AT-secret-1"));
}

#[test]
fn a_state_works_once() {
    let peer = peer();
    let store = MemoryStore::new();
    let s = start(&peer, &store);
    finish(
        &peer,
        &store,
        &callback("c", &s.state),
        Some(&s.cookie_header),
        NOW,
    )
    .expect("first");
    let again = finish(
        &peer,
        &store,
        &callback("c", &s.state),
        Some(&s.cookie_header),
        NOW,
    );
    assert!(matches!(again, Err(ConnectError::StateUsed)));
    // The browser's binding cookie is cleared on success; a replay is still "used".
    let replay = finish(&peer, &store, &callback("c", &s.state), None, NOW);
    assert!(matches!(replay, Err(ConnectError::StateUsed)));
    assert_eq!(peer.requests_to("https://auth.example.com/token").len(), 1);
}

#[test]
fn missing_forged_expired_and_foreign_states_are_refused() {
    let peer = peer();
    let store = MemoryStore::new();
    let s = start(&peer, &store);
    let cookie = Some(s.cookie_header.as_str());

    let missing = CallbackParams {
        code: Some(CallbackCode::new("c".into())),
        ..CallbackParams::default()
    };
    assert!(matches!(
        finish(&peer, &store, &missing, cookie, NOW),
        Err(ConnectError::StateMissing)
    ));

    let mut tampered = s.state.clone().into_bytes();
    tampered[20] = if tampered[20] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).expect("ascii");
    assert!(matches!(
        finish(&peer, &store, &callback("c", &tampered), cookie, NOW),
        Err(ConnectError::StateInvalid)
    ));
    assert!(matches!(
        finish(&peer, &store, &callback("c", "made-up"), cookie, NOW),
        Err(ConnectError::StateInvalid)
    ));

    // A state sealed under another deployment's key is not ours.
    let foreign_key = keyring_with(1, [9u8; 32]);
    let claims = StateClaims {
        flow: "x".into(),
        exp: NOW + 1000,
        bind: "y".into(),
    };
    let other = claims.seal(&foreign_key).expect("seal");
    assert!(matches!(
        finish(&peer, &store, &callback("c", other.expose()), cookie, NOW),
        Err(ConnectError::StateInvalid)
    ));

    assert!(matches!(
        finish(
            &peer,
            &store,
            &callback("c", &s.state),
            cookie,
            NOW + 600_000
        ),
        Err(ConnectError::StateExpired)
    ));
    assert!(matches!(
        finish(&peer, &store, &callback("c", &s.state), None, NOW),
        Err(ConnectError::StateForeign)
    ));
    let wrong_cookie = format!(
        "{}=not-the-value",
        s.cookie_header.split('=').next().expect("name")
    );
    assert!(matches!(
        finish(
            &peer,
            &store,
            &callback("c", &s.state),
            Some(&wrong_cookie),
            NOW
        ),
        Err(ConnectError::StateForeign)
    ));

    // None of these consumed the flow or reached the token endpoint.
    assert_eq!(flow_keys(&store).len(), 1);
    assert!(
        peer.requests_to("https://auth.example.com/token")
            .is_empty()
    );
}

#[test]
fn access_denied_consumes_the_flow_and_stores_nothing() {
    let peer = peer();
    let store = MemoryStore::new();
    let s = start(&peer, &store);
    let params = CallbackParams {
        state: Some(sealed(&s.state)),
        error: Some("access_denied".into()),
        error_description: Some("The user said no".into()),
        ..CallbackParams::default()
    };
    let err = finish(&peer, &store, &params, Some(&s.cookie_header), NOW).expect_err("denied");
    assert!(matches!(err, ConnectError::AccessDenied { .. }));
    let problem = err.problem();
    assert_eq!((problem.status, problem.code), (403, "access_denied"));
    assert!(problem.detail.contains("The user said no"));
    assert!(flow_keys(&store).is_empty());
    assert!(
        peer.requests_to("https://auth.example.com/token")
            .is_empty()
    );
}

#[test]
fn invalid_client_at_the_callback_is_reported_and_the_next_flow_registers_anew() {
    let peer = peer();
    let store = MemoryStore::new();
    let s = start(&peer, &store);
    let params = CallbackParams {
        state: Some(sealed(&s.state)),
        error: Some("invalid_client".into()),
        ..CallbackParams::default()
    };
    let err = finish(&peer, &store, &params, Some(&s.cookie_header), NOW).expect_err("error");
    assert_eq!(err.problem().code, "authorization_error");
    assert!(store.keys().is_empty());
    peer.on(
        "POST",
        "https://auth.example.com/register",
        201,
        r#"{"client_id":"client-456","token_endpoint_auth_method":"none"}"#,
    );
    let again = start(&peer, &store);
    assert_eq!(
        query(&again.begun.authorize_url, "client_id").as_deref(),
        Some("client-456")
    );
}

#[test]
fn a_mixed_up_issuer_is_refused() {
    let peer = peer();
    let store = MemoryStore::new();
    let s = start(&peer, &store);
    let mut params = callback("c", &s.state);
    params.iss = Some("https://evil.example.com".into());
    assert!(matches!(
        finish(&peer, &store, &params, Some(&s.cookie_header), NOW),
        Err(ConnectError::IssuerMismatch)
    ));
    params.iss = Some(format!("{ISSUER}/"));
    let s = start(&peer, &store);
    params.state = Some(sealed(&s.state));
    assert!(finish(&peer, &store, &params, Some(&s.cookie_header), NOW).is_ok());
}

/// The metadata of `peer()` with `authorization_response_iss_parameter_supported` (RFC 9207).
fn peer_naming_itself() -> ScriptedPeer {
    let peer = peer();
    peer.on(
        "GET",
        "https://auth.example.com/.well-known/oauth-authorization-server",
        200,
        &serde_json::json!({
            "issuer": ISSUER,
            "authorization_endpoint": "https://auth.example.com/authorize",
            "token_endpoint": "https://auth.example.com/token",
            "registration_endpoint": "https://auth.example.com/register",
            "code_challenge_methods_supported": ["S256"],
            "authorization_response_iss_parameter_supported": true,
        })
        .to_string(),
    );
    peer
}

#[test]
fn iss_is_required_when_the_server_promises_it() {
    let peer = peer_naming_itself();
    let store = MemoryStore::new();
    let s = start(&peer, &store);
    let without = callback("c", &s.state);
    let err = finish(&peer, &store, &without, Some(&s.cookie_header), NOW).expect_err("no iss");
    assert!(matches!(err, ConnectError::IssuerMissing));
    assert_eq!(
        (err.problem().status, err.problem().code),
        (400, "issuer_missing")
    );
    assert!(
        peer.requests_to("https://auth.example.com/token")
            .is_empty()
    );

    let s = start(&peer, &store);
    let mut with = callback("c", &s.state);
    with.iss = Some(ISSUER.into());
    assert!(finish(&peer, &store, &with, Some(&s.cookie_header), NOW).is_ok());

    // A server that does not promise it may leave it out (the default metadata).
    let plain = self::peer();
    let store = MemoryStore::new();
    let s = start(&plain, &store);
    let without = callback("c", &s.state);
    assert!(finish(&plain, &store, &without, Some(&s.cookie_header), NOW).is_ok());
}

#[test]
fn an_error_from_another_issuer_is_a_mix_up_and_forgets_nothing() {
    let peer = peer_naming_itself();
    let store = MemoryStore::new();
    let s = start(&peer, &store);
    let params = CallbackParams {
        state: Some(sealed(&s.state)),
        error: Some("invalid_client".into()),
        error_description: Some("from elsewhere".into()),
        iss: Some("https://evil.example.com".into()),
        ..CallbackParams::default()
    };
    let err = finish(&peer, &store, &params, Some(&s.cookie_header), NOW).expect_err("mix-up");
    assert!(matches!(err, ConnectError::IssuerMismatch));
    assert!(!err.problem().detail.contains("from elsewhere"));
    assert!(
        flow_keys(&store).is_empty(),
        "the flow is consumed, nothing else touched"
    );
}

#[test]
fn without_a_valid_state_the_query_text_is_never_shown() {
    let peer = peer();
    let store = MemoryStore::new();
    let s = start(&peer, &store);
    for state in [None, Some("made-up".to_owned()), Some(String::new())] {
        let params = CallbackParams {
            state: state.as_deref().map(sealed),
            error: Some("access_denied".into()),
            error_description: Some("Call +1 555 0100 to restore access".into()),
            ..CallbackParams::default()
        };
        let err = finish(&peer, &store, &params, Some(&s.cookie_header), NOW).expect_err("refused");
        let problem = err.problem();
        let expected = if state.as_deref().is_some_and(|s| !s.is_empty()) {
            "state_invalid"
        } else {
            "state_missing"
        };
        assert_eq!(problem.code, expected);
        assert!(!problem.message().contains("555"), "{}", problem.message());
        assert!(!crate::pages::error_page(&problem).contains("555"));
    }
}

#[test]
fn debug_output_never_shows_codes_cookies_verifiers_or_url_secrets() {
    let peer = peer();
    let store = MemoryStore::new();
    let s = start(&peer, &store);
    let cookie_value = s.cookie_header.split('=').nth(1).expect("value").to_owned();
    let begun = format!("{:?}", s.begun);
    assert!(
        !begun.contains(&cookie_value) && !begun.contains(&s.state),
        "{begun}"
    );

    let flow_key = flow_keys(&store).pop().expect("pending flow");
    let sealed = block_on(store.get(&flow_key))
        .expect("get")
        .expect("stored");
    let pending: PendingFlow = keyring()
        .open_json(flow_key.as_bytes(), &sealed)
        .expect("opens");
    assert!(!format!("{pending:?}").contains(pending.pkce_verifier.expose()));
    let claims =
        StateClaims::open(&keyring(), &SealedState::new(s.state.clone()), NOW).expect("state");
    assert!(!format!("{claims:?}").contains(&claims.bind));

    let params = callback("the-authorization-code", &s.state);
    let shown = format!("{params:?}");
    assert!(
        !shown.contains("the-authorization-code") && !shown.contains(&s.state),
        "{shown}"
    );

    let done = finish(&peer, &store, &params, Some(&s.cookie_header), NOW).expect("completed");
    let shown = format!("{done:?}");
    assert!(
        !shown.contains(done.secret.expose()) && !shown.contains("AT-secret-1"),
        "{shown}"
    );
}

#[test]
fn a_refused_code_exchange_is_reported() {
    let peer = peer();
    let store = MemoryStore::new();
    let s = start(&peer, &store);
    peer.on(
        "POST",
        "https://auth.example.com/token",
        400,
        r#"{"error":"invalid_grant","error_description":"code expired"}"#,
    );
    let err = finish(
        &peer,
        &store,
        &callback("c", &s.state),
        Some(&s.cookie_header),
        NOW,
    )
    .expect_err("refused");
    assert!(
        matches!(err, ConnectError::TokenExchange(TokenError::Rejected { ref error, .. }) if error == "invalid_grant")
    );
    assert_eq!(err.problem().status, 502);
}

#[test]
fn broken_storage_fails_cleanly() {
    let peer = peer();
    let store = MemoryStore::new();
    store.set_broken(true);
    let server = Url::parse(MCP).expect("url");
    let err = block_on(begin(
        &peer.client(),
        &store,
        &keyring(),
        &settings(),
        &server,
        FlowExtras::default(),
        NOW,
    ))
    .expect_err("broken");
    assert_eq!(err.problem().code, "storage_unavailable");
}

use crate::oauth::registration::RegistrationError;
use crate::oauth::tokens::TokenError;

#[test]
fn a_reconnect_flow_carries_the_connection_id_through() {
    let peer = peer();
    let store = MemoryStore::new();
    let server = Url::parse(MCP).expect("url");
    let begun = block_on(begin(
        &peer.client(),
        &store,
        &keyring(),
        &settings(),
        &server,
        FlowExtras {
            reconnect_id: Some("conn-7".into()),
            cli_code: Some("code-hash".into()),
            reconnect_scopes: Vec::new(),
        },
        NOW,
    ))
    .expect("begin");
    let state = query(&begun.authorize_url, "state").expect("state");
    let cookie = begun.set_cookie.split(';').next().expect("pair").to_owned();
    let done = finish(&peer, &store, &callback("c", &state), Some(&cookie), NOW).expect("complete");
    assert_eq!(done.extras.reconnect_id.as_deref(), Some("conn-7"));
    assert_eq!(done.extras.cli_code.as_deref(), Some("code-hash"));
}

#[test]
fn a_failure_after_the_flow_is_known_carries_its_purpose() {
    let peer = peer();
    let store = MemoryStore::new();
    let server = Url::parse(MCP).expect("url");
    let extras = FlowExtras {
        reconnect_id: None,
        cli_code: Some("h".into()),
        reconnect_scopes: Vec::new(),
    };
    let begun = block_on(begin(
        &peer.client(),
        &store,
        &keyring(),
        &settings(),
        &server,
        extras,
        NOW,
    ))
    .expect("begin");
    let state = query(&begun.authorize_url, "state").expect("state");
    let cookie = begun.set_cookie.split(';').next().expect("pair").to_owned();
    let params = CallbackParams {
        state: Some(sealed(&state)),
        error: Some("access_denied".into()),
        ..CallbackParams::default()
    };
    let failure = block_on(complete(
        &peer.client(),
        &store,
        &keyring(),
        &settings(),
        &params,
        Some(&cookie),
        NOW,
    ))
    .expect_err("denied");
    assert!(matches!(failure.error, ConnectError::AccessDenied { .. }));
    assert_eq!(failure.extras.cli_code.as_deref(), Some("h"));
}

#[test]
fn a_non_ascii_host_is_refused_with_the_form_to_enter() {
    let refused = crate::oauth::upstream::validate_server_url(
        "https://bücher.example/mcp",
        settings().policy,
    )
    .expect_err("non-ASCII host");
    let err = ConnectError::from(refused);
    assert_eq!(
        err.problem(),
        Problem {
            status: 400,
            code: "invalid_server_url",
            title: "The server's host name is not ASCII",
            detail: "MCP server URL rejected: the server URL's host name has non-ASCII characters; enter its ASCII form (the xn-- name, e.g. https://xn--bcher-kva.example/mcp for bücher.example)".into(),
            next_step: "Paste the URL with its host name in the xn-- form, as the service's documentation or your browser's address bar shows it.",
        }
    );
}
