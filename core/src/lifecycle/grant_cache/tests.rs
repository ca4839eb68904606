use oauth2::AccessToken;

use super::*;
use crate::secret::{UrlSecret, sha256};
use crate::vault::record::UpstreamAuth;

const BOUND: i64 = 10_000;
const T0: UnixMillis = 1_795_690_200_000;

fn grant(token: &str, fresh_until: Option<UnixMillis>) -> Grant {
    Grant {
        access_token: AccessToken::new(token.into()),
        expires_at: fresh_until.map(|t| t + 60_000),
        upstream: "https://mcp.example.com/mcp".into(),
        fresh_until,
        upstream_auth: UpstreamAuth::Bearer,
    }
}

fn hash() -> SecretHash {
    UrlSecret::generate().expect("random").hash()
}

/// The decision as a word and the token it would send.
fn decide(cache: &mut GrantCache, id: &str, h: &SecretHash, now: UnixMillis) -> (String, String) {
    match cache.lookup(id, h, now, BOUND) {
        Lookup::Warm(g) => ("warm".into(), g.access_token.secret().clone()),
        Lookup::WarmRevalidate(g) => ("revalidate".into(), g.access_token.secret().clone()),
        Lookup::Ask(why) => (format!("ask {why:?}"), String::new()),
    }
}

fn pair(word: &str, token: &str) -> (String, String) {
    (word.into(), token.into())
}

#[test]
fn a_warm_entry_serves_until_half_the_bound_then_renews_once_in_the_background() {
    let mut cache = GrantCache::default();
    let h = hash();
    assert_eq!(decide(&mut cache, "c1", &h, T0), pair("ask Cold", ""));
    cache.remember("c1", &h, &grant("AT-1", Some(T0 + 3_600_000)), T0, BOUND);
    assert_eq!(decide(&mut cache, "c1", &h, T0 + 1), pair("warm", "AT-1"));
    assert_eq!(
        decide(&mut cache, "c1", &h, T0 + BOUND / 2 - 1),
        pair("warm", "AT-1")
    );
    // Past half the bound: one request starts the background call, the others are served.
    assert_eq!(
        decide(&mut cache, "c1", &h, T0 + BOUND / 2),
        pair("revalidate", "AT-1")
    );
    assert_eq!(
        decide(&mut cache, "c1", &h, T0 + BOUND / 2 + 10),
        pair("warm", "AT-1")
    );
    // The background answer renews the entry from the moment its call started.
    cache.remember(
        "c1",
        &h,
        &grant("AT-2", Some(T0 + 3_600_000)),
        T0 + BOUND / 2,
        BOUND,
    );
    assert_eq!(
        decide(&mut cache, "c1", &h, T0 + BOUND - 1),
        pair("warm", "AT-2")
    );
    assert_eq!(
        decide(&mut cache, "c1", &h, T0 + BOUND / 2 + BOUND),
        pair("ask BoundDue", "")
    );
}

#[test]
fn past_the_bound_a_request_waits_for_the_object() {
    let mut cache = GrantCache::default();
    let h = hash();
    cache.remember("c1", &h, &grant("AT-1", None), T0, BOUND);
    assert_eq!(decide(&mut cache, "c1", &h, T0 + BOUND - 1).0, "revalidate");
    // The background call never reported (the object is far, or failed quietly): at the bound
    // the promise holds and the request asks.
    assert_eq!(
        decide(&mut cache, "c1", &h, T0 + BOUND),
        pair("ask BoundDue", "")
    );
    assert_eq!(
        decide(&mut cache, "c1", &h, T0 + 10 * BOUND),
        pair("ask BoundDue", "")
    );
    // A clock that went back does not extend the entry.
    assert_eq!(
        decide(&mut cache, "c1", &h, T0 - 1),
        pair("ask BoundDue", "")
    );
}

#[test]
fn another_secret_asks_and_only_the_object_says_which_one_opens_the_connection() {
    let mut cache = GrantCache::default();
    let (old, new) = (hash(), hash());
    cache.remember("c1", &old, &grant("AT-1", None), T0, BOUND);
    assert_eq!(
        decide(&mut cache, "c1", &new, T0 + 1),
        pair("ask OtherSecret", "")
    );
    // The object accepted the new secret: the entry now answers to it only.
    cache.remember("c1", &new, &grant("AT-1", None), T0 + 1, BOUND);
    assert_eq!(
        decide(&mut cache, "c1", &old, T0 + 2),
        pair("ask OtherSecret", "")
    );
    assert_eq!(decide(&mut cache, "c1", &new, T0 + 2), pair("warm", "AT-1"));
    // The object refused the old one: forgetting it leaves the new one's entry.
    cache.forget_secret("c1", &old);
    assert_eq!(decide(&mut cache, "c1", &new, T0 + 3), pair("warm", "AT-1"));
    cache.forget_secret("c1", &new);
    assert_eq!(decide(&mut cache, "c1", &new, T0 + 4), pair("ask Cold", ""));
}

#[test]
fn a_token_near_its_expiry_is_never_sent_from_memory() {
    let mut cache = GrantCache::default();
    let h = hash();
    cache.remember("c1", &h, &grant("AT-1", Some(T0 + 1_000)), T0, BOUND);
    assert_eq!(decide(&mut cache, "c1", &h, T0 + 999), pair("warm", "AT-1"));
    assert_eq!(
        decide(&mut cache, "c1", &h, T0 + 1_000),
        pair("ask NearExpiry", "")
    );
    // A token without an expiry is sent until the upstream refuses it.
    cache.remember("c1", &h, &grant("AT-2", None), T0 + 1_000, BOUND);
    assert_eq!(
        decide(&mut cache, "c1", &h, T0 + 1_001),
        pair("warm", "AT-2")
    );
    cache.forget("c1");
    assert_eq!(
        decide(&mut cache, "c1", &h, T0 + 1_002),
        pair("ask Cold", "")
    );
}

#[test]
fn a_bound_of_zero_asks_on_every_request_and_remembers_nothing() {
    let mut cache = GrantCache::default();
    let h = hash();
    cache.remember("c1", &h, &grant("AT-1", None), T0, 0);
    assert!(cache.is_empty());
    assert!(matches!(
        cache.lookup("c1", &h, T0, 0),
        Lookup::Ask(Ask::Cold)
    ));
    cache.remember("c1", &h, &grant("AT-1", None), T0, BOUND);
    assert!(matches!(
        cache.lookup("c1", &h, T0 + 1, 0),
        Lookup::Ask(Ask::Cold)
    ));
}

#[test]
fn an_answer_older_than_the_entry_does_not_replace_it() {
    let mut cache = GrantCache::default();
    let h = hash();
    cache.remember("c1", &h, &grant("AT-2", None), T0 + 5_000, BOUND);
    cache.remember("c1", &h, &grant("AT-1", None), T0 + 4_000, BOUND);
    assert_eq!(
        decide(&mut cache, "c1", &h, T0 + 5_001),
        pair("warm", "AT-2")
    );
}

#[test]
fn a_failed_background_call_keeps_the_entry_until_the_bound_and_tries_again() {
    let mut cache = GrantCache::default();
    let h = hash();
    cache.remember("c1", &h, &grant("AT-1", None), T0, BOUND);
    assert_eq!(decide(&mut cache, "c1", &h, T0 + 6_000).0, "revalidate");
    assert_eq!(decide(&mut cache, "c1", &h, T0 + 6_001).0, "warm");
    cache.revalidation_failed("c1");
    assert_eq!(decide(&mut cache, "c1", &h, T0 + 6_002).0, "revalidate");
    // A background call that never reports is taken as lost after a quarter of the bound.
    assert_eq!(decide(&mut cache, "c1", &h, T0 + 6_003).0, "warm");
    assert_eq!(
        decide(&mut cache, "c1", &h, T0 + 6_002 + BOUND / 4 - 1).0,
        "warm"
    );
    assert_eq!(
        decide(&mut cache, "c1", &h, T0 + 6_002 + BOUND / 4).0,
        "revalidate"
    );
    assert_eq!(decide(&mut cache, "c1", &h, T0 + BOUND).0, "ask BoundDue");
}

#[test]
fn bounded_in_entries_old_ones_first_then_the_least_recently_used() {
    let mut cache = GrantCache::new(3);
    let hashes: Vec<SecretHash> = (0..5).map(|_| hash()).collect();
    cache.remember("a", &hashes[0], &grant("A", None), T0, BOUND);
    cache.remember("b", &hashes[1], &grant("B", None), T0 + 1, BOUND);
    cache.remember("c", &hashes[2], &grant("C", None), T0 + 2, BOUND);
    // "a" is used, so "b" is the least recently used when "d" arrives.
    assert_eq!(decide(&mut cache, "a", &hashes[0], T0 + 3).0, "warm");
    cache.remember("d", &hashes[3], &grant("D", None), T0 + 4, BOUND);
    assert_eq!(cache.len(), 3);
    assert_eq!(decide(&mut cache, "b", &hashes[1], T0 + 5).0, "ask Cold");
    for (id, h) in [("a", &hashes[0]), ("c", &hashes[2]), ("d", &hashes[3])] {
        assert_eq!(decide(&mut cache, id, h, T0 + 5).0, "warm", "{id}");
    }
    // Later, "a" and "c" are as old as the bound: both go before "e" is kept, "d" stays.
    let later = T0 + BOUND + 2;
    cache.remember("e", &hashes[4], &grant("E", None), later, BOUND);
    assert_eq!(cache.len(), 2);
    assert_eq!(decide(&mut cache, "d", &hashes[3], later).0, "revalidate");
    assert_eq!(decide(&mut cache, "e", &hashes[4], later).0, "warm");
}

#[test]
fn bounded_in_memory_an_oversized_grant_is_not_kept() {
    let mut cache = GrantCache::default();
    let h = hash();
    cache.remember("c1", &h, &grant("AT-1", None), T0, BOUND);
    let huge = grant(&"x".repeat(MAX_GRANT_BYTES), None);
    cache.remember("c1", &h, &huge, T0 + 1, BOUND);
    assert!(
        cache.is_empty(),
        "the smaller grant it replaced is gone too"
    );
    assert_eq!(decide(&mut cache, "c1", &h, T0 + 2).0, "ask Cold");
    let upstream = "https://mcp.example.com/mcp".len();
    let fits = grant(&"x".repeat(MAX_GRANT_BYTES - upstream), None);
    assert_eq!(grant_bytes(&fits), MAX_GRANT_BYTES);
    cache.remember("c1", &h, &fits, T0 + 3, BOUND);
    assert_eq!(cache.len(), 1);
}

#[test]
fn many_connections_fill_it_only_up_to_its_capacity() {
    let mut cache = GrantCache::default();
    let h = hash();
    for i in 0..(MAX_ENTRIES + 500) {
        let now = T0 + i64::try_from(i).expect("small");
        cache.remember(&format!("c{i}"), &h, &grant("AT", None), now, BOUND);
        assert!(cache.len() <= MAX_ENTRIES);
    }
    assert_eq!(cache.len(), MAX_ENTRIES);
}

#[test]
fn every_kind_is_kept_as_the_forward_path_needs_it_and_dropped_on_its_refusal() {
    let mut cache = GrantCache::default();
    let h = hash();
    let key = Grant {
        access_token: AccessToken::new("sk-live".into()),
        expires_at: None,
        upstream: "https://mcp.example.com/mcp".into(),
        fresh_until: None,
        upstream_auth: UpstreamAuth::Header {
            name: "X-API-Key".into(),
        },
    };
    let open = Grant {
        access_token: AccessToken::new(String::new()),
        upstream_auth: UpstreamAuth::None,
        ..key.clone()
    };
    for (id, remembered) in [("key", &key), ("open", &open)] {
        cache.remember(id, &h, remembered, T0, BOUND);
        let Lookup::Warm(warm) = cache.lookup(id, &h, T0 + 1, BOUND) else {
            panic!("{id}: warm");
        };
        assert_eq!(warm.authorization(), remembered.authorization(), "{id}");
    }
    assert_eq!(
        key.authorization(),
        Some(("X-API-Key", "sk-live".to_owned()))
    );
    assert_eq!(open.authorization(), None);
    // A refusal of another credential (a request that still held an older one) keeps the
    // entry; a refusal of the one it holds drops it, whatever its kind.
    cache.forget_refused("key", &sha256(b"sk-old"));
    assert_eq!(
        decide(&mut cache, "key", &h, T0 + 2),
        pair("warm", "sk-live")
    );
    cache.forget_refused("key", &sha256(b"sk-live"));
    assert_eq!(decide(&mut cache, "key", &h, T0 + 3), pair("ask Cold", ""));
    cache.forget_refused("open", &sha256(b""));
    assert_eq!(decide(&mut cache, "open", &h, T0 + 3), pair("ask Cold", ""));
    // The same for an access token.
    cache.remember("c1", &h, &grant("AT-2", None), T0, BOUND);
    cache.forget_refused("c1", &sha256(b"AT-1"));
    assert_eq!(decide(&mut cache, "c1", &h, T0 + 4), pair("warm", "AT-2"));
    cache.forget_refused("c1", &sha256(b"AT-2"));
    assert_eq!(decide(&mut cache, "c1", &h, T0 + 5), pair("ask Cold", ""));
}
