//! From a permanent URL's secret to its connection id, through the KV index. The index is only
//! a pointer: the connection object compares the secret's hash against its own record on every
//! request, so a stale or cached entry never grants access, and a rotated or revoked URL stops
//! working at once. That is what makes it safe to cache entries in the isolate's memory, which
//! takes a KV read off the hot path.

use std::cell::RefCell;
use std::collections::HashMap;

use bindify_core::keys;
use bindify_core::secret::{SecretHash, UrlSecret};
use worker::Env;

use crate::{clock, config};

/// How long the edge may cache an index entry.
const INDEX_CACHE_TTL_SECONDS: u64 = 300;
/// How long this isolate remembers an entry.
const MEMORY_TTL_MS: i64 = 300_000;
/// Entries remembered at most (an isolate serves many connections; memory stays bounded).
const MEMORY_ENTRIES: usize = 4_096;

thread_local! {
    static REMEMBERED: RefCell<HashMap<String, (String, i64)>> = RefCell::new(HashMap::new());
}

/// A resolved permanent URL.
pub struct Resolved {
    pub id: String,
    pub hash: SecretHash,
    pub secret: UrlSecret,
}

fn remembered(hash_hex: &str, now: i64) -> Option<String> {
    REMEMBERED.with(|m| {
        m.borrow()
            .get(hash_hex)
            .filter(|(_, at)| now - at < MEMORY_TTL_MS)
            .map(|(id, _)| id.clone())
    })
}

fn remember(hash_hex: String, id: &str, now: i64) {
    REMEMBERED.with(|m| {
        let mut map = m.borrow_mut();
        if map.len() >= MEMORY_ENTRIES {
            map.retain(|_, (_, at)| now - *at < MEMORY_TTL_MS);
            if map.len() >= MEMORY_ENTRIES {
                map.clear();
            }
        }
        map.insert(hash_hex, (id.to_owned(), now));
    });
}

/// `Ok(None)` for a malformed or unknown secret; `Err` only when storage failed.
pub async fn connection(env: &Env, secret: &str) -> worker::Result<Option<Resolved>> {
    let Some(secret) = UrlSecret::parse(secret) else {
        return Ok(None);
    };
    let hash = secret.hash();
    let hash_hex = hash.to_hex();
    let now = clock::now();
    if let Some(id) = remembered(&hash_hex, now) {
        return Ok(Some(Resolved { id, hash, secret }));
    }
    let id = env
        .kv(config::KV_BINDING)?
        .get(&keys::url_index(&hash))
        .cache_ttl(INDEX_CACHE_TTL_SECONDS)
        .text()
        .await
        .map_err(worker::Error::from)?;
    if let Some(id) = &id {
        remember(hash_hex, id, now);
    }
    Ok(id.map(|id| Resolved { id, hash, secret }))
}
