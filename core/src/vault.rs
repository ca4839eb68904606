//! The vault of one connection, as its Durable Object runs it.
//!
//! Source of truth: the connection's Durable Object storage. It is strongly consistent and has
//! a single writer, so a rotated refresh token, once written there, is what every later read
//! sees. Workers KV is eventually consistent (a write can take 60 s or more to reach other
//! locations), so the KV copy under `conn:<id>` is a mirror, written after the object's own
//! storage, and is used only for listing and for the cron's scan of expiries. Nothing
//! that spends a token ever reads it.
//!
//! The mirror write is best effort: when KV refuses it (an outage, a spent daily write quota),
//! the change still counts, the object notes that its mirror is stale, and
//! [`Vault::catch_up_mirror`] (run by the object before each operation, including the cron's
//! visit) writes it again.

use crate::envelope::{EnvelopeError, Keyring};
use crate::keys;
use crate::record::{ConnectionRecord, IndexMetadata, StatusView};
use crate::secret::SecretHash;
use crate::store::{KvStore, PutOptions, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the sealed record could not be opened or sealed: {0}")]
    Envelope(#[from] EnvelopeError),
    #[error("a connection with this id already exists")]
    AlreadyExists,
}

/// One connection's vault: `object` is its Durable Object storage, `kv` the shared namespace.
pub struct Vault<'a, O: KvStore, K: KvStore> {
    pub object: &'a O,
    pub kv: &'a K,
    pub keyring: &'a Keyring,
}

impl<O: KvStore, K: KvStore> Vault<'_, O, K> {
    /// Stores a new connection: the object first (the truth), then the KV mirror.
    pub async fn create(&self, record: &ConnectionRecord) -> Result<(), VaultError> {
        if self.object.get(keys::OBJECT_RECORD).await?.is_some() {
            return Err(VaultError::AlreadyExists);
        }
        self.save(record).await
    }

    /// Seals and writes `record` to the object, then mirrors it to KV with its metadata. Only
    /// the object's write can fail the save.
    pub async fn save(&self, record: &ConnectionRecord) -> Result<(), VaultError> {
        let kv_key = keys::connection(&record.id);
        let sealed = self.keyring.seal_json(kv_key.as_bytes(), record)?;
        self.object
            .put(keys::OBJECT_RECORD, &sealed, PutOptions::default())
            .await?;
        let mirrored = self.kv.put(&kv_key, &sealed, mirror_options(record)).await;
        self.note_mirror(mirrored).await
    }

    /// Removes the connection: the object's record first, then the KV mirror (best effort, like
    /// every mirror write).
    pub async fn delete(&self, id: &str) -> Result<(), VaultError> {
        self.object.delete(keys::OBJECT_RECORD).await?;
        let removed = self.kv.delete(&keys::connection(id)).await;
        self.note_mirror(removed).await
    }

    /// Brings the KV mirror of connection `id` up to date if an earlier write of it failed.
    /// `Ok(true)` when the mirror is (now) current; `Ok(false)` when KV still refuses.
    pub async fn catch_up_mirror(&self, id: &str) -> Result<bool, VaultError> {
        if self.object.get(keys::OBJECT_MIRROR_STALE).await?.is_none() {
            return Ok(true);
        }
        let kv_key = keys::connection(id);
        let written = match self.object.get(keys::OBJECT_RECORD).await? {
            Some(sealed) => {
                let record: ConnectionRecord =
                    self.keyring.open_json(kv_key.as_bytes(), &sealed)?;
                self.kv.put(&kv_key, &sealed, mirror_options(&record)).await
            }
            None => self.kv.delete(&kv_key).await,
        };
        match written {
            Ok(()) => {
                self.object.delete(keys::OBJECT_MIRROR_STALE).await?;
                Ok(true)
            }
            Err(_) => Ok(false),
        }
    }

    /// Records how a mirror write went: a failure marks the mirror stale in the object (the
    /// object's own write failing then is the only error); a success after a failure clears it.
    async fn note_mirror(&self, result: Result<(), StoreError>) -> Result<(), VaultError> {
        let stale = self.object.get(keys::OBJECT_MIRROR_STALE).await?.is_some();
        match result {
            Ok(()) if stale => self.object.delete(keys::OBJECT_MIRROR_STALE).await?,
            Ok(()) => {}
            Err(_) if stale => {}
            Err(_) => {
                self.object
                    .put(keys::OBJECT_MIRROR_STALE, "1", PutOptions::default())
                    .await?
            }
        }
        Ok(())
    }

    /// The authoritative record of connection `id`, if it exists.
    pub async fn load(&self, id: &str) -> Result<Option<ConnectionRecord>, VaultError> {
        let Some(text) = self.object.get(keys::OBJECT_RECORD).await? else {
            return Ok(None);
        };
        let kv_key = keys::connection(id);
        Ok(Some(self.keyring.open_json(kv_key.as_bytes(), &text)?))
    }

    /// The record, only when `presented` is the hash of its current URL secret (compared in
    /// constant time). A stale URL index entry therefore never grants access.
    pub async fn authorize(
        &self,
        id: &str,
        presented: &SecretHash,
    ) -> Result<Option<ConnectionRecord>, VaultError> {
        Ok(self
            .load(id)
            .await?
            .filter(|record| record.secret_hash.ct_eq(presented)))
    }

    /// The public status, for the holder of the URL secret.
    pub async fn status(
        &self,
        id: &str,
        presented: &SecretHash,
    ) -> Result<Option<StatusView>, VaultError> {
        Ok(self
            .authorize(id, presented)
            .await?
            .map(|record| record.status_view()))
    }
}

/// Every connection in the KV mirror with its plaintext metadata, from the keys alone: no record
/// is read or opened. The cron plans from it and the management API lists from it. A key whose
/// metadata does not read is left out.
pub async fn list_connections<K: KvStore>(
    kv: &K,
) -> Result<Vec<(String, IndexMetadata)>, StoreError> {
    let mut listed = Vec::new();
    let mut cursor = None;
    loop {
        let page = kv.list(keys::CONNECTION_PREFIX, cursor).await?;
        for (key, metadata) in page.keys {
            let Some(id) = key.strip_prefix(keys::CONNECTION_PREFIX) else {
                continue;
            };
            let meta = metadata.and_then(|m| serde_json::from_value::<IndexMetadata>(m).ok());
            if let Some(meta) = meta {
                listed.push((id.to_owned(), meta));
            }
        }
        cursor = page.cursor;
        if cursor.is_none() {
            return Ok(listed);
        }
    }
}

/// The KV mirror's options: no TTL, and the plaintext metadata for listing and the cron.
fn mirror_options(record: &ConnectionRecord) -> PutOptions {
    PutOptions {
        ttl_seconds: None,
        metadata: serde_json::to_value(record.index_metadata()).ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::ConnectionState;

    use crate::secret::UrlSecret;
    use crate::store::MemoryStore;
    use crate::testing::{block_on, keyring, sample_record};
    use oauth2::{AccessToken, RefreshToken};

    fn record(secret: &UrlSecret) -> ConnectionRecord {
        let mut record = sample_record("conn1", secret.hash(), Some(3_600_000));
        // Distinctive values, so finding them in a storage dump cannot be a coincidence.
        record.tokens.access_token = AccessToken::new("AT-plain-secret".into());
        record.tokens.refresh_token = Some(RefreshToken::new("RT-plain-secret".into()));
        record
    }

    #[test]
    fn create_seals_both_copies_and_indexes_expiry() {
        let (object, kv, keyring) = (MemoryStore::new(), MemoryStore::new(), keyring());
        let vault = Vault {
            object: &object,
            kv: &kv,
            keyring: &keyring,
        };
        let secret = UrlSecret::generate().expect("random");
        block_on(vault.create(&record(&secret))).expect("created");
        for dump in [object.dump(), kv.dump()] {
            assert!(!dump.contains("AT-plain-secret") && !dump.contains("RT-plain-secret"));
            assert!(!dump.contains(secret.expose()));
        }
        let meta = kv
            .options("conn:conn1")
            .and_then(|o| o.metadata)
            .expect("metadata");
        assert_eq!(meta["expires_at"], 3_600_000);
        assert_eq!(meta["state"], "active");
        assert!(matches!(
            block_on(vault.create(&record(&secret))),
            Err(VaultError::AlreadyExists)
        ));
    }

    #[test]
    fn only_the_current_secret_opens_status() {
        let (object, kv, keyring) = (MemoryStore::new(), MemoryStore::new(), keyring());
        let vault = Vault {
            object: &object,
            kv: &kv,
            keyring: &keyring,
        };
        let secret = UrlSecret::generate().expect("random");
        block_on(vault.create(&record(&secret))).expect("created");
        let view = block_on(vault.status("conn1", &secret.hash()))
            .expect("ok")
            .expect("found");
        assert_eq!(view.state, ConnectionState::Active);
        assert_eq!(
            view.access_token_expires_at.as_deref(),
            Some("1970-01-01T01:00:00Z")
        );
        let json = serde_json::to_string(&view).expect("json");
        assert!(!json.contains("AT-plain-secret") && !json.contains("RT-plain-secret"));

        let other = UrlSecret::generate().expect("random");
        assert!(
            block_on(vault.status("conn1", &other.hash()))
                .expect("ok")
                .is_none()
        );
        // A record cannot be opened under another connection's id.
        assert!(block_on(vault.status("conn2", &secret.hash())).is_err());
    }

    #[test]
    fn lists_every_connection_across_pages_from_metadata_alone() {
        let (object, kv, keyring) = (MemoryStore::new(), MemoryStore::new(), keyring());
        for id in ["c1", "c2", "c3"] {
            let secret = UrlSecret::generate().expect("random");
            let mut record = record(&secret);
            record.id = id.into();
            let object = MemoryStore::new();
            let vault = Vault {
                object: &object,
                kv: &kv,
                keyring: &keyring,
            };
            block_on(vault.create(&record)).expect("created");
        }
        // Entries of other kinds, and a mirror whose metadata does not read, are left out.
        block_on(kv.put("url:abc", "c1", PutOptions::default())).expect("put");
        block_on(kv.put("conn:bad", "x", PutOptions::default())).expect("put");
        let listed = block_on(list_connections(&kv)).expect("listed");
        let ids: Vec<&str> = listed.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, ["c1", "c2", "c3"]);
        assert!(listed.iter().all(|(_, m)| m.expires_at == Some(3_600_000)));
        assert!(object.keys().is_empty());
        kv.set_failing_prefix(Some("conn:"));
        assert!(block_on(list_connections(&kv)).is_err());
    }

    /// KV refusing writes (a spent daily quota) must not stop a connection: the object hands
    /// out a refreshed token anyway, and the mirror catches up once KV accepts writes again.
    #[test]
    fn the_kv_mirror_is_best_effort_and_catches_up() {
        use crate::connection_service::{ConnectionService, ObjectMemory, TokenOutcome};
        use crate::testing::ScriptedPeer;

        let (object, kv, keyring) = (MemoryStore::new(), MemoryStore::new(), keyring());
        let memory = ObjectMemory::default();
        let service = ConnectionService {
            vault: Vault {
                object: &object,
                kv: &kv,
                keyring: &keyring,
            },
            memory: &memory,
        };
        let secret = UrlSecret::generate().expect("random");
        kv.set_failing_prefix(Some("conn:"));

        // Created while KV refuses: the object holds it, the mirror is marked stale.
        let mut expiring = record(&secret);
        expiring.tokens.expires_at = Some(1_000);
        block_on(service.vault.create(&expiring)).expect("created without the mirror");
        assert!(kv.keys().is_empty());
        assert_eq!(object.keys(), ["mirror-stale", "record"]);

        // A refresh while KV still refuses: the new token is handed out and kept.
        let peer = ScriptedPeer::new();
        peer.on(
            "POST",
            "https://auth.example.com/token",
            200,
            r#"{"access_token":"AT-2","token_type":"Bearer","expires_in":3600,"refresh_token":"RT-2"}"#,
        );
        let outcome = block_on(service.token(&peer.client(), "conn1", &secret.hash(), None, 2_000))
            .expect("no storage error")
            .expect("authorized");
        match outcome {
            TokenOutcome::Token(grant) => assert_eq!(grant.access_token.secret(), "AT-2"),
            other => panic!("expected a token, got {other:?}"),
        }
        assert!(block_on(service.vault.catch_up_mirror("conn1")).is_ok_and(|current| !current));
        assert!(kv.keys().is_empty());

        // KV accepts writes again: the mirror catches up with the refreshed record.
        kv.set_failing_prefix(None);
        assert!(block_on(service.vault.catch_up_mirror("conn1")).expect("caught up"));
        assert_eq!(object.keys(), ["record"]);
        let mirrored = kv
            .dump()
            .lines()
            .find_map(|l| {
                l.strip_prefix("conn:conn1=")
                    .map(|v| v.split(' ').next().unwrap_or("").to_owned())
            })
            .expect("mirrored");
        let opened: ConnectionRecord = keyring.open_json(b"conn:conn1", &mirrored).expect("opens");
        assert_eq!(
            opened
                .tokens
                .refresh_token
                .as_ref()
                .map(|t| t.secret().as_str()),
            Some("RT-2")
        );
        let meta = kv
            .options("conn:conn1")
            .and_then(|o| o.metadata)
            .expect("metadata");
        assert_eq!(meta["last_refresh_at"], 2_000);

        // A delete the mirror misses is caught up the same way.
        kv.set_failing_prefix(Some("conn:"));
        assert!(
            block_on(service.delete(&peer.client(), "conn1", 0))
                .expect("deleted")
                .is_some()
        );
        assert_eq!(kv.keys(), ["conn:conn1"]);
        kv.set_failing_prefix(None);
        assert!(block_on(service.vault.catch_up_mirror("conn1")).expect("caught up"));
        assert!(kv.keys().is_empty() && object.keys().is_empty());
    }
}
