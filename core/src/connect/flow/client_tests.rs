//! The client and the scopes a flow uses: entered clients, reconnect scopes, and servers
//! without a browser sign-in.

use super::tests::{ISSUER, MCP, NOW, callback, finish, peer, query, settings, start};
use super::*;
use crate::testing::{block_on, keyring};
use crate::vault::store::MemoryStore;

#[test]
fn a_completed_flow_records_the_scopes_it_asked_for_and_a_documented_grant_end() {
    let peer = peer();
    let store = MemoryStore::new();
    let s = start(&peer, &store);
    let done = finish(
        &peer,
        &store,
        &callback("c", &s.state),
        Some(&s.cookie_header),
        NOW,
    )
    .expect("complete");
    let oauth = done.record.oauth.as_ref().expect("oauth");
    assert_eq!(oauth.scopes, ["mcp"]);
    assert_eq!(oauth.scope_authorizations, 1);
    // auth.example.com documents no grant lifetime.
    assert_eq!(oauth.grant_ends_at, None);
    assert_eq!(
        done.record.kind(),
        crate::vault::record::ConnectionKind::Oauth
    );
}

#[test]
fn a_reconnect_asks_for_the_stored_scopes_and_what_discovery_adds() {
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
            cli_code: None,
            reconnect_scopes: vec!["mcp:basic".into(), "mcp:write".into()],
        },
        NOW,
    ))
    .expect("begin");
    assert_eq!(
        query(&begun.authorize_url, "scope").as_deref(),
        Some("mcp:basic mcp:write mcp")
    );
    let register = &peer.requests_to("https://auth.example.com/register")[0];
    let body: serde_json::Value = serde_json::from_str(&register.body).expect("json");
    assert_eq!(body["scope"], "mcp:basic mcp:write mcp");
}

#[test]
fn an_entered_client_is_used_before_the_metadata_document_and_registration() {
    let peer = peer();
    let store = MemoryStore::new();
    let keyring = keyring();
    let clients = crate::connect::owner_client::OwnerClients {
        store: &store,
        keyring: &keyring,
        redirect_uri: "https://bindify.example.com/oauth/callback",
    };
    block_on(clients.save(&crate::connect::owner_client::OwnerClient {
        issuer: ISSUER.into(),
        client_id: "entered-id".into(),
        client_secret: Some(oauth2::ClientSecret::new("entered-secret".into())),
        entered_at: NOW,
    }))
    .expect("saved");
    let s = start(&peer, &store);
    assert_eq!(
        query(&s.begun.authorize_url, "client_id").as_deref(),
        Some("entered-id")
    );
    assert!(
        peer.requests_to("https://auth.example.com/register")
            .is_empty()
    );
    finish(
        &peer,
        &store,
        &callback("c", &s.state),
        Some(&s.cookie_header),
        NOW,
    )
    .expect("done");
    let token = &peer.requests_to("https://auth.example.com/token")[0];
    // The metadata lists no methods: the secret goes in the body.
    assert_eq!(
        token.form("client_secret").as_deref(),
        Some("entered-secret")
    );
}

#[test]
fn a_server_without_a_browser_sign_in_asks_for_credentials() {
    let peer = peer();
    peer.on(
        "GET",
        "https://auth.example.com/.well-known/oauth-authorization-server",
        200,
        &serde_json::json!({
            "issuer": ISSUER,
            "authorization_endpoint": "https://auth.example.com/authorize",
            "token_endpoint": "https://auth.example.com/token",
            "grant_types_supported": ["client_credentials"],
        })
        .to_string(),
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
    .expect_err("machine");
    assert!(matches!(
        err,
        ConnectError::MachineCredentials(crate::oauth::discovery::MachineGrants {
            client_credentials: true,
            identity_assertion: false
        })
    ));
    assert_eq!(err.problem().code, "credentials_needed");
    assert!(store.keys().is_empty());
}
