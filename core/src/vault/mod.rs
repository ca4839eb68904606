//! Where connections are kept. A connection is a [`record`], sealed whole by [`envelope`]
//! before it is stored; every storage key is built in [`keys`], and [`store`] is storage as the
//! core sees it. [`url_index`] leads from a permanent URL's secret to its connection.
//!
//! The vault of one connection, as its Durable Object runs it.
//!
//! Source of truth: the connection's Durable Object storage, which alone holds the sealed
//! record. It is strongly consistent and has a single writer, so a rotated refresh token, once
//! written there, is what every later read sees.
//!
//! Workers KV holds a mirror of each connection under `conn:<id>` for listings and the cron's
//! sweep: its plaintext metadata ([`IndexMetadata`]) and the minimal value [`MIRROR_VALUE`].
//! No sealed record is kept in KV: nothing reads one from there (earlier versions wrote the
//! sealed record as the value; it is replaced at the entry's next write). The object keeps a
//! copy of the metadata it last wrote ([`keys::OBJECT_MIRRORED`]) and writes KV only when the
//! metadata changes, which a routine refresh never does (see [`IndexMetadata`]): the
//! connection's state, label, upstream, last error, grant end or alarm mark change it.
//!
//! The mirror write is best effort: when KV refuses it (an outage, a spent daily write quota),
//! the change still counts and the object's copy stays as it was, so the next operation of the
//! object (a request, its alarm, the cron's visit) compares again and writes it.

pub mod envelope;
pub mod keys;
pub mod record;
pub mod store;
pub mod url_index;

use self::envelope::{EnvelopeError, Keyring};
use self::record::{ConnectionRecord, IndexMetadata, StatusView};
use self::store::{KvStore, PutOptions, StoreError};
use crate::secret::SecretHash;

/// The value of a `conn:<id>` mirror: everything is in its metadata.
pub const MIRROR_VALUE: &str = "v2";

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
    /// Stores a new connection in the object.
    pub async fn create(&self, record: &ConnectionRecord) -> Result<(), VaultError> {
        if self.object.get(keys::OBJECT_RECORD).await?.is_some() {
            return Err(VaultError::AlreadyExists);
        }
        self.save(record).await
    }

    /// Seals and writes `record` to the object's storage.
    pub async fn save(&self, record: &ConnectionRecord) -> Result<(), VaultError> {
        let aad = keys::connection(&record.id);
        let sealed = self.keyring.seal_json(aad.as_bytes(), record)?;
        self.object
            .put(keys::OBJECT_RECORD, &sealed, PutOptions::default())
            .await?;
        Ok(())
    }

    /// Removes the connection's record from the object.
    pub async fn delete(&self) -> Result<(), VaultError> {
        self.object.delete(keys::OBJECT_RECORD).await?;
        Ok(())
    }

    /// The metadata the KV mirror holds as this object last wrote it (JSON), if any.
    pub async fn mirrored(&self) -> Result<Option<String>, VaultError> {
        Ok(self.object.get(keys::OBJECT_MIRRORED).await?)
    }

    /// Writes the KV mirror of connection `id`: `metadata` (JSON of an [`IndexMetadata`]), or
    /// its removal for `None`, then notes in the object what KV now holds. `Ok(false)` when KV
    /// refused (the object's note stays, so the next comparison writes again); `Err` only when
    /// the object's own storage failed.
    pub async fn write_mirror(&self, id: &str, metadata: Option<&str>) -> Result<bool, VaultError> {
        let kv_key = keys::connection(id);
        let written = match metadata {
            Some(json) => {
                let options = PutOptions {
                    ttl_seconds: None,
                    metadata: crate::json::from_str(json).ok(),
                };
                self.kv.put(&kv_key, MIRROR_VALUE, options).await
            }
            None => self.kv.delete(&kv_key).await,
        };
        if written.is_err() {
            return Ok(false);
        }
        match metadata {
            Some(json) => {
                self.object
                    .put(keys::OBJECT_MIRRORED, json, PutOptions::default())
                    .await?
            }
            None => self.object.delete(keys::OBJECT_MIRRORED).await?,
        }
        Ok(true)
    }

    /// Removes the marker earlier versions kept while their mirror was behind
    /// ([`keys::LEGACY_OBJECT_MIRROR_STALE`]); the note of [`Vault::write_mirror`] replaces it.
    pub async fn drop_legacy_marker(&self) -> Result<(), VaultError> {
        self.object.delete(keys::LEGACY_OBJECT_MIRROR_STALE).await?;
        Ok(())
    }

    /// The authoritative record of connection `id`, if it exists.
    pub async fn load(&self, id: &str) -> Result<Option<ConnectionRecord>, VaultError> {
        let Some(text) = self.object.get(keys::OBJECT_RECORD).await? else {
            return Ok(None);
        };
        let aad = keys::connection(id);
        Ok(Some(self.keyring.open_json(aad.as_bytes(), &text)?))
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

/// The metadata a record's KV mirror holds, as JSON: what [`Vault::write_mirror`] writes and
/// the object compares with what it wrote last.
pub fn mirror_metadata(record: &ConnectionRecord) -> String {
    serde_json::to_string(&record.index_metadata()).unwrap_or_default()
}

/// [`mirror_metadata`] as the mirror is to hold it given what it holds now (`listed`, JSON as
/// [`Vault::mirrored`] reads it): a grant end that a refresh moved later by less than
/// [`self::record::GRANT_END_SLACK_MS`] stays as listed (see [`IndexMetadata::settled`]), so
/// a server that extends the grant with every refresh costs no KV write per refresh.
pub fn settled_mirror_metadata(record: &ConnectionRecord, listed: Option<&str>) -> String {
    let listed: Option<IndexMetadata> = listed.and_then(|json| crate::json::from_str(json).ok());
    serde_json::to_string(&record.index_metadata().settled(listed.as_ref())).unwrap_or_default()
}

/// Every connection in the KV mirror with its plaintext metadata, from the keys alone: no value
/// is read. The cron plans from it and the management API lists from it. A key whose metadata
/// does not read is left out.
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
            let meta = metadata.and_then(|m| crate::json::from_value::<IndexMetadata>(m).ok());
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

#[cfg(test)]
mod tests;
