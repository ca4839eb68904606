//! `GET /s/<secret>/status`: the connection's state, never a token.

use bindify_core::keys;
use bindify_core::secret::UrlSecret;
use bindify_core::store::KvStore;
use worker::{Env, Response, Result};

use crate::storage::Kv;
use crate::{config, connection_object, respond};

pub async fn show(env: &Env, secret: &str) -> Result<Response> {
    let Some(secret) = UrlSecret::parse(secret) else {
        return respond::not_found();
    };
    let hash = secret.hash();
    let kv = Kv(env.kv(config::KV_BINDING)?);
    let id = match kv.get(&keys::url_index(&hash)).await {
        Ok(Some(id)) => id,
        Ok(None) => return respond::not_found(),
        Err(e) => {
            worker::console_error!("status lookup failed: {e}");
            return respond::json(503, &serde_json::json!({ "error": "storage_unavailable" }));
        }
    };
    connection_object::status(env, &id, &hash).await
}
