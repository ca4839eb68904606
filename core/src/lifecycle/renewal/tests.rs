use super::*;
use crate::secret::UrlSecret;
use crate::testing::{ScriptedPeer, block_on, sample_record};
use crate::vault::record::{ConnectionKind, IdToken};

const TOKEN: &str = "https://auth.example.com/token";
const NOW: UnixMillis = 1_795_690_200_000;

fn record() -> ConnectionRecord {
    sample_record(
        "c",
        UrlSecret::generate().expect("random").hash(),
        Some(NOW),
    )
}

#[test]
fn each_grant_renews_its_own_way() {
    let peer = ScriptedPeer::new();
    peer.on(
        "POST",
        TOKEN,
        200,
        r#"{"access_token":"AT-2","token_type":"Bearer","expires_in":60}"#,
    );
    // The refresh token.
    let r = record();
    block_on(renew(&peer.client(), &r, NOW)).expect("refreshed");
    assert_eq!(
        peer.requests()[0].form("grant_type").as_deref(),
        Some("refresh_token")
    );

    // The client's own credentials, with the scopes asked for at first.
    let mut r = record();
    let oauth = r.oauth.as_mut().expect("oauth");
    oauth.grant = GrantType::ClientCredentials;
    oauth.scopes = vec!["tools".into()];
    r.tokens.refresh_token = None;
    let tokens = block_on(renew(&peer.client(), &r, NOW)).expect("renewed");
    assert_eq!(tokens.access_token.secret(), "AT-2");
    let sent = &peer.requests()[1];
    assert_eq!(
        sent.form("grant_type").as_deref(),
        Some("client_credentials")
    );
    assert_eq!(sent.form("scope").as_deref(), Some("tools"));
}

#[test]
fn what_cannot_be_renewed_says_why() {
    let peer = ScriptedPeer::new();
    let mut r = record();
    r.tokens.refresh_token = None;
    assert_eq!(
        block_on(renew(&peer.client(), &r, NOW)).err(),
        Some(RenewError::Impossible(
            "the authorization server issued no refresh token".into()
        ))
    );
    r.oauth = None;
    r.upstream_auth = UpstreamAuth::Header {
        name: "X-API-Key".into(),
    };
    assert_eq!(r.kind(), ConnectionKind::ApiKey);
    assert_eq!(
        block_on(renew(&peer.client(), &r, NOW)).err(),
        Some(RenewError::Impossible(
            "the server refused the API key; enter a new one to keep the URL working".into()
        ))
    );

    let mut r = record();
    let idp_client = r.oauth.as_ref().expect("oauth").client.clone();
    r.oauth.as_mut().expect("oauth").grant = GrantType::IdentityAssertion(IdentityAssertion {
        idp_token_endpoint: "https://idp.example.com/token".into(),
        idp_issuer: "https://idp.example.com".into(),
        idp_client,
        id_token: IdToken::new("ID".into()),
        id_token_expires_at: Some(NOW),
    });
    assert_eq!(
        block_on(renew(&peer.client(), &r, NOW)).err(),
        Some(RenewError::Impossible(
            "the identity token expired at 2026-11-26T10:50:00Z; reconnect with a new one from the identity provider".into()
        ))
    );
    assert!(peer.requests().is_empty());
}

#[test]
fn an_identity_assertion_is_renewed_while_its_identity_token_lives() {
    let peer = ScriptedPeer::new();
    peer.on(
        "POST",
        "https://idp.example.com/token",
        200,
        r#"{"access_token":"JAG","issued_token_type":"urn:ietf:params:oauth:token-type:id-jag"}"#,
    );
    peer.on(
        "POST",
        TOKEN,
        200,
        r#"{"access_token":"AT-3","token_type":"Bearer","expires_in":60}"#,
    );
    let mut r = record();
    let idp_client = r.oauth.as_ref().expect("oauth").client.clone();
    r.oauth.as_mut().expect("oauth").grant = GrantType::IdentityAssertion(IdentityAssertion {
        idp_token_endpoint: "https://idp.example.com/token".into(),
        idp_issuer: "https://idp.example.com".into(),
        idp_client,
        id_token: IdToken::new("ID-TOKEN".into()),
        id_token_expires_at: Some(NOW + 60_000),
    });
    let tokens = block_on(renew(&peer.client(), &r, NOW)).expect("renewed");
    assert_eq!(tokens.access_token.secret(), "AT-3");
    assert_eq!(
        peer.requests()[0].form("subject_token").as_deref(),
        Some("ID-TOKEN")
    );
    assert_eq!(peer.requests()[1].form("assertion").as_deref(), Some("JAG"));
}
