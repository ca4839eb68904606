//! The core's `KvStore` over Workers KV and over a Durable Object's storage.

use bindify_core::store::{KvStore, PutOptions, StoreError};

fn failed(op: &'static str) -> impl FnOnce(worker::Error) -> StoreError {
    move |e| StoreError {
        op,
        reason: e.to_string(),
    }
}

fn kv_failed(op: &'static str) -> impl FnOnce(worker::kv::KvError) -> StoreError {
    move |e| StoreError {
        op,
        reason: e.to_string(),
    }
}

/// Workers KV.
pub struct Kv(pub worker::kv::KvStore);

impl KvStore for Kv {
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.0.get(key).text().await.map_err(kv_failed("get"))
    }

    async fn put(&self, key: &str, value: &str, options: PutOptions) -> Result<(), StoreError> {
        let mut put = self.0.put(key, value).map_err(kv_failed("put"))?;
        if let Some(ttl) = options.ttl_seconds {
            put = put.expiration_ttl(ttl);
        }
        if let Some(metadata) = options.metadata {
            put = put.metadata(metadata).map_err(kv_failed("put"))?;
        }
        put.execute().await.map_err(kv_failed("put"))
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.0.delete(key).await.map_err(kv_failed("delete"))
    }
}

/// A Durable Object's transactional storage. TTLs do not apply there.
pub struct ObjectStore(pub worker::Storage);

impl KvStore for ObjectStore {
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.0.get::<String>(key).await.map_err(failed("get"))
    }

    async fn put(&self, key: &str, value: &str, _options: PutOptions) -> Result<(), StoreError> {
        self.0.put(key, value).await.map_err(failed("put"))
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.0
            .delete(key)
            .await
            .map(|_| ())
            .map_err(failed("delete"))
    }
}
