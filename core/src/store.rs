//! Key-value storage as the core sees it: Workers KV in production, [`MemoryStore`] in tests.
//! Every key is built in [`crate::keys`]; every value the core writes is sealed by
//! [`crate::envelope`] except the URL index, which holds only a connection id.

use std::cell::RefCell;
use std::collections::BTreeMap;

/// A storage failure. The message names the operation, never the value.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[error("storage {op} failed: {reason}")]
pub struct StoreError {
    pub op: &'static str,
    pub reason: String,
}

/// Options for [`KvStore::put`].
#[derive(Debug, Clone, Default)]
pub struct PutOptions {
    /// Seconds until the store drops the value by itself. Workers KV requires at least 60.
    pub ttl_seconds: Option<u64>,
    /// Small plaintext metadata kept beside the value (listed without reading the value).
    pub metadata: Option<serde_json::Value>,
}

/// The minimal key-value interface the core needs.
#[allow(async_fn_in_trait)] // Workers are single-threaded; no `Send` bound is wanted.
pub trait KvStore {
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError>;
    async fn put(&self, key: &str, value: &str, options: PutOptions) -> Result<(), StoreError>;
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
}

/// An in-memory [`KvStore`] with switches that make every call, or every call on keys with a
/// given prefix, fail, for tests of the paths that must lose nothing when storage misbehaves.
#[derive(Default)]
pub struct MemoryStore {
    entries: RefCell<BTreeMap<String, (String, PutOptions)>>,
    broken: RefCell<bool>,
    failing_prefix: RefCell<Option<String>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// While broken, every operation fails without touching the data.
    pub fn set_broken(&self, broken: bool) {
        *self.broken.borrow_mut() = broken;
    }

    /// While set, every operation on a key starting with `prefix` fails without touching the
    /// data (`None` heals the store).
    pub fn set_failing_prefix(&self, prefix: Option<&str>) {
        *self.failing_prefix.borrow_mut() = prefix.map(str::to_owned);
    }

    pub fn keys(&self) -> Vec<String> {
        self.entries.borrow().keys().cloned().collect()
    }

    pub fn options(&self, key: &str) -> Option<PutOptions> {
        self.entries.borrow().get(key).map(|(_, o)| o.clone())
    }

    /// Every stored value, for asserting that no secret is stored in plaintext.
    pub fn dump(&self) -> String {
        self.entries
            .borrow()
            .iter()
            .map(|(k, (v, o))| format!("{k}={v} {:?}\n", o.metadata))
            .collect()
    }

    fn check(&self, op: &'static str, key: &str) -> Result<(), StoreError> {
        let prefix_fails = self
            .failing_prefix
            .borrow()
            .as_deref()
            .is_some_and(|p| key.starts_with(p));
        if *self.broken.borrow() || prefix_fails {
            return Err(StoreError {
                op,
                reason: "store is broken".into(),
            });
        }
        Ok(())
    }
}

impl KvStore for MemoryStore {
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.check("get", key)?;
        Ok(self.entries.borrow().get(key).map(|(v, _)| v.clone()))
    }

    async fn put(&self, key: &str, value: &str, options: PutOptions) -> Result<(), StoreError> {
        self.check("put", key)?;
        self.entries
            .borrow_mut()
            .insert(key.to_owned(), (value.to_owned(), options));
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.check("delete", key)?;
        self.entries.borrow_mut().remove(key);
        Ok(())
    }
}
