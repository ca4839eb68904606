//! Key-value storage as the core sees it: Workers KV in production, [`MemoryStore`] in tests.
//! Every key is built in [`crate::vault::keys`]; every value the core writes is sealed by
//! [`crate::vault::envelope`] except the URL index ([`crate::vault::url_index`]), which holds only
//! a connection id, a connection's KV mirror ([`crate::vault`]), whose value is a constant and
//! whose metadata holds no secret, a connection object's note of that metadata, and the cron's
//! marker ([`crate::lifecycle::cron::note_run`]), which holds only a time.
//!
//! The Worker never calls KV or a Durable Object's storage itself: it hands an adapter of this
//! trait to a core type ([`crate::vault::Vault`], [`crate::vault::url_index::UrlIndex`],
//! [`crate::connect::cli_flow::CliCodes`], …), which decides what is read and written.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

use crate::time::UnixMillis;

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

/// One page of [`KvStore::list`]: keys with their metadata, and where the next page starts.
#[derive(Debug, Clone, Default)]
pub struct ListPage {
    pub keys: Vec<(String, Option<serde_json::Value>)>,
    /// `None` on the last page.
    pub cursor: Option<String>,
}

/// The minimal key-value interface the core needs.
#[allow(async_fn_in_trait)] // Workers are single-threaded; no `Send` bound is wanted.
pub trait KvStore {
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError>;
    async fn put(&self, key: &str, value: &str, options: PutOptions) -> Result<(), StoreError>;
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
    /// Keys starting with `prefix`, in key order, one page at a time (pass the previous page's
    /// cursor to continue).
    async fn list(&self, prefix: &str, cursor: Option<String>) -> Result<ListPage, StoreError>;

    /// [`KvStore::get`] for a value the store may serve from a cache near the reader for up to
    /// `cache_ttl_seconds` (Workers KV's `cacheTtl`, at least 60). Only for values whose
    /// staleness the reader tolerates.
    async fn get_cached(
        &self,
        key: &str,
        cache_ttl_seconds: u64,
    ) -> Result<Option<String>, StoreError> {
        let _ = cache_ttl_seconds;
        self.get(key).await
    }
}

/// A Durable Object's alarm: at most one instant at which the runtime wakes the object (see
/// [`crate::lifecycle::schedule`]). Once it has fired, no alarm is set until the object sets one
/// again.
#[allow(async_fn_in_trait)] // Workers are single-threaded; no `Send` bound is wanted.
pub trait AlarmSlot {
    async fn alarm(&self) -> Result<Option<UnixMillis>, StoreError>;
    async fn set_alarm(&self, at: UnixMillis) -> Result<(), StoreError>;
    async fn delete_alarm(&self) -> Result<(), StoreError>;
}

/// How a [`MemoryStore`] fails an operation on a failing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The operation fails and changes nothing.
    Refuse,
    /// A write or delete takes effect, then reports failure (a timeout after the store
    /// committed): what a rollback must cope with. Reads still fail.
    Land,
}

/// Entries a [`MemoryStore`] returns per [`KvStore::list`] page (Workers KV returns 1,000);
/// small, so tests cross page boundaries.
pub const MEMORY_LIST_PAGE: usize = 2;

/// An in-memory [`KvStore`] (and, standing in for a Durable Object's storage, an
/// [`AlarmSlot`]) with switches that make every call, or every call on keys with a given
/// prefix, fail (see [`Failure`]), for tests of the paths that must lose nothing when storage
/// misbehaves. It counts the writes (puts and deletes) that reach it.
#[derive(Default)]
pub struct MemoryStore {
    entries: RefCell<BTreeMap<String, (String, PutOptions)>>,
    broken: RefCell<bool>,
    failing: RefCell<Option<(String, Failure)>>,
    writes: Cell<usize>,
    alarm: Cell<Option<UnixMillis>>,
    alarm_failing: Cell<bool>,
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
        self.fail_prefix(prefix, Failure::Refuse);
    }

    /// While set, every operation on a key starting with `prefix` fails as `failure` says
    /// (`None` heals the store).
    pub fn fail_prefix(&self, prefix: Option<&str>, failure: Failure) {
        *self.failing.borrow_mut() = prefix.map(|p| (p.to_owned(), failure));
    }

    /// Puts and deletes that reached the store so far, landed or not.
    pub fn writes(&self) -> usize {
        self.writes.get()
    }

    /// The alarm as set, read without any failure switch applying.
    pub fn peek_alarm(&self) -> Option<UnixMillis> {
        self.alarm.get()
    }

    /// While set, setting or deleting the alarm fails (reading it still works).
    pub fn set_alarm_failing(&self, failing: bool) {
        self.alarm_failing.set(failing);
    }

    /// The alarm fires: the runtime clears it before running the object's handler.
    pub fn fire_alarm(&self) -> Option<UnixMillis> {
        self.alarm.take()
    }

    pub fn keys(&self) -> Vec<String> {
        self.entries.borrow().keys().cloned().collect()
    }

    /// The value under `key`, read without any failure switch applying.
    pub fn peek(&self, key: &str) -> Option<String> {
        self.entries.borrow().get(key).map(|(v, _)| v.clone())
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

    /// `None` when the operation on `key` goes through; else how it fails.
    fn failure(&self, key: &str) -> Option<Failure> {
        if *self.broken.borrow() {
            return Some(Failure::Refuse);
        }
        self.failing
            .borrow()
            .as_ref()
            .filter(|(prefix, _)| key.starts_with(prefix.as_str()))
            .map(|(_, failure)| *failure)
    }

    fn failed(op: &'static str) -> StoreError {
        StoreError {
            op,
            reason: "store is broken".into(),
        }
    }

    /// Runs the write `apply` on `key` unless the store refuses it; reports failure when the
    /// store is set to fail, whether or not the write landed.
    fn write(
        &self,
        op: &'static str,
        key: &str,
        apply: impl FnOnce(&mut BTreeMap<String, (String, PutOptions)>),
    ) -> Result<(), StoreError> {
        self.writes.set(self.writes.get().saturating_add(1));
        match self.failure(key) {
            Some(Failure::Refuse) => Err(Self::failed(op)),
            Some(Failure::Land) => {
                apply(&mut self.entries.borrow_mut());
                Err(Self::failed(op))
            }
            None => {
                apply(&mut self.entries.borrow_mut());
                Ok(())
            }
        }
    }
}

impl KvStore for MemoryStore {
    async fn get(&self, key: &str) -> Result<Option<String>, StoreError> {
        if self.failure(key).is_some() {
            return Err(Self::failed("get"));
        }
        Ok(self.peek(key))
    }

    async fn put(&self, key: &str, value: &str, options: PutOptions) -> Result<(), StoreError> {
        self.write("put", key, |entries| {
            entries.insert(key.to_owned(), (value.to_owned(), options));
        })
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.write("delete", key, |entries| {
            entries.remove(key);
        })
    }

    async fn list(&self, prefix: &str, cursor: Option<String>) -> Result<ListPage, StoreError> {
        if self.failure(prefix).is_some() {
            return Err(Self::failed("list"));
        }
        let entries = self.entries.borrow();
        let mut matching = entries
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .filter(|(k, _)| cursor.as_deref().is_none_or(|c| k.as_str() > c));
        let keys: Vec<(String, Option<serde_json::Value>)> = matching
            .by_ref()
            .take(MEMORY_LIST_PAGE)
            .map(|(k, (_, o))| (k.clone(), o.metadata.clone()))
            .collect();
        let more = matching.next().is_some();
        let cursor = keys.last().map(|(k, _)| k.clone()).filter(|_| more);
        Ok(ListPage { keys, cursor })
    }
}

/// The alarm of a [`MemoryStore`]: fails while the store is broken, and setting it fails while
/// [`MemoryStore::set_alarm_failing`] says so.
impl AlarmSlot for MemoryStore {
    async fn alarm(&self) -> Result<Option<UnixMillis>, StoreError> {
        if *self.broken.borrow() {
            return Err(Self::failed("get alarm"));
        }
        Ok(self.alarm.get())
    }

    async fn set_alarm(&self, at: UnixMillis) -> Result<(), StoreError> {
        if *self.broken.borrow() || self.alarm_failing.get() {
            return Err(Self::failed("set alarm"));
        }
        self.alarm.set(Some(at));
        Ok(())
    }

    async fn delete_alarm(&self) -> Result<(), StoreError> {
        if *self.broken.borrow() || self.alarm_failing.get() {
            return Err(Self::failed("delete alarm"));
        }
        self.alarm.set(None);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::block_on;

    #[test]
    fn a_refused_write_changes_nothing_and_a_landed_one_does() {
        let store = MemoryStore::new();
        block_on(store.put("a:1", "old", PutOptions::default())).expect("put");
        store.fail_prefix(Some("a:"), Failure::Refuse);
        assert!(block_on(store.put("a:1", "new", PutOptions::default())).is_err());
        assert!(block_on(store.delete("a:1")).is_err());
        assert!(block_on(store.get("a:1")).is_err());
        assert_eq!(store.peek("a:1").as_deref(), Some("old"));

        store.fail_prefix(Some("a:"), Failure::Land);
        assert!(block_on(store.put("a:1", "new", PutOptions::default())).is_err());
        assert_eq!(store.peek("a:1").as_deref(), Some("new"));
        assert!(block_on(store.delete("a:1")).is_err());
        assert_eq!(store.peek("a:1"), None);
        // Other keys are not affected.
        assert_eq!(
            block_on(store.put("b:1", "x", PutOptions::default())),
            Ok(())
        );
        store.fail_prefix(None, Failure::Refuse);
        assert_eq!(block_on(store.get("b:1")), Ok(Some("x".into())));
    }

    #[test]
    fn lists_a_prefix_page_by_page_with_metadata() {
        let store = MemoryStore::new();
        for key in ["conn:a", "conn:b", "conn:c", "url:z"] {
            let options = PutOptions {
                ttl_seconds: None,
                metadata: Some(serde_json::json!({ "k": key })),
            };
            block_on(store.put(key, "v", options)).expect("put");
        }
        let first = block_on(store.list("conn:", None)).expect("list");
        let names: Vec<&str> = first.keys.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["conn:a", "conn:b"]);
        assert_eq!(first.keys[0].1, Some(serde_json::json!({ "k": "conn:a" })));
        let second = block_on(store.list("conn:", first.cursor)).expect("list");
        let names: Vec<&str> = second.keys.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["conn:c"]);
        assert_eq!(second.cursor, None);
        store.set_failing_prefix(Some("conn:"));
        assert!(block_on(store.list("conn:", None)).is_err());
    }
}
