//! The URL index from the Worker's side: resolving a permanent URL's secret to its connection,
//! and creating, rotating and removing entries. The rules (the order of writes, the rollbacks,
//! the caches) are `bindify_core::vault::url_index`'s; this file holds the isolate's cache and
//! makes the `Connection` objects reachable to the core.

use std::cell::RefCell;

use bindify_core::connect::flow::ConnectError;
use bindify_core::failure::OwnFailure;
use bindify_core::secret::{SecretHash, UrlSecret};
use bindify_core::vault::record::ConnectionRecord;
use bindify_core::vault::store::StoreError;
use bindify_core::vault::url_index::{Connections, IndexCache, IndexError, Rotated, UrlIndex};
use worker::Env;

use crate::{clock, connection_client, storage};

thread_local! {
    /// This isolate's memory of index entries.
    static REMEMBERED: RefCell<IndexCache> = RefCell::new(IndexCache::default());
}

/// A resolved permanent URL.
pub struct Resolved {
    pub id: String,
    pub hash: SecretHash,
    pub secret: UrlSecret,
}

/// `Ok(None)` for a malformed or unknown secret; `Err` only when storage failed.
pub async fn connection(env: &Env, secret: &str) -> worker::Result<Option<Resolved>> {
    let Some(secret) = UrlSecret::parse(secret) else {
        return Ok(None);
    };
    let hash = secret.hash();
    let now = clock::now();
    if let Some(id) = REMEMBERED.with(|cache| cache.borrow().get(&hash, now)) {
        return Ok(Some(Resolved { id, hash, secret }));
    }
    let kv = storage::kv(env).map_err(unavailable)?;
    let id = UrlIndex { kv: &kv }
        .lookup(&hash)
        .await
        .map_err(unavailable)?;
    if let Some(id) = &id {
        REMEMBERED.with(|cache| cache.borrow_mut().remember(&hash, id, now));
    }
    Ok(id.map(|id| Resolved { id, hash, secret }))
}

fn unavailable(e: StoreError) -> worker::Error {
    worker::Error::RustError(e.to_string())
}

/// Stores a new connection and indexes its URL (see `UrlIndex::create`).
pub async fn create(env: &Env, record: &ConnectionRecord) -> Result<(), ConnectError> {
    let kv = storage::kv(env)?;
    match (UrlIndex { kv: &kv }).create(&Objects(env), record).await {
        Ok(()) => Ok(()),
        Err(IndexError::Store(e)) => Err(ConnectError::Store(e)),
        Err(IndexError::Connection(failure)) => {
            Err(connection_client::connect_error("create", failure))
        }
        Err(IndexError::Stranded { store, discard }) => {
            worker::console_error!(
                "connection {} has no URL: {store}; removing it failed: {discard}",
                record.id
            );
            Err(ConnectError::Store(store))
        }
    }
}

/// Moves connection `id` to the secret hashed as `new` (see `UrlIndex::rotate`).
pub async fn rotate(
    env: &Env,
    id: &str,
    new: &SecretHash,
) -> Result<Rotated, IndexError<OwnFailure>> {
    let kv = storage::kv(env).map_err(IndexError::Store)?;
    let rotated = (UrlIndex { kv: &kv }).rotate(&Objects(env), id, new).await;
    if let Ok(Rotated::Done(_)) = &rotated {
        REMEMBERED.with(|cache| cache.borrow_mut().forget(new));
    }
    rotated
}

/// Removes the index entry of a connection that is gone. This isolate's memory of the entry
/// stays like every other isolate's: the connection's object, or within the revocation bound
/// `bindify_core::lifecycle::grant_cache`, decides what the old URL still gets, the same way
/// everywhere.
pub async fn remove(env: &Env, hash: &SecretHash) -> Result<(), StoreError> {
    UrlIndex {
        kv: &storage::kv(env)?,
    }
    .remove(hash)
    .await
}

/// The `Connection` objects, as the index needs them.
struct Objects<'a>(&'a Env);

impl Connections for Objects<'_> {
    type Error = OwnFailure;

    async fn create(&self, record: &ConnectionRecord) -> Result<(), OwnFailure> {
        connection_client::create(self.0, record).await
    }

    async fn discard(&self, id: &str) -> Result<(), OwnFailure> {
        connection_client::delete(self.0, id).await.map(|_| ())
    }

    async fn switch(&self, id: &str, new: &SecretHash) -> Result<Option<SecretHash>, OwnFailure> {
        connection_client::rotate(self.0, id, new).await
    }

    async fn holds(&self, id: &str, hash: &SecretHash) -> Result<bool, OwnFailure> {
        Ok(connection_client::status(self.0, id, hash).await?.is_some())
    }
}
