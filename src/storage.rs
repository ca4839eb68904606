//! The core's `KvStore` over Workers KV and over a Durable Object's storage. Nothing else in the
//! Worker touches either: what is read and written is decided by the core type the adapter is
//! handed to.

use bindify_core::time::UnixMillis;
use bindify_core::vault::store::{AlarmSlot, KvStore, ListPage, PutOptions, StoreError};
use worker::{Env, ListOptions};

use crate::config;

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

/// The Worker's KV namespace (binding [`config::KV_BINDING`]).
pub fn kv(env: &Env) -> Result<Kv, StoreError> {
    let store = env.kv(config::KV_BINDING).map_err(failed("bind"))?;
    let namespace = worker::js_sys::Reflect::get(env, &config::KV_BINDING.into())
        .map_err(|e| failed("bind")(e.into()))?;
    Ok(Kv { store, namespace })
}

/// Workers KV: the `worker` crate's store, and the binding's object for listing
/// ([`crate::kv_list`]).
pub struct Kv {
    store: worker::kv::KvStore,
    namespace: worker::wasm_bindgen::JsValue,
}

impl KvStore for Kv {
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.store.get(key).text().await.map_err(kv_failed("get"))
    }

    async fn get_cached(
        &self,
        key: &str,
        cache_ttl_seconds: u64,
    ) -> Result<Option<String>, StoreError> {
        self.store
            .get(key)
            .cache_ttl(cache_ttl_seconds.max(60))
            .text()
            .await
            .map_err(kv_failed("get"))
    }

    async fn put(&self, key: &str, value: &str, options: PutOptions) -> Result<(), StoreError> {
        let mut put = self.store.put(key, Text(value)).map_err(kv_failed("put"))?;
        if let Some(ttl) = options.ttl_seconds {
            put = put.expiration_ttl(ttl);
        }
        if let Some(metadata) = options.metadata {
            put = put.metadata(metadata).map_err(kv_failed("put"))?;
        }
        put.execute().await.map_err(kv_failed("put"))
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.store.delete(key).await.map_err(kv_failed("delete"))
    }

    async fn list(&self, prefix: &str, cursor: Option<String>) -> Result<ListPage, StoreError> {
        crate::kv_list::list(&self.namespace, prefix, cursor.as_deref()).await
    }
}

/// A value written to KV as the string it is. `KvStore::put` of a `&str` goes through its
/// generic reader of any serializable value (serde-wasm-bindgen, then number and boolean
/// formatting), which adds their code to the Worker for nothing.
struct Text<'a>(&'a str);

impl worker::kv::ToRawKvValue for Text<'_> {
    fn raw_kv_value(&self) -> Result<worker::wasm_bindgen::JsValue, worker::kv::KvError> {
        Ok(worker::wasm_bindgen::JsValue::from(self.0))
    }
}

/// Keys a Durable Object's storage lists per page.
const OBJECT_LIST_PAGE: usize = 1_000;

/// A Durable Object's transactional storage, with its alarm. TTLs and metadata do not apply
/// there.
pub struct ObjectStore(pub worker::Storage);

impl AlarmSlot for ObjectStore {
    async fn alarm(&self) -> Result<Option<UnixMillis>, StoreError> {
        self.0.get_alarm().await.map_err(failed("get alarm"))
    }

    async fn set_alarm(&self, at: UnixMillis) -> Result<(), StoreError> {
        let date = worker::js_sys::Date::new(&worker::wasm_bindgen::JsValue::from_f64(at as f64));
        self.0
            .set_alarm(worker::ScheduledTime::new(date))
            .await
            .map_err(failed("set alarm"))
    }

    async fn delete_alarm(&self) -> Result<(), StoreError> {
        self.0.delete_alarm().await.map_err(failed("delete alarm"))
    }
}

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

    async fn list(&self, prefix: &str, cursor: Option<String>) -> Result<ListPage, StoreError> {
        // `start` is inclusive: the cursor (the previous page's last key) is skipped below.
        let skipped = usize::from(cursor.is_some());
        let mut options = ListOptions::new()
            .prefix(prefix)
            .limit(OBJECT_LIST_PAGE + 1 + skipped);
        if let Some(cursor) = cursor.as_deref() {
            options = options.start(cursor);
        }
        let map = self
            .0
            .list_with_options(options)
            .await
            .map_err(failed("list"))?;
        let mut keys = Vec::new();
        for key in map.keys() {
            let key = key.map_err(|_| StoreError {
                op: "list",
                reason: "a key could not be read".into(),
            })?;
            if let Some(name) = key.as_string()
                && cursor.as_deref() != Some(name.as_str())
            {
                keys.push((name, None));
            }
        }
        let more = keys.len() > OBJECT_LIST_PAGE;
        keys.truncate(OBJECT_LIST_PAGE);
        let cursor = keys.last().map(|(k, _)| k.clone()).filter(|_| more);
        Ok(ListPage { keys, cursor })
    }
}
