use super::*;
use crate::lifecycle::refresh::Unavailable;
use crate::secret::{UrlSecret, sha256};
use crate::testing::{ScriptedPeer, block_on, keyring, sample_record};
use crate::vault::record::ConnectionState;
use crate::vault::store::MemoryStore;

pub(super) const TOKEN: &str = "https://auth.example.com/token";
const REVOKE: &str = "https://auth.example.com/revoke";
pub(super) const T0: UnixMillis = 1_795_690_200_000;
pub(super) const ROTATED: &str =
    r#"{"access_token":"AT-2","token_type":"Bearer","expires_in":3600,"refresh_token":"RT-2"}"#;

pub(super) fn record(secret: &UrlSecret, expires_at: UnixMillis) -> ConnectionRecord {
    sample_record("c1", secret.hash(), Some(expires_at))
}

pub(super) struct Fixture {
    pub(super) object: MemoryStore,
    pub(super) kv: MemoryStore,
    pub(super) keyring: crate::vault::envelope::Keyring,
    pub(super) memory: ObjectMemory,
    pub(super) secret: UrlSecret,
}

impl Fixture {
    pub(super) fn new(expires_at: UnixMillis) -> Self {
        Self::with(|record| record.tokens.expires_at = Some(expires_at))
    }

    /// A stored connection `c1`, as `change` leaves the sample record.
    pub(super) fn with(change: impl FnOnce(&mut ConnectionRecord)) -> Self {
        let f = Fixture {
            object: MemoryStore::new(),
            kv: MemoryStore::new(),
            keyring: keyring(),
            memory: ObjectMemory::default(),
            secret: UrlSecret::generate().expect("random"),
        };
        let mut stored = record(&f.secret, T0);
        change(&mut stored);
        block_on(f.service().create(&stored)).expect("created");
        f
    }

    pub(super) fn service(&self) -> ConnectionService<'_, MemoryStore, MemoryStore> {
        ConnectionService {
            vault: Vault {
                object: &self.object,
                kv: &self.kv,
                keyring: &self.keyring,
            },
            memory: &self.memory,
        }
    }

    /// What storage holds now, read the way a restarted object would.
    pub(super) fn stored(&self) -> ConnectionRecord {
        block_on(self.service().vault.load("c1"))
            .expect("load")
            .expect("exists")
    }
}

pub(super) fn access(outcome: Option<TokenOutcome>) -> String {
    match outcome {
        Some(TokenOutcome::Token(grant)) => grant.access_token.secret().clone(),
        other => panic!("expected a token, got {other:?}"),
    }
}

#[test]
fn fifty_callers_at_expiry_cause_exactly_one_refresh() {
    let f = Fixture::new(T0);
    let peer = ScriptedPeer::new();
    peer.on("POST", TOKEN, 200, ROTATED);
    let http = peer.slow_client();
    let service = f.service();
    let hash = f.secret.hash();
    let calls = (0..50).map(|_| service.token(&http, "c1", &hash, None, T0));
    let results = block_on(futures_util::future::join_all(calls));
    assert_eq!(peer.requests_to(TOKEN).len(), 1, "one refresh request");
    for result in results {
        assert_eq!(access(result.expect("ok")), "AT-2");
    }
    // The rotated refresh token reached storage.
    let stored = f.stored();
    assert_eq!(
        stored
            .tokens
            .refresh_token
            .map(|t| t.secret().clone())
            .as_deref(),
        Some("RT-2")
    );
}

#[test]
fn an_alarm_and_client_calls_together_refresh_once() {
    let f = Fixture::new(T0 + 60_000);
    let peer = ScriptedPeer::new();
    peer.on("POST", TOKEN, 200, ROTATED);
    let http = peer.slow_client();
    let service = f.service();
    let hash = f.secret.hash();
    let cron = service.on_alarm(&http, "c1", T0);
    let clients = futures_util::future::join_all(
        (0..10).map(|_| service.token(&http, "c1", &hash, Some(sha256(b"AT-1")), T0)),
    );
    let (cron, clients) = block_on(futures_util::future::join(cron, clients));
    assert_eq!(cron.expect("cron"), CronOutcome::Refreshed);
    for result in clients {
        assert_eq!(access(result.expect("ok")), "AT-2");
    }
    assert_eq!(peer.requests_to(TOKEN).len(), 1);
}

#[test]
fn a_401_with_an_already_replaced_token_does_not_refresh_again() {
    let f = Fixture::new(T0 + 3_600_000);
    let peer = ScriptedPeer::new();
    peer.on("POST", TOKEN, 200, ROTATED);
    let http = peer.client();
    let service = f.service();
    let hash = f.secret.hash();
    let first = block_on(service.token(&http, "c1", &hash, Some(sha256(b"AT-1")), T0));
    assert_eq!(access(first.expect("ok")), "AT-2");
    let second = block_on(service.token(&http, "c1", &hash, Some(sha256(b"AT-1")), T0));
    assert_eq!(access(second.expect("ok")), "AT-2");
    assert_eq!(peer.requests_to(TOKEN).len(), 1);
}

#[test]
fn an_upstream_refusing_every_token_gets_one_refresh_a_minute() {
    use crate::lifecycle::refresh::{REJECTION_REFRESH_INTERVAL_MS, RefreshLimited};
    let f = Fixture::new(T0 + 3_600_000);
    let peer = ScriptedPeer::new();
    peer.on("POST", TOKEN, 200, ROTATED);
    let http = peer.client();
    let service = f.service();
    let hash = f.secret.hash();
    // The first refusal of AT-1 refreshes.
    let first = block_on(service.token(&http, "c1", &hash, Some(sha256(b"AT-1")), T0));
    assert_eq!(access(first.expect("ok")), "AT-2");
    // AT-2 is refused at once, and again: no refresh, and the caller learns when one may run.
    for at in [T0 + 1, T0 + 30_000, T0 + REJECTION_REFRESH_INTERVAL_MS - 1] {
        let limited = block_on(service.token(&http, "c1", &hash, Some(sha256(b"AT-2")), at));
        match limited.expect("ok") {
            Some(TokenOutcome::RefreshLimited(RefreshLimited { retry_at })) => {
                assert_eq!(retry_at, Some(T0 + REJECTION_REFRESH_INTERVAL_MS));
            }
            other => panic!("expected a limited refresh, got {other:?}"),
        }
    }
    assert_eq!(peer.requests_to(TOKEN).len(), 1);
    // A request without a refusal still gets the current token meanwhile.
    let plain = block_on(service.token(&http, "c1", &hash, None, T0 + 2));
    assert_eq!(access(plain.expect("ok")), "AT-2");
    // A minute after the first, a refusal refreshes again.
    peer.on(
        "POST",
        TOKEN,
        200,
        r#"{"access_token":"AT-3","token_type":"Bearer","expires_in":3600,"refresh_token":"RT-3"}"#,
    );
    let later = block_on(service.token(
        &http,
        "c1",
        &hash,
        Some(sha256(b"AT-2")),
        T0 + REJECTION_REFRESH_INTERVAL_MS,
    ));
    assert_eq!(access(later.expect("ok")), "AT-3");
    assert_eq!(peer.requests_to(TOKEN).len(), 2);
}

#[test]
fn an_expiring_token_refreshes_even_right_after_a_refusal_refresh() {
    let f = Fixture::new(T0 + 3_600_000);
    let peer = ScriptedPeer::new();
    peer.on("POST", TOKEN, 200, ROTATED);
    let http = peer.client();
    let service = f.service();
    let hash = f.secret.hash();
    let first = block_on(service.token(&http, "c1", &hash, Some(sha256(b"AT-1")), T0));
    assert_eq!(access(first.expect("ok")), "AT-2");
    // AT-2 lives an hour from T0; an hour later it is refreshed for its expiry, refusal or not.
    peer.on(
        "POST",
        TOKEN,
        200,
        r#"{"access_token":"AT-3","token_type":"Bearer","expires_in":3600,"refresh_token":"RT-3"}"#,
    );
    let expiring =
        block_on(service.token(&http, "c1", &hash, Some(sha256(b"AT-2")), T0 + 3_600_000));
    assert_eq!(access(expiring.expect("ok")), "AT-3");
}

#[test]
fn a_wrong_secret_gets_nothing_and_triggers_nothing() {
    let f = Fixture::new(T0);
    let peer = ScriptedPeer::new();
    let other = UrlSecret::generate().expect("random");
    let result = block_on(
        f.service()
            .token(&peer.client(), "c1", &other.hash(), None, T0),
    );
    assert!(result.expect("ok").is_none());
    assert!(peer.requests().is_empty());
}

#[test]
fn a_revoked_grant_needs_reauth_and_is_not_retried() {
    let f = Fixture::new(T0);
    let peer = ScriptedPeer::new();
    peer.on("POST", TOKEN, 400, r#"{"error":"invalid_grant"}"#);
    let service = f.service();
    let hash = f.secret.hash();
    for _ in 0..3 {
        let outcome = block_on(service.token(&peer.client(), "c1", &hash, None, T0)).expect("ok");
        assert!(matches!(
            outcome,
            Some(TokenOutcome::Unavailable(Unavailable::NeedsReauth))
        ));
    }
    assert_eq!(peer.requests_to(TOKEN).len(), 1);
    assert_eq!(f.stored().state, ConnectionState::NeedsReauth);
    let cron = block_on(service.on_alarm(&peer.client(), "c1", T0));
    assert_eq!(cron.expect("cron"), CronOutcome::NotDue);
}

#[test]
fn a_failed_write_keeps_the_rotated_token_and_retries_the_write() {
    let f = Fixture::new(T0);
    let peer = ScriptedPeer::new();
    peer.on("POST", TOKEN, 200, ROTATED);
    let service = f.service();
    let hash = f.secret.hash();
    f.object.set_broken(true);
    assert!(block_on(service.token(&peer.client(), "c1", &hash, None, T0)).is_err());
    f.object.set_broken(false);
    // The next call writes the kept record first and uses its token without refreshing.
    let next = block_on(service.token(&peer.client(), "c1", &hash, None, T0));
    assert_eq!(access(next.expect("ok")), "AT-2");
    assert_eq!(
        peer.requests_to(TOKEN).len(),
        1,
        "the rotated refresh token was not spent again"
    );
    assert_eq!(f.stored().tokens.access_token.secret(), "AT-2");
}

#[test]
fn the_authorization_server_down_keeps_everything_and_the_next_run_refreshes() {
    let f = Fixture::new(T0 + 60_000);
    let peer = ScriptedPeer::new();
    peer.on("POST", TOKEN, 503, r#"{"error":"temporarily_unavailable"}"#);
    let service = f.service();
    let cron = block_on(service.on_alarm(&peer.client(), "c1", T0));
    assert_eq!(cron.expect("cron"), CronOutcome::Transient);
    let stored = f.stored();
    assert_eq!(stored.state, ConnectionState::Error);
    assert_eq!(
        stored
            .tokens
            .refresh_token
            .map(|t| t.secret().clone())
            .as_deref(),
        Some("RT-1")
    );
    assert!(stored.last_error.is_some() && stored.next_attempt_at.is_some());

    peer.on("POST", TOKEN, 200, ROTATED);
    let later = T0 + crate::lifecycle::refresh::BACKOFF_BASE_MS;
    let cron = block_on(service.on_alarm(&peer.client(), "c1", later));
    assert_eq!(cron.expect("cron"), CronOutcome::Refreshed);
    assert_eq!(f.stored().state, ConnectionState::Active);
}

#[test]
fn a_reconnect_revives_a_connection_that_needed_reauth() {
    let f = Fixture::new(T0);
    let peer = ScriptedPeer::new();
    peer.on("POST", TOKEN, 400, r#"{"error":"invalid_grant"}"#);
    let service = f.service();
    let hash = f.secret.hash();
    let _ = block_on(service.token(&peer.client(), "c1", &hash, None, T0));
    assert_eq!(f.stored().state, ConnectionState::NeedsReauth);

    let other = UrlSecret::generate().expect("random");
    let mut fresh = record(&other, T0 + 3_600_000);
    fresh.id = "new-id".into();
    fresh.tokens.access_token = AccessToken::new("AT-new".into());
    assert_eq!(
        block_on(service.rebind(&peer.client(), "c1", fresh, T0)).expect("rebind"),
        Some(ReplacedGrant::StillInUse),
        "the new grant holds the same refresh token: nothing is revoked"
    );
    let stored = f.stored();
    assert_eq!(
        (stored.id.as_str(), stored.state),
        ("c1", ConnectionState::Active)
    );
    assert!(
        stored.secret_hash.ct_eq(&hash),
        "the URL secret is unchanged"
    );
    let token = block_on(service.token(&peer.client(), "c1", &hash, None, T0));
    assert_eq!(access(token.expect("ok")), "AT-new");
}

#[test]
fn owner_operations_label_rotate_delete() {
    let f = Fixture::new(T0 + 3_600_000);
    let service = f.service();
    let view = block_on(service.set_label("c1", "Work Notion"))
        .expect("ok")
        .expect("found");
    assert_eq!(view.label, "Work Notion");
    let meta =
        f.kv.options("conn:c1")
            .and_then(|o| o.metadata)
            .expect("metadata");
    assert_eq!(meta["label"], "Work Notion");

    let new_secret = UrlSecret::generate().expect("random");
    let old = block_on(service.rotate("c1", new_secret.hash()))
        .expect("ok")
        .expect("found");
    assert!(old.ct_eq(&f.secret.hash()));
    let peer = ScriptedPeer::new();
    let stale =
        block_on(service.token(&peer.client(), "c1", &f.secret.hash(), None, T0)).expect("ok");
    assert!(stale.is_none(), "the old secret stops working at once");
    let fresh =
        block_on(service.token(&peer.client(), "c1", &new_secret.hash(), None, T0)).expect("ok");
    assert_eq!(access(fresh), "AT-1", "the tokens are kept");

    let removed = block_on(service.delete(&peer.client(), "c1", T0))
        .expect("ok")
        .expect("found");
    assert!(removed.old_hash.ct_eq(&new_secret.hash()));
    assert_eq!(removed.upstream_revocation, Revocation::Unsupported);
    assert!(peer.requests_to(REVOKE).is_empty());
    assert!(f.kv.keys().is_empty() && f.object.keys().is_empty());
    assert!(block_on(service.view("c1")).expect("ok").is_none());
}

#[test]
fn deleting_and_reconnecting_end_the_old_grant_at_its_server() {
    let with_revocation = |r: &mut ConnectionRecord| {
        r.oauth.as_mut().expect("oauth").revocation_endpoint = Some(REVOKE.into());
        r.tokens.expires_at = Some(T0 + 3_600_000);
    };
    let peer = ScriptedPeer::new();
    peer.on("POST", REVOKE, 200, "");

    // A reconnect ends the grant it replaced, with its refresh token.
    let f = Fixture::with(with_revocation);
    let service = f.service();
    let mut fresh = record(&f.secret, T0 + 3_600_000);
    fresh.oauth.as_mut().expect("oauth").revocation_endpoint = Some(REVOKE.into());
    fresh.tokens.access_token = AccessToken::new("AT-new".into());
    fresh.tokens.refresh_token = Some(oauth2::RefreshToken::new("RT-new".into()));
    assert_eq!(
        block_on(service.rebind(&peer.client(), "c1", fresh.clone(), T0)).expect("rebind"),
        Some(ReplacedGrant::Revoked)
    );
    let revoked = peer.requests_to(REVOKE);
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0].form("token").as_deref(), Some("RT-1"));
    assert_eq!(
        revoked[0].form("token_type_hint").as_deref(),
        Some("refresh_token")
    );

    // A server that hands back the same refresh token: revoking it would end the new grant.
    assert_eq!(
        block_on(service.rebind(&peer.client(), "c1", fresh, T0)).expect("rebind"),
        Some(ReplacedGrant::StillInUse)
    );
    assert_eq!(peer.requests_to(REVOKE).len(), 1);

    // Deleting ends the current grant.
    let deleted = block_on(service.delete(&peer.client(), "c1", T0))
        .expect("ok")
        .expect("found");
    assert_eq!(deleted.upstream_revocation, Revocation::Revoked);
    assert!(deleted.old_hash.ct_eq(&f.secret.hash()));
    let revoked = peer.requests_to(REVOKE);
    assert_eq!(revoked.len(), 2);
    assert_eq!(revoked[1].form("token").as_deref(), Some("RT-new"));
    assert!(
        block_on(service.delete(&peer.client(), "c1", T0))
            .expect("ok")
            .is_none()
    );
}

/// After a long outage of the authorization server, the first request once it is back gets a
/// token: the backoff (minutes by then) spaces only the cron's attempts. While it is down,
/// requests reach it at most once every few seconds, and the rotated refresh token is spent
/// exactly once.
#[test]
fn requests_try_the_token_endpoint_during_the_backoff_and_recover_at_once() {
    let f = Fixture::new(T0);
    let peer = ScriptedPeer::new();
    peer.on("POST", TOKEN, 503, r#"{"error":"temporarily_unavailable"}"#);
    let service = f.service();
    let hash = f.secret.hash();
    let cron = block_on(service.on_alarm(&peer.client(), "c1", T0));
    assert_eq!(cron.expect("cron"), CronOutcome::Transient);

    let interval = crate::lifecycle::refresh::DEMAND_REFRESH_INTERVAL_MS;
    for i in 1..=4 {
        let at = T0 + i * interval;
        // Within the interval of the last attempt: no new one.
        let early = block_on(service.token(&peer.client(), "c1", &hash, None, at - 1));
        match early.expect("ok") {
            Some(TokenOutcome::Unavailable(Unavailable::Transient { retry_at, .. })) => {
                assert_eq!(retry_at, at);
            }
            other => panic!("expected a transient failure, got {other:?}"),
        }
        assert_eq!(peer.requests_to(TOKEN).len() as i64, i);
        let tried = block_on(service.token(&peer.client(), "c1", &hash, None, at));
        match tried.expect("ok") {
            Some(TokenOutcome::Unavailable(Unavailable::Transient {
                authorization_server,
                retry_at,
            })) => {
                assert_eq!(authorization_server, "https://auth.example.com");
                assert_eq!(retry_at, at + interval);
            }
            other => panic!("expected a transient failure, got {other:?}"),
        }
        assert_eq!(peer.requests_to(TOKEN).len() as i64, i + 1);
    }
    // Five failures in a row: the cron waits eight minutes.
    let stored = f.stored();
    assert_eq!(stored.failures, 5);
    let last = T0 + 4 * interval;
    assert_eq!(stored.next_attempt_at, Some(last + 8 * 60_000));

    // The authorization server is back: ten requests at once, one refresh, all served.
    peer.on("POST", TOKEN, 200, ROTATED);
    let http = peer.slow_client();
    let now = last + interval;
    let calls = (0..10).map(|_| service.token(&http, "c1", &hash, None, now));
    for result in block_on(futures_util::future::join_all(calls)) {
        assert_eq!(access(result.expect("ok")), "AT-2");
    }
    let refreshes = peer.requests_to(TOKEN);
    assert_eq!(refreshes.len(), 6);
    assert!(
        refreshes
            .iter()
            .all(|r| r.form("refresh_token").as_deref() == Some("RT-1"))
    );
    let stored = f.stored();
    assert_eq!(stored.state, ConnectionState::Active);
    assert_eq!((stored.failures, stored.next_attempt_at), (0, None));
    assert_eq!(
        stored
            .tokens
            .refresh_token
            .map(|t| t.secret().clone())
            .as_deref(),
        Some("RT-2")
    );
}
