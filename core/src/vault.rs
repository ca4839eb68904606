//! The vault of one connection, as its Durable Object runs it.
//!
//! Source of truth: the connection's Durable Object storage. It is strongly consistent and has
//! a single writer, so a rotated refresh token, once written there, is what every later read
//! sees. Workers KV is eventually consistent (a write can take 60 s or more to reach other
//! locations), so the KV copy under `conn:<id>` is a mirror, written after the object's own
//! storage, and is used only for listing and for the cron's scan of expiries. Nothing
//! that spends a token ever reads it.

use crate::envelope::{EnvelopeError, Keyring};
use crate::keys;
use crate::record::{ConnectionRecord, StatusView};
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

    /// Seals and writes `record` to the object, then mirrors it to KV with its metadata.
    pub async fn save(&self, record: &ConnectionRecord) -> Result<(), VaultError> {
        let kv_key = keys::connection(&record.id);
        let sealed = self.keyring.seal_json(kv_key.as_bytes(), record)?;
        self.object
            .put(keys::OBJECT_RECORD, &sealed, PutOptions::default())
            .await?;
        let metadata = serde_json::to_value(record.index_metadata()).ok();
        self.kv
            .put(
                &kv_key,
                &sealed,
                PutOptions {
                    ttl_seconds: None,
                    metadata,
                },
            )
            .await?;
        Ok(())
    }

    /// Removes the connection: the object's record first, then the KV mirror.
    pub async fn delete(&self, id: &str) -> Result<(), VaultError> {
        self.object.delete(keys::OBJECT_RECORD).await?;
        self.kv.delete(&keys::connection(id)).await?;
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
}
