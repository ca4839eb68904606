use std::collections::BTreeMap;

use super::*;
use crate::oauth::upstream::UpstreamPolicy;
use crate::testing::{ScriptedPeer, block_on};
use crate::vault::record::ConnectionKind;

const MCP: &str = "https://mcp.example.com/mcp";
const ISSUER: &str = "https://auth.example.com";
const TOKEN: &str = "https://auth.example.com/token";
const IDP: &str = "https://idp.example.com";
const NOW: UnixMillis = 1_795_690_200_000;

fn settings() -> ConnectSettings {
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

/// An MCP server whose authorization server offers `grants` and lists `methods`.
fn peer(grants: &[&str], methods: &[&str]) -> ScriptedPeer {
    let peer = ScriptedPeer::new();
    peer.on("POST", MCP, 401, "");
    peer.on(
        "GET",
        "https://mcp.example.com/.well-known/oauth-protected-resource/mcp",
        200,
        &serde_json::json!({ "resource": MCP, "authorization_servers": [ISSUER], "scopes_supported": ["tools"] }).to_string(),
    );
    peer.on(
        "GET",
        "https://auth.example.com/.well-known/oauth-authorization-server",
        200,
        &serde_json::json!({
            "issuer": ISSUER,
            "authorization_endpoint": "https://auth.example.com/authorize",
            "token_endpoint": TOKEN,
            "grant_types_supported": grants,
            "token_endpoint_auth_methods_supported": methods,
        })
        .to_string(),
    );
    peer.on(
        "POST",
        TOKEN,
        200,
        r#"{"access_token":"cc-token-1","token_type":"Bearer","expires_in":3600}"#,
    );
    peer
}

fn fields(pairs: &[(&str, &str)]) -> Result<MachineCredentials, ConnectError> {
    let map: BTreeMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    from_fields(|name| map.get(name).map(String::as_str))
}

fn run(peer: &ScriptedPeer, credentials: MachineCredentials) -> Result<Created, ConnectError> {
    let server = Url::parse(MCP).expect("url");
    block_on(connect(
        &peer.client(),
        &settings(),
        &server,
        credentials,
        &[],
        NOW,
    ))
}

#[test]
fn a_client_secret_gets_a_token_with_the_client_credentials_grant() {
    let peer = peer(&["client_credentials"], &["client_secret_basic"]);
    let credentials =
        fields(&[("client_id", "machine-1"), ("client_secret", "m-secret")]).expect("fields");
    let created = run(&peer, credentials).expect("connected");
    let record = &created.record;
    assert_eq!(record.kind(), ConnectionKind::ClientCredentials);
    assert!(record.renewable());
    assert_eq!(record.tokens.access_token.secret(), "cc-token-1");
    let oauth = record.oauth.as_ref().expect("oauth");
    assert_eq!(oauth.client.auth_method, TokenAuthMethod::ClientSecretBasic);
    assert_eq!(oauth.scopes, ["tools"]);
    let sent = &peer.requests_to(TOKEN)[0];
    assert_eq!(
        sent.form("grant_type").as_deref(),
        Some("client_credentials")
    );
    assert_eq!(sent.form("scope").as_deref(), Some("tools"));
    assert!(
        sent.headers
            .iter()
            .any(|(k, v)| k == "authorization" && v.starts_with("Basic "))
    );
}

#[test]
fn a_private_key_signs_an_assertion_for_the_issuer() {
    let peer = peer(&["client_credentials"], &["private_key_jwt"]);
    let credentials = fields(&[
        ("client_id", "machine-2"),
        ("private_key_pem", crate::oauth::jwt::tests::TEST_KEY),
        ("signing_algorithm", "ES256"),
    ])
    .expect("fields");
    let created = run(&peer, credentials).expect("connected");
    let oauth = created.record.oauth.as_ref().expect("oauth");
    assert_eq!(oauth.client.auth_method, TokenAuthMethod::PrivateKeyJwt);
    let sent = &peer.requests_to(TOKEN)[0];
    let claims =
        crate::oauth::jwt::unverified_claims(&sent.form("client_assertion").expect("assertion"))
            .expect("jwt");
    assert_eq!(claims.iss.as_deref(), Some("machine-2"));
    assert!(!format!("{:?}", created.record).contains("BEGIN PRIVATE KEY"));
}

#[test]
fn credentials_the_server_cannot_take_are_refused_before_any_token_request() {
    let peer = peer(&["client_credentials"], &["client_secret_basic"]);
    let key_only = fields(&[
        ("client_id", "m"),
        ("private_key_pem", crate::oauth::jwt::tests::TEST_KEY),
    ])
    .expect("fields");
    let error = run(&peer, key_only).expect_err("no private_key_jwt");
    assert_eq!(error.problem().code, "credentials_invalid");
    assert!(
        error
            .to_string()
            .contains("does not accept private_key_jwt")
    );
    let none = fields(&[("client_id", "m")]).expect("fields");
    assert!(run(&peer, none).is_err());
    assert!(peer.requests_to(TOKEN).is_empty());

    let error = fields(&[("client_id", "m"), ("private_key_pem", "garbage")]).expect_err("bad key");
    assert_eq!(error.problem().code, "credentials_invalid");
    assert_eq!(
        fields(&[]).expect_err("no id").problem().code,
        "credentials_invalid"
    );

    let browser_only = peer_with_grants(&["authorization_code"]);
    let creds = fields(&[("client_id", "m"), ("client_secret", "s")]).expect("fields");
    assert!(matches!(
        run(&browser_only, creds),
        Err(ConnectError::GrantNotOffered("client credentials"))
    ));
}

fn peer_with_grants(grants: &[&str]) -> ScriptedPeer {
    peer(grants, &["client_secret_post"])
}

#[test]
fn a_wrong_secret_is_the_owners_to_fix() {
    let peer = peer(&["client_credentials"], &["client_secret_basic"]);
    peer.on("POST", TOKEN, 401, r#"{"error":"invalid_client"}"#);
    let creds = fields(&[("client_id", "m"), ("client_secret", "wrong")]).expect("fields");
    let error = run(&peer, creds).expect_err("refused");
    assert_eq!(error.problem().code, "token_exchange_failed");
    assert!(error.to_string().contains("invalid_client"));
}

fn id_token(exp: i64) -> String {
    let payload = crate::secret::b64url(
        serde_json::json!({ "iss": IDP, "sub": "u1", "aud": "idp-client", "exp": exp })
            .to_string()
            .as_bytes(),
    );
    format!("eyJhbGciOiJFUzI1NiJ9.{payload}.c2lnbmF0dXJl")
}

#[test]
fn an_identity_token_is_exchanged_at_the_identity_provider_then_presented() {
    let peer = peer(
        &["urn:ietf:params:oauth:grant-type:jwt-bearer"],
        &["client_secret_basic"],
    );
    peer.on(
        "GET",
        "https://idp.example.com/.well-known/oauth-authorization-server",
        404,
        "",
    );
    peer.on(
        "GET",
        "https://idp.example.com/.well-known/openid-configuration",
        200,
        &serde_json::json!({
            "issuer": IDP,
            "authorization_endpoint": "https://idp.example.com/authorize",
            "token_endpoint": "https://idp.example.com/token",
        })
        .to_string(),
    );
    peer.on(
        "POST",
        "https://idp.example.com/token",
        200,
        r#"{"access_token":"ID-JAG","issued_token_type":"urn:ietf:params:oauth:token-type:id-jag","token_type":"N_A"}"#,
    );
    let token = id_token(NOW / 1000 + 3600);
    let creds = fields(&[
        ("client_id", "xaa-client"),
        ("client_secret", "xaa-secret"),
        ("idp_issuer", IDP),
        ("idp_client_id", "idp-client"),
        ("idp_id_token", &token),
    ])
    .expect("fields");
    let created = run(&peer, creds).expect("connected");
    assert_eq!(created.record.kind(), ConnectionKind::IdentityAssertion);
    assert_eq!(created.record.grant_expires_at(), Some(NOW + 3_600_000));
    let exchange = &peer.requests_to("https://idp.example.com/token")[0];
    assert_eq!(exchange.form("audience").as_deref(), Some(ISSUER));
    assert_eq!(exchange.form("resource").as_deref(), Some(MCP));
    assert_eq!(exchange.form("client_id").as_deref(), Some("idp-client"));
    let bearer = &peer.requests_to(TOKEN)[0];
    assert_eq!(bearer.form("assertion").as_deref(), Some("ID-JAG"));
    assert!(!format!("{:?}", created.record).contains(&token));

    let expired = id_token(NOW / 1000 - 1);
    let error = fields(&[
        ("client_id", "xaa-client"),
        ("client_secret", "xaa-secret"),
        ("idp_issuer", IDP),
        ("idp_client_id", "idp-client"),
        ("idp_id_token", &expired),
    ])
    .and_then(|c| run(&peer, c))
    .expect_err("expired");
    assert_eq!(
        error.to_string(),
        "the identity token has expired; get a new one from the identity provider"
    );
}

#[test]
fn a_reconnect_asks_for_the_stored_scopes_too() {
    let peer = peer(&["client_credentials"], &["client_secret_basic"]);
    let credentials = fields(&[("client_id", "m"), ("client_secret", "s")]).expect("fields");
    let server = Url::parse(MCP).expect("url");
    let created = block_on(connect(
        &peer.client(),
        &settings(),
        &server,
        credentials,
        &["admin".to_owned()],
        NOW,
    ))
    .expect("connected");
    assert_eq!(
        created.record.oauth.expect("oauth").scopes,
        ["admin", "tools"]
    );
    assert_eq!(
        peer.requests_to(TOKEN)[0].form("scope").as_deref(),
        Some("admin tools")
    );
}
