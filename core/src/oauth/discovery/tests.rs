use super::*;
use crate::testing::{ScriptedPeer, block_on};

const MCP: &str = "https://mcp.example.com/mcp";
const PRM_PATH: &str = "https://mcp.example.com/.well-known/oauth-protected-resource/mcp";
const PRM_ROOT: &str = "https://mcp.example.com/.well-known/oauth-protected-resource";
const AS_META: &str = "https://auth.example.com/.well-known/oauth-authorization-server";

fn as_metadata(issuer: &str) -> String {
    serde_json::json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "registration_endpoint": format!("{issuer}/register"),
        "code_challenge_methods_supported": ["S256"],
    })
    .to_string()
}

fn prm(resource: &str, issuer: &str) -> String {
    serde_json::json!({
        "resource": resource,
        "authorization_servers": [issuer],
        "scopes_supported": ["read", "write"],
    })
    .to_string()
}

const STRICT: UpstreamPolicy = UpstreamPolicy {
    allow_loopback_http: false,
};

fn run(peer: &ScriptedPeer, server: &str) -> Result<Discovered, DiscoveryError> {
    let url = Url::parse(server).expect("test URL");
    block_on(discover(&peer.client(), &url, STRICT))
}

fn challenge(peer: &ScriptedPeer, header: &str) {
    peer.on_with_headers("POST", MCP, 401, &[("www-authenticate", header)], "");
}

#[test]
fn follows_the_resource_metadata_challenge() {
    let peer = ScriptedPeer::new();
    let custom = "https://mcp.example.com/meta/custom";
    challenge(&peer, &format!(r#"Bearer resource_metadata="{custom}""#));
    peer.on("GET", custom, 200, &prm(MCP, "https://auth.example.com"));
    peer.on(
        "GET",
        AS_META,
        200,
        &as_metadata("https://auth.example.com"),
    );
    let found = run(&peer, MCP).expect("discovered");
    assert_eq!(found.issuer.as_str(), "https://auth.example.com/");
    assert_eq!(found.resource, MCP);
    assert_eq!(
        found.metadata.token_endpoint,
        "https://auth.example.com/token"
    );
    assert_eq!(found.scopes, ["read", "write"]);
    let urls: Vec<String> = peer.requests().into_iter().map(|r| r.url).collect();
    assert_eq!(urls, [MCP, custom, AS_META]);
    // The probe is an MCP initialize without any credential.
    let probe = &peer.requests()[0];
    assert!(probe.body.contains("\"initialize\""));
    assert!(!probe.headers.iter().any(|(k, _)| k == "authorization"));
}

#[test]
fn challenge_scope_wins_over_scopes_supported() {
    let peer = ScriptedPeer::new();
    challenge(
        &peer,
        &format!(r#"Bearer resource_metadata="{PRM_PATH}", scope="mcp:tools""#),
    );
    peer.on("GET", PRM_PATH, 200, &prm(MCP, "https://auth.example.com"));
    peer.on(
        "GET",
        AS_META,
        200,
        &as_metadata("https://auth.example.com"),
    );
    assert_eq!(run(&peer, MCP).expect("discovered").scopes, ["mcp:tools"]);
}

#[test]
fn falls_back_to_path_then_root_well_known() {
    let peer = ScriptedPeer::new();
    peer.on("POST", MCP, 401, "");
    peer.on("GET", PRM_ROOT, 200, &prm(MCP, "https://auth.example.com"));
    peer.on(
        "GET",
        AS_META,
        200,
        &as_metadata("https://auth.example.com"),
    );
    let found = run(&peer, MCP).expect("discovered");
    assert_eq!(found.resource, MCP);
    let urls: Vec<String> = peer.requests().into_iter().map(|r| r.url).collect();
    assert_eq!(urls, [MCP, PRM_PATH, PRM_ROOT, AS_META]);
}

#[test]
fn issuer_with_path_tries_rfc8414_then_oidc_forms() {
    let peer = ScriptedPeer::new();
    let issuer = "https://auth.example.com/tenant1";
    peer.on("POST", MCP, 401, "");
    peer.on("GET", PRM_PATH, 200, &prm(MCP, issuer));
    let oidc_path = "https://auth.example.com/tenant1/.well-known/openid-configuration";
    peer.on("GET", oidc_path, 200, &as_metadata(issuer));
    let found = run(&peer, MCP).expect("discovered");
    assert_eq!(found.metadata.issuer, issuer);
    let urls: Vec<String> = peer.requests().into_iter().map(|r| r.url).collect();
    assert_eq!(
        urls[2..],
        [
            "https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
            "https://auth.example.com/.well-known/openid-configuration/tenant1",
            oidc_path,
        ]
    );
}

#[test]
fn without_resource_metadata_the_origin_is_the_issuer() {
    let peer = ScriptedPeer::new();
    peer.on("POST", MCP, 401, "");
    let origin_meta = "https://mcp.example.com/.well-known/oauth-authorization-server";
    peer.on(
        "GET",
        origin_meta,
        200,
        &as_metadata("https://mcp.example.com"),
    );
    let found = run(&peer, MCP).expect("discovered");
    assert_eq!(found.metadata.issuer, "https://mcp.example.com");
    assert_eq!(found.resource, MCP);
}

#[test]
fn refuses_servers_without_pkce_s256() {
    let peer = ScriptedPeer::new();
    peer.on("POST", MCP, 401, "");
    peer.on("GET", PRM_PATH, 200, &prm(MCP, "https://auth.example.com"));
    let mut meta: serde_json::Value =
        serde_json::from_str(&as_metadata("https://auth.example.com")).expect("json");
    meta["code_challenge_methods_supported"] = serde_json::json!(["plain"]);
    peer.on("GET", AS_META, 200, &meta.to_string());
    let sign_in = |peer: &ScriptedPeer| run(peer, MCP).and_then(|f| f.metadata.sign_in());
    assert_eq!(sign_in(&peer), Err(DiscoveryError::NoPkceS256));

    meta.as_object_mut()
        .map(|m| m.remove("code_challenge_methods_supported"));
    peer.on("GET", AS_META, 200, &meta.to_string());
    assert_eq!(sign_in(&peer), Err(DiscoveryError::NoPkceS256));
}

#[test]
fn refuses_servers_without_the_authorization_code_grant() {
    let peer = ScriptedPeer::new();
    peer.on("POST", MCP, 401, "");
    peer.on("GET", PRM_PATH, 200, &prm(MCP, "https://auth.example.com"));
    let mut meta: serde_json::Value =
        serde_json::from_str(&as_metadata("https://auth.example.com")).expect("json");
    let sign_in = |peer: &ScriptedPeer| run(peer, MCP).and_then(|f| f.metadata.sign_in());
    meta["grant_types_supported"] = serde_json::json!(["implicit", "password"]);
    peer.on("GET", AS_META, 200, &meta.to_string());
    assert_eq!(
        sign_in(&peer),
        Err(DiscoveryError::NoAuthorizationCodeGrant)
    );

    meta["grant_types_supported"] = serde_json::json!(["authorization_code", "refresh_token"]);
    peer.on("GET", AS_META, 200, &meta.to_string());
    assert_eq!(sign_in(&peer), Ok(SignIn::Browser));
}

#[test]
fn servers_without_a_browser_sign_in_take_a_clients_own_credentials() {
    let peer = ScriptedPeer::new();
    peer.on("POST", MCP, 401, "");
    peer.on("GET", PRM_PATH, 200, &prm(MCP, "https://auth.example.com"));
    let mut meta: serde_json::Value =
        serde_json::from_str(&as_metadata("https://auth.example.com")).expect("json");
    let sign_in = |peer: &ScriptedPeer| run(peer, MCP).and_then(|f| f.metadata.sign_in());
    meta["grant_types_supported"] = serde_json::json!(["client_credentials"]);
    peer.on("GET", AS_META, 200, &meta.to_string());
    assert_eq!(
        sign_in(&peer),
        Ok(SignIn::Machine(MachineGrants {
            client_credentials: true,
            identity_assertion: false
        }))
    );
    // PKCE does not matter without a browser.
    meta["code_challenge_methods_supported"] = serde_json::json!([]);
    meta["grant_types_supported"] =
        serde_json::json!(["urn:ietf:params:oauth:grant-type:jwt-bearer"]);
    peer.on("GET", AS_META, 200, &meta.to_string());
    assert_eq!(
        sign_in(&peer),
        Ok(SignIn::Machine(MachineGrants {
            client_credentials: false,
            identity_assertion: true
        }))
    );
    // A browser sign-in comes first where it is offered with S256.
    meta["code_challenge_methods_supported"] = serde_json::json!(["S256"]);
    meta["grant_types_supported"] = serde_json::json!(["authorization_code", "client_credentials"]);
    peer.on("GET", AS_META, 200, &meta.to_string());
    assert_eq!(sign_in(&peer), Ok(SignIn::Browser));
}

#[test]
fn refuses_metadata_for_another_issuer() {
    let peer = ScriptedPeer::new();
    peer.on("POST", MCP, 401, "");
    peer.on("GET", PRM_PATH, 200, &prm(MCP, "https://auth.example.com"));
    peer.on(
        "GET",
        AS_META,
        200,
        &as_metadata("https://evil.example.com"),
    );
    assert!(matches!(
        run(&peer, MCP),
        Err(DiscoveryError::InvalidMetadata(_))
    ));
}

#[test]
fn refuses_metadata_about_another_resource() {
    let peer = ScriptedPeer::new();
    peer.on("POST", MCP, 401, "");
    peer.on(
        "GET",
        PRM_PATH,
        200,
        &prm("https://other.example.com/mcp", "https://auth.example.com"),
    );
    assert!(matches!(
        run(&peer, MCP),
        Err(DiscoveryError::InvalidMetadata(_))
    ));
}

#[test]
fn refuses_insecure_discovered_urls() {
    let peer = ScriptedPeer::new();
    challenge(
        &peer,
        r#"Bearer resource_metadata="http://mcp.example.com/meta""#,
    );
    assert!(matches!(
        run(&peer, MCP),
        Err(DiscoveryError::DisallowedUrl(_))
    ));

    let peer = ScriptedPeer::new();
    peer.on("POST", MCP, 401, "");
    peer.on("GET", PRM_PATH, 200, &prm(MCP, "https://auth.example.com"));
    let mut meta: serde_json::Value =
        serde_json::from_str(&as_metadata("https://auth.example.com")).expect("json");
    meta["token_endpoint"] = serde_json::json!("http://auth.example.com/token");
    peer.on("GET", AS_META, 200, &meta.to_string());
    assert!(matches!(
        run(&peer, MCP),
        Err(DiscoveryError::DisallowedUrl(_))
    ));
}

#[test]
fn a_server_that_needs_no_authorization_is_reported() {
    let peer = ScriptedPeer::new();
    peer.on("POST", MCP, 200, "{}");
    assert_eq!(
        run(&peer, MCP).err(),
        Some(DiscoveryError::NoAuthRequired(200))
    );
    // It was looked up at the well-known URLs first, and nowhere else.
    let urls: Vec<String> = peer.requests().into_iter().map(|r| r.url).collect();
    assert_eq!(urls, [MCP, PRM_PATH, PRM_ROOT]);
}

#[test]
fn a_server_that_answers_initialize_without_a_token_is_discovered_from_its_metadata() {
    // It protects its tools, not `initialize`: the well-known metadata says so.
    let peer = ScriptedPeer::new();
    peer.on("POST", MCP, 200, r#"{"jsonrpc":"2.0","id":0,"result":{}}"#);
    peer.on("GET", PRM_PATH, 200, &prm(MCP, "https://auth.example.com"));
    peer.on(
        "GET",
        AS_META,
        200,
        &as_metadata("https://auth.example.com"),
    );
    let found = run(&peer, MCP).expect("discovered");
    assert_eq!(found.issuer.as_str(), "https://auth.example.com/");
    assert_eq!(found.resource, MCP);
    assert_eq!(found.scopes, ["read", "write"]);
    let urls: Vec<String> = peer.requests().into_iter().map(|r| r.url).collect();
    assert_eq!(urls, [MCP, PRM_PATH, AS_META]);
}

#[test]
fn metadata_at_the_root_naming_the_origin_covers_the_server_and_is_sent_as_written() {
    let peer = ScriptedPeer::new();
    peer.on("POST", MCP, 401, "");
    peer.on(
        "GET",
        PRM_ROOT,
        200,
        &prm("https://mcp.example.com", "https://auth.example.com"),
    );
    peer.on(
        "GET",
        AS_META,
        200,
        &as_metadata("https://auth.example.com"),
    );
    assert_eq!(
        run(&peer, MCP).expect("discovered").resource,
        "https://mcp.example.com"
    );

    // GitHub's metadata keeps the trailing slash, and so does the resource sent.
    let peer = ScriptedPeer::new();
    let github = "https://api.githubcopilot.com/mcp/";
    peer.on("POST", github, 401, "");
    peer.on(
        "GET",
        "https://api.githubcopilot.com/.well-known/oauth-protected-resource/mcp",
        200,
        &prm(github, "https://auth.example.com"),
    );
    peer.on(
        "GET",
        AS_META,
        200,
        &as_metadata("https://auth.example.com"),
    );
    assert_eq!(run(&peer, github).expect("discovered").resource, github);
}

#[test]
fn which_resources_cover_a_server() {
    let server = Url::parse("https://mcp.example.com/api/mcp?tenant=1").expect("url");
    for covering in [
        "https://mcp.example.com",
        "https://mcp.example.com/",
        "https://mcp.example.com/api",
        "https://mcp.example.com/api/",
        "https://mcp.example.com/api/mcp",
        "https://mcp.example.com/api/mcp/",
        "https://MCP.example.com:443/api/mcp?tenant=1",
    ] {
        assert!(resource_covers(covering, &server), "{covering}");
    }
    for foreign in [
        "https://mcp.example.com/ap",
        "https://mcp.example.com/api2",
        "https://mcp.example.com/api/mcp/tools",
        "https://mcp.example.com/other",
        "http://mcp.example.com/api/mcp",
        "https://mcp.example.com:8443/api/mcp",
        "https://evil.example.com/api/mcp",
        "https://mcp.example.com.evil.com/api/mcp",
        "https://mcp.example.com/api/mcp#f",
        "/api/mcp",
        "not a url",
    ] {
        assert!(!resource_covers(foreign, &server), "{foreign}");
    }
}

#[test]
fn unreachable_server_and_missing_metadata() {
    let peer = ScriptedPeer::new();
    peer.fail("POST", MCP);
    assert!(matches!(
        run(&peer, MCP),
        Err(DiscoveryError::Unreachable(_))
    ));

    // Protected resource metadata without authorization server metadata is not a 2025-03-26
    // server: no default endpoints are made up for it.
    let peer = ScriptedPeer::new();
    peer.on("POST", MCP, 401, "");
    peer.on("GET", PRM_PATH, 200, &prm(MCP, "https://auth.example.com"));
    assert_eq!(
        run(&peer, MCP).err(),
        Some(DiscoveryError::NoAuthServerMetadata(
            "https://auth.example.com/".into()
        ))
    );
}

const ORIGIN_META: &str = "https://mcp.example.com/.well-known/oauth-authorization-server";

#[test]
fn a_2025_03_26_server_has_its_metadata_at_the_origin_even_with_an_issuer_path() {
    let peer = ScriptedPeer::new();
    peer.on("POST", MCP, 401, "");
    peer.on(
        "GET",
        ORIGIN_META,
        200,
        &as_metadata("https://mcp.example.com/oauth"),
    );
    let found = run(&peer, MCP).expect("discovered");
    assert_eq!(found.issuer.as_str(), "https://mcp.example.com/oauth");
    assert_eq!(
        found.metadata.authorization_endpoint,
        "https://mcp.example.com/oauth/authorize"
    );
    assert_eq!(found.resource, MCP);
    let urls: Vec<String> = peer.requests().into_iter().map(|r| r.url).collect();
    assert_eq!(urls, [MCP, PRM_PATH, PRM_ROOT, ORIGIN_META]);
}

#[test]
fn a_2025_03_26_issuer_on_another_origin_is_refused() {
    let peer = ScriptedPeer::new();
    peer.on("POST", MCP, 401, "");
    peer.on(
        "GET",
        ORIGIN_META,
        200,
        &as_metadata("https://auth.example.com"),
    );
    assert!(matches!(
        run(&peer, MCP),
        Err(DiscoveryError::InvalidMetadata(m)) if m.contains("another origin")
    ));
}

#[test]
fn a_2025_03_26_server_without_any_metadata_gets_the_default_endpoints() {
    let peer = ScriptedPeer::new();
    peer.on_with_headers(
        "POST",
        MCP,
        401,
        &[("www-authenticate", r#"Bearer scope="files""#)],
        "",
    );
    let found = run(&peer, MCP).expect("discovered");
    assert_eq!(found.issuer.as_str(), "https://mcp.example.com/");
    assert_eq!(found.metadata.issuer, "https://mcp.example.com");
    assert_eq!(
        found.metadata.authorization_endpoint,
        "https://mcp.example.com/authorize"
    );
    assert_eq!(
        found.metadata.token_endpoint,
        "https://mcp.example.com/token"
    );
    assert_eq!(
        found.metadata.registration_endpoint.as_deref(),
        Some("https://mcp.example.com/register")
    );
    assert_eq!(found.resource, MCP);
    assert_eq!(found.scopes, ["files"]);
    let urls: Vec<String> = peer.requests().into_iter().map(|r| r.url).collect();
    assert_eq!(
        urls,
        [
            MCP,
            PRM_PATH,
            PRM_ROOT,
            ORIGIN_META,
            "https://mcp.example.com/.well-known/openid-configuration"
        ]
    );
}

#[test]
fn without_a_challenge_no_default_endpoints_are_made_up() {
    // A mistyped URL: the server answers 404 and publishes no metadata.
    let peer = ScriptedPeer::new();
    peer.on("POST", MCP, 404, "not found");
    assert_eq!(
        run(&peer, MCP).err(),
        Some(DiscoveryError::NoAuthServerMetadata(
            "https://mcp.example.com/".into()
        ))
    );
}

#[test]
fn the_client_id_metadata_document_flag_is_read() {
    let peer = ScriptedPeer::new();
    peer.on("POST", MCP, 401, "");
    peer.on("GET", PRM_PATH, 200, &prm(MCP, "https://auth.example.com"));
    let mut meta: serde_json::Value =
        serde_json::from_str(&as_metadata("https://auth.example.com")).expect("json");
    peer.on("GET", AS_META, 200, &meta.to_string());
    assert!(
        !run(&peer, MCP)
            .expect("discovered")
            .metadata
            .client_id_metadata_document_supported
    );
    meta["client_id_metadata_document_supported"] = serde_json::json!(true);
    peer.on("GET", AS_META, 200, &meta.to_string());
    assert!(
        run(&peer, MCP)
            .expect("discovered")
            .metadata
            .client_id_metadata_document_supported
    );
}

#[test]
fn garbage_metadata_is_skipped() {
    let peer = ScriptedPeer::new();
    peer.on("POST", MCP, 401, "");
    peer.on("GET", PRM_PATH, 200, "<html>not json</html>");
    peer.on("GET", PRM_ROOT, 200, &prm(MCP, "https://auth.example.com"));
    peer.on(
        "GET",
        AS_META,
        200,
        &as_metadata("https://auth.example.com"),
    );
    assert!(run(&peer, MCP).is_ok());
}

#[test]
fn metadata_that_cannot_be_read_stops_discovery_without_a_fallback() {
    // Too large: the body passed its cap (the Worker's adapter stops reading there).
    let peer = ScriptedPeer::new();
    peer.on("POST", MCP, 401, "");
    peer.on("GET", PRM_PATH, 200, &"x".repeat(MAX_METADATA_BYTES + 1));
    match run(&peer, MCP) {
        Err(DiscoveryError::MetadataUnreadable { url, reason }) => {
            assert_eq!(url, PRM_PATH);
            assert!(reason.contains("larger than"), "{reason}");
        }
        other => panic!("expected unreadable metadata, got {other:?}"),
    }
    // Nothing after it: neither the root form nor the 2025-03-26 default endpoints.
    let urls: Vec<String> = peer.requests().into_iter().map(|r| r.url).collect();
    assert_eq!(urls, [MCP, PRM_PATH]);

    // The exchange failed (a timeout, a reset, a body that never ended).
    let peer = ScriptedPeer::new();
    peer.on("POST", MCP, 401, "");
    peer.on("GET", PRM_PATH, 404, "");
    peer.fail("GET", PRM_ROOT);
    assert!(matches!(
        run(&peer, MCP),
        Err(DiscoveryError::MetadataUnreadable { .. })
    ));
    assert!(peer.requests_to(ORIGIN_META).is_empty());
}
