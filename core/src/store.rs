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

/// An in-memory [`KvStore`] with a switch that makes every call fail, for tests of the paths
/// that must lose nothing when storage misbehaves.
#[derive(Default)]
pub struct MemoryStore {
    entries: RefCell<BTreeMap<String, (String, PutOptions)>>,
    broken: RefCell<bool>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// While broken, every operation fails without touching the data.
    pub fn set_broken(&self, broken: bool) {
        *self.broken.borrow_mut() = broken;
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

    fn check(&self, op: &'static str) -> Result<(), StoreError> {
        if *self.broken.borrow() {
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
        self.check("get")?;
        Ok(self.entries.borrow().get(key).map(|(v, _)| v.clone()))
    }

    async fn put(&self, key: &str, value: &str, options: PutOptions) -> Result<(), StoreError> {
        self.check("put")?;
        self.entries
            .borrow_mut()
            .insert(key.to_owned(), (value.to_owned(), options));
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.check("delete")?;
        self.entries.borrow_mut().remove(key);
        Ok(())
    }
}
