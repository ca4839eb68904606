//! The object's operations for connections of other kinds than a browser's OAuth grant: an API
//! key is handed out as it is and never renewed, a step-up is recorded, and a reconnect is told
//! what to ask for.

use oauth2::AccessToken;

use super::tests::{Fixture, T0, TOKEN};
use super::*;
use crate::oauth::step_up::StepUp;
use crate::secret::sha256;
use crate::testing::{ScriptedPeer, block_on};
use crate::vault::record::{ConnectionKind, ConnectionState, GrantType, UpstreamAuth};

fn api_key_fixture() -> Fixture {
    Fixture::with(|r| {
        r.oauth = None;
        r.upstream_auth = UpstreamAuth::Header {
            name: "X-API-Key".into(),
        };
        r.tokens.access_token = AccessToken::new("sk-live".into());
        r.tokens.refresh_token = None;
        r.tokens.expires_at = None;
    })
}

#[test]
fn an_api_key_is_handed_out_in_its_header_and_a_refusal_changes_nothing() {
    let f = api_key_fixture();
    let peer = ScriptedPeer::new();
    let service = f.service();
    let hash = f.secret.hash();
    let outcome = block_on(service.token(&peer.client(), "c1", &hash, None, T0)).expect("ok");
    let Some(TokenOutcome::Token(grant)) = outcome else {
        panic!("a key: {outcome:?}");
    };
    assert_eq!(
        grant.authorization(),
        Some(("X-API-Key", "sk-live".to_owned()))
    );
    assert!(!grant.is_oauth());

    // The upstream refused it: reported as refused, never renewed, the connection unchanged.
    let refused =
        block_on(service.token(&peer.client(), "c1", &hash, Some(sha256(b"sk-live")), T0))
            .expect("ok");
    assert!(matches!(
        refused,
        Some(TokenOutcome::RefreshLimited(RefreshLimited {
            retry_at: None
        }))
    ));
    assert!(peer.requests().is_empty(), "nothing to renew");
    assert_eq!(f.stored().state, ConnectionState::Active);
    // Nothing renews a key: no alarm, and the cron's visit finds nothing to do.
    assert_eq!(f.object.peek_alarm(), None);
    assert_eq!(
        block_on(service.sweep(&peer.client(), "c1", T0)).expect("ok"),
        Visit {
            rearmed: false,
            outcome: CronOutcome::NotDue
        }
    );
    assert_eq!(f.object.peek_alarm(), None);
    assert!(peer.requests().is_empty());
}

#[test]
fn an_open_connection_sends_nothing() {
    let f = Fixture::with(|r| {
        r.oauth = None;
        r.upstream_auth = UpstreamAuth::None;
        r.tokens.refresh_token = None;
    });
    let outcome = block_on(f.service().token(
        &ScriptedPeer::new().client(),
        "c1",
        &f.secret.hash(),
        None,
        T0,
    ))
    .expect("ok");
    let Some(TokenOutcome::Token(grant)) = outcome else {
        panic!("open: {outcome:?}");
    };
    assert_eq!(grant.authorization(), None);
    assert_eq!(f.object.peek_alarm(), None, "nothing to renew, no alarm");
}

#[test]
fn a_step_up_is_stored_and_the_reconnect_asks_for_the_union() {
    let f = Fixture::with(|r| {
        let oauth = r.oauth.as_mut().expect("oauth");
        oauth.scopes = vec!["mcp:basic".into()];
        r.tokens.scope = Some("mcp:basic".into());
    });
    let service = f.service();
    let challenge = vec!["mcp:basic".to_owned(), "mcp:write".to_owned()];
    let outcome = block_on(service.step_up("c1", &f.secret.hash(), &challenge)).expect("ok");
    assert_eq!(
        outcome,
        StepUpOutcome::StepUp(StepUp::Reauthorize {
            scopes: challenge.clone()
        })
    );
    // Stored, so the reconnect page reads it even after the object restarts.
    assert_eq!(
        f.stored().oauth.expect("oauth").step_up,
        Some(challenge.clone())
    );
    let plan = block_on(service.reconnect_plan("c1"))
        .expect("ok")
        .expect("exists");
    assert_eq!(plan.kind, ConnectionKind::Oauth);
    assert_eq!(plan.scopes, challenge);
    assert_eq!(plan.client_id, None);

    // Another URL secret opens nothing.
    let other = crate::secret::UrlSecret::generate().expect("random");
    assert_eq!(
        block_on(service.step_up("c1", &other.hash(), &challenge)).expect("ok"),
        StepUpOutcome::NotFound
    );
}

#[test]
fn a_connection_without_oauth_has_nothing_to_step_up_and_reconnects_with_its_header() {
    let f = api_key_fixture();
    let service = f.service();
    assert_eq!(
        block_on(service.step_up("c1", &f.secret.hash(), &["x".to_owned()])).expect("ok"),
        StepUpOutcome::NotOAuth
    );
    let plan = block_on(service.reconnect_plan("c1"))
        .expect("ok")
        .expect("exists");
    assert_eq!(plan.kind, ConnectionKind::ApiKey);
    assert_eq!(plan.header_name.as_deref(), Some("X-API-Key"));
    assert!(plan.scopes.is_empty());
}

#[test]
fn client_credentials_are_asked_again_when_the_token_expires() {
    let f = Fixture::with(|r| {
        let oauth = r.oauth.as_mut().expect("oauth");
        oauth.grant = GrantType::ClientCredentials;
        oauth.client.client_secret = Some(oauth2::ClientSecret::new("m-secret".into()));
        oauth.client.auth_method = crate::oauth::registration::TokenAuthMethod::ClientSecretBasic;
        r.tokens.refresh_token = None;
        r.tokens.expires_at = Some(T0);
    });
    let peer = ScriptedPeer::new();
    peer.on(
        "POST",
        TOKEN,
        200,
        r#"{"access_token":"cc-2","token_type":"Bearer","expires_in":3600}"#,
    );
    let service = f.service();
    let outcome =
        block_on(service.token(&peer.client(), "c1", &f.secret.hash(), None, T0)).expect("ok");
    let Some(TokenOutcome::Token(grant)) = outcome else {
        panic!("a token: {outcome:?}");
    };
    assert_eq!(grant.access_token.secret(), "cc-2");
    assert_eq!(
        peer.requests()[0].form("grant_type").as_deref(),
        Some("client_credentials")
    );
    let plan = block_on(service.reconnect_plan("c1"))
        .expect("ok")
        .expect("exists");
    assert_eq!(plan.kind, ConnectionKind::ClientCredentials);
    assert_eq!(plan.client_id.as_deref(), Some("client"));
    // Its alarm renews it too, without a refresh token, ahead of the expiry.
    let due = T0 + 3_600_000 - crate::lifecycle::schedule::MAX_LEAD_MS;
    assert_eq!(f.object.peek_alarm(), Some(due));
    assert_eq!(f.object.fire_alarm(), Some(due));
    assert_eq!(
        block_on(service.on_alarm(&peer.client(), "c1", due)).expect("alarm"),
        CronOutcome::Refreshed
    );
    assert_eq!(peer.requests_to(TOKEN).len(), 2);
    assert_eq!(
        peer.requests()[1].form("grant_type").as_deref(),
        Some("client_credentials")
    );
    assert_eq!(
        f.object.peek_alarm(),
        Some(due + 3_600_000 - crate::lifecycle::schedule::MAX_LEAD_MS)
    );
}
