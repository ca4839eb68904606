use oauth2::{AccessToken, RefreshToken};

use super::*;
use crate::secret::UrlSecret;
use crate::testing::sample_record;

const NOW: UnixMillis = 1_795_690_200_000; // 2026-11-26T10:50:00Z
const DAY: i64 = 86_400_000;

fn record() -> ConnectionRecord {
    sample_record(
        "c1",
        UrlSecret::generate().expect("secret").hash(),
        Some(NOW),
    )
}

#[test]
fn the_view_shows_the_backoff_and_whether_the_grant_refreshes() {
    let mut record = record();
    record.state = ConnectionState::Error;
    record.next_attempt_at = Some(1_795_690_230_000);
    record.last_error = Some("the token endpoint answered 503".into());
    let view = record.view();
    assert_eq!(view.state, ConnectionState::Error);
    assert!(view.refreshable);
    assert_eq!(view.kind, ConnectionKind::Oauth);
    assert_eq!(
        view.next_attempt_at.as_deref(),
        Some("2026-11-26T10:50:30Z")
    );
    assert_eq!(
        view.access_token_expires_at.as_deref(),
        Some("2026-11-26T10:50:00Z")
    );
    assert_eq!(
        view.last_error.as_deref(),
        Some("the token endpoint answered 503")
    );

    record.tokens.refresh_token = None;
    record.next_attempt_at = None;
    let view = record.view();
    assert!(!view.refreshable);
    assert_eq!(view.next_attempt_at, None);
    let json = serde_json::to_value(&view).expect("json");
    assert_eq!(json["refreshable"], false);
    assert_eq!(json["kind"], "oauth");
    assert!(json["next_attempt_at"].is_null());
    assert!(json["grant_expires_at"].is_null());
    assert!(json.get("secret_hash").is_none() && json.get("tokens").is_none());
}

#[test]
fn a_record_written_before_other_kinds_existed_still_opens() {
    // The stored form of a connection from the previous release, flat OAuth fields and all.
    let stored = serde_json::json!({
        "id": "old",
        "label": "Notion",
        "secret_hash": "11".repeat(32),
        "server_url": "https://mcp.notion.com/mcp",
        "resource": "https://mcp.notion.com/mcp",
        "issuer": "https://mcp.notion.com",
        "token_endpoint": "https://mcp.notion.com/token",
        "revocation_endpoint": null,
        "client": {"client_id": "c", "client_secret": null, "auth_method": "none", "source": "dynamic", "registered_at": 0},
        "tokens": {"access_token": "AT", "refresh_token": "RT", "expires_at": 1, "scope": null},
        "state": "active",
        "created_at": 0,
        "last_refresh_at": null,
        "last_error": null
    });
    let record: ConnectionRecord = serde_json::from_value(stored.clone()).expect("opens");
    let oauth = record.oauth.as_ref().expect("oauth");
    assert_eq!(oauth.issuer, "https://mcp.notion.com");
    assert!(oauth.grant.is_authorization_code());
    assert_eq!(record.kind(), ConnectionKind::Oauth);
    assert_eq!(record.upstream_auth, UpstreamAuth::Bearer);
    // Written again, it keeps the same flat shape.
    let written = serde_json::to_value(&record).expect("json");
    for field in ["resource", "issuer", "token_endpoint", "client"] {
        assert_eq!(written[field], stored[field], "{field}");
    }
    assert!(written.get("upstream_auth").is_none());
    assert!(written.get("grant").is_none());

    // Half an OAuth grant is refused, not read as a connection without one.
    let mut partial = stored.clone();
    partial.as_object_mut().map(|m| m.remove("token_endpoint"));
    assert!(serde_json::from_value::<ConnectionRecord>(partial).is_err());
    let mut bare = stored;
    for field in ["resource", "issuer", "token_endpoint", "client"] {
        bare.as_object_mut().map(|m| m.remove(field));
    }
    assert!(serde_json::from_value::<ConnectionRecord>(bare.clone()).is_err());
    bare["upstream_auth"] = serde_json::json!({"type": "header", "name": "X-Api-Key"});
    let key: ConnectionRecord = serde_json::from_value(bare).expect("an API key connection");
    assert_eq!(key.kind(), ConnectionKind::ApiKey);
    assert!(key.oauth.is_none());
}

#[test]
fn kinds_round_trip_through_storage() {
    let mut r = record();
    r.oauth.as_mut().expect("oauth").grant = GrantType::ClientCredentials;
    let back: ConnectionRecord =
        serde_json::from_str(&serde_json::to_string(&r).expect("json")).expect("opens");
    assert_eq!(back.kind(), ConnectionKind::ClientCredentials);
    assert!(back.renewable());

    r.oauth = None;
    r.upstream_auth = UpstreamAuth::None;
    r.tokens.refresh_token = None;
    let back: ConnectionRecord =
        serde_json::from_str(&serde_json::to_string(&r).expect("json")).expect("opens");
    assert_eq!(back.kind(), ConnectionKind::Open);
    assert!(!back.renewable());
    assert_eq!(back.view().kind, ConnectionKind::Open);
}

#[test]
fn the_grant_ends_at_the_earliest_known_end() {
    let mut r = record();
    assert_eq!(r.grant_expires_at(), None);
    // GitHub: the refresh token states its expiry.
    r.tokens.refresh_token_expires_at = Some(NOW + 180 * DAY);
    assert_eq!(r.grant_expires_at(), Some(NOW + 180 * DAY));
    // A documented lifetime that ends earlier wins.
    r.oauth.as_mut().expect("oauth").grant_ends_at = Some(NOW + 30 * DAY);
    assert_eq!(r.grant_expires_at(), Some(NOW + 30 * DAY));
    assert_eq!(
        r.view().grant_expires_at.as_deref(),
        Some("2026-12-26T10:50:00Z")
    );
    assert_eq!(r.index_metadata().grant_expires_at, Some(NOW + 30 * DAY));
    // Without a refresh token, its stated expiry no longer counts.
    r.oauth.as_mut().expect("oauth").grant_ends_at = None;
    r.tokens.refresh_token = None;
    assert_eq!(r.grant_expires_at(), None);
}

#[test]
fn an_identity_assertion_lasts_as_long_as_its_identity_token() {
    let mut r = record();
    let idp_client = r.oauth.as_ref().expect("oauth").client.clone();
    r.oauth.as_mut().expect("oauth").grant = GrantType::IdentityAssertion(IdentityAssertion {
        idp_token_endpoint: "https://idp.example.com/token".into(),
        idp_issuer: "https://idp.example.com".into(),
        idp_client,
        id_token: IdToken::new("ID-TOKEN".into()),
        id_token_expires_at: Some(NOW + DAY),
    });
    r.tokens.expires_at = Some(NOW + 2 * DAY);
    assert_eq!(r.kind(), ConnectionKind::IdentityAssertion);
    assert_eq!(r.grant_expires_at(), Some(NOW + 2 * DAY));
    r.tokens.expires_at = Some(NOW);
    assert_eq!(r.grant_expires_at(), Some(NOW + DAY));
    assert!(!format!("{r:?}").contains("ID-TOKEN"));
}

#[test]
fn a_reconnect_takes_the_new_credential_and_counts_step_ups() {
    let mut r = record();
    r.state = ConnectionState::NeedsReauth;
    {
        let oauth = r.oauth.as_mut().expect("oauth");
        oauth.scopes = vec!["a".into()];
        oauth.step_up = Some(vec!["a".into()]);
    }
    let mut fresh = record();
    fresh.tokens.access_token = AccessToken::new("AT-new".into());
    fresh.tokens.refresh_token = Some(RefreshToken::new("RT-new".into()));
    fresh.oauth.as_mut().expect("oauth").scopes = vec!["a".into()];
    r.rebind(fresh.clone(), NOW);
    assert_eq!(r.state, ConnectionState::Active);
    assert_eq!(r.tokens.access_token.secret(), "AT-new");
    let oauth = r.oauth.as_ref().expect("oauth");
    assert_eq!(oauth.scope_authorizations, 2);
    assert_eq!(oauth.step_up, None);
    assert_eq!(r.last_refresh_at, Some(NOW));
}

#[test]
fn tagged_enums_read_the_form_they_are_written_in() {
    let read =
        |v: serde_json::Value| serde_json::from_value::<UpstreamAuth>(v).map_err(|e| e.to_string());
    assert_eq!(
        read(serde_json::json!({"type": "bearer"})),
        Ok(UpstreamAuth::Bearer)
    );
    assert_eq!(
        read(serde_json::json!({"type": "none"})),
        Ok(UpstreamAuth::None)
    );
    assert_eq!(
        read(serde_json::json!({"name": "X-Api-Key", "type": "header"})),
        Ok(UpstreamAuth::Header {
            name: "X-Api-Key".into()
        })
    );
    assert_eq!(
        read(serde_json::json!({"type": "header"})),
        Err("missing field `name`".into())
    );
    assert!(read(serde_json::json!({"type": "cookie"})).is_err());
    assert_eq!(
        serde_json::to_value(UpstreamAuth::Header {
            name: "X-Api-Key".into()
        })
        .expect("json"),
        serde_json::json!({"type": "header", "name": "X-Api-Key"})
    );

    let idp_client = record().oauth.expect("oauth").client;
    let grant = GrantType::IdentityAssertion(IdentityAssertion {
        idp_token_endpoint: "https://idp.example.com/token".into(),
        idp_issuer: "https://idp.example.com".into(),
        idp_client,
        id_token: IdToken::new("ID-TOKEN".into()),
        id_token_expires_at: Some(NOW + DAY),
    });
    let written = serde_json::to_value(&grant).expect("json");
    assert_eq!(written["type"], "identity_assertion");
    assert_eq!(written["idp_issuer"], "https://idp.example.com");
    let GrantType::IdentityAssertion(back) =
        serde_json::from_value::<GrantType>(written.clone()).expect("reads")
    else {
        panic!("not an identity assertion");
    };
    assert_eq!(back.idp_token_endpoint, "https://idp.example.com/token");
    assert_eq!(back.id_token.expose(), "ID-TOKEN");
    assert_eq!(back.id_token_expires_at, Some(NOW + DAY));
    let mut partial = written;
    partial
        .as_object_mut()
        .expect("object")
        .remove("idp_client");
    assert!(serde_json::from_value::<GrantType>(partial).is_err());
    assert!(matches!(
        serde_json::from_value::<GrantType>(serde_json::json!({"type": "client_credentials"})),
        Ok(GrantType::ClientCredentials)
    ));
}
