use super::tests::{Fixture, T0, TOKEN};
use crate::lifecycle::activity::{Batch, Place, RefreshResult, RefreshTrigger};
use crate::secret::sha256;
use crate::testing::{ScriptedPeer, block_on};
use crate::vault::keys;
use crate::vault::store::KvStore;

const ROTATED: &str =
    r#"{"access_token":"AT-2","token_type":"Bearer","expires_in":3600,"refresh_token":"RT-2"}"#;

fn fixture(expires_at: i64) -> Fixture {
    Fixture::with(|record| record.tokens.expires_at = Some(expires_at))
}

fn batch(uses: u32, errors: u32) -> Batch {
    let mut batch = Batch::default();
    let place = Place::reported(Some("AMS".into()), Some("NL".into()));
    for i in 0..uses {
        batch.note(T0 + i64::from(i), place.as_ref(), i < errors);
    }
    batch
}

fn triggers(f: &Fixture) -> Vec<(RefreshTrigger, RefreshResult)> {
    let view = block_on(f.service().activity("c1", T0 + 10_000))
        .expect("read")
        .expect("exists");
    view.refreshes
        .iter()
        .rev()
        .map(|r| (r.trigger, r.outcome))
        .collect()
}

#[test]
fn delivered_batches_add_up_in_the_objects_storage() {
    let f = fixture(T0 + 3_600_000);
    let service = f.service();
    assert!(block_on(service.record_uses("c1", &batch(3, 1), T0)).expect("recorded"));
    assert!(block_on(service.record_uses("c1", &batch(2, 0), T0 + 5)).expect("recorded"));
    let view = block_on(service.activity("c1", T0 + 10))
        .expect("read")
        .expect("exists");
    assert_eq!((view.requests_24h, view.errors_24h), (5, 1));
    assert_eq!((view.requests_7d, view.errors_7d), (5, 1));
    assert_eq!(
        view.last_used_from,
        Place::reported(Some("AMS".into()), Some("NL".into()))
    );
    // Kept in the object, under its own key, as plain JSON without any credential.
    let stored = block_on(f.service().vault.object.get(keys::OBJECT_ACTIVITY))
        .expect("read")
        .expect("stored");
    assert!(stored.contains("\"AMS\""));
    assert!(!stored.contains("AT-1") && !stored.contains("RT-1"));
}

#[test]
fn uses_of_a_deleted_connection_are_not_recorded_and_deleting_forgets_the_activity() {
    let f = fixture(T0 + 3_600_000);
    let peer = ScriptedPeer::new();
    peer.on("POST", "https://auth.example.com/revoke", 200, "");
    let service = f.service();
    assert!(block_on(service.record_uses("c1", &batch(1, 0), T0)).expect("recorded"));
    assert!(
        block_on(service.delete(&peer.client(), "c1", T0))
            .expect("deleted")
            .is_some()
    );
    assert_eq!(
        block_on(f.service().vault.object.get(keys::OBJECT_ACTIVITY)).expect("read"),
        None
    );
    assert!(!block_on(service.record_uses("c1", &batch(1, 0), T0)).expect("answered"));
    assert_eq!(
        block_on(f.service().vault.object.get(keys::OBJECT_ACTIVITY)).expect("read"),
        None
    );
    assert_eq!(block_on(service.activity("c1", T0)).expect("read"), None);
}

#[test]
fn a_request_at_expiry_and_an_upstream_401_are_noted_as_their_triggers() {
    let f = fixture(T0);
    let peer = ScriptedPeer::new();
    peer.on("POST", TOKEN, 200, ROTATED);
    let service = f.service();
    let hash = f.secret.hash();
    block_on(service.token(&peer.client(), "c1", &hash, None, T0)).expect("token");
    block_on(service.token(&peer.client(), "c1", &hash, Some(sha256(b"AT-2")), T0 + 1))
        .expect("token");
    assert_eq!(
        triggers(&f),
        vec![
            (RefreshTrigger::Request, RefreshResult::Refreshed),
            (RefreshTrigger::Rejected, RefreshResult::Refreshed),
        ]
    );
}

#[test]
fn the_alarms_and_the_crons_refreshes_and_their_failures_are_noted() {
    let f = fixture(T0);
    let peer = ScriptedPeer::new();
    peer.on("POST", TOKEN, 503, "down");
    block_on(f.service().on_alarm(&peer.client(), "c1", T0)).expect("alarm");
    assert_eq!(
        triggers(&f),
        vec![(RefreshTrigger::Alarm, RefreshResult::Failed)]
    );
    let g = fixture(T0);
    let peer = ScriptedPeer::new();
    peer.on("POST", TOKEN, 400, r#"{"error":"invalid_grant"}"#);
    block_on(g.service().sweep(&peer.client(), "c1", T0)).expect("visit");
    assert_eq!(
        triggers(&g),
        vec![(RefreshTrigger::Cron, RefreshResult::NeedsReauth)]
    );
    let h = fixture(T0);
    let peer = ScriptedPeer::new();
    peer.on("POST", TOKEN, 200, ROTATED);
    block_on(h.service().on_alarm(&peer.client(), "c1", T0)).expect("alarm");
    assert_eq!(
        triggers(&h),
        vec![(RefreshTrigger::Alarm, RefreshResult::Refreshed)]
    );
}

#[test]
fn a_new_place_shows_until_the_owner_dismisses_it() {
    let f = fixture(T0 + 3_600_000);
    let service = f.service();
    block_on(service.record_uses("c1", &batch(1, 0), T0)).expect("recorded");
    let mut far = Batch::default();
    let brazil = Place::reported(Some("GRU".into()), Some("BR".into()));
    far.note(T0 + 60_000, brazil.as_ref(), false);
    block_on(service.record_uses("c1", &far, T0 + 60_000)).expect("recorded");
    let view = block_on(service.activity("c1", T0 + 60_000))
        .expect("read")
        .expect("exists");
    assert_eq!(view.new_places.len(), 1);
    let after = block_on(service.dismiss_notices("c1", T0 + 60_000, T0 + 61_000))
        .expect("dismissed")
        .expect("exists");
    assert_eq!(after.new_places, vec![]);
    let stored = block_on(service.activity("c1", T0 + 62_000))
        .expect("read")
        .expect("exists");
    assert_eq!(stored.new_places, vec![]);
}

#[test]
fn uses_riding_in_a_token_call_are_recorded_and_the_token_answered() {
    let f = fixture(T0 + 3_600_000);
    let peer = ScriptedPeer::new();
    let hash = f.secret.hash();
    let outcome = block_on(f.service().token_with_uses(
        &peer.client(),
        "c1",
        &hash,
        None,
        Some(&batch(4, 1)),
        T0 + 10,
    ))
    .expect("answered");
    assert!(matches!(outcome, Some(super::TokenOutcome::Token(_))));
    let view = block_on(f.service().activity("c1", T0 + 20))
        .expect("read")
        .expect("exists");
    assert_eq!((view.requests_24h, view.errors_24h), (4, 1));
    // A secret that does not open the connection gets no token (its uses were counted by an
    // isolate that resolved it to this connection, and are kept).
    let other = crate::secret::UrlSecret::generate().expect("random").hash();
    let refused = block_on(f.service().token_with_uses(
        &peer.client(),
        "c1",
        &other,
        None,
        Some(&batch(1, 0)),
        T0 + 30,
    ))
    .expect("answered");
    assert!(refused.is_none());
    let view = block_on(f.service().activity("c1", T0 + 40))
        .expect("read")
        .expect("exists");
    assert_eq!(view.requests_24h, 5);
}
