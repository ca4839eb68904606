//! The URL index: `url:<hash>` in KV ([`crate::vault::keys::url_index`]) leads from a permanent
//! URL's secret to its connection id. It is only a pointer: the connection's object compares the
//! secret's hash against its own record whenever it is asked (and an isolate asks it at least
//! once per revocation bound, see [`crate::lifecycle::grant_cache`]), so a stale, cached or
//! orphaned entry never grants access, and a rotated or revoked URL stops working within that
//! bound. That is what makes it safe to cache entries near the reader ([`EDGE_CACHE_TTL_SECONDS`])
//! and in the isolate's memory ([`IndexCache`]).
//!
//! The entry and the connection's object are written in an order that never shows a URL that
//! does not work: [`UrlIndex::create`] writes the object first, [`UrlIndex::rotate`] the new
//! entry before switching the object, and each undoes its first step when the second fails.
//! The object calls sit behind [`Connections`], so these orders are tested natively.

use std::collections::HashMap;

use crate::secret::SecretHash;
use crate::time::UnixMillis;
use crate::vault::keys;
use crate::vault::record::ConnectionRecord;
use crate::vault::store::{KvStore, PutOptions, StoreError};

#[cfg(test)]
mod tests;

/// How long a location near the reader may serve an index entry from its cache (Workers KV's
/// `cacheTtl`).
pub const EDGE_CACHE_TTL_SECONDS: u64 = 300;
/// How long an isolate remembers an entry.
pub const MEMORY_TTL_MS: i64 = 300_000;
/// Entries an isolate remembers at most: an isolate serves many connections, and its memory
/// stays bounded.
pub const MEMORY_ENTRIES: usize = 4_096;

/// The connection objects, as the index needs them. The Worker implements this over its
/// `Connection` Durable Objects; tests over
/// [`crate::lifecycle::connection_service::ConnectionService`].
#[allow(async_fn_in_trait)] // Workers are single-threaded; no `Send` bound is wanted.
pub trait Connections {
    type Error: std::fmt::Display;
    /// Stores a new connection in its object.
    async fn create(&self, record: &ConnectionRecord) -> Result<(), Self::Error>;
    /// Removes connection `id` (undoing a [`Connections::create`] whose URL could not be
    /// indexed).
    async fn discard(&self, id: &str) -> Result<(), Self::Error>;
    /// Points connection `id` at the secret hashed as `new`: its previous hash, or `None` when
    /// there is no such connection.
    async fn switch(&self, id: &str, new: &SecretHash) -> Result<Option<SecretHash>, Self::Error>;
    /// Whether connection `id` now answers to the secret hashed as `hash`.
    async fn holds(&self, id: &str, hash: &SecretHash) -> Result<bool, Self::Error>;
}

/// Why an index operation failed, and which side failed.
#[derive(Debug, thiserror::Error)]
pub enum IndexError<E: std::fmt::Display> {
    /// The index entry could not be read or written (Bindify's KV).
    #[error("the URL index: {0}")]
    Store(StoreError),
    /// The connection's object refused or could not be reached.
    #[error("the connection's object: {0}")]
    Connection(E),
    /// The connection was created but its URL could not be indexed, and removing it failed
    /// too: it exists without a URL until its owner revokes it.
    #[error("the URL index: {store}; removing the connection failed too: {discard}")]
    Stranded { store: StoreError, discard: E },
}

/// What became of the old secret's entry after a rotation.
#[derive(Debug)]
pub enum OldEntry {
    Removed,
    /// Still there (it leads nowhere: the object no longer answers to it).
    LeftBehind(StoreError),
    /// The object switched but its answer was lost, so the old hash is unknown and its entry
    /// stays (leading nowhere).
    Unknown,
}

/// The result of [`UrlIndex::rotate`].
#[derive(Debug)]
pub enum Rotated {
    /// The connection answers to the new secret only.
    Done(OldEntry),
    /// There is no such connection; nothing changed.
    UnknownConnection,
}

/// The URL index over a KV namespace.
pub struct UrlIndex<'a, K: KvStore> {
    pub kv: &'a K,
}

impl<K: KvStore> UrlIndex<'_, K> {
    /// The connection id the secret hashed as `hash` leads to, if any. The read may be served
    /// from a cache near the reader (see the module docs for why that is safe).
    pub async fn lookup(&self, hash: &SecretHash) -> Result<Option<String>, StoreError> {
        self.kv
            .get_cached(&keys::url_index(hash), EDGE_CACHE_TTL_SECONDS)
            .await
    }

    /// Writes the entry for `hash`. On failure the entry is removed again, in case the write
    /// landed after all: a failed write leaves nothing behind.
    async fn add(&self, hash: &SecretHash, id: &str) -> Result<(), StoreError> {
        let key = keys::url_index(hash);
        if let Err(e) = self.kv.put(&key, id, PutOptions::default()).await {
            // Best effort: an entry left here leads nowhere unless the object holds `hash`.
            let _ = self.kv.delete(&key).await;
            return Err(e);
        }
        Ok(())
    }

    /// Removes the entry for `hash` (after its connection was deleted or rotated away).
    pub async fn remove(&self, hash: &SecretHash) -> Result<(), StoreError> {
        self.kv.delete(&keys::url_index(hash)).await
    }

    /// Stores a new connection and indexes its URL: the object first, so the record exists
    /// before any URL leads to it. When the entry cannot be written, the connection is
    /// discarded again, so no connection exists that its owner has no URL for.
    pub async fn create<C: Connections>(
        &self,
        connections: &C,
        record: &ConnectionRecord,
    ) -> Result<(), IndexError<C::Error>> {
        connections
            .create(record)
            .await
            .map_err(IndexError::Connection)?;
        if let Err(store) = self.add(&record.secret_hash, &record.id).await {
            return Err(match connections.discard(&record.id).await {
                Ok(()) => IndexError::Store(store),
                Err(discard) => IndexError::Stranded { store, discard },
            });
        }
        Ok(())
    }

    /// Moves connection `id` to the secret hashed as `new`. The new entry is written first, so
    /// the new URL resolves the moment the object switches; then the object switches, and the
    /// old entry goes. When the object's switch fails, the object is asked which secret it
    /// answers to: if the new one, the rotation happened (only its answer was lost); if the
    /// old one, the new entry is removed and the old URL keeps working; if it cannot say, the
    /// new entry stays (it leads nowhere unless the switch landed) and the rotation is
    /// reported as failed.
    pub async fn rotate<C: Connections>(
        &self,
        connections: &C,
        id: &str,
        new: &SecretHash,
    ) -> Result<Rotated, IndexError<C::Error>> {
        self.add(new, id).await.map_err(IndexError::Store)?;
        match connections.switch(id, new).await {
            Ok(Some(old)) => Ok(Rotated::Done(match self.remove(&old).await {
                Ok(()) => OldEntry::Removed,
                Err(e) => OldEntry::LeftBehind(e),
            })),
            Ok(None) => {
                let _ = self.remove(new).await;
                Ok(Rotated::UnknownConnection)
            }
            Err(failed) => match connections.holds(id, new).await {
                Ok(true) => Ok(Rotated::Done(OldEntry::Unknown)),
                Ok(false) => {
                    let _ = self.remove(new).await;
                    Err(IndexError::Connection(failed))
                }
                Err(_) => Err(IndexError::Connection(failed)),
            },
        }
    }
}

/// Index entries an isolate remembers, so a busy URL costs no KV read per request. Bounded in
/// time ([`MEMORY_TTL_MS`]) and size ([`MEMORY_ENTRIES`]; when full, expired entries go, then
/// the oldest). Safe because the index is only a pointer (see the module docs).
pub struct IndexCache {
    entries: HashMap<[u8; 32], (String, UnixMillis)>,
    ttl_ms: i64,
    capacity: usize,
}

impl Default for IndexCache {
    fn default() -> Self {
        Self::new(MEMORY_TTL_MS, MEMORY_ENTRIES)
    }
}

impl IndexCache {
    pub fn new(ttl_ms: i64, capacity: usize) -> Self {
        Self {
            entries: HashMap::new(),
            ttl_ms,
            capacity: capacity.max(1),
        }
    }

    fn fresh(&self, at: UnixMillis, now: UnixMillis) -> bool {
        now.saturating_sub(at) < self.ttl_ms
    }

    /// The remembered connection id for `hash`, if it is fresh.
    pub fn get(&self, hash: &SecretHash, now: UnixMillis) -> Option<String> {
        self.entries
            .get(hash.as_bytes())
            .filter(|(_, at)| self.fresh(*at, now))
            .map(|(id, _)| id.clone())
    }

    /// Remembers that `hash` leads to `id`.
    pub fn remember(&mut self, hash: &SecretHash, id: &str, now: UnixMillis) {
        if !self.entries.contains_key(hash.as_bytes()) && self.entries.len() >= self.capacity {
            let ttl_ms = self.ttl_ms;
            self.entries
                .retain(|_, (_, at)| now.saturating_sub(*at) < ttl_ms);
            if self.entries.len() >= self.capacity {
                let oldest = self
                    .entries
                    .iter()
                    .min_by_key(|(_, (_, at))| *at)
                    .map(|(key, _)| *key);
                if let Some(oldest) = oldest {
                    self.entries.remove(&oldest);
                }
            }
        }
        self.entries.insert(*hash.as_bytes(), (id.to_owned(), now));
    }

    /// Forgets `hash` (its URL was rotated away or revoked in this isolate).
    pub fn forget(&mut self, hash: &SecretHash) {
        self.entries.remove(hash.as_bytes());
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}
