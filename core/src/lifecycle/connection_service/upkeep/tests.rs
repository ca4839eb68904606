use crate::lifecycle::connection_service::tests::{Fixture, ROTATED, T0, TOKEN, access, record};
use crate::lifecycle::connection_service::{ConnectionService, CronOutcome, ObjectMemory, Visit};
use crate::lifecycle::schedule::{MAX_LEAD_MS, alarm_at};
use crate::secret::UrlSecret;
use crate::testing::{ScriptedPeer, block_on};
use crate::time::UnixMillis;
use crate::vault::keys;
use crate::vault::record::{ConnectionRecord, ConnectionState};
use crate::vault::store::{KvStore, MemoryStore, PutOptions};
use crate::vault::{MIRROR_VALUE, Vault};

const HOUR: i64 = 3_600_000;

/// A stored connection `c1` whose 1-hour token arrived at `T0`.
fn hourly() -> Fixture {
    Fixture::with(|r| {
        r.tokens.obtained_at = Some(T0);
        r.tokens.expires_at = Some(T0 + HOUR);
        r.last_refresh_at = Some(T0);
    })
}

fn listed(f: &Fixture) -> serde_json::Value {
    f.kv.options("conn:c1")
        .and_then(|o| o.metadata)
        .unwrap_or_default()
}

/// The same object after it was evicted: storage kept, memory gone.
fn restarted<'a>(
    f: &'a Fixture,
    memory: &'a ObjectMemory,
) -> ConnectionService<'a, MemoryStore, MemoryStore> {
    ConnectionService {
        vault: Vault {
            object: &f.object,
            kv: &f.kv,
            keyring: &f.keyring,
        },
        memory,
    }
}

#[test]
fn routine_refreshes_write_no_kv_whoever_makes_them() {
    let f = hourly();
    let peer = ScriptedPeer::new();
    peer.on("POST", TOKEN, 200, ROTATED);
    assert_eq!(f.kv.writes(), 1, "creating the connection wrote its mirror");
    let created = listed(&f);
    assert_eq!(f.object.peek_alarm(), Some(T0 + HOUR - MAX_LEAD_MS));

    // Five alarms, each refreshing its token and setting the next one.
    let mut due = T0 + HOUR - MAX_LEAD_MS;
    for _ in 0..5 {
        assert_eq!(f.object.fire_alarm(), Some(due));
        let outcome = block_on(f.service().on_alarm(&peer.client(), "c1", due));
        assert_eq!(outcome.expect("alarm"), CronOutcome::Refreshed);
        due += HOUR - MAX_LEAD_MS;
        assert_eq!(f.object.peek_alarm(), Some(due));
    }
    // A request that finds the token expiring refreshes it: no KV write either.
    let expiring = due + MAX_LEAD_MS - 1;
    let token = block_on(
        f.service()
            .token(&peer.client(), "c1", &f.secret.hash(), None, expiring),
    );
    assert_eq!(access(token.expect("ok")), "AT-2");
    // Nor after the object was evicted: it compares with the copy in its storage.
    let memory = ObjectMemory::default();
    let later = expiring + HOUR;
    let outcome = block_on(restarted(&f, &memory).on_alarm(&peer.client(), "c1", later));
    assert_eq!(outcome.expect("alarm"), CronOutcome::Refreshed);

    assert_eq!(peer.requests_to(TOKEN).len(), 7);
    assert_eq!(f.kv.writes(), 1, "no KV write for a routine refresh");
    // An alarm that fired is not an alarm found missing.
    let visit = block_on(restarted(&f, &memory).sweep(&peer.client(), "c1", later + 1));
    assert_eq!(
        visit.expect("visit"),
        Visit {
            rearmed: false,
            outcome: CronOutcome::NotDue
        }
    );
    let visit = block_on(f.service().sweep(&peer.client(), "c1", T0 + 1));
    assert!(!visit.expect("visit").rearmed);
    assert_eq!(listed(&f), created);
    assert_eq!(f.stored().last_refresh_at, Some(later));
}

#[test]
fn what_a_listing_shows_is_written_when_it_changes() {
    let f = hourly();
    let peer = ScriptedPeer::new();
    let service = f.service();
    let writes = |expected: usize, what: &str| assert_eq!(f.kv.writes(), expected, "{what}");
    writes(1, "created");

    block_on(service.set_label("c1", "Work")).expect("label");
    writes(2, "a new label is listed");
    assert_eq!(listed(&f)["label"], "Work");
    block_on(service.set_label("c1", "Work")).expect("label");
    writes(2, "the same label again");
    let other = UrlSecret::generate().expect("random");
    block_on(service.rotate("c1", other.hash())).expect("rotate");
    writes(2, "the URL secret is not listed");

    // The grant is refused at the alarm: the state changes, and no alarm is needed any more.
    peer.on("POST", TOKEN, 400, r#"{"error":"invalid_grant"}"#);
    let due = f.object.fire_alarm().expect("alarm");
    let outcome = block_on(service.on_alarm(&peer.client(), "c1", due));
    assert_eq!(outcome.expect("alarm"), CronOutcome::NeedsReauth);
    writes(3, "needs_reauth is listed");
    assert_eq!(listed(&f)["state"], "needs_reauth");
    assert_eq!(f.object.peek_alarm(), None);

    // A reconnect binds a new grant: active again, and the alarm is set for its token.
    let mut fresh = record(&other, T0 + 2 * HOUR);
    fresh.tokens.obtained_at = Some(T0 + HOUR);
    block_on(service.rebind(&peer.client(), "c1", fresh, T0 + HOUR)).expect("rebind");
    writes(4, "active again");
    assert_eq!(listed(&f)["state"], "active");
    assert_eq!(f.object.peek_alarm(), Some(T0 + 2 * HOUR - MAX_LEAD_MS));

    // Deleting it removes the mirror and the alarm.
    block_on(service.delete(&peer.client(), "c1", T0 + HOUR)).expect("delete");
    writes(5, "the mirror is removed");
    assert!(f.kv.keys().is_empty());
    assert_eq!(f.object.peek_alarm(), None);
    assert!(f.object.keys().is_empty());
}

#[test]
fn a_transient_failure_at_the_alarm_follows_the_backoff_and_lists_the_state_once() {
    let f = hourly();
    let peer = ScriptedPeer::new();
    let service = f.service();
    peer.on("POST", TOKEN, 503, r#"{"error":"temporarily_unavailable"}"#);
    let due = f.object.fire_alarm().expect("alarm");
    let outcome = block_on(service.on_alarm(&peer.client(), "c1", due));
    assert_eq!(outcome.expect("alarm"), CronOutcome::Transient);
    assert_eq!(listed(&f)["state"], "error");
    assert_eq!(f.object.peek_alarm(), Some(due + 30_000));
    assert_eq!(f.kv.writes(), 2);
    // Failing again the same way: a longer wait, nothing new to list.
    let retry = f.object.fire_alarm().expect("alarm");
    let outcome = block_on(service.on_alarm(&peer.client(), "c1", retry));
    assert_eq!(outcome.expect("alarm"), CronOutcome::Transient);
    assert_eq!(f.object.peek_alarm(), Some(retry + 60_000));
    assert_eq!(f.kv.writes(), 2);
    // Back: refreshed, active, the usual alarm.
    peer.on("POST", TOKEN, 200, ROTATED);
    let retry = f.object.fire_alarm().expect("alarm");
    let outcome = block_on(service.on_alarm(&peer.client(), "c1", retry));
    assert_eq!(outcome.expect("alarm"), CronOutcome::Refreshed);
    assert_eq!(listed(&f)["state"], "active");
    assert_eq!(f.kv.writes(), 3);
    assert_eq!(f.object.peek_alarm(), Some(retry + HOUR - MAX_LEAD_MS));
}

#[test]
fn an_early_alarm_only_sets_the_next_one() {
    let f = hourly();
    let peer = ScriptedPeer::new();
    f.object.fire_alarm();
    let outcome = block_on(f.service().on_alarm(&peer.client(), "c1", T0 + 60_000));
    assert_eq!(outcome.expect("alarm"), CronOutcome::NotDue);
    assert_eq!(f.object.peek_alarm(), Some(T0 + HOUR - MAX_LEAD_MS));
    assert!(peer.requests_to(TOKEN).is_empty());
}

#[test]
fn the_alarm_handler_finds_the_connection_id_in_storage() {
    let f = hourly();
    let memory = ObjectMemory::default();
    assert_eq!(
        block_on(restarted(&f, &memory).stored_id()).expect("read"),
        Some("c1".to_owned())
    );
    // A connection that needs no alarm has no use for it.
    let f = Fixture::with(|r| r.tokens.refresh_token = None);
    assert_eq!(f.object.peek_alarm(), None);
    assert_eq!(block_on(f.service().stored_id()).expect("read"), None);
    let f = Fixture::with(|r| r.tokens.expires_at = None);
    assert_eq!(f.object.peek_alarm(), None);
}

/// What an object of a version before alarms holds: the sealed record, the old marker of a
/// stale mirror, no note of its mirror, no alarm; and in KV the sealed record with metadata
/// that has no alarm mark.
fn from_before_alarms(f: &Fixture, record: &ConnectionRecord) {
    let sealed = f.keyring.seal_json(b"conn:c1", record).expect("sealed");
    block_on(
        f.object
            .put(keys::OBJECT_RECORD, &sealed, PutOptions::default()),
    )
    .expect("put");
    block_on(
        f.object
            .put(keys::LEGACY_OBJECT_MIRROR_STALE, "1", PutOptions::default()),
    )
    .expect("put");
    let earlier = serde_json::json!({
        "label": "Example", "upstream": record.server_url, "created_at": 0,
        "last_refresh_at": null, "last_error": null, "state": "active",
        "expires_at": record.tokens.expires_at, "has_refresh_token": true
    });
    let options = PutOptions {
        ttl_seconds: None,
        metadata: Some(earlier),
    };
    block_on(f.kv.put("conn:c1", &sealed, options)).expect("put");
}

#[test]
fn an_object_from_before_alarms_is_scheduled_and_migrated_by_its_first_sweep() {
    let f = Fixture::new(T0 + HOUR);
    // Replace what the fixture created with the earlier version's state.
    let memory = ObjectMemory::default();
    let stored = f.stored();
    for key in f.object.keys() {
        block_on(f.object.delete(&key)).expect("delete");
    }
    f.object.fire_alarm();
    from_before_alarms(&f, &stored);
    let writes = f.kv.writes();
    assert_eq!(listed(&f)["alarm"], serde_json::Value::Null);

    let service = restarted(&f, &memory);
    let peer = ScriptedPeer::new();
    let visit = block_on(service.sweep(&peer.client(), "c1", T0)).expect("visit");
    assert_eq!(
        visit,
        Visit {
            rearmed: true,
            outcome: CronOutcome::NotDue
        }
    );
    assert_eq!(f.object.peek_alarm(), alarm_at(&stored));
    assert_eq!(listed(&f)["alarm"], true);
    assert_eq!(f.kv.peek("conn:c1").as_deref(), Some(MIRROR_VALUE));
    assert_eq!(f.kv.writes(), writes + 1);
    assert_eq!(f.object.keys(), ["id", "mirrored", "record"]);

    // The next visit, even by a fresh instance, finds it in order.
    let memory = ObjectMemory::default();
    let visit = block_on(restarted(&f, &memory).sweep(&peer.client(), "c1", T0 + 1));
    assert_eq!(
        visit.expect("visit"),
        Visit {
            rearmed: false,
            outcome: CronOutcome::NotDue
        }
    );
    assert_eq!(f.kv.writes(), writes + 1);
    assert!(peer.requests_to(TOKEN).is_empty());
}

#[test]
fn the_sweep_sets_a_lost_alarm_and_refreshes_a_token_whose_alarm_passed() {
    let f = hourly();
    let peer = ScriptedPeer::new();
    peer.on("POST", TOKEN, 200, ROTATED);
    let due = T0 + HOUR - MAX_LEAD_MS;
    // The alarm is lost (its handler never ran): the sweep sets it again.
    assert_eq!(f.object.fire_alarm(), Some(due));
    let memory = ObjectMemory::default();
    let visit = block_on(restarted(&f, &memory).sweep(&peer.client(), "c1", T0 + 60_000));
    assert_eq!(
        visit.expect("visit"),
        Visit {
            rearmed: true,
            outcome: CronOutcome::NotDue
        }
    );
    assert_eq!(f.object.peek_alarm(), Some(due));
    // Lost again, and found only after its time: the sweep refreshes, and sets the next.
    f.object.fire_alarm();
    let memory = ObjectMemory::default();
    let visit = block_on(restarted(&f, &memory).sweep(&peer.client(), "c1", due + 5_000));
    assert_eq!(
        visit.expect("visit"),
        Visit {
            rearmed: true,
            outcome: CronOutcome::Refreshed
        }
    );
    assert_eq!(
        f.object.peek_alarm(),
        Some(due + 5_000 + HOUR - MAX_LEAD_MS)
    );
    assert_eq!(peer.requests_to(TOKEN).len(), 1);
    // A visit to a connection in order changes nothing.
    let memory = ObjectMemory::default();
    let visit = block_on(restarted(&f, &memory).sweep(&peer.client(), "c1", due + 6_000));
    assert_eq!(
        visit.expect("visit"),
        Visit {
            rearmed: false,
            outcome: CronOutcome::NotDue
        }
    );
}

#[test]
fn an_alarm_that_could_not_be_set_is_set_by_the_next_operation() {
    let f = hourly();
    let peer = ScriptedPeer::new();
    peer.on("POST", TOKEN, 200, ROTATED);
    let hash = f.secret.hash();
    f.object.set_alarm_failing(true);
    let expiring: UnixMillis = T0 + HOUR - 1;
    let token = block_on(
        f.service()
            .token(&peer.client(), "c1", &hash, None, expiring),
    );
    assert_eq!(access(token.expect("the refresh counts")), "AT-2");
    assert_eq!(
        f.object.peek_alarm(),
        Some(T0 + HOUR - MAX_LEAD_MS),
        "still the old one"
    );
    f.object.set_alarm_failing(false);
    block_on(f.service().catch_up("c1")).expect("caught up");
    assert_eq!(f.object.peek_alarm(), Some(expiring + HOUR - MAX_LEAD_MS));
}

/// KV refusing writes (a spent daily quota) must not stop a connection: the object hands out
/// refreshed tokens, and the mirror catches up at its first operation once KV accepts writes.
#[test]
fn the_kv_mirror_is_best_effort_and_catches_up() {
    let f = Fixture::new(T0 + HOUR);
    for key in f.kv.keys() {
        block_on(f.kv.delete(&key)).expect("delete");
    }
    let memory = ObjectMemory::default();
    for key in f.object.keys() {
        block_on(f.object.delete(&key)).expect("delete");
    }
    let service = restarted(&f, &memory);
    let stored = {
        let mut r = record(&f.secret, 1_000);
        r.state = ConnectionState::Active;
        r
    };
    f.kv.set_failing_prefix(Some("conn:"));
    block_on(service.create(&stored)).expect("created without the mirror");
    assert!(f.kv.keys().is_empty());
    assert_eq!(f.object.keys(), ["id", "record"]);

    // A refresh while KV still refuses: the new token is handed out and kept.
    let peer = ScriptedPeer::new();
    peer.on("POST", TOKEN, 200, ROTATED);
    let token = block_on(service.token(&peer.client(), "c1", &f.secret.hash(), None, 2_000));
    assert_eq!(access(token.expect("ok")), "AT-2");
    assert!(f.kv.keys().is_empty());

    // KV accepts writes again: the next operation writes the mirror.
    f.kv.set_failing_prefix(None);
    block_on(service.catch_up("c1")).expect("caught up");
    assert_eq!(listed(&f)["state"], "active");
    // The refresh is noted in the connection's activity, beside the record.
    assert_eq!(f.object.keys(), ["activity", "id", "mirrored", "record"]);

    // A delete the mirror misses is caught up the same way.
    f.kv.set_failing_prefix(Some("conn:"));
    assert!(
        block_on(service.delete(&peer.client(), "c1", T0 + HOUR))
            .expect("deleted")
            .is_some()
    );
    assert_eq!(f.kv.keys(), ["conn:c1"]);
    f.kv.set_failing_prefix(None);
    block_on(service.catch_up("c1")).expect("caught up");
    assert!(f.kv.keys().is_empty());
    assert!(f.object.keys().is_empty());
}

/// A server that extends the grant with each refresh (a refresh token whose stated lifetime
/// starts again, as GitHub's does): the listed end stays until it is a day behind, so routine
/// refreshes still write no KV, and the listing is never later than the real end.
#[test]
fn a_grant_end_that_slides_with_each_refresh_is_rewritten_once_a_day() {
    let f = hourly();
    let peer = ScriptedPeer::new();
    peer.on(
        "POST",
        TOKEN,
        200,
        r#"{"access_token":"AT-2","token_type":"Bearer","expires_in":3600,"refresh_token":"RT-2","refresh_token_expires_in":1209600}"#,
    );
    let mut due = T0 + HOUR - MAX_LEAD_MS;
    assert_eq!(f.object.fire_alarm(), Some(due));
    let outcome = block_on(f.service().on_alarm(&peer.client(), "c1", due));
    assert_eq!(outcome.expect("alarm"), CronOutcome::Refreshed);
    assert_eq!(
        f.kv.writes(),
        2,
        "the grant's end is listed once it is stated"
    );
    let first_end = listed(&f)["grant_expires_at"].as_i64().expect("listed end");
    assert!(first_end > due);

    // A day of hourly refreshes, each moving the end an hour later: no KV write.
    let mut refreshes = 0;
    while due + HOUR - MAX_LEAD_MS < first_end - 14 * 24 * HOUR + 24 * HOUR {
        due += HOUR - MAX_LEAD_MS;
        assert_eq!(f.object.fire_alarm(), Some(due));
        let outcome = block_on(f.service().on_alarm(&peer.client(), "c1", due));
        assert_eq!(outcome.expect("alarm"), CronOutcome::Refreshed);
        refreshes += 1;
    }
    assert!(refreshes >= 23, "{refreshes} refreshes");
    assert_eq!(
        f.kv.writes(),
        2,
        "no KV write while the end moved less than a day"
    );
    assert_eq!(listed(&f)["grant_expires_at"], first_end);
    let exact = f.stored().grant_expires_at().expect("end");
    assert!(exact > first_end && exact - first_end < 24 * HOUR);

    // The next refresh moves it a day or more past the listed one: written again.
    due += HOUR - MAX_LEAD_MS;
    assert_eq!(f.object.fire_alarm(), Some(due));
    let outcome = block_on(f.service().on_alarm(&peer.client(), "c1", due));
    assert_eq!(outcome.expect("alarm"), CronOutcome::Refreshed);
    assert_eq!(f.kv.writes(), 3);
    assert_eq!(
        listed(&f)["grant_expires_at"],
        f.stored().grant_expires_at().expect("end")
    );
}
