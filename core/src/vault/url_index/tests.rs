use std::cell::Cell;

use super::*;
use crate::lifecycle::connection_service::{ConnectionService, ObjectMemory};
use crate::secret::UrlSecret;
use crate::testing::{ScriptedPeer, block_on, keyring, sample_record};
use crate::vault::envelope::Keyring;
use crate::vault::store::{Failure, MemoryStore};
use crate::vault::{Vault, VaultError};

/// One connection's object (its storage and memory) and the KV namespace, as the Worker has
/// them, with switches for the failures a Durable Object call can have.
struct World {
    kv: MemoryStore,
    object: MemoryStore,
    keyring: Keyring,
    memory: ObjectMemory,
    /// The object switches, but its answer never arrives.
    lose_switch_answer: Cell<bool>,
    /// The object cannot be reached to discard a connection.
    discard_fails: Cell<bool>,
}

impl World {
    fn new() -> Self {
        World {
            kv: MemoryStore::new(),
            object: MemoryStore::new(),
            keyring: keyring(),
            memory: ObjectMemory::default(),
            lose_switch_answer: Cell::new(false),
            discard_fails: Cell::new(false),
        }
    }

    fn service(&self) -> ConnectionService<'_, MemoryStore, MemoryStore> {
        ConnectionService {
            vault: Vault {
                object: &self.object,
                kv: &self.kv,
                keyring: &self.keyring,
            },
            memory: &self.memory,
        }
    }

    fn index(&self) -> UrlIndex<'_, MemoryStore> {
        UrlIndex { kv: &self.kv }
    }

    /// Whether a request with `secret` reaches the connection: the index leads to an id, and
    /// that id's object answers to the secret.
    fn works(&self, secret: &UrlSecret) -> bool {
        let hash = secret.hash();
        let Some(id) = block_on(self.index().lookup(&hash)).expect("lookup") else {
            return false;
        };
        block_on(self.service().authorized(&id, &hash))
            .expect("authorized")
            .is_some()
    }

    /// A connection `c1` reachable by a fresh secret.
    fn connected(&self) -> UrlSecret {
        let secret = UrlSecret::generate().expect("random");
        let record = sample_record("c1", secret.hash(), Some(i64::MAX / 2));
        block_on(self.index().create(self, &record)).expect("created");
        assert!(self.works(&secret));
        secret
    }
}

impl Connections for World {
    type Error = VaultError;

    async fn create(&self, record: &ConnectionRecord) -> Result<(), VaultError> {
        self.service().vault.create(record).await
    }

    async fn discard(&self, id: &str) -> Result<(), VaultError> {
        if self.discard_fails.get() {
            return Err(VaultError::Store(StoreError {
                op: "discard",
                reason: "unreachable".into(),
            }));
        }
        let peer = ScriptedPeer::new();
        self.service()
            .delete(&peer.client(), id, 0)
            .await
            .map(|_| ())
    }

    async fn switch(&self, id: &str, new: &SecretHash) -> Result<Option<SecretHash>, VaultError> {
        let switched = self.service().rotate(id, *new).await?;
        if self.lose_switch_answer.get() {
            return Err(VaultError::Store(StoreError {
                op: "rotate",
                reason: "the answer was lost".into(),
            }));
        }
        Ok(switched)
    }

    async fn holds(&self, id: &str, hash: &SecretHash) -> Result<bool, VaultError> {
        Ok(self.service().authorized(id, hash).await?.is_some())
    }
}

fn url_keys(kv: &MemoryStore) -> Vec<String> {
    kv.keys()
        .into_iter()
        .filter(|k| k.starts_with("url:"))
        .collect()
}

#[test]
fn create_writes_the_object_then_the_entry() {
    let world = World::new();
    let secret = world.connected();
    assert_eq!(
        url_keys(&world.kv),
        [keys::url_index(&secret.hash())],
        "one entry"
    );
    assert_eq!(
        block_on(world.index().lookup(&secret.hash())),
        Ok(Some("c1".into()))
    );
    assert!(!world.works(&UrlSecret::generate().expect("random")));
}

#[test]
fn a_create_whose_entry_is_refused_leaves_no_connection() {
    let world = World::new();
    world.kv.fail_prefix(Some("url:"), Failure::Refuse);
    let secret = UrlSecret::generate().expect("random");
    let record = sample_record("c1", secret.hash(), None);
    let result = block_on(world.index().create(&world, &record));
    assert!(matches!(result, Err(IndexError::Store(_))), "{result:?}");
    world.kv.fail_prefix(None, Failure::Refuse);
    assert!(world.kv.keys().is_empty(), "{:?}", world.kv.keys());
    assert!(world.object.keys().is_empty(), "{:?}", world.object.keys());
}

#[test]
fn a_create_whose_entry_landed_but_failed_leaves_no_connection_and_no_entry() {
    let world = World::new();
    world.kv.fail_prefix(Some("url:"), Failure::Land);
    let secret = UrlSecret::generate().expect("random");
    let record = sample_record("c1", secret.hash(), None);
    let result = block_on(world.index().create(&world, &record));
    assert!(matches!(result, Err(IndexError::Store(_))), "{result:?}");
    world.kv.fail_prefix(None, Failure::Refuse);
    assert!(world.kv.keys().is_empty(), "{:?}", world.kv.keys());
    assert!(world.object.keys().is_empty(), "{:?}", world.object.keys());
    assert!(!world.works(&secret));
}

#[test]
fn a_create_the_object_refuses_writes_no_entry() {
    let world = World::new();
    world.object.set_broken(true);
    let secret = UrlSecret::generate().expect("random");
    let record = sample_record("c1", secret.hash(), None);
    let result = block_on(world.index().create(&world, &record));
    assert!(
        matches!(result, Err(IndexError::Connection(_))),
        "{result:?}"
    );
    assert!(world.kv.keys().is_empty());
}

#[test]
fn a_connection_that_cannot_be_discarded_is_reported_stranded() {
    let world = World::new();
    world.kv.fail_prefix(Some("url:"), Failure::Refuse);
    world.discard_fails.set(true);
    let secret = UrlSecret::generate().expect("random");
    let record = sample_record("c1", secret.hash(), None);
    let result = block_on(world.index().create(&world, &record));
    assert!(
        matches!(result, Err(IndexError::Stranded { .. })),
        "{result:?}"
    );
    assert_eq!(world.object.keys(), ["record"]);
}

#[test]
fn rotate_moves_the_connection_to_the_new_secret() {
    let world = World::new();
    let old = world.connected();
    let new = UrlSecret::generate().expect("random");
    let rotated = block_on(world.index().rotate(&world, "c1", &new.hash()));
    assert!(
        matches!(rotated, Ok(Rotated::Done(OldEntry::Removed))),
        "{rotated:?}"
    );
    assert!(world.works(&new));
    assert!(!world.works(&old));
    assert_eq!(url_keys(&world.kv), [keys::url_index(&new.hash())]);
}

#[test]
fn a_rotation_whose_new_entry_is_refused_changes_nothing() {
    let world = World::new();
    let old = world.connected();
    let before = world.kv.dump();
    world.kv.fail_prefix(Some("url:"), Failure::Refuse);
    let new = UrlSecret::generate().expect("random");
    let rotated = block_on(world.index().rotate(&world, "c1", &new.hash()));
    assert!(matches!(rotated, Err(IndexError::Store(_))), "{rotated:?}");
    world.kv.fail_prefix(None, Failure::Refuse);
    assert_eq!(world.kv.dump(), before);
    assert!(world.works(&old));
    assert!(!world.works(&new));
}

#[test]
fn a_rotation_whose_new_entry_landed_but_failed_removes_it() {
    let world = World::new();
    let old = world.connected();
    world.kv.fail_prefix(Some("url:"), Failure::Land);
    let new = UrlSecret::generate().expect("random");
    let rotated = block_on(world.index().rotate(&world, "c1", &new.hash()));
    assert!(matches!(rotated, Err(IndexError::Store(_))), "{rotated:?}");
    world.kv.fail_prefix(None, Failure::Refuse);
    assert_eq!(url_keys(&world.kv), [keys::url_index(&old.hash())]);
    assert!(world.works(&old));
    assert!(!world.works(&new));
}

#[test]
fn a_rotation_the_record_refuses_removes_the_new_entry_and_the_old_url_works() {
    let world = World::new();
    let old = world.connected();
    world
        .object
        .fail_prefix(Some(keys::OBJECT_RECORD), Failure::Refuse);
    let new = UrlSecret::generate().expect("random");
    let rotated = block_on(world.index().rotate(&world, "c1", &new.hash()));
    assert!(
        matches!(rotated, Err(IndexError::Connection(_))),
        "{rotated:?}"
    );
    assert_eq!(url_keys(&world.kv), [keys::url_index(&old.hash())]);
    assert!(world.works(&old));
    assert!(!world.works(&new));
    world.object.fail_prefix(None, Failure::Refuse);
    assert!(world.works(&old));
}

#[test]
fn a_rotation_whose_record_write_landed_but_failed_keeps_the_old_url() {
    let world = World::new();
    let old = world.connected();
    world
        .object
        .fail_prefix(Some(keys::OBJECT_RECORD), Failure::Land);
    let new = UrlSecret::generate().expect("random");
    let rotated = block_on(world.index().rotate(&world, "c1", &new.hash()));
    assert!(
        matches!(rotated, Err(IndexError::Connection(_))),
        "{rotated:?}"
    );
    assert_eq!(url_keys(&world.kv), [keys::url_index(&old.hash())]);
    assert!(world.works(&old));
    assert!(!world.works(&new));

    // The object writes its current record again before its next operation, so the landed
    // write of the new hash does not come back when the object leaves memory.
    world.object.fail_prefix(None, Failure::Refuse);
    let peer = ScriptedPeer::new();
    block_on(
        world
            .service()
            .token(&peer.client(), "c1", &old.hash(), None, 0),
    )
    .expect("token")
    .expect("authorized");
    let restarted = World {
        kv: world.kv,
        object: world.object,
        ..World::new()
    };
    assert!(restarted.works(&old));
    assert!(!restarted.works(&new));
    assert!(peer.requests().is_empty());
}

#[test]
fn a_rotation_whose_answer_was_lost_is_done_when_the_object_switched() {
    let world = World::new();
    let old = world.connected();
    world.lose_switch_answer.set(true);
    let new = UrlSecret::generate().expect("random");
    let rotated = block_on(world.index().rotate(&world, "c1", &new.hash()));
    assert!(
        matches!(rotated, Ok(Rotated::Done(OldEntry::Unknown))),
        "{rotated:?}"
    );
    assert!(world.works(&new));
    assert!(!world.works(&old));
}

#[test]
fn rotating_an_unknown_connection_leaves_no_entry() {
    let world = World::new();
    let new = UrlSecret::generate().expect("random");
    let rotated = block_on(world.index().rotate(&world, "nope", &new.hash()));
    assert!(
        matches!(rotated, Ok(Rotated::UnknownConnection)),
        "{rotated:?}"
    );
    assert!(world.kv.keys().is_empty());
}

#[test]
fn an_old_entry_that_cannot_be_removed_is_reported_and_leads_nowhere() {
    let world = World::new();
    let old = world.connected();
    world
        .kv
        .fail_prefix(Some(&keys::url_index(&old.hash())), Failure::Refuse);
    let new = UrlSecret::generate().expect("random");
    let rotated = block_on(world.index().rotate(&world, "c1", &new.hash()));
    assert!(
        matches!(rotated, Ok(Rotated::Done(OldEntry::LeftBehind(_)))),
        "{rotated:?}"
    );
    world.kv.fail_prefix(None, Failure::Refuse);
    assert_eq!(url_keys(&world.kv).len(), 2);
    assert!(world.works(&new));
    assert!(!world.works(&old));
}

#[test]
fn remove_deletes_the_entry() {
    let world = World::new();
    let secret = world.connected();
    block_on(world.index().remove(&secret.hash())).expect("removed");
    assert!(url_keys(&world.kv).is_empty());
    assert!(!world.works(&secret));
}

fn hash(n: u8) -> SecretHash {
    SecretHash::from_bytes([n; 32])
}

#[test]
fn the_cache_remembers_for_its_ttl() {
    let mut cache = IndexCache::new(1_000, 10);
    assert_eq!(cache.get(&hash(1), 0), None);
    cache.remember(&hash(1), "c1", 100);
    assert_eq!(cache.get(&hash(1), 100), Some("c1".into()));
    assert_eq!(cache.get(&hash(1), 1_099), Some("c1".into()));
    assert_eq!(cache.get(&hash(1), 1_100), None);
    assert_eq!(cache.get(&hash(2), 100), None);
    cache.forget(&hash(1));
    assert_eq!(cache.get(&hash(1), 100), None);
    assert!(cache.is_empty());
}

#[test]
fn the_cache_stays_within_its_size() {
    let mut cache = IndexCache::new(1_000, 3);
    for n in 0..3 {
        cache.remember(&hash(n), &format!("c{n}"), i64::from(n));
    }
    // Full, nothing expired: the oldest goes.
    cache.remember(&hash(3), "c3", 10);
    assert_eq!(cache.len(), 3);
    assert_eq!(cache.get(&hash(0), 10), None);
    assert_eq!(cache.get(&hash(1), 10), Some("c1".into()));
    // Full with expired entries: they go first, the fresh ones stay.
    cache.remember(&hash(4), "c4", 1_001);
    assert_eq!(cache.len(), 3);
    assert_eq!(cache.get(&hash(3), 1_001), Some("c3".into()));
    assert_eq!(cache.get(&hash(4), 1_001), Some("c4".into()));
    // Refreshing a remembered entry evicts nothing.
    cache.remember(&hash(4), "c4", 1_002);
    assert_eq!(cache.len(), 3);
    for n in 0..10_000u32 {
        let bytes = n.to_le_bytes();
        let mut key = [0u8; 32];
        key[..4].copy_from_slice(&bytes);
        cache.remember(&SecretHash::from_bytes(key), "c", 2_000);
    }
    assert_eq!(cache.len(), 3);
    assert_eq!(IndexCache::default().capacity, MEMORY_ENTRIES);
}
