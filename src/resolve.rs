//! From a permanent URL's secret to its connection id, through the KV index. The index is only
//! a pointer: the connection object compares the secret's hash against its own record, so a
//! stale or cached index entry never grants access.

use bindify_core::keys;
use bindify_core::secret::{SecretHash, UrlSecret};
use worker::Env;

use crate::config;

/// How long the edge may cache an index entry. A rotated or revoked URL stops working at once
/// anyway, because the object checks the hash.
const INDEX_CACHE_TTL_SECONDS: u64 = 300;

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
    let id = env
        .kv(config::KV_BINDING)?
        .get(&keys::url_index(&hash))
        .cache_ttl(INDEX_CACHE_TTL_SECONDS)
        .text()
        .await
        .map_err(worker::Error::from)?;
    Ok(id.map(|id| Resolved { id, hash, secret }))
}
